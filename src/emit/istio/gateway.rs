//! The ingress: an Istio `Gateway` per declared `gateway` (in the root namespace, on the
//! `istio=ingressgateway` pods), and a `VirtualService` per exposed service that binds its host
//! and path to that gateway.
//!
//! TLS ends at the gateway (`SIMPLE`, or `MUTUAL` with client certificates) with the certificate
//! cert-manager keeps in the Secret `<gateway>-tls` (see `certificate.rs`); plain HTTP on port 80
//! only redirects to HTTPS unless `redirect-http=#false`. Each host is bound only for the
//! namespaces whose services are exposed on it (`<namespace>/<host>`), so no other namespace can
//! attach a route to the gateway.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{
    exposed_ports, gateway_namespace, gateway_workload, host, meta, platform_meta,
};
use crate::emit::istio::routes::{
    Destination, HttpMatch, PortSelector, RouteDestination, StringMatch, TlsMatch, TlsRoute,
    VirtualServiceSpec, http_routes,
};
use crate::model::mesh::{Gateway, Mesh, TlsMode};
use crate::model::service::{Port, Service};
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

/// The Secret holding a gateway's certificate, in the root namespace.
pub fn credential_name(gateway: &Gateway) -> String {
    format!("{}-tls", gateway.name.value)
}

/// The host a service is exposed on: its own `host=`, else its gateway's first host.
pub fn exposed_host(gateway: &Gateway, service: &Service) -> Option<String> {
    let expose = service.expose.as_ref()?;
    expose
        .host
        .as_ref()
        .map(|h| h.value.clone())
        .or_else(|| gateway.hosts.first().map(|h| h.value.clone()))
}

/// The services exposed on a gateway, in source order.
pub fn exposed<'a>(platform: &'a Platform, gateway: &Gateway) -> Vec<&'a Service> {
    platform
        .services
        .iter()
        .filter(|s| {
            s.expose
                .as_ref()
                .is_some_and(|e| e.gateway.value == gateway.name.value)
        })
        .collect()
}

/// Every host a gateway serves: its own, then those its services add.
pub fn gateway_hosts(platform: &Platform, gateway: &Gateway) -> Vec<String> {
    let mut hosts: Vec<String> = gateway.hosts.iter().map(|h| h.value.clone()).collect();
    for service in exposed(platform, gateway) {
        if let Some(h) = exposed_host(gateway, service)
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
        for service in exposed(platform, gateway) {
            out.push(ingress_route(platform, gateway, service));
        }
    }
    out
}

fn gateway_spec(platform: &Platform, gateway: &Gateway) -> GatewaySpec {
    // `<namespace>/<host>` for each namespace exposed on the host; a host no service uses is
    // bound to the root namespace only, where platc puts no route.
    let mut hosts = Vec::new();
    for h in gateway_hosts(platform, gateway) {
        let mut namespaces: Vec<&str> = exposed(platform, gateway)
            .into_iter()
            .filter(|s| exposed_host(gateway, s).as_deref() == Some(h.as_str()))
            .map(|s| s.namespace.as_str())
            .collect();
        namespaces.dedup();
        if namespaces.is_empty() {
            namespaces.push(gateway_namespace());
        }
        for ns in namespaces {
            let bound = format!("{ns}/{h}");
            if !hosts.contains(&bound) {
                hosts.push(bound);
            }
        }
    }
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

/// The `VirtualService` that binds an exposed service's host and path to its gateway.
fn ingress_route(platform: &Platform, gateway: &Gateway, service: &Service) -> Item {
    let expose = service.expose.as_ref().expect("only exposed services");
    let host_name = exposed_host(gateway, service).unwrap_or_default();
    // One port behind a host and path: a second would never be reached.
    let ports: Vec<&Port> = exposed_ports(service).into_iter().take(1).collect();
    let mut spec = VirtualServiceSpec {
        hosts: vec![host_name.clone()],
        gateways: vec![format!("{}/{}", gateway_namespace(), gateway.name.value)],
        http: Vec::new(),
        tls: Vec::new(),
    };
    if gateway.tls.value == TlsMode::Passthrough {
        // The gateway forwards the TLS stream by SNI; the service terminates it.
        if let Some(port) = ports.first() {
            spec.tls.push(TlsRoute {
                r#match: vec![TlsMatch {
                    port: 443,
                    sni_hosts: vec![host_name],
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
    } else {
        let path = expose.path.value.clone();
        let base = || HttpMatch {
            uri: Some(StringMatch::Prefix(path.clone())),
            ..HttpMatch::default()
        };
        spec.http = http_routes(service, &ports, &base, false);
    }
    Item::resource(
        format!(
            "istio/services/{}/virtualservice-{}.yaml",
            service.name.value, gateway.name.value
        ),
        Owner::Service(service.name.value.clone()),
        expose.span,
        Resource {
            api_version: API_VERSION,
            kind: "VirtualService",
            metadata: meta(
                platform,
                service,
                &format!("{}-{}", service.name.value, gateway.name.value),
                expose.span,
            ),
            spec,
        },
    )
}
