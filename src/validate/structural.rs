//! The validator of the schemas in `schemas/applied/`: each schema is read once into a
//! `Node` of the keywords it sets, and objects are walked against that, either as trees
//! (`Node::faults`, every fault worded) or as they serialise (`Node::admits`, whether they
//! surely hold, without a tree).
//!
//! Those schemas are structural (the API server's own rule for CRDs): no `$ref`, no `$id`, and
//! a dozen of Draft 7's keywords (`type`, `properties`, `additionalProperties`, `required`,
//! `items`, `enum`, `anyOf`, `oneOf`, `allOf`, `not`, the bounds and lengths, `pattern`,
//! `format`). jsonschema compiles a schema into a tree of validators before it checks a
//! value: 2–3 ms for the eight Istio kinds and 4 ms for Argo CD's `Application`, most of a
//! small platform's `platc render` (issue 15), where checking its objects by walking the
//! schema takes 0.17 ms (platform.kdl's 80). jsonschema stays the judge: `tests/validate.rs`
//! holds this module's verdicts, and where it finds each fault, equal to jsonschema's
//! (Draft 7, formats asserted, as `validate` compiled it) on every object of every golden
//! case and on mutations of them.
//!
//! Semantics kept from Draft 7 as jsonschema applies it: `integer` admits a number with no
//! fractional part (`1.0`); numbers compare by value (in `enum`, `const` and the bounds);
//! lengths count Unicode scalar values; `pattern` is searched for, not matched whole
//! (patterns use the syntax the `regex` crate and ECMA-262 share); of the formats only
//! `date-time` (RFC 3339) is asserted, and the others these schemas name (`int32`, `int64`,
//! `double`, `byte`) are unknown to Draft 7 and ignored. A keyword outside that set makes
//! `unsupported` name it: a test fails on any schema that has one.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Mutex, OnceLock};

use serde::Serialize;
use serde_json::{Map, Value};

/// A place in the instance, from its root.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// One fault: where (a JSON Pointer into the instance) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub at: String,
    pub reason: String,
}

/// Every fault of `instance` against `schema`.
pub fn faults(schema: &Value, instance: &Value) -> Vec<Fault> {
    Node::of(schema).faults(instance)
}

/// A schema read once: each keyword `check` applies, looked up in the schema's map when the
/// schema is read rather than at every node of every instance (a render of 1,000 services
/// checks 15,000 objects against eleven schemas: the look-ups were most of the walk). It
/// borrows the schema, for the faults' words.
pub struct Node<'s> {
    /// `false`, or a schema that is neither `true` nor an object: every instance is a fault.
    refuses: bool,
    types: Option<&'s Value>,
    allowed: Option<&'s Vec<Value>>,
    constant: Option<&'s Value>,
    /// Sorted by name, as the schema's map has them.
    properties: Option<Vec<(&'s str, Node<'s>)>>,
    additional: Additional<'s>,
    required: Vec<&'s str>,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    items: Option<Box<Node<'s>>>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<&'s str>,
    date_time: bool,
    /// `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, as `LIMITS` names them.
    limits: [Option<&'s Value>; 4],
    all_of: Vec<Node<'s>>,
    any_of: Option<Vec<Node<'s>>>,
    one_of: Option<Vec<Node<'s>>>,
    not: Option<(Box<Node<'s>>, &'s Value)>,
}

/// What `additionalProperties` allows.
enum Additional<'s> {
    /// Absent, `true`, or not a schema: anything.
    Any,
    /// `false`: nothing beyond `properties`.
    None,
    Schema(Box<Node<'s>>),
}

/// The bounds of a number: keyword, the orders that are faults, and the fault's words.
const LIMITS: [(&str, &[std::cmp::Ordering], &str); 4] = {
    use std::cmp::Ordering::{Equal, Greater, Less};
    [
        ("minimum", &[Less], "less than the minimum of"),
        ("maximum", &[Greater], "greater than the maximum of"),
        (
            "exclusiveMinimum",
            &[Less, Equal],
            "less than or equal to the minimum of",
        ),
        (
            "exclusiveMaximum",
            &[Greater, Equal],
            "greater than or equal to the maximum of",
        ),
    ]
};

