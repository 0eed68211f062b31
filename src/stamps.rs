//! The stamps of the tree a whole build wrote, kept beside its record in the cache
//! (`rebuild::cache_file`, with `.stamps` for `.json`): with them, `platc build --check` of
//! the very input that build was made from tells that `out/` is still its tree without
//! compiling the platform or reading a file of `out/`, as git's index tells a file unchanged
//! by its stat data.
//!
//! The file holds what the build was made from (`Input`: the build of platc, the platform
//! file's name and text, and the path and contents of each file a `config … file=` read, as
//! one sha256) and a stamp (`write::Stamp`: size, inode, change and modification times to
//! the nanosecond) of every directory and file of the tree. `fresh` holds each stamp to what
//! is on disk now: a file written, removed, added or renamed since, a directory listing
//! changed, and `out/` is not fresh (the `--check` then reads it as before).
//! A rebuild appends the stamps it changed to the file as a block, under a header of its own,
//! and writes the file again only once the blocks grow past an eighth of it (`Layout`).
//!
//! A stamp is noted only of what platc knows holds what the tree says: everything of a tree
//! swapped in whole; in a tree written in part, each file written and each directory whose
//! entries were listed and found to be the tree's; what a `--check` read and found its
//! manifest's (`read`), or, making the tree and comparing, the very tree a build makes
//! (`read_tree`). The rest keeps the stamp noted before, which holds only while the thing is
//! on disk as it was then: a file edited by hand is never stamped as the tree's.
//!
//! A file changed within the same tick of the file system's clock as it was stamped keeps
//! its change time (git's "racily clean" files): the stamps are kept only once the clock of
//! out/'s own file system (read beside it, `clock`) has passed every change time they note,
//! and `fresh` trusts only a stamp older than the clock the file names. A build notes its
//! stamps under its write's lock, so another build cannot write the tree in between; the
//! config files' contents are the ones the compile read. A change made by hand while platc
//! itself writes the tree, or by a `--env` build into out/env/ at the same time (it locks
//! another directory), is not covered (nor are such changes by git).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::source::Source;
use crate::write::{Listing, MANIFEST, Manifest, Stamp, sha256_hex_bytes};

/// What a build was made from, as one sha256: the build of platc, the platform file's name
/// and text, and the path and contents of each file its `config … file=` read (`configs`,
/// every tree's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    configs: Vec<String>,
    digest: String,
}

impl Input {
    /// The input of a build of `source` whose compile read `configs`: each file's path, as
    /// written, and the contents the tree was made from (read once, by the compile: a file
    /// changed since does not pass for them). `None` when this build of platc cannot be told
    /// from another.
    pub fn new(source: &Source, mut configs: Vec<(String, String)>) -> Option<Self> {
        configs.sort_unstable();
        configs.dedup();
        let digest = digest(
            source,
            configs
                .iter()
                .map(|(path, data)| Some((path.as_str(), data.clone()))),
        )?;
        let configs = configs.into_iter().map(|(path, _)| path).collect();
        Some(Self { configs, digest })
    }
}

/// The files the `config … file=` of `platform`'s services read: the path as written, and
/// the contents read.
pub fn configs(platform: &crate::model::Checked) -> impl Iterator<Item = (String, String)> + '_ {
    platform
        .services
        .iter()
        .flat_map(|service| &service.configs)
        .filter_map(|config| Some((config.file.as_ref()?.value.clone(), config.data.clone())))
}

/// The digest of an input: `source`, and each config file's path and contents (`None`: it
/// cannot be read, and there is no digest).
fn digest<'a>(
    source: &Source,
    configs: impl IntoIterator<Item = Option<(&'a str, String)>>,
) -> Option<String> {
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update(bytes.len().to_le_bytes());
        hash.update(bytes);
    };
    field(crate::rebuild::build_id()?.as_bytes());
    field(source.name().as_bytes());
    field(source.text().as_bytes());
    let invalid = source.invalid_utf8().map_or(u64::MAX, |at| at as u64);
    field(&invalid.to_le_bytes());
    for config in configs {
        let (path, data) = config?;
        field(path.as_bytes());
        field(data.as_bytes());
    }
    Some(sha256_hex_bytes(&hash.finalize()))
}

/// The first line of the stamps' file.
#[derive(Serialize, Deserialize)]
struct Header {
    /// `Input`'s digest.
    input: String,
    configs: Vec<String>,
    /// The clock of out/'s file system when the stamps were kept (`clock`): past every
    /// change time they hold.
    clock: i128,
}

/// What a stamp is of. (Directories first in a stamps' file.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Dir,
    File,
}

/// A stamp noted of a directory or file of the tree, by its path inside `out/` (`""` for
/// `out/` itself).
type Noted<'a> = (Kind, &'a str, Stamp);

/// Where the stamps of the tree at `out` are kept: beside its record.
fn stamps_file(out: &Path) -> Option<PathBuf> {
    Some(crate::rebuild::cache_file(out)?.with_extension("stamps"))
}

/// Whether `out` is, by the stamps a build noted, the tree that build wrote, unchanged
/// since, and that build was made from `source`: then a build would make that very tree.
pub fn fresh(out: &Path, source: &Source) -> bool {
    if !cfg!(unix) {
        return false;
    }
    let Some(file) = stamps_file(out) else {
        return false;
    };
    let Ok(text) = fs::read_to_string(&file) else {
        return false;
    };
    let Some((header, noted)) = parse(&text) else {
        return false;
    };
    let read = header.configs.iter().map(|path| {
        let data = crate::lower::files::contents(path, source.dir()).ok()?;
        Some((path.as_str(), data))
    });
    if digest(source, read).as_deref() != Some(header.input.as_str())
        || !noted
            .iter()
            .any(|(kind, path, _)| *kind == Kind::File && *path == MANIFEST)
    {
        return false;
    }
    crate::emit::parallel::map(&noted, |(kind, path, stamp)| {
        stamp.changed < header.clock && on_disk(out, *kind, path).as_ref() == Some(stamp)
    })
    .into_iter()
    .all(|fresh| fresh)
}

