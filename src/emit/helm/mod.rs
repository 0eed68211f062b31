//! Helm charts, derived from the output set: a chart per service whose templates are that
//! service's objects, exactly, with holes for what a release may tune, and an umbrella chart
//! for the platform that depends on them and carries the platform-wide objects.
//!
//! Input: the checked platform and the set the other targets made (a derived target never
//! re-derives the model's objects). Output: `helm/<service>/` (`Chart.yaml`, `values.yaml`,
//! `values.schema.json`, `templates/`, `NOTES.txt`) and `helm/<platform>/`. Invariants:
//! `helm template` of a chart with its default values gives the plain objects field for
//! field; a hole replaces one leaf and its default is that leaf's value, so overriding a value
//! changes exactly the fields it names; every other string is data (`template::literal`).

mod template;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::model::Checked;
use crate::model::addons::{
    EBS_CSI, INGRESS_GATEWAY, LOAD_BALANCER_CONTROLLER, MONITORING_STORAGE_CLASS, PROMETHEUS_STACK,
    READINESS_GATE_LABEL,
};
use crate::model::service::Service;
use crate::output::{Body, Item, Output, Owner};
use template::{Holes, Templated};

/// Adds the charts, reading the objects already in `out`.
pub fn emit(platform: &Checked, out: &mut Output) {
    let mut owned: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    let mut shared = Vec::new();
    for item in out.items() {
        if item.id().is_none() {
            continue;
        }
        match &item.owner {
            Owner::Service(name) => owned.entry(name.as_str()).or_default().push(item),
            Owner::Platform | Owner::Namespace(_) => shared.push(item),
        }
    }
    let charts = crate::emit::parallel::map(&out.services(platform), |service| {
        let items = owned
            .get(service.name.value.as_str())
            .map_or(&[][..], Vec::as_slice);
        service_chart(platform, service, items)
    });
    // The templates of the platform's and namespaces' objects made (a batch of namespaces
    // makes theirs); the umbrella chart's values with the platform's items (its `Chart.yaml`
    // is made apart: `umbrella_chart`).
    let mut platform_charts = umbrella_templates(platform, &shared);
    if out.wants_shared() {
        platform_charts.extend(umbrella(platform));
        platform_charts.extend(addon_values(platform));
    }
    for item in charts.into_iter().flatten().chain(platform_charts) {
        out.push(item);
    }
}

/// `helm/addons/<release>.values.yaml`: the values the Terraform cluster stage gives each
/// Helm add-on (its settings and every pin of the add-on table), for users who install the
/// add-ons with Helm or Argo CD instead.
fn addon_values(platform: &Checked) -> Vec<Item> {
    let Some(cluster) = platform.aws.as_ref().and_then(|a| a.cluster.as_ref()) else {
        return Vec::new();
    };
    let addons = crate::model::addons::installed(platform);
    let inputs = crate::emit::conventions::AddonInputs {
        platform,
        addons: &addons,
        cluster_name: crate::model::aws::cluster_name(platform, cluster).into(),
        vpc_id: None,
    };
    let mut out = Vec::new();
    for addon in &addons {
        let crate::model::addons::Source::Helm {
            repository,
            chart,
            version,
        } = addon.source
        else {
            continue;
        };
        let values = addon.values(crate::emit::conventions::addon_settings(&inputs, addon));
        let mut text = format!(
            "{}\
             # The values out/terraform/cluster gives release `{release}`; to install it yourself:\n\
             #   helm upgrade --install {release} {chart} --repo {repository} --version {version} \\\n\
             #     --namespace {namespace} --create-namespace -f {release}.values.yaml\n",
            crate::encode::header(&platform.origin.path(cluster.span)),
            release = addon.release,
            namespace = addon.namespace,
        );
        if addon.id == LOAD_BALANCER_CONTROLLER.id {
            text.push_str(
                "# Add `vpcId:` with `terraform output -raw vpc_id` of out/terraform/aws: the nodes allow\n\
                 # one IMDS hop, so the controller cannot look it up itself.\n",
            );
        }
        if addon.id == INGRESS_GATEWAY.id
            && addons.iter().any(|a| a.id == LOAD_BALANCER_CONTROLLER.id)
        {
            let (key, value) = READINESS_GATE_LABEL;
            let _ = write!(
                text,
                "# Label its namespace first (the Terraform stage does), so that a rollout keeps\n\
                 # the old pods until the NLB sends to the new ones:\n\
                 #   kubectl label namespace {} {key}={value}\n",
                addon.namespace,
            );
        }
        if addon.id == PROMETHEUS_STACK.id && addons.iter().any(|a| a.id == EBS_CSI.id) {
            let _ = write!(
                text,
                "# Create the StorageClass of its volume first (the Terraform stage does):\n\
                 # {MONITORING_STORAGE_CLASS}, encrypted gp3 volumes of the EBS CSI driver, as\n\
                 # out/terraform/cluster/addons.tf.json makes it (kubernetes_storage_class_v1).\n",
            );
        }
        text.push_str(&crate::encode::yaml(&values));
        out.push(Item::text(
            format!("helm/addons/{}.values.yaml", addon.release),
            Owner::Platform,
            cluster.span,
            text,
        ));
    }
    out
}

