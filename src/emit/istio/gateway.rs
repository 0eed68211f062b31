//! The ingress: an Istio `Gateway` per declared `gateway` (in the root namespace, on the
//! `istio=ingressgateway` pods), and one `VirtualService` per host on it that holds every
//! `expose` line's route for the host, most specific first.
//!
//! TLS ends at the gateway (`SIMPLE`, or `MUTUAL` with client certificates) with the certificate
//! cert-manager keeps in the Secret `<gateway>-tls` (see `certificate.rs`); plain HTTP on port 80
//! only redirects to HTTPS unless `redirect-http=#false`. Each host is bound only for the
//! gateway's namespace (`<namespace>/<host>`), where its `VirtualService` is, so no other
//! namespace can attach a route to the gateway.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{
    bare_prefix, credential_name, expose_host, expose_route_prefix, exposed_port,
    gateway_namespace, gateway_workload, host, ingress_virtual_service, platform_meta,
    route_specificity,
};
use crate::emit::istio::routes::{
    Destination, HttpMatch, PortSelector, Rewrite, RouteDestination, StringMatch, TlsMatch,
    TlsRoute, VirtualServiceSpec, http_routes,
};
use crate::model::mesh::{Gateway, Mesh, TlsMode};
use crate::model::service::{Expose, PathMatch, Port, Service};
use crate::model::{Checked, Platform};
use crate::output::{Item, Owner, Resource};

const API_VERSION: &str = "networking.istio.io/v1";

#[derive(Serialize)]
struct GatewaySpec {
    selector: BTreeMap<String, String>,
    servers: Vec<Server>,
}

#[derive(Serialize)]
struct Server {
    port: ServerPort,
    hosts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<ServerTls>,
}

#[derive(Serialize)]
struct ServerPort {
    number: u16,
    name: &'static str,
    protocol: &'static str,
}

#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServerTls {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    https_redirect: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_protocol_version: Option<&'static str>,
}

/// The `expose` lines on a gateway, with their service and index among the service's
/// lines, in source order.
pub fn exposed<'a>(
    platform: &'a Platform,
    gateway: &Gateway,
) -> Vec<(&'a Service, usize, &'a Expose)> {
    platform
        .services
        .iter()
        .flat_map(|s| s.expose.iter().enumerate().map(move |(i, e)| (s, i, e)))
        .filter(|(_, _, e)| e.gateway.value == gateway.name.value)
        .collect()
}

/// Every host a gateway serves: its own, then those its services add.
pub fn gateway_hosts(platform: &Platform, gateway: &Gateway) -> Vec<String> {
    let mut hosts: Vec<String> = gateway.hosts.iter().map(|h| h.value.clone()).collect();
    for (_, _, expose) in exposed(platform, gateway) {
        if let Some(h) = expose_host(platform, expose)
            && !hosts.contains(&h)
        {
            hosts.push(h);
        }
    }
    hosts
}

pub fn objects(platform: &Checked, mesh: &Mesh) -> Vec<Item> {
    let mut out = Vec::new();
    for gateway in &mesh.gateways {
        out.push(Item::resource(
            format!("istio/gateways/{}/gateway.yaml", gateway.name.value),
            Owner::Platform,
            gateway.span,
            Resource {
                api_version: API_VERSION,
                kind: "Gateway",
                metadata: {
                    let mut metadata = platform_meta(
                        platform,
                        &gateway.name.value,
                        gateway_namespace(),
                        gateway.span,
                    );
                    if let Some(reason) = &gateway.reason {
                        metadata
                            .annotations
                            .get_or_insert_default()
                            .insert("platc.dev/tls-reason".into(), reason.value.clone());
                    }
                    metadata
                },
                spec: gateway_spec(platform, gateway),
            },
        ));
        for host in gateway_hosts(platform, gateway) {
            let routes: Vec<_> = exposed(platform, gateway)
                .into_iter()
                .filter(|(_, _, e)| expose_host(platform, e).as_deref() == Some(host.as_str()))
                .collect();
            if !routes.is_empty() {
                out.push(ingress_routes(platform, gateway, &host, routes));
            }
        }
    }
    out
}

