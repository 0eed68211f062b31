//! Writing `out/`. The tree is rendered in memory, and how it reaches the disk depends on what
//! is there. (A first build, into a missing `out/`, stages each file as soon as it is made
//! instead: `stream`. A rebuild that made only what a change reaches, `crate::rebuild`, holds
//! only the files it made: `write_changed` writes it incrementally or not at all, never
//! whole.)
//!
//! A rebuild of a tree platc wrote (`out/` with a manifest, no journal or staged tree of a
//! stopped write, no `--force`) is incremental (`incremental`): the two manifests alone say
//! which files changed, only those are written (each to a temporary name and renamed in) and
//! only the removed ones deleted, and the untouched files are neither read, written nor
//! looked at. So a hand edit or deletion of a file the new build does not change is not seen
//! here; `platc build --check` sees it, and `--force` restores it. The new manifest is the
//! journal until the last step renames it over the old one, and a write stopped at any step
//! leaves a tree the next build finishes (a file with the old or the journal's hash is
//! platc's). Up to date, from the manifests alone, nothing is touched.
//!
//! Otherwise, and when more than a quarter of the files change, the whole tree is staged in
//! a sibling directory (`.out.platc-new`) and swapped in with one atomic rename
//! (`RENAME_EXCHANGE`; two renames on a file system without it), so a build that fails or is
//! killed leaves the previous `out/` exactly as it was. A write that fails removes what it
//! made and says what it could not remove; the next write removes what a killed one left.
//! When `out/` already is the new tree, nothing is touched. A symbolic link `out` is
//! followed: the tree it points to is replaced, staged beside it, and the link stays.
//!
//! `out/.platc/manifest.json` lists every file platc wrote with its sha256 and origin. A tree
//! below `out/` may carry its own manifest, listed in the top one: `env/NAME/`, which
//! `platc build --env NAME` also writes alone. platc never deletes a file that is not its own,
//! one no manifest lists or one whose content no longer has its listed sha256 (edited by
//! hand): it refuses to replace a directory holding such files (or an incremental write to
//! overwrite or delete one, or to write where such a file is) or, when forced, first moves
//! them to a new backup directory beside `out/` (`out.platc-backup`, then
//! `out.platc-backup.1`, …). A lock on the directory holding `out/` serialises concurrent
//! builds; the last one wins with a whole tree.
//!
//! Which files of `out/` are platc's is `manifest`'s concern, what a rebuild changes
//! `incremental`'s, where they go when forced `backup`'s, and where `out/` may be at all
//! (never the platform file's directory, an ancestor of it, or a repository) `place`'s, which
//! `platc build` asks before it writes.

use std::fs::{self, File};
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::diff::{Tree, read_tree};

mod backup;
mod incremental;
mod manifest;
mod origin;
mod packed;
mod place;
mod stream;

pub use backup::Backup;
use backup::{back_up, backup_dir};
pub use incremental::{Listing, Old, Ordered};
use manifest::user_files;
pub use manifest::{
    EntriesWriter, Entry, FileHash, GENERATOR, Hashed, JOURNAL, MANIFEST, Manifest, Patched, Paths,
    Stamp, entries_text, listing, listing_in_order, manifest, manifest_patched, manifest_text,
    manifest_text_hashing, manifest_text_reusing, nested_text_reusing, sha256_hex,
    sha256_hex_bytes, write_entries,
};
pub use origin::Origin;
pub use packed::{Packed, Spill};
pub use place::{Protected, protected, real_path};
use place::{is_symlink, parent_of};
pub use stream::{REPLACED, Staging, Streamed, write_streamed_then};

/// Why a write did not happen.
#[derive(Debug)]
pub enum WriteError {
    /// `out/` holds files that replacing it would lose; nothing was changed.
    UserFiles(UserFiles),
    /// An I/O error stopped the write. `out` is as it was; what the write had made beside it
    /// was removed, except the paths in `left`, which could not be.
    Io {
        error: io::Error,
        left: Vec<PathBuf>,
    },
    /// An I/O error stopped an incremental write after it wrote its journal: `out` holds
    /// some files of the previous tree and some of the new one, and the next write finishes
    /// it.
    Unfinished { error: io::Error },
    /// An I/O error stopped the two-rename swap between its renames, and putting the previous
    /// tree back failed too: `out` is missing and the previous tree is at `previous` (the next
    /// write puts it back).
    OutMissing { error: io::Error, previous: PathBuf },
}