/// The stamp of the directory or file at `path` in `out`, when it is one.
fn on_disk(out: &Path, kind: Kind, path: &str) -> Option<Stamp> {
    let meta = if path.is_empty() {
        fs::metadata(out)
    } else {
        fs::symlink_metadata(out.join(path))
    }
    .ok()?;
    let right = match kind {
        Kind::Dir => meta.is_dir(),
        Kind::File => meta.is_file(),
    };
    right.then(|| Stamp::from_metadata(&meta)).flatten()
}

/// The header and stamps of a stamps' file's text: the last block's header, and the body's
/// stamps with every block's changes made, in order.
fn parse(text: &str) -> Option<(Header, Vec<Noted<'_>>)> {
    let layout = Layout::of(text)?;
    let header: Header = serde_json::from_str(&text[layout.header.clone()]).ok()?;
    let body = &text[layout.body.clone()];
    // Two runs in order of kind and path, merged: a change in place of the body's line.
    let mut noted = Vec::with_capacity(body.len() / 64 + layout.overlay.len());
    let mut overlay = layout.overlay.iter().peekable();
    for line in body.lines() {
        let line = parse_line(line)?;
        let key = (line.0, line.1);
        while let Some(change) = overlay.next_if(|change| change.key(text) < key) {
            noted.extend(change.noted(text));
        }
        match overlay.next_if(|change| change.key(text) == key) {
            Some(change) => noted.extend(change.noted(text)),
            None => noted.push(line),
        }
    }
    for change in overlay {
        noted.extend(change.noted(text));
    }
    Some((header, noted))
}

/// Where the parts of a stamps' file are: its first line, the header (JSON); the body, a
/// line per stamp (`add_line`) in order of kind and path; then the blocks a rebuild appends
/// (`append`), each a `+` and its header, a line per change in order (a stamp's line, or `-`,
/// the kind's letter and the path of one dropped) and `=` with the count of those lines. A
/// rebuild that writes 53 files of 80,000 (1,000 services) appends 60 lines, where it wrote
/// the whole 10 MB file again. A block cut short (a write that failed) and the file is not
/// read at all.
struct Layout {
    /// The header in force: the last block's, or the first line.
    header: std::ops::Range<usize>,
    /// The body, past the first line: whole lines.
    body: std::ops::Range<usize>,
    /// The blocks' changes, one a kind and path (the last block's), in order.
    overlay: Vec<Change>,
    /// Lines in the blocks, counted each time they were appended.
    appended: usize,
}

/// A block's change to a stamp: the line that notes it now and its stamp (`None`: dropped).
/// Places in the file's text.
#[derive(Clone, Debug)]
struct Change {
    kind: Kind,
    path: std::ops::Range<usize>,
    line: Option<(std::ops::Range<usize>, Stamp)>,
}

impl Change {
    fn key<'t>(&self, text: &'t str) -> (Kind, &'t str) {
        (self.kind, &text[self.path.clone()])
    }

    /// Its stamp, when it notes one (`None`: dropped).
    fn noted<'t>(&self, text: &'t str) -> Option<Noted<'t>> {
        let (_, stamp) = self.line.as_ref()?;
        Some((self.kind, &text[self.path.clone()], stamp.clone()))
    }

    /// The line that notes it, when it notes one.
    fn line<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.line.as_ref().map(|(line, _)| &text[line.clone()])
    }
}

impl Layout {
    /// The layout of a stamps' file's text; `None` unless every line is whole, every block
    /// ends with its count, and nothing follows the last.
    fn of(text: &str) -> Option<Self> {
        let first = text.find('\n')?;
        let body_start = first + 1;
        // The body ends where the first block begins: a line that begins with `+`.
        let body_end = memchr::memmem::find(&text.as_bytes()[first..], b"\n+")
            .map_or(text.len(), |at| first + at + 1);
        if body_end > body_start && !text[..body_end].ends_with('\n') {
            return None;
        }
        let mut layout = Self {
            header: 0..first,
            body: body_start..body_end,
            overlay: Vec::new(),
            appended: 0,
        };
        let mut at = body_end;
        while at < text.len() {
            let end = at + text[at..].find('\n')?;
            text[at..end].strip_prefix('+')?;
            layout.header = at + 1..end;
            at = end + 1;
            let mut lines = 0usize;
            loop {
                let end = at + text[at..].find('\n')?;
                let line = &text[at..end];
                if let Some(count) = line.strip_prefix('=') {
                    (count.parse::<usize>().ok()? == lines).then_some(())?;
                    at = end + 1;
                    break;
                }
                let change = if let Some(dropped) = line.strip_prefix('-') {
                    let (kind_field, _) = dropped.split_once(' ')?;
                    let path = at + 1 + kind_field.len() + 1..end;
                    Change {
                        kind: kind(kind_field)?,
                        path,
                        line: None,
                    }
                } else {
                    let (kind, path, stamp) = parse_line(line)?;
                    let path_start = end - path.len();
                    Change {
                        kind,
                        path: path_start..end,
                        line: Some((at..end + 1, stamp)),
                    }
                };
                layout.overlay.push(change);
                lines += 1;
                at = end + 1;
            }
            layout.appended += lines;
        }
        // One change a kind and path: the last one appended.
        layout.overlay.sort_by(|a, b| a.key(text).cmp(&b.key(text)));
        let mut overlay: Vec<Change> = Vec::with_capacity(layout.overlay.len());
        for change in layout.overlay.drain(..) {
            match overlay.last_mut() {
                Some(last) if last.key(text) == change.key(text) => *last = change,
                _ => overlay.push(change),
            }
        }
        layout.overlay = overlay;
        Some(layout)
    }

    /// The blocks' change to the stamp of `kind` and `path`, if any.
    fn change(&self, text: &str, kind: Kind, path: &str) -> Option<&Change> {
        self.overlay
            .binary_search_by(|change| change.key(text).cmp(&(kind, path)))
            .ok()
            .map(|at| &self.overlay[at])
    }
}

