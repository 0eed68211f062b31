//! The incremental write: a rebuild of an `out/` that platc wrote writes only the files whose
//! hash the new manifest changes, and deletes only the files it no longer lists. Which files
//! changed comes from the manifests alone (the old one on disk, the new one in memory); the
//! untouched files are neither read, nor written, nor looked at. The files about to be
//! overwritten or deleted are read first: each must still have the old manifest's hash (or
//! already be the new text), and a new path must not exist yet. Anything else (a file edited
//! by hand, a file platc did not write, a journal or staged tree a stopped write left) and the
//! whole-tree write of `super` takes over, which refuses or, forced, backs up, as it always did.
//!
//! A write stopped or killed at any step leaves a tree the next build finishes: first the new
//! manifest is written as the journal (`JOURNAL`), then each file to a temporary name beside
//! it and renamed in (a file is the old or the new text, never torn), then the removed files
//! are deleted and the directories they leave empty removed, and last the journal is renamed
//! over the manifest. A manifest that lists the old one's paths and origins, with some hashes
//! changed (`Old::patched`), is written in place instead: the journal lists the changed
//! entries alone, and once every file is written each changed hash's 64 digits are written
//! over the old ones where they stand, then the journal is removed (stopped among them, the
//! manifest lists each file with its old or its new hash, and the journal the new one; a
//! manifest with another name (a hard link), read-only, or that does not open to write is
//! replaced as before, never written through).
//! While a journal exists, the next build takes the whole-tree write, which counts a file with
//! the old or the journal's hash as platc's. Nothing is synced to disk: as the whole-tree
//! write, this guards against a stopped process, not a lost machine.

use std::borrow::{Borrow, Cow};
use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io;
use std::path::Path;

use serde::Deserialize;

use super::manifest::{
    JOURNAL, MANIFEST, Manifest, Patched, Stamp, TEMPORARY, manifest_text, sha256_hex_bytes,
};
use super::{WriteError, Written};
use crate::diff::Tree;

/// The old manifest, as much of it as a write needs: each file's hash and origin, borrowed
/// from its text where it can be, and its place in the manifest (`place`).
#[derive(Deserialize)]
pub struct Listing<'a> {
    /// Each path's origin, sha256 and place, when the entries are not in order by path
    /// (`sorted` is `None`); else empty.
    #[serde(borrow, deserialize_with = "in_order")]
    files: HashMap<Text<'a>, (Hash<'a>, u32), foldhash::fast::RandomState>,
    /// Each path and its sha256 in the manifest's order, when that order is strictly by
    /// path (as platc writes it, read by `parse_written`): a write compares the two
    /// manifests in one walk down both, not 80,000 look-ups at 1,000 services.
    #[serde(skip)]
    sorted: Option<Vec<(&'a str, &'a str)>>,
    /// The origins of `sorted`'s entries, in its order (when it is `Some`).
    #[serde(skip)]
    origins: Vec<&'a str>,
    /// The text `sorted`'s strings lie in (when it is `Some`).
    #[serde(skip)]
    text: &'a str,
}

/// The manifest's files, each with its place among them (a path listed twice keeps its
/// last hash and place, as a map keeps the last value).
fn in_order<'de, D: serde::Deserializer<'de>>(
    files: D,
) -> Result<HashMap<Text<'de>, (Hash<'de>, u32), foldhash::fast::RandomState>, D::Error> {
    struct InOrder;
    impl<'de> serde::de::Visitor<'de> for InOrder {
        type Value = HashMap<Text<'de>, (Hash<'de>, u32), foldhash::fast::RandomState>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of paths to their origin and sha256")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut files = Self::Value::default();
            let mut place = 0u32;
            while let Some((path, hash)) = map.next_entry::<Text<'de>, Hash<'de>>()? {
                files.insert(path, (hash, place));
                place = place.saturating_add(1);
            }
            Ok(files)
        }
    }
    files.deserialize_map(InOrder)
}

#[derive(Deserialize)]
struct Hash<'a> {
    #[serde(borrow)]
    origin: Text<'a>,
    #[serde(borrow)]
    sha256: Text<'a>,
}

#[derive(Deserialize, PartialEq, Eq, PartialOrd, Ord, std::hash::Hash)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

