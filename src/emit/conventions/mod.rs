//! Conventions every target shares, so that two outputs that name the same thing name it from
//! one place: the labels of platc's objects and namespaces, the origin annotation, and the Pod
//! Security level a namespace enforces.

mod addons;
mod alertmanager;
pub mod cmp;
mod egress;
pub mod names;
mod routes;
pub mod slo;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::model::Platform;
use crate::model::security::Seccomp;
use crate::model::service::Service;
use crate::span::Span;

pub use addons::{AddonInputs, addon_settings};
pub use egress::{
    EGRESS_GATEWAY_OBJECT, egress_gateway_host, egress_gateway_ref, egress_label, egress_port,
    egress_principal, egress_workload, via_egress,
};
pub use names::*;
pub use routes::{Taken, bare_prefix, route_specificity, taken_first};

/// The annotation that names the node of `platform.kdl` an object came from, by its stable
/// path in the document (`platform.kdl#service=frontend`), not its line: adding a line
/// elsewhere changes no object.
pub const ORIGIN_ANNOTATION: &str = "platc.dev/origin";
/// The annotation that carries why a namespace enforces a Pod Security level below
/// `restricted`.
pub const POD_SECURITY_REASON: &str = "platc.dev/pod-security-reason";

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

/// The labels every object of a service carries: the recommended `app.kubernetes.io/*` set,
/// and `app` for Istio and Kiali.
pub fn labels(platform: &Platform, service: &Service) -> BTreeMap<String, String> {
    let mut labels = unversioned_labels(platform, service);
    if let Some(version) = service
        .image
        .tag
        .as_ref()
        .filter(|t| is_label_value(&t.value))
    {
        labels.insert(VERSION_LABEL.into(), version.value.clone());
    }
    labels
}

/// The label of the image tag a workload runs.
pub const VERSION_LABEL: &str = "app.kubernetes.io/version";

/// `labels` without `app.kubernetes.io/version`: for what Terraform applies for a service
/// (its stores' `ConfigMap`), which a release that changes only the image tag must not
/// change (the cluster stage is applied when the platform changes, not at each release).
pub fn unversioned_labels(platform: &Platform, service: &Service) -> BTreeMap<String, String> {
    let mut labels = common_labels(platform);
    labels.insert("app".into(), service.name.value.clone());
    labels.insert("app.kubernetes.io/name".into(), service.name.value.clone());
    labels.insert(
        "app.kubernetes.io/instance".into(),
        service.name.value.clone(),
    );
    labels
}

/// A label value: at most 63 of `[A-Za-z0-9._-]`, starting and ending alphanumeric.
pub fn is_label_value(text: &str) -> bool {
    text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric())
}

pub fn origin_annotation(platform: &Platform, origin: Span) -> BTreeMap<String, String> {
    BTreeMap::from([(ORIGIN_ANNOTATION.to_owned(), platform.origin.path(origin))])
}

/// Metadata of a namespaced object of a service: its name, the service's namespace and
/// labels, and the origin annotation. Every target's per-service objects use it.
pub fn meta(platform: &Platform, service: &Service, name: &str, origin: Span) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(service.namespace.clone()),
        labels: Some(labels(platform, service)),
        annotations: Some(origin_annotation(platform, origin)),
        ..ObjectMeta::default()
    }
}

/// Metadata of an object that belongs to the platform, not to one service.
pub fn platform_meta(platform: &Platform, name: &str, namespace: &str, origin: Span) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        labels: Some(common_labels(platform)),
        annotations: Some(origin_annotation(platform, origin)),
        ..ObjectMeta::default()
    }
}

/// checkov's "prefer secrets as files over secrets as environment variables".
pub const SECRET_ENV_CHECK: &str = "CKV_K8S_35";

