//! Presentation of diagnostics: miette reports for people, JSON lines for editors and CI.
//!
//! This is the only place that knows about miette's report types.

use std::fmt;
use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde::Serialize;

use super::{Diagnostic, Diagnostics, HeldBack, Severity};
use crate::source::Source;

/// Renders every diagnostic as a miette report, followed by a one-line summary.
///
/// Without colour the text is stable (fixed width, no escapes): the golden tests compare it.
pub fn render_human(source: &Source, diagnostics: &Diagnostics, color: bool) -> String {
    if diagnostics.is_empty() {
        return String::new();
    }
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let named = NamedSource::new(escape(source.name()), visible(source.text()));
    let mut out = String::new();
    for diagnostic in diagnostics {
        let report = Report {
            diagnostic,
            source: &named,
        };
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&escape(&diagnostic.kind.message()));
        }
        out.push('\n');
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    if errors + warnings > 0 {
        out.push_str(&summary(&escape(source.name()), errors, warnings));
        match diagnostics.held_back() {
            HeldBack::Nothing => {}
            HeldBack::Findings(n) => {
                let _ = write!(
                    out,
                    " ({n} later finding{} held back until the errors are fixed: {} may follow from them)",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "it" } else { "they" },
                );
            }
            HeldBack::Rules => {
                out.push_str(" (the platform-wide checks run once the errors are fixed)");
            }
        }
        out.push('\n');
    }
    out
}

