//! The manifest of `out/`, and what it says about the files found there: which platc wrote
//! and may replace, which it did not write, and which were edited by hand since.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Ordered, Origin};
use crate::diff::Tree;

/// Where the manifest lives inside `out/`.
pub const MANIFEST: &str = ".platc/manifest.json";

/// Where an incremental write keeps the manifest of the tree it is writing until it is done
/// (then it is renamed to `MANIFEST`): its journal. A file with a hash it lists is platc's.
pub const JOURNAL: &str = ".platc/manifest.next.json";

/// Who wrote a manifest: its `generator`.
pub const GENERATOR: &str = "platc";

/// One file of the manifest. (Fields in the order of their names, as the manifest's text
/// has them: `manifest_text` encodes it without a detour through a value tree.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `platform.kdl:LINE` of the node it came from.
    pub origin: Origin,
    pub sha256: FileHash,
}

/// A file's sha256 as its manifest entry holds it: the digest's 32 bytes, written as 64
/// lowercase hex digits (held as text, a build of 10,000 services kept 50 MB of hex for its
/// 800,000 files), or, read from a manifest edited by hand, whatever else stood there, kept
/// as it was (no file's hash is equal to it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileHash {
    Digest([u8; 32]),
    Other(Box<str>),
}

impl FileHash {
    /// The hash of a file whose entry is made before its hash (`manifest_text_hashing`
    /// fills it in): 64 digits in the text, as every other.
    pub const PENDING: Self = Self::Digest([0; 32]);

    /// The hash of a file's text.
    pub fn of(text: &str) -> Self {
        Self::of_bytes(text.as_bytes())
    }

    /// The hash of a file's bytes, as read from disk.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self::Digest(Sha256::digest(bytes).into())
    }

    /// The hash a manifest's text names: 64 lowercase hex digits are a digest, anything
    /// else is kept as it is. (A rebuild reads 80,000 at 1,000 services: a table, and no
    /// branch per digit.)
    pub fn from_hex(text: &str) -> Self {
        let mut digest = [0u8; 32];
        let mut bad = u8::from(text.len() != 64) << 4;
        for (byte, pair) in digest.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let (high, low) = (VALUES[usize::from(pair[0])], VALUES[usize::from(pair[1])]);
            bad |= high | low;
            *byte = high << 4 | low & 15;
        }
        if bad >> 4 == 0 {
            Self::Digest(digest)
        } else {
            Self::Other(text.into())
        }
    }

    /// As the manifest's text writes it.
    pub fn as_text<'a>(&'a self, buffer: &'a mut [u8; 64]) -> &'a str {
        match self {
            Self::Digest(digest) => hex_into(digest, buffer),
            Self::Other(text) => text,
        }
    }
}

impl PartialEq<str> for FileHash {
    /// Whether the manifest's text of this hash is `text`.
    fn eq(&self, text: &str) -> bool {
        match self {
            Self::Digest(digest) => {
                text.len() == 64
                    && digest
                        .iter()
                        .zip(text.as_bytes().chunks_exact(2))
                        .all(|(&byte, pair)| PAIRS[usize::from(byte)] == pair)
            }
            Self::Other(other) => **other == *text,
        }
    }
}

/// The lowercase hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Each byte's two lowercase hex digits.
static PAIRS: [[u8; 2]; 256] = {
    let mut pairs = [[0; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        pairs[byte] = [HEX[byte >> 4], HEX[byte & 15]];
        byte += 1;
    }
    pairs
};

/// Each lowercase hex digit's value; `0xff` for any other byte.
static VALUES: [u8; 256] = {
    let mut values = [0xff; 256];
    let mut digit: u8 = 0;
    while digit < 16 {
        values[HEX[digit as usize] as usize] = digit;
        digit += 1;
    }
    values
};

impl std::fmt::Display for FileHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_text(&mut [0; 64]))
    }
}

impl Serialize for FileHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_text(&mut [0; 64]))
    }
}

impl<'de> Deserialize<'de> for FileHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::from_hex(&text))
    }
}

/// `out/.platc/manifest.json`. (Fields in the order of their names, as `Entry`'s.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub files: Files,
    pub generator: String,
}

/// A manifest's files by path: one list, sorted by path, with one entry a path, looked up by
/// binary search. (A `BTreeMap` was built from such a list, beside it: every build of the
/// whole tree made 80,000 nodes' worth at 1,000 services on one core, and held both.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Files(Vec<(String, Entry)>);

impl Files {
    /// The entry of `path`.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.place(path).ok().map(|at| &self.0[at].1)
    }

    /// The entry of `path`, to change.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Entry> {
        self.place(path).ok().map(|at| &mut self.0[at].1)
    }

    /// Whether it lists `path`.
    pub fn contains_key(&self, path: &str) -> bool {
        self.place(path).is_ok()
    }

    /// Where `path` is in the list, or would be.
    fn place(&self, path: &str) -> Result<usize, usize> {
        self.0
            .binary_search_by(|(listed, _)| listed.as_str().cmp(path))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The files by path, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &Entry)> + Clone {
        self.0.iter().map(|(path, entry)| (path, entry))
    }

    /// The paths, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + Clone {
        self.0.iter().map(|(path, _)| path)
    }

    /// The entries, by path, as one slice.
    pub fn as_slice(&self) -> &[(String, Entry)] {
        &self.0
    }
}

