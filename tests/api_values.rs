//! Values the API servers and tools check beyond any schema: a label value (at most 63 of
//! `[A-Za-z0-9._-]`, alphanumeric at both ends: apimachinery's `IsValidLabelValue`, which the
//! API server applies to every object's labels and to a pod template's) and a chart's version
//! (`SemVer`, as Helm's `Metadata.Validate` parses it). The schemas take any string for both,
//! so an object or a chart that breaks them passes every validation and is refused at apply.
//!
//! Over every built tree, and over a platform whose image tags are valid tags but no label
//! values or versions. And one the API server checks between two versions of an object: a
//! workload's selector, which no update may change.

#[path = "support/tree.rs"]
mod tree;
use crate::tree::tree_of;

#[path = "support/cases.rs"]
mod support;

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::support::cases;

fn is_label_value(text: &str) -> bool {
    text.is_empty()
        || (text.len() <= 63
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && text.starts_with(|c: char| c.is_ascii_alphanumeric())
            && text.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// Helm's `semver.NewVersion`, strictly: `MAJOR.MINOR.PATCH[-PRE][+BUILD]`.
fn is_chart_version(text: &str) -> bool {
    let number = |p: &str| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
    };
    let identifiers = |part: &str| {
        part.split('.').all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && (!p.bytes().all(|b| b.is_ascii_digit()) || number(p))
        })
    };
    // A `-` or `+` present starts a part that must hold identifiers: `1.2.3-` and `1.2.3-+b`
    // are no versions.
    let (rest, build) = text
        .split_once('+')
        .map_or((text, None), |(r, b)| (r, Some(b)));
    let (core, pre) = rest
        .split_once('-')
        .map_or((rest, None), |(c, p)| (c, Some(p)));
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| number(p))
        && pre.is_none_or(identifiers)
        && build.is_none_or(|b| {
            b.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
        })
}

/// Every label map of a document: `metadata.labels` and, in a workload, its pod template's.
fn label_maps(doc: &serde_yaml::Value) -> Vec<&serde_yaml::Mapping> {
    let mut maps = Vec::new();
    if let Some(labels) = doc["metadata"]["labels"].as_mapping() {
        maps.push(labels);
    }
    for template in [
        &doc["spec"]["template"],
        &doc["spec"]["jobTemplate"]["spec"]["template"],
    ] {
        if let Some(labels) = template["metadata"]["labels"].as_mapping() {
            maps.push(labels);
        }
    }
    maps
}

