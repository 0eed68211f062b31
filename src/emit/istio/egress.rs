//! The egress gateway (`mesh { egress-gateway }`): every `calls-external` of a meshed service
//! leaves through Istio's egress gateway instead of from its own pod.
//!
//! The sidecar sends the call to the gateway inside the mesh's mTLS, with the outside host as
//! the SNI of that connection (the gateway's `DestinationRule` subset of the host, in the
//! caller's namespace); the application's own TLS stream (or plain HTTP, or an opaque TCP
//! stream) rides inside it unchanged. The gateway ends the mTLS on a server for that host
//! (`ISTIO_MUTUAL`: port 443 for streams, 80 for HTTP), so it knows the caller's principal:
//! its `AuthorizationPolicy` admits, per host, only the principals of the services that
//! declare the call (`connection.sni`), and its route sends the stream on to the host and port.
//! Nothing is decrypted that the application encrypted: TLS is end to end, as without the
//! gateway. The caller's `ServiceEntry` and `Sidecar` stay as they are (the sidecar must know
//! the host to route it); the gateway has its own `ServiceEntry`, in its namespace.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{
    EGRESS_GATEWAY_OBJECT, WorkloadSelector, egress_gateway_host, egress_label, egress_port,
    egress_workload, external_entry, gateway_namespace, platform_meta, principal, via_egress,
};
use crate::model::mesh::Mesh;
use crate::model::service::{ExternalCall, ExternalProtocol, Service};
use crate::model::{Checked, Platform};
use crate::output::{Item, Owner, Resource};
use crate::span::Span;

const NETWORKING: &str = "networking.istio.io/v1";
const SECURITY: &str = "security.istio.io/v1";

#[derive(Serialize)]
struct GatewaySpec {
    selector: BTreeMap<String, String>,
    servers: Vec<Server>,
}

#[derive(Serialize)]
struct Server {
    port: ServerPort,
    hosts: Vec<String>,
    tls: ServerTls,
}

#[derive(Serialize)]
struct ServerPort {
    number: u16,
    name: String,
    protocol: &'static str,
}

