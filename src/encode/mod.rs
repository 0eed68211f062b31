//! Encoding, after emit: the output set (`output::Output`) to bytes. The one canonical
//! encoder for JSON and YAML, so equal values always give equal bytes:
//!
//! - YAML (`yaml`): two-space indent, sequences indented under their key, `{}` and `[]` for
//!   empty collections, strings quoted whenever a reader could take them for anything but a
//!   string, literal blocks for multi-line text, one trailing newline.
//! - JSON (`json`): pretty, two-space indent, one trailing newline.
//! - Key order: JSON sorts every key (`serde_json`'s map is a `BTreeMap`). YAML writes keys
//!   in the order the value serialises them, without building a tree: maps (`BTreeMap`)
//!   sorted, k8s-openapi's types in their field order, which is alphabetical by wire name,
//!   and platc's own CRD structs in declaration order, `apiVersion`, `kind`, `metadata`,
//!   `spec` first. The tests below hold both rules.
//! - Text (templates, HCL, Jenkinsfiles) is written as it is: a leaf the encoder never
//!   touches, so Go-template or Groovy syntax survives.
//!
//! `file` gives one item's bytes (a cluster object gets the generated-file header naming
//! its origin); `stream` gives `platc render`'s YAML stream.

pub mod yaml;

pub use yaml::Raw;

use serde::Serialize;
use serde_json::Value;

use crate::model::Origin;
use crate::output::{Body, Item, Output};

/// A value as pretty JSON with a trailing newline.
pub fn json<T: Serialize>(value: &T) -> String {
    pretty(&to_value(value), 0)
}

/// `serde_json`'s pretty JSON (two-space indent) and a trailing newline, written into room
/// for `capacity` bytes. Its formatter (`Pretty`) writes a line's break and indentation at
/// once: `serde_json`'s writes the indentation two spaces at a time, six or more writes a
/// line deep in a dashboard's panels.
fn pretty<T: Serialize + ?Sized>(value: &T, capacity: usize) -> String {
    let mut out = Vec::with_capacity(capacity);
    // Our types always serialise: every map key is a string and every number finite.
    if pretty_into(&mut out, value, 0).is_err() {
        return String::new();
    }
    out.push(b'\n');
    // serde_json writes UTF-8 only.
    String::from_utf8(out).unwrap_or_default()
}

/// `value` as `pretty` lays it out, without the trailing newline, appended to `out` with every
/// line but the first indented by `margin` spaces more: the lines of a YAML literal block
/// whose first line's indentation the caller wrote (`yaml::JsonBlock`).
fn pretty_into<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    margin: usize,
) -> serde_json::Result<()> {
    let formatter = Pretty {
        margin,
        ..Pretty::default()
    };
    value.serialize(&mut serde_json::Serializer::with_formatter(out, formatter))
}

/// The layout of `serde_json::ser::PrettyFormatter` with its default two-space indent, byte
/// for byte (a test holds it): a line break and the indentation of the level written in one
/// piece; with a `margin`, every line after the first is indented that much more.
#[derive(Default)]
struct Pretty {
    level: usize,
    has_value: bool,
    margin: usize,
}

impl Pretty {
    /// A line break, the margin and `level` indentations.
    fn line<W: ?Sized + std::io::Write>(
        &self,
        writer: &mut W,
        level: usize,
    ) -> std::io::Result<()> {
        const LINE: &[u8; 129] = b"\n                                                                                                                                ";
        let mut spaces = self.margin + level * 2;
        let first = spaces.min(LINE.len() - 1);
        writer.write_all(&LINE[..=first])?;
        spaces -= first;
        while spaces > 0 {
            let step = spaces.min(LINE.len() - 1);
            writer.write_all(&LINE[1..=step])?;
            spaces -= step;
        }
        Ok(())
    }

