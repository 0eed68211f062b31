//! A `Sidecar` per namespace: the sidecars there learn routes only to the services their
//! workloads declare in `calls` (`<ns>/<svc>.<ns>.svc.cluster.local`) and to Istio's own
//! namespace (istiod, the gateway), and to the outside hosts they declare in `calls-external`
//! (their `ServiceEntry` in the namespace). Where no workload of the namespace connects to an
//! AWS data store itself, outbound traffic to anything else is refused (`REGISTRY_ONLY`); the
//! stores and the AWS APIs (S3, `DynamoDB`, STS) are outside the registry, so a namespace whose
//! pods reach them keeps `ALLOW_ANY`, and its `NetworkPolicy` still limits it to their ports. A
//! secret or a file system, which the node's drivers fetch and mount, opens nothing.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::conventions::{
    ROOT_NAMESPACE, external_egress_host, headless_host, host, meshed, peer_ports, platform_meta,
};
use crate::model::Checked;
use crate::model::service::Service;
use crate::output::{Item, Owner, Resource};

const API_VERSION: &str = "networking.istio.io/v1";
const KIND: &str = "Sidecar";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    egress: Vec<Egress>,
    outbound_traffic_policy: OutboundTrafficPolicy,
}

#[derive(Serialize)]
struct Egress {
    hosts: Vec<String>,
}

#[derive(Serialize)]
struct OutboundTrafficPolicy {
    mode: &'static str,
}

/// The `Sidecar` of each of `namespaces` (`Output::namespaces`) with a meshed service.
pub fn objects(platform: &Checked, namespaces: &BTreeMap<&str, Vec<&Service>>) -> Vec<Item> {
    let mut out = Vec::new();
    for (namespace, services) in namespaces {
        let meshed_services: Vec<_> = services.iter().filter(|s| meshed(platform, s)).collect();
        if meshed_services.is_empty() {
            continue;
        }
        let mut hosts = vec![format!("{ROOT_NAMESPACE}/*")];
        for service in &meshed_services {
            for call in &service.calls {
                let Some(callee) = platform.service(&call.service.value) else {
                    continue;
                };
                let entry = format!("{}/{}", callee.namespace, host(callee));
                if !hosts.contains(&entry) {
                    hosts.push(entry);
                }
            }
        }
        // Replicas that call each other dial their peers' own names under the headless
        // Service (`<name>-0.<name>-headless…`), a host of its own.
        for service in &meshed_services {
            if !peer_ports(service).is_empty() {
                let entry = format!("{}/{}", service.namespace, headless_host(service));
                if !hosts.contains(&entry) {
                    hosts.push(entry);
                }
            }
        }
        // The outside hosts, each through its `ServiceEntry` in this namespace.
        for host in super::external::hosts(services, platform).keys() {
            hosts.push(external_egress_host(namespace, host));
        }
        let uses_aws = meshed_services
            .iter()
            .flat_map(|s| &s.uses)
            .any(|u| u.kind.value.reached_by_pod());
        let origin = services[0].span;
        out.push(Item::resource(
            format!("istio/namespaces/{namespace}/sidecar.yaml"),
            Owner::Namespace(namespace.to_string()),
            origin,
            Resource {
                api_version: API_VERSION,
                kind: KIND,
                metadata: platform_meta(platform, "default", namespace, origin),
                spec: Spec {
                    egress: vec![Egress { hosts }],
                    outbound_traffic_policy: OutboundTrafficPolicy {
                        mode: if uses_aws {
                            "ALLOW_ANY"
                        } else {
                            "REGISTRY_ONLY"
                        },
                    },
                },
            },
        ));
    }
    out
}
