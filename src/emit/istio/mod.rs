//! Istio objects derived from the checked platform: mTLS (`PeerAuthentication`), the ingress
//! (`Gateway`, its cert-manager `Certificate`, a `VirtualService` per exposed service), the
//! traffic policy of each service (`DestinationRule`, mesh `VirtualService`) and zero trust
//! (`AuthorizationPolicy` deny-all per namespace and an ALLOW list per service, `Sidecar` egress
//! per namespace).
//!
//! Input: a `Checked` platform with a `mesh`. Output: `Object`s under `istio/`. Invariant: every
//! path of traffic that a policy opens comes from a `calls` line or an `expose` line; nothing
//! else opens one. The resource kinds are our own serde structs, so a misspelt field does not
//! compile; conformance validates them against Istio's CRD schemas.

mod authorization;
mod certificate;
pub mod gateway;
mod peer;
mod routes;
mod sidecar;
mod telemetry;
mod traffic;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::emit::Object;
use crate::emit::kubernetes::{common_labels, origin_annotation};
use crate::model::addons;
use crate::model::service::{Call, Port, Service};
use crate::model::value::Duration;
use crate::model::{Checked, Platform};
use crate::span::Span;

pub use certificate::wanted as certificates_wanted;
pub use routes::primary_routes;
pub use traffic::{CANARY_SUBSET, PRIMARY_ROUTE, STABLE_SUBSET};

/// Istio's root namespace (`meshConfig.rootNamespace`, pinned in istiod's values): mesh-wide
/// policy lives there.
pub const ROOT_NAMESPACE: &str = addons::ISTIO_NAMESPACE;

/// The namespace of the ingress gateway's pods: the `Gateway` objects and the Secrets their
/// `credentialName`s name live there, since Istio reads a gateway's certificate from the
/// namespace its pods run in.
pub fn gateway_namespace() -> &'static str {
    addons::GATEWAY_NAMESPACE
}

/// The ingress gateway's pods, as the add-on table pins them.
pub fn gateway_workload() -> &'static addons::Workload {
    &addons::INGRESS_GATEWAY.workloads[0]
}

/// The SPIFFE principal of the ingress gateway's `ServiceAccount`.
pub fn gateway_principal() -> String {
    addons::INGRESS_GATEWAY.principal(gateway_workload())
}

/// The SPIFFE principal of a service's workload: platc runs each under the `ServiceAccount` of
/// its own name, in its namespace.
pub fn principal(service: &Service) -> String {
    format!(
        "cluster.local/ns/{}/sa/{}",
        service.namespace, service.name.value
    )
}

/// The fully qualified host of a service's Kubernetes Service.
pub fn host(service: &Service) -> String {
    format!(
        "{}.{}.svc.cluster.local",
        service.name.value, service.namespace
    )
}

/// The port a call dials: the named one, else the callee's first.
pub fn called_port<'a>(callee: &'a Service, call: &Call) -> Option<&'a Port> {
    call.port
        .as_ref()
        .and_then(|p| callee.port(&p.value))
        .or_else(|| callee.ports.first())
}

/// A duration as Istio and Argo Rollouts read it (a Go duration: `90s`, `250ms`).
pub fn duration(d: &Duration) -> String {
    if d.millis.is_multiple_of(1000) {
        format!("{}s", d.millis / 1000)
    } else {
        format!("{}ms", d.millis)
    }
}

/// Any custom resource: `apiVersion`, `kind`, metadata and a typed spec.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource<S> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: S,
}

/// A label selector in Istio's shape (`matchLabels` only).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSelector {
    pub match_labels: BTreeMap<String, String>,
}

impl WorkloadSelector {
    pub fn app(service: &Service) -> Self {
        Self {
            match_labels: BTreeMap::from([("app".to_owned(), service.name.value.clone())]),
        }
    }
}

/// Metadata of a namespaced object of a service: the same as the service's Kubernetes objects.
fn service_meta(platform: &Platform, service: &Service, name: &str, origin: Span) -> ObjectMeta {
    crate::emit::kubernetes::meta(platform, service, name, origin)
}

/// Metadata of an object that belongs to the platform, not to one service.
fn platform_meta(platform: &Platform, name: &str, namespace: &str, origin: Span) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        labels: Some(common_labels(platform)),
        annotations: Some(origin_annotation(platform, origin)),
        ..ObjectMeta::default()
    }
}

/// Whether a service's pods run an Istio sidecar.
pub fn meshed(platform: &Platform, service: &Service) -> bool {
    platform.mesh.is_some() && service.sidecar_off.is_none()
}

/// Every Istio object of the platform; none without a `mesh`.
pub fn objects(platform: &Checked) -> Vec<Object> {
    let Some(mesh) = &platform.mesh else {
        return Vec::new();
    };
    let mut out = Vec::new();
    out.extend(peer::objects(platform, mesh));
    out.extend(gateway::objects(platform, mesh));
    out.extend(certificate::objects(platform, mesh));
    out.extend(authorization::objects(platform));
    out.extend(sidecar::objects(platform));
    out.extend(telemetry::objects(platform));
    let per_service = crate::emit::parallel::map(&platform.services, |service| {
        traffic::objects(platform, mesh, service)
    });
    out.extend(per_service.into_iter().flatten());
    out
}

/// The namespaces of the platform, each with the span of its first service.
fn namespaces(platform: &Platform) -> BTreeMap<&str, Vec<&Service>> {
    let mut out: BTreeMap<&str, Vec<&Service>> = BTreeMap::new();
    for service in &platform.services {
        out.entry(service.namespace.as_str())
            .or_default()
            .push(service);
    }
    out
}
