//! `service NAME { … }` → `Service`, with `defaults` folded in: identity, image, ports,
//! env, calls and the settings that weaken a secure default. Run-time behaviour is in `traffic`.

use crate::syntax::{Entry, Node, Value};

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, NameRule};
use crate::lower::calls;
use crate::lower::container;
use crate::lower::defaults::{self, DefaultsRead};
use crate::lower::grammar::{self, service as spec};
use crate::lower::reader::{
    Reader, Seen, boolean, choice, scalar_text, string, unknown_node, value_span,
};
use crate::lower::traffic;
use crate::lower::typed;
use crate::lower::value;
use crate::model::NamespaceMode;
use crate::model::service::{
    Autoscale, Build, Call, Canary, CircuitBreaker, Config, Container, DbAuth, EnvVar, Expose,
    ExternalCall, Image, MtlsException, Port, PortMtls, Probe, Protocol, Resources, Retries,
    Service, Slo, Stateful, StatefulPeers, StatefulVolume, StoreKind, StoreVar, Use, Version,
    Volume, Waiver,
};
use crate::model::value::Quantity;
use crate::span::{Span, Spanned};

/// What the service's children set, before defaults are folded in.
#[derive(Default)]
struct Parts {
    image: Option<Image>,
    command: Vec<Spanned<String>>,
    args: Vec<Spanned<String>>,
    configs: Vec<Config>,
    containers: Vec<Container>,
    inits: Vec<Container>,
    migrate: Option<Container>,
    language: Option<Spanned<String>>,
    ports: Vec<Port>,
    env: Vec<EnvVar>,
    calls: Vec<Call>,
    externals: Vec<ExternalCall>,
    probes: Vec<Probe>,
    resources: defaults::PartialResources,
    replicas: Option<Spanned<u32>>,
    autoscale: Option<Autoscale>,
    retries: Option<Retries>,
    timeout: Option<Spanned<crate::model::value::Duration>>,
    circuit_breaker: Option<CircuitBreaker>,
    canary: Option<Canary>,
    versions: Vec<Version>,
    slo: Option<Slo>,
    expose: Vec<Expose>,
    load_balancer: Option<Spanned<String>>,
    sidecar_off: Option<Spanned<String>>,
    mtls_exceptions: Vec<MtlsException>,
    automount_token: Option<Spanned<String>>,
    security: Option<crate::model::security::Security>,
    uses: Vec<Use>,
    volumes: Vec<Volume>,
    stateful: Option<Stateful>,
    waivers: Vec<Waiver>,
    build: Option<Build>,
}