impl FromIterator<(String, Entry)> for Files {
    /// Sorted by path (a stable sort: sorted runs are found and merged, with scratch room
    /// for up to half of them, as a map's `collect` sorts); of a path given twice, the last
    /// entry is kept, as the map keeps it.
    fn from_iter<I: IntoIterator<Item = (String, Entry)>>(entries: I) -> Self {
        let mut files: Vec<(String, Entry)> = entries.into_iter().collect();
        // Given in order (a first build's merged runs), taken as it is: the sort would still
        // make its scratch room (35 MB at 10,000 services).
        if files.is_sorted_by(|a, b| a.0 < b.0) {
            return Self(files);
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        Self(files)
    }
}

impl IntoIterator for Files {
    type Item = (String, Entry);
    type IntoIter = std::vec::IntoIter<(String, Entry)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Serialize for Files {
    /// As a map, by path.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Files {
    /// From the map the manifest's JSON holds (a path given twice keeps its last entry).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(BTreeMap::<String, Entry>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// The manifest of a tree: every file's hash and origin, from `(path, text, origin)`.
pub fn manifest<'a>(files: impl IntoIterator<Item = (&'a str, &'a str, Origin)>) -> Manifest {
    listing(files.into_iter().map(|(path, text, origin)| {
        let sha256 = FileHash::of(text);
        (path.to_owned(), Entry { origin, sha256 })
    }))
}

/// The manifest of files already hashed: `(path, entry)`.
pub fn listing(entries: impl IntoIterator<Item = (String, Entry)>) -> Manifest {
    Manifest {
        files: entries.into_iter().collect(),
        generator: GENERATOR.into(),
    }
}

/// `listing` of entries already in order by path, each path once (a rebuild's, merged in
/// place): taken as they are, not compared again.
pub fn listing_in_order(entries: Vec<(String, Entry)>) -> Manifest {
    debug_assert!(
        entries.is_sorted_by(|a, b| a.0 < b.0),
        "in order, each once"
    );
    Manifest {
        files: Files(entries),
        generator: GENERATOR.into(),
    }
}

/// The sha256 of a file's text, in hex, as the manifest records it.
pub fn sha256_hex(text: &str) -> String {
    sha256_hex_bytes(text.as_bytes())
}

/// `sha256_hex` of a file's bytes, as read from disk.
pub fn sha256_hex_bytes(bytes: &[u8]) -> String {
    FileHash::of_bytes(bytes).to_string()
}

/// A digest in lowercase hex, in `buffer`.
fn hex_into<'a>(digest: &[u8; 32], buffer: &'a mut [u8; 64]) -> &'a str {
    for (&byte, pair) in digest.iter().zip(buffer.chunks_exact_mut(2)) {
        pair.copy_from_slice(&PAIRS[usize::from(byte)]);
    }
    std::str::from_utf8(buffer).unwrap_or_default()
}

/// What tells one write of a file from another without reading it: its size, inode, and
/// times of last change (`ctime`, which no user can set) and modification, to the
/// nanosecond. A rebuild's record names the manifest it holds for by its stamp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub(crate) len: u64,
    pub(crate) inode: u64,
    pub(crate) changed: i128,
    pub(crate) modified: i128,
}

impl Stamp {
    /// The stamp of the file at `path`, when there is one.
    pub fn of(path: &std::path::Path) -> Option<Self> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        if !meta.is_file() {
            return None;
        }
        Self::from_metadata(&meta)
    }

    /// The stamp of what `meta` describes: a file, a directory, anything.
    pub fn from_metadata(meta: &std::fs::Metadata) -> Option<Self> {
        #[cfg(unix)]
        let (inode, changed) = {
            use std::os::unix::fs::MetadataExt;
            let changed = i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec());
            (meta.ino(), changed)
        };
        #[cfg(not(unix))]
        let (inode, changed) = (0, 0);
        let modified = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos();
        Some(Self {
            len: meta.len(),
            inode,
            changed,
            modified: i128::try_from(modified).ok()?,
        })
    }
}

/// The manifest's own text: `encode::json` of it (a test holds them equal), written
/// directly, since it is the largest file of a build (15 MB at 1,000 services) and a rebuild
/// writes it again each time. A long one is written in two halves, on both cores.
pub fn manifest_text(manifest: &Manifest) -> String {
    manifest_text_noting(manifest, &[]).0
}

/// `manifest_text` of a manifest whose entries for the files `pending` (each path and text)
/// hold no hash yet (`FileHash::PENDING`): each file is hashed beside the manifest's text,
/// on the other core, and its hash put in its entry and in its place in the text. (A
/// rebuild's environment manifests: 7.5 MB to hash at 1,000 services, which the base tree's
/// core, done, otherwise waited for.)
pub fn manifest_text_hashing(manifest: &mut Manifest, pending: &[(&str, &str)]) -> String {
    let paths: Vec<&str> = pending.iter().map(|&(path, _)| path).collect();
    let (digests, (text, places)) = rayon::join(
        || {
            pending
                .iter()
                .map(|&(_, text)| FileHash::of(text))
                .collect::<Vec<_>>()
        },
        || manifest_text_noting(manifest, &paths),
    );
    put_pending(manifest, text, &paths, digests, places)
}

/// `manifest_text_hashing` of a rebuild's manifest, each run of the entries it kept copied
/// from the old manifest's text (`old`, in platc's layout and order: 15 MB at 1,000
/// services, nearly all of it kept) rather than written again. `made` are the paths of the
/// entries made anew, sorted; each other entry of `manifest`, in order, is the old
/// manifest's entry at the next place of `kept` (rising), unchanged. `None` when they do not
/// match that (a path that is not the old entry's, a count that differs): the caller writes
/// the text whole.
pub fn manifest_text_reusing(
    manifest: &mut Manifest,
    pending: &[(&str, &str)],
    old: Ordered,
    made: &[&str],
    kept: &[u32],
) -> Option<String> {
    let paths: Vec<&str> = pending.iter().map(|&(path, _)| path).collect();
    let (digests, text) = rayon::join(
        || {
            pending
                .iter()
                .map(|&(_, text)| FileHash::of(text))
                .collect::<Vec<_>>()
        },
        || text_reusing(manifest, &paths, old, made, kept),
    );
    let (text, places) = text?;
    Some(put_pending(manifest, text, &paths, digests, places))
}