/// The checkov skip annotations of a service's waivers (`checkov.io/skip1: CKV_K8S_43=reason`),
/// and of its first secret read with `env=`, with that line's reason (unless waived already).
pub fn waiver_annotations(service: &Service) -> BTreeMap<String, String> {
    let mut waivers: Vec<(&str, &str)> = service
        .waivers
        .iter()
        .map(|w| (w.check.value.as_str(), w.reason.value.as_str()))
        .collect();
    let secret_env = service
        .uses
        .iter()
        .find_map(|u| u.secret_env().and(u.reason.as_ref()));
    if let Some(reason) = secret_env
        && !waivers.iter().any(|(check, _)| *check == SECRET_ENV_CHECK)
    {
        waivers.push((SECRET_ENV_CHECK, &reason.value));
    }
    waivers
        .iter()
        .enumerate()
        .map(|(i, (check, reason))| {
            (
                format!("checkov.io/skip{}", i + 1),
                format!("{check}={reason}"),
            )
        })
        .collect()
}

/// The namespaces of the platform, each with its services in source order.
pub fn namespaces(platform: &Platform) -> BTreeMap<&str, Vec<&Service>> {
    let mut out: BTreeMap<&str, Vec<&Service>> = BTreeMap::new();
    for service in &platform.services {
        out.entry(service.namespace.as_str())
            .or_default()
            .push(service);
    }
    out
}

/// A label selector in Istio's shape (`matchLabels` only).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSelector {
    pub match_labels: BTreeMap<String, String>,
}

impl WorkloadSelector {
    /// The pods of a service (`app: <name>`).
    pub fn app(service: &Service) -> Self {
        Self {
            match_labels: BTreeMap::from([("app".to_owned(), service.name.value.clone())]),
        }
    }
}

/// The Pod Security Standard levels, weakest last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PodSecurity {
    Restricted,
    Baseline,
    Privileged,
}

impl PodSecurity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Restricted => "restricted",
            Self::Baseline => "baseline",
            Self::Privileged => "privileged",
        }
    }
}

/// The capabilities the `baseline` level lets a container add (Pod Security Standards,
/// "Capabilities"); `restricted` allows `NET_BIND_SERVICE` alone.
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The strictest Pod Security level a service's pods meet. Everything platc writes by default
/// meets `restricted`; only a weakening with a `reason` lowers it.
pub fn pod_security(service: &Service) -> PodSecurity {
    let security = &service.security;
    let mut level = PodSecurity::Restricted;
    let caps = &security.add_capabilities;
    if caps
        .iter()
        .any(|c| !BASELINE_CAPABILITIES.contains(&c.value.as_str()))
        || security.seccomp == Seccomp::Unconfined
    {
        level = PodSecurity::Privileged;
    } else if !security.run_as_non_root
        || security.run_as_user == 0
        || security.privilege_escalation
        || caps.iter().any(|c| c.value != "NET_BIND_SERVICE")
    {
        level = PodSecurity::Baseline;
    }
    level
}

/// The labels of a namespace: platc's, Istio's sidecar injection when there is a mesh, and the
/// Pod Security level it enforces: `restricted`, unless a service in it weakens its security
/// with a reason below what `restricted` admits (the API server would refuse its pods), in
/// which case the weakest level its services need, still warned and audited against
/// `restricted`.
pub fn namespace_labels(platform: &Platform, name: &str) -> BTreeMap<String, String> {
    let mut labels = common_labels(platform);
    labels.insert("kubernetes.io/metadata.name".into(), name.to_owned());
    if platform.mesh.is_some() {
        labels.insert("istio-injection".into(), "enabled".into());
    }
    let level =
        namespace_pod_security(platform, name).map_or(PodSecurity::Restricted, |(level, _)| level);
    labels.insert(
        "pod-security.kubernetes.io/enforce".into(),
        level.as_str().into(),
    );
    labels.insert(
        "pod-security.kubernetes.io/enforce-version".into(),
        "latest".into(),
    );
    if level != PodSecurity::Restricted {
        for mode in ["warn", "audit"] {
            labels.insert(
                format!("pod-security.kubernetes.io/{mode}"),
                PodSecurity::Restricted.as_str().into(),
            );
            labels.insert(
                format!("pod-security.kubernetes.io/{mode}-version"),
                "latest".into(),
            );
        }
    }
    labels
}

