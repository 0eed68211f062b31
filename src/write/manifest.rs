//! The manifest of `out/`, and what it says about the files found there: which platc wrote
//! and may replace, which it did not write, and which were edited by hand since.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diff::Tree;
use crate::encode;

/// Where the manifest lives inside `out/`.
pub const MANIFEST: &str = ".platc/manifest.json";

/// One file of the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub sha256: String,
    /// `platform.kdl:LINE` of the node it came from.
    pub origin: String,
}

/// `out/.platc/manifest.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub generator: String,
    pub files: BTreeMap<String, Entry>,
}

/// The manifest of a tree: every file's hash and origin, from `(path, text, origin)`.
pub fn manifest<'a>(files: impl IntoIterator<Item = (&'a str, &'a str, String)>) -> Manifest {
    Manifest {
        generator: "platc".into(),
        files: files
            .into_iter()
            .map(|(path, text, origin)| {
                (
                    path.to_owned(),
                    Entry {
                        sha256: sha256_hex(text),
                        origin,
                    },
                )
            })
            .collect(),
    }
}

/// The sha256 of a file's text, in hex, as the manifest records it.
pub fn sha256_hex(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 15)]));
    }
    hex
}

/// The manifest's own text.
pub fn manifest_text(manifest: &Manifest) -> String {
    encode::json(manifest)
}

/// The files of `current` (the tree in `out/`) that replacing it with `new` would lose:
/// those no manifest lists (every file, when there is no manifest), and those edited since
/// platc wrote them. An edit that made a file exactly what `new` holds loses nothing and is not
/// counted, nor are the staged and previous trees that a stopped write left inside `out/`
/// (`platc build --env NAME` writes below `out/`).
pub(super) fn user_files(current: &Tree, new: &Tree) -> (Vec<String>, Vec<String>) {
    let manifests = manifests(current);
    let mut foreign = Vec::new();
    let mut edited = Vec::new();
    for (path, text) in current {
        if path.split('/').any(is_temporary)
            || path
                .strip_suffix(MANIFEST)
                .is_some_and(|dir| manifests.contains_key(dir))
        {
            continue;
        }
        let hashes: Vec<&str> = manifests
            .iter()
            .filter_map(|(dir, manifest)| manifest.files.get(path.strip_prefix(dir.as_str())?))
            .map(|entry| entry.sha256.as_str())
            .collect();
        if hashes.is_empty() {
            foreign.push(path.clone());
        } else if new.get(path) != Some(text) && !hashes.contains(&sha256_hex(text).as_str()) {
            edited.push(path.clone());
        }
    }
    (foreign, edited)
}

/// The manifests of `current` that say which files platc wrote, by the directory they
/// describe (`""` for the top, else ending in `/`): the top one, each one a manifest found
/// lists, and each `env/NAME/.platc/manifest.json`, which `platc build --env NAME` writes alone.
fn manifests(current: &Tree) -> BTreeMap<String, Manifest> {
    let mut found = BTreeMap::new();
    let mut queue: Vec<String> = current
        .keys()
        .filter_map(|path| path.strip_suffix(MANIFEST))
        .filter(|dir| {
            dir.strip_prefix(crate::ENV_DIR)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|name| name.strip_suffix('/'))
                .is_some_and(|name| !name.is_empty() && !name.contains('/'))
        })
        .map(str::to_owned)
        .collect();
    queue.push(String::new());
    while let Some(dir) = queue.pop() {
        if found.contains_key(&dir) {
            continue;
        }
        let Some(manifest) = current
            .get(&format!("{dir}{MANIFEST}"))
            .and_then(|text| serde_json::from_str::<Manifest>(text).ok())
        else {
            continue;
        };
        queue.extend(
            manifest
                .files
                .keys()
                .filter_map(|path| path.strip_suffix(MANIFEST))
                .filter(|sub| sub.ends_with('/'))
                .map(|sub| format!("{dir}{sub}")),
        );
        found.insert(dir, manifest);
    }
    found
}

/// Whether a path component is the staged or previous tree a stopped write left behind
/// (`.NAME.platc-new`, `.NAME.platc-old`).
fn is_temporary(component: &str) -> bool {
    component.starts_with('.')
        && (component.ends_with(".platc-new") || component.ends_with(".platc-old"))
}
