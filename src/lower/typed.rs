//! Entries read as the language's value types, with the diagnostic for each bad value.

use crate::syntax::Entry;

use crate::diagnostic::{Diagnostics, ErrorKind, NameRule};
use crate::lower::reader::{string, string_or_number};
use crate::lower::value;
use crate::model::value::{Cidr, Duration, InstanceType, Percent, Quantity};
use crate::span::Spanned;

pub fn duration(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<Duration>> {
    let text = string(entry, d)?;
    if let Some(millis) = value::duration(&text.value) {
        return Some(Spanned::new(
            Duration {
                text: text.value,
                millis,
            },
            text.span,
        ));
    }
    d.error(ErrorKind::InvalidDuration { value: text.value }, text.span);
    None
}

pub fn percent(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<Percent>> {
    let text = string_or_number(entry, d)?;
    if let Some(percent) = value::percent(&text.value) {
        return Some(Spanned::new(percent, text.span));
    }
    d.error(
        ErrorKind::InvalidPercentage { value: text.value },
        text.span,
    );
    None
}

/// A whole percentage (a route weight, a canary step): Istio and Argo Rollouts weigh traffic in
/// whole percent, so `99.9` would be rounded without a word.
pub fn whole_percent(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<Percent>> {
    let percent = percent(entry, d)?;
    if percent.value.thousandths % 1000 == 0 {
        return Some(percent);
    }
    d.error(
        ErrorKind::InvalidValue {
            value: crate::lower::reader::string_or_number(entry, &mut Diagnostics::default())
                .map_or_else(String::new, |t| t.value),
            expected: vec!["a whole percentage from 0 to 100, such as 10 (traffic is weighed in whole percent)"],
            suggestion: None,
        },
        percent.span,
    );
    None
}

/// A CPU quantity (`"100m"`, `"0.5"`; a bare integer means cores).
pub fn cpu(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<Quantity>> {
    let text = string_or_number(entry, d)?;
    if let Some(amount) = value::cpu(&text.value) {
        return Some(Spanned::new(
            Quantity {
                text: text.value,
                amount,
            },
            text.span,
        ));
    }
    d.error(
        ErrorKind::InvalidQuantity {
            value: text.value,
            resource: "cpu",
        },
        text.span,
    );
    None
}

/// A memory or storage quantity (`"64Mi"`).
pub fn bytes(
    entry: &Entry,
    resource: &'static str,
    d: &mut Diagnostics,
) -> Option<Spanned<Quantity>> {
    let text = string(entry, d)?;
    if let Some(amount) = value::bytes(&text.value) {
        return Some(Spanned::new(
            Quantity {
                text: text.value,
                amount,
            },
            text.span,
        ));
    }
    d.error(
        ErrorKind::InvalidQuantity {
            value: text.value,
            resource,
        },
        text.span,
    );
    None
}

pub fn cidr(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<Cidr>> {
    let text = string(entry, d)?;
    match value::cidr(&text.value) {
        Ok(cidr) => Some(Spanned::new(cidr, text.span)),
        Err(reason) => {
            d.error(
                ErrorKind::InvalidCidr {
                    value: text.value,
                    reason,
                },
                text.span,
            );
            None
        }
    }
}

/// A DNS-1123 label, as Kubernetes names (and most AWS names) need.
pub fn name(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let text = string(entry, d)?;
    check_name(text, d)
}

pub fn check_name(text: Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<String>> {
    match value::dns_label(&text.value).and_then(|()| value::object_name(&text.value)) {
        Ok(()) => Some(text),
        Err(reason) => {
            d.error(
                ErrorKind::InvalidName {
                    value: text.value,
                    reason,
                    rule: NameRule::Label,
                },
                text.span,
            );
            None
        }
    }
}

/// A DNS host name (`shop.example.com`, `*.example.com`).
/// An HTTP path: it starts with `/` (`expose path=`, `port metrics=`).
pub fn check_http_path(path: &Spanned<String>, d: &mut Diagnostics) {
    if !path.value.starts_with('/') {
        d.error(
            ErrorKind::InvalidValue {
                value: path.value.clone(),
                expected: vec!["a path starting with `/`"],
                suggestion: None,
            },
            path.span,
        );
    }
}

/// A path regular expression (`expose match=regex`): Envoy matches it with RE2, whose syntax
/// the `regex` crate shares (no look-around, no back-references), against the whole path.
pub fn check_regex(path: &Spanned<String>, d: &mut Diagnostics) {
    if let Err(error) = regex::Regex::new(&path.value) {
        let detail = match error {
            regex::Error::Syntax(text) => text
                .lines()
                .rev()
                .find(|l| l.starts_with("error:"))
                .map_or_else(
                    || "not a regular expression".to_owned(),
                    |l| l.trim_start_matches("error:").trim().to_owned(),
                ),
            _ => "too large".to_owned(),
        };
        d.error(
            ErrorKind::InvalidRegex {
                value: path.value.clone(),
                detail,
            },
            path.span,
        );
    }
}

pub fn host(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let text = string(entry, d)?;
    match value::host(&text.value) {
        Ok(()) => Some(text),
        Err(reason) => {
            d.error(
                ErrorKind::InvalidName {
                    value: text.value,
                    reason,
                    rule: NameRule::Host,
                },
                text.span,
            );
            None
        }
    }
}

pub fn instance_type(
    entry: &Entry,
    prefix: &str,
    d: &mut Diagnostics,
) -> Option<Spanned<InstanceType>> {
    let text = string(entry, d)?;
    if let Some(instance) = value::instance_type(&text.value, prefix) {
        return Some(Spanned::new(instance, text.span));
    }
    d.error(
        ErrorKind::InvalidInstanceType { value: text.value },
        text.span,
    );
    None
}

/// A port number, 1–65535.
pub fn port(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<u16>> {
    // `8.08e3` and `80e0` are numbers KDL reads as decimals: a port is an integer.
    if matches!(entry.value(), crate::syntax::Value::Float(_)) {
        crate::lower::reader::wrong_type(entry, "an integer port number", d);
        return None;
    }
    let text = string_or_number(entry, d)?;
    match text.value.parse::<u16>() {
        Ok(n) if n > 0 => Some(Spanned::new(n, text.span)),
        _ => {
            d.error(ErrorKind::InvalidPort { value: text.value }, text.span);
            None
        }
    }
}

/// An unsigned count within `min..=max`.
pub fn count(
    entry: &Entry,
    what: &'static str,
    min: u32,
    max: u32,
    d: &mut Diagnostics,
) -> Option<Spanned<u32>> {
    crate::lower::reader::integer(entry, what, i64::from(min), i64::from(max), d)
        .map(|v| v.map(|n| u32::try_from(n).unwrap_or(max)))
}