/// The directory of the platform's umbrella chart.
fn umbrella_dir(platform: &Checked) -> String {
    format!("helm/{}", platform.name.value)
}

/// A chart's `SemVer` version: the image tag without its `v` when it is one, else `0.1.0`.
/// Helm refuses a chart whose version its `semver` does not parse (`chart.metadata.version
/// … is invalid`, at lint, template and install): a pre-release or build part must be dotted
/// identifiers of `[0-9A-Za-z-]`, none empty, a numeric one without a leading zero
/// (Masterminds/semver's `validatePrerelease`), so `1.27.3-alpine_3.20` is no version.
fn chart_version(tag: Option<&str>) -> String {
    tag.map(|t| t.strip_prefix('v').unwrap_or(t))
        .filter(|t| is_semver(t))
        .map_or_else(|| "0.1.0".to_owned(), str::to_owned)
}

/// Whether `text` is a `SemVer` 2.0 version: `MAJOR.MINOR.PATCH[-PRE][+BUILD]`.
fn is_semver(text: &str) -> bool {
    let number = |p: &str| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
    };
    let identifiers = |part: &str, numbers_checked: bool| {
        part.split('.').all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && (!numbers_checked || !p.bytes().all(|b| b.is_ascii_digit()) || number(p))
        })
    };
    let (rest, build) = match text.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (text, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| number(p))
        && pre.is_none_or(|p| identifiers(p, true))
        && build.is_none_or(|b| identifiers(b, false))
}

fn service_chart(platform: &Checked, service: &Service, items: &[&Item]) -> Vec<Item> {
    let name = &service.name.value;
    let dir = format!("helm/{name}");
    let owner = || Owner::Service(name.clone());
    let origin = service.span;
    let tag = service.image.tag.as_ref().map(|t| t.value.as_str());
    let mut values = Map::new();
    let mut out = Vec::new();
    for item in items {
        let Body::Object(object) = &item.body else {
            continue;
        };
        // The values tune the service's own workload; a `version`'s Deployment and autoscaler
        // (`<service>-<version>`) keep the image and sizes platform.kdl gives them.
        let version = service
            .versions
            .iter()
            .any(|v| object.id.name == crate::emit::conventions::version_workload(service, v));
        let text = if TUNED.contains(&object.id.kind) && !version {
            let value = object.value.to_value();
            let holes = tune(name, object.id.kind, &value, &mut values);
            template_text(platform, item, &value, &holes)
        } else {
            plain_template(platform, item, object)
        };
        out.push(Item::text(
            format!("{dir}/templates/{}", template_file(&item.path)),
            owner(),
            item.origin,
            text,
        ));
    }
    let values = Value::Object(values);
    out.push(Item::yaml(
        format!("{dir}/Chart.yaml"),
        owner(),
        origin,
        json!({
            "apiVersion": "v2",
            "name": name,
            "description": format!("{name} of {}, generated by platc from platform.kdl", platform.name.value),
            "type": "application",
            "version": chart_version(tag),
            "appVersion": tag.unwrap_or("latest"),
        }),
    ));
    out.push(Item::json(
        format!("{dir}/values.schema.json"),
        owner(),
        origin,
        constrained(schema(&values, true)),
    ));
    out.push(Item::yaml(
        format!("{dir}/values.yaml"),
        owner(),
        origin,
        values,
    ));
    out.push(Item::text(
        format!("{dir}/templates/_helpers.tpl"),
        owner(),
        origin,
        helpers(name),
    ));
    out.push(Item::text(
        format!("{dir}/templates/NOTES.txt"),
        owner(),
        origin,
        notes(service),
    ));
    out
}

