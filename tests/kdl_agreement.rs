//! Our KDL v2 parser (`platc::syntax::parser`) against the `kdl` crate: wherever ours accepts
//! a text, the crate must accept it too and read the same document, spans included. Inputs:
//! every golden case, the root platform, every example in the docs, and mutations of them
//! (each line deleted, each prefix cut at a line end), so both valid and broken texts count.

use std::path::Path;

use platc::syntax::{Document, convert, parser};

fn inputs() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![(
        "platform.kdl".to_owned(),
        std::fs::read_to_string(root.join("platform.kdl")).unwrap(),
    )];
    let mut dirs: Vec<_> = std::fs::read_dir(root.join("golden"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        if let Ok(text) = std::fs::read_to_string(dir.join("platform.kdl")) {
            out.push((dir.display().to_string(), text));
        }
    }
    let mut docs = vec![root.join("docs/language.md")];
    let mut pages: Vec<_> = std::fs::read_dir(root.join("docs/codes"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    pages.sort();
    docs.extend(pages);
    for page in docs {
        let text = std::fs::read_to_string(&page).unwrap();
        for (i, block) in text.split("```kdl").skip(1).enumerate() {
            let body = block.split_once('\n').map_or("", |(_, rest)| rest);
            let body = body.split("```").next().unwrap_or("");
            out.push((format!("{}#{i}", page.display()), body.to_owned()));
        }
    }
    out
}

fn mutations(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = vec![text.to_owned()];
    for i in 0..lines.len() {
        let mut without = lines.clone();
        without.remove(i);
        out.push(without.concat());
        out.push(lines[..i].concat());
    }
    out
}

/// Compares ours with the crate's on one text; `None` when they agree.
fn disagreement(text: &str) -> Option<String> {
    let ours = parser::parse(text)?;
    match kdl::KdlDocument::parse_v2(text) {
        Err(error) => Some(format!("ours accepts, the crate rejects: {error:?}")),
        Ok(theirs) => {
            let theirs: Document = convert::document(&theirs);
            first_difference(text, &ours, &theirs, "document")
        }
    }
}

/// Where two documents first differ, and how.
///
/// The crate's node spans keep trailing spaces before a closing `}` (`{ replicas 1 }`); ours
/// end at the last entry. That difference alone is not a disagreement.
fn first_difference(text: &str, ours: &Document, theirs: &Document, path: &str) -> Option<String> {
    if ours.nodes().len() != theirs.nodes().len() {
        return Some(format!(
            "{path}: {} nodes in ours, {} in theirs",
            ours.nodes().len(),
            theirs.nodes().len()
        ));
    }
    for (i, (a, b)) in ours.nodes().iter().zip(theirs.nodes()).enumerate() {
        let here = format!("{path}/{}[{i}]", a.name().value());
        let mut their_span = b.span();
        while their_span.end > their_span.start
            && text.as_bytes()[their_span.end - 1].is_ascii_whitespace()
        {
            their_span.end -= 1;
        }
        if a.name() != b.name() || a.span() != their_span {
            return Some(format!(
                "{here}: name/span {:?} {:?} vs {:?} {:?}",
                a.name(),
                a.span(),
                b.name(),
                b.span()
            ));
        }
        if a.entries() != b.entries() {
            return Some(format!(
                "{here}: entries\nours:   {:?}\ntheirs: {:?}",
                a.entries(),
                b.entries()
            ));
        }
        match (a.children(), b.children()) {
            (Some(x), Some(y)) => {
                if let Some(d) = first_difference(text, x, y, &here) {
                    return Some(d);
                }
            }
            (None, None) => {}
            (x, y) => {
                return Some(format!(
                    "{here}: children {} vs {}",
                    x.is_some(),
                    y.is_some()
                ));
            }
        }
    }
    None
}

#[test]
fn our_parser_reads_what_the_kdl_crate_reads() {
    let mut problems = Vec::new();
    let mut accepted = 0;
    let mut checked = 0;
    for (name, text) in inputs() {
        for (i, mutated) in mutations(&text).iter().enumerate() {
            checked += 1;
            if parser::parse(mutated).is_some() {
                accepted += 1;
            }
            if let Some(problem) = disagreement(mutated) {
                if problems.len() < 8 {
                    problems.push(format!("{name} (mutation {i}): {problem}"));
                } else {
                    problems.push(String::new());
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} disagreements of {checked} texts:\n{}",
        problems.len(),
        problems.join("\n\n")
    );
    // Guard against a parser that accepts nothing (and so never disagrees).
    assert!(
        accepted * 4 > checked,
        "ours accepted only {accepted} of {checked} texts"
    );
}

#[test]
fn our_parser_handles_every_valid_golden_input() {
    // Apart from KDL v1 and the nesting-limit case on purpose (ours gives up past
    // MAX_DEPTH and the file is refused), every valid input should take the fast path.
    let mut missed = Vec::new();
    for (name, text) in inputs() {
        if name.contains("kdl-v1") || name.contains("nesting-too-deep") {
            continue;
        }
        if kdl::KdlDocument::parse_v2(&text).is_ok() && parser::parse(&text).is_none() {
            missed.push(name);
        }
    }
    assert!(missed.is_empty(), "left to the crate: {missed:?}");
}