fn summary(name: &str, errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => format!("{name}: {}", plural(w, "warning")),
        (e, 0) => format!("{name}: {}", plural(e, "error")),
        (e, w) => format!("{name}: {}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

/// Renders one JSON object per line: code, severity, message, file, line, column, end line and
/// column, label, help, and the secondary labels with their positions.
pub fn render_json(source: &Source, diagnostics: &Diagnostics) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let (line, column) = source.line_col(diagnostic.span.start);
        let (end_line, end_column) = source.line_col(diagnostic.span.end);
        let record = JsonDiagnostic {
            code: diagnostic.kind.code(),
            severity: match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            message: escape(&diagnostic.kind.message()),
            file: source.name(),
            line,
            column,
            end_line,
            end_column,
            label: escape(&diagnostic.kind.label()),
            help: escape(&diagnostic.kind.help()),
            labels: diagnostic
                .labels
                .iter()
                .map(|label| {
                    let (line, column) = source.line_col(label.span.start);
                    let (end_line, end_column) = source.line_col(label.span.end);
                    JsonLabel {
                        line,
                        column,
                        end_line,
                        end_column,
                        text: escape(&label.text),
                    }
                })
                .collect(),
        };
        out.push_str(&serde_json::to_string(&record).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// One JSON line for an error that is not in a platform's text (a usage or I/O error): the
/// keys of a diagnostic, with no position. The message's first line is `message`, the rest
/// (clap's usage and tips) `help`.
pub fn render_json_error(code: &str, message: &str, file: Option<&str>) -> String {
    let (first, rest) = message.split_once('\n').unwrap_or((message, ""));
    let record = JsonError {
        code,
        severity: "error",
        message: escape(first.trim()),
        file,
        line: None,
        column: None,
        end_line: None,
        end_column: None,
        label: None,
        help: Some(escape(rest.trim())).filter(|h| !h.is_empty()),
        labels: [],
    };
    format!("{}\n", serde_json::to_string(&record).unwrap_or_default())
}

#[derive(Serialize)]
struct JsonError<'a> {
    code: &'a str,
    severity: &'static str,
    message: String,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    label: Option<String>,
    help: Option<String>,
    labels: [JsonLabel; 0],
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: String,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    label: String,
    help: String,
    /// The secondary labels ("first given here"), in order.
    labels: Vec<JsonLabel>,
}

#[derive(Serialize)]
struct JsonLabel {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    text: String,
}

/// Whether a character is invisible or reorders text around it: controls other than tab and
/// newline, bidirectional controls (the "Trojan Source" characters), zero-width characters,
/// soft hyphens, line separators and byte-order marks.
fn is_invisible(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{ad}'
                | '\u{61c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// Text for a message, label or help: each invisible character as its escape (`\u{200b}`),
/// so that a name that differs from another only by one is seen to differ.
pub fn escape(text: &str) -> String {
    if !text.chars().any(is_invisible) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if is_invisible(c) {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The source as shown under a diagnostic: each invisible character replaced by a visible one
/// of the same length in UTF-8 (`�` for three bytes, `·` for two, `?` for one), so that every
/// span still points at the same text and no control character reorders or hides it. A
/// byte-order mark that starts the file is left alone.
fn visible(text: &str) -> String {
    // Most files are ASCII with no control character but tab and the line endings.
    let plain = text
        .bytes()
        .all(|b| (b' '..0x7f).contains(&b) || matches!(b, b'\n' | b'\t' | b'\r'));
    if plain && !text.contains('\r') || !text.chars().any(is_invisible) {
        return text.to_owned();
    }
    text.char_indices()
        .map(|(i, c)| match c {
            '\u{feff}' if i == 0 => c,
            '\r' if text[i + 1..].starts_with('\n') => c,
            c if is_invisible(c) => match c.len_utf8() {
                1 => '?',
                2 => '\u{b7}',
                _ => '\u{fffd}',
            },
            c => c,
        })
        .collect()
}

/// Adapter from our `Diagnostic` to miette's trait, alive only while rendering.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a NamedSource<String>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.kind.message())
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.diagnostic.kind.message()))
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.kind.code()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(escape(&self.diagnostic.kind.help())))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let len = self.source.inner().len();
        let clamp = move |span: crate::span::Span| {
            let start = span.start.min(len);
            (start, span.end.min(len).saturating_sub(start))
        };
        let primary = LabeledSpan::new_primary_with_span(
            Some(escape(&self.diagnostic.kind.label())),
            clamp(self.diagnostic.span),
        );
        let secondary = self.diagnostic.labels.iter().map(move |label| {
            LabeledSpan::new_with_span(Some(escape(&label.text)), clamp(label.span))
        });
        Some(Box::new(std::iter::once(primary).chain(secondary)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::ErrorKind;
    use crate::span::Span;

    #[test]
    fn invisible_characters_are_escaped_in_messages() {
        assert_eq!(escape("pay\u{200b}ment"), "pay\\u{200b}ment");
        assert_eq!(escape("a\u{202e}b\u{2066}c"), "a\\u{202e}b\\u{2066}c");
        assert_eq!(escape("tab\tnew\nline"), "tab\tnew\nline");
        assert_eq!(escape("bell\u{7}"), "bell\\u{7}");
    }

    #[test]
    fn the_shown_source_keeps_every_offset_and_hides_nothing() {
        let text = "\u{feff}a\u{202e}b\u{ad}c\u{1b}d\r\ne\rf";
        let shown = visible(text);
        assert_eq!(shown.len(), text.len());
        assert_eq!(shown, "\u{feff}a\u{fffd}b\u{b7}c?d\r\ne?f");
        for (i, _) in text.char_indices() {
            assert!(shown.is_char_boundary(i));
        }
    }

    #[test]
    fn a_trojan_source_name_is_shown_escaped() {
        let source = Source::new("p\u{202e}.kdl", "platform a\u{202e}b {}\n");
        let mut diagnostics = Diagnostics::default();
        diagnostics.error(
            ErrorKind::MissingPlatform { suggestion: None },
            Span::new(9, 14),
        );
        let human = render_human(&source, &diagnostics, false);
        assert!(!human.contains('\u{202e}'), "{human}");
        assert!(human.contains("p\\u{202e}.kdl"), "{human}");
        // JSON keeps the path exact (a tool opens it); the text meant for people is escaped.
        let json: serde_json::Value =
            serde_json::from_str(&render_json(&source, &diagnostics)).unwrap();
        assert_eq!(json["file"], "p\u{202e}.kdl");
        for field in ["message", "label", "help"] {
            assert!(!json[field].as_str().unwrap().contains('\u{202e}'));
        }
    }
}