/// `kubernetes/services/x/deployment.yaml` → `kubernetes-deployment.yaml`: the target's
/// directory keeps two targets' files apart.
fn template_file(path: &str) -> String {
    let top = path.split('/').next().unwrap_or_default();
    let file = path.rsplit('/').next().unwrap_or_default();
    format!("{top}-{file}")
}

/// The kinds that have values (`tune`); the others are templates without holes.
const TUNED: &[&str] = &[
    "Deployment",
    "HorizontalPodAutoscaler",
    "Job",
    "Rollout",
    "StatefulSet",
];

/// The template of an object without holes: its plain YAML when no string of it holds
/// `{{` (nothing for Helm to evaluate; no tree is built), else its tree with every such
/// string written as a literal.
fn plain_template(platform: &Checked, item: &Item, object: &crate::output::Object) -> String {
    let yaml = object.value.to_yaml();
    if yaml.contains("{{") {
        let value = object.value.to_value();
        return template_text(platform, item, &value, &Holes::new());
    }
    let mut text = header(platform, item);
    text.push_str(&yaml);
    text
}

/// The generated-file header of a template.
fn header(platform: &Checked, item: &Item) -> String {
    template_safe(&crate::encode::header(&platform.origin.path(item.origin)))
}

/// The template of one object: the generated-file header, then the object with its holes.
fn template_text(platform: &Checked, item: &Item, value: &Value, holes: &Holes) -> String {
    let mut text = header(platform, item);
    text.push_str(&crate::encode::yaml(&Templated { value, holes }));
    text
}

/// Text of a template outside its YAML values (a comment, NOTES.txt): Helm evaluates the
/// whole file, so each `{{` is written as an expression that prints it.
fn template_safe(text: &str) -> String {
    text.replace("{{", "{{ \"{{\" }}")
}

/// Sets `values.<path>` to the leaf at `pointer` and returns the hole that reads it back,
/// or nothing when the object has no such leaf.
fn bind(
    values: &mut Map<String, Value>,
    holes: &mut Holes,
    object: &Value,
    pointer: &str,
    path: &[&str],
    hole: String,
) {
    let Some(leaf) = object.pointer(pointer) else {
        return;
    };
    let mut here = values;
    for key in &path[..path.len() - 1] {
        let next = here
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(next) = next else { return };
        here = next;
    }
    here.insert(path[path.len() - 1].to_owned(), leaf.clone());
    holes.insert(pointer.to_owned(), hole);
}

