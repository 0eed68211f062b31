//! The rebuild that makes again only what a change reaches (`platc::rebuild`): a service or
//! namespace whose fingerprint is unchanged is not made, and its files are listed with the
//! hashes they had. It must give exactly the tree a fresh build gives, for any change: each
//! line of each service node of every built case, blanked in turn (the line count kept),
//! is rebuilt from the record of the unchanged file and compared with a fresh build of the
//! changed one, file by file, manifest and record included.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use platc::diff::read_tree;
use platc::rebuild::Record;
use platc::source::Source;
use platc::write::{Listing, MANIFEST};
use platc::{Built, Options, build_full_tree_reusing, compile};

/// The root platform and every golden case with an expected tree: `(name, source)`.
fn sources() -> Vec<(String, Source)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut inputs = vec![("online-boutique".to_owned(), root.join("platform.kdl"))];
    for entry in std::fs::read_dir(root.join("golden")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("expected").is_dir() {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            inputs.push((name, dir.join("platform.kdl")));
        }
    }
    inputs.sort();
    inputs
        .into_iter()
        .map(|(name, input)| {
            let text = std::fs::read_to_string(&input).unwrap();
            let source = Source::new("platform.kdl", text).with_dir(input.parent().unwrap());
            (name, source)
        })
        .collect()
}

/// A whole build of `source`, as a rebuild of `prior` when given; `None` when it does not
/// compile (a blanked line can break the file). The environments' trees are made from the
/// platforms the compile kept, as `platc build` makes them.
fn build(source: &Source, prior: Option<(&Record, &str)>) -> Option<Built> {
    let options = Options {
        env: None,
        keep_envs: true,
    };
    let compiled = compile(source, &options);
    let base = compiled.platform?;
    let listing = prior.map(|(_, manifest)| Listing::parse(manifest).expect("a manifest"));
    let reusing = prior.map(|(prior, _)| prior.clone()).zip(listing.as_ref());
    let mut built = build_full_tree_reusing(source, &base, compiled.envs, reusing).expect("builds");
    // A manifest patched from the old one's text (`Built::patched`) is compared as its text.
    if let Some((_, old)) = prior
        && built.patched.is_some()
    {
        let text = built.manifest_text(old).expect("a manifest").into_owned();
        built.tree.insert(MANIFEST.to_owned(), text);
    }
    Some(built)
}

/// `source` with line `line` (0-based) emptied.
fn blanked(source: &Source, line: usize) -> Source {
    let mut lines: Vec<&str> = source.text().split('\n').collect();
    lines[line] = "";
    with_text(source, &lines.join("\n"))
}

/// `source` with an empty line before line `line` (0-based): every line after it moves.
fn inserted(source: &Source, line: usize) -> Source {
    let mut lines: Vec<&str> = source.text().split('\n').collect();
    lines.insert(line, "");
    with_text(source, &lines.join("\n"))
}

/// `source`, its text replaced.
fn with_text(source: &Source, text: &str) -> Source {
    let mut changed = Source::new(source.name(), text);
    if let Some(dir) = source.dir() {
        changed = changed.with_dir(dir);
    }
    changed
}

/// The lines (0-based) inside a service node of `source`'s base platform, and the second
/// line of each.
fn service_lines(source: &Source) -> (Vec<usize>, Vec<usize>) {
    let base = compile(source, &Options::default()).platform.unwrap();
    let mut lines = Vec::new();
    let mut firsts = Vec::new();
    for service in &base.services {
        firsts.push(base.origin.line(service.span.start));
        let first = base.origin.line(service.span.start) - 1;
        let last = base.origin.line(service.span.end.saturating_sub(1)) - 1;
        lines.extend(first..=last);
    }
    lines.sort_unstable();
    lines.dedup();
    (lines, firsts)
}

/// Whether `rebuilt` is the part of `fresh` it must be: the same manifest and record, and
/// each file it made is fresh's file. What differs, else.
fn differs(rebuilt: &Built, fresh: &Built) -> Option<String> {
    if rebuilt.manifest != fresh.manifest {
        let paths: Vec<&String> = fresh
            .manifest
            .files
            .iter()
            .filter(|(path, entry)| rebuilt.manifest.files.get(path) != Some(entry))
            .map(|(path, _)| path)
            .chain(
                rebuilt
                    .manifest
                    .files
                    .keys()
                    .filter(|path| !fresh.manifest.files.contains_key(path)),
            )
            .take(5)
            .collect();
        return Some(format!("the manifests differ at {paths:?}"));
    }
    for (path, text) in &rebuilt.tree {
        if fresh.tree.get(path) != Some(text) {
            return Some(format!("{path} differs"));
        }
    }
    // As their texts: a tree's record may be held as made, or already encoded.
    let text = |built: &Built| built.record.as_ref().and_then(Record::encode);
    if text(rebuilt) != text(fresh) {
        return Some("the records differ".to_owned());
    }
    None
}

/// The environments' trees made from the platforms the compile kept (`Options::keep_envs`,
/// as `platc build` makes them) are the trees made from each environment compiled again:
/// files, manifests and record alike, for every built case.
#[test]
fn environments_kept_by_the_compile_build_the_trees_compiled_again() {
    let mut with_envs = 0;
    for (name, source) in sources() {
        let Some(kept) = build(&source, None) else {
            continue;
        };
        let base = compile(&source, &Options::default()).platform.unwrap();
        with_envs += usize::from(!base.envs.is_empty());
        let options = Options {
            env: None,
            keep_envs: true,
        };
        let names: Vec<String> = compile(&source, &options)
            .envs
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let declared: Vec<&String> = base.envs.iter().map(|env| &env.value).collect();
        assert_eq!(names.iter().collect::<Vec<_>>(), declared, "{name}");
        let again = build_full_tree_reusing(&source, &base, Vec::new(), None).expect("builds");
        assert_eq!(kept.tree.len(), again.tree.len(), "{name}");
        if let Some(difference) = differs(&kept, &again) {
            panic!("{name}: {difference}");
        }
    }
    assert!(with_envs > 0, "no case has an environment");
}

