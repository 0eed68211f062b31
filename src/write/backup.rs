//! Where a forced write puts the files of `out/` that are not platc's to delete: a new
//! directory beside `out/`, never inside it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Files a forced write moved out of `out/` instead of deleting them.
#[derive(Debug, PartialEq, Eq)]
pub struct Backup {
    /// A new directory beside `out/`, `NAME.platc-backup` (`NAME.platc-backup.1` when that
    /// exists, and so on); the files keep their paths below it.
    pub dir: PathBuf,
    /// The files, sorted.
    pub files: Vec<String>,
}

/// The `n`th candidate backup directory for `out` (`parent/name`): `name.platc-backup`, then
/// `name.platc-backup.1`, `.2`, and so on.
fn backup_candidate(parent: &Path, name: &str, n: u64) -> PathBuf {
    let dir = if n == 0 {
        format!("{name}.platc-backup")
    } else {
        format!("{name}.platc-backup.{n}")
    };
    // `out.platc-backup` rather than `./out.platc-backup` in messages.
    if parent == Path::new(".") {
        PathBuf::from(dir)
    } else {
        parent.join(dir)
    }
}

/// The first backup directory for `out` (`parent/name`) that does not exist yet.
pub(super) fn backup_dir(parent: &Path, name: &str) -> PathBuf {
    let mut n = 0;
    loop {
        let dir = backup_candidate(parent, name, n);
        if fs::symlink_metadata(&dir).is_err() {
            return dir;
        }
        n += 1;
    }
}

/// Makes a new backup directory beside `out` (`parent/name`) hold `files` of `out`, at the
/// same paths, and records it in `slot` as it goes. Each is a hard link (a copy where the file system has
/// none), so until the previous tree is removed after the swap both hold it: a write stopped
/// at any point loses none.
pub(super) fn back_up(
    out: &Path,
    parent: &Path,
    name: &str,
    files: Vec<String>,
    hook: &mut dyn FnMut(&str) -> io::Result<()>,
    slot: &mut Option<Backup>,
) -> io::Result<()> {
    let mut n = 0;
    let dir = loop {
        let dir = backup_candidate(parent, name, n);
        match fs::create_dir(&dir) {
            Ok(()) => break dir,
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => n += 1,
            Err(error) => return Err(error),
        }
    };
    let backup = slot.insert(Backup {
        dir,
        files: Vec::new(),
    });
    for file in files {
        hook("backup")?;
        let target = backup.dir.join(&file);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        let source = out.join(&file);
        if fs::hard_link(&source, &target).is_err() {
            fs::copy(&source, &target)?;
        }
        backup.files.push(file);
    }
    Ok(())
}
