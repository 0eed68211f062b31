//! Golden cases: every `golden/<case>/platform.kdl` either fails with exactly
//! `golden/<case>/expected.stderr`, or builds to exactly the tree `golden/<case>/expected/`
//! (a case with warnings may have both). The root `platform.kdl` is the case
//! `online-boutique`, whose expected tree is the committed `out/`. A tree is the whole build,
//! as `platc build` writes it: the base platform and every environment under `env/NAME/`.
//!
//! One test per case (libtest-mimic). `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the
//! expected files; it refuses when `CI` is set. Read every diff before committing it.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use platc::diagnostic::render_human;
use platc::diff::{diff_trees, read_tree};
use platc::source::Source;
use platc::{Options, build_full_tree, compile};

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("golden/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("platform.kdl").is_file())
        .collect();
    cases.sort();
    let mut trials: Vec<Trial> = cases
        .into_iter()
        .map(|case| {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let input = case.join("platform.kdl");
            Trial::test(name, move || {
                run_case(&input, &case, &case.join("expected"))
            })
        })
        .collect();
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    trials.push(Trial::test("online-boutique", move || {
        run_case(
            &top.join("platform.kdl"),
            &top.join("golden"),
            &top.join("out"),
        )
    }));
    libtest_mimic::run(&args, trials).exit();
}

fn updating() -> Result<bool, Failed> {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    if update && std::env::var_os("CI").is_some() {
        return Err("UPDATE_GOLDEN is refused when CI is set".into());
    }
    Ok(update)
}

/// Compiles `input`; compares diagnostics with `<dir>/expected.stderr` (when it exists or
/// the compile failed) and the built tree with `expected_tree` (when the compile succeeded and
/// the case has no expected.stderr, or the tree exists).
fn run_case(input: &Path, dir: &Path, expected_tree: &Path) -> Result<(), Failed> {
    let bytes = std::fs::read(input).map_err(|e| e.to_string())?;
    let source = Source::from_bytes("platform.kdl", bytes).with_dir(dir);
    let first = compile(&source, &Options::default());
    let again = compile(&source, &Options::default());
    let stderr = render_human(&source, &first.diagnostics, false);
    if stderr != render_human(&source, &again.diagnostics, false) {
        return Err("two compiles of the same input gave different diagnostics".into());
    }
    for diagnostic in &first.diagnostics {
        let spans =
            std::iter::once(diagnostic.span).chain(diagnostic.labels.iter().map(|l| l.span));
        for span in spans {
            if span.start > span.end || span.end > source.text().len() {
                return Err(format!(
                    "span {span:?} of {} is out of bounds",
                    diagnostic.kind.code()
                )
                .into());
            }
        }
    }
    let expected_stderr = dir.join("expected.stderr");
    let is_root = expected_tree.file_name().is_some_and(|n| n == "out");
    let mut failures = Vec::new();
    if !is_root && (first.platform.is_none() || expected_stderr.exists()) {
        if let Err(e) = compare_text(&expected_stderr, &stderr) {
            failures.push(e.message().unwrap_or_default().to_owned());
        }
    } else if !stderr.is_empty() {
        failures.push(format!("unexpected diagnostics:\n{stderr}"));
    }
    if let (Some(platform), Some(again)) = (&first.platform, &again.platform)
        && (is_root || !expected_stderr.exists() || expected_tree.exists())
    {
        let tree = build_full_tree(&source, platform).map_err(|e| e.to_string())?;
        if tree != build_full_tree(&source, again).map_err(|e| e.to_string())? {
            failures.push("two builds of the same input gave different trees".into());
        }
        if let Err(e) = compare_tree(expected_tree, &tree) {
            failures.push(e.message().unwrap_or_default().to_owned());
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}

fn compare_tree(path: &Path, actual: &platc::diff::Tree) -> Result<(), Failed> {
    if updating()? {
        if path.exists() {
            std::fs::remove_dir_all(path).map_err(|e| e.to_string())?;
        }
        for (file, text) in actual {
            let target = path.join(file);
            std::fs::create_dir_all(target.parent().unwrap()).map_err(|e| e.to_string())?;
            std::fs::write(target, text).map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    let expected = read_tree(path).map_err(|e| e.to_string())?;
    let name = path.display().to_string();
    let diff = diff_trees(&expected, actual, &name, "build");
    if diff.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{name} differs (UPDATE_GOLDEN=1 rewrites it):\n{}",
        diff.render(&name, "build")
    )
    .into())
}

fn compare_text(path: &Path, actual: &str) -> Result<(), Failed> {
    if updating()? {
        std::fs::write(path, actual).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        return Ok(());
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
        .unified_diff()
        .context_radius(3)
        .header(&path.display().to_string(), "actual")
        .to_string();
    Err(format!(
        "{} differs (UPDATE_GOLDEN=1 rewrites it):\n{diff}",
        path.display()
    )
    .into())
}