/// The holes of one object and the values they read: what a release of the service may tune.
fn tune(service: &str, kind: &str, object: &Value, values: &mut Map<String, Value>) -> Holes {
    let mut holes = Holes::new();
    match kind {
        "Deployment" | "StatefulSet" => {
            bind(
                values,
                &mut holes,
                object,
                "/spec/replicas",
                &["replicaCount"],
                "{{ .Values.replicaCount }}".into(),
            );
            let container = "/spec/template/spec/containers/0";
            if let Some(Value::String(image)) = object.pointer(&format!("{container}/image")) {
                let (repository, tag) = split_image(image);
                let image_values = values
                    .entry("image")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(image_values) = image_values {
                    image_values.insert("repository".into(), repository.into());
                    if let Some(tag) = tag {
                        image_values.insert("tag".into(), tag.into());
                    }
                }
                holes.insert(
                    format!("{container}/image"),
                    format!("{{{{ include \"{service}.image\" . | quote }}}}"),
                );
                // An extra or init container that runs the service's own image runs the
                // release's image too.
                for list in ["containers", "initContainers"] {
                    let others = object
                        .pointer(&format!("/spec/template/spec/{list}"))
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    for i in usize::from(list == "containers")..others {
                        let pointer = format!("/spec/template/spec/{list}/{i}/image");
                        if object.pointer(&pointer) == Some(&Value::String(image.clone())) {
                            holes.insert(
                                pointer,
                                format!("{{{{ include \"{service}.image\" . | quote }}}}"),
                            );
                        }
                    }
                }
            }
            for class in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    bind(
                        values,
                        &mut holes,
                        object,
                        &format!("{container}/resources/{class}/{resource}"),
                        &["resources", class, resource],
                        format!("{{{{ .Values.resources.{class}.{resource} | quote }}}}"),
                    );
                }
            }
            // Plain env values (not those read from a ConfigMap or a Secret), by name.
            let env = object
                .pointer(&format!("{container}/env"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (i, variable) in env.iter().enumerate() {
                let (Some(name), Some(_)) = (variable["name"].as_str(), variable.get("value"))
                else {
                    continue;
                };
                bind(
                    values,
                    &mut holes,
                    object,
                    &format!("{container}/env/{i}/value"),
                    &["env", name],
                    format!(
                        "{{{{ index .Values.env {} | quote }}}}",
                        template::go_string(name)
                    ),
                );
            }
            for (probe, key) in [
                ("readinessProbe", "readiness"),
                ("livenessProbe", "liveness"),
                ("startupProbe", "startup"),
            ] {
                for field in [
                    "initialDelaySeconds",
                    "periodSeconds",
                    "timeoutSeconds",
                    "failureThreshold",
                ] {
                    bind(
                        values,
                        &mut holes,
                        object,
                        &format!("{container}/{probe}/{field}"),
                        &["probes", key, field],
                        format!("{{{{ .Values.probes.{key}.{field} }}}}"),
                    );
                }
            }
        }
        // A migration Job runs the release's image and env, as the workload (read before it)
        // does: an override of either reaches both.
        "Job" => {
            let container = "/spec/template/spec/containers/0";
            let image = values.get("image").and_then(|i| {
                let repository = i.get("repository")?.as_str()?;
                Some(match i.get("tag").and_then(Value::as_str) {
                    Some(tag) => format!("{repository}:{tag}"),
                    None => repository.to_owned(),
                })
            });
            if image.is_some()
                && object
                    .pointer(&format!("{container}/image"))
                    .and_then(Value::as_str)
                    == image.as_deref()
            {
                holes.insert(
                    format!("{container}/image"),
                    format!("{{{{ include \"{service}.image\" . | quote }}}}"),
                );
            }
            let env = object
                .pointer(&format!("{container}/env"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (i, variable) in env.iter().enumerate() {
                let (Some(name), Some(value)) = (variable["name"].as_str(), variable.get("value"))
                else {
                    continue;
                };
                if values.get("env").and_then(|e| e.get(name)) == Some(value) {
                    holes.insert(
                        format!("{container}/env/{i}/value"),
                        format!(
                            "{{{{ index .Values.env {} | quote }}}}",
                            template::go_string(name)
                        ),
                    );
                }
            }
        }
        "HorizontalPodAutoscaler" => {
            for field in ["minReplicas", "maxReplicas"] {
                bind(
                    values,
                    &mut holes,
                    object,
                    &format!("/spec/{field}"),
                    &["autoscaling", field],
                    format!("{{{{ .Values.autoscaling.{field} }}}}"),
                );
            }
        }
        "Rollout" => {
            let steps = object
                .pointer("/spec/strategy/canary/steps")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let (mut weights, mut pauses) = (Vec::new(), Vec::new());
            for (i, step) in steps.iter().enumerate() {
                if let Some(weight) = step.get("setWeight") {
                    holes.insert(
                        format!("/spec/strategy/canary/steps/{i}/setWeight"),
                        format!("{{{{ index .Values.canary.weights {} }}}}", weights.len()),
                    );
                    weights.push(weight.clone());
                }
                if let Some(duration) = step.pointer("/pause/duration") {
                    holes.insert(
                        format!("/spec/strategy/canary/steps/{i}/pause/duration"),
                        format!(
                            "{{{{ index .Values.canary.pauses {} | quote }}}}",
                            pauses.len()
                        ),
                    );
                    pauses.push(duration.clone());
                }
            }
            if !steps.is_empty() {
                values.insert(
                    "canary".into(),
                    json!({"weights": weights, "pauses": pauses}),
                );
            }
        }
        _ => {}
    }
    holes
}

/// `repo/name:tag` → (`repo/name`, `tag`); a digest or no tag keeps the whole reference.
fn split_image(image: &str) -> (&str, Option<&str>) {
    if image.contains('@') {
        return (image, None);
    }
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(colon) => {
            let at = name_start + colon;
            (&image[..at], Some(&image[at + 1..]))
        }
        None => (image, None),
    }
}

/// The ranges and formats of the values platc knows, on top of their types: Kubernetes
/// quantities, Go durations, percentages, a non-empty image reference. Env values stay free.
fn constrained(mut schema: Value) -> Value {
    const QUANTITY: &str = r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$";
    let mut rules: Vec<(String, Value)> = [
        (
            "/properties/image/properties/repository",
            json!({"minLength": 1}),
        ),
        ("/properties/image/properties/tag", json!({"minLength": 1})),
        (
            "/properties/canary/properties/pauses/items",
            json!({"pattern": r"^[0-9]+(ms|s|m|h)$"}),
        ),
        (
            "/properties/canary/properties/weights/items",
            json!({"maximum": 100}),
        ),
    ]
    .into_iter()
    .map(|(pointer, rule)| (pointer.to_owned(), rule))
    .collect();
    for class in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            rules.push((
                format!("/properties/resources/properties/{class}/properties/{resource}"),
                json!({"pattern": QUANTITY}),
            ));
        }
    }
    for (pointer, rule) in rules {
        if let (Some(Value::Object(target)), Value::Object(rule)) =
            (schema.pointer_mut(&pointer), rule)
        {
            target.extend(rule);
        }
    }
    schema
}

