//! Every service has its Grafana dashboard, its dashboard's `ConfigMap` and its row of the
//! overview, which links to that dashboard by uid: adding a service to `platform.kdl` is all
//! it takes.

use std::collections::BTreeMap;

use platc::source::Source;
use platc::{Options, build_tree, compile};
use serde_json::Value;

/// Every file a build of `text` writes, by path.
fn build(text: &str) -> BTreeMap<String, String> {
    let compiled = compile(
        &Source::new("platform.kdl", text.to_owned()),
        &Options::default(),
    );
    let platform = compiled
        .platform
        .unwrap_or_else(|| panic!("does not compile: {:?}", compiled.diagnostics));
    build_tree(&platform).expect("valid output")
}

fn json(tree: &BTreeMap<String, String>, path: &str) -> Value {
    let text = tree.get(path).unwrap_or_else(|| panic!("no {path}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The quoted value that follows each `"<label>", "` in `expr`, in order.
fn label_values<'a>(expr: &'a str, label: &str) -> Vec<&'a str> {
    let key = format!("\"{label}\", \"");
    expr.match_indices(&key)
        .map(|(at, _)| {
            let rest = &expr[at + key.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// The overview's rows: each service and the uid its row links to.
fn overview_rows(tree: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let overview = json(tree, "monitoring/grafana/platform-overview.json");
    let table = overview["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "table")
        .expect("the overview has a table");
    let link = table["fieldConfig"]["defaults"]["links"][0]["url"]
        .as_str()
        .unwrap();
    assert!(
        link.starts_with("/d/${__data.fields.dashboard}"),
        "rows link by their dashboard's uid: {link}"
    );
    let rows = table["targets"][0]["expr"].as_str().unwrap();
    let services = label_values(rows, "destination_workload");
    let uids = label_values(rows, "dashboard");
    assert_eq!(services.len(), uids.len(), "{rows}");
    services
        .into_iter()
        .zip(uids)
        .map(|(s, u)| (s.to_owned(), u.to_owned()))
        .collect()
}

/// Asserts that every service of `services` has its dashboard, its `ConfigMap` holding the
/// same bytes, and a row of the overview linking to the dashboard's uid.
fn assert_every_service_is_shown(tree: &BTreeMap<String, String>, services: &[&str]) {
    let rows: BTreeMap<String, String> = overview_rows(tree).into_iter().collect();
    for name in services {
        let path = format!("monitoring/grafana/service-{name}.json");
        let dashboard = json(tree, &path);
        let uid = dashboard["uid"].as_str().unwrap();
        assert_eq!(
            rows.get(*name).map(String::as_str),
            Some(uid),
            "{name}: its overview row does not link to its dashboard"
        );
        let config_map = tree
            .get(&format!(
                "monitoring/services/{name}/configmap-dashboard.yaml"
            ))
            .unwrap_or_else(|| panic!("{name}: no ConfigMap"));
        let config_map: Value = serde_yaml::from_str(config_map).unwrap();
        assert_eq!(
            config_map["data"][format!("service-{name}.json")].as_str(),
            Some(tree[&path].as_str()),
            "{name}: the ConfigMap does not hold the dashboard's bytes"
        );
    }
    assert_eq!(rows.len(), services.len(), "rows: {rows:?}");
}

#[test]
fn every_service_of_the_reference_platform_is_shown() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("platform.kdl")).unwrap();
    let tree = build(&text);
    let compiled = compile(&Source::new("platform.kdl", text), &Options::default());
    let platform = compiled.platform.unwrap();
    let services: Vec<&str> = platform
        .services
        .iter()
        .map(|s| s.name.value.as_str())
        .collect();
    assert!(services.len() > 10);
    assert_every_service_is_shown(&tree, &services);
}

/// A `{{` in a dashboard would make its `ConfigMap`'s Helm template a Go string literal that
/// no YAML reader parses (checkov counts it as a file it cannot read): series are named by
/// display names (`${__field.labels.pod}`), never by legend templates (`{{pod}}`).
#[test]
fn no_dashboard_holds_a_go_template_brace() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let tree = build(&std::fs::read_to_string(root.join("platform.kdl")).unwrap());
    let dashboards: Vec<&String> = tree
        .keys()
        .filter(|p| p.starts_with("monitoring/grafana/"))
        .collect();
    assert!(dashboards.len() > 10);
    for path in dashboards {
        assert!(!tree[path].contains("{{"), "{path} holds `{{{{`");
    }
}

const SMALL: &str = r#"platform shop {
    mesh istio mtls=strict
    observability {
        prometheus
        grafana
    }
    service web {
        image "nginx" tag="1.27"
        port http 8080 protocol=http
        calls api
        slo availability="99.9" latency-p99="250ms"
    }
    service api {
        image "nginx" tag="1.27"
        port grpc 9090 protocol=grpc
    }
}
"#;

#[test]
fn adding_a_service_adds_its_dashboard_and_its_row() {
    let before = build(SMALL);
    assert_every_service_is_shown(&before, &["web", "api"]);
    let added = SMALL.replacen(
        "    service api {",
        "    service cart {\n        image \"nginx\" tag=\"1.27\"\n        port http 8080\n        slo availability=\"99.5\"\n    }\n    service api {",
        1,
    );
    let after = build(&added);
    assert_every_service_is_shown(&after, &["web", "cart", "api"]);
    // The others' dashboards are untouched.
    for name in ["web", "api"] {
        let path = format!("monitoring/grafana/service-{name}.json");
        assert_eq!(before[&path], after[&path], "{path} changed");
    }
}

/// A canary's latency panels split the service's pods by the revision its Rollout gives the
/// canary's pods: the canary panel selects exactly it, the stable panel every other. The
/// stable panel cannot select the `stable` revision: a proxy reports the revision its pod had
/// when it started, so the pods of a promoted canary report the canary's revision for their
/// whole life (istio/istio#40034), and would fall out of every later canary's stable panel.
#[test]
fn a_canarys_latency_panels_split_the_pods_by_the_canarys_revision() {
    let tree = platc::diff::read_tree(std::path::Path::new("out")).unwrap();
    let mut canaries = 0;
    for (path, text) in &tree {
        let Some(service) = path
            .strip_prefix("rollouts/")
            .and_then(|p| p.strip_suffix("/rollout.yaml"))
        else {
            continue;
        };
        let rollout: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        let revision = rollout["spec"]["strategy"]["canary"]["canaryMetadata"]["labels"]
            ["service.istio.io/canonical-revision"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: no canonical revision for the canary's pods"));
        let dashboard = json(&tree, &format!("monitoring/grafana/service-{service}.json"));
        let exprs = |title: &str| -> Vec<String> {
            let panel = dashboard["panels"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["title"].as_str().is_some_and(|t| t.starts_with(title)))
                .unwrap_or_else(|| panic!("{service}: no panel `{title}`"));
            panel["targets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["expr"].as_str().unwrap().to_owned())
                .collect()
        };
        for (title, matcher) in [
            (
                "Latency: stable",
                format!("destination_canonical_revision!=\"{revision}\""),
            ),
            (
                "Latency: canary",
                format!("destination_canonical_revision=\"{revision}\""),
            ),
        ] {
            let exprs = exprs(title);
            assert!(!exprs.is_empty(), "{service}: `{title}` has no query");
            for expr in exprs {
                assert!(expr.contains(&matcher), "{service}: `{title}`: {expr}");
                assert_eq!(
                    expr.matches("destination_canonical_revision").count(),
                    1,
                    "{service}: `{title}` selects one revision: {expr}"
                );
            }
        }
        canaries += 1;
    }
    assert_eq!(canaries, 2, "the reference platform's two canaries");
}
