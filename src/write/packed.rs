//! Manifest entries packed into one buffer: what a first build keeps of each file it staged
//! (its path, origin and hash) until the top manifest is written. At 10,000 services a tree
//! is 400,000 files; as one value each (a path's string, an empty text, the entry) they were
//! 183 bytes a file, 70 MB a tree, and the first tree's were held while the second was made,
//! at the build's peak. Packed, a file is its path's bytes and some 45 more.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Entry, FileHash, Origin};

/// Entries packed one after another, each: the path (its length as a `u32`, then its bytes),
/// the origin (a line of `file`: tag 0, the line as a `u32`; any other text: tag 1 and the
/// text as a path is), and the hash (a digest: tag 0 and its 32 bytes; any other text: tag 1
/// and the text). Numbers little-endian. The buffer is in pieces of some `PIECE` bytes, each
/// of whole entries: the top manifest takes them in a merge of every batch's entries, and
/// frees each piece once it has taken it (`into_entries`), where the whole buffers were held
/// until the merge's end (at 10,000 services, 70 MB beside the 88 MB of entries made).
#[derive(Debug, Default)]
pub struct Packed {
    pieces: Vec<Vec<u8>>,
    /// The bytes `for_paths` counted and no entry has filled yet: a piece is made of at most
    /// `PIECE` of them, so that the pieces of entries as counted fill the room made.
    room: usize,
    /// The file of the origins that are lines: the first one pushed. (Every entry of a batch
    /// comes from the platform's file; a line of another is packed as its text.)
    file: Option<&'static str>,
    len: usize,
    /// The bytes of the paths pushed.
    path_bytes: usize,
    /// Where its pieces are once put in a file (`spill`): `pieces` is empty then.
    spilled: Option<(Arc<Spill>, Places)>,
}

/// Each piece's place and length in a `Spill`, in order.
type Places = Vec<(u64, usize)>;

/// A file of the cache that the pieces of a tree's `Packed` batches are put in until the top
/// manifest takes them (`Packed::spill`): removed when the last of them is dropped. (A file
/// that a build killed before then left, `packed-spill-PID-N.tmp`, is removed with the
/// cache's other stale temporary files.)
#[derive(Debug)]
pub struct Spill {
    file: std::fs::File,
    path: PathBuf,
    /// A piece could not be read back: the entries taken are not all of them.
    failed: AtomicBool,
}

impl Spill {
    /// Whether a piece could not be read back (`Packed::into_entries` ended early).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// The piece at `at`, `len` bytes long.
    #[cfg(unix)]
    fn read(&self, at: u64, len: usize) -> Option<Vec<u8>> {
        use std::os::unix::fs::FileExt as _;
        let mut piece = vec![0; len];
        let read = self.file.read_exact_at(&mut piece, at);
        if read.is_err() {
            self.failed.store(true, Ordering::Relaxed);
        }
        read.ok().map(|()| piece)
    }

