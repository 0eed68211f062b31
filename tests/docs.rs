//! The documentation is tested: every `kdl` example in `docs/language.md` and `docs/codes/*.md`
//! is compiled, every diagnostic code has a page and a golden case, and the output a page
//! shows is what platc prints today.
//!
//! Fenced blocks are told apart by their info string:
//!
//! - ```` ```kdl ````: a complete document that must compile without errors or warnings;
//! - ```` ```kdl,fails ````: a complete document that must report at least one error;
//! - ```` ```kdl,warns ````: a complete document that compiles with at least one warning;
//! - ```` ```kdl,fragment ````: a part of a document, not compiled.
//!
//! Any other `kdl,…` info string is a mistake and fails the test, so a typo cannot silently skip
//! an example. Every test collects all its failures before it fails.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use platc::diagnostic::{ErrorKind, render_human};
use platc::source::Source;
use platc::{Options, compile};

/// The fewest complete examples the language reference may have.
const MIN_LANGUAGE_EXAMPLES: usize = 15;

/// Codes no golden case can produce: `unknown-env` needs `--env`, which the harness never passes.
const NOT_IN_GOLDEN: &[&str] = &["platc::unknown-env"];

/// What a `kdl` block is expected to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// ```` ```kdl ````: compiles without errors.
    Clean,
    /// ```` ```kdl,fails ````: reports at least one error.
    Fails,
    /// ```` ```kdl,fragment ````: not compiled.
    Fragment,
    /// ```` ```kdl,warns ````: compiles without errors but with at least one warning.
    Warns,
}

/// One fenced `kdl` block of a Markdown file.
#[derive(Debug)]
struct Block {
    /// The 1-based line of the opening fence.
    line: usize,
    expect: Expect,
    text: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path relative to the crate root, for messages.
fn display(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", display(path)))
}

/// The Markdown pages of `docs/codes/`, sorted; empty when the directory does not exist.
fn code_pages() -> Vec<PathBuf> {
    let dir = root().join("docs/codes");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "md"))
                .collect()
        })
        .unwrap_or_default();
    pages.sort();
    pages
}

/// The `kdl` blocks of a Markdown text. Errors (an unknown `kdl,…` attribute, an unclosed
/// fence) are pushed to `problems` with the file and line.
fn kdl_blocks(file: &str, markdown: &str, problems: &mut Vec<String>) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let trimmed = &line[indent..];
        let fence_len = trimmed.chars().take_while(|&c| c == '`').count();
        if indent > 3 || fence_len < 3 {
            continue;
        }
        let info = trimmed[fence_len..].trim();
        let line_number = index + 1;
        // The block's text, with the fence's indentation removed as CommonMark does.
        let mut text = String::new();
        let mut closed = false;
        for (_, body) in lines.by_ref() {
            let body_indent = body.len() - body.trim_start_matches(' ').len();
            let body_trimmed = &body[body_indent..];
            let closing = body_indent <= 3
                && body_trimmed.chars().take_while(|&c| c == '`').count() >= fence_len
                && body_trimmed.trim_start_matches('`').trim().is_empty();
            if closing {
                closed = true;
                break;
            }
            text.push_str(&body[body_indent.min(indent)..]);
            text.push('\n');
        }
        let language = info.split([',', ' ']).next().unwrap_or("");
        if language != "kdl" {
            if !closed {
                problems.push(format!(
                    "{file}:{line_number}: the fenced block opened here is never closed"
                ));
            }
            continue;
        }
        if !closed {
            problems.push(format!(
                "{file}:{line_number}: the ```kdl block opened here is never closed"
            ));
            continue;
        }
        let expect = match info {
            "kdl" => Expect::Clean,
            "kdl,fails" => Expect::Fails,
            "kdl,fragment" => Expect::Fragment,
            "kdl,warns" => Expect::Warns,
            other => {
                problems.push(format!(
                    "{file}:{line_number}: unknown info string ```{other}: use ```kdl, \
                     ```kdl,fails, ```kdl,warns or ```kdl,fragment"
                ));
                continue;
            }
        };
        blocks.push(Block {
            line: line_number,
            expect,
            text,
        });
    }
    blocks
}

