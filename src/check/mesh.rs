//! Mesh policy: strict mTLS leaves no workload outside the mesh unexplained; canaries and
//! gateways need the mesh; metric gates need Prometheus; exposure needs an HTTP port; retries,
//! timeouts and canary routes need one too.

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, suggest};
use crate::model::Platform;
use crate::model::mesh::MtlsMode;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    routes_need_http(platform, d);
    let strict = platform
        .mesh
        .as_ref()
        .is_some_and(|m| m.mtls.value == MtlsMode::Strict);
    for service in &platform.services {
        if let Some(reason) = &service.sidecar_off
            && strict
            && service.mtls_exceptions.is_empty()
        {
            let mut diagnostic = Diagnostic::new(
                ErrorKind::OutsideMesh {
                    service: service.name.value.clone(),
                },
                reason.span,
            );
            if let Some(mesh) = &platform.mesh {
                diagnostic = diagnostic.with_label(mesh.mtls.span, "strict mTLS");
            }
            d.push(diagnostic);
        }
        if let Some(canary) = &service.canary {
            if platform.mesh.is_none() || service.sidecar_off.is_some() {
                d.error(
                    ErrorKind::CanaryNeedsMesh {
                        service: service.name.value.clone(),
                        sidecar_off: platform.mesh.is_some(),
                    },
                    canary.version.span,
                );
            }
            if let Some(gate) = &canary.gate
                && platform.observability.prometheus.is_none()
            {
                d.error(
                    ErrorKind::GateWithoutPrometheus {
                        service: service.name.value.clone(),
                    },
                    gate.span,
                );
            }
        }
        for expose in &service.expose {
            let gateways = platform
                .mesh
                .as_ref()
                .map_or(&[][..], |m| m.gateways.as_slice());
            if !gateways
                .iter()
                .any(|g| g.name.value == expose.gateway.value)
            {
                let suggestion = suggest(
                    &expose.gateway.value,
                    gateways.iter().map(|g| g.name.value.as_str()),
                );
                d.error(
                    ErrorKind::UnknownGateway {
                        name: expose.gateway.value.clone(),
                        suggestion,
                    },
                    expose.gateway.span,
                );
            }
            let http = match &expose.port {
                Some(name) => service
                    .port(&name.value)
                    .is_none_or(|p| p.protocol.value.is_http()),
                None => service.ports.iter().any(|p| p.protocol.value.is_http()),
            };
            if !http {
                d.error(
                    ErrorKind::ExposedWithoutHttp {
                        service: service.name.value.clone(),
                    },
                    expose.span,
                );
            }
        }
    }
}

/// The mesh's `VirtualService` retries, times out and splits requests; a service whose ports
/// are all TCP has no route where any of that could go (`platc::route-without-http`).
fn routes_need_http(platform: &Platform, d: &mut Diagnostics) {
    for service in &platform.services {
        if service.ports.iter().any(|p| p.protocol.value.is_http()) {
            continue;
        }
        let mut report = |what: &'static str, span| {
            d.error(
                ErrorKind::RouteWithoutHttp {
                    service: service.name.value.clone(),
                    what,
                },
                span,
            );
        };
        if let Some(retries) = &service.retries {
            report("retries", retries.span);
        }
        if let Some(timeout) = &service.timeout {
            report("timeouts", timeout.span);
        }
        if let Some(canary) = &service.canary {
            report("canary routes", canary.span);
        }
    }
}