pub fn lower(node: &Node, defaults: &DefaultsRead, d: &mut Diagnostics) -> Option<Service> {
    let mut r = Reader::new(node, &spec::SERVICE);
    let name = r
        .required_string_arg(0, "a service name", d)
        .and_then(|n| typed::check_name(n, d));
    let mut parts = Parts::default();
    let mut seen = Seen::default();
    let mut image_seen = false;
    let mut containers: Vec<&Node> = Vec::new();
    let mut versions: Vec<&Node> = Vec::new();
    for child in r.children() {
        if r.child(child, d).is_none() {
            continue;
        }
        match child.name().value() {
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
            "calls" => parts.calls.extend(calls::call(child, d)),
            "calls-external" => parts.externals.extend(calls::external(child, d)),
            "expose" => parts.expose.extend(traffic::expose(child, d)),
            "probe" => parts.probes.extend(traffic::probe(child, d)),
            "mtls-exception" => parts.mtls_exceptions.extend(mtls_exception(child, d)),
            "uses" => parts.uses.extend(uses(child, d)),
            "volume" => parts.volumes.extend(volume(child, d)),
            "waive" => parts.waivers.extend(waiver(child, d)),
            "config" => parts.configs.extend(container::config(child, d)),
            "container" | "init" | "migrate" => {
                containers.push(child);
            }
            // After `image`, which a version without `image=` runs at its own tag.
            "version" => versions.push(child),
            _ if !seen.once(child, d) => {}
            "command" => parts.command = container::strings(child, &spec::COMMAND, d),
            "args" => parts.args = container::strings(child, &spec::ARGS, d),
            "image" => {
                image_seen = true;
                parts.image = image(child, d);
            }
            "language" => {
                let mut c = Reader::new(child, &spec::LANGUAGE);
                parts.language = c.required_string_arg(0, "a language", d);
                c.finish(d);
            }
            "resources" => parts.resources = defaults::resources(child, d),
            "replicas" => parts.replicas = defaults::replicas(child, d),
            "autoscale" => parts.autoscale = traffic::autoscale(child, d),
            "retries" => parts.retries = traffic::retries(child, d),
            "timeout" => {
                let mut c = Reader::new(child, &spec::TIMEOUT);
                parts.timeout = if let Some(e) = c.arg(0) {
                    typed::duration(e, d)
                } else {
                    d.error(
                        ErrorKind::MissingArgument {
                            node: "timeout".into(),
                            what: "a duration",
                        },
                        c.name_span(),
                    );
                    None
                };
                c.finish(d);
            }
            "circuit-breaker" => parts.circuit_breaker = Some(traffic::circuit_breaker(child, d)),
            "canary" => parts.canary = traffic::canary(child, d),
            "build" => parts.build = build(child, d),
            "slo" => parts.slo = Some(traffic::slo(child, d)),
            "stateful" => parts.stateful = Some(stateful(child, d)),
            "load-balancer" => {
                parts.load_balancer = reasoned_switch(
                    child,
                    &spec::LOAD_BALANCER,
                    None,
                    "a LoadBalancer Service",
                    d,
                );
            }
            "sidecar" => {
                parts.sidecar_off = reasoned_switch(
                    child,
                    &spec::SIDECAR,
                    Some(false),
                    "a service outside the mesh",
                    d,
                );
            }
            "automount-token" => {
                parts.automount_token = reasoned_switch(
                    child,
                    &spec::AUTOMOUNT_TOKEN,
                    Some(true),
                    "a mounted ServiceAccount token",
                    d,
                );
            }
            "security" => parts.security = Some(defaults::security(child, &defaults.security, d)),
            _ => unknown_node(child, r.spec(), d),
        }
    }
    // After the service's own ports (and `resources`), so that a clash of an extra
    // container's port points at the container's line, and its resources fall back on the
    // defaults' as the application's do.
    let fallback = defaults.resources.clone();
    let mut migrate_seen = Seen::default();
    for child in containers {
        let kind = child.name().value();
        if kind == "migrate" && !migrate_seen.once(child, d) {
            continue;
        }
        let Some(c) = container::container(child, &fallback, &mut parts.ports, d) else {
            continue;
        };
        match kind {
            "init" => parts.inits.push(c),
            "migrate" => parts.migrate = Some(c),
            _ => parts.containers.push(c),
        }
    }
    // A canary's tag names an image of the service's repository.
    if let (Some(canary), Some(image)) = (&parts.canary, &parts.image)
        && let Some(tag) = &canary.tag
    {
        warn_latest(&image.repository, Some(tag), canary.digest.is_some(), d);
    }
    for child in versions {
        let Some(version) = traffic::version(child, parts.image.as_ref(), d) else {
            continue;
        };
        if let Some(first) = parts
            .versions
            .iter()
            .find(|v| v.name.value == version.name.value)
        {
            d.duplicate_name(
                "version",
                &version.name,
                first.name.span,
                "first defined here",
            );
            continue;
        }
        parts.versions.push(version);
    }
    container::check_mounts(&parts.volumes, &parts.uses, &parts.configs, d);
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
    // A pod's volumes share one list: an emptyDir and a claim of the same name collide.
    if let Some(stateful) = &parts.stateful {
        for claim in &stateful.volumes {
            if let Some(first) = parts
                .volumes
                .iter()
                .find(|v| v.name.value == claim.name.value)
            {
                d.duplicate_name("volume", &claim.name, first.name.span, "first defined here");
            }
        }
    }
    let name = name?;
    let here = name.span;
    let namespace = match &defaults.namespace {
        NamespaceMode::PerService => name.value.clone(),
        NamespaceMode::Shared(shared) => shared.value.clone(),
    };
    let resources = resolve_resources(&parts.resources.or(&defaults.resources), here);
    Some(Service {
        span: node.span(),
        namespace,
        image: parts.image?,
        command: parts.command,
        args: parts.args,
        configs: parts.configs,
        containers: parts.containers,
        inits: parts.inits,
        migrate: parts.migrate.map(Box::new),
        language: parts.language,
        ports: fitted(parts.ports),
        env: fitted(parts.env),
        calls: fitted(parts.calls),
        externals: parts.externals,
        probes: fitted(parts.probes),
        resources,
        replicas: parts.replicas.unwrap_or_else(|| defaults.replicas.clone()),
        autoscale: parts.autoscale.map(Box::new),
        retries: parts.retries.map(Box::new),
        timeout: parts.timeout,
        circuit_breaker: parts.circuit_breaker.map(Box::new),
        canary: parts.canary.map(Box::new),
        versions: parts.versions,
        slo: parts.slo.map(Box::new),
        expose: parts.expose,
        load_balancer: parts.load_balancer,
        sidecar_off: parts.sidecar_off,
        mtls_exceptions: parts.mtls_exceptions,
        automount_token: parts.automount_token,
        security: parts.security.unwrap_or_else(|| defaults.security.clone()),
        uses: parts.uses,
        volumes: parts.volumes,
        stateful: parts.stateful,
        // The platform's waivers, then the service's own; a check waived twice is waived once.
        waivers: {
            let mut waivers = defaults.waivers.clone();
            for waiver in parts.waivers {
                waivers.retain(|w| w.check.value != waiver.check.value);
                waivers.push(waiver);
            }
            waivers
        },
        build: parts.build,
        name,
    })
}

