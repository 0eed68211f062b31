//! The `AnalysisTemplate` of a canary: its `gate` as Prometheus queries over the recording
//! rules of the service's SLO (`conventions::slo`, emitted by the observability target), so
//! that a gate and the alerts mean the same by "success rate" and "latency". They measure the
//! canary's own pods (`destination_canonical_revision`) over the rules' shortest window, once
//! a minute while the rollout runs:
//!
//! - success rate: the share of requests that are neither an HTTP 5xx nor a gRPC status that
//!   means the server failed;
//! - latency `pNN <= T`: the share of requests slower than `T` is at most `100 - NN`% (the
//!   histogram's bucket at `T`, which the sidecars export).
//!
//! A window without requests is no evidence: the query then returns no sample (an empty vector)
//! or NaN, neither the success nor the failure condition holds, and the measurement is
//! Inconclusive. Past `inconclusiveLimit` such measurements the analysis is Inconclusive and
//! Argo Rollouts pauses the rollout for a person to judge; it never promotes on no data. Three
//! failed measurements abort the rollout and send all traffic back to stable.

use serde::Serialize;

use crate::emit::conventions::slo;
use crate::emit::conventions::{analysis_template, meta};
use crate::model::Platform;
use crate::model::service::{Canary, Service};
use crate::output::{Item, Owner, Resource};

/// The first measurement waits for two minutes of the canary's traffic.
const FIRST: &str = slo::GATE_FIRST_MEASUREMENT;

#[derive(Serialize)]
struct Spec {
    metrics: Vec<Metric>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    name: &'static str,
    interval: &'static str,
    /// When the first measurement is made.
    initial_delay: &'static str,
    failure_limit: u32,
    inconclusive_limit: u32,
    success_condition: String,
    failure_condition: String,
    provider: Provider,
}

/// Conditions on the one sample a query returns: `(success, failure)`. No sample, or NaN (no
/// request in the window), satisfies neither: the measurement is Inconclusive.
fn conditions(comparison: &str, inverse: &str, threshold: &str) -> (String, String) {
    let measured = "len(result) > 0 && !isNaN(result[0])";
    (
        format!("{measured} && result[0] {comparison} {threshold}"),
        format!("{measured} && result[0] {inverse} {threshold}"),
    )
}

#[derive(Serialize)]
struct Provider {
    prometheus: Prometheus,
}

#[derive(Serialize)]
struct Prometheus {
    address: String,
    query: String,
}

/// Where kube-prometheus-stack's Prometheus answers, from the add-on table.
fn prometheus_address() -> String {
    let (stack, service) = crate::model::addons::prometheus();
    stack.url(service, "http-web")
}

/// The template of a canary with a `gate`; none without one.
pub fn template(platform: &Platform, service: &Service, canary: &Canary) -> Option<Item> {
    let gate = canary.gate.as_ref()?;
    let revision = &canary.version.value;
    let mut metrics = Vec::new();
    if let Some(rate) = &gate.success_rate {
        let (success_condition, failure_condition) =
            conditions(">=", "<", &slo::fraction(rate.value));
        metrics.push(Metric {
            name: "success-rate",
            interval: "1m",
            initial_delay: FIRST,
            failure_limit: slo::GATE_FAILURE_LIMIT,
            inconclusive_limit: 2,
            success_condition,
            failure_condition,
            provider: Provider {
                prometheus: Prometheus {
                    address: prometheus_address(),
                    query: slo::revision_success_rate(service, revision),
                },
            },
        });
    }
    if let Some(latency) = &gate.latency {
        // At most `100 - NN`% of requests slower than the threshold.
        let allowed = slo::decimal(
            u64::from(slo::budget(slo::percentile_objective(latency))),
            5,
        );
        let (success_condition, failure_condition) = conditions("<=", ">", &allowed);
        metrics.push(Metric {
            name: "latency",
            interval: "1m",
            initial_delay: FIRST,
            failure_limit: slo::GATE_FAILURE_LIMIT,
            inconclusive_limit: 2,
            success_condition,
            failure_condition,
            provider: Provider {
                prometheus: Prometheus {
                    address: prometheus_address(),
                    query: slo::revision_slow_ratio(service, revision, latency.threshold.millis),
                },
            },
        });
    }
    if metrics.is_empty() {
        return None;
    }
    Some(Item::resource(
        format!("rollouts/{}/analysistemplate.yaml", service.name.value),
        Owner::Service(service.name.value.clone()),
        gate.span,
        Resource {
            api_version: "argoproj.io/v1alpha1",
            kind: "AnalysisTemplate",
            metadata: meta(platform, service, &analysis_template(service), gate.span),
            spec: Spec { metrics },
        },
    ))
}
