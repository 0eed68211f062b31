//! Zero trust, asserted over what is committed: for the root platform (`out/`) and every golden
//! case with an expected tree, the emitted `AuthorizationPolicy` objects (read back with
//! `serde_yaml`) let no principal reach a service unless `platform.kdl` declares it as a caller
//! (`calls`) on that port, or the service is exposed and the principal is the ingress gateway's.
//!
//! Also the internal invariants of the mesh output: every principal names a `ServiceAccount`
//! platc emits (or the gateway's), every namespace with meshed workloads has the deny-all
//! baseline, and every subset a `VirtualService` routes to exists in the `DestinationRule` of
//! that host.

#[path = "support/cases.rs"]
mod support;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use platc::model::Checked;
use serde_yaml::Value;

use crate::support::cases;

/// The ingress gateway's principal, from the add-on table (the one source of its
/// `ServiceAccount`, which the chart values pin).
fn gateway_principal() -> String {
    let gateway = &platc::model::addons::INGRESS_GATEWAY;
    gateway.principal(&gateway.workloads[0])
}

/// Every YAML object of a tree, by kind.
fn objects<'a>(tree: &'a BTreeMap<String, String>, kind: &str) -> Vec<(&'a str, Value)> {
    tree.iter()
        .filter(|(path, _)| Path::new(path).extension().is_some_and(|e| e == "yaml"))
        .filter_map(|(path, text)| {
            let value: Value = serde_yaml::from_str(text).ok()?;
            (value["kind"].as_str() == Some(kind)).then_some((path.as_str(), value))
        })
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn principal(namespace: &str, account: &str) -> String {
    format!("cluster.local/ns/{namespace}/sa/{account}")
}

/// What `platform.kdl` declares: per service, who may reach which workload port (its declared
/// callers, the gateway on its exposed ports, its own replicas on their `peers` ports).
/// `None` as the principal is a caller outside the mesh (plain text).
fn declared(platform: &Checked) -> BTreeMap<String, BTreeSet<(Option<String>, u16)>> {
    let mut out: BTreeMap<String, BTreeSet<(Option<String>, u16)>> = BTreeMap::new();
    let meshed = platform.mesh.is_some();
    for caller in &platform.services {
        for call in &caller.calls {
            let callee = platform.service(&call.service.value).unwrap();
            let port = call
                .port
                .as_ref()
                .and_then(|p| callee.port(&p.value))
                .or_else(|| callee.ports.first())
                .unwrap();
            let who = (meshed && caller.sidecar_off.is_none())
                .then(|| principal(&caller.namespace, &caller.name.value));
            out.entry(callee.name.value.clone())
                .or_default()
                .insert((who, port.container_port()));
        }
        // `stateful { peers … }`: the replicas reach each other on the peer ports.
        let peers = caller.stateful.iter().filter_map(|s| s.peers.as_ref());
        for name in peers.flat_map(|p| &p.ports) {
            let port = caller.port(&name.value).unwrap();
            let who = (meshed && caller.sidecar_off.is_none())
                .then(|| principal(&caller.namespace, &caller.name.value));
            out.entry(caller.name.value.clone())
                .or_default()
                .insert((who, port.container_port()));
        }
        // Each `expose` line routes to its `port=`, else to the first HTTP port.
        for expose in &caller.expose {
            let port = match &expose.port {
                Some(p) => caller.port(&p.value),
                None => caller.ports.iter().find(|p| p.protocol.value.is_http()),
            };
            if let Some(port) = port
                && port.protocol.value.is_http()
            {
                out.entry(caller.name.value.clone())
                    .or_default()
                    .insert((Some(gateway_principal()), port.container_port()));
            }
        }
    }
    out
}

/// The `app` label of the egress gateway's pods, from the add-on table.
fn egress_app() -> &'static str {
    platc::model::addons::EGRESS_GATEWAY.workloads[0]
        .labels
        .iter()
        .find(|(k, _)| *k == "app")
        .map_or("", |(_, v)| *v)
}

/// Through the egress gateway (`mesh { egress-gateway }`): `(principal, host, gateway port)`
/// of every `calls-external` of a service with a sidecar, HTTP on the gateway's `http2` port
/// and every other stream on its `https` port.
fn declared_egress(platform: &Checked) -> BTreeSet<(String, String, u16)> {
    let mut out = BTreeSet::new();
    let Some(mesh) = &platform.mesh else {
        return out;
    };
    if mesh.egress_gateway.is_none() {
        return out;
    }
    let port = |name: &str| {
        platc::model::addons::EGRESS_GATEWAY_PORTS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map_or(0, |(_, p, _)| *p)
    };
    for service in platform.services.iter().filter(|s| s.sidecar_off.is_none()) {
        for external in &service.externals {
            let http = external.protocol.value == platc::model::service::ExternalProtocol::Http;
            out.insert((
                principal(&service.namespace, &service.name.value),
                external.host.value.to_ascii_lowercase(),
                port(if http { "http2" } else { "https" }),
            ));
        }
    }
    out
}

