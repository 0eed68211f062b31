//! Kubernetes objects per service: Namespace, `ServiceAccount`, Deployment (or `StatefulSet` and
//! its headless Service), Service, HPA, PDB and `NetworkPolicies`, and the gp3 `StorageClass`
//! of stateful volumes, built with k8s-openapi's types so a misspelt field does not compile.

mod network;
mod scaling;
mod secrets;
mod storage;
mod workload;

use std::collections::BTreeMap;

use crate::emit::conventions::{self, meta};
use crate::model::service::{Service, StoreKind, Use};
use crate::model::{Checked, Platform};
use crate::output::{Item, Output, Owner};
use crate::span::Span;
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, ServiceAccount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::emit::conventions::origin_annotation;

/// Adds every Kubernetes object of the platform.
pub fn emit(platform: &Checked, out: &mut Output) {
    if out.wants_shared() || out.wants_namespaces() {
        shared(platform, out);
    }
    out.extend_mapped(&out.services(platform), |service| {
        service_objects(platform, service)
    });
}

/// The platform's objects and its namespaces'.
fn shared(platform: &Checked, out: &mut Output) {
    for (namespace, services) in out.namespaces(platform) {
        // The namespace's first service.
        let origin = services[0].span;
        out.push(Item::k8s(
            format!("kubernetes/namespaces/{namespace}/namespace.yaml"),
            Owner::Namespace(namespace.to_string()),
            origin,
            self::namespace(platform, namespace, origin),
        ));
        out.push(Item::k8s(
            format!("kubernetes/namespaces/{namespace}/default-deny.yaml"),
            Owner::Namespace(namespace.to_string()),
            origin,
            network::default_deny(platform, namespace, origin),
        ));
    }
    if !out.wants_shared() {
        return;
    }
    if let Some(origin) = platform
        .services
        .iter()
        .find_map(|s| s.stateful.as_ref().map(|st| st.span))
    {
        out.push(Item::k8s(
            format!("kubernetes/storage/{}.yaml", conventions::EBS_STORAGE_CLASS),
            Owner::Platform,
            origin,
            storage::ebs_class(platform, origin),
        ));
    }
    if let Some(origin) = platform.mesh.as_ref().and_then(|m| m.egress_gateway)
        && let Some(policy) = network::egress_gateway_policy(platform, origin)
    {
        out.push(Item::k8s(
            "kubernetes/egress/networkpolicy.yaml".to_owned(),
            Owner::Platform,
            origin,
            policy,
        ));
    }
}

/// The objects of one service.
fn service_objects(platform: &Platform, service: &Service) -> Vec<Item> {
    let mut out = Vec::new();
    {
        let dir = format!("kubernetes/services/{}", service.name.value);
        out.push(Item::k8s(
            format!("{dir}/serviceaccount.yaml"),
            Owner::Service(service.name.value.clone()),
            service.span,
            service_account(platform, service),
        ));
        if !service.configs.is_empty() {
            out.push(Item::k8s(
                format!("{dir}/configmap.yaml"),
                Owner::Service(service.name.value.clone()),
                service.span,
                config_map(platform, service),
            ));
        }
        if let Some(stateful) = &service.stateful {
            out.push(Item::k8s(
                format!("{dir}/statefulset.yaml"),
                Owner::Service(service.name.value.clone()),
                service.span,
                workload::stateful_set(platform, service, stateful),
            ));
            out.push(Item::k8s(
                format!("{dir}/service-headless.yaml"),
                Owner::Service(service.name.value.clone()),
                stateful.span,
                network::headless_service(platform, service, stateful),
            ));
        } else {
            out.push(Item::k8s(
                format!("{dir}/deployment.yaml"),
                Owner::Service(service.name.value.clone()),
                service.span,
                workload::deployment(platform, service),
            ));
            for version in &service.versions {
                out.push(Item::k8s(
                    format!("{dir}/deployment-{}.yaml", version.name.value),
                    Owner::Service(service.name.value.clone()),
                    version.span,
                    workload::version_deployment(platform, service, version),
                ));
            }
        }
        if let Some(migrate) = &service.migrate {
            out.push(Item::k8s(
                format!("{dir}/job-{}.yaml", migrate.name.value),
                Owner::Service(service.name.value.clone()),
                migrate.span,
                workload::migration(platform, service, migrate),
            ));
            out.push(Item::k8s(
                format!("{dir}/networkpolicy-{}.yaml", migrate.name.value),
                Owner::Service(service.name.value.clone()),
                migrate.span,
                network::migration_policy(platform, service, migrate),
            ));
        }
        if let Some(svc) = network::service(platform, service) {
            out.push(Item::k8s(
                format!("{dir}/service.yaml"),
                Owner::Service(service.name.value.clone()),
                service.span,
                svc,
            ));
        }
        out.push(Item::k8s(
            format!("{dir}/networkpolicy.yaml"),
            Owner::Service(service.name.value.clone()),
            service.span,
            network::policy(platform, service),
        ));
        if let Some(autoscale) = &service.autoscale {
            let hpa = scaling::autoscaler(platform, service, autoscale, None);
            out.push(Item::k8s(
                format!("{dir}/hpa.yaml"),
                Owner::Service(service.name.value.clone()),
                autoscale.span,
                hpa,
            ));
            // Each version scales on its own load.
            for version in &service.versions {
                out.push(Item::k8s(
                    format!("{dir}/hpa-{}.yaml", version.name.value),
                    Owner::Service(service.name.value.clone()),
                    autoscale.span,
                    scaling::autoscaler(platform, service, autoscale, Some(version)),
                ));
            }
        }
        if let Some(pdb) = scaling::disruption_budget(platform, service) {
            out.push(Item::k8s(
                format!("{dir}/pdb.yaml"),
                Owner::Service(service.name.value.clone()),
                service.span,
                pdb,
            ));
        }
        for used in service
            .uses
            .iter()
            .filter(|u| u.kind.value == StoreKind::Filesystem)
        {
            out.push(Item::k8s(
                format!("{dir}/pvc-{}.yaml", used.name.value),
                Owner::Service(service.name.value.clone()),
                used.span,
                claim(platform, service, used),
            ));
        }
        out.extend(secrets::classes(platform, service, &dir));
        out.extend(secrets::password_classes(platform, service, &dir));
    }
    out
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

/// The `ConfigMap` of a service's `config` files, which its pods mount.
fn config_map(platform: &Platform, service: &Service) -> ConfigMap {
    ConfigMap {
        metadata: meta(
            platform,
            service,
            &conventions::config_map(service),
            service.span,
        ),
        data: Some(conventions::config_data(service)),
        ..ConfigMap::default()
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
