//! Observability derived from the checked platform: what Prometheus scrapes (`PodMonitor`s and
//! `ServiceMonitor`s that the stack's Prometheus selects), what it records and alerts on
//! (`PrometheusRule`s, and the same groups as plain rules files with `promtool` unit tests),
//! and what Grafana shows (a dashboard per service, the platform's overview, the cluster and
//! the mesh, each as a `ConfigMap` the Grafana sidecar loads).
//!
//! Input: a `Checked` platform with an `observability` block. Output: items under
//! `monitoring/`. Invariant: every query reads Istio's standard metrics, the stack's own
//! exporters, or the recording rules of `conventions::slo`, the one definition of success
//! rate and latency that the canary gates read too.

mod dashboards;
mod monitors;
mod rule_tests;
mod rules;
mod runbooks;

use crate::model::Checked;
use crate::output::Output;

/// Adds every monitor, rule and dashboard of the platform.
pub fn emit(platform: &Checked, out: &mut Output) {
    let services = out.services(platform);
    out.extend(monitors::objects(platform, &services));
    rules::emit(platform, out);
    dashboards::emit(platform, out);
}
