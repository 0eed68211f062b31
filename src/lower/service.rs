//! `service NAME { … }` → `Service`, with `defaults` folded in.

use kdl::{KdlEntry, KdlNode};

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, suggest};
use crate::lower::defaults::{self, DefaultsRead};
use crate::lower::reader::{
    Reader, Seen, boolean, choice, string, string_or_number, unknown_node, value_span,
};
use crate::lower::typed;
use crate::lower::value;
use crate::model::NamespaceMode;
use crate::model::service::{
    Autoscale, Call, Canary, CircuitBreaker, EnvVar, Expose, Gate, HeaderMatch, Image, Latency,
    MtlsException, Port, PortMtls, Probe, ProbeKind, ProbeUse, Protocol, Resources, Retries,
    Service, Slo, StoreKind, Use, Volume, Waiver,
};
use crate::model::value::{Percent, Quantity};
use crate::span::{Span, Spanned};

const SERVICE_CHILDREN: &[&str] = &[
    "autoscale",
    "automount-token",
    "calls",
    "canary",
    "circuit-breaker",
    "env",
    "expose",
    "image",
    "language",
    "load-balancer",
    "mtls-exception",
    "port",
    "probe",
    "replicas",
    "resources",
    "retries",
    "security",
    "sidecar",
    "slo",
    "timeout",
    "uses",
    "volume",
    "waive",
];

/// Istio's `retryOn` conditions (HTTP and gRPC).
const RETRY_ON: &[&str] = &[
    "5xx",
    "cancelled",
    "connect-failure",
    "deadline-exceeded",
    "envoy-ratelimited",
    "gateway-error",
    "internal",
    "refused-stream",
    "reset",
    "reset-before-request",
    "resource-exhausted",
    "retriable-4xx",
    "retriable-headers",
    "retriable-status-codes",
    "unavailable",
];

const PERCENTILES: &[&str] = &[
    "latency-p50",
    "latency-p75",
    "latency-p90",
    "latency-p95",
    "latency-p99",
];

/// What the service's children set, before defaults are folded in.
#[derive(Default)]
struct Parts {
    image: Option<Image>,
    language: Option<Spanned<String>>,
    ports: Vec<Port>,
    env: Vec<EnvVar>,
    calls: Vec<Call>,
    probes: Vec<Probe>,
    resources: defaults::PartialResources,
    replicas: Option<Spanned<u32>>,
    autoscale: Option<Autoscale>,
    retries: Option<Retries>,
    timeout: Option<Spanned<crate::model::value::Duration>>,
    circuit_breaker: Option<CircuitBreaker>,
    canary: Option<Canary>,
    slo: Option<Slo>,
    expose: Option<Expose>,
    load_balancer: Option<Spanned<String>>,
    sidecar_off: Option<Spanned<String>>,
    mtls_exceptions: Vec<MtlsException>,
    automount_token: Option<Spanned<String>>,
    security: Option<crate::model::security::Security>,
    uses: Vec<Use>,
    volumes: Vec<Volume>,
    waivers: Vec<Waiver>,
}

