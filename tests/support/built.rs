//! The built trees on disk: `out/` and every golden case's `expected/`, each environment's
//! tree (`env/NAME/`) a tree of its own.

use std::fs;
use std::path::PathBuf;

/// Every built tree that holds `file` (a path under the tree), in order.
pub fn trees_with(file: &str) -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from("out")];
    for entry in fs::read_dir("golden").unwrap() {
        roots.push(entry.unwrap().path().join("expected"));
    }
    let mut trees = Vec::new();
    for root in roots {
        let mut candidates = vec![root.clone()];
        if let Ok(envs) = fs::read_dir(root.join("env")) {
            candidates.extend(envs.map(|e| e.unwrap().path()));
        }
        trees.extend(candidates.into_iter().filter(|t| t.join(file).is_file()));
    }
    trees.sort();
    trees
}
