//! Typed access to one KDL node: arguments, properties and children, with every value's span.
//!
//! A `Reader` reads a node by its entry in the language's table (`grammar`). It records which
//! entries the lowering asked for; `finish` reports every property it did not ask for (with a
//! did-you-mean among those the table lists) and every surplus argument. Asking for a property
//! the table does not list is a bug of the lowering, which fails in debug builds: the table and
//! the lowering cannot drift apart unseen.

use crate::syntax::{Document, Entry, Node, Value};

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, suggest};
use crate::lower::grammar;
use crate::span::{Span, Spanned};

/// Reads one node. Create it, ask for what the node may hold, then call `finish`.
pub struct Reader<'a> {
    node: &'a Node,
    spec: &'static grammar::Node,
    used: Vec<bool>,
}

impl<'a> Reader<'a> {
    /// A reader of `node`, whose entry in the language's table is `spec`.
    pub fn new(node: &'a Node, spec: &'static grammar::Node) -> Self {
        debug_assert_eq!(
            node.name().value(),
            spec.name,
            "a node read by another node's entry"
        );
        Self {
            node,
            spec,
            used: vec![false; node.entries().len()],
        }
    }

    /// The node's entry in the language's table.
    pub fn spec(&self) -> &'static grammar::Node {
        self.spec
    }

    /// The entry of a child node when the table lets this node hold it; otherwise reports
    /// `unknown-node` (with a did-you-mean among the children the table lists) and gives
    /// `None`.
    pub fn child(&self, child: &Node, d: &mut Diagnostics) -> Option<&'static grammar::Node> {
        let found = self.spec.child(child.name().value());
        if found.is_none() {
            unknown_node(child, self.spec, d);
        }
        found
    }

    pub fn name(&self) -> &'a str {
        self.node.name().value()
    }

    pub fn span(&self) -> Span {
        self.node.span()
    }

    pub fn name_span(&self) -> Span {
        self.node.name().span()
    }

    /// The child nodes, in source order.
    pub fn children(&self) -> &'a [Node] {
        self.node.children().map_or(&[], Document::nodes)
    }

    /// The `index`-th argument (entries without a name), marked as used.
    pub fn arg(&mut self, index: usize) -> Option<&'a Entry> {
        let node = self.node;
        let (position, entry) = node
            .entries()
            .iter()
            .enumerate()
            .filter(|(_, e)| e.name().is_none())
            .nth(index)?;
        self.used[position] = true;
        Some(entry)
    }

    /// Every argument from `index` on, marked as used.
    pub fn args_from(&mut self, index: usize) -> Vec<&'a Entry> {
        let node = self.node;
        let mut out = Vec::new();
        for (position, entry) in node
            .entries()
            .iter()
            .enumerate()
            .filter(|(_, e)| e.name().is_none())
            .skip(index)
        {
            self.used[position] = true;
            out.push(entry);
        }
        out
    }

    /// The property `name` (the last one when repeated, as KDL says), marked as used.
    pub fn prop(&mut self, name: &'static str) -> Option<&'a Entry> {
        debug_assert!(
            self.spec.prop(name).is_some(),
            "`{}` reads the property `{name}`, which the language's table does not list",
            self.spec.name
        );
        self.entry(name)
    }

    /// A property that is not part of the language, read only to say what to write instead
    /// (`latency=` for `latency-p99=`): marked as used, so it is not also reported unknown.
    pub fn mistaken(&mut self, name: &'static str) -> Option<&'a Entry> {
        debug_assert!(self.spec.prop(name).is_none(), "`{name}` is in the table");
        self.entry(name)
    }

    fn entry(&mut self, name: &str) -> Option<&'a Entry> {
        let node = self.node;
        let mut found = None;
        for (position, entry) in node.entries().iter().enumerate() {
            if entry.name().is_some_and(|n| n.value() == name) {
                self.used[position] = true;
                found = Some(entry);
            }
        }
        found
    }

    /// Every property whose name passes `accept`, for families such as `latency-p99`, or for
    /// a node whose table entry takes properties of any name.
    pub fn props_matching(&mut self, accept: impl Fn(&str) -> bool) -> Vec<&'a Entry> {
        let node = self.node;
        let mut out = Vec::new();
        for (position, entry) in node.entries().iter().enumerate() {
            if let Some(name) = entry.name().map(crate::syntax::Ident::value)
                && accept(name)
            {
                debug_assert!(
                    self.spec.any_props.is_some() || self.spec.prop(name).is_some(),
                    "`{}` reads the property `{name}`, which the language's table does not list",
                    self.spec.name
                );
                self.used[position] = true;
                out.push(entry);
            }
        }
        out
    }

    pub fn string_arg(&mut self, index: usize, d: &mut Diagnostics) -> Option<Spanned<String>> {
        self.arg(index).and_then(|e| string(e, d))
    }

    /// A required string argument; reports `missing-argument` naming `what`.
    pub fn required_string_arg(
        &mut self,
        index: usize,
        what: &'static str,
        d: &mut Diagnostics,
    ) -> Option<Spanned<String>> {
        if let Some(entry) = self.arg(index) {
            string(entry, d)
        } else {
            d.error(
                ErrorKind::MissingArgument {
                    node: self.name().to_owned(),
                    what,
                },
                self.name_span(),
            );
            None
        }
    }

    pub fn string_prop(
        &mut self,
        name: &'static str,
        d: &mut Diagnostics,
    ) -> Option<Spanned<String>> {
        self.prop(name).and_then(|e| string(e, d))
    }

    /// A keyword property: one of `options`, when given (`choice`).
    pub fn choice_prop<T: Copy>(
        &mut self,
        name: &'static str,
        options: &[(&'static str, T)],
        d: &mut Diagnostics,
    ) -> Option<Spanned<T>> {
        self.prop(name).and_then(|e| choice(e, options, d))
    }

    /// A required string property; reports `missing-property`.
    pub fn required_string_prop(
        &mut self,
        name: &'static str,
        d: &mut Diagnostics,
    ) -> Option<Spanned<String>> {
        self.required_prop(name, d).and_then(|e| string(e, d))
    }

    pub fn bool_prop(&mut self, name: &'static str, d: &mut Diagnostics) -> Option<Spanned<bool>> {
        self.prop(name).and_then(|e| boolean(e, d))
    }

    /// An integer property within `min..=max`.
    pub fn int_prop(
        &mut self,
        name: &'static str,
        what: &'static str,
        min: i64,
        max: i64,
        d: &mut Diagnostics,
    ) -> Option<Spanned<i64>> {
        self.prop(name).and_then(|e| integer(e, what, min, max, d))
    }

    /// A required property; reports `missing-property` when it is absent.
    pub fn required_prop(&mut self, name: &'static str, d: &mut Diagnostics) -> Option<&'a Entry> {
        let found = self.prop(name);
        if found.is_none() {
            self.missing(name, d);
        }
        found
    }

    /// Reports that property `name` is missing.
    pub fn missing(&self, name: &'static str, d: &mut Diagnostics) {
        d.error(
            ErrorKind::MissingProperty {
                node: self.name().to_owned(),
                property: name,
            },
            self.name_span(),
        );
    }

    /// Reports every entry the lowering did not ask for, and every child of a node whose
    /// entry in the table takes none.
    pub fn finish(self, d: &mut Diagnostics) {
        // A node whose only child is overlay-only (`port`, whose `remove` the overlay consumes)
        // takes none once merged.
        if self
            .spec
            .children
            .iter()
            .all(|c| grammar::is_overlay_only(c.node))
        {
            for child in self.children() {
                unknown_node(child, self.spec, d);
            }
        }
        let node_name = self.name().to_owned();
        for (entry, used) in self.node.entries().iter().zip(&self.used) {
            if *used {
                continue;
            }
            match entry.name() {
                Some(name) => d.error(
                    ErrorKind::UnknownProperty {
                        node: node_name.clone(),
                        property: name.value().to_owned(),
                        // Among the others: a property the table lists is reported unknown
                        // only where it does not apply (`path` on `uses bucket`).
                        suggestion: suggest(
                            name.value(),
                            self.spec
                                .props
                                .iter()
                                .map(|p| p.name)
                                .filter(|p| *p != name.value()),
                        ),
                        accepted: self
                            .spec
                            .props
                            .iter()
                            .map(|p| p.name)
                            .filter(|p| *p != name.value())
                            .collect(),
                    },
                    name.span(),
                ),
                None => d.error(
                    ErrorKind::UnexpectedArgument {
                        node: node_name.clone(),
                    },
                    entry.span(),
                ),
            }
        }
    }
}

/// The span of an entry's value (for a property, without `name=`).
pub fn value_span(entry: &Entry) -> Span {
    let span: Span = entry.span();
    match entry.name() {
        Some(name) => {
            let name_end = name.span().end;
            // Skip `=` (and any whitespace KDL allows around it).
            Span::new((name_end + 1).min(span.end), span.end)
        }
        None => span,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(f) if !f.is_finite() => "#inf or #nan",
        Value::Float(_) => "a decimal number",
        Value::Bool(_) => "a boolean",
        Value::Null => "#null",
    }
}

pub fn wrong_type(entry: &Entry, expected: &'static str, d: &mut Diagnostics) {
    d.error(
        ErrorKind::InvalidType {
            expected,
            found: type_name(entry.value()),
            hint: None,
        },
        value_span(entry),
    );
}

/// The entry as a string.
pub fn string(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<String>> {
    if let Value::String(s) = entry.value() {
        Some(Spanned::new(s.clone(), value_span(entry)))
    } else {
        wrong_type(entry, "a string", d);
        None
    }
}

/// The entry as a string, or a number written as its decimal text (for `99.9` and `"99.9"`).
pub fn string_or_number(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<String>> {
    scalar_text(entry, "a number", d)
}

/// The entry's text: strings as they are, numbers in decimal. `expected` names what the
/// caller wants, for the diagnostic on any other value.
pub fn scalar_text(
    entry: &Entry,
    expected: &'static str,
    d: &mut Diagnostics,
) -> Option<Spanned<String>> {
    let text = match entry.value() {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => {
            // As written, so `1.30` stays `1.30`; plain decimals only.
            let text = entry
                .repr()
                .filter(|r| {
                    r.bytes()
                        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
                })
                .map_or_else(|| f.to_string(), str::to_owned);
            if !f.is_finite() || text.contains(['e', 'E']) {
                wrong_type(entry, expected, d);
                return None;
            }
            text
        }
        _ => {
            wrong_type(entry, expected, d);
            return None;
        }
    };
    Some(Spanned::new(text, value_span(entry)))
}

pub fn boolean(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<bool>> {
    if let Value::Bool(b) = entry.value() {
        Some(Spanned::new(*b, value_span(entry)))
    } else {
        wrong_type(entry, "a boolean (`#true` or `#false`)", d);
        None
    }
}

/// The entry as an integer within `min..=max`; reports `out-of-range` naming `what`.
pub fn integer(
    entry: &Entry,
    what: &'static str,
    min: i64,
    max: i64,
    d: &mut Diagnostics,
) -> Option<Spanned<i64>> {
    let Value::Integer(value) = entry.value() else {
        wrong_type(entry, "an integer", d);
        return None;
    };
    match i64::try_from(*value) {
        Ok(v) if (min..=max).contains(&v) => Some(Spanned::new(v, value_span(entry))),
        _ => {
            d.error(
                ErrorKind::OutOfRange {
                    what,
                    value: value.to_string(),
                    min,
                    max,
                },
                value_span(entry),
            );
            None
        }
    }
}

/// Reports a child node that is not part of the language under `parent`, with a did-you-mean
/// among the children the table lists there.
pub fn unknown_node(node: &Node, parent: &grammar::Node, d: &mut Diagnostics) {
    let name = node.name().value();
    d.error(
        ErrorKind::UnknownNode {
            node: name.to_owned(),
            parent: parent.name.to_owned(),
            suggestion: suggest(name, parent.child_names()),
        },
        node.name().span(),
    );
}

/// Tracks nodes that may appear once in a block.
#[derive(Default)]
pub struct Seen<'a> {
    first: Vec<(&'a str, Span)>,
}

impl<'a> Seen<'a> {
    /// `true` the first time a node of this name is seen; reports `duplicate-node` after that.
    pub fn once(&mut self, node: &'a Node, d: &mut Diagnostics) -> bool {
        let name = node.name().value();
        let span: Span = node.name().span();
        if let Some((_, previous)) = self.first.iter().find(|(n, _)| *n == name) {
            d.push(
                Diagnostic::new(
                    ErrorKind::DuplicateNode {
                        node: name.to_owned(),
                    },
                    span,
                )
                .with_label(*previous, "first given here"),
            );
            return false;
        }
        self.first.push((name, span));
        true
    }
}

/// The entry as one of a fixed set of keywords.
pub fn choice<T: Copy>(
    entry: &Entry,
    options: &[(&'static str, T)],
    d: &mut Diagnostics,
) -> Option<Spanned<T>> {
    let text = string(entry, d)?;
    if let Some((_, value)) = options.iter().find(|(name, _)| *name == text.value) {
        return Some(Spanned::new(*value, text.span));
    }
    let expected: Vec<&'static str> = options.iter().map(|(name, _)| *name).collect();
    let suggestion = suggest(&text.value, expected.iter().copied());
    d.error(
        ErrorKind::InvalidValue {
            value: text.value,
            expected,
            suggestion,
        },
        text.span,
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parser::parse;

    fn node(text: &str) -> Node {
        parse(text).expect("valid KDL").nodes()[0].clone()
    }

    /// An entry of the table for the tests alone: `a` with the properties they read.
    static A: grammar::Node = grammar::Node {
        props: &[
            grammar::Prop::optional(
                "b",
                grammar::Value::Boolean,
                grammar::Example::Boolean(true),
            ),
            grammar::Prop::optional(
                "m",
                grammar::Value::PortNumber,
                grammar::Example::Number("1"),
            ),
            grammar::Prop::optional(
                "n",
                grammar::Value::Integer { min: 0, max: 10 },
                grammar::Example::Number("1"),
            ),
            grammar::Prop::optional("s", grammar::Value::String, grammar::Example::String("s")),
            grammar::Prop::optional(
                "x",
                grammar::Value::Integer { min: 0, max: 10 },
                grammar::Example::Number("1"),
            ),
        ],
        ..grammar::Node::new("a", "A node of the tests.")
    };

    fn spec(path: &[&str]) -> &'static grammar::Node {
        grammar::find(path).expect("an entry of the table")
    }

    /// (code, text under the span) of every diagnostic.
    fn found<'a>(text: &'a str, d: &Diagnostics) -> Vec<(&'static str, &'a str)> {
        d.iter()
            .map(|x| (x.kind.code(), &text[x.span.start..x.span.end]))
            .collect()
    }

    #[test]
    fn reports_unknown_properties_with_a_suggestion_and_surplus_arguments() {
        let text = "port grpc 5050 9090 protocl=grpc";
        let n = node(text);
        let mut r = Reader::new(&n, spec(&["platform", "service", "port"]));
        let mut d = Diagnostics::default();
        assert_eq!(
            r.string_arg(0, &mut d).map(|s| s.value),
            Some("grpc".to_owned())
        );
        assert!(r.arg(1).is_some());
        assert!(r.prop("protocol").is_none());
        r.finish(&mut d);
        assert_eq!(
            found(text, &d),
            [
                ("platc::unexpected-argument", "9090"),
                ("platc::unknown-property", "protocl")
            ]
        );
        let suggestion = d.iter().find_map(|x| match &x.kind {
            ErrorKind::UnknownProperty { suggestion, .. } => suggestion.clone(),
            _ => None,
        });
        assert_eq!(suggestion.as_deref(), Some("protocol"));
    }

    #[test]
    fn a_node_that_takes_no_children_reports_each_as_unknown() {
        let text = "timeout \"1s\" { retries; timeout }";
        let n = node(text);
        let mut r = Reader::new(&n, spec(&["platform", "service", "timeout"]));
        let mut d = Diagnostics::default();
        assert!(r.arg(0).is_some());
        r.finish(&mut d);
        assert_eq!(
            found(text, &d),
            [
                ("platc::unknown-node", "retries"),
                ("platc::unknown-node", "timeout")
            ]
        );
    }

    #[test]
    fn the_last_of_repeated_properties_wins_and_all_count_as_read() {
        let text = "a x=1 x=2";
        let n = node(text);
        let mut r = Reader::new(&n, &A);
        let mut d = Diagnostics::default();
        let x = r.int_prop("x", "x", 0, 10, &mut d).unwrap();
        r.finish(&mut d);
        assert_eq!(x.value, 2);
        assert_eq!(&text[x.span.start..x.span.end], "2");
        assert!(d.is_empty());
    }

    #[test]
    fn type_and_range_errors_point_at_the_value() {
        let text = r#"a n="three" m=70000 b="yes" s=5"#;
        let n = node(text);
        let mut r = Reader::new(&n, &A);
        let mut d = Diagnostics::default();
        assert!(r.int_prop("n", "count", 0, 10, &mut d).is_none());
        assert!(r.int_prop("m", "port", 1, 65_535, &mut d).is_none());
        assert!(r.bool_prop("b", &mut d).is_none());
        assert!(r.string_prop("s", &mut d).is_none());
        r.finish(&mut d);
        assert_eq!(
            found(text, &d),
            [
                ("platc::invalid-type", "\"three\""),
                ("platc::out-of-range", "70000"),
                ("platc::invalid-type", "\"yes\""),
                ("platc::invalid-type", "5"),
            ]
        );
    }

    #[test]
    fn missing_arguments_and_properties_point_at_the_node_name() {
        let text = "calls env=X";
        let n = node(text);
        let mut r = Reader::new(&n, spec(&["platform", "service", "calls"]));
        let mut d = Diagnostics::default();
        assert!(r.required_string_arg(0, "a service", &mut d).is_none());
        assert!(r.required_string_prop("port", &mut d).is_none());
        assert!(r.prop("env").is_some());
        r.finish(&mut d);
        assert_eq!(
            found(text, &d),
            [
                ("platc::missing-argument", "calls"),
                ("platc::missing-property", "calls")
            ]
        );
    }

    #[test]
    fn choices_suggest_the_closest_keyword() {
        let text = "mesh mtls=strikt";
        let n = node(text);
        let mut r = Reader::new(&n, spec(&["platform", "mesh"]));
        let mut d = Diagnostics::default();
        let entry = r.prop("mtls").unwrap();
        assert!(choice(entry, &[("strict", 1), ("permissive", 2)], &mut d).is_none());
        match &d.iter().next().unwrap().kind {
            ErrorKind::InvalidValue { suggestion, .. } => {
                assert_eq!(suggestion.as_deref(), Some("strict"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(found(text, &d), [("platc::invalid-value", "strikt")]);
    }

    #[test]
    fn a_node_given_twice_is_reported_once_with_the_first() {
        let doc = parse("timeout \"1s\"\ntimeout \"2s\"\ntimeout \"3s\"").unwrap();
        let mut seen = Seen::default();
        let mut d = Diagnostics::default();
        let firsts: Vec<bool> = doc.nodes().iter().map(|n| seen.once(n, &mut d)).collect();
        assert_eq!(firsts, [true, false, false]);
        assert_eq!(d.len(), 2);
        assert!(
            d.iter()
                .all(|x| x.labels.len() == 1 && x.labels[0].span.start == 0)
        );
    }
}