impl Borrow<str> for Text<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl<'a> Listing<'a> {
    /// The listing of a manifest's text; `None` when it is not a manifest.
    pub fn parse(text: &'a str) -> Option<Self> {
        Self::parse_written(text).or_else(|| serde_json::from_str(text).ok())
    }

    /// The listing of a manifest in the very layout `manifest_text` writes, with no escape
    /// in any string (every manifest platc writes for names that need none), read without a
    /// JSON parser: the text is walked once, each string found with `memchr`. `None` for
    /// anything else (a manifest edited by hand, reformatted, or with an escape), which
    /// `parse` hands to `serde_json`: the two agree on every text this one takes (a test).
    fn parse_written(text: &'a str) -> Option<Self> {
        /// The string at the start of `rest` (after its opening quote), and what follows
        /// its closing quote; `None` for one with an escape.
        fn string(rest: &str) -> Option<(&str, &str)> {
            let rest = rest.strip_prefix('"')?;
            let end = memchr::memchr2(b'"', b'\\', rest.as_bytes())?;
            let (value, rest) = rest.split_at(end);
            Some((value, rest.strip_prefix('"')?))
        }
        // No string holds a control character: the text's only ones are the line breaks of
        // its layout, counted as they are matched (`breaks`). Counted in one pass over the
        // text, not a test of each byte of each string (15 MB at 1,000 services).
        let controls = controls(text.as_bytes());
        let mut rest = text.strip_prefix("{\n  \"files\": {")?;
        let mut breaks = 1;
        // About 190 bytes an entry at 1,000 services.
        let room = (text.len() / 160).min(1 << 20);
        // The entries while they come in order by path (as platc writes them); once one does
        // not, every entry goes into the map, which the look-ups then read.
        let mut sorted: Vec<(&str, &str)> = Vec::with_capacity(room);
        let mut origins = Vec::with_capacity(room);
        let mut files: Option<HashMap<_, _, _>> = None;
        let mut place = 0u32;
        let mut separator = "\n    ";
        while let Some(entry) = rest.strip_prefix(separator) {
            let (path, entry) = string(entry)?;
            let entry = entry.strip_prefix(": {\n      \"origin\": ")?;
            let (origin, entry) = string(entry)?;
            let entry = entry.strip_prefix(",\n      \"sha256\": ")?;
            let (sha256, entry) = string(entry)?;
            rest = entry.strip_prefix("\n    }")?;
            breaks += 4;
            let hash = |origin, sha256| Hash {
                origin: Text(Cow::Borrowed(origin)),
                sha256: Text(Cow::Borrowed(sha256)),
            };
            match &mut files {
                None if sorted.last().is_none_or(|&(last, _)| last < path) => {
                    sorted.push((path, sha256));
                    origins.push(origin);
                }
                None => {
                    let mut map = HashMap::with_capacity_and_hasher(
                        room,
                        foldhash::fast::RandomState::default(),
                    );
                    for (at, (&(path, sha256), &origin)) in
                        (0u32..).zip(sorted.iter().zip(&origins))
                    {
                        map.insert(Text(Cow::Borrowed(path)), (hash(origin, sha256), at));
                    }
                    map.insert(Text(Cow::Borrowed(path)), (hash(origin, sha256), place));
                    files = Some(map);
                }
                Some(map) => {
                    map.insert(Text(Cow::Borrowed(path)), (hash(origin, sha256), place));
                }
            }
            place = place.saturating_add(1);
            separator = ",\n    ";
        }
        if place > 0 {
            rest = rest.strip_prefix("\n  ")?;
            breaks += 1;
        }
        let rest = rest.strip_prefix("},\n  \"generator\": ")?;
        let (_, rest) = string(rest)?;
        breaks += 3;
        if rest != "\n}\n" || controls != breaks {
            return None;
        }
        Some(match files {
            Some(files) => Self {
                files,
                sorted: None,
                origins: Vec::new(),
                text: "",
            },
            None => Self {
                files: HashMap::default(),
                sorted: Some(sorted),
                origins,
                text,
            },
        })
    }

    /// How many files the manifest lists.
    pub fn len(&self) -> usize {
        self.sorted.as_ref().map_or(self.files.len(), Vec::len)
    }