/// `list` at its length. A list grown an item at a time has room for four at least: a
/// service's ports, variables, calls and probes (one to three of each, 100 to 370 bytes an
/// item) are held for the whole of a build, 10,000 services' worth at once.
fn fitted<T>(mut list: Vec<T>) -> Vec<T> {
    list.shrink_to_fit();
    list
}

/// `build context=… dockerfile=… test=…`.
fn build(node: &Node, d: &mut Diagnostics) -> Option<Build> {
    let mut r = Reader::new(node, &spec::BUILD);
    let context = r.required_string_prop("context", d);
    let dockerfile = r.string_prop("dockerfile", d);
    let test = r.string_prop("test", d);
    r.finish(d);
    Some(Build {
        span: node.span(),
        context: context?,
        dockerfile,
        test,
    })
}

/// Requests 100m/64Mi and limits 200m/128Mi where neither the service nor `defaults` says.
pub(super) fn resolve_resources(partial: &defaults::PartialResources, here: Span) -> Resources {
    let fallback = |text: &str, amount: u128| {
        Spanned::new(
            Quantity {
                text: text.to_owned(),
                amount,
            },
            here,
        )
    };
    let cpu = partial.cpu.clone().unwrap_or_else(|| fallback("100m", 100));
    let memory = partial
        .memory
        .clone()
        .unwrap_or_else(|| fallback("64Mi", 64 << 20));
    // An unset limit is the default limit, or the request when that is larger: raising a
    // request alone must not make the pod invalid.
    let limit_for = |request: &Spanned<Quantity>, text: &str, amount: u128| {
        if request.amount > amount {
            Spanned::new(request.value.clone(), here)
        } else {
            fallback(text, amount)
        }
    };
    Resources {
        cpu_limit: partial
            .cpu_limit
            .clone()
            .unwrap_or_else(|| limit_for(&cpu, "200m", 200)),
        memory_limit: partial
            .memory_limit
            .clone()
            .unwrap_or_else(|| limit_for(&memory, "128Mi", 128 << 20)),
        cpu,
        memory,
    }
}

