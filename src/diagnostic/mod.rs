//! Diagnostics as data: what went wrong (`ErrorKind`), how bad it is, and where.
//!
//! Presentation lives in `render`; nothing here knows about miette's report handlers.

mod kind;
mod render;
mod suggest;

pub use kind::{ErrorKind, NameRule};
pub use render::{render_human, render_json};
pub use suggest::suggest;

use crate::span::Span;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// A secondary label: the other half of a conflict ("first defined here").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One problem in one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: ErrorKind,
    pub severity: Severity,
    pub span: Span,
    pub labels: Vec<Label>,
}

impl Diagnostic {
    /// A diagnostic whose severity follows its kind.
    pub fn new(kind: ErrorKind, span: Span) -> Self {
        let severity = if kind.is_warning() {
            Severity::Warning
        } else {
            Severity::Error
        };
        Self {
            kind,
            severity,
            span,
            labels: Vec::new(),
        }
    }

    #[must_use]
    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The diagnostics of one run, in the order they were found until `sort` is called.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn error(&mut self, kind: ErrorKind, span: Span) {
        self.push(Diagnostic::new(kind, span));
    }

    pub fn extend(&mut self, other: Self) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn has_warnings(&self) -> bool {
        self.items.iter().any(|d| !d.is_error())
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// Sorts by position, then code, and drops exact repeats (an env overlay re-checks the
    /// base platform, which would otherwise report a mistake in the base once per env).
    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| {
            (a.span.start, a.span.end, a.kind.code()).cmp(&(
                b.span.start,
                b.span.end,
                b.kind.code(),
            ))
        });
        self.items.dedup();
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}
