//! platc's schema walker (`validate::structural`) against its judge, jsonschema (Draft 7,
//! formats asserted: how `validate` compiled the schemas before the walker replaced it).
//!
//! For every object with a schema in out/ and in every golden tree, and for mutations of each
//! (an unknown key in every object, every value swapped for one of each JSON type and for
//! out-of-range numbers and strings, every key removed, every array emptied and grown), the
//! two must find faults at the same places: the same set of instance paths, none for the
//! objects as emitted (so every emitted tree validates).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use platc::validate::{SCHEMAS, schema, structural};
use serde::Deserialize as _;
use serde_json::{Value, json};

fn judge(index: usize) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(schema(index))
        .expect("the schema compiles")
}

/// The places (JSON Pointers) where the judge finds faults.
fn judged(judge: &jsonschema::Validator, instance: &Value) -> BTreeSet<String> {
    judge
        .iter_errors(instance)
        .map(|e| e.instance_path().to_string())
        .collect()
}

/// The places where the walker finds faults, the schema read once for all of them.
fn walked(schema: &structural::Node, instance: &Value) -> BTreeSet<String> {
    schema.faults(instance).into_iter().map(|f| f.at).collect()
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("entry").path();
        // Chart templates are Helm's input, not manifests.
        if path.is_dir() && path.file_name().is_some_and(|n| n == "helm") {
            continue;
        }
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// Every distinct object with a schema that platc emitted into out/ or a golden tree, by
/// the index of its schema.
fn emitted() -> BTreeMap<usize, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("out")];
    for case in std::fs::read_dir(root.join("golden")).expect("golden/") {
        let expected = case.expect("entry").path().join("expected");
        if expected.is_dir() {
            dirs.push(expected);
        }
    }
    let mut files = Vec::new();
    for dir in &dirs {
        yaml_files(dir, &mut files);
    }
    let mut objects: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable file");
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let doc = serde_yaml::Value::deserialize(doc).expect("YAML");
            if doc.is_null() {
                continue;
            }
            let doc: Value = serde_json::to_value(&doc).expect("JSON-compatible YAML");
            let found = SCHEMAS
                .iter()
                .position(|(v, k, _, _)| doc["apiVersion"] == *v && doc["kind"] == *k);
            if let Some(index) = found {
                objects.entry(index).or_default().insert(doc.to_string());
            }
        }
    }
    objects
}

/// Every place in `value`, as a path of keys and indices.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn places(value: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                at.push(Step::Key(key.clone()));
                places(child, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                at.push(Step::Index(index));
                places(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'v>(value: &'v mut Value, path: &[Step]) -> &'v mut Value {
    path.iter().fold(value, |v, step| match step {
        Step::Key(key) => &mut v[key.as_str()],
        Step::Index(index) => &mut v[*index],
    })
}

