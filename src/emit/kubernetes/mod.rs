//! Kubernetes objects per service: Namespace, `ServiceAccount`, Deployment, Service, HPA, PDB and
//! `NetworkPolicies`, built with k8s-openapi's types so a misspelt field does not compile.

mod network;
mod scaling;
pub mod workload;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, ServiceAccount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::emit::{Object, conventions};
use crate::model::service::{Service, StoreKind, Use};
use crate::model::{Checked, Platform};
use crate::span::Span;

pub use crate::emit::conventions::{ORIGIN_ANNOTATION, common_labels, labels, origin_annotation};

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
        for used in service
            .uses
            .iter()
            .filter(|u| u.kind.value == StoreKind::Filesystem)
        {
            out.push(object(
                format!("{dir}/pvc-{}.yaml", used.name.value),
                &claim(platform, service, used),
                used.span,
            ));
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
    // The restricted Pod Security Standard, unless a service here weakens its security with a
    // reason below it: every pod platc emits meets `restricted` otherwise. Istio runs with its
    // CNI node agent, so that sidecar injection needs no privileged init container.
    let mut annotations = origin_annotation(platform, origin);
    if let Some((_, reason)) = conventions::namespace_pod_security(platform, name) {
        annotations.insert(conventions::POD_SECURITY_REASON.into(), reason);
    }
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(conventions::namespace_labels(platform, name)),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

/// The claim a service mounts a file system through, on the `StorageClass` the Terraform cluster
/// stage makes for it (`efs-<filesystem>`).
fn claim(platform: &Platform, service: &Service, used: &Use) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: meta(
            platform,
            service,
            &used.claim(&service.name.value),
            used.span,
        ),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteMany".into()]),
            storage_class_name: Some(format!("efs-{}", used.name.value)),
            resources: Some(VolumeResourceRequirements {
                // EFS has no size; the API requires one.
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity("1Gi".into()),
                )])),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}

fn service_account(platform: &Platform, service: &Service) -> ServiceAccount {
    let mut metadata = meta(platform, service, &service.name.value, service.name.span);
    if let Some(reason) = &service.automount_token {
        metadata.annotations.get_or_insert_default().insert(
            "platc.dev/automount-token-reason".into(),
            reason.value.clone(),
        );
    }
    ServiceAccount {
        metadata,
        automount_service_account_token: Some(service.automount_token.is_some()),
        ..ServiceAccount::default()
    }
}
