//! A build into a missing `out/` (the first build of a checkout, or one after `rm -rf out`)
//! writes each file while the rest are still being made: the tree is staged beside `out/`
//! file by file, from every core, and never held in memory whole (at 10,000 services it is
//! 6 GB of text). The staged tree is renamed to `out/` once its manifest is written, as a
//! whole-tree write does, so a build that fails or is killed leaves no `out/` at all (and
//! its staged tree, which the next build removes). Any other build writes from memory
//! (`write_listed_then`, `write_changed_then`): the files on disk are compared or kept.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{WriteError, Written, beside, locked};

/// A tree being staged: where each file made goes at once. Shared by every core.
pub struct Staging {
    root: PathBuf,
    /// The directories made so far, relative to `root`: thousands of files share a few
    /// hundred, each made once.
    dirs: Mutex<HashSet<String, foldhash::fast::RandomState>>,
    failed: AtomicBool,
    /// The first error; after it, nothing more is written.
    error: Mutex<Option<io::Error>>,
}

impl Staging {
    fn new(root: PathBuf) -> Self {
        Self {
            root,
            dirs: Mutex::default(),
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
        }
    }

    /// Writes `text` at `dir` + `path` of the tree (`dir` empty or ending in `/`), its
    /// directories made first. An error is kept for `write_streamed_then` to report; the
    /// build goes on to its end without writing more.
    pub fn put(&self, dir: &str, path: &str, text: &str) {
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        if let Err(error) = self.write(dir, path, text) {
            self.fail(error);
        }
    }

    /// `put`, the file's bytes given by `write` as it makes them (a text too long to hold:
    /// the top manifest).
    pub fn put_with(
        &self,
        dir: &str,
        path: &str,
        write: impl FnOnce(&mut fs::File) -> io::Result<()>,
    ) {
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        let written = self.create(dir, path).and_then(|mut file| write(&mut file));
        if let Err(error) = written {
            self.fail(error);
        }
    }

    fn fail(&self, error: io::Error) {
        self.failed.store(true, Ordering::Relaxed);
        let mut kept = self
            .error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.get_or_insert(error);
    }

    fn write(&self, dir: &str, path: &str, text: &str) -> io::Result<()> {
        self.create(dir, path)?.write_all(text.as_bytes())
    }

    /// Creates (or truncates) the file at `dir` + `path` of the tree, its directories made
    /// first.
    fn create(&self, dir: &str, path: &str) -> io::Result<fs::File> {
        let file = format!("{dir}{path}");
        if let Some((parent, _)) = file.rsplit_once('/') {
            let mut dirs = self
                .dirs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !dirs.contains(parent) {
                fs::create_dir_all(self.root.join(parent))?;
                dirs.insert(parent.to_owned());
            }
        }
        fs::File::create(self.root.join(&file))
    }

