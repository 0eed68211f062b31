//! `platc fmt`: formatting never changes what a file means, keeps every comment, and is
//! idempotent, on every platform file of the repository (the root `platform.kdl`, every
//! `golden/*/platform.kdl` and every `kdl` example of `docs/`); the exact layout of a messy
//! file; the command line (`--check`, rewriting in place, refusals); and no panic on damaged
//! inputs.
//!
//! "The same meaning" is what platc makes of the file: the same diagnostics (code, severity,
//! message) and, when it compiles, the same output tree file by file. Only the manifests'
//! line numbers may move (and so the sha256 the top manifest records of an environment's
//! manifest).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::iter::{IntoParallelRefIterator, ParallelIterator};

use platc::diff::Tree;
use platc::format::lex::{Kind, lex};
use platc::format::{Error, format};
use platc::source::Source;
use platc::{Options, build_full_tree, compile};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One platform text: where it comes from and what it is.
struct Input {
    name: String,
    text: String,
    /// It compiles (so its output trees are compared): the root, a golden case with an
    /// expected tree, a ```` ```kdl ```` or ```` ```kdl,warns ```` example.
    compiles: bool,
}

/// The root `platform.kdl`.
fn root_input() -> Vec<Input> {
    vec![Input {
        name: "platform.kdl".into(),
        text: std::fs::read_to_string(root().join("platform.kdl")).unwrap(),
        compiles: true,
    }]
}

/// Every `golden/*/platform.kdl`, as platc reads it (a case that is not UTF-8 on purpose as
/// the text with its bad bytes replaced: fmt refuses the file itself, see the CLI tests).
fn golden_inputs() -> Vec<Input> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("golden"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path().join("platform.kdl"))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| Input {
            name: path.strip_prefix(root()).unwrap().display().to_string(),
            text: String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned(),
            compiles: path.with_file_name("expected").is_dir(),
        })
        .collect()
}

