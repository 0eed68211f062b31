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
use crate::model::aws::{
    PASSWORD_FILE, Secret, SecretSource, password_mount, password_secret_name, password_volume,
    secret_class,
};
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

/// The `SecretProviderClass` of the password of each database the service uses with
/// `auth=password`: its own Secrets Manager secret (`aws::password_secret_name`), whose whole
/// value is the password, as the file `password`; synced into a `Secret` only for `env
/// password=`.
pub fn password_classes(platform: &Platform, service: &Service, dir: &str) -> Vec<Item> {
    let Some(aws) = &platform.aws else {
        return Vec::new();
    };
    password_uses(platform, service)
        .map(|used| {
            let volume = password_volume(&used.name.value);
            let name = secret_class(&service.name.value, &volume);
            let aws_name = password_secret_name(platform, &used.name.value, &service.name.value);
            let object = Descriptor {
                object_name: &aws_name,
                object_type: SecretSource::SecretsManager.object_type(),
                object_alias: PASSWORD_FILE,
                jmes_path: Vec::new(),
            };
            let secret_objects = if used.secret_env().is_some() {
                vec![SecretObject {
                    secret_name: name.clone(),
                    kind: "Opaque",
                    data: vec![SecretData {
                        object_name: PASSWORD_FILE.to_owned(),
                        key: PASSWORD_FILE.to_owned(),
                    }],
                }]
            } else {
                Vec::new()
            };
            let parameters = BTreeMap::from([
                ("region", aws.region.value.clone()),
                ("usePodIdentity", "true".to_owned()),
                ("objects", crate::encode::yaml(&[object])),
            ]);
            Item::resource(
                format!("{dir}/secretproviderclass-{volume}.yaml"),
                Owner::Service(service.name.value.clone()),
                used.span,
                Resource {
                    api_version: "secrets-store.csi.x-k8s.io/v1",
                    kind: "SecretProviderClass",
                    metadata: meta(platform, service, &name, used.span),
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

/// The lines of a service that use a declared database with `auth=password`, one per database.
fn password_uses<'a>(
    platform: &'a Platform,
    service: &'a Service,
) -> impl Iterator<Item = &'a Use> {
    service.uses.iter().enumerate().filter_map(move |(i, u)| {
        (u.password_auth()
            && platform
                .aws
                .as_ref()
                .is_some_and(|a| a.databases.iter().any(|d| d.name.value == u.name.value))
            && !service.uses[..i]
                .iter()
                .any(|e| e.password_auth() && e.name.value == u.name.value))
        .then_some(u)
    })
}

fn csi_volume(name: String, class: String) -> Volume {
    Volume {
        name,
        csi: Some(CSIVolumeSource {
            driver: SECRETS_STORE_DRIVER.into(),
            read_only: Some(true),
            volume_attributes: Some(BTreeMap::from([("secretProviderClass".to_owned(), class)])),
            ..CSIVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// The pod's read-only `csi` volume and mount of each secret it reads, named after the secret.
pub fn volumes(platform: &Platform, service: &Service) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    for (secret, lines) in used_secrets(platform, service) {
        volumes.push(csi_volume(
            secret.name.value.clone(),
            secret_class(&service.name.value, &secret.name.value),
        ));
        mounts.push(VolumeMount {
            name: secret.name.value.clone(),
            mount_path: mount_path(&lines),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    for used in password_uses(platform, service) {
        let volume = password_volume(&used.name.value);
        volumes.push(csi_volume(
            volume.clone(),
            secret_class(&service.name.value, &volume),
        ));
        mounts.push(VolumeMount {
            name: volume,
            mount_path: password_mount(&used.name.value),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    (volumes, mounts)
}
