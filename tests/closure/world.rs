//! What a built tree puts on a cluster, read back from its files: namespaces, pods (from the
//! pod templates of Deployments, Rollouts and Jobs), Services, `ServiceAccount`s,
//! `NetworkPolicies`, every other object by kind, and the Terraform JSON of every stage; plus
//! the objects the add-ons platc installs create, from the add-on table (`platc::model::addons`).
//!
//! Nothing here knows how platc built the files: it reads them as the API server and the
//! controllers would.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use platc::model::Platform;
use platc::model::addons::{self, Addon};
use serde_yaml::Value;

pub type Labels = BTreeMap<String, String>;

/// A pod the cluster would run, with where it came from.
#[derive(Clone, Debug)]
pub struct Pod {
    /// The file (or add-on) that makes it.
    pub origin: String,
    pub namespace: String,
    pub labels: Labels,
    pub service_account: String,
    /// `(name, containerPort)` of every container.
    pub ports: Vec<(String, u16)>,
    /// Whether an Istio sidecar is injected (its namespace is labelled for injection and the
    /// pod does not opt out).
    pub sidecar: bool,
}

/// A Kubernetes Service.
#[derive(Clone, Debug)]
pub struct Svc {
    pub origin: String,
    pub namespace: String,
    pub name: String,
    pub selector: Labels,
    /// `(name, port, targetPort)`; a named targetPort is resolved against the pods.
    pub ports: Vec<(String, u16, Value)>,
}

/// An object of a kind the checks look at by kind.
#[derive(Clone, Debug)]
pub struct Object {
    pub path: String,
    pub value: Value,
}

impl Object {
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }
    pub fn namespace(&self) -> &str {
        self.value["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
    }
}

/// One `*.tf.json` file.
#[derive(Clone, Debug)]
pub struct TfFile {
    pub path: String,
    pub value: serde_json::Value,
}

/// Everything the checks resolve references against.
#[derive(Default)]
pub struct World {
    /// Namespace name → its labels (the API server's `kubernetes.io/metadata.name` included).
    pub namespaces: BTreeMap<String, Labels>,
    pub pods: Vec<Pod>,
    pub services: Vec<Svc>,
    /// `(namespace, name)` of every `ServiceAccount`.
    pub accounts: BTreeSet<(String, String)>,
    pub objects: Vec<Object>,
    pub terraform: Vec<TfFile>,
    /// The add-ons the platform's contract says are installed.
    pub addons: Vec<Addon>,
    /// `helm/addons/<release>.values.yaml`: release → the values, for Helm users.
    pub addon_values: BTreeMap<String, serde_json::Value>,
    /// Each stage's `versions.tf` (path) → the attributes of its `backend "s3"` block, as
    /// `terraform init` reads them (strings unquoted).
    pub backends: BTreeMap<String, BTreeMap<String, String>>,
    /// Every other `.tf` file (HCL): path → text.
    pub hcl: BTreeMap<String, String>,
}

/// The attributes of the `backend "s3"` block of a `versions.tf`, if it has one. The block is
/// one attribute a line, as `terraform fmt` leaves it.
fn s3_backend(text: &str) -> Option<BTreeMap<String, String>> {
    let mut lines = text.lines().skip_while(|l| l.trim() != "backend \"s3\" {");
    lines.next()?;
    let block = lines
        .take_while(|l| l.trim() != "}")
        .filter_map(|l| {
            let (key, value) = l.split_once('=')?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            Some((key.trim().to_owned(), value.to_owned()))
        })
        .collect();
    Some(block)
}

