//! `PeerAuthentication`: the mesh-wide mTLS mode in Istio's root namespace, and a workload-level
//! policy for each service that relaxes mTLS on some of its ports (`mtls-exception`).
//!
//! Istio reads `portLevelMtls` only on a policy with a workload selector, keyed by the port the
//! workload listens on (the container port, not the Service port). The model holds one mTLS
//! mode for the whole mesh, so no namespace ever differs from it and no namespace-wide policy is
//! emitted; a service outside the mesh gets none either, since no sidecar would enforce it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{ROOT_NAMESPACE, WorkloadSelector, meshed, meta, platform_meta};
use crate::model::mesh::{Mesh, MtlsMode};
use crate::model::service::{PortMtls, Service};
use crate::model::{Checked, Platform};
use crate::output::{Item, Owner, Resource};

const API_VERSION: &str = "security.istio.io/v1";
const KIND: &str = "PeerAuthentication";
/// The annotation that carries the reason of a port exception: `…/mtls-exception-<port>`.
pub const REASON_ANNOTATION: &str = "platc.dev/mtls-exception";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(skip_serializing_if = "Option::is_none")]
    selector: Option<WorkloadSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mtls: Option<Mtls>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    port_level_mtls: BTreeMap<String, Mtls>,
}

#[derive(Serialize)]
struct Mtls {
    mode: &'static str,
}

fn mode(mode: MtlsMode) -> &'static str {
    match mode {
        MtlsMode::Strict => "STRICT",
        MtlsMode::Permissive => "PERMISSIVE",
        MtlsMode::Disabled => "DISABLE",
    }
}

/// The port exceptions of each of `services` that declares any.
pub fn exceptions(platform: &Checked, services: &[&Service]) -> Vec<Item> {
    services
        .iter()
        .filter_map(|service| service_exceptions(platform, service))
        .collect()
}

/// The mesh-wide `PeerAuthentication`.
pub fn mesh_mode(platform: &Checked, mesh: &Mesh) -> Item {
    let mut metadata = platform_meta(platform, "default", ROOT_NAMESPACE, mesh.mtls.span);
    if let Some(reason) = &mesh.reason {
        metadata
            .annotations
            .get_or_insert_default()
            .insert("platc.dev/mtls-reason".into(), reason.value.clone());
    }
    Item::resource(
        "istio/mesh/peerauthentication.yaml".into(),
        Owner::Platform,
        mesh.span,
        Resource {
            api_version: API_VERSION,
            kind: KIND,
            metadata,
            spec: Spec {
                selector: None,
                mtls: Some(Mtls {
                    mode: mode(mesh.mtls.value),
                }),
                port_level_mtls: BTreeMap::new(),
            },
        },
    )
}

/// The port exceptions of one meshed service, if it declares any.
fn service_exceptions(platform: &Platform, service: &Service) -> Option<Item> {
    let first = service.mtls_exceptions.first()?;
    if !meshed(platform, service) {
        return None;
    }
    let mut metadata = meta(platform, service, &service.name.value, first.span);
    let annotations = metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut ports = BTreeMap::new();
    for exception in &service.mtls_exceptions {
        let Some(port) = service.port(&exception.port.value) else {
            continue;
        };
        let number = port.container_port().to_string();
        annotations.insert(
            format!("{REASON_ANNOTATION}-{number}"),
            exception.reason.value.clone(),
        );
        ports.insert(
            number,
            Mtls {
                mode: match exception.mode.value {
                    PortMtls::Permissive => "PERMISSIVE",
                    PortMtls::Disable => "DISABLE",
                },
            },
        );
    }
    Some(Item::resource(
        format!(
            "istio/services/{}/peerauthentication.yaml",
            service.name.value
        ),
        Owner::Service(service.name.value.clone()),
        first.span,
        Resource {
            api_version: API_VERSION,
            kind: KIND,
            metadata,
            spec: Spec {
                selector: Some(WorkloadSelector::app(service)),
                // No mode: the workload inherits the mesh's, except on these ports.
                mtls: None,
                port_level_mtls: ports,
            },
        },
    ))
}
