//! The language's one table (`platc::lower::grammar`) against what reads it and what it
//! describes:
//!
//! - the lowering: every node, argument and property of the table is accepted where the table
//!   puts it, with its example; each count, required part, keyword list and integer range is
//!   the one the lowering enforces; nothing else is accepted;
//! - `platc schema`: a valid JSON Schema (draft 2020-12) that takes and refuses each of those
//!   documents as the lowering does, and takes every platform that compiles (the root
//!   `platform.kdl`, the examples of the docs, the golden cases that build);
//! - `docs/language.md`: every node and property its headings and tables document is in the
//!   table, and every node and property of the table is documented there.
//!
//! The tests build, for every place of the tree, a whole document around the node from the
//! table's own examples and required parts, lower it, and read the diagnostics at the node.
//! Every test collects all its failures before it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::OnceLock;

use platc::diagnostic::{Diagnostics, ErrorKind};
use platc::lower::grammar::{self, Count, Node, Value};
use platc::source::Source;

/// Marks where the texts of `document` land, removed from the result.
const MARK: &str = "\u{1}";

/// What a check expects of the errors at a probe.
type Expect<'a> = &'a dyn Fn(&[ErrorKind]) -> bool;

/// A check of one value: the value, what the lowering must report, what that is in words, and
/// whether the schema must refuse it too.
type Check<'a> = &'a mut dyn FnMut(&str, Expect, &str, bool);

/// A place in the tree: the entries from `platform` down to the node.
#[derive(Clone)]
struct Place {
    chain: Vec<&'static Node>,
}

impl Place {
    fn node(&self) -> &'static Node {
        self.chain.last().expect("a node")
    }

    fn path(&self) -> String {
        self.chain
            .iter()
            .map(|n| n.name)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Every place of the tree but those inside an `env` overlay (whose children are the
/// platform's own, tested at their own places).
fn places() -> Vec<Place> {
    fn visit(chain: &mut Vec<&'static Node>, out: &mut Vec<Place>) {
        out.push(Place {
            chain: chain.clone(),
        });
        let node = *chain.last().unwrap();
        if grammar::is_overlay(node) {
            return;
        }
        for child in node.children {
            // `remove` stands only in an overlay, which consumes it (tests/golden: remove-*).
            if grammar::is_overlay_only(child.node) {
                continue;
            }
            chain.push(child.node);
            visit(chain, out);
            chain.pop();
        }
    }
    let mut out = Vec::new();
    visit(&mut vec![&grammar::PLATFORM], &mut out);
    out
}

/// `name ARGS PROPS { CHILDREN }` on one line.
fn render(name: &str, args: &[String], props: &[String], children: &[String]) -> String {
    let mut text = name.to_owned();
    for part in args.iter().chain(props) {
        text.push(' ');
        text.push_str(part);
    }
    if !children.is_empty() {
        let _ = write!(text, " {{ {} }}", children.join("; "));
    }
    text
}

fn required_args(node: &Node) -> Vec<String> {
    node.args
        .iter()
        .filter(|a| a.required)
        .map(|a| a.example.kdl())
        .collect()
}

/// The examples of every argument but a repeated one: what a node needs to stand (an image
/// needs a reference or a `repository=`, and the reference is the argument).
fn usual_args(node: &Node) -> Vec<String> {
    node.args
        .iter()
        .filter(|a| !a.repeated)
        .map(|a| a.example.kdl())
        .collect()
}

fn required_props(node: &Node) -> Vec<String> {
    node.props
        .iter()
        .filter(|p| p.required)
        .map(|p| format!("{}={}", p.name, p.example.kdl()))
        .collect()
}

/// The node with only what it requires: its required arguments, properties and children.
fn skeleton(node: &Node) -> String {
    let children: Vec<String> = node
        .children
        .iter()
        .filter(|c| matches!(c.count, Count::One | Count::Some))
        .map(|c| skeleton(c.node))
        .collect();
    render(
        node.name,
        &usual_args(node),
        &required_props(node),
        &children,
    )
}

/// A whole document with `texts` in the place of the place's node: each a child of the
/// node's parent, after the parent's required children but the node's own. Gives the document
/// and the byte range of each text in it.
fn document(place: &Place, texts: &[String]) -> (String, Vec<Range<usize>>) {
    let (parents, _) = place.chain.split_at(place.chain.len() - 1);
    let mut text: Vec<String> = texts.iter().map(|t| format!("{MARK}{t}{MARK}")).collect();
    // From the innermost parent out: `PARENT … { REQUIRED…; TEXT… }`.
    let mut below = place.node();
    for parent in parents.iter().rev() {
        let mut children: Vec<String> = parent
            .children
            .iter()
            .filter(|c| matches!(c.count, Count::One | Count::Some))
            .filter(|c| !std::ptr::eq(c.node, below))
            .map(|c| skeleton(c.node))
            .collect();
        children.append(&mut text);
        text = vec![render(
            parent.name,
            &usual_args(parent),
            &required_props(parent),
            &children,
        )];
        below = parent;
    }
    let mut doc = String::new();
    let mut ranges = Vec::new();
    for (i, part) in text.join("\n").split(MARK).enumerate() {
        if i % 2 == 1 {
            ranges.push(doc.len()..doc.len() + part.len());
        }
        doc.push_str(part);
    }
    doc.push('\n');
    (doc, ranges)
}

/// The diagnostics of reading and lowering `doc` (no checks across the platform).
fn lower(doc: &str) -> Diagnostics {
    let source = Source::new("platform.kdl", doc);
    let mut d = Diagnostics::default();
    let document = platc::parse::parse(&source, &mut d).expect("the test's KDL parses");
    platc::lower::limits(&document, &mut d);
    let _ = platc::lower::lower(&document, None, &mut d);
    d
}

/// The JSON Schema of `platc schema`, compiled once.
fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft202012::new(&platc::schema::schema()).expect("the schema compiles")
    })
}