/// Every line of every service node of every built case, blanked, and an empty line put
/// after the first line of each service node (moving the lines of every node after it, and
/// nothing else outside the node): the rebuild from the
/// unchanged file's record is the fresh build of the changed file. And most such changes
/// reuse something.
#[test]
fn a_rebuild_after_any_one_line_change_is_the_fresh_build() {
    let mut rebuilt_count = 0;
    let mut reused_count = 0;
    for (name, source) in sources() {
        let before = build(&source, None).unwrap();
        let prior = before.record.clone().expect("a whole build keeps a record");
        let prior = Some((&prior, before.tree[MANIFEST].as_str()));
        // Nothing changed: nothing is made but the umbrella chart's `Chart.yaml`.
        let same = build(&source, prior).unwrap();
        assert_eq!(differs(&same, &before), None, "{name}, unchanged");
        let made: Vec<&String> = same
            .tree
            .keys()
            .filter(|path| !path.ends_with(MANIFEST) && !path.ends_with("/Chart.yaml"))
            .collect();
        assert!(made.is_empty(), "{name}, unchanged: made {made:?}");
        let (lines, firsts) = service_lines(&source);
        let changes = lines
            .into_iter()
            .map(|line| (blanked(&source, line), format!("line {} blanked", line + 1)))
            .chain(firsts.into_iter().map(|line| {
                let why = format!("a line put after line {line}");
                (inserted(&source, line), why)
            }));
        for (changed, why_changed) in changes {
            let Some(fresh) = build(&changed, None) else {
                continue;
            };
            let rebuilt = build(&changed, prior).unwrap();
            if let Some(why) = differs(&rebuilt, &fresh) {
                panic!("{name}, {why_changed}: {why}");
            }
            rebuilt_count += 1;
            reused_count += usize::from(!rebuilt.complete);
        }
    }
    assert!(rebuilt_count > 300, "only {rebuilt_count} rebuilds");
    assert!(
        reused_count * 2 > rebuilt_count,
        "only {reused_count} of {rebuilt_count} rebuilds reused anything"
    );
}

/// The lines only a service's own items read (its `image`, above all its tag, which every
/// release changes) do not reach its neighbours: a new tag or repository of any service of
/// every built case makes that service again (and its namespace's), not the services that
/// call it or that it calls (in the base tree), and the rebuild is the fresh build all the
/// same. (A blanked
/// `image` line, in the test above, does not compile: the image is required.)
#[test]
fn a_new_image_of_any_service_rebuilds_as_the_fresh_build() {
    let mut rebuilt_count = 0;
    let mut patched_count = 0;
    let mut kept_neighbours = 0;
    let mut kept_platforms = 0;
    for (name, source) in sources() {
        let before = build(&source, None).unwrap();
        let prior = before.record.clone().expect("a whole build keeps a record");
        let prior = Some((&prior, before.tree[MANIFEST].as_str()));
        let base = compile(&source, &Options::default()).platform.unwrap();
        for service in &base.services {
            let node = &source.text()[service.span.start..service.span.end];
            let Some(line) = node.lines().find(|l| l.trim_start().starts_with("image ")) else {
                continue;
            };
            let at = service.span.start + (line.as_ptr() as usize - node.as_ptr() as usize);
            let repository_end = line
                .find('"')
                .and_then(|open| line[open + 1..].find('"').map(|close| open + 1 + close));
            // Each with whether it is the tag's.
            let edits = [
                line.find("tag=\"")
                    .map(|tag| (at + tag + "tag=\"".len(), true)),
                repository_end.map(|end| (at + end, false)),
            ];
            for (edit, tag) in edits.into_iter().flatten() {
                let mut text = source.text().to_owned();
                text.insert(edit, 'x');
                let changed = with_text(&source, &text);
                let Some(fresh) = build(&changed, None) else {
                    continue;
                };
                let rebuilt = build(&changed, prior).unwrap();
                let why = format!("{name}, the image of {} changed", service.name.value);
                if let Some(difference) = differs(&rebuilt, &fresh) {
                    panic!("{why}: {difference}");
                }
                rebuilt_count += 1;
                patched_count += usize::from(rebuilt.patched.is_some());
                // Nor were the platform's batch and the Applications, after a new tag: they
                // read none (in the base tree, as above).
                let platform: Vec<&String> = fresh
                    .tree
                    .keys()
                    .filter(|path| tag && !path.starts_with("env/") && is_platforms(path))
                    .collect();
                assert!(
                    platform
                        .iter()
                        .all(|path| !rebuilt.tree.contains_key(*path)),
                    "{why}: the platform's batch or the Applications were made again"
                );
                kept_platforms += usize::from(!platform.is_empty());
                // The services it calls and that call it were not made again, in the base
                // tree. (In an environment's, a service its overlay removes is outside the
                // service nodes: its change reaches every service there.)
                let calling = base.services.iter().filter(|other| {
                    other
                        .calls
                        .iter()
                        .any(|c| c.service.value == service.name.value)
                });
                let called = service
                    .calls
                    .iter()
                    .filter_map(|call| base.services.iter().find(|s| s.name == call.service));
                for neighbour in calling.chain(called) {
                    let neighbour = &neighbour.name.value;
                    if neighbour == &service.name.value {
                        continue;
                    }
                    let made = rebuilt
                        .tree
                        .keys()
                        .filter(|path| !path.starts_with("env/"))
                        .any(|path| path.contains(&format!("/services/{neighbour}/")));
                    assert!(!made, "{why}: {neighbour}, a neighbour, was made again");
                    kept_neighbours += 1;
                }
            }
        }
    }
    assert!(rebuilt_count > 50, "only {rebuilt_count} rebuilds");
    // A new image moves no line: each such rebuild's manifest is the old one's text with
    // hashes changed.
    assert_eq!(patched_count, rebuilt_count);
    assert!(
        kept_neighbours > 40,
        "only {kept_neighbours} neighbours kept"
    );
    assert!(
        kept_platforms > 40,
        "only {kept_platforms} platforms' batches kept"
    );
}

