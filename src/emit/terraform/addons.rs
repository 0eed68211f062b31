//! `addons.tf.json`: the platform's cluster add-ons as Helm releases, each chart pinned.
//!
//! Istio (base, the CNI node agent, istiod, the ingress gateway) when the platform has a mesh:
//! with the CNI agent, sidecar injection needs no privileged init container, so the service
//! namespaces can enforce the `restricted` Pod Security Standard. kube-prometheus-stack when it
//! asks for Prometheus or Grafana, cert-manager (with its CRDs) when a gateway ends TLS with a
//! certificate from it, Kiali when it asks for Kiali, Argo CD for `delivery { argocd }`
//! and Argo Rollouts when a service has a canary. Releases wait for the nodes and `CoreDNS`.

use serde_json::{Value, json};

use crate::emit::terraform::{Context, Module, ident};
use crate::model::aws::Cluster;

/// The namespaces the Kubernetes emitter's `NetworkPolicies` expect the add-ons in.
const ISTIO_NAMESPACE: &str = "istio-system";
const MONITORING_NAMESPACE: &str = "monitoring";

/// The pinned releases. Istio 1.27 supports Kubernetes 1.29 to 1.33 (`check::versions` holds
/// the cluster to that); the others are the releases of the same months that support it.
pub const ISTIO: &str = "1.27.1";
const ISTIO_CHARTS: &str = "https://istio-release.storage.googleapis.com/charts";
const KUBE_PROMETHEUS_STACK: &str = "77.6.2";
const KIALI: &str = "2.13.0";
const ARGO_CD: &str = "8.3.7";
const ARGO_ROLLOUTS: &str = "2.40.5";
const ARGO_CHARTS: &str = "https://argoproj.github.io/argo-helm";
/// cert-manager 1.19 at its June 2026 patch, which fixes GHSA-8rvj-mm4h-c258. The chart's
/// versions carry the `v`.
const CERT_MANAGER: &str = "v1.19.6";
/// The namespace and `ServiceAccount` of cert-manager's controller, which answers the ACME
/// challenges (the chart names the account after the release).
pub const CERT_MANAGER_NAMESPACE: &str = "cert-manager";
pub const CERT_MANAGER_SERVICE_ACCOUNT: &str = "cert-manager";

/// Whether the platform needs cert-manager: exactly when the Istio emitter writes a
/// `Certificate` and the `ClusterIssuer`.
pub fn cert_manager_wanted(cx: &Context) -> bool {
    cx.platform
        .mesh
        .as_ref()
        .is_some_and(crate::emit::istio::certificates_wanted)
}

/// Whether the platform needs any Helm release.
pub fn wanted(cx: &Context) -> bool {
    let p = cx.platform;
    p.mesh.is_some()
        || p.observability.prometheus.is_some()
        || p.observability.grafana.is_some()
        || p.observability.kiali.is_some()
        || p.delivery.argocd.is_some()
        || p.services.iter().any(|s| s.canary.is_some())
}

/// One chart release.
struct Release<'a> {
    id: &'a str,
    name: &'a str,
    repository: &'a str,
    chart: &'a str,
    version: &'a str,
    namespace: &'a str,
    values: Option<Value>,
    after: Vec<String>,
}

fn release(m: &mut Module, base: &[String], release: Release) {
    let mut depends: Vec<String> = base.to_vec();
    depends.extend(release.after);
    let mut body = json!({
        "name": release.name,
        "repository": release.repository,
        "chart": release.chart,
        "version": release.version,
        "namespace": release.namespace,
        "create_namespace": true,
        "atomic": true,
        "timeout": 900,
        "depends_on": depends,
    });
    if let Some(values) = release.values {
        // JSON is YAML: the values file Helm reads.
        body["values"] = json!([serde_json::to_string(&values).unwrap_or_default()]);
    }
    m.resource("helm_release", release.id, body);
}