/// Compiles every block of one file and describes each that does not do what it says.
fn check_blocks(file: &str, blocks: &[Block], problems: &mut Vec<String>) {
    for block in blocks {
        if block.expect == Expect::Fragment {
            continue;
        }
        // Named like a link to the block; the rendered line numbers count from its first line.
        let source = Source::new(format!("{file}#L{}", block.line), block.text.as_str());
        let result = compile(&source, &Options::default());
        let has_errors = result.diagnostics.has_errors();
        let has_warnings = result.diagnostics.has_warnings();
        let problem = match (block.expect, has_errors) {
            (Expect::Warns, false) if !has_warnings => format!(
                "{file}:{}: this ```kdl,warns block must report a warning, but it reports none",
                block.line
            ),
            (Expect::Clean | Expect::Warns, true) | (Expect::Clean, false)
                if has_errors || (block.expect == Expect::Clean && has_warnings) =>
            {
                format!(
                    "{file}:{}: this ```kdl block must compile without errors (and, unless marked \
                 `kdl,warns`, without warnings), but it reports (lines count from the block's first line):\n{}",
                    block.line,
                    render_human(&source, &result.diagnostics, false)
                )
            }
            (Expect::Fails, false) => {
                let mut problem = format!(
                    "{file}:{}: this ```kdl,fails block must report at least one error, but it \
                     reports none",
                    block.line
                );
                if !result.diagnostics.is_empty() {
                    let _ = write!(
                        problem,
                        " (only warnings):\n{}",
                        render_human(&source, &result.diagnostics, false)
                    );
                }
                problem
            }
            _ => continue,
        };
        problems.push(problem);
    }
}

/// Panics with every problem, numbered, when there are any.
fn report(what: &str, problems: &[String]) {
    if problems.is_empty() {
        return;
    }
    let mut text = format!("{} {what}:\n", problems.len());
    for (i, problem) in problems.iter().enumerate() {
        let _ = writeln!(text, "\n{}. {}", i + 1, problem.trim_end());
    }
    panic!("{text}");
}

#[test]
fn language_reference_examples_compile() {
    let path = root().join("docs/language.md");
    let file = display(&path);
    let mut problems = Vec::new();
    let blocks = kdl_blocks(&file, &read(&path), &mut problems);
    check_blocks(&file, &blocks, &mut problems);
    let complete = blocks.iter().filter(|b| b.expect == Expect::Clean).count();
    if complete < MIN_LANGUAGE_EXAMPLES {
        problems.push(format!(
            "{file} has {complete} complete ```kdl examples; it should have at least \
             {MIN_LANGUAGE_EXAMPLES}, so that the test covers the language"
        ));
    }
    report(
        "problems with the examples of the language reference",
        &problems,
    );
}

#[test]
fn code_page_examples_compile() {
    let mut problems = Vec::new();
    for path in code_pages() {
        let file = display(&path);
        let blocks = kdl_blocks(&file, &read(&path), &mut problems);
        check_blocks(&file, &blocks, &mut problems);
    }
    report("problems with the examples of docs/codes/", &problems);
}

#[test]
fn language_reference_lists_every_code() {
    let path = root().join("docs/language.md");
    let text = read(&path);
    let missing: Vec<String> = ErrorKind::CODES
        .iter()
        .filter(|code| !mentions(&text, code))
        .map(|code| format!("{} does not mention `{code}`", display(&path)))
        .collect();
    report(
        "codes missing from the diagnostics section of the language reference",
        &missing,
    );
}

#[test]
fn every_code_has_a_page() {
    let mut problems = Vec::new();
    for code in ErrorKind::CODES {
        let name = code.trim_start_matches("platc::");
        let path = root().join("docs/codes").join(format!("{name}.md"));
        let file = display(&path);
        let Ok(text) = std::fs::read_to_string(&path) else {
            problems.push(format!("{code} has no page: {file} does not exist"));
            continue;
        };
        let first = text.lines().next().unwrap_or("").trim_end();
        let heading = format!("# {code}");
        if first != heading {
            problems.push(format!(
                "{file}: the first line is {first:?}; it should be {heading:?}"
            ));
        }
    }
    report("codes without a proper page in docs/codes/", &problems);
}

