//! `NetworkPolicy` semantics, as the API documents them and the VPC CNI's policy agent enforces
//! them: a pod selected by no policy of a direction is open in that direction; a pod selected
//! by any is open only to what one of their rules admits. A peer is a pod (`namespaceSelector`
//! and/or `podSelector`) or an address (`ipBlock` with `except`).

use std::net::Ipv4Addr;

use serde_yaml::Value;

use crate::world::{Labels, Pod, World, labels, matches};

/// The other end of a connection.
#[derive(Clone, Copy, Debug)]
pub enum Peer<'a> {
    Pod(&'a Pod),
    Ip(Ipv4Addr),
}

/// A CIDR as `(network, prefix)`.
fn cidr(text: &str) -> Option<(u32, u32)> {
    let (addr, prefix) = text.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    Some((u32::from(addr), prefix.parse().ok()?))
}

fn in_cidr(ip: Ipv4Addr, text: &str) -> bool {
    let Some((net, prefix)) = cidr(text) else {
        return false;
    };
    if prefix == 0 {
        return true;
    }
    let mask = u32::MAX << (32 - prefix);
    u32::from(ip) & mask == net & mask
}

/// Whether a peer entry of a rule (in a policy of `policy_ns`) matches `peer`.
fn peer_matches(world: &World, policy_ns: &str, entry: &Value, peer: Peer) -> bool {
    if let Some(block) = entry["ipBlock"].as_mapping() {
        let Peer::Ip(ip) = peer else {
            // Pod addresses are VPC addresses; the checks never rely on an ipBlock for pods.
            return false;
        };
        let cidr = block
            .get("cidr")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let except = block
            .get("except")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|e| in_cidr(ip, e));
        return in_cidr(ip, cidr) && !except;
    }
    let Peer::Pod(pod) = peer else { return false };
    let ns_selector = &entry["namespaceSelector"];
    let pod_selector = &entry["podSelector"];
    let ns_ok = if ns_selector.is_mapping() {
        let wanted = labels(&ns_selector["matchLabels"]);
        let ns_labels: Labels = world
            .namespaces
            .get(&pod.namespace)
            .cloned()
            .unwrap_or_default();
        matches(&wanted, &ns_labels)
    } else {
        pod.namespace == policy_ns
    };
    let pod_ok =
        !pod_selector.is_mapping() || matches(&labels(&pod_selector["matchLabels"]), &pod.labels);
    ns_ok && pod_ok
}

/// Whether a rule's ports admit `port`/`protocol` on `target` (a named port resolves against
/// the target pod's container ports).
fn port_matches(ports: &Value, port: u16, protocol: &str, target: Peer) -> bool {
    let Some(list) = ports.as_sequence() else {
        return true; // no ports: every port
    };
    if list.is_empty() {
        return true;
    }
    list.iter().any(|p| {
        let proto = p["protocol"].as_str().unwrap_or("TCP");
        if proto != protocol {
            return false;
        }
        match &p["port"] {
            Value::Null => true,
            Value::Number(n) => {
                let start = n.as_u64().unwrap_or(0);
                let end = p["endPort"].as_u64().unwrap_or(start);
                (start..=end).contains(&u64::from(port))
            }
            Value::String(name) => match target {
                Peer::Pod(pod) => pod.ports.iter().any(|(n, p)| n == name && *p == port),
                Peer::Ip(_) => false,
            },
            _ => false,
        }
    })
}

/// The policies of a namespace that select `pod` for a direction.
fn selecting<'a>(world: &'a World, pod: &'a Pod, direction: &'a str) -> Vec<&'a Value> {
    world
        .of_kind("NetworkPolicy")
        .filter(|p| p.namespace() == pod.namespace)
        .map(|p| &p.value)
        .filter(|p| {
            let types = p["spec"]["policyTypes"].as_sequence();
            let has = types.is_none_or(|t| t.iter().any(|x| x.as_str() == Some(direction)));
            has && matches(
                &labels(&p["spec"]["podSelector"]["matchLabels"]),
                &pod.labels,
            )
        })
        .collect()
}

/// Whether `from` may open a connection to `to` on `port` as far as `from`'s egress goes.
pub fn egress_allows(world: &World, from: &Pod, to: Peer, port: u16, protocol: &str) -> bool {
    let policies = selecting(world, from, "Egress");
    if policies.is_empty() {
        return true;
    }
    policies.iter().any(|p| {
        p["spec"]["egress"]
            .as_sequence()
            .into_iter()
            .flatten()
            .any(|rule| {
                let peers_ok = match rule["to"].as_sequence() {
                    None => true,
                    Some(peers) if peers.is_empty() => true,
                    Some(peers) => peers
                        .iter()
                        .any(|e| peer_matches(world, &from.namespace, e, to)),
                };
                peers_ok && port_matches(&rule["ports"], port, protocol, to)
            })
    })
}

/// Whether `to` admits a connection from `from` on `port` as far as `to`'s ingress goes.
pub fn ingress_allows(world: &World, from: Peer, to: &Pod, port: u16, protocol: &str) -> bool {
    let policies = selecting(world, to, "Ingress");
    if policies.is_empty() {
        return true;
    }
    policies.iter().any(|p| {
        p["spec"]["ingress"]
            .as_sequence()
            .into_iter()
            .flatten()
            .any(|rule| {
                let peers_ok = match rule["from"].as_sequence() {
                    None => true,
                    Some(peers) if peers.is_empty() => true,
                    Some(peers) => peers
                        .iter()
                        .any(|e| peer_matches(world, &to.namespace, e, from)),
                };
                peers_ok && port_matches(&rule["ports"], port, protocol, Peer::Pod(to))
            })
    })
}

/// Both ends admit the connection.
pub fn allows(world: &World, from: &Pod, to: &Pod, port: u16, protocol: &str) -> bool {
    egress_allows(world, from, Peer::Pod(to), port, protocol)
        && ingress_allows(world, Peer::Pod(from), to, port, protocol)
}
