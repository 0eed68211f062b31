//! Names that must refer to something declared: services, ports, gateways, stores; and names
//! that must be unique across the platform.

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, suggest};
use crate::model::Platform;
use crate::model::service::{ProbeKind, Protocol, Service, StoreKind};
use crate::span::Spanned;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    duplicate_services(platform, d);
    for service in &platform.services {
        calls(platform, service, d);
        external_env(service, d);
        probes(service, d);
        ports(service, d);
        stores(platform, service, d);
        store_vars(service, d);
        store_env(platform, service, d);
        migration(platform, service, d);
        own_env(platform, service, service.inits.iter(), d);
        for expose in &service.expose {
            if let Some(port) = &expose.port {
                unknown_port(service, port, d);
            }
        }
        let peers = service.stateful.iter().filter_map(|s| s.peers.as_ref());
        for port in peers.flat_map(|p| &p.ports) {
            unknown_port(service, port, d);
        }
    }
    if let Some(jenkins) = &platform.delivery.jenkins {
        for view in &jenkins.views {
            for name in &view.services {
                unknown_service(platform, name, d);
            }
        }
    }
}

fn duplicate_services(platform: &Platform, d: &mut Diagnostics) {
    for service in &platform.services {
        // `service` finds the first definition; any other of that name is a duplicate.
        let Some(first) = platform.service(&service.name.value) else {
            continue;
        };
        if !std::ptr::eq(first, service) {
            d.push(
                Diagnostic::new(
                    ErrorKind::DuplicateService {
                        name: service.name.value.clone(),
                    },
                    service.name.span,
                )
                .with_label(first.name.span, "first defined here"),
            );
        }
    }
}

/// Reports `unknown-service` and returns the service when it exists.
fn unknown_service<'a>(
    platform: &'a Platform,
    name: &Spanned<String>,
    d: &mut Diagnostics,
) -> Option<&'a Service> {
    let found = platform.service(&name.value);
    if found.is_none() {
        let suggestion = suggest(
            &name.value,
            platform.services.iter().map(|s| s.name.value.as_str()),
        );
        d.error(
            ErrorKind::UnknownService {
                name: name.value.clone(),
                suggestion,
                overlay: false,
            },
            name.span,
        );
    }
    found
}

fn unknown_port(service: &Service, port: &Spanned<String>, d: &mut Diagnostics) -> bool {
    if service.port(&port.value).is_some() {
        return false;
    }
    // A number names the port with that number, if any.
    let by_number = port.value.parse::<u16>().ok().and_then(|number| {
        service
            .ports
            .iter()
            .find(|p| p.number.value == number)
            .map(|p| p.name.value.clone())
    });
    let suggestion = by_number.or_else(|| {
        suggest(
            &port.value,
            service.ports.iter().map(|p| p.name.value.as_str()),
        )
    });
    d.error(
        ErrorKind::UnknownPort {
            service: service.name.value.clone(),
            port: port.value.clone(),
            suggestion,
        },
        port.span,
    );
    true
}

fn calls(platform: &Platform, service: &Service, d: &mut Diagnostics) {
    for (i, call) in service.calls.iter().enumerate() {
        if call.service.value == service.name.value {
            d.error(
                ErrorKind::SelfCall {
                    service: service.name.value.clone(),
                },
                call.service.span,
            );
            continue;
        }
        if let Some(first) = service.calls[..i]
            .iter()
            .find(|c| c.service.value == call.service.value)
        {
            d.duplicate_name(
                "call",
                &call.service,
                first.service.span,
                "first declared here",
            );
            continue;
        }
        let Some(callee) = unknown_service(platform, &call.service, d) else {
            continue;
        };
        match &call.port {
            Some(port) => {
                unknown_port(callee, port, d);
            }
            None if callee.ports.is_empty() => d.error(
                ErrorKind::UnknownPort {
                    service: callee.name.value.clone(),
                    port: "(any)".into(),
                    suggestion: None,
                },
                call.service.span,
            ),
            None => {}
        }
        if let Some(env) = &call.env {
            if let Some(var) = service.env.iter().find(|v| v.name.value == env.value) {
                d.push(
                    Diagnostic::new(
                        ErrorKind::DuplicateEnv {
                            name: env.value.clone(),
                        },
                        env.span,
                    )
                    .with_label(var.name.span, "also set here"),
                );
            }
            if let Some(other) = service.calls[..i]
                .iter()
                .filter_map(|c| c.env.as_ref())
                .find(|e| e.value == env.value)
            {
                d.push(
                    Diagnostic::new(
                        ErrorKind::DuplicateEnv {
                            name: env.value.clone(),
                        },
                        env.span,
                    )
                    .with_label(other.span, "first set here"),
                );
            }
        }
    }
}

