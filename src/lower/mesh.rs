//! `mesh`, `observability` and `delivery`: the platform-wide tooling.

use crate::syntax::Node;

use crate::diagnostic::{Diagnostics, ErrorKind, NameRule};
use crate::lower::aws::push_unique;
use crate::lower::grammar::nodes;
use crate::lower::reader::{Reader, Seen, choice, unknown_node};
use crate::lower::typed;
use crate::model::mesh::{
    AlertSeverity, Alerts, ArgoCd, ArgoSource, Delivery, Deploy, Gateway, Grafana, Jenkins, Jwt,
    Kiali, Mesh, MtlsMode, NULL_RECEIVER, Observability, Prometheus, Receiver, ReceiverKind,
    SyncMode, TlsMode, View,
};
use crate::model::value::Duration;
use crate::span::Spanned;

pub fn lower_mesh(node: &Node, d: &mut Diagnostics) -> Mesh {
    let mut r = Reader::new(node, &nodes::MESH);
    // The mesh implementation; Istio is the one platc emits for.
    if let Some(entry) = r.arg(0) {
        choice(entry, &[("istio", ())], d);
    } else {
        d.error(
            ErrorKind::MissingArgument {
                node: "mesh".into(),
                what: "the mesh implementation (`istio`)",
            },
            r.name_span(),
        );
    }
    let mtls = r
        .choice_prop(
            "mtls",
            &[
                ("strict", MtlsMode::Strict),
                ("permissive", MtlsMode::Permissive),
                ("disabled", MtlsMode::Disabled),
            ],
            d,
        )
        .unwrap_or_else(|| Spanned::new(MtlsMode::Strict, r.name_span()));
    let reason = r.string_prop("reason", d);
    if mtls.value != MtlsMode::Strict && reason.is_none() {
        d.error(
            ErrorKind::MissingReason {
                what: "mTLS below strict".into(),
            },
            mtls.span,
        );
    }
    let mut gateways: Vec<Gateway> = Vec::new();
    let mut jwts: Vec<Jwt> = Vec::new();
    let mut egress_gateway = None;
    let mut seen = Seen::default();
    for child in r.children() {
        if let Some(spec) = r.child(child, d) {
            if child.name().value() == "egress-gateway" {
                if seen.once(child, d) {
                    Reader::new(child, spec).finish(d);
                    egress_gateway = Some(child.span());
                }
                continue;
            }
            if child.name().value() == "jwt" {
                push_unique(&mut jwts, lower_jwt(child, d), "jwt", |j| &j.name, d);
                continue;
            }
            push_unique(
                &mut gateways,
                lower_gateway(child, d),
                "gateway",
                |g| &g.name,
                d,
            );
        }
    }
    r.finish(d);
    // The egress gateway's `Gateway` shares the namespace of the ingress gateways' own.
    if let Some(egress) = egress_gateway
        && let Some(clash) = gateways
            .iter()
            .find(|g| g.name.value == crate::model::addons::EGRESS_GATEWAY.release)
    {
        d.duplicate_name("gateway", &clash.name, egress, "the egress gateway's own");
    }
    Mesh {
        span: node.span(),
        mtls,
        reason,
        gateways,
        jwts,
        egress_gateway,
    }
}

fn lower_jwt(node: &Node, d: &mut Diagnostics) -> Option<Jwt> {
    let mut r = Reader::new(node, &nodes::JWT);
    let name = r
        .required_string_arg(0, "a name for the issuer", d)
        .and_then(|n| typed::check_name(n, d));
    let audiences = r
        .string_prop("audiences", d)
        .map(|a| {
            a.value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Spanned::new(s.to_owned(), a.span))
                .collect()
        })
        .unwrap_or_default();
    let issuer = r.required_string_prop("issuer", d);
    if let Some(issuer) = &issuer
        && (issuer.value.is_empty() || issuer.value.contains(char::is_whitespace))
    {
        d.error(
            ErrorKind::InvalidValue {
                value: issuer.value.clone(),
                expected: vec!["the token's `iss` value, without spaces"],
                suggestion: None,
            },
            issuer.span,
        );
    }
    let jwks = r.required_string_prop("jwks", d);
    if let Some(jwks) = &jwks
        && !(jwks.value.starts_with("https://")
            && jwks.value.len() > "https://".len()
            && !jwks.value.contains(char::is_whitespace))
    {
        d.error(
            ErrorKind::InvalidValue {
                value: jwks.value.clone(),
                expected: vec!["an `https://` URL of the issuer's JSON Web Key Set"],
                suggestion: None,
            },
            jwks.span,
        );
    }
    r.finish(d);
    Some(Jwt {
        span: node.span(),
        name: name?,
        issuer: issuer?,
        jwks: jwks?,
        audiences,
    })
}