    #[cfg(not(unix))]
    fn read(&self, _at: u64, _len: usize) -> Option<Vec<u8>> {
        self.failed.store(true, Ordering::Relaxed);
        None
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The bytes of a piece, but for an entry longer: small, since a merge of a build's batches
/// (626 at 10,000 services) holds a piece of each at once.
const PIECE: usize = 8 << 10;

const LINE: u8 = 0;
const DIGEST: u8 = 0;
const TEXT: u8 = 1;

impl Packed {
    /// Room for the entries of files at `paths`, each origin a line and each hash a digest
    /// (a room short by a byte would double a piece's when the last entry is pushed).
    pub fn for_paths<'a>(paths: impl Iterator<Item = &'a str>) -> Self {
        Self {
            room: paths.map(|path| 4 + path.len() + 5 + 33).sum(),
            ..Self::default()
        }
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The bytes of the paths of the entries it holds.
    pub fn path_bytes(&self) -> usize {
        self.path_bytes
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds the entry of `path`.
    pub fn push(&mut self, path: &str, entry: &Entry) {
        let origin = match entry.origin {
            Origin::Line { file, line } if *self.file.get_or_insert(file) == file => Err(line),
            _ => Ok(entry.origin.to_string()),
        };
        let hash = match &entry.sha256 {
            FileHash::Digest(digest) => Err(digest),
            FileHash::Other(text) => Ok(text),
        };
        let size = 4
            + path.len()
            + origin.as_ref().map_or(5, |text| 5 + text.len())
            + hash.as_ref().map_or(33, |text| 5 + text.len());
        let piece = self.piece(size);
        text(piece, path);
        match origin {
            Err(line) => {
                piece.push(LINE);
                piece.extend_from_slice(&line.to_le_bytes());
            }
            Ok(origin) => {
                piece.push(TEXT);
                text(piece, &origin);
            }
        }
        match hash {
            Err(digest) => {
                piece.push(DIGEST);
                piece.extend_from_slice(digest);
            }
            Ok(other) => {
                piece.push(TEXT);
                text(piece, other);
            }
        }
        self.room = self.room.saturating_sub(size);
        self.len += 1;
        self.path_bytes += path.len();
    }

    /// The piece with room for `size` more bytes: the last, or a new one.
    fn piece(&mut self, size: usize) -> &mut Vec<u8> {
        let fits = self
            .pieces
            .last()
            .is_some_and(|piece| piece.capacity() - piece.len() >= size);
        if !fits {
            // As counted: the room left, up to a piece; past the count (an origin or a hash
            // that is a text, an entry pushed without `for_paths`), a whole piece.
            let room = if self.room >= size {
                self.room.min(PIECE.max(size))
            } else {
                PIECE.max(size)
            };
            self.pieces.push(Vec::with_capacity(room));
        }
        let at = self.pieces.len() - 1;
        &mut self.pieces[at]
    }

    /// The file its pieces were put in (`spill`), if they were.
    pub fn spill_file(&self) -> Option<&Arc<Spill>> {
        self.spilled.as_ref().map(|(spill, _)| spill)
    }

    /// Puts the pieces of every batch of `batches` in one new file of `dir`, and frees them:
    /// `into_entries` reads each back when it comes to it. What a first build does with the
    /// base tree's entries while it makes the environments' trees (34 MB at 10,000 services,
    /// held at the build's peak). Where the file cannot be made or written, the batches keep
    /// their pieces (and the file is removed); only on unix, whose reads at a place leave
    /// one handle of the file to every batch.
    pub fn spill(batches: &mut [Self], dir: &Path) -> std::io::Result<()> {
        static SPILLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        if !cfg!(unix) {
            return Err(std::io::ErrorKind::Unsupported.into());
        }
        let at = SPILLS.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("packed-spill-{}-{at}.tmp", std::process::id()));
        std::fs::create_dir_all(dir)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        // Removed when dropped: on an error below, too.
        let spill = Spill {
            file,
            path,
            failed: AtomicBool::new(false),
        };
        let mut places: Vec<Places> = Vec::with_capacity(batches.len());
        {
            let mut writer = std::io::BufWriter::with_capacity(1 << 20, &spill.file);
            let mut end = 0u64;
            for batch in batches.iter() {
                let mut batch_places = Vec::with_capacity(batch.pieces.len());
                for piece in &batch.pieces {
                    std::io::Write::write_all(&mut writer, piece)?;
                    batch_places.push((end, piece.len()));
                    end += piece.len() as u64;
                }
                places.push(batch_places);
            }
            std::io::Write::flush(&mut writer)?;
        }
        let spill = Arc::new(spill);
        for (batch, batch_places) in batches.iter_mut().zip(places) {
            if batch.spilled.is_none() && !batch.pieces.is_empty() {
                batch.pieces = Vec::new();
                batch.spilled = Some((Arc::clone(&spill), batch_places));
            }
        }
        Ok(())
    }

    /// The entries, in the order pushed; an error for a batch whose pieces are in a file
    /// (`spill`), which only `into_entries` reads back: its entries are not in memory to
    /// lend, and a manifest made without them would list too few files.
    pub fn entries(&self) -> std::io::Result<impl Iterator<Item = (&str, Entry)> + '_> {
        if self.spilled.is_some() {
            return Err(std::io::Error::other(
                "the entries were put in a file of the cache: they are read back as taken",
            ));
        }
        let file = self.file.unwrap_or_default();
        Ok(self.pieces.iter().flat_map(move |piece| {
            let mut rest = piece.as_slice();
            std::iter::from_fn(move || entry(&mut rest, file))
        }))
    }

    /// The entries, in the order pushed, each path as `path` gives it: each piece freed once
    /// its entries are given.
    pub fn into_entries(
        self,
        path: impl Fn(&str) -> String,
    ) -> impl Iterator<Item = (String, Entry)> {
        let file = self.file.unwrap_or_default();
        let mut pieces: Box<dyn Iterator<Item = Vec<u8>>> = match self.spilled {
            // Each read back as it comes: a piece that cannot be is the entries' end, and
            // the file's `failed` says so.
            Some((spill, places)) => Box::new(
                places
                    .into_iter()
                    .map_while(move |(at, len)| spill.read(at, len)),
            ),
            None => Box::new(self.pieces.into_iter()),
        };
        let mut piece = Vec::new();
        let mut at = 0;
        std::iter::from_fn(move || {
            loop {
                let mut rest = piece.get(at..).unwrap_or_default();
                if let Some((taken, entry)) = entry(&mut rest, file) {
                    let taken = path(taken);
                    at = piece.len() - rest.len();
                    return Some((taken, entry));
                }
                // This piece is done (or torn, as `entries` ends there too): the next one.
                piece = pieces.next()?;
                at = 0;
            }
        })
    }
}

/// Appends `text`: its length, then its bytes.
fn text(piece: &mut Vec<u8>, text: &str) {
    // A path or an origin of 4 GB is not one a build makes; were it, the length written
    // would say less than the bytes, and the entries after it would be misread (`entries`
    // ends where a length or a text does not hold).
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    piece.extend_from_slice(&len.to_le_bytes());
    piece.extend_from_slice(text.as_bytes());
}

/// The entry at the front of `rest`, taken off it; `None` at its end or where it is torn.
fn entry<'a>(rest: &mut &'a [u8], file: &'static str) -> Option<(&'a str, Entry)> {
    let path = take_text(rest)?;
    let origin = match take(rest, 1)?[0] {
        LINE => Origin::Line {
            file,
            line: u32::from_le_bytes(take(rest, 4)?.try_into().ok()?),
        },
        _ => Origin::parse(take_text(rest)?),
    };
    let sha256 = match take(rest, 1)?[0] {
        DIGEST => FileHash::Digest(take(rest, 32)?.try_into().ok()?),
        _ => FileHash::Other(take_text(rest)?.into()),
    };
    Some((path, Entry { origin, sha256 }))
}

