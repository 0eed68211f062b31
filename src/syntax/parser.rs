//! A fast KDL v2 parser for what platform files use: nodes, arguments, properties, children,
//! identifier, quoted and raw strings, numbers, keywords, type annotations (read and dropped),
//! comments, slashdash and line continuations.
//!
//! It answers `None` for any error and for constructs it leaves to the `kdl` crate
//! (multi-line strings, non-ASCII whitespace, characters KDL disallows): the caller then
//! asks the crate, which also words the errors. So this parser only has to be right about
//! what it accepts, and the differential test (`tests/kdl_agreement.rs`) checks that it is.

use crate::span::Span;
use crate::syntax::{Document, Entry, Ident, Node, Value};

/// From this size on, the second half of the top-level block is parsed on another thread
/// (`parse`): below it, starting the thread costs more than it saves.
const SPLIT_FROM: usize = 128 * 1024;

/// Parses a whole document, or gives up with `None`.
///
/// A large file is parsed on two threads: the second half of the top-level block (the
/// platform's children, from a node near the middle) on its own, while this thread parses
/// from the start. Where the first parse reaches that node exactly, at the top of the block's
/// node list, it takes the second's nodes and goes on from where they end: the second parse
/// began in the state the first is in there, so the document is the one a serial parse makes.
/// Where it never gets there (the guessed line was inside a node or a comment), or the second
/// parse gave up, it parses on by itself.
pub fn parse(text: &str) -> Option<Document> {
    if !plain_enough(text) {
        return None;
    }
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let split = (text.len() >= SPLIT_FROM)
        .then(|| split_point(text))
        .flatten();
    match split {
        Some(split) => parse_split(text, start, split),
        None => Parser::new(text, start).document(None),
    }
}

/// `parse` from `start`, with the second half guessed to start at `split`.
fn parse_split(text: &str, start: usize, split: usize) -> Option<Document> {
    std::thread::scope(|scope| {
        let second_half = move || {
            let mut parser = Parser::new(text, split);
            parser.depth = 1;
            let nodes = parser.nodes(false)?;
            Some((nodes, parser.pos))
        };
        // No thread to be had (a process at its limit): one parse, as for a small file.
        let Ok(tail) = std::thread::Builder::new().spawn_scoped(scope, second_half) else {
            return Parser::new(text, start).document(None);
        };
        let join = move || tail.join().ok().flatten();
        Parser::new(text, start).document(Some((split, Box::new(join))))
    })
}

/// Where the second half of the top-level block may start: the first line past the middle
/// indented as the file's first indented line is (a child of the top-level node, in a
/// formatted file), at its first non-blank byte. Only a guess: `Parser::nodes` checks it.
fn split_point(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let indent_of = |line: usize| {
        bytes[line..]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count()
    };
    let lines = |from: usize| {
        let mut at = from;
        std::iter::from_fn(move || {
            let newline = bytes[at..].iter().position(|&b| b == b'\n')?;
            at += newline + 1;
            Some(at)
        })
    };
    let indent = lines(0).map(indent_of).find(|&n| n > 0)?;
    lines(text.len() / 2).take(4096).find_map(|line| {
        let first = line + indent_of(line);
        let node = bytes
            .get(first)
            .is_some_and(|&b| !matches!(b, b'}' | b'/' | b'\n' | b'\r' | b'{' | b';'));
        (first - line == indent && node).then_some(first)
    })
}

/// The nodes of the second half, parsed on another thread: `None` when that parse gave up.
type Tail<'a> = Box<dyn FnOnce() -> Option<(Vec<Node>, usize)> + 'a>;

