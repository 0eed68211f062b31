//! Embeds the long pages of the diagnostic codes (`docs/codes/*.md`) for `platc explain`.

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
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("code_pages.rs");
    std::fs::write(target, out).unwrap();
}