impl<'s> Node<'s> {
    /// `schema`, read.
    pub fn of(schema: &'s Value) -> Self {
        let mut node = Self {
            refuses: false,
            types: None,
            allowed: None,
            constant: None,
            properties: None,
            additional: Additional::Any,
            required: Vec::new(),
            min_properties: None,
            max_properties: None,
            items: None,
            min_items: None,
            max_items: None,
            min_length: None,
            max_length: None,
            pattern: None,
            date_time: false,
            limits: [None; 4],
            all_of: Vec::new(),
            any_of: None,
            one_of: None,
            not: None,
        };
        let map = match schema {
            Value::Object(map) => map,
            Value::Bool(true) => return node,
            _ => {
                node.refuses = true;
                return node;
            }
        };
        let list = |keyword: &str| {
            map.get(keyword)
                .and_then(Value::as_array)
                .map(|all| all.iter().map(Node::of).collect::<Vec<_>>())
        };
        node.types = map.get("type");
        node.allowed = map.get("enum").and_then(Value::as_array);
        node.constant = map.get("const");
        node.properties = map
            .get("properties")
            .and_then(Value::as_object)
            .map(|named| {
                named
                    .iter()
                    .map(|(name, sub)| (name.as_str(), Node::of(sub)))
                    .collect()
            });
        node.additional = match map.get("additionalProperties") {
            Some(Value::Bool(false)) => Additional::None,
            Some(sub @ Value::Object(_)) => Additional::Schema(Box::new(Node::of(sub))),
            _ => Additional::Any,
        };
        if let Some(Value::Array(required)) = map.get("required") {
            node.required = required.iter().filter_map(Value::as_str).collect();
        }
        let bound = |keyword: &str| map.get(keyword).and_then(Value::as_u64);
        node.min_properties = bound("minProperties");
        node.max_properties = bound("maxProperties");
        node.items = map.get("items").map(|sub| Box::new(Node::of(sub)));
        node.min_items = bound("minItems");
        node.max_items = bound("maxItems");
        node.min_length = bound("minLength");
        node.max_length = bound("maxLength");
        node.pattern = map.get("pattern").and_then(Value::as_str);
        node.date_time = map.get("format").and_then(Value::as_str) == Some("date-time");
        for (limit, (keyword, _, _)) in node.limits.iter_mut().zip(LIMITS) {
            *limit = map.get(keyword);
        }
        node.all_of = list("allOf").unwrap_or_default();
        node.any_of = list("anyOf");
        node.one_of = list("oneOf");
        node.not = map.get("not").map(|not| (Box::new(Node::of(not)), not));
        node
    }

    /// The schema of the property `name`, if `properties` names it.
    fn property(&self, name: &str) -> Option<&Self> {
        let properties = self.properties.as_ref()?;
        let at = properties
            .binary_search_by(|(property, _)| (*property).cmp(name))
            .ok()?;
        Some(&properties[at].1)
    }

    /// Every fault of `instance` against the schema.
    pub fn faults(&self, instance: &Value) -> Vec<Fault> {
        let mut walk = Walk::new(false);
        walk.check(self, instance);
        walk.faults
    }

    /// Whether `instance` satisfies the schema: a walk that words no fault and stops at the
    /// first (an `anyOf`'s or a `oneOf`'s schemas, several of which fail by design).
    fn holds(&self, instance: &Value) -> bool {
        let mut walk = Walk::new(true);
        walk.check(self, instance);
        !walk.failed
    }
}

