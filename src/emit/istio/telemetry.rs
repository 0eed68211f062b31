//! Scraping the mesh: a `PodMonitor` that has Prometheus read every platc pod's sidecar, on the
//! merged metrics endpoint the sidecar serves on its status port (`SIDECAR_METRICS_PORT`,
//! pinned in istiod's values). The canaries' analysis and Kiali's graph read Istio's standard
//! metrics from there (`istio_requests_total`, `istio_request_duration_milliseconds`); without
//! the monitor Prometheus would hold none, and every canary measurement would be inconclusive.
//!
//! The monitor lives beside Prometheus (kube-prometheus-stack picks up every `PodMonitor`: its
//! selectors are unset in the values platc passes), selects only the namespaces and pods platc
//! manages, keeps only the `istio-proxy` container's target, and points it at the status port,
//! which each service's `NetworkPolicy` admits from the Prometheus pods alone.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{meshed, namespaces, platform_meta};
use crate::model::Checked;
use crate::model::addons::{self, SIDECAR_METRICS_PORT};
use crate::output::{Item, Owner, Resource};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    job_label: &'static str,
    namespace_selector: NamespaceSelector,
    selector: Selector,
    pod_metrics_endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceSelector {
    match_names: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Selector {
    match_labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    path: &'static str,
    interval: String,
    relabelings: Vec<Relabel>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relabel {
    action: &'static str,
    source_labels: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regex: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_label: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replacement: Option<String>,
}

/// The name of the monitor.
pub const NAME: &str = "istio-sidecars";

pub fn objects(platform: &Checked) -> Vec<Item> {
    let Some(prometheus) = &platform.observability.prometheus else {
        return Vec::new();
    };
    let meshed_namespaces: Vec<String> = namespaces(platform)
        .into_iter()
        .filter(|(_, services)| services.iter().any(|s| meshed(platform, s)))
        .map(|(ns, _)| ns.to_owned())
        .collect();
    if meshed_namespaces.is_empty() {
        return Vec::new();
    }
    let (stack, _) = addons::prometheus();
    let keep = |labels, regex| Relabel {
        action: "keep",
        source_labels: labels,
        regex: Some(regex),
        target_label: None,
        replacement: None,
    };
    let spec = Spec {
        job_label: "app",
        namespace_selector: NamespaceSelector {
            match_names: meshed_namespaces,
        },
        selector: Selector {
            match_labels: BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                "platc".to_owned(),
            )]),
        },
        pod_metrics_endpoints: vec![Endpoint {
            path: "/stats/prometheus",
            interval: prometheus.scrape_interval.value.text.clone(),
            relabelings: vec![
                // One target per pod: the sidecar's.
                keep(vec!["__meta_kubernetes_pod_container_name"], "istio-proxy"),
                Relabel {
                    action: "replace",
                    source_labels: vec!["__meta_kubernetes_pod_ip"],
                    regex: Some("(.+)"),
                    target_label: Some("__address__"),
                    replacement: Some(format!("$1:{SIDECAR_METRICS_PORT}")),
                },
                Relabel {
                    action: "replace",
                    source_labels: vec!["__meta_kubernetes_namespace"],
                    regex: None,
                    target_label: Some("namespace"),
                    replacement: None,
                },
                Relabel {
                    action: "replace",
                    source_labels: vec!["__meta_kubernetes_pod_name"],
                    regex: None,
                    target_label: Some("pod"),
                    replacement: None,
                },
            ],
        }],
    };
    let origin = prometheus.span;
    vec![Item::resource(
        format!("istio/mesh/podmonitor-{NAME}.yaml"),
        Owner::Platform,
        origin,
        Resource {
            api_version: "monitoring.coreos.com/v1",
            kind: "PodMonitor",
            metadata: platform_meta(platform, NAME, &stack.namespace, origin),
            spec,
        },
    )]
}
