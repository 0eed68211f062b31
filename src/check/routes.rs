//! Ingress routes: every host–path pair of every `expose` line is claimed once per gateway
//! (on a TLS passthrough gateway the host alone, as the path is inside the stream), and two
//! hosts of a gateway do not share the name of their one `VirtualService`; a route's `jwt=`
//! names a declared issuer and a path the gateway's `AuthorizationPolicy` can match.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, suggest};
use crate::emit::conventions::{Taken, expose_host, ingress_virtual_service, taken_first};
use crate::model::Platform;
use crate::model::mesh::{Gateway, Mesh, TlsMode};
use crate::model::service::{Expose, PathMatch};
use crate::span::Span;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    let Some(mesh) = &platform.mesh else {
        return;
    };
    // (gateway, host, match, path) → the first `expose` line that claimed it.
    let mut claimed: BTreeMap<(String, String, Option<PathMatch>, String), Span> = BTreeMap::new();
    // (gateway, VirtualService name) → the first host that gave it.
    let mut objects: BTreeMap<(String, String), String> = BTreeMap::new();
    for service in &platform.services {
        for expose in &service.expose {
            let Some(gateway) = mesh
                .gateways
                .iter()
                .find(|g| g.name.value == expose.gateway.value)
            else {
                continue;
            };
            end_user(mesh, gateway, expose, d);
            let Some(host) = expose_host(platform, expose) else {
                continue;
            };
            let passthrough = gateway.tls.value == TlsMode::Passthrough;
            let key = (
                gateway.name.value.clone(),
                host.clone(),
                (!passthrough).then_some(expose.r#match.value),
                if passthrough {
                    String::new()
                } else {
                    expose.path.value.clone()
                },
            );
            let name = if passthrough {
                host.clone()
            } else {
                format!(
                    "{host}{} ({})",
                    expose.path.value,
                    expose.r#match.value.as_str()
                )
            };
            if let Some(first) = claimed.get(&key) {
                d.push(
                    Diagnostic::new(
                        ErrorKind::DuplicateName {
                            kind: "route",
                            name,
                        },
                        expose.span,
                    )
                    .with_label(*first, "first claimed here"),
                );
                continue;
            }
            claimed.insert(key, expose.span);
            let object = ingress_virtual_service(&gateway.name.value, &host);
            match objects.get(&(gateway.name.value.clone(), object.clone())) {
                Some(other) if *other != host => d.error(
                    ErrorKind::DuplicateName {
                        kind: "ingress VirtualService",
                        name: object,
                    },
                    expose.host.as_ref().map_or(expose.span, |h| h.span),
                ),
                Some(_) => {}
                None => {
                    objects.insert((gateway.name.value.clone(), object), host);
                }
            }
        }
    }
    shadowed_tokens(platform, mesh, d);
}

/// A `jwt=` prefix route's token is required on its paths less those of the routes of the
/// same host that Envoy tries first; a route whose paths no `AuthorizationPolicy` can name (a
/// regex, a `*` of its own) inside such a prefix would be held to the prefix's token, or
/// would open it, so it is refused.
fn shadowed_tokens(platform: &Platform, mesh: &Mesh, d: &mut Diagnostics) {
    for gateway in &mesh.gateways {
        if gateway.tls.value == TlsMode::Passthrough {
            continue;
        }
        let routes: Vec<(&Expose, Option<String>)> = platform
            .services
            .iter()
            .flat_map(|s| &s.expose)
            .filter(|e| e.gateway.value == gateway.name.value)
            .map(|e| (e, expose_host(platform, e)))
            .collect();
        for (secured, host) in &routes {
            let Some(jwt) = &secured.jwt else { continue };
            for (other, other_host) in &routes {
                if other_host != host || taken_first(other, secured) != Taken::Inexpressible {
                    continue;
                }
                let (value, expected, span) = if other.r#match.value == PathMatch::Regex {
                    (
                        "regex".to_owned(),
                        "`exact` or `prefix` on a route inside a `jwt=` prefix of the same host: an `AuthorizationPolicy` cannot leave a regex's paths out of the prefix's token",
                        other.r#match.span,
                    )
                } else {
                    (
                        other.path.value.clone(),
                        "a path without `*` inside a `jwt=` prefix of the same host: an `AuthorizationPolicy` reads `*` as a wildcard",
                        other.path.span,
                    )
                };
                d.push(
                    Diagnostic::new(
                        ErrorKind::InvalidValue {
                            value,
                            expected: vec![expected],
                            suggestion: None,
                        },
                        span,
                    )
                    .with_label(
                        jwt.span,
                        format!("a token is required under `{}`", secured.path.value),
                    ),
                );
            }
        }
    }
}

/// `jwt=` names a declared issuer; a route with `claims=` names one; the gateway can see the
/// route's path (it ends TLS) and an `AuthorizationPolicy` can match it (exact or prefix,
/// without `*`).
fn end_user(mesh: &Mesh, gateway: &Gateway, expose: &Expose, d: &mut Diagnostics) {
    let Some(jwt) = &expose.jwt else {
        if !expose.claims.is_empty() {
            d.error(
                ErrorKind::MissingProperty {
                    node: "expose".into(),
                    property: "jwt",
                },
                expose.span,
            );
        }
        return;
    };
    if !mesh.jwts.iter().any(|j| j.name.value == jwt.value) {
        d.error(
            ErrorKind::UnknownJwt {
                name: jwt.value.clone(),
                suggestion: suggest(&jwt.value, mesh.jwts.iter().map(|j| j.name.value.as_str())),
            },
            jwt.span,
        );
    }
    if gateway.tls.value == TlsMode::Passthrough {
        d.error(
            ErrorKind::InvalidValue {
                value: jwt.value.clone(),
                expected: vec![
                    "no `jwt=` on a `tls=passthrough` gateway: it never sees the request's headers",
                ],
                suggestion: None,
            },
            jwt.span,
        );
    } else if expose.r#match.value == PathMatch::Regex {
        d.error(
            ErrorKind::InvalidValue {
                value: "regex".into(),
                expected: vec![
                    "`exact` or `prefix` on a route with `jwt=`: an `AuthorizationPolicy` matches paths by value or prefix only",
                ],
                suggestion: None,
            },
            expose.r#match.span,
        );
    } else if expose.path.value.contains('*') {
        d.error(
            ErrorKind::InvalidValue {
                value: expose.path.value.clone(),
                expected: vec![
                    "a path without `*` on a route with `jwt=`: an `AuthorizationPolicy` reads `*` as a wildcard",
                ],
                suggestion: None,
            },
            expose.path.span,
        );
    }
}