    fn into_error(self) -> Option<io::Error> {
        self.error
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What `write_streamed_then` did.
#[derive(Debug)]
pub enum Streamed<R> {
    /// `out` exists, or a stopped write left its staged or previous tree beside it: nothing
    /// was made or touched. The caller makes the tree in memory and writes it as usual.
    NotFresh,
    /// `make` failed (its error is the caller's to report): nothing is at `out`, and the
    /// staged files were removed, except the paths in `left` (the next build removes them).
    Failed { left: Vec<PathBuf> },
    /// The tree `make` staged is `out` now (`Written::Replaced`, with nothing backed up).
    Written(R),
}

/// A build into a missing `out`: under the write's lock, `make` makes the tree, putting each
/// file in the `Staging` as it is made, the manifest among them (`super::MANIFEST`), and gives
/// what it made (`None` when it failed); the staged tree is then renamed to `out`, and `then`
/// called with the directory holding `out` and what was made, still under the lock (to note
/// the stamps; it may take what it has kept). `make` is not called unless `out` is missing (`Streamed::NotFresh`).
pub fn write_streamed_then<R>(
    out: &Path,
    make: impl FnOnce(&Staging) -> Option<R>,
    then: impl FnOnce(&Path, &mut R),
) -> Result<Streamed<R>, WriteError> {
    locked(out, true, |out, parent, name| {
        let (staging, previous) = beside(parent, name);
        let present = |path: &Path| path.symlink_metadata().is_ok();
        if present(out) || present(&staging) || present(&previous) {
            return Ok(Streamed::NotFresh);
        }
        fs::create_dir(&staging)?;
        let stage = Staging::new(staging.clone());
        let result = make(&stage);
        let error = stage.into_error();
        let mut tree = match (result, error) {
            (Some(tree), None) => tree,
            (None, _) => {
                return Ok(Streamed::Failed {
                    left: discard(&staging),
                });
            }
            (Some(_), Some(error)) => {
                return Err(WriteError::Io {
                    error,
                    left: discard(&staging),
                });
            }
        };
        if let Err(error) = fs::rename(&staging, out) {
            return Err(WriteError::Io {
                error,
                left: discard(&staging),
            });
        }
        then(parent, &mut tree);
        Ok(Streamed::Written(tree))
    })
}

/// Removes a staged tree; gives it back when it cannot be removed.
fn discard(staging: &Path) -> Vec<PathBuf> {
    match fs::remove_dir_all(staging) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => vec![staging.to_path_buf()],
        _ => Vec::new(),
    }
}

/// What a streamed write replaced: nothing.
pub const REPLACED: Written = Written::Replaced {
    backup: None,
    left: None,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::read_tree;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("platc-stream-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_missing_out_gets_the_staged_tree_and_then_is_called_after() {
        let dir = scratch("fresh");
        let out = dir.join("out");
        let mut noted = None;
        let written = write_streamed_then(
            &out,
            |stage| {
                stage.put("", "a/b/c.yaml", "c\n");
                stage.put("env/prod/", "a/b/d.yaml", "d\n");
                stage.put("", "top.json", "{}\n");
                assert!(!out.exists(), "out appears only once the tree is whole");
                Some(3)
            },
            |beside, made: &mut i32| noted = Some((beside.to_path_buf(), *made)),
        )
        .unwrap();
        assert!(matches!(written, Streamed::Written(3)));
        assert_eq!(noted, Some((dir.clone(), 3)));
        let tree = read_tree(&out).unwrap();
        let paths: Vec<&str> = tree.keys().map(String::as_str).collect();
        assert_eq!(paths, ["a/b/c.yaml", "env/prod/a/b/d.yaml", "top.json"]);
        assert_eq!(tree["env/prod/a/b/d.yaml"], "d\n");
        assert!(!dir.join(".out.platc-new").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_existing_out_or_a_stopped_writes_leftovers_make_nothing() {
        let dir = scratch("present");
        let out = dir.join("out");
        for leftover in [
            &out,
            &dir.join(".out.platc-new"),
            &dir.join(".out.platc-old"),
        ] {
            fs::create_dir_all(leftover).unwrap();
            let written =
                write_streamed_then(&out, |_| -> Option<()> { panic!("made") }, |_, ()| {});
            assert!(matches!(written, Ok(Streamed::NotFresh)), "{leftover:?}");
            fs::remove_dir_all(leftover).unwrap();
        }
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_make_or_write_leaves_no_out_and_nothing_staged() {
        let dir = scratch("failed");
        let out = dir.join("out");
        let failed = write_streamed_then(
            &out,
            |stage| -> Option<()> {
                stage.put("", "a.yaml", "a\n");
                None
            },
            |_, ()| panic!("noted"),
        );
        assert!(matches!(failed, Ok(Streamed::Failed { left }) if left.is_empty()));
        // A file where a directory must go: the write fails, and the files after it are not
        // written.
        let unwritable = write_streamed_then(
            &out,
            |stage| {
                stage.put("", "a", "a file\n");
                stage.put("", "a/b.yaml", "b\n");
                stage.put("", "c.yaml", "c\n");
                Some(())
            },
            |_, ()| panic!("noted"),
        );
        assert!(matches!(
            unwritable,
            Err(WriteError::Io { left, .. }) if left.is_empty()
        ));
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }
}
