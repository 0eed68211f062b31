//! Where a file of `out/` came from, as its manifest entry says: `FILE:LINE`.

use serde::{Deserialize, Serialize};

/// A manifest entry's origin: a line of a file named once (the platform's file, interned:
/// `Origin::at`), not a string of each entry's own. At 10,000 services the 800,000 entries
/// of a build held 19 MB of such strings, each made by a `format!`; a rebuild copied one for
/// every file it kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `FILE:LINE`.
    Line { file: &'static str, line: u32 },
    /// Any other text, as a manifest edited by hand may hold: kept as it stood.
    Text(Box<str>),
}

impl Origin {
    /// Line `line` of `file`.
    pub fn at(file: &str, line: usize) -> Self {
        match (u32::try_from(line), intern(file)) {
            (Ok(line), Some(file)) => Self::Line { file, line },
            _ => Self::Text(format!("{file}:{line}").into_boxed_str()),
        }
    }

    /// The origin a manifest's text gives: `FILE:LINE`, the line in digits without a leading
    /// zero, is a line (and written back the same); any other text is kept as it is.
    pub fn parse(text: &str) -> Self {
        // The digits that end it, and the `:` just before them: read back from the end, not
        // searched for (80,000 origins in a rebuild of 1,000 services).
        let bytes = text.as_bytes();
        let digits = bytes
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let colon = bytes.len() - digits;
        let canonical = digits > 0
            && colon > 0
            && bytes[colon - 1] == b':'
            && (digits == 1 || bytes[colon] != b'0');
        let line = canonical
            .then(|| text[colon..].parse::<u32>().ok())
            .flatten()
            .and_then(|line| Some((line, intern(&text[..colon - 1])?)));
        match line {
            Some((line, file)) => Self::Line { file, line },
            None => Self::Text(text.into()),
        }
    }

    /// The length of its text.
    pub fn len(&self) -> usize {
        match self {
            Self::Line { file, line } => {
                file.len() + 1 + line.checked_ilog10().unwrap_or(0) as usize + 1
            }
            Self::Text(text) => text.len(),
        }
    }

    /// Whether its text is empty (never a line).
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Text(text) if text.is_empty())
    }

    /// Its text in two pieces: the file and the line's digits (written into `digits`), or
    /// the whole text of a `Text`.
    pub fn pieces<'a>(&'a self, digits: &'a mut [u8; 10]) -> (&'a str, Option<&'a str>) {
        match self {
            Self::Line { file, line } => {
                let mut at = digits.len();
                let mut rest = *line;
                loop {
                    at -= 1;
                    // A digit: `rest % 10` is below 10.
                    digits[at] = b'0' + u8::try_from(rest % 10).unwrap_or(0);
                    rest /= 10;
                    if rest == 0 {
                        break;
                    }
                }
                // ASCII digits.
                (file, std::str::from_utf8(&digits[at..]).ok())
            }
            Self::Text(text) => (text, None),
        }
    }
}

impl From<&str> for Origin {
    fn from(text: &str) -> Self {
        Self::parse(text)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Line { file, line } => write!(f, "{file}:{line}"),
            Self::Text(text) => f.write_str(text),
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Origin {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(Self::parse(&text))
    }
}

/// `file`, kept once for the process: the platform's file name, and the few another
/// manifest names. `None` past 64 names (a manifest edited by hand to name a file on each
/// line): those origins are kept as text.
/// Each thread asks for the name it asked for last: the lock is taken once a thread and
/// name, not for each of a build's files.
fn intern(file: &str) -> Option<&'static str> {
    static FILES: crate::intern::Interner = crate::intern::Interner::new(64);
    thread_local! {
        static LAST: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
    }
    if let Some(last) = LAST.get().filter(|last| *last == file) {
        return Some(last);
    }
    let known = FILES.get(file)?;
    LAST.set(Some(known));
    Some(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line's text is `FILE:LINE` and parses back to the line; any other text is kept as
    /// it stood, and written back the same.
    #[test]
    fn an_origin_is_written_as_it_was_read() {
        let line = Origin::at("platform.kdl", 1207);
        assert_eq!(line.to_string(), "platform.kdl:1207");
        assert_eq!(line.len(), "platform.kdl:1207".len());
        assert_eq!(Origin::parse("platform.kdl:1207"), line);
        assert_eq!(Origin::at("a:b.kdl", 9), Origin::parse("a:b.kdl:9"));
        for text in [
            "platform.kdl:0012",
            "platform.kdl:",
            "platform.kdl",
            "platform.kdl:12a",
            "platform.kdl12",
            "platform.kdl:99999999999",
            "",
            "edited by hand",
        ] {
            let origin = Origin::parse(text);
            assert!(matches!(origin, Origin::Text(_)), "{text}: {origin:?}");
            assert_eq!(origin.to_string(), text);
            assert_eq!(origin.len(), text.len());
        }
        for line in [0, 1, 9, 10, 99, 100, u32::MAX] {
            let origin = Origin::parse(&format!("f:{line}"));
            let mut digits = [0; 10];
            assert!(matches!(origin, Origin::Line { .. }), "{line}");
            let (file, number) = origin.pieces(&mut digits);
            assert_eq!(format!("{file}:{}", number.unwrap()), format!("f:{line}"));
            assert_eq!(origin.len(), format!("f:{line}").len());
        }
    }
}