impl Node<'_> {
    /// Whether `value` satisfies the schema, walked as it serialises, without a value tree:
    /// `true` only when it surely does. A part under a combinator (`allOf`, `anyOf`, `oneOf`,
    /// `not`), a `const` or a `minProperties` is made a tree and walked as `holds` walks it;
    /// a fault, or a shape this walk leaves to the tree (an enum variant with data, bytes, a
    /// number that is not finite or wider than 64 bits), answers `false`, and the caller
    /// walks the whole tree for the faults (`validate::object`). The validation's trees were
    /// most of its cost: a render of 1,000 services serialised each of its 8,000 Istio and
    /// Argo CD objects twice, once into a tree.
    pub fn admits<T: Serialize + ?Sized>(&self, value: &T) -> bool {
        admitted(self, value)
    }

    /// Whether a value can be walked against this node as it serialises.
    fn streams(&self) -> bool {
        !self.refuses
            && self.constant.is_none()
            && self.min_properties.is_none()
            && self.all_of.is_empty()
            && self.any_of.is_none()
            && self.one_of.is_none()
            && self.not.is_none()
    }

    /// Whether `kind` is of the node's type.
    fn typed(&self, kind: Kind) -> bool {
        let is = |name: &str| match (name, kind) {
            ("null", Kind::Null)
            | ("boolean", Kind::Bool)
            | ("object", Kind::Object)
            | ("array", Kind::Array)
            | ("string", Kind::String)
            | ("number", Kind::Number { .. }) => true,
            ("integer", Kind::Number { integral }) => integral,
            _ => false,
        };
        match self.types {
            Some(Value::String(name)) => is(name),
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).any(is),
            _ => true,
        }
    }

    /// Whether a scalar other than a string satisfies the node (a `streams` one).
    fn scalar(&self, kind: Kind, instance: &Value) -> bool {
        self.typed(kind)
            && self
                .allowed
                .is_none_or(|allowed| allowed.iter().any(|a| equal(a, instance)))
            && (!matches!(kind, Kind::Number { .. })
                || self
                    .limits
                    .iter()
                    .zip(LIMITS)
                    .all(|(limit, (_, faulty, _))| {
                        limit
                            .and_then(|limit| compare(instance, limit))
                            .is_none_or(|order| !faulty.contains(&order))
                    }))
    }
}

/// The JSON type of a value as it serialises.
#[derive(Clone, Copy)]
enum Kind {
    Null,
    Bool,
    Object,
    Array,
    String,
    Number { integral: bool },
}

/// `Node::admits` of one value against `node`.
fn admitted<T: Serialize + ?Sized>(node: &Node<'_>, value: &T) -> bool {
    if node.streams() {
        value.serialize(Admit { node }).is_ok()
    } else {
        serde_json::to_value(value).is_ok_and(|tree| node.holds(&tree))
    }
}

/// A value not surely admitted: faulty, or left to the tree.
#[derive(Debug)]
struct NotAdmitted;

impl std::fmt::Display for NotAdmitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not surely admitted")
    }
}

impl std::error::Error for NotAdmitted {}

impl serde::ser::Error for NotAdmitted {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Self
    }
}

/// The serializer of `Node::admits`: one value against a node that `streams`.
struct Admit<'n, 's> {
    node: &'n Node<'s>,
}

impl<'n, 's> Admit<'n, 's> {
    fn holds(ok: bool) -> Result<(), NotAdmitted> {
        if ok { Ok(()) } else { Err(NotAdmitted) }
    }

    fn number(self, integral: bool, instance: &Value) -> Result<(), NotAdmitted> {
        Self::holds(self.node.scalar(Kind::Number { integral }, instance))
    }

    /// An object or an array opens: its type, and no `enum` (left to the tree).
    fn open(&self, kind: Kind) -> Result<(), NotAdmitted> {
        Self::holds(self.node.typed(kind) && self.node.allowed.is_none())
    }

    fn fields(self) -> Result<Fields<'n, 's>, NotAdmitted> {
        self.open(Kind::Object)?;
        if self.node.required.len() > 64 {
            return Err(NotAdmitted);
        }
        Ok(Fields {
            node: self.node,
            count: 0,
            required: 0,
            key: None,
        })
    }

    fn items(self) -> Result<Items<'n, 's>, NotAdmitted> {
        self.open(Kind::Array)?;
        Ok(Items {
            node: self.node,
            count: 0,
        })
    }
}

impl<'n, 's> serde::Serializer for Admit<'n, 's> {
    type Ok = ();
    type Error = NotAdmitted;
    type SerializeSeq = Items<'n, 's>;
    type SerializeTuple = Items<'n, 's>;
    type SerializeTupleStruct = Items<'n, 's>;
    type SerializeTupleVariant = serde::ser::Impossible<(), NotAdmitted>;
    type SerializeMap = Fields<'n, 's>;
    type SerializeStruct = Fields<'n, 's>;
    type SerializeStructVariant = serde::ser::Impossible<(), NotAdmitted>;

