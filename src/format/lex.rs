//! KDL v2 text → tokens that cover it without a gap: every byte of the text is in exactly one
//! token, so the layout can print every comment and every value exactly as it was written.
//!
//! A value (an identifier, a quoted, raw or multi-line string, a number or a keyword) is one
//! `Atom`; the layout never looks inside it. The lexer does not validate: it runs on text that
//! has parsed, and answers `None` for anything it cannot split, which the caller reports.

use crate::span::Span;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The byte order mark at the start of the file.
    Bom,
    /// A run of non-newline whitespace.
    Space,
    /// One newline: CRLF, or one of LF, CR, NEL, VT, FF, LS, PS.
    Newline,
    /// `//` to the end of the line, the newline excluded.
    LineComment,
    /// `/* … */`, nested comments included; may span lines.
    BlockComment,
    /// `/-`.
    Slashdash,
    /// `\`, a line continuation (the space, comment and newline after it are tokens of their
    /// own).
    Escline,
    Open,
    Close,
    Semicolon,
    LeftParen,
    RightParen,
    Equals,
    /// A value or a name: identifier, quoted, raw or multi-line string, number or keyword.
    Atom,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub span: Span,
}

/// Splits `text` into tokens, or `None` when it cannot (an unclosed string or comment, or a
/// character no token starts with).
pub fn lex(text: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    if text.starts_with('\u{feff}') {
        tokens.push(Token {
            kind: Kind::Bom,
            span: Span::new(0, 3),
        });
        pos = 3;
    }
    while pos < text.len() {
        let (kind, len) = token(&text[pos..])?;
        tokens.push(Token {
            kind,
            span: Span::new(pos, pos + len),
        });
        pos += len;
    }
    Some(tokens)
}

/// The token at the start of `rest`, and its length in bytes.
fn token(rest: &str) -> Option<(Kind, usize)> {
    let c = rest.chars().next()?;
    if let Some(len) = newline(rest) {
        return Some((Kind::Newline, len));
    }
    if is_space(c) {
        let len = rest
            .char_indices()
            .find(|&(_, c)| !is_space(c))
            .map_or(rest.len(), |(i, _)| i);
        return Some((Kind::Space, len));
    }
    let punctuation = match c {
        '{' => Some(Kind::Open),
        '}' => Some(Kind::Close),
        ';' => Some(Kind::Semicolon),
        '(' => Some(Kind::LeftParen),
        ')' => Some(Kind::RightParen),
        '=' => Some(Kind::Equals),
        '\\' => Some(Kind::Escline),
        _ => None,
    };
    if let Some(kind) = punctuation {
        return Some((kind, 1));
    }
    if rest.starts_with("//") {
        let len = rest
            .char_indices()
            .find(|&(i, _)| newline(&rest[i..]).is_some())
            .map_or(rest.len(), |(i, _)| i);
        return Some((Kind::LineComment, len));
    }
    if rest.starts_with("/*") {
        return Some((Kind::BlockComment, block_comment(rest)?));
    }
    if rest.starts_with("/-") {
        return Some((Kind::Slashdash, 2));
    }
    match c {
        '"' => Some((Kind::Atom, quoted(rest)?)),
        '#' => Some((Kind::Atom, hashed(rest)?)),
        '/' | '[' | ']' => None,
        _ => {
            let len = identifier(rest);
            (len > 0).then_some((Kind::Atom, len))
        }
    }
}

/// The length of the newline at the start of `rest`, if one is there.
fn newline(rest: &str) -> Option<usize> {
    if rest.starts_with("\r\n") {
        return Some(2);
    }
    let c = rest.chars().next()?;
    matches!(
        c,
        '\n' | '\r' | '\u{85}' | '\u{b}' | '\u{c}' | '\u{2028}' | '\u{2029}'
    )
    .then(|| c.len_utf8())
}

/// Whitespace that is not a newline (KDL's table: Unicode `White_Space` minus newlines).
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

