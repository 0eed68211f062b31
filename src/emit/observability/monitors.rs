//! What Prometheus scrapes: the merged metrics endpoint of every sidecar of a platc pod and of
//! the ingress gateway (`SIDECAR_METRICS_PORT`, pinned in istiod's values, path
//! `/stats/prometheus`), the control plane's own metrics (istiod's `http-monitoring`
//! port), and cert-manager's (the gateways' certificates: ready, and when they end). The
//! canary gates, the SLO rules, the dashboards and Kiali's graph read Istio's standard metrics
//! from there; without the monitors Prometheus would hold none.
//!
//! Each monitor lives beside Prometheus and carries `addons::MONITOR_LABELS`, the labels the
//! stack's Prometheus is pinned to select (in every namespace). The sidecar monitor selects
//! only the namespaces and pods platc manages and keeps only the `istio-proxy` container's
//! target; each service's `NetworkPolicy` admits the Prometheus pods to the status port.
//! istio-system has no `NetworkPolicy` of platc's.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

use crate::emit::conventions::{
    common_labels, meshed, metrics_port, namespaces, origin_annotation,
};
use crate::model::Checked;
use crate::model::addons::{self, ISTIOD, MONITOR_LABELS, SIDECAR_METRICS_PORT};
use crate::model::service::Service;
use crate::output::{Item, Owner, Resource};
use crate::span::Span;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodMonitorSpec {
    job_label: &'static str,
    namespace_selector: NamespaceSelector,
    selector: LabelSelector,
    pod_metrics_endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceMonitorSpec {
    job_label: &'static str,
    namespace_selector: NamespaceSelector,
    selector: LabelSelector,
    endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceSelector {
    match_names: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<String>,
    path: String,
    interval: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    relabelings: Vec<Relabel>,
    /// Keep the labels a series comes with over the target's of the same name.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    honor_labels: bool,
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

/// The name of the monitor of the services' sidecars.
pub const SIDECARS: &str = "istio-sidecars";
/// The name of the monitor of the ingress gateway.
pub const GATEWAY: &str = "istio-ingressgateway";
/// The name of the monitor of the egress gateway.
pub const EGRESS_GATEWAY: &str = "istio-egressgateway";
/// The name of the monitor of the control plane.
pub const CONTROL_PLANE: &str = "istiod";
/// The name of the monitor of cert-manager's controller.
pub const CERTIFICATES: &str = "cert-manager";

/// A selector on labels alone.
fn match_labels(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        ..LabelSelector::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The relabelings that point a pod target at its sidecar's merged metrics: one target per
/// pod (the `istio-proxy` container's), at the status port, with `namespace` and `pod`.
fn sidecar_relabelings() -> Vec<Relabel> {
    let replace = |source, target| Relabel {
        action: "replace",
        source_labels: vec![source],
        regex: None,
        target_label: Some(target),
        replacement: None,
    };
    vec![
        Relabel {
            action: "keep",
            source_labels: vec!["__meta_kubernetes_pod_container_name"],
            regex: Some("istio-proxy"),
            target_label: None,
            replacement: None,
        },
        Relabel {
            action: "replace",
            source_labels: vec!["__meta_kubernetes_pod_ip"],
            regex: Some("(.+)"),
            target_label: Some("__address__"),
            replacement: Some(format!("$1:{SIDECAR_METRICS_PORT}")),
        },
        replace("__meta_kubernetes_namespace", "namespace"),
        replace("__meta_kubernetes_pod_name", "pod"),
    ]
}

fn resource<S: Serialize + Send + Sync + 'static>(
    platform: &Checked,
    kind: &'static str,
    name: &str,
    origin: Span,
    spec: S,
) -> Item {
    let (stack, _) = addons::prometheus();
    let mut metadata_labels = common_labels(platform);
    metadata_labels.extend(labels(MONITOR_LABELS));
    Item::resource(
        format!("monitoring/platform/{}-{name}.yaml", kind.to_lowercase()),
        Owner::Platform,
        origin,
        Resource {
            api_version: "monitoring.coreos.com/v1",
            kind,
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(stack.namespace.to_string()),
                labels: Some(metadata_labels),
                annotations: Some(origin_annotation(platform, origin)),
                ..Default::default()
            },
            spec,
        },
    )
}

/// The platform's monitors and those of `services`. The platform's are made for every part
/// (a handful, cheap); the set drops them when the run does not want them.
pub fn objects(platform: &Checked, services: &[&Service]) -> Vec<Item> {
    let Some(prometheus) = &platform.observability.prometheus else {
        return Vec::new();
    };
    let interval = &prometheus.scrape_interval.value.text;
    let origin = prometheus.span;
    let mut out = Vec::new();
    let meshed_namespaces: Vec<String> = namespaces(platform)
        .into_iter()
        .filter(|(_, services)| services.iter().any(|s| meshed(platform, s)))
        .map(|(ns, _)| ns.to_owned())
        .collect();
    if !meshed_namespaces.is_empty() {
        out.push(resource(
            platform,
            "PodMonitor",
            SIDECARS,
            origin,
            PodMonitorSpec {
                job_label: "app",
                namespace_selector: NamespaceSelector {
                    match_names: meshed_namespaces,
                },
                selector: match_labels(BTreeMap::from([(
                    "app.kubernetes.io/managed-by".to_owned(),
                    "platc".to_owned(),
                )])),
                pod_metrics_endpoints: vec![Endpoint {
                    port: None,
                    path: "/stats/prometheus".into(),
                    interval: interval.clone(),
                    relabelings: sidecar_relabelings(),
                    honor_labels: false,
                }],
            },
        ));
    }
    // A service without a sidecar is scraped on its own metrics port.
    for service in services {
        let Some((port, path)) = metrics_port(service).filter(|_| !meshed(platform, service))
        else {
            continue;
        };
        let mut selector = labels(&[("app.kubernetes.io/managed-by", "platc")]);
        selector.insert("app".into(), service.name.value.clone());
        let mut item = resource(
            platform,
            "PodMonitor",
            &format!("{}-metrics", service.name.value),
            port.span,
            PodMonitorSpec {
                job_label: "app",
                namespace_selector: NamespaceSelector {
                    match_names: vec![service.namespace.clone()],
                },
                selector: match_labels(selector),
                pod_metrics_endpoints: vec![Endpoint {
                    port: Some(port.name.value.clone()),
                    path: path.to_owned(),
                    interval: interval.clone(),
                    relabelings: Vec::new(),
                    honor_labels: false,
                }],
            },
        );
        item.path = format!("monitoring/services/{}/podmonitor.yaml", service.name.value);
        item.owner = Owner::Service(service.name.value.clone());
        out.push(item);
    }
    let Some(mesh) = &platform.mesh else {
        return out;
    };
    // A gateway's Envoy, as a sidecar's: its stats on the status port.
    let gateway_monitor = |gateway: &addons::Addon, name: &str| {
        resource(
            platform,
            "PodMonitor",
            name,
            origin,
            PodMonitorSpec {
                job_label: "app",
                namespace_selector: NamespaceSelector {
                    match_names: vec![gateway.namespace.to_string()],
                },
                selector: match_labels(labels(gateway.workloads[0].labels)),
                pod_metrics_endpoints: vec![Endpoint {
                    port: None,
                    path: "/stats/prometheus".into(),
                    interval: interval.clone(),
                    relabelings: sidecar_relabelings(),
                    honor_labels: false,
                }],
            },
        )
    };
    if !mesh.gateways.is_empty() {
        out.push(gateway_monitor(&addons::INGRESS_GATEWAY, GATEWAY));
    }
    // The egress gateway's: what leaves the mesh, per outside host.
    if mesh.egress_gateway.is_some() {
        out.push(gateway_monitor(&addons::EGRESS_GATEWAY, EGRESS_GATEWAY));
    }
    // cert-manager's controller: the alerts on the gateways' certificates read its metrics.
    if addons::wants_cert_manager(platform) {
        let controller = &addons::CERT_MANAGER.workloads[0];
        out.push(resource(
            platform,
            "PodMonitor",
            CERTIFICATES,
            origin,
            PodMonitorSpec {
                job_label: "app.kubernetes.io/name",
                namespace_selector: NamespaceSelector {
                    match_names: vec![addons::CERT_MANAGER.namespace.to_string()],
                },
                selector: match_labels(labels(controller.labels)),
                pod_metrics_endpoints: vec![Endpoint {
                    port: Some(addons::CERT_MANAGER_METRICS_PORT.into()),
                    path: "/metrics".into(),
                    interval: interval.clone(),
                    relabelings: Vec::new(),
                    // cert-manager labels each series with its Certificate's `namespace`;
                    // without this, Prometheus would give that label the target's (the
                    // pod's, cert-manager) and move the series' own to
                    // `exported_namespace`, and the alerts on the gateways' certificates,
                    // which select their namespace, would never fire.
                    honor_labels: true,
                }],
            },
        ));
    }
    let istiod = &ISTIOD.services[0];
    out.push(resource(
        platform,
        "ServiceMonitor",
        CONTROL_PLANE,
        origin,
        ServiceMonitorSpec {
            job_label: "app",
            namespace_selector: NamespaceSelector {
                match_names: vec![ISTIOD.namespace.to_string()],
            },
            selector: match_labels(labels(istiod.selector)),
            endpoints: vec![Endpoint {
                port: Some("http-monitoring".into()),
                path: "/metrics".into(),
                interval: interval.clone(),
                relabelings: Vec::new(),
                honor_labels: false,
            }],
        },
    ));
    out
}
