//! The behaviour of a service at run time: probes, autoscaling, retries, timeouts, circuit
//! breaking, canary releases, SLOs and exposure on a gateway.

use crate::syntax::Node;

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, NameRule, suggest};
use crate::lower::grammar::service::{self as spec, RETRY_ON};
use crate::lower::reader::{Reader, Seen, choice, string, unknown_node};
use crate::lower::service::warn_latest;
use crate::lower::typed;
use crate::lower::value;
use crate::model::service::{
    Autoscale, Canary, CircuitBreaker, Expose, Gate, HeaderMatch, Image, Latency, PathMatch, Probe,
    ProbeKind, ProbeUse, Retries, Slo, Version,
};
use crate::model::value::Percent;
use crate::span::{Span, Spanned};

const PERCENTILES: &[&str] = &[
    "latency-p50",
    "latency-p75",
    "latency-p90",
    "latency-p95",
    "latency-p99",
];

pub fn probe(node: &Node, d: &mut Diagnostics) -> Option<Probe> {
    let mut r = Reader::new(node, &spec::PROBE);
    let kind = if let Some(e) = r.arg(0) {
        choice(
            e,
            &[
                ("grpc", ProbeKind::Grpc),
                ("http", ProbeKind::Http),
                ("tcp", ProbeKind::Tcp),
                ("exec", ProbeKind::Exec),
            ],
            d,
        )
    } else {
        d.error(
            ErrorKind::MissingArgument {
                node: "probe".into(),
                what: "a probe kind (`grpc`, `http`, `tcp` or `exec`)",
            },
            r.name_span(),
        );
        None
    };
    let command: Vec<Spanned<String>> = r
        .args_from(1)
        .into_iter()
        .filter_map(|e| string(e, d))
        .collect();
    let port = r.string_prop("port", d);
    let path = r.string_prop("path", d);
    let used_for = r
        .choice_prop(
            "for",
            &[
                ("both", ProbeUse::Both),
                ("readiness", ProbeUse::Readiness),
                ("liveness", ProbeUse::Liveness),
                ("startup", ProbeUse::Startup),
            ],
            d,
        )
        .unwrap_or_else(|| Spanned::new(ProbeUse::Both, r.name_span()));
    let initial_delay = r.prop("initial-delay").and_then(|e| typed::duration(e, d));
    let period = r.prop("period").and_then(|e| typed::duration(e, d));
    let timeout = r.prop("timeout").and_then(|e| typed::duration(e, d));
    let failure_threshold = r
        .prop("failure-threshold")
        .and_then(|e| typed::count(e, "failure threshold", 1, 100, d));
    let mut headers = Vec::new();
    for child in r.children() {
        let Some(header) = r.child(child, d) else {
            continue;
        };
        let mut c = Reader::new(child, header);
        let name = c.required_string_arg(0, "a header name", d);
        let value = c.required_string_arg(1, "a header value", d);
        c.finish(d);
        if let (Some(name), Some(value)) = (name, value) {
            headers.push((name, value));
        }
    }
    let kind = kind?;
    if kind.value == ProbeKind::Exec && command.is_empty() {
        d.error(
            ErrorKind::MissingArgument {
                node: "probe exec".into(),
                what: "a command",
            },
            kind.span,
        );
    }
    if kind.value != ProbeKind::Exec
        && let Some(first) = command.first()
    {
        d.error(
            ErrorKind::UnexpectedArgument {
                node: "probe".into(),
            },
            first.span,
        );
    }
    r.finish(d);
    Some(Probe {
        span: node.span(),
        kind,
        port,
        path,
        command,
        headers,
        used_for,
        initial_delay,
        period,
        timeout,
        failure_threshold,
    })
}

pub fn autoscale(node: &Node, d: &mut Diagnostics) -> Option<Autoscale> {
    let mut r = Reader::new(node, &spec::AUTOSCALE);
    let min = r
        .prop("min")
        .and_then(|e| typed::count(e, "replicas", 1, 1000, d));
    let max = r
        .required_prop("max", d)
        .and_then(|e| typed::count(e, "replicas", 1, 1000, d));
    let cpu = r.prop("cpu").and_then(|e| typed::percent(e, d));
    let memory = r.prop("memory").and_then(|e| typed::percent(e, d));
    r.finish(d);
    let min = min.unwrap_or_else(|| Spanned::new(1, node.name().span()));
    let cpu = if cpu.is_none() && memory.is_none() {
        Some(Spanned::new(
            Percent {
                thousandths: 80_000,
            },
            node.name().span(),
        ))
    } else {
        cpu
    };
    Some(Autoscale {
        span: node.span(),
        min,
        max: max?,
        cpu,
        memory,
    })
}

