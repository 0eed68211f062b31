//! Text → KDL document. KDL v2 first, by our fast parser (`syntax::parser`) and, for what it
//! leaves alone, the `kdl` crate; when v2 fails and the text reads as KDL v1, the v1 document
//! is used with a `kdl-v1` warning. The kdl crate's errors become `platc::syntax` diagnostics,
//! with their spans narrowed to the line where the parser stopped.

use kdl::KdlDocument;

use crate::syntax::{Document, convert, parser};

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::source::Source;
use crate::span::Span;

/// Parses the source; on failure every syntax error is in the returned diagnostics.
pub fn parse(source: &Source, d: &mut Diagnostics) -> Option<Document> {
    let text = source.text();
    // Our parser stops at `MAX_DEPTH` by itself. Every later step walks the tree by recursion
    // (the kdl crate's too): a file nested deeper than the language ever goes is refused
    // before the crate reads it.
    if let Some(document) = parser::parse(text) {
        return Some(document);
    }
    let open = match depth_at_end(text) {
        Ok(open) => open,
        Err(span) => {
            d.error(ErrorKind::NestingTooDeep { limit: MAX_DEPTH }, span);
            return None;
        }
    };
    if let Some(diagnostic) = unclosed_at_end(text, open) {
        d.push(diagnostic);
        return None;
    }
    parse_with_kdl(text, d)
}

/// The file's errors, worded by the `kdl` crate (and the v1 document, if the file is v1).
fn parse_with_kdl(text: &str, d: &mut Diagnostics) -> Option<Document> {
    match KdlDocument::parse_v2(text) {
        Ok(document) => Some(convert::document(&document)),
        Err(v2_error) => {
            let spans: Vec<Span> = v2_error
                .diagnostics
                .iter()
                .map(|e| narrow(text, clamp(Span::from(e.span), text.len())))
                .collect();
            // A file that only parses as v1 is v1; point at the first thing v2 rejects.
            if let Ok(document) = KdlDocument::parse_v1(text) {
                let span = spans.first().copied().unwrap_or_else(|| first_line(text));
                d.push(Diagnostic::new(ErrorKind::KdlV1, span));
                return Some(convert::document(&document));
            }
            let mut unclosed_reported = false;
            for (error, span) in v2_error.diagnostics.into_iter().zip(spans) {
                let message = error
                    .message
                    .or(error.label)
                    .unwrap_or_else(|| "invalid KDL".to_owned());
                if message.to_ascii_lowercase().contains("closing '}'") {
                    // Every unclosed block gives the parser's errors at the outermost one
                    // and at the end of the file: say once which block lacks its `}`.
                    if !unclosed_reported {
                        unclosed_reported = true;
                        let (span, message, help) = unclosed(text)
                            .unwrap_or_else(|| (span, message, UNCLOSED_HELP.to_owned()));
                        d.push(syntax_error(span, message, help));
                    }
                    continue;
                }
                let (help, span) = match hint(text, span) {
                    Some((help, value)) => (Some(help.to_owned()), value),
                    None => (error.help, span),
                };
                d.error(ErrorKind::Syntax { message, help }, span);
            }
            if !d.has_errors() {
                d.error(
                    ErrorKind::Syntax {
                        message: "invalid KDL".into(),
                        help: None,
                    },
                    Span::new(0, 0),
                );
            }
            None
        }
    }
}

/// Help for the mistakes people make most: bare quantities and KDL v1 keywords, with the span
/// of the value the parser choked on (the parser's own span covers the node up to it).
fn hint(text: &str, span: Span) -> Option<(&'static str, Span)> {
    // The value the parser choked on: after the span's last `=`, or the span's last word,
    // read on to the next space (the span may stop inside it).
    let covered = &text[span.start..span.end];
    let from = covered
        .rfind('=')
        .map(|i| i + 1)
        .or_else(|| covered.trim_end().rfind(char::is_whitespace).map(|i| i + 1))
        .unwrap_or(0);
    let rest = &text[span.start + from..];
    let word = rest
        .split(|c: char| c.is_whitespace() || c == ';' || c == '}')
        .next()
        .unwrap_or("");
    let value = Span::new(span.start + from, span.start + from + word.len());
    hint_for(word).map(|help| (help, if word.is_empty() { span } else { value }))
}

