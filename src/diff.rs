//! Tree diffs: what differs between a tree on disk and a tree in memory, as unified diffs.
//! `platc build --check` and the golden tests use the same code; `platc diff` adds the field
//! diffs of `fields`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

pub mod fields;

/// Files by `/`-separated path relative to the tree's root.
pub type Tree = BTreeMap<String, String>;

/// How `actual` differs from `expected`.
#[derive(Debug, Default)]
pub struct TreeDiff {
    /// In `expected` only.
    pub missing: Vec<String>,
    /// In `actual` only.
    pub extra: Vec<String>,
    /// In both, with different contents: the path and its unified diff.
    pub changed: Vec<(String, String)>,
}

impl TreeDiff {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.changed.is_empty()
    }

    /// Every difference, one section per file. `expected_name` and `actual_name` label the
    /// two sides (`out/` and `platform.kdl`, say).
    pub fn render(&self, expected_name: &str, actual_name: &str) -> String {
        let mut out = String::new();
        for path in &self.missing {
            let _ = writeln!(out, "only in {expected_name}: {path}");
        }
        for path in &self.extra {
            let _ = writeln!(out, "only in {actual_name}: {path}");
        }
        for (_, diff) in &self.changed {
            out.push_str(diff);
        }
        out
    }
}

/// Compares two trees.
pub fn diff_trees(
    expected: &Tree,
    actual: &Tree,
    expected_name: &str,
    actual_name: &str,
) -> TreeDiff {
    let mut diff = TreeDiff::default();
    for (path, old) in expected {
        match actual.get(path) {
            None => diff.missing.push(path.clone()),
            Some(new) if new != old => {
                let text = unified(
                    old,
                    new,
                    &format!("{expected_name}/{path}"),
                    &format!("{actual_name}/{path}"),
                );
                diff.changed.push((path.clone(), text));
            }
            Some(_) => {}
        }
    }
    diff.extra = actual
        .keys()
        .filter(|p| !expected.contains_key(*p))
        .cloned()
        .collect();
    diff
}

/// A unified diff with three lines of context.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

/// Reads every file under `root` (recursively); a missing root is an empty tree.
pub fn read_tree(root: &Path) -> io::Result<Tree> {
    if !root.exists() {
        return Ok(Tree::new());
    }
    let mut files = Vec::new();
    list_dir(root, "", &mut files)?;
    // On both cores: a build's tree is thousands of small files.
    crate::emit::parallel::map_owned(files, |(path, full)| Ok((path, read_text(&full)?.0)))
        .into_iter()
        .collect()
}

/// The text of the file at `full`, and whether it was valid UTF-8 (every file platc writes
/// is, and is taken as it is, without a copy); any other is read lossily.
pub(crate) fn read_text(full: &Path) -> io::Result<(String, bool)> {
    Ok(match String::from_utf8(std::fs::read(full)?) {
        Ok(text) => (text, true),
        Err(error) => (
            String::from_utf8_lossy(error.as_bytes()).into_owned(),
            false,
        ),
    })
}

/// Walks the directory `dir`, whose path below the tree's root is `prefix`: `visit` is given
/// each directory before it is listed (`dir` itself first) and each other entry below it:
/// whether it is a directory, its path below the root, and its path on disk.
pub(crate) fn walk(
    dir: &Path,
    prefix: &str,
    visit: &mut dyn FnMut(bool, &str, &Path),
) -> io::Result<()> {
    visit(true, prefix, dir);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if entry.file_type()?.is_dir() {
            walk(&entry.path(), &path, visit)?;
        } else {
            visit(false, &path, &entry.path());
        }
    }
    Ok(())
}

/// Every file below `dir`: (its path below the tree's root, its path on disk).
pub(crate) fn list_dir(
    dir: &Path,
    prefix: &str,
    files: &mut Vec<(String, std::path::PathBuf)>,
) -> io::Result<()> {
    walk(dir, prefix, &mut |is_dir, path, full| {
        if !is_dir {
            files.push((path.to_owned(), full.to_path_buf()));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_missing_extra_and_changed() {
        let expected = Tree::from([("a".into(), "1\n".into()), ("b".into(), "x\n".into())]);
        let actual = Tree::from([("b".into(), "y\n".into()), ("c".into(), "new\n".into())]);
        let diff = diff_trees(&expected, &actual, "out", "build");
        assert_eq!(diff.missing, ["a"]);
        assert_eq!(diff.extra, ["c"]);
        assert_eq!(diff.changed.len(), 1);
        let text = diff.render("out", "build");
        assert!(text.contains("only in out: a"), "{text}");
        assert!(text.contains("-x\n+y\n"), "{text}");
        assert!(diff_trees(&actual, &actual, "a", "b").is_empty());
    }
}