/// Whether `path` (in `out/`, or an environment's tree there) is a file of the platform's
/// batch or the Argo CD target, by the directories only they write in: Terraform, the mesh's
/// and gateways' objects, the platform's monitors and dashboards, the add-ons' values, the
/// platform's pipeline and the Applications.
fn is_platforms(path: &str) -> bool {
    let path = in_tree(path);
    [
        "argocd/",
        "terraform/",
        "istio/mesh/",
        "istio/gateways/",
        "monitoring/platform/",
        "helm/addons/",
        "jenkins/platform/",
    ]
    .iter()
    .any(|dir| path.starts_with(dir))
}

/// `path` in the tree that holds it: without `env/NAME/`.
fn in_tree(path: &str) -> &str {
    path.strip_prefix("env/")
        .and_then(|rest| rest.split_once('/'))
        .map_or(path, |(_, rest)| rest)
}

/// What ties services together outside their nodes' words: a call an environment's overlay
/// adds, and a call whose name is written with escapes. Changing the callee's port must make
/// the caller again (its address and egress policy name the port), in the environment's tree
/// and the base's.
#[test]
fn calls_added_by_an_overlay_or_written_with_escapes_tie_their_services() {
    let platforms = [
        r#"platform shop {
    service web {
        image "ghcr.io/acme/web" tag="v1"
        port http 8080 protocol=http
    }
    service api {
        image "ghcr.io/acme/api" tag="v1"
        port http 9000 protocol=http
    }
    env prod {
        service web { calls api env=API_ADDR }
    }
}
"#,
        r#"platform shop {
    service web {
        image "ghcr.io/acme/web" tag="v1"
        port http 8080 protocol=http
        calls "\u{61}pi" env=API_ADDR
    }
    service api {
        image "ghcr.io/acme/api" tag="v1"
        port http 9000 protocol=http
    }
}
"#,
    ];
    for text in platforms {
        let source = Source::new("platform.kdl", text);
        let before = build(&source, None).expect("compiles");
        let prior = before.record.clone().unwrap();
        let prior = Some((&prior, before.tree[MANIFEST].as_str()));
        let changed = Source::new("platform.kdl", text.replace("9000", "9001"));
        let rebuilt = build(&changed, prior).unwrap();
        let fresh = build(&changed, None).unwrap();
        assert_eq!(differs(&rebuilt, &fresh), None, "{text}");
    }
}