impl From<io::Error> for WriteError {
    fn from(error: io::Error) -> Self {
        Self::Io {
            error,
            left: Vec::new(),
        }
    }
}

/// The files of `out/` that are not platc's to delete, and where a forced write would move
/// them.
#[derive(Debug, PartialEq, Eq)]
pub struct UserFiles {
    /// Files no manifest lists, sorted.
    pub foreign: Vec<String>,
    /// Files the manifest lists whose content no longer has the listed sha256: edited by
    /// hand since platc wrote them. Sorted.
    pub edited: Vec<String>,
    /// The backup directory a forced write would move them to.
    pub backup: PathBuf,
}

/// What a write did.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    /// The tree on disk already was the new tree; nothing was touched.
    Unchanged,
    /// Only what changed since the manifest was written: `written` files written and
    /// `removed` deleted (the manifest not counted).
    Updated { written: usize, removed: usize },
    /// The tree was replaced whole.
    Replaced {
        /// The files of the user's a forced write moved aside, if any.
        backup: Option<Backup>,
        /// The previous tree, when it could not be removed after the swap, and why (the next
        /// write removes it).
        left: Option<(PathBuf, String)>,
    },
}

/// Replaces `out` with exactly `tree`, whose manifest (`tree[MANIFEST]`, parsed here) lists
/// its files' hashes. `force` allows replacing a directory with files that platc did not
/// write or that were edited by hand: they are moved to a backup directory beside `out`,
/// never deleted; it also always replaces the whole tree.
pub fn write_tree(out: &Path, tree: &Tree, force: bool) -> Result<Written, WriteError> {
    write_tree_with(out, tree, force, &mut |_| Ok(()))
}

/// `write_tree` of a tree whose manifest the caller already holds as a value (`listed`, the
/// parse of `tree[MANIFEST]`), as `platc build` does: no file is hashed again.
pub fn write_listed(
    out: &Path,
    tree: &Tree,
    listed: &Manifest,
    force: bool,
) -> Result<Written, WriteError> {
    write_listed_then(out, tree, listed, force, &mut |_, _| {})
}

/// What a write's caller does once the write is done, before its lock is released (so that
/// no other write changes the tree meanwhile): given the directory beside `out` (its parent,
/// the lock's) and what was written.
pub type Then<'a> = &'a mut (dyn FnMut(&Path, &Written) + Send);

/// `write_listed`, then `then`, under the write's lock.
pub fn write_listed_then(
    out: &Path,
    tree: &Tree,
    listed: &Manifest,
    force: bool,
    then: Then,
) -> Result<Written, WriteError> {
    locked(out, true, |out, parent, name| {
        let written = write_locked(
            out,
            parent,
            name,
            tree,
            Some(listed),
            force,
            &mut |_| Ok(()),
        )?;
        then(parent, &written);
        Ok(written)
    })
}

/// `write_tree` with a hook called before each step of the write: `"file"` before each staged
/// file, `"backup"` before each file moved to the backup, `"swap"` before the swap, `"rename"`
/// before each rename of the two-rename swap (`"restore"` before it puts the previous tree
/// back after its second rename failed), `"cleanup"` before the previous tree is
/// removed, and `"discard"` before a failed write removes what it made. A hook's error is
/// that step's error (at `"swap"`, EINVAL or an `Unsupported` one makes the write fall back to
/// two renames, as on a file system without `RENAME_EXCHANGE`): tests use it to show that
/// `out` is never left half-written, and that a failed write cleans up after itself. The
/// incremental write's steps are `incremental::write_changes`'s: `"journal"`, `"file"`,
/// `"place"`, `"remove"` and `"manifest"`.
pub fn write_tree_with(
    out: &Path,
    tree: &Tree,
    force: bool,
    hook: &mut dyn FnMut(&str) -> io::Result<()>,
) -> Result<Written, WriteError> {
    let listed = tree
        .get(MANIFEST)
        .and_then(|text| serde_json::from_str::<Manifest>(text).ok());
    write_listed_with(out, tree, listed.as_ref(), force, hook)
}