/// `doc` in the JSON shape the schema describes.
fn rendering(doc: &str) -> serde_json::Value {
    let source = Source::new("platform.kdl", doc);
    let mut d = Diagnostics::default();
    let document = platc::parse::parse(&source, &mut d).expect("the KDL parses");
    platc::schema::document(&document)
}

/// What the schema finds wrong with `doc`, one line each.
fn schema_errors(doc: &str) -> Vec<String> {
    let instance = rendering(doc);
    validator()
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// A node written and lowered in a whole document.
struct Probe {
    doc: String,
    diagnostics: Diagnostics,
    /// Where the node is in `doc`.
    node: Range<usize>,
    /// Where the extra property is in `doc`.
    extra: Range<usize>,
    /// What the JSON Schema finds wrong with `doc`.
    schema: Vec<String>,
}

impl Probe {
    /// The place's node with `args`, `props` and then `extra` on its line, and its required
    /// children.
    fn new(place: &Place, args: &[String], props: &[String], extra: &str) -> Self {
        let node = place.node();
        let head = render(node.name, args, props, &[]);
        let mut props = props.to_vec();
        if !extra.is_empty() {
            props.push(extra.to_owned());
        }
        let children: Vec<String> = node
            .children
            .iter()
            .filter(|c| matches!(c.count, Count::One | Count::Some))
            .map(|c| skeleton(c.node))
            .collect();
        let (doc, ranges) = document(place, &[render(node.name, args, &props, &children)]);
        // The extra part comes last on the line, after a space.
        let at = ranges[0].start + head.len() + 1;
        Self {
            diagnostics: lower(&doc),
            schema: schema_errors(&doc),
            doc,
            node: ranges[0].clone(),
            extra: at..at + extra.len(),
        }
    }

    /// The errors within `range`.
    fn errors(&self, range: &Range<usize>) -> Vec<ErrorKind> {
        self.diagnostics
            .iter()
            .filter(|x| x.is_error() && x.span.start >= range.start && x.span.end <= range.end)
            .map(|x| x.kind.clone())
            .collect()
    }

    fn codes(&self, range: &Range<usize>) -> Vec<&'static str> {
        self.errors(range).iter().map(ErrorKind::code).collect()
    }
}