/// Two canary services exposed on one gateway host: the platform's Application ignores the
/// weights of both services' routes in that host's `VirtualService`, in the order of the
/// services in the platform. A rebuild that makes the first again and keeps the second hands
/// the Argo CD target the kept one's summaries first; the list is the fresh build's all the
/// same.
#[test]
fn two_canaries_on_one_host_are_ignored_in_platform_order_by_a_rebuild() {
    let case = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/argocd-out");
    let text = std::fs::read_to_string(case.join("platform.kdl")).unwrap();
    let web =
        &text[text.find("    service web {").unwrap()..text.find("    service api {").unwrap()];
    let admin = web
        .replace("service web", "service admin")
        .replace("acme/web", "acme/admin")
        .replace(r#"path="/""#, r#"path="/admin""#);
    let text = text.replace("    service api {", &format!("{admin}    service api {{"));
    let source = Source::new("platform.kdl", text.as_str());
    let before = build(&source, None).expect("compiles");
    let application = &before.tree["argocd/applications/shop-platform.yaml"];
    let (web, admin) = (
        application
            .find(r#"\"web-primary\""#)
            .expect("web's route ignored"),
        application
            .find(r#"\"admin-primary\""#)
            .expect("admin's route ignored"),
    );
    assert!(web < admin, "in platform order:\n{application}");
    let prior = before.record.clone().unwrap();
    let prior = Some((&prior, before.tree[MANIFEST].as_str()));
    let changed = Source::new(
        "platform.kdl",
        text.replacen(r#"tag="v1.4.0""#, r#"tag="v1.4.1""#, 1),
    );
    let rebuilt = build(&changed, prior).unwrap();
    let fresh = build(&changed, None).unwrap();
    assert!(!rebuilt.complete, "admin is kept");
    assert_eq!(differs(&rebuilt, &fresh), None);
}

/// A config file's contents are part of its service's fingerprint: changed, the service is
/// made again, and the rebuild is the fresh build.
#[test]
fn a_changed_config_file_makes_its_service_again() {
    let dir = scratch("config");
    let case = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/containers");
    let text = std::fs::read_to_string(case.join("platform.kdl")).unwrap();
    std::fs::create_dir_all(dir.join("config")).unwrap();
    let file = dir.join("config/nginx.conf");
    std::fs::copy(case.join("config/nginx.conf"), &file).unwrap();
    let source = || Source::new("platform.kdl", text.as_str()).with_dir(&*dir);
    let before = build(&source(), None).unwrap();
    let prior = before.record.clone().unwrap();
    let prior = Some((&prior, before.tree[MANIFEST].as_str()));
    let conf = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{conf}# changed\n")).unwrap();
    let rebuilt = build(&source(), prior).unwrap();
    let fresh = build(&source(), None).unwrap();
    assert_ne!(fresh.manifest, before.manifest, "the file is read");
    assert_eq!(differs(&rebuilt, &fresh), None);
}

/// Without a record that holds for the tree on disk (a fresh clone's build, another
/// platc's), a build over out/ makes every file and holds the texts of those alone whose
/// hash the old manifest does not list: the others are on disk as made. For every built
/// case, unchanged and with its first image tag changed, the tree is the fresh build's all
/// the same.
#[test]
fn a_build_without_a_record_holds_only_the_changed_texts() {
    let (mut tagged, mut changed_count) = (0, 0);
    for (name, source) in sources() {
        let before = build(&source, None).unwrap();
        let old = before.tree[MANIFEST].as_str();
        let listing = Listing::parse(old).expect("a manifest");
        let none = Record::default();
        let mut changes = vec![(with_text(&source, source.text()), "unchanged")];
        if let Some(at) = source.text().find("tag=\"") {
            let mut text = source.text().to_owned();
            text.insert(at + "tag=\"".len(), 'x');
            changes.push((with_text(&source, &text), "a tag changed"));
            tagged += 1;
        }
        for (changed, why) in changes {
            let fresh = build(&changed, None).unwrap();
            let rebuilt = build(&changed, Some((&none, old))).unwrap();
            if let Some(difference) = differs(&rebuilt, &fresh) {
                panic!("{name}, {why}: {difference}");
            }
            let held: Vec<&str> = rebuilt
                .tree
                .keys()
                .map(String::as_str)
                .filter(|path| !path.ends_with(MANIFEST))
                .collect();
            let new_hashes: Vec<&str> = fresh
                .manifest
                .files
                .iter()
                .filter(|(path, entry)| {
                    !path.ends_with(MANIFEST)
                        && listing
                            .get(path)
                            .is_none_or(|(_, sha256)| entry.sha256 != *sha256)
                })
                .map(|(path, _)| path.as_str())
                .collect();
            assert_eq!(held, new_hashes, "{name}, {why}");
            assert!(!rebuilt.complete, "{name}, {why}");
            changed_count += usize::from(!held.is_empty());
        }
    }
    // Each new tag changed files (and nothing else did).
    assert!(tagged > 20, "only {tagged} cases with a tag");
    assert_eq!(changed_count, tagged);
}

/// A record is no use for another tree: a rebuild from a record whose manifest is not the
/// one on disk, or of another build of platc, is not made (`Read::record` gives `None`),
/// and `platc build` makes everything, each file compared with the manifest read.
#[test]
fn platc_build_reuses_only_its_own_record_of_the_tree_on_disk() {
    let (dir, text, changed) = project("record");
    let cache = dir.join("cache");
    let build = |args: &[&str]| {
        let output = platc_build(&dir, args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        stderr
    };
    let first = build(&["-o", "out"]);
    assert!(!first.contains("timing load"), "{first}");
    let records = std::fs::read_dir(&cache)
        .unwrap()
        .filter(|entry| {
            let path = entry.as_ref().unwrap().path();
            path.extension().is_some_and(|e| e == "json")
        })
        .count();
    assert_eq!(records, 1, "one record for the tree written");

    // One service's tag: made again from the record, and the tree is a fresh build's.
    std::fs::write(dir.join("platform.kdl"), &changed).unwrap();
    let second = build(&["-o", "out"]);
    assert!(
        second.contains("timing load"),
        "the record was not used: {second}"
    );
    assert!(second.contains("wrote "), "{second}");
    build(&["-o", "fresh", "--force"]);
    assert_eq!(
        read_tree(&dir.join("out")).unwrap(),
        read_tree(&dir.join("fresh")).unwrap()
    );

    // The record that rebuild kept (it names the manifest's stamp noted under the write's
    // lock, not the manifest read back) is used by the next: the change undone.
    std::fs::write(dir.join("platform.kdl"), &text).unwrap();
    let undone = build(&["-o", "out"]);
    assert!(
        undone.contains("timing load"),
        "the rebuild's record was not used: {undone}"
    );
    assert!(undone.contains("wrote "), "{undone}");
    build(&["-o", "fresh", "--force"]);
    assert_eq!(
        read_tree(&dir.join("out")).unwrap(),
        read_tree(&dir.join("fresh")).unwrap()
    );

    // The manifest on disk is not the one the record names: not used, and the build is
    // whole (and right), compared with the manifest read.
    let manifest = dir.join("out").join(MANIFEST);
    let listed = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{listed} ")).unwrap();
    std::fs::write(dir.join("platform.kdl"), &changed).unwrap();
    let third = build(&["-o", "out"]);
    assert!(!third.contains("timing load"), "{third}");
    assert!(third.contains("timing manifest read"), "{third}");
    build(&["-o", "fresh", "--force"]);
    assert_eq!(
        read_tree(&dir.join("out")).unwrap(),
        read_tree(&dir.join("fresh")).unwrap()
    );
    // That build kept a record of its own tree.
    let fourth = build(&["-o", "out"]);
    assert!(fourth.contains("timing load"), "{fourth}");
    assert!(fourth.contains("up to date"), "{fourth}");
    // Every record was put in place (its text written beside the tree's write, its header
    // after it): no temporary file is left.
    let temporary: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "tmp"))
        .collect();
    assert!(temporary.is_empty(), "{temporary:?}");
}

#[path = "support/scratch.rs"]
mod scratch;

/// A scratch directory `name` holding the repository's platform.kdl, its text, and its text
/// with the first image tag changed (the first service's, `frontend`).
fn project(name: &str) -> (scratch::Scratch, String, String) {
    let dir = scratch(name);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("platform.kdl")).unwrap();
    std::fs::write(dir.join("platform.kdl"), &text).unwrap();
    let tag = text.find("tag=\"").expect("a tag") + 5;
    let changed = format!("{}9{}", &text[..tag], &text[tag..]);
    (dir, text, changed)
}

/// `platc build -f platform.kdl ARGS` in `dir`, its records in `dir/cache`, with its timings
/// on stderr (`timing load` says a record was read).
fn platc_build(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_platc"))
        .current_dir(dir)
        .args(["build", "-f", "platform.kdl"])
        .args(args)
        .env("PLATC_CACHE_DIR", dir.join("cache"))
        .env("PLATC_TIMINGS", "1")
        .output()
        .unwrap()
}

/// A scratch directory of this file's, removed when dropped.
fn scratch(name: &str) -> scratch::Scratch {
    scratch::scratch("rebuild", name)
}

/// A build without a record whose change reaches every file (the platform renamed) is more
/// than the incremental write takes: the tree is made again whole and swapped in, and is the
/// fresh build's.
#[test]
fn a_build_without_a_record_that_changes_every_file_writes_the_whole_tree() {
    let (dir, text, _) = project("no-record-whole");
    let build = |args: &[&str]| platc_build(&dir, args);
    assert!(build(&["-o", "out"]).status.success());
    std::fs::remove_dir_all(dir.join("cache")).unwrap();
    let renamed = text.replacen("platform online-boutique {", "platform boutique {", 1);
    assert_ne!(
        renamed, text,
        "the platform's name is not where the test expects it"
    );
    std::fs::write(dir.join("platform.kdl"), &renamed).unwrap();
    let rebuilt = build(&["-o", "out"]);
    let stderr = String::from_utf8_lossy(&rebuilt.stderr);
    assert!(rebuilt.status.success(), "{stderr}");
    assert!(stderr.contains("timing manifest read"), "{stderr}");
    // Made twice: once holding the changed texts, once whole for the whole-tree write.
    assert_eq!(
        stderr.matches("timing emit+validate").count(),
        2,
        "{stderr}"
    );
    assert!(stderr.contains("wrote "), "{stderr}");
    assert!(build(&["-o", "fresh", "--force"]).status.success());
    assert_eq!(
        read_tree(&dir.join("out")).unwrap(),
        read_tree(&dir.join("fresh")).unwrap()
    );
}

/// A first build beside the staged tree a killed build left (`out/` missing, `.out.platc-new`
/// there) is not staged beside it: the platform the staged write was handed comes back, and
/// the tree is made in memory and written whole, the fresh build's tree, the leftover gone.
#[test]
fn a_first_build_beside_a_killed_builds_staged_tree_writes_the_fresh_tree() {
    let (dir, _, _) = project("killed-leftover");
    let build = |args: &[&str]| platc_build(&dir, args);
    let fresh = build(&["-o", "fresh"]);
    let stderr = String::from_utf8_lossy(&fresh.stderr);
    assert!(fresh.status.success(), "{stderr}");
    assert!(stderr.contains("timing emit+write"), "not staged: {stderr}");
    let leftover = dir.join(".out.platc-new");
    std::fs::create_dir_all(leftover.join("kubernetes")).unwrap();
    std::fs::write(leftover.join("kubernetes/half.yaml"), "kind: Half\n").unwrap();
    let beside = build(&["-o", "out"]);
    let stderr = String::from_utf8_lossy(&beside.stderr);
    assert!(beside.status.success(), "{stderr}");
    assert!(!stderr.contains("timing emit+write"), "staged: {stderr}");
    assert!(stderr.contains("timing emit+validate"), "{stderr}");
    assert_eq!(
        read_tree(&dir.join("out")).unwrap(),
        read_tree(&dir.join("fresh")).unwrap()
    );
    assert!(!leftover.exists(), "the killed build's staged tree is left");
}

/// A rebuild that would overwrite a file edited by hand does what a whole build does: it
/// refuses, changes nothing, and names the file; `--force` moves it to the backup and writes
/// the tree a fresh build writes.
#[test]
fn a_rebuild_over_a_hand_edit_refuses_as_a_whole_build_does() {
    let (dir, _, changed) = project("hand-edit");
    let build = |args: &[&str]| platc_build(&dir, args);
    assert!(build(&["-o", "out"]).status.success());
    // The first service's deployment names its image: the tag's change rewrites it.
    std::fs::write(dir.join("platform.kdl"), &changed).unwrap();
    let edited = dir.join("out/kubernetes/services/frontend/deployment.yaml");
    let mine = format!("{}# mine\n", std::fs::read_to_string(&edited).unwrap());
    std::fs::write(&edited, &mine).unwrap();
    let before = read_tree(&dir.join("out")).unwrap();

    let refused = build(&["-o", "out"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("timing load"),
        "the record was not read: {stderr}"
    );
    assert!(
        stderr.contains("kubernetes/services/frontend/deployment.yaml"),
        "{stderr}"
    );
    assert_eq!(read_tree(&dir.join("out")).unwrap(), before, "out/ changed");

    assert!(build(&["-o", "out", "--force"]).status.success());
    let backup = dir.join("out.platc-backup/kubernetes/services/frontend/deployment.yaml");
    assert_eq!(std::fs::read_to_string(backup).unwrap(), mine);
    assert!(build(&["-o", "fresh", "--force"]).status.success());
    assert_eq!(
        read_tree(&dir.join("out")).unwrap(),
        read_tree(&dir.join("fresh")).unwrap()
    );
}

/// An environment's manifest is taken unread by the next rebuild while it keeps the stamp
/// the last write noted (`rebuild::nested`): the rebuild writes the changed files alone.
/// Written since (by hand, or by `platc build --env` into it), it is read, and found not to
/// be the one the old manifest lists, the whole tree is written, as a fresh build writes it.
#[test]
fn a_rebuild_takes_an_environments_manifest_by_its_stamp_until_it_changes() {
    let (dir, text, changed) = project("noted-env");
    let build = |args: &[&str]| platc_build(&dir, args);
    let fresh = |text: &str| {
        std::fs::write(dir.join("platform.kdl"), text).unwrap();
        assert!(build(&["-o", "fresh", "--force"]).status.success());
        read_tree(&dir.join("fresh")).unwrap()
    };
    let (old_tree, new_tree) = (fresh(&text), fresh(&changed));
    std::fs::write(dir.join("platform.kdl"), &text).unwrap();
    assert!(build(&["-o", "out"]).status.success());

    // The tag's change rewrites the environment's tree, and its manifest with it.
    std::fs::write(dir.join("platform.kdl"), &changed).unwrap();
    let rebuilt = build(&["-o", "out"]);
    let stderr = String::from_utf8_lossy(&rebuilt.stderr);
    assert!(rebuilt.status.success(), "{stderr}");
    assert!(
        stderr.contains("updated out ("),
        "not a rebuild in part: {stderr}"
    );
    assert_eq!(read_tree(&dir.join("out")).unwrap(), new_tree);

    // The environment's manifest written again since (its text as it was, one more space).
    let manifest = dir.join("out/env/staging/.platc/manifest.json");
    let spaced = std::fs::read_to_string(&manifest)
        .unwrap()
        .replacen("\"files\"", "\"files\" ", 1);
    std::fs::write(&manifest, spaced).unwrap();
    std::fs::write(dir.join("platform.kdl"), &text).unwrap();
    let rebuilt = build(&["-o", "out"]);
    let stderr = String::from_utf8_lossy(&rebuilt.stderr);
    assert!(rebuilt.status.success(), "{stderr}");
    assert!(
        stderr.contains("timing load"),
        "the record was not read: {stderr}"
    );
    assert!(
        !stderr.contains("updated out ("),
        "the changed manifest was taken for the one written: {stderr}"
    );
    assert_eq!(read_tree(&dir.join("out")).unwrap(), old_tree);
}

/// How `platc build --check` decided, by its timings: from the stamps alone (nothing
/// compiled or read), by reading out/ against the manifest (and noting the stamps), or by
/// making the tree.
#[derive(Debug, PartialEq, Eq)]
enum Tier {
    Stamps,
    Manifest,
    Made,
}

/// `platc build --check -o out` in `dir`: its status, how it decided, stderr and stdout.
fn check(dir: &Path) -> (Option<i32>, Tier, String, String) {
    let output = platc_build(dir, &["-o", "out", "--check"]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let tier = if stderr.contains("emit+validate") {
        Tier::Made
    } else if stderr.contains("timing compare with the manifest")
        && stderr.contains("timing stamps noted")
    {
        Tier::Manifest
    } else {
        assert!(
            stderr.contains("timing stamps ") && !stderr.contains("timing compile"),
            "{stderr}"
        );
        Tier::Stamps
    };
    (output.status.code(), tier, stderr, stdout)
}

/// `platc build --check` of the input a build was made from, over out/ as that build left
/// it, is decided by the stamps the build noted, compiling and reading nothing; any change on
/// either side, and the tree is made and compared as before: a file edited (even to the same
/// size, its modification time put back), removed or added in out/, or a changed
/// platform.kdl, each fails the check with the difference named. Undone, the check reads
/// out/ against the build's manifest, passes, and notes the stamps: the next is decided by
/// them again. Stamps not older than the clock their file names, or not a stamps' file, are
/// not trusted.
#[test]
fn build_check_of_an_unchanged_input_is_decided_by_the_stamps() {
    type Edit = Box<dyn Fn(bool)>;
    let (dir, text, tagged) = project("check");
    assert!(platc_build(&dir, &["-o", "out"]).status.success());
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Stamps), "{stderr}");

    let deployment = dir.join("out/kubernetes/services/frontend/deployment.yaml");
    let original = std::fs::read_to_string(&deployment).unwrap();
    let extra = dir.join("out/kubernetes/services/frontend/extra.yaml");
    let edits: Vec<(&str, Edit)> = vec![
        ("kubernetes/services/frontend/deployment.yaml", {
            let (path, original) = (deployment.clone(), original.clone());
            Box::new(move |on| std::fs::write(&path, same_size(&original, on)).unwrap())
        }),
        ("kubernetes/services/frontend/deployment.yaml", {
            let (path, original) = (deployment.clone(), original.clone());
            Box::new(move |on| {
                let text = same_size(&original, on);
                let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
                let file = std::fs::File::create(&path).unwrap();
                std::io::Write::write_all(&mut &file, text.as_bytes()).unwrap();
                file.set_modified(modified).unwrap();
            })
        }),
        ("kubernetes/services/frontend/deployment.yaml", {
            let (path, original) = (deployment.clone(), original.clone());
            Box::new(move |on| {
                if on {
                    std::fs::remove_file(&path).unwrap();
                } else {
                    std::fs::write(&path, &original).unwrap();
                }
            })
        }),
        ("kubernetes/services/frontend/extra.yaml", {
            let path = extra.clone();
            Box::new(move |on| {
                if on {
                    std::fs::write(&path, "kind: Extra\n").unwrap();
                } else {
                    std::fs::remove_file(&path).unwrap();
                }
            })
        }),
        ("deployment.yaml", {
            let (path, text, tagged) = (dir.join("platform.kdl"), text.clone(), tagged.clone());
            Box::new(move |on| std::fs::write(&path, if on { &tagged } else { &text }).unwrap())
        }),
    ];
    for (named, edit) in &edits {
        edit(true);
        let (status, tier, stderr, stdout) = check(&dir);
        assert_eq!((status, tier), (Some(1), Tier::Made), "{named}: {stderr}");
        assert!(stdout.contains(named), "{named} not named: {stdout}");
        edit(false);
        let (status, tier, stderr, _) = check(&dir);
        assert_eq!(status, Some(0), "{named} undone: {stderr}");
        // platform.kdl put back, out/ is as the stamps were noted.
        assert_ne!(tier, Tier::Made, "{named} undone: {stderr}");
        let (status, tier, stderr, _) = check(&dir);
        assert_eq!((status, tier), (Some(0), Tier::Stamps), "{named}: {stderr}");
    }

    // Stamps whose file names a clock of out/'s file system no later than them (a file
    // changed in the tick it was stamped could keep its change time), or no stamps' file:
    // not trusted.
    let stamps = stamps_file(&dir);
    let text = std::fs::read_to_string(&stamps).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let clock = header.find("\"clock\":").expect("a clock") + 8;
    let end = clock + header[clock..].find(|c: char| !c.is_ascii_digit()).unwrap();
    let early = format!("{}1{}\n{body}", &header[..clock], &header[end..]);
    std::fs::write(&stamps, early).unwrap();
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Manifest), "{stderr}");
    std::fs::write(&stamps, "{}\n").unwrap();
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Manifest), "{stderr}");
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Stamps), "{stderr}");
}