/// A JSON Schema that admits values of the shape and types of `values`, every key required
/// and no other key: Helm enforces it on install, upgrade and template.
fn schema(values: &Value, root: bool) -> Value {
    let mut out = match values {
        Value::Object(map) => json!({
            "type": "object",
            "additionalProperties": false,
            "required": map.keys().collect::<Vec<_>>(),
            "properties": map.iter().map(|(k, v)| (k.clone(), schema(v, false))).collect::<Map<_, _>>(),
        }),
        Value::Array(items) => json!({
            "type": "array",
            "minItems": items.len(),
            "maxItems": items.len(),
            "items": items.first().map_or_else(|| json!({}), |v| schema(v, false)),
        }),
        Value::Number(n) if n.is_u64() => json!({"type": "integer", "minimum": 0}),
        Value::Number(_) => json!({"type": "number"}),
        Value::Bool(_) => json!({"type": "boolean"}),
        // An env value may be empty; an image repository may not (below).
        Value::String(_) => json!({"type": "string"}),
        Value::Null => json!({"type": "null"}),
    };
    if root && let Value::Object(map) = &mut out {
        map.insert(
            "$schema".into(),
            "http://json-schema.org/draft-07/schema#".into(),
        );
        // Helm passes a subchart its parent's `global` values.
        if let Some(Value::Object(properties)) = map.get_mut("properties") {
            properties.insert("global".into(), json!({"type": "object"}));
        }
    }
    out
}

fn helpers(service: &str) -> String {
    format!(
        "{{{{/* Generated by platc. Do not edit: change platform.kdl and run `platc build`. */}}}}\n\
         {{{{/* The image reference: repository, and `:tag` when the values give one. */}}}}\n\
         {{{{- define \"{service}.image\" -}}}}\n\
         {{{{- if .Values.image.tag -}}}}\n\
         {{{{ printf \"%s:%s\" .Values.image.repository .Values.image.tag }}}}\n\
         {{{{- else -}}}}\n\
         {{{{ .Values.image.repository }}}}\n\
         {{{{- end -}}}}\n\
         {{{{- end -}}}}\n"
    )
}