/// A value of a KDL type that the value kind does not take.
fn wrong_type(value: Value) -> &'static str {
    match value {
        Value::Boolean => "\"yes\"",
        Value::Integer { .. } => "\"3\"",
        Value::Text => "#null",
        _ => "#true",
    }
}

/// The examples of every argument, a repeated one twice.
fn every_arg(node: &Node) -> Vec<String> {
    let mut args: Vec<String> = node.args.iter().map(|a| a.example.kdl()).collect();
    if let Some(last) = node.args.last().filter(|a| a.repeated) {
        args.push(last.example.kdl());
        // A probe takes a command with `exec` alone.
        if node.name == "probe" {
            args[0] = "\"exec\"".into();
        }
    }
    args
}

#[test]
fn every_example_is_accepted_where_the_table_puts_it() {
    let mut problems = Vec::new();
    for place in places() {
        let node = place.node();
        let (args, props) = (usual_args(node), required_props(node));
        // Each property alone, with the node's required parts.
        for prop in node.props.iter().filter(|p| !p.required) {
            let extra = format!("{}={}", prop.name, prop.example.kdl());
            let probe = Probe::new(&place, &args, &props, &extra);
            let found = probe.codes(&probe.extra);
            if !found.is_empty() || !probe.schema.is_empty() {
                problems.push(format!(
                    "{}: `{extra}` is refused: {found:?}, by the schema: {:?}\n{}",
                    place.path(),
                    probe.schema,
                    probe.doc
                ));
            }
        }
        // A weakening example (`sidecar #false`) asks for a reason, which is not a part the
        // table requires of every such node.
        let probe = Probe::new(&place, &every_arg(node), &props, "");
        let mut found = probe.codes(&probe.node);
        found.retain(|c| *c != "platc::missing-reason");
        if !found.is_empty() || !probe.schema.is_empty() {
            problems.push(format!(
                "{}: the node with its examples is refused: {found:?}, by the schema: {:?}\n{}",
                place.path(),
                probe.schema,
                probe.doc
            ));
        }
        if node.any_props.is_some() {
            let probe = Probe::new(&place, &args, &props, "x-any=\"a\"");
            let found = probe.codes(&probe.extra);
            if !found.is_empty() || !probe.schema.is_empty() {
                problems.push(format!(
                    "{}: a property of any name is refused: {found:?}\n{}",
                    place.path(),
                    probe.doc
                ));
            }
        }
    }
    report("examples refused by the lowering", &problems);
}

#[test]
fn nothing_else_is_accepted() {
    let mut problems = Vec::new();
    for place in places() {
        let node = place.node();
        let (args, props) = (usual_args(node), required_props(node));
        if node.any_props.is_none() {
            let probe = Probe::new(&place, &args, &props, "zzz-unknown=1");
            let found = probe.codes(&probe.extra);
            if !found.contains(&"platc::unknown-property") || probe.schema.is_empty() {
                problems.push(format!(
                    "{}: `zzz-unknown=1` is not unknown-property ({found:?}) or the schema takes it\n{}",
                    place.path(),
                    probe.doc
                ));
            }
        }
        if !node.args.iter().any(|a| a.repeated) {
            let mut more = every_arg(node);
            more.push("\"surplus\"".into());
            let probe = Probe::new(&place, &more, &props, "");
            let found = probe.codes(&probe.node);
            if !found.contains(&"platc::unexpected-argument") || probe.schema.is_empty() {
                problems.push(format!(
                    "{}: a surplus argument is not unexpected-argument ({found:?}) or the schema takes it\n{}",
                    place.path(),
                    probe.doc
                ));
            }
        }
        if !grammar::is_overlay(node) {
            let mut below = place.clone();
            below.chain.push(&UNKNOWN);
            let (doc, ranges) = document(&below, &[UNKNOWN.name.to_owned()]);
            let d = lower(&doc);
            let reported = d
                .iter()
                .any(|x| x.kind.code() == "platc::unknown-node" && x.span.start >= ranges[0].start);
            if !reported || schema_errors(&doc).is_empty() {
                problems.push(format!(
                    "{}: an unknown child is not unknown-node, or the schema takes it\n{doc}",
                    place.path()
                ));
            }
        }
    }
    report("parts the table lacks but the lowering accepts", &problems);
}

