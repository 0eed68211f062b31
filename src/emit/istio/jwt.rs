//! End-user authentication at the ingress: per gateway with `expose … jwt=NAME` routes, a
//! `RequestAuthentication` on the gateway's pods with the `jwtRules` of the issuers its routes
//! name, and a DENY `AuthorizationPolicy` that refuses a request to such a route without a
//! valid token of that issuer, or with claims other than the route's `claims=`.
//! Each rule holds the route's own requests only: a prefix leaves out (`notPaths`) the paths
//! of the routes of its host that Envoy tries first.
//!
//! A `RequestAuthentication` alone rejects only invalid tokens, never a missing one (Istio,
//! "Authorization policy", "Require a valid token"); the DENY policy does that. DENY is checked
//! before any ALLOW and can open nothing, so the namespaces' deny-by-default baselines and the
//! services' ALLOW lists stay as they are. istiod fetches each `jwksUri` (its default
//! `PILOT_JWT_ENABLE_REMOTE_JWKS`), so the gateway pods need no egress to the issuer.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{
    Taken, WorkloadSelector, bare_prefix, expose_host, gateway_namespace, gateway_workload,
    platform_meta, route_specificity, taken_first,
};
use crate::emit::istio::gateway::exposed;
use crate::model::mesh::{Gateway, Jwt, Mesh};
use crate::model::service::{Expose, PathMatch};
use crate::model::{Checked, Platform};
use crate::output::{Item, Owner, Resource};

const API_VERSION: &str = "security.istio.io/v1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestAuthenticationSpec {
    selector: WorkloadSelector,
    jwt_rules: Vec<JwtRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JwtRule {
    issuer: String,
    jwks_uri: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    audiences: Vec<String>,
    /// The service behind the route reads the user from the token: Envoy would otherwise
    /// strip the `Authorization` header once it has checked it.
    forward_original_token: bool,
}

#[derive(Serialize)]
struct DenySpec {
    selector: WorkloadSelector,
    action: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Rule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    from: Vec<From>,
    to: Vec<To>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    when: Vec<Condition>,
}

#[derive(Serialize)]
struct From {
    source: Source,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    not_request_principals: Vec<String>,
}