pub fn module(cx: &Context, cluster: &Cluster) -> Module {
    let mut m = Module::new(&cx.platform.origin.locate(cluster.span));
    if !wanted(cx) {
        return m;
    }
    let p = cx.platform;
    let mut base: Vec<String> = cluster
        .node_groups
        .iter()
        .map(|g| format!("aws_eks_node_group.{}", ident(&g.name.value)))
        .collect();
    base.push("aws_eks_addon.coredns".into());
    if p.mesh.is_some() {
        istio(&mut m, &base);
    }
    let cert_manager = cert_manager_wanted(cx);
    if cert_manager {
        // With a domain, the controller's AWS role must be bound before its pods start: Pod
        // Identity hands credentials only to pods created after the association.
        let after = if cx.aws.domain.is_some() {
            vec![format!(
                "aws_eks_pod_identity_association.{}",
                crate::emit::terraform::identity::CERT_MANAGER
            )]
        } else {
            Vec::new()
        };
        release(
            &mut m,
            &base,
            Release {
                id: "cert_manager",
                name: "cert-manager",
                repository: "https://charts.jetstack.io",
                chart: "cert-manager",
                version: CERT_MANAGER,
                namespace: CERT_MANAGER_NAMESPACE,
                values: Some(json!({"crds": {"enabled": true}})),
                after,
            },
        );
    }
    let prometheus = p.observability.prometheus.as_ref();
    if prometheus.is_some() || p.observability.grafana.is_some() {
        let mut spec = json!({
            // Pick up every ServiceMonitor, PodMonitor and rule, not only the chart's own.
            "serviceMonitorSelectorNilUsesHelmValues": false,
            "podMonitorSelectorNilUsesHelmValues": false,
            "ruleSelectorNilUsesHelmValues": false,
        });
        if let Some(prometheus) = prometheus {
            spec["retention"] = json!(prometheus.retention.value.text);
            spec["scrapeInterval"] = json!(prometheus.scrape_interval.value.text);
        }
        release(
            &mut m,
            &base,
            Release {
                id: "kube_prometheus_stack",
                name: "kube-prometheus-stack",
                repository: "https://prometheus-community.github.io/helm-charts",
                chart: "kube-prometheus-stack",
                version: KUBE_PROMETHEUS_STACK,
                namespace: MONITORING_NAMESPACE,
                values: Some(json!({
                    "prometheus": {"prometheusSpec": spec},
                    "grafana": {"enabled": p.observability.grafana.is_some()},
                })),
                after: Vec::new(),
            },
        );
    }
    if p.observability.kiali.is_some() {
        let mut values = json!({"auth": {"strategy": "token"}});
        let mut after = Vec::new();
        if prometheus.is_some() {
            values["external_services"] = json!({"prometheus": {
                "url": format!("http://kube-prometheus-stack-prometheus.{MONITORING_NAMESPACE}:9090"),
            }});
            after.push("helm_release.kube_prometheus_stack".to_owned());
        }
        if p.mesh.is_some() {
            after.push("helm_release.istiod".to_owned());
        }
        release(
            &mut m,
            &base,
            Release {
                id: "kiali",
                name: "kiali-server",
                repository: "https://kiali.org/helm-charts",
                chart: "kiali-server",
                version: KIALI,
                namespace: ISTIO_NAMESPACE,
                values: Some(values),
                after,
            },
        );
    }
    if let Some(argocd) = &p.delivery.argocd {
        // Argo CD applies the gateways' `Certificate`s and the `ClusterIssuer`: their CRDs first.
        let after = if cert_manager {
            vec!["helm_release.cert_manager".to_owned()]
        } else {
            Vec::new()
        };
        release(
            &mut m,
            &base,
            Release {
                id: "argo_cd",
                name: "argo-cd",
                repository: ARGO_CHARTS,
                chart: "argo-cd",
                version: ARGO_CD,
                namespace: &argocd.namespace.value,
                values: Some(json!({"dex": {"enabled": false}})),
                after,
            },
        );
    }
    if p.services.iter().any(|s| s.canary.is_some()) {
        release(
            &mut m,
            &base,
            Release {
                id: "argo_rollouts",
                name: "argo-rollouts",
                repository: ARGO_CHARTS,
                chart: "argo-rollouts",
                version: ARGO_ROLLOUTS,
                namespace: "argo-rollouts",
                values: None,
                after: Vec::new(),
            },
        );
    }
    m
}

/// Istio's base (CRDs), CNI node agent, control plane and ingress gateway, in that order.
fn istio(m: &mut Module, base: &[String]) {
    // (Terraform name, release, chart, values, the releases it follows)
    type Chart<'a> = (&'a str, &'a str, &'a str, Option<Value>, &'a [&'a str]);
    let charts: [Chart; 4] = [
        ("istio_base", "istio-base", "base", None, &[]),
        (
            "istio_cni",
            "istio-cni",
            "cni",
            None,
            &["helm_release.istio_base"],
        ),
        (
            "istiod",
            "istiod",
            "istiod",
            // The CNI agent sets up traffic redirection: no istio-init container.
            Some(json!({"pilot": {"cni": {"enabled": true}}})),
            &["helm_release.istio_cni"],
        ),
        (
            "istio_ingressgateway",
            // The chart labels its pods `istio: ingressgateway`, which the Gateway objects
            // and the NetworkPolicies select.
            "istio-ingressgateway",
            "gateway",
            Some(json!({"service": {"annotations": {
                "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
            }}})),
            &["helm_release.istiod"],
        ),
    ];
    for (id, name, chart, values, after) in charts {
        release(
            m,
            base,
            Release {
                id,
                name,
                repository: ISTIO_CHARTS,
                chart,
                version: ISTIO,
                namespace: ISTIO_NAMESPACE,
                values,
                after: after.iter().map(|s| (*s).to_owned()).collect(),
            },
        );
    }
}
