//! The built cases every cross-object test reads: the root platform with the committed `out/`,
//! and every golden case with an expected tree.

use std::collections::BTreeMap;
use std::path::PathBuf;

use platc::diff::read_tree;
use platc::model::Checked;
use platc::source::Source;
use platc::{Options, compile};

/// `(name, platform, committed tree)` of every case that builds.
pub fn cases() -> Vec<(String, Checked, BTreeMap<String, String>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut dirs: Vec<(String, PathBuf, PathBuf)> = vec![(
        "online-boutique".into(),
        root.join("platform.kdl"),
        root.join("out"),
    )];
    for entry in std::fs::read_dir(root.join("golden")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("expected").is_dir() {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            dirs.push((name, dir.join("platform.kdl"), dir.join("expected")));
        }
    }
    dirs.sort();
    dirs.into_iter()
        .map(|(name, input, tree)| {
            let text = std::fs::read_to_string(&input).unwrap();
            let platform = compile(&Source::new("platform.kdl", text), &Options::default())
                .platform
                .unwrap_or_else(|| panic!("{name} does not compile"));
            (name, platform, read_tree(&tree).unwrap())
        })
        .collect()
}
