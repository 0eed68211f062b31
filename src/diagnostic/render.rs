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
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let named = NamedSource::new(source.name(), source.text().to_owned());
    let mut out = String::new();
    for diagnostic in diagnostics {
        let report = Report {
            diagnostic,
            source: &named,
        };
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&diagnostic.kind.message());
        }
        out.push('\n');
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    if errors + warnings > 0 {
        out.push_str(&summary(source.name(), errors, warnings));
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

/// Renders one JSON object per line: code, severity, message, file, line, column, help.
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
            message: diagnostic.kind.message(),
            file: source.name(),
            line,
            column,
            end_line,
            end_column,
            label: diagnostic.kind.label(),
            help: diagnostic.kind.help(),
        };
        out.push_str(&serde_json::to_string(&record).unwrap_or_default());
        out.push('\n');
    }
    out
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
        f.write_str(&self.diagnostic.kind.message())
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
        Some(Box::new(self.diagnostic.kind.help()))
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
            Some(self.diagnostic.kind.label()),
            clamp(self.diagnostic.span),
        );
        let secondary = self.diagnostic.labels.iter().map(move |label| {
            LabeledSpan::new_with_span(Some(label.text.clone()), clamp(label.span))
        });
        Some(Box::new(std::iter::once(primary).chain(secondary)))
    }
}