    fn serialize_bool(self, v: bool) -> Result<(), NotAdmitted> {
        Self::holds(self.node.scalar(Kind::Bool, &Value::Bool(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<(), NotAdmitted> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), NotAdmitted> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), NotAdmitted> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), NotAdmitted> {
        self.number(true, &Value::from(v))
    }
    fn serialize_u8(self, v: u8) -> Result<(), NotAdmitted> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), NotAdmitted> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), NotAdmitted> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), NotAdmitted> {
        self.number(true, &Value::from(v))
    }
    fn serialize_f32(self, v: f32) -> Result<(), NotAdmitted> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), NotAdmitted> {
        // serde_json makes a number that is not finite null: left to the tree.
        let Some(number) = serde_json::Number::from_f64(v) else {
            return Err(NotAdmitted);
        };
        self.number(v.fract() == 0.0, &Value::Number(number))
    }
    fn serialize_char(self, v: char) -> Result<(), NotAdmitted> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, text: &str) -> Result<(), NotAdmitted> {
        let node = self.node;
        let length = || text.chars().count() as u64;
        Self::holds(
            node.typed(Kind::String)
                && node
                    .allowed
                    .is_none_or(|allowed| allowed.iter().any(|a| a.as_str() == Some(text)))
                && node.min_length.is_none_or(|min| length() >= min)
                && node.max_length.is_none_or(|max| length() <= max)
                && node.pattern.is_none_or(|pattern| matches(pattern, text))
                && (!node.date_time || is_date_time(text)),
        )
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), NotAdmitted> {
        Err(NotAdmitted)
    }
    fn serialize_none(self) -> Result<(), NotAdmitted> {
        Self::holds(self.node.scalar(Kind::Null, &Value::Null))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), NotAdmitted> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), NotAdmitted> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), NotAdmitted> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), NotAdmitted> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), NotAdmitted> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotAdmitted> {
        Err(NotAdmitted)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Items<'n, 's>, NotAdmitted> {
        self.items()
    }
    fn serialize_tuple(self, _: usize) -> Result<Items<'n, 's>, NotAdmitted> {
        self.items()
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Items<'n, 's>, NotAdmitted> {
        self.items()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotAdmitted> {
        Err(NotAdmitted)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Fields<'n, 's>, NotAdmitted> {
        self.fields()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'n, 's>, NotAdmitted> {
        self.fields()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotAdmitted> {
        Err(NotAdmitted)
    }
}

/// An object's entries against a node: each value against its property's schema or the
/// additional one; the required names seen (a bit each); the count.
struct Fields<'n, 's> {
    node: &'n Node<'s>,
    count: u64,
    required: u64,
    /// A map's key, until its value comes.
    key: Option<String>,
}

impl Fields<'_, '_> {
    fn entry<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), NotAdmitted> {
        self.count += 1;
        if let Some(at) = self.node.required.iter().position(|name| *name == key) {
            self.required |= 1 << at;
        }
        let admitted = match (self.node.property(key), &self.node.additional) {
            (Some(sub), _) => admitted(sub, value),
            (None, Additional::Schema(sub)) => admitted(sub, value),
            (None, Additional::None) => false,
            (None, Additional::Any) => true,
        };
        Admit::holds(admitted)
    }

    fn end(self) -> Result<(), NotAdmitted> {
        // A bit for each required name seen (`fields` takes at most 64 of them).
        let seen = self.required.count_ones() as usize;
        Admit::holds(
            seen == self.node.required.len()
                && self.node.max_properties.is_none_or(|max| self.count <= max),
        )
    }
}

impl serde::ser::SerializeStruct for Fields<'_, '_> {
    type Ok = ();
    type Error = NotAdmitted;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NotAdmitted> {
        self.entry(key, value)
    }
    fn end(self) -> Result<(), NotAdmitted> {
        Fields::end(self)
    }
}

impl serde::ser::SerializeMap for Fields<'_, '_> {
    type Ok = ();
    type Error = NotAdmitted;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), NotAdmitted> {
        // serde_json's keys are strings: any other key is left to the tree.
        match serde_json::to_value(key) {
            Ok(Value::String(key)) => {
                self.key = Some(key);
                Ok(())
            }
            _ => Err(NotAdmitted),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NotAdmitted> {
        let key = self.key.take().ok_or(NotAdmitted)?;
        self.entry(&key, value)
    }
    fn end(self) -> Result<(), NotAdmitted> {
        Fields::end(self)
    }
}

/// An array's items against a node: each against `items`; the count.
struct Items<'n, 's> {
    node: &'n Node<'s>,
    count: u64,
}

impl Items<'_, '_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NotAdmitted> {
        self.count += 1;
        Admit::holds(
            self.node
                .items
                .as_ref()
                .is_none_or(|sub| admitted(sub, value)),
        )
    }

    fn end(self) -> Result<(), NotAdmitted> {
        Admit::holds(
            self.node.min_items.is_none_or(|min| self.count >= min)
                && self.node.max_items.is_none_or(|max| self.count <= max),
        )
    }
}

impl serde::ser::SerializeSeq for Items<'_, '_> {
    type Ok = ();
    type Error = NotAdmitted;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NotAdmitted> {
        self.item(value)
    }
    fn end(self) -> Result<(), NotAdmitted> {
        Items::end(self)
    }
}

impl serde::ser::SerializeTuple for Items<'_, '_> {
    type Ok = ();
    type Error = NotAdmitted;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NotAdmitted> {
        self.item(value)
    }
    fn end(self) -> Result<(), NotAdmitted> {
        Items::end(self)
    }
}

impl serde::ser::SerializeTupleStruct for Items<'_, '_> {
    type Ok = ();
    type Error = NotAdmitted;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NotAdmitted> {
        self.item(value)
    }
    fn end(self) -> Result<(), NotAdmitted> {
        Items::end(self)
    }
}

/// The keywords this module applies; any other (outside the annotations) is unsupported.
const KEYWORDS: &[&str] = &[
    "type",
    "enum",
    "const",
    "properties",
    "additionalProperties",
    "required",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
    "format",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
];

/// The formats these schemas name that Draft 7 does not define: jsonschema ignores them, and
/// so does this module. Any other but `date-time` is unsupported.
const IGNORED_FORMATS: &[&str] = &["int32", "int64", "double", "byte"];

/// Keywords that constrain nothing.
const ANNOTATIONS: &[&str] = &["title", "description", "default", "examples", "$schema"];

/// The first keyword of `schema` (or of a schema inside it) this module does not apply, if
/// there is one (`x-kubernetes-*` extensions are the API server's, and annotations here).
pub fn unsupported(schema: &Value) -> Option<String> {
    let Value::Object(map) = schema else {
        return match schema {
            Value::Bool(_) => None,
            other => Some(format!("a schema that is {other}")),
        };
    };
    for (key, value) in map {
        let known = KEYWORDS.contains(&key.as_str())
            || ANNOTATIONS.contains(&key.as_str())
            || key.starts_with("x-kubernetes-");
        if !known {
            return Some(key.clone());
        }
        let inner = match key.as_str() {
            "properties" => value
                .as_object()
                .and_then(|named| named.values().find_map(unsupported)),
            "additionalProperties" | "items" | "not" => unsupported(value),
            "format" => value
                .as_str()
                .filter(|f| *f != "date-time" && !IGNORED_FORMATS.contains(f))
                .map(|f| format!("format {f}")),
            "pattern" => value
                .as_str()
                .filter(|p| regex::Regex::new(p).is_err())
                .map(|p| format!("pattern {p}")),
            "anyOf" | "oneOf" | "allOf" => value
                .as_array()
                .and_then(|list| list.iter().find_map(unsupported)),
            _ => None,
        };
        if inner.is_some() {
            return inner;
        }
    }
    None
}

struct Walk<'a> {
    path: Vec<Step<'a>>,
    faults: Vec<Fault>,
    /// Whether the instance holds is all that is asked: a fault is noted in `failed`, not
    /// worded, and the walk goes no further.
    verdict: bool,
    failed: bool,
}

impl<'a> Walk<'a> {
    /// A walk from the instance's root; with `verdict`, one that only tells whether it holds.
    fn new(verdict: bool) -> Self {
        Self {
            path: Vec::new(),
            faults: Vec::new(),
            verdict,
            failed: false,
        }
    }

    fn fault(&mut self, reason: impl FnOnce() -> String) {
        self.failed = true;
        if self.verdict {
            return;
        }
        let reason = reason();
        let mut at = String::new();
        for step in &self.path {
            at.push('/');
            match step {
                Step::Key(key) => at.push_str(&key.replace('~', "~0").replace('/', "~1")),
                Step::Index(index) => {
                    let _ = write!(at, "{index}");
                }
            }
        }
        self.faults.push(Fault { at, reason });
    }

    fn within(&mut self, step: Step<'a>, node: &Node<'_>, instance: &'a Value) {
        self.path.push(step);
        self.check(node, instance);
        self.path.pop();
    }

    fn check(&mut self, node: &Node<'_>, instance: &'a Value) {
        if self.verdict && self.failed {
            return;
        }
        if node.refuses {
            self.fault(|| format!("False schema does not allow {instance}"));
            return;
        }
        if let Some(types) = node.types
            && !type_holds(types, instance)
        {
            self.fault(|| format!("{instance} is not of {}", type_names(types)));
        }
        if let Some(allowed) = node.allowed
            && !allowed.iter().any(|a| equal(a, instance))
        {
            self.fault(|| format!("{instance} is not one of {}", Value::Array(allowed.clone())));
        }
        if let Some(constant) = node.constant
            && !equal(constant, instance)
        {
            self.fault(|| format!("{constant} was expected"));
        }
        match instance {
            Value::Object(object) => self.object(node, object),
            Value::Array(items) => self.array(node, items),
            Value::String(text) => self.string(node, text),
            Value::Number(_) => self.number(node, instance),
            _ => {}
        }
        for sub in &node.all_of {
            self.check(sub, instance);
        }
        if let Some(any) = &node.any_of
            && !any.iter().any(|sub| sub.holds(instance))
        {
            self.fault(|| {
                format!(
                    "{instance} is not valid under any of the schemas listed in the 'anyOf' keyword"
                )
            });
        }
        if let Some(one) = &node.one_of {
            match one.iter().filter(|sub| sub.holds(instance)).count() {
                1 => {}
                0 => self.fault(|| format!(
                    "{instance} is not valid under any of the schemas listed in the 'oneOf' keyword"
                )),
                _ => self.fault(|| format!(
                    "{instance} is valid under more than one of the schemas listed in the 'oneOf' keyword"
                )),
            }
        }
        if let Some((not, schema)) = &node.not
            && not.holds(instance)
        {
            self.fault(|| format!("{instance} should not be valid under {schema}"));
        }
    }

    fn object(&mut self, node: &Node<'_>, object: &'a Map<String, Value>) {
        let named = |key: &str| node.property(key).is_some();
        if let Some(properties) = &node.properties {
            for (name, sub) in properties {
                if let Some((key, value)) = object.get_key_value(*name) {
                    self.within(Step::Key(key), sub, value);
                }
            }
        }
        match &node.additional {
            Additional::None => {
                let unexpected: Vec<String> = object
                    .keys()
                    .filter(|key| !named(key))
                    .map(|key| format!("'{key}'"))
                    .collect();
                match unexpected.len() {
                    0 => {}
                    1 => self.fault(|| {
                        format!(
                            "Additional properties are not allowed ({} was unexpected)",
                            unexpected[0]
                        )
                    }),
                    _ => self.fault(|| {
                        format!(
                            "Additional properties are not allowed ({} were unexpected)",
                            unexpected.join(", ")
                        )
                    }),
                }
            }
            Additional::Schema(sub) => {
                for (name, value) in object {
                    if !named(name) {
                        self.within(Step::Key(name), sub, value);
                    }
                }
            }
            Additional::Any => {}
        }
        for name in &node.required {
            if !object.contains_key(*name) {
                self.fault(|| format!("\"{name}\" is a required property"));
            }
        }
        let count = object.len() as u64;
        if let Some(min) = node.min_properties
            && count < min
        {
            self.fault(|| {
                format!(
                    "{} has less than {min} properties",
                    Value::Object(object.clone())
                )
            });
        }
        if let Some(max) = node.max_properties
            && count > max
        {
            self.fault(|| {
                format!(
                    "{} has more than {max} properties",
                    Value::Object(object.clone())
                )
            });
        }
    }

    fn array(&mut self, node: &Node<'_>, items: &'a [Value]) {
        if let Some(sub) = &node.items {
            for (index, item) in items.iter().enumerate() {
                self.within(Step::Index(index), sub, item);
            }
        }
        let count = items.len() as u64;
        if let Some(min) = node.min_items
            && count < min
        {
            self.fault(|| format!("{} has less than {min} items", Value::from(items)));
        }
        if let Some(max) = node.max_items
            && count > max
        {
            self.fault(|| format!("{} has more than {max} items", Value::from(items)));
        }
    }

    fn string(&mut self, node: &Node<'_>, text: &str) {
        if node.min_length.is_some() || node.max_length.is_some() {
            let length = text.chars().count() as u64;
            if let Some(min) = node.min_length
                && length < min
            {
                self.fault(|| format!("\"{text}\" is shorter than {min} characters"));
            }
            if let Some(max) = node.max_length
                && length > max
            {
                self.fault(|| format!("\"{text}\" is longer than {max} characters"));
            }
        }
        if let Some(pattern) = node.pattern
            && !matches(pattern, text)
        {
            self.fault(|| format!("\"{text}\" does not match \"{pattern}\""));
        }
        if node.date_time && !is_date_time(text) {
            self.fault(|| format!("\"{text}\" is not a \"date-time\""));
        }
    }

    fn number(&mut self, node: &Node<'_>, instance: &Value) {
        for (limit, (_, faulty, words)) in node.limits.iter().zip(LIMITS) {
            if let Some(limit) = limit
                && let Some(order) = compare(instance, limit)
                && faulty.contains(&order)
            {
                self.fault(|| format!("{instance} is {words} {limit}"));
            }
        }
    }
}

fn type_holds(types: &Value, instance: &Value) -> bool {
    match types {
        Value::String(name) => is_type(name, instance),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .any(|name| is_type(name, instance)),
        _ => true,
    }
}

fn is_type(name: &str, instance: &Value) -> bool {
    match (name, instance) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("string", Value::String(_))
        | ("number", Value::Number(_)) => true,
        ("integer", Value::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn type_names(types: &Value) -> String {
    match types {
        Value::Array(names) => {
            let names: Vec<String> = names.iter().map(Value::to_string).collect();
            format!("types {}", names.join(", "))
        }
        other => format!("type {other}"),
    }
}

/// JSON equality, numbers by value (`1` equals `1.0`).
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => compare(a, b) == Some(std::cmp::Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, value)| y.get(key).is_some_and(|other| equal(value, other)))
        }
        _ => a == b,
    }
}

/// The order of two numbers by value; `None` unless both are numbers.
fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    let (Value::Number(a), Value::Number(b)) = (a, b) else {
        return None;
    };
    let exact = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (exact(a), exact(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Whether `pattern` is found in `text`. Each pattern is compiled once per process; one the
/// `regex` crate refuses matches nothing (the test of the schemas compiles every one).
fn matches(pattern: &str, text: &str) -> bool {
    static COMPILED: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let mut compiled = COMPILED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    compiled
        .entry(pattern.to_owned())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .as_ref()
        .is_some_and(|regex| regex.is_match(text))
}

/// RFC 3339's `date-time`, as jsonschema reads it: `YYYY-MM-DD`, `T` (either case),
/// `HH:MM:SS`, optional fraction, then `Z` or `±HH:MM`; a leap second only at 23:59 UTC.
pub fn is_date_time(text: &str) -> bool {
    let Some(t) = text.bytes().position(|b| b == b'T' || b == b't') else {
        return false;
    };
    is_date(&text.as_bytes()[..t]) && is_time(&text.as_bytes()[t + 1..])
}

fn digits(bytes: &[u8]) -> Option<u16> {
    bytes.iter().try_fold(0u16, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u16::from(b - b'0'))
    })
}

fn is_date(bytes: &[u8]) -> bool {
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (
        digits(&bytes[..4]),
        digits(&bytes[5..7]),
        digits(&bytes[8..10]),
    ) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

fn is_time(bytes: &[u8]) -> bool {
    if bytes.len() < 9 || bytes[2] != b':' || bytes[5] != b':' {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) = (
        digits(&bytes[..2]),
        digits(&bytes[3..5]),
        digits(&bytes[6..8]),
    ) else {
        return false;
    };
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut i = 8;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    let (hour, minute) = (
        i16::try_from(hour).unwrap_or(0),
        i16::try_from(minute).unwrap_or(0),
    );
    match bytes.get(i) {
        Some(b'Z' | b'z') => i == bytes.len() - 1 && (second != 60 || (hour == 23 && minute == 59)),
        Some(&sign @ (b'+' | b'-')) => {
            let offset = &bytes[i + 1..];
            if offset.len() != 5 || offset[2] != b':' {
                return false;
            }
            let (Some(oh), Some(om)) = (digits(&offset[..2]), digits(&offset[3..5])) else {
                return false;
            };
            if oh > 23 || om > 59 {
                return false;
            }
            if second != 60 {
                return true;
            }
            // A leap second is 23:59:60 in UTC.
            let (oh, om) = (
                i16::try_from(oh).unwrap_or(0),
                i16::try_from(om).unwrap_or(0),
            );
            let minutes = if sign == b'+' {
                hour * 60 + minute - (oh * 60 + om)
            } else {
                hour * 60 + minute + oh * 60 + om
            };
            minutes.rem_euclid(24 * 60) == 23 * 60 + 59
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn date_times_as_rfc_3339_reads_them() {
        for good in [
            "2026-12-02T13:51:45Z",
            "2024-02-29t00:00:00.5z",
            "2026-12-02T13:51:45+01:00",
            "2016-12-31T23:59:60Z",
            "2017-01-01T00:59:60+01:00",
        ] {
            assert!(is_date_time(good), "{good}");
        }
        for bad in [
            "2026-12-02",
            "2023-02-29T00:00:00Z",
            "2026-13-02T00:00:00Z",
            "2026-12-02T24:00:00Z",
            "2026-12-02T13:51:45",
            "2026-12-02T13:51:45.Z",
            "2026-12-02T13:51:45+0100",
            "2026-12-02T12:59:60Z",
            "2026-12-02T13:51:45Zx",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn faults_are_found_where_they_are() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": {"type": "array", "items": {"type": "integer", "maximum": 3}},
                "b": {"type": ["string", "null"], "maxLength": 2, "pattern": "^x"},
                "c~/": {"oneOf": [{"required": ["d"]}, {"required": ["e"]}]},
            },
            "additionalProperties": false,
            "required": ["a"],
        });
        let at = |instance: Value| -> Vec<String> {
            faults(&schema, &instance)
                .into_iter()
                .map(|f| f.at)
                .collect()
        };
        assert!(at(json!({"a": [1, 2.0, 3], "b": null})).is_empty());
        assert_eq!(at(json!({"a": [1, 4, 1.5]})), ["/a/1", "/a/2"]);
        assert_eq!(at(json!({"a": [], "b": "xyz"})), ["/b"]);
        assert_eq!(at(json!({"a": [], "b": "y"})), ["/b"]);
        assert_eq!(at(json!({"a": [], "c~/": {"d": 1, "e": 2}})), ["/c~0~1"]);
        assert_eq!(at(json!({"a": [], "c~/": {}})), ["/c~0~1"]);
        assert_eq!(at(json!({"a": [], "z": 1})), [""]);
        assert_eq!(at(json!({})), [""]);
        assert!(
            faults(&schema, &json!({"z": 1, "y": 2}))[0]
                .reason
                .contains("'y', 'z' were")
        );
    }

    #[test]
    fn an_unknown_keyword_is_named() {
        assert_eq!(
            unsupported(&json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})),
            None
        );
        assert_eq!(
            unsupported(&json!({"properties": {"a": {"anyOf": [{"$ref": "#/x"}]}}})),
            Some("$ref".to_owned())
        );
        // What the walker does not apply: the positional `items`, a format Draft 7 asserts
        // other than `date-time`, a pattern the `regex` crate refuses.
        assert!(unsupported(&json!({"items": [{"type": "string"}]})).is_some());
        assert_eq!(
            unsupported(&json!({"format": "uri"})),
            Some("format uri".to_owned())
        );
        assert_eq!(unsupported(&json!({"format": "int32"})), None);
        assert_eq!(
            unsupported(&json!({"pattern": "(?<=a)b"})),
            Some("pattern (?<=a)b".to_owned())
        );
    }
}
