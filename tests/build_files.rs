//! `platc build`'s handling of files, through the binary in scratch directories: where it
//! refuses to write, what `--force` moves aside, hand edits, and `build --check` on a missing
//! tree. The writer's own steps are tested at library level in `tests/write.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use platc::diff::{Tree, read_tree};
use platc::write::{MANIFEST, Manifest};

#[path = "support/scratch.rs"]
mod scratch;

/// A scratch directory of this file's, removed when dropped.
fn scratch(name: &str) -> scratch::Scratch {
    scratch::scratch("build-files", name)
}

/// A small platform; `tag` changes every Deployment, so two tags build two different trees.
fn platform(tag: &str) -> String {
    format!(
        r#"platform demo {{
    service hello {{
        image "ghcr.io/acme/hello" tag="{tag}"
        port http 8080 protocol=http
        probe http port=http path="/healthz"
        waive CKV_K8S_43 reason="fixture images are pinned by tag"
    }}
}}
"#
    )
}

/// The small platform with a `staging` overlay that changes its replicas.
fn platform_with_env(tag: &str, replicas: u32) -> String {
    let base = platform(tag);
    let body = base.trim_end().strip_suffix('}').unwrap();
    format!(
        "{body}    env staging {{\n        service hello {{ replicas {replicas} }}\n    }}\n}}\n"
    )
}

/// The files of `tree` under `dir/`, relative to it.
fn subtree(tree: &Tree, dir: &str) -> Tree {
    tree.iter()
        .filter_map(|(path, text)| {
            let rest = path.strip_prefix(dir)?.strip_prefix('/')?;
            Some((rest.to_owned(), text.clone()))
        })
        .collect()
}

/// Runs `platc ARGS` in `dir`.
fn platc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_platc"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("PLATC_TIMINGS")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit status, showing stderr when it differs.
fn status(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "stderr:\n{}",
        stderr(output)
    );
}

#[test]
fn check_on_a_missing_directory_says_it_is_missing() {
    let dir = scratch("check-missing");
    std::fs::write(dir.join("platform.kdl"), platform("v1")).unwrap();
    let output = platc(&dir, &["build", "--check"]);
    status(&output, 1);
    let text = stderr(&output);
    assert!(text.contains("error: out is missing"), "{text}");
    assert!(text.contains("run `platc build`"), "{text}");
    assert!(!text.contains("stale"), "{text}");
    assert!(!dir.join("out").exists());
}

/// Every path under `root` (symbolic links not followed), with each file's bytes and each
/// link's target: a before/after picture of a directory.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            let bytes = if kind.is_symlink() {
                std::fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else if kind.is_dir() {
                stack.push(path.clone());
                Vec::new()
            } else {
                std::fs::read(&path).unwrap()
            };
            all.push((path, bytes));
        }
    }
    all.sort();
    all
}