fn lower_gateway(node: &Node, d: &mut Diagnostics) -> Option<Gateway> {
    let mut r = Reader::new(node, &nodes::GATEWAY);
    let name = r
        .required_string_arg(0, "a gateway name", d)
        .and_then(|n| typed::check_name(n, d));
    let mut hosts = Vec::new();
    match r.prop("host") {
        Some(e) => hosts.extend(typed::host(e, d)),
        None => r.missing("host", d),
    }
    let tls = r
        .choice_prop(
            "tls",
            &[
                ("simple", TlsMode::Simple),
                ("mutual", TlsMode::Mutual),
                ("passthrough", TlsMode::Passthrough),
                ("disabled", TlsMode::Disabled),
            ],
            d,
        )
        .unwrap_or_else(|| Spanned::new(TlsMode::Simple, r.name_span()));
    let reason = r.string_prop("reason", d);
    if tls.value == TlsMode::Disabled && reason.is_none() {
        d.error(
            ErrorKind::MissingReason {
                what: "a gateway without TLS".into(),
            },
            tls.span,
        );
    }
    let redirect_http = r
        .bool_prop("redirect-http", d)
        .unwrap_or_else(|| Spanned::new(true, r.name_span()));
    r.finish(d);
    Some(Gateway {
        span: node.span(),
        name: name?,
        hosts,
        tls,
        reason,
        redirect_http,
    })
}

pub fn lower_observability(node: &Node, d: &mut Diagnostics) -> Observability {
    let r = Reader::new(node, &nodes::OBSERVABILITY);
    let mut out = Observability {
        name_span: r.name_span(),
        ..Observability::default()
    };
    let mut seen = Seen::default();
    for child in r.children() {
        let Some(spec) = r.child(child, d) else {
            continue;
        };
        if !seen.once(child, d) {
            continue;
        }
        let mut c = Reader::new(child, spec);
        let span = child.span();
        match spec.name {
            "prometheus" => {
                let here = c.name_span();
                let default = |text: &str, millis| {
                    Spanned::new(
                        Duration {
                            text: text.to_owned(),
                            millis,
                        },
                        here,
                    )
                };
                let retention = c.prop("retention").and_then(|e| typed::duration(e, d));
                let scrape = c
                    .prop("scrape-interval")
                    .and_then(|e| typed::duration(e, d));
                out.prometheus = Some(Prometheus {
                    span,
                    retention: retention.unwrap_or_else(|| default("15d", 15 * 86_400_000)),
                    scrape_interval: scrape.unwrap_or_else(|| default("30s", 30_000)),
                });
            }
            "alerts" => out.alerts = Some(lower_alerts(child, d)),
            "grafana" => out.grafana = Some(Grafana { span }),
            "kiali" => out.kiali = Some(Kiali { span }),
            _ => unknown_node(child, r.spec(), d),
        }
        c.finish(d);
    }
    r.finish(d);
    out
}