/// Whether every character is one this parser handles: ASCII whitespace is tab, space and
/// the three ASCII newlines; other control characters, non-ASCII whitespace and newlines, and
/// the code points KDL disallows go to the `kdl` crate.
fn plain_enough(text: &str) -> bool {
    let ascii_ok = text
        .bytes()
        .all(|b| b >= 0x20 && b != 0x7f || matches!(b, b'\t' | b'\n' | b'\r') || b >= 0x80);
    if !ascii_ok {
        return false;
    }
    if text.is_ascii() {
        return true;
    }
    text.char_indices().all(|(i, c)| {
        (c as u32) < 0x80
            || !(matches!(c, '\u{80}'..='\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200f}' | '\u{2028}'..='\u{202f}')
                || matches!(c, '\u{205f}' | '\u{2066}'..='\u{2069}' | '\u{3000}')
                || (c == '\u{feff}' && i > 0))
    })
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// How many blocks enclose `pos`. The parser recurses per block, so it gives up past
    /// `parse::MAX_DEPTH` and leaves the file to the caller, which refuses it.
    depth: usize,
    /// Where the second half starts, and how to wait for its nodes (see `parse`).
    tail: Option<(usize, Tail<'a>)>,
    /// The nodes of the blocks being parsed, innermost last, and the entries of the nodes
    /// being parsed: each block's and node's list is taken off the end when it is complete,
    /// at its exact length. Grown one push at a time, a node's entries took room for four
    /// (448 bytes for the usual one or two), and the document at 10,000 services was 100 MB.
    node_stack: Vec<Node>,
    entry_stack: Vec<Entry>,
}

/// Bytes that end an identifier or a number.
fn is_boundary(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\n'
            | b'\r'
            | b';'
            | b'{'
            | b'}'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'/'
            | b'\\'
            | b'"'
            | b'#'
            | b'='
    )
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, pos: usize) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            pos,
            depth: 0,
            tail: None,
            node_stack: Vec::new(),
            entry_stack: Vec::new(),
        }
    }

    /// The whole document from `pos`, taking the second half's nodes from `tail` if it meets
    /// them.
    fn document(mut self, tail: Option<(usize, Tail<'a>)>) -> Option<Document> {
        self.tail = tail;
        let nodes = self.nodes(true);
        // Not met, or an error first: the other thread is waited for all the same.
        if let Some((_, join)) = self.tail.take() {
            join();
        }
        let nodes = nodes?;
        (self.pos == self.bytes.len()).then(|| Document::new(nodes))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        self.bytes[self.pos..].starts_with(s.as_bytes())
    }

    /// Spaces, tabs, block comments and line continuations: what may sit between the parts of
    /// one node.
    fn node_space(&mut self) -> Option<bool> {
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'/') if self.peek_at(1) == Some(b'*') => self.block_comment()?,
                Some(b'\\') => {
                    // A line continuation: `\`, optional space, then a comment or newline.
                    self.pos += 1;
                    while matches!(self.peek(), Some(b' ' | b'\t')) {
                        self.pos += 1;
                    }
                    if self.starts_with("//") {
                        self.line_comment();
                    }
                    if !self.newline() && self.peek().is_some() {
                        return None;
                    }
                }
                _ => break,
            }
        }
        Some(self.pos > start)
    }

    fn newline(&mut self) -> bool {
        match self.peek() {
            Some(b'\r') => {
                self.pos += if self.peek_at(1) == Some(b'\n') { 2 } else { 1 };
                true
            }
            Some(b'\n') => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn line_comment(&mut self) {
        while let Some(b) = self.peek() {
            if b == b'\n' || b == b'\r' {
                break;
            }
            self.pos += 1;
        }
    }

    fn block_comment(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            if self.starts_with("/*") {
                depth += 1;
                self.pos += 2;
            } else if self.starts_with("*/") {
                depth -= 1;
                self.pos += 2;
                if depth == 0 {
                    return Some(());
                }
            } else if self.peek().is_some() {
                self.pos += 1;
            } else {
                return None;
            }
        }
    }

    /// Whitespace, newlines and comments between nodes.
    fn line_space(&mut self) -> Option<()> {
        loop {
            self.node_space()?;
            if self.newline() {
                continue;
            }
            if self.starts_with("//") {
                self.line_comment();
                continue;
            }
            return Some(());
        }
    }

    fn nodes(&mut self, top: bool) -> Option<Vec<Node>> {
        let first = self.node_stack.len();
        loop {
            self.line_space()?;
            // The second half starts here, in this very state: its nodes are this block's.
            if self.depth == 1 && self.tail.as_ref().is_some_and(|(at, _)| *at == self.pos) {
                let (_, join) = self.tail.take()?;
                if let Some((rest, end)) = join() {
                    self.node_stack.extend(rest);
                    self.pos = end;
                }
                continue;
            }
            match self.peek() {
                None if top => return Some(self.node_stack.drain(first..).collect()),
                Some(b'}') if !top => return Some(self.node_stack.drain(first..).collect()),
                None | Some(b'}' | b';') => return None,
                _ => {}
            }
            if self.starts_with("/-") {
                self.pos += 2;
                self.line_space()?;
                self.node()?;
            } else {
                let node = self.node()?;
                self.node_stack.push(node);
            }
        }
    }

    fn node(&mut self) -> Option<Node> {
        let start = self.pos;
        if self.peek() == Some(b'(') {
            self.type_annotation()?;
            self.node_space()?;
        }
        let name_start = self.pos;
        let name = self.string()?;
        let name = Ident::new(name, Span::new(name_start, self.pos));
        let mut end = self.pos;
        let first = self.entry_stack.len();
        let mut children = None;
        loop {
            let spaced = self.node_space()?;
            match self.peek() {
                None | Some(b'\n' | b'\r' | b'}') => break,
                Some(b';') => {
                    self.pos += 1;
                    break;
                }
                Some(b'/') if self.peek_at(1) == Some(b'/') => {
                    self.line_comment();
                    break;
                }
                Some(b'{') => {
                    if children.is_some() {
                        return None;
                    }
                    children = Some(self.children()?);
                    end = self.pos;
                }
                Some(b'/') if self.peek_at(1) == Some(b'-') => {
                    self.pos += 2;
                    self.line_space()?;
                    if self.peek() == Some(b'{') {
                        self.children()?;
                    } else if children.is_some() {
                        return None;
                    } else {
                        self.entry()?;
                    }
                }
                Some(_) if !spaced || children.is_some() => return None,
                Some(_) => {
                    let entry = self.entry()?;
                    self.entry_stack.push(entry);
                    end = self.pos;
                }
            }
        }
        // No entry follows the children: the entries after `first` are this node's.
        let entries = self.entry_stack.drain(first..).collect();
        Some(Node::new(
            name,
            entries,
            children.map(Document::new),
            Span::new(start, end),
        ))
    }

    fn children(&mut self) -> Option<Vec<Node>> {
        self.pos += 1;
        self.depth += 1;
        if self.depth > crate::parse::MAX_DEPTH {
            return None;
        }
        let nodes = self.nodes(false)?;
        self.depth -= 1;
        if self.peek() != Some(b'}') {
            return None;
        }
        self.pos += 1;
        Some(nodes)
    }

    fn type_annotation(&mut self) -> Option<()> {
        self.pos += 1;
        self.node_space()?;
        self.string()?;
        self.node_space()?;
        if self.peek() != Some(b')') {
            return None;
        }
        self.pos += 1;
        Some(())
    }

    /// An argument or a property.
    fn entry(&mut self) -> Option<Entry> {
        let start = self.pos;
        if self.peek() == Some(b'(') {
            self.type_annotation()?;
            self.node_space()?;
            let (value, repr) = self.value()?;
            return Some(Entry::new(None, value, repr, Span::new(start, self.pos)));
        }
        let (value, repr) = self.value()?;
        // A string followed by `=` is a property's name.
        let after_value = self.pos;
        if let Value::String(name) = &value {
            let save = self.pos;
            self.node_space()?;
            if self.peek() == Some(b'=') {
                // `"a"=1` and `a=1` are properties; a raw or quoted name counts too.
                let name = Ident::new(name.clone(), Span::new(start, after_value));
                self.pos += 1;
                self.node_space()?;
                if self.peek() == Some(b'(') {
                    self.type_annotation()?;
                    self.node_space()?;
                }
                let (value, repr) = self.value()?;
                return Some(Entry::new(
                    Some(name),
                    value,
                    repr,
                    Span::new(start, self.pos),
                ));
            }
            self.pos = save;
        }
        Some(Entry::new(None, value, repr, Span::new(start, after_value)))
    }

    /// A value: string, number or keyword. Numbers keep their source text.
    fn value(&mut self) -> Option<(Value, Option<String>)> {
        let first = self.peek()?;
        let second = self.peek_at(1);
        if first == b'#' && second != Some(b'"') && second != Some(b'#') {
            return self.keyword().map(|v| (v, None));
        }
        let numeric = first.is_ascii_digit()
            || (matches!(first, b'+' | b'-')
                && (second.is_some_and(|b| b.is_ascii_digit())
                    || (second == Some(b'.')
                        && self.peek_at(2).is_some_and(|b| b.is_ascii_digit()))))
            || (first == b'.' && second.is_some_and(|b| b.is_ascii_digit()));
        if numeric {
            let start = self.pos;
            let value = self.number()?;
            return Some((value, Some(self.text[start..self.pos].to_owned())));
        }
        self.string().map(|s| (Value::String(s), None))
    }

    fn keyword(&mut self) -> Option<Value> {
        const KEYWORDS: [(&str, Value); 3] = [
            ("#true", Value::Bool(true)),
            ("#false", Value::Bool(false)),
            ("#null", Value::Null),
        ];
        for (word, value) in KEYWORDS {
            if self.starts_with(word) && self.peek_at(word.len()).is_none_or(is_boundary) {
                self.pos += word.len();
                return Some(value);
            }
        }
        for (word, value) in [
            ("#inf", f64::INFINITY),
            ("#-inf", f64::NEG_INFINITY),
            ("#nan", f64::NAN),
        ] {
            if self.starts_with(word) && self.peek_at(word.len()).is_none_or(is_boundary) {
                self.pos += word.len();
                return Some(Value::Float(value));
            }
        }
        None
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        let radix = match (self.peek(), self.peek_at(1)) {
            (Some(b'0'), Some(b'x')) => 16,
            (Some(b'0'), Some(b'o')) => 8,
            (Some(b'0'), Some(b'b')) => 2,
            _ => 10,
        };
        let value = if radix == 10 {
            let digits_start = self.pos;
            self.digits(10)?;
            let mut float = false;
            if self.peek() == Some(b'.') {
                self.pos += 1;
                self.digits(10)?;
                float = true;
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.pos += 1;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.pos += 1;
                }
                self.digits(10)?;
                float = true;
            }
            let clean: String = self.text[digits_start..self.pos]
                .chars()
                .filter(|&c| c != '_')
                .collect();
            if float {
                let magnitude: f64 = clean.parse().ok()?;
                if !magnitude.is_finite() {
                    return None;
                }
                Value::Float(if negative { -magnitude } else { magnitude })
            } else {
                let magnitude: i128 = clean.parse().ok()?;
                Value::Integer(if negative { -magnitude } else { magnitude })
            }
        } else {
            self.pos += 2;
            let digits_start = self.pos;
            self.digits(radix)?;
            let clean: String = self.text[digits_start..self.pos]
                .chars()
                .filter(|&c| c != '_')
                .collect();
            let magnitude = i128::from_str_radix(&clean, radix).ok()?;
            Value::Integer(if negative { -magnitude } else { magnitude })
        };
        // A number runs to a boundary: `100m` is not a number followed by `m`.
        if self.peek().is_some_and(|b| !is_boundary(b)) || self.pos == start {
            return None;
        }
        Some(value)
    }

    /// One digit, then digits and `_`.
    fn digits(&mut self, radix: u32) -> Option<()> {
        if !self.peek().is_some_and(|b| (b as char).is_digit(radix)) {
            return None;
        }
        while self
            .peek()
            .is_some_and(|b| (b as char).is_digit(radix) || b == b'_')
        {
            self.pos += 1;
        }
        Some(())
    }

    /// An identifier, quoted or raw string.
    fn string(&mut self) -> Option<String> {
        match self.peek()? {
            b'"' => self.quoted(),
            b'#' => self.raw(),
            _ => self.identifier(),
        }
    }

    fn identifier(&mut self) -> Option<String> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_boundary(b) {
                break;
            }
            self.pos += 1;
        }
        let ident = &self.text[start..self.pos];
        let bytes = ident.as_bytes();
        let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
        let looks_numeric = digit_at(0)
            || (matches!(bytes.first(), Some(b'+' | b'-'))
                && (digit_at(1) || (bytes.get(1) == Some(&b'.') && digit_at(2))))
            || (bytes.first() == Some(&b'.') && digit_at(1));
        let reserved = matches!(ident, "true" | "false" | "null" | "inf" | "-inf" | "nan");
        if ident.is_empty() || looks_numeric || reserved {
            return None;
        }
        Some(ident.to_owned())
    }

    fn quoted(&mut self) -> Option<String> {
        if self.starts_with("\"\"\"") {
            return None;
        }
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek()? {
                b'"' => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    return Some(out);
                }
                b'\n' | b'\r' => return None,
                b'\\' => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    self.escape(&mut out)?;
                    run = self.pos;
                }
                _ => self.pos += 1,
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Option<()> {
        let c = self.peek()?;
        self.pos += 1;
        match c {
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'\\' => out.push('\\'),
            b'"' => out.push('"'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b's' => out.push(' '),
            b'u' => {
                if self.peek() != Some(b'{') {
                    return None;
                }
                let start = self.pos + 1;
                let close = self.text[start..].find('}')?;
                let hex = &self.text[start..start + close];
                if hex.is_empty() || hex.len() > 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                out.push(c);
                self.pos = start + close + 1;
            }
            // Whitespace escapes (`\` then spaces or newlines) are rare; the crate handles them.
            _ => return None,
        }
        Some(())
    }

    fn raw(&mut self) -> Option<String> {
        let hashes = self.bytes[self.pos..]
            .iter()
            .take_while(|&&b| b == b'#')
            .count();
        self.pos += hashes;
        if self.peek() != Some(b'"') || self.starts_with("\"\"\"") {
            return None;
        }
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek()? {
                b'\n' | b'\r' => return None,
                b'"' if self.bytes[self.pos + 1..]
                    .iter()
                    .take(hashes)
                    .filter(|&&b| b == b'#')
                    .count()
                    == hashes =>
                {
                    let content = self.text[start..self.pos].to_owned();
                    self.pos += 1 + hashes;
                    return Some(content);
                }
                _ => self.pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(doc: &Document) -> Vec<&str> {
        doc.nodes().iter().map(|n| n.name().value()).collect()
    }

    #[test]
    fn parses_nodes_entries_and_children() {
        let text = "// c\nplatform p {\n    service a x=(t)1.30 /- y=2 \"q\" #\"r\"# {\n        port grpc 0x1F;\n    }\n    /- gone 1\n    last\n}\n";
        let doc = parse(text).unwrap();
        assert_eq!(names(&doc), ["platform"]);
        let platform = &doc.nodes()[0];
        let children = platform.children().unwrap();
        assert_eq!(names(children), ["service", "last"]);
        let service = &children.nodes()[0];
        let entries: Vec<_> = service
            .entries()
            .iter()
            .map(|e| (e.name().map(Ident::value), e.value().clone(), e.repr()))
            .collect();
        assert_eq!(
            entries,
            [
                (None, Value::String("a".into()), None),
                (Some("x"), Value::Float(1.3), Some("1.30")),
                (None, Value::String("q".into()), None),
                (None, Value::String("r".into()), None),
            ]
        );
        let span = service.span();
        assert!(
            text[span.start..span.end].starts_with("service a")
                && text[span.start..span.end].ends_with('}')
        );
        let x = &service.entries()[1];
        assert_eq!(&text[x.span().start..x.span().end], "x=(t)1.30");
        assert_eq!(
            service.children().unwrap().nodes()[0].entries()[1].value(),
            &Value::Integer(31)
        );
    }

    /// Wherever the second half is guessed to start (in a node, a string, a comment, a
    /// slashdash, past an error), the document is the serial parse's, or `None` as it is.
    #[test]
    fn a_split_anywhere_gives_the_serial_parse() {
        let good = "// head\nplatform p {\n    service a x=1 {\n        port grpc 5050\n    }\n    /* a\n    service c */\n    /- service d { y 1; }\n    /-\n    service e\n    service \"f g\" #\"r { }\"# k=\"}\" { port http 80; }\n    last; z 0x1F\n}\nafter 1 {\n    child\n}\n";
        let bad = "platform p {\n    service a {\n    }\n    b c=\n    service d\n}\n";
        let unclosed = "platform p {\n    service a\n    service b\n";
        for text in [good, bad, unclosed] {
            let serial = Parser::new(text, 0).document(None);
            assert_eq!(serial.is_some(), text == good, "{text}");
            for split in 0..=text.len() {
                assert_eq!(
                    parse_split(text, 0, split),
                    serial,
                    "split at {split}: {text}"
                );
            }
        }
        // Where it is met, the second half's nodes are taken (here, a stand-in for them).
        let at = good.find("service a").unwrap();
        let end = good.find("}\nafter").unwrap();
        let span = Span::new(at, at + 1);
        let stand_in = Node::new(Ident::new("x", span), vec![], None, span);
        let tail: Tail = Box::new(move || Some((vec![stand_in], end)));
        let doc = Parser::new(good, 0).document(Some((at, tail))).unwrap();
        assert_eq!(names(doc.nodes()[0].children().unwrap()), ["x"]);
        assert_eq!(names(&doc), ["platform", "after"]);
    }

    #[test]
    fn a_large_file_is_split_at_a_child_of_the_top_node() {
        let mut text = String::from("platform p {\n");
        while text.len() < SPLIT_FROM {
            text.push_str("    service s {\n        image \"x\" tag=\"1\"\n    }\n");
        }
        text.push_str("}\n");
        let split = split_point(&text).expect("a split point");
        assert!(split > text.len() / 2 && text[split..].starts_with("service s {"));
        assert!(text[..split].ends_with("\n    "));
        let serial = Parser::new(&text, 0).document(None);
        assert!(serial.is_some());
        assert_eq!(parse(&text), serial);
    }

    #[test]
    fn every_list_is_kept_at_its_exact_length() {
        fn exact(doc: &Document) -> bool {
            doc.nodes.capacity() == doc.nodes.len()
                && doc.nodes().iter().all(|node| {
                    node.entries.capacity() == node.entries.len()
                        && node.children().is_none_or(exact)
                })
        }
        let small = "a 1 2 {\n    b x=1; /- gone 3\n    c {\n        d 1 2 3 4 5\n    }\n}\ne\n";
        // Split in two (`parse_split`): the second half's nodes joined to the first's.
        let mut large = String::from("platform p {\n");
        while large.len() < SPLIT_FROM * 2 {
            large.push_str("    service s {\n        port http 80 protocol=\"http\"\n    }\n");
        }
        large.push_str("}\n");
        for text in [small, large.as_str()] {
            let doc = parse(text).unwrap();
            assert!(exact(&doc), "{}", &text[..40.min(text.len())]);
        }
    }

    #[test]
    fn rejects_what_kdl_v2_rejects() {
        for bad in [
            "a cpu=100m",
            "a true",
            "a {",
            "a }",
            "a \"open",
            "node 1.",
            "a b=",
            "a\"b\"",
            "(t",
            "a #maybe",
        ] {
            assert!(parse(bad).is_none(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn leaves_unusual_constructs_to_the_crate() {
        for text in ["a \"\"\"\n  x\n  \"\"\"", "a\u{a0}b", "a \"\\\n  b\""] {
            assert!(parse(text).is_none(), "{text:?}");
        }
    }
}