fn gateway_spec(platform: &Platform, gateway: &Gateway) -> GatewaySpec {
    // Every host is bound for the gateway's own namespace only, where platc puts each host's
    // one `VirtualService`: no other namespace can attach a route to the gateway.
    let hosts: Vec<String> = gateway_hosts(platform, gateway)
        .into_iter()
        .map(|h| format!("{}/{h}", gateway_namespace()))
        .collect();
    let mut servers = Vec::new();
    let secure = |mode| ServerTls {
        mode: Some(mode),
        credential_name: (mode != "PASSTHROUGH").then(|| credential_name(gateway)),
        min_protocol_version: (mode != "PASSTHROUGH").then_some("TLSV1_2"),
        ..ServerTls::default()
    };
    let https = match gateway.tls.value {
        TlsMode::Simple => Some(("HTTPS", secure("SIMPLE"))),
        TlsMode::Mutual => Some(("HTTPS", secure("MUTUAL"))),
        TlsMode::Passthrough => Some(("TLS", secure("PASSTHROUGH"))),
        TlsMode::Disabled => None,
    };
    let redirect = https.is_some() && gateway.redirect_http.value;
    if let Some((protocol, tls)) = https {
        servers.push(Server {
            port: ServerPort {
                number: 443,
                name: "https",
                protocol,
            },
            hosts: hosts.clone(),
            tls: Some(tls),
        });
    }
    if redirect || gateway.tls.value == TlsMode::Disabled {
        servers.push(Server {
            port: ServerPort {
                number: 80,
                name: "http",
                protocol: "HTTP",
            },
            hosts,
            tls: redirect.then(|| ServerTls {
                https_redirect: true,
                ..ServerTls::default()
            }),
        });
    }
    GatewaySpec {
        selector: gateway_workload()
            .labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        servers,
    }
}

/// The one `VirtualService` of a host on a gateway: Istio merges several bound to one host
/// in no defined order, so platc puts every service's routes for the host into one object, in
/// the gateway's namespace, most specific first.
fn ingress_routes(
    platform: &Platform,
    gateway: &Gateway,
    host_name: &str,
    mut routes: Vec<(&Service, usize, &Expose)>,
) -> Item {
    routes.sort_by_key(|(_, _, e)| route_specificity(e));
    let name = ingress_virtual_service(&gateway.name.value, host_name);
    let mut spec = VirtualServiceSpec {
        hosts: vec![host_name.to_owned()],
        gateways: vec![format!("{}/{}", gateway_namespace(), gateway.name.value)],
        http: Vec::new(),
        tls: Vec::new(),
    };
    for (service, index, expose) in routes {
        let ports: Vec<&Port> = exposed_port(service, expose).into_iter().collect();
        if gateway.tls.value == TlsMode::Passthrough {
            // The gateway forwards the TLS stream by SNI; the service terminates it.
            if let Some(port) = ports.first() {
                spec.tls.push(TlsRoute {
                    r#match: vec![TlsMatch {
                        port: 443,
                        sni_hosts: vec![host_name.to_owned()],
                    }],
                    route: vec![RouteDestination {
                        destination: Destination {
                            host: host(service),
                            subset: None,
                            port: PortSelector {
                                number: port.number.value,
                            },
                        },
                        weight: None,
                    }],
                });
            }
            continue;
        }
        let path = expose.path.value.clone();
        let kind = expose.r#match.value;
        let bare_path = bare_prefix(expose).map(str::to_owned);
        // A prefix ending in `/` takes its bare path too (`/api/admin` with `/api/admin/`).
        let base = || {
            let uri = |m| HttpMatch {
                uri: Some(m),
                ..HttpMatch::default()
            };
            let mut matches = vec![uri(match kind {
                PathMatch::Exact => StringMatch::Exact(path.clone()),
                PathMatch::Prefix => StringMatch::Prefix(path.clone()),
                PathMatch::Regex => StringMatch::Regex(path.clone()),
            })];
            matches.extend(bare_path.clone().map(|b| uri(StringMatch::Exact(b))));
            matches
        };
        let prefix = expose_route_prefix(service, index);
        let mut http = http_routes(service, &ports, &base, false, &prefix);
        if let Some(rewrite) = &expose.rewrite {
            for route in &mut http {
                route.rewrite = Some(Rewrite {
                    uri: rewrite.value.clone(),
                });
            }
        }
        spec.http.extend(http);
    }
    Item::resource(
        format!(
            "istio/gateways/{}/virtualservice-{name}.yaml",
            gateway.name.value
        ),
        Owner::Platform,
        gateway.span,
        Resource {
            api_version: API_VERSION,
            kind: "VirtualService",
            metadata: platform_meta(platform, &name, gateway_namespace(), gateway.span),
            spec,
        },
    )
}