/// Every fenced `kdl` block (any `kdl,…` info string) of `docs/language.md` and
/// `docs/codes/*.md`: the blocks `tests/docs.rs` compiles.
fn docs_inputs() -> Vec<Input> {
    let mut pages = vec![root().join("docs/language.md")];
    let mut codes: Vec<PathBuf> = std::fs::read_dir(root().join("docs/codes"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    codes.sort();
    pages.extend(codes);
    let mut inputs = Vec::new();
    for page in pages {
        let markdown = std::fs::read_to_string(&page).unwrap();
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        // The open block: its first line, indentation, whether it compiles, and text.
        let mut block: Option<(usize, usize, bool, String)> = None;
        for (i, line) in markdown.lines().enumerate() {
            let indent = line.len() - line.trim_start_matches(' ').len();
            let fence = indent <= 3 && line.trim_start().starts_with("```");
            match &mut block {
                None if fence && line.trim_start()[3..].starts_with("kdl") => {
                    let info = line.trim_start()[3..].trim();
                    let compiles = info == "kdl" || info == "kdl,warns";
                    block = Some((i + 1, indent, compiles, String::new()));
                }
                Some((start, _, compiles, text)) if fence => {
                    inputs.push(Input {
                        name: format!("{name}:{start}"),
                        text: std::mem::take(text),
                        compiles: *compiles,
                    });
                    block = None;
                }
                Some((_, indent, _, text)) => {
                    let strip = (line.len() - line.trim_start_matches(' ').len()).min(*indent);
                    text.push_str(&line[strip..]);
                    text.push('\n');
                }
                None => {}
            }
        }
    }
    inputs
}

/// The comments of a text, each without trailing whitespace on its lines, and the number of
/// slashdashes.
fn comments(text: &str) -> (Vec<String>, usize) {
    let tokens = lex(text).expect("a text that formats lexes");
    let texts = tokens
        .iter()
        .filter(|t| matches!(t.kind, Kind::LineComment | Kind::BlockComment))
        .map(|t| {
            text[t.span.start..t.span.end]
                .replace("\r\n", "\n")
                .split('\n')
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let slashdashes = tokens.iter().filter(|t| t.kind == Kind::Slashdash).count();
    (texts, slashdashes)
}

/// What breaks the canonical layout in a formatted text: trailing whitespace, indentation
/// that is not four spaces per level, a missing final newline, blank lines in a row, after a
/// `{` or before a `}`. The lines inside a multi-line string or comment are theirs, unchecked.
fn layout_problems(text: &str) -> Vec<String> {
    let mut own = vec![true; text.lines().count()];
    for token in lex(text).expect("a formatted text lexes") {
        let first = text[..token.span.start].matches('\n').count();
        let inner = text[token.span.start..token.span.end].matches('\n').count();
        if matches!(token.kind, Kind::Atom | Kind::BlockComment) {
            for line in &mut own[first + 1..=first + inner] {
                *line = false;
            }
        }
    }
    let mut problems = Vec::new();
    if !text.is_empty() && (!text.ends_with('\n') || text.ends_with("\n\n")) {
        problems.push("not one final newline".to_owned());
    }
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate().filter(|(i, _)| own[*i]) {
        let n = i + 1;
        let indent = line.len() - line.trim_start_matches(' ').len();
        if line.trim_end() != *line {
            problems.push(format!("line {n}: trailing whitespace"));
        }
        if indent % 4 != 0 || line[indent..].starts_with(char::is_whitespace) {
            problems.push(format!("line {n}: indented by {indent} spaces"));
        }
        if line.is_empty() {
            let before = i.checked_sub(1).map(|j| lines[j]);
            let after = lines.get(i + 1).map(|l| l.trim_start());
            if i == 0 || before.is_some_and(|b| b.is_empty() || b.trim_end().ends_with('{')) {
                problems.push(format!(
                    "line {n}: a blank line after a blank line or a `{{`"
                ));
            }
            if after.is_some_and(|a| a.starts_with('}')) {
                problems.push(format!("line {n}: a blank line before a `}}`"));
            }
        }
    }
    problems
}

/// The diagnostics of a compile, as `code severity: message` lines.
fn diagnostics(source: &Source) -> (Vec<String>, Option<platc::model::Checked>) {
    let compiled = compile(source, &Options::default());
    let lines = compiled
        .diagnostics
        .iter()
        .map(|d| format!("{} {:?}: {}", d.kind.code(), d.severity, d.kind.message()))
        .collect();
    (lines, compiled.platform)
}

/// A tree with the manifests' line numbers taken out: each manifest as its list of files, and
/// no sha256 of a manifest.
fn comparable(tree: Tree) -> Tree {
    tree.into_iter()
        .map(|(path, text)| {
            if !path.ends_with(".platc/manifest.json") {
                return (path, text);
            }
            let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
            for (file, entry) in manifest["files"].as_object_mut().unwrap() {
                let entry = entry.as_object_mut().unwrap();
                entry.remove("origin");
                if file.ends_with(".platc/manifest.json") {
                    entry.remove("sha256");
                }
            }
            (path, manifest.to_string())
        })
        .collect()
}

/// How many inputs formatted, were refused, and compiled (so their trees were compared).
#[derive(Debug, Default)]
struct Counts {
    formatted: usize,
    refused: usize,
    built: usize,
}

/// `text` as the source of `input`: in the directory of its file, when it is one (its
/// `config … file=` paths are relative to it).
fn source_of(input: &Input, text: &str) -> Source {
    let path = root().join(&input.name);
    let source = Source::new("platform.kdl", text);
    match path.parent() {
        Some(dir) if path.is_file() => source.with_dir(dir),
        _ => source,
    }
}

/// What is wrong with formatting one input, added to `problems`.
fn check(input: &Input, problems: &mut Vec<String>, counts: &mut Counts) {
    let name = &input.name;
    let source = source_of(input, input.text.as_str());
    let formatted = match format(&source) {
        Ok(formatted) => formatted,
        Err(Error::Internal(why)) => {
            problems.push(format!("{name}: internal error: {why}"));
            return;
        }
        Err(Error::Invalid(refused)) => {
            // A refusal is the parse's own diagnostics: the compile reports each of them.
            counts.refused += 1;
            let (compiled, _) = diagnostics(&source);
            for d in &refused {
                if !compiled.iter().any(|c| c.starts_with(d.kind.code())) {
                    problems.push(format!(
                        "{name}: fmt refuses with {}, which the compile does not report",
                        d.kind.code()
                    ));
                }
            }
            if refused.is_empty() {
                problems.push(format!("{name}: refused without a diagnostic"));
            }
            // A file that compiles is refused only when it is KDL v1, which compiles with a
            // warning.
            if input.compiles && refused.iter().any(|d| d.kind.code() != "platc::kdl-v1") {
                problems.push(format!("{name}: compiles, but fmt refuses it"));
            }
            return;
        }
    };
    counts.formatted += 1;
    for problem in layout_problems(&formatted) {
        problems.push(format!("{name}: formatted, {problem}"));
    }
    let again = source_of(input, formatted.as_str());
    match format(&again) {
        Ok(twice) if twice == formatted => {}
        Ok(twice) => problems.push(format!(
            "{name}: not idempotent:\n{}",
            platc::diff::unified(&formatted, &twice, "once", "twice")
        )),
        Err(_) => problems.push(format!("{name}: its formatted text does not format")),
    }
    if comments(&input.text) != comments(&formatted) {
        problems.push(format!(
            "{name}: the comments differ: {:?} → {:?}",
            comments(&input.text),
            comments(&formatted)
        ));
    }
    let (before, platform) = diagnostics(&source);
    let (after, formatted_platform) = diagnostics(&again);
    if before != after {
        problems.push(format!(
            "{name}: the diagnostics differ: {before:#?} → {after:#?}"
        ));
    }
    if input.compiles && platform.is_none() {
        problems.push(format!("{name}: does not compile: {before:#?}"));
    }
    if let (Some(platform), Some(formatted_platform)) = (platform, formatted_platform) {
        let trees = build_full_tree(&source, &platform)
            .and_then(|a| build_full_tree(&again, &formatted_platform).map(|b| (a, b)));
        let Ok((a, b)) = trees else {
            problems.push(format!("{name}: does not build"));
            return;
        };
        counts.built += 1;
        let (a, b) = (comparable(a), comparable(b));
        let diff = platc::diff::diff_trees(&a, &b, "original", "formatted");
        if !diff.is_empty() {
            problems.push(format!(
                "{name}: the output differs:\n{}",
                diff.render("original", "formatted")
            ));
        }
    }
}

/// Checks every input and fails with every problem; the counts.
fn check_all(inputs: &[Input]) -> Counts {
    let mut problems = Vec::new();
    let mut counts = Counts::default();
    for input in inputs {
        check(input, &mut problems, &mut counts);
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    counts
}

#[test]
fn the_root_platform_keeps_its_meaning_and_comments() {
    let counts = check_all(&root_input());
    assert_eq!((counts.formatted, counts.built), (1, 1), "{counts:?}");
}

#[test]
fn every_golden_input_keeps_its_meaning_and_comments() {
    let inputs = golden_inputs();
    assert!(inputs.len() > 100, "{} golden inputs", inputs.len());
    // All but the cases of syntax errors, KDL v1 and bad encoding format.
    let counts = check_all(&inputs);
    // Only the cases of syntax errors (and KDL v1, and nesting too deep) are refused.
    let unparsed = std::fs::read_dir(root().join("golden"))
        .unwrap()
        .filter(|e| {
            let stderr = e.as_ref().unwrap().path().join("expected.stderr");
            std::fs::read_to_string(stderr).is_ok_and(|s| {
                ["platc::syntax", "platc::kdl-v1", "platc::nesting-too-deep"]
                    .iter()
                    .any(|code| s.contains(&format!("{code}\n")))
            })
        })
        .count();
    assert_eq!(counts.refused, unparsed, "{counts:?}");
    assert!(counts.built > 5, "{counts:?}");
}

#[test]
fn every_docs_example_keeps_its_meaning_and_comments() {
    let inputs = docs_inputs();
    assert!(inputs.len() > 100, "{} examples", inputs.len());
    let counts = check_all(&inputs);
    assert!(counts.built > 50, "{counts:?}");
}

/// Tabs, odd spacing, `;`, blank lines, line continuations and comments of every kind
/// everywhere.
const MESSY: &str = "\u{20}\n\n// The shop.\r\nplatform shop{   // trailing after {\n\n\n\
\t\t/* a block\t \n\t\t   comment */   \n\
\tmesh istio   mtls=strict;observability { prometheus;grafana }\n\
  service   web  {\n\n\
        image \"nginx\"\ttag=\"1.27\"  /* why */\n\
     port http 8080 \\   // the port\n\
          protocol=http   \n\
        /-   timeout \"10s\"\n\
        env GREETING #\"hello, \"world\"\"# /-DEBUG=#true\n\
        env VERSION (t)  1.30\n\
        /- // reason\n\
        probe http port=http\n\n\n\
        /* before the end */\n\n\
    }\n\
    /-service old {\n\n    }\n\
}\n\n\
// after the platform\n\n\n";

const MESSY_FORMATTED: &str = "// The shop.
platform shop { // trailing after {
    /* a block
\t\t   comment */
    mesh istio mtls=strict
    observability {
        prometheus
        grafana
    }
    service web {
        image \"nginx\" tag=\"1.27\" /* why */
        port http 8080 \\ // the port
            protocol=http
        /-timeout \"10s\"
        env GREETING #\"hello, \"world\"\"# /-DEBUG=#true
        env VERSION (t)1.30
        /- // reason
        probe http port=http

        /* before the end */
    }
    /-service old {}
}

// after the platform
";

#[test]
fn layout_problems_are_found() {
    assert_eq!(
        layout_problems("a {\n    b \"\"\"\n  x \n  \"\"\"\n}\n"),
        [""; 0]
    );
    assert_eq!(
        layout_problems("a { \n\n  b\n\tc\n\n\n}"),
        [
            "not one final newline",
            "line 1: trailing whitespace",
            "line 2: a blank line after a blank line or a `{`",
            "line 3: indented by 2 spaces",
            "line 4: indented by 0 spaces",
            "line 6: a blank line after a blank line or a `{`",
            "line 6: a blank line before a `}`",
        ]
    );
}

#[test]
fn a_messy_file_gets_its_exact_layout() {
    let formatted = format(&Source::new("platform.kdl", MESSY)).unwrap();
    assert_eq!(
        formatted,
        MESSY_FORMATTED,
        "\n{}",
        platc::diff::unified(MESSY_FORMATTED, &formatted, "expected", "formatted")
    );
    // It compiles as the original does, to the same files.
    let counts = check_all(&[Input {
        name: "messy".into(),
        text: MESSY.into(),
        compiles: true,
    }]);
    assert_eq!(counts.built, 1, "{counts:?}");
}

/// A directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "platc-fmt-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, text: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The names of the files in the directory, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `platc ARGS` in `dir`: the exit status, stdout and stderr.
fn platc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_platc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

const UNFORMATTED: &str =
    "platform shop {\n  service web { image \"nginx\" tag=\"1.27\"; port http 8080 }\n}\n";
const FORMATTED: &str = "platform shop {\n    service web {\n        image \"nginx\" tag=\"1.27\"\n        port http 8080\n    }\n}\n";

#[test]
fn check_shows_the_diff_exits_1_and_writes_nothing() {
    let dir = TempDir::new();
    dir.write("platform.kdl", UNFORMATTED.as_bytes());
    let (status, stdout, stderr) = platc(&dir.0, &["fmt", "--check"]);
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stdout.starts_with("--- platform.kdl\n+++ platform.kdl (formatted)\n@@ "),
        "{stdout}"
    );
    assert!(
        stdout.contains("-  service web { image \"nginx\" tag=\"1.27\"; port http 8080 }\n"),
        "{stdout}"
    );
    assert!(stdout.contains("+        port http 8080\n"), "{stdout}");
    assert_eq!(
        stderr,
        "error: `platform.kdl` is not formatted; run `platc fmt platform.kdl`\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.0.join("platform.kdl")).unwrap(),
        UNFORMATTED
    );
    assert_eq!(dir.names(), ["platform.kdl"]);

    dir.write("platform.kdl", FORMATTED.as_bytes());
    assert_eq!(
        platc(&dir.0, &["fmt", "--check", "-f", "platform.kdl"]),
        (0, String::new(), String::new())
    );
}

#[test]
fn fmt_rewrites_in_place_keeping_permissions_and_names_what_it_changed() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new();
    let path = dir.write("a.kdl", UNFORMATTED.as_bytes());
    dir.write("b.kdl", FORMATTED.as_bytes());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (status, stdout, stderr) = platc(&dir.0, &["fmt", "a.kdl", "b.kdl"]);
    assert_eq!(
        (status, stdout.as_str(), stderr.as_str()),
        (0, "a.kdl\n", "")
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FORMATTED);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
    assert_eq!(dir.names(), ["a.kdl", "b.kdl"], "no temporary file is left");
    // Formatted, it is left alone.
    assert_eq!(
        platc(&dir.0, &["fmt", "a.kdl"]),
        (0, String::new(), String::new())
    );
}

#[test]
fn a_symbolic_link_is_followed() {
    let dir = TempDir::new();
    let target = dir.write("real.kdl", UNFORMATTED.as_bytes());
    std::os::unix::fs::symlink("real.kdl", dir.0.join("platform.kdl")).unwrap();
    let (status, _, stderr) = platc(&dir.0, &["fmt"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(
        std::fs::symlink_metadata(dir.0.join("platform.kdl"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(target).unwrap(), FORMATTED);
}

#[test]
fn a_file_that_does_not_parse_gets_its_diagnostics_and_is_left_alone() {
    let dir = TempDir::new();
    let broken = "platform shop {\n  service web {\n    replicas true\n  }\n}\n";
    dir.write("platform.kdl", broken.as_bytes());
    let (status, stdout, stderr) = platc(&dir.0, &["fmt"]);
    assert_eq!(status, 1, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("platc::syntax"), "{stderr}");
    assert!(stderr.contains("#true"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.0.join("platform.kdl")).unwrap(),
        broken
    );

    // KDL v1 is refused with the diagnostic that says how to convert it, as an error.
    let v1 = "platform \"shop\" {\n  service \"web\" {\n    replicas 1\n    debug true\n  }\n}\n";
    dir.write("platform.kdl", v1.as_bytes());
    let (status, _, stderr) = platc(&dir.0, &["fmt", "--check"]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("platc::kdl-v1"), "{stderr}");
    assert!(stderr.contains("× this file is KDL v1"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.0.join("platform.kdl")).unwrap(),
        v1
    );

    // A file that is not UTF-8 is never rewritten from its lossy text.
    let latin1 = b"platform shop {\n  service caf\xe9 {}\n}\n";
    dir.write("platform.kdl", latin1);
    let (status, _, stderr) = platc(&dir.0, &["fmt"]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("platc::invalid-utf8"), "{stderr}");
    assert_eq!(std::fs::read(dir.0.join("platform.kdl")).unwrap(), latin1);
}

#[test]
fn io_and_usage_errors_exit_2() {
    let dir = TempDir::new();
    dir.write("ok.kdl", UNFORMATTED.as_bytes());
    let (status, stdout, stderr) = platc(&dir.0, &["fmt", "missing.kdl", "ok.kdl"]);
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot read `missing.kdl`: "),
        "{stderr}"
    );
    // The other files are still formatted.
    assert_eq!(stdout, "ok.kdl\n");
    let (status, _, stderr) = platc(&dir.0, &["fmt", "--chek"]);
    assert_eq!(status, 2, "{stderr}");
}

thread_local! {
    /// Set while `panics` runs its closure: the panic hook then stays quiet.
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, and says whether it panicked, without printing the panic.
fn panics(f: impl FnOnce()) -> bool {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CATCHING.get() {
                default(info);
            }
        }));
    });
    CATCHING.set(true);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err();
    CATCHING.set(false);
    panicked
}

/// Formats every damaged version of every input (each line deleted, each line duplicated,
/// truncated at every line's end and in the middle of it): no panic, and what formats is
/// idempotent.
#[test]
fn damaged_inputs_never_panic_and_format_idempotently() {
    let mut inputs = root_input();
    inputs.extend(golden_inputs());
    // The inputs on both cores; failures come back in input order.
    let results: Vec<(usize, Vec<String>)> = inputs.par_iter().map(damaged_failures).collect();
    let runs: usize = results.iter().map(|(n, _)| n).sum();
    let failures: Vec<String> = results.into_iter().flat_map(|(_, f)| f).collect();
    let mut report = String::new();
    for failure in failures.iter().take(50) {
        writeln!(report, "  {failure}").unwrap();
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} damaged inputs failed:\n{report}",
        failures.len()
    );
}

/// Formats each damaged version of `input` (and what formats, again): how many there were, and
/// what went wrong with them.
fn damaged_failures(input: &Input) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut runs = 0;
    let lines: Vec<&str> = input.text.split_inclusive('\n').collect();
    let mut damaged = Vec::new();
    for i in 0..lines.len() {
        let mut deleted = lines.clone();
        deleted.remove(i);
        damaged.push((format!("line {} deleted", i + 1), deleted.concat()));
        let mut duplicated = lines.clone();
        duplicated.insert(i, lines[i]);
        damaged.push((format!("line {} duplicated", i + 1), duplicated.concat()));
        let end: usize = lines[..=i].iter().map(|l| l.len()).sum();
        let middle = end - lines[i].len() / 2;
        for at in [end, middle] {
            if input.text.is_char_boundary(at) {
                damaged.push((format!("cut at {at}"), input.text[..at].to_owned()));
            }
        }
    }
    for (how, text) in damaged {
        runs += 1;
        let mut result = None;
        if panics(|| result = Some(format(&Source::new("platform.kdl", text.as_str())))) {
            failures.push(format!("{}, {how}: panicked", input.name));
            continue;
        }
        match result {
            Some(Ok(formatted)) => {
                let twice = format(&Source::new("platform.kdl", formatted.as_str()));
                if twice.as_ref().ok() != Some(&formatted) {
                    failures.push(format!("{}, {how}: not idempotent", input.name));
                }
            }
            Some(Err(Error::Internal(why))) => {
                failures.push(format!("{}, {how}: internal error: {why}", input.name));
            }
            _ => {}
        }
    }
    (runs, failures)
}