pub fn retries(node: &Node, d: &mut Diagnostics) -> Option<Retries> {
    let mut r = Reader::new(node, &spec::RETRIES);
    let attempts = r
        .required_prop("attempts", d)
        .and_then(|e| typed::count(e, "retry attempts", 0, 100, d));
    let per_try_timeout = r
        .prop("per-try-timeout")
        .and_then(|e| typed::duration(e, d));
    let mut on = Vec::new();
    if let Some(list) = r.string_prop("on", d) {
        // Offsets into the quoted text: `"…"` opens with one character, `#"…"#` with two. With
        // escapes the lengths differ and a part cannot be placed; the whole value is shown.
        let extra = list.span.len().saturating_sub(list.value.len());
        let exact = extra >= 2 && extra % 2 == 0 && !list.value.contains('\\');
        let mut offset = list.span.start + extra / 2;
        for condition in list.value.split(',') {
            let trimmed = condition.trim();
            let lead = condition.len() - condition.trim_start().len();
            let span = Span::new(offset + lead, offset + lead + trimmed.len());
            let span = if exact && span.end <= list.span.end {
                span
            } else {
                list.span
            };
            offset += condition.len() + 1;
            if RETRY_ON.contains(&trimmed) || trimmed.parse::<u16>().is_ok() {
                on.push(Spanned::new(trimmed.to_owned(), span));
            } else {
                d.error(
                    ErrorKind::InvalidValue {
                        value: trimmed.to_owned(),
                        expected: RETRY_ON.to_vec(),
                        suggestion: suggest(trimmed, RETRY_ON.iter().copied()),
                    },
                    span,
                );
            }
        }
    }
    r.finish(d);
    Some(Retries {
        span: node.span(),
        attempts: attempts?,
        per_try_timeout,
        on,
    })
}

pub fn circuit_breaker(node: &Node, d: &mut Diagnostics) -> CircuitBreaker {
    let mut r = Reader::new(node, &spec::CIRCUIT_BREAKER);
    let here: Span = node.name().span();
    let consecutive_errors = r
        .prop("consecutive-errors")
        .and_then(|e| typed::count(e, "consecutive errors", 1, 1000, d))
        .unwrap_or_else(|| Spanned::new(5, here));
    let duration_or = |r: &mut Reader, name, text: &str, millis, d: &mut Diagnostics| {
        r.prop(name)
            .and_then(|e| typed::duration(e, d))
            .unwrap_or_else(|| {
                Spanned::new(
                    crate::model::value::Duration {
                        text: text.to_owned(),
                        millis,
                    },
                    here,
                )
            })
    };
    let interval = duration_or(&mut r, "interval", "10s", 10_000, d);
    let ejection = duration_or(&mut r, "ejection", "30s", 30_000, d);
    let max_ejection = r.prop("max-ejection").and_then(|e| typed::percent(e, d));
    let max_connections = r
        .prop("max-connections")
        .and_then(|e| typed::count(e, "connections", 1, 1_000_000, d));
    let max_pending = r
        .prop("max-pending")
        .and_then(|e| typed::count(e, "pending requests", 1, 1_000_000, d));
    let max_requests = r
        .prop("max-requests")
        .and_then(|e| typed::count(e, "requests", 1, 1_000_000, d));
    r.finish(d);
    CircuitBreaker {
        span: node.span(),
        consecutive_errors,
        interval,
        ejection,
        max_ejection,
        max_connections,
        max_pending,
        max_requests,
    }
}

