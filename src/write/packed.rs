//! Manifest entries packed into one buffer: what a first build keeps of each file it staged
//! (its path, origin and hash) until the top manifest is written. At 10,000 services a tree
//! is 400,000 files; as one value each (a path's string, an empty text, the entry) they were
//! 183 bytes a file, 70 MB a tree, and the first tree's were held while the second was made,
//! at the build's peak. Packed, a file is its path's bytes and some 45 more.

use super::{Entry, FileHash, Origin};

/// Entries packed one after another, each: the path (its length as a `u32`, then its bytes),
/// the origin (a line of `file`: tag 0, the line as a `u32`; any other text: tag 1 and the
/// text as a path is), and the hash (a digest: tag 0 and its 32 bytes; any other text: tag 1
/// and the text). Numbers little-endian.
#[derive(Debug, Default)]
pub struct Packed {
    bytes: Vec<u8>,
    /// The file of the origins that are lines: the first one pushed. (Every entry of a batch
    /// comes from the platform's file; a line of another is packed as its text.)
    file: Option<&'static str>,
    len: usize,
}

const LINE: u8 = 0;
const DIGEST: u8 = 0;
const TEXT: u8 = 1;

impl Packed {
    /// Room for the entries of files at `paths`, each origin a line and each hash a digest
    /// (a room short by a byte would double when the last entry is pushed).
    pub fn for_paths<'a>(paths: impl Iterator<Item = &'a str>) -> Self {
        let bytes = paths.map(|path| 4 + path.len() + 5 + 33).sum();
        Self {
            bytes: Vec::with_capacity(bytes),
            file: None,
            len: 0,
        }
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds the entry of `path`.
    pub fn push(&mut self, path: &str, entry: &Entry) {
        self.text(path);
        match entry.origin {
            Origin::Line { file, line } if *self.file.get_or_insert(file) == file => {
                self.bytes.push(LINE);
                self.bytes.extend_from_slice(&line.to_le_bytes());
            }
            _ => {
                self.bytes.push(TEXT);
                self.text(&entry.origin.to_string());
            }
        }
        match &entry.sha256 {
            FileHash::Digest(digest) => {
                self.bytes.push(DIGEST);
                self.bytes.extend_from_slice(digest);
            }
            FileHash::Other(text) => {
                self.bytes.push(TEXT);
                self.text(text);
            }
        }
        self.len += 1;
    }

    fn text(&mut self, text: &str) {
        // A path or an origin of 4 GB is not one a build makes; were it, the length written
        // would say less than the bytes, and the entries after it would be misread (`iter`
        // ends where a length or a text does not hold).
        let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(text.as_bytes());
    }

    /// The entries, in the order pushed.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Entry)> + '_ {
        let mut rest = self.bytes.as_slice();
        let file = self.file.unwrap_or_default();
        std::iter::from_fn(move || {
            let path = take_text(&mut rest)?;
            let origin = match take(&mut rest, 1)?[0] {
                LINE => Origin::Line {
                    file,
                    line: u32::from_le_bytes(take(&mut rest, 4)?.try_into().ok()?),
                },
                _ => Origin::parse(take_text(&mut rest)?),
            };
            let sha256 = match take(&mut rest, 1)?[0] {
                DIGEST => FileHash::Digest(take(&mut rest, 32)?.try_into().ok()?),
                _ => FileHash::Other(take_text(&mut rest)?.into()),
            };
            Some((path, Entry { origin, sha256 }))
        })
    }
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
        let back: Vec<(&str, Entry)> = packed.iter().collect();
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
    }

    /// Entries whose origins are lines of one file and whose hashes are digests fill the room
    /// `for_paths` makes exactly: a byte short, the buffer would double when the last entry
    /// came (at 10,000 services, 35 MB more a tree at the build's peak).
    #[test]
    fn the_room_made_is_the_room_filled() {
        let paths = ["a.yaml", "helm/chart/templates/deployment.yaml", "ü"];
        let mut packed = Packed::for_paths(paths.iter().copied());
        let room = packed.bytes.capacity();
        for (line, path) in paths.iter().enumerate() {
            let entry = Entry {
                origin: Origin::at("platform.kdl", line * 1000),
                sha256: FileHash::of(path),
            };
            packed.push(path, &entry);
        }
        assert_eq!(packed.bytes.len(), room);
        assert_eq!(packed.bytes.capacity(), room);
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
        let one = packed.bytes.len();
        packed.push("a/c.yaml", &entry);
        for cut in 0..packed.bytes.len() {
            let cut_at = Packed {
                bytes: packed.bytes[..cut].to_vec(),
                file: packed.file,
                len: 0,
            };
            let whole = usize::from(cut >= one);
            assert_eq!(cut_at.iter().count(), whole, "cut at {cut}");
        }
        assert_eq!(packed.iter().count(), 2);
    }
}
