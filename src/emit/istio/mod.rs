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
mod egress;
mod external;
mod gateway;
mod jwt;
mod peer;
mod routes;
mod sidecar;
mod traffic;

use crate::model::Checked;
use crate::output::Output;

/// Adds every Istio object of the platform; none without a `mesh`.
pub fn emit(platform: &Checked, out: &mut Output) {
    let Some(mesh) = &platform.mesh else {
        return;
    };
    let shared = out.wants_shared();
    let services = out.services(platform);
    if shared {
        out.push(peer::mesh_mode(platform, mesh));
        out.extend(gateway::objects(platform, mesh));
        out.extend(certificate::objects(platform, mesh));
        out.extend(jwt::objects(platform, mesh));
    }
    if shared || out.wants_namespaces() {
        let namespaces = out.namespaces(platform);
        out.extend(authorization::deny_all(platform, &namespaces));
        out.extend(sidecar::objects(platform, &namespaces));
        out.extend(external::objects(platform, &namespaces));
        out.extend(egress::objects(platform, mesh, &namespaces, shared));
    }
    out.extend(peer::exceptions(platform, &services));
    out.extend_mapped(&services, |service| authorization::allow(platform, service));
    out.extend_mapped(&services, |service| {
        traffic::objects(platform, mesh, service)
    });
}
