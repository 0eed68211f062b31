//! Kubernetes objects per service: Namespace, `ServiceAccount`, Deployment, Service, HPA, PDB and
//! `NetworkPolicies`, built with k8s-openapi's types so a misspelt field does not compile.

mod network;
mod scaling;
pub mod workload;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::emit::Object;
use crate::model::service::Service;
use crate::model::{Checked, Platform};
use crate::span::Span;

/// The annotation that names the line of `platform.kdl` an object came from.
pub const ORIGIN_ANNOTATION: &str = "platc.dev/origin";

/// Every Kubernetes object of the platform (unordered; `emit::cluster_objects` orders them).
pub fn objects(platform: &Checked) -> Vec<Object> {
    let mut out = Vec::new();
    let mut namespaces: BTreeMap<&str, Span> = BTreeMap::new();
    for service in &platform.services {
        namespaces
            .entry(service.namespace.as_str())
            .or_insert(service.span);
    }
    for (namespace, origin) in &namespaces {
        out.push(object(
            format!("kubernetes/namespaces/{namespace}/namespace.yaml"),
            &self::namespace(platform, namespace, *origin),
            *origin,
        ));
        out.push(object(
            format!("kubernetes/namespaces/{namespace}/default-deny.yaml"),
            &network::default_deny(platform, namespace, *origin),
            *origin,
        ));
    }
    let per_service = crate::emit::parallel::map(&platform.services, |service| {
        service_objects(platform, service)
    });
    out.extend(per_service.into_iter().flatten());
    out
}

/// The objects of one service.
fn service_objects(platform: &Platform, service: &Service) -> Vec<Object> {
    let mut out = Vec::new();
    {
        let dir = format!("kubernetes/services/{}", service.name.value);
        out.push(object(
            format!("{dir}/serviceaccount.yaml"),
            &service_account(platform, service),
            service.span,
        ));
        out.push(object(
            format!("{dir}/deployment.yaml"),
            &workload::deployment(platform, service),
            service.span,
        ));
        if let Some(svc) = network::service(platform, service) {
            out.push(object(format!("{dir}/service.yaml"), &svc, service.span));
        }
        out.push(object(
            format!("{dir}/networkpolicy.yaml"),
            &network::policy(platform, service),
            service.span,
        ));
        if let Some(autoscale) = &service.autoscale {
            let mut hpa = scaling::autoscaler(platform, service, autoscale);
            if workload::rolled_out(platform, service)
                && let Some(spec) = &mut hpa.spec
            {
                // The Rollout owns the pods and their count.
                spec.scale_target_ref.api_version = Some("argoproj.io/v1alpha1".into());
                spec.scale_target_ref.kind = "Rollout".into();
            }
            out.push(object(format!("{dir}/hpa.yaml"), &hpa, autoscale.span));
        }
        if let Some(pdb) = scaling::disruption_budget(platform, service) {
            out.push(object(format!("{dir}/pdb.yaml"), &pdb, service.span));
        }
    }
    out
}

fn object<T: Serialize + k8s_openapi::Resource>(path: String, value: &T, origin: Span) -> Object {
    Object {
        path,
        kind: T::KIND,
        yaml: crate::emit::encode::yaml(value),
        // Core kinds: kubernetes-validate checks them in conformance; no schema here.
        value: None,
        origin,
    }
}

/// The labels every object of a service carries: the recommended `app.kubernetes.io/*` set,
/// and `app` for Istio and Kiali.
pub fn labels(platform: &Platform, service: &Service) -> BTreeMap<String, String> {
    let mut labels = common_labels(platform);
    labels.insert("app".into(), service.name.value.clone());
    labels.insert("app.kubernetes.io/name".into(), service.name.value.clone());
    labels.insert(
        "app.kubernetes.io/instance".into(),
        service.name.value.clone(),
    );
    if let Some(version) = service
        .image
        .tag
        .as_ref()
        .filter(|t| is_label_value(&t.value))
    {
        labels.insert("app.kubernetes.io/version".into(), version.value.clone());
    }
    labels
}

/// The labels of objects that belong to the platform as a whole.
pub fn common_labels(platform: &Platform) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/managed-by".to_owned(),
            "platc".to_owned(),
        ),
        (
            "app.kubernetes.io/part-of".to_owned(),
            platform.name.value.clone(),
        ),
    ])
}

/// A label value: at most 63 of `[A-Za-z0-9._-]`, starting and ending alphanumeric.
fn is_label_value(text: &str) -> bool {
    text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Metadata of a namespaced object of a service.
pub fn meta(platform: &Platform, service: &Service, name: &str, origin: Span) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(service.namespace.clone()),
        labels: Some(labels(platform, service)),
        annotations: Some(origin_annotation(platform, origin)),
        ..ObjectMeta::default()
    }
}

pub fn origin_annotation(platform: &Platform, origin: Span) -> BTreeMap<String, String> {
    BTreeMap::from([(ORIGIN_ANNOTATION.to_owned(), platform.origin.locate(origin))])
}

/// The checkov skip annotations of a service's waivers (`checkov.io/skip1: CKV_K8S_43=reason`).
pub fn waiver_annotations(service: &Service) -> BTreeMap<String, String> {
    service
        .waivers
        .iter()
        .enumerate()
        .map(|(i, w)| {
            (
                format!("checkov.io/skip{}", i + 1),
                format!("{}={}", w.check.value, w.reason.value),
            )
        })
        .collect()
}

fn namespace(platform: &Platform, name: &str, origin: Span) -> Namespace {
    let mut labels = common_labels(platform);
    labels.insert("kubernetes.io/metadata.name".into(), name.to_owned());
    if platform.mesh.is_some() {
        labels.insert("istio-injection".into(), "enabled".into());
    }
    // The restricted Pod Security Standard: every pod platc emits meets it. Istio must run
    // with its CNI node agent, so that sidecar injection needs no privileged init container.
    labels.insert(
        "pod-security.kubernetes.io/enforce".into(),
        "restricted".into(),
    );
    labels.insert(
        "pod-security.kubernetes.io/enforce-version".into(),
        "latest".into(),
    );
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels),
            annotations: Some(origin_annotation(platform, origin)),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

fn service_account(platform: &Platform, service: &Service) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(platform, service, &service.name.value, service.name.span),
        automount_service_account_token: Some(service.automount_token.is_some()),
        ..ServiceAccount::default()
    }
}