fn is_newline_char(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{85}' | '\u{b}' | '\u{c}' | '\u{2028}' | '\u{2029}'
    )
}

/// An identifier, a number or the rest of a keyword: up to the next character that no
/// identifier holds.
fn identifier(rest: &str) -> usize {
    rest.char_indices()
        .find(|&(_, c)| is_space(c) || is_newline_char(c) || "\\/(){};[]\"#=".contains(c))
        .map_or(rest.len(), |(i, _)| i)
}

/// `/* … */` with nesting.
fn block_comment(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// `"…"` or `"""…"""`, escapes skipped.
fn quoted(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let (close, mut i): (&[u8], usize) = if rest.starts_with("\"\"\"") {
        (b"\"\"\"", 3)
    } else {
        (b"\"", 1)
    };
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            // The escaped character is skipped whole (it may be a multi-byte space).
            i += 1;
            i += rest[i..].chars().next().map_or(0, char::len_utf8);
        } else if bytes[i..].starts_with(close) {
            return Some(i + close.len());
        } else {
            i += 1;
        }
    }
    None
}

/// A raw string (`#"…"#`, `##"""…"""##`) or a keyword (`#true`, `#-inf`).
fn hashed(rest: &str) -> Option<usize> {
    let hashes = rest.bytes().take_while(|&b| b == b'#').count();
    let after = &rest[hashes..];
    if !after.starts_with('"') {
        let len = identifier(after);
        return (hashes == 1 && len > 0).then_some(1 + len);
    }
    let quotes = if after.starts_with("\"\"\"") { 3 } else { 1 };
    let close = format!("{}{}", "\"".repeat(quotes), "#".repeat(hashes));
    let body = hashes + quotes;
    rest[body..].find(&close).map(|i| body + i + close.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        lex(text)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, &text[t.span.start..t.span.end]))
            .collect()
    }

    #[test]
    fn splits_every_kind_of_token() {
        use Kind::{
            Atom, BlockComment, Close, Equals, Escline, LeftParen, LineComment, Newline, Open,
            RightParen, Semicolon, Slashdash, Space,
        };
        assert_eq!(
            kinds("(t)a x=\"q \\\" }\" /* c /* d */ */ #\"r\"# #true /-b \\ // e\r\n{ c; }"),
            [
                (LeftParen, "("),
                (Atom, "t"),
                (RightParen, ")"),
                (Atom, "a"),
                (Space, " "),
                (Atom, "x"),
                (Equals, "="),
                (Atom, "\"q \\\" }\""),
                (Space, " "),
                (BlockComment, "/* c /* d */ */"),
                (Space, " "),
                (Atom, "#\"r\"#"),
                (Space, " "),
                (Atom, "#true"),
                (Space, " "),
                (Slashdash, "/-"),
                (Atom, "b"),
                (Space, " "),
                (Escline, "\\"),
                (Space, " "),
                (LineComment, "// e"),
                (Newline, "\r\n"),
                (Open, "{"),
                (Space, " "),
                (Atom, "c"),
                (Semicolon, ";"),
                (Space, " "),
                (Close, "}"),
            ]
        );
    }

    #[test]
    fn keeps_multi_line_and_raw_strings_whole() {
        let text = "a \"\"\"\n  x \"\" y\n  \"\"\" ##\"\"\"\n \"\"\"# \n \"\"\"## 1.30";
        let atoms: Vec<&str> = kinds(text)
            .into_iter()
            .filter(|(k, _)| *k == Kind::Atom)
            .map(|(_, s)| s)
            .collect();
        assert_eq!(
            atoms,
            [
                "a",
                "\"\"\"\n  x \"\" y\n  \"\"\"",
                "##\"\"\"\n \"\"\"# \n \"\"\"##",
                "1.30"
            ]
        );
    }

    #[test]
    fn gives_up_on_what_it_cannot_split() {
        for text in ["a \"open", "/* open", "a [", "#\"open", "a /b"] {
            assert_eq!(lex(text), None, "{text:?}");
        }
    }
}
