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
    // Our types always serialise: every map key is a string and every number finite.
    crate::emit::yaml::to_string(value).unwrap_or_default()
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

pub(crate) fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

/// A multi-line string without trailing spaces reads best as a literal block.
pub(crate) fn is_block_candidate(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && !s.contains(['\r', '\t'])
        && !s.trim_end_matches('\n').contains("\n\n\n")
        && s.lines().all(|l| !l.ends_with(' '))
        && !s.ends_with("\n\n")
        && s.chars().all(|c| !c.is_control() || c == '\n')
}

pub(crate) fn write_block(out: &mut String, s: &str, level: usize) {
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
pub(crate) fn write_string(quoted: &mut String, s: &str) {
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

/// Words a YAML 1.1 or 1.2 reader takes for booleans, nulls or special floats.
const RESERVED: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", "-.inf", "+.inf",
    ".nan",
];

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