#[test]
fn every_page_is_for_a_code() {
    let problems: Vec<String> = code_pages()
        .iter()
        .filter(|path| {
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            !ErrorKind::CODES.contains(&format!("platc::{stem}").as_str())
        })
        .map(|path| {
            format!(
                "{} documents a code that does not exist (not in ErrorKind::CODES)",
                display(path)
            )
        })
        .collect();
    report("pages in docs/codes/ for unknown codes", &problems);
}

#[test]
fn every_code_has_a_golden_case() {
    let golden = root().join("golden");
    let mut stderrs: Vec<(String, String)> = std::fs::read_dir(&golden)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("expected.stderr"))
                .filter(|p| p.is_file())
                .map(|p| (display(&p), read(&p)))
                .collect()
        })
        .unwrap_or_default();
    stderrs.sort();
    let problems: Vec<String> = ErrorKind::CODES
        .iter()
        .filter(|code| !NOT_IN_GOLDEN.contains(code))
        .filter(|code| !stderrs.iter().any(|(_, text)| mentions(text, code)))
        .map(|code| {
            format!(
                "{code}: no golden/*/expected.stderr mentions it ({} cases have one)",
                stderrs.len()
            )
        })
        .collect();
    report("codes without a golden case", &problems);
}

/// Whether `text` contains `code` as a whole code, not as the start of a longer one.
fn mentions(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(at, _)| {
        !text[at + code.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[test]
fn block_extraction_reads_info_strings_and_lines() {
    let markdown = "# t\n\n```kdl\na\n```\n\n```kdl,fails\nb\n```\n```kdl,fragment\nc\n```\n\
                    ```text\nd\n```\n  ````kdl\n  e\n  ```\n  ````\n```kdl,fial\nf\n```\n";
    let mut problems = Vec::new();
    let blocks = kdl_blocks("t.md", markdown, &mut problems);
    let found: Vec<(usize, Expect, &str)> = blocks
        .iter()
        .map(|b| (b.line, b.expect, b.text.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (3, Expect::Clean, "a\n"),
            (7, Expect::Fails, "b\n"),
            (10, Expect::Fragment, "c\n"),
            (16, Expect::Clean, "e\n```\n"),
        ]
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("t.md:20: unknown info string"),
        "{problems:?}"
    );

    let mut problems = Vec::new();
    kdl_blocks("u.md", "```kdl\nplatform p {}\n", &mut problems);
    assert_eq!(
        problems,
        ["u.md:1: the ```kdl block opened here is never closed"]
    );
}

#[test]
fn mentions_matches_whole_codes_only() {
    assert!(mentions("x platc::capacity\n", "platc::capacity"));
    assert!(mentions("`platc::capacity`", "platc::capacity"));
    assert!(!mentions("platc::capacity-x", "platc::capacity"));
    assert!(!mentions("platc::capacit", "platc::capacity"));
}

/// The diagnostics a code page shows (a ```` ```text ```` block after a failing or warning
/// example) are what platc prints for that example today, so a page cannot go stale.
#[test]
fn code_pages_show_current_output() {
    let mut problems = Vec::new();
    let mut compared = 0;
    for page in code_pages() {
        let file = display(&page);
        let markdown = read(&page);
        let mut example: Option<String> = None;
        let mut lines = markdown.lines();
        while let Some(line) = lines.next() {
            let fence = line.trim_end();
            if !fence.starts_with("```") || fence == "```" {
                continue;
            }
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| l.trim_end() != "```")
                .collect();
            let body = body.join("\n") + "\n";
            match fence {
                "```kdl,fails" | "```kdl,warns" => example = Some(body),
                "```text" => {
                    let Some(text) = example.take() else { continue };
                    let source = Source::new("platform.kdl", text);
                    let result = compile(&source, &Options::default());
                    let rendered = render_human(&source, &result.diagnostics, false);
                    // As the pages show it: no summary line, no blank lines around.
                    let shown: Vec<&str> = rendered
                        .lines()
                        .filter(|l| !l.starts_with("platform.kdl:"))
                        .collect();
                    let shown = shown.join("\n");
                    compared += 1;
                    if shown.trim() != body.trim() {
                        problems.push(format!(
                            "{file}: the shown output differs from what platc prints now:\n{}",
                            shown.trim()
                        ));
                    }
                }
                _ => example = None,
            }
        }
    }
    assert!(
        compared >= 40,
        "only {compared} pages show output: the block pairing is broken"
    );
    report("code pages showing stale output", &problems);
}