/// The stamp of a line of a stamps' file (`add_line`).
fn parse_line(line: &str) -> Option<Noted<'_>> {
    let mut fields = line.trim_end_matches('\n').splitn(6, ' ');
    let kind = kind(fields.next()?)?;
    let stamp = Stamp {
        len: fields.next()?.parse().ok()?,
        inode: fields.next()?.parse().ok()?,
        changed: fields.next()?.parse().ok()?,
        modified: fields.next()?.parse().ok()?,
    };
    Some((kind, fields.next()?, stamp))
}

/// The kind a line's first field names.
fn kind(field: &str) -> Option<Kind> {
    match field {
        "d" => Some(Kind::Dir),
        "f" => Some(Kind::File),
        _ => None,
    }
}

/// What a build's write did to the tree on disk.
pub enum Wrote<'a> {
    /// Swapped a tree in whole: everything in it is the tree's.
    Whole,
    /// Wrote in part over the tree whose manifest had the stamp `before` and listed `old`:
    /// each file of `made` (the files a rebuild made, `Built::tree`; the others keep their
    /// hashes) whose hash changed, the manifest when `updated`, and removed files when
    /// `removed`.
    Part {
        before: &'a Stamp,
        old: &'a Listing<'a>,
        made: &'a crate::diff::Tree,
        updated: bool,
        removed: bool,
        /// The stamps' file as it was read before the write (`Prior::read`); `None` when
        /// there was none.
        prior: Option<&'a Prior>,
    },
}

/// The stamps' file of a tree, read before a build writes over it in part (`Wrote::Part`),
/// beside the compile: the write notes its changes into it at its end, under its lock,
/// where reading it (10 MB at 1,000 services) and finding its lines was the last step of a
/// rebuild, on one core. Read before the lock, it is as good as read under it: `part` takes
/// it only when the manifest's line in it has the stamp the write found the manifest with
/// under the lock, and every stamp it holds is of a file or directory as platc knew it to
/// be the tree's, which `fresh` holds to what is on disk, so a copy older by a moment
/// vouches for nothing that changed since.
pub struct Prior {
    text: String,
    layout: Layout,
    /// Where each line of the body ends (`ends`).
    ends: Vec<usize>,
    /// The file's own stamp, as it was read: a block is appended to that very file only.
    file: Stamp,
}

impl Prior {
    /// The stamps' file of the tree at `out`, when there is one with a header and whole
    /// lines and blocks.
    pub fn read(out: &Path) -> Option<Self> {
        use std::io::Read as _;
        if !cfg!(unix) {
            return None;
        }
        let mut handle = fs::File::open(stamps_file(out)?).ok()?;
        let file = Stamp::from_metadata(&handle.metadata().ok()?)?;
        let mut text = String::with_capacity(usize::try_from(file.len).ok()? + 1);
        handle.read_to_string(&mut text).ok()?;
        // Not appended to while it was read.
        if text.len() as u64 != file.len {
            return None;
        }
        let layout = Layout::of(&text)?;
        let ends = ends(&text[layout.body.clone()])?;
        Some(Self {
            text,
            layout,
            ends,
            file,
        })
    }
}

/// Notes the stamps of the tree at `out`, which a build of `input` (`None`: none may be
/// noted) just wrote as `wrote` says, its manifest `new`. Never fails a build: when a stamp
/// cannot be noted, no stamps are kept, and the next `--check` reads `out/`. Called under
/// the write's lock (`write::Then`) on `beside`, the directory that holds out/.
pub fn save(out: &Path, beside: &Path, input: Option<&Input>, new: &Manifest, wrote: &Wrote) {
    if let Wrote::Whole = wrote {
        save_listed(out, beside, input, new.files.keys().map(String::as_str));
        return;
    }
    let kept = cfg!(unix)
        && input.is_some_and(|input| part(out, beside, input, new, wrote).unwrap_or(false));
    if !kept {
        forget(out);
    }
}

/// `save` of a tree written whole (`Wrote::Whole`) whose manifest lists `listed` (every
/// path, in order), where no manifest is held as a value (`write::Paths`, a build into a
/// missing `out/`).
pub fn save_listed<'a>(
    out: &Path,
    beside: &Path,
    input: Option<&Input>,
    listed: impl Iterator<Item = &'a str>,
) {
    let kept = cfg!(unix)
        && input.is_some_and(|input| {
            stamps_file(out)
                .is_some_and(|file| whole(out, &file, beside, input, &with_manifest(listed)))
        });
    if !kept {
        forget(out);
    }
}

/// Drops the stamps of the tree at `out`, if any.
pub fn forget(out: &Path) {
    if let Some(file) = stamps_file(out) {
        let _ = fs::remove_file(file);
    }
}

/// Every file of a tree whose manifest lists `listed` (paths in order), the manifest too, in
/// order.
fn with_manifest<'a>(listed: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut files: Vec<&str> = listed.collect();
    let at = files.partition_point(|path| *path < MANIFEST);
    if files.get(at) != Some(&MANIFEST) {
        files.insert(at, MANIFEST);
    }
    files
}

/// The directories that hold `files` (paths in order), `""` first, in order.
fn dirs_of<'a>(files: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut dirs = BTreeSet::from([""]);
    let mut last = None;
    for file in files {
        let Some((dir, _)) = file.rsplit_once('/') else {
            continue;
        };
        if last == Some(dir) {
            continue;
        }
        last = Some(dir);
        let mut dir = dir;
        while dirs.insert(dir) {
            match dir.rsplit_once('/') {
                Some((up, _)) => dir = up,
                None => break,
            }
        }
    }
    dirs.into_iter().collect()
}

/// The names in directory `dir` of the tree whose manifest is `new`, the manifest's own
/// included, in order: `children` of `with_manifest` of its paths, without a list of the
/// tree's 80,000 paths made (a rebuild notes a few directories).
fn children_in<'a>(new: &'a Manifest, dir: &str) -> Vec<&'a str> {
    let mut names = children(new.files.as_slice(), |(path, _)| path.as_str(), dir);
    let manifest = if dir.is_empty() {
        Some(MANIFEST)
    } else {
        MANIFEST
            .strip_prefix(dir)
            .and_then(|rest| rest.strip_prefix('/'))
    };
    if let Some(rest) = manifest {
        let name = rest.split_once('/').map_or(rest, |(name, _)| name);
        if let Err(at) = names.binary_search(&name) {
            names.insert(at, name);
        }
    }
    names
}