/// A manifest's text as the old one's with some hashes changed, each in its place: the byte
/// offset in the old text of each changed hash's 64 digits, and the new hash, by offset
/// (`manifest_patched`). A rebuild that changes files but no path or origin (a new image tag,
/// a limit) writes these in place (`write_changed`) instead of the whole text again (15 MB
/// at 1,000 services, for some 60 hashes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Patched {
    hashes: Vec<(usize, FileHash)>,
    /// The paths whose hashes change, by path: what the write's journal lists.
    paths: Vec<String>,
}

impl Patched {
    /// Whether no hash changes: the text is the old one.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The paths whose hashes change, by path.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// The new text: `old`, the text the offsets are of, with each hash put in its place.
    pub fn apply(&self, old: &str) -> String {
        let mut text = old.to_owned();
        let mut buffer = [0; 64];
        for (at, hash) in &self.hashes {
            let digits = hash.as_text(&mut buffer);
            text.replace_range(*at..*at + digits.len(), digits);
        }
        text
    }

    /// Each changed hash's offset in the old text and its 64 digits, by offset.
    pub fn digits(&self) -> impl Iterator<Item = (usize, [u8; 64])> + '_ {
        self.hashes.iter().map(|(at, hash)| {
            let mut digits = [0; 64];
            hash.as_text(&mut digits);
            (*at, digits)
        })
    }
}

/// The text of `manifest`, a rebuild's, as the old manifest's (`old`, in platc's layout and
/// order) with hashes changed in their places, when it lists the very paths of the old one
/// in the same order and each of the files made (`made`: their paths, sorted) with the
/// origin the old one gave it: the hashes of the files `pending` (a rebuild's environment
/// manifests, whose entries hold `FileHash::PENDING`), `digests` (each `None` when its
/// file was not made: never, as platc calls it), are put in their entries. `None`, with no
/// entry changed, when the text changes elsewhere (a path added or gone, an origin moved, a
/// hash of another width, another generator): the caller writes the text
/// (`manifest_text_reusing`). The entries not made are the old manifest's (a rebuild reuses
/// them from it), so only their paths are compared.
pub fn manifest_patched(
    manifest: &mut Manifest,
    pending: &[&str],
    digests: Vec<Option<FileHash>>,
    old: &Ordered,
    made: &[&str],
) -> Option<Patched> {
    let files = manifest.files.as_slice();
    let mut tail = String::new();
    close_entries(&mut tail, !files.is_empty(), &manifest.generator);
    if files.len() != old.len() || !old.text().ends_with(&tail) {
        return None;
    }
    let mut made = made.iter().peekable();
    // Each made entry's place among the files, and where its hash's digits begin in the
    // old text.
    let mut places = Vec::with_capacity(made.len());
    let mut written = String::new();
    for (at, (path, entry)) in files.iter().enumerate() {
        if old.path(at) != path {
            return None;
        }
        if made.next_if(|made| **made == path.as_str()).is_none() {
            continue;
        }
        // The old entry's text, from its path's opening quote, and the new one's, which
        // differ in the hash's digits alone.
        written.clear();
        let digits = push_entry(&mut written, path, entry);
        let before = old.run_text(at, at)?;
        let hash = digits..digits + 64;
        // (Never another: a made file's hash is its digest, or pending.)
        if !matches!(entry.sha256, FileHash::Digest(_))
            || before.len() != written.len()
            || before.get(..hash.start)? != &written[..hash.start]
            || before.get(hash.end..)? != &written[hash.end..]
        {
            return None;
        }
        places.push((at, old.sha256_offset(at)?));
    }
    if made.next().is_some()
        || digests
            .iter()
            .flatten()
            .any(|hash| !matches!(hash, FileHash::Digest(_)))
    {
        return None;
    }
    for (&path, hash) in pending.iter().zip(digests) {
        if let (Some(entry), Some(hash)) = (manifest.files.get_mut(path), hash) {
            entry.sha256 = hash;
        }
    }
    let files = manifest.files.as_slice();
    let mut patched = Patched::default();
    for (at, offset) in places {
        let (path, entry) = &files[at];
        if entry.sha256 != *old.entry(at).1 {
            patched.hashes.push((offset, entry.sha256.clone()));
            patched.paths.push(path.clone());
        }
    }
    Some(patched)
}