#[derive(Serialize)]
struct To {
    operation: Operation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Operation {
    hosts: Vec<String>,
    paths: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_paths: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Condition {
    key: String,
    not_values: Vec<String>,
}

/// The name of a gateway's `RequestAuthentication` and of its DENY policy.
pub fn jwt_policy(gateway: &Gateway) -> String {
    format!("{}-jwt", gateway.name.value)
}

fn selector() -> WorkloadSelector {
    WorkloadSelector {
        match_labels: gateway_workload()
            .labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// The request paths of a route as an `AuthorizationPolicy` writes them: exact, or a prefix
/// with `*` and its bare path (regex routes are refused by the check, as a policy cannot
/// match them).
fn policy_paths(expose: &Expose) -> Vec<String> {
    let path = &expose.path.value;
    match expose.r#match.value {
        PathMatch::Prefix => std::iter::once(format!("{path}*"))
            .chain(bare_prefix(expose).map(str::to_owned))
            .collect(),
        PathMatch::Exact | PathMatch::Regex => vec![path.clone()],
    }
}

pub fn objects(platform: &Checked, mesh: &Mesh) -> Vec<Item> {
    let mut out = Vec::new();
    for gateway in &mesh.gateways {
        let routes: Vec<_> = exposed(platform, gateway)
            .into_iter()
            .filter_map(|(_, _, e)| {
                let jwt = mesh
                    .jwts
                    .iter()
                    .find(|j| Some(&j.name.value) == e.jwt.as_ref().map(|n| &n.value))?;
                Some((e, jwt))
            })
            .collect();
        if routes.is_empty() {
            continue;
        }
        // The issuers in declaration order, each once.
        let issuers: Vec<&Jwt> = mesh
            .jwts
            .iter()
            .filter(|j| routes.iter().any(|(_, r)| r.name.value == j.name.value))
            .collect();
        let name = jwt_policy(gateway);
        out.push(Item::resource(
            format!(
                "istio/gateways/{}/requestauthentication.yaml",
                gateway.name.value
            ),
            Owner::Platform,
            gateway.span,
            Resource {
                api_version: API_VERSION,
                kind: "RequestAuthentication",
                metadata: platform_meta(platform, &name, gateway_namespace(), gateway.span),
                spec: RequestAuthenticationSpec {
                    selector: selector(),
                    jwt_rules: issuers
                        .iter()
                        .map(|j| JwtRule {
                            issuer: j.issuer.value.clone(),
                            jwks_uri: j.jwks.value.clone(),
                            forward_original_token: true,
                            audiences: j.audiences.iter().map(|a| a.value.clone()).collect(),
                        })
                        .collect(),
                },
            },
        ));
        out.push(Item::resource(
            format!(
                "istio/gateways/{}/authorizationpolicy-jwt.yaml",
                gateway.name.value
            ),
            Owner::Platform,
            gateway.span,
            Resource {
                api_version: API_VERSION,
                kind: "AuthorizationPolicy",
                metadata: platform_meta(platform, &name, gateway_namespace(), gateway.span),
                spec: DenySpec {
                    selector: selector(),
                    action: "DENY",
                    rules: deny_rules(platform, gateway, &routes),
                },
            },
        ));
    }
    out
}

/// The paths of the routes of `expose`'s host that Envoy tries before it and that would take
/// some of its requests: a prefix route's policy leaves them out (`notPaths`), so a more
/// specific route without `jwt=` (or with another issuer) is not held to this route's token.
/// What no policy path can name is refused by the check.
fn taken_paths(platform: &Platform, gateway: &Gateway, expose: &Expose, host: &str) -> Vec<String> {
    let mut earlier: Vec<&Expose> = exposed(platform, gateway)
        .into_iter()
        .map(|(_, _, e)| e)
        .filter(|e| expose_host(platform, e).as_deref() == Some(host))
        .collect();
    earlier.sort_by_key(|e| route_specificity(e));
    let mut paths = Vec::new();
    for other in earlier {
        if let Taken::Paths(taken) = taken_first(other, expose) {
            for path in taken {
                if !paths.contains(&path) {
                    paths.push(path);
                }
            }
        }
    }
    // A path inside another prefix listed is left out by that prefix already.
    let prefixes: Vec<String> = paths
        .iter()
        .filter_map(|p| p.strip_suffix('*').map(str::to_owned))
        .collect();
    paths.retain(|p| {
        !prefixes
            .iter()
            .any(|prefix| p.starts_with(prefix.as_str()) && *p != format!("{prefix}*"))
    });
    paths
}

/// Per route: deny without a token of its issuer; per claim: deny when the claim lacks the
/// value (a missing claim included). Each on the route's host and path, less the paths of the
/// routes Envoy picks first.
fn deny_rules(platform: &Platform, gateway: &Gateway, routes: &[(&Expose, &Jwt)]) -> Vec<Rule> {
    let mut rules = Vec::new();
    for (expose, jwt) in routes {
        let Some(host) = expose_host(platform, expose) else {
            continue;
        };
        let not_paths = taken_paths(platform, gateway, expose, &host);
        let to = || {
            vec![To {
                operation: Operation {
                    // The Host header may carry the port.
                    hosts: vec![host.clone(), format!("{host}:*")],
                    paths: policy_paths(expose),
                    not_paths: not_paths.clone(),
                },
            }]
        };
        rules.push(Rule {
            from: vec![From {
                source: Source {
                    not_request_principals: vec![format!("{}/*", jwt.issuer.value)],
                },
            }],
            to: to(),
            when: Vec::new(),
        });
        // Values of one claim key are alternatives; different keys must all hold.
        let mut claims: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (key, value) in &expose.claims {
            claims
                .entry(key.value.as_str())
                .or_default()
                .push(value.value.clone());
        }
        for (key, values) in claims {
            rules.push(Rule {
                from: Vec::new(),
                to: to(),
                when: vec![Condition {
                    key: format!("request.auth.claims[{key}]"),
                    not_values: values,
                }],
            });
        }
    }
    rules
}
