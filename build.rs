//! Embeds the long pages of the diagnostic codes (`docs/codes/*.md`) and their one-line
//! summaries (the table of codes in `docs/language.md`) for `platc explain`.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new("docs/codes");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut pages: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| {
                    Path::new(name)
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("md"))
                })
                .collect()
        })
        .unwrap_or_default();
    pages.sort();
    let mut out = String::from(
        "/// Every page of `docs/codes/`, by code (without `platc::`).\npub const PAGES: &[(&str, &str)] = &[\n",
    );
    for page in &pages {
        let code = page.trim_end_matches(".md");
        let path = std::fs::canonicalize(dir.join(page)).expect("a page of docs/codes");
        writeln!(
            out,
            "    ({code:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    summaries(&mut out);
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("code_pages.rs");
    std::fs::write(target, out).unwrap();
}

/// `SUMMARIES`: each row (code, severity, when it is reported) of the language reference's
/// table of codes.
fn summaries(out: &mut String) {
    let path = Path::new("docs/language.md");
    println!("cargo::rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(path).unwrap_or_default();
    out.push_str(
        "/// The table of codes in `docs/language.md`: code, severity, when it is reported.\npub const SUMMARIES: &[(&str, &str, &str)] = &[\n",
    );
    for line in text.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split(" | ")
            .map(str::trim)
            .collect();
        if let [code, severity, when] = cells[..]
            && let Some(code) = code
                .strip_prefix("`platc::")
                .and_then(|c| c.strip_suffix('`'))
        {
            writeln!(out, "    ({code:?}, {severity:?}, {when:?}),").unwrap();
        }
    }
    out.push_str("];\n");
}
