//! The little HCL platc writes: the `terraform` block of each stage's `versions.tf`.
//!
//! Strings are quoted with every character HCL treats specially escaped, `${` and `%{`
//! included, so no value from `platform.kdl` is read as a template.

use std::fmt::Write as _;

/// An HCL string literal: `"…"` with `\`, `"`, control characters and the template openers
/// `${` and `%{` escaped.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One `key = value` line at `indent` spaces, values already HCL.
pub fn attribute(out: &mut String, indent: usize, key: &str, width: usize, value: &str) {
    let _ = writeln!(out, "{:indent$}{key:width$} = {value}", "");
}

#[cfg(test)]
mod tests {
    use super::string;

    #[test]
    fn strings_escape_what_hcl_would_read() {
        assert_eq!(string("plain"), "\"plain\"");
        assert_eq!(string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(
            string("${file(\"/etc/passwd\")}"),
            "\"$${file(\\\"/etc/passwd\\\")}\""
        );
        assert_eq!(string("%{ if x }"), "\"%%{ if x }\"");
        assert_eq!(string("line\nbreak\u{7}"), "\"line\\nbreak\\u0007\"");
        assert_eq!(string("$5 and 100%"), "\"$5 and 100%\"");
    }
}