pub fn lower(node: &KdlNode, defaults: &DefaultsRead, d: &mut Diagnostics) -> Option<Service> {
    let mut r = Reader::new(node);
    let name = r
        .required_string_arg(0, "a service name", d)
        .and_then(|n| typed::check_name(n, d));
    let mut parts = Parts::default();
    let mut seen = Seen::default();
    let mut image_seen = false;
    for child in r.children() {
        let kind = child.name().value();
        match kind {
            "port" => {
                if let Some(port) = port(child, d) {
                    add_port(&mut parts.ports, port, d);
                }
            }
            "env" => {
                if let Some(var) = env_var(child, d) {
                    add_env(&mut parts.env, var, d);
                }
            }
            "calls" => parts.calls.extend(call(child, d)),
            "probe" => parts.probes.extend(probe(child, d)),
            "mtls-exception" => parts.mtls_exceptions.extend(mtls_exception(child, d)),
            "uses" => parts.uses.extend(uses(child, d)),
            "volume" => parts.volumes.extend(volume(child, d)),
            "waive" => parts.waivers.extend(waiver(child, d)),
            _ if !SERVICE_CHILDREN.contains(&kind) => {
                unknown_node(child, "service", SERVICE_CHILDREN, d)
            }
            _ if !seen.once(child, d) => {}
            "image" => {
                image_seen = true;
                parts.image = image(child, d);
            }
            "language" => {
                let mut c = Reader::new(child);
                parts.language = c.required_string_arg(0, "a language", d);
                c.finish(d);
            }
            "resources" => parts.resources = defaults::resources(child, d),
            "replicas" => parts.replicas = defaults::replicas(child, d),
            "autoscale" => parts.autoscale = autoscale(child, d),
            "retries" => parts.retries = retries(child, d),
            "timeout" => {
                let mut c = Reader::new(child);
                parts.timeout = match c.arg(0) {
                    Some(e) => typed::duration(e, d),
                    None => {
                        d.error(
                            ErrorKind::MissingArgument {
                                node: "timeout".into(),
                                what: "a duration",
                            },
                            c.name_span(),
                        );
                        None
                    }
                };
                c.finish(d);
            }
            "circuit-breaker" => parts.circuit_breaker = circuit_breaker(child, d),
            "canary" => parts.canary = canary(child, d),
            "slo" => parts.slo = slo(child, d),
            "expose" => parts.expose = expose(child, d),
            "load-balancer" => {
                parts.load_balancer = reasoned_switch(child, None, "a LoadBalancer Service", d)
            }
            "sidecar" => {
                parts.sidecar_off =
                    reasoned_switch(child, Some(false), "a service outside the mesh", d)
            }
            "automount-token" => {
                parts.automount_token =
                    reasoned_switch(child, Some(true), "a mounted ServiceAccount token", d);
            }
            _ => parts.security = Some(defaults::security(child, &defaults.security, d)),
        }
    }
    if !image_seen {
        d.error(
            ErrorKind::MissingNode {
                parent: "service".into(),
                node: "image",
            },
            r.name_span(),
        );
    }
    r.finish(d);
    let name = name?;
    let here = name.span;
    let namespace = match &defaults.namespace {
        NamespaceMode::PerService => name.value.clone(),
        NamespaceMode::Shared(shared) => shared.value.clone(),
    };
    let resources = resolve_resources(&parts.resources.or(&defaults.resources), here);
    Some(Service {
        span: node.span().into(),
        namespace,
        image: parts.image?,
        language: parts.language,
        ports: parts.ports,
        env: parts.env,
        calls: parts.calls,
        probes: parts.probes,
        resources,
        replicas: parts.replicas.unwrap_or_else(|| defaults.replicas.clone()),
        autoscale: parts.autoscale,
        retries: parts.retries,
        timeout: parts.timeout,
        circuit_breaker: parts.circuit_breaker,
        canary: parts.canary,
        slo: parts.slo,
        expose: parts.expose,
        load_balancer: parts.load_balancer,
        sidecar_off: parts.sidecar_off,
        mtls_exceptions: parts.mtls_exceptions,
        automount_token: parts.automount_token,
        security: parts.security.unwrap_or_else(|| defaults.security.clone()),
        uses: parts.uses,
        volumes: parts.volumes,
        waivers: parts.waivers,
        name,
    })
}

/// Requests 100m/64Mi and limits 200m/128Mi where neither the service nor `defaults` says.
fn resolve_resources(partial: &defaults::PartialResources, here: Span) -> Resources {
    let fallback = |text: &str, amount: u128| {
        Spanned::new(
            Quantity {
                text: text.to_owned(),
                amount,
            },
            here,
        )
    };
    Resources {
        cpu: partial.cpu.clone().unwrap_or_else(|| fallback("100m", 100)),
        memory: partial
            .memory
            .clone()
            .unwrap_or_else(|| fallback("64Mi", 64 << 20)),
        cpu_limit: partial
            .cpu_limit
            .clone()
            .unwrap_or_else(|| fallback("200m", 200)),
        memory_limit: partial
            .memory_limit
            .clone()
            .unwrap_or_else(|| fallback("128Mi", 128 << 20)),
    }
}

