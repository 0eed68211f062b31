//! `cluster/addons.tf.json`: the Helm add-ons of the add-on table, each chart pinned, in an
//! order that lets each install: Istio's CRDs, its CNI agent, istiod (the gateway's pods get
//! their proxy from its injector), the load balancer controller before the ingress gateway (its
//! webhook must see the gateway's `LoadBalancer` Service created), the rest after the CRDs they
//! use.
//!
//! Each release's values are the add-on's settings with the table's pins on top
//! (`Addon::values`), so every name platc's own objects point at (the gateway's
//! `ServiceAccount` and labels, Prometheus' and Grafana's Services, the controllers'
//! `ServiceAccount`s bound to AWS roles) is set explicitly, never left to a chart default.

use serde_json::{Value, json};

use crate::emit::terraform::{Context, Module, ident};
use crate::model::addons::{self, Addon, Source};
use crate::model::aws::Cluster;

/// A first-stage output, read through the remote state.
fn output(name: &str) -> String {
    format!("${{data.terraform_remote_state.aws.outputs.{name}}}")
}

/// The releases this one must follow (their Terraform ids), when the platform installs them.
/// Every release also follows the AWS Load Balancer Controller when there is one: its webhook
/// inspects every new Service and fails closed while its pods are not ready.
fn after(addon: &Addon) -> &'static [&'static str] {
    match addon.id {
        "istio_cni" | "external_dns" => &["istio_base"],
        "istiod" => &["istio_cni"],
        "istio_ingressgateway" => &["istiod", "aws_load_balancer_controller"],
        "kiali" => &["kube_prometheus_stack", "istiod"],
        // Argo CD applies the gateways' `Certificate`s and the `Rollout`s: their CRDs first.
        "argo_cd" => &["cert_manager", "argo_rollouts", "istio_base"],
        _ => &[],
    }
}

/// The values of a release other than its pins.
fn settings(cx: &Context, cluster: &Cluster, addon: &Addon) -> Value {
    let p = cx.platform;
    let region = &cx.aws.region.value;
    match addon.id {
        "istio_ingressgateway" if cx.addon(addons::LOAD_BALANCER_CONTROLLER.id).is_some() => {
            // An internet-facing NLB that sends to the gateway pods' IPs: TLS ends at the
            // gateway, with the certificate cert-manager keeps in its namespace.
            json!({"service": {"annotations": {
                "service.beta.kubernetes.io/aws-load-balancer-type": "external",
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
            }}})
        }
        "aws_load_balancer_controller" => json!({
            "clusterName": output("cluster_name"),
            // Nodes allow one IMDS hop: the controller cannot look these up itself.
            "region": region,
            "vpcId": output("vpc_id"),
            // Off in a private cluster (no endpoints for them), and unused by an NLB.
            "enableShield": false,
            "enableWaf": false,
            "enableWafv2": false,
        }),
        "cluster_autoscaler" => json!({
            "autoDiscovery": {"clusterName": output("cluster_name")},
            "awsRegion": region,
            "image": {"tag": addons::cluster_autoscaler_image(&cluster.version.value).unwrap_or_default()},
            "extraArgs": {
                // Node groups span the zones alike: keep them the same size.
                "balance-similar-node-groups": true,
                "expander": "least-waste",
            },
        }),
        "external_dns" => {
            let zone = cx.aws.domain.as_ref().map_or_else(String::new, |d| {
                d.zone
                    .as_ref()
                    .map_or_else(|| d.name.value.clone(), |z| z.value.clone())
            });
            json!({
                "provider": {"name": "aws"},
                "sources": ["istio-gateway"],
                "domainFilters": [zone],
                "extraArgs": ["--aws-zone-type=public"],
                // Records it created and the Gateway no longer names are deleted; records of
                // others (other owners' TXT) are never touched.
                "policy": "sync",
                "registry": "txt",
                "txtOwnerId": cx.name(),
                "env": [{"name": "AWS_DEFAULT_REGION", "value": region}],
            })
        }
        "kube_prometheus_stack" => {
            let mut spec = json!({
                // Pick up every ServiceMonitor, PodMonitor and rule, not only the chart's own.
                "serviceMonitorSelectorNilUsesHelmValues": false,
                "podMonitorSelectorNilUsesHelmValues": false,
                "ruleSelectorNilUsesHelmValues": false,
            });
            if let Some(prometheus) = &p.observability.prometheus {
                spec["retention"] = json!(prometheus.retention.value.text);
                spec["scrapeInterval"] = json!(prometheus.scrape_interval.value.text);
            }
            json!({
                "prometheus": {"prometheusSpec": spec},
                "grafana": {"enabled": p.observability.grafana.is_some()},
            })
        }
        "kiali" => {
            // Kiali's built-in defaults name Services in istio-system that do not exist.
            let mut services = json!({"tracing": {"enabled": false}});
            if p.observability.prometheus.is_some() || p.observability.grafana.is_some() {
                let (stack, prometheus) = addons::prometheus();
                services["prometheus"] = json!({"url": stack.url(prometheus, "http-web")});
            }
            services["grafana"] = if p.observability.grafana.is_some() {
                let (stack, grafana) = addons::grafana();
                json!({"enabled": true, "internal_url": stack.url(grafana, "http-web")})
            } else {
                json!({"enabled": false})
            };
            json!({"external_services": services})
        }
        _ => json!({}),
    }
}

pub fn module(cx: &Context, cluster: &Cluster) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cluster.span));
    for addon in &cx.addons {
        let Source::Helm {
            repository,
            chart,
            version,
        } = addon.source
        else {
            continue;
        };
        let load_balancer = addons::LOAD_BALANCER_CONTROLLER.id;
        let first = (addon.id != load_balancer && cx.addon(load_balancer).is_some())
            .then_some(load_balancer);
        let mut depends: Vec<String> = first
            .into_iter()
            .chain(after(addon).iter().copied())
            .filter(|id| cx.addon(id).is_some())
            .map(|id| format!("helm_release.{id}"))
            .collect();
        depends.sort_unstable();
        depends.dedup();
        let values = addon.values(settings(cx, cluster, addon));
        let mut body = json!({
            "name": addon.release,
            "repository": repository,
            "chart": chart,
            "version": version,
            "namespace": addon.namespace,
            "create_namespace": true,
            "atomic": true,
            "timeout": 900,
        });
        if values.as_object().is_some_and(|v| !v.is_empty()) {
            // JSON is YAML: the values file Helm reads.
            body["values"] = json!([serde_json::to_string(&values).unwrap_or_default()]);
        }
        if !depends.is_empty() {
            body["depends_on"] = json!(depends);
        }
        m.resource("helm_release", &ident(addon.id), body);
    }
    m
}