fn hint_for(word: &str) -> Option<&'static str> {
    if word.starts_with("r\"") || word.starts_with("r#") {
        return Some(
            "`r\"…\"` is a KDL v1 raw string; KDL v2 writes it `#\"…\"#`, or as a plain \"…\" when it holds no `\\` or `\"`.",
        );
    }
    if matches!(word, "true" | "false" | "null") {
        return Some(
            "`true`, `false` and `null` are KDL v1; KDL v2 writes `#true`, `#false` and `#null`.",
        );
    }
    let starts_with_digit = word.starts_with(|c: char| c.is_ascii_digit());
    if starts_with_digit && word.chars().any(|c| c.is_ascii_alphabetic() || c == '/') {
        return Some(
            "A value that starts with a digit is read as a number: quote quantities, durations and CIDRs, for example \"100m\", \"30s\" or \"10.0.0.0/16\".",
        );
    }
    None
}

/// A file whose only fault is blocks left open at its end (cut short, or a `}` deleted): with
/// `open` `}` added it parses. The kdl crate's errors for it are all 'closing }' ones, which
/// `parse_with_kdl` words from the text alone (`unclosed`), so the crate, which would parse
/// the file as v2 and again as v1, is not asked. A test holds the two answers equal.
fn unclosed_at_end(text: &str, open: usize) -> Option<Diagnostic> {
    if open == 0 {
        return None;
    }
    let (span, message, help) = unclosed(text)?;
    let mut closed = String::with_capacity(text.len() + 1 + 2 * open);
    closed.push_str(text);
    closed.push('\n');
    for _ in 0..open {
        closed.push_str("}\n");
    }
    parser::parse(&closed).map(|_| syntax_error(span, message, help))
}

/// A `platc::syntax` error with its help.
fn syntax_error(span: Span, message: String, help: String) -> Diagnostic {
    Diagnostic::new(
        ErrorKind::Syntax {
            message,
            help: Some(help),
        },
        span,
    )
}

const UNCLOSED_HELP: &str = "A `{` is never closed: add the `}` that ends its block. Each block's `}` should line up with the node that opens it.";

/// The block whose `}` is missing, found by indentation: the first line ending in `{` whose
/// block is followed, at the first line indented no deeper than it, by anything but its `}`.
/// Its `{`, a message and a help naming the line where the `}` belongs.
fn unclosed(text: &str) -> Option<(Span, String, String)> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end();
        let code = content.split("//").next().unwrap_or("").trim_end();
        if !code.trim().is_empty() {
            let indent = code.len() - code.trim_start().len();
            lines.push((offset, indent, code));
        }
        offset += line.len();
    }
    let line_number = |at: usize| text[..at].matches('\n').count() + 1;
    for (i, &(start, indent, code)) in lines.iter().enumerate() {
        if !code.ends_with('{') {
            continue;
        }
        let next = lines[i + 1..].iter().find(|(_, ind, _)| *ind <= indent);
        let closed =
            next.is_some_and(|(_, ind, c)| *ind == indent && c.trim_start().starts_with('}'));
        if closed {
            continue;
        }
        let brace = start + code.len() - 1;
        let opener = code.trim();
        let message = format!("`{opener}` is never closed");
        let help = match next {
            Some((at, _, _)) => format!(
                "Add its `}}` before line {}, the first line after it indented no deeper than it.",
                line_number(*at)
            ),
            None => "Add its `}` at the end of the file, after its last child.".to_owned(),
        };
        return Some((Span::new(brace, brace + 1), message, help));
    }
    None
}

/// A span that covers several lines shows the whole block; the parser stopped at its end, so
/// keep only the last line's part of it.
fn narrow(text: &str, span: Span) -> Span {
    let covered = &text[span.start..span.end];
    match covered.trim_end().rfind('\n') {
        Some(i) => {
            let start = span.start + i + 1;
            let line = &text[start..span.end];
            let lead = line.len() - line.trim_start().len();
            Span::new((start + lead).min(span.end), span.end)
        }
        None => span,
    }
}

/// The deepest nesting of children a file may have. The language needs four levels
/// (`platform` › `aws` › `cluster` › `node-group`, `service` › `canary` › `header`).
pub const MAX_DEPTH: usize = 32;