fn image(node: &KdlNode, d: &mut Diagnostics) -> Option<Image> {
    let mut r = Reader::new(node);
    let reference = r.required_string_arg(0, "an image reference", d);
    let tag = r.string_prop("tag", d);
    let digest = r.string_prop("digest", d);
    r.finish(d);
    let reference = reference?;
    let invalid = |reason: String, span: Span, d: &mut Diagnostics| {
        d.error(
            ErrorKind::InvalidImage {
                value: reference.value.clone(),
                reason,
            },
            span,
        );
    };
    let (repository, inline_tag, inline_digest) = match value::image(&reference.value) {
        Ok(parts) => parts,
        Err(reason) => {
            invalid(reason, reference.span, d);
            return None;
        }
    };
    if let Some(tag) = &tag {
        if let Err(reason) = value::tag(&tag.value) {
            invalid(reason, tag.span, d);
            return None;
        }
        if inline_tag.is_some() {
            invalid(
                "the tag is given twice, in the reference and in `tag=`".into(),
                tag.span,
                d,
            );
            return None;
        }
    }
    if let Some(digest) = &digest {
        if let Err(reason) = value::digest(&digest.value) {
            invalid(reason, digest.span, d);
            return None;
        }
        if inline_digest.is_some() {
            invalid(
                "the digest is given twice, in the reference and in `digest=`".into(),
                digest.span,
                d,
            );
            return None;
        }
    }
    let tag = tag.or_else(|| inline_tag.map(|t| Spanned::new(t, reference.span)));
    let digest = digest.or_else(|| inline_digest.map(|t| Spanned::new(t, reference.span)));
    if digest.is_none() && tag.as_ref().is_none_or(|t| t.value == "latest") {
        let span = tag.as_ref().map_or(reference.span, |t| t.span);
        d.error(
            ErrorKind::ImageLatest {
                image: reference.value.clone(),
            },
            span,
        );
    }
    Some(Image {
        span: node.span().into(),
        repository: Spanned::new(repository, reference.span),
        tag,
        digest,
    })
}

fn port(node: &KdlNode, d: &mut Diagnostics) -> Option<Port> {
    let mut r = Reader::new(node);
    let name = r
        .required_string_arg(0, "a port name", d)
        .and_then(|n| port_name(n, d));
    let number = match r.arg(1) {
        Some(e) => typed::port(e, d),
        None => {
            d.error(
                ErrorKind::MissingArgument {
                    node: "port".into(),
                    what: "a port number",
                },
                r.name_span(),
            );
            None
        }
    };
    let target = r.prop("target").and_then(|e| typed::port(e, d));
    let protocol = r.prop("protocol").and_then(|e| {
        choice(
            e,
            &[
                ("grpc", Protocol::Grpc),
                ("http", Protocol::Http),
                ("http2", Protocol::Http2),
                ("tcp", Protocol::Tcp),
            ],
            d,
        )
    });
    let protocol_given = r.prop("protocol").is_some();
    r.finish(d);
    let name = name?;
    let protocol = match protocol {
        Some(p) => p,
        None if protocol_given => return None,
        None => Spanned::new(infer_protocol(&name.value), name.span),
    };
    Some(Port {
        span: node.span().into(),
        name,
        number: number?,
        target,
        protocol,
    })
}

/// The protocol a port name implies, as Istio reads port-name prefixes.
fn infer_protocol(name: &str) -> Protocol {
    if name.starts_with("grpc") {
        Protocol::Grpc
    } else if name.starts_with("http2") {
        Protocol::Http2
    } else if name.starts_with("http") {
        Protocol::Http
    } else {
        Protocol::Tcp
    }
}

/// Kubernetes port names are IANA service names: a DNS label of at most 15 characters with a
/// letter in it.
fn port_name(name: Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let name = typed::check_name(name, d)?;
    let reason = if name.value.len() > 15 {
        Some(format!(
            "a port name is at most 15 characters, this one is {}",
            name.value.len()
        ))
    } else if !name.value.chars().any(|c| c.is_ascii_lowercase()) {
        Some("a port name needs at least one letter".to_owned())
    } else if name.value.contains("--") {
        Some("a port name cannot contain `--`".to_owned())
    } else {
        None
    };
    if let Some(reason) = reason {
        d.error(
            ErrorKind::InvalidName {
                value: name.value,
                reason,
            },
            name.span,
        );
        return None;
    }
    Some(name)
}