/// `entries_text` of the manifest of a tree nested in out/ at `dir` (`env/NAME/`), which a
/// rebuild made in part: each entry it kept (`kept`: paths in out/, `dir` ahead, sorted,
/// each the old top manifest's entry at its place in `places`) copied from that manifest's
/// text (`old`) with `dir` cut from its path, for the top manifest lists the nested tree's
/// files with the same origins and hashes; and each one made (`made`: paths in the tree,
/// sorted) written; in their paths' order. Written entry by entry, the text (7.5 MB at
/// 1,000 services) was 5 ms of a rebuild's critical path. `None` when a kept entry is not
/// the old manifest's at its place, or its path does not begin with `dir` as written: the
/// caller writes the text whole.
pub fn nested_text_reusing(
    made: &[(&str, &Entry)],
    kept: &[(String, Entry)],
    places: &[u32],
    old: &Ordered,
    dir: &str,
    generator: &str,
) -> Option<String> {
    if kept.len() != places.len() {
        return None;
    }
    let size: usize = made
        .iter()
        .map(|&(path, entry)| entry_size(path, entry))
        .chain(
            kept.iter()
                .map(|(path, entry)| entry_size(path.strip_prefix(dir).unwrap_or(path), entry)),
        )
        .sum();
    let mut out = String::with_capacity(size + generator.len() + 64);
    out.push_str("{\n  \"files\": {");
    let mut any = false;
    let mut made = made.iter().peekable();
    let mut kept = kept.iter().zip(places).peekable();
    loop {
        // Merged as `env_manifest_entries` merges them: a kept entry first only when its
        // path sorts before the made one's.
        let kept_first = match (made.peek(), kept.peek()) {
            (Some(&&(made, _)), Some(((kept, _), _))) => kept.strip_prefix(dir)? < made,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        out.push_str(if any { ",\n    " } else { "\n    " });
        any = true;
        if kept_first {
            let ((path, _), &at) = kept.next()?;
            let at = at as usize;
            if at >= old.len() || old.path(at) != path {
                return None;
            }
            // `"PATH": {…}`: the quote, then the path's text past `dir`, and the rest.
            let text = old.run_text(at, at)?;
            out.push('"');
            out.push_str(text.get(1..)?.strip_prefix(dir)?);
        } else {
            let &(path, entry) = made.next()?;
            push_entry(&mut out, path, entry);
        }
    }
    close_entries(&mut out, any, generator);
    Some(out)
}

/// `manifest_text_noting`, with the kept entries' runs copied (`manifest_text_reusing`).
fn text_reusing(
    manifest: &Manifest,
    want: &[&str],
    old: Ordered,
    made: &[&str],
    kept: &[u32],
) -> Option<(String, Vec<Option<usize>>)> {
    let files = &manifest.files;
    if files.len() != made.len() + kept.len() {
        return None;
    }
    let mut places = vec![None; want.len()];
    let mut out = String::with_capacity(text_size(files.iter()) + manifest.generator.len() + 64);
    out.push_str("{\n  \"files\": {");
    let mut any = false;
    let mut separate = |out: &mut String| {
        out.push_str(if any { ",\n    " } else { "\n    " });
        any = true;
    };
    let mut made = made.iter().peekable();
    let mut kept = kept.iter().map(|&at| at as usize);
    // The run of kept entries not copied yet: the first's and the last's places.
    let mut run: Option<(usize, usize)> = None;
    for (path, entry) in files.iter() {
        if made.next_if(|made| **made == path.as_str()).is_some() {
            if let Some((from, to)) = run.take() {
                separate(&mut out);
                out.push_str(old.run_text(from, to)?);
            }
            separate(&mut out);
            let at = push_entry(&mut out, path, entry);
            if let Some(i) = want.iter().position(|wanted| *wanted == path) {
                places[i] = Some(at);
            }
            continue;
        }
        let at = kept.next()?;
        if at >= old.len() || old.path(at) != path {
            return None;
        }
        run = match run {
            Some((from, to)) if to + 1 == at => Some((from, at)),
            Some((from, to)) => {
                separate(&mut out);
                out.push_str(old.run_text(from, to)?);
                Some((at, at))
            }
            None => Some((at, at)),
        };
    }
    if let Some((from, to)) = run {
        separate(&mut out);
        out.push_str(old.run_text(from, to)?);
    }
    if made.next().is_some() || kept.next().is_some() {
        return None;
    }
    close_entries(&mut out, !files.is_empty(), &manifest.generator);
    Some((out, places))
}

/// The hashes of the pending files (`paths`, their `digests`) put in their `places` in the
/// manifest's `text` and in its entries; the text written again, whole, when one has no
/// place (never, as platc calls it).
fn put_pending(
    manifest: &mut Manifest,
    mut text: String,
    paths: &[&str],
    digests: Vec<FileHash>,
    places: Vec<Option<usize>>,
) -> String {
    let mut all_put = true;
    for ((path, hash), place) in paths.iter().zip(digests).zip(places) {
        let mut digits = [0; 64];
        match place {
            Some(at) if text.get(at..at + 64) == Some(FileHash::PENDING.as_text(&mut [0; 64])) => {
                text.replace_range(at..at + 64, hash.as_text(&mut digits));
            }
            _ => all_put = false,
        }
        if let Some(entry) = manifest.files.get_mut(path) {
            entry.sha256 = hash;
        }
    }
    // A pending file the manifest does not list as pending (never, as platc calls it):
    // written again, whole.
    if all_put {
        text
    } else {
        manifest_text(manifest)
    }
}

/// `manifest_text`, and where the sha256 of each path of `want` begins in it.
fn manifest_text_noting(manifest: &Manifest, want: &[&str]) -> (String, Vec<Option<usize>>) {
    /// Fewer entries, and the halves cost more than they save.
    const HALVED: usize = 4096;
    let files = &manifest.files;
    let mut places = vec![None; want.len()];
    if files.len() < HALVED {
        let size = text_size(files.iter()) + manifest.generator.len() + 64;
        let mut out = String::with_capacity(size);
        out.push_str("{\n  \"files\": {");
        if !files.is_empty() {
            out.push_str("\n    ");
            let all = files.iter().map(|(path, entry)| (path.as_str(), entry));
            push_entries(&mut out, all, want, &mut places);
        }
        close_entries(&mut out, !files.is_empty(), &manifest.generator);
        return (out, places);
    }
    let (first, second) = files.as_slice().split_at(files.len() / 2);
    let first = first.iter().map(|(path, entry)| (path, entry));
    let second = second.iter().map(|(path, entry)| (path, entry));
    // The first half is written in place in the whole text; the second beside it, then
    // copied after it.
    let ((mut out, mut places), (second, later)) = rayon::join(
        || {
            let size = text_size(files.iter()) + manifest.generator.len() + 64;
            let mut out = String::with_capacity(size);
            out.push_str("{\n  \"files\": {\n    ");
            push_entries(
                &mut out,
                first.map(|(path, entry)| (path.as_str(), entry)),
                want,
                &mut places,
            );
            (out, places)
        },
        || {
            let mut out = String::with_capacity(text_size(second.clone()));
            let mut places = vec![None; want.len()];
            push_entries(
                &mut out,
                second.map(|(path, entry)| (path.as_str(), entry)),
                want,
                &mut places,
            );
            (out, places)
        },
    );
    out.push_str(",\n    ");
    let shift = out.len();
    for (place, later) in places.iter_mut().zip(later) {
        if let Some(at) = later {
            *place = Some(shift + at);
        }
    }
    out.push_str(&second);
    close_entries(&mut out, true, &manifest.generator);
    (out, places)
}

/// The text `manifest_text` gives a manifest that lists `files` (by path, in order) and names
/// `generator`, without the manifest as a map: an environment's manifest in a rebuild, whose
/// 40,000 entries (at 1,000 services) are mostly the old manifest's.
pub fn entries_text<'a>(
    files: impl Iterator<Item = (&'a str, &'a Entry)> + Clone,
    generator: &str,
) -> String {
    let size = files
        .clone()
        .map(|(path, entry)| entry_size(path, entry))
        .sum::<usize>();
    let mut out = String::with_capacity(size + 64);
    out.push_str("{\n  \"files\": {");
    let mut files = files.peekable();
    let any = files.peek().is_some();
    if any {
        out.push_str("\n    ");
        push_entries(&mut out, files, &[], &mut []);
    }
    close_entries(&mut out, any, generator);
    out
}

