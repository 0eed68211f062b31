//! Text → KDL document. KDL v2 first; when that fails and the text reads as KDL v1, the v1
//! document is used with a `kdl-v1` warning. The kdl crate's errors become `platc::syntax`
//! diagnostics.

use kdl::KdlDocument;

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::source::Source;
use crate::span::Span;

/// Parses the source; on failure every syntax error is in the returned diagnostics.
pub fn parse(source: &Source, d: &mut Diagnostics) -> Option<KdlDocument> {
    let text = source.text();
    match KdlDocument::parse_v2(text) {
        Ok(document) => Some(document),
        Err(v2_error) => {
            // A file that only parses as v1 is v1; report the v2 errors otherwise, since v2 is
            // the language we document.
            if let Ok(document) = KdlDocument::parse_v1(text) {
                d.push(Diagnostic::new(ErrorKind::KdlV1, first_line(text)));
                return Some(document);
            }
            for error in v2_error.diagnostics {
                let span = clamp(Span::from(error.span), text.len());
                let message = error
                    .message
                    .or(error.label)
                    .unwrap_or_else(|| "invalid KDL".to_owned());
                d.error(
                    ErrorKind::Syntax {
                        message,
                        help: error.help,
                    },
                    span,
                );
            }
            if !d.has_errors() {
                d.error(
                    ErrorKind::Syntax {
                        message: "invalid KDL".into(),
                        help: None,
                    },
                    Span::new(0, 0),
                );
            }
            None
        }
    }
}

fn first_line(text: &str) -> Span {
    Span::new(0, text.find('\n').unwrap_or(text.len()))
}

fn clamp(span: Span, len: usize) -> Span {
    let start = span.start.min(len);
    Span::new(start, span.end.clamp(start, len))
}
