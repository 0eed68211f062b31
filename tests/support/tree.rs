//! The tree `platc build` writes for a platform's text, which must compile.

use platc::source::Source;

/// The whole tree of `text` (environments included), as `platc build` writes it.
pub fn tree_of(text: &str) -> platc::diff::Tree {
    let source = Source::new("platform.kdl", text);
    let compiled = platc::compile(&source, &platc::Options::default());
    let platform = compiled
        .platform
        .unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
    platc::build_full_tree(&source, &platform).expect("builds")
}