fn lower_alerts(node: &Node, d: &mut Diagnostics) -> Alerts {
    let r = Reader::new(node, &nodes::ALERTS);
    let mut receivers: Vec<Receiver> = Vec::new();
    for child in r.children() {
        let Some(spec) = r.child(child, d) else {
            continue;
        };
        let mut c = Reader::new(child, spec);
        let kind = match spec.name {
            "slack" => ReceiverKind::Slack,
            "pagerduty" => ReceiverKind::PagerDuty,
            _ => {
                unknown_node(child, r.spec(), d);
                continue;
            }
        };
        let name = c
            .required_string_arg(0, "a receiver name", d)
            .and_then(|n| typed::check_name(n, d))
            .and_then(|name| {
                if name.value != NULL_RECEIVER {
                    return Some(name);
                }
                d.error(
                    ErrorKind::InvalidName {
                        value: name.value,
                        reason: format!(
                            "`{NULL_RECEIVER}` is the receiver of the alerts no one gets"
                        ),
                        rule: NameRule::Receiver,
                    },
                    name.span,
                );
                None
            });
        let secret = c
            .required_string_prop("secret", d)
            .and_then(|n| typed::check_name(n, d));
        let channel = match kind {
            ReceiverKind::Slack => c
                .string_prop("channel", d)
                .and_then(|channel| slack_channel(channel, d)),
            ReceiverKind::PagerDuty => None,
        };
        let default = match kind {
            ReceiverKind::Slack => AlertSeverity::Warning,
            ReceiverKind::PagerDuty => AlertSeverity::Critical,
        };
        let severity = c
            .choice_prop(
                "severity",
                &[
                    ("critical", AlertSeverity::Critical),
                    ("warning", AlertSeverity::Warning),
                ],
                d,
            )
            .unwrap_or_else(|| Spanned::new(default, c.name_span()));
        c.finish(d);
        let (Some(name), Some(secret)) = (name, secret) else {
            continue;
        };
        push_unique(
            &mut receivers,
            Some(Receiver {
                name,
                kind,
                secret,
                channel,
                severity,
            }),
            "receiver",
            |v| &v.name,
            d,
        );
    }
    r.finish(d);
    Alerts {
        span: node.span(),
        receivers,
    }
}

/// A Slack channel as Alertmanager's `channel` takes it: `#` and a channel's name (lowercase
/// letters, digits, `-`, `_` and `.`, at most 80), `@` and a user's, or a channel's id. The
/// field is a template of Alertmanager's, and the values holding it a string Terraform
/// interpolates: nothing else may be in it.
fn slack_channel(channel: Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let named = |rest: &str| {
        (1..=80).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
    };
    // A channel's (C, G), a direct message's (D) or a user's (U, W).
    let id = |text: &str| {
        text.len() >= 9
            && text.starts_with(['C', 'G', 'D', 'U', 'W'])
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    let value = channel.value.as_str();
    let valid = match value.as_bytes().first() {
        Some(b'#' | b'@') => named(&value[1..]),
        _ => id(value),
    };
    if valid {
        return Some(channel);
    }
    // The channel's (or user's) name as Slack would make it of the text: lowercase, a space
    // a `-`. An id-shaped text gets none: its case is its meaning.
    let prefix = if value.starts_with('@') { '@' } else { '#' };
    let shaped_as_id = value.bytes().all(|b| b.is_ascii_alphanumeric()) && value.len() >= 9;
    let name: String = value
        .trim_start_matches(['#', '@'])
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(*c))
        .collect();
    d.error(
        ErrorKind::InvalidValue {
            value: channel.value,
            expected: vec![
                "a Slack channel: `#` and its name (lowercase letters, digits, `-`, `_`, `.`), `@` and a user's name, or a channel's or user's id (`C0123ABCD`)",
            ],
            suggestion: (named(&name) && !shaped_as_id).then(|| format!("{prefix}{name}")),
        },
        channel.span,
    );
    None
}

pub fn lower_delivery(node: &Node, d: &mut Diagnostics) -> Delivery {
    let r = Reader::new(node, &nodes::DELIVERY);
    let mut out = Delivery::default();
    let mut seen = Seen::default();
    for child in r.children() {
        if r.child(child, d).is_none() {
            continue;
        }
        match child.name().value() {
            "jenkins" => {
                if seen.once(child, d) {
                    out.jenkins = Some(lower_jenkins(child, d));
                }
            }
            "argocd" => {
                if seen.once(child, d) {
                    out.argocd = lower_argocd(child, d);
                }
            }
            _ => unknown_node(child, r.spec(), d),
        }
    }
    r.finish(d);
    out
}

fn lower_jenkins(node: &Node, d: &mut Diagnostics) -> Jenkins {
    let mut r = Reader::new(node, &nodes::JENKINS);
    let repo = r.string_prop("repo", d);
    let branch = r.string_prop("branch", d);
    let path = r
        .string_prop("path", d)
        .and_then(|path| repository_path(path, d));
    let deploy = r.choice_prop(
        "deploy",
        &[("argocd", Deploy::ArgoCd), ("helm", Deploy::Helm)],
        d,
    );
    let agent = r.string_prop("agent", d);
    let name_span = r.name_span();
    let mut views: Vec<View> = Vec::new();
    for child in r.children() {
        let Some(spec) = r.child(child, d) else {
            continue;
        };
        let mut c = Reader::new(child, spec);
        let name = c
            .required_string_arg(0, "a view name", d)
            .and_then(|name| jenkins_name(name, d));
        let services: Vec<Spanned<String>> = c
            .args_from(1)
            .into_iter()
            .filter_map(|e| crate::lower::reader::string(e, d))
            .collect();
        c.finish(d);
        if let Some(name) = name {
            push_unique(
                &mut views,
                Some(View {
                    span: child.span(),
                    name,
                    services,
                }),
                "view",
                |v| &v.name,
                d,
            );
        }
    }
    r.finish(d);
    Jenkins {
        span: node.span(),
        name_span,
        repo,
        branch,
        path,
        deploy,
        agent,
        views,
    }
}