pub(super) fn image(node: &Node, d: &mut Diagnostics) -> Option<Image> {
    let mut r = Reader::new(node, &spec::IMAGE);
    // `image "REFERENCE"`, or `image repository=NAME` for an ECR repository the platform
    // declares, whose registry address platc builds from the account and region.
    let ecr = r.string_prop("repository", d);
    let reference = if let Some(ecr) = &ecr {
        if let Some(extra) = r.arg(0) {
            d.error(
                ErrorKind::InvalidImage {
                    value: ecr.value.clone(),
                    reason: "an image names a reference or a `repository=`, not both".into(),
                },
                extra.span(),
            );
            return None;
        }
        Some(ecr.clone())
    } else {
        r.required_string_arg(0, "an image reference", d)
    };
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
    warn_latest(&reference, tag.as_ref(), digest.is_some(), d);
    Some(Image {
        span: node.span(),
        repository: Spanned::new(repository, reference.span),
        ecr: ecr.is_some(),
        tag,
        digest,
    })
}

pub(super) fn port(node: &Node, d: &mut Diagnostics) -> Option<Port> {
    let mut r = Reader::new(node, &spec::PORT);
    if let (Some(first), Some(second)) = (r.arg(0), r.arg(1))
        && matches!(first.value(), Value::Integer(_))
        && matches!(second.value(), Value::String(_))
    {
        // `port 5050 grpc`: the two arguments swapped. One diagnostic says so.
        d.error(
            ErrorKind::InvalidType {
                expected: "a port name",
                found: "a number",
                hint: Some("The name comes first, then the number: `port NAME NUMBER`, as in `port grpc 5050`."),
            },
            crate::lower::reader::value_span(first).join(crate::lower::reader::value_span(second)),
        );
        return None;
    }
    let name = r
        .required_string_arg(0, "a port name", d)
        .and_then(|n| port_name(n, d));
    let number = if let Some(e) = r.arg(1) {
        typed::port(e, d)
    } else {
        d.error(
            ErrorKind::MissingArgument {
                node: "port".into(),
                what: "a port number",
            },
            r.name_span(),
        );
        None
    };
    let target = r.prop("target").and_then(|e| typed::port(e, d));
    let protocol = r.choice_prop(
        "protocol",
        &[
            ("grpc", Protocol::Grpc),
            ("http", Protocol::Http),
            ("http2", Protocol::Http2),
            ("tcp", Protocol::Tcp),
        ],
        d,
    );
    let protocol_given = r.prop("protocol").is_some();
    let metrics = r.string_prop("metrics", d);
    if let Some(path) = &metrics {
        typed::check_http_path(path, d);
    }
    r.finish(d);
    let name = name?;
    let protocol = match protocol {
        Some(p) => p,
        None if protocol_given => return None,
        None => Spanned::new(infer_protocol(&name.value), name.span),
    };
    Some(Port {
        span: node.span(),
        name,
        number: number?,
        target,
        protocol,
        metrics,
        container: None,
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
                rule: NameRule::Port,
            },
            name.span,
        );
        return None;
    }
    Some(name)
}