/// The bytes an entry takes: the path, the origin, 64 hex digits and 60 bytes of layout.
fn entry_size(path: &str, entry: &Entry) -> usize {
    path.len() + entry.origin.len() + 128
}

/// `entry_size` of a run of a manifest's files.
fn text_size<'a>(entries: impl Iterator<Item = (&'a String, &'a Entry)>) -> usize {
    entries.map(|(path, entry)| entry_size(path, entry)).sum()
}

/// `entries_text`, written to `to` a megabyte at a time: a build into a missing `out/`
/// writes its manifest (150 MB at 10,000 services) without ever holding its text.
pub fn write_entries<'a, W: std::io::Write>(
    files: impl Iterator<Item = (&'a str, &'a Entry)>,
    generator: &str,
    to: &mut W,
) -> std::io::Result<()> {
    let mut writer = EntriesWriter::new(to);
    for (path, entry) in files {
        writer.push(path, entry)?;
    }
    writer.finish(generator)
}

/// `write_entries` handed one entry at a time, in order by path: for entries made as they
/// are written, from a merge of runs, and never held as a list.
pub struct EntriesWriter<'w, W> {
    to: &'w mut W,
    out: String,
    any: bool,
}

impl<'w, W: std::io::Write> EntriesWriter<'w, W> {
    const FLUSH_AT: usize = 1 << 20;

    pub fn new(to: &'w mut W) -> Self {
        let mut out = String::with_capacity(Self::FLUSH_AT + 4096);
        out.push_str("{\n  \"files\": {");
        Self {
            to,
            out,
            any: false,
        }
    }

    /// The entry of `path`, after those handed before it.
    pub fn push(&mut self, path: &str, entry: &Entry) -> std::io::Result<()> {
        self.out
            .push_str(if self.any { ",\n    " } else { "\n    " });
        self.any = true;
        let _ = push_entry(&mut self.out, path, entry);
        if self.out.len() >= Self::FLUSH_AT {
            self.to.write_all(self.out.as_bytes())?;
            self.out.clear();
        }
        Ok(())
    }

    /// The text's end, after the last entry.
    pub fn finish(mut self, generator: &str) -> std::io::Result<()> {
        close_entries(&mut self.out, self.any, generator);
        self.to.write_all(self.out.as_bytes())
    }
}

/// Paths in order, in one text: what a build into a missing `out/` keeps of its top
/// manifest's entries, which it writes as they are merged (`EntriesWriter`), for the stamps
/// it notes after the write. At 10,000 services, 800,000 paths: as the manifest's list of
/// entries (a string and an entry each) they were 110 MB, made at the build's end.
#[derive(Debug, Default)]
pub struct Paths {
    text: String,
    ends: Vec<usize>,
}

impl Paths {
    /// Room for `count` paths of `bytes` bytes in all.
    pub fn with_capacity(count: usize, bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(count),
        }
    }

    pub fn push(&mut self, path: &str) {
        self.text.push_str(path);
        self.ends.push(self.text.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The path pushed last.
    pub fn last(&self) -> Option<&str> {
        let end = *self.ends.last()?;
        let start = self.ends.len().checked_sub(2).map_or(0, |at| self.ends[at]);
        Some(&self.text[start..end])
    }

    /// The paths, in the order pushed.
    pub fn iter(&self) -> impl Iterator<Item = &str> + Clone {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(start, end)| &self.text[start..end])
    }
}

/// A writer that hashes what it passes on: a file's sha256 (`sha256_hex`) as it is written.
pub struct Hashed<W> {
    to: W,
    hash: Sha256,
}

impl<W: std::io::Write> Hashed<W> {
    pub fn new(to: W) -> Self {
        Self {
            to,
            hash: Sha256::new(),
        }
    }

    /// The hash of everything written.
    pub fn hash(self) -> FileHash {
        FileHash::Digest(self.hash.finalize().into())
    }
}