/// A node no table lists, to place under any node.
static UNKNOWN: Node = Node::new("zzz-unknown", "");

#[test]
fn keywords_ranges_and_types_are_the_lowerings() {
    let mut problems = Vec::new();
    for place in places() {
        let node = place.node();
        let args = usual_args(node);
        for prop in node.props {
            // The property is given once, as the probe, even when it is required.
            let props: Vec<String> = required_props(node)
                .into_iter()
                .filter(|p| !p.starts_with(&format!("{}=", prop.name)))
                .collect();
            check_value(prop.value, &mut |value, expect, what, refused| {
                let extra = format!("{}={value}", prop.name);
                let probe = Probe::new(&place, &args, &props, &extra);
                let found = probe.errors(&probe.extra);
                if !expect(&found) || (refused && probe.schema.is_empty()) {
                    problems.push(format!(
                        "{}: `{extra}` should be {what}; the lowering reports {found:?}, the schema {:?}\n{}",
                        place.path(),
                        probe.schema,
                        probe.doc
                    ));
                }
            });
        }
        for (i, arg) in node.args.iter().enumerate() {
            check_value(arg.value, &mut |value, expect, what, refused| {
                let mut given = every_arg(node);
                given[i] = value.to_owned();
                let probe = Probe::new(&place, &given, &required_props(node), "");
                let found = probe.errors(&probe.node);
                if !expect(&found) || (refused && probe.schema.is_empty()) {
                    problems.push(format!(
                        "{}: {} = {value} should be {what}; the lowering reports {found:?}, the schema {:?}\n{}",
                        place.path(),
                        arg.name,
                        probe.schema,
                        probe.doc
                    ));
                }
            });
        }
    }
    report(
        "values the table and the lowering judge differently",
        &problems,
    );
}

/// Runs `check` with the values that tell a value kind apart: a word outside a keyword list,
/// integers just outside a range, and a value of the wrong KDL type; the schema refuses each.
fn check_value(value: Value, check: Check) {
    match value {
        Value::Keyword(words) | Value::Conditions(words) => {
            let expected: Vec<&str> = words.to_vec();
            check(
                "zzz-not-a-keyword",
                &|found| {
                    found.iter().any(
                        |k| matches!(k, ErrorKind::InvalidValue { expected: e, .. } if *e == expected),
                    )
                },
                &format!("invalid-value, expecting {expected:?}"),
                true,
            );
        }
        Value::Integer { min, max } => {
            for outside in [min - 1, max + 1] {
                check(
                    &outside.to_string(),
                    &|found| {
                        found.iter().any(|k| {
                            matches!(k, ErrorKind::OutOfRange { min: a, max: b, .. } if (*a, *b) == (min, max))
                        })
                    },
                    &format!("out-of-range {min}..={max}"),
                    true,
                );
            }
        }
        Value::Boolean | Value::Text => {}
        _ => {
            // A keyword list the table does not know of: the lowering would name the words it
            // expects, each without a space (a value with rules of its own names a sentence).
            check(
                "zzz-not-a-keyword",
                &|found| {
                    !found.iter().any(|k| {
                        matches!(k, ErrorKind::InvalidValue { expected, .. }
                            if expected.iter().all(|e| !e.contains(' ')))
                    })
                },
                "no keyword",
                false,
            );
        }
    }
    check(
        wrong_type(value),
        &|found| {
            found
                .iter()
                .any(|k| matches!(k, ErrorKind::InvalidType { .. }))
        },
        "invalid-type",
        true,
    );
}

