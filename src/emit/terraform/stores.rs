//! `cluster/stores.tf.json`: what the services need in the cluster from the first stage, which
//! only exists once AWS has made it.
//!
//! - Per service with such values, a `ConfigMap` `<service>-aws` in its namespace holding the
//!   address of each database it uses (IAM authentication tokens are signed for the instance's
//!   own address, so no name of ours can stand in), each cache's primary endpoint, each
//!   `DocumentDB` cluster's endpoint and connection string, each queue's
//!   URL, each topic's ARN and the URL of the `DynamoDB` endpoint; the
//!   Deployment reads each key into the env var of that name. The namespace is created here,
//!   with the labels of the Namespace object platc emits (Argo CD or `kubectl apply` then adopt
//!   it; labels and annotations they add are left alone). It must not exist yet: a service
//!   whose namespace Argo CD made before its first store needs a `terraform import`, and one
//!   that loses its last store a `terraform state rm`, or the apply deletes its namespace
//!   (docs/language.md, `uses`).
//! - Per file system a service mounts, a `StorageClass` `efs-<name>` that provisions EFS access
//!   points under one shared directory (`/platc/<name>`), owned by the UID and GID platc's pods
//!   run as, so every claim of it sees the same files.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::emit::conventions;
use crate::emit::terraform::{Context, Module, ident};
use crate::model::StoreValue;
use crate::model::aws::{StoreEndpoint, stores_config_map};
use crate::model::security::Security;
use crate::model::service::StoreKind;

/// The first-stage output that holds an endpoint.
pub fn endpoint_output(endpoint: &StoreEndpoint) -> String {
    match endpoint {
        StoreEndpoint::Database(name) => format!("database_{}_address", ident(name)),
        StoreEndpoint::Dynamodb => "dynamodb_endpoint_url".to_owned(),
        StoreEndpoint::Cache(name) => format!("cache_{}_address", ident(name)),
        StoreEndpoint::Docdb(name) => format!("docdb_{}_endpoint", ident(name)),
        StoreEndpoint::DocdbUri(name) => format!("docdb_{}_uri", ident(name)),
        StoreEndpoint::Queue(name) => format!("queue_{}_url", ident(name)),
        StoreEndpoint::Topic(name) => format!("topic_{}_arn", ident(name)),
    }
}

/// The name of a file system's `StorageClass`.
pub fn storage_class(filesystem: &str) -> String {
    format!("efs-{filesystem}")
}

pub fn module(cx: &Context) -> Module {
    let p = cx.platform;
    let mut m = Module::new(&p.origin.path(cx.aws.span));
    let mut namespaces: BTreeSet<&str> = BTreeSet::new();
    for service in &p.services {
        let data: BTreeMap<String, String> = p
            .store_env(service)
            .into_iter()
            .filter_map(|v| match v.value {
                StoreValue::Endpoint(endpoint) => Some((
                    v.name,
                    format!(
                        "${{data.terraform_remote_state.aws.outputs.{}}}",
                        endpoint_output(&endpoint)
                    ),
                )),
                StoreValue::Literal(_) | StoreValue::Composed(_) | StoreValue::Secret { .. } => {
                    None
                }
            })
            .collect();
        if data.is_empty() {
            continue;
        }
        namespaces.insert(&service.namespace);
        m.resource(
            "kubernetes_config_map_v1",
            &format!("svc_{}", ident(&service.name.value)),
            json!({
                "metadata": {
                    "name": stores_config_map(&service.name.value),
                    "namespace": service.namespace,
                    "labels": conventions::unversioned_labels(p, service),
                    "annotations": conventions::origin_annotation(p, service.span),
                },
                "data": data,
                "depends_on": [format!("kubernetes_namespace_v1.{}", ident(&service.namespace))],
            }),
        );
    }
    for namespace in &namespaces {
        m.resource(
            "kubernetes_namespace_v1",
            &ident(namespace),
            json!({
                "metadata": {
                    "name": namespace,
                    "labels": conventions::namespace_labels(p, namespace),
                },
                // Argo CD and kubectl add their own tracking labels and annotations.
                "lifecycle": {"ignore_changes": ["metadata[0].labels", "metadata[0].annotations"]},
            }),
        );
    }
    let security = Security::default();
    for filesystem in &cx.aws.filesystems {
        let name = &filesystem.name.value;
        let mounted = p
            .services
            .iter()
            .flat_map(|s| &s.uses)
            .any(|u| u.kind.value == StoreKind::Filesystem && &u.name.value == name);
        if !mounted {
            continue;
        }
        let mut parameters: BTreeMap<&str, Value> = BTreeMap::new();
        parameters.insert("provisioningMode", json!("efs-ap"));
        parameters.insert(
            "fileSystemId",
            json!(format!(
                "${{data.terraform_remote_state.aws.outputs.filesystem_{}_id}}",
                ident(name)
            )),
        );
        parameters.insert("directoryPerms", json!("700"));
        parameters.insert("uid", json!(security.run_as_user.to_string()));
        parameters.insert("gid", json!(security.fs_group.to_string()));
        parameters.insert("basePath", json!("/platc"));
        // One directory for every claim: the file system is shared.
        parameters.insert("subPathPattern", json!(name));
        parameters.insert("ensureUniqueDirectory", json!("false"));
        m.resource(
            "kubernetes_storage_class_v1",
            &format!("efs_{}", ident(name)),
            json!({
                "metadata": {
                    "name": storage_class(name),
                    "labels": conventions::common_labels(p),
                },
                "storage_provisioner": "efs.csi.aws.com",
                // Deleting a claim never deletes the shared directory.
                "reclaim_policy": "Retain",
                "volume_binding_mode": "Immediate",
                "parameters": parameters,
            }),
        );
    }
    m
}