/// `write_tree_with` of a tree whose manifest is `listed` (without one, the whole tree is
/// always replaced).
pub fn write_listed_with(
    out: &Path,
    tree: &Tree,
    listed: Option<&Manifest>,
    force: bool,
    hook: &mut dyn FnMut(&str) -> io::Result<()>,
) -> Result<Written, WriteError> {
    locked(out, true, |out, parent, name| {
        write_locked(out, parent, name, tree, listed, force, hook)
    })
}

/// Runs `write` on the directory a write to `out` replaces (`target`), its parent and its
/// name, holding the lock on the parent (on the directory itself, so no lock file is left
/// beside `out`). `create` makes the parent first.
fn locked<R>(
    out: &Path,
    create: bool,
    write: impl FnOnce(&Path, &Path, &str) -> Result<R, WriteError>,
) -> Result<R, WriteError> {
    let out = &target(out)?;
    let parent = parent_of(out);
    if create {
        fs::create_dir_all(&parent)?;
    }
    let name = out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let lock = File::open(&parent)?;
    lock.lock()?;
    let result = write(out, &parent, &name);
    drop(lock);
    result
}

/// Where a whole-tree write of `parent/name` stages the new tree, and where it puts the
/// previous one during the swap: what a stopped write leaves behind.
fn beside(parent: &Path, name: &str) -> (PathBuf, PathBuf) {
    (
        parent.join(format!(".{name}.platc-new")),
        parent.join(format!(".{name}.platc-old")),
    )
}

/// Writes a rebuild's `tree`, which holds only the files it made and the manifest `listed`
/// (the other files it lists are on disk: `crate::Built::complete` is false), over the tree
/// platc wrote at `out`, file by file, as the incremental write does. `Ok(None)` when that
/// cannot be done without the whole tree (a file edited by hand among those it changes, a
/// stopped write, too many changes): nothing was touched, and the caller builds the whole
/// tree and writes it with `write_listed`. `old` is the manifest on disk as the rebuild read
/// it, used only while the file keeps the stamp it had then (else `Ok(None)` too). With
/// `old.patched`, `tree` holds no manifest: the new one is the old text with those hashes
/// changed, written in place.
pub fn write_changed(
    out: &Path,
    tree: &Tree,
    listed: &Manifest,
    old: &Old,
) -> Result<Option<Written>, WriteError> {
    write_changed_then(out, tree, listed, old, &mut |_, _| {})
}

/// `write_changed`, then `then` when it wrote, under the write's lock.
pub fn write_changed_then(
    out: &Path,
    tree: &Tree,
    listed: &Manifest,
    old: &Old,
    then: Then,
) -> Result<Option<Written>, WriteError> {
    changed_with(out, tree, listed, old, &mut |_| Ok(()), then)
}

/// `write_changed` with a hook called before each step (for tests: an error from it stops
/// the write there, as a killed process would). The steps are the incremental write's
/// (`"journal"`, `"file"`, `"place"`, `"remove"`, `"manifest"`, and with `Old::patched`
/// `"patch"` before each hash written in place).
pub fn write_changed_with(
    out: &Path,
    tree: &Tree,
    listed: &Manifest,
    old: &Old,
    hook: &mut dyn FnMut(&str) -> io::Result<()>,
) -> Result<Option<Written>, WriteError> {
    changed_with(out, tree, listed, old, hook, &mut |_, _| {})
}

