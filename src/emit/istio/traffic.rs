//! The traffic policy of a service: a `DestinationRule` (mTLS to the workload, load balancing,
//! connection pool and outlier detection from `circuit-breaker`, and `stable`/`canary` subsets
//! when there is a canary) and a mesh `VirtualService` (retries, per-try timeout, overall
//! timeout; the routes themselves are built in `routes.rs`).
//!
//! Istio retries twice by default when no `VirtualService` says otherwise, so a service without
//! `retries` gets `attempts: 0`: nothing is retried unless `platform.kdl` says so (a payment is
//! not idempotent).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{CANARY_SUBSET, STABLE_VERSION, duration, host, meshed, meta};
use crate::emit::istio::routes::{HttpMatch, PortSelector, VirtualServiceSpec, http_routes};
use crate::model::Platform;
use crate::model::mesh::{Mesh, MtlsMode};
use crate::model::service::{PortMtls, Service};
use crate::output::{Item, Owner, Resource};

const API_VERSION: &str = "networking.istio.io/v1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DestinationRuleSpec {
    host: String,
    traffic_policy: TrafficPolicy,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subsets: Vec<Subset>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TrafficPolicy {
    tls: Tls,
    #[serde(skip_serializing_if = "Option::is_none")]
    load_balancer: Option<LoadBalancer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_pool: Option<ConnectionPool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outlier_detection: Option<OutlierDetection>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    port_level_settings: Vec<PortSettings>,
}

#[derive(Serialize)]
struct Tls {
    mode: &'static str,
}

#[derive(Serialize)]
struct LoadBalancer {
    simple: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionPool {
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp: Option<TcpPool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<HttpPool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TcpPool {
    max_connections: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpPool {
    #[serde(skip_serializing_if = "Option::is_none")]
    http1_max_pending_requests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http2_max_requests: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutlierDetection {
    consecutive_5xx_errors: u32,
    interval: String,
    base_ejection_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_ejection_percent: Option<u32>,
}

#[derive(Serialize)]
struct PortSettings {
    port: PortSelector,
    tls: Tls,
}

#[derive(Serialize)]
struct Subset {
    name: String,
    labels: BTreeMap<String, String>,
}

/// The `DestinationRule` and mesh `VirtualService` of one service.
pub fn objects(platform: &Platform, mesh: &Mesh, service: &Service) -> Vec<Item> {
    if service.ports.is_empty() {
        return Vec::new();
    }
    let name = &service.name.value;
    let dir = format!("istio/services/{name}");
    let origin = service
        .circuit_breaker
        .as_ref()
        .map_or(service.span, |c| c.span);
    let mut out = vec![Item::resource(
        format!("{dir}/destinationrule.yaml"),
        Owner::Service(service.name.value.clone()),
        origin,
        Resource {
            api_version: API_VERSION,
            kind: "DestinationRule",
            metadata: meta(platform, service, name, origin),
            spec: destination_rule(platform, mesh, service),
        },
    )];
    let http = http_routes(
        service,
        &[],
        &|| vec![HttpMatch::default()],
        service.ports.len() > 1,
        "",
    );
    if !http.is_empty() {
        out.push(Item::resource(
            format!("{dir}/virtualservice.yaml"),
            Owner::Service(service.name.value.clone()),
            service.retries.as_ref().map_or(service.span, |r| r.span),
            Resource {
                api_version: API_VERSION,
                kind: "VirtualService",
                metadata: meta(
                    platform,
                    service,
                    name,
                    service.retries.as_ref().map_or(service.span, |r| r.span),
                ),
                spec: VirtualServiceSpec {
                    hosts: vec![host(service)],
                    gateways: Vec::new(),
                    http,
                    tls: Vec::new(),
                },
            },
        ));
    }
    out
}

fn destination_rule(platform: &Platform, mesh: &Mesh, service: &Service) -> DestinationRuleSpec {
    // Clients speak mTLS to a meshed workload; to one without a sidecar, or in a mesh with mTLS
    // off, they must speak plain text.
    let mutual = meshed(platform, service) && mesh.mtls.value != MtlsMode::Disabled;
    let port_level_settings = if mutual {
        service
            .mtls_exceptions
            .iter()
            .filter(|e| e.mode.value == PortMtls::Disable)
            .filter_map(|e| service.port(&e.port.value))
            .map(|p| PortSettings {
                port: PortSelector {
                    number: p.number.value,
                },
                tls: Tls { mode: "DISABLE" },
            })
            .collect()
    } else {
        Vec::new()
    };
    let breaker = service.circuit_breaker.as_ref();
    let connection_pool = breaker.and_then(|b| {
        let tcp = b.max_connections.as_ref().map(|m| TcpPool {
            max_connections: m.value,
        });
        let http = (b.max_pending.is_some() || b.max_requests.is_some()).then(|| HttpPool {
            http1_max_pending_requests: b.max_pending.as_ref().map(|m| m.value),
            http2_max_requests: b.max_requests.as_ref().map(|m| m.value),
        });
        (tcp.is_some() || http.is_some()).then_some(ConnectionPool { tcp, http })
    });
    let outlier_detection = breaker.map(|b| OutlierDetection {
        consecutive_5xx_errors: b.consecutive_errors.value,
        interval: duration(&b.interval.value),
        base_ejection_time: duration(&b.ejection.value),
        max_ejection_percent: b
            .max_ejection
            .as_ref()
            .map(|p| p.value.thousandths.div_ceil(1000)),
    });
    let app = || BTreeMap::from([("app".to_owned(), service.name.value.clone())]);
    let subsets = if service.canary.is_some() {
        // Argo Rollouts adds each subset's `rollouts-pod-template-hash` as it moves.
        [STABLE_VERSION, CANARY_SUBSET]
            .into_iter()
            .map(|name| Subset {
                name: name.to_owned(),
                labels: app(),
            })
            .collect()
    } else if service.versions.is_empty() {
        Vec::new()
    } else {
        // A subset per version, each picking the pods of its own Deployment.
        std::iter::once(STABLE_VERSION)
            .chain(service.versions.iter().map(|v| v.name.value.as_str()))
            .map(|name| {
                let mut labels = app();
                labels.insert("version".into(), name.to_owned());
                Subset {
                    name: name.to_owned(),
                    labels,
                }
            })
            .collect()
    };
    DestinationRuleSpec {
        host: host(service),
        traffic_policy: TrafficPolicy {
            tls: Tls {
                mode: if mutual { "ISTIO_MUTUAL" } else { "DISABLE" },
            },
            load_balancer: Some(LoadBalancer {
                simple: "LEAST_REQUEST",
            }),
            connection_pool,
            outlier_detection,
            port_level_settings,
        },
        subsets,
    }
}