pub fn canary(node: &Node, d: &mut Diagnostics) -> Option<Canary> {
    let mut r = Reader::new(node, &spec::CANARY);
    let version = r
        .required_string_arg(0, "the canary's version label", d)
        .and_then(|n| typed::check_name(n, d));
    let tag = r.string_prop("tag", d);
    if let Some(tag) = &tag
        && let Err(reason) = value::tag(&tag.value)
    {
        d.error(
            ErrorKind::InvalidImage {
                value: tag.value.clone(),
                reason,
            },
            tag.span,
        );
    }
    let digest = r.string_prop("digest", d);
    if let Some(digest) = &digest
        && let Err(reason) = value::digest(&digest.value)
    {
        d.error(
            ErrorKind::InvalidImage {
                value: digest.value.clone(),
                reason,
            },
            digest.span,
        );
    }
    let weight = r.prop("weight").and_then(|e| typed::whole_percent(e, d));
    let mut headers = Vec::new();
    let mut steps = Vec::new();
    let mut steps_span = None;
    let mut interval = None;
    let mut gate = None;
    let mut seen = Seen::default();
    for child in r.children() {
        let Some(child_spec) = r.child(child, d) else {
            continue;
        };
        match child.name().value() {
            "header" => headers.extend(matches(child, child_spec, true, d)),
            "steps" if seen.once(child, d) => {
                let mut c = Reader::new(child, child_spec);
                steps = c
                    .args_from(0)
                    .into_iter()
                    .filter_map(|e| typed::whole_percent(e, d))
                    .collect();
                steps_span = Some(child.span());
                interval = c.prop("interval").and_then(|e| typed::duration(e, d));
                c.finish(d);
            }
            "gate" if seen.once(child, d) => {
                let mut c = Reader::new(child, child_spec);
                let success_rate = c.prop("success-rate").and_then(|e| typed::percent(e, d));
                let latency = latency(&mut c, "gate", d);
                c.finish(d);
                gate = Some(Gate {
                    span: child.span(),
                    success_rate,
                    latency,
                });
            }
            "steps" | "gate" => {}
            _ => unknown_node(child, r.spec(), d),
        }
    }
    // Without its own `tag=` or `digest=` the canary is armed only: the service runs under its
    // Rollout at the stable image, and the next image is released through the steps and gate.
    r.finish(d);
    let weight = weight
        .or_else(|| steps.first().cloned())
        .unwrap_or_else(|| {
            Spanned::new(
                Percent {
                    thousandths: 10_000,
                },
                node.name().span(),
            )
        });
    Some(Canary {
        span: node.span(),
        version: version?,
        tag,
        digest,
        weight,
        headers,
        steps,
        steps_span,
        interval,
        gate,
    })
}

/// The `NAME=VALUE` pairs of a `header` (lowercase names: Istio matches no other) or a
/// `cookie` line.
fn matches(
    node: &Node,
    node_spec: &'static crate::lower::grammar::Node,
    header: bool,
    d: &mut Diagnostics,
) -> Vec<HeaderMatch> {
    let mut c = Reader::new(node, node_spec);
    let mut out = Vec::new();
    for entry in c.props_matching(|_| true) {
        let Some(name) = entry.name() else { continue };
        let Some(value) = string(entry, d) else {
            continue;
        };
        let name = Spanned::new(name.value().to_owned(), name.span());
        if header && name.value.chars().any(|ch| ch.is_ascii_uppercase()) {
            d.error(
                ErrorKind::InvalidName {
                    reason: "Istio matches lowercase header names only".into(),
                    value: name.value.clone(),
                    rule: NameRule::Header,
                },
                name.span,
            );
            continue;
        }
        if !header && !cookie_name(&name.value) {
            d.error(
                ErrorKind::InvalidName {
                    reason: "a cookie's name is a token: no spaces, quotes or separators".into(),
                    value: name.value.clone(),
                    rule: NameRule::Cookie,
                },
                name.span,
            );
            continue;
        }
        if !header && (value.value.is_empty() || !value.value.bytes().all(cookie_octet)) {
            d.error(
                ErrorKind::InvalidName {
                    reason:
                        "a cookie's value is printable ASCII without spaces, `\"`, `,`, `;` or `\\`"
                            .into(),
                    value: format!("{}={}", name.value, value.value),
                    rule: NameRule::Cookie,
                },
                value.span,
            );
            continue;
        }
        out.push(HeaderMatch {
            span: node.span(),
            name,
            value,
        });
    }
    c.finish(d);
    out
}

/// A cookie name: an RFC 9110 token.
fn cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A `cookie-octet` of RFC 6265.
fn cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

