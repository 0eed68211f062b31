//! The addresses `calls … env=` and `calls-external … env=` write, and the hosts outside the
//! cluster: a URL needs a port that speaks HTTP, a scheme must agree with the protocol, a URI
//! names its scheme, one host is called once per service, and the `ServiceEntry` a namespace
//! gets for a host has one protocol per port (one host per TCP port).

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::emit::conventions::{called_port, egress_port, meshed, via_egress};
use crate::model::Platform;
use crate::model::service::{
    AddressFormat, AddressShape, Call, ExternalCall, ExternalProtocol, Service,
};
use crate::span::{Span, Spanned};

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    for service in &platform.services {
        for call in &service.calls {
            in_cluster(platform, service, call, d);
        }
        for (i, external) in service.externals.iter().enumerate() {
            if let Some(first) = service.externals[..i]
                .iter()
                .find(|e| e.host.value == external.host.value)
            {
                d.duplicate_name(
                    "external call",
                    &external.host,
                    first.host.span,
                    "first declared here",
                );
                continue;
            }
            outside(external, d);
        }
    }
    namespaces(platform, d);
    egress_gateway(platform, d);
}

/// Through the egress gateway (`mesh { egress-gateway }`), one `ServiceEntry` per host serves
/// the whole platform, and the gateway tells a host's streams apart by its name alone (the SNI
/// of the mTLS connection), one destination per gateway port: a host's port has one protocol
/// across namespaces, and a host has one port per kind of gateway server (streams, HTTP).
fn egress_gateway(platform: &Platform, d: &mut Diagnostics) {
    let mut ports: BTreeMap<(String, u16), &ExternalCall> = BTreeMap::new();
    let mut servers: BTreeMap<(String, u16), &ExternalCall> = BTreeMap::new();
    for service in platform.services.iter().filter(|s| via_egress(platform, s)) {
        for external in &service.externals {
            let host = external.host.value.to_ascii_lowercase();
            let key = (host.clone(), external.port.value);
            if let Some(first) = ports.get(&key) {
                if first.protocol.value != external.protocol.value {
                    d.push(
                        Diagnostic::new(
                            ErrorKind::DuplicateName {
                                kind: "external port",
                                name: format!("{}:{}", external.host.value, external.port.value),
                            },
                            external.protocol.span,
                        )
                        .with_label(first.protocol.span, "first declared with this protocol"),
                    );
                }
                continue;
            }
            ports.insert(key, external);
            let key = (host, egress_port(external));
            match servers.get(&key) {
                Some(first) if first.port.value != external.port.value => d.push(
                    Diagnostic::new(
                        ErrorKind::DuplicateName {
                            kind: "egress gateway port of an outside host",
                            name: external.host.value.clone(),
                        },
                        external.port.span,
                    )
                    .with_label(first.port.span, "the gateway sends the host here"),
                ),
                Some(_) => {}
                None => {
                    servers.insert(key, external);
                }
            }
        }
    }
}

/// Whether a scheme is HTTP's own (the mesh reads its requests).
fn http_scheme(scheme: &str) -> bool {
    matches!(
        scheme.to_ascii_lowercase().as_str(),
        "http" | "https" | "ws" | "wss"
    )
}

fn tls_scheme(scheme: &str) -> bool {
    matches!(scheme.to_ascii_lowercase().as_str(), "https" | "wss")
}

/// `scheme=` and `path=` on a format that writes neither; `true` when the shape is a URL or URI.
fn url_parts_fit(node: &'static str, shape: &AddressShape, d: &mut Diagnostics) -> bool {
    let format = shape.format();
    if matches!(format, AddressFormat::Url | AddressFormat::Uri) {
        return true;
    }
    for (name, part) in [("scheme", &shape.scheme), ("path", &shape.path)] {
        if let Some(part) = part {
            d.error(
                ErrorKind::AddressFormat {
                    detail: format!(
                        "`{name}=` on a `{node}` whose address is `{}`, which has no {name}",
                        format.as_str()
                    ),
                    help: "Add `format=url` (or `format=uri`) to write a URL, or remove the property.",
                },
                part.span,
            );
        }
    }
    false
}

/// The scheme of a URL or URI: `scheme=`, or for a URL `default`; a URI without one, or a
/// URL without one where there is no default, is `missing-property`.
fn scheme<'a>(
    node: &'static str,
    shape: &'a AddressShape,
    default: Option<&'static str>,
    at: Span,
    d: &mut Diagnostics,
) -> Option<(&'a str, Span)> {
    if let Some(s) = &shape.scheme {
        return Some((s.value.as_str(), s.span));
    }
    let default = default.filter(|_| shape.format() == AddressFormat::Url);
    if default.is_none() {
        let span = shape.format.as_ref().map_or(at, |f| f.span);
        d.error(
            ErrorKind::MissingProperty {
                node: node.into(),
                property: "scheme",
            },
            span,
        );
    }
    default.map(|s| (s, shape.format.as_ref().map_or(at, |f| f.span)))
}