pub(super) fn add_port(ports: &mut Vec<Port>, port: Port, d: &mut Diagnostics) {
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

pub(super) fn env_var(node: &Node, d: &mut Diagnostics) -> Option<EnvVar> {
    let mut r = Reader::new(node, &spec::ENV);
    let name = r.required_string_arg(0, "a variable name", d);
    let value = if let Some(e) = r.arg(1) {
        string_or_bool(e, d)
    } else {
        d.error(
            ErrorKind::MissingArgument {
                node: "env".into(),
                what: "a value",
            },
            r.name_span(),
        );
        None
    };
    r.finish(d);
    let name = name.and_then(|n| env_name(n, d))?;
    Some(EnvVar {
        span: node.span(),
        name,
        value: value?,
    })
}

/// Env values are strings; numbers and booleans are written as their text (`"1"`, `"true"`).
fn string_or_bool(entry: &Entry, d: &mut Diagnostics) -> Option<Spanned<String>> {
    match entry.value() {
        Value::Bool(b) => Some(Spanned::new(b.to_string(), value_span(entry))),
        _ => scalar_text(entry, "a string", d),
    }
}

/// A C identifier, as env var names should be.
pub(super) fn env_name(name: Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<String>> {
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
                reason: "only letters, digits and `_` are allowed, and no leading digit".into(),
                value: name.value,
                rule: NameRule::EnvVar,
            },
            name.span,
        );
        None
    }
}

pub(super) fn add_env(env: &mut Vec<EnvVar>, var: EnvVar, d: &mut Diagnostics) {
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

/// `NODE [BOOL] reason=…`: a switch away from a secure default. `weak` is the argument value
/// that weakens (`None`: the node itself does); the reason is required only then.
fn reasoned_switch(
    node: &Node,
    spec: &'static grammar::Node,
    weak: Option<bool>,
    what: &str,
    d: &mut Diagnostics,
) -> Option<Spanned<String>> {
    let mut r = Reader::new(node, spec);
    let on = match weak {
        None => true,
        // A bare `sidecar` would read as "on" but could be taken for "off": the value is
        // required.
        Some(weak) => {
            if let Some(entry) = r.arg(0) {
                boolean(entry, d).is_some_and(|b| b.value == weak)
            } else {
                d.error(
                    ErrorKind::MissingArgument {
                        node: r.name().to_owned(),
                        what: if weak { "`#true`" } else { "`#false`" },
                    },
                    r.name_span(),
                );
                false
            }
        }
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
            node.name().span(),
        );
    }
    // The setting is shown at the node, which is what it switches; the reason is its text.
    reason.map(|r| Spanned::new(r.value, node.name().span()))
}

fn mtls_exception(node: &Node, d: &mut Diagnostics) -> Option<MtlsException> {
    let mut r = Reader::new(node, &spec::MTLS_EXCEPTION);
    let port = r.required_string_prop("port", d);
    let mode = r
        .choice_prop(
            "mode",
            &[
                ("permissive", PortMtls::Permissive),
                ("disable", PortMtls::Disable),
            ],
            d,
        )
        .unwrap_or_else(|| Spanned::new(PortMtls::Permissive, node.name().span()));
    let reason = r.string_prop("reason", d);
    r.finish(d);
    if reason.is_none() {
        d.error(
            ErrorKind::MissingReason {
                what: "an mTLS exception".into(),
            },
            node.name().span(),
        );
    }
    Some(MtlsException {
        span: node.span(),
        port: port?,
        mode,
        reason: reason?,
    })
}