/// A `calls-external … env=` variable is set once: not by `env`, a `calls` or another host.
fn external_env(service: &Service, d: &mut Diagnostics) {
    for (i, external) in service.externals.iter().enumerate() {
        let Some(env) = &external.env else { continue };
        let earlier = service
            .env
            .iter()
            .map(|v| &v.name)
            .chain(service.calls.iter().filter_map(|c| c.env.as_ref()))
            .chain(service.externals[..i].iter().filter_map(|c| c.env.as_ref()))
            .find(|name| name.value == env.value);
        if let Some(other) = earlier {
            d.push(
                Diagnostic::new(
                    ErrorKind::DuplicateEnv {
                        name: env.value.clone(),
                    },
                    env.span,
                )
                .with_label(other.span, "also set here"),
            );
        }
    }
}

/// Every probe's port exists and speaks its protocol: the application's probes, whose default
/// is its first port, and each extra container's, whose default is that container's first.
fn probes(service: &Service, d: &mut Diagnostics) {
    let own = |container: Option<&str>| {
        service
            .ports
            .iter()
            .find(move |p| p.container.as_deref() == container)
    };
    container_probes(service, &service.probes, own(None), d);
    for container in &service.containers {
        container_probes(
            service,
            &container.probes,
            own(Some(&container.name.value)),
            d,
        );
    }
}

fn container_probes(
    service: &Service,
    probes: &[crate::model::service::Probe],
    first: Option<&crate::model::service::Port>,
    d: &mut Diagnostics,
) {
    for probe in probes {
        if probe.kind.value == ProbeKind::Exec {
            continue;
        }
        let port = match &probe.port {
            Some(name) => {
                if unknown_port(service, name, d) {
                    continue;
                }
                service.port(&name.value)
            }
            None => first,
        };
        let Some(port) = port else {
            d.error(
                ErrorKind::UnknownPort {
                    service: service.name.value.clone(),
                    port: "(any)".into(),
                    suggestion: None,
                },
                probe.kind.span,
            );
            continue;
        };
        let fits = match probe.kind.value {
            ProbeKind::Grpc => port.protocol.value == Protocol::Grpc,
            ProbeKind::Http => matches!(port.protocol.value, Protocol::Http | Protocol::Http2),
            ProbeKind::Tcp | ProbeKind::Exec => true,
        };
        if !fits {
            let probe_name = match probe.kind.value {
                ProbeKind::Grpc => "grpc",
                _ => "http",
            };
            d.push(
                Diagnostic::new(
                    ErrorKind::ProbeProtocol {
                        probe: probe_name.into(),
                        port: port.name.value.clone(),
                        protocol: port.protocol.value.as_str().into(),
                    },
                    probe.kind.span,
                )
                .with_label(port.protocol.span, "the port's protocol"),
            );
        }
    }
}

fn ports(service: &Service, d: &mut Diagnostics) {
    for exception in &service.mtls_exceptions {
        unknown_port(service, &exception.port, d);
    }
}

