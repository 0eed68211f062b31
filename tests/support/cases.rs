//! The built cases every cross-object test reads: the root platform with the committed `out/`,
//! and every golden case with an expected tree. Each environment's tree (`env/NAME/` of a
//! whole build) is a case of its own, with the platform of that environment, and is not part
//! of its base's case.

use std::collections::BTreeMap;
use std::path::PathBuf;

use platc::diff::read_tree;
use platc::model::Checked;
use platc::source::Source;
use platc::{Options, compile, env_dir};

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
    let mut cases = Vec::new();
    for (name, input, tree) in dirs {
        let source = Source::new("platform.kdl", std::fs::read_to_string(&input).unwrap())
            .with_dir(input.parent().unwrap());
        let compile_env = |env: Option<&str>| {
            compile(
                &source,
                &Options {
                    env: env.map(str::to_owned),
                    keep_envs: false,
                },
            )
            .platform
            .unwrap_or_else(|| panic!("{name} {env:?} does not compile"))
        };
        let base = compile_env(None);
        let mut tree = read_tree(&tree).unwrap();
        for env in &base.envs {
            let dir = format!("{}/", env_dir(&env.value));
            let env_tree: BTreeMap<String, String> = tree
                .extract_if(.., |path, _| path.starts_with(&dir))
                .map(|(path, text)| (path[dir.len()..].to_owned(), text))
                .collect();
            assert!(
                !env_tree.is_empty(),
                "{name}: no {dir} in the committed tree"
            );
            cases.push((
                format!("{name}/{dir}"),
                compile_env(Some(&env.value)),
                env_tree,
            ));
        }
        cases.push((name, base, tree));
    }
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}
