//! The layout on small inputs, each with its exact result, and each idempotent; the layout
//! never panics on text cut anywhere.

use super::{Error, format, layout, lex};
use crate::source::Source;

/// Formats `text`, checks that formatting the result changes nothing, and returns it.
#[track_caller]
fn fmt(text: &str) -> String {
    let once = match format(&Source::new("platform.kdl", text)) {
        Ok(text) => text,
        Err(Error::Invalid(d)) => panic!("invalid: {:?}", d.iter().collect::<Vec<_>>()),
        Err(Error::Internal(why)) => panic!("internal: {why}\n{text}"),
    };
    let twice = format(&Source::new("platform.kdl", once.as_str())).ok();
    assert_eq!(twice.as_deref(), Some(once.as_str()), "not idempotent");
    once
}

#[track_caller]
fn case(text: &str, expected: &str) {
    assert_eq!(fmt(text), expected, "from {text:?}");
}

#[test]
fn indents_four_spaces_a_node_a_line() {
    case(
        "a{b 1;c {d}}\n",
        "a {\n    b 1\n    c {\n        d\n    }\n}\n",
    );
    case("\t a   1\t\tb=2  ", "a 1 b=2\n");
    case("a {\n\n}\nb { }", "a {}\nb {}\n");
}

#[test]
fn keeps_one_blank_line_and_none_at_the_edges() {
    case("\n\na\n\n\n\nb\n\n", "a\n\nb\n");
    case("a {\n\n    b\n\n\n    c\n\n}\n", "a {\n    b\n\n    c\n}\n");
    case("", "");
    case("\n \n", "");
}

#[test]
fn keeps_every_comment_in_its_place() {
    case("// only a comment", "// only a comment\n");
    case(
        "a { // after the brace\n  b // after b   \n  // before the end\n} // after the block\n",
        "a { // after the brace\n    b // after b\n    // before the end\n} // after the block\n",
    );
    case(
        "a /* in */ 1 /* before = */ k /* = */ = /* after = */ v /* last */\n",
        "a /* in */ 1 /* before = */ k /* = */ = /* after = */ v /* last */\n",
    );
    case(
        "/* first */ a\n/* own line */\nb; /* after ; */ c",
        "/* first */ a\n/* own line */\nb /* after ; */\nc\n",
    );
    case(
        "a {\n      /* two\n         lines  \n      */\n}\n",
        "a {\n    /* two\n         lines\n      */\n}\n",
    );
    case(
        "a {\n  b\n  /* before } */ }",
        "a {\n    b\n    /* before } */\n}\n",
    );
}

#[test]
fn glues_slashdash_to_what_it_comments_out() {
    case(
        "/-  a 1\nb /- 2 /- k=v 3 /-  {\n c\n} {\n d\n}\n",
        "/-a 1\nb /-2 /-k=v 3 /-{\n    c\n} {\n    d\n}\n",
    );
    case("/- // why\n  a\nb /-\n  c", "/- // why\na\nb /-c\n");
    case("a /- /* why */ 1", "a /- /* why */ 1\n");
}

#[test]
fn keeps_line_continuations_that_break_a_node() {
    case(
        "a 1 \\\n      2 \\ // why\n  3\n",
        "a 1 \\\n    2 \\ // why\n    3\n",
    );
    case(
        "p {\n    a 1 \\\n   \\\n  2\n}",
        "p {\n    a 1 \\\n        2\n}\n",
    );
    // One that breaks nothing is dropped; its comment ends the node.
    // (The newline after a `\` is its own: the empty line after it ends the node.)
    case(
        "a 1 \\\n\nb \\\n{ c }\nd \\ // why\n",
        "a 1\nb {\n    c\n}\nd // why\n",
    );
    case("a \\ // why\n; /* then */ b", "a // why\n/* then */ b\n");
    case("a \\ /* c */\n  1", "a /* c */ \\\n    1\n");
}

