//! One definition of "success rate" and "latency" for every output that measures a service:
//! the recording rules of its SLO, the burn-rate alerts on them, the canary gates, and the
//! Grafana dashboards all read the names and queries here.
//!
//! Everything is measured where the request is served: Istio's standard metrics as the
//! destination's sidecar reports them (`reporter="destination"`), selected by the workload's
//! namespace and name. A request fails when its HTTP status is a 5xx, or its gRPC status means
//! the server failed (a `NOT_FOUND` is the caller's problem). A request is slow when it took
//! longer than the threshold: the share at or under it is the histogram's bucket at exactly
//! that bound over its `+Inf` bucket, so every threshold is a bucket bound of the service's
//! sidecars (`histogram_buckets`).
//!
//! The alerts follow the multi-window, multi-burn-rate scheme of Google's SRE workbook
//! (chapter 5, "Alerting on SLOs") over a 30-day budget: a page when 2% of the budget burns in
//! an hour or 5% in six hours, a ticket when 10% burns in a day or the whole budget would in
//! thirty days; each long window is confirmed by a short one, so an alert stops soon after the
//! burn does.

use crate::model::service::{Latency, Service};
use crate::model::value::Percent;

/// The windows the recording rules keep a rate over.
pub const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// The window the canary gates read: the shortest.
pub const GATE_WINDOW: &str = "5m";

/// How a gate measures: the first measurement two minutes after the analysis starts (a rate
/// over the window is sound on the two minutes of the canary's requests it then holds), then
/// one a minute; the third failed measurement aborts the rollout.
pub const GATE_FIRST_MEASUREMENT: &str = "2m";
/// Failed measurements a gate tolerates; one more aborts.
pub const GATE_FAILURE_LIMIT: u32 = 2;
/// The shortest step interval a gate can judge: a failing canary is aborted within it
/// (two minutes, then three measurements a minute apart).
pub const GATE_MIN_INTERVAL_MS: u64 = (2 + GATE_FAILURE_LIMIT as u64 + 1) * 60_000;

/// One burn-rate condition: the budget burns `factor_tenths / 10` times as fast as the SLO
/// allows over both windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    pub severity: Severity,
    pub long: &'static str,
    pub short: &'static str,
    pub factor_tenths: u32,
}

/// How urgent an alert is: its `severity` label, as kube-prometheus-stack's Alertmanager
/// routes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Critical,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
        }
    }
}

/// The workbook's four conditions: two that page, two that open a ticket.
pub const TIERS: [Tier; 4] = [
    Tier {
        severity: Severity::Critical,
        long: "1h",
        short: "5m",
        factor_tenths: 144,
    },
    Tier {
        severity: Severity::Critical,
        long: "6h",
        short: "30m",
        factor_tenths: 60,
    },
    Tier {
        severity: Severity::Warning,
        long: "1d",
        short: "2h",
        factor_tenths: 30,
    },
    Tier {
        severity: Severity::Warning,
        long: "3d",
        short: "6h",
        factor_tenths: 10,
    },
];

/// The fastest burn any tier watches for, in tenths.
pub const FASTEST_BURN_TENTHS: u32 = 144;

/// Thousandths of a percent in the whole: an objective of `t` thousandths leaves an error
/// budget of `WHOLE - t` of `WHOLE`.
pub const WHOLE: u32 = 100_000;

/// gRPC status codes that mean the server failed: `UNKNOWN`, `DEADLINE_EXCEEDED`,
/// `UNIMPLEMENTED`, `INTERNAL`, `UNAVAILABLE`, `DATA_LOSS`.
pub const GRPC_SERVER_ERRORS: &str = "2|4|12|13|14|15";

/// The labels the service-level rules keep.
pub const SERVICE_LABELS: &str = "destination_workload_namespace, destination_workload";
/// The labels the per-revision rules keep: the canary's pods and the stable ones apart.
pub const REVISION_LABELS: &str =
    "destination_workload_namespace, destination_workload, destination_canonical_revision";

