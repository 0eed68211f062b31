//! The shape of the compiler that CONTRIBUTING promises: targets share names through
//! `emit::conventions` and never import one another, and the stages after emit read the
//! output set, not the targets.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("readable source");
            out.push((path.display().to_string(), text));
        }
    }
}

fn targets(emit: &Path) -> Vec<String> {
    std::fs::read_dir(emit)
        .expect("src/emit")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_string_lossy().into_owned();
            (path.is_dir() && name != "conventions").then_some(name)
        })
        .collect()
}

#[test]
fn no_target_imports_another() {
    let emit = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/emit");
    let targets = targets(&emit);
    assert!(targets.len() >= 4, "targets found: {targets:?}");
    let mut problems = Vec::new();
    for target in &targets {
        let mut files = Vec::new();
        sources(&emit.join(target), &mut files);
        for (file, text) in files {
            for other in targets.iter().filter(|o| *o != target) {
                if text.contains(&format!("emit::{other}::"))
                    || text.contains(&format!("emit::{other};"))
                {
                    problems.push(format!("{file} imports the `{other}` target"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn later_stages_read_the_output_set_not_the_targets() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let emit = src.join("emit");
    let targets = targets(&emit);
    let mut problems = Vec::new();
    for stage in [
        "encode",
        "validate.rs",
        "write",
        "write.rs",
        "output.rs",
        "commands",
    ] {
        let path = src.join(stage);
        let mut files = Vec::new();
        if path.is_dir() {
            sources(&path, &mut files);
        } else {
            files.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).expect("source"),
            ));
        }
        for (file, text) in files {
            for target in &targets {
                if text.contains(&format!("emit::{target}")) {
                    problems.push(format!("{file} reaches into the `{target}` target"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The lines of `cargo tree` for this crate, one per package reached along `edges`, in
/// `format`.
fn cargo_tree(format: &str, edges: &str) -> Vec<String> {
    let output = std::process::Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--locked", "--offline", "--prefix", "none"])
        .args(["--format", format, "--edges", edges])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree -e {edges}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    stdout
        .lines()
        .map(|line| line.trim_end_matches(" (*)").to_owned())
        .collect()
}

/// Each package with its features, as `cargo tree` resolves them with or without the
/// dev-dependencies.
fn resolved_features(with_dev: bool) -> std::collections::BTreeMap<String, String> {
    let edges = if with_dev { "all" } else { "no-dev" };
    cargo_tree("{p}|{f}", edges)
        .into_iter()
        .filter_map(|line| {
            let (package, features) = line.split_once('|')?;
            Some((package.to_owned(), features.to_owned()))
        })
        .collect()
}

/// The README's second command reuses what its first compiled only if the tests'
/// dev-dependencies turn on no feature of a package the build shares with them: one that did
/// would compile it, and every crate above it, twice (Cargo.toml names such features).
#[test]
fn dev_dependencies_change_no_shared_package_features() {
    let build = resolved_features(false);
    let tests = resolved_features(true);
    assert!(
        build.keys().any(|p| p.starts_with("k8s-openapi ")),
        "{build:?}"
    );
    assert!(
        tests.len() > build.len(),
        "the tests add packages of their own"
    );
    let differ: Vec<String> = build
        .iter()
        .filter(|(package, features)| tests.get(*package).is_some_and(|f| f != *features))
        .map(|(package, features)| format!("{package}: [{features}] → [{}]", tests[package]))
        .collect();
    assert!(differ.is_empty(), "features the tests add: {differ:#?}");
}

/// The packages `cargo tree` reaches along the given edges, by name.
fn packages(edges: &str) -> std::collections::BTreeSet<String> {
    cargo_tree("{p}", edges)
        .iter()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// What runs only at compile time (proc macros, build scripts and what they use) compiles
/// unoptimised in the debug profile, where `package."*"` would optimise it: each such package
/// is named in Cargo.toml at `opt-level = 0`.
#[test]
fn compile_time_only_packages_are_unoptimised() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("Cargo.toml");
    let unoptimised: std::collections::BTreeSet<&str> = manifest
        .lines()
        .filter_map(|line| line.strip_suffix(".opt-level = 0"))
        .collect();
    let run_time = packages("normal,dev,no-proc-macro");
    let every = packages("normal,build,dev");
    let compile_time: Vec<&String> = every.difference(&run_time).collect();
    assert!(compile_time.iter().any(|p| *p == "syn"), "{compile_time:?}");
    let missing: Vec<&&String> = compile_time
        .iter()
        .filter(|p| !unoptimised.contains(p.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "add to [profile.dev.package] in Cargo.toml, at opt-level = 0: {missing:?}"
    );
    let optimised_at_run_time: Vec<&&str> = unoptimised
        .iter()
        .filter(|p| run_time.contains(**p))
        .collect();
    assert!(
        optimised_at_run_time.is_empty(),
        "these run in platc or its tests, so stay optimised: {optimised_at_run_time:?}"
    );
}