fn problems(name: &str, tree: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in tree {
        if path.ends_with("Chart.yaml") {
            let chart: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
            let version = chart["version"].as_str().unwrap_or_default();
            if !is_chart_version(version) {
                out.push(format!("{name}: {path}: version `{version}` is no SemVer"));
            }
            continue;
        }
        // Chart templates hold Go templates; the plain manifests stand for what they render.
        let yaml = std::path::Path::new(path)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml"));
        if !yaml || path.contains("/templates/") {
            continue;
        }
        for doc in serde_yaml::Deserializer::from_str(text) {
            let Ok(doc) = serde_yaml::Value::deserialize(doc) else {
                continue;
            };
            for labels in label_maps(&doc) {
                for (key, value) in labels {
                    let value = value.as_str().unwrap_or_default();
                    if !is_label_value(value) {
                        out.push(format!(
                            "{name}: {path}: label {key:?} = `{value}` is no label value"
                        ));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_label_value_and_chart_version_of_every_tree_is_one_the_api_takes() {
    let mut all = Vec::new();
    for (name, _, tree) in cases() {
        all.extend(problems(&name, &tree));
    }
    assert!(all.is_empty(), "{}", all.join("\n"));
}

#[test]
fn tags_that_are_no_label_value_or_version_label_and_version_nothing() {
    // Valid image tags (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`) that are no label values (too
    // long, or ending in `-`) and no versions (`_` in a pre-release, a leading zero).
    let long = format!("release_2024-01-01_{}", "a1".repeat(24));
    let text = format!(
        r#"platform shop {{
    mesh istio mtls=strict
    service web {{
        image "ghcr.io/acme/web" tag="1.27.3-alpine_3.20"
        port http 8080 protocol=http
        probe http port=http path="/healthz"
        version next tag="1.28.0-build-" weight=10
    }}
    service pay {{
        image "ghcr.io/acme/pay" tag="v2.0.0-rc.01"
        port grpc 50051 protocol=grpc
        probe grpc port=grpc
        canary next tag="{long}" weight=10 {{
            steps 10 50 100 interval="5m"
        }}
    }}
}}
"#
    );
    let tree = tree_of(&text);
    let found = problems("odd tags", &tree);
    assert!(found.is_empty(), "{}", found.join("\n"));
    // The version's workload labels no version, rather than its service's tag.
    let deployment: serde_yaml::Value =
        serde_yaml::from_str(&tree["kubernetes/services/web/deployment-next.yaml"]).unwrap();
    for labels in label_maps(&deployment) {
        assert!(
            !labels.contains_key("app.kubernetes.io/version"),
            "{labels:?}"
        );
    }
    assert!(tree["helm/web/Chart.yaml"].contains("version: \"0.1.0\""));
}

/// Every `Deployment` and `StatefulSet` of a tree (not of a Helm template), with its file.
fn workloads(tree: &BTreeMap<String, String>) -> Vec<(String, serde_yaml::Value)> {
    let mut out = Vec::new();
    for (path, text) in tree {
        let yaml = std::path::Path::new(path)
            .extension()
            .is_some_and(|e| e == "yaml");
        if !yaml || path.contains("/templates/") {
            continue;
        }
        for doc in serde_yaml::Deserializer::from_str(text) {
            let Ok(doc) = serde_yaml::Value::deserialize(doc) else {
                continue;
            };
            if matches!(doc["kind"].as_str(), Some("Deployment" | "StatefulSet")) {
                out.push((path.clone(), doc));
            }
        }
    }
    out
}

/// The selector of every `Deployment` and `StatefulSet` of a tree, by file.
fn selectors(tree: &BTreeMap<String, String>) -> BTreeMap<String, serde_yaml::Value> {
    workloads(tree)
        .into_iter()
        .map(|(path, doc)| (path, doc["spec"]["selector"].clone()))
        .collect()
}

/// A workload's selector is immutable: the API server refuses an update that changes it
/// (`spec.selector: field is immutable`), and `kubectl apply`, Argo CD's sync and `helm
/// upgrade` all fail on it. Adding a canary to a service, arming it, and removing it keep every
/// `Deployment`'s and `StatefulSet`'s selector as it was.
#[test]
fn a_canary_added_armed_or_removed_changes_no_selector() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("platform.kdl")).expect("platform.kdl");
    // The reference platform's canaries, each a block of its own line `canary …{` to `}`.
    let lines: Vec<&str> = text.lines().collect();
    let mut without = Vec::new();
    let mut armed = Vec::new();
    let mut skipping = false;
    let mut canaries = 0;
    for line in &lines {
        let trimmed = line.trim_start();
        if trimmed.starts_with("canary ") {
            canaries += 1;
            skipping = trimmed.ends_with('{');
            // Armed: the canary without its image.
            let words: Vec<&str> = line
                .split(' ')
                .filter(|w| !w.starts_with("tag=") && !w.starts_with("digest="))
                .collect();
            armed.push(words.join(" "));
            continue;
        }
        if skipping {
            armed.push((*line).to_owned());
            skipping = trimmed != "}";
            continue;
        }
        without.push((*line).to_owned());
        armed.push((*line).to_owned());
    }
    assert!(canaries >= 2, "{canaries} canaries in platform.kdl");
    let with = selectors(&tree_of(&text));
    let armed = selectors(&tree_of(&armed.join("\n")));
    let without = selectors(&tree_of(&without.join("\n")));
    assert!(with.len() > 10, "{} workloads", with.len());
    for (name, other) in [("armed", &armed), ("without canaries", &without)] {
        assert_eq!(
            with.keys().collect::<Vec<_>>(),
            other.keys().collect::<Vec<_>>()
        );
        for (path, selector) in &with {
            assert_eq!(selector, &other[path], "{path}: with a canary and {name}");
        }
    }
}

/// Every container of a `Deployment` or `StatefulSet` (not of a Helm template) of a tree, by
/// `file: container`: its ports and its pre-stop `sleep` seconds, beside the pod's grace
/// period (the API's default, 30, when unset).
fn stop_delays(tree: &BTreeMap<String, String>) -> Vec<(String, bool, Option<u64>, u64)> {
    let mut out = Vec::new();
    for (path, doc) in workloads(tree) {
        let pod = &doc["spec"]["template"]["spec"];
        let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap_or(30);
        for c in pod["containers"].as_sequence().into_iter().flatten() {
            out.push((
                format!("{path}: {}", c["name"].as_str().unwrap_or_default()),
                c["ports"].as_sequence().is_some_and(|p| !p.is_empty()),
                c["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64(),
                grace,
            ));
        }
    }
    out
}

/// A container that serves a port goes on serving a few seconds after its pod is told to stop,
/// while the endpoint's removal reaches the callers, and within the pod's grace period; one
/// without a port stops at once. The kubelet's `sleep` action is off in Kubernetes 1.29 (the
/// API server drops it, and Argo CD would show every workload out of sync): a 1.29 cluster
/// gets none.
#[test]
fn serving_containers_stop_after_a_delay_where_the_cluster_runs_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("platform.kdl")).expect("platform.kdl");
    assert!(text.contains("version=\"1.33\""));
    let containers = stop_delays(&tree_of(&text));
    assert!(containers.len() > 10, "{} containers", containers.len());
    assert!(
        containers.iter().any(|(_, ports, _, _)| !ports),
        "a worker without a port"
    );
    for (name, ports, delay, grace) in &containers {
        match (ports, delay) {
            (true, Some(delay)) => assert!(
                (1..*grace).contains(delay),
                "{name}: a delay of {delay}s in a grace of {grace}s"
            ),
            (true, None) => panic!("{name} serves a port and stops at once"),
            (false, Some(_)) => panic!("{name} serves no port and waits to stop"),
            (false, None) => {}
        }
    }
    // A platform without canaries (their guard needs 1.30), on 1.31 and on 1.29.
    let text = std::fs::read_to_string(root.join("golden/stores/platform.kdl")).expect("stores");
    assert!(text.contains("version=\"1.31\""));
    let new = stop_delays(&tree_of(&text));
    assert!(
        new.iter()
            .any(|(_, ports, delay, _)| *ports && delay.is_some())
    );
    let old = stop_delays(&tree_of(
        &text.replace("version=\"1.31\"", "version=\"1.29\""),
    ));
    assert_eq!(old.len(), new.len());
    for (name, _, delay, _) in &old {
        assert_eq!(*delay, None, "{name} on Kubernetes 1.29");
    }
}
