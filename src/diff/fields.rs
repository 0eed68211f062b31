//! Field diffs: how two parsed documents differ (a YAML object, a JSON file), as
//! `platc diff` lists them: one change per field, at a dotted path with list indices
//! (`spec.template.spec.containers[0].image`), with the values on each side.
//!
//! Maps are compared key by key, in key order. Lists are aligned first (a shortest edit
//! script over their elements), so an element inserted in the middle of `env` is one added
//! element, not a change of every element after it; an element that was replaced is compared
//! field by field with the one it replaced. An element's index is its index in the new list,
//! or in the old one when it was removed.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

/// One difference between two values. `path` is `""` for the whole value.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Added {
        path: String,
        new: Value,
    },
    Removed {
        path: String,
        old: Value,
    },
    Changed {
        path: String,
        old: Value,
        new: Value,
    },
}

impl Change {
    /// One line: `+ path: new`, `- path: old` or `~ path: old → new`, each value as compact
    /// JSON of at most `width` characters.
    pub fn line(&self, width: usize) -> String {
        let shown = |path: &str| {
            if path.is_empty() {
                "(the whole document)"
            } else {
                path
            }
            .to_owned()
        };
        match self {
            Self::Added { path, new } => format!("+ {}: {}", shown(path), compact(new, width)),
            Self::Removed { path, old } => format!("- {}: {}", shown(path), compact(old, width)),
            Self::Changed { path, old, new } => format!(
                "~ {}: {} → {}",
                shown(path),
                compact(old, width),
                compact(new, width)
            ),
        }
    }
}

/// Every difference between `old` and `new`, in path order; none when they are equal.
pub fn changes(old: &Value, new: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    walk(old, new, &mut String::new(), &mut changes);
    changes
}

fn walk(old: &Value, new: &Value, path: &mut String, changes: &mut Vec<Change>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            // In key order whatever order the maps keep.
            let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
            for key in keys {
                let len = path.len();
                push_key(path, key);
                match (old.get(key), new.get(key)) {
                    (Some(old), Some(new)) => walk(old, new, path, changes),
                    (Some(old), None) => changes.push(removed(path, old)),
                    (None, Some(new)) => changes.push(added(path, new)),
                    (None, None) => {}
                }
                path.truncate(len);
            }
        }
        (Value::Array(old), Value::Array(new)) => lists(old, new, path, changes),
        _ => changes.push(Change::Changed {
            path: path.clone(),
            old: old.clone(),
            new: new.clone(),
        }),
    }
}

/// The differences between two lists, aligned by a shortest edit script over their elements.
fn lists(old: &[Value], new: &[Value], path: &mut String, changes: &mut Vec<Change>) {
    let texts = |items: &[Value]| items.iter().map(Value::to_string).collect::<Vec<_>>();
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &texts(old), &texts(new));
    let len = path.len();
    let at = |path: &mut String, index: usize| {
        path.truncate(len);
        let _ = write!(path, "[{index}]");
    };
    for op in ops {
        let (old_index, old_len, new_index, new_len) = match op {
            similar::DiffOp::Equal { .. } => continue,
            similar::DiffOp::Delete {
                old_index, old_len, ..
            } => (old_index, old_len, 0, 0),
            similar::DiffOp::Insert {
                new_index, new_len, ..
            } => (0, 0, new_index, new_len),
            similar::DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (old_index, old_len, new_index, new_len),
        };
        // Replaced elements pair up in order; what is left over was removed or added.
        let paired = old_len.min(new_len);
        for k in 0..paired {
            at(path, new_index + k);
            walk(&old[old_index + k], &new[new_index + k], path, changes);
        }
        let (old_left, new_left) = (old_index + paired, new_index + paired);
        for (i, value) in (old_left..).zip(&old[old_left..old_index + old_len]) {
            at(path, i);
            changes.push(removed(path, value));
        }
        for (i, value) in (new_left..).zip(&new[new_left..new_index + new_len]) {
            at(path, i);
            changes.push(added(path, value));
        }
    }
    path.truncate(len);
}

