//! `calls SERVICE …` and `calls-external HOST …` → `Call` and `ExternalCall`: whom a service
//! calls, and how the `env=` variable writes the address (`format=`, `scheme=`, `path=`). What
//! needs the callee (its port, its protocol) is checked in `check::calls`.

use crate::diagnostic::{Diagnostics, ErrorKind, NameRule};
use crate::lower::grammar::service as spec;
use crate::lower::reader::Reader;
use crate::lower::service::env_name;
use crate::lower::typed;
use crate::model::service::{AddressFormat, AddressShape, Call, ExternalCall, ExternalProtocol};
use crate::span::Spanned;
use crate::syntax::Node;

const FORMATS: &[(&str, AddressFormat)] = &[
    ("host", AddressFormat::Host),
    ("host-port", AddressFormat::HostPort),
    ("url", AddressFormat::Url),
    ("uri", AddressFormat::Uri),
];

pub fn call(node: &Node, d: &mut Diagnostics) -> Option<Call> {
    let mut r = Reader::new(node, &spec::CALLS);
    let service = r.required_string_arg(0, "the service it calls", d);
    let env = r.string_prop("env", d).and_then(|n| env_name(n, d));
    // A port's number (`port=9080`) is read as its text: the check names the callee's port
    // with that number, which only the callee knows.
    let port = r
        .prop("port")
        .and_then(|e| crate::lower::reader::scalar_text(e, "a port name", d));
    let address = shape(&mut r, d);
    r.finish(d);
    Some(Call {
        span: node.span(),
        service: service?,
        env,
        port,
        address,
    })
}

pub fn external(node: &Node, d: &mut Diagnostics) -> Option<ExternalCall> {
    let mut r = Reader::new(node, &spec::CALLS_EXTERNAL);
    let host = if let Some(e) = r.arg(0) {
        typed::host(e, d).and_then(|host| not_wildcard(host, d))
    } else {
        d.error(
            ErrorKind::MissingArgument {
                node: "calls-external".into(),
                what: "the host it calls",
            },
            r.name_span(),
        );
        None
    };
    let port = r.required_prop("port", d).and_then(|e| typed::port(e, d));
    let protocol = r.choice_prop(
        "protocol",
        &[
            ("tls", ExternalProtocol::Tls),
            ("https", ExternalProtocol::Https),
            ("http", ExternalProtocol::Http),
            ("tcp", ExternalProtocol::Tcp),
        ],
        d,
    );
    let env = r.string_prop("env", d).and_then(|n| env_name(n, d));
    let reason = r.string_prop("reason", d);
    let address = shape(&mut r, d);
    r.finish(d);
    let protocol =
        protocol.unwrap_or_else(|| Spanned::new(ExternalProtocol::Tls, node.name().span()));
    // Plain HTTP crosses the Internet readable and forgeable by anyone on the path.
    if protocol.value == ExternalProtocol::Http && reason.is_none() {
        d.error(
            ErrorKind::MissingReason {
                what: "plain HTTP to the outside".into(),
            },
            protocol.span,
        );
    }
    Some(ExternalCall {
        span: node.span(),
        host: host?,
        port: port?,
        protocol,
        env,
        address,
        reason,
    })
}

/// The mesh resolves an outside host by DNS, which a wildcard has no answer for.
fn not_wildcard(host: Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<String>> {
    if host.value.starts_with('*') {
        d.error(
            ErrorKind::InvalidName {
                value: host.value.clone(),
                reason: "a wildcard has no DNS answer; name the host itself".into(),
                rule: NameRule::Host,
            },
            host.span,
        );
        return None;
    }
    Some(host)
}

/// `format=`, `scheme=` and `path=`, each checked on its own.
fn shape(r: &mut Reader, d: &mut Diagnostics) -> AddressShape {
    let format = r.choice_prop("format", FORMATS, d);
    let scheme = r.string_prop("scheme", d).and_then(|s| {
        if scheme_ok(&s.value) {
            Some(s)
        } else {
            d.error(
                ErrorKind::InvalidValue {
                    value: s.value.clone(),
                    expected: vec!["a URI scheme: a letter, then letters, digits, `+`, `-` or `.` (`http`, `mongodb`, `jdbc:postgresql`)"],
                    suggestion: None,
                },
                s.span,
            );
            None
        }
    });
    let path = r.string_prop("path", d).and_then(|p| {
        if path_ok(&p.value) {
            Some(p)
        } else {
            d.error(
                ErrorKind::InvalidValue {
                    value: p.value.clone(),
                    expected: vec!["a path starting with `/`, of the characters a URL allows unescaped (no space, quote, `<`, `>`, `\\`, `^`, `` ` ``, `{`, `|`, `}`)"],
                    suggestion: None,
                },
                p.span,
            );
            None
        }
    });
    AddressShape {
        format,
        scheme,
        path,
    }
}

/// RFC 3986's `scheme`, or two of them joined by `:` (JDBC's `jdbc:postgresql`).
fn scheme_ok(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    parts.len() <= 2
        && parts.iter().all(|part| {
            part.starts_with(|c: char| c.is_ascii_alphabetic())
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        })
}

/// A path, query and fragment of RFC 3986's characters (a `%` escape is taken as written).
fn path_ok(text: &str) -> bool {
    text.starts_with('/')
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '-' | '.'
                        | '_'
                        | '~'
                        | '!'
                        | '$'
                        | '&'
                        | '\''
                        | '('
                        | ')'
                        | '*'
                        | '+'
                        | ','
                        | ';'
                        | '='
                        | ':'
                        | '@'
                        | '/'
                        | '?'
                        | '#'
                        | '%'
                )
        })
}

#[cfg(test)]
mod tests {
    use super::{path_ok, scheme_ok};

    #[test]
    fn schemes() {
        for ok in ["http", "mongodb+srv", "jdbc:postgresql", "amqps"] {
            assert!(scheme_ok(ok), "{ok}");
        }
        for bad in ["", "1http", "http://", "a:b:c", "ht tp", "jdbc:"] {
            assert!(!scheme_ok(bad), "{bad}");
        }
    }

    #[test]
    fn paths() {
        for ok in ["/", "/api/v1", "/db?authSource=admin", "/a%20b"] {
            assert!(path_ok(ok), "{ok}");
        }
        for bad in ["api", "/a b", "/a\"b", "/{x}", "/a\nb", ""] {
            assert!(!path_ok(bad), "{bad}");
        }
    }
}
