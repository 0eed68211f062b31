//! Versions of a service (`version NAME …`): each is a Deployment of its own, picked by a
//! `DestinationRule` subset, so they need the mesh (and no canary, whose Rollout moves a route
//! of two destinations). Their weights leave the stable version the rest of 100, and each
//! version gets some traffic: a weight, a header or a cookie. `stable` and `canary` name
//! subsets platc makes itself, and a version's Deployment must not take another service's
//! name.

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, NameRule};
use crate::emit::conventions::{CANARY_SUBSET, STABLE_VERSION, version_workload};
use crate::model::Platform;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    for service in &platform.services {
        let Some(first) = service.versions.first() else {
            continue;
        };
        let name = &service.name.value;
        let with = if platform.mesh.is_none() {
            Some("without the mesh")
        } else if service.sidecar_off.is_some() {
            Some("outside the mesh (`sidecar #false`)")
        } else {
            None
        };
        if let Some(with) = with {
            d.error(
                ErrorKind::VersionConflict {
                    service: name.clone(),
                    with,
                },
                first.name.span,
            );
        }
        if let Some(canary) = &service.canary {
            d.push(
                Diagnostic::new(
                    ErrorKind::VersionConflict {
                        service: name.clone(),
                        with: "with a canary",
                    },
                    first.name.span,
                )
                .with_label(canary.version.span, "canary here"),
            );
        }
        if let Some(stateful) = &service.stateful {
            d.push(
                Diagnostic::new(
                    ErrorKind::StatefulConflict {
                        service: name.clone(),
                        what: "versions",
                    },
                    first.name.span,
                )
                .with_label(stateful.span, "stateful here"),
            );
        }
        if !service.ports.iter().any(|p| p.protocol.value.is_http()) {
            d.error(
                ErrorKind::RouteWithoutHttp {
                    service: name.clone(),
                    what: "versions",
                },
                first.name.span,
            );
        }
        let mut total = 0;
        for version in &service.versions {
            if [STABLE_VERSION, CANARY_SUBSET].contains(&version.name.value.as_str()) {
                d.error(
                    ErrorKind::InvalidName {
                        value: version.name.value.clone(),
                        reason: format!(
                            "`{STABLE_VERSION}` is the service's own image and `{CANARY_SUBSET}` a canary's pods"
                        ),
                        rule: NameRule::Label,
                    },
                    version.name.span,
                );
            }
            if !version.own_image {
                d.error(
                    ErrorKind::MissingProperty {
                        node: "version".into(),
                        property: "tag",
                    },
                    version.name.span,
                );
            }
            let workload = version_workload(service, version);
            if let Some(other) = platform
                .services
                .iter()
                .find(|o| o.namespace == service.namespace && o.name.value == workload)
            {
                d.duplicate_name(
                    "Deployment",
                    &crate::span::Spanned::new(workload, version.name.span),
                    other.name.span,
                    "a service of that name",
                );
            }
            total += version.share();
            if version.share() == 0 && version.headers.is_empty() && version.cookies.is_empty() {
                d.error(
                    ErrorKind::VersionWeights {
                        service: name.clone(),
                        detail: format!(
                            "nothing routes to `{}`: it has no weight, header or cookie",
                            version.name.value
                        ),
                        label: "no traffic reaches this version",
                    },
                    version.name.span,
                );
            }
        }
        if total > 100 {
            let last = service
                .versions
                .iter()
                .rev()
                .find_map(|v| v.weight.as_ref())
                .map_or(first.name.span, |w| w.span);
            d.error(
                ErrorKind::VersionWeights {
                    service: name.clone(),
                    detail: format!("the versions take {total}% of the traffic, more than 100%"),
                    label: "the weights add up past 100% here",
                },
                last,
            );
        }
    }
}