fn uses(node: &Node, d: &mut Diagnostics) -> Option<Use> {
    let mut r = Reader::new(node, &spec::USES);
    let kind = if let Some(e) = r.arg(0) {
        choice(
            e,
            &[
                ("database", StoreKind::Database),
                ("bucket", StoreKind::Bucket),
                ("table", StoreKind::Table),
                ("filesystem", StoreKind::Filesystem),
                ("cache", StoreKind::Cache),
                ("docdb", StoreKind::Docdb),
                ("queue", StoreKind::Queue),
                ("topic", StoreKind::Topic),
                ("secret", StoreKind::Secret),
            ],
            d,
        )
    } else {
        d.error(
            ErrorKind::MissingArgument {
                node: "uses".into(),
                what: "a store kind and name",
            },
            r.name_span(),
        );
        None
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
    let kind_is = |k: StoreKind| kind.as_ref().is_some_and(|x| x.value == k);
    // Where a file system or a secret is mounted; any other store reports `path` as unknown.
    let path = if kind_is(StoreKind::Filesystem) || kind_is(StoreKind::Secret) {
        r.string_prop("path", d).and_then(|path| {
            if path.value.starts_with('/') {
                Some(path)
            } else {
                d.error(
                    ErrorKind::InvalidValue {
                        value: path.value.clone(),
                        expected: vec!["an absolute path"],
                        suggestion: None,
                    },
                    path.span,
                );
                None
            }
        })
    } else {
        None
    };
    // A secret's env var, JSON key and the reason it is read from env; other stores report
    // them as unknown.
    let (env, key, reason) = if kind_is(StoreKind::Secret) {
        let env = r.string_prop("env", d).and_then(|n| env_name(n, d));
        let key = r.string_prop("key", d).and_then(|k| secret_key(k, d));
        let reason = r.string_prop("reason", d);
        (env, key, reason)
    } else if kind_is(StoreKind::Database) {
        // A password read from env (`env password=`) says why, as a secret's `env=` does.
        (None, None, r.string_prop("reason", d))
    } else {
        (None, None, None)
    };
    // How a database's user logs in; read for every kind, since `check::references` reports
    // it on any other store, where the kind is known to be right.
    let auth = r.choice_prop(
        "auth",
        &[("iam", DbAuth::Iam), ("password", DbAuth::Password)],
        d,
    );
    let mut vars = Vec::new();
    let mut seen = Seen::default();
    for child in r.children() {
        if r.child(child, d).is_none() || !seen.once(child, d) {
            continue;
        }
        match child.name().value() {
            "env" => vars = store_vars(child, d),
            // `remove` belongs to an overlay, which consumes it before lowering.
            _ => unknown_node(child, r.spec(), d),
        }
    }
    r.finish(d);
    Some(Use {
        span: node.span(),
        kind: kind?,
        name: name?,
        path,
        env,
        key,
        reason,
        auth,
        vars,
    })
}

/// `env KEY=VAR…` under `uses`, in source order. Which keys a kind takes is checked with the
/// platform (`check::references`), where the kind is known to be right.
fn store_vars(node: &Node, d: &mut Diagnostics) -> Vec<StoreVar> {
    let mut r = Reader::new(node, &spec::USES_ENV);
    let listed = |name: &str| spec::USES_ENV.prop(name).is_some();
    let entries = r.props_matching(listed);
    r.finish(d);
    entries
        .into_iter()
        .filter_map(|entry| {
            let key = entry.name()?;
            let env = string(entry, d).and_then(|n| env_name(n, d))?;
            Some(StoreVar {
                key: Spanned::new(key.value().to_owned(), key.span()),
                env,
            })
        })
        .collect()
}

/// A key of a secret's JSON value: it names a file in the mount and a key of the synced
/// `Secret`, so it takes what a `Secret`'s data key takes (letters, digits, `-`, `_`, `.`).
fn secret_key(key: Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let ok = !key.value.is_empty()
        && key.value.len() <= 253
        && key.value != "."
        && key.value != ".."
        && key
            .value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        return Some(key);
    }
    d.error(
        ErrorKind::InvalidValue {
            value: key.value.clone(),
            expected: vec!["a key of the secret's JSON value: letters, digits, `-`, `_` and `.`"],
            suggestion: None,
        },
        key.span,
    );
    None
}

fn volume(node: &Node, d: &mut Diagnostics) -> Option<Volume> {
    let mut r = Reader::new(node, &spec::VOLUME);
    let name = r
        .required_string_arg(0, "a volume name", d)
        .and_then(|n| typed::check_name(n, d));
    let path = mount_path(&mut r, d);
    let size_limit = r
        .prop("size-limit")
        .and_then(|e| typed::bytes(e, "storage", d));
    r.finish(d);
    Some(Volume {
        span: node.span(),
        name: name?,
        path: path?,
        size_limit,
    })
}