impl<W: std::io::Write> std::io::Write for Hashed<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.to.write(bytes)?;
        self.hash.update(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.to.flush()
    }
}

/// The entries `files`, each after the one before and its separator (the first one's
/// indentation is the caller's).
/// Entries of a manifest's files, with their separators; the place in `out` of the sha256 of
/// each path of `want` noted in `places`.
fn push_entries<'a>(
    out: &mut String,
    files: impl Iterator<Item = (&'a str, &'a Entry)>,
    want: &[&str],
    places: &mut [Option<usize>],
) {
    let mut any = false;
    for (path, entry) in files {
        if any {
            out.push_str(",\n    ");
        }
        any = true;
        let at = push_entry(out, path, entry);
        if let Some(i) = want.iter().position(|wanted| *wanted == path) {
            places[i] = Some(at);
        }
    }
}

/// One entry of the manifest's files, without its separator; where its sha256's digits begin.
fn push_entry(out: &mut String, path: &str, entry: &Entry) -> usize {
    push_json_string(out, path);
    out.push_str(": {\n      \"origin\": ");
    let mut digits = [0; 10];
    match entry.origin.pieces(&mut digits) {
        (file, Some(line)) => {
            // The closing quote of the file's name becomes the `:` before the line.
            push_json_string(out, file);
            out.pop();
            out.push(':');
            out.push_str(line);
            out.push('"');
        }
        (text, None) => push_json_string(out, text),
    }
    out.push_str(",\n      \"sha256\": ");
    // After the opening quote: hex digits need no escape.
    let at = out.len() + 1;
    push_json_string(out, entry.sha256.as_text(&mut [0; 64]));
    out.push_str("\n    }");
    at
}

/// The end of a manifest's text: the files' map closed (`any`: it lists one), the generator.
fn close_entries(out: &mut String, any: bool, generator: &str) {
    if any {
        out.push_str("\n  ");
    }
    out.push_str("},\n  \"generator\": ");
    push_json_string(out, generator);
    out.push_str("\n}\n");
}

/// `text` as a JSON string, escaped as `serde_json` escapes it: `"`, `\\` and the control
/// characters, nothing else.
fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    // Paths, origins and hashes never need an escape: one pass over the bytes that does not
    // stop early (so the compiler makes it a vector loop) says so, and the text is copied
    // whole (three per entry, 80,000 entries at 1,000 services).
    let escapes = text.bytes().fold(0u8, |any, b| {
        any | u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\')
    });
    if escapes == 0 {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// The files of `current` (the tree in `out/`) that replacing it with `new` would lose:
/// those no manifest lists (every file, when there is no manifest), and those edited since
/// platc wrote them. An edit that made a file exactly what `new` holds loses nothing and is not
/// counted, nor are the staged and previous trees that a stopped write left inside `out/`
/// (`platc build --env NAME` writes below `out/`), nor the journal and the half-written
/// temporary files of a stopped incremental write. A file that the journal lists with its hash
/// is platc's: a stopped incremental write wrote it.
pub(super) fn user_files(current: &Tree, new: &Tree) -> (Vec<String>, Vec<String>) {
    let manifests = manifests(current);
    let mut foreign = Vec::new();
    let mut edited = Vec::new();
    for (path, text) in current {
        if path.split('/').any(is_temporary)
            || [MANIFEST, JOURNAL].iter().any(|name| {
                path.strip_suffix(name)
                    .is_some_and(|dir| manifests.contains_key(dir))
            })
        {
            continue;
        }
        let hashes: Vec<&FileHash> = manifests
            .iter()
            .flat_map(|(dir, listed)| {
                let path = path.strip_prefix(dir.as_str());
                listed
                    .iter()
                    .filter_map(move |manifest| manifest.files.get(path?))
            })
            .map(|entry| &entry.sha256)
            .collect();
        if hashes.is_empty() {
            foreign.push(path.clone());
        } else if new.get(path) != Some(text) && !hashes.contains(&&FileHash::of(text)) {
            edited.push(path.clone());
        }
    }
    (foreign, edited)
}

/// The manifests of `current` that say which files platc wrote, by the directory they
/// describe (`""` for the top, else ending in `/`): the top one, each one a manifest found
/// lists, and each `env/NAME/.platc/manifest.json`, which `platc build --env NAME` writes alone;
/// with each, its journal (`JOURNAL`) when a stopped incremental write left one.
fn manifests(current: &Tree) -> BTreeMap<String, Vec<Manifest>> {
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
        let listed: Vec<Manifest> = [MANIFEST, JOURNAL]
            .iter()
            .filter_map(|name| current.get(&format!("{dir}{name}")))
            .filter_map(|text| serde_json::from_str::<Manifest>(text).ok())
            .collect();
        if listed.is_empty() {
            continue;
        }
        queue.extend(
            listed
                .iter()
                .flat_map(|manifest| manifest.files.keys())
                .filter_map(|path| path.strip_suffix(MANIFEST))
                .filter(|sub| sub.ends_with('/'))
                .map(|sub| format!("{dir}{sub}")),
        );
        found.insert(dir, listed);
    }
    found
}

/// Whether a path component is the staged or previous tree a stopped write left behind
/// (`.NAME.platc-new`, `.NAME.platc-old`), or a file a stopped incremental write was
/// writing (`.NAME.platc-tmp`).
pub(super) fn is_temporary(component: &str) -> bool {
    component.starts_with('.')
        && [TEMPORARY, ".platc-new", ".platc-old"]
            .iter()
            .any(|suffix| component.ends_with(suffix))
}