    /// Whether the manifest lists no file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every path the manifest lists, in no order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.hashes().map(|(path, _)| path)
    }

    /// Every path the manifest lists and its sha256, in no order.
    fn hashes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files
            .iter()
            .map(|(path, (hash, _))| (&*path.0, &*hash.sha256.0))
            .chain(self.sorted.iter().flatten().copied())
    }

    /// The origin and sha256 the manifest lists for `path`.
    pub fn get(&self, path: &str) -> Option<(&str, &str)> {
        self.placed(path)
            .map(|(origin, sha256, _)| (origin, sha256))
    }

    /// Its entries in its own order, when that order is strictly by path (as platc writes
    /// it): a walk down them finds a sorted run of paths without a look-up each.
    pub fn ordered(&self) -> Option<Ordered<'_, 'a>> {
        self.sorted.as_deref().map(|sorted| Ordered {
            sorted,
            origins: &self.origins,
            text: self.text,
        })
    }

    /// `get`, and where the manifest lists `path` among its files: platc writes them sorted
    /// by path, so entries put in this order are sorted too (a rebuild's kept files, which
    /// the new manifest then takes without sorting them again).
    pub fn placed(&self, path: &str) -> Option<(&str, &str, u32)> {
        match &self.sorted {
            Some(sorted) => {
                let at = sorted
                    .binary_search_by(|&(listed, _)| listed.cmp(path))
                    .ok()?;
                Some((self.origins[at], sorted[at].1, u32::try_from(at).ok()?))
            }
            None => self
                .files
                .get(path)
                .map(|(hash, place)| (&*hash.origin.0, &*hash.sha256.0, *place)),
        }
    }
}

/// A listing's entries in its order, which is by path (`Listing::ordered`).
#[derive(Clone, Copy)]
pub struct Ordered<'l, 'a> {
    sorted: &'l [(&'a str, &'a str)],
    origins: &'l [&'a str],
    /// The manifest's text, which the strings of `sorted` lie in, each entry in the layout
    /// `manifest_text` writes (`Listing::parse_written` read it so).
    text: &'a str,
}

impl<'l> Ordered<'l, '_> {
    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The path of entry `at`.
    pub fn path(&self, at: usize) -> &'l str {
        self.sorted[at].0
    }

    /// The origin and sha256 of entry `at`.
    pub fn entry(&self, at: usize) -> (&'l str, &'l str) {
        (self.origins[at], self.sorted[at].1)
    }

    /// The manifest's whole text.
    pub fn text(&self) -> &'l str {
        self.text
    }

    /// Where the sha256 of entry `at` begins in the manifest's text.
    pub fn sha256_offset(&self, at: usize) -> Option<usize> {
        (self.sorted.get(at)?.1.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)
    }

    /// The text of entries `from` to `to` (both included) as the manifest holds them,
    /// separators between them: from the opening quote of the first's path to the closing
    /// brace of the last's object. `None` when they are not entries of it.
    pub fn run_text(&self, from: usize, to: usize) -> Option<&'l str> {
        // Where a string of `sorted` begins in `text`: both are the very text read.
        let offset = |part: &str| (part.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize);
        let start = offset(self.sorted.get(from)?.0)?.checked_sub(1)?;
        let sha256 = self.sorted.get(to)?.1;
        let end = offset(sha256)? + sha256.len() + "\"\n    }".len();
        let run = self.text.get(start..end)?;
        (from <= to && run.starts_with('"') && run.ends_with("\"\n    }")).then_some(run)
    }
}

/// The manifest on disk, read and parsed before the write (by a rebuild, which reads it
/// first): its text, its listing, and its stamp when it was read. The write uses it only when
/// the manifest on disk still has that stamp.
pub struct Old<'a> {
    pub text: &'a str,
    pub listing: &'a Listing<'a>,
    pub stamp: &'a Stamp,
    /// Files (the nested trees' manifests, `rebuild::nested`) whose stamps the last write
    /// noted under its lock, each then holding the hash `listing` gives it: one that still
    /// has its stamp is taken to hold it, unread.
    pub noted: &'a [(String, Stamp)],
    /// The new manifest as this one's text with hashes changed (`crate::Built::patched`),
    /// when the tree holds no text of it: written in place, hash by hash.
    pub patched: Option<&'a Patched>,
}

/// More changed files than one in this many, and the whole-tree write is as fast, and atomic.
const MOST: usize = 4;

