//! Golden cases: every `golden/<case>/platform.kdl` either fails with exactly
//! `golden/<case>/expected.stderr`, or (once `platc build` lands) builds to `expected/`.
//!
//! One test per case (libtest-mimic). `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the
//! expected files; it refuses when `CI` is set. Read every diff before committing it.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use platc::diagnostic::render_human;
use platc::source::Source;
use platc::{Options, compile};

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
    let trials = cases
        .into_iter()
        .map(|case| {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            Trial::test(name, move || run_case(&case))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn updating() -> Result<bool, Failed> {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    if update && std::env::var_os("CI").is_some() {
        return Err("UPDATE_GOLDEN is refused when CI is set".into());
    }
    Ok(update)
}

fn run_case(case: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(case.join("platform.kdl")).map_err(|e| e.to_string())?;
    let source = Source::new("platform.kdl", text);
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
    let expected_stderr = case.join("expected.stderr");
    if first.platform.is_none() || expected_stderr.exists() {
        return compare_text(&expected_stderr, &stderr);
    }
    Ok(())
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