/// The whole-millisecond bounds of `istio_request_duration_milliseconds`' buckets that
/// Istio's sidecars export by default (Envoy's default histogram buckets; the first, 0.5, is
/// `HALF_MS_BUCKET`).
pub const ISTIO_BUCKETS_MS: [u64; 18] = [
    1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000,
    1_800_000, 3_600_000,
];

/// The sub-millisecond bound of Envoy's default buckets.
pub const HALF_MS_BUCKET: &str = "0.5";

/// The error budget of an objective, in `WHOLE`ths.
pub fn budget(objective: Percent) -> u32 {
    WHOLE.saturating_sub(objective.thousandths)
}

/// Whether every tier can fire for an objective: its budget is above zero, and the fastest
/// burn over it stays below every request failing.
pub fn expressible(objective: Percent) -> bool {
    let budget = u64::from(budget(objective));
    budget > 0 && budget * u64::from(FASTEST_BURN_TENTHS) < u64::from(WHOLE) * 10
}

/// The lowest objective every tier can express, as a percentage to print.
pub fn lowest_expressible() -> String {
    // budget * 144 < 1_000_000: budget <= 6944 thousandths of a percent.
    let budget = (u64::from(WHOLE) * 10 - 1) / u64::from(FASTEST_BURN_TENTHS);
    decimal(u64::from(WHOLE) - budget, 3)
}

/// The objective of a latency percentile (`p99` → 99%).
pub fn percentile_objective(latency: &Latency) -> Percent {
    Percent {
        thousandths: u32::from(latency.percentile) * 1000,
    }
}

/// `numerator / 10^scale` printed exactly, without trailing zeros (`decimal(995, 3)` → `0.995`).
pub fn decimal(numerator: u64, scale: u32) -> String {
    let unit = 10u64.pow(scale);
    let whole = numerator / unit;
    let frac = numerator % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:0width$}", width = scale as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// An objective as a fraction of one (`99.5` → `0.995`).
pub fn fraction(objective: Percent) -> String {
    decimal(u64::from(objective.thousandths), 5)
}

/// The error ratio a tier fires above: `factor × budget`, as a fraction of one.
pub fn burn_threshold(tier: &Tier, objective: Percent) -> String {
    decimal(
        u64::from(tier.factor_tenths) * u64::from(budget(objective)),
        6,
    )
}

/// The selector of a service's requests, as its own sidecars report them.
pub fn selector(service: &Service) -> String {
    format!("reporter=\"destination\",{}", recorded(service))
}

/// The selector of a service's recorded series (the rules keep only these two labels, and
/// the revision where they keep it). A service with versions runs a workload per version
/// (`<service>-<version>`), each measured, and alerted on, against the same objectives.
pub fn recorded(service: &Service) -> String {
    let workloads = super::workloads(service);
    let matcher = if workloads.len() == 1 {
        format!("=\"{}\"", workloads[0])
    } else {
        // Workload names are DNS labels: nothing in them is special to a regex.
        format!("=~\"{}\"", workloads.join("|"))
    };
    format!(
        "destination_workload_namespace=\"{}\",destination_workload{matcher}",
        service.namespace
    )
}

/// A regex that matches a bucket bound as every Prometheus writes it: Prometheus 2 keeps a
/// classic histogram's `le` as the sidecar sends it (`300`); Prometheus 3 normalizes it to the
/// shortest float (`300.0`, and from a million on Go's exponent form, `1.8e+06`).
pub fn le_pattern(millis: u64) -> String {
    let mut pattern = format!("{millis}(\\\\.0)?");
    if millis >= 1_000_000 {
        let text = millis.to_string();
        let digits = text.trim_end_matches('0');
        let mantissa = if digits.len() > 1 {
            format!("{}\\\\.{}", &digits[..1], &digits[1..])
        } else {
            digits.to_owned()
        };
        let exponent = text.len() - 1;
        pattern = format!("{pattern}|{mantissa}e\\\\+{exponent:02}");
    }
    pattern
}

/// The matcher of a bucket bound: `le=~"<le_pattern>"`.
pub fn le_matcher(millis: u64) -> String {
    format!("le=~\"{}\"", le_pattern(millis))
}

/// Requests per second, by revision.
pub fn requests_record(window: &str) -> String {
    format!("platc:requests:rate{window}")
}