#[test]
fn counts_and_required_parts_are_the_lowerings() {
    let mut problems = Vec::new();
    for place in places() {
        let node = place.node();
        if grammar::is_overlay(node) {
            continue;
        }
        for child in node
            .children
            .iter()
            .filter(|c| !grammar::is_overlay_only(c.node))
        {
            let mut at = place.clone();
            at.chain.push(child.node);
            // Two of it.
            let one = skeleton(child.node);
            let (doc, ranges) = document(&at, &[one.clone(), one]);
            let d = lower(&doc);
            let duplicate = d.iter().any(|x| {
                x.kind.code() == "platc::duplicate-node"
                    && x.span.start >= ranges[1].start
                    && x.span.end <= ranges[1].end
            });
            let at_most_one = matches!(child.count, Count::Once | Count::One);
            let schema = schema_errors(&doc);
            if duplicate != at_most_one || schema.is_empty() == at_most_one {
                problems.push(format!(
                    "{}: two of it {} duplicate-node; the table says {:?}; the schema: {schema:?}\n{doc}",
                    at.path(),
                    if duplicate { "are" } else { "are not" },
                    child.count
                ));
            }
            // None of it.
            if matches!(child.count, Count::One | Count::Some) {
                let (doc, _) = document(&at, &[]);
                let missing = lower(&doc).iter().any(|x| {
                    matches!(&x.kind, ErrorKind::MissingNode { node, .. } if *node == child.node.name)
                });
                if !missing || schema_errors(&doc).is_empty() {
                    problems.push(format!(
                        "{}: none of it is not missing-node, or the schema takes it\n{doc}",
                        at.path()
                    ));
                }
            }
        }
        // Without each required property: missing-property (missing-reason for a reason).
        for prop in node.props.iter().filter(|p| p.required) {
            let props: Vec<String> = required_props(node)
                .into_iter()
                .filter(|p| !p.starts_with(&format!("{}=", prop.name)))
                .collect();
            let probe = Probe::new(&place, &usual_args(node), &props, "");
            let reported = probe.errors(&probe.node).iter().any(|k| match k {
                ErrorKind::MissingProperty { property, .. } => *property == prop.name,
                ErrorKind::MissingReason { .. } => prop.name == "reason",
                _ => false,
            });
            if !reported || probe.schema.is_empty() {
                problems.push(format!(
                    "{}: without `{}` nothing is missing, or the schema takes it\n{}",
                    place.path(),
                    prop.name,
                    probe.doc
                ));
            }
        }
        // Without its optional arguments, with every property: nothing is missing (an image
        // names a reference or a `repository=`).
        if node.args.iter().any(|a| !a.required && !a.repeated) {
            let props: Vec<String> = node
                .props
                .iter()
                .map(|p| format!("{}={}", p.name, p.example.kdl()))
                .collect();
            let probe = Probe::new(&place, &required_args(node), &props, "");
            if probe
                .codes(&probe.node)
                .contains(&"platc::missing-argument")
                || !probe.schema.is_empty()
            {
                problems.push(format!(
                    "{}: without its optional arguments it is missing-argument, or the schema refuses it: {:?}\n{}",
                    place.path(),
                    probe.schema,
                    probe.doc
                ));
            }
        }
        // Without each required argument and those after it.
        for (i, arg) in node.args.iter().enumerate().filter(|(_, a)| a.required) {
            let args: Vec<String> = node.args[..i].iter().map(|a| a.example.kdl()).collect();
            let probe = Probe::new(&place, &args, &required_props(node), "");
            if !probe
                .codes(&probe.node)
                .contains(&"platc::missing-argument")
                || probe.schema.is_empty()
            {
                problems.push(format!(
                    "{}: without {} it is not missing-argument, or the schema takes it\n{}",
                    place.path(),
                    arg.name,
                    probe.doc
                ));
            }
        }
    }
    report(
        "counts and required parts the table and the lowering disagree on",
        &problems,
    );
}