/// What an incremental write will do.
struct Plan<'t> {
    /// Files to write (new, or with a new hash and the old one on disk), by path.
    write: Vec<&'t str>,
    /// Files to delete: listed before, not now, and still with the old hash on disk.
    remove: Vec<String>,
    /// Whether the manifest's text changes (the lines it records move with `platform.kdl`).
    manifest: bool,
}

/// The new manifest's text: whole, or the old one's with hashes changed in their places.
#[derive(Clone, Copy)]
enum NewText<'a> {
    Whole(&'a str),
    Patched(&'a Patched),
}

/// Writes `tree`, whose manifest is `new`, over the tree platc wrote to `out`, file by file.
/// A tree that is not `complete` holds only the files a rebuild made (and the manifests):
/// every other file `new` lists must be on disk with the old manifest's hash, or the write
/// is not done here. `old` is the manifest on disk as the caller read it, if it did.
/// `None` when it cannot tell that doing so loses nothing, or when too much changed: then
/// the whole-tree write must. The hook's steps: `"journal"` before the journal is written,
/// `"file"` before each file is written to its temporary name and `"place"` before it is
/// renamed in, `"remove"` before each file is deleted, `"manifest"` before the journal
/// becomes the manifest (or, with `Old::patched`, before its hashes are written in place,
/// and `"patch"` before each).
pub(super) fn write_changes(
    out: &Path,
    tree: &Tree,
    new: &Manifest,
    complete: bool,
    old: Option<&Old>,
    hook: &mut dyn FnMut(&str) -> io::Result<()>,
) -> Result<Option<Written>, WriteError> {
    let new_text = match (tree.get(MANIFEST), old.and_then(|old| old.patched)) {
        (Some(text), _) => NewText::Whole(text),
        (None, Some(patched)) => NewText::Patched(patched),
        (None, None) => return Ok(None),
    };
    let read;
    let parsed;
    let (old_text, listing, noted) = if let Some(old) = old {
        if Stamp::of(&out.join(MANIFEST)).as_ref() != Some(old.stamp) {
            return Ok(None);
        }
        (old.text, old.listing, old.noted)
    } else {
        let Ok(text) = fs::read_to_string(out.join(MANIFEST)) else {
            return Ok(None);
        };
        read = text;
        let Some(listing) = Listing::parse(&read) else {
            return Ok(None);
        };
        parsed = listing;
        (read.as_str(), &parsed, &[][..])
    };
    // A manifest that has other names (a hard link, as `cp -al` makes), is read-only, or
    // cannot be opened to write is replaced, as every file platc writes is, not written
    // through: its text is made from the patch. Opened now, before any file is touched.
    let whole;
    let mut in_place = None;
    let new_text = match new_text {
        NewText::Patched(patched) => {
            if let Some(file) = open_in_place(&out.join(MANIFEST)) {
                in_place = Some((patched, file));
                new_text
            } else {
                whole = patched.apply(old_text);
                NewText::Whole(&whole)
            }
        }
        NewText::Whole(_) => new_text,
    };
    let before = Before {
        text: old_text,
        listing,
        noted,
    };
    let Some(plan) = plan(out, tree, new, complete, new_text, &before) else {
        return Ok(None);
    };
    if plan.write.is_empty() && plan.remove.is_empty() && !plan.manifest {
        return Ok(Some(Written::Unchanged));
    }
    hook("journal")?;
    let journal = out.join(JOURNAL);
    // Patched in place, the manifest is the old or the new one entry by entry until it is
    // done: the journal lists the entries that change (whose files are written first), so
    // that each file is one a manifest lists with its hash at every step.
    let journal_text;
    let journal_text = match new_text {
        NewText::Whole(text) => text,
        NewText::Patched(patched) => {
            journal_text = manifest_text(&super::manifest::listing(
                patched.paths().iter().filter_map(|path| {
                    new.files
                        .get(path)
                        .map(|entry| (path.clone(), entry.clone()))
                }),
            ));
            &journal_text
        }
    };
    if let Err(error) = fs::write(&journal, journal_text) {
        // No file of the tree was touched; a torn journal lists nothing and is no one's.
        let left = fs::remove_file(&journal)
            .err()
            .filter(|e| e.kind() != io::ErrorKind::NotFound)
            .map(|_| journal)
            .into_iter()
            .collect();
        return Err(WriteError::Io { error, left });
    }
    apply(out, tree, &plan, &journal, in_place, hook)
        .map_err(|error| WriteError::Unfinished { error })?;
    Ok(Some(Written::Updated {
        written: plan.write.len(),
        removed: plan.remove.len(),
    }))
}

/// The journal is written: writes, deletes, and renames the journal over the manifest, or
/// patches the manifest (`in_place`: the hashes and the manifest opened to write) and
/// deletes the journal.
fn apply(
    out: &Path,
    tree: &Tree,
    plan: &Plan,
    journal: &Path,
    in_place: Option<(&Patched, fs::File)>,
    hook: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    for path in &plan.write {
        let text = tree.get(*path).map_or("", String::as_str);
        let target = out.join(path);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temporary = target.with_file_name(format!(".{name}{TEMPORARY}"));
        hook("file")?;
        match fs::write(&temporary, text) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                if let Some(dir) = temporary.parent() {
                    fs::create_dir_all(dir)?;
                }
                fs::write(&temporary, text)?;
            }
            other => other?,
        }
        hook("place")?;
        fs::rename(&temporary, &target)?;
    }
    for path in &plan.remove {
        hook("remove")?;
        match fs::remove_file(out.join(path)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    remove_empty_dirs(out, &plan.remove);
    hook("manifest")?;
    match in_place {
        None => fs::rename(journal, out.join(MANIFEST)),
        Some((patched, mut manifest)) => {
            use std::io::{Seek, Write};
            for (at, digits) in patched.digits() {
                hook("patch")?;
                manifest.seek(io::SeekFrom::Start(at as u64))?;
                manifest.write_all(&digits)?;
            }
            drop(manifest);
            fs::remove_file(journal)
        }
    }
}

/// Removes the directories below `out` (never `out` itself) that deleting `removed` left
/// empty, deepest first. One that is not empty (it holds another file, the user's say)
/// stays.
fn remove_empty_dirs(out: &Path, removed: &[String]) {
    let mut dirs: BTreeSet<&str> = BTreeSet::new();
    for path in removed {
        let mut path = path.as_str();
        while let Some((dir, _)) = path.rsplit_once('/') {
            dirs.insert(dir);
            path = dir;
        }
    }
    // A directory sorts before everything below it.
    for dir in dirs.iter().rev() {
        let _ = fs::remove_dir(out.join(dir));
    }
}

/// The manifest on disk before the write: its text, its listing, and the files noted to
/// hold what it lists (`Old::noted`).
struct Before<'o> {
    text: &'o str,
    listing: &'o Listing<'o>,
    noted: &'o [(String, Stamp)],
}