#[test]
fn writes_values_as_they_are_written() {
    case(
        "a 0x1F 1.30 1_000 +5 1e3 #inf #-inf #nan #null #true \"q\\n\" #\"r\\\"# ##\"s\"#\"##",
        "a 0x1F 1.30 1_000 +5 1e3 #inf #-inf #nan #null #true \"q\\n\" #\"r\\\"# ##\"s\"#\"##\n",
    );
    case("( t )a ( u ) 1 k= (v)2", "(t)a (u)1 k=(v)2\n");
    case("\"quoted name\" \"k\"=v", "\"quoted name\" \"k\"=v\n");
    // A multi-line string keeps its lines as they are, whatever the node's new indentation.
    case(
        "p {\n  a \"\"\"\n      x  \n        y\n      \"\"\" #\"\"\"\n   raw \\\n   \"\"\"#\n}",
        "p {\n    a \"\"\"\n      x  \n        y\n      \"\"\" #\"\"\"\n   raw \\\n   \"\"\"#\n}\n",
    );
    // An escaped newline in a quoted string is part of the string.
    case("a \"x\\\n    y\" b", "a \"x\\\n    y\" b\n");
}

#[test]
fn makes_newlines_lf_and_spaces_plain() {
    case("a 1\r\nb {\r\n  c\r\n}\r\n", "a 1\nb {\n    c\n}\n");
    case("a\u{a0}1\u{3000}2\u{2028}b", "a 1 2\nb\n");
    case("\u{feff}a  1", "\u{feff}a 1\n");
    case(
        "a \"\"\"\r\n  x\r\n  \"\"\"\r\n",
        "a \"\"\"\n  x\n  \"\"\"\n",
    );
}

#[test]
fn refuses_what_does_not_parse_and_kdl_v1() {
    for text in ["a {", "a b=", "a true", "a \"open"] {
        let result = format(&Source::new("platform.kdl", text));
        let Err(Error::Invalid(d)) = result else {
            panic!("{text:?} formats: {result:?}");
        };
        assert!(d.has_errors(), "{text:?}");
    }
    let Err(Error::Invalid(d)) = format(&Source::new("platform.kdl", "a \"b\" true\n")) else {
        panic!("KDL v1 formats");
    };
    let codes: Vec<_> = d.iter().map(|d| (d.kind.code(), d.is_error())).collect();
    assert_eq!(codes, [("platc::kdl-v1", true)]);
    let latin1 = Source::from_bytes("platform.kdl", b"a caf\xe9".to_vec());
    assert!(matches!(format(&latin1), Err(Error::Invalid(_))));
}

/// The layout alone (no parse first) on every prefix of texts with every construct: it may
/// give up, but never panics.
#[test]
fn the_layout_never_panics_on_a_cut_text() {
    let texts = [
        "/- (t)a \"q\\\"\" #\"r\"# ##\"\"\"\n x\n \"\"\"## k=(u)1 /-{ b; } { c /* d /* e */ */ } // f\n",
        "a \\ // g\n  1 /- // h\n  2 \"\"\"\n  m\n  \"\"\" \"x\\\n y\"\r\nb\u{a0}é\u{2029}",
        // The root platform's first lines: the kinds of line and comment the file has.
        include_str!("../../platform.kdl"),
    ];
    for text in texts {
        let end = (0..=text.len().min(1500))
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        let text = &text[..end];
        for at in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let cut = &text[..at];
            if let Some(tokens) = lex::lex(cut) {
                let _ = layout::layout(cut, &tokens);
            }
        }
    }
}

#[test]
fn formats_as_deep_as_the_parse_reads() {
    let deepest = crate::parse::MAX_DEPTH;
    let nested = |levels: usize| format!("{}{}", "a {".repeat(levels), "}".repeat(levels));
    let formatted = fmt(&nested(deepest));
    // Each block opens and closes on lines of its own, but the innermost: `a {}`.
    assert_eq!(formatted.lines().count(), 2 * deepest - 1);
    assert!(matches!(
        format(&Source::new("platform.kdl", nested(deepest + 1))),
        Err(Error::Invalid(_))
    ));
}