fn changed_with(
    out: &Path,
    tree: &Tree,
    listed: &Manifest,
    old: &Old,
    hook: &mut dyn FnMut(&str) -> io::Result<()>,
    then: Then,
) -> Result<Option<Written>, WriteError> {
    locked(out, false, |out, parent, name| {
        let (staging, previous) = beside(parent, name);
        if staging.symlink_metadata().is_ok() || previous.symlink_metadata().is_ok() {
            return Ok(None);
        }
        let written = incremental::write_changes(out, tree, listed, false, Some(old), hook)?;
        if let Some(written) = &written {
            then(parent, written);
        }
        Ok(written)
    })
}

/// The directory a write to `out` replaces. A symbolic link is followed to its end (which
/// need not exist yet): the tree it points to is replaced, staged beside it, and the link
/// stays. A path that does not end in a name (`.`, `..`) is taken as its real path.
fn target(out: &Path) -> io::Result<PathBuf> {
    let named = matches!(out.components().next_back(), Some(Component::Normal(_)));
    if named && !is_symlink(out) {
        Ok(out.to_path_buf())
    } else {
        real_path(out)
    }
}

fn write_locked(
    out: &Path,
    parent: &Path,
    name: &str,
    tree: &Tree,
    listed: Option<&Manifest>,
    force: bool,
    hook: &mut dyn FnMut(&str) -> io::Result<()>,
) -> Result<Written, WriteError> {
    let (staging, old) = beside(parent, name);
    let stopped = old.symlink_metadata().is_ok() || staging.symlink_metadata().is_ok();
    // The two-rename swap, stopped between its renames, leaves `out` missing and the previous
    // tree at `old`: put it back first. Stopped after them, it leaves the previous tree at
    // `old` beside the new `out`: remove it.
    if old.exists() {
        if out.exists() {
            fs::remove_dir_all(&old)?;
        } else {
            fs::rename(&old, out)?;
        }
    }
    // A write stopped before its swap leaves its staged tree behind, and one stopped after
    // the exchange the previous tree: neither is `out`, and the user's files of either are
    // in the backup.
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    // A tree platc wrote, whose manifest says what changes: write only that, when it can.
    if let Some(listed) = listed
        && !force
        && !stopped
        && let Some(written) = incremental::write_changes(out, tree, listed, true, None, hook)?
    {
        return Ok(written);
    }
    let current = read_tree(out)?;
    if &current == tree {
        return Ok(Written::Unchanged);
    }
    let (foreign, edited) = user_files(&current, tree);
    let loses = !(foreign.is_empty() && edited.is_empty());
    if loses && !force {
        return Err(WriteError::UserFiles(UserFiles {
            foreign,
            edited,
            backup: backup_dir(parent, name),
        }));
    }
    let mut kept: Vec<String> = foreign.into_iter().chain(edited).collect();
    kept.sort();
    let mut made = Made::default();
    let previous = match replace(out, parent, name, tree, kept, hook, &mut made) {
        Ok(previous) => previous,
        Err(SwapError::Io(error)) => {
            let left = made.discard(hook);
            return Err(WriteError::Io { error, left });
        }
        Err(SwapError::OutMissing(error)) => {
            return Err(WriteError::OutMissing {
                error,
                previous: old,
            });
        }
    };
    let left = previous.and_then(|previous| {
        hook("cleanup")
            .and_then(|()| fs::remove_dir_all(&previous))
            .err()
            .map(|error| (previous, error.to_string()))
    });
    Ok(Written::Replaced {
        backup: made.backup,
        left,
    })
}

/// What a write made beside `out` before its swap, to remove when it fails.
#[derive(Default)]
struct Made {
    staging: Option<PathBuf>,
    backup: Option<Backup>,
}

impl Made {
    /// Removes the staged tree and the backup (whose files are still in `out`); returns what
    /// could not be removed.
    fn discard(&mut self, hook: &mut dyn FnMut(&str) -> io::Result<()>) -> Vec<PathBuf> {
        let dirs = self
            .staging
            .take()
            .into_iter()
            .chain(self.backup.take().map(|b| b.dir));
        dirs.filter(|dir| {
            let removed = hook("discard").and_then(|()| match fs::remove_dir_all(dir) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
                _ => Ok(()),
            });
            removed.is_err()
        })
        .collect()
    }
}