impl Before<'_> {
    /// Whether the file at `path` (in `out`) still has the stamp the last write noted: it
    /// holds the hash the old manifest lists for it.
    fn holds(&self, out: &Path, path: &str) -> bool {
        self.noted.iter().any(|(noted, stamp)| {
            noted == path && Stamp::of(&out.join(path)).as_ref() == Some(stamp)
        })
    }
}

/// What to write and delete, from the two manifests and the files they change; `None` when
/// the whole-tree write must do it.
fn plan<'t>(
    out: &Path,
    tree: &'t Tree,
    new: &'t Manifest,
    complete: bool,
    new_text: NewText,
    before: &Before,
) -> Option<Plan<'t>> {
    let (old_text, old) = (before.text, before.listing);
    let whole = new.files.len() + 1;
    let holds = if complete {
        whole == tree.len()
    } else {
        tree.keys()
            .all(|path| path == MANIFEST || new.files.contains_key(path))
    };
    if exists(&out.join(JOURNAL)) || !holds {
        return None;
    }
    let (changed, mut removed) = match &old.sorted {
        Some(sorted) => compared_in_order(new, sorted),
        None => compared(new, old),
    };
    removed.sort_unstable();
    if (changed.len() + removed.len()) * MOST > whole {
        return None;
    }
    // Patched, the manifest keeps every path, and the journal lists each one that changes.
    if let NewText::Patched(patched) = new_text
        && (!removed.is_empty()
            || changed.len() != patched.paths().len()
            || !changed.iter().all(|(path, _)| {
                patched
                    .paths()
                    .binary_search_by(|p| p.as_str().cmp(path))
                    .is_ok()
            }))
    {
        return None;
    }
    if !nested_trees_hold(out, tree, new, before, &changed) {
        return None;
    }
    let mut plan = Plan {
        write: Vec::new(),
        remove: Vec::new(),
        manifest: match new_text {
            NewText::Whole(text) => old_text != text,
            NewText::Patched(patched) => !patched.is_empty(),
        },
    };
    for (path, old_hash) in changed {
        let text = tree.get(path)?;
        let file = out.join(path);
        match old_hash {
            // A new path: nothing may be there yet (a file no manifest lists, or a directory
            // in the way).
            None => match fs::symlink_metadata(&file) {
                Err(error) if error.kind() == io::ErrorKind::NotFound => plan.write.push(path),
                _ => return None,
            },
            // Noted as the old manifest's: written, unread.
            Some(_) if before.holds(out, path) => plan.write.push(path),
            Some(old_hash) => match fs::read(&file) {
                Ok(bytes) if bytes == text.as_bytes() => {}
                Ok(bytes) if sha256_hex_bytes(&bytes) == old_hash => plan.write.push(path),
                // Deleted by hand: written again.
                Err(error) if error.kind() == io::ErrorKind::NotFound => plan.write.push(path),
                // Edited by hand, or unreadable: the whole-tree write says so.
                _ => return None,
            },
        }
    }
    for (path, old_hash) in removed {
        match fs::read(out.join(path)) {
            Ok(bytes) if sha256_hex_bytes(&bytes) == old_hash => plan.remove.push(path.to_owned()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            _ => return None,
        }
    }
    Some(plan)
}

