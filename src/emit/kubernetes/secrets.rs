//! What a service needs to read the secrets it `uses`: a `SecretProviderClass` per secret
//! (`aws::secret_class`), which the Secrets Store CSI driver's AWS provider reads with the
//! pod's own Pod Identity role, and the pod's `csi` volume that mounts it.
//!
//! The secret's whole value is the file named after the secret, each `key=` one more file (a
//! `JMESPath` into its JSON value); a secret read with `env=` is also synced into a `Secret` of
//! the same name, whose keys are those files', and which exists while a pod mounts the volume.
//! The value itself never reaches an output: only the secret's name in AWS does.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{CSIVolumeSource, Volume, VolumeMount};
use serde::Serialize;

use crate::emit::conventions::meta;
use crate::model::Platform;
use crate::model::addons::{SECRETS_STORE_DRIVER, SECRETS_STORE_PROVIDER};
use crate::model::aws::{Secret, secret_class};
use crate::model::service::{Service, StoreKind, Use};
use crate::output::{Item, Owner, Resource};

/// `secrets-store.csi.x-k8s.io/v1` `SecretProviderClass` spec.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    provider: &'static str,
    parameters: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secret_objects: Vec<SecretObject>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretObject {
    secret_name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    data: Vec<SecretData>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretData {
    /// The file (an `objectAlias`) whose content the key holds.
    object_name: String,
    key: String,
}

/// One object of the AWS provider's `objects` parameter (aws/secrets-store-csi-driver-provider-aws
/// `provider/secret_descriptor.go`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor<'a> {
    object_name: &'a str,
    object_type: &'static str,
    object_alias: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    jmes_path: Vec<Jmes<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Jmes<'a> {
    /// A quoted `JMESPath` identifier: a key with `-` or `.` is one key, not an expression.
    path: String,
    object_alias: &'a str,
}

/// The secrets a service reads, each with the lines that read it, in order of first use.
pub fn used_secrets<'a>(
    platform: &'a Platform,
    service: &'a Service,
) -> Vec<(&'a Secret, Vec<&'a Use>)> {
    let Some(aws) = &platform.aws else {
        return Vec::new();
    };
    let mut out: Vec<(&Secret, Vec<&Use>)> = Vec::new();
    for used in service
        .uses
        .iter()
        .filter(|u| u.kind.value == StoreKind::Secret)
    {
        let Some(secret) = aws.secrets.iter().find(|s| s.name.value == used.name.value) else {
            continue;
        };
        match out
            .iter_mut()
            .find(|(s, _)| s.name.value == secret.name.value)
        {
            Some((_, lines)) => lines.push(used),
            None => out.push((secret, vec![used])),
        }
    }
    out
}

/// Where a secret's files are mounted: the first `path=` of its lines, else the default.
pub fn mount_path(lines: &[&Use]) -> String {
    lines
        .iter()
        .find(|u| u.path.is_some())
        .unwrap_or(&lines[0])
        .mount_path()
}

/// The `SecretProviderClass` of each secret the service reads.
pub fn classes(platform: &Platform, service: &Service, dir: &str) -> Vec<Item> {
    let Some(aws) = &platform.aws else {
        return Vec::new();
    };
    used_secrets(platform, service)
        .into_iter()
        .map(|(secret, lines)| {
            let name = secret_class(&service.name.value, &secret.name.value);
            let mut keys: Vec<&str> = lines
                .iter()
                .filter_map(|u| u.key.as_ref().map(|k| k.value.as_str()))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            let object = Descriptor {
                object_name: &secret.aws_name.value,
                object_type: secret.source.value.object_type(),
                object_alias: &secret.name.value,
                jmes_path: keys
                    .iter()
                    .map(|k| Jmes {
                        path: serde_json::Value::from(*k).to_string(),
                        object_alias: k,
                    })
                    .collect(),
            };
            let mut synced: Vec<&str> = lines
                .iter()
                .filter(|u| u.env.is_some())
                .map(|u| u.secret_file())
                .collect();
            synced.sort_unstable();
            synced.dedup();
            let secret_objects = if synced.is_empty() {
                Vec::new()
            } else {
                vec![SecretObject {
                    secret_name: name.clone(),
                    kind: "Opaque",
                    data: synced
                        .iter()
                        .map(|file| SecretData {
                            object_name: (*file).to_owned(),
                            key: (*file).to_owned(),
                        })
                        .collect(),
                }]
            };
            let parameters = BTreeMap::from([
                ("region", aws.region.value.clone()),
                ("usePodIdentity", "true".to_owned()),
                // A YAML document inside a string, as the provider reads it.
                ("objects", crate::encode::yaml(&[object])),
            ]);
            Item::resource(
                format!("{dir}/secretproviderclass-{}.yaml", secret.name.value),
                Owner::Service(service.name.value.clone()),
                lines[0].span,
                Resource {
                    api_version: "secrets-store.csi.x-k8s.io/v1",
                    kind: "SecretProviderClass",
                    metadata: meta(platform, service, &name, lines[0].span),
                    spec: Spec {
                        provider: SECRETS_STORE_PROVIDER,
                        parameters,
                        secret_objects,
                    },
                },
            )
        })
        .collect()
}

/// The pod's read-only `csi` volume and mount of each secret it reads, named after the secret.
pub fn volumes(platform: &Platform, service: &Service) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    for (secret, lines) in used_secrets(platform, service) {
        volumes.push(Volume {
            name: secret.name.value.clone(),
            csi: Some(CSIVolumeSource {
                driver: SECRETS_STORE_DRIVER.into(),
                read_only: Some(true),
                volume_attributes: Some(BTreeMap::from([(
                    "secretProviderClass".to_owned(),
                    secret_class(&service.name.value, &secret.name.value),
                )])),
                ..CSIVolumeSource::default()
            }),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name: secret.name.value.clone(),
            mount_path: mount_path(&lines),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    (volumes, mounts)
}