    /// An array or object opens, one level deeper.
    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    /// An array or object closes: on a line of its own unless it is empty.
    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(writer, self.level)?;
        }
        writer.write_all(bracket)
    }

    /// An element or key starts a line, after a comma unless it is the first.
    fn item<W: ?Sized + std::io::Write>(&self, writer: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        self.line(writer, self.level)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(writer, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `json` without the detour through a value tree, for a type whose fields are declared in
/// the order of their names (and whose maps are sorted): its keys come out sorted as they
/// are. Dashboards are built so (`dashboards::model`), and a test holds both ways equal.
pub fn json_in_field_order<T: Serialize>(value: &T) -> String {
    // A service's dashboard is about 25 KB: room for it at once, not grown from nothing.
    pretty(value, 32 * 1024)
}

/// A value as one YAML document (no `---`), with a trailing newline.
pub fn yaml<T: Serialize>(value: &T) -> String {
    // Our types always serialise: every map key is a string and every number finite.
    yaml::to_string(value).unwrap_or_default()
}

/// `yaml`, appended to `out` (which is empty or ends with a line break).
pub fn write_yaml<T: Serialize + ?Sized>(out: &mut String, value: &T) {
    // As in `yaml`: our types always serialise.
    let _ = yaml::write(out, value);
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

/// The sentence every generated file opens with, naming where in `platform.kdl` it came
/// from (made safe for a one-line comment).
pub fn generated(origin: &str) -> String {
    format!(
        "Generated by platc from {}. Do not edit: change platform.kdl and run `platc build`.",
        comment_safe(origin)
    )
}

/// `generated` as a `#` comment line (YAML, HCL).
pub fn header(origin: &str) -> String {
    format!("# {}\n", generated(origin))
}

/// The bytes of one item of the output set.
pub fn file(item: &Item, origin: &Origin) -> String {
    match &item.body {
        // Encoded after its header, in one text: not into a text of its own copied after it.
        Body::Object(object) => {
            let mut text = String::with_capacity(2048);
            text.push_str(&header(&origin.path(item.origin)));
            object.value.write_yaml(&mut text);
            text
        }
        Body::Json(value) => pretty(value, 0),
        Body::Yaml(value) => {
            let mut text = header(&origin.path(item.origin));
            text.push_str(&yaml(value));
            text
        }
        Body::Text(text) => text.clone(),
        Body::Rendered { yaml, .. } => {
            let mut text = header(&origin.path(item.origin));
            text.push_str(yaml.strip_prefix("---\n").unwrap_or(yaml));
            text
        }
    }
}

/// `file`, a text's bytes taken from the item rather than copied (a Jenkins seed job of
/// 1,000 services is 0.8 MB): what a build does with each item it has made.
pub fn take_file(item: &mut Item, origin: &Origin) -> String {
    match &mut item.body {
        Body::Text(text) => std::mem::take(text),
        _ => file(item, origin),
    }
}

/// How many documents of `stream` share one piece: enough to make each write to stdout large,
/// few enough to spread the encoding over every core.
const DOCUMENTS_PER_PIECE: usize = 32;

/// The set's cluster objects as one YAML stream in apply order (`output::cluster_order`),
/// each document introduced by `---`, with no headers (what `platc render` prints), in
/// pieces to be written one after another: joining them would copy the whole stream once
/// more. Objects that are still typed are encoded in parallel, each dropped as soon as it is
/// encoded; those of `Scope::Stream` already are, and their texts are taken as they are.
/// Also gives back the set's items, spent (their texts and typed values taken), for the
/// caller to free or, at the end of the process, not.
pub fn stream(output: Output) -> (Vec<String>, Vec<Item>) {
    let mut items = output.into_items();
    let order = crate::output::cluster_order(&items);
    // Each piece: an encoded object's place, or a run of places (an object still typed and
    // those after it) to encode on every core.
    let mut plan: Vec<Result<usize, &[usize]>> = Vec::with_capacity(order.len());
    let mut rest = order.as_slice();
    while let Some((&at, after)) = rest.split_first() {
        if matches!(items[at].body, Body::Rendered { .. }) {
            plan.push(Ok(at));
            rest = after;
        } else {
            let (run, after) = rest.split_at(rest.len().min(DOCUMENTS_PER_PIECE));
            plan.push(Err(run));
            rest = after;
        }
    }
    let runs: Vec<Vec<Body>> = plan
        .iter()
        .filter_map(|piece| piece.err())
        .map(|run| {
            run.iter()
                .map(|&at| std::mem::replace(&mut items[at].body, Body::Text(String::new())))
                .collect()
        })
        .collect();
    let mut encoded = crate::emit::parallel::map_owned(runs, |run| {
        let mut out = String::new();
        for body in run {
            match &body {
                Body::Object(object) => {
                    out.push_str("---\n");
                    object.value.write_yaml(&mut out);
                }
                Body::Rendered { yaml, .. } => out.push_str(yaml),
                _ => {}
            }
        }
        out
    })
    .into_iter();
    let pieces = plan
        .iter()
        .map(|piece| match *piece {
            Ok(at) => match &mut items[at].body {
                Body::Rendered { yaml, .. } => std::mem::take(yaml),
                _ => String::new(),
            },
            Err(_) => encoded.next().unwrap_or_default(),
        })
        .collect();
    (pieces, items)
}

/// A text made safe for a one-line comment: control characters (a newline above all) and
/// invisible or bidirectional formatting characters are written as `\u{…}` escapes.
pub fn comment_safe(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let unsafe_char = c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
            if unsafe_char {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// serde's value with map keys sorted (`serde_json`'s default map is a `BTreeMap`).
pub fn to_value<T: Serialize>(value: &T) -> Value {
    // Serialising our own types into a Value cannot fail: every key is a string.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `Pretty` lays JSON out as `serde_json`'s `PrettyFormatter` does, byte for byte: empty
    /// and nested collections, escapes, and levels deeper than its one piece of indentation
    /// (64 levels).
    #[test]
    fn pretty_json_is_serde_jsons_layout() {
        let mut deep = json!({"leaf": [1, {}, [], {"x": null}]});
        for level in 0..70 {
            deep = if level % 2 == 0 {
                json!({ "k": deep, "empty": {}, "n": level })
            } else {
                json!([deep, [], "a\"b\n\u{1}", 2.5, true])
            };
        }
        for value in [
            json!({}),
            json!([]),
            json!("s"),
            json!({"a": [[]], "b": {"c": {}}}),
            deep,
        ] {
            let expected = format!("{}\n", serde_json::to_string_pretty(&value).unwrap());
            assert_eq!(pretty(&value, 0), expected);
            assert_eq!(json_in_field_order(&value), expected);
        }
    }

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
    fn a_raw_leaf_is_written_as_it_is() {
        #[derive(serde::Serialize)]
        struct Doc {
            kind: &'static str,
            replicas: Raw,
            name: String,
        }
        let doc = Doc {
            kind: "Deployment",
            replicas: Raw("{{ .Values.replicaCount }}".into()),
            name: "{{ not a template }}".into(),
        };
        // The raw leaf stays a template hole; a string that looks like one is quoted data.
        assert_eq!(
            yaml(&doc),
            "kind: Deployment\nreplicas: {{ .Values.replicaCount }}\nname: \"{{ not a template }}\"\n"
        );
        assert_eq!(
            to_value(&doc)["replicas"],
            json!("{{ .Values.replicaCount }}")
        );
    }

    #[test]
    fn keys_come_in_the_documented_order() {
        // Maps sorted; structs in declaration order; k8s-openapi types alphabetical by wire
        // name, apiVersion and kind first.
        #[derive(serde::Serialize)]
        struct Spec {
            zeta: u8,
            alpha: std::collections::BTreeMap<&'static str, u8>,
        }
        let spec = Spec {
            zeta: 1,
            alpha: [("b", 2), ("a", 1)].into(),
        };
        assert_eq!(yaml(&spec), "zeta: 1\nalpha:\n  a: 1\n  b: 2\n");
        assert_eq!(
            json(&spec),
            "{\n  \"alpha\": {\n    \"a\": 1,\n    \"b\": 2\n  },\n  \"zeta\": 1\n}\n"
        );
        let service = k8s_openapi::api::core::v1::Service {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("a".into()),
                ..Default::default()
            },
            spec: Some(k8s_openapi::api::core::v1::ServiceSpec {
                type_: Some("ClusterIP".into()),
                cluster_ip: Some("None".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            yaml(&service),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  clusterIP: None\n  type: ClusterIP\n"
        );
    }

    #[test]
    fn streamed_objects_are_the_typed_ones_encoded() {
        // `Scope::Stream` validates, puts in a sync wave and encodes each object as it is
        // made; the stream must be the one of the typed set.
        let text = include_str!("../../platform.kdl");
        let compiled = crate::compile(
            &crate::source::Source::new("platform.kdl", text.to_owned()),
            &crate::Options::default(),
        );
        let platform = compiled.platform.expect("the reference platform compiles");
        assert!(
            platform.delivery.argocd.is_some(),
            "sync waves are exercised"
        );
        let (typed, _) = stream(crate::output(&platform, crate::emit::Scope::Cluster).unwrap());
        let (streamed, _) = stream(crate::output(&platform, crate::emit::Scope::Stream).unwrap());
        let typed = typed.concat();
        assert!(typed.contains("argocd.argoproj.io/sync-wave"));
        assert!(typed.matches("\n---\n").count() > 100, "{}", typed.len());
        assert_eq!(streamed.concat(), typed);
    }

    #[test]
    fn json_ends_with_one_newline() {
        assert_eq!(
            json(&json!({"b": 1, "a": 2})),
            "{\n  \"a\": 2,\n  \"b\": 1\n}\n"
        );
    }
}
