//! `cluster/addons.tf.json`: the Helm add-ons of the add-on table, each chart pinned, in an
//! order that lets each install: Istio's CRDs, its CNI agent, istiod (the gateway's pods get
//! their proxy from its injector), the load balancer controller before the ingress gateway (its
//! webhook must see the gateway's `LoadBalancer` Service created, and it gives the gateway's
//! pods their readiness gates once a `kubernetes_labels` resource has labelled their
//! namespace), the rest after the CRDs they use.
//!
//! Each release's values are the add-on's settings with the table's pins on top
//! (`Addon::values`), so every name platc's own objects point at (the gateway's
//! `ServiceAccount` and labels, Prometheus' and Grafana's Services, the controllers'
//! `ServiceAccount`s bound to AWS roles) is set explicitly, never left to a chart default.

use serde_json::json;

use crate::emit::conventions::{AddonInputs, EBS_PROVISIONER, addon_settings, common_labels};
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
        "istio_egressgateway" => &["istiod"],
        "kiali" => &["kube_prometheus_stack", "istiod"],
        // The release may hold Alertmanager's `SecretProviderClass` (with `alerts`): its CRD
        // first, whenever the driver is installed.
        "kube_prometheus_stack" => &["secrets_store_csi_driver"],
        // Argo CD applies the gateways' `Certificate`s and the `Rollout`s: their CRDs first.
        "argo_cd" => &["cert_manager", "argo_rollouts", "istio_base"],
        _ => &[],
    }
}

/// The `kubernetes_labels` resource (its Terraform id) that labels the ingress gateway's
/// namespace for the load balancer controller's readiness gates, when the gateway is behind
/// the controller's NLB: after the release that creates the namespace (the first in it, in
/// install order) and the controller, whose webhook adds the gates to pods made from then on.
fn readiness_gates(cx: &Context, m: &mut Module) -> Option<String> {
    let gateway = cx.addon(addons::INGRESS_GATEWAY.id)?;
    let controller = cx.addon(addons::LOAD_BALANCER_CONTROLLER.id)?;
    let creator = cx
        .addons
        .iter()
        .find(|a| a.namespace == gateway.namespace && matches!(a.source, Source::Helm { .. }))
        .filter(|a| a.id != gateway.id)?;
    let id = ident(&format!("{}-readiness-gates", gateway.namespace));
    let (key, value) = addons::READINESS_GATE_LABEL;
    let mut depends = vec![
        format!("helm_release.{}", creator.id),
        format!("helm_release.{}", controller.id),
    ];
    depends.sort_unstable();
    m.resource(
        "kubernetes_labels",
        &id,
        json!({
            "api_version": "v1",
            "kind": "Namespace",
            "metadata": {"name": gateway.namespace},
            "labels": {key: value},
            "depends_on": depends,
        }),
    );
    Some(format!("kubernetes_labels.{id}"))
}

/// The `StorageClass` of Prometheus' volume (`addons::MONITORING_STORAGE_CLASS`), when the
/// stack and the EBS CSI driver are installed: its Terraform id, which the stack's release
/// follows. Volumes are deleted with their claim (the `StatefulSet` keeps its claim when the
/// stack is uninstalled), expandable, and bound in the zone the pod is scheduled in.
fn monitoring_storage(cx: &Context, m: &mut Module) -> Option<String> {
    cx.addon(addons::PROMETHEUS_STACK.id)?;
    cx.addon(addons::EBS_CSI.id)?;
    let id = "monitoring";
    m.resource(
        "kubernetes_storage_class_v1",
        id,
        json!({
            "metadata": {
                "name": addons::MONITORING_STORAGE_CLASS,
                "labels": common_labels(cx.platform),
            },
            "storage_provisioner": EBS_PROVISIONER,
            "reclaim_policy": "Delete",
            "volume_binding_mode": "WaitForFirstConsumer",
            "allow_volume_expansion": true,
            "parameters": {
                "type": "gp3",
                "encrypted": "true",
                "csi.storage.k8s.io/fstype": "ext4",
            },
        }),
    );
    Some(format!("kubernetes_storage_class_v1.{id}"))
}

pub fn module(cx: &Context, cluster: &Cluster) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cluster.span));
    let gates = readiness_gates(cx, &mut m);
    let storage = monitoring_storage(cx, &mut m);
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
        if addon.id == addons::INGRESS_GATEWAY.id {
            depends.extend(gates.clone());
        }
        if addon.id == addons::PROMETHEUS_STACK.id {
            depends.extend(storage.clone());
        }
        depends.sort_unstable();
        depends.dedup();
        let values = addon.values(addon_settings(
            &AddonInputs {
                platform: cx.platform,
                addons: &cx.addons,
                cluster_name: output("cluster_name").into(),
                vpc_id: Some(output("vpc_id").into()),
            },
            addon,
        ));
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