fn add_port(ports: &mut Vec<Port>, port: Port, d: &mut Diagnostics) {
    let clash = ports.iter().find_map(|p| {
        if p.name.value == port.name.value {
            Some((port.name.value.clone(), port.name.span, p.name.span))
        } else if p.number.value == port.number.value {
            Some((
                port.number.value.to_string(),
                port.number.span,
                p.number.span,
            ))
        } else {
            None
        }
    });
    match clash {
        Some((what, span, first)) => {
            d.push(
                Diagnostic::new(ErrorKind::DuplicatePort { port: what }, span)
                    .with_label(first, "first defined here"),
            );
        }
        None => ports.push(port),
    }
}

fn env_var(node: &KdlNode, d: &mut Diagnostics) -> Option<EnvVar> {
    let mut r = Reader::new(node);
    let name = r.required_string_arg(0, "a variable name", d);
    let value = match r.arg(1) {
        Some(e) => string_or_bool(e, d),
        None => {
            d.error(
                ErrorKind::MissingArgument {
                    node: "env".into(),
                    what: "a value",
                },
                r.name_span(),
            );
            None
        }
    };
    r.finish(d);
    let name = name.and_then(|n| env_name(n, d))?;
    Some(EnvVar {
        span: node.span().into(),
        name,
        value: value?,
    })
}

/// Env values are strings; numbers and booleans are written as their text (`"1"`, `"true"`).
fn string_or_bool(entry: &KdlEntry, d: &mut Diagnostics) -> Option<Spanned<String>> {
    match entry.value() {
        kdl::KdlValue::Bool(b) => Some(Spanned::new(b.to_string(), value_span(entry))),
        _ => string_or_number(entry, d),
    }
}

/// A C identifier, as env var names should be.
fn env_name(name: Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let ok = name
        .value
        .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Some(name)
    } else {
        d.error(
            ErrorKind::InvalidName {
                reason: "an env var name is letters, digits and `_`, not starting with a digit"
                    .into(),
                value: name.value,
            },
            name.span,
        );
        None
    }
}

fn add_env(env: &mut Vec<EnvVar>, var: EnvVar, d: &mut Diagnostics) {
    if let Some(first) = env.iter().find(|v| v.name.value == var.name.value) {
        d.push(
            Diagnostic::new(
                ErrorKind::DuplicateEnv {
                    name: var.name.value.clone(),
                },
                var.name.span,
            )
            .with_label(first.name.span, "first set here"),
        );
        return;
    }
    env.push(var);
}

fn call(node: &KdlNode, d: &mut Diagnostics) -> Option<Call> {
    let mut r = Reader::new(node);
    let service = r.required_string_arg(0, "the service it calls", d);
    let env = r.string_prop("env", d).and_then(|n| env_name(n, d));
    let port = r.string_prop("port", d);
    r.finish(d);
    Some(Call {
        span: node.span().into(),
        service: service?,
        env,
        port,
    })
}