/// How many blocks are open at the end of the text, or the `{` that opens a level deeper than
/// `MAX_DEPTH`. A scan of the text that skips strings (quoted, multi-line and raw) and
/// comments, so it runs in constant stack whatever the input.
fn depth_at_end(text: &str) -> Result<usize, Span> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Span::new(i, i + 1));
                }
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut level = 0usize;
                while i < bytes.len() {
                    if bytes[i..].starts_with(b"/*") {
                        level += 1;
                        i += 2;
                    } else if bytes[i..].starts_with(b"*/") {
                        level -= 1;
                        i += 2;
                        if level == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'#' if matches!(bytes.get(i + 1), Some(b'#' | b'"')) => {
                // A raw string: `#"…"#`, with as many `#` on each side.
                let hashes = bytes[i..].iter().take_while(|&&b| b == b'#').count();
                i += hashes;
                if bytes.get(i) != Some(&b'"') {
                    continue;
                }
                let mut close = vec![b'"'];
                close.extend(std::iter::repeat_n(b'#', hashes));
                i += 1;
                while i < bytes.len() && !bytes[i..].starts_with(&close) {
                    i += 1;
                }
                i += close.len();
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // A multi-line string: it may hold a bare `"`, and ends at the next `"""`.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(depth)
}

fn first_line(text: &str) -> Span {
    Span::new(0, text.find('\n').unwrap_or(text.len()))
}

fn clamp(span: Span, len: usize) -> Span {
    let start = span.start.min(len);
    Span::new(start, span.end.clamp(start, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrows_to_the_last_line() {
        let text = "a {\n  b\n  c d=1\n";
        assert_eq!(&text[narrow(text, Span::new(0, 15)).start..15], "c d=1");
        assert_eq!(narrow(text, Span::new(4, 7)), Span::new(4, 7));
    }

    #[test]
    fn hints_for_common_mistakes() {
        let text = "r cpu=100m x\nb v=true\n}";
        let (help, value) = hint(text, Span::new(2, 8)).unwrap();
        assert!(help.contains("\"100m\""));
        assert_eq!(&text[value.start..value.end], "100m");
        let (help, value) = hint(text, Span::new(13, 20)).unwrap();
        assert!(help.contains("#true"));
        assert_eq!(&text[value.start..value.end], "true");
        assert_eq!(hint(text, Span::new(21, 22)), None);
    }

    /// The root file and every golden case, cut short at every `STEP`th char boundary and with
    /// each line deleted: wherever `unclosed_at_end` answers, its diagnostic is the one the kdl
    /// crate's errors give. (The robustness test runs every cut through `parse`.)
    #[test]
    fn an_unclosed_end_is_worded_as_the_kdl_crate_would() {
        const STEP: usize = 29;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths = vec![root.join("platform.kdl")];
        for entry in std::fs::read_dir(root.join("golden")).unwrap() {
            paths.push(entry.unwrap().path().join("platform.kdl"));
        }
        let mut texts: Vec<(String, String)> = paths
            .iter()
            .filter(|p| p.is_file())
            .map(|p| {
                let text = String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
                (p.display().to_string(), text)
            })
            .collect();
        // The root file with Windows line ends too.
        texts.push((
            "platform.kdl, CRLF".to_owned(),
            texts[0].1.replace('\n', "\r\n"),
        ));
        let (mut agreed, mut left) = (0, 0);
        for (name, text) in &texts {
            let cuts = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .step_by(STEP)
                .map(|i| text[..i].to_owned());
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let deletions = (0..lines.len()).map(|i| {
                let (before, after) = (&lines[..i], &lines[i + 1..]);
                before.concat() + &after.concat()
            });
            for mutated in cuts.chain(deletions) {
                let Ok(open) = depth_at_end(&mutated) else {
                    continue;
                };
                let Some(ours) = unclosed_at_end(&mutated, open) else {
                    left += usize::from(parser::parse(&mutated).is_none());
                    continue;
                };
                let mut crates = Diagnostics::default();
                assert!(parse_with_kdl(&mutated, &mut crates).is_none());
                assert_eq!(
                    vec![&ours],
                    crates.iter().collect::<Vec<_>>(),
                    "{name}, cut or edited to:\n{mutated}"
                );
                agreed += 1;
            }
        }
        // Most cuts leave only blocks open; the rest (inside a string, after `key=`) are the
        // crate's to word.
        assert!(
            agreed > 2_500 && left > 1_000,
            "{agreed} agreed, {left} left"
        );
    }
}