#[test]
fn the_input_s_directory_its_ancestors_and_repositories_are_never_the_output() {
    let dir = scratch("protected");
    let proj = dir.join("proj");
    std::fs::create_dir_all(proj.join(".git")).unwrap();
    std::fs::write(proj.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(proj.join("platform.kdl"), platform("v1")).unwrap();
    std::fs::write(proj.join("notes.txt"), "mine\n").unwrap();
    // A worktree's `.git` is a file.
    std::fs::create_dir_all(dir.join("repo")).unwrap();
    std::fs::write(dir.join("repo/.git"), "gitdir: /elsewhere\n").unwrap();
    std::os::unix::fs::symlink("proj", dir.join("link")).unwrap();
    let before = snapshot(&dir);
    for out in [
        "proj",
        "proj/",
        "./proj/.",
        "link",
        ".",
        "proj/platform.kdl",
        // Does not exist: judged by its nearest existing ancestor, `proj`.
        "proj/not-yet/..",
        // No input there, but a repository.
        "repo",
    ] {
        for force in [false, true] {
            let mut args = vec!["build", "-f", "proj/platform.kdl", "-o", out];
            if force {
                args.push("--force");
            }
            let output = platc(&dir, &args);
            status(&output, 2);
            let text = stderr(&output);
            assert!(text.starts_with("error: "), "-o {out}: {text}");
            assert!(text.contains("nothing was changed"), "-o {out}: {text}");
            assert_eq!(
                snapshot(&dir),
                before,
                "-o {out} --force={force} changed files"
            );
        }
    }
    // Beside the input is fine.
    let output = platc(
        &dir,
        &["build", "-f", "proj/platform.kdl", "-o", "proj/out"],
    );
    status(&output, 0);
}

#[test]
fn force_moves_files_platc_did_not_write_to_a_backup() {
    let dir = scratch("force");
    std::fs::write(dir.join("platform.kdl"), platform("v1")).unwrap();
    status(&platc(&dir, &["build"]), 0);
    std::fs::write(dir.join("out/notes.txt"), "mine\n").unwrap();
    std::fs::write(dir.join("platform.kdl"), platform("v2")).unwrap();

    let refused = platc(&dir, &["build"]);
    status(&refused, 2);
    let text = stderr(&refused);
    assert!(text.starts_with("error: "), "{text}");
    assert!(text.contains("notes.txt"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    assert!(
        text.contains("--force") && text.contains("out.platc-backup"),
        "the refusal should say what --force does: {text}"
    );
    assert!(!text.contains("replace the directory"), "{text}");
    assert_eq!(
        std::fs::read_to_string(dir.join("out/notes.txt")).unwrap(),
        "mine\n"
    );

    let forced = platc(&dir, &["build", "--force"]);
    status(&forced, 0);
    let text = stderr(&forced);
    assert!(
        text.contains("moved 1 file") && text.contains("out.platc-backup"),
        "{text}"
    );
    assert!(!dir.join("out/notes.txt").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("out.platc-backup/notes.txt")).unwrap(),
        "mine\n"
    );
    status(&platc(&dir, &["build", "--check"]), 0);
}

#[test]
fn hand_edited_generated_files_are_not_overwritten() {
    let dir = scratch("edited");
    std::fs::write(dir.join("platform.kdl"), platform("v1")).unwrap();
    status(&platc(&dir, &["build"]), 0);
    let deployment = dir.join("out/kubernetes/services/hello/deployment.yaml");
    let mut edited = std::fs::read_to_string(&deployment).unwrap();
    edited.push_str("# tuned by hand\n");
    std::fs::write(&deployment, &edited).unwrap();

    // Unchanged input: a build changes nothing, so it reads nothing and the edit stays; only
    // --check sees it, and says that --force restores it.
    let kept = platc(&dir, &["build"]);
    status(&kept, 0);
    assert!(stderr(&kept).contains("up to date"), "{}", stderr(&kept));
    assert_eq!(std::fs::read_to_string(&deployment).unwrap(), edited);
    let check = platc(&dir, &["build", "--check"]);
    status(&check, 1);
    assert!(
        stderr(&check).contains("platc build --force"),
        "{}",
        stderr(&check)
    );
    // A build that changes the file: the edit is not lost.
    std::fs::write(dir.join("platform.kdl"), platform("v2")).unwrap();
    let refused = platc(&dir, &["build"]);
    status(&refused, 2);
    let text = stderr(&refused);
    assert!(text.starts_with("error: "), "{text}");
    assert!(
        text.contains("edited") && text.contains("kubernetes/services/hello/deployment.yaml"),
        "{text}"
    );
    assert!(text.contains("--force"), "{text}");
    assert_eq!(std::fs::read_to_string(&deployment).unwrap(), edited);

    let forced = platc(&dir, &["build", "--force"]);
    status(&forced, 0);
    assert!(
        stderr(&forced).contains("out.platc-backup"),
        "{}",
        stderr(&forced)
    );
    assert_eq!(
        std::fs::read_to_string(
            dir.join("out.platc-backup/kubernetes/services/hello/deployment.yaml")
        )
        .unwrap(),
        edited
    );
    status(&platc(&dir, &["build", "--check"]), 0);
}

#[test]
fn a_build_writes_every_environment_under_env_in_one_tree() {
    let dir = scratch("envs");
    std::fs::write(dir.join("platform.kdl"), platform_with_env("v1", 3)).unwrap();
    status(&platc(&dir, &["build"]), 0);
    let out = read_tree(&dir.join("out")).unwrap();
    // env/staging/ is exactly what a build of that environment alone writes.
    status(
        &platc(&dir, &["build", "--env", "staging", "-o", "alone"]),
        0,
    );
    let alone = read_tree(&dir.join("alone")).unwrap();
    assert!(alone.contains_key(MANIFEST));
    assert_eq!(subtree(&out, "env/staging"), alone);
    let deployment = "kubernetes/services/hello/deployment.yaml";
    assert!(
        !out[deployment].contains("replicas: 3"),
        "{}",
        out[deployment]
    );
    assert!(
        alone[deployment].contains("replicas: 3"),
        "{}",
        alone[deployment]
    );
    // The top manifest lists every file, the environment's too.
    let manifest: Manifest = serde_json::from_str(&out[MANIFEST]).unwrap();
    assert_eq!(
        manifest.files.keys().collect::<Vec<_>>(),
        out.keys().filter(|p| *p != MANIFEST).collect::<Vec<_>>()
    );
    // --check compares the whole tree.
    status(&platc(&dir, &["build", "--check"]), 0);
    let edited = dir.join("out/env/staging").join(deployment);
    std::fs::write(&edited, "edited\n").unwrap();
    let stale = platc(&dir, &["build", "--check"]);
    status(&stale, 1);
    assert!(
        String::from_utf8_lossy(&stale.stdout).contains(&format!("env/staging/{deployment}")),
        "{}",
        String::from_utf8_lossy(&stale.stdout)
    );
}

#[test]
fn build_env_writes_that_environment_alone_to_out_env_name() {
    let dir = scratch("one-env");
    // First alone, into an output directory that does not exist yet.
    std::fs::write(dir.join("platform.kdl"), platform_with_env("v1", 3)).unwrap();
    let output = platc(&dir, &["build", "--env", "staging"]);
    status(&output, 0);
    assert!(
        stderr(&output).contains("out/env/staging"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        read_tree(&dir.join("out"))
            .unwrap()
            .keys()
            .filter(|p| !p.starts_with("env/staging/"))
            .count(),
        0
    );
    // A whole build then takes over the directory it wrote.
    status(&platc(&dir, &["build"]), 0);
    let before = read_tree(&dir.join("out")).unwrap();

    std::fs::write(dir.join("platform.kdl"), platform_with_env("v1", 4)).unwrap();
    status(&platc(&dir, &["build", "--env", "staging"]), 0);
    let after = read_tree(&dir.join("out")).unwrap();
    let deployment = "env/staging/kubernetes/services/hello/deployment.yaml";
    assert!(
        after[deployment].contains("replicas: 4"),
        "{}",
        after[deployment]
    );
    // Nothing outside env/staging/ changed, the top manifest included.
    let outside = |tree: &Tree| -> Tree {
        tree.iter()
            .filter(|(p, _)| !p.starts_with("env/staging/"))
            .map(|(p, t)| (p.clone(), t.clone()))
            .collect()
    };
    assert_eq!(outside(&after), outside(&before));
    status(&platc(&dir, &["build", "--env", "staging", "--check"]), 0);
    // The whole tree's manifest is now stale; a whole build brings it up to date, without
    // taking the environment's files for hand edits.
    status(&platc(&dir, &["build", "--check"]), 1);
    status(&platc(&dir, &["build"]), 0);
    status(&platc(&dir, &["build", "--check"]), 0);
    // An explicit -o wins.
    status(
        &platc(&dir, &["build", "--env", "staging", "-o", "elsewhere"]),
        0,
    );
    assert!(dir.join("elsewhere").join(MANIFEST).is_file());
}