fn probe(node: &KdlNode, d: &mut Diagnostics) -> Option<Probe> {
    let mut r = Reader::new(node);
    let kind = match r.arg(0) {
        Some(e) => choice(
            e,
            &[
                ("grpc", ProbeKind::Grpc),
                ("http", ProbeKind::Http),
                ("tcp", ProbeKind::Tcp),
                ("exec", ProbeKind::Exec),
            ],
            d,
        ),
        None => {
            d.error(
                ErrorKind::MissingArgument {
                    node: "probe".into(),
                    what: "a probe kind (`grpc`, `http`, `tcp` or `exec`)",
                },
                r.name_span(),
            );
            None
        }
    };
    let command: Vec<Spanned<String>> = r
        .args_from(1)
        .into_iter()
        .filter_map(|e| string(e, d))
        .collect();
    let port = r.string_prop("port", d);
    let path = r.string_prop("path", d);
    let used_for = r
        .prop("for")
        .and_then(|e| {
            choice(
                e,
                &[
                    ("both", ProbeUse::Both),
                    ("readiness", ProbeUse::Readiness),
                    ("liveness", ProbeUse::Liveness),
                    ("startup", ProbeUse::Startup),
                ],
                d,
            )
        })
        .unwrap_or_else(|| Spanned::new(ProbeUse::Both, r.name_span()));
    let initial_delay = r.prop("initial-delay").and_then(|e| typed::duration(e, d));
    let period = r.prop("period").and_then(|e| typed::duration(e, d));
    let timeout = r.prop("timeout").and_then(|e| typed::duration(e, d));
    let failure_threshold = r
        .prop("failure-threshold")
        .and_then(|e| typed::count(e, "failure threshold", 1, 100, d));
    let mut headers = Vec::new();
    for child in r.children() {
        if child.name().value() != "header" {
            unknown_node(child, "probe", &["header"], d);
            continue;
        }
        let mut c = Reader::new(child);
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
    if kind.value != ProbeKind::Exec {
        if let Some(first) = command.first() {
            d.error(
                ErrorKind::UnexpectedArgument {
                    node: "probe".into(),
                },
                first.span,
            );
        }
    }
    r.finish(d);
    Some(Probe {
        span: node.span().into(),
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

fn autoscale(node: &KdlNode, d: &mut Diagnostics) -> Option<Autoscale> {
    let mut r = Reader::new(node);
    let min = r
        .prop("min")
        .and_then(|e| typed::count(e, "replicas", 1, 1000, d));
    let max = match r.prop("max") {
        Some(e) => typed::count(e, "replicas", 1, 1000, d),
        None => {
            r.missing("max", d);
            None
        }
    };
    let cpu = r.prop("cpu").and_then(|e| typed::percent(e, d));
    let memory = r.prop("memory").and_then(|e| typed::percent(e, d));
    r.finish(d);
    let min = min.unwrap_or_else(|| Spanned::new(1, node.name().span().into()));
    let cpu = if cpu.is_none() && memory.is_none() {
        Some(Spanned::new(
            Percent {
                thousandths: 80_000,
            },
            node.name().span().into(),
        ))
    } else {
        cpu
    };
    Some(Autoscale {
        span: node.span().into(),
        min,
        max: max?,
        cpu,
        memory,
    })
}

fn retries(node: &KdlNode, d: &mut Diagnostics) -> Option<Retries> {
    let mut r = Reader::new(node);
    let attempts = match r.prop("attempts") {
        Some(e) => typed::count(e, "retry attempts", 0, 100, d),
        None => {
            r.missing("attempts", d);
            None
        }
    };
    let per_try_timeout = r
        .prop("per-try-timeout")
        .and_then(|e| typed::duration(e, d));
    let mut on = Vec::new();
    if let Some(list) = r.string_prop("on", d) {
        let mut offset = list.span.start + 1;
        for condition in list.value.split(',') {
            let trimmed = condition.trim();
            let lead = condition.len() - condition.trim_start().len();
            let span = Span::new(offset + lead, offset + lead + trimmed.len())
                .join(Span::new(offset + lead, offset + lead));
            // Keep the span inside the quoted string even if escapes changed lengths.
            let span = if span.end <= list.span.end {
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
        span: node.span().into(),
        attempts: attempts?,
        per_try_timeout,
        on,
    })
}

fn circuit_breaker(node: &KdlNode, d: &mut Diagnostics) -> Option<CircuitBreaker> {
    let mut r = Reader::new(node);
    let here: Span = node.name().span().into();
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
    Some(CircuitBreaker {
        span: node.span().into(),
        consecutive_errors,
        interval,
        ejection,
        max_ejection,
        max_connections,
        max_pending,
        max_requests,
    })
}

fn canary(node: &KdlNode, d: &mut Diagnostics) -> Option<Canary> {
    let mut r = Reader::new(node);
    let version = r
        .required_string_arg(0, "the canary's version label", d)
        .and_then(|n| typed::check_name(n, d));
    let tag = r.string_prop("tag", d);
    if let Some(tag) = &tag {
        if let Err(reason) = value::tag(&tag.value) {
            d.error(
                ErrorKind::InvalidImage {
                    value: tag.value.clone(),
                    reason,
                },
                tag.span,
            );
        }
    }
    let digest = r.string_prop("digest", d);
    if let Some(digest) = &digest {
        if let Err(reason) = value::digest(&digest.value) {
            d.error(
                ErrorKind::InvalidImage {
                    value: digest.value.clone(),
                    reason,
                },
                digest.span,
            );
        }
    }
    let weight = r.prop("weight").and_then(|e| typed::percent(e, d));
    let mut headers = Vec::new();
    let mut steps = Vec::new();
    let mut steps_span = None;
    let mut interval = None;
    let mut gate = None;
    let mut seen = Seen::default();
    for child in r.children() {
        match child.name().value() {
            "header" => {
                let mut c = Reader::new(child);
                for entry in c.props_matching(|_| true) {
                    let Some(name) = entry.name() else { continue };
                    let Some(value) = string(entry, d) else {
                        continue;
                    };
                    let name = Spanned::new(name.value().to_owned(), name.span().into());
                    if name.value.chars().any(|ch| ch.is_ascii_uppercase()) {
                        d.error(
                            ErrorKind::InvalidName {
                                reason: "Istio matches lowercase header names only".into(),
                                value: name.value.clone(),
                            },
                            name.span,
                        );
                        continue;
                    }
                    headers.push(HeaderMatch {
                        span: child.span().into(),
                        name,
                        value,
                    });
                }
                c.finish(d);
            }
            "steps" if seen.once(child, d) => {
                let mut c = Reader::new(child);
                steps = c
                    .args_from(0)
                    .into_iter()
                    .filter_map(|e| typed::percent(e, d))
                    .collect();
                steps_span = Some(child.span().into());
                interval = c.prop("interval").and_then(|e| typed::duration(e, d));
                c.finish(d);
            }
            "gate" if seen.once(child, d) => {
                let mut c = Reader::new(child);
                let success_rate = c.prop("success-rate").and_then(|e| typed::percent(e, d));
                let latency = latency(&mut c, d);
                c.finish(d);
                gate = Some(Gate {
                    span: child.span().into(),
                    success_rate,
                    latency,
                });
            }
            "steps" | "gate" => {}
            _ => unknown_node(child, "canary", &["gate", "header", "steps"], d),
        }
    }
    r.finish(d);
    let weight = weight
        .or_else(|| steps.first().cloned())
        .unwrap_or_else(|| {
            Spanned::new(
                Percent {
                    thousandths: 10_000,
                },
                node.name().span().into(),
            )
        });
    Some(Canary {
        span: node.span().into(),
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

/// The one `latency-pNN=DURATION` property of a node, if any.
fn latency(r: &mut Reader, d: &mut Diagnostics) -> Option<Latency> {
    for known in PERCENTILES {
        r.know(known);
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
                span: entry.span().into(),
                percentile,
                threshold: threshold.value,
            });
        }
    }
    found
}

fn slo(node: &KdlNode, d: &mut Diagnostics) -> Option<Slo> {
    let mut r = Reader::new(node);
    let availability = r.prop("availability").and_then(|e| typed::percent(e, d));
    let latency = latency(&mut r, d);
    r.finish(d);
    Some(Slo {
        span: node.span().into(),
        availability,
        latency,
    })
}

fn expose(node: &KdlNode, d: &mut Diagnostics) -> Option<Expose> {
    let mut r = Reader::new(node);
    let gateway = r.required_string_prop("gateway", d);
    let host = r.prop("host").and_then(|e| typed::host(e, d));
    let path = r
        .string_prop("path", d)
        .unwrap_or_else(|| Spanned::new("/".into(), node.name().span().into()));
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
    let port = r.string_prop("port", d);
    r.finish(d);
    Some(Expose {
        span: node.span().into(),
        gateway: gateway?,
        host,
        path,
        port,
    })
}

/// `NODE [BOOL] reason=…`: a switch away from a secure default. `weak` is the argument value
/// that weakens (`None`: the node itself does); the reason is required only then.
fn reasoned_switch(
    node: &KdlNode,
    weak: Option<bool>,
    what: &str,
    d: &mut Diagnostics,
) -> Option<Spanned<String>> {
    let mut r = Reader::new(node);
    let on = match weak {
        None => true,
        Some(weak) => r
            .arg(0)
            .and_then(|e| boolean(e, d))
            .is_none_or(|b| b.value == weak),
    };
    let reason = r.string_prop("reason", d);
    r.finish(d);
    if !on {
        return None;
    }
    if reason.is_none() {
        d.error(
            ErrorKind::MissingReason {
                what: what.to_owned(),
            },
            node.name().span().into(),
        );
    }
    reason
}

fn mtls_exception(node: &KdlNode, d: &mut Diagnostics) -> Option<MtlsException> {
    let mut r = Reader::new(node);
    let port = r.required_string_prop("port", d);
    let mode = r
        .prop("mode")
        .and_then(|e| {
            choice(
                e,
                &[
                    ("permissive", PortMtls::Permissive),
                    ("disable", PortMtls::Disable),
                ],
                d,
            )
        })
        .unwrap_or_else(|| Spanned::new(PortMtls::Permissive, node.name().span().into()));
    let reason = r.string_prop("reason", d);
    r.finish(d);
    if reason.is_none() {
        d.error(
            ErrorKind::MissingReason {
                what: "an mTLS exception".into(),
            },
            node.name().span().into(),
        );
    }
    Some(MtlsException {
        span: node.span().into(),
        port: port?,
        mode,
        reason: reason?,
    })
}

fn uses(node: &KdlNode, d: &mut Diagnostics) -> Option<Use> {
    let mut r = Reader::new(node);
    let kind = match r.arg(0) {
        Some(e) => choice(
            e,
            &[
                ("database", StoreKind::Database),
                ("bucket", StoreKind::Bucket),
                ("table", StoreKind::Table),
                ("filesystem", StoreKind::Filesystem),
            ],
            d,
        ),
        None => {
            d.error(
                ErrorKind::MissingArgument {
                    node: "uses".into(),
                    what: "a store kind and name",
                },
                r.name_span(),
            );
            None
        }
    };
    let name = r.arg(1).and_then(|e| string(e, d));
    if kind.is_some() && name.is_none() && r.arg(1).is_none() {
        d.error(
            ErrorKind::MissingArgument {
                node: "uses".into(),
                what: "the store's name",
            },
            r.name_span(),
        );
    }
    r.finish(d);
    Some(Use {
        span: node.span().into(),
        kind: kind?,
        name: name?,
    })
}

fn volume(node: &KdlNode, d: &mut Diagnostics) -> Option<Volume> {
    let mut r = Reader::new(node);
    let name = r
        .required_string_arg(0, "a volume name", d)
        .and_then(|n| typed::check_name(n, d));
    let path = r.required_string_prop("path", d);
    if let Some(path) = &path {
        if !path.value.starts_with('/') {
            d.error(
                ErrorKind::InvalidValue {
                    value: path.value.clone(),
                    expected: vec!["an absolute path"],
                    suggestion: None,
                },
                path.span,
            );
        }
    }
    let size_limit = r
        .prop("size-limit")
        .and_then(|e| typed::bytes(e, "storage", d));
    r.finish(d);
    Some(Volume {
        span: node.span().into(),
        name: name?,
        path: path?,
        size_limit,
    })
}

fn waiver(node: &KdlNode, d: &mut Diagnostics) -> Option<Waiver> {
    let mut r = Reader::new(node);
    let check = r.required_string_arg(0, "the id of the check it waives", d);
    let reason = r.string_prop("reason", d);
    r.finish(d);
    if reason.is_none() {
        d.error(
            ErrorKind::MissingReason {
                what: "a waived check".into(),
            },
            node.name().span().into(),
        );
    }
    Some(Waiver {
        span: node.span().into(),
        check: check?,
        reason: reason?,
    })
}