fn added(path: &str, new: &Value) -> Change {
    Change::Added {
        path: path.to_owned(),
        new: new.clone(),
    }
}

fn removed(path: &str, old: &Value) -> Change {
    Change::Removed {
        path: path.to_owned(),
        old: old.clone(),
    }
}

/// Appends a map key to a path: `.key`, or `["key"]` for a key that is not a plain word
/// (`metadata.annotations["platc.dev/origin"]`).
fn push_key(path: &mut String, key: &str) {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&Value::from(key).to_string());
        path.push(']');
    }
}

/// A value as one line of JSON, cut to `width` characters with `…`.
pub fn compact(value: &Value, width: usize) -> String {
    let text = value.to_string();
    if text.chars().count() <= width {
        return text;
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(old: &Value, new: &Value) -> Vec<String> {
        changes(old, new).iter().map(|c| c.line(40)).collect()
    }

    #[test]
    fn equal_values_have_no_changes() {
        let value = json!({"a": [1, {"b": null}], "c": "x"});
        assert!(changes(&value, &value.clone()).is_empty());
    }

    #[test]
    fn nested_maps_give_dotted_paths() {
        let old = json!({"spec": {"template": {"spec": {"containers": [{"image": "a:v1", "name": "a"}]}}}});
        let new = json!({"spec": {"template": {"spec": {"containers": [{"image": "a:v2", "name": "a"}]}}}});
        assert_eq!(
            lines(&old, &new),
            [r#"~ spec.template.spec.containers[0].image: "a:v1" → "a:v2""#]
        );
    }

    #[test]
    fn added_and_removed_keys() {
        let old = json!({"spec": {"replicas": 2, "paused": true}});
        let new = json!({"spec": {"replicas": 2, "minReadySeconds": 5}});
        assert_eq!(
            lines(&old, &new),
            ["+ spec.minReadySeconds: 5", "- spec.paused: true"]
        );
    }

    #[test]
    fn keys_that_are_not_words_are_quoted() {
        let old = json!({"metadata": {"annotations": {"platc.dev/origin": "a"}}});
        let new = json!({"metadata": {"annotations": {"platc.dev/origin": "b"}}});
        assert_eq!(
            lines(&old, &new),
            [r#"~ metadata.annotations["platc.dev/origin"]: "a" → "b""#]
        );
    }

    #[test]
    fn scalar_type_changes_show_both_types() {
        let old = json!({"port": 80, "flag": "true", "list": [1], "map": {"a": 1}});
        let new = json!({"port": "80", "flag": true, "list": {"0": 1}, "map": null});
        assert_eq!(
            lines(&old, &new),
            [
                r#"~ flag: "true" → true"#,
                r#"~ list: [1] → {"0":1}"#,
                r#"~ map: {"a":1} → null"#,
                r#"~ port: 80 → "80""#,
            ]
        );
    }

    #[test]
    fn lists_are_aligned_before_they_are_compared() {
        let old = json!({"env": [{"name": "A"}, {"name": "C"}, {"name": "D", "value": "1"}]});
        let new = json!({"env": [{"name": "A"}, {"name": "B"}, {"name": "C"}, {"name": "D", "value": "2"}]});
        assert_eq!(
            lines(&old, &new),
            [r#"+ env[1]: {"name":"B"}"#, r#"~ env[3].value: "1" → "2""#]
        );
        assert_eq!(
            lines(&json!([1, 2, 3]), &json!([1, 3])),
            ["- [1]: 2"],
            "a removed element has its old index"
        );
        assert_eq!(
            lines(&json!([1]), &json!([1, 2, 3])),
            ["+ [1]: 2", "+ [2]: 3"]
        );
    }

    #[test]
    fn whole_documents_and_long_values() {
        assert_eq!(
            lines(&json!(1), &json!(2)),
            ["~ (the whole document): 1 → 2"]
        );
        let long = json!("x".repeat(100));
        assert_eq!(compact(&long, 8), "\"xxxxxx…");
        assert_eq!(compact(&json!("é"), 3), "\"é\"");
    }
}
