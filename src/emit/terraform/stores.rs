//! `cluster/stores.tf.json`: what the services need in the cluster from the first stage, which
//! only exists once AWS has made it.
//!
//! - Per service with such values, a `ConfigMap` `<service>-aws` in its namespace holding the
//!   address of each database it uses (IAM authentication tokens are signed for the instance's
//!   own address, so no name of ours can stand in), each cache's primary endpoint, each
//!   `DocumentDB` cluster's endpoint and connection string, each queue's
//!   URL, each topic's ARN and the URL of the `DynamoDB` endpoint; the
//!   Deployment reads each key into the env var of that name. The namespace is made here,
//!   with the labels of the Namespace object platc emits (Argo CD or `kubectl apply` then adopt
//!   it; labels and annotations they add are left alone), or imported when it exists already;
//!   the namespace of a service without such values is forgotten, not deleted, should the
//!   stage hold it (`handovers_hcl`, `namespaces.tf`).
//! - Per file system a service mounts, a `StorageClass` `efs-<name>` that provisions EFS access
//!   points under one shared directory (`/platc/<name>`), owned by the UID and GID platc's pods
//!   run as, so every claim of it sees the same files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::emit::conventions;
use crate::emit::terraform::{Context, Module, hcl, ident};
use crate::model::aws::{StoreEndpoint, stores_config_map};
use crate::model::security::Security;
use crate::model::service::StoreKind;
use crate::model::{Checked, StoreValue};

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

/// The data source that lists the cluster's namespaces, for the imports.
const EXISTING_NAMESPACES: &str = "existing";

/// The namespaces the cluster stage makes: those of the services with values from the first
/// stage (`module`'s `ConfigMap`s).
fn made_namespaces(p: &Checked) -> BTreeSet<&str> {
    p.services
        .iter()
        .filter(|s| {
            p.store_env(s)
                .into_iter()
                .any(|v| matches!(v.value, StoreValue::Endpoint(_)))
        })
        .map(|s| s.namespace.as_str())
        .collect()
}

/// `cluster/namespaces.tf`: the hand-overs of a namespace between the cluster stage and
/// whatever else makes it (Argo CD, `kubectl apply`), both ways, with nothing done by hand.
/// In HCL: checkov's `terraform_json` parser takes every top-level block for a labelled one,
/// and fails on a file with `import` or `removed` blocks.
///
/// - A namespace the stage makes that already exists when it is first planned (a running
///   service's first store) is imported, not created: `kubernetes_namespace_v1` fails on a
///   namespace that exists. An `import` block whose `for_each` is the namespace when the
///   cluster has it and nothing when not (read at plan from `kubernetes_all_namespaces`); an
///   import of an address already in the state is skipped (Terraform
///   `expandResourceImports`).
/// - The namespace of every other service is `removed` with `destroy = false`: one the stage
///   made (the service's last store is gone) is forgotten, not deleted with the running
///   service in it; for one the stage never made, the block does nothing (the orphan nodes
///   that plan it come from the state alone). A service taken out of the platform has no
///   block: its namespace is deleted, by Argo CD and by the stage.
///
/// Checked with Terraform 1.11 against a state (`removed` forgets what the state holds and
/// ignores what it does not; an `import` with `for_each = []` plans a create, with one
/// element an import), and in Terraform 1.15's source. `None` when the platform has no
/// service.
pub fn handovers_hcl(cx: &Context) -> Option<String> {
    let p = cx.platform;
    let made = made_namespaces(p);
    let others: BTreeSet<&str> = p
        .services
        .iter()
        .map(|s| s.namespace.as_str())
        .filter(|namespace| !made.contains(namespace))
        .collect();
    if made.is_empty() && others.is_empty() {
        return None;
    }
    let mut out = crate::encode::header(&p.origin.path(cx.aws.span));
    for namespace in &made {
        let test = hcl::string(namespace);
        let _ = write!(
            out,
            "\nimport {{\n  for_each = [for n in data.kubernetes_all_namespaces.\
             {EXISTING_NAMESPACES}.namespaces : n if n == {test}]\n  \
             to       = kubernetes_namespace_v1.{}\n  id       = each.value\n}}\n",
            ident(namespace)
        );
    }
    for namespace in &others {
        let _ = write!(
            out,
            "\nremoved {{\n  from = kubernetes_namespace_v1.{}\n\n  lifecycle {{\n    \
             destroy = false\n  }}\n}}\n",
            ident(namespace)
        );
    }
    Some(out)
}

/// The name of a file system's `StorageClass`.
pub fn storage_class(filesystem: &str) -> String {
    format!("efs-{filesystem}")
}

pub fn module(cx: &Context) -> Module {
    let p = cx.platform;
    let mut m = Module::new(&p.origin.path(cx.aws.span));
    // The namespaces of the services whose `ConfigMap` is made below (`data` not empty).
    let namespaces = made_namespaces(p);
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
    if !namespaces.is_empty() {
        // What `namespaces.tf` imports from (`handovers_hcl`).
        m.data("kubernetes_all_namespaces", EXISTING_NAMESPACES, json!({}));
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