/// Failed requests per second, by revision (zero where a revision served none).
pub fn errors_record(window: &str) -> String {
    format!("platc:request_errors:rate{window}")
}

/// Requests per second per latency bucket, by revision, for the bounds the service's
/// objectives and gates use and `+Inf`.
pub fn buckets_record(window: &str) -> String {
    format!("platc:request_duration_buckets:rate{window}")
}

/// The share of a service's requests that failed.
pub fn error_ratio_record(window: &str) -> String {
    format!("platc:request_error_ratio:rate{window}")
}

/// The share of a service's requests slower than its latency objective.
pub fn slow_ratio_record(window: &str) -> String {
    format!("platc:request_slow_ratio:rate{window}")
}

/// The success rate of one revision over the gate's window, from the recorded rates: no
/// sample when it served no request.
pub fn revision_success_rate(service: &Service, revision: &str) -> String {
    let sel = format!(
        "{},destination_canonical_revision=\"{revision}\"",
        recorded(service)
    );
    format!(
        "1 - sum({errors}{{{sel}}}) / sum({requests}{{{sel}}})",
        errors = errors_record(GATE_WINDOW),
        requests = requests_record(GATE_WINDOW),
    )
}

/// The share of one revision's requests slower than `threshold_ms` over the gate's window,
/// from the recorded buckets: no sample when it served no request.
pub fn revision_slow_ratio(service: &Service, revision: &str, threshold_ms: u64) -> String {
    let sel = format!(
        "{},destination_canonical_revision=\"{revision}\"",
        recorded(service)
    );
    let buckets = buckets_record(GATE_WINDOW);
    format!(
        "1 - sum({buckets}{{{sel},{le}}}) / sum({buckets}{{{sel},le=\"+Inf\"}})",
        le = le_matcher(threshold_ms),
    )
}

