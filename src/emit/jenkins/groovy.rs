//! The templates of the Jenkins outputs, and the one rule that keeps them valid Groovy: every
//! hole (`{{ value }}`) is written as a single-quoted Groovy string literal, or a bare number
//! or boolean. Single-quoted strings never interpolate (`$` is just a character), so a value
//! can only end its string through `'` or `\`, both escaped here, or through a line break,
//! written as `\n`. Comments take the `comment` filter, which keeps the text on its line.

use std::sync::OnceLock;

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, Output, State};
use serde::Serialize;

use crate::encode::comment_safe;

/// The templates, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("macros", include_str!("../../templates/jenkins/macros.j2")),
    (
        "service",
        include_str!("../../templates/jenkins/service.Jenkinsfile.j2"),
    ),
    (
        "platform",
        include_str!("../../templates/jenkins/platform.Jenkinsfile.j2"),
    ),
    (
        "seed",
        include_str!("../../templates/jenkins/seed.groovy.j2"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.set_formatter(format);
        env.add_filter("comment", |text: String| {
            Value::from_safe_string(comment_safe(&text).replace("*/", "* /"))
        });
        for (name, source) in TEMPLATES {
            // The templates are part of the binary; a broken one fails every test.
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e:#}"));
        }
        env
    })
}

/// Renders a template with its context. The templates are ours and their contexts typed, so
/// rendering cannot fail on user input: a failure is a bug in platc, caught by every test.
pub fn render<S: Serialize>(name: &str, context: &S) -> String {
    let template = environment()
        .get_template(name)
        .unwrap_or_else(|e| panic!("template {name}: {e:#}"));
    template
        .render(context)
        .unwrap_or_else(|e| panic!("template {name}: {e:#}"))
}

/// The formatter of every hole: strings as Groovy literals, numbers and booleans bare, text
/// marked safe (`comment`) as it is.
fn format(out: &mut Output<'_>, _state: &State<'_, '_>, value: &Value) -> Result<(), Error> {
    // Written straight into the output, with no string made for each hole (render of 1,000
    // services fills some 200,000).
    if value.is_safe() || value.is_number() || value.kind() == minijinja::value::ValueKind::Bool {
        write!(out, "{value}").map_err(Error::from)
    } else if let Some(text) = value.as_str() {
        write_literal(out, text).map_err(Error::from)
    } else {
        Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "a template hole holds {}, not a string or number",
                value.kind()
            ),
        ))
    }
}

/// `text` as a single-quoted Groovy string literal.
#[cfg(test)]
pub fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let _ = write_literal(&mut out, text);
    out
}

/// `literal` of `text`, written to `out`.
fn write_literal(out: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    out.write_char('\'')?;
    // The runs that need no escape are written whole.
    let mut start = 0;
    for (at, c) in text.char_indices() {
        let escape = match c {
            '\\' => "\\\\",
            '\'' => "\\'",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}') =>
            {
                ""
            }
            _ => continue,
        };
        out.write_str(&text[start..at])?;
        start = at + c.len_utf8();
        if escape.is_empty() {
            for unit in c.encode_utf16(&mut [0; 2]) {
                write!(out, "\\u{unit:04x}")?;
            }
        } else {
            out.write_str(escape)?;
        }
    }
    out.write_str(&text[start..])?;
    out.write_char('\'')
}

#[cfg(test)]
mod tests {
    use super::{literal, render};
    use serde_json::json;

    #[test]
    fn every_hole_of_a_template_is_a_literal_and_a_comment_stays_on_its_line() {
        let hostile = "x') { evil() }; ('\\${System.exit(1)}\n\u{202e}";
        let text = render(
            "seed",
            &json!({
                "header": "from platform.kdl#a\n*/ evil()",
                "repo": hostile,
                "branch": "main",
                "poll": "H/5 * * * *",
                "jobs": [{"name": hostile, "description": hostile, "script": "out/x"}],
                "views": [{"name": "v", "jobs": [hostile]}],
            }),
        );
        let quoted = literal(hostile);
        assert!(
            text.contains(&format!("pipelineJob({quoted}) {{")),
            "{text}"
        );
        assert!(text.contains(&format!("url({quoted})")), "{text}");
        assert!(text.contains(&format!("name({quoted})")), "{text}");
        // The header comment is one line, and cannot close a block comment.
        assert!(
            text.starts_with("// from platform.kdl#a\\u{a}* / evil()\n//\n"),
            "{text}"
        );
    }

    #[test]
    fn a_literal_escapes_what_could_end_it() {
        assert_eq!(literal("plain"), "'plain'");
        assert_eq!(literal("it's"), r"'it\'s'");
        assert_eq!(literal(r"a\'b"), r"'a\\\'b'");
        assert_eq!(literal("${x}"), "'${x}'");
        assert_eq!(literal("a\nb"), r"'a\nb'");
        assert_eq!(literal("\u{202e}"), r"'\u202e'");
        assert_eq!(literal("\u{1}"), r"'\u0001'");
    }
}
