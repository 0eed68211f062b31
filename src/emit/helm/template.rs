//! An object as Helm template text: the object's JSON tree written by the canonical YAML
//! encoder, with some leaves replaced by template holes (`{{ .Values.replicaCount }}`).
//!
//! Every other string is data: one that holds `{{` is written as a Go template string
//! literal (`{{ "…" | toJson }}`), so Helm prints it back as it was and never evaluates it.

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::encode::Raw;

/// JSON Pointer (`/spec/replicas`) → the template text that replaces that leaf.
pub type Holes = BTreeMap<String, String>;

/// A tree and its holes, serialisable by the YAML encoder.
pub struct Templated<'a> {
    pub value: &'a Value,
    pub holes: &'a Holes,
}

impl Serialize for Templated<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        At {
            value: self.value,
            holes: self.holes,
            pointer: (!self.holes.is_empty()).then(String::new),
        }
        .serialize(serializer)
    }
}

struct At<'a> {
    value: &'a Value,
    holes: &'a Holes,
    /// Where `value` is, while a hole may lie below it; `None` once none can.
    pointer: Option<String>,
}

impl At<'_> {
    fn child<'b>(&'b self, key: &str, value: &'b Value) -> At<'b> {
        let pointer = self.pointer.as_ref().and_then(|parent| {
            let escaped = key.replace('~', "~0").replace('/', "~1");
            let pointer = format!("{parent}/{escaped}");
            // Holes are sorted: the first at or after `pointer/` is below it, if any is.
            let below = format!("{pointer}/");
            let wanted = self.holes.contains_key(&pointer)
                || self
                    .holes
                    .range(below.clone()..)
                    .next()
                    .is_some_and(|(hole, _)| hole.starts_with(&below));
            wanted.then_some(pointer)
        });
        At {
            value,
            holes: self.holes,
            pointer,
        }
    }
}

impl Serialize for At<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(hole) = self.pointer.as_ref().and_then(|p| self.holes.get(p)) {
            return Raw(hole.clone()).serialize(serializer);
        }
        match self.value {
            Value::Object(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (key, value) in map {
                    out.serialize_entry(key, &self.child(key, value))?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for (i, value) in items.iter().enumerate() {
                    out.serialize_element(&self.child(&i.to_string(), value))?;
                }
                out.end()
            }
            Value::String(text) if text.contains("{{") => Raw(literal(text)).serialize(serializer),
            other => other.serialize(serializer),
        }
    }
}

/// A string as a Go template string literal (a JSON string literal is one).
pub fn go_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// A string as a Go template expression that prints it as a quoted YAML scalar: a JSON
/// string literal is a valid Go string literal, and sprig's `toJson` writes it back as a
/// double-quoted string, which YAML reads as the same text.
pub fn literal(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    format!("{{{{ {quoted} | toJson }}}}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn holes_replace_leaves_and_braces_in_data_are_escaped() {
        let value = json!({
            "spec": {"replicas": 2, "note": "{{ .Release.Name }}", "plain": "x"},
            "list": [{"image": "a:b"}],
        });
        let holes = Holes::from([
            // A hole next to a sibling whose name sorts between (`spec-x` < `spec/`).
            ("/spec-x".to_owned(), "unused".to_owned()),
            (
                "/spec/replicas".to_owned(),
                "{{ .Values.replicaCount }}".to_owned(),
            ),
            (
                "/list/0/image".to_owned(),
                "\"{{ .Values.image }}\"".to_owned(),
            ),
        ]);
        let text = crate::encode::yaml(&Templated {
            value: &value,
            holes: &holes,
        });
        assert_eq!(
            text,
            "list:\n  - image: \"{{ .Values.image }}\"\nspec:\n  note: {{ \"{{ .Release.Name }}\" | toJson }}\n  plain: x\n  replicas: {{ .Values.replicaCount }}\n"
        );
    }
}