fn in_cluster(platform: &Platform, service: &Service, call: &Call, d: &mut Diagnostics) {
    if !url_parts_fit("calls", &call.address, d) {
        return;
    }
    let (Some(callee), false) = (
        platform.service(&call.service.value),
        call.service.value == service.name.value,
    ) else {
        return;
    };
    let Some(port) = called_port(callee, call) else {
        return;
    };
    let Some((scheme, span)) = scheme("calls", &call.address, Some("http"), call.span, d) else {
        return;
    };
    if http_scheme(scheme) && !port.protocol.value.is_http() {
        d.push(
            Diagnostic::new(
                ErrorKind::AddressFormat {
                    detail: format!(
                        "the scheme `{scheme}` on port `{}` of `{}`, which speaks plain TCP",
                        port.name.value, callee.name.value
                    ),
                    help: "Declare the port's protocol (`protocol=http`) if it serves HTTP, or write the application's own scheme (`format=uri scheme=mongodb`).",
                },
                span,
            )
            .with_label(port.protocol.span, "the port's protocol"),
        );
    } else if tls_scheme(scheme) && meshed(platform, service) && meshed(platform, callee) {
        d.error(
            ErrorKind::AddressFormat {
                detail: format!(
                    "the scheme `{scheme}` for `{}` inside the mesh",
                    callee.name.value
                ),
                help: "Write `scheme=http`: the sidecars carry the call over mutual TLS, and the callee's sidecar hands the application plain HTTP.",
            },
            span,
        );
    }
}

fn outside(external: &ExternalCall, d: &mut Diagnostics) {
    if !url_parts_fit("calls-external", &external.address, d) {
        return;
    }
    let protocol = external.protocol.value;
    let Some((scheme, span)) = scheme(
        "calls-external",
        &external.address,
        protocol.default_scheme(),
        external.span,
        d,
    ) else {
        return;
    };
    let clash = match protocol {
        ExternalProtocol::Tls | ExternalProtocol::Https
            if http_scheme(scheme) && !tls_scheme(scheme) =>
        {
            Some(
                "Write `scheme=https`: the application makes the TLS connection, which the mesh passes through by its server name.",
            )
        }
        ExternalProtocol::Http if tls_scheme(scheme) => Some(
            "Write `protocol=https` (or `tls`): the application speaks TLS to the host, which the mesh must pass through untouched.",
        ),
        ExternalProtocol::Tcp if http_scheme(scheme) => Some(
            "Write `protocol=https` (or `http`) for a web API, or the application's own scheme for another protocol.",
        ),
        _ => None,
    };
    if let Some(help) = clash {
        d.push(
            Diagnostic::new(
                ErrorKind::AddressFormat {
                    detail: format!(
                        "the scheme `{scheme}` for `{}`, called with `protocol={}`",
                        external.host.value,
                        protocol.as_str()
                    ),
                    help,
                },
                span,
            )
            .with_label(external.protocol.span, "the protocol"),
        );
    }
}

/// One `ServiceEntry` per host and namespace: each port has one protocol, and each TCP port
/// one host (the sidecar routes a TCP stream to an outside host by its port alone).
fn namespaces(platform: &Platform, d: &mut Diagnostics) {
    let mut ports: BTreeMap<(&str, &str, u16), &Spanned<ExternalProtocol>> = BTreeMap::new();
    let mut tcp: BTreeMap<(&str, u16), &ExternalCall> = BTreeMap::new();
    for service in &platform.services {
        for external in &service.externals {
            let key = (
                service.namespace.as_str(),
                external.host.value.as_str(),
                external.port.value,
            );
            if let Some(first) = ports.get(&key) {
                if first.value != external.protocol.value {
                    d.push(
                        Diagnostic::new(
                            ErrorKind::DuplicateName {
                                kind: "external port",
                                name: format!("{}:{}", external.host.value, external.port.value),
                            },
                            external.protocol.span,
                        )
                        .with_label(first.span, "first declared with this protocol"),
                    );
                }
                continue;
            }
            ports.insert(key, &external.protocol);
            if external.protocol.value != ExternalProtocol::Tcp {
                continue;
            }
            let key = (service.namespace.as_str(), external.port.value);
            match tcp.get(&key) {
                Some(first) if first.host.value != external.host.value => d.push(
                    Diagnostic::new(
                        ErrorKind::DuplicateName {
                            kind: "external TCP port",
                            name: external.port.value.to_string(),
                        },
                        external.port.span,
                    )
                    .with_label(first.port.span, "taken by this host"),
                ),
                Some(_) => {}
                None => {
                    tcp.insert(key, external);
                }
            }
        }
    }
}
