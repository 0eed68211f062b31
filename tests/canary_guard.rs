//! The canary guard, proven on the emitted objects: Argo Rollouts promotes a Rollout's first
//! revision to every user at once (no steps, no analysis), so applying a tree whose canary has
//! an image to a cluster where the service does not yet run under its Rollout must not let the
//! canary's image become that first revision.
//!
//! For every service with a canary image in `out/` and the golden trees, this reads the two
//! `ValidatingAdmissionPolicy`s from the tree, and evaluates their match conditions and
//! validations with a CEL interpreter against the admission requests the API server would see:
//! the Deployment from the tree, and the Rollout as the cluster would have it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cel_interpreter::{Context, Program, to_value};
use platc::diff::read_tree;
use serde_json::{Value, json};

/// Every committed tree; each environment's (`env/NAME/` of a whole build) apart, as the
/// cluster of that environment gets it.
fn trees() -> Vec<(String, BTreeMap<String, String>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![("out".to_owned(), root.join("out"))];
    for entry in std::fs::read_dir(root.join("golden")).unwrap() {
        let dir = entry.unwrap().path().join("expected");
        if dir.is_dir() {
            dirs.push((dir.display().to_string(), dir));
        }
    }
    let mut out = Vec::new();
    for (name, dir) in dirs {
        let mut tree = read_tree(&dir).unwrap();
        let mut envs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (path, text) in tree.extract_if(.., |path, _| path.starts_with("env/")) {
            if let Some((env, rest)) = path["env/".len()..].split_once('/') {
                envs.entry(format!("{name}/env/{env}"))
                    .or_default()
                    .insert(rest.to_owned(), text);
            }
        }
        out.push((name, tree));
        out.extend(envs);
    }
    out
}

fn yaml(text: &str) -> Value {
    serde_json::to_value(serde_yaml::from_str::<serde_yaml::Value>(text).unwrap()).unwrap()
}

/// `true` when the expression holds for these variables.
fn eval(expression: &str, vars: &[(&str, &Value)]) -> bool {
    let program = Program::compile(expression)
        .unwrap_or_else(|e| panic!("CEL does not compile: {expression}: {e}"));
    let mut context = Context::default();
    for (name, value) in vars {
        context
            .add_variable(*name, to_value(value).unwrap())
            .unwrap();
    }
    match program.execute(&context) {
        Ok(cel_interpreter::Value::Bool(b)) => b,
        other => panic!("{expression} gave {other:?}"),
    }
}

/// A guard policy of the tree and what it admits.
struct Policy {
    conditions: Vec<String>,
    validations: Vec<String>,
    namespace: String,
    operations: Vec<String>,
}

impl Policy {
    fn read(value: &Value) -> Self {
        let spec = &value["spec"];
        let strings = |v: &Value, key: &str| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x[key].as_str().map(str::to_owned))
                .collect()
        };
        Self {
            conditions: strings(&spec["matchConditions"], "expression"),
            validations: strings(&spec["validations"], "expression"),
            namespace: spec["matchConstraints"]["namespaceSelector"]["matchLabels"]
                ["kubernetes.io/metadata.name"]
                .as_str()
                .unwrap()
                .to_owned(),
            operations: spec["matchConstraints"]["resourceRules"][0]["operations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_str().unwrap().to_owned())
                .collect(),
        }
    }

    /// Whether the API server admits this request under the policy: not matched, or every
    /// validation holds. `params: None` is a binding whose parameter does not exist with
    /// `parameterNotFoundAction: Allow`.
    fn admits(
        &self,
        operation: &str,
        object: &Value,
        old: &Value,
        params: Option<&Value>,
        param_kind: bool,
    ) -> bool {
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
        if namespace != self.namespace || !self.operations.iter().any(|o| o == operation) {
            return true;
        }
        if param_kind && params.is_none() {
            return true;
        }
        let request = json!({"operation": operation});
        let null = Value::Null;
        let params = params.unwrap_or(&null);
        let vars = [
            ("object", object),
            ("oldObject", old),
            ("request", &request),
            ("params", params),
        ];
        if !self.conditions.iter().all(|c| eval(c, &vars)) {
            return true;
        }
        self.validations.iter().all(|v| eval(v, &vars))
    }
}

