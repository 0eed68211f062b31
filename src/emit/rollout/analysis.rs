//! The `AnalysisTemplate` of a canary: its `gate` as Prometheus queries over Istio's standard
//! metrics, measured at the canary's own workloads (`reporter="destination"`, the canary's
//! `destination_canonical_revision`), once a minute while the rollout runs.
//!
//! - success rate: the share of requests that are neither an HTTP 5xx nor a gRPC status that
//!   means the server failed (`UNKNOWN`, `DEADLINE_EXCEEDED`, `UNIMPLEMENTED`, `INTERNAL`,
//!   `UNAVAILABLE`, `DATA_LOSS`); a status such as `NOT_FOUND` is the caller's problem, not the canary's;
//! - latency: the gate's percentile of `istio_request_duration_milliseconds`.
//!
//! A window without requests is no evidence: the query then returns no sample (an empty vector)
//! or NaN, neither the success nor the failure condition holds, and the measurement is
//! Inconclusive. Past `inconclusiveLimit` such measurements the analysis is Inconclusive and
//! Argo Rollouts pauses the rollout for a person to judge; it never promotes on no data. Three
//! failed measurements abort the rollout and send all traffic back to stable.

use serde::Serialize;

use crate::emit::conventions::{analysis_template, meta};
use crate::model::Platform;
use crate::model::service::{Canary, Service};
use crate::output::{Item, Owner, Resource};

/// gRPC status codes that mean the server failed.
const GRPC_SERVER_ERRORS: &str = "2|4|12|13|14|15";
const WINDOW: &str = "2m";

#[derive(Serialize)]
struct Spec {
    metrics: Vec<Metric>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    name: &'static str,
    interval: &'static str,
    /// The first measurement waits for a whole window of the canary's traffic.
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
    let selector = format!(
        "reporter=\"destination\",destination_workload_namespace=\"{}\",destination_workload=\"{}\",destination_canonical_revision=\"{}\"",
        service.namespace, service.name.value, canary.version.value
    );
    let mut metrics = Vec::new();
    if let Some(rate) = &gate.success_rate {
        let ok = format!(
            "{selector},response_code!~\"5..\",grpc_response_status!~\"{GRPC_SERVER_ERRORS}\""
        );
        let (success_condition, failure_condition) =
            conditions(">=", "<", &ratio(rate.value.thousandths));
        metrics.push(Metric {
            name: "success-rate",
            interval: "1m",
            initial_delay: WINDOW,
            failure_limit: 2,
            inconclusive_limit: 2,
            success_condition,
            failure_condition,
            provider: Provider {
                prometheus: Prometheus {
                    address: prometheus_address(),
                    query: format!(
                        "sum(rate(istio_requests_total{{{ok}}}[{WINDOW}])) / sum(rate(istio_requests_total{{{selector}}}[{WINDOW}]))"
                    ),
                },
            },
        });
    }
    if let Some(latency) = &gate.latency {
        let (success_condition, failure_condition) =
            conditions("<=", ">", &latency.threshold.millis.to_string());
        metrics.push(Metric {
            name: "latency",
            interval: "1m",
            initial_delay: WINDOW,
            failure_limit: 2,
            inconclusive_limit: 2,
            success_condition,
            failure_condition,
            provider: Provider {
                prometheus: Prometheus {
                    address: prometheus_address(),
                    query: format!(
                        "histogram_quantile({}, sum by (le) (rate(istio_request_duration_milliseconds_bucket{{{selector}}}[{WINDOW}])))",
                        ratio(u32::from(latency.percentile) * 1000)
                    ),
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

/// Thousandths of a percent as a fraction of one, without trailing zeros (99.5 → 0.995).
fn ratio(thousandths: u32) -> String {
    let whole = thousandths / 100_000;
    let frac = thousandths % 100_000;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:05}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::ratio;

    #[test]
    fn ratios_print_exactly() {
        assert_eq!(ratio(99_500), "0.995");
        assert_eq!(ratio(99_900), "0.999");
        assert_eq!(ratio(100_000), "1");
        assert_eq!(ratio(99_000), "0.99");
        assert_eq!(ratio(95_000), "0.95");
        assert_eq!(ratio(12_345), "0.12345");
    }
}
