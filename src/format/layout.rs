//! Tokens → the canonical text. A recursive walk that follows KDL v2's grammar (nodes, entries,
//! children, slashdash, line continuations) and prints every token but whitespace, newlines and
//! `;` exactly as written, in the same order; only the space between them is its own.
//!
//! It expects text that parsed as KDL v2 and answers `None` when the tokens do not follow the
//! grammar; `format::format` also reparses what it prints, so a mistake here cannot change a
//! file's meaning.

use std::borrow::Cow;

use crate::format::lex::{Kind, Token};

/// One indentation level.
const INDENT: &str = "    ";

/// The canonical text of `text`, whose tokens are `tokens`.
pub fn layout(text: &str, tokens: &[Token]) -> Option<String> {
    let mut layout = Layout {
        text,
        tokens,
        pos: 0,
        out: String::with_capacity(text.len() + text.len() / 8),
        open: false,
        fresh: false,
        after_comment: false,
    };
    if layout.peek() == Some(Kind::Bom) {
        layout.out.push('\u{feff}');
        layout.pos += 1;
    }
    layout.nodes(0, true)?;
    layout.end_line();
    Some(layout.out)
}

/// What may sit between two words of a node: comments and line continuations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gap<'a> {
    /// A block comment.
    Comment(&'a str),
    /// A line continuation, with the line comment after it if there is one.
    Escline(Option<&'a str>),
    /// A line comment where newlines are allowed (after a slashdash).
    Line(&'a str),
}

/// What comes after a gap inside a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// A word on the same node: a line continuation before it is kept.
    Word,
    /// A children block: it opens on the line before.
    Open,
    /// The end of the node; `true` when it ends with a line comment.
    End(bool),
}

/// How a node ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// A newline or a line comment: the next node starts a line of its own in the source.
    Newline,
    /// `;`, a `}` or the end of the file: something may follow on the same line.
    Inline,
    /// As `Inline` in the source, but the printed line ends with a line comment (a line
    /// continuation's, moved to the end): nothing may join it.
    Comment,
}

/// Where a list of nodes' current line stands, for the comments that come next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Line {
    /// Finished.
    Closed,
    /// Holds a node or a `{`: a comment on the same source line joins it.
    Trailing,
    /// Began with a block comment: a node on the same source line continues it.
    Prefix,
}

struct Layout<'a> {
    text: &'a str,
    tokens: &'a [Token],
    pos: usize,
    out: String,
    /// The last line of `out` is not finished.
    open: bool,
    /// The last line of `out` holds only its indentation.
    fresh: bool,
    /// The last word was a comment: the next word is spaced from it even where words are
    /// glued (`key= /* c */ value`).
    after_comment: bool,
}

impl<'a> Layout<'a> {
    fn peek(&self) -> Option<Kind> {
        self.tokens.get(self.pos).map(|t| t.kind)
    }