/// `version NAME image=… tag=… digest=… weight=… { header …; cookie … }`. `base` is the
/// service's image: a version without `image=` runs its repository at its own tag or digest.
pub fn version(node: &Node, base: Option<&Image>, d: &mut Diagnostics) -> Option<Version> {
    let mut r = Reader::new(node, &spec::VERSION);
    let name = r
        .required_string_arg(0, "the version's label", d)
        .and_then(|n| typed::check_name(n, d));
    let reference = r.string_prop("image", d);
    let tag = r.string_prop("tag", d);
    let digest = r.string_prop("digest", d);
    let weight = r.prop("weight").and_then(|e| typed::whole_percent(e, d));
    let mut headers = Vec::new();
    let mut cookies = Vec::new();
    for child in r.children() {
        let Some(child_spec) = r.child(child, d) else {
            continue;
        };
        match child.name().value() {
            "header" => headers.extend(matches(child, child_spec, true, d)),
            "cookie" => cookies.extend(matches(child, child_spec, false, d)),
            // Only an overlay takes it; `remove` is reported where it has no meaning.
            "remove" => {}
            _ => unknown_node(child, r.spec(), d),
        }
    }
    r.finish(d);
    let invalid = |value: &Spanned<String>, reason: String, d: &mut Diagnostics| {
        d.error(
            ErrorKind::InvalidImage {
                value: value.value.clone(),
                reason,
            },
            value.span,
        );
    };
    let mut bad = false;
    for (value, check) in [
        (&tag, value::tag as fn(&str) -> Result<(), String>),
        (&digest, value::digest),
    ] {
        if let Some(value) = value
            && let Err(reason) = check(&value.value)
        {
            invalid(value, reason, d);
            bad = true;
        }
    }
    let image = if let Some(reference) = &reference {
        match value::image(&reference.value) {
            Ok((repository, inline_tag, inline_digest)) => {
                for (inline, prop, what) in [
                    (&inline_tag, &tag, "tag"),
                    (&inline_digest, &digest, "digest"),
                ] {
                    if inline.is_some()
                        && let Some(prop) = prop
                    {
                        invalid(
                            prop,
                            format!("the {what} is given twice, in `image=` and in `{what}=`"),
                            d,
                        );
                        bad = true;
                    }
                }
                let tag = tag
                    .clone()
                    .or_else(|| inline_tag.map(|t| Spanned::new(t, reference.span)));
                let digest = digest
                    .clone()
                    .or_else(|| inline_digest.map(|t| Spanned::new(t, reference.span)));
                // A warning: the version stays in the platform.
                warn_latest(reference, tag.as_ref(), digest.is_some(), d);
                Some(Image {
                    span: node.span(),
                    repository: Spanned::new(repository, reference.span),
                    ecr: false,
                    tag,
                    digest,
                })
            }
            Err(reason) => {
                invalid(reference, reason, d);
                None
            }
        }
    } else if tag.is_none() && digest.is_none() {
        // The service's own image, run twice under two names: reported by the checks.
        base.cloned()
    } else {
        if let (Some(base), Some(tag)) = (base, &tag) {
            warn_latest(&base.repository, Some(tag), digest.is_some(), d);
        }
        base.map(|base| Image {
            span: node.span(),
            repository: base.repository.clone(),
            ecr: base.ecr,
            tag: tag.clone(),
            digest: digest.clone(),
        })
    };
    let own_image = reference.is_some() || tag.is_some() || digest.is_some();
    if bad {
        return None;
    }
    Some(Version {
        span: node.span(),
        name: name?,
        image: image?,
        own_image,
        weight,
        headers,
        cookies,
    })
}

/// The one `latency-pNN=DURATION` property of a node, if any.
fn latency(r: &mut Reader, node: &'static str, d: &mut Diagnostics) -> Option<Latency> {
    if let Some(entry) = r.mistaken("latency") {
        d.error(ErrorKind::MissingPercentile { node }, entry.span());
    }
    let mut found = None;
    for entry in r.props_matching(|n| PERCENTILES.contains(&n)) {
        let name = entry
            .name()
            .map(|n| n.value().to_owned())
            .unwrap_or_default();
        let percentile = name
            .trim_start_matches("latency-p")
            .parse::<u8>()
            .unwrap_or(99);
        if let Some(threshold) = typed::duration(entry, d) {
            found = Some(Latency {
                span: entry.span(),
                percentile,
                threshold: threshold.value,
            });
        }
    }
    found
}

