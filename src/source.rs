//! Source files: a name (as shown in diagnostics) and the text, plus line lookup for spans.

use crate::span::Span;

/// One `platform.kdl` as read from disk (or given by a test).
#[derive(Clone, Debug)]
pub struct Source {
    name: String,
    text: String,
    /// The byte offset of the first sequence that is not UTF-8, when the file had one; the
    /// text then holds U+FFFD in its place (offsets before it are the file's).
    invalid_utf8: Option<usize>,
    /// The directory the file was read from: `config … file=` paths are relative to it. A
    /// source given as text alone (a test, `platc init`) has none and reads no file.
    dir: Option<std::path::PathBuf>,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
            invalid_utf8: None,
            dir: None,
        }
    }

    /// A file as read from disk: UTF-8, or (for a diagnostic that shows where it is not) the
    /// text with each bad sequence replaced.
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => Self::new(name, text),
            Err(error) => {
                let offset = error.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
                Self {
                    name: name.into(),
                    text,
                    invalid_utf8: Some(offset),
                    dir: None,
                }
            }
        }
    }

    /// Reads a file; the files its `config … file=` name are read from its directory.
    pub fn read(path: &std::path::Path) -> std::io::Result<Self> {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        Ok(Self::from_bytes(path.display().to_string(), std::fs::read(path)?).with_dir(dir))
    }

    /// The same source, its `config … file=` paths relative to `dir`.
    #[must_use]
    pub fn with_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The directory `config … file=` paths are relative to, when the source has one.
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_deref()
    }

    /// The byte offset of the first sequence that is not UTF-8, if any.
    pub fn invalid_utf8(&self) -> Option<usize> {
        self.invalid_utf8
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text under a span; empty when the span is out of bounds.
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// 1-based line and column (in chars) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_chars() {
        let source = Source::new("p.kdl", "ab\ncé d\n");
        assert_eq!(source.line_col(0), (1, 1));
        assert_eq!(source.line_col(3), (2, 1));
        // `d` sits after a two-byte char: byte 7, column 4.
        assert_eq!(source.line_col(7), (2, 4));
        assert_eq!(source.slice(Span::new(3, 6)), "cé");
    }
}