/// The first `n` bytes of `rest`, taken off it.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (taken, after) = rest.split_at_checked(n)?;
    *rest = after;
    Some(taken)
}

/// A text (its length, then its bytes) taken off `rest`.
fn take_text<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    let len = u32::from_le_bytes(take(rest, 4)?.try_into().ok()?);
    std::str::from_utf8(take(rest, usize::try_from(len).ok()?)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of entry comes back as it was pushed, in order: a line of the first file, a
    /// line of another file (packed as its text), an origin edited by hand, a digest and a
    /// hash that is not one, and paths that are empty or not ASCII.
    #[test]
    fn entries_come_back_as_pushed() {
        let entries = [
            (
                "helm/a/values.yaml",
                Origin::at("platform.kdl", 12),
                FileHash::of("a"),
            ),
            ("", Origin::at("platform.kdl", 0), FileHash::PENDING),
            (
                "k8s/ü/ß.yaml",
                Origin::at("other.kdl", 7),
                FileHash::of("b"),
            ),
            ("x", Origin::parse("by hand"), FileHash::from_hex("not hex")),
            (
                "y",
                Origin::at("platform.kdl", u32::MAX as usize),
                FileHash::of(""),
            ),
        ];
        let mut packed = Packed::for_paths(entries.iter().map(|(path, _, _)| *path));
        assert!(packed.is_empty());
        for (path, origin, sha256) in &entries {
            let entry = Entry {
                origin: origin.clone(),
                sha256: sha256.clone(),
            };
            packed.push(path, &entry);
        }
        assert_eq!(packed.len(), entries.len());
        let bytes: usize = entries.iter().map(|(path, _, _)| path.len()).sum();
        assert_eq!(packed.path_bytes(), bytes);
        let back: Vec<(&str, Entry)> = packed.entries().unwrap().collect();
        let expected: Vec<(&str, Entry)> = entries
            .iter()
            .map(|(path, origin, sha256)| {
                let entry = Entry {
                    origin: origin.clone(),
                    sha256: sha256.clone(),
                };
                (*path, entry)
            })
            .collect();
        assert_eq!(back, expected);
        // The other file's line is the same text, read back as a line of its file.
        assert_eq!(back[2].1.origin.to_string(), "other.kdl:7");
        // Taken, the same entries, each path as asked.
        let owned: Vec<(String, Entry)> = packed.into_entries(|p| format!("/{p}")).collect();
        let owned: Vec<(&str, Entry)> = owned.iter().map(|(p, e)| (&p[1..], e.clone())).collect();
        assert_eq!(owned, expected);
    }

    /// Entries whose origins are lines of one file and whose hashes are digests fill the room
    /// `for_paths` makes: each piece but the last has less room left than the next entry
    /// needs, and the last none (a byte short, a piece would double when the last entry
    /// came: at 10,000 services, 35 MB more a tree at the build's peak).
    #[test]
    fn the_room_made_is_the_room_filled() {
        let paths: Vec<String> = (0..1000)
            .map(|i| format!("helm/chart-{i}/templates/{}.yaml", "d".repeat(i % 50)))
            .collect();
        let mut packed = Packed::for_paths(paths.iter().map(String::as_str));
        let mut sizes = Vec::new();
        for (line, path) in paths.iter().enumerate() {
            let entry = Entry {
                origin: Origin::at("platform.kdl", line * 1000),
                sha256: FileHash::of(path),
            };
            packed.push(path, &entry);
            sizes.push((packed.pieces.len(), 4 + path.len() + 5 + 33));
        }
        assert!(packed.pieces.len() > 2, "{} pieces", packed.pieces.len());
        for (at, piece) in packed.pieces.iter().enumerate() {
            assert!(piece.capacity() <= PIECE);
            let spare = piece.capacity() - piece.len();
            match sizes.iter().find(|(pieces, _)| *pieces == at + 2) {
                Some((_, next)) => assert!(spare < *next, "piece {at}: {spare} spare"),
                None => assert_eq!(spare, 0, "the last piece"),
            }
        }
        let back: Vec<String> = packed
            .into_entries(|p| format!("d/{p}"))
            .map(|e| e.0)
            .collect();
        let expected: Vec<String> = paths.iter().map(|p| format!("d/{p}")).collect();
        assert_eq!(back, expected);
    }

    /// Cut anywhere, the buffer gives the entries before the cut, and nothing torn.
    #[test]
    fn a_cut_buffer_gives_the_whole_entries_before_it() {
        let mut packed = Packed::default();
        let entry = Entry {
            origin: Origin::at("platform.kdl", 3),
            sha256: FileHash::of("text"),
        };
        packed.push("a/b.yaml", &entry);
        let one = packed.pieces[0].len();
        packed.push("a/c.yaml", &entry);
        assert_eq!(packed.pieces.len(), 1);
        for cut in 0..packed.pieces[0].len() {
            let cut_at = || Packed {
                pieces: vec![packed.pieces[0][..cut].to_vec()],
                file: packed.file,
                ..Packed::default()
            };
            let whole = usize::from(cut >= one);
            assert_eq!(cut_at().entries().unwrap().count(), whole, "cut at {cut}");
            assert_eq!(cut_at().into_entries(str::to_owned).count(), whole);
        }
        assert_eq!(packed.entries().unwrap().count(), 2);
    }

    /// Batches put in a file come back whole and in order, each piece read back as the
    /// entries come to it, their memory freed; one that cannot be read back ends the entries
    /// early, and the file says so. Where the file cannot be made, the batches keep theirs.
    #[cfg(unix)]
    #[test]
    fn spilled_batches_come_back_whole_or_say_they_did_not() {
        let dir = std::env::temp_dir().join(format!("platc-packed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let batch = |name: &str| {
            let paths: Vec<String> = (0..500).map(|i| format!("{name}/{i:04}.yaml")).collect();
            let mut packed = Packed::for_paths(paths.iter().map(String::as_str));
            for (line, path) in paths.iter().enumerate() {
                let origin = Origin::at("platform.kdl", line);
                packed.push(
                    path,
                    &Entry {
                        origin,
                        sha256: FileHash::of(path),
                    },
                );
            }
            packed
        };
        let taken = |packed: Packed| -> Vec<(String, Entry)> {
            packed.into_entries(str::to_owned).collect()
        };
        let expected = [taken(batch("a")), Vec::new(), taken(batch("b"))];
        assert!(batch("a").pieces.len() > 2, "in several pieces");
        let made = || vec![batch("a"), Packed::default(), batch("b")];
        let mut batches = made();
        Packed::spill(&mut batches, &dir).unwrap();
        assert!(batches[0].pieces.is_empty() && batches[2].pieces.is_empty());
        assert!(
            batches[1].spill_file().is_none(),
            "an empty batch puts nothing"
        );
        let spill = Arc::clone(batches[0].spill_file().unwrap());
        assert!(
            Arc::ptr_eq(&spill, batches[2].spill_file().unwrap()),
            "one file"
        );
        assert_eq!(batches[0].len(), 500);
        // Lent, a spilled batch is an error, not an empty run; an empty one lends none.
        assert!(batches[0].entries().is_err() && batches[2].entries().is_err());
        assert_eq!(batches[1].entries().unwrap().count(), 0);
        let back: Vec<Vec<(String, Entry)>> = batches.into_iter().map(taken).collect();
        assert_eq!(back, expected);
        assert!(!spill.failed());
        let path = spill.path.clone();
        drop(spill);
        assert!(!path.exists(), "removed with the last batch");
        // Cut short after the write: the entries end early, and `failed` says so.
        let mut batches = made();
        Packed::spill(&mut batches, &dir).unwrap();
        let spill = Arc::clone(batches[2].spill_file().unwrap());
        spill.file.set_len(100).unwrap();
        let [a, _, b]: [Packed; 3] = batches.try_into().unwrap();
        assert!(taken(a).len() < 500 && taken(b).is_empty());
        assert!(spill.failed());
        // A file that cannot be made: nothing moves.
        let mut batches = made();
        let not_a_dir = dir.join(path.file_name().unwrap()).join("below");
        std::fs::write(dir.join(path.file_name().unwrap()), "a file").unwrap();
        assert!(Packed::spill(&mut batches, &not_a_dir).is_err());
        assert!(batches[0].spill_file().is_none());
        let back: Vec<Vec<(String, Entry)>> = batches.into_iter().map(taken).collect();
        assert_eq!(back, expected);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
