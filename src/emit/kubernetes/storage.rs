//! The `StorageClass` of stateful volumes: gp3 EBS volumes from the EBS CSI driver (an EKS
//! add-on the Terraform cluster stage installs, with its role through Pod Identity).

use std::collections::BTreeMap;

use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::emit::conventions::{
    EBS_PROVISIONER, EBS_STORAGE_CLASS, common_labels, origin_annotation,
};
use crate::model::Platform;
use crate::span::Span;

/// Encrypted gp3 volumes, made in the zone of the node the pod is scheduled on, grown by
/// editing a claim, and kept when their claim is deleted: a database's data is never deleted
/// by a `kubectl delete`.
pub fn ebs_class(platform: &Platform, origin: Span) -> StorageClass {
    StorageClass {
        metadata: ObjectMeta {
            name: Some(EBS_STORAGE_CLASS.into()),
            labels: Some(common_labels(platform)),
            annotations: Some(origin_annotation(platform, origin)),
            ..ObjectMeta::default()
        },
        provisioner: EBS_PROVISIONER.into(),
        parameters: Some(BTreeMap::from([
            ("type".to_owned(), "gp3".to_owned()),
            ("encrypted".to_owned(), "true".to_owned()),
            ("csi.storage.k8s.io/fstype".to_owned(), "ext4".to_owned()),
        ])),
        reclaim_policy: Some("Retain".into()),
        volume_binding_mode: Some("WaitForFirstConsumer".into()),
        allow_volume_expansion: Some(true),
        ..StorageClass::default()
    }
}