/// Each path of `new` whose hash the `old` listing does not have, with the old hash (`None`
/// for a new path); and each old path `new` no longer lists, with its hash.
type Compared<'t, 'o> = (Vec<(&'t str, Option<&'o str>)>, Vec<(&'o str, &'o str)>);

/// `Compared` by a look-up of each new path in the old listing.
fn compared<'t, 'o>(new: &'t Manifest, old: &'o Listing) -> Compared<'t, 'o> {
    let mut changed = Vec::new();
    let mut listed_before = 0;
    for (path, entry) in new.files.iter() {
        let hash = old.get(path.as_str()).map(|(_, sha256)| sha256);
        listed_before += usize::from(hash.is_some());
        match hash {
            Some(hash) if entry.sha256 == *hash => {}
            hash => changed.push((path.as_str(), hash)),
        }
    }
    // No old path is gone unless the old manifest lists more than the new one kept.
    let removed = if listed_before == old.len() {
        Vec::new()
    } else {
        old.hashes()
            .filter(|(path, _)| !new.files.contains_key(path))
            .collect()
    };
    (changed, removed)
}

/// `Compared` by one walk down the new manifest's paths and the old's, both sorted.
fn compared_in_order<'t, 'o>(new: &'t Manifest, old: &[(&'o str, &'o str)]) -> Compared<'t, 'o> {
    let mut changed = Vec::new();
    let mut removed = Vec::new();
    let mut old = old.iter().peekable();
    for (path, entry) in new.files.iter() {
        while let Some(&gone) = old.next_if(|(before, _)| *before < path.as_str()) {
            removed.push(gone);
        }
        match old.next_if(|(listed, _)| *listed == path.as_str()) {
            Some(&(_, hash)) if entry.sha256 == *hash => {}
            listed => changed.push((path.as_str(), listed.map(|&(_, hash)| hash))),
        }
    }
    removed.extend(old.copied());
    (changed, removed)
}

