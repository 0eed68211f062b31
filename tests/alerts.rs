//! Alertmanager's receivers resolve when applied: in `out/` and every golden tree (environments
//! included) whose kube-prometheus-stack values configure Alertmanager, every receiver's file
//! is a file of the volume mounted at that path, which the Secrets Store CSI driver fills from
//! the `SecretProviderClass` the release installs; every secret of that class is one that
//! Alertmanager's Pod Identity role may read, bound to the `ServiceAccount` the values pin; the
//! release follows the driver that serves the class's CRD; and every alert reaches a receiver by
//! its severity. (`conformance/alertmanager.py` runs Alertmanager's own `amtool` on the file.)

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

#[path = "support/built.rs"]
mod built;
#[path = "support/tree.rs"]
mod tree;

/// Every tree with the stack's values.
fn trees() -> Vec<PathBuf> {
    built::trees_with(VALUES)
}

const VALUES: &str = "helm/addons/kube-prometheus-stack.values.yaml";

fn yaml(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// The files the receivers read their URL or key from, with the receiver's name.
fn receiver_files(config: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for receiver in list(&config["receivers"]) {
        let name = text(&receiver["name"]).to_owned();
        for slack in list(&receiver["slack_configs"]) {
            out.push((name.clone(), text(&slack["api_url_file"]).to_owned()));
        }
        for pager in list(&receiver["pagerduty_configs"]) {
            out.push((name.clone(), text(&pager["routing_key_file"]).to_owned()));
        }
    }
    out
}

/// The objects of a `SecretProviderClass` of the AWS provider: `(objectName, objectType,
/// objectAlias)`.
fn class_objects(class: &Value) -> Vec<(String, String, String)> {
    let objects: Value =
        serde_yaml::from_str(text(&class["spec"]["parameters"]["objects"])).unwrap();
    list(&objects)
        .iter()
        .map(|o| {
            (
                text(&o["objectName"]).to_owned(),
                text(&o["objectType"]).to_owned(),
                text(&o["objectAlias"]).to_owned(),
            )
        })
        .collect()
}

/// The route matchers of a receiver's `severity`: the critical alerts, or those and the
/// warnings.
const BY_SEVERITY: [&str; 2] = [
    "severity = \"critical\"",
    "severity =~ \"critical|warning\"",
];

/// Checks one tree; `None` when its Alertmanager has no receivers of platc's.
fn check(tree: &Path, problems: &mut Vec<String>) -> Option<()> {
    let values = yaml(&tree.join(VALUES));
    let alertmanager = values.get("alertmanager")?;
    let config = alertmanager.get("config")?;
    let mut problem = |what: String| problems.push(format!("{}: {what}", tree.display()));
    let spec = &alertmanager["alertmanagerSpec"];
    let classes = values["extraManifests"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let region = json(&tree.join("terraform/aws/providers.tf.json"))["provider"]["aws"]["region"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut read: Vec<(String, String)> = Vec::new();
    for (receiver, file) in receiver_files(config) {
        let path = Path::new(&file);
        let (Some(dir), Some(alias)) = (path.parent(), path.file_name()) else {
            problem(format!("receiver {receiver} reads no file"));
            continue;
        };
        let alias = alias.to_string_lossy().into_owned();
        // The volume mounted at the file's directory…
        let Some(mount) = list(&spec["volumeMounts"])
            .iter()
            .find(|m| Path::new(text(&m["mountPath"])) == dir)
        else {
            problem(format!(
                "no volume is mounted at {}, where {receiver} reads",
                dir.display()
            ));
            continue;
        };
        let Some(volume) = list(&spec["volumes"])
            .iter()
            .find(|v| v["name"] == mount["name"])
        else {
            problem(format!("the mount of {} names no volume", dir.display()));
            continue;
        };
        // …is the CSI driver's, filled from a class the release installs in its namespace…
        let class_name = text(&volume["csi"]["volumeAttributes"]["secretProviderClass"]);
        let class = classes
            .values()
            .find(|c| c["kind"] == "SecretProviderClass" && c["metadata"]["name"] == class_name);
        let Some(class) = class else {
            problem(format!(
                "{receiver}'s volume reads SecretProviderClass {class_name}, which the release does not install"
            ));
            continue;
        };
        if text(&volume["csi"]["driver"]) != "secrets-store.csi.k8s.io" {
            problem(format!(
                "{receiver}'s volume is not the Secrets Store CSI driver's"
            ));
        }
        if text(&class["metadata"]["namespace"]) != "monitoring" {
            problem(format!("{class_name} is not in Alertmanager's namespace"));
        }
        if text(&class["spec"]["parameters"]["region"]) != region {
            problem(format!(
                "{class_name} reads another region than the platform's {region}"
            ));
        }
        // …whose object of that alias is the file.
        match class_objects(class)
            .into_iter()
            .find(|(_, _, a)| *a == alias)
        {
            Some((name, kind, _)) => read.push((name, kind)),
            None => problem(format!(
                "{class_name} has no object {alias}, which {receiver} reads"
            )),
        }
    }
    // A changed set of secrets changes the pod: its annotation names each object of the
    // classes it mounts, `<alias>=<type>:<name>`.
    let mut mounted = Vec::new();
    for volume in list(&spec["volumes"]) {
        let name = &volume["csi"]["volumeAttributes"]["secretProviderClass"];
        if let Some(class) = classes.values().find(|c| c["metadata"]["name"] == *name) {
            for (object, kind, alias) in class_objects(class) {
                mounted.push(format!("{alias}={kind}:{object}"));
            }
        }
    }
    let annotation = &spec["podMetadata"]["annotations"]["platc.dev/receiver-secrets"];
    if text(annotation) != mounted.join(",") {
        problem(format!(
            "Alertmanager's pod annotation {annotation} does not name the secrets it mounts"
        ));
    }
    // Alertmanager's role may read each of those secrets, and is bound to its ServiceAccount.
    let identity = json(&tree.join("terraform/aws/identity.tf.json"));
    let statements = &identity["data"]["aws_iam_policy_document"]["alertmanager"]["statement"];
    let resources: Vec<&str> = list(statements)
        .iter()
        .flat_map(|s| list(&s["resources"]))
        .map(text)
        .collect();
    for (name, kind) in &read {
        let arn_tail = match kind.as_str() {
            "secretsmanager" => format!(":secret:{name}-??????"),
            _ => format!(":parameter/{}", name.trim_start_matches('/')),
        };
        if !resources.iter().any(|r| r.ends_with(&arn_tail)) {
            problem(format!("Alertmanager's role may not read {kind} {name}"));
        }
    }
    let association = &identity["resource"]["aws_eks_pod_identity_association"]["alertmanager"];
    let account = text(&alertmanager["serviceAccount"]["name"]);
    if text(&association["namespace"]) != "monitoring"
        || text(&association["service_account"]) != account
        || account.is_empty()
    {
        problem(format!(
            "Alertmanager's role is not bound to its pinned ServiceAccount {account} in monitoring"
        ));
    }
    // The release follows the driver whose CRD its class is.
    let addons = json(&tree.join("terraform/cluster/addons.tf.json"));
    let release = &addons["resource"]["helm_release"]["kube_prometheus_stack"];
    if !list(&release["depends_on"])
        .iter()
        .any(|d| d == "helm_release.secrets_store_csi_driver")
    {
        problem("the stack's release does not follow the Secrets Store CSI driver's".into());
    }
    // Every receiver but `null` is routed, by severity, and every route names a receiver.
    let names: Vec<&str> = list(&config["receivers"])
        .iter()
        .map(|r| text(&r["name"]))
        .collect();
    let routes = list(&config["route"]["routes"]);
    for route in routes {
        if !names.contains(&text(&route["receiver"])) {
            problem(format!(
                "a route names receiver {}, which is not one",
                route["receiver"]
            ));
        }
    }
    for name in names.iter().filter(|n| **n != "null") {
        let by_severity = routes.iter().any(|r| {
            let matchers: Vec<&str> = list(&r["matchers"]).iter().map(text).collect();
            text(&r["receiver"]) == *name
                && r["continue"] == true
                && matchers.len() == 1
                && BY_SEVERITY.contains(&matchers[0])
        });
        if !by_severity {
            problem(format!("receiver {name} gets no alert by its severity"));
        }
    }
    if text(&config["route"]["receiver"]) != "null" {
        problem("what no route takes goes to a receiver of platc's".into());
    }
    Some(())
}

#[test]
fn the_receivers_read_secrets_alertmanager_mounts_and_may_read() {
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    for tree in trees() {
        if check(&tree, &mut problems).is_some() {
            checked.push(tree);
        }
    }
    assert!(
        checked.iter().any(|t| t == Path::new("out")),
        "out/ configures Alertmanager's receivers (platform.kdl has `alerts`)"
    );
    assert!(
        checked.len() >= 4,
        "only {} trees configure Alertmanager: {checked:?}",
        checked.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A tree without `alerts` leaves Alertmanager's configuration to the chart: no receiver of
/// platc's, no class, no role.
#[test]
fn without_alerts_alertmanager_is_left_alone() {
    let mut seen = 0;
    for tree in trees() {
        let values = yaml(&tree.join(VALUES));
        if values["alertmanager"].get("config").is_some() {
            continue;
        }
        seen += 1;
        assert!(
            values.get("extraManifests").is_none(),
            "{}: a class without receivers",
            tree.display()
        );
        let identity =
            fs::read_to_string(tree.join("terraform/aws/identity.tf.json")).unwrap_or_default();
        assert!(
            !identity.contains("kube-prometheus-stack-alertmanager"),
            "{}: Alertmanager has a role without receivers",
            tree.display()
        );
    }
    assert!(seen > 0, "no tree without alerts");
}

/// `alerts {}` keeps every alert on `null`, and asks for no volume or class: no receiver
/// reads a secret, and the driver that would serve the class is not installed for it.
#[test]
fn alerts_without_receivers_mount_nothing() {
    let tree = tree::tree_of(
        r#"platform shop {
    aws region=us-east-1 {
        vpc cidr="10.0.0.0/16"
        cluster shop {
            node-group general instance=m6i.large min=2 max=6
        }
    }
    observability {
        prometheus
        alerts {
        }
    }
}
"#,
    );
    let values: Value = serde_yaml::from_str(&tree[VALUES]).unwrap();
    let config = &values["alertmanager"]["config"];
    assert_eq!(text(&config["route"]["receiver"]), "null");
    assert_eq!(list(&config["receivers"]).len(), 1, "{config:?}");
    assert!(
        values["alertmanager"]["alertmanagerSpec"]
            .get("volumes")
            .is_none()
    );
    assert!(
        values.get("extraManifests").is_none(),
        "a class with no receiver"
    );
    assert!(!tree.contains_key("helm/addons/secrets-store-csi-driver-provider-aws.values.yaml"));
}