/// The required absolute `path=` a volume is mounted at.
fn mount_path(r: &mut Reader, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let path = r.required_string_prop("path", d);
    if let Some(path) = &path
        && !path.value.starts_with('/')
    {
        d.error(
            ErrorKind::InvalidValue {
                value: path.value.clone(),
                expected: vec!["an absolute path"],
                suggestion: None,
            },
            path.span,
        );
    }
    path
}

/// `stateful { volume NAME path=… size=… }`: at least one volume, each name once.
fn stateful(node: &Node, d: &mut Diagnostics) -> Stateful {
    let r = Reader::new(node, &spec::STATEFUL);
    let mut volumes: Vec<StatefulVolume> = Vec::new();
    let mut peers: Option<StatefulPeers> = None;
    let mut seen = Seen::default();
    for child in r.children() {
        if r.child(child, d).is_none() {
            continue;
        }
        if child.name().value() == "peers" {
            if seen.once(child, d) {
                peers = Some(stateful_peers(child, d));
            }
            continue;
        }
        let Some(volume) = stateful_volume(child, d) else {
            continue;
        };
        if let Some(first) = volumes.iter().find(|v| v.name.value == volume.name.value) {
            d.duplicate_name(
                "volume",
                &volume.name,
                first.name.span,
                "first defined here",
            );
            continue;
        }
        volumes.push(volume);
    }
    if r.children().iter().all(|c| c.name().value() != "volume") {
        d.error(
            ErrorKind::MissingNode {
                parent: "stateful".into(),
                node: "volume",
            },
            r.name_span(),
        );
    }
    r.finish(d);
    Stateful {
        span: node.span(),
        peers,
        volumes,
    }
}

/// `peers PORT…`: at least one port name; each is resolved against the service's ports by the
/// reference check.
fn stateful_peers(node: &Node, d: &mut Diagnostics) -> StatefulPeers {
    let mut r = Reader::new(node, &spec::STATEFUL_PEERS);
    let ports: Vec<Spanned<String>> = r
        .args_from(0)
        .into_iter()
        .filter_map(|e| string(e, d))
        .collect();
    if node.entries().iter().all(|e| e.name().is_some()) {
        d.error(
            ErrorKind::MissingArgument {
                node: "peers".into(),
                what: "the ports the replicas call each other on",
            },
            r.name_span(),
        );
    }
    r.finish(d);
    StatefulPeers {
        span: node.span(),
        ports,
    }
}

fn stateful_volume(node: &Node, d: &mut Diagnostics) -> Option<StatefulVolume> {
    let mut r = Reader::new(node, &spec::STATEFUL_VOLUME);
    let name = r
        .required_string_arg(0, "a volume name", d)
        .and_then(|n| typed::check_name(n, d));
    let path = mount_path(&mut r, d);
    let size = r
        .required_prop("size", d)
        .and_then(|e| typed::bytes(e, "storage", d));
    r.finish(d);
    Some(StatefulVolume {
        span: node.span(),
        name: name?,
        path: path?,
        size: size?,
    })
}

pub fn waiver(node: &Node, d: &mut Diagnostics) -> Option<Waiver> {
    let mut r = Reader::new(node, &spec::WAIVE);
    let check = r.required_string_arg(0, "the id of the check it waives", d);
    let reason = r.string_prop("reason", d);
    r.finish(d);
    if reason.is_none() {
        d.error(
            ErrorKind::MissingReason {
                what: "a waived check".into(),
            },
            node.name().span(),
        );
    }
    Some(Waiver {
        span: node.span(),
        check: check?,
        reason: reason?,
    })
}

