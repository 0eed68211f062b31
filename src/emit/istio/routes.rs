//! The HTTP and TLS routes of a `VirtualService`, shared by the mesh route of each service and
//! the ingress route of an exposed one: per HTTP port, a header-match route to the canary subset
//! and a weighted `primary` route (the one Argo Rollouts moves) when there is a canary, else one
//! plain route; each with the service's retries and timeout.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{
    CANARY_SUBSET, PRIMARY_ROUTE, STABLE_VERSION, duration, host, route_ports, route_suffix,
};
use crate::model::service::{Port, Service, Version};

#[derive(Serialize)]
pub struct PortSelector {
    pub number: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualServiceSpec {
    pub hosts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gateways: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http: Vec<HttpRoute>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls: Vec<TlsRoute>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRoute {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub r#match: Vec<HttpMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<Rewrite>,
    pub route: Vec<RouteDestination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<Retries>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<StringMatch>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, StringMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StringMatch {
    Exact(String),
    Prefix(String),
    Regex(String),
}

/// `rewrite.uri`: replaces the matched prefix (or, after an exact or regex match, the whole
/// path) before the request goes on.
#[derive(Clone, Serialize)]
pub struct Rewrite {
    pub uri: String,
}

#[derive(Serialize)]
pub struct RouteDestination {
    pub destination: Destination,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}

#[derive(Serialize)]
pub struct Destination {
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
    pub port: PortSelector,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Retries {
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_try_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsRoute {
    pub r#match: Vec<TlsMatch>,
    pub route: Vec<RouteDestination>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsMatch {
    pub port: u16,
    pub sni_hosts: Vec<String>,
}

/// The HTTP routes to a service: per HTTP port (only `ports` when not empty), a header-match
/// route to the canary and a weighted route when there is a canary, else one plain route; each
/// with the retries and timeout. `base` is the match every route starts from (a URI prefix at
/// the ingress); `match_port` adds the Service port to it (in the mesh, where a service has
/// several ports; never at a gateway, whose ports are its own). Every route's name starts with
/// `prefix` (unique per `expose` line in a host's shared `VirtualService`).
pub fn http_routes(
    service: &Service,
    ports: &[&Port],
    base: &dyn Fn() -> Vec<HttpMatch>,
    match_port: bool,
    prefix: &str,
) -> Vec<HttpRoute> {
    let mut routes = Vec::new();
    for port in route_ports(service, ports) {
        // Named by port only where a service has several.
        let suffix = route_suffix(service, port);
        // The route's alternatives; none when it takes every request.
        let matched = || -> Vec<HttpMatch> {
            base()
                .into_iter()
                .map(|mut m| {
                    if match_port {
                        m.port = Some(port.number.value);
                    }
                    m
                })
                .filter(|m| m.uri.is_some() || m.port.is_some())
                .collect()
        };
        // Each alternative of the route with one more header: a header route's matches.
        let with_header = |name: String, value: StringMatch| -> Vec<HttpMatch> {
            let mut alternatives = matched();
            if alternatives.is_empty() {
                alternatives.push(HttpMatch::default());
            }
            for m in &mut alternatives {
                m.headers.insert(name.clone(), value.clone());
            }
            alternatives
        };
        let destination = |subset: Option<&str>| Destination {
            host: host(service),
            subset: subset.map(str::to_owned),
            port: PortSelector {
                number: port.number.value,
            },
        };
        let retries = Some(service.retries.as_ref().map_or(
            Retries {
                attempts: 0,
                per_try_timeout: None,
                retry_on: None,
            },
            |r| Retries {
                attempts: r.attempts.value,
                per_try_timeout: r.per_try_timeout.as_ref().map(|d| duration(&d.value)),
                retry_on: (!r.on.is_empty()).then(|| {
                    r.on.iter()
                        .map(|c| c.value.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                }),
            },
        ));
        let timeout = service.timeout.as_ref().map(|t| duration(&t.value));
        if !service.versions.is_empty() {
            // The versions' headers and cookies first, in the order of the file; then the
            // weighted split of the rest, the stable version taking what the versions leave.
            for version in &service.versions {
                let headers = version.headers.iter().map(|h| {
                    (
                        h.name.value.clone(),
                        StringMatch::Exact(h.value.value.clone()),
                    )
                });
                let cookies = version.cookies.iter().map(|c| {
                    (
                        "cookie".to_owned(),
                        StringMatch::Regex(cookie_regex(&c.name.value, &c.value.value)),
                    )
                });
                // Each header or cookie is an alternative: any one of them picks the version.
                let r#match: Vec<HttpMatch> = headers
                    .chain(cookies)
                    .flat_map(|(name, value)| with_header(name, value))
                    .collect();
                if r#match.is_empty() {
                    continue;
                }
                routes.push(HttpRoute {
                    name: format!("{prefix}version-{}{suffix}", version.name.value),
                    r#match,
                    rewrite: None,
                    route: vec![RouteDestination {
                        destination: destination(Some(&version.name.value)),
                        weight: None,
                    }],
                    retries: retries.as_ref().map(copy_retries),
                    timeout: timeout.clone(),
                });
            }
            let taken: u32 = service.versions.iter().map(Version::share).sum();
            let mut split: Vec<(&str, u32)> = vec![(STABLE_VERSION, 100u32.saturating_sub(taken))];
            split.extend(
                service
                    .versions
                    .iter()
                    .map(|v| (v.name.value.as_str(), v.share())),
            );
            split.retain(|(_, weight)| *weight > 0);
            let single = split.len() == 1;
            routes.push(HttpRoute {
                name: format!("{prefix}{PRIMARY_ROUTE}{suffix}"),
                r#match: matched(),
                rewrite: None,
                route: split
                    .into_iter()
                    .map(|(subset, weight)| RouteDestination {
                        destination: destination(Some(subset)),
                        weight: (!single).then_some(weight),
                    })
                    .collect(),
                retries,
                timeout,
            });
            continue;
        }
        let Some(canary) = &service.canary else {
            routes.push(HttpRoute {
                name: format!("{prefix}{PRIMARY_ROUTE}{suffix}"),
                r#match: matched(),
                rewrite: None,
                route: vec![RouteDestination {
                    destination: destination(None),
                    weight: None,
                }],
                retries,
                timeout,
            });
            continue;
        };
        if !canary.headers.is_empty() {
            // Each header is an alternative: any one of them picks the canary.
            let r#match = canary
                .headers
                .iter()
                .flat_map(|h| {
                    with_header(
                        h.name.value.clone(),
                        StringMatch::Exact(h.value.value.clone()),
                    )
                })
                .collect();
            routes.push(HttpRoute {
                name: format!("{prefix}canary-header{suffix}"),
                r#match,
                rewrite: None,
                route: vec![RouteDestination {
                    destination: destination(Some(CANARY_SUBSET)),
                    weight: None,
                }],
                retries: retries.as_ref().map(copy_retries),
                timeout: timeout.clone(),
            });
        }
        // An armed canary (no image of its own yet) takes no traffic until its image comes.
        let weight = if service.canary_image().is_some() {
            canary.weight.value.thousandths.div_ceil(1000).min(100)
        } else {
            0
        };
        routes.push(HttpRoute {
            name: format!("{prefix}{PRIMARY_ROUTE}{suffix}"),
            r#match: matched(),
            rewrite: None,
            route: vec![
                RouteDestination {
                    destination: destination(Some(STABLE_VERSION)),
                    weight: Some(100 - weight),
                },
                RouteDestination {
                    destination: destination(Some(CANARY_SUBSET)),
                    weight: Some(weight),
                },
            ],
            retries,
            timeout,
        });
    }
    routes
}

/// The RE2 pattern of a `cookie` header that carries `name=value`: first, or after another
/// cookie and `; ` (RFC 6265 joins them so; Envoy joins an HTTP/2 request's cookie headers so).
fn cookie_regex(name: &str, value: &str) -> String {
    format!(
        "^(.*?; ?)?({}={})(;.*)?$",
        regex_escape(name),
        regex_escape(value)
    )
}

/// `text` matched literally by RE2.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if "\\.+*?()|[]{}^$".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn copy_retries(r: &Retries) -> Retries {
    Retries {
        attempts: r.attempts,
        per_try_timeout: r.per_try_timeout.clone(),
        retry_on: r.retry_on.clone(),
    }
}