/// Each rule of the egress gateway's ALLOW policy names sources, ports and one outside host
/// (`connection.sni`), and admits only the declared callers of that host on those ports.
fn egress_rules(spec: &Value, allowed: &BTreeSet<(String, String, u16)>) -> Vec<String> {
    let mut failures = Vec::new();
    for rule in spec["rules"].as_sequence().into_iter().flatten() {
        let ports: Vec<u16> = rule["to"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|to| strings(&to["operation"]["ports"]))
            .filter_map(|p| p.parse().ok())
            .collect();
        let hosts: Vec<String> = rule["when"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter(|w| w["key"].as_str() == Some("connection.sni"))
            .flat_map(|w| strings(&w["values"]))
            .collect();
        let principals: Vec<String> = rule["from"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|f| strings(&f["source"]["principals"]))
            .collect();
        if ports.is_empty() || hosts.is_empty() || principals.is_empty() {
            failures.push(format!(
                "an egress rule not limited to sources, ports and hosts: {rule:?}"
            ));
            continue;
        }
        for p in &principals {
            for host in &hosts {
                for port in &ports {
                    if !allowed.contains(&(p.clone(), host.clone(), *port)) {
                        failures.push(format!(
                            "`{p}` may reach `{host}` through the egress gateway on {port}, but platform.kdl declares no such call"
                        ));
                    }
                }
            }
        }
    }
    failures
}

#[test]
fn no_service_is_reachable_by_an_undeclared_principal() {
    let mut failures = Vec::new();
    let mut policies_seen = 0;
    for (name, platform, tree) in cases() {
        let declared = declared(&platform);
        let accounts: BTreeSet<String> = objects(&tree, "ServiceAccount")
            .into_iter()
            .map(|(_, sa)| {
                principal(
                    sa["metadata"]["namespace"].as_str().unwrap_or_default(),
                    sa["metadata"]["name"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        for (path, policy) in objects(&tree, "AuthorizationPolicy") {
            policies_seen += 1;
            let spec = &policy["spec"];
            if spec.as_mapping().is_some_and(serde_yaml::Mapping::is_empty) {
                continue; // the deny-all baseline
            }
            let action = spec["action"].as_str().unwrap_or("ALLOW");
            if action == "DENY" {
                continue; // a DENY policy opens nothing (the gateway's end-user check)
            }
            if action != "ALLOW" {
                failures.push(format!("{name}: {path}: action {action}"));
                continue;
            }
            let Some(app) = spec["selector"]["matchLabels"]["app"].as_str() else {
                failures.push(format!(
                    "{name}: {path}: an ALLOW policy without a workload selector"
                ));
                continue;
            };
            if app == egress_app() {
                let allowed = declared_egress(&platform);
                failures.extend(
                    egress_rules(spec, &allowed)
                        .into_iter()
                        .map(|f| format!("{name}: {path}: {f}")),
                );
                continue;
            }
            let allowed = declared.get(app).cloned().unwrap_or_default();
            for rule in spec["rules"].as_sequence().into_iter().flatten() {
                let ports: Vec<u16> = rule["to"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .flat_map(|to| strings(&to["operation"]["ports"]))
                    .filter_map(|p| p.parse().ok())
                    .collect();
                let froms = rule["from"].as_sequence().cloned().unwrap_or_default();
                if ports.is_empty()
                    || froms.is_empty()
                    || rule.as_mapping().is_some_and(|m| m.len() != 2)
                {
                    failures.push(format!(
                        "{name}: {path}: a rule not limited to sources and ports: {rule:?}"
                    ));
                    continue;
                }
                for from in froms {
                    let source = from["source"].as_mapping().cloned().unwrap_or_default();
                    let principals = strings(&from["source"]["principals"]);
                    let not_principals = strings(&from["source"]["notPrincipals"]);
                    let known = source
                        .keys()
                        .all(|k| matches!(k.as_str(), Some("principals" | "notPrincipals")));
                    if !known || (principals.is_empty() && not_principals.is_empty()) {
                        failures.push(format!(
                            "{name}: {path}: a source other than principals: {source:?}"
                        ));
                    }
                    for port in &ports {
                        for p in &principals {
                            if !allowed.contains(&(Some(p.clone()), *port)) {
                                failures.push(format!("{name}: {path}: `{p}` may reach `{app}` on port {port}, but platform.kdl declares no such caller"));
                            }
                            if *p != gateway_principal() && !accounts.contains(p) {
                                failures.push(format!(
                                    "{name}: {path}: `{p}` names no ServiceAccount platc emits"
                                ));
                            }
                        }
                        if !not_principals.is_empty()
                            && (not_principals != ["*"] || !allowed.contains(&(None, *port)))
                        {
                            failures.push(format!("{name}: {path}: plain-text callers may reach `{app}` on port {port}, but no caller outside the mesh is declared"));
                        }
                    }
                }
            }
        }
        // Every namespace with a meshed workload has the baseline.
        if platform.mesh.is_some() {
            let baselines: BTreeSet<String> = objects(&tree, "AuthorizationPolicy")
                .into_iter()
                .filter(|(_, p)| {
                    p["spec"]
                        .as_mapping()
                        .is_some_and(serde_yaml::Mapping::is_empty)
                })
                .filter_map(|(_, p)| p["metadata"]["namespace"].as_str().map(str::to_owned))
                .collect();
            for service in platform.services.iter().filter(|s| s.sidecar_off.is_none()) {
                if !baselines.contains(&service.namespace) {
                    failures.push(format!(
                        "{name}: namespace `{}` has no deny-all baseline",
                        service.namespace
                    ));
                }
            }
        }
    }
    assert!(
        policies_seen > 20,
        "too few policies were checked ({policies_seen})"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_routed_subset_exists() {
    let mut failures = Vec::new();
    for (name, _, tree) in cases() {
        let subsets: BTreeSet<(String, String)> = objects(&tree, "DestinationRule")
            .into_iter()
            .flat_map(|(_, dr)| {
                let host = dr["spec"]["host"].as_str().unwrap_or_default().to_owned();
                dr["spec"]["subsets"]
                    .as_sequence()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(move |s| s["name"].as_str().map(|n| (host.clone(), n.to_owned())))
            })
            .collect();
        for (path, vs) in objects(&tree, "VirtualService") {
            for route in vs["spec"]["http"].as_sequence().into_iter().flatten() {
                for dest in route["route"].as_sequence().into_iter().flatten() {
                    let d = &dest["destination"];
                    if let Some(subset) = d["subset"].as_str() {
                        let host = d["host"].as_str().unwrap_or_default().to_owned();
                        if !subsets.contains(&(host.clone(), subset.to_owned())) {
                            failures.push(format!("{name}: {path}: routes to subset `{subset}` of `{host}`, which no DestinationRule declares"));
                        }
                    }
                }
            }
        }
        // The Rollouts name subsets and routes that exist.
        for (path, rollout) in objects(&tree, "Rollout") {
            let istio = &rollout["spec"]["strategy"]["canary"]["trafficRouting"]["istio"];
            let dr = &istio["destinationRule"];
            let namespace = rollout["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default();
            let host = format!(
                "{}.{namespace}.svc.cluster.local",
                dr["name"].as_str().unwrap_or_default()
            );
            for key in ["canarySubsetName", "stableSubsetName"] {
                let subset = dr[key].as_str().unwrap_or_default().to_owned();
                if !subsets.contains(&(host.clone(), subset.clone())) {
                    failures.push(format!(
                        "{name}: {path}: {key} `{subset}` is not a subset of `{host}`"
                    ));
                }
            }
            for vs_ref in istio["virtualServices"].as_sequence().into_iter().flatten() {
                let full = vs_ref["name"].as_str().unwrap_or_default();
                // `<name>.<namespace>`: a gateway's VirtualService of a host.
                let (vs_name, vs_namespace) = full.split_once('.').unwrap_or((full, namespace));
                let found = objects(&tree, "VirtualService").into_iter().find(|(_, v)| {
                    v["metadata"]["name"].as_str() == Some(vs_name)
                        && v["metadata"]["namespace"].as_str() == Some(vs_namespace)
                });
                let Some((_, vs)) = found else {
                    failures.push(format!("{name}: {path}: no VirtualService `{vs_name}`"));
                    continue;
                };
                let names: Vec<&str> = vs["spec"]["http"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["name"].as_str())
                    .collect();
                for route in strings(&vs_ref["routes"]) {
                    if !names.contains(&route.as_str()) {
                        failures.push(format!("{name}: {path}: no route `{route}` in `{vs_name}`"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