/// `platc::image-latest` (a warning) for an image of `reference` without a digest whose tag
/// is `latest` or missing, at the tag or else the reference. It names the reference with the
/// tag when `tag=` gave it (the reference alone would read as untagged).
pub(super) fn warn_latest(
    reference: &Spanned<String>,
    tag: Option<&Spanned<String>>,
    digest: bool,
    d: &mut Diagnostics,
) {
    if digest || tag.is_some_and(|t| t.value != "latest") {
        return;
    }
    let image = match tag {
        Some(tag) if !reference.value.ends_with(&format!(":{}", tag.value)) => {
            format!("{}:{}", reference.value, tag.value)
        }
        _ => reference.value.clone(),
    };
    d.error(
        ErrorKind::ImageLatest { image },
        tag.map_or(reference.span, |t| t.span),
    );
}

#[cfg(test)]
mod tests {
    use crate::source::Source;

    /// A service's ports, variables, calls and probes are held at their length: they live for
    /// the whole of a build (10,000 services: `check`'s peak RSS 250 -> 217 MB).
    #[test]
    fn a_services_lists_hold_no_spare_room() {
        let text = include_str!("../../platform.kdl");
        let result = crate::compile(
            &Source::new("platform.kdl", text.to_owned()),
            &crate::Options::default(),
        );
        let platform = result.platform.expect("the reference platform compiles");
        let mut held = 0;
        for s in &platform.services {
            let name = &s.name.value;
            assert_eq!(s.ports.capacity(), s.ports.len(), "{name}'s ports");
            assert_eq!(s.env.capacity(), s.env.len(), "{name}'s variables");
            assert_eq!(s.calls.capacity(), s.calls.len(), "{name}'s calls");
            assert_eq!(s.probes.capacity(), s.probes.len(), "{name}'s probes");
            held += s.ports.len() + s.env.len() + s.calls.len() + s.probes.len();
        }
        assert!(held > 50, "the platform has lists to hold: {held} items");
    }

    /// The `image-latest` warning names the reference with the tag that makes it, however the
    /// tag was written, for a service's image and a version's alike.
    #[test]
    fn the_latest_warning_names_the_tag_it_warns_of() {
        let messages = |text: &str| -> Vec<String> {
            let result = crate::compile(
                &Source::new("platform.kdl", text.to_owned()),
                &crate::Options::default(),
            );
            result
                .diagnostics
                .iter()
                .filter(|d| d.kind.code() == "platc::image-latest")
                .map(|d| d.kind.message())
                .collect()
        };
        let service = |image: &str| {
            format!(
                "platform p {{\n    service web {{\n        image {image}\n        \
                 port http 8080\n    }}\n}}\n"
            )
        };
        assert_eq!(
            messages(&service("\"redis\" tag=\"latest\"")),
            ["image `redis:latest` uses the tag `latest`"]
        );
        assert_eq!(
            messages(&service("\"redis:latest\"")),
            ["image `redis:latest` uses the tag `latest`"]
        );
        assert_eq!(
            messages(&service("\"redis\"")),
            ["image `redis` has no tag or digest, so it pulls `latest`"]
        );
        let version = "platform p {\n    mesh istio\n    service web {\n        image \"web\" \
                       tag=\"v1\"\n        port http 8080\n        version beta image=\"web\" \
                       tag=\"latest\" weight=10\n    }\n}\n";
        assert_eq!(
            messages(version),
            ["image `web:latest` uses the tag `latest`"]
        );
        // A warning keeps the version in the platform.
        let result = crate::compile(
            &Source::new("platform.kdl", version.to_owned()),
            &crate::Options::default(),
        );
        let platform = result.platform.expect("a warning compiles");
        assert_eq!(platform.services[0].versions.len(), 1);
        // A version's or a canary's own tag on the service's repository.
        let own_tag = version.replace("image=\"web\" tag=\"latest\"", "tag=\"latest\"");
        assert_eq!(
            messages(&own_tag),
            ["image `web:latest` uses the tag `latest`"]
        );
        let canary = version.replace(
            "version beta image=\"web\" tag=\"latest\" weight=10",
            "canary beta tag=\"latest\"",
        );
        assert_eq!(
            messages(&canary),
            ["image `web:latest` uses the tag `latest`"]
        );
    }
}
