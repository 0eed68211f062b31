//! `Module`: the body of one `.tf.json` file, built block by block and written with the
//! canonical encoder (sorted keys, so the file does not depend on the order of the calls).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Resources, data sources, outputs and top-level settings of one file.
#[derive(Default)]
pub struct Module {
    /// The `//` comment at the root: where the file came from, and any further lines.
    comment: Option<String>,
    notes: Vec<String>,
    resources: BTreeMap<String, BTreeMap<String, Value>>,
    data: BTreeMap<String, BTreeMap<String, Value>>,
    outputs: BTreeMap<String, Value>,
    /// `terraform` and `provider`, kept apart (see `versions`).
    blocks: BTreeMap<String, Value>,
}

impl Module {
    /// An empty module whose file says which line of `platform.kdl` produced it.
    pub fn new(origin: &str) -> Self {
        Self {
            comment: Some(crate::encode::generated(origin)),
            ..Self::default()
        }
    }

    /// A further line of the root `//` comment.
    pub fn note(&mut self, line: String) {
        self.notes.push(line);
    }

    /// `resource "TYPE" "NAME" { BODY }`.
    pub fn resource(&mut self, kind: &str, name: &str, body: Value) {
        self.resources
            .entry(kind.to_owned())
            .or_default()
            .insert(name.to_owned(), body);
    }

    /// `data "TYPE" "NAME" { BODY }`.
    pub fn data(&mut self, kind: &str, name: &str, body: Value) {
        self.data
            .entry(kind.to_owned())
            .or_default()
            .insert(name.to_owned(), body);
    }

    /// `output "NAME" { value = VALUE, description = … }`.
    pub fn output(&mut self, name: &str, description: &str, value: impl Into<Value>) {
        self.outputs.insert(
            name.to_owned(),
            json!({"description": description, "value": value.into()}),
        );
    }

    /// A top-level block such as `terraform` or `provider`.
    pub fn block(&mut self, name: &str, body: Value) {
        self.blocks.insert(name.to_owned(), body);
    }

    /// Whether the file would declare nothing.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
            && self.data.is_empty()
            && self.outputs.is_empty()
            && self.blocks.is_empty()
    }

    /// The file's JSON document.
    pub fn into_value(self) -> Value {
        let mut root = Map::new();
        if let Some(comment) = self.comment {
            if self.notes.is_empty() {
                root.insert("//".into(), Value::String(comment));
            } else {
                let mut lines = vec![comment];
                lines.extend(self.notes);
                root.insert("//".into(), json!(lines));
            }
        }
        if !self.resources.is_empty() {
            root.insert("resource".into(), json!(self.resources));
        }
        if !self.data.is_empty() {
            root.insert("data".into(), json!(self.data));
        }
        if !self.outputs.is_empty() {
            root.insert("output".into(), json!(self.outputs));
        }
        for (name, body) in self.blocks {
            root.insert(name, body);
        }
        Value::Object(root)
    }
}
