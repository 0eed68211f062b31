//! `platform.kdl` → its canonical text, for `platc fmt`: the same nodes, values and comments in
//! the same order, laid out one way.
//!
//! The canonical form:
//!
//! - four spaces of indentation per level, one node per line, one space between a node's
//!   words, `{` on the node's line and `}` on a line of its own (`{}` for an empty block);
//! - the parts of an entry glued: `key=value`, `(type)value`, and a slashdash glued to what it
//!   comments out: `/-node`, `/-key=value`, `/-{`;
//! - no `;` (each node ends its line), no trailing whitespace, one final newline, at most one
//!   blank line in a row and none at the start or end of the file or of a block;
//! - every comment kept where it was: a comment on its own line stays on its own line at the
//!   level of what follows, a comment after a node (or a `{`) stays at that line's end, a
//!   block comment between a node's words stays between them;
//! - a line continuation (`\`) between two words of a node is kept, and the continued line is
//!   indented one level deeper than the node; one that breaks nothing is dropped;
//! - every value and name exactly as written: quoted or bare, raw and multi-line strings (the
//!   lines of a multi-line string are not re-indented), numbers as spelled (`1.30`, `0x1F`,
//!   `1_000`). Only newlines inside a multi-line string or comment become LF, which KDL reads
//!   them as anyway.
//!
//! Only valid KDL v2 is formatted. A file that does not parse gets the syntax diagnostics a
//! compile gives, and a KDL v1 file the `kdl-v1` diagnostic as an error: formatting it as v2
//! would need its values rewritten. After laying a file out, `format` parses the result and
//! compares its document with the original's, value by value: a difference is a bug in platc,
//! reported instead of a text that would mean something else.
//!
//! Why not the `kdl` crate's `KdlDocument::autoformat` (6.7): it drops block comments between
//! a node's entries, a line comment after a node's entries, slashdashed entries and children
//! blocks; it rewrites raw and multi-line strings as quoted ones and numbers by value (`0x1F`
//! becomes `31`, and `1.30` becomes `1.3`, a different Kubernetes version to platc); and it
//! indents a comment before a `}` or at the end of the file by one space. So the layout is
//! our own, over a lossless token stream (`lex`), and never rewrites a token.

mod layout;
pub mod lex;

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, Severity};
use crate::source::Source;
use crate::syntax::{Document, Entry, Node, Value};

/// Why a file cannot be formatted.
#[derive(Debug)]
pub enum Error {
    /// It is not valid KDL v2 (or not UTF-8): the diagnostics that say why.
    Invalid(Diagnostics),
    /// A bug in platc: the layout failed, or its result would not mean what the file means.
    Internal(&'static str),
}

/// The canonical text of `source` (see the module's documentation).
pub fn format(source: &Source) -> Result<String, Error> {
    let mut diagnostics = Diagnostics::default();
    if crate::invalid_utf8(source, &mut diagnostics) {
        return Err(Error::Invalid(diagnostics));
    }
    let parsed = crate::parse::parse(source, &mut diagnostics);
    let v1 = diagnostics.iter().any(|d| d.kind == ErrorKind::KdlV1);
    let Some(original) = parsed.filter(|_| !v1 && diagnostics.is_empty()) else {
        return Err(Error::Invalid(as_errors(&diagnostics)));
    };
    let text = source.text();
    let formatted = lex::lex(text)
        .and_then(|tokens| layout::layout(text, &tokens))
        .ok_or(Error::Internal("its layout failed"))?;
    let mut again = Diagnostics::default();
    let reparsed = crate::parse::parse(&Source::new(source.name(), formatted.as_str()), &mut again)
        .filter(|_| again.is_empty())
        .ok_or(Error::Internal("the formatted text does not parse"))?;
    if !same_documents(&original, &reparsed) {
        return Err(Error::Internal(
            "the formatted text would mean something else",
        ));
    }
    Ok(formatted)
}

/// The diagnostics, each an error: fmt refuses what a compile only warns about (KDL v1).
fn as_errors(diagnostics: &Diagnostics) -> Diagnostics {
    let mut errors = Diagnostics::default();
    for diagnostic in diagnostics {
        errors.push(Diagnostic {
            severity: Severity::Error,
            ..diagnostic.clone()
        });
    }
    errors
}

/// Whether two documents hold the same nodes and values in the same order; spans aside.
fn same_documents(a: &Document, b: &Document) -> bool {
    a.nodes().len() == b.nodes().len()
        && a.nodes()
            .iter()
            .zip(b.nodes())
            .all(|(a, b)| same_nodes(a, b))
}

fn same_nodes(a: &Node, b: &Node) -> bool {
    a.name().value() == b.name().value()
        && a.entries().len() == b.entries().len()
        && a.entries()
            .iter()
            .zip(b.entries())
            .all(|(a, b)| same_entries(a, b))
        && match (a.children(), b.children()) {
            (None, None) => true,
            (Some(a), Some(b)) => same_documents(a, b),
            _ => false,
        }
}

fn same_entries(a: &Entry, b: &Entry) -> bool {
    let same_value = match (a.value(), b.value()) {
        // NaN is not equal to itself; the bits are.
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (x, y) => x == y,
    };
    a.name().map(crate::syntax::Ident::value) == b.name().map(crate::syntax::Ident::value)
        && same_value
        && a.repr() == b.repr()
}

#[cfg(test)]
mod tests;