pub fn labels(value: &Value) -> Labels {
    value
        .as_mapping()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `labels` carries every pair of `selector` (an empty selector matches everything).
pub fn matches(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

impl World {
    /// Reads a tree. `platform` gives the add-on contract (which add-ons platc installs).
    pub fn new(platform: &Platform, tree: &BTreeMap<String, String>) -> Self {
        let mut world = World::default();
        for (path, text) in tree {
            if let Some(release) = path
                .strip_prefix("helm/addons/")
                .and_then(|f| f.strip_suffix(".values.yaml"))
            {
                if let Ok(values) = serde_yaml::from_str(text) {
                    world.addon_values.insert(release.to_owned(), values);
                }
                continue;
            }
            // Chart templates render to these same objects (conformance/helm.py proves it with
            // Helm's engine): the plain manifests stand for them.
            if path.starts_with("helm/") || path.contains("/helm/") {
                continue;
            }
            if Path::new(path).extension().is_some_and(|e| e == "yaml") {
                let Ok(value) = serde_yaml::from_str::<Value>(text) else {
                    continue;
                };
                if value["kind"].as_str().is_some() {
                    world.objects.push(Object {
                        path: path.clone(),
                        value,
                    });
                }
            } else if path.ends_with("/versions.tf") {
                if let Some(backend) = s3_backend(text) {
                    world.backends.insert(path.clone(), backend);
                }
            } else if Path::new(path).extension().is_some_and(|e| e == "tf") {
                world.hcl.insert(path.clone(), text.clone());
            } else if path.ends_with(".tf.json")
                && let Ok(value) = serde_json::from_str(text)
            {
                world.terraform.push(TfFile {
                    path: path.clone(),
                    value,
                });
            }
        }
        // Every namespace exists with the label the API server adds; the emitted Namespace
        // objects add theirs.
        for object in &world.objects {
            if object.kind() == "Namespace" {
                let mut l = labels(&object.value["metadata"]["labels"]);
                l.insert(
                    "kubernetes.io/metadata.name".into(),
                    object.name().to_owned(),
                );
                world.namespaces.insert(object.name().to_owned(), l);
            }
        }
        world.addons = addons::installed(platform);
        for addon in world.addons.clone() {
            world.add_addon(&addon);
        }
        let objects = world.objects.clone();
        for object in &objects {
            world.add_object(object);
        }
        world
    }

    fn namespace(&mut self, name: &str) -> &Labels {
        self.namespaces.entry(name.to_owned()).or_insert_with(|| {
            BTreeMap::from([("kubernetes.io/metadata.name".to_owned(), name.to_owned())])
        })
    }

    fn add_addon(&mut self, addon: &Addon) {
        let namespace = addon.namespace.to_string();
        self.namespace(&namespace);
        for workload in addon.workloads {
            self.accounts
                .insert((namespace.clone(), workload.service_account.to_owned()));
            self.pods.push(Pod {
                origin: format!("add-on {} ({})", addon.release, workload.name),
                namespace: namespace.clone(),
                labels: workload
                    .labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                service_account: workload.service_account.to_owned(),
                ports: workload
                    .ports
                    .iter()
                    .map(|(n, p)| ((*n).to_owned(), *p))
                    .collect(),
                sidecar: false,
            });
        }
        for service in addon.services {
            self.services.push(Svc {
                origin: format!("add-on {}", addon.release),
                namespace: namespace.clone(),
                name: service.name.to_owned(),
                selector: service
                    .selector
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                ports: service
                    .ports
                    .iter()
                    .map(|(n, p, t)| ((*n).to_owned(), *p, Value::from(u64::from(*t))))
                    .collect(),
            });
        }
    }

    fn add_object(&mut self, object: &Object) {
        let v = &object.value;
        let ns = object.namespace().to_owned();
        match object.kind() {
            "ServiceAccount" => {
                self.accounts.insert((ns, object.name().to_owned()));
            }
            "Service" => self.services.push(Svc {
                origin: object.path.clone(),
                namespace: ns,
                name: object.name().to_owned(),
                selector: labels(&v["spec"]["selector"]),
                ports: v["spec"]["ports"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap_or_default().to_owned(),
                            u16::try_from(p["port"].as_u64().unwrap_or(0)).unwrap_or(0),
                            if p["targetPort"].is_null() {
                                p["port"].clone()
                            } else {
                                p["targetPort"].clone()
                            },
                        )
                    })
                    .collect(),
            }),
            "Deployment" | "Rollout" | "Job" | "StatefulSet" | "DaemonSet" => {
                if let Some(pod) = self.pod(object) {
                    self.pods.push(pod);
                }
            }
            _ => {}
        }
    }

    /// The pods of a workload object; none for a Deployment that a Rollout runs (it keeps zero
    /// replicas) or a Rollout whose template is another object's (`workloadRef`).
    fn pod(&mut self, object: &Object) -> Option<Pod> {
        let v = &object.value;
        let template = if object.kind() == "Rollout" {
            let reference = &v["spec"]["workloadRef"];
            if reference.is_mapping() {
                let name = reference["name"].as_str()?;
                let target = self.objects.iter().find(|o| {
                    o.kind() == reference["kind"].as_str().unwrap_or_default()
                        && o.name() == name
                        && o.namespace() == object.namespace()
                })?;
                target.value["spec"]["template"].clone()
            } else {
                v["spec"]["template"].clone()
            }
        } else if object.kind() == "Job" {
            v["spec"]["template"].clone()
        } else {
            if object.kind() == "Deployment" && v["spec"]["replicas"].as_u64() == Some(0) {
                return None;
            }
            v["spec"]["template"].clone()
        };
        let namespace = object.namespace().to_owned();
        let mut labels = labels(&template["metadata"]["labels"]);
        if object.kind() == "Rollout" {
            // Argo Rollouts adds the stable or canary metadata; either way the pods carry the
            // template's labels.
            labels.extend(self::labels(
                &v["spec"]["strategy"]["canary"]["stableMetadata"]["labels"],
            ));
        }
        let injected = self
            .namespace(&namespace)
            .get("istio-injection")
            .is_some_and(|v| v == "enabled");
        let opted_out = labels
            .get("sidecar.istio.io/inject")
            .is_some_and(|v| v == "false");
        let spec = &template["spec"];
        let containers: Vec<&Value> = spec["containers"]
            .as_sequence()
            .into_iter()
            .flatten()
            .collect();
        Some(Pod {
            origin: object.path.clone(),
            namespace,
            labels,
            service_account: spec["serviceAccountName"]
                .as_str()
                .unwrap_or("default")
                .to_owned(),
            ports: containers
                .iter()
                .flat_map(|c| c["ports"].as_sequence().into_iter().flatten())
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or_default().to_owned(),
                        u16::try_from(p["containerPort"].as_u64().unwrap_or(0)).unwrap_or(0),
                    )
                })
                .collect(),
            // A Job's classic sidecar would keep it from completing: a Job is meshed only
            // with Istio's native sidecar.
            sidecar: injected
                && !opted_out
                && (object.kind() != "Job"
                    || template["metadata"]["annotations"]["sidecar.istio.io/nativeSidecar"]
                        .as_str()
                        == Some("true")),
        })
    }

    /// Objects of one kind.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Object> + 'a {
        self.objects.iter().filter(move |o| o.kind() == kind)
    }

    /// The pods a selector picks in a namespace.
    pub fn pods_in<'a>(
        &'a self,
        namespace: &'a str,
        selector: &'a Labels,
    ) -> impl Iterator<Item = &'a Pod> + 'a {
        self.pods
            .iter()
            .filter(move |p| p.namespace == namespace && matches(selector, &p.labels))
    }

    /// The Service behind `name` in `namespace`.
    pub fn service(&self, namespace: &str, name: &str) -> Option<&Svc> {
        self.services
            .iter()
            .find(|s| s.namespace == namespace && s.name == name)
    }

    /// Every Terraform block of a type across all files, by its name.
    pub fn tf_named<'a>(
        &'a self,
        section: &'a str,
        kind: &'a str,
    ) -> BTreeMap<&'a str, &'a serde_json::Value> {
        self.tf_blocks(section, kind)
            .map(|(_, name, body)| (name, body))
            .collect()
    }

    /// Every Terraform block of a type across all files: `(file, name, body)`.
    pub fn tf_blocks<'a>(
        &'a self,
        section: &'a str,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str, &'a serde_json::Value)> + 'a {
        self.terraform.iter().flat_map(move |file| {
            file.value[section][kind]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(name, _)| name.as_str() != "//")
                .map(move |(name, body)| (file.path.as_str(), name.as_str(), body))
        })
    }
}
