//! The one canonical encoder for JSON and YAML: keys sorted, two-space indent, one trailing
//! newline, strings quoted whenever a YAML reader could take them for anything but a string.
//!
//! Every emitter serialises through here, so equal values always give equal bytes.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

/// A value as pretty JSON with a trailing newline.
pub fn json<T: Serialize>(value: &T) -> String {
    let mut out = serde_json::to_string_pretty(&to_value(value)).unwrap_or_default();
    out.push('\n');
    out
}

/// A value as one YAML document (no `---`), with a trailing newline.
pub fn yaml<T: Serialize>(value: &T) -> String {
    let mut out = String::with_capacity(1024);
    write_value(&mut out, &to_value(value), 0, Context::Document);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Several values as one YAML stream, each document introduced by `---`.
pub fn yaml_stream<'a, T: Serialize + 'a>(values: impl IntoIterator<Item = &'a T>) -> String {
    let mut out = String::new();
    for value in values {
        out.push_str("---\n");
        out.push_str(&yaml(value));
    }
    out
}

/// serde's value with map keys sorted (`serde_json`'s default map is a `BTreeMap`).
pub fn to_value<T: Serialize>(value: &T) -> Value {
    // Serialising our own types into a Value cannot fail: every key is a string.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// At the top of a document.
    Document,
    /// The value of a mapping key: after `key:`.
    MapValue,
    /// An item of a sequence: after `- `.
    SeqItem,
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_value(out: &mut String, value: &Value, level: usize, context: Context) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            if context == Context::MapValue {
                out.push('\n');
            }
            for (i, (key, item)) in map.iter().enumerate() {
                // The first key of a sequence item shares the line with `- `.
                if !(context == Context::SeqItem && i == 0) {
                    indent(out, level);
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item, level + 2, Context::MapValue);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            if context == Context::MapValue {
                out.push('\n');
            }
            for (i, item) in items.iter().enumerate() {
                if !(context == Context::SeqItem && i == 0) {
                    indent(out, level);
                }
                out.push_str("- ");
                write_value(out, item, level + 2, Context::SeqItem);
            }
        }
        scalar => {
            if context == Context::MapValue {
                out.push(' ');
            }
            match scalar {
                Value::String(s) if is_block_candidate(s) => write_block(out, s, level),
                _ => {
                    write_scalar(out, scalar);
                    out.push('\n');
                }
            }
        }
    }
}

fn write_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// A multi-line string without trailing spaces reads best as a literal block.
fn is_block_candidate(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && !s.contains(['\r', '\t'])
        && !s.trim_end_matches('\n').contains("\n\n\n")
        && s.lines().all(|l| !l.ends_with(' '))
        && !s.ends_with("\n\n")
        && s.chars().all(|c| !c.is_control() || c == '\n')
}

fn write_block(out: &mut String, s: &str, level: usize) {
    out.push_str(if s.ends_with('\n') { "|\n" } else { "|-\n" });
    for line in s.trim_end_matches('\n').split('\n') {
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// A string as a plain scalar when that is unambiguous, else double-quoted (JSON escapes are
/// valid YAML escapes).
fn write_string(quoted: &mut String, s: &str) {
    if is_plain_safe(s) {
        quoted.push_str(s);
    } else {
        quoted.push('"');
        for c in s.chars() {
            match c {
                '"' => quoted.push_str("\\\""),
                '\\' => quoted.push_str("\\\\"),
                '\n' => quoted.push_str("\\n"),
                '\t' => quoted.push_str("\\t"),
                '\r' => quoted.push_str("\\r"),
                c if c.is_control() => {
                    let _ = write!(quoted, "\\u{:04x}", u32::from(c));
                }
                c => quoted.push(c),
            }
        }
        quoted.push('"');
    }
}

fn is_plain_safe(s: &str) -> bool {
    // The common case first: a lowercase word, a label key, a path.
    if let Some(&first) = s.as_bytes().first()
        && first.is_ascii_lowercase()
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'/' || b == b'.'
        })
        && s.len() > 5
    {
        return true;
    }
    const RESERVED: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", "-.inf", "+.inf",
        ".nan",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)) {
        return false;
    }
    // Anything that starts like a number, or holds YAML's indicators, is quoted.
    if first.is_ascii_digit() || "-+.?:,[]{}#&*!|>'\"%@`= ".contains(first) {
        return false;
    }
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_shape_is_stable() {
        let value = json!({
            "kind": "Deployment",
            "spec": {"containers": [{"name": "server", "ports": [{"containerPort": 8080}]}], "empty": {}, "none": []},
            "data": {"script": "line one\nline two\n"},
            "tricky": ["8080", "true", "a: b", "", "-x", "100m", "v0.10.6", "x\"y"],
        });
        let expected = "\
data:
  script: |
    line one
    line two
kind: Deployment
spec:
  containers:
    - name: server
      ports:
        - containerPort: 8080
  empty: {}
  none: []
tricky:
  - \"8080\"
  - \"true\"
  - \"a: b\"
  - \"\"
  - \"-x\"
  - \"100m\"
  - v0.10.6
  - \"x\\\"y\"
";
        assert_eq!(yaml(&value), expected);
    }

    #[test]
    fn yaml_round_trips_through_a_real_parser() {
        let value = json!({
            "a": ["yes", "No", "~", "1e3", "0x1F", "multi\nline", "trailing \nspace", "  lead", "\u{1}"],
            "b": [[1, 2], [], [{"x": null}]],
            "c": {"nested": {"deeper": [true, false, 1.5]}},
        });
        let text = yaml(&value);
        let parsed: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(parsed, value, "{text}");
    }

    #[test]
    fn json_ends_with_one_newline() {
        assert_eq!(
            json(&json!({"b": 1, "a": 2})),
            "{\n  \"a\": 2,\n  \"b\": 1\n}\n"
        );
    }
}