#[derive(Serialize)]
struct ServerTls {
    mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VirtualServiceSpec {
    hosts: Vec<String>,
    export_to: Vec<&'static str>,
    gateways: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    http: Vec<Route>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tls: Vec<Route>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tcp: Vec<Route>,
}

#[derive(Serialize)]
struct Route {
    #[serde(rename = "match")]
    r#match: Vec<Match>,
    route: Vec<RouteDestination>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Match {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    gateways: Vec<String>,
    port: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sni_hosts: Vec<String>,
}

#[derive(Serialize)]
struct RouteDestination {
    destination: Destination,
}

#[derive(Serialize)]
struct Destination {
    host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    subset: Option<String>,
    port: PortSelector,
}

#[derive(Serialize)]
struct PortSelector {
    number: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DestinationRuleSpec {
    host: String,
    export_to: Vec<&'static str>,
    subsets: Vec<Subset>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Subset {
    name: String,
    traffic_policy: SubsetPolicy,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubsetPolicy {
    port_level_settings: Vec<PortSettings>,
}

#[derive(Serialize)]
struct PortSettings {
    port: PortSelector,
    tls: ClientTls,
}

#[derive(Serialize)]
struct ClientTls {
    mode: &'static str,
    sni: String,
}

#[derive(Serialize)]
struct AllowSpec {
    selector: WorkloadSelector,
    action: &'static str,
    rules: Vec<AllowRule>,
}

#[derive(Serialize)]
struct AllowRule {
    from: Vec<From>,
    to: Vec<To>,
    when: Vec<Condition>,
}

#[derive(Serialize)]
struct From {
    source: Source,
}

#[derive(Serialize)]
struct Source {
    principals: Vec<String>,
}

#[derive(Serialize)]
struct To {
    operation: Operation,
}

#[derive(Serialize)]
struct Operation {
    ports: Vec<String>,
}

#[derive(Serialize)]
struct Condition {
    key: &'static str,
    values: Vec<String>,
}

/// One outside host as the egress gateway carries it: its calls, in source order, each with
/// its caller.
type Calls<'a> = Vec<(&'a Service, &'a ExternalCall)>;

/// The outside hosts of the calls that leave through the egress gateway, from `services`.
pub fn routed_hosts<'a>(
    platform: &Platform,
    services: &[&'a Service],
) -> BTreeMap<String, Calls<'a>> {
    let mut hosts: BTreeMap<String, Calls<'a>> = BTreeMap::new();
    for service in services.iter().filter(|s| via_egress(platform, s)) {
        for external in &service.externals {
            hosts
                .entry(external_entry(&external.host.value))
                .or_default()
                .push((service, external));
        }
    }
    hosts
}

/// One call per port number (the check holds a host's calls on one port to one protocol and
/// one gateway port to one destination port), in number order.
fn by_port<'a>(calls: &Calls<'a>) -> BTreeMap<u16, &'a ExternalCall> {
    calls
        .iter()
        .rev()
        .map(|(_, c)| (c.port.value, *c))
        .collect()
}

/// The egress gateway's objects (the platform's, with `shared`) and those in each of
/// `namespaces`, the callers' namespaces wanted (`Output::namespaces`).
pub fn objects(
    platform: &Checked,
    mesh: &Mesh,
    namespaces: &BTreeMap<&str, Vec<&Service>>,
    shared: bool,
) -> Vec<Item> {
    let Some(origin) = mesh.egress_gateway else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (namespace, services) in namespaces {
        out.extend(namespace_objects(platform, namespace, services));
    }
    if !shared {
        return out;
    }
    let all: Vec<&Service> = platform.services.iter().collect();
    let hosts = routed_hosts(platform, &all);
    let namespace = gateway_namespace();
    let gateway_ref = EGRESS_GATEWAY_OBJECT.to_owned();
    let mut servers = Vec::new();
    let mut rules = Vec::new();
    for (host, calls) in &hosts {
        let label = egress_label(host);
        let ports = by_port(calls);
        // The gateway's servers for the host: one per gateway port its calls use.
        let mut gateway_ports: Vec<(u16, &ExternalCall)> = Vec::new();
        for call in ports.values() {
            let port = egress_port(call);
            if !gateway_ports.iter().any(|(p, _)| *p == port) {
                gateway_ports.push((port, call));
            }
        }
        gateway_ports.sort_by_key(|(p, _)| *p);
        for (port, call) in &gateway_ports {
            let http = call.protocol.value == ExternalProtocol::Http;
            servers.push(Server {
                port: ServerPort {
                    number: *port,
                    // Named for what the server speaks: HTTP inside the mesh's mTLS.
                    name: format!("{}-{label}", if http { "https" } else { "tls" }),
                    protocol: if http { "HTTPS" } else { "TLS" },
                },
                // Bound by the gateway's own route alone (in its namespace).
                hosts: vec![format!("{namespace}/{host}")],
                tls: ServerTls {
                    mode: "ISTIO_MUTUAL",
                },
            });
            // The declared callers of the host on this gateway port, in source order.
            let mut principals: Vec<String> = Vec::new();
            for (service, c) in calls {
                if egress_port(c) == *port && !principals.contains(&principal(service)) {
                    principals.push(principal(service));
                }
            }
            rules.push(AllowRule {
                from: vec![From {
                    source: Source { principals },
                }],
                to: vec![To {
                    operation: Operation {
                        ports: vec![port.to_string()],
                    },
                }],
                when: vec![Condition {
                    key: "connection.sni",
                    values: vec![host.clone()],
                }],
            });
        }
        // The gateway's own entry of the host, so its route can name it.
        let entry_origin = calls[0].1.span;
        out.push(Item::resource(
            format!("istio/egress/service-entry-{host}.yaml"),
            Owner::Platform,
            entry_origin,
            Resource {
                api_version: NETWORKING,
                kind: "ServiceEntry",
                metadata: platform_meta(platform, host, namespace, entry_origin),
                spec: super::external::entry_spec(host, ports.iter().map(|(n, c)| (*n, *c))),
            },
        ));
        // From the gateway on to the host, on the port the callers dial.
        let mut spec = VirtualServiceSpec {
            hosts: vec![host.clone()],
            export_to: vec!["."],
            gateways: vec![gateway_ref.clone()],
            http: Vec::new(),
            tls: Vec::new(),
            tcp: Vec::new(),
        };
        for (number, call) in &ports {
            let route = Route {
                r#match: vec![Match {
                    gateways: vec![gateway_ref.clone()],
                    port: egress_port(call),
                    sni_hosts: Vec::new(),
                }],
                route: vec![RouteDestination {
                    destination: Destination {
                        host: host.clone(),
                        subset: None,
                        port: PortSelector { number: *number },
                    },
                }],
            };
            if call.protocol.value == ExternalProtocol::Http {
                spec.http.push(route);
            } else {
                spec.tcp.push(route);
            }
        }
        out.push(Item::resource(
            format!("istio/egress/virtualservice-{label}.yaml"),
            Owner::Platform,
            entry_origin,
            Resource {
                api_version: NETWORKING,
                kind: "VirtualService",
                metadata: platform_meta(
                    platform,
                    &format!("egress-{label}"),
                    namespace,
                    entry_origin,
                ),
                spec,
            },
        ));
    }
    if hosts.is_empty() {
        return out;
    }
    let selector: BTreeMap<String, String> = egress_workload()
        .labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    out.push(Item::resource(
        "istio/egress/gateway.yaml".to_owned(),
        Owner::Platform,
        origin,
        Resource {
            api_version: NETWORKING,
            kind: "Gateway",
            metadata: platform_meta(platform, EGRESS_GATEWAY_OBJECT, namespace, origin),
            spec: GatewaySpec {
                selector: selector.clone(),
                servers,
            },
        },
    ));
    out.push(Item::resource(
        "istio/egress/authorizationpolicy.yaml".to_owned(),
        Owner::Platform,
        origin,
        Resource {
            api_version: SECURITY,
            kind: "AuthorizationPolicy",
            metadata: platform_meta(platform, EGRESS_GATEWAY_OBJECT, namespace, origin),
            spec: AllowSpec {
                selector: WorkloadSelector {
                    match_labels: selector,
                },
                action: "ALLOW",
                rules,
            },
        },
    ));
    out
}

