//! Canary releases with Argo Rollouts: for each service with a `canary`, a `Rollout` that takes
//! its pods from the service's Deployment (`workloadRef`; the Deployment itself stays at zero
//! replicas) and moves traffic through the Istio subsets in steps, gated by an
//! `AnalysisTemplate` of Prometheus queries (`analysis.rs`).
//!
//! Why Argo Rollouts and not Flagger: a Rollout states the steps, pauses and gates in the
//! object itself, so what `platform.kdl` declares is what Git holds and what `kubectl argo
//! rollouts get` shows; Flagger generates the canary Deployment, Services and routes at run
//! time from a `Canary`, which leaves the mesh objects platc emits (and the zero-trust policies
//! over them) to another writer. Rollouts also works on the `VirtualService` and
//! `DestinationRule` platc emits, changing only the weights of the named route and the
//! pod-template hash of the two subsets.
//!
//! The pods of the canary carry `version: <canary version>` and the stable ones
//! `version: stable` (ephemeral metadata), and the same value as
//! `service.istio.io/canonical-revision`, which Istio reports as `destination_canonical_revision`
//! in its metrics: the analysis measures the canary alone.

mod analysis;
mod guard;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{
    CANARY_SUBSET, REVISION_LABEL, STABLE_VERSION, analysis_template, duration, expose_host,
    expose_route_prefix, exposed_port, gateway_namespace, ingress_virtual_service, meta,
    primary_routes,
};
use crate::model::service::{Canary, Service};
use crate::model::{Checked, Platform};
use crate::output::{Item, Output, Owner, Resource};

const API_VERSION: &str = "argoproj.io/v1alpha1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RolloutSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<u32>,
    revision_history_limit: u32,
    selector: Selector,
    workload_ref: WorkloadRef,
    strategy: Strategy,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Selector {
    match_labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkloadRef {
    api_version: &'static str,
    kind: &'static str,
    name: String,
    scale_down: &'static str,
}

#[derive(Serialize)]
struct Strategy {
    canary: CanaryStrategy,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CanaryStrategy {
    canary_metadata: PodMetadata,
    stable_metadata: PodMetadata,
    traffic_routing: TrafficRouting,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<Analysis>,
    steps: Vec<Step>,
}

#[derive(Serialize)]
struct PodMetadata {
    labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct TrafficRouting {
    istio: IstioRouting,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IstioRouting {
    virtual_services: Vec<VirtualServiceRef>,
    destination_rule: DestinationRuleRef,
}

#[derive(Serialize)]
struct VirtualServiceRef {
    name: String,
    routes: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DestinationRuleRef {
    name: String,
    canary_subset_name: &'static str,
    stable_subset_name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Analysis {
    templates: Vec<TemplateRef>,
    starting_step: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateRef {
    template_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum Step {
    SetWeight(u32),
    Pause(Pause),
}

#[derive(Serialize)]
struct Pause {
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<String>,
}

/// The Rollout and `AnalysisTemplate` of every service with a canary (the checks guarantee a
/// mesh and a sidecar).
pub fn emit(platform: &Checked, out: &mut Output) {
    if platform.mesh.is_none() {
        return;
    }
    for service in out.services(platform) {
        let Some(canary) = &service.canary else {
            continue;
        };
        out.push(rollout(platform, service, canary));
        if let Some(template) = analysis::template(platform, service, canary) {
            out.push(template);
        }
        out.extend(guard::objects(platform, service));
    }
}

/// A weight in whole percent.
fn percent(p: crate::model::value::Percent) -> u32 {
    p.thousandths.div_ceil(1000).min(100)
}

fn steps(canary: &Canary) -> Vec<Step> {
    let pause = || {
        Step::Pause(Pause {
            duration: canary.interval.as_ref().map(|d| duration(&d.value)),
        })
    };
    let mut out = Vec::new();
    if canary.steps.is_empty() {
        // No steps: hold at the initial weight until someone promotes the canary.
        out.push(Step::SetWeight(percent(canary.weight.value)));
        out.push(Step::Pause(Pause { duration: None }));
        return out;
    }
    for step in &canary.steps {
        let weight = percent(step.value);
        out.push(Step::SetWeight(weight));
        if weight < 100 {
            out.push(pause());
        }
    }
    out
}

fn version_labels(version: &str) -> PodMetadata {
    PodMetadata {
        labels: BTreeMap::from([
            ("version".to_owned(), version.to_owned()),
            (REVISION_LABEL.to_owned(), version.to_owned()),
        ]),
    }
}

fn rollout(platform: &Platform, service: &Service, canary: &Canary) -> Item {
    let name = &service.name.value;
    let mut virtual_services = vec![VirtualServiceRef {
        name: name.clone(),
        routes: primary_routes(service, &[], ""),
    }];
    // Each host's `VirtualService` at a gateway, in the gateway's namespace (`<name>.<ns>`),
    // with the weighted route of each `expose` line on it.
    for (index, expose) in service.expose.iter().enumerate() {
        let Some(host) = expose_host(platform, expose) else {
            continue;
        };
        let ports: Vec<_> = exposed_port(service, expose).into_iter().collect();
        let reference = format!(
            "{}.{}",
            ingress_virtual_service(&expose.gateway.value, &host),
            gateway_namespace()
        );
        let routes = primary_routes(service, &ports, &expose_route_prefix(service, index));
        match virtual_services.iter_mut().find(|v| v.name == reference) {
            Some(v) => v.routes.extend(routes),
            None => virtual_services.push(VirtualServiceRef {
                name: reference,
                routes,
            }),
        }
    }
    virtual_services.retain(|v| !v.routes.is_empty());
    let analysis = canary.gate.as_ref().map(|_| Analysis {
        templates: vec![TemplateRef {
            template_name: analysis_template(service),
        }],
        // From the first weight on: the canary has traffic to measure.
        starting_step: 1,
    });
    let spec = RolloutSpec {
        replicas: service
            .autoscale
            .is_none()
            .then_some(service.replicas.value),
        revision_history_limit: 3,
        selector: Selector {
            match_labels: BTreeMap::from([("app".to_owned(), name.clone())]),
        },
        workload_ref: WorkloadRef {
            api_version: "apps/v1",
            kind: "Deployment",
            name: name.clone(),
            // The Deployment states no replica count: when a running service comes under its
            // Rollout, the Rollout scales the Deployment's pods down as its own come up.
            scale_down: "progressively",
        },
        strategy: Strategy {
            canary: CanaryStrategy {
                canary_metadata: version_labels(&canary.version.value),
                stable_metadata: version_labels(STABLE_VERSION),
                traffic_routing: TrafficRouting {
                    istio: IstioRouting {
                        virtual_services,
                        destination_rule: DestinationRuleRef {
                            name: name.clone(),
                            canary_subset_name: CANARY_SUBSET,
                            stable_subset_name: STABLE_VERSION,
                        },
                    },
                },
                analysis,
                steps: steps(canary),
            },
        },
    };
    Item::resource(
        format!("rollouts/{name}/rollout.yaml"),
        Owner::Service(service.name.value.clone()),
        canary.span,
        Resource {
            api_version: API_VERSION,
            kind: "Rollout",
            metadata: meta(platform, service, name, canary.span),
            spec,
        },
    )
}