/// In a fresh clone (out/ committed, no record or stamps in the cache), `--check` makes the
/// tree and compares; found the same, it notes the stamps of what it read, and the next
/// `--check` is decided by them. A file edited since fails the check, named; put back, the
/// check compares again and notes the stamps again. A tree that differs notes nothing.
#[test]
fn build_check_without_a_record_notes_the_stamps_of_a_tree_found_the_same() {
    let (dir, _, _) = project("check-clone");
    assert!(platc_build(&dir, &["-o", "out"]).status.success());
    std::fs::remove_dir_all(dir.join("cache")).unwrap();
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Made), "{stderr}");
    assert!(stderr.contains("timing stamps noted"), "{stderr}");
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Stamps), "{stderr}");

    let deployment = dir.join("out/kubernetes/services/frontend/deployment.yaml");
    let original = std::fs::read_to_string(&deployment).unwrap();
    std::fs::write(&deployment, same_size(&original, true)).unwrap();
    let (status, tier, stderr, stdout) = check(&dir);
    assert_eq!((status, tier), (Some(1), Tier::Made), "{stderr}");
    assert!(!stderr.contains("timing stamps noted"), "{stderr}");
    assert!(stdout.contains("frontend/deployment.yaml"), "{stdout}");
    // Still made and compared: nothing was noted of the edited tree.
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(1), Tier::Made), "{stderr}");

    std::fs::write(&deployment, &original).unwrap();
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Made), "{stderr}");
    assert!(stderr.contains("timing stamps noted"), "{stderr}");
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Stamps), "{stderr}");
}