#[test]
fn a_canary_never_becomes_the_first_revision() {
    let mut checked = 0;
    for (name, tree) in trees() {
        for (path, text) in &tree {
            let Some(dir) = path.strip_suffix("/guard-first-policy.yaml") else {
                continue;
            };
            checked += 1;
            let first = Policy::read(&yaml(text));
            let stable = Policy::read(&yaml(&tree[&format!("{dir}/guard-stable-policy.yaml")]));
            let rollout = yaml(&tree[&format!("{dir}/rollout.yaml")]);
            let service = rollout["metadata"]["name"].as_str().unwrap();
            let namespace = rollout["metadata"]["namespace"].as_str().unwrap();
            let canary = yaml(&tree[&format!("kubernetes/services/{service}/deployment.yaml")]);
            let canary_image = canary["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap()
                .to_owned();
            // The same Deployment with the stable image (`platc render --stable`), and as a
            // plain Deployment that no Rollout runs yet (no `platc.dev/rollout`, replicas set).
            let armed = {
                let mut d = canary.clone();
                d["spec"]["template"]["spec"]["containers"][0]["image"] =
                    json!(format!("{canary_image}-stable"));
                d
            };
            let plain = {
                let mut d = armed.clone();
                d["metadata"]["annotations"]
                    .as_object_mut()
                    .unwrap()
                    .remove("platc.dev/rollout");
                d["spec"]["replicas"] = json!(2);
                d
            };
            let admitted =
                |operation: &str, object: &Value, old: &Value, rollout: Option<&Value>| {
                    first.admits(operation, object, old, None, false)
                        && stable.admits(operation, object, old, rollout, true)
                };
            let healthy = json!({"metadata": {"name": service, "namespace": namespace},
                                 "status": {"stableRS": "6f8d7b9c5"}});
            let starting = json!({"metadata": {"name": service, "namespace": namespace},
                                  "status": {}});
            let null = Value::Null;
            let case = |what: &str| format!("{name}: {service}: {what}");
            // A fresh cluster: the canary's Deployment is refused, so the Rollout never sees
            // the canary's image as its first revision.
            assert!(
                !admitted("CREATE", &canary, &null, None),
                "{}",
                case("a fresh cluster took the canary")
            );
            // The service runs as a plain Deployment: switching it to the canary in one step
            // is refused (the new Rollout's first revision would be the canary).
            assert!(
                !admitted("UPDATE", &canary, &plain, None),
                "{}",
                case("a plain Deployment became the canary")
            );
            // Under its Rollout, but before the Rollout has a stable revision: refused.
            assert!(
                !admitted("UPDATE", &canary, &armed, Some(&starting)),
                "{}",
                case("the canary came before the stable revision")
            );
            // The bootstrap is admitted: the armed Deployment, fresh or over a plain one.
            assert!(
                admitted("CREATE", &armed, &null, None),
                "{}",
                case("bootstrap refused")
            );
            assert!(
                admitted("UPDATE", &armed, &plain, None),
                "{}",
                case("arming refused")
            );
            // Then the canary is admitted, progressively: the Rollout has a stable revision.
            assert!(
                admitted("UPDATE", &canary, &armed, Some(&healthy)),
                "{}",
                case("the canary was refused after a stable revision")
            );
            // Re-applying the running canary is admitted.
            assert!(
                admitted("UPDATE", &canary, &canary, Some(&healthy)),
                "{}",
                case("re-applying the canary was refused")
            );
            // Another service's Deployment is never matched.
            let mut other = canary.clone();
            other["metadata"]["name"] = json!("someone-else");
            assert!(
                admitted("CREATE", &other, &null, None),
                "{}",
                case("caught another")
            );
        }
    }
    assert!(checked >= 3, "too few canary guards were found ({checked})");
}

#[test]
fn every_canary_with_an_image_has_its_guard() {
    for (name, tree) in trees() {
        for path in tree.keys() {
            let Some(dir) = path.strip_suffix("/rollout.yaml") else {
                continue;
            };
            let rollout = yaml(&tree[path]);
            let service = rollout["metadata"]["name"].as_str().unwrap();
            let deployment = yaml(&tree[&format!("kubernetes/services/{service}/deployment.yaml")]);
            let has_canary_image = deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"]
                != rollout["metadata"]["labels"]["app.kubernetes.io/version"];
            if has_canary_image {
                assert!(
                    tree.contains_key(&format!("{dir}/guard-first-policy.yaml")),
                    "{name}: {service} has a canary image and no guard"
                );
            }
        }
    }
}