    /// The text of the current token, then moves past it.
    fn take(&mut self) -> &'a str {
        let token = self.tokens[self.pos];
        self.pos += 1;
        &self.text[token.span.start..token.span.end]
    }

    /// Moves past a token of `kind`, or fails.
    fn expect(&mut self, kind: Kind) -> Option<&'a str> {
        (self.peek() == Some(kind)).then(|| self.take())
    }

    /// Finishes the current line, if one is open. Lines are finished when the next begins:
    /// until then, whether a comment may join the last line is the list's `Line`.
    fn end_line(&mut self) {
        if self.open {
            self.out.push('\n');
            self.open = false;
            self.fresh = false;
        }
    }

    /// Starts a line at `depth`.
    fn begin(&mut self, depth: usize) {
        self.end_line();
        for _ in 0..depth {
            self.out.push_str(INDENT);
        }
        self.open = true;
        self.fresh = true;
        self.after_comment = false;
    }

    /// Adds a word to the current line: after one space when `spaced` (or after a comment),
    /// else glued to the word before.
    fn word(&mut self, word: &str, spaced: bool) {
        if !self.fresh && (spaced || self.after_comment) {
            self.out.push(' ');
        }
        self.out.push_str(word);
        self.fresh = false;
        self.after_comment = false;
    }

    fn comment(&mut self, comment: &str) {
        self.word(&clean_comment(comment), true);
        self.after_comment = true;
    }

    /// A list of nodes: the file (`top`), or a block's children up to its `}`.
    fn nodes(&mut self, depth: usize, top: bool) -> Option<()> {
        // Inside a block, the line of its `{` is still open.
        let mut line = if top { Line::Closed } else { Line::Trailing };
        let mut at_line_start = top;
        // A blank line was seen since the last item, and there was an item before it.
        let mut blank = false;
        let mut any = false;
        loop {
            match self.peek() {
                Some(Kind::Space) => self.pos += 1,
                Some(Kind::Newline) => {
                    self.pos += 1;
                    blank |= at_line_start && any;
                    at_line_start = true;
                    line = Line::Closed;
                }
                Some(kind @ (Kind::LineComment | Kind::BlockComment)) => {
                    let comment = self.take();
                    if !at_line_start && line != Line::Closed {
                        self.comment(comment);
                    } else {
                        self.item(depth, &mut blank, &mut any);
                        self.comment(comment);
                        line = if kind == Kind::BlockComment {
                            Line::Prefix
                        } else {
                            Line::Closed
                        };
                    }
                    at_line_start = false;
                }
                None if top => return Some(()),
                Some(Kind::Close) if !top => return Some(()),
                Some(Kind::Slashdash | Kind::Atom | Kind::LeftParen) => {
                    if line != Line::Prefix || at_line_start {
                        self.item(depth, &mut blank, &mut any);
                    }
                    match self.node(depth)? {
                        End::Newline => {
                            at_line_start = true;
                            line = Line::Closed;
                        }
                        End::Inline => {
                            at_line_start = false;
                            line = Line::Trailing;
                        }
                        End::Comment => {
                            at_line_start = false;
                            line = Line::Closed;
                        }
                    }
                }
                _ => return None,
            }
        }
    }

    /// Starts the line of a new item of a list: after one blank line if the source had one
    /// (never before the first item).
    fn item(&mut self, depth: usize, blank: &mut bool, any: &mut bool) {
        self.end_line();
        if *blank && *any {
            self.out.push('\n');
        }
        *blank = false;
        *any = true;
        self.begin(depth);
    }

    /// One node, from its slashdash or name to its terminator.
    fn node(&mut self, depth: usize) -> Option<End> {
        let continued = depth + 1;
        let mut glued = false;
        if self.peek() == Some(Kind::Slashdash) {
            self.slashdash(depth)?;
            glued = true;
        }
        if self.peek() == Some(Kind::LeftParen) {
            self.annotation(!glued, continued)?;
            glued = true;
            let gap = self.node_gap()?;
            self.gap(&gap, continued, Next::Word);
        }
        let name = self.expect(Kind::Atom)?;
        self.word(&clean_atom(name), !glued);
        loop {
            let gap = self.node_gap()?;
            match self.peek() {
                None | Some(Kind::Close) => {
                    return Some(self.end(&gap, continued, End::Inline));
                }
                Some(Kind::Semicolon) => {
                    self.pos += 1;
                    return Some(self.end(&gap, continued, End::Inline));
                }
                Some(Kind::Newline) => {
                    self.pos += 1;
                    return Some(self.end(&gap, continued, End::Newline));
                }
                Some(Kind::LineComment) => {
                    self.gap(&gap, continued, Next::End(true));
                    let comment = self.take();
                    self.comment(comment);
                    if self.peek() == Some(Kind::Newline) {
                        self.pos += 1;
                    }
                    return Some(End::Newline);
                }
                Some(Kind::Open) => {
                    self.gap(&gap, continued, Next::Open);
                    self.children(depth, true)?;
                }
                Some(Kind::Slashdash) => {
                    self.gap(&gap, continued, Next::Word);
                    self.slashdash(continued)?;
                    if self.peek() == Some(Kind::Open) {
                        self.children(depth, false)?;
                    } else {
                        self.entry(continued, true)?;
                    }
                }
                Some(Kind::Atom | Kind::LeftParen) => {
                    self.gap(&gap, continued, Next::Word);
                    self.entry(continued, false)?;
                }
                _ => return None,
            }
        }
    }

    /// Prints the gap before a node's end, and says how it ended.
    fn end(&mut self, gap: &[Gap<'_>], continued: usize, end: End) -> End {
        let comment = self.gap(gap, continued, Next::End(false));
        if comment && end == End::Inline {
            End::Comment
        } else {
            end
        }
    }

    /// `/-` and the space after it, which may hold newlines and comments: a line comment
    /// there ends the line, and what it comments out goes on the next, at `depth`.
    fn slashdash(&mut self, depth: usize) -> Option<()> {
        self.expect(Kind::Slashdash)?;
        self.word("/-", true);
        let mut gap = Vec::new();
        loop {
            match self.peek() {
                Some(Kind::Space | Kind::Newline) => self.pos += 1,
                Some(Kind::BlockComment) => gap.push(Gap::Comment(self.take())),
                Some(Kind::LineComment) => gap.push(Gap::Line(self.take())),
                Some(Kind::Escline) => gap.extend(self.escline()?),
                _ => break,
            }
        }
        for item in gap {
            match item {
                Gap::Comment(comment) => self.comment(comment),
                Gap::Line(comment) | Gap::Escline(Some(comment)) => {
                    self.comment(comment);
                    self.begin(depth);
                }
                Gap::Escline(None) => {}
            }
        }
        Some(())
    }

    /// `(type)`, with any comments inside.
    fn annotation(&mut self, spaced: bool, continued: usize) -> Option<()> {
        self.expect(Kind::LeftParen)?;
        self.word("(", spaced);
        let gap = self.node_gap()?;
        self.gap(&gap, continued, Next::Word);
        let name = self.expect(Kind::Atom)?;
        self.word(&clean_atom(name), false);
        let gap = self.node_gap()?;
        self.gap(&gap, continued, Next::Word);
        self.expect(Kind::RightParen)?;
        self.word(")", false);
        Some(())
    }

    /// An argument or a property, its parts glued: `(t)value`, `key=value`.
    fn entry(&mut self, continued: usize, glued: bool) -> Option<()> {
        let mut spaced = !glued;
        if self.peek() == Some(Kind::LeftParen) {
            self.annotation(spaced, continued)?;
            spaced = false;
            let gap = self.node_gap()?;
            self.gap(&gap, continued, Next::Word);
        }
        let value = self.expect(Kind::Atom)?;
        self.word(&clean_atom(value), spaced);
        let after_value = self.pos;
        let gap = self.node_gap()?;
        if self.peek() != Some(Kind::Equals) {
            self.pos = after_value;
            return Some(());
        }
        self.gap(&gap, continued, Next::Word);
        self.pos += 1;
        self.word("=", false);
        let gap = self.node_gap()?;
        self.gap(&gap, continued, Next::Word);
        if self.peek() == Some(Kind::LeftParen) {
            self.annotation(false, continued)?;
            let gap = self.node_gap()?;
            self.gap(&gap, continued, Next::Word);
        }
        let value = self.expect(Kind::Atom)?;
        self.word(&clean_atom(value), false);
        Some(())
    }

    /// A children block, `{` on the current line and `}` on a line of its own; `{}` when it
    /// holds nothing.
    fn children(&mut self, depth: usize, spaced: bool) -> Option<()> {
        // The parse refuses deeper files; the layout recurses per block, so it never goes
        // deeper either, whatever it is given.
        if depth >= crate::parse::MAX_DEPTH {
            return None;
        }
        self.expect(Kind::Open)?;
        self.word("{", spaced);
        let before = self.out.len();
        self.nodes(depth + 1, false)?;
        self.expect(Kind::Close)?;
        if self.out.len() != before {
            self.begin(depth);
        }
        self.word("}", false);
        Some(())
    }

    /// The space between two words of a node: spaces (dropped), block comments and line
    /// continuations.
    fn node_gap(&mut self) -> Option<Vec<Gap<'a>>> {
        let mut gap = Vec::new();
        loop {
            match self.peek() {
                Some(Kind::Space) => self.pos += 1,
                Some(Kind::BlockComment) => gap.push(Gap::Comment(self.take())),
                Some(Kind::Escline) => gap.extend(self.escline()?),
                _ => return Some(gap),
            }
        }
    }

    /// `\`, the space and comments after it, and its newline: the block comments, then the
    /// continuation with its line comment.
    fn escline(&mut self) -> Option<Vec<Gap<'a>>> {
        self.expect(Kind::Escline)?;
        let mut gap = Vec::new();
        let mut line_comment = None;
        loop {
            match self.peek() {
                Some(Kind::Space) => self.pos += 1,
                Some(Kind::BlockComment) => gap.push(Gap::Comment(self.take())),
                Some(Kind::LineComment) => {
                    line_comment = Some(self.take());
                    break;
                }
                _ => break,
            }
        }
        match self.peek() {
            Some(Kind::Newline) => self.pos += 1,
            None => {}
            _ => return None,
        }
        gap.push(Gap::Escline(line_comment));
        Some(gap)
    }

    /// Prints a gap before `next`. A line continuation stays where it breaks a node between
    /// two words, and its continued line is indented at `continued`; one that breaks nothing
    /// (before a `{`, another continuation or the end of the node) is dropped, and the last
    /// one's comment ends the node when nothing else does: then it answers `true`.
    fn gap(&mut self, gap: &[Gap<'_>], continued: usize, next: Next) -> bool {
        let mut gap = gap.to_vec();
        let mut ending = None;
        if next != Next::Word {
            while gap.last() == Some(&Gap::Escline(None)) {
                gap.pop();
            }
            if next == Next::End(false)
                && let Some(&Gap::Escline(Some(comment))) = gap.last()
            {
                gap.pop();
                ending = Some(comment);
            }
        }
        for (i, item) in gap.iter().enumerate() {
            match *item {
                Gap::Comment(comment) | Gap::Line(comment) => self.comment(comment),
                Gap::Escline(None) if matches!(gap.get(i + 1), Some(Gap::Escline(_))) => {}
                Gap::Escline(comment) => {
                    self.word("\\", true);
                    if let Some(comment) = comment {
                        self.comment(comment);
                    }
                    self.begin(continued);
                }
            }
        }
        if let Some(comment) = ending {
            self.comment(comment);
        }
        ending.is_some()
    }
}

/// A value as written, its newlines made LF (a multi-line string's value does not change:
/// KDL reads every newline in it as LF).
fn clean_atom(atom: &str) -> Cow<'_, str> {
    if atom.contains('\r') {
        Cow::Owned(atom.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(atom)
    }
}

/// A comment as written, without trailing whitespace on any of its lines, its newlines LF.
fn clean_comment(comment: &str) -> Cow<'_, str> {
    let normalized = clean_atom(comment);
    if !normalized.contains('\n') {
        return match normalized {
            Cow::Borrowed(text) => Cow::Borrowed(text.trim_end()),
            Cow::Owned(text) => Cow::Owned(text.trim_end().to_owned()),
        };
    }
    let lines: Vec<&str> = normalized.split('\n').map(str::trim_end).collect();
    Cow::Owned(lines.join("\n"))
}