fn lower_argocd(node: &Node, d: &mut Diagnostics) -> Option<ArgoCd> {
    let mut r = Reader::new(node, &nodes::ARGOCD);
    let repo = r.required_string_prop("repo", d);
    let here = r.name_span();
    let path = match r.string_prop("path", d) {
        Some(path) => repository_path(path, d),
        None => Some(Spanned::new("out".into(), here)),
    };
    let revision = r
        .string_prop("revision", d)
        .unwrap_or_else(|| Spanned::new("main".into(), here));
    let namespace = r
        .prop("namespace")
        .and_then(|e| typed::name(e, d))
        .unwrap_or_else(|| Spanned::new("argocd".into(), here));
    let source = r
        .choice_prop(
            "source",
            &[("out", ArgoSource::Out), ("plugin", ArgoSource::Plugin)],
            d,
        )
        .unwrap_or_else(|| Spanned::new(ArgoSource::Out, here));
    let sync = r
        .choice_prop(
            "sync",
            &[("auto", SyncMode::Auto), ("manual", SyncMode::Manual)],
            d,
        )
        .unwrap_or_else(|| Spanned::new(SyncMode::Auto, here));
    let prune = r
        .bool_prop("prune", d)
        .unwrap_or_else(|| Spanned::new(true, here));
    let self_heal = r
        .bool_prop("self-heal", d)
        .unwrap_or_else(|| Spanned::new(true, here));
    let plugin_image = r.string_prop("plugin-image", d);
    r.finish(d);
    Some(ArgoCd {
        span: node.span(),
        repo: repo?,
        path: path?,
        revision,
        namespace,
        source,
        sync,
        prune,
        self_heal,
        plugin_image,
    })
}

/// A directory of the repository as Argo CD takes an Application's `path`: relative and inside
/// the repository (Argo CD refuses an absolute path or one that leaves it), written without
/// `.` or `..` segments so that its parent (the plugin's directory) and the environments'
/// trees under it are plain to derive. A trailing `/` is dropped.
fn repository_path(path: Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let trimmed = path.value.trim_end_matches('/');
    let valid = !trimmed.is_empty()
        && !trimmed.starts_with('/')
        && trimmed
            .split('/')
            .all(|segment| !matches!(segment, "" | "." | ".."))
        && !trimmed.contains('\\');
    if valid {
        Some(Spanned::new(trimmed.to_owned(), path.span))
    } else {
        d.error(
            ErrorKind::InvalidValue {
                value: path.value,
                expected: vec!["a directory of the repository, relative and without `.` or `..` (such as `out` or `deploy/out`)"],
                suggestion: None,
            },
            path.span,
        );
        None
    }
}

/// Characters Jenkins refuses in an item's name (`Jenkins.checkGoodName`).
const JENKINS_UNSAFE: &str = "?*/\\%!@#$^&|<>[]:;";

/// A view name Jenkins accepts: not empty, not `.` or `..`, none of its unsafe characters, no
/// control character.
fn jenkins_name(name: Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let text = name.value.as_str();
    let reason = if text.trim().is_empty() || text == "." || text == ".." {
        Some("Jenkins needs a name that is not blank, `.` or `..`".to_owned())
    } else {
        text.chars()
            .find(|c| JENKINS_UNSAFE.contains(*c) || c.is_control())
            .map(|c| format!("Jenkins refuses `{}` in a name", c.escape_default()))
    };
    if let Some(reason) = reason {
        d.error(
            ErrorKind::InvalidName {
                value: name.value,
                reason,
                rule: NameRule::Jenkins,
            },
            name.span,
        );
        return None;
    }
    Some(name)
}