/// The names in directory `dir` of the tree whose files are `files` (in order by their
/// paths, `path`), in order.
fn children<'a, T>(files: &'a [T], path: impl Fn(&T) -> &str, dir: &str) -> Vec<&'a str> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let place = |bound: &str| files.partition_point(|file| path(file) < bound);
    let mut at = place(&prefix);
    let mut names = Vec::new();
    while let Some(rest) = files
        .get(at)
        .and_then(|file| path(file).strip_prefix(&prefix))
    {
        if let Some((child, _)) = rest.split_once('/') {
            names.push(child);
            // `0` comes right after `/`: past everything below the child.
            let past = format!("{prefix}{child}0");
            at = place(&past);
        } else {
            names.push(rest);
            at += 1;
        }
    }
    names.sort_unstable();
    names.dedup();
    names
}

/// The stamp of directory `dir` of `out` when it holds exactly `names`: taken before it is
/// listed, and the same after.
fn listed(out: &Path, dir: &str, names: &[&str]) -> Option<Stamp> {
    let before = on_disk(out, Kind::Dir, dir)?;
    let mut found = fs::read_dir(out.join(dir))
        .ok()?
        .map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect::<Option<Vec<String>>>()?;
    found.sort_unstable();
    let same = found.len() == names.len() && found.iter().zip(names).all(|(a, b)| a == b);
    (same && on_disk(out, Kind::Dir, dir).as_ref() == Some(&before)).then_some(before)
}

/// Writes `file`, the stamps' file of a tree swapped in whole, whose files are `files` (in
/// order): each directory's line, then each file's. The clock is read first, a tick past
/// every change the write made, and each stamp is held to be older than it; the lines are
/// written as the stamps are taken, a window of pieces of `PIECE` paths at a time on every
/// core (800,000 stamps at 10,000 services: their text, 120 MB, was held whole before it
/// was written, and before that a list of them and a copy of it). Whether it was written.
fn whole(out: &Path, file: &Path, beside: &Path, input: &Input, files: &[&str]) -> bool {
    // Past the clock as it reads now: everything the write changed is older.
    clock(beside)
        .and_then(|now| clock_past(beside, now))
        .is_some_and(|clock| whole_under(out, file, clock, input, files))
}

/// `whole` under `clock`: no stamps' file when a stamp is not older than it (a file changed
/// since the clock was read).
fn whole_under(out: &Path, file: &Path, clock: i128, input: &Input, files: &[&str]) -> bool {
    const PIECE: usize = 2048;
    const WINDOW: usize = 16;
    let dirs = dirs_of(files.iter().copied());
    let pieces: Vec<(Kind, &[&str])> = dirs
        .chunks(PIECE)
        .map(|chunk| (Kind::Dir, chunk))
        .chain(files.chunks(PIECE).map(|chunk| (Kind::File, chunk)))
        .collect();
    store_at(file, input, clock, |writer| {
        for window in pieces.chunks(WINDOW) {
            let made = crate::emit::parallel::map_each(window, |&(kind, paths)| {
                let mut body =
                    String::with_capacity(paths.iter().map(|path| path.len() + 72).sum());
                for path in paths {
                    // A line per stamp, each older than the clock.
                    if path.contains('\n') {
                        return None;
                    }
                    let stamp = on_disk(out, kind, path).filter(|stamp| stamp.changed < clock)?;
                    add_line(&mut body, kind, path, &stamp);
                }
                Some(body)
            });
            for piece in made {
                let Some(piece) = piece else {
                    return Err(std::io::ErrorKind::InvalidData.into());
                };
                writer.write_all(piece.as_bytes())?;
            }
        }
        Ok(())
    })
}