/// In a caller's namespace: the route of each host to the egress gateway, and the gateway's
/// subsets that carry each host's name as the SNI of the mTLS connection.
fn namespace_objects(platform: &Platform, namespace: &str, services: &[&Service]) -> Vec<Item> {
    let hosts = routed_hosts(platform, services);
    let Some(first) = hosts.values().next().map(|c| c[0].1.span) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut subsets = Vec::new();
    for (host, calls) in &hosts {
        let label = egress_label(host);
        let ports = by_port(calls);
        let mut settings: Vec<u16> = ports.values().map(|c| egress_port(c)).collect();
        settings.sort_unstable();
        settings.dedup();
        subsets.push(Subset {
            name: label.clone(),
            traffic_policy: SubsetPolicy {
                port_level_settings: settings
                    .into_iter()
                    .map(|number| PortSettings {
                        port: PortSelector { number },
                        tls: ClientTls {
                            mode: "ISTIO_MUTUAL",
                            sni: host.clone(),
                        },
                    })
                    .collect(),
            },
        });
        let mut spec = VirtualServiceSpec {
            hosts: vec![host.clone()],
            export_to: vec!["."],
            gateways: vec!["mesh".into()],
            http: Vec::new(),
            tls: Vec::new(),
            tcp: Vec::new(),
        };
        for (number, call) in &ports {
            let protocol = call.protocol.value;
            let route = Route {
                r#match: vec![Match {
                    gateways: Vec::new(),
                    port: *number,
                    // Several TLS hosts share a port: the stream's own SNI tells them apart.
                    sni_hosts: if matches!(
                        protocol,
                        ExternalProtocol::Tls | ExternalProtocol::Https
                    ) {
                        vec![host.clone()]
                    } else {
                        Vec::new()
                    },
                }],
                route: vec![RouteDestination {
                    destination: Destination {
                        host: egress_gateway_host(),
                        subset: Some(label.clone()),
                        port: PortSelector {
                            number: egress_port(call),
                        },
                    },
                }],
            };
            match protocol {
                ExternalProtocol::Http => spec.http.push(route),
                ExternalProtocol::Tls | ExternalProtocol::Https => spec.tls.push(route),
                ExternalProtocol::Tcp => spec.tcp.push(route),
            }
        }
        let origin: Span = calls[0].1.span;
        out.push(Item::resource(
            format!("istio/namespaces/{namespace}/egress-virtualservice-{label}.yaml"),
            Owner::Namespace(namespace.to_owned()),
            origin,
            Resource {
                api_version: NETWORKING,
                kind: "VirtualService",
                metadata: platform_meta(platform, &format!("egress-{label}"), namespace, origin),
                spec,
            },
        ));
    }
    out.push(Item::resource(
        format!("istio/namespaces/{namespace}/egress-destinationrule.yaml"),
        Owner::Namespace(namespace.to_owned()),
        first,
        Resource {
            api_version: NETWORKING,
            kind: "DestinationRule",
            metadata: platform_meta(platform, EGRESS_GATEWAY_OBJECT, namespace, first),
            spec: DestinationRuleSpec {
                host: egress_gateway_host(),
                export_to: vec!["."],
                subsets,
            },
        },
    ));
    out
}