pub fn slo(node: &Node, d: &mut Diagnostics) -> Slo {
    let mut r = Reader::new(node, &spec::SLO);
    let availability = r.prop("availability").and_then(|e| typed::percent(e, d));
    let latency = latency(&mut r, "slo", d);
    r.finish(d);
    Slo {
        span: node.span(),
        availability,
        latency,
    }
}

pub fn expose(node: &Node, d: &mut Diagnostics) -> Option<Expose> {
    let mut r = Reader::new(node, &spec::EXPOSE);
    let claims = r
        .string_prop("claims", d)
        .map(|c| claims(&c, d))
        .unwrap_or_default();
    let gateway = r.required_string_prop("gateway", d);
    let host = r.prop("host").and_then(|e| typed::host(e, d));
    let jwt = r.string_prop("jwt", d);
    let r#match = r
        .choice_prop(
            "match",
            &[
                ("exact", PathMatch::Exact),
                ("prefix", PathMatch::Prefix),
                ("regex", PathMatch::Regex),
            ],
            d,
        )
        .unwrap_or_else(|| Spanned::new(PathMatch::Prefix, node.name().span()));
    let path = r
        .string_prop("path", d)
        .unwrap_or_else(|| Spanned::new("/".into(), node.name().span()));
    if r#match.value == PathMatch::Regex {
        typed::check_regex(&path, d);
    } else {
        typed::check_http_path(&path, d);
    }
    let port = r.string_prop("port", d);
    let rewrite = r.string_prop("rewrite", d);
    if let Some(rewrite) = &rewrite {
        typed::check_http_path(rewrite, d);
        if r#match.value == PathMatch::Prefix {
            rewrite_slash(&path, rewrite, d);
        }
    }
    r.finish(d);
    Some(Expose {
        span: node.span(),
        gateway: gateway?,
        host,
        path,
        r#match,
        rewrite,
        port,
        jwt,
        claims,
    })
}

/// A prefix's rewrite ends in `/` when the prefix does, and only then. Envoy replaces the
/// matched text as it is (`prefix_rewrite`; Istio applies a `VirtualService`'s rewrite so): the
/// prefix `/docs` rewritten to `/` sends `/docs/guide` on as `//guide` (and `/docsearch` as
/// `/search`), the prefix `/api/` rewritten to `/v2` sends `/api/items` as `/v2items`. A
/// prefix ending in `/` routes its bare path too (`routes::bare_prefix`), so `path="/docs/"`
/// is what `path="/docs" rewrite="/"` means.
fn rewrite_slash(path: &Spanned<String>, rewrite: &Spanned<String>, d: &mut Diagnostics) {
    if !path.value.starts_with('/') || path.value.ends_with('/') == rewrite.value.ends_with('/') {
        return;
    }
    d.push(
        Diagnostic::new(
            ErrorKind::RewriteSlash {
                path: path.value.clone(),
                rewrite: rewrite.value.clone(),
            },
            rewrite.span,
        )
        .with_label(path.span, "the prefix"),
    );
}

/// `claims="groups=admin,tier=gold"`: `KEY=VALUE` pairs, comma-separated; every one must hold.
fn claims(text: &Spanned<String>, d: &mut Diagnostics) -> Vec<(Spanned<String>, Spanned<String>)> {
    let mut out = Vec::new();
    for pair in text.value.split(',') {
        let pair = pair.trim();
        match pair.split_once('=') {
            Some((key, value))
                if !key.trim().is_empty()
                    && !value.trim().is_empty()
                    && key.trim().chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/')
                    }) =>
            {
                out.push((
                    Spanned::new(key.trim().to_owned(), text.span),
                    Spanned::new(value.trim().to_owned(), text.span),
                ));
            }
            _ => d.error(
                ErrorKind::InvalidValue {
                    value: pair.to_owned(),
                    expected: vec!["`KEY=VALUE` pairs separated by commas, such as `groups=admin`"],
                    suggestion: None,
                },
                text.span,
            ),
        }
    }
    out
}