/// Notes the stamps of a tree written in part (`Wrote::Part`), whose files are `files`: the
/// stamps' file of the tree before, with the lines of what the write changed replaced (a
/// file written, a directory it wrote in, listed again) and those of what it removed
/// dropped; every other line is kept as it is, unread. Whether it was written; `None` when
/// there are no stamps of the tree before, or one cannot be noted.
fn part(out: &Path, beside: &Path, input: &Input, new: &Manifest, wrote: &Wrote) -> Option<bool> {
    let Wrote::Part {
        before,
        old,
        made,
        updated,
        removed,
        prior,
    } = wrote
    else {
        return None;
    };
    let Prior {
        text,
        layout,
        ends,
        file,
    } = (*prior)?;
    let body = &text[layout.body.clone()];
    // The body's lines are in order (`store`, `whole`): each change is found by a binary
    // search, and every other line is copied unread.
    let line = |index: usize| &body[index.checked_sub(1).map_or(0, |i| ends[i])..ends[index]];
    let at = |kind: Kind, path: &str| -> Result<usize, usize> {
        let (mut low, mut high) = (0, ends.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match key(line(middle)).cmp(&(kind, path)) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Ok(middle),
            }
        }
        Err(low)
    };
    // The line that notes the stamp of `kind` and `path` now: a block's, else the body's.
    let noted = |kind: Kind, path: &str| -> Option<&str> {
        match layout.change(text, kind, path) {
            Some(change) => change.line(text),
            None => at(kind, path).ok().map(line),
        }
    };
    // They are the stamps of the tree whose manifest the write replaced.
    if parse_line(noted(Kind::File, MANIFEST)?)?.2 != **before {
        return None;
    }
    // Written (or found already written): a file made with a new hash, the manifest when
    // updated. What was not made kept its hash and was not touched.
    let written: Vec<&str> =
        made.keys()
            .map(String::as_str)
            .filter(|path| {
                *path != MANIFEST
                    && new.files.get(path).is_some_and(|entry| {
                        old.get(path).is_none_or(|(_, sha)| entry.sha256 != *sha)
                    })
            })
            .chain(updated.then_some(MANIFEST))
            .collect();
    let gone: Vec<&str> = if *removed {
        old.paths()
            .filter(|path| !new.files.contains_key(path) && *path != MANIFEST)
            .collect()
    } else {
        Vec::new()
    };
    // The directories the write listed in: each written or removed file's, and the parent
    // of each directory it made or removed.
    let mut dirs: BTreeSet<&str> = written.iter().chain(&gone).map(|p| parent(p)).collect();
    let mut unseen: Vec<&str> = dirs.iter().copied().collect();
    while let Some(dir) = unseen.pop() {
        let made = noted(Kind::Dir, dir).is_none();
        if !dir.is_empty() && (made || children_in(new, dir).is_empty()) {
            let up = parent(dir);
            if dirs.insert(up) {
                unseen.push(up);
            }
        }
    }
    let mut changes: Vec<(Kind, &str, Option<Stamp>)> = Vec::new();
    for dir in dirs {
        let names = children_in(new, dir);
        let stamp = if names.is_empty() && !dir.is_empty() {
            None
        } else {
            Some(listed(out, dir, &names)?)
        };
        changes.push((Kind::Dir, dir, stamp));
    }
    for file in &written {
        changes.push((Kind::File, file, Some(on_disk(out, Kind::File, file)?)));
    }
    changes.extend(gone.iter().map(|file| (Kind::File, *file, None)));
    changes.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    // Each change's line (a stamp's, or a dropped one's), in order.
    let mut lines = String::new();
    let mut made_lines = Vec::with_capacity(changes.len());
    let mut newest = i128::MIN;
    for (kind, path, stamp) in &changes {
        let start = lines.len();
        match stamp {
            Some(stamp) => {
                add_line(&mut lines, *kind, path, stamp);
                newest = newest.max(stamp.changed);
            }
            None => {
                let _ = writeln!(lines, "-{} {path}", letter(*kind));
            }
        }
        made_lines.push(start..lines.len());
    }
    let file_path = stamps_file(out)?;
    // Appended as a block while the blocks are few beside the body (an eighth of its lines,
    // and a few more for a small tree): the next reads of the file find them in one pass.
    if layout.appended + changes.len() <= ends.len() / 8 + 64 {
        let _ = writeln!(lines, "={}", changes.len());
        return Some(append(&file_path, beside, input, file, &lines, newest));
    }
    // Else the file written again: the body's lines, each change of the blocks and of this
    // write (which comes last) in its place.
    let mut merged: Vec<(Kind, &str, Option<&str>)> =
        Vec::with_capacity(layout.overlay.len() + changes.len());
    let mut old = layout.overlay.iter().peekable();
    for ((kind, path, stamp), line) in changes.iter().zip(&made_lines) {
        while let Some(change) = old.next_if(|change| change.key(text) < (*kind, *path)) {
            let (kind, path) = change.key(text);
            merged.push((kind, path, change.line(text)));
        }
        old.next_if(|change| change.key(text) == (*kind, *path));
        merged.push((*kind, path, stamp.is_some().then(|| &lines[line.clone()])));
    }
    for change in old {
        let (kind, path) = change.key(text);
        merged.push((kind, path, change.line(text)));
    }
    let mut pieces = Vec::with_capacity(merged.len() * 2 + 1);
    let mut copied = 0;
    for (kind, path, line) in merged {
        let (found, index) = match at(kind, path) {
            Ok(index) => (true, index),
            Err(index) => (false, index),
        };
        let start = index.checked_sub(1).map_or(0, |i| ends[i]);
        pieces.push(&body[copied..start]);
        pieces.extend(line);
        copied = if found { ends[index] } else { start };
    }
    pieces.push(&body[copied..]);
    Some(store_pieces(&file_path, beside, input, &pieces, newest))
}

/// The directory that holds `path` (`""`: out/).
fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Where each line of a stamps' file's body ends (past its line break); `None` unless the
/// last one ends the body.
fn ends(body: &str) -> Option<Vec<usize>> {
    let ends: Vec<usize> = memchr::memchr_iter(b'\n', body.as_bytes())
        .map(|at| at + 1)
        .collect();
    (ends.last().copied().unwrap_or(0) == body.len()).then_some(ends)
}

/// The kind and path of a line of a stamps' file; a line that names none sorts first.
fn key(line: &str) -> (Kind, &str) {
    let mut fields = line.trim_end_matches('\n').splitn(6, ' ');
    fields
        .next()
        .and_then(kind)
        .zip(fields.nth(4))
        .unwrap_or((Kind::Dir, ""))
}

/// What a `--check` found reading `out`: each directory's stamp (taken before it was
/// listed) and each file's (before it was read), when `out` holds exactly the tree of the
/// manifest `text` (parsed: `listing`): that manifest, every file it lists with its hash,
/// and no other. `None` when it does not. The files are read and hashed on the pool.
pub fn read(out: &Path, text: &str, listing: &Listing) -> Option<Found> {
    let found = walk(out).ok()?;
    let files = found
        .iter()
        .filter(|(kind, ..)| *kind == Kind::File)
        .count();
    if files != listing.len() + 1 {
        return None;
    }
    crate::emit::parallel::map(&found, |(kind, path, stamp, full)| {
        let Some(full) = full else {
            return Some((*kind, path.clone(), stamp.clone()));
        };
        let stamp = Stamp::of(full);
        let bytes = fs::read(full).ok()?;
        let holds = if path == MANIFEST {
            bytes == text.as_bytes()
        } else {
            listing
                .get(path)
                .is_some_and(|(_, sha)| sha256_hex_bytes(&bytes) == sha)
        };
        holds.then(|| (*kind, path.clone(), stamp))
    })
    .into_iter()
    .collect::<Option<_>>()
    .map(Found)
}