fn notes(service: &Service) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} runs in namespace {} as release {{{{ .Release.Name }}}} (image {{{{ include \"{}.image\" . }}}}).",
        template_safe(&service.name.value),
        template_safe(&service.namespace),
        service.name.value
    );
    text.push_str(
        "This chart is generated by platc from platform.kdl: change the platform and run `platc build`;\nthe chart's values tune only what a release may change.\n",
    );
    text
}

/// The umbrella chart's templates: the platform-wide objects, and the namespaces'.
fn umbrella_templates(platform: &Checked, shared: &[&Item]) -> Vec<Item> {
    let dir = umbrella_dir(platform);
    let mut out = Vec::new();
    for item in shared {
        let Body::Object(object) = &item.body else {
            continue;
        };
        // The namespace's template is the namespace's, as its object is.
        out.push(Item::text(
            format!("{dir}/templates/{}", template_file_shared(&item.path)),
            item.owner.clone(),
            item.origin,
            plain_template(platform, item, object),
        ));
    }
    out
}

/// The umbrella chart's values (its templates are `umbrella_templates`, its `Chart.yaml`
/// `umbrella_chart`).
fn umbrella(platform: &Checked) -> Vec<Item> {
    vec![Item::yaml(
        format!("{}/values.yaml", umbrella_dir(platform)),
        Owner::Platform,
        platform.span,
        json!({}),
    )]
}

/// The umbrella chart's `Chart.yaml`: the service charts as dependencies, each at its image
/// tag's version. The one item of the platform's that reads a tag, so it is made apart from
/// the platform's batch (`emit::emit_in_batches`), which a rebuild after a new tag keeps.
pub fn umbrella_chart(platform: &Checked) -> Item {
    let dir = umbrella_dir(platform);
    let origin = platform.span;
    let dependencies: Vec<Value> = platform
        .services
        .iter()
        .map(|s| {
            json!({
                "name": s.name.value,
                "version": chart_version(s.image.tag.as_ref().map(|t| t.value.as_str())),
                "repository": format!("file://../{}", s.name.value),
            })
        })
        .collect();
    Item::yaml(
        format!("{dir}/Chart.yaml"),
        Owner::Platform,
        origin,
        json!({
            "apiVersion": "v2",
            "name": platform.name.value,
            "description": format!("The whole {} platform, generated by platc from platform.kdl", platform.name.value),
            "type": "application",
            "version": "0.1.0",
            "dependencies": dependencies,
        }),
    )
}

/// A platform-wide object's template file: its path below the target directory, flattened.
fn template_file_shared(path: &str) -> String {
    path.trim_end_matches(".yaml").replace('/', "-") + ".yaml"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_at_the_tag() {
        assert_eq!(split_image("a/b:v1"), ("a/b", Some("v1")));
        assert_eq!(split_image("host:5000/b"), ("host:5000/b", None));
        assert_eq!(split_image("host:5000/b:1"), ("host:5000/b", Some("1")));
        assert_eq!(split_image("b@sha256:ab"), ("b@sha256:ab", None));
    }

    #[test]
    fn chart_versions_are_semver() {
        assert_eq!(chart_version(Some("v0.10.6")), "0.10.6");
        assert_eq!(chart_version(Some("1.2.3-rc.1")), "1.2.3-rc.1");
        assert_eq!(chart_version(Some("latest")), "0.1.0");
        assert_eq!(chart_version(None), "0.1.0");
        // Helm's semver refuses these; the chart falls back rather than fail `helm lint`.
        assert_eq!(chart_version(Some("1.27.3-alpine_3.20")), "0.1.0");
        assert_eq!(chart_version(Some("v2.0.0-rc.01")), "0.1.0");
        assert_eq!(chart_version(Some("2.0.0-rc..1")), "0.1.0");
        assert_eq!(chart_version(Some("01.2.3")), "0.1.0");
        assert_eq!(chart_version(Some("1.2.3+")), "0.1.0");
        assert_eq!(chart_version(Some("vv1.2.3")), "0.1.0");
        assert_eq!(
            chart_version(Some("2.0.0-rc.0+build.007")),
            "2.0.0-rc.0+build.007"
        );
        assert_eq!(
            chart_version(Some("1.27.3-alpine3.20")),
            "1.27.3-alpine3.20"
        );
    }
}