/// A file in out/ whose name is not UTF-8 fails the check as any extra file does, named (as
/// its lossy name), and notes nothing: the check reads it by its name on disk.
#[cfg(unix)]
#[test]
fn build_check_names_a_file_whose_name_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let (dir, _, _) = project("check-bytes");
    assert!(platc_build(&dir, &["-o", "out"]).status.success());
    std::fs::remove_dir_all(dir.join("cache")).unwrap();
    let odd = dir
        .join("out/kubernetes")
        .join(std::ffi::OsStr::from_bytes(b"extra-\xff.yaml"));
    std::fs::write(&odd, "kind: Extra\n").unwrap();
    let (status, tier, stderr, stdout) = check(&dir);
    assert_eq!((status, tier), (Some(1), Tier::Made), "{stderr}");
    assert!(
        stdout.contains("kubernetes/extra-\u{fffd}.yaml"),
        "{stdout}"
    );
    assert!(!stderr.contains("timing stamps noted"), "{stderr}");
}

/// A deployment's text edited to the same size (`on`), or as it was.
fn same_size(original: &str, on: bool) -> String {
    if on {
        original.replace("frontend", "frontenD")
    } else {
        original.to_owned()
    }
}

/// The stamps' file of the one tree built in `dir` (`platc_build`).
fn stamps_file(dir: &Path) -> PathBuf {
    let stamps: Vec<PathBuf> = std::fs::read_dir(dir.join("cache"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "stamps"))
        .collect();
    assert_eq!(stamps.len(), 1, "{stamps:?}");
    stamps[0].clone()
}

