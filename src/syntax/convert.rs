//! `kdl` crate documents → ours, for the files our parser leaves to the crate (KDL v1, and
//! v2 constructs it does not handle, such as multi-line strings).

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use crate::span::Span;
use crate::syntax::{Document, Entry, Ident, Node, Value};

pub fn document(document: &KdlDocument) -> Document {
    Document::new(document.nodes().iter().map(node).collect())
}

fn node(node: &KdlNode) -> Node {
    Node::new(
        Ident::new(node.name().value(), node.name().span().into()),
        node.entries().iter().map(entry).collect(),
        node.children().map(document),
        node.span().into(),
    )
}

fn entry(entry: &KdlEntry) -> Entry {
    let value = match entry.value() {
        KdlValue::String(s) => Value::String(s.clone()),
        KdlValue::Integer(i) => Value::Integer(*i),
        KdlValue::Float(f) => Value::Float(*f),
        KdlValue::Bool(b) => Value::Bool(*b),
        KdlValue::Null => Value::Null,
    };
    let repr = match entry.value() {
        KdlValue::Integer(_) | KdlValue::Float(_) => entry.format().map(|f| f.value_repr.clone()),
        _ => None,
    };
    Entry::new(
        entry
            .name()
            .map(|n| Ident::new(n.value(), Span::from(n.span()))),
        value,
        repr,
        entry.span().into(),
    )
}
