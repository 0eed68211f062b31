//! The language's one table (`platc::lower::grammar`) against the lowering: every node,
//! argument and property of the table is accepted where the table puts it, with its example;
//! each count, required part, keyword list and integer range is the one the lowering enforces;
//! and nothing else is accepted.
//!
//! Each test builds, for every place of the tree, a whole document around the node from the
//! table's own examples and required parts, lowers it, and reads the diagnostics at the node.
//! Every test collects all its failures before it fails.

use std::fmt::Write as _;
use std::ops::Range;

use platc::diagnostic::{Diagnostics, ErrorKind};
use platc::lower::grammar::{self, Count, Node, Value};
use platc::source::Source;

/// Marks where the texts of `document` land, removed from the result.
const MARK: &str = "\u{1}";

/// What a check expects of the errors at a probe.
type Expect<'a> = &'a dyn Fn(&[ErrorKind]) -> bool;

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
    platc::lower::repeated_properties(&document, &mut d);
    let _ = platc::lower::lower(&document, None, &mut d);
    d
}

/// A node written and lowered in a whole document.
struct Probe {
    doc: String,
    diagnostics: Diagnostics,
    /// Where the node is in `doc`.
    node: Range<usize>,
    /// Where the extra property is in `doc`.
    extra: Range<usize>,
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
            if !found.is_empty() {
                problems.push(format!(
                    "{}: `{extra}` is refused: {found:?}\n{}",
                    place.path(),
                    probe.doc
                ));
            }
        }
        // A weakening example (`sidecar #false`) asks for a reason, which is not a part the
        // table requires of every such node.
        let probe = Probe::new(&place, &every_arg(node), &props, "");
        let mut found = probe.codes(&probe.node);
        found.retain(|c| *c != "platc::missing-reason");
        if !found.is_empty() {
            problems.push(format!(
                "{}: the node with its examples is refused: {found:?}\n{}",
                place.path(),
                probe.doc
            ));
        }
        if node.any_props.is_some() {
            let probe = Probe::new(&place, &args, &props, "x-any=\"a\"");
            let found = probe.codes(&probe.extra);
            if !found.is_empty() {
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
            if !found.contains(&"platc::unknown-property") {
                problems.push(format!(
                    "{}: `zzz-unknown=1` is not unknown-property: {found:?}\n{}",
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
            if !found.contains(&"platc::unexpected-argument") {
                problems.push(format!(
                    "{}: a surplus argument is not unexpected-argument: {found:?}\n{}",
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
            if !reported {
                problems.push(format!(
                    "{}: an unknown child is not unknown-node\n{doc}",
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
            check_value(prop.value, &mut |value, expect, what| {
                let extra = format!("{}={value}", prop.name);
                let probe = Probe::new(&place, &args, &props, &extra);
                let found = probe.errors(&probe.extra);
                if !expect(&found) {
                    problems.push(format!(
                        "{}: `{extra}` should be {what}; the lowering reports {found:?}\n{}",
                        place.path(),
                        probe.doc
                    ));
                }
            });
        }
        for (i, arg) in node.args.iter().enumerate() {
            check_value(arg.value, &mut |value, expect, what| {
                let mut given = every_arg(node);
                given[i] = value.to_owned();
                let probe = Probe::new(&place, &given, &required_props(node), "");
                let found = probe.errors(&probe.node);
                if !expect(&found) {
                    problems.push(format!(
                        "{}: {} = {value} should be {what}; the lowering reports {found:?}\n{}",
                        place.path(),
                        arg.name,
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
/// integers just outside a range, and a value of the wrong KDL type.
fn check_value(value: Value, check: &mut dyn FnMut(&str, Expect, &str)) {
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
        for child in node.children {
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
            if duplicate != matches!(child.count, Count::Once | Count::One) {
                problems.push(format!(
                    "{}: two of it {} duplicate-node; the table says {:?}\n{doc}",
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
                if !missing {
                    problems.push(format!(
                        "{}: none of it is not missing-node\n{doc}",
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
            if !reported {
                problems.push(format!(
                    "{}: without `{}` nothing is missing\n{}",
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
            {
                problems.push(format!(
                    "{}: without its optional arguments it is missing-argument\n{}",
                    place.path(),
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
            {
                problems.push(format!(
                    "{}: without {} it is not missing-argument\n{}",
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