/// A rebuild keeps the stamps of what it did not write, and notes those of what it wrote:
/// the `--check` after it is decided by them. What it did not write keeps the stamp of the
/// build before, so a hand edit of a file no rebuild touches still fails the check, and a
/// file added in a directory the rebuild writes to is not taken for the tree's.
#[test]
fn a_rebuild_keeps_the_stamps_of_what_it_did_not_write() {
    let (dir, text, tagged) = project("rebuild-stamps");
    let build = |platform: &str| rebuild(&dir, platform);
    assert!(platc_build(&dir, &["-o", "out"]).status.success());
    build(&tagged);
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Stamps), "{stderr}");

    // The last service's deployment, which the first service's tag does not change.
    let kept = dir.join("out/kubernetes/services/shippingservice/deployment.yaml");
    let mine = format!("{}# mine\n", std::fs::read_to_string(&kept).unwrap());
    std::fs::write(&kept, &mine).unwrap();
    build(&text);
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        mine,
        "not rewritten"
    );
    let (status, tier, stderr, stdout) = check(&dir);
    assert_eq!((status, tier), (Some(1), Tier::Made), "{stderr}");
    assert!(
        stdout.contains("shippingservice/deployment.yaml"),
        "{stdout}"
    );
    assert!(
        platc_build(&dir, &["-o", "out", "--force"])
            .status
            .success()
    );
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Stamps), "{stderr}");

    // Files added, then removed, and a service's directories: the stamps list every
    // directory and file of out/.
    let service = text.find("    service shippingservice {").unwrap();
    let line = service + text[service..].find('\n').unwrap() + 1;
    let config = "        config app path=\"/etc/app/app.conf\" text=\"x\"\n";
    let configured = format!("{}{config}{}", &text[..line], &text[line..]);
    // A copy of a small service: one that autoscales far would not fit the staging node
    // groups, and a build with a warning notes no stamps (the next `--check` shows it again).
    let small = text.find("    service emailservice {").unwrap();
    let end = small + text[small..].find("\n    }\n").unwrap() + 7;
    let node = text[small..end].replace("emailservice {", "labelservice {");
    let added = format!("{}{node}{}", &text[..end], &text[end..]);
    let changes = [
        (&configured, "added"),
        (&text, "removed"),
        (&added, "added with their directories"),
        (&text, "removed with their directories"),
    ];
    for (platform, files) in changes {
        build(platform);
        assert!(stamps_file(&dir).exists(), "no stamps after files {files}");
        the_stamps_are_the_tree(&dir, &format!("files {files}"));
    }

    let extra = dir.join("out/kubernetes/services/frontend/extra.yaml");
    std::fs::write(&extra, "kind: Extra\n").unwrap();
    build(&tagged);
    let (status, tier, stderr, stdout) = check(&dir);
    assert_eq!((status, tier), (Some(1), Tier::Made), "{stderr}");
    assert!(stdout.contains("frontend/extra.yaml"), "{stdout}");
}