/// The names of the declared stores of a kind.
pub(super) fn store_names(platform: &Platform, kind: StoreKind) -> Vec<&str> {
    match &platform.aws {
        None => Vec::new(),
        Some(aws) => match kind {
            StoreKind::Database => aws
                .databases
                .iter()
                .map(|x| x.name.value.as_str())
                .collect(),
            StoreKind::Bucket => aws.buckets.iter().map(|x| x.name.value.as_str()).collect(),
            StoreKind::Table => aws.tables.iter().map(|x| x.name.value.as_str()).collect(),
            StoreKind::Filesystem => aws
                .filesystems
                .iter()
                .map(|x| x.name.value.as_str())
                .collect(),
            StoreKind::Cache => aws.caches.iter().map(|x| x.name.value.as_str()).collect(),
            StoreKind::Docdb => aws.docdbs.iter().map(|x| x.name.value.as_str()).collect(),
            StoreKind::Queue => aws.queues.iter().map(|x| x.name.value.as_str()).collect(),
            StoreKind::Topic => aws.topics.iter().map(|x| x.name.value.as_str()).collect(),
            StoreKind::Secret => aws.secrets.iter().map(|x| x.name.value.as_str()).collect(),
        },
    }
}

fn stores(platform: &Platform, service: &Service, d: &mut Diagnostics) {
    const KINDS: [StoreKind; 9] = [
        StoreKind::Database,
        StoreKind::Bucket,
        StoreKind::Table,
        StoreKind::Filesystem,
        StoreKind::Cache,
        StoreKind::Docdb,
        StoreKind::Queue,
        StoreKind::Topic,
        StoreKind::Secret,
    ];
    for used in &service.uses {
        let names = store_names(platform, used.kind.value);
        if !names.contains(&used.name.value.as_str()) {
            // A store of this name but another kind: the kind is the mistake.
            let other_kind = KINDS.iter().find(|&&k| {
                k != used.kind.value && store_names(platform, k).contains(&used.name.value.as_str())
            });
            let suggestion = suggest(&used.name.value, names.iter().copied())
                .or_else(|| other_kind.map(|k| format!("uses {} {}", k.as_str(), used.name.value)));
            d.error(
                ErrorKind::UnknownStore {
                    kind: used.kind.value.as_str(),
                    name: used.name.value.clone(),
                    suggestion,
                },
                used.name.span,
            );
        }
    }
}

/// `uses KIND NAME { env KEY=VAR }` takes the keys of that kind alone (`uri` and `jdbc` for a
/// database, `url` for a queue…).
fn store_vars(service: &Service, d: &mut Diagnostics) {
    for used in &service.uses {
        let keys = used.kind.value.env_keys();
        for var in used
            .vars
            .iter()
            .filter(|v| !keys.contains(&v.key.value.as_str()))
        {
            d.error(
                ErrorKind::UnknownProperty {
                    node: format!("env` of `uses {}", used.kind.value.as_str()),
                    property: var.key.value.clone(),
                    suggestion: suggest(&var.key.value, keys.iter().copied()),
                    accepted: keys.to_vec(),
                },
                var.key.span,
            );
        }
        // One user per service and database: its lines agree on how it logs in.
        if used.kind.value == StoreKind::Database
            && let Some(first) = service
                .uses
                .iter()
                .find(|u| u.kind.value == StoreKind::Database && u.name.value == used.name.value)
            && first.password_auth() != used.password_auth()
        {
            let auth = if used.password_auth() {
                "password"
            } else {
                "iam"
            };
            d.push(
                Diagnostic::new(
                    ErrorKind::InvalidValue {
                        value: format!("auth={auth}"),
                        expected: vec![
                            "the same `auth` on every line of one database: the service has one user in it",
                        ],
                        suggestion: None,
                    },
                    used.auth.as_ref().map_or(used.name.span, |a| a.span),
                )
                .with_label(
                    first.auth.as_ref().map_or(first.name.span, |a| a.span),
                    "first used here",
                ),
            );
        }
        // Only a database's user logs in.
        if let Some(auth) = &used.auth
            && used.kind.value != StoreKind::Database
        {
            d.error(
                ErrorKind::UnknownProperty {
                    node: format!("uses {}", used.kind.value.as_str()),
                    property: "auth".into(),
                    suggestion: None,
                    accepted: match used.kind.value {
                        StoreKind::Secret => vec!["env", "key", "path", "reason"],
                        StoreKind::Filesystem => vec!["path"],
                        _ => Vec::new(),
                    },
                },
                auth.span,
            );
        }
        // A password variable needs a password: an IAM user has none.
        if let Some(var) = used.vars.iter().find(|v| v.key.value == "password")
            && used.kind.value == StoreKind::Database
            && !used.password_auth()
        {
            // At the `uses` line, where `auth=` goes; the help says to add it there.
            d.push(
                Diagnostic::new(
                    ErrorKind::MissingProperty {
                        node: format!("uses database {}` with `env password=", used.name.value),
                        property: "auth",
                    },
                    used.name.span,
                )
                .with_label(var.key.span, "a password asked for here"),
            );
        }
    }
}

