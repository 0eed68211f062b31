//! A `ServiceEntry` per outside host and namespace: the hosts the namespace's meshed workloads
//! declare in `calls-external`, so the sidecars (`REGISTRY_ONLY`) know them. Each is
//! `MESH_EXTERNAL`, resolved by DNS, and exported to its own namespace alone: another
//! namespace reaches a host only by declaring the call itself. TLS and HTTPS pass through the
//! sidecar by their server name; the application makes the TLS connection.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{external_entry, meshed, platform_meta};
use crate::model::Checked;
use crate::model::service::{ExternalCall, Service};
use crate::output::{Item, Owner, Resource};

const API_VERSION: &str = "networking.istio.io/v1";
const KIND: &str = "ServiceEntry";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Spec {
    hosts: Vec<String>,
    export_to: Vec<&'static str>,
    location: &'static str,
    resolution: &'static str,
    ports: Vec<EntryPort>,
}

#[derive(Serialize)]
struct EntryPort {
    number: u16,
    name: String,
    protocol: &'static str,
}

/// The `ServiceEntry` of an outside host, seen only in its own namespace, with a port per
/// number its callers dial (named `<protocol>-<number>`). The callers' namespaces and the
/// egress gateway's (`egress.rs`) each hold one.
pub(super) fn entry_spec<'a>(
    host: &str,
    ports: impl IntoIterator<Item = (u16, &'a ExternalCall)>,
) -> Spec {
    Spec {
        hosts: vec![host.to_owned()],
        export_to: vec!["."],
        location: "MESH_EXTERNAL",
        resolution: "DNS",
        ports: ports
            .into_iter()
            .map(|(number, call)| EntryPort {
                number,
                name: format!("{}-{number}", call.protocol.value.as_str()),
                protocol: call.protocol.value.istio(),
            })
            .collect(),
    }
}

/// The outside hosts the meshed workloads of a namespace call, each with its calls in source
/// order.
pub fn hosts<'a>(
    services: &[&'a crate::model::service::Service],
    platform: &Checked,
) -> BTreeMap<String, Vec<&'a ExternalCall>> {
    let mut hosts: BTreeMap<String, Vec<&ExternalCall>> = BTreeMap::new();
    for service in services.iter().filter(|s| meshed(platform, s)) {
        for external in &service.externals {
            hosts
                .entry(external_entry(&external.host.value))
                .or_default()
                .push(external);
        }
    }
    hosts
}

pub fn objects(platform: &Checked, namespaces: &BTreeMap<&str, Vec<&Service>>) -> Vec<Item> {
    let mut out = Vec::new();
    for (namespace, services) in namespaces {
        for (host, calls) in hosts(services, platform) {
            // One port per number (the check holds their protocols equal), in number order.
            let ports: BTreeMap<u16, &ExternalCall> =
                calls.iter().rev().map(|c| (c.port.value, *c)).collect();
            let origin = calls[0].span;
            let mut metadata = platform_meta(platform, &host, namespace, origin);
            // Plain HTTP to the outside weakens a default: its reason stands on the object.
            if let Some(reason) = calls.iter().find_map(|c| c.reason.as_ref()) {
                metadata
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert("platc.dev/plain-http-reason".into(), reason.value.clone());
            }
            out.push(Item::resource(
                format!("istio/namespaces/{namespace}/service-entry-{host}.yaml"),
                Owner::Namespace(namespace.to_string()),
                origin,
                Resource {
                    api_version: API_VERSION,
                    kind: KIND,
                    metadata,
                    spec: entry_spec(&host, ports),
                },
            ));
        }
    }
    out
}