/// A rebuild appends what it changed to the stamps' file, a block at its end, and writes the
/// file again once the blocks are many beside it (an eighth of its lines and 64 more: a
/// rebuild of the reference platform after one tag appends 68 lines to 1,438, so three
/// blocks, then the file again). At each step the stamps note exactly the tree on disk, and `--check` is decided
/// by them. A block cut short (a write that failed) and the file is not trusted: the check
/// reads out/, passes, and notes the stamps again.
#[test]
fn a_rebuilds_stamps_are_appended_then_written_again() {
    let (dir, text, tagged) = project("rebuild-stamps-appended");
    assert!(platc_build(&dir, &["-o", "out"]).status.success());
    let blocks = || {
        std::fs::read_to_string(stamps_file(&dir))
            .unwrap()
            .lines()
            .filter(|line| line.starts_with('+'))
            .count()
    };
    assert_eq!(blocks(), 0);
    let mut counts = Vec::new();
    for round in 0..6 {
        rebuild(&dir, if round % 2 == 0 { &tagged } else { &text });
        counts.push(blocks());
        the_stamps_are_the_tree(&dir, &format!("round {round}"));
    }
    // Each rebuild a block more, until the file is written again, without blocks.
    assert_eq!(counts[0], 1, "{counts:?}");
    assert!(
        counts.windows(2).all(|w| w[1] == w[0] + 1 || w[1] == 0),
        "{counts:?}"
    );
    assert!(counts.contains(&0), "never written again: {counts:?}");

    let stamps = stamps_file(&dir);
    let whole = std::fs::read_to_string(&stamps).unwrap();
    std::fs::write(&stamps, &whole[..whole.len() - 3]).unwrap();
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Manifest), "{stderr}");
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Stamps), "{stderr}");
}

/// `platform` built over the tree in `dir`: a rebuild, which succeeds.
fn rebuild(dir: &Path, platform: &str) {
    std::fs::write(dir.join("platform.kdl"), platform).unwrap();
    let output = platc_build(dir, &["-o", "out"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("timing load"), "not a rebuild: {stderr}");
}

/// The stamps of `dir`'s tree note exactly its directories and files, and `--check` is
/// decided by them (`when`: what was done).
fn the_stamps_are_the_tree(dir: &Path, when: &str) {
    assert_eq!(stamped(dir), listed(&dir.join("out"), ""), "{when}");
    let (status, tier, stderr, _) = check(dir);
    assert_eq!((status, tier), (Some(0), Tier::Stamps), "{when}: {stderr}");
}

/// What the stamps' file of `dir`'s tree notes: `d PATH` and `f PATH` lines' kinds and paths,
/// the body's with the changes of the blocks rebuilds appended (`+` and a header, a line per
/// stamp noted or `-KIND PATH` dropped, `=COUNT`) made in order.
fn stamped(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(stamps_file(dir)).unwrap();
    let mut noted = std::collections::BTreeSet::new();
    let mut in_block = 0;
    for line in text.lines().skip(1) {
        if line.starts_with('+') {
            in_block = 0;
        } else if let Some(count) = line.strip_prefix('=') {
            assert_eq!(count.parse::<usize>().unwrap(), in_block, "{line}");
        } else if let Some(dropped) = line.strip_prefix('-') {
            assert!(noted.remove(dropped), "{dropped} dropped, not noted");
            in_block += 1;
        } else {
            let fields: Vec<&str> = line.splitn(6, ' ').collect();
            noted.insert(format!("{} {}", fields[0], fields[5]));
            in_block += 1;
        }
    }
    noted.into_iter().collect()
}

/// Every directory (`d PATH`) and file (`f PATH`) at and below `dir` of `root`, in order.
fn listed(root: &Path, dir: &str) -> Vec<String> {
    let mut found = vec![format!("d {dir}")];
    for entry in std::fs::read_dir(root.join(dir)).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let path = if dir.is_empty() {
            name
        } else {
            format!("{dir}/{name}")
        };
        if entry.file_type().unwrap().is_dir() {
            found.extend(listed(root, &path));
        } else {
            found.push(format!("f {path}"));
        }
    }
    found.sort();
    found
}

/// A config file is part of the input the stamps hold for: changed, `--check` is not
/// decided by them, and fails; put back, it passes.
#[test]
fn a_changed_config_file_is_not_the_input_the_stamps_hold_for() {
    let dir = scratch("config-stamps");
    let case = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/containers");
    std::fs::copy(case.join("platform.kdl"), dir.join("platform.kdl")).unwrap();
    std::fs::create_dir_all(dir.join("config")).unwrap();
    let file = dir.join("config/nginx.conf");
    std::fs::copy(case.join("config/nginx.conf"), &file).unwrap();
    assert!(platc_build(&dir, &["-o", "out"]).status.success());
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Stamps), "{stderr}");
    let conf = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{conf}# changed\n")).unwrap();
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(1), Tier::Made), "{stderr}");
    std::fs::write(&file, &conf).unwrap();
    let (status, tier, stderr, _) = check(&dir);
    assert_eq!((status, tier), (Some(0), Tier::Stamps), "{stderr}");
}