/// `diff::read_tree` of `out` (a `--check` that makes the tree and compares), with what
/// it read stamped as `read` stamps it: each directory before it was listed, each file before
/// it was read. A file that is not UTF-8 has no stamp (its text is compared lossily). Found
/// to be the tree a build makes, `keep` notes them, and the next `--check` of the same input
/// reads nothing (`fresh`). `out` must exist.
pub fn read_tree(out: &Path) -> std::io::Result<(crate::diff::Tree, Found)> {
    type Read = std::io::Result<((Kind, String, Option<Stamp>), Option<(String, String)>)>;
    let found = walk(out)?;
    let read = crate::emit::parallel::map_owned(found, |(kind, path, stamp, full)| -> Read {
        let Some(full) = full else {
            return Ok(((kind, path, stamp), None));
        };
        let stamp = on_disk(out, kind, &path);
        let (text, utf8) = crate::diff::read_text(&full)?;
        let stamp = stamp.filter(|_| utf8);
        Ok(((kind, path.clone(), stamp), Some((path, text))))
    });
    let mut tree = crate::diff::Tree::new();
    let mut stamped = Vec::with_capacity(read.len());
    for entry in read {
        let (noted, file) = entry?;
        stamped.push(noted);
        tree.extend(file);
    }
    Ok((tree, Found(stamped)))
}

/// What `read` found: each directory and file of `out/`, with its stamp when it has one.
pub struct Found(Vec<(Kind, String, Option<Stamp>)>);

/// What `walk` finds of an entry: its kind, its path in `out/` (lossy where the name is not
/// UTF-8), a directory's stamp, and a file's path on disk (read by it, never by the lossy
/// path, which names nothing there).
type Walked = (Kind, String, Option<Stamp>, Option<PathBuf>);

/// Lists `out` and everything below it, each directory's stamp taken before it is listed.
fn walk(out: &Path) -> std::io::Result<Vec<Walked>> {
    let mut found = Vec::new();
    crate::diff::walk(out, "", &mut |is_dir, path, full| {
        found.push(if is_dir {
            (
                Kind::Dir,
                path.to_owned(),
                on_disk(out, Kind::Dir, path),
                None,
            )
        } else {
            (Kind::File, path.to_owned(), None, Some(full.to_path_buf()))
        });
    })?;
    Ok(found)
}

/// Keeps the stamps a `--check` found reading `out` (`read`), which holds the tree a build
/// of `input` makes.
pub fn keep(out: &Path, input: Option<&Input>, found: &Found) {
    let noted: Option<Vec<Noted>> = found
        .0
        .iter()
        .map(|(kind, path, stamp)| Some((*kind, path.as_str(), stamp.clone()?)))
        .collect();
    let kept = cfg!(unix)
        && input.zip(noted).is_some_and(|(input, noted)| {
            let real = fs::canonicalize(out).ok();
            let beside = real.as_deref().and_then(Path::parent);
            beside.is_some_and(|beside| store(out, beside, input, noted))
        });
    if !kept {
        forget(out);
    }
}

/// Writes the stamps' file of `out` with `noted`, in order.
fn store(out: &Path, beside: &Path, input: &Input, mut noted: Vec<Noted>) -> bool {
    // A line per stamp.
    if noted.iter().any(|(_, path, _)| path.contains('\n')) {
        return false;
    }
    let by_key = |a: &Noted, b: &Noted| (a.0, a.1).cmp(&(b.0, b.1));
    if !noted.is_sorted_by(|a, b| by_key(a, b).is_lt()) {
        noted.sort_unstable_by(by_key);
    }
    let mut body = String::with_capacity(noted.len() * 128);
    let mut newest = i128::MIN;
    for (kind, path, stamp) in &noted {
        add_line(&mut body, *kind, path, stamp);
        newest = newest.max(stamp.changed);
    }
    stamps_file(out).is_some_and(|file| store_pieces(&file, beside, input, &[&body], newest))
}

/// Adds the line of a stamp to a stamps' file's body.
fn add_line(body: &mut String, kind: Kind, path: &str, stamp: &Stamp) {
    let kind = letter(kind);
    let Stamp {
        len,
        inode,
        changed,
        modified,
    } = stamp;
    let _ = writeln!(body, "{kind} {len} {inode} {changed} {modified} {path}");
}

/// The letter of a kind in a stamps' file.
fn letter(kind: Kind) -> char {
    match kind {
        Kind::Dir => 'd',
        Kind::File => 'f',
    }
}

/// The clock of the file system of directory `dir`, now: the modification time of a file
/// made there (and removed).
fn clock(dir: &Path) -> Option<i128> {
    let probe = dir.join(format!(".platc-clock.{}", std::process::id()));
    let _ = fs::remove_file(&probe);
    let made = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|file| file.metadata());
    let _ = fs::remove_file(&probe);
    Some(Stamp::from_metadata(&made.ok()?)?.modified)
}

/// Writes the stamps' file `file`, `input`'s header then `body` (its pieces, in order), whose
/// newest change time is `newest`, once the clock of out/'s file system (read in `beside`,
/// the directory that holds out/) has passed `newest` (`clock_past`). Whether it was written.
fn store_pieces(file: &Path, beside: &Path, input: &Input, body: &[&str], newest: i128) -> bool {
    clock_past(beside, newest).is_some_and(|clock| {
        store_at(file, input, clock, |writer| {
            body.iter()
                .try_for_each(|piece| writer.write_all(piece.as_bytes()))
        })
    })
}

/// The clock of out/'s file system (read in `beside`, the directory that holds out/) once it
/// has passed `newest`, waiting for it a tick at most: a stamp noted in the clock's current
/// tick could be of a file changed again within it, with the same change time. The header
/// names that clock, and `fresh` trusts only a stamp older than it.
pub(crate) fn clock_past(beside: &Path, newest: i128) -> Option<i128> {
    (0..100).find_map(|wait| {
        if wait > 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        clock(beside).filter(|now| *now > newest)
    })
}

/// The header's line of a build of `input` whose stamps are older than `clock`.
fn header_line(input: &Input, clock: i128) -> Option<String> {
    let header = Header {
        input: input.digest.clone(),
        configs: input.configs.clone(),
        clock,
    };
    let mut line = serde_json::to_string(&header).ok()?;
    line.push('\n');
    Some(line)
}