/// The suffix of the name an incremental write gives a file until it is whole:
/// `.NAME.platc-tmp` beside `NAME`.
pub(super) const TEMPORARY: &str = ".platc-tmp";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode;

    /// Paths pushed come back as pushed, in order, the empty one and one of many bytes among
    /// them, and their count is theirs; an entry at a time, the writer writes the text of
    /// the entries whole.
    #[test]
    fn paths_and_entries_given_one_at_a_time_come_back_whole() {
        let pushed = ["a", "", "env/é/b.yaml", "z/y/x"];
        let mut paths = Paths::with_capacity(1, 1);
        assert!(paths.is_empty());
        for path in pushed {
            paths.push(path);
        }
        assert_eq!(paths.iter().collect::<Vec<_>>(), pushed);
        assert_eq!(paths.len(), 4);
        assert_eq!(paths.last(), Some("z/y/x"));
        assert_eq!(Paths::default().last(), None);
        let entries: Vec<(&str, Entry)> = pushed
            .iter()
            .enumerate()
            .map(|(line, path)| {
                let origin = Origin::at("platform.kdl", line + 1);
                (
                    *path,
                    Entry {
                        origin,
                        sha256: FileHash::of(path),
                    },
                )
            })
            .collect();
        let listed = || entries.iter().map(|(path, entry)| (*path, entry));
        let mut written = Vec::new();
        let mut writer = EntriesWriter::new(&mut written);
        for (path, entry) in listed() {
            writer.push(path, entry).unwrap();
        }
        writer.finish(GENERATOR).unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            entries_text(listed(), GENERATOR)
        );
        let mut none = Vec::new();
        EntriesWriter::new(&mut none).finish(GENERATOR).unwrap();
        assert_eq!(
            String::from_utf8(none).unwrap(),
            entries_text(listed().take(0), GENERATOR)
        );
    }

    /// A manifest whose pending files are hashed beside its text is the manifest with their
    /// hashes, text and entries alike: short or written in halves, a pending file first,
    /// in the second half, or last.
    #[test]
    fn pending_hashes_are_put_in_the_text_written_beside_them() {
        for count in [3, 5000] {
            let texts: Vec<(String, String)> = (0..count)
                .map(|i| (format!("d/{i:05}.yaml"), format!("text {i}")))
                .collect();
            let whole = manifest(
                texts
                    .iter()
                    .map(|(path, text)| (path.as_str(), text.as_str(), "platform.kdl:1".into())),
            );
            let at = [0, count / 2 + 1, count - 1];
            let mut waiting = whole.clone();
            for &i in &at {
                waiting.files.get_mut(&texts[i].0).unwrap().sha256 = FileHash::PENDING;
            }
            assert_ne!(manifest_text(&waiting), manifest_text(&whole));
            let pending: Vec<(&str, &str)> = at
                .iter()
                .map(|&i| (texts[i].0.as_str(), texts[i].1.as_str()))
                .collect();
            let text = manifest_text_hashing(&mut waiting, &pending);
            assert_eq!(text, manifest_text(&whole), "{count}");
            assert_eq!(waiting, whole, "{count}");
        }
    }

    /// The files are one list sorted by path whatever order they come in, and a path given
    /// twice keeps its last entry, as the map they were before kept it; looked up, iterated
    /// and read back from the manifest's JSON alike.
    #[test]
    fn files_are_sorted_by_path_and_a_path_given_twice_keeps_its_last_entry() {
        let entry = |line: usize| Entry {
            origin: Origin::at("platform.kdl", line),
            sha256: FileHash::of(&line.to_string()),
        };
        let given = [
            ("b/x.yaml", 1),
            ("a.yaml", 2),
            ("b/x.yaml", 3),
            ("b-c.yaml", 4),
            ("a.yaml", 5),
            ("b/x.yaml", 6),
        ];
        let files: Files = given
            .iter()
            .map(|&(path, line)| (path.to_owned(), entry(line)))
            .collect();
        let map: BTreeMap<String, Entry> = given
            .iter()
            .map(|&(path, line)| (path.to_owned(), entry(line)))
            .collect();
        let listed: Vec<(&String, &Entry)> = files.iter().collect();
        assert_eq!(listed, map.iter().collect::<Vec<_>>());
        assert_eq!(
            files.keys().map(String::as_str).collect::<Vec<_>>(),
            ["a.yaml", "b-c.yaml", "b/x.yaml"]
        );
        assert_eq!(files.get("b/x.yaml"), Some(&entry(6)));
        assert_eq!(files.get("a.yaml"), Some(&entry(5)));
        assert!(files.contains_key("b-c.yaml"));
        assert!(!files.contains_key("b"));
        assert_eq!(files.get("c.yaml"), None);
        assert_eq!(files.len(), 3);
        // The manifest's text is the map's, and reads back to the same list.
        let manifest = Manifest {
            files: files.clone(),
            generator: GENERATOR.into(),
        };
        let text = manifest_text(&manifest);
        let as_map = encode::json(&serde_json::json!({"files": map, "generator": GENERATOR}));
        assert_eq!(text, as_map);
        let read: Manifest = serde_json::from_str(&text).unwrap();
        assert_eq!(read.files, files);
        // In order but for a path given twice in a row: not taken as it is (the list in
        // order is one whose paths rise), and the last entry kept.
        let in_order: Files = [("a.yaml", 1), ("b.yaml", 2), ("b.yaml", 3), ("c.yaml", 4)]
            .iter()
            .map(|&(path, line)| (path.to_owned(), entry(line)))
            .collect();
        assert_eq!(in_order.len(), 3);
        assert_eq!(in_order.get("b.yaml"), Some(&entry(3)));
        // Many entries, most paths given several times (a sort that is not stable keeps
        // another of them once there are more than a few dozen), and the list serialised on
        // its own as the map is.
        let many: Vec<(String, Entry)> = (0..300)
            .map(|i| (format!("p/{}.yaml", (i * 7) % 23), entry(i)))
            .collect();
        let files: Files = many.iter().cloned().collect();
        let map: BTreeMap<String, Entry> = many.into_iter().collect();
        assert_eq!(
            files.iter().collect::<Vec<_>>(),
            map.iter().collect::<Vec<_>>()
        );
        assert_eq!(
            serde_json::to_string(&files).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        let twice = r#"{"files": {"b": {"origin": "x:1", "sha256": "1"}, "a": {"origin": "x:2", "sha256": "2"}, "b": {"origin": "x:3", "sha256": "3"}}, "generator": "platc"}"#;
        let read: Manifest = serde_json::from_str(twice).unwrap();
        assert_eq!(read.files.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            read.files.get("b").map(|e| e.origin.to_string()).as_deref(),
            Some("x:3")
        );
    }

    /// A hash is held as its 32 bytes and written as the 64 lowercase hex digits it was
    /// (`sha256_hex`); anything else a manifest edited by hand names is kept as it stood,
    /// written back the same, and equal to no file's hash.
    #[test]
    fn a_hash_is_its_bytes_and_anything_else_is_kept_as_it_stood() {
        let text = "kind: ConfigMap\n";
        let hex = sha256_hex(text);
        let hash = FileHash::of(text);
        assert!(matches!(hash, FileHash::Digest(_)));
        assert_eq!(hash, *hex.as_str());
        assert_eq!(hash.to_string(), hex);
        assert_eq!(FileHash::from_hex(&hex), hash);
        assert_eq!(FileHash::of_bytes(text.as_bytes()), hash);
        let json = format!("{{\"origin\":\"platform.kdl:3\",\"sha256\":\"{hex}\"}}");
        let entry: Entry = serde_json::from_str(&json).unwrap();
        assert_eq!(entry.sha256, hash);
        assert_eq!(serde_json::to_string(&entry).unwrap(), json);
        for other in [
            hex.to_uppercase(),
            hex[..63].to_owned(),
            format!("{hex}0"),
            format!("{}g", &hex[..63]),
            String::new(),
            "\u{e9}".repeat(32),
        ] {
            let kept = FileHash::from_hex(&other);
            assert_eq!(kept, FileHash::Other(other.as_str().into()));
            assert_ne!(kept, hash);
            assert_eq!(kept, *other.as_str());
            assert_eq!(kept.to_string(), other);
            let entry = Entry {
                origin: "platform.kdl:3".into(),
                sha256: kept,
            };
            let json = serde_json::to_string(&entry).unwrap();
            assert_eq!(serde_json::from_str::<Entry>(&json).unwrap(), entry);
        }
    }

    #[test]
    fn the_manifest_text_is_the_sorted_json_encoding() {
        let listed = manifest([
            ("b/x.yaml", "x\n", "platform.kdl:3".into()),
            ("a.yaml", "a \"quoted\" \u{e9}\n", "platform.kdl:1".into()),
            // A line of a file whose name JSON escapes.
            ("c.yaml", "c", "my \"odd\\ \u{1}.kdl:12".into()),
        ]);
        assert!(matches!(
            listed.files.get("c.yaml").map(|e| &e.origin),
            Some(Origin::Line { line: 12, .. })
        ));
        assert_eq!(manifest_text(&listed), encode::json(&listed));
        assert!(manifest_text(&listed).starts_with("{\n  \"files\": {\n    \"a.yaml\""));
        // Every character that JSON escapes, and some it does not.
        let odd: String = (0u8..0x80)
            .map(char::from)
            .chain(['\u{e9}', '\u{2028}', '\u{1f600}'])
            .collect();
        let listed = manifest([(odd.as_str(), "x", odd.as_str().into())]);
        assert_eq!(manifest_text(&listed), encode::json(&listed));
        let empty = manifest([]);
        assert_eq!(manifest_text(&empty), encode::json(&empty));
        for listed in [&listed, &empty] {
            assert_eq!(written(listed), manifest_text(listed));
        }
    }

    /// `write_entries`'s bytes of a manifest's files, as text.
    fn written(listed: &Manifest) -> String {
        let mut bytes = Vec::new();
        let files = listed
            .files
            .iter()
            .map(|(path, entry)| (path.as_str(), entry));
        write_entries(files, &listed.generator, &mut bytes).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_long_manifest_written_in_halves_is_the_json_encoding_too() {
        // Odd and even counts on each side of the size written in halves; the longest
        // written by `write_entries` in three flushes and a rest.
        for count in [4095, 4096, 4097, 9000, 24_000] {
            let paths: Vec<String> = (0..count).map(|i| format!("dir/f{i:05}.yaml")).collect();
            let listed = manifest(paths.iter().map(|path| {
                (
                    path.as_str(),
                    path.as_str(),
                    Origin::at("platform.kdl", count),
                )
            }));
            let text = manifest_text(&listed);
            assert_eq!(text, encode::json(&listed), "{count} entries");
            let entries = listed
                .files
                .iter()
                .map(|(path, entry)| (path.as_str(), entry));
            assert_eq!(
                text,
                entries_text(entries.clone(), GENERATOR),
                "{count} entries"
            );
            assert_eq!(written(&listed), text, "{count} entries");
            // Written through a hash: the bytes, and their hash.
            let mut hashed = Hashed::new(Vec::new());
            write_entries(entries, GENERATOR, &mut hashed).unwrap();
            assert_eq!(hashed.to, text.as_bytes(), "{count} entries");
            assert_eq!(hashed.hash(), FileHash::of(&text), "{count} entries");
        }
    }
}