/// A migration Job's name fits its pods' `job-name` label, and its own env vars do not clash
/// with those it shares with the service (which it gets first).
fn migration(platform: &Platform, service: &Service, d: &mut Diagnostics) {
    let Some(migrate) = &service.migrate else {
        return;
    };
    let length = crate::emit::conventions::migration_job(service, migrate).len();
    if length > crate::emit::conventions::MIGRATION_NAME_MAX {
        d.push(
            Diagnostic::new(
                ErrorKind::OutOfRange {
                    what: "migration Job name length (`<service>-<name>`)",
                    value: length.to_string(),
                    min: 1,
                    max: i64::try_from(crate::emit::conventions::MIGRATION_NAME_MAX)
                        .unwrap_or(i64::MAX),
                },
                migrate.name.span,
            )
            .with_label(service.name.span, "the service's name"),
        );
    }
    own_env(platform, service, std::iter::once(&**migrate), d);
}

/// The own env vars of init containers and of the migration Job, which get the service's env
/// before them, do not clash with it.
fn own_env<'a>(
    platform: &Platform,
    service: &Service,
    containers: impl Iterator<Item = &'a crate::model::service::Container>,
    d: &mut Diagnostics,
) {
    let stores = platform.store_env(service);
    for var in containers.flat_map(|c| &c.env) {
        let shared = service
            .env
            .iter()
            .map(|v| &v.name)
            .chain(service.calls.iter().filter_map(|c| c.env.as_ref()))
            .chain(service.externals.iter().filter_map(|c| c.env.as_ref()))
            .find(|n| n.value == var.name.value)
            .map(|n| n.span)
            .or_else(|| {
                stores
                    .iter()
                    .find(|v| v.name == var.name.value)
                    .map(|v| v.used.span)
            });
        if let Some(span) = shared {
            d.push(
                Diagnostic::new(
                    ErrorKind::DuplicateEnv {
                        name: var.name.value.clone(),
                    },
                    var.name.span,
                )
                .with_label(span, "also set here"),
            );
        }
    }
}

/// The env vars a `uses` line sets must not clash with `env`, `calls … env=` or another store.
fn store_env(platform: &Platform, service: &Service, d: &mut Diagnostics) {
    let vars = platform.store_env(service);
    // One diagnostic per `uses` line, however many of its variables clash.
    let mut reported: Vec<crate::span::Span> = Vec::new();
    for (i, var) in vars.iter().enumerate() {
        if reported.contains(&var.used.span) {
            continue;
        }
        let declared = service
            .env
            .iter()
            .map(|v| &v.name)
            .chain(service.calls.iter().filter_map(|c| c.env.as_ref()))
            .chain(service.externals.iter().filter_map(|c| c.env.as_ref()))
            .find(|name| name.value == var.name);
        let other = declared.map(|n| (n.span, "also set here")).or_else(|| {
            vars[..i]
                .iter()
                .find(|v| v.name == var.name)
                .map(|v| (v.used.span, "first set by this store"))
        });
        if let Some((span, label)) = other {
            reported.push(var.used.span);
            d.push(
                Diagnostic::new(
                    ErrorKind::DuplicateEnv {
                        name: var.name.clone(),
                    },
                    var.used.span,
                )
                .with_label(span, label),
            );
        }
    }
}