/// Appends to the stamps' file `file` a block of `lines` (its changes and its count), under
/// the header of `input` and a clock past `newest` (`clock_past`), when the file is still the
/// one read (`read`, its stamp then): one write at its end, nothing renamed. Whether it was
/// appended; a write cut short leaves a block that makes the file unread (`Layout::of`).
fn append(
    file: &Path,
    beside: &Path,
    input: &Input,
    read: &Stamp,
    lines: &str,
    newest: i128,
) -> bool {
    let Some(header) = clock_past(beside, newest).and_then(|clock| header_line(input, clock))
    else {
        return false;
    };
    let Ok(mut handle) = fs::OpenOptions::new().append(true).open(file) else {
        return false;
    };
    let same = handle
        .metadata()
        .ok()
        .and_then(|meta| Stamp::from_metadata(&meta));
    if same.as_ref() != Some(read) {
        return false;
    }
    let mut block = String::with_capacity(1 + header.len() + lines.len());
    block.push('+');
    block.push_str(&header);
    block.push_str(lines);
    handle.write_all(block.as_bytes()).is_ok()
}

/// Writes the stamps' file `file`: `input`'s header, naming `clock` (past every stamp the
/// body notes), then the body, written by `body`. A new file, renamed over the old; none is
/// left when `body` fails. Whether it was written.
fn store_at(
    file: &Path,
    input: &Input,
    clock: i128,
    body: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> bool {
    let Some(text) = header_line(input, clock) else {
        return false;
    };
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return false;
    };
    let temporary = dir.join(format!(
        "{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = fs::remove_file(&temporary);
    let written = || -> std::io::Result<()> {
        fs::create_dir_all(dir)?;
        // A new file, never one that is there (nor what a link there points to).
        let handle = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        let mut writer = std::io::BufWriter::with_capacity(1 << 20, handle);
        writer.write_all(text.as_bytes())?;
        body(&mut writer)?;
        writer.flush()?;
        drop(writer);
        fs::rename(&temporary, file)
    };
    let stored = written().is_ok();
    if !stored {
        let _ = fs::remove_file(&temporary);
    }
    stored
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stamps' file is written once the file system's clock has passed every change time
    /// it notes (a stamp noted in the clock's current tick could be of a file changed again
    /// in that tick), waiting a tick or so for it, and never for longer.
    #[test]
    fn stamps_are_stored_once_the_clock_has_passed_them() {
        let dir = scratch("stamps");
        let file = dir.join("tree.stamps");
        let input = Input {
            configs: Vec::new(),
            digest: "0".repeat(64),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let ahead = |millis: i128| Stamp {
            len: 1,
            inode: 1,
            changed: i128::try_from(now).unwrap() + millis * 1_000_000,
            modified: 0,
        };
        let body = |stamp: &Stamp| {
            let mut body = String::new();
            add_line(&mut body, Kind::File, "a", stamp);
            body
        };
        let soon = ahead(30);
        assert!(store_pieces(
            &file,
            &dir,
            &input,
            &[&body(&soon)],
            soon.changed
        ));
        let text = fs::read_to_string(&file).unwrap();
        let (header, noted) = parse(&text).unwrap();
        let clock = header.clock;
        assert!(clock > soon.changed, "{clock} is not past {}", soon.changed);
        assert_eq!(noted, [(Kind::File, "a", soon)]);
        // An hour ahead: not waited for, and nothing is left behind.
        fs::remove_file(&file).unwrap();
        let later = ahead(3_600_000);
        assert!(!store_pieces(
            &file,
            &dir,
            &input,
            &[&body(&later)],
            later.changed
        ));
        let left = fs::read_dir(&dir).unwrap().count();
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(left, 0);
    }

    /// A build's input holds the config files' contents the compile read, not what is on
    /// disk when the stamps are kept: a file changed while the tree was written is not the
    /// input the stamps hold for.
    #[test]
    fn the_input_holds_the_contents_the_compile_read() {
        let dir = scratch("input");
        let source = Source::new("platform.kdl", "platform p {}\n").with_dir(&dir);
        let on_disk = |text: &str| {
            fs::write(dir.join("app.conf"), text).unwrap();
            let read = crate::lower::files::contents("app.conf", source.dir()).unwrap();
            digest(&source, [Some(("app.conf", read))])
        };
        let input = Input::new(&source, vec![("app.conf".into(), "A".into())]).unwrap();
        let changed = on_disk("B");
        let same = on_disk("A");
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(input.configs, ["app.conf"]);
        assert_ne!(changed.as_deref(), Some(input.digest.as_str()));
        assert_eq!(same.as_deref(), Some(input.digest.as_str()));
    }

    /// The stamps of a tree swapped in whole are written as they are taken, under a clock
    /// read first: every directory's line, then every file's, each older than that clock. A
    /// file listed but not there keeps no stamps' file, and leaves nothing behind.
    #[test]
    fn a_whole_trees_stamps_are_older_than_the_clock_read_first() {
        let dir = scratch("whole");
        let out = dir.join("out");
        fs::create_dir_all(out.join("a/y")).unwrap();
        let files = ["a/x", "a/y/z", "b"];
        for file in files {
            fs::write(out.join(file), file).unwrap();
        }
        let input = Input {
            configs: Vec::new(),
            digest: "d".into(),
        };
        let stamps = dir.join("cache/tree.stamps");
        assert!(whole(&out, &stamps, &dir, &input, &files));
        let text = fs::read_to_string(&stamps).unwrap();
        let (header, noted) = parse(&text).unwrap();
        let kept: Vec<(Kind, &str)> = noted.iter().map(|(kind, path, _)| (*kind, *path)).collect();
        assert_eq!(
            kept,
            [
                (Kind::Dir, ""),
                (Kind::Dir, "a"),
                (Kind::Dir, "a/y"),
                (Kind::File, "a/x"),
                (Kind::File, "a/y/z"),
                (Kind::File, "b"),
            ]
        );
        for (kind, path, stamp) in &noted {
            assert!(
                stamp.changed < header.clock,
                "{path} is not older than the clock"
            );
            assert_eq!(on_disk(&out, *kind, path).as_ref(), Some(stamp));
        }
        // A file that is not there: no stamps' file, and no temporary one.
        fs::remove_file(&stamps).unwrap();
        assert!(!whole(&out, &stamps, &dir, &input, &["a/x", "gone"]));
        let left = fs::read_dir(dir.join("cache")).unwrap().count();
        assert_eq!(left, 0);
        // A file changed since the clock was read (here, a clock read before every file
        // was written): its stamp is not older, so none are kept, and nothing is left.
        let before = header.clock - 1_000_000_000_000;
        assert!(whole_under(&out, &stamps, header.clock, &input, &files));
        fs::remove_file(&stamps).unwrap();
        assert!(!whole_under(&out, &stamps, before, &input, &files));
        let left = fs::read_dir(dir.join("cache")).unwrap().count();
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(left, 0);
    }

    /// A stamps' file with blocks reads as the body with each block's changes made in
    /// order: a stamp noted again, one added, one dropped, one dropped and noted again; the
    /// last block's header is the one in force. A block cut anywhere, a count that is not
    /// its lines', or a stray line, and the file is not read at all.
    #[test]
    fn blocks_change_the_body_in_order_and_only_whole() {
        let stamp = |n: u64| Stamp {
            len: n,
            inode: n,
            changed: i128::from(n),
            modified: i128::from(n),
        };
        let header = |clock: i128| {
            header_line(
                &Input {
                    configs: Vec::new(),
                    digest: "d".into(),
                },
                clock,
            )
            .unwrap()
        };
        let mut text = header(10);
        for (kind, path, n) in [
            (Kind::Dir, "", 1),
            (Kind::Dir, "a", 2),
            (Kind::File, "a/x", 3),
            (Kind::File, "b", 4),
            (Kind::File, "c", 5),
        ] {
            add_line(&mut text, kind, path, &stamp(n));
        }
        text.push('+');
        text.push_str(&header(20));
        add_line(&mut text, Kind::Dir, "a", &stamp(6));
        add_line(&mut text, Kind::File, "a/y", &stamp(7));
        text.push_str("-f b\n-f c\n=4\n+");
        text.push_str(&header(30));
        add_line(&mut text, Kind::File, "a/x", &stamp(8));
        add_line(&mut text, Kind::File, "c", &stamp(9));
        text.push_str("=2\n");
        let (header, noted) = parse(&text).unwrap();
        assert_eq!(header.clock, 30);
        assert_eq!(
            noted,
            [
                (Kind::Dir, "", stamp(1)),
                (Kind::Dir, "a", stamp(6)),
                (Kind::File, "a/x", stamp(8)),
                (Kind::File, "a/y", stamp(7)),
                (Kind::File, "c", stamp(9)),
            ]
        );
        let layout = Layout::of(&text).unwrap();
        assert_eq!(layout.appended, 6);
        assert_eq!(text[layout.body].lines().count(), 5);
        for cut in 1..text.len() {
            let cut_text = &text[..cut];
            let whole = cut_text.ends_with("=4\n") || !cut_text.contains('+');
            if !whole {
                assert!(parse(cut_text).is_none(), "cut at {cut}: {cut_text:?}");
            }
        }
        assert!(parse(&text.replace("=2\n", "=3\n")).is_none());
        assert!(parse(&format!("{text}junk\n")).is_none());
    }

    /// A block is appended only to the very file that was read: one changed since (another
    /// stamp) is left as it is, and the caller forgets the stamps. Appended, the block reads
    /// back as the header in force and its changes.
    #[test]
    fn a_block_is_appended_only_to_the_file_read() {
        let dir = scratch("append");
        let file = dir.join("tree.stamps");
        let input = Input {
            configs: Vec::new(),
            digest: "d".into(),
        };
        let mut text = header_line(&input, 5).unwrap();
        let stamp = Stamp {
            len: 1,
            inode: 2,
            changed: 3,
            modified: 4,
        };
        add_line(&mut text, Kind::File, "a", &stamp);
        fs::write(&file, &text).unwrap();
        let read = Stamp::from_metadata(&fs::metadata(&file).unwrap()).unwrap();
        let mut block = String::new();
        add_line(&mut block, Kind::File, "b", &stamp);
        block.push_str("-f a\n=2\n");
        let other = Stamp {
            len: read.len + 1,
            ..read.clone()
        };
        assert!(!append(&file, &dir, &input, &other, &block, 3));
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            text,
            "not the file read"
        );
        assert!(append(&file, &dir, &input, &read, &block, 3));
        let appended = fs::read_to_string(&file).unwrap();
        let _ = fs::remove_dir_all(&dir);
        let (header, noted) = parse(&appended).unwrap();
        assert!(header.clock > 3, "a clock past the newest stamp");
        assert_eq!(noted, [(Kind::File, "b", stamp)]);
    }

    /// A directory of this process's own for test `name`, made empty.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("platc-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_directories_and_children_of_a_tree() {
        let files = [".platc/manifest.json", "a.b", "a/x", "a/y/z", "a0", "b/c/d"];
        assert_eq!(dirs_of(files), ["", ".platc", "a", "a/y", "b", "b/c"]);
        let names = |dir| children(&files, |path| *path, dir);
        assert_eq!(names(""), [".platc", "a", "a.b", "a0", "b"]);
        assert_eq!(names("a"), ["x", "y"]);
        assert_eq!(names("a/y"), ["z"]);
        assert_eq!(names("b"), ["c"]);
        assert_eq!(names("c"), Vec::<&str>::new());
    }

    /// A manifest's children, its own file among them, are those of the list of its paths
    /// with the manifest's, whether it lists itself or not.
    #[test]
    fn the_children_of_a_manifest_are_those_of_its_paths() {
        let entry = || crate::write::Entry {
            origin: crate::write::Origin::at("platform.kdl", 1),
            sha256: crate::write::FileHash::of(""),
        };
        let lists: [&[&str]; 3] = [
            &["-", ".a", ".platc/x", "a/b", "b"],
            &[".platc/manifest.json", "a/b"],
            &[],
        ];
        for list in lists {
            let new = crate::write::listing(list.iter().map(|path| ((*path).to_owned(), entry())));
            let files = with_manifest(new.files.keys().map(String::as_str));
            for dir in ["", ".platc", "a", "b", ".platc/manifest.json", "z"] {
                assert_eq!(
                    children_in(&new, dir),
                    children(&files, |path| *path, dir),
                    "{list:?} {dir:?}"
                );
            }
        }
    }
}
