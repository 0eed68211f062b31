//! The KDL document platc lowers: nodes, entries and values, each with its span.
//!
//! `parse::parse` fills it from our own KDL v2 parser (`parser`), which is fast and handles
//! everything platform files use; for anything else, and for every error, the `kdl` crate
//! decides, and its document is converted (`convert`). The API mirrors the `kdl` crate's, so
//! the lowering reads the same either way; a differential test holds the two to agreement.

pub mod convert;
pub mod parser;

use std::fmt;
use std::sync::Arc;

use crate::span::Span;

/// A list of nodes: the whole file, or a node's children.
///
/// Shared when cloned, copied when first changed: an environment's overlay
/// (`lower::overlay`) clones the whole platform and changes a few nodes, so only the blocks
/// on the way to a changed node are copied (issue 15: the clone was 8% of `platc check` of
/// 1,000 services).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    nodes: Arc<Vec<Node>>,
}

impl Document {
    pub fn new(nodes: Vec<Node>) -> Self {
        Self {
            nodes: Arc::new(nodes),
        }
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The nodes to change: copied first if another document shares them.
    pub fn nodes_mut(&mut self) -> &mut Vec<Node> {
        Arc::make_mut(&mut self.nodes)
    }
    /// Whether the two share their nodes (neither was changed since one was cloned).
    #[cfg(test)]
    pub fn shares_nodes_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.nodes, &other.nodes)
    }
}

/// A name with its span: a node's name or a property's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    value: String,
    span: Span,
}

impl Ident {
    pub fn new(value: impl Into<String>, span: Span) -> Self {
        Self {
            value: value.into(),
            span,
        }
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn span(&self) -> Span {
        self.span
    }
}

/// A node: name, arguments and properties in source order, and children.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    name: Ident,
    entries: Vec<Entry>,
    children: Option<Document>,
    /// From the name (or its type annotation) to the end of the children.
    span: Span,
}

impl Node {
    pub fn new(name: Ident, entries: Vec<Entry>, children: Option<Document>, span: Span) -> Self {
        Self {
            name,
            entries,
            children,
            span,
        }
    }

    pub fn name(&self) -> &Ident {
        &self.name
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn entries_mut(&mut self) -> &mut Vec<Entry> {
        &mut self.entries
    }

    pub fn children(&self) -> Option<&Document> {
        self.children.as_ref()
    }

    pub fn ensure_children(&mut self) -> &mut Document {
        self.children.get_or_insert_with(Document::default)
    }

    pub fn span(&self) -> Span {
        self.span
    }
}

/// An argument (no name) or a property (`name=value`).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    name: Option<Ident>,
    value: Value,
    /// How a number was written (`1.30`), so decimal text survives `f64`.
    repr: Option<String>,
    /// From the name (or the value's type annotation) to the end of the value.
    span: Span,
}

impl Entry {
    pub fn new(name: Option<Ident>, value: Value, repr: Option<String>, span: Span) -> Self {
        Self {
            name,
            value,
            repr,
            span,
        }
    }

    pub fn name(&self) -> Option<&Ident> {
        self.name.as_ref()
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The source text of a number value, when known.
    pub fn repr(&self) -> Option<&str> {
        self.repr.as_deref()
    }

    pub fn span(&self) -> Span {
        self.span
    }
}

/// A compact KDL rendering on one line (`name arg key=value { child; child }`), for tests
/// and debugging.
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name.value())?;
        for entry in &self.entries {
            f.write_str(" ")?;
            if let Some(name) = &entry.name {
                write!(f, "{}=", name.value())?;
            }
            match (&entry.value, &entry.repr) {
                (Value::String(s), _) if is_bare(s) => f.write_str(s)?,
                (_, Some(repr)) => f.write_str(repr)?,
                (value, None) => write!(f, "{value}")?,
            }
        }
        if let Some(children) = &self.children {
            f.write_str(" {")?;
            for (i, child) in children.nodes.iter().enumerate() {
                f.write_str(if i == 0 { " " } else { "; " })?;
                write!(f, "{child}")?;
            }
            f.write_str(" }")?;
        }
        Ok(())
    }
}

fn is_bare(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// A KDL value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(String),
    Integer(i128),
    Float(f64),
    Bool(bool),
    Null,
}

impl Value {
    pub fn as_string(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => write!(f, "{s:?}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Bool(b) => write!(f, "#{b}"),
            Self::Null => f.write_str("#null"),
        }
    }
}