/// The mutations of `object`: each a copy with one change.
fn mutations(object: &Value) -> Vec<Value> {
    let mut all = Vec::new();
    places(object, &mut Vec::new(), &mut all);
    let replacements = [
        json!(null),
        json!(true),
        json!(7),
        json!(-1),
        json!(1.5),
        json!(4_294_967_296_u64),
        json!(""),
        json!("NOT a-name!"),
        json!("x".repeat(300)),
        json!("2026-12-02T13:51:45Z"),
        json!([]),
        json!({}),
    ];
    let mut out = Vec::new();
    for path in &all {
        let here = at_mut(&mut object.clone(), path).clone();
        for replacement in &replacements {
            if path.is_empty() {
                continue;
            }
            let mut changed = object.clone();
            *at_mut(&mut changed, path) = replacement.clone();
            out.push(changed);
        }
        match here {
            Value::Object(map) => {
                let mut changed = object.clone();
                at_mut(&mut changed, path)["zzUnknown"] = json!(1);
                out.push(changed);
                for key in map.keys() {
                    let mut changed = object.clone();
                    if let Value::Object(m) = at_mut(&mut changed, path) {
                        m.remove(key);
                    }
                    out.push(changed);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                let mut changed = object.clone();
                if let Value::Array(list) = at_mut(&mut changed, path) {
                    list.push(items[0].clone());
                }
                out.push(changed);
            }
            _ => {}
        }
    }
    out
}

#[test]
fn the_walker_finds_the_faults_jsonschema_finds() {
    let objects = emitted();
    assert!(
        objects.len() >= 8,
        "only {} kinds with a schema were emitted",
        objects.len()
    );
    let distinct: usize = objects.values().map(BTreeSet::len).sum();
    assert!(distinct > 50, "only {distinct} objects had a schema");
    let mut compared = 0;
    let mut faulty = 0;
    let mut admitted = 0;
    let mut differ = Vec::new();
    for (&index, texts) in &objects {
        let judge = judge(index);
        let schema = structural::Node::of(schema(index));
        for text in texts {
            let object: Value = serde_json::from_str(text).expect("JSON");
            assert_eq!(walked(&schema, &object), BTreeSet::new(), "{text}");
            assert_eq!(judged(&judge, &object), BTreeSet::new(), "{text}");
            // What platc emits is admitted as it serialises, without a tree.
            assert!(schema.admits(&object), "not admitted: {text}");
            for changed in mutations(&object) {
                let (walker, judged) = (walked(&schema, &changed), judged(&judge, &changed));
                compared += 1;
                faulty += usize::from(!judged.is_empty());
                // Admitted as it serialises only when the tree has no fault.
                if schema.admits(&changed) {
                    admitted += 1;
                    assert!(
                        walker.is_empty(),
                        "admitted, with faults {walker:?}: {changed}"
                    );
                }
                if walker != judged && differ.len() < 10 {
                    differ.push(format!(
                        "{}: walker {walker:?}, jsonschema {judged:?} on {changed}",
                        SCHEMAS[index].1
                    ));
                }
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    // The mutations reach most keywords: most of them are faults, and many are not.
    assert!(compared > 20_000, "only {compared} mutations");
    assert!(
        faulty * 2 > compared && faulty < compared,
        "{faulty} of {compared} faulty"
    );
    // Most of the mutations without a fault are admitted as they serialise.
    assert!(
        admitted * 2 > compared - faulty,
        "{admitted} of {} without a fault admitted",
        compared - faulty
    );
}

/// The keywords the emitted objects do not reach (the walker's bounds, `oneOf`, `not`,
/// `date-time`), on schemas of their own.
#[test]
fn the_walker_agrees_on_each_keyword() {
    let schemas = [
        json!({"type": "string", "format": "date-time"}),
        json!({"type": ["integer", "null"], "minimum": 1, "maximum": 100}),
        json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
        json!({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}),
        json!({"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[a-z]+$"}]}),
        json!({"not": {"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}}),
        json!({"allOf": [{"minProperties": 1}, {"maxProperties": 2}]}),
        json!({"type": "array", "minItems": 1, "maxItems": 2, "items": {"enum": [1, "a"]}}),
        json!({"type": "string", "minLength": 2, "maxLength": 3}),
        json!({"type": "object", "additionalProperties": {"type": "integer"}}),
        json!({"const": {"a": [1, 2.0]}}),
    ];
    let instances = [
        json!(null),
        json!(0),
        json!(1),
        json!(1.0),
        json!(0.5),
        json!(100),
        json!(101),
        json!(-3),
        json!("a"),
        json!("ab"),
        json!("abcd"),
        json!("é✓"),
        json!("AB"),
        json!([]),
        json!([1]),
        json!(["a", 1.0]),
        json!([1, 2, 3]),
        json!({}),
        json!({"a": 1}),
        json!({"b": 1}),
        json!({"a": 1, "b": "x"}),
        json!({"a": 1, "b": 2, "c": 3}),
        json!({"a": [1, 2]}),
        json!("2026-12-02T13:51:45Z"),
        json!("2024-02-29t00:00:00.5z"),
        json!("2023-02-29T00:00:00Z"),
        json!("2016-12-31T23:59:60Z"),
        json!("2016-12-31T12:59:60Z"),
        json!("2016-12-31T22:59:60-01:00"),
        json!("2016-12-31T23:59:60+01:00"),
        json!("2026-12-02T13:51:45+0100"),
        json!("2026-12-02T13:51:45.Z"),
        json!("2026-12-02 13:51:45Z"),
    ];
    for schema in &schemas {
        let judge = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(schema)
            .expect("compiles");
        let node = structural::Node::of(schema);
        for instance in &instances {
            if node.admits(instance) {
                assert_eq!(
                    walked(&node, instance),
                    BTreeSet::new(),
                    "{schema} on {instance}"
                );
            }
            assert_eq!(
                walked(&node, instance),
                judged(&judge, instance),
                "{schema} on {instance}"
            );
        }
    }
}