/// Whether the old manifest still speaks for each tree below `out` with a manifest of its own
/// (`env/NAME/`, which `platc build --env NAME` writes alone): its manifest on disk is the
/// one the old manifest lists, or already the new one, and no write of it alone was stopped
/// (no journal inside it, no staged or previous tree beside it). A manifest that both list
/// with the same hash is read (and compared, not hashed) unless it was noted to hold it
/// (`Before::holds`); one that changes is checked with the other changed files (`changed`,
/// as `plan` compared the manifests: each path the new one adds or changes).
fn nested_trees_hold(
    out: &Path,
    tree: &Tree,
    new: &Manifest,
    before: &Before,
    changed: &[(&str, Option<&str>)],
) -> bool {
    let old = before.listing;
    // The paths either manifest lists: the old one's, and the changed ones (each path of the
    // new one that the old one does not list is among them). Not the new one's 80,000 paths,
    // each a string of its own, which a walk fetches one by one.
    let dirs: BTreeSet<&str> = old
        .paths()
        .chain(changed.iter().map(|&(path, _)| path))
        .filter_map(|path| path.strip_suffix(MANIFEST))
        .filter_map(|dir| dir.strip_suffix('/'))
        .collect();
    dirs.into_iter().all(|dir| {
        let (parent, name) = dir.rsplit_once('/').unwrap_or(("", dir));
        let beside = |suffix: &str| out.join(parent).join(format!(".{name}{suffix}"));
        let manifest = format!("{dir}/{MANIFEST}");
        let same = match (new.files.get(&manifest), old.get(&manifest)) {
            (Some(entry), Some((_, sha256))) => entry.sha256 == *sha256,
            _ => false,
        };
        !exists(&out.join(dir).join(JOURNAL))
            && !exists(&beside(".platc-new"))
            && !exists(&beside(".platc-old"))
            && (!same
                || before.holds(out, &manifest)
                || fs::read(out.join(&manifest)).is_ok_and(|bytes| {
                    Some(bytes.as_slice()) == tree.get(&manifest).map(String::as_bytes)
                }))
    })
}

/// The file at `path` opened to write in place, when it has no other name (a hard link),
/// its mode lets it be written (root may write a read-only file; platc does not), and it
/// opens.
fn open_in_place(path: &Path) -> Option<fs::File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::symlink_metadata(path).ok()?;
        if meta.nlink() != 1 || !meta.is_file() || meta.permissions().readonly() {
            return None;
        }
        fs::OpenOptions::new().write(true).open(path).ok()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Whether anything is at `path` (a dangling link too).
fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// How many bytes of `bytes` are control characters (below 0x20): in blocks of 64, each
/// counted in a byte, a form the compiler turns into vector compares (a filtered count of
/// each byte did not: 4 instructions a byte).
fn controls(bytes: &[u8]) -> usize {
    let blocks = bytes.chunks_exact(64);
    let rest = blocks.remainder();
    let counted: usize = blocks
        .map(|block| {
            let below: u8 = block.iter().map(|&b| u8::from(b < 0x20)).sum();
            usize::from(below)
        })
        .sum();
    counted + rest.iter().filter(|&&b| b < 0x20).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::{manifest, manifest_text};

    /// Every path of `listing` with its origin, hash and place, sorted.
    fn entries<'l>(listing: &'l Listing) -> Vec<(&'l str, &'l str, &'l str, u32)> {
        let mut entries: Vec<_> = listing
            .paths()
            .map(|path| {
                let (origin, sha256, place) = listing.placed(path).unwrap();
                (path, origin, sha256, place)
            })
            .collect();
        entries.sort_unstable();
        entries
    }

    /// The count in blocks is the count of each byte, whatever the length (blocks and a
    /// remainder) and wherever the control characters fall (every byte value).
    #[test]
    fn control_characters_counted_in_blocks_are_the_ones_each_byte_counts() {
        let bytes: Vec<u8> = (0..=u8::MAX).cycle().take(1000).collect();
        for len in [0, 1, 31, 63, 64, 65, 128, 200, 255, 256, 999, 1000] {
            for from in [0, 7, 32] {
                let slice = &bytes[from.min(len)..len];
                assert_eq!(
                    controls(slice),
                    slice.iter().filter(|&&b| b < 0x20).count(),
                    "{from}..{len}"
                );
            }
        }
        assert_eq!(controls(&[b'\n'; 64 * 5 + 3]), 64 * 5 + 3);
    }

    /// The manifests platc writes are read without `serde_json`, into the listing it gives;
    /// any other text is left to it.
    #[test]
    fn a_written_manifest_is_read_as_serde_json_reads_it() {
        let file = |path: &str, origin: &str| (path.to_owned(), origin.to_owned());
        let cases = [
            vec![],
            vec![file("a.yaml", "platform.kdl:1")],
            vec![
                file("b/x.yaml", "platform.kdl:3"),
                file("a.yaml", "platform.kdl:1"),
                file("env/staging/.platc/manifest.json", "platform.kdl:9"),
                file("caf\u{e9}/\u{1f600}.yaml", "my platform.kdl:12"),
            ],
        ];
        for files in &cases {
            let listed = manifest(
                files
                    .iter()
                    .map(|(p, o)| (p.as_str(), p.as_str(), o.as_str().into())),
            );
            let text = manifest_text(&listed);
            let fast = Listing::parse_written(&text).expect("a manifest platc wrote");
            let slow: Listing = serde_json::from_str(&text).unwrap();
            assert_eq!(entries(&fast), entries(&slow));
            assert_eq!(fast.len(), files.len());
        }
        // An escape, a reformatted text, a field more, a truncated one: `serde_json` reads
        // what is JSON, the fast path none of it.
        let odd = manifest([("a\"b.yaml", "x", "platform.kdl:1".into())]);
        let odd = manifest_text(&odd);
        let plain = manifest_text(&manifest([("a.yaml", "x", "platform.kdl:1".into())]));
        let compact =
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&plain).unwrap())
                .unwrap();
        let extra = plain.replace("\"generator\"", "\"more\": 1,\n  \"generator\"");
        for text in [&odd, &compact, &extra] {
            assert!(Listing::parse_written(text).is_none(), "{text}");
            let parsed = Listing::parse(text).expect("JSON");
            let slow: Listing = serde_json::from_str(text).unwrap();
            assert_eq!(entries(&parsed), entries(&slow));
        }
        assert_eq!(entries(&Listing::parse(&odd).unwrap())[0].0, "a\"b.yaml");
        // A control character in a string is not JSON: neither reads it.
        for control in ["\t", "\n", "\u{1}"] {
            let text = plain.replace("a.yaml", &format!("a{control}b.yaml"));
            assert!(Listing::parse_written(&text).is_none(), "{text}");
            assert!(Listing::parse(&text).is_none(), "{text}");
        }
        for cut in [1, plain.len() / 2, plain.len() - 3] {
            assert!(Listing::parse_written(&plain[..cut]).is_none());
            assert!(Listing::parse(&plain[..cut]).is_none());
        }
        // Without its last line break it is still JSON, for `serde_json`.
        assert!(Listing::parse_written(&plain[..plain.len() - 1]).is_none());
        assert!(Listing::parse(&plain[..plain.len() - 1]).is_some());
    }

    /// The two manifests compared in one walk down both (the old one as platc writes it,
    /// sorted) find what the look-ups find: the paths added and changed, with their old
    /// hashes, and the paths gone. A listing not in order by path is not walked.
    #[test]
    fn the_walk_down_both_manifests_finds_what_the_look_ups_find() {
        fn in_order<'t, 'o>((mut changed, mut removed): Compared<'t, 'o>) -> Compared<'t, 'o> {
            changed.sort_unstable();
            removed.sort_unstable();
            (changed, removed)
        }
        let files = |names: &[(&'static str, &'static str)]| {
            manifest(
                names
                    .iter()
                    .map(|&(path, text)| (path, text, "platform.kdl:1".into())),
            )
        };
        let old = files(&[
            ("a.yaml", "a"),
            ("b/gone.yaml", "g"),
            ("b/kept.yaml", "k"),
            ("c.yaml", "c"),
            ("z/last.yaml", "l"),
        ]);
        let news = [
            files(&[]),
            files(&[("a.yaml", "a"), ("b/kept.yaml", "k"), ("c.yaml", "c2")]),
            files(&[
                ("0.yaml", "new"),
                ("a.yaml", "a"),
                ("b/kept.yaml", "k2"),
                ("b/new.yaml", "n"),
                ("c.yaml", "c"),
                ("z/last.yaml", "l"),
                ("zz.yaml", "new"),
            ]),
        ];
        let text = manifest_text(&old);
        let listing = Listing::parse(&text).unwrap();
        let sorted = listing.sorted.as_deref().expect("platc's order");
        for new in &news {
            let walked = in_order(compared_in_order(new, sorted));
            assert_eq!(walked, in_order(compared(new, &listing)));
            assert!(!walked.0.is_empty() || !walked.1.is_empty());
        }
        let (changed, removed) = compared_in_order(&news[1], sorted);
        assert_eq!(changed, [("c.yaml", Some(sorted[3].1))]);
        assert_eq!(removed, [sorted[1], sorted[4]]);
        // Two entries swapped: read, but not walked.
        let swapped = text.replacen("a.yaml", "d.yaml", 1);
        let listing = Listing::parse(&swapped).unwrap();
        assert!(listing.sorted.is_none());
        assert_eq!(listing.len(), 5);
    }
}