#[test]
fn the_schema_is_valid_json_schema_and_deterministic() {
    let schema = platc::schema::schema();
    assert_eq!(schema["$schema"], platc::schema::DIALECT);
    if let Err(error) = jsonschema::meta::validate(&schema) {
        panic!(
            "not a valid draft 2020-12 schema: {error} at {}",
            error.instance_path()
        );
    }
    let text = platc::schema::text();
    assert_eq!(text, platc::schema::text(), "two runs differ");
    assert!(text.ends_with("}\n") && !text.ends_with("\n\n"));
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("the text is JSON");
    assert_eq!(parsed, schema);
    // Every reference resolves, and every definition is used.
    let defs = schema["$defs"].as_object().expect("$defs");
    let refs: BTreeSet<String> = text
        .match_indices("\"$ref\": \"#/$defs/")
        .map(|(at, m)| {
            let rest = &text[at + m.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect();
    let names: BTreeSet<String> = defs.keys().cloned().collect();
    assert_eq!(refs, names, "references and definitions");
    // One definition per node of the table, and one more per node inside an overlay.
    let mut whole = 0;
    for (_, node) in grammar::walk() {
        whole += usize::from(
            defs.values()
                .any(|d| d["properties"]["name"]["const"] == node.name),
        );
    }
    assert_eq!(whole, grammar::walk().len());
}

/// The platforms that compile: the root platform.kdl, `platc init`'s minimal one, every
/// complete example of the language reference and of the code pages, and every golden case
/// that builds.
fn complete_platforms() -> Vec<(String, String)> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    let mut out = vec![
        ("platform.kdl".to_owned(), read(&root.join("platform.kdl"))),
        (
            "examples/minimal.kdl".to_owned(),
            read(&root.join("examples/minimal.kdl")),
        ),
    ];
    let mut pages = vec![root.join("docs/language.md")];
    let mut codes: Vec<_> = std::fs::read_dir(root.join("docs/codes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    codes.sort();
    pages.extend(codes);
    for page in pages {
        for (line, info, text) in fenced(&read(&page)) {
            if info == "kdl" || info == "kdl,warns" {
                out.push((format!("{}:{line}", page.display()), text));
            }
        }
    }
    let mut cases: Vec<_> = std::fs::read_dir(root.join("golden"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected").is_dir())
        .collect();
    cases.sort();
    for case in cases {
        out.push((case.display().to_string(), read(&case.join("platform.kdl"))));
    }
    out
}

/// The fenced blocks of a Markdown text: the line of the fence, its info string, its text.
fn fenced(markdown: &str) -> Vec<(usize, String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((i + 1, info.trim().to_owned(), String::new())),
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some((_, _, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

#[test]
fn the_schema_takes_every_complete_platform() {
    let platforms = complete_platforms();
    assert!(platforms.len() > 50, "only {} platforms", platforms.len());
    let mut problems = Vec::new();
    for (name, text) in &platforms {
        let errors = schema_errors(text);
        if !errors.is_empty() {
            problems.push(format!("{name}: {errors:#?}"));
        }
    }
    report("complete platforms the schema refuses", &problems);
}

/// The JSON the language reference shows is the rendering of the example before it.
#[test]
fn the_reference_shows_the_rendering() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let markdown = std::fs::read_to_string(root.join("docs/language.md")).unwrap();
    let blocks = fenced(&markdown);
    let json: Vec<usize> = (1..blocks.len())
        .filter(|&i| blocks[i].1 == "json")
        .collect();
    assert_eq!(json.len(), 1, "one ```json block");
    for i in json {
        let (line, _, text) = &blocks[i];
        let shown: serde_json::Value = serde_json::from_str(text).expect("the block is JSON");
        assert_eq!(
            blocks[i - 1].1,
            "kdl",
            "line {line}: a ```kdl block comes first"
        );
        assert_eq!(shown, rendering(&blocks[i - 1].2), "line {line}");
        assert!(validator().is_valid(&shown), "line {line}");
    }
}

/// The schema's patterns agree with the lowering's checks of the same values.
#[test]
fn the_patterns_are_the_lowerings() {
    use platc::lower::value;
    let long = "a".repeat(63);
    let too_long = "a".repeat(64);
    let mut problems = Vec::new();
    let mut agree = |pattern: &str, samples: &[&str], lowering: &dyn Fn(&str) -> bool| {
        let schema = serde_json::json!({ "type": "string", "pattern": pattern });
        let validator = jsonschema::draft202012::new(&schema).expect("the pattern compiles");
        for sample in samples {
            let by_schema = validator.is_valid(&serde_json::json!(sample));
            if by_schema != lowering(sample) {
                problems.push(format!(
                    "{pattern}: {sample:?} is {} by the schema only",
                    if by_schema { "taken" } else { "refused" }
                ));
            }
        }
    };
    let names = [
        "a", "web", "a-b", "a1", "1a", "-a", "a-", "A", "a_b", "a.b", "", &long, &too_long,
    ];
    agree(platc::schema::NAME, &names, &|s| {
        value::dns_label(s).is_ok()
    });
    let hosts = [
        "shop.example.com",
        "*.example.com",
        "a",
        "a..b",
        ".a",
        "a.",
        "*.",
        "x.*.y",
        "Shop.com",
        "a-.b",
        &long,
        &too_long,
    ];
    agree(platc::schema::HOST, &hosts, &|s| value::host(s).is_ok());
    let durations = [
        "1s", "500ms", "1m30s", "15d", "2h", "5", "1.5s", "s", "", "1S", "1w", "10s5",
    ];
    agree(platc::schema::DURATION, &durations, &|s| {
        value::duration(s).is_some()
    });
    report("patterns the lowering judges otherwise", &problems);
}

/// What `docs/language.md` documents in its headings and tables: the nodes by path from
/// `platform`, and the properties by node path.
#[derive(Default)]
struct Documented {
    nodes: BTreeSet<Vec<String>>,
    props: BTreeMap<Vec<String>, BTreeSet<String>>,
}

/// The `code` spans of a Markdown text.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The name a node heading documents: `gateway` of "### \`gateway\`", `env` of
/// "## \`env\` overlays".
fn heading_node(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('`')?;
    Some(&rest[..rest.find('`')?])
}

fn documented(markdown: &str) -> Documented {
    let mut out = Documented::default();
    // The headings above the current line: level and the node path each documents.
    let mut headings: Vec<(usize, Option<Vec<String>>)> = Vec::new();
    let mut header: Option<Vec<String>> = None;
    let mut fence = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        let level = line.chars().take_while(|&c| c == '#').count();
        if level > 0 && line[level..].starts_with(' ') {
            headings.retain(|(l, _)| *l < level);
            let path = heading_node(line[level..].trim()).map(|name| {
                let mut path = headings
                    .last()
                    .and_then(|(_, p)| p.clone())
                    .unwrap_or_else(|| vec!["platform".to_owned()]);
                if name != "platform" {
                    path.push(name.to_owned());
                }
                path
            });
            if let Some(path) = &path {
                out.nodes.insert(path.clone());
            }
            headings.push((level, path));
            header = None;
            continue;
        }
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let Some(columns) = &header else {
            header = Some(cells.iter().map(|c| (*c).to_owned()).collect());
            continue;
        };
        if cells[0].starts_with("---") {
            continue;
        }
        let here = headings.last().and_then(|(_, p)| p.clone());
        match columns[0].as_str() {
            "property" | "part" if !cells[0].contains("argument") => {
                let Some(here) = here else { continue };
                let props = out.props.entry(here).or_default();
                props.extend(code_spans(cells[0]).iter().map(|s| (*s).to_owned()));
            }
            "child" | "node" => {
                let parent = if columns[0] == "node" {
                    vec!["platform".to_owned()]
                } else if let Some(here) = here {
                    here
                } else {
                    continue;
                };
                for name in code_spans(cells[0]) {
                    let mut path = parent.clone();
                    path.push(name.to_owned());
                    out.nodes.insert(path.clone());
                    let props = cell_props(columns.get(1).map(String::as_str), &cells);
                    out.props.entry(path).or_default().extend(props);
                }
            }
            _ => {}
        }
    }
    out
}

/// The properties a child table's second column names: `name`: in a "properties" column,
/// `name=…` in a "form" column (with `pNN` for each two-digit number the row names).
fn cell_props(column: Option<&str>, cells: &[&str]) -> Vec<String> {
    let Some(cell) = cells.get(1) else {
        return Vec::new();
    };
    match column {
        Some("properties") => cell
            .split('`')
            .collect::<Vec<_>>()
            .windows(2)
            .enumerate()
            .filter(|(i, w)| i % 2 == 1 && w[1].starts_with(':'))
            .map(|(_, w)| w[0].to_owned())
            .collect(),
        Some("form") => {
            let numbers: Vec<&str> = cells
                .iter()
                .flat_map(|c| code_spans(c))
                .filter(|s| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
                .collect();
            let mut props = Vec::new();
            for span in code_spans(cell) {
                for word in span.split_whitespace() {
                    let Some((name, _)) = word.split_once('=') else {
                        continue;
                    };
                    if name.chars().any(|c| c.is_ascii_uppercase()) && !name.contains("NN") {
                        continue;
                    }
                    if name.contains("NN") {
                        props.extend(numbers.iter().map(|n| name.replace("NN", n)));
                    } else {
                        props.push(name.to_owned());
                    }
                }
            }
            props
        }
        _ => Vec::new(),
    }
}

#[test]
fn the_reference_documents_every_node_and_property_and_no_other() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let markdown = std::fs::read_to_string(root.join("docs/language.md")).unwrap();
    let docs = documented(&markdown);
    assert!(
        docs.nodes.len() > 50,
        "the parse found {} nodes",
        docs.nodes.len()
    );
    let mut problems = Vec::new();
    let find = |path: &[String]| {
        let names: Vec<&str> = path.iter().map(String::as_str).collect();
        grammar::find(&names)
    };
    for path in &docs.nodes {
        if find(path).is_none() {
            problems.push(format!(
                "docs/language.md documents `{}`, which the schema lacks",
                path.join("/")
            ));
        }
    }
    for (path, node) in grammar::walk() {
        let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        if !docs.nodes.contains(&path) {
            problems.push(format!(
                "the schema has `{}`, which no heading or table of docs/language.md documents",
                path.join("/")
            ));
        }
        // The properties documented for this entry, wherever it stands (`resources` in
        // `defaults` is documented under `service`).
        let documented: BTreeSet<&str> = docs
            .props
            .iter()
            .filter(|(p, _)| find(p).is_some_and(|n| std::ptr::eq(n, node)))
            .flat_map(|(_, props)| props.iter().map(String::as_str))
            .collect();
        let listed: BTreeSet<&str> = node.props.iter().map(|p| p.name).collect();
        for name in listed.difference(&documented) {
            problems.push(format!(
                "the schema has `{name}` on `{}`, which no table of docs/language.md documents",
                path.join("/")
            ));
        }
        for name in documented.difference(&listed) {
            problems.push(format!(
                "docs/language.md documents `{name}` on `{}`, which the schema lacks",
                path.join("/")
            ));
        }
    }
    problems.sort();
    problems.dedup();
    report(
        "differences between the reference and the schema",
        &problems,
    );
}

/// Panics with every problem, numbered, when there are any.
fn report(what: &str, problems: &[String]) {
    if problems.is_empty() {
        return;
    }
    let mut text = format!("{} {what}:\n", problems.len());
    for (i, problem) in problems.iter().enumerate().take(40) {
        let _ = writeln!(text, "\n{}. {}", i + 1, problem.trim_end());
    }
    panic!("{text}");
}