/// Why the swap failed.
enum SwapError {
    /// `out` is as it was.
    Io(io::Error),
    /// `out` is missing; the previous tree is at its `.platc-old` name.
    OutMissing(io::Error),
}

impl From<io::Error> for SwapError {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

/// Stages `tree`, moves `kept` to a backup, and swaps the staged tree in; returns where the
/// previous tree is now, to be removed (`None` when there was none). Records in `made` what
/// it made, for `Made::discard`.
fn replace(
    out: &Path,
    parent: &Path,
    name: &str,
    tree: &Tree,
    kept: Vec<String>,
    hook: &mut dyn FnMut(&str) -> io::Result<()>,
    made: &mut Made,
) -> Result<Option<PathBuf>, SwapError> {
    let staging = parent.join(format!(".{name}.platc-new"));
    made.staging = Some(staging.clone());
    stage(&staging, tree, hook)?;
    if !kept.is_empty() {
        back_up(out, parent, name, kept, hook, &mut made.backup)?;
    }
    if !out.exists() {
        hook("swap")?;
        fs::rename(&staging, out)?;
        return Ok(None);
    }
    // One atomic step: the new tree takes `out`'s name and the old tree the staging name.
    let exchanged = hook("swap").and_then(|()| {
        rustix::fs::renameat_with(
            rustix::fs::CWD,
            &staging,
            rustix::fs::CWD,
            out,
            rustix::fs::RenameFlags::EXCHANGE,
        )
        .map_err(io::Error::from)
    });
    match exchanged {
        Ok(()) => Ok(Some(staging)),
        // EINVAL or ENOSYS: a file system or kernel without `RENAME_EXCHANGE`.
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            swap_by_renames(
                out,
                &staging,
                &parent.join(format!(".{name}.platc-old")),
                hook,
            )
        }
        Err(error) => Err(SwapError::Io(error)),
    }
}

/// The swap on a file system without `RENAME_EXCHANGE`: two renames, with a short moment in
/// which `out` does not exist. Returns where the previous tree is now.
fn swap_by_renames(
    out: &Path,
    staging: &Path,
    old: &Path,
    hook: &mut dyn FnMut(&str) -> io::Result<()>,
) -> Result<Option<PathBuf>, SwapError> {
    if old.exists() {
        fs::remove_dir_all(old)?;
    }
    hook("rename")?;
    fs::rename(out, old)?;
    if let Err(error) = hook("rename").and_then(|()| fs::rename(staging, out)) {
        // Put the previous tree back.
        return match hook("restore").and_then(|()| fs::rename(old, out)) {
            Ok(()) => Err(SwapError::Io(error)),
            Err(_) => Err(SwapError::OutMissing(error)),
        };
    }
    Ok(Some(old.to_path_buf()))
}

/// How many files `stage` writes at once (after their hooks).
const STAGED_PER_BATCH: usize = 4096;

/// Writes `tree` to the new directory `staging`.
fn stage(
    staging: &Path,
    tree: &Tree,
    hook: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    // Each directory once, before its files: thousands of files share a few hundred.
    let mut made: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for path in tree.keys() {
        if let Some((dir, _)) = path.rsplit_once('/')
            && made.insert(dir)
        {
            fs::create_dir_all(staging.join(dir))?;
        }
    }
    // On both cores: creating a file is mostly the kernel's time. The hook still sees each
    // file in order, and a stop at one leaves only the files before it staged.
    let files: Vec<(&String, &String)> = tree.iter().collect();
    for batch in files.chunks(STAGED_PER_BATCH) {
        let mut stop = None;
        let mut allowed = batch.len();
        for at in 0..batch.len() {
            if let Err(error) = hook("file") {
                (stop, allowed) = (Some(error), at);
                break;
            }
        }
        crate::emit::parallel::map(&batch[..allowed], |(path, text)| {
            fs::write(staging.join(path), text)
        })
        .into_iter()
        .collect::<io::Result<()>>()?;
        if let Some(error) = stop {
            return Err(error);
        }
    }
    if !staging.exists() {
        fs::create_dir_all(staging)?;
    }
    Ok(())
}
