//! Zero trust from the call graph: an `AuthorizationPolicy` with an empty spec in every
//! namespace (Istio then denies every request no ALLOW policy matches), and for each meshed
//! service an ALLOW policy that names exactly the principals of its declared callers
//! (`cluster.local/ns/<ns>/sa/<sa>`) on the workload ports they call, plus the ingress gateway's
//! principal on the exposed port.
//!
//! A `calls` or `expose` line is the only way in, and `stateful { peers … }` for the service's
//! own replicas on its peer ports. Prometheus needs no rule: it scrapes the
//! merged metrics on port 15020, which the sidecar's iptables rules never send through the
//! inbound listener (like 15021 and 15090), so no policy applies there. Kubelet probes are
//! rewritten to go through the same agent port. A caller outside the mesh has no principal; it
//! is allowed only where the callee accepts plain text on that port (a permissive mesh, or an
//! `mtls-exception`), as "no principal" (`notPrincipals: ["*"]`) on that port alone, and the
//! `NetworkPolicy` still admits only that caller's pods.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{
    WorkloadSelector, called_port, exposed_ports, gateway_principal, meshed, meta, peer_ports,
    platform_meta, principal,
};
use crate::model::mesh::MtlsMode;
use crate::model::service::Service;
use crate::model::{Checked, Platform};
use crate::output::{Item, Owner, Resource};

const API_VERSION: &str = "security.istio.io/v1";
const KIND: &str = "AuthorizationPolicy";
/// The name of the namespace baseline.
pub const DENY_ALL: &str = "deny-all";

/// An empty spec: matches nothing, so everything is denied.
#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct AllowSpec {
    selector: WorkloadSelector,
    action: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Rule {
    from: Vec<From>,
    to: Vec<To>,
}

#[derive(Serialize)]
struct From {
    source: Source,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    principals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_principals: Vec<String>,
}

#[derive(Serialize)]
struct To {
    operation: Operation,
}

#[derive(Serialize)]
struct Operation {
    ports: Vec<String>,
}

/// The deny-all policy of each of `namespaces` (`Output::namespaces`) with a meshed service.
pub fn deny_all(platform: &Checked, namespaces: &BTreeMap<&str, Vec<&Service>>) -> Vec<Item> {
    let mut out = Vec::new();
    for (namespace, services) in namespaces {
        if !services.iter().any(|s| meshed(platform, s)) {
            continue;
        }
        let origin = services[0].span;
        out.push(Item::resource(
            format!("istio/namespaces/{namespace}/authorizationpolicy-{DENY_ALL}.yaml"),
            Owner::Namespace(namespace.to_string()),
            origin,
            Resource {
                api_version: API_VERSION,
                kind: KIND,
                metadata: platform_meta(platform, DENY_ALL, namespace, origin),
                spec: Empty {},
            },
        ));
    }
    out
}

/// `(workload port, principals, plain-text callers)` in the order callers are declared.
type Grants = Vec<(u16, Vec<String>, bool)>;

fn grant(grants: &mut Grants, port: u16, principal: Option<String>) {
    let index = grants
        .iter()
        .position(|(p, _, _)| *p == port)
        .unwrap_or_else(|| {
            grants.push((port, Vec::new(), false));
            grants.len() - 1
        });
    let entry = &mut grants[index];
    match principal {
        Some(p) if !entry.1.contains(&p) => entry.1.push(p),
        Some(_) => {}
        None => entry.2 = true,
    }
}

/// The ALLOW policy of a meshed service; none when nothing may call it (the baseline denies).
pub fn allow(platform: &Platform, service: &Service) -> Option<Item> {
    if !meshed(platform, service) || service.ports.is_empty() {
        return None;
    }
    let mesh = platform.mesh.as_ref()?;
    let mut grants: Grants = Vec::new();
    for (caller, call) in platform.callers(&service.name.value) {
        {
            let Some(port) = called_port(service, call) else {
                continue;
            };
            if meshed(platform, caller) {
                grant(&mut grants, port.container_port(), Some(principal(caller)));
            } else {
                let plain_text = mesh.mtls.value != MtlsMode::Strict
                    || service
                        .mtls_exceptions
                        .iter()
                        .any(|e| e.port.value == port.name.value);
                if plain_text {
                    grant(&mut grants, port.container_port(), None);
                }
            }
        }
    }
    // The replicas of a clustered store call each other (`stateful { peers … }`).
    for port in peer_ports(service) {
        grant(&mut grants, port.container_port(), Some(principal(service)));
    }
    if !service.expose.is_empty() {
        for port in exposed_ports(service) {
            grant(
                &mut grants,
                port.container_port(),
                Some(gateway_principal()),
            );
        }
    }
    if grants.is_empty() {
        return None;
    }
    let mut rules = Vec::new();
    for (port, principals, plain_text) in grants {
        let to = || {
            vec![To {
                operation: Operation {
                    ports: vec![port.to_string()],
                },
            }]
        };
        if !principals.is_empty() {
            rules.push(Rule {
                from: vec![From {
                    source: Source {
                        principals,
                        not_principals: Vec::new(),
                    },
                }],
                to: to(),
            });
        }
        if plain_text {
            rules.push(Rule {
                from: vec![From {
                    source: Source {
                        principals: Vec::new(),
                        not_principals: vec!["*".into()],
                    },
                }],
                to: to(),
            });
        }
    }
    Some(Item::resource(
        format!(
            "istio/services/{}/authorizationpolicy.yaml",
            service.name.value
        ),
        Owner::Service(service.name.value.clone()),
        service.span,
        Resource {
            api_version: API_VERSION,
            kind: KIND,
            metadata: meta(platform, service, &service.name.value, service.span),
            spec: AllowSpec {
                selector: WorkloadSelector::app(service),
                action: "ALLOW",
                rules,
            },
        },
    ))
}
