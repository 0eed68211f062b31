//! The egress gateway (`mesh { egress-gateway }`): its pods, Service and principal come from
//! the add-on table; the names of the objects that route the mesh's calls to the outside
//! through it, and which calls take that way, are made here for every target that names them.

use sha2::{Digest, Sha256};

use crate::model::Platform;
use crate::model::addons::{self, EGRESS_GATEWAY, Workload};
use crate::model::service::{ExternalCall, ExternalProtocol, Service};

use super::names::meshed;

/// The name of the egress `Gateway`, its `AuthorizationPolicy` and `NetworkPolicy` (in the
/// gateways' namespace), and of the `DestinationRule` of its Service in each caller's
/// namespace: the release's own name.
pub const EGRESS_GATEWAY_OBJECT: &str = EGRESS_GATEWAY.release;

/// The egress gateway's pods, as the add-on table pins them.
pub fn egress_workload() -> &'static Workload {
    &EGRESS_GATEWAY.workloads[0]
}

/// The SPIFFE principal of the egress gateway.
pub fn egress_principal() -> String {
    EGRESS_GATEWAY.principal(egress_workload())
}

/// The host of the egress gateway's Service, which the sidecars route the outside hosts to.
pub fn egress_gateway_host() -> String {
    format!(
        "{}.{}.svc.cluster.local",
        EGRESS_GATEWAY.services[0].name,
        addons::GATEWAY_NAMESPACE
    )
}

/// The `Gateway` as a `VirtualService` names it from another namespace: `<namespace>/<name>`.
pub fn egress_gateway_ref() -> String {
    format!("{}/{EGRESS_GATEWAY_OBJECT}", addons::GATEWAY_NAMESPACE)
}

/// Whether a service's `calls-external` leave through the egress gateway: the mesh has one and
/// the service has a sidecar to send them there.
pub fn via_egress(platform: &Platform, service: &Service) -> bool {
    platform
        .mesh
        .as_ref()
        .is_some_and(|m| m.egress_gateway.is_some())
        && meshed(platform, service)
}

/// The port of the egress gateway a call reaches it on (Service port and container port
/// alike): plain HTTP on the HTTP server (`http2`), every stream the application encrypts or
/// keeps opaque on the TLS one (`https`), each inside the mesh's mTLS.
pub fn egress_port(external: &ExternalCall) -> u16 {
    let name = if external.protocol.value == ExternalProtocol::Http {
        "http2"
    } else {
        "https"
    };
    addons::EGRESS_GATEWAY_PORTS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or(0, |(_, port, _)| *port)
}

/// A DNS label for an outside host: the `DestinationRule` subset of the egress gateway that
/// carries the host's SNI, the egress `Gateway`'s server port name and the routes' names. The
/// host's dots as `-`; a host longer than a label keeps 54 characters and a digest of the rest.
pub fn egress_label(host: &str) -> String {
    let slug: String = host
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let slug = slug.trim_matches('-').to_owned();
    if slug.len() <= 63 {
        return slug;
    }
    let digest = Sha256::digest(host.to_ascii_lowercase().as_bytes());
    let hex = digest[..4]
        .iter()
        .fold(String::new(), |hex, b| hex + &format!("{b:02x}"));
    format!("{}-{hex}", slug[..54].trim_end_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::egress_label;

    #[test]
    fn a_host_becomes_one_dns_label() {
        assert_eq!(egress_label("API.Stripe.com"), "api-stripe-com");
        let long = format!("{}.example.com", "a".repeat(70));
        let label = egress_label(&long);
        assert!(label.len() <= 63, "{label}");
        assert_ne!(
            label,
            egress_label(&format!("{}.example.org", "a".repeat(70)))
        );
    }
}
