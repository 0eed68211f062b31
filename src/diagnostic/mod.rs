//! Diagnostics as data: what went wrong (`ErrorKind`), how bad it is, and where.
//!
//! Presentation lives in `render`; nothing here knows about miette's report handlers.

mod kind;
mod render;
mod suggest;

pub use kind::{ErrorKind, Inexpressible, NameRule, Unmeasured};

pub use render::{escape, render_human, render_json, render_json_error};
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
    held_back: HeldBack,
}

/// Findings of the whole-platform rules that wait for the errors shown to be fixed, because
/// an error may have caused them (see `check::partial`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeldBack {
    #[default]
    Nothing,
    /// This many findings.
    Findings(usize),
    /// The rules could not run at all.
    Rules,
}

impl HeldBack {
    fn merge(self, other: Self) -> Self {
        match (self, other) {
            (Self::Rules, _) | (_, Self::Rules) => Self::Rules,
            (Self::Findings(a), Self::Findings(b)) => Self::Findings(a.max(b)),
            (Self::Nothing, x) | (x, Self::Nothing) => x,
        }
    }
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn error(&mut self, kind: ErrorKind, span: Span) {
        self.push(Diagnostic::new(kind, span));
    }

    /// `platc::duplicate-name`: `name` was given before, at `first` (labelled `label`).
    pub fn duplicate_name(
        &mut self,
        kind: &'static str,
        name: &crate::span::Spanned<String>,
        first: Span,
        label: &'static str,
    ) {
        self.push(
            Diagnostic::new(
                ErrorKind::DuplicateName {
                    kind,
                    name: name.value.clone(),
                },
                name.span,
            )
            .with_label(first, label),
        );
    }

    pub fn extend(&mut self, other: Self) {
        self.items.extend(other.items);
        self.held_back = self.held_back.merge(other.held_back);
    }

    /// Records the findings held back: `None` when no rule could run.
    pub fn hold_back(&mut self, count: Option<usize>) {
        let held = match count {
            None => HeldBack::Rules,
            Some(0) => HeldBack::Nothing,
            Some(n) => HeldBack::Findings(n),
        };
        self.held_back = self.held_back.merge(held);
    }

    /// What waits for the errors shown to be fixed.
    pub fn held_back(&self) -> HeldBack {
        self.held_back
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