/// The weakest level a namespace's services need, and why, when it is below `restricted`:
/// `(level, "<service>: <reason>; …")`.
pub fn namespace_pod_security(platform: &Platform, name: &str) -> Option<(PodSecurity, String)> {
    let mut level = PodSecurity::Restricted;
    let mut reasons = Vec::new();
    for service in platform.services_in(name) {
        let needed = pod_security(service);
        if needed != PodSecurity::Restricted {
            level = level.max(needed);
            let reason = service
                .security
                .reason
                .as_ref()
                .map_or("", |r| r.value.as_str());
            reasons.push(format!(
                "{} needs {}: {reason}",
                service.name.value,
                needed.as_str()
            ));
        }
    }
    (level != PodSecurity::Restricted).then(|| (level, reasons.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::{PodSecurity, namespace_labels, pod_security};
    use crate::source::Source;

    fn platform(security: &str) -> crate::model::Checked {
        let text = format!(
            "platform shop {{\n    service web {{\n        image \"nginx\" tag=\"1.27\"\n        port http 8080\n        {security}\n    }}\n    service api {{\n        image \"nginx\" tag=\"1.27\"\n        port http 8080\n    }}\n}}\n"
        );
        let result = crate::compile(
            &Source::new("platform.kdl", text),
            &crate::Options::default(),
        );
        result
            .platform
            .unwrap_or_else(|| panic!("{:?}", result.diagnostics))
    }

    #[test]
    fn each_weakening_needs_the_level_the_standard_gives_it() {
        let cases = [
            ("", PodSecurity::Restricted),
            (
                "security read-only-root=#false reason=\"x\"",
                PodSecurity::Restricted,
            ),
            (
                "security add-capability=NET_BIND_SERVICE reason=\"x\"",
                PodSecurity::Restricted,
            ),
            (
                "security add-capability=CHOWN reason=\"x\"",
                PodSecurity::Baseline,
            ),
            (
                "security privilege-escalation=#true reason=\"x\"",
                PodSecurity::Baseline,
            ),
            (
                "security run-as-user=0 run-as-non-root=#false reason=\"x\"",
                PodSecurity::Baseline,
            ),
            (
                "security add-capability=NET_ADMIN reason=\"x\"",
                PodSecurity::Privileged,
            ),
            (
                "security seccomp=unconfined reason=\"x\"",
                PodSecurity::Privileged,
            ),
        ];
        for (security, level) in cases {
            let p = platform(security);
            assert_eq!(pod_security(p.service("web").unwrap()), level, "{security}");
            let labels = namespace_labels(&p, "web");
            assert_eq!(
                labels["pod-security.kubernetes.io/enforce"],
                level.as_str(),
                "{security}"
            );
            // Below restricted, violations stay visible.
            assert_eq!(
                labels
                    .get("pod-security.kubernetes.io/warn")
                    .map(String::as_str),
                (level != PodSecurity::Restricted).then_some("restricted"),
                "{security}"
            );
            // The other service's namespace is untouched.
            assert_eq!(
                namespace_labels(&p, "api")["pod-security.kubernetes.io/enforce"],
                "restricted"
            );
        }
    }

    #[test]
    fn the_namespace_index_finds_what_a_scan_finds() {
        for file in ["platform.kdl", "golden/shared-namespace/platform.kdl"] {
            let text = std::fs::read_to_string(file).unwrap();
            let result = crate::compile(&Source::new(file, text), &crate::Options::default());
            let indexed = result.platform.unwrap();
            assert!(indexed.namespace_index.is_some(), "{file}");
            let mut scanned = (*indexed).clone();
            scanned.namespace_index = None;
            let names = |services: Vec<&crate::model::Service>| -> Vec<String> {
                services.iter().map(|s| s.name.value.clone()).collect()
            };
            for service in &indexed.services {
                let found = names(indexed.services_in(&service.namespace));
                assert!(found.contains(&service.name.value), "{file}");
                assert_eq!(
                    found,
                    names(scanned.services_in(&service.namespace)),
                    "{file}"
                );
            }
            assert!(indexed.services_in("no-such-namespace").is_empty());
        }
    }
}