/// The latency bounds a service's objectives and gates compare with, in milliseconds,
/// ascending and distinct.
pub fn thresholds(service: &Service) -> Vec<u64> {
    let mut out: Vec<u64> = service
        .slo
        .as_ref()
        .and_then(|s| s.latency.as_ref())
        .into_iter()
        .chain(
            service
                .canary
                .as_ref()
                .and_then(|c| c.gate.as_ref())
                .and_then(|g| g.latency.as_ref()),
        )
        .map(|l| l.threshold.millis)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether a service is measured at all: it has an objective or a gate.
pub fn measured(service: &Service) -> bool {
    service.slo.is_some() || service.canary.as_ref().is_some_and(|c| c.gate.is_some())
}

/// The annotation that sets the bounds of a sidecar's histograms.
pub const BUCKETS_ANNOTATION: &str = "sidecar.istio.io/statsHistogramBuckets";

/// The bucket bounds a service's sidecars need beyond Istio's defaults: `None` when every
/// threshold is a default bound, else the defaults and the thresholds, ascending.
pub fn histogram_buckets(service: &Service) -> Option<Vec<u64>> {
    let defaults = &ISTIO_BUCKETS_MS;
    let extra: Vec<u64> = thresholds(service)
        .into_iter()
        .filter(|t| !defaults.contains(t))
        .collect();
    if extra.is_empty() {
        return None;
    }
    let mut all: Vec<u64> = defaults.iter().copied().chain(extra).collect();
    all.sort_unstable();
    Some(all)
}

/// The value of `BUCKETS_ANNOTATION` for a service's pods, where its thresholds need bounds
/// beyond Istio's defaults: `{"istiocustom":[0.5,1,…]}`. The prefix `istiocustom` is the stat
/// namespace of Istio's standard metrics (`istio_request_duration_milliseconds`); the sidecar
/// reads the annotation at start.
pub fn histogram_annotation(service: &Service) -> Option<String> {
    let bounds = histogram_buckets(service)?;
    let list: Vec<String> = std::iter::once(HALF_MS_BUCKET.to_owned())
        .chain(bounds.iter().map(u64::to_string))
        .collect();
    Some(format!("{{\"istiocustom\":[{}]}}", list.join(",")))
}

/// Istio's standard request counter.
pub const REQUESTS: &str = "istio_requests_total";
/// The buckets of Istio's standard request-duration histogram, in milliseconds.
pub const DURATION_BUCKETS: &str = "istio_request_duration_milliseconds_bucket";

/// The matchers of the requests that did not fail: neither an HTTP 5xx nor a gRPC status in
/// `GRPC_SERVER_ERRORS`. A failed request is the complement; no one selector says "a 5xx or a
/// failing gRPC status".
pub fn success_matchers() -> String {
    format!("response_code!~\"5..\",grpc_response_status!~\"{GRPC_SERVER_ERRORS}\"")
}

/// The share of the requests `selector` picks that failed over `window`, per `by` (labels
/// separated by commas, or none): one, not absent, where every request failed, and NaN or no
/// sample where there was no request.
pub fn error_ratio(selector: &str, by: &str, window: &str) -> String {
    let sum = if by.is_empty() {
        "sum".to_owned()
    } else {
        format!("sum by ({by}) ")
    };
    let all = format!("{sum}(rate({REQUESTS}{{{selector}}}[{window}]))");
    let ok = format!(
        "{sum}(rate({REQUESTS}{{{selector},{}}}[{window}]))",
        success_matchers()
    );
    format!("1 - ((({ok}) or 0 * {all}) / {all})")
}

/// The error budget of an objective as a fraction of one (`99.9` → `0.001`): an error ratio
/// over it is the rate the budget burns at.
pub fn budget_fraction(objective: Percent) -> String {
    decimal(u64::from(budget(objective)), 5)
}

/// How many times faster than the SLO allows a tier's budget burns (`144` tenths → `14.4`).
pub fn factor(tier: &Tier) -> String {
    decimal(u64::from(tier.factor_tenths), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_print_exactly() {
        assert_eq!(decimal(99_500, 5), "0.995");
        assert_eq!(decimal(100_000, 5), "1");
        assert_eq!(decimal(12_345, 5), "0.12345");
        assert_eq!(decimal(144 * 100, 6), "0.0144");
        assert_eq!(decimal(0, 3), "0");
    }

    #[test]
    fn thresholds_are_fractions_of_the_budget() {
        let p = |thousandths| Percent { thousandths };
        assert_eq!(burn_threshold(&TIERS[0], p(99_900)), "0.0144");
        assert_eq!(burn_threshold(&TIERS[3], p(99_950)), "0.0005");
        assert_eq!(fraction(p(99_950)), "0.9995");
        assert!(expressible(p(99_000)));
        assert!(expressible(p(93_100)));
        assert!(!expressible(p(93_000)));
        assert!(!expressible(p(100_000)));
        assert_eq!(lowest_expressible(), "93.056");
        assert!(expressible(p(93_056)));
        assert!(!expressible(p(93_055)));
    }

    #[test]
    fn budgets_and_factors_print_as_numbers() {
        let p = |thousandths| Percent { thousandths };
        assert_eq!(budget_fraction(p(99_900)), "0.001");
        assert_eq!(budget_fraction(p(95_000)), "0.05");
        let factors: Vec<String> = TIERS.iter().map(factor).collect();
        assert_eq!(factors, ["14.4", "6", "3", "1"]);
    }

    #[test]
    fn a_failure_is_the_complement_of_a_success() {
        assert_eq!(
            error_ratio("a=\"b\"", "", "5m"),
            "1 - (((sum(rate(istio_requests_total{a=\"b\",response_code!~\"5..\",grpc_response_status!~\"2|4|12|13|14|15\"}[5m]))) or 0 * sum(rate(istio_requests_total{a=\"b\"}[5m]))) / sum(rate(istio_requests_total{a=\"b\"}[5m])))"
        );
    }

    #[test]
    fn bucket_bounds_match_both_spellings() {
        assert_eq!(le_matcher(300), r#"le=~"300(\\.0)?""#);
        assert_eq!(le_matcher(1_800_000), r#"le=~"1800000(\\.0)?|1\\.8e\\+06""#);
        assert_eq!(le_matcher(3_000_000), r#"le=~"3000000(\\.0)?|3e\\+06""#);
    }
}
