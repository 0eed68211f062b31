//! Every reference one object of a built tree makes to another, resolved: against the objects
//! of the tree (Kubernetes, Istio, Argo, Terraform) and the add-on table. Each check returns
//! the references that dangle, as `path: what`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use platc::model::Platform;
use platc::model::addons::{self, Source};
use serde_yaml::Value;

use crate::netpol::{Peer, allows, egress_allows, ingress_allows};
use crate::world::{Labels, Pod, World, labels, matches};

/// Runs every check.
pub fn all(platform: &Platform, world: &World) -> Vec<String> {
    let mut out = Vec::new();
    principals(world, &mut out);
    network_peers(world, &mut out);
    calls(platform, world, &mut out);
    dns_and_control_plane(world, &mut out);
    gateways(world, &mut out);
    routes(world, &mut out);
    subsets(world, &mut out);
    end_user_auth(world, &mut out);
    route_auth(platform, world, &mut out);
    scaling(world, &mut out);
    monitors(world, &mut out);
    workloads(world, &mut out);
    secrets(world, &mut out);
    database_passwords(world, &mut out);
    pod_files(world, &mut out);
    stateful_sets(world, &mut out);
    stateful_peers(platform, world, &mut out);
    rollouts(world, &mut out);
    addresses(world, &mut out);
    externals(platform, world, &mut out);
    egress(platform, world, &mut out);
    terraform(platform, world, &mut out);
    gateway_releases(world, &mut out);
    cluster_versions(world, &mut out);
    sidecar_outbound(world, &mut out);
    log_groups(world, &mut out);
    security_group_texts(world, &mut out);
    cluster_access(platform, world, &mut out);
    state_access(world, &mut out);
    caches(world, &mut out);
    docdbs(platform, world, &mut out);
    docdb_users(platform, world, &mut out);
    secret_keys(platform, world, &mut out);
    namespace_handovers(platform, world, &mut out);
    prometheus_storage(world, &mut out);
    out
}

/// Prometheus keeps its history on a volume, not on the `emptyDir` the operator gives it
/// without one: the stack's release (and the Helm users' values) claim it of a `StorageClass`
/// the stage makes before the release, of encrypted EBS volumes, with the EBS CSI driver
/// installed, and cap the blocks below the volume's size (`retentionSize`).
fn prometheus_storage(world: &World, out: &mut Vec<String>) {
    let releases = world.tf_named("resource", "helm_release");
    let classes = world.tf_named("resource", "kubernetes_storage_class_v1");
    let ebs_driver = world
        .tf_blocks("resource", "aws_eks_addon")
        .any(|(_, _, b)| b["addon_name"] == "aws-ebs-csi-driver");
    for (id, body) in &releases {
        if body["chart"] != "kube-prometheus-stack" {
            continue;
        }
        let release = body["name"].as_str().unwrap_or_default();
        let values: serde_json::Value = body["values"][0]
            .as_str()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        let mut trees = vec![(format!("helm_release.{id}"), values)];
        if let Some(helm) = world.addon_values.get(release) {
            trees.push((format!("helm/addons/{release}.values.yaml"), helm.clone()));
        }
        let depends: Vec<&str> = body["depends_on"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
            .collect();
        for (what, values) in &trees {
            let spec = &values["prometheus"]["prometheusSpec"];
            let claim = &spec["storageSpec"]["volumeClaimTemplate"]["spec"];
            let Some(class) = claim["storageClassName"].as_str() else {
                out.push(format!("{what}: Prometheus has no volume (an emptyDir)"));
                continue;
            };
            let made = classes.iter().find(|(_, c)| c["metadata"]["name"] == class);
            match made {
                Some((class_id, c)) => {
                    if c["storage_provisioner"] != "ebs.csi.aws.com"
                        || c["parameters"]["encrypted"] != "true"
                        || !ebs_driver
                    {
                        out.push(format!(
                            "{what}: StorageClass {class} is no encrypted EBS class of an \
                             installed driver"
                        ));
                    }
                    let needed = format!("kubernetes_storage_class_v1.{class_id}");
                    if !depends.contains(&needed.as_str()) {
                        out.push(format!("helm_release.{id} does not follow {needed}"));
                    }
                }
                None => out.push(format!(
                    "{what}: no StorageClass {class} in the cluster stage"
                )),
            }
            let gib = |text: &str, unit: &str| {
                text.strip_suffix(unit).and_then(|n| n.parse::<u64>().ok())
            };
            let size = claim["resources"]["requests"]["storage"]
                .as_str()
                .and_then(|s| gib(s, "Gi"));
            let cap = spec["retentionSize"].as_str().and_then(|s| gib(s, "GB"));
            if !matches!((cap, size), (Some(cap), Some(size)) if cap < size) {
                out.push(format!(
                    "{what}: retentionSize {cap:?} GiB does not keep Prometheus below its \
                     volume of {size:?} GiB"
                ));
            }
        }
    }
}

/// The top-level blocks of type `kind` of an HCL file as `terraform fmt` leaves it (each
/// opening at the start of a line, closing with a lone `}`): each block's `key = value` lines,
/// nested blocks' included.
fn hcl_blocks(text: &str, kind: &str) -> Vec<BTreeMap<String, String>> {
    let opening = format!("{kind} {{");
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line != opening {
            continue;
        }
        out.push(
            lines
                .by_ref()
                .take_while(|l| *l != "}")
                .filter_map(|l| {
                    let (key, value) = l.split_once(" = ")?;
                    Some((key.trim().to_owned(), value.trim().to_owned()))
                })
                .collect(),
        );
    }
    out
}

/// The namespaces the cluster stage makes change hands with nothing done by hand: each is
/// imported when it exists already (an `import` to it whose `for_each` is its name when the
/// cluster lists it, from a `kubernetes_all_namespaces` the stage declares, and `id` that
/// name), and every other service's namespace is `removed` without being destroyed, at the
/// address the stage would make it at, and never at one it declares (Terraform refuses a
/// `removed` block for a resource still in the configuration).
fn namespace_handovers(platform: &Platform, world: &World, out: &mut Vec<String>) {
    let Some(aws) = &platform.aws else { return };
    if aws.cluster.is_none() {
        return;
    }
    let text = world
        .hcl
        .get("terraform/cluster/namespaces.tf")
        .map_or("", String::as_str);
    let imports = hcl_blocks(text, "import");
    let removed = hcl_blocks(text, "removed");
    let listed: BTreeSet<&str> = world
        .tf_named("data", "kubernetes_all_namespaces")
        .into_keys()
        .collect();
    let made = world.tf_named("resource", "kubernetes_namespace_v1");
    let mut made_names = BTreeSet::new();
    for (id, body) in &made {
        let name = body["metadata"]["name"].as_str().unwrap_or_default();
        made_names.insert(name);
        let to = format!("kubernetes_namespace_v1.{id}");
        let found: Vec<_> = imports
            .iter()
            .filter(|i| i.get("to") == Some(&to))
            .collect();
        let resolves = |i: &&BTreeMap<String, String>| {
            i.get("id").map(String::as_str) == Some("each.value")
                && listed.iter().any(|data| {
                    i.get("for_each")
                        == Some(&format!(
                            "[for n in data.kubernetes_all_namespaces.{data}.namespaces : n if \
                             n == \"{name}\"]"
                        ))
                })
        };
        if found.len() != 1 || !found.iter().all(resolves) {
            out.push(format!(
                "namespace {name}: {} import blocks to {to}, not one of it when the cluster has it \
                 ({found:?})",
                found.len()
            ));
        }
    }
    for import in &imports {
        let to = import.get("to").map_or("", String::as_str);
        let declared = to
            .strip_prefix("kubernetes_namespace_v1.")
            .is_some_and(|id| made.contains_key(id));
        if !declared {
            out.push(format!(
                "an import to {to}, which the cluster stage does not declare"
            ));
        }
    }
    let forgotten: BTreeSet<&str> = removed
        .iter()
        .filter(|r| r.get("destroy").map(String::as_str) == Some("false"))
        .filter_map(|r| r.get("from").map(String::as_str))
        .collect();
    for block in &removed {
        let from = block.get("from").map_or("", String::as_str);
        if from
            .strip_prefix("kubernetes_namespace_v1.")
            .is_some_and(|id| made.contains_key(id))
        {
            out.push(format!(
                "a removed block for {from}, which the stage still declares"
            ));
        }
    }
    for service in &platform.services {
        let namespace = service.namespace.as_str();
        if made_names.contains(namespace) {
            continue;
        }
        let from = format!("kubernetes_namespace_v1.{}", namespace.replace('-', "_"));
        if !forgotten.contains(from.as_str()) {
            out.push(format!(
                "namespace {namespace}: the cluster stage would delete it, running, should it \
                 hold it (no removed block for {from} with destroy = false)"
            ));
        }
    }
}

/// A secret encrypted with a customer-managed key (`kms-key=`): the role of each pod that
/// mounts it may `kms:Decrypt` with that key, through the secret's own service in the
/// platform's region (`kms:ViaService`), which is how the Secrets Store CSI provider's read
/// decrypts it.
fn secret_keys(platform: &Platform, world: &World, out: &mut Vec<String>) {
    let Some(aws) = &platform.aws else { return };
    let documents = world.tf_named("data", "aws_iam_policy_document");
    let documents_of: BTreeMap<(&str, &str), &serde_json::Value> = world
        .tf_blocks("resource", "aws_eks_pod_identity_association")
        .filter_map(|(_, id, b)| {
            Some((
                (b["namespace"].as_str()?, b["service_account"].as_str()?),
                *documents.get(id)?,
            ))
        })
        .collect();
    for secret in &aws.secrets {
        let Some(key) = &secret.kms_key else { continue };
        let via = match secret.source.value {
            platc::model::aws::SecretSource::SecretsManager => "secretsmanager",
            platc::model::aws::SecretSource::Ssm => "ssm",
        };
        let via = format!("{via}.{}.amazonaws.com", aws.region.value);
        for service in platform.services.iter().filter(|s| {
            s.uses.iter().any(|u| {
                u.kind.value == platc::model::service::StoreKind::Secret
                    && u.name.value == secret.name.value
            })
        }) {
            for object in world.objects.iter().filter(|o| {
                matches!(o.kind(), "Deployment" | "Rollout" | "StatefulSet")
                    && o.namespace() == service.namespace
                    && o.name() == service.name.value
            }) {
                let sa = object.value["spec"]["template"]["spec"]["serviceAccountName"]
                    .as_str()
                    .unwrap_or("default");
                let decrypts = documents_of
                    .get(&(object.namespace(), sa))
                    .into_iter()
                    .flat_map(|d| d["statement"].as_array().into_iter().flatten())
                    .any(|st| {
                        json_strings(&st["actions"]) == ["kms:Decrypt"]
                            && json_strings(&st["resources"]) == [key.value.clone()]
                            && st["condition"].as_array().into_iter().flatten().any(|c| {
                                c["variable"] == "kms:ViaService"
                                    && json_strings(&c["values"]) == [via.clone()]
                            })
                    });
                if !decrypts {
                    out.push(format!(
                        "{}: the role of `{}/{sa}` may not decrypt secret `{}` with its key through `{via}`",
                        object.path,
                        object.namespace(),
                        secret.name.value
                    ));
                }
            }
        }
    }
}

/// `${TYPE.NAME.ATTR…}` → `(TYPE, NAME)`.
fn tf_target(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix("${")?.strip_suffix('}')?;
    let mut parts = inner.split('.');
    Some((parts.next()?, parts.next()?))
}

/// A `DocumentDB` cluster's coordinates in a workload's env resolve to what Terraform creates:
/// `…_DOCDB_HOST` and `…_DOCDB_URI` come from the service's `ConfigMap`, whose keys the cluster
/// stage fills from first-stage outputs naming one `aws_docdb_cluster` (the endpoint, and a
/// `mongodb://` URI of that endpoint with TLS and `MONGODB-AWS`); `…_DOCDB_PORT`, the URI's
/// port, the cluster's `port` and its security group's ingress rule agree, and the pod's
/// `NetworkPolicy` lets it reach that port in every private subnet; and the pod's
/// `ServiceAccount` is bound (Pod Identity) to a role the cluster's `docdb_<name>_users` output
/// lists, the roles the cluster stage makes its `$external` users; the URI's path is the
/// database they may read and write.
fn docdbs(platform: &Platform, world: &World, out: &mut Vec<String>) {
    let Some(aws) = &platform.aws else { return };
    let outputs: BTreeMap<&str, &serde_json::Value> = world
        .terraform
        .iter()
        .filter(|f| f.path.starts_with("terraform/aws/"))
        .flat_map(|f| f.value["output"].as_object().into_iter().flatten())
        .map(|(name, body)| (name.as_str(), &body["value"]))
        .collect();
    // (namespace, name) → data of the cluster stage's ConfigMaps.
    let config_maps: BTreeMap<(&str, &str), &serde_json::Value> = world
        .tf_blocks("resource", "kubernetes_config_map_v1")
        .map(|(_, _, b)| {
            (
                (
                    b["metadata"]["namespace"].as_str().unwrap_or_default(),
                    b["metadata"]["name"].as_str().unwrap_or_default(),
                ),
                &b["data"],
            )
        })
        .collect();
    let clusters: BTreeMap<&str, &serde_json::Value> = world
        .tf_blocks("resource", "aws_docdb_cluster")
        .map(|(_, name, b)| (name, b))
        .collect();
    let ingress: Vec<&serde_json::Value> = world
        .tf_blocks("resource", "aws_vpc_security_group_ingress_rule")
        .map(|(_, _, b)| b)
        .collect();
    let roles: BTreeMap<(&str, &str), &str> = world
        .tf_blocks("resource", "aws_eks_pod_identity_association")
        .map(|(_, _, b)| {
            (
                (
                    b["namespace"].as_str().unwrap_or_default(),
                    b["service_account"].as_str().unwrap_or_default(),
                ),
                b["role_arn"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let private = platc::model::aws::private_subnets(aws);
    // The first-stage output a ConfigMap-fed env var reads.
    let output_of = |namespace: &str, env: &serde_yaml::Value| -> Option<&serde_json::Value> {
        let r = &env["valueFrom"]["configMapKeyRef"];
        let data = config_maps.get(&(namespace, r["name"].as_str()?))?;
        let value = data[r["key"].as_str()?].as_str()?;
        let name = value
            .strip_prefix("${data.terraform_remote_state.aws.outputs.")?
            .strip_suffix('}')?;
        outputs.get(name).copied()
    };
    for object in world
        .objects
        .iter()
        .filter(|o| matches!(o.kind(), "Deployment" | "Rollout"))
    {
        let namespace = object.namespace();
        let spec = &object.value["spec"]["template"]["spec"];
        let account = spec["serviceAccountName"].as_str().unwrap_or_default();
        for container in spec["containers"].as_sequence().into_iter().flatten() {
            let env: BTreeMap<&str, &serde_yaml::Value> = container["env"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|e| Some((e["name"].as_str()?, e)))
                .collect();
            for (name, host) in &env {
                let Some(prefix) = name.strip_suffix("_DOCDB_HOST") else {
                    continue;
                };
                let where_ = format!("{}: env `{name}`", object.path);
                let Some(endpoint) = output_of(namespace, host).and_then(|v| v.as_str()) else {
                    out.push(format!("{where_} reads no first-stage output"));
                    continue;
                };
                let cluster = match tf_target(endpoint) {
                    Some(("aws_docdb_cluster", cluster))
                        if endpoint.ends_with(".endpoint}") && clusters.contains_key(cluster) =>
                    {
                        cluster
                    }
                    _ => {
                        out.push(format!(
                            "{where_} is `{endpoint}`, the endpoint of no DocumentDB cluster Terraform creates"
                        ));
                        continue;
                    }
                };
                let body = clusters[cluster];
                let port = body["port"].as_u64().unwrap_or(27017);
                let port_env = env
                    .get(format!("{prefix}_DOCDB_PORT").as_str())
                    .and_then(|e| e["value"].as_str());
                if port_env != Some(port.to_string().as_str()) {
                    out.push(format!(
                        "{}: env `{prefix}_DOCDB_PORT` is {port_env:?}, not the port of DocumentDB cluster `{cluster}` ({port})",
                        object.path
                    ));
                }
                let uri = env
                    .get(format!("{prefix}_DOCDB_URI").as_str())
                    .and_then(|e| output_of(namespace, e))
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                // The URI's path names the database the cluster stage grants the users.
                let database = registrations(world, &outputs)
                    .remove(cluster)
                    .map(|r| r.database)
                    .unwrap_or_default();
                let want = format!("mongodb://{endpoint}:{port}/{database}?");
                if !uri.starts_with(&want)
                    || ![
                        "tls=true",
                        "authMechanism=MONGODB-AWS",
                        "authSource=%24external",
                    ]
                    .iter()
                    .all(|p| uri.split(['?', '&']).any(|q| q == *p))
                {
                    out.push(format!(
                        "{}: env `{prefix}_DOCDB_URI` is `{uri}`, not a TLS, MONGODB-AWS URI of `{want}…`",
                        object.path
                    ));
                }
                // The cluster's security group admits the EKS cluster's nodes (and so the
                // pods) on the port.
                let groups = json_strings(&body["vpc_security_group_ids"]);
                let admitted = ingress.iter().any(|rule| {
                    groups
                        .iter()
                        .any(|g| rule["security_group_id"].as_str() == Some(g.as_str()))
                        && rule["referenced_security_group_id"]
                            .as_str()
                            .is_some_and(|g| {
                                g.starts_with("${aws_eks_cluster.")
                                    && g.ends_with(".vpc_config[0].cluster_security_group_id}")
                            })
                        && rule["from_port"].as_u64().is_some_and(|f| f <= port)
                        && rule["to_port"].as_u64().is_some_and(|t| t >= port)
                });
                if !admitted {
                    out.push(format!(
                        "{where_}: the security group of DocumentDB cluster `{cluster}` does not admit the cluster's nodes on {port}"
                    ));
                }
                for pod in pods_of(world, namespace, object.name()) {
                    for cidr in &private {
                        let ip = Ipv4Addr::from(cidr.address + 10);
                        let port = u16::try_from(port).unwrap_or_default();
                        if !egress_allows(world, pod, Peer::Ip(ip), port, "TCP") {
                            out.push(format!(
                                "{}: cannot reach DocumentDB cluster `{cluster}` at {ip}:{port}",
                                pod.origin
                            ));
                        }
                    }
                }
                // The pod's role is one the cluster admits as a `$external` user.
                let users = outputs
                    .get(format!("docdb_{cluster}_users").as_str())
                    .map(|v| json_strings(v))
                    .unwrap_or_default();
                match roles.get(&(namespace, account)) {
                    Some(role) if users.iter().any(|u| u == role) => {}
                    Some(role) => out.push(format!(
                        "{where_}: role `{role}` of ServiceAccount `{namespace}/{account}` is not in output `docdb_{cluster}_users`"
                    )),
                    None => out.push(format!(
                        "{where_}: ServiceAccount `{namespace}/{account}` has no Pod Identity role to authenticate to DocumentDB cluster `{cluster}` with"
                    )),
                }
            }
        }
    }
}

/// What the cluster stage's `terraform_data` for one `DocumentDB` cluster does.
struct Registration<'a> {
    path: &'a str,
    /// The first-stage output whose roles it makes users.
    users: String,
    database: String,
    port: String,
    /// The first-stage output the master secret is read from (through the ephemeral resource).
    secret: Option<&'a serde_json::Value>,
    command: &'a str,
    triggers: &'a serde_json::Value,
    ca_file: &'a str,
}

/// The `terraform_data` resources of the cluster stage that make `DocumentDB` users, by the
/// `aws_docdb_cluster` whose endpoint they connect to.
fn registrations<'a>(
    world: &'a World,
    outputs: &BTreeMap<&str, &'a serde_json::Value>,
) -> BTreeMap<&'a str, Registration<'a>> {
    let output = |text: &str| -> Option<String> {
        text.strip_prefix("${data.terraform_remote_state.aws.outputs.")?
            .strip_suffix('}')
            .map(str::to_owned)
    };
    let ephemeral: BTreeMap<&str, &str> = world
        .tf_blocks("ephemeral", "aws_secretsmanager_secret_version")
        .filter_map(|(_, name, b)| Some((name, b["secret_id"].as_str()?)))
        .collect();
    let mut out = BTreeMap::new();
    for (path, _, body) in world.tf_blocks("resource", "terraform_data") {
        if !path.starts_with("terraform/cluster/") {
            continue;
        }
        for provisioner in body["provisioner"].as_array().into_iter().flatten() {
            let exec = &provisioner["local-exec"];
            let env = &exec["environment"];
            let Some(host) = env["DOCDB_HOST"].as_str().and_then(output) else {
                continue;
            };
            let Some(("aws_docdb_cluster", cluster)) = outputs
                .get(host.as_str())
                .and_then(|v| v.as_str())
                .filter(|v| v.ends_with(".endpoint}"))
                .and_then(tf_target)
            else {
                continue;
            };
            let users = env["DOCDB_USERS"]
                .as_str()
                .and_then(|t| {
                    t.strip_prefix("${jsonencode(data.terraform_remote_state.aws.outputs.")?
                        .strip_suffix(")}")
                })
                .unwrap_or_default()
                .to_owned();
            let secret = env["DOCDB_MASTER"]
                .as_str()
                .and_then(|t| {
                    t.strip_prefix("${ephemeral.aws_secretsmanager_secret_version.")?
                        .strip_suffix(".secret_string}")
                })
                .and_then(|name| ephemeral.get(name))
                .and_then(|id| output(id))
                .and_then(|name| outputs.get(name.as_str()).copied());
            out.insert(
                cluster,
                Registration {
                    path,
                    users,
                    database: env["DOCDB_DATABASE"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    port: env["DOCDB_PORT"].as_str().unwrap_or_default().to_owned(),
                    secret,
                    command: exec["command"].as_str().unwrap_or_default(),
                    triggers: &body["triggers_replace"],
                    ca_file: env["DOCDB_CA_FILE"].as_str().unwrap_or_default(),
                },
            );
        }
    }
    out
}

/// Each `DocumentDB` cluster's `$external` users are made when the platform is applied: a
/// `terraform_data` of the cluster stage connects (`mongosh`) to that cluster's endpoint and
/// port, as the master user whose secret it reads, makes users of the roles of the cluster's
/// `docdb_<name>_users` output (which `docdbs` resolves each pod's role to), and runs again
/// when that list changes. The runner that applies the stage installs `mongosh` and the CA
/// bundle the script names, reaches the cluster (its egress, the cluster's ingress) and may read
/// that secret.
fn docdb_users(platform: &Platform, world: &World, out: &mut Vec<String>) {
    let Some(aws) = &platform.aws else { return };
    let outputs: BTreeMap<&str, &serde_json::Value> = world
        .terraform
        .iter()
        .filter(|f| f.path.starts_with("terraform/aws/"))
        .flat_map(|f| f.value["output"].as_object().into_iter().flatten())
        .map(|(name, body)| (name.as_str(), &body["value"]))
        .collect();
    let registrations = registrations(world, &outputs);
    let ingress: Vec<&serde_json::Value> = world
        .tf_blocks("resource", "aws_vpc_security_group_ingress_rule")
        .map(|(_, _, b)| b)
        .collect();
    let egress: Vec<&serde_json::Value> = world
        .tf_blocks("resource", "aws_vpc_security_group_egress_rule")
        .map(|(_, _, b)| b)
        .collect();
    let runner = world
        .tf_blocks("resource", "aws_codebuild_project")
        .map(|(path, _, b)| (path, b))
        .next();
    let covers = |rule: &serde_json::Value, port: u64| {
        rule["from_port"].as_u64().is_some_and(|f| f <= port)
            && rule["to_port"].as_u64().is_some_and(|t| t >= port)
    };
    for (_, cluster, body) in world.tf_blocks("resource", "aws_docdb_cluster") {
        let name = format!("docdb_{cluster}_users");
        if !outputs.contains_key(name.as_str()) {
            continue;
        }
        let port = body["port"].as_u64().unwrap_or(27017);
        let Some(reg) = registrations.get(cluster) else {
            out.push(format!(
                "output `{name}`: no terraform_data of the cluster stage makes its roles users of DocumentDB cluster `{cluster}`"
            ));
            continue;
        };
        let path = reg.path;
        if reg.users != name {
            out.push(format!(
                "{path}: the users of DocumentDB cluster `{cluster}` are output `{}`, not `{name}`",
                reg.users
            ));
        }
        if !json_strings(&json_values(reg.triggers))
            .iter()
            .any(|t| t == &format!("${{data.terraform_remote_state.aws.outputs.{name}}}"))
        {
            out.push(format!(
                "{path}: the users of DocumentDB cluster `{cluster}` are not made again when output `{name}` changes"
            ));
        }
        if reg.port != port.to_string() {
            out.push(format!(
                "{path}: connects to DocumentDB cluster `{cluster}` on port {:?}, not {port}",
                reg.port
            ));
        }
        let secret = format!("${{aws_docdb_cluster.{cluster}.master_user_secret[0].secret_arn}}");
        if reg.secret.and_then(|v| v.as_str()) != Some(secret.as_str()) {
            out.push(format!(
                "{path}: the master password it reads is not the secret of DocumentDB cluster `{cluster}`"
            ));
        }
        if !reg.command.starts_with("mongosh ") {
            out.push(format!("{path}: the users are not made with mongosh"));
        }
        if aws.state.is_none() {
            // Without a state bucket there is no runner: the stage is applied by hand.
            continue;
        }
        let Some((runner_path, runner)) = runner else {
            out.push(format!(
                "{path}: no runner applies the cluster stage that makes the users of DocumentDB cluster `{cluster}`"
            ));
            continue;
        };
        let buildspec = runner["source"]["buildspec"].as_str().unwrap_or_default();
        if !buildspec.contains("npm install --global") || !buildspec.contains("mongosh") {
            out.push(format!("{path}: the runner does not install mongosh"));
        }
        if !buildspec.contains(&format!(" -o {} ", reg.ca_file))
            && !buildspec.contains(&format!("o {} ", reg.ca_file))
        {
            out.push(format!(
                "{path}: the runner does not put the CA bundle at `{}`",
                reg.ca_file
            ));
        }
        let runner_groups = json_strings(&runner["vpc_config"]["security_group_ids"]);
        let cluster_groups = json_strings(&body["vpc_security_group_ids"]);
        let out_ok = egress.iter().any(|rule| {
            runner_groups
                .iter()
                .any(|g| rule["security_group_id"].as_str() == Some(g))
                && cluster_groups
                    .iter()
                    .any(|g| rule["referenced_security_group_id"].as_str() == Some(g))
                && covers(rule, port)
        });
        let in_ok = ingress.iter().any(|rule| {
            cluster_groups
                .iter()
                .any(|g| rule["security_group_id"].as_str() == Some(g))
                && runner_groups
                    .iter()
                    .any(|g| rule["referenced_security_group_id"].as_str() == Some(g))
                && covers(rule, port)
        });
        if !(out_ok && in_ok) {
            out.push(format!(
                "{path}: the runner cannot reach DocumentDB cluster `{cluster}` on {port} (egress {out_ok}, ingress {in_ok})"
            ));
        }
        let readable = runner_statements(world, runner_path, runner)
            .iter()
            .any(|st| grants(st, "secretsmanager:GetSecretValue", |r| r == secret));
        if !readable {
            out.push(format!(
                "{path}: the runner's role may not read the master secret of DocumentDB cluster `{cluster}`"
            ));
        }
    }
}

/// The statements of the runner's role (the project's service role, its inline policies'
/// documents), in the stage of the runner's file (`runner_path`).
fn runner_statements<'a>(
    world: &'a World,
    runner_path: &str,
    runner: &serde_json::Value,
) -> Vec<&'a serde_json::Value> {
    let stage = module_dir(runner_path) + "/";
    let role = runner["service_role"]
        .as_str()
        .and_then(|t| t.strip_prefix("${aws_iam_role.")?.strip_suffix(".arn}"))
        .unwrap_or_default();
    let in_stage = |path: &str| path.strip_prefix(&stage).is_some_and(|f| !f.contains('/'));
    let documents: Vec<&str> = world
        .tf_blocks("resource", "aws_iam_role_policy")
        .filter(|(path, _, b)| {
            in_stage(path) && b["role"].as_str() == Some(&format!("${{aws_iam_role.{role}.id}}"))
        })
        .filter_map(|(_, _, b)| document_name(&b["policy"]))
        .collect();
    world
        .tf_blocks("data", "aws_iam_policy_document")
        .filter(|(path, name, _)| in_stage(path) && documents.contains(name))
        .flat_map(|(_, _, b)| b["statement"].as_array().into_iter().flatten())
        .collect()
}

/// The policy document a `policy` attribute names: `${data.aws_iam_policy_document.NAME.json}`
/// → `NAME`.
fn document_name(policy: &serde_json::Value) -> Option<&str> {
    policy
        .as_str()?
        .strip_prefix("${data.aws_iam_policy_document.")?
        .strip_suffix(".json}")
}

/// Whether a policy statement allows `action` on a resource that `resource` accepts.
fn grants(statement: &serde_json::Value, action: &str, resource: impl Fn(&str) -> bool) -> bool {
    statement["effect"].as_str() != Some("Deny")
        && json_strings(&statement["actions"])
            .iter()
            .any(|a| a == action)
        && json_strings(&statement["resources"])
            .iter()
            .any(|r| resource(r))
}

/// Each tree's Terraform state, as `terraform init` reads the `backend "s3"` block of each
/// stage's `versions.tf`: the two stages keep distinct states in one bucket, the cluster stage
/// reads the first stage's outputs from the state that stage writes, and the runner that
/// applies the cluster stage may read the first stage's state and read and write its own, its
/// lock file and (while the tree names one) its lock table, with the bucket's KMS key when the
/// backend names one. Without these `terraform init`, `plan` or `apply` fails on the runner.
fn state_access(world: &World, out: &mut Vec<String>) {
    for (path, backend) in &world.backends {
        let Some(root) = path.strip_suffix("terraform/cluster/versions.tf") else {
            continue;
        };
        let first = format!("{root}terraform/aws/versions.tf");
        let Some(first_backend) = world.backends.get(&first) else {
            out.push(format!("{path}: an S3 backend, but none in {first}"));
            continue;
        };
        let attr = |b: &'_ BTreeMap<String, String>, k: &str| b.get(k).cloned().unwrap_or_default();
        let bucket = attr(backend, "bucket");
        let (own, theirs) = (attr(backend, "key"), attr(first_backend, "key"));
        if attr(first_backend, "bucket") != bucket || own == theirs || own.is_empty() {
            out.push(format!(
                "{path}: the stages' states are not two keys of one bucket ({bucket}/{own}, {}/{theirs})",
                attr(first_backend, "bucket")
            ));
        }
        if attr(backend, "use_lockfile") != "true" && !backend.contains_key("dynamodb_table") {
            out.push(format!("{path}: the state is not locked"));
        }
        let remote = format!("{root}terraform/cluster/state.tf.json");
        let reads = world
            .tf_blocks("data", "terraform_remote_state")
            .filter(|(p, _, _)| *p == remote)
            .any(|(_, _, b)| {
                b["backend"] == "s3"
                    && b["config"]["bucket"] == bucket.as_str()
                    && b["config"]["key"] == theirs.as_str()
                    && b["config"]["region"] == attr(first_backend, "region").as_str()
            });
        if !reads {
            out.push(format!(
                "{remote}: the cluster stage does not read the state the first stage writes ({bucket}/{theirs})"
            ));
        }
        let runner_file = format!("{root}terraform/aws/runner.tf.json");
        let Some((runner_path, _, runner)) = world
            .tf_blocks("resource", "aws_codebuild_project")
            .find(|(p, _, _)| *p == runner_file)
        else {
            // No runner: the cluster stage is applied by hand, with the user's own access.
            continue;
        };
        let statements = runner_statements(world, runner_path, runner);
        // `(action, what, the end of the resource's ARN)`.
        let object = |key: &str| format!(":s3:::{bucket}/{key}");
        let mut needs: Vec<(&str, String, String)> = vec![
            ("s3:GetObject", theirs.clone(), object(&theirs)),
            ("s3:GetObject", own.clone(), object(&own)),
            ("s3:PutObject", own.clone(), object(&own)),
        ];
        if attr(backend, "use_lockfile") == "true" {
            let lock = format!("{own}.tflock");
            for action in ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] {
                needs.push((action, lock.clone(), object(&lock)));
            }
        }
        if let Some(table) = backend.get("dynamodb_table") {
            for action in [
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
            ] {
                needs.push((action, table.clone(), format!(":table/{table}")));
            }
        }
        if let Some(key) = backend.get("kms_key_id") {
            for action in ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"] {
                needs.push((action, key.clone(), key.clone()));
            }
        }
        for (action, what, end) in &needs {
            let resource = |r: &str| r.starts_with("arn:") && r.ends_with(end.as_str());
            if !statements.iter().any(|st| grants(st, action, resource)) {
                out.push(format!(
                    "{runner_path}: the runner's role may not {action} on {what}, which the cluster stage's backend uses"
                ));
            }
        }
    }
}

/// The values of a JSON object (or the items of an array).
fn json_values(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Array(map.values().cloned().collect()),
        other => other.clone(),
    }
}

/// The strings of a JSON array.
fn json_strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// A cache's coordinates in a workload's env name what Terraform creates: `…_CACHE_NAME` a
/// replication group, `…_CACHE_USER` an IAM user (id and name equal, as IAM authentication
/// requires) in a user group of that replication group.
fn caches(world: &World, out: &mut Vec<String>) {
    let tf_ref = |text: &str| -> Option<String> {
        // `${aws_elasticache_user_group.NAME.user_group_id}` → `NAME`.
        let inner = text.strip_prefix("${")?.strip_suffix('}')?;
        Some(inner.split('.').nth(1)?.to_owned())
    };
    let users: BTreeMap<&str, (&str, &str)> = world
        .tf_blocks("resource", "aws_elasticache_user")
        .map(|(_, name, b)| {
            (
                name,
                (
                    b["user_id"].as_str().unwrap_or_default(),
                    b["user_name"].as_str().unwrap_or_default(),
                ),
            )
        })
        .collect();
    let groups: BTreeMap<&str, Vec<String>> = world
        .tf_blocks("resource", "aws_elasticache_user_group")
        .map(|(_, name, b)| {
            (
                name,
                json_strings(&b["user_ids"])
                    .iter()
                    .filter_map(|u| tf_ref(u))
                    .filter_map(|u| users.get(u.as_str()).map(|(id, _)| (*id).to_owned()))
                    .collect(),
            )
        })
        .collect();
    // Replication group id → the user ids of its user groups.
    let replication_groups: BTreeMap<&str, Vec<String>> = world
        .tf_blocks("resource", "aws_elasticache_replication_group")
        .map(|(_, _, b)| {
            (
                b["replication_group_id"].as_str().unwrap_or_default(),
                json_strings(&b["user_group_ids"])
                    .iter()
                    .filter_map(|g| tf_ref(g))
                    .flat_map(|g| groups.get(g.as_str()).cloned().unwrap_or_default())
                    .collect(),
            )
        })
        .collect();
    for object in world
        .objects
        .iter()
        .filter(|o| matches!(o.kind(), "Deployment" | "Rollout"))
    {
        let spec = &object.value["spec"]["template"]["spec"];
        for container in spec["containers"].as_sequence().into_iter().flatten() {
            let env: BTreeMap<&str, &str> = container["env"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|e| Some((e["name"].as_str()?, e["value"].as_str()?)))
                .collect();
            for (name, group) in &env {
                let Some(prefix) = name.strip_suffix("_CACHE_NAME") else {
                    continue;
                };
                let Some(members) = replication_groups.get(group) else {
                    out.push(format!(
                        "{}: env `{name}` names replication group `{group}`, which Terraform does not create",
                        object.path
                    ));
                    continue;
                };
                let user = env.get(format!("{prefix}_CACHE_USER").as_str()).copied();
                match user {
                    Some(user) if members.iter().any(|m| m == user) => {
                        if !users.values().any(|(id, name)| *id == user && *name == user) {
                            out.push(format!(
                                "{}: cache user `{user}` has a name other than its id, which IAM authentication refuses",
                                object.path
                            ));
                        }
                    }
                    _ => out.push(format!(
                        "{}: env `{prefix}_CACHE_USER` names no user of replication group `{group}`",
                        object.path
                    )),
                }
            }
        }
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// `cluster.local/ns/<ns>/sa/<sa>` → `(ns, sa)`.
fn principal(text: &str) -> Option<(String, String)> {
    let rest = text.strip_prefix("cluster.local/ns/")?;
    let (ns, sa) = rest.split_once("/sa/")?;
    Some((ns.to_owned(), sa.to_owned()))
}

/// Every principal of an `AuthorizationPolicy` names a `ServiceAccount` that exists, some pod
/// runs as it, and the policy's selector picks a pod.
fn principals(world: &World, out: &mut Vec<String>) {
    for policy in world.of_kind("AuthorizationPolicy") {
        let spec = &policy.value["spec"];
        let selector = labels(&spec["selector"]["matchLabels"]);
        if !selector.is_empty()
            && world
                .pods_in(policy.namespace(), &selector)
                .next()
                .is_none()
        {
            out.push(format!(
                "{}: selector {selector:?} picks no pod in `{}`",
                policy.path,
                policy.namespace()
            ));
        }
        for rule in spec["rules"].as_sequence().into_iter().flatten() {
            for from in rule["from"].as_sequence().into_iter().flatten() {
                for p in strings(&from["source"]["principals"]) {
                    let Some((ns, sa)) = principal(&p) else {
                        out.push(format!("{}: `{p}` is not a principal", policy.path));
                        continue;
                    };
                    if !world.accounts.contains(&(ns.clone(), sa.clone())) {
                        out.push(format!(
                            "{}: principal `{p}` names no ServiceAccount",
                            policy.path
                        ));
                    } else if !world
                        .pods
                        .iter()
                        .any(|pod| pod.namespace == ns && pod.service_account == sa)
                    {
                        out.push(format!(
                            "{}: no pod runs as the ServiceAccount of `{p}`",
                            policy.path
                        ));
                    }
                }
            }
        }
    }
}

/// Every `NetworkPolicy` selects a pod, and every pod peer of its rules matches one.
fn network_peers(world: &World, out: &mut Vec<String>) {
    for policy in world.of_kind("NetworkPolicy") {
        let spec = &policy.value["spec"];
        let selector = labels(&spec["podSelector"]["matchLabels"]);
        if !selector.is_empty()
            && world
                .pods_in(policy.namespace(), &selector)
                .next()
                .is_none()
        {
            out.push(format!(
                "{}: podSelector {selector:?} picks no pod",
                policy.path
            ));
        }
        for (direction, key) in [("ingress", "from"), ("egress", "to")] {
            for rule in spec[direction].as_sequence().into_iter().flatten() {
                for peer in rule[key].as_sequence().into_iter().flatten() {
                    if peer["ipBlock"].is_mapping() {
                        continue;
                    }
                    let ns_selector = labels(&peer["namespaceSelector"]["matchLabels"]);
                    let pod_selector = labels(&peer["podSelector"]["matchLabels"]);
                    let any = world.pods.iter().any(|pod| {
                        let ns_ok = if peer["namespaceSelector"].is_mapping() {
                            world
                                .namespaces
                                .get(&pod.namespace)
                                .is_some_and(|l| matches(&ns_selector, l))
                        } else {
                            pod.namespace == policy.namespace()
                        };
                        ns_ok && matches(&pod_selector, &pod.labels)
                    });
                    if !any {
                        out.push(format!(
                            "{}: {direction} peer (namespaces {ns_selector:?}, pods {pod_selector:?}) matches no pod",
                            policy.path
                        ));
                    }
                }
            }
        }
    }
}

/// The pods of a service of the platform (its Deployment's, or its Rollout's).
fn pods_of<'a>(world: &'a World, namespace: &'a str, app: &'a str) -> Vec<&'a Pod> {
    world
        .pods
        .iter()
        .filter(|p| {
            p.namespace == namespace && p.labels.get("app").map(String::as_str) == Some(app)
        })
        .collect()
}

/// The pods that run as a service: its workload's (`app`) and its migration Job's (no `app`, so
/// that no Service sends them traffic), which reach what the workload reaches.
fn service_pods<'a>(world: &'a World, namespace: &'a str, name: &'a str) -> Vec<&'a Pod> {
    let mut pods = pods_of(world, namespace, name);
    pods.extend(world.pods.iter().filter(|p| {
        p.namespace == namespace
            && !p.labels.contains_key("app")
            && p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some(name)
            && p.labels
                .get("app.kubernetes.io/component")
                .map(String::as_str)
                == Some(platc::emit::conventions::MIGRATION_COMPONENT)
    }));
    pods
}

/// For every declared call, the caller's egress and the callee's ingress admit each other on
/// the port the caller dials (the container port behind it).
fn calls(platform: &Platform, world: &World, out: &mut Vec<String>) {
    for caller in &platform.services {
        for call in &caller.calls {
            let Some(callee) = platform.service(&call.service.value) else {
                continue;
            };
            let Some(port) = call
                .port
                .as_ref()
                .and_then(|p| callee.port(&p.value))
                .or_else(|| callee.ports.first())
            else {
                continue;
            };
            let from = pods_of(world, &caller.namespace, &caller.name.value);
            let to = pods_of(world, &callee.namespace, &callee.name.value);
            if from.is_empty() || to.is_empty() {
                out.push(format!(
                    "{} → {}: no pods for one side of the call",
                    caller.name.value, callee.name.value
                ));
                continue;
            }
            for f in &from {
                for t in &to {
                    if !allows(world, f, t, port.container_port(), "TCP") {
                        out.push(format!(
                            "{} → {}:{}: the NetworkPolicies of {} or {} refuse the declared call",
                            caller.name.value,
                            callee.name.value,
                            port.container_port(),
                            f.origin,
                            t.origin
                        ));
                    }
                }
            }
            // A caller without a sidecar dials the Service's cluster IP: the VPC CNI admits
            // that only when the egress peer's pod selector selects the Service's selector.
            if !from.iter().all(|f| f.sidecar) {
                let service = world.service(&callee.namespace, &callee.name.value);
                let ok = service.is_some_and(|svc| {
                    from.iter()
                        .all(|f| egress_selects_service(world, f, &svc.selector, &callee.namespace))
                });
                if !ok {
                    out.push(format!(
                        "{} → {}: no egress peer of the caller selects the callee's Service selector",
                        caller.name.value, callee.name.value
                    ));
                }
            }
        }
    }
}

/// Whether some egress rule of `from` names a peer whose pod selector is satisfied by a
/// Service's selector in `namespace`.
fn egress_selects_service(world: &World, from: &Pod, selector: &Labels, namespace: &str) -> bool {
    world
        .of_kind("NetworkPolicy")
        .filter(|p| p.namespace() == from.namespace)
        .flat_map(|p| {
            p.value["spec"]["egress"]
                .as_sequence()
                .into_iter()
                .flatten()
        })
        .flat_map(|rule| rule["to"].as_sequence().into_iter().flatten())
        .any(|peer| {
            let ns = labels(&peer["namespaceSelector"]["matchLabels"]);
            let ns_ok = ns.is_empty() && from.namespace == namespace
                || ns.get("kubernetes.io/metadata.name").map(String::as_str) == Some(namespace);
            ns_ok && matches(&labels(&peer["podSelector"]["matchLabels"]), selector)
        })
}

/// Every pod of the platform reaches DNS, and every meshed pod reaches istiod's XDS port.
fn dns_and_control_plane(world: &World, out: &mut Vec<String>) {
    let dns_addon = addons::COREDNS;
    let dns: Vec<&Pod> = world
        .pods
        .iter()
        .filter(|p| p.namespace == dns_addon.namespace)
        .filter(|p| {
            matches(
                &dns_addon.workloads[0]
                    .labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                &p.labels,
            )
        })
        .collect();
    let istiod = addon_pods(world, "add-on istiod");
    let prometheus = addon_pods(world, "add-on kube-prometheus-stack (prometheus)");
    for pod in world
        .pods
        .iter()
        .filter(|p| !p.origin.starts_with("add-on"))
    {
        if pod.sidecar
            && !prometheus.is_empty()
            && !prometheus.iter().any(|p| {
                ingress_allows(
                    world,
                    Peer::Pod(p),
                    pod,
                    addons::SIDECAR_METRICS_PORT,
                    "TCP",
                )
            })
        {
            out.push(format!(
                "{}: Prometheus may not scrape its sidecar on {}",
                pod.origin,
                addons::SIDECAR_METRICS_PORT
            ));
        }
        let reaches = |targets: &[&Pod], port: u16, proto: &str| {
            targets
                .iter()
                .any(|t| egress_allows(world, pod, Peer::Pod(t), port, proto))
        };
        if !(reaches(&dns, 53, "UDP") && reaches(&dns, 53, "TCP")) {
            out.push(format!("{}: cannot reach DNS on 53", pod.origin));
        }
        if pod.sidecar && !reaches(&istiod, 15012, "TCP") {
            out.push(format!(
                "{}: its sidecar cannot reach istiod on 15012",
                pod.origin
            ));
        }
    }
}

/// Gateways: the selector picks gateway pods; each TLS server's `credentialName` is the Secret
/// of a Certificate in the gateway pods' namespace; the exposed services admit the gateway.
fn gateways(world: &World, out: &mut Vec<String>) {
    for gateway in world.of_kind("Gateway") {
        let selector = labels(&gateway.value["spec"]["selector"]);
        let pods: Vec<&Pod> = world
            .pods
            .iter()
            .filter(|p| matches(&selector, &p.labels))
            .collect();
        if selector.is_empty() || pods.is_empty() {
            out.push(format!(
                "{}: selector {selector:?} picks no gateway pod",
                gateway.path
            ));
            continue;
        }
        // external-dns points the hosts at the load balancer of the Service whose selector the
        // Gateway's selector matches.
        if !world
            .services
            .iter()
            .any(|s| !s.selector.is_empty() && matches(&selector, &s.selector))
        {
            out.push(format!(
                "{}: no Service's selector matches the Gateway's selector",
                gateway.path
            ));
        }
        for server in gateway.value["spec"]["servers"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let Some(credential) = server["tls"]["credentialName"].as_str() else {
                continue;
            };
            for pod in &pods {
                let has = world.of_kind("Certificate").any(|c| {
                    c.namespace() == pod.namespace
                        && c.value["spec"]["secretName"].as_str() == Some(credential)
                });
                if !has {
                    out.push(format!(
                        "{}: credentialName `{credential}` is no Certificate's Secret in `{}`",
                        gateway.path, pod.namespace
                    ));
                }
            }
        }
    }
}

/// Whether a `Sidecar` of `namespace` lists `host` among its egress hosts, as
/// `<namespace>/<host>` or `./<host>`.
fn sidecar_lists(world: &World, namespace: &str, host: &str) -> bool {
    world
        .of_kind("Sidecar")
        .filter(|s| s.namespace() == namespace)
        .flat_map(|s| {
            s.value["spec"]["egress"]
                .as_sequence()
                .into_iter()
                .flatten()
                .flat_map(|e| strings(&e["hosts"]))
                .collect::<Vec<_>>()
        })
        .any(|h| h == format!("{namespace}/{host}") || h == format!("./{host}"))
}

/// End-user authentication: a `RequestAuthentication` picks pods (the gateway's); every
/// issuer a policy requires a token of (`notRequestPrincipals: ["<issuer>/*"]`) is checked by a
/// `RequestAuthentication` on the same pods, else no token could ever satisfy it; every host a
/// policy names is a route's host.
fn end_user_auth(world: &World, out: &mut Vec<String>) {
    let mut issuers: Vec<(String, Labels, String)> = Vec::new();
    for auth in world.of_kind("RequestAuthentication") {
        let selector = labels(&auth.value["spec"]["selector"]["matchLabels"]);
        if selector.is_empty() || world.pods_in(auth.namespace(), &selector).next().is_none() {
            out.push(format!(
                "{}: selector {selector:?} picks no pod in `{}`",
                auth.path,
                auth.namespace()
            ));
        }
        for rule in auth.value["spec"]["jwtRules"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            if let Some(issuer) = rule["issuer"].as_str() {
                issuers.push((
                    auth.namespace().to_owned(),
                    selector.clone(),
                    issuer.to_owned(),
                ));
            }
        }
    }
    let route_hosts: BTreeSet<String> = world
        .of_kind("VirtualService")
        .flat_map(|vs| strings(&vs.value["spec"]["hosts"]))
        .collect();
    for policy in world.of_kind("AuthorizationPolicy") {
        let spec = &policy.value["spec"];
        let selector = labels(&spec["selector"]["matchLabels"]);
        for rule in spec["rules"].as_sequence().into_iter().flatten() {
            for from in rule["from"].as_sequence().into_iter().flatten() {
                for p in strings(&from["source"]["notRequestPrincipals"]) {
                    let issuer = p.strip_suffix("/*").unwrap_or(&p);
                    if !issuers.iter().any(|(ns, s, i)| {
                        ns == policy.namespace() && i == issuer && matches(s, &selector)
                    }) {
                        out.push(format!(
                            "{}: issuer `{issuer}` is checked by no RequestAuthentication on the same pods",
                            policy.path
                        ));
                    }
                }
            }
            if spec["action"].as_str() == Some("DENY") {
                for to in rule["to"].as_sequence().into_iter().flatten() {
                    for host in strings(&to["operation"]["hosts"]) {
                        let bare = host.strip_suffix(":*").unwrap_or(&host);
                        if !route_hosts.contains(bare) {
                            out.push(format!("{}: host `{host}` is no route's host", policy.path));
                        }
                    }
                }
            }
        }
    }
}

/// Whether an `AuthorizationPolicy` path (`exact`, `prefix*`, `*suffix`, `*`) holds `path`.
fn policy_path_matches(pattern: &str, path: &str) -> bool {
    if pattern == "*" {
        true
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        path.starts_with(prefix)
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        path.ends_with(suffix)
    } else {
        pattern == path
    }
}

/// Whether a `VirtualService` `uri` match holds `path` (a regex matches the whole path).
fn uri_matches(uri: &Value, path: &str) -> bool {
    if let Some(exact) = uri["exact"].as_str() {
        exact == path
    } else if let Some(prefix) = uri["prefix"].as_str() {
        path.starts_with(prefix)
    } else if let Some(re) = uri["regex"].as_str() {
        regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| r.is_match(path))
    } else {
        true
    }
}

/// What a request must carry at the gateway: `("issuer", iss)` and `("claim", key)`.
type Auth = BTreeSet<(String, String)>;

/// Every host–path pair of the ingress: the DENY rules of the gateway's JWT policies that
/// hold a request (issuers and claim keys) are exactly those of the `expose` line whose route
/// Envoy picks for it, the first of the host's `VirtualService` whose match holds. The paths
/// tried are each route's own: an exact path, a prefix and a path under it.
fn route_auth(platform: &Platform, world: &World, out: &mut Vec<String>) {
    let Some(mesh) = &platform.mesh else { return };
    for vs in world.of_kind("VirtualService") {
        let spec = &vs.value["spec"];
        let gateways = strings(&spec["gateways"]);
        let Some(gateway) = gateways.iter().find_map(|g| {
            let (ns, name) = g.split_once('/')?;
            world
                .of_kind("Gateway")
                .find(|o| o.namespace() == ns && o.name() == name)
        }) else {
            continue;
        };
        let gateway_labels = labels(&gateway.value["spec"]["selector"]);
        let policies: Vec<&Value> = world
            .of_kind("AuthorizationPolicy")
            .filter(|p| p.namespace() == gateway.namespace())
            .filter(|p| p.value["spec"]["action"].as_str() == Some("DENY"))
            .filter(|p| {
                let selector = labels(&p.value["spec"]["selector"]["matchLabels"]);
                world
                    .pods_in(gateway.namespace(), &selector)
                    .any(|pod| matches(&gateway_labels, &pod.labels))
            })
            .map(|p| &p.value)
            .collect();
        let routes: Vec<&Value> = spec["http"].as_sequence().into_iter().flatten().collect();
        for host in strings(&spec["hosts"]) {
            // The `expose` line behind each route, by host, match and path.
            let expected = |route: &Value| -> Option<Auth> {
                let uri = &route["match"][0]["uri"];
                let (kind, path) = ["exact", "prefix", "regex"]
                    .into_iter()
                    .find_map(|k| uri[k].as_str().map(|p| (k, p)))?;
                let expose = platform.services.iter().flat_map(|s| &s.expose).find(|e| {
                    platc::emit::conventions::expose_host(platform, e).as_deref()
                        == Some(host.as_str())
                        && e.path.value == path
                        && e.r#match.value.as_str() == kind
                })?;
                let mut auth = Auth::new();
                if let Some(jwt) = &expose.jwt
                    && let Some(issuer) = mesh.jwts.iter().find(|j| j.name.value == jwt.value)
                {
                    auth.insert(("issuer".into(), issuer.issuer.value.clone()));
                    for (key, _) in &expose.claims {
                        auth.insert(("claim".into(), key.value.clone()));
                    }
                }
                Some(auth)
            };
            let effective = |path: &str| -> Auth {
                let mut auth = Auth::new();
                for policy in &policies {
                    for rule in policy["spec"]["rules"].as_sequence().into_iter().flatten() {
                        let holds = rule["to"].as_sequence().into_iter().flatten().any(|to| {
                            let op = &to["operation"];
                            let hosts = strings(&op["hosts"]);
                            (hosts.is_empty()
                                || hosts
                                    .iter()
                                    .any(|h| h == &host || *h == format!("{host}:*")))
                                && strings(&op["paths"])
                                    .iter()
                                    .any(|p| policy_path_matches(p, path))
                                && !strings(&op["notPaths"])
                                    .iter()
                                    .any(|p| policy_path_matches(p, path))
                        });
                        if !holds {
                            continue;
                        }
                        for from in rule["from"].as_sequence().into_iter().flatten() {
                            for p in strings(&from["source"]["notRequestPrincipals"]) {
                                let issuer = p.strip_suffix("/*").unwrap_or(&p);
                                auth.insert(("issuer".into(), issuer.to_owned()));
                            }
                        }
                        for when in rule["when"].as_sequence().into_iter().flatten() {
                            let key = when["key"].as_str().unwrap_or_default();
                            if let Some(claim) = key
                                .strip_prefix("request.auth.claims[")
                                .and_then(|k| k.strip_suffix(']'))
                            {
                                auth.insert(("claim".into(), claim.to_owned()));
                            }
                        }
                    }
                }
                auth
            };
            let mut samples: Vec<String> = Vec::new();
            let mut bare_paths: Vec<(String, String)> = Vec::new();
            for route in &routes {
                let uri = &route["match"][0]["uri"];
                if let Some(exact) = uri["exact"].as_str() {
                    samples.push(exact.to_owned());
                } else if let Some(prefix) = uri["prefix"].as_str() {
                    samples.push(prefix.to_owned());
                    samples.push(format!("{prefix}platc-probe"));
                    // The bare path (`/api/admin` of `/api/admin/`) belongs to the prefix's
                    // own route, not to a shorter prefix with another token or rewrite.
                    if let Some(bare) = prefix.strip_suffix('/').filter(|b| !b.is_empty()) {
                        bare_paths.push((bare.to_owned(), prefix.to_owned()));
                        samples.push(bare.to_owned());
                    }
                }
            }
            let first_route = |path: &str| {
                routes.iter().find(|r| {
                    r["match"]
                        .as_sequence()
                        .into_iter()
                        .flatten()
                        .any(|m| uri_matches(&m["uri"], path))
                })
            };
            for (bare, prefix) in &bare_paths {
                let owner = |path: &str| first_route(path).map(|r| r["match"][0]["uri"].clone());
                if owner(bare) != owner(prefix) {
                    out.push(format!(
                        "{}: `{host}{bare}` goes to another route than `{host}{prefix}`",
                        vs.path
                    ));
                }
            }
            for path in samples {
                let Some(route) = first_route(&path) else {
                    continue;
                };
                let Some(want) = expected(route) else {
                    out.push(format!(
                        "{}: the route for `{host}{path}` is no `expose` line's",
                        vs.path
                    ));
                    continue;
                };
                let got = effective(&path);
                if got != want {
                    out.push(format!(
                        "{}: `{host}{path}` goes to the route requiring {want:?}, but the gateway's DENY policies require {got:?}",
                        vs.path
                    ));
                }
            }
        }
    }
}

/// `<name>.<ns>.svc.cluster.local` (or shorter) → `(ns, name)`.
fn service_host(host: &str) -> Option<(String, String)> {
    let host = host.trim_end_matches('.');
    let mut parts = host.split('.');
    let name = parts.next()?;
    let ns = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() || rest == ["svc"] || rest == ["svc", "cluster", "local"] {
        Some((ns.to_owned(), name.to_owned()))
    } else {
        None
    }
}

/// Routes: every destination host is a Service with that port, every subset exists in the
/// host's `DestinationRule` and picks pods, every gateway a route binds to exists and serves
/// the route's host for the route's namespace, and the gateway pods reach the exposed pods.
fn routes(world: &World, out: &mut Vec<String>) {
    let subsets: BTreeMap<(String, String), Labels> = world
        .of_kind("DestinationRule")
        .flat_map(|dr| {
            let host = dr.value["spec"]["host"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            dr.value["spec"]["subsets"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |s| {
                    (
                        (
                            host.clone(),
                            s["name"].as_str().unwrap_or_default().to_owned(),
                        ),
                        labels(&s["labels"]),
                    )
                })
        })
        .collect();
    for dr in world.of_kind("DestinationRule") {
        let host = dr.value["spec"]["host"].as_str().unwrap_or_default();
        if service_host(host).is_none_or(|(ns, name)| world.service(&ns, &name).is_none()) {
            out.push(format!("{}: host `{host}` is no Service", dr.path));
        }
    }
    for vs in world.of_kind("VirtualService") {
        let spec = &vs.value["spec"];
        for gateway in strings(&spec["gateways"]) {
            if gateway == "mesh" {
                continue;
            }
            let (ns, name) = gateway
                .split_once('/')
                .map_or((vs.namespace().to_owned(), gateway.clone()), |(n, g)| {
                    (n.to_owned(), g.to_owned())
                });
            let Some(gw) = world
                .of_kind("Gateway")
                .find(|g| g.namespace() == ns && g.name() == name)
            else {
                out.push(format!("{}: gateway `{gateway}` does not exist", vs.path));
                continue;
            };
            // Every server binds the host (an HTTP server that only redirects sends the
            // request on to the HTTPS one, which must serve it too).
            let servers: Vec<BTreeSet<String>> = gw.value["spec"]["servers"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|s| strings(&s["hosts"]).into_iter().collect())
                .collect();
            // The egress gateway serves each outside host on a server of its own.
            let egress = labels(&gw.value["spec"]["selector"])
                == addons::EGRESS_GATEWAY.workloads[0]
                    .labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<Labels>();
            for host in strings(&spec["hosts"]) {
                let binds = |bound: &BTreeSet<String>| {
                    bound.contains(&format!("{}/{host}", vs.namespace()))
                        || bound.contains(&format!("*/{host}"))
                };
                let unbound = if egress {
                    !servers.iter().any(binds)
                } else {
                    servers.iter().any(|bound| !binds(bound))
                };
                if servers.is_empty() || unbound {
                    out.push(format!(
                        "{}: gateway `{gateway}` does not serve `{host}` to namespace `{}`",
                        vs.path,
                        vs.namespace()
                    ));
                }
            }
        }
        let from_gateway = strings(&spec["gateways"]).iter().any(|g| g != "mesh");
        // Routes of the mesh and the egress gateway to the outside are resolved by `egress`.
        if strings(&spec["hosts"])
            .iter()
            .all(|h| outside_entry(world, vs.namespace(), h))
        {
            continue;
        }
        for kind in ["http", "tls"] {
            for route in spec[kind].as_sequence().into_iter().flatten() {
                for dest in route["route"].as_sequence().into_iter().flatten() {
                    let d = &dest["destination"];
                    let host = d["host"].as_str().unwrap_or_default();
                    let Some((ns, name)) = service_host(host) else {
                        out.push(format!("{}: destination `{host}` is no Service", vs.path));
                        continue;
                    };
                    let Some(svc) = world.service(&ns, &name) else {
                        out.push(format!("{}: destination `{host}` is no Service", vs.path));
                        continue;
                    };
                    let port = d["port"]["number"].as_u64().unwrap_or(0);
                    let Some((_, _, target)) =
                        svc.ports.iter().find(|(_, p, _)| u64::from(*p) == port)
                    else {
                        out.push(format!("{}: Service `{host}` has no port {port}", vs.path));
                        continue;
                    };
                    let mut selector = svc.selector.clone();
                    if let Some(subset) = d["subset"].as_str() {
                        let Some(subset_labels) =
                            subsets.get(&(host.to_owned(), subset.to_owned()))
                        else {
                            out.push(format!(
                                "{}: subset `{subset}` of `{host}` is in no DestinationRule",
                                vs.path
                            ));
                            continue;
                        };
                        selector.extend(subset_labels.clone());
                    }
                    let pods: Vec<&Pod> = world.pods_in(&ns, &selector).collect();
                    if pods.is_empty() {
                        out.push(format!(
                            "{}: `{host}` ({selector:?}) has no pod behind it",
                            vs.path
                        ));
                    }
                    let container_port = target
                        .as_u64()
                        .and_then(|p| u16::try_from(p).ok())
                        .unwrap_or(0);
                    if from_gateway {
                        let gateway_pods: Vec<&Pod> = world
                            .pods
                            .iter()
                            .filter(|p| p.origin.starts_with("add-on istio-ingressgateway"))
                            .collect();
                        for t in &pods {
                            if !gateway_pods
                                .iter()
                                .any(|g| allows(world, g, t, container_port, "TCP"))
                            {
                                out.push(format!(
                                    "{}: the ingress gateway may not reach {} on {container_port}",
                                    vs.path, t.origin
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Versioned subsets: where a subset picks pods by a `version` label, each subset picks the pods of exactly one
/// workload, no two subsets of a host share a workload, and every weighted split of a route
/// adds up to 100 (Istio refuses anything else).
fn subsets(world: &World, out: &mut Vec<String>) {
    for dr in world.of_kind("DestinationRule") {
        let host = dr.value["spec"]["host"].as_str().unwrap_or_default();
        let Some(svc) = service_host(host).and_then(|(ns, name)| world.service(&ns, &name)) else {
            continue;
        };
        let all: Vec<&Value> = dr.value["spec"]["subsets"]
            .as_sequence()
            .into_iter()
            .flatten()
            .collect();
        // A canary's subsets pick their pods by the hash Argo Rollouts adds; versions by label.
        if !all
            .iter()
            .any(|s| labels(&s["labels"]).contains_key("version"))
        {
            continue;
        }
        let mut owners: BTreeMap<String, String> = BTreeMap::new();
        for subset in all {
            let labels = labels(&subset["labels"]);
            let name = subset["name"].as_str().unwrap_or_default();
            let mut selector = svc.selector.clone();
            selector.extend(labels);
            let workloads: BTreeSet<&str> = world
                .pods_in(&svc.namespace, &selector)
                .map(|p| p.origin.as_str())
                .collect();
            if workloads.len() != 1 {
                out.push(format!(
                    "{}: subset `{name}` picks the pods of {} workloads ({workloads:?}), not one",
                    dr.path,
                    workloads.len()
                ));
            }
            for workload in workloads {
                if let Some(other) = owners.insert(workload.to_owned(), name.to_owned()) {
                    out.push(format!(
                        "{}: subsets `{other}` and `{name}` both pick the pods of {workload}",
                        dr.path
                    ));
                }
            }
        }
    }
    for vs in world.of_kind("VirtualService") {
        for route in vs.value["spec"]["http"].as_sequence().into_iter().flatten() {
            let weights: Vec<u64> = route["route"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|d| d["weight"].as_u64())
                .collect();
            let sum: u64 = weights.iter().sum();
            if !weights.is_empty() && sum != 100 {
                out.push(format!(
                    "{}: route `{}` splits {sum}% of its requests, not 100%",
                    vs.path,
                    route["name"].as_str().unwrap_or_default()
                ));
            }
        }
    }
}

/// `HorizontalPodAutoscaler`s scale a workload that exists; `PodDisruptionBudget`s pick pods.
fn scaling(world: &World, out: &mut Vec<String>) {
    for hpa in world.of_kind("HorizontalPodAutoscaler") {
        let target = &hpa.value["spec"]["scaleTargetRef"];
        let kind = target["kind"].as_str().unwrap_or_default();
        let name = target["name"].as_str().unwrap_or_default();
        if !world
            .of_kind(kind)
            .any(|o| o.name() == name && o.namespace() == hpa.namespace())
        {
            out.push(format!(
                "{}: scales `{kind}/{name}`, which does not exist",
                hpa.path
            ));
        }
    }
    for pdb in world.of_kind("PodDisruptionBudget") {
        let selector = labels(&pdb.value["spec"]["selector"]["matchLabels"]);
        if world.pods_in(pdb.namespace(), &selector).next().is_none() {
            out.push(format!("{}: selector {selector:?} picks no pod", pdb.path));
        }
    }
}

/// The pods of an add-on's workload, by the origin the world gives them.
fn addon_pods<'a>(world: &'a World, origin: &str) -> Vec<&'a Pod> {
    world
        .pods
        .iter()
        .filter(|p| p.origin.starts_with(origin))
        .collect()
}

/// Monitors and rules: where platc installs kube-prometheus-stack, each carries the labels its
/// Prometheus is pinned to select (in every namespace); every `PodMonitor` namespace holds pods
/// its selector picks; every `ServiceMonitor` namespace a Service its selector picks, with the
/// named port; and Prometheus (the add-on) runs in the monitors' namespace.
fn monitors(world: &World, out: &mut Vec<String>) {
    if let Some(values) = world.addon_values.get("kube-prometheus-stack") {
        // EKS runs these out of reach (kube-proxy serves metrics on the node's loopback): a
        // monitor of them finds no target, and the chart's `Kube…Down` alerts fire at once.
        for component in [
            "kubeControllerManager",
            "kubeScheduler",
            "kubeEtcd",
            "kubeProxy",
        ] {
            if values[component]["enabled"].as_bool() != Some(false) {
                out.push(format!(
                    "add-on kube-prometheus-stack: {component} is scraped, which EKS does not expose"
                ));
            }
        }
        let spec = &values["prometheus"]["prometheusSpec"];
        for (kind, selector, namespaces) in [
            (
                "ServiceMonitor",
                "serviceMonitorSelector",
                "serviceMonitorNamespaceSelector",
            ),
            (
                "PodMonitor",
                "podMonitorSelector",
                "podMonitorNamespaceSelector",
            ),
            ("PrometheusRule", "ruleSelector", "ruleNamespaceSelector"),
        ] {
            let wanted = spec[selector]["matchLabels"].as_object();
            let every_namespace = spec[namespaces]
                .as_object()
                .is_some_and(serde_json::Map::is_empty);
            for object in world.of_kind(kind) {
                let have = labels(&object.value["metadata"]["labels"]);
                let selected = wanted.is_some_and(|w| {
                    w.iter()
                        .all(|(k, v)| have.get(k).map(String::as_str) == v.as_str())
                });
                if !selected || !every_namespace {
                    out.push(format!(
                        "{}: the stack's Prometheus does not select it ({selector} {:?}, {namespaces} {})",
                        object.path, wanted, spec[namespaces]
                    ));
                }
            }
        }
    }
    // The named ports of a monitor's endpoints.
    let endpoint_ports = |endpoints: &Value| -> Vec<String> {
        endpoints
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|e| e["port"].as_str().map(str::to_owned))
            .collect()
    };
    for monitor in world.of_kind("ServiceMonitor") {
        let spec = &monitor.value["spec"];
        let selector = labels(&spec["selector"]["matchLabels"]);
        let ports = endpoint_ports(&spec["endpoints"]);
        for ns in strings(&spec["namespaceSelector"]["matchNames"]) {
            let found = world.services.iter().any(|svc| {
                svc.namespace == ns
                    && matches(&selector, &svc.selector)
                    && ports
                        .iter()
                        .all(|port| svc.ports.iter().any(|(name, _, _)| name == port))
            });
            if !found {
                out.push(format!(
                    "{}: no Service of `{ns}` matches {selector:?} with ports {ports:?}",
                    monitor.path
                ));
            }
        }
    }
    let prometheus = addon_pods(world, "add-on kube-prometheus-stack (prometheus)");
    for monitor in world.of_kind("PodMonitor") {
        let spec = &monitor.value["spec"];
        let selector = labels(&spec["selector"]["matchLabels"]);
        let ports = endpoint_ports(&spec["podMetricsEndpoints"]);
        // A port the relabelings point `__address__` at (`$1:15020`: the sidecar's metrics).
        let relabelled: Vec<u16> = spec["podMetricsEndpoints"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|e| e["relabelings"].as_sequence().into_iter().flatten())
            .filter(|r| r["targetLabel"].as_str() == Some("__address__"))
            .filter_map(|r| r["replacement"].as_str()?.strip_prefix("$1:")?.parse().ok())
            .collect();
        for ns in strings(&spec["namespaceSelector"]["matchNames"]) {
            if world.pods_in(&ns, &selector).next().is_none() {
                out.push(format!(
                    "{}: no pod of `{ns}` matches {selector:?}",
                    monitor.path
                ));
            }
            for pod in world.pods_in(&ns, &selector) {
                for number in &relabelled {
                    if !prometheus.is_empty()
                        && !prometheus
                            .iter()
                            .any(|p| ingress_allows(world, Peer::Pod(p), pod, *number, "TCP"))
                    {
                        out.push(format!(
                            "{}: Prometheus may not scrape {} on {number}",
                            monitor.path, pod.origin
                        ));
                    }
                }
            }
            // A named port: every pod has it, and Prometheus may reach it there.
            for pod in world.pods_in(&ns, &selector) {
                for port in &ports {
                    match pod.ports.iter().find(|(name, _)| name == port) {
                        None => out.push(format!(
                            "{}: {} has no port `{port}`",
                            monitor.path, pod.origin
                        )),
                        Some((_, number)) => {
                            if !prometheus.is_empty()
                                && !prometheus.iter().any(|p| {
                                    ingress_allows(world, Peer::Pod(p), pod, *number, "TCP")
                                })
                            {
                                out.push(format!(
                                    "{}: Prometheus may not scrape {} on {number}",
                                    monitor.path, pod.origin
                                ));
                            }
                        }
                    }
                }
            }
        }
        if !world
            .pods
            .iter()
            .any(|p| p.namespace == monitor.namespace() && p.origin.contains("(prometheus)"))
        {
            out.push(format!(
                "{}: no Prometheus runs in `{}`",
                monitor.path,
                monitor.namespace()
            ));
        }
    }
}

/// The `StorageClass`es of the tree: those the Terraform cluster stage makes, and the objects.
fn storage_classes(world: &World) -> BTreeSet<String> {
    world
        .tf_blocks("resource", "kubernetes_storage_class_v1")
        .filter_map(|(_, _, b)| b["metadata"]["name"].as_str().map(str::to_owned))
        .chain(world.of_kind("StorageClass").map(|c| c.name().to_owned()))
        .collect()
}

/// `StatefulSet`s: `serviceName` names a headless Service of their namespace that selects their
/// pods; every claim template's `StorageClass` exists, and an EBS one has the EBS CSI driver
/// where the tree makes the cluster; every volume mount names a volume or a claim template.
fn stateful_sets(world: &World, out: &mut Vec<String>) {
    let classes = storage_classes(world);
    let ebs_driver = world
        .tf_blocks("resource", "aws_eks_addon")
        .any(|(_, _, b)| b["addon_name"].as_str() == Some("aws-ebs-csi-driver"));
    let makes_cluster = world
        .tf_blocks("resource", "aws_eks_cluster")
        .next()
        .is_some();
    for class in world.of_kind("StorageClass") {
        if class.value["provisioner"].as_str() == Some("ebs.csi.aws.com")
            && makes_cluster
            && !ebs_driver
        {
            out.push(format!(
                "{}: provisioned by ebs.csi.aws.com, but the cluster has no EBS CSI driver add-on",
                class.path
            ));
        }
    }
    for set in world.of_kind("StatefulSet") {
        let spec = &set.value["spec"];
        let pods = labels(&spec["template"]["metadata"]["labels"]);
        let name = spec["serviceName"].as_str().unwrap_or_default();
        let headless = world.of_kind("Service").find(|s| {
            s.namespace() == set.namespace()
                && s.name() == name
                && s.value["spec"]["clusterIP"].as_str() == Some("None")
        });
        match headless {
            None => out.push(format!(
                "{}: serviceName `{name}` names no headless Service in `{}`",
                set.path,
                set.namespace()
            )),
            Some(svc) => {
                let selector = labels(&svc.value["spec"]["selector"]);
                if selector.is_empty() || !matches(&selector, &pods) {
                    out.push(format!(
                        "{}: headless Service `{name}` does not select its pods",
                        set.path
                    ));
                }
            }
        }
        let templates: Vec<&Value> = spec["volumeClaimTemplates"]
            .as_sequence()
            .into_iter()
            .flatten()
            .collect();
        for template in &templates {
            let class = template["spec"]["storageClassName"]
                .as_str()
                .unwrap_or_default();
            if !classes.contains(class) {
                out.push(format!(
                    "{}: claim template `{}` uses StorageClass `{class}`, which does not exist",
                    set.path,
                    template["metadata"]["name"].as_str().unwrap_or_default()
                ));
            }
        }
        let volumes: BTreeSet<&str> = spec["template"]["spec"]["volumes"]
            .as_sequence()
            .into_iter()
            .flatten()
            .chain(templates.iter().copied().map(|t| &t["metadata"]))
            .filter_map(|v| v["name"].as_str())
            .collect();
        for container in spec["template"]["spec"]["containers"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            for mount in container["volumeMounts"]
                .as_sequence()
                .into_iter()
                .flatten()
            {
                let mounted = mount["name"].as_str().unwrap_or_default();
                if !volumes.contains(mounted) {
                    out.push(format!(
                        "{}: mounts `{mounted}`, which is no volume nor claim template",
                        set.path
                    ));
                }
            }
        }
    }
}

/// Whether an ALLOW `AuthorizationPolicy` of `to`'s namespace that selects `to` admits
/// `principal` on `port` (a rule without `from` or `to` admits every source or port).
fn authorization_admits(world: &World, to: &Pod, principal: &str, port: u16) -> bool {
    world
        .of_kind("AuthorizationPolicy")
        .filter(|p| p.namespace() == to.namespace)
        .filter(|p| matches!(p.value["spec"]["action"].as_str(), None | Some("ALLOW")))
        .filter(|p| {
            matches(
                &labels(&p.value["spec"]["selector"]["matchLabels"]),
                &to.labels,
            )
        })
        .flat_map(|p| p.value["spec"]["rules"].as_sequence().into_iter().flatten())
        .any(|rule| {
            let froms: Vec<&Value> = rule["from"].as_sequence().into_iter().flatten().collect();
            let tos: Vec<&Value> = rule["to"].as_sequence().into_iter().flatten().collect();
            let source_ok = froms.is_empty()
                || froms.iter().any(|f| {
                    strings(&f["source"]["principals"])
                        .iter()
                        .any(|p| p == "*" || p == principal)
                });
            let port_ok = tos.is_empty()
                || tos.iter().any(|t| {
                    strings(&t["operation"]["ports"])
                        .iter()
                        .any(|p| *p == port.to_string())
                });
            source_ok && port_ok
        })
}

/// `stateful { peers … }`: every replica reaches every other on each peer port through both
/// pods' `NetworkPolicies` and the callee's `AuthorizationPolicy` (its own principal), the
/// headless Service publishes the pods before they are ready, and the namespace's `Sidecar`
/// lists the headless host the peers dial.
fn stateful_peers(platform: &Platform, world: &World, out: &mut Vec<String>) {
    for service in &platform.services {
        let Some(peers) = service.stateful.as_ref().and_then(|s| s.peers.as_ref()) else {
            continue;
        };
        let name = &service.name.value;
        let pods = pods_of(world, &service.namespace, name);
        if pods.is_empty() {
            out.push(format!("{name} peers: no pods"));
        }
        for port_name in &peers.ports {
            let Some(port) = service.port(&port_name.value) else {
                continue;
            };
            let number = port.container_port();
            for from in &pods {
                for to in &pods {
                    if !allows(world, from, to, number, "TCP") {
                        out.push(format!(
                            "{name} peers on {number}: the NetworkPolicies of {} refuse the replicas",
                            to.origin
                        ));
                    }
                    let principal = format!(
                        "cluster.local/ns/{}/sa/{}",
                        from.namespace, from.service_account
                    );
                    if to.sidecar && !authorization_admits(world, to, &principal, number) {
                        out.push(format!(
                            "{name} peers on {number}: no AuthorizationPolicy admits `{principal}` to {}",
                            to.origin
                        ));
                    }
                }
            }
        }
        let headless = format!("{name}-headless");
        let published = world.of_kind("Service").any(|s| {
            s.namespace() == service.namespace
                && s.name() == headless
                && s.value["spec"]["publishNotReadyAddresses"].as_bool() == Some(true)
        });
        if !published {
            out.push(format!(
                "{name} peers: the headless Service `{headless}` does not publish pods that are not ready"
            ));
        }
        if pods.iter().any(|p| p.sidecar) {
            let host = format!(
                "{}/{headless}.{}.svc.cluster.local",
                service.namespace, service.namespace
            );
            let listed = sidecar_lists(
                world,
                &service.namespace,
                &format!("{headless}.{}.svc.cluster.local", service.namespace),
            );
            if !listed {
                out.push(format!(
                    "{name} peers: the namespace's Sidecar does not list `{host}`"
                ));
            }
        }
    }
}

/// Workloads: their `ServiceAccount` exists, their claims and `ConfigMap`s exist; Services pick
/// pods that listen on the target port.
fn workloads(world: &World, out: &mut Vec<String>) {
    let claims: BTreeSet<(String, String)> = world
        .of_kind("PersistentVolumeClaim")
        .map(|c| (c.namespace().to_owned(), c.name().to_owned()))
        .collect();
    let tf_config_maps: BTreeSet<(String, String, String)> = world
        .tf_blocks("resource", "kubernetes_config_map_v1")
        .flat_map(|(_, _, body)| {
            let ns = body["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let name = body["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            body["data"]
                .as_object()
                .into_iter()
                .flatten()
                .map(move |(k, _)| (ns.clone(), name.clone(), k.clone()))
        })
        .collect();
    let storage_classes = storage_classes(world);
    for object in world
        .objects
        .iter()
        .filter(|o| matches!(o.kind(), "Deployment" | "Job" | "StatefulSet"))
    {
        let spec = &object.value["spec"]["template"]["spec"];
        let sa = spec["serviceAccountName"].as_str().unwrap_or("default");
        if !world
            .accounts
            .contains(&(object.namespace().to_owned(), sa.to_owned()))
        {
            out.push(format!(
                "{}: ServiceAccount `{sa}` does not exist",
                object.path
            ));
        }
        for volume in spec["volumes"].as_sequence().into_iter().flatten() {
            if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str()
                && !claims.contains(&(object.namespace().to_owned(), claim.to_owned()))
            {
                out.push(format!("{}: claim `{claim}` does not exist", object.path));
            }
        }
        let containers = spec["containers"].as_sequence().into_iter().flatten();
        let inits = spec["initContainers"].as_sequence().into_iter().flatten();
        for container in containers.chain(inits) {
            // The kubelet expands `$(VAR)` only for a variable set before it in the list;
            // any other stays as written, and the application reads `$(VAR)` as its value.
            let mut before: BTreeSet<&str> = BTreeSet::new();
            for env in container["env"].as_sequence().into_iter().flatten() {
                let name = env["name"].as_str().unwrap_or_default();
                for var in expanded(env["value"].as_str().unwrap_or_default()) {
                    if !before.contains(var) {
                        out.push(format!(
                            "{}: env `{name}` expands `$({var})`, which is not set before it",
                            object.path
                        ));
                    }
                }
                before.insert(name);
                let r = &env["valueFrom"]["configMapKeyRef"];
                if r.is_mapping() {
                    let key = (
                        object.namespace().to_owned(),
                        r["name"].as_str().unwrap_or_default().to_owned(),
                        r["key"].as_str().unwrap_or_default().to_owned(),
                    );
                    if !tf_config_maps.contains(&key) {
                        out.push(format!(
                            "{}: env `{}` reads ConfigMap key {key:?}, which nothing writes",
                            object.path,
                            env["name"].as_str().unwrap_or_default()
                        ));
                    }
                }
            }
        }
    }
    for claim in world.of_kind("PersistentVolumeClaim") {
        let class = claim.value["spec"]["storageClassName"]
            .as_str()
            .unwrap_or_default();
        if !storage_classes.contains(class) {
            out.push(format!(
                "{}: StorageClass `{class}` does not exist",
                claim.path
            ));
        }
    }
    for svc in world
        .services
        .iter()
        .filter(|s| !s.origin.starts_with("add-on"))
    {
        let pods: Vec<&Pod> = world.pods_in(&svc.namespace, &svc.selector).collect();
        if pods.is_empty() {
            out.push(format!(
                "{}: selector {:?} picks no pod",
                svc.origin, svc.selector
            ));
            continue;
        }
        for (name, _, target) in &svc.ports {
            for pod in &pods {
                let listens = match target {
                    Value::Number(n) => pod
                        .ports
                        .iter()
                        .any(|(_, p)| Some(u64::from(*p)) == n.as_u64()),
                    Value::String(s) => pod.ports.iter().any(|(n, _)| n == s),
                    _ => false,
                };
                if !listens {
                    out.push(format!(
                        "{}: port `{name}` targets {target:?}, which {} does not listen on",
                        svc.origin, pod.origin
                    ));
                }
            }
        }
    }
}

/// The variables a kubelet env value refers to as `$(VAR)` (`$$` is a literal `$`).
fn expanded(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        let after = &rest[i + 1..];
        if let Some(escaped) = after.strip_prefix('$') {
            rest = escaped;
        } else if let Some(open) = after.strip_prefix('(')
            && let Some(end) = open.find(')')
        {
            out.push(&open[..end]);
            rest = &open[end + 1..];
        } else {
            rest = after;
        }
    }
    out
}

/// The ARNs the role bound to each `(namespace, ServiceAccount)` may read secrets at.
fn secret_grants(world: &World) -> BTreeMap<(String, String), Vec<String>> {
    let documents = world.tf_named("data", "aws_iam_policy_document");
    // A secret platc makes (a password user's): its ARN ends in its name and six characters.
    let made: BTreeMap<String, String> = world
        .tf_blocks("resource", "aws_secretsmanager_secret")
        .filter_map(|(_, id, body)| {
            Some((
                format!("${{aws_secretsmanager_secret.{id}.arn}}"),
                format!(":secret:{}-??????", body["name"].as_str()?),
            ))
        })
        .collect();
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (_, id, body) in world.tf_blocks("resource", "aws_eks_pod_identity_association") {
        let key = (
            body["namespace"].as_str().unwrap_or_default().to_owned(),
            body["service_account"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
        let Some(document) = documents.get(id) else {
            continue;
        };
        for statement in document["statement"].as_array().into_iter().flatten() {
            let reads = statement["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| {
                    matches!(
                        a.as_str(),
                        Some("secretsmanager:GetSecretValue" | "ssm:GetParameters")
                    )
                });
            if reads {
                out.entry(key.clone()).or_default().extend(
                    statement["resources"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r.as_str())
                        .map(|r| made.get(r).cloned().unwrap_or_else(|| r.to_owned())),
                );
            }
        }
    }
    out
}

/// The `(namespace, ServiceAccount)` of each workload, and the AWS names of the Secrets
/// Manager objects its Secrets Store CSI volumes read.
fn mounted_secrets(world: &World) -> BTreeSet<(String, String)> {
    let classes: BTreeMap<(String, String), &crate::world::Object> = world
        .of_kind("SecretProviderClass")
        .map(|c| ((c.namespace().to_owned(), c.name().to_owned()), c))
        .collect();
    let mut out = BTreeSet::new();
    for object in world
        .objects
        .iter()
        .filter(|o| matches!(o.kind(), "Deployment" | "StatefulSet"))
    {
        let ns = object.namespace().to_owned();
        let spec = &object.value["spec"]["template"]["spec"];
        let sa = spec["serviceAccountName"].as_str().unwrap_or("default");
        for volume in spec["volumes"].as_sequence().into_iter().flatten() {
            let name = volume["csi"]["volumeAttributes"]["secretProviderClass"]
                .as_str()
                .unwrap_or_default();
            let Some(class) = classes.get(&(ns.clone(), name.to_owned())) else {
                continue;
            };
            let objects: Value = serde_yaml::from_str(
                class.value["spec"]["parameters"]["objects"]
                    .as_str()
                    .unwrap_or("[]"),
            )
            .unwrap_or(Value::Null);
            for o in objects.as_sequence().into_iter().flatten() {
                if o["objectType"].as_str() == Some("secretsmanager") {
                    out.insert((
                        sa.to_owned(),
                        o["objectName"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
    }
    out
}

/// Database passwords: each user given a password (`password_wo`) gets it read back from a
/// version the second stage writes into a secret of the first stage (through an output that
/// names it), and that secret is the one the service's pods (the user is named after the
/// service and its `ServiceAccount`) mount: what the database checks is what the pod reads.
fn database_passwords(world: &World, out: &mut Vec<String>) {
    const OUTPUTS: &str = "${data.terraform_remote_state.aws.outputs.";
    // First-stage output name → the secret's AWS name.
    let secrets: BTreeMap<String, String> = world
        .tf_blocks("resource", "aws_secretsmanager_secret")
        .filter_map(|(_, id, body)| Some((id.to_owned(), body["name"].as_str()?.to_owned())))
        .collect();
    let outputs: BTreeMap<String, String> = world
        .terraform
        .iter()
        .filter(|f| f.path.starts_with("terraform/aws/"))
        .flat_map(|f| {
            f.value["output"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(name, o)| {
                    let id = o["value"]
                        .as_str()?
                        .strip_prefix("${aws_secretsmanager_secret.")?
                        .strip_suffix(".arn}")?;
                    Some((name.clone(), secrets.get(id)?.clone()))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let secret_of = |secret_id: &serde_json::Value| -> Option<String> {
        let name = secret_id
            .as_str()?
            .strip_prefix(OUTPUTS)?
            .strip_suffix('}')?;
        outputs.get(name).cloned()
    };
    let versions = world.tf_named("resource", "aws_secretsmanager_secret_version");
    let readings = world.tf_named("ephemeral", "aws_secretsmanager_secret_version");
    let mounted = mounted_secrets(world);
    let users = world
        .tf_blocks("resource", "postgresql_role")
        .map(|(p, id, b)| (p, id, b, b["name"].as_str()))
        .chain(
            world
                .tf_blocks("resource", "mysql_user")
                .map(|(p, id, b)| (p, id, b, b["user"].as_str())),
        );
    for (path, id, body, user) in users {
        let Some(password) = body["password_wo"].as_str() else {
            continue;
        };
        let user = user.unwrap_or_default();
        let reading = password
            .strip_prefix("${ephemeral.aws_secretsmanager_secret_version.")
            .and_then(|r| r.strip_suffix(".secret_string}"))
            .and_then(|r| readings.get(r));
        let Some(reading) = reading else {
            out.push(format!(
                "{path}: the password of `{id}` is not read from a secret version"
            ));
            continue;
        };
        let version = reading["version_id"]
            .as_str()
            .and_then(|v| v.strip_prefix("${aws_secretsmanager_secret_version."))
            .and_then(|v| v.strip_suffix(".version_id}"))
            .and_then(|v| versions.get(v));
        let written = version.and_then(|v| secret_of(&v["secret_id"]));
        let read = secret_of(&reading["secret_id"]);
        let Some(name) = read.filter(|r| written.as_ref() == Some(r)) else {
            out.push(format!(
                "{path}: the password of `{id}` is not read back from the secret its version is written into"
            ));
            continue;
        };
        if version.is_some_and(|v| v["secret_string_wo"].as_str().is_none()) {
            out.push(format!(
                "{path}: the version of `{name}` writes no password"
            ));
        }
        if !mounted.contains(&(user.to_owned(), name.clone())) {
            out.push(format!(
                "{path}: the password of `{user}` is in `{name}`, which no pod of `{user}` mounts"
            ));
        }
    }
}

/// Secrets: a pod's Secrets Store CSI volume names a `SecretProviderClass` of its namespace,
/// which reads with the pod's own Pod Identity role, and that role may read each of its
/// objects; an env var's `secretKeyRef` names a `Secret` and key that a class the pod mounts
/// syncs from one of its files.
fn secrets(world: &World, out: &mut Vec<String>) {
    let grants = secret_grants(world);
    let classes: BTreeMap<(String, String), &crate::world::Object> = world
        .of_kind("SecretProviderClass")
        .map(|c| ((c.namespace().to_owned(), c.name().to_owned()), c))
        .collect();
    for object in world
        .objects
        .iter()
        .filter(|o| matches!(o.kind(), "Deployment" | "Job" | "StatefulSet"))
    {
        let ns = object.namespace().to_owned();
        let spec = &object.value["spec"]["template"]["spec"];
        let sa = spec["serviceAccountName"].as_str().unwrap_or("default");
        let mut synced: BTreeSet<(String, String)> = BTreeSet::new();
        for volume in spec["volumes"].as_sequence().into_iter().flatten() {
            let csi = &volume["csi"];
            if csi["driver"].as_str() != Some(addons::SECRETS_STORE_DRIVER) {
                continue;
            }
            let name = csi["volumeAttributes"]["secretProviderClass"]
                .as_str()
                .unwrap_or_default();
            let Some(class) = classes.get(&(ns.clone(), name.to_owned())) else {
                out.push(format!(
                    "{}: SecretProviderClass `{name}` does not exist",
                    object.path
                ));
                continue;
            };
            let spec = &class.value["spec"];
            if spec["provider"].as_str() != Some(addons::SECRETS_STORE_PROVIDER)
                || spec["parameters"]["usePodIdentity"].as_str() != Some("true")
            {
                out.push(format!(
                    "{}: does not read with the pod's Pod Identity role",
                    class.path
                ));
            }
            let objects: Value =
                serde_yaml::from_str(spec["parameters"]["objects"].as_str().unwrap_or("[]"))
                    .unwrap_or(Value::Null);
            let mut files: BTreeSet<String> = BTreeSet::new();
            for o in objects.as_sequence().into_iter().flatten() {
                let aws_name = o["objectName"].as_str().unwrap_or_default();
                let arn = match o["objectType"].as_str() {
                    Some("secretsmanager") => format!(":secret:{aws_name}-??????"),
                    _ => format!(":parameter/{}", aws_name.trim_start_matches('/')),
                };
                let granted = grants
                    .get(&(ns.clone(), sa.to_owned()))
                    .is_some_and(|arns| arns.iter().any(|a| a.ends_with(&arn)));
                if !granted {
                    out.push(format!(
                        "{}: the role of `{ns}/{sa}` may not read `{aws_name}`",
                        class.path
                    ));
                }
                files.extend(o["objectAlias"].as_str().map(str::to_owned));
                for j in o["jmesPath"].as_sequence().into_iter().flatten() {
                    files.extend(j["objectAlias"].as_str().map(str::to_owned));
                }
            }
            for synced_secret in spec["secretObjects"].as_sequence().into_iter().flatten() {
                let secret = synced_secret["secretName"].as_str().unwrap_or_default();
                for data in synced_secret["data"].as_sequence().into_iter().flatten() {
                    let file = data["objectName"].as_str().unwrap_or_default();
                    if !files.contains(file) {
                        out.push(format!(
                            "{}: syncs file `{file}`, which no object mounts",
                            class.path
                        ));
                    }
                    synced.insert((
                        secret.to_owned(),
                        data["key"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
        for container in spec["containers"].as_sequence().into_iter().flatten() {
            for env in container["env"].as_sequence().into_iter().flatten() {
                let r = &env["valueFrom"]["secretKeyRef"];
                if r.is_mapping() {
                    let key = (
                        r["name"].as_str().unwrap_or_default().to_owned(),
                        r["key"].as_str().unwrap_or_default().to_owned(),
                    );
                    if !synced.contains(&key) {
                        out.push(format!(
                            "{}: env `{}` reads Secret key {key:?}, which no mounted class syncs",
                            object.path,
                            env["name"].as_str().unwrap_or_default()
                        ));
                    }
                }
            }
        }
    }
}

/// Rollouts: their workload, route names, `DestinationRule` and analysis templates exist.
fn rollouts(world: &World, out: &mut Vec<String>) {
    for rollout in world.of_kind("Rollout") {
        let ns = rollout.namespace();
        let spec = &rollout.value["spec"];
        let reference = &spec["workloadRef"];
        if reference.is_mapping() {
            let kind = reference["kind"].as_str().unwrap_or_default();
            let name = reference["name"].as_str().unwrap_or_default();
            if !world
                .of_kind(kind)
                .any(|o| o.name() == name && o.namespace() == ns)
            {
                out.push(format!(
                    "{}: workloadRef `{kind}/{name}` does not exist",
                    rollout.path
                ));
            }
        }
        let canary = &spec["strategy"]["canary"];
        let istio = &canary["trafficRouting"]["istio"];
        let dr = istio["destinationRule"]["name"]
            .as_str()
            .unwrap_or_default();
        if !world
            .of_kind("DestinationRule")
            .any(|d| d.name() == dr && d.namespace() == ns)
        {
            out.push(format!(
                "{}: DestinationRule `{dr}` does not exist",
                rollout.path
            ));
        }
        for vs_ref in istio["virtualServices"].as_sequence().into_iter().flatten() {
            // `<name>` in the Rollout's namespace, or `<name>.<namespace>` (Argo Rollouts'
            // `GetVirtualServiceNamespaceName`: the first two dot-separated fields).
            let full = vs_ref["name"].as_str().unwrap_or_default();
            let mut fields = full.split('.');
            let name = fields.next().unwrap_or_default();
            let vs_ns = fields.next().unwrap_or(ns);
            let Some(vs) = world
                .of_kind("VirtualService")
                .find(|v| v.name() == name && v.namespace() == vs_ns)
            else {
                out.push(format!(
                    "{}: VirtualService `{name}` does not exist",
                    rollout.path
                ));
                continue;
            };
            let routes: BTreeSet<String> = vs.value["spec"]["http"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|r| r["name"].as_str().map(str::to_owned))
                .collect();
            for route in strings(&vs_ref["routes"]) {
                if !routes.contains(&route) {
                    out.push(format!(
                        "{}: route `{route}` is not in `{name}`",
                        rollout.path
                    ));
                }
            }
        }
        for template in canary["analysis"]["templates"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let name = template["templateName"].as_str().unwrap_or_default();
            if !world
                .of_kind("AnalysisTemplate")
                .any(|t| t.name() == name && t.namespace() == ns)
            {
                out.push(format!(
                    "{}: AnalysisTemplate `{name}` does not exist",
                    rollout.path
                ));
            }
        }
    }
    for binding in world.of_kind("ValidatingAdmissionPolicyBinding") {
        let policy = binding.value["spec"]["policyName"]
            .as_str()
            .unwrap_or_default();
        if !world
            .of_kind("ValidatingAdmissionPolicy")
            .any(|p| p.name() == policy)
        {
            out.push(format!(
                "{}: policy `{policy}` does not exist",
                binding.path
            ));
        }
        let param = &binding.value["spec"]["paramRef"];
        if param.is_mapping() {
            let name = param["name"].as_str().unwrap_or_default();
            let ns = param["namespace"].as_str().unwrap_or_default();
            if !world
                .of_kind("Rollout")
                .any(|r| r.name() == name && r.namespace() == ns)
            {
                out.push(format!(
                    "{}: param Rollout `{ns}/{name}` does not exist",
                    binding.path
                ));
            }
        }
    }
}

/// The host and port of an address as an application reads it (`$$` is the kubelet's `$`):
/// `host`, `host:port`, or `scheme://host[:port][/…]` with the port its scheme implies.
fn host_and_port(text: &str) -> (String, Option<u16>) {
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, text),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if let Some((host, port)) = authority.rsplit_once(':')
        && let Ok(port) = port.parse::<u16>()
    {
        return (host.to_owned(), Some(port));
    }
    let implied = match scheme.as_deref() {
        Some("http" | "ws") => Some(80),
        Some("https" | "wss") => Some(443),
        _ => None,
    };
    (authority.to_owned(), implied)
}

/// `[scheme://]<svc>.<ns>.svc.cluster.local[:<port>][/…]`, or `http(s)://<svc>.<ns>[.svc]:<port>`,
/// in any text: the Service and its port (none for a bare host).
fn address_refs(text: &str) -> Vec<(String, String, Option<u16>)> {
    let mut out = Vec::new();
    let (host, port) = host_and_port(text);
    // Outside `.svc.cluster.local`, only an `http(s)://` text with its port written out is an
    // in-cluster address (`http://prometheus.monitoring:9090`); `https://github.com` is not.
    let written_port = text
        .split_once("://")
        .map_or(text, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|authority| authority.contains(':'));
    let in_cluster =
        host.ends_with(".svc.cluster.local") || (text.starts_with("http") && written_port);
    if in_cluster
        && !host.contains(char::is_whitespace)
        && let Some((ns, name)) = service_host(&host)
    {
        out.push((ns, name, port));
    }
    out
}

fn walk_strings<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(a) => a.iter().for_each(|v| walk_strings(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| walk_strings(v, out)),
        _ => {}
    }
}

/// Every in-cluster address anywhere (env values, analysis providers, add-on values) names a
/// Service that exists, with that port.
fn addresses(world: &World, out: &mut Vec<String>) {
    let mut texts: Vec<(String, String)> = Vec::new();
    for object in &world.objects {
        let json = serde_json::to_value(&object.value).unwrap_or_default();
        let mut strings = Vec::new();
        walk_strings(&json, &mut strings);
        texts.extend(
            strings
                .into_iter()
                .map(|s| (object.path.clone(), s.to_owned())),
        );
    }
    for (path, _, body) in world.tf_blocks("resource", "helm_release") {
        for values in body["values"].as_array().into_iter().flatten() {
            if let Some(text) = values.as_str()
                && let Ok(parsed) = serde_json::from_str::<serde_json::Value>(text)
            {
                let mut strings = Vec::new();
                walk_strings(&parsed, &mut strings);
                texts.extend(strings.into_iter().map(|s| (path.to_owned(), s.to_owned())));
            }
        }
    }
    let mut seen = 0;
    for (path, text) in texts {
        for (ns, name, port) in address_refs(&text) {
            seen += 1;
            match world.service(&ns, &name) {
                None => out.push(format!("{path}: `{text}` names no Service")),
                Some(svc)
                    if port.is_some_and(|port| !svc.ports.iter().any(|(_, p, _)| *p == port)) =>
                {
                    out.push(format!(
                        "{path}: `{text}`: Service has no port {}",
                        port.unwrap_or_default()
                    ));
                }
                Some(_) => {}
            }
        }
    }
    let _ = seen;
}

/// A public address that stands for any outside host: a `NetworkPolicy` cannot name a host.
const OUTSIDE: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);

/// Every `calls-external` resolves: the caller's pods may leave on the host's port; a meshed
/// caller's `Sidecar` lists the host, through a `ServiceEntry` of that host exported to the
/// caller's namespace with that port; the `env=` variable names that host and port.
fn externals(platform: &Platform, world: &World, out: &mut Vec<String>) {
    for caller in &platform.services {
        for external in &caller.externals {
            let host = external.host.value.to_ascii_lowercase();
            let port = external.port.value;
            let what = format!("{} → {host}:{port}", caller.name.value);
            let pods = pods_of(world, &caller.namespace, &caller.name.value);
            if pods.is_empty() {
                out.push(format!("{what}: no pods for the caller"));
            }
            let via_gateway = platform
                .mesh
                .as_ref()
                .is_some_and(|m| m.egress_gateway.is_some())
                && pods.iter().any(|p| p.sidecar);
            for pod in pods.iter().filter(|_| !via_gateway) {
                if !egress_allows(world, pod, Peer::Ip(OUTSIDE), port, "TCP") {
                    out.push(format!(
                        "{what}: the NetworkPolicies of {} refuse the declared call",
                        pod.origin
                    ));
                }
            }
            if pods.iter().any(|p| p.sidecar) {
                let listed = sidecar_lists(world, &caller.namespace, &host);
                if !listed {
                    out.push(format!(
                        "{what}: the namespace's Sidecar does not list the host"
                    ));
                }
                let entry = world.of_kind("ServiceEntry").any(|e| {
                    let spec = &e.value["spec"];
                    let exported = strings(&spec["exportTo"]);
                    let visible = exported.is_empty()
                        || exported.iter().any(|x| x == "*" || x == &caller.namespace)
                        || (e.namespace() == caller.namespace && exported.iter().any(|x| x == "."));
                    visible
                        && strings(&spec["hosts"]).contains(&host)
                        && spec["ports"].as_sequence().into_iter().flatten().any(|p| {
                            p["number"].as_u64() == Some(u64::from(port))
                                && p["protocol"].as_str() == Some(external.protocol.value.istio())
                        })
                });
                if !entry {
                    out.push(format!(
                        "{what}: no ServiceEntry of the host with that port is exported to `{}`",
                        caller.namespace
                    ));
                }
            }
            let Some(env) = &external.env else { continue };
            let value = world
                .of_kind("Deployment")
                .filter(|d| d.namespace() == caller.namespace && d.name() == caller.name.value)
                .flat_map(|d| {
                    d.value["spec"]["template"]["spec"]["containers"]
                        .as_sequence()
                        .into_iter()
                        .flatten()
                        .flat_map(|c| c["env"].as_sequence().into_iter().flatten())
                        .filter(|v| v["name"].as_str() == Some(env.value.as_str()))
                        .filter_map(|v| v["value"].as_str().map(|t| t.replace("$$", "$")))
                        .collect::<Vec<_>>()
                })
                .next();
            let Some(value) = value else {
                out.push(format!(
                    "{what}: no variable `{}` in the Deployment",
                    env.value
                ));
                continue;
            };
            let (found, found_port) = host_and_port(&value);
            if found != host || found_port.is_some_and(|p| p != port) {
                out.push(format!("{what}: `{}` is `{value}`", env.value));
            }
        }
    }
}

/// Whether `host` is an outside host (a `MESH_EXTERNAL` `ServiceEntry`) that `namespace` sees.
fn outside_entry(world: &World, namespace: &str, host: &str) -> bool {
    world.of_kind("ServiceEntry").any(|e| {
        let spec = &e.value["spec"];
        let exported = strings(&spec["exportTo"]);
        let visible = exported.is_empty()
            || exported.iter().any(|x| x == "*" || x == namespace)
            || (e.namespace() == namespace && exported.iter().any(|x| x == "."));
        visible
            && spec["location"].as_str() == Some("MESH_EXTERNAL")
            && strings(&spec["hosts"]).iter().any(|h| h == host)
    })
}

/// The `VirtualService`s of `namespace` (its own, or exported to it) for `host`, bound to
/// `gateway` (`mesh` for the sidecars), with their routes of every kind.
fn routes_of<'a>(world: &'a World, namespace: &str, host: &str, gateway: &str) -> Vec<&'a Value> {
    world
        .of_kind("VirtualService")
        .filter(|vs| {
            let spec = &vs.value["spec"];
            let exported = strings(&spec["exportTo"]);
            let visible = vs.namespace() == namespace
                || exported.is_empty()
                || exported.iter().any(|x| x == "*" || x == namespace);
            let gateways = strings(&spec["gateways"]);
            visible
                && strings(&spec["hosts"]).iter().any(|h| h == host)
                && gateways
                    .iter()
                    .any(|g| g == gateway || format!("{}/{g}", vs.namespace()) == gateway)
        })
        .flat_map(|vs| {
            ["http", "tls", "tcp"]
                .into_iter()
                .flat_map(move |kind| vs.value["spec"][kind].as_sequence().into_iter().flatten())
        })
        .collect()
}

/// The destination of the first route whose match holds `port` (and `host` as SNI, for a TLS
/// match): `(host, subset, port)`.
fn route_to(routes: &[&Value], port: u16, host: &str) -> Option<(String, Option<String>, u16)> {
    let route = routes.iter().find(|r| {
        r["match"].as_sequence().into_iter().flatten().any(|m| {
            m["port"].as_u64() == Some(u64::from(port)) && {
                let sni = strings(&m["sniHosts"]);
                sni.is_empty() || sni.iter().any(|h| h == host)
            }
        })
    })?;
    let d = &route["route"][0]["destination"];
    Some((
        d["host"].as_str()?.to_owned(),
        d["subset"].as_str().map(str::to_owned),
        u16::try_from(d["port"]["number"].as_u64()?).ok()?,
    ))
}

/// `mesh { egress-gateway }`: every call to the outside of a pod with a sidecar goes the whole
/// way: its namespace's route sends the host and port to a Service whose pods are the egress
/// gateway, through a `DestinationRule` subset that speaks the mesh's mTLS with the host as SNI;
/// both pods' `NetworkPolicies` admit it; a `Gateway` picking those pods serves the host on that
/// port in mTLS; the gateway's route sends it on to the host and port; its
/// `AuthorizationPolicy` admits the caller's principal for that SNI; and its `NetworkPolicy`
/// lets it out on the host's port.
fn egress(platform: &Platform, world: &World, out: &mut Vec<String>) {
    if platform
        .mesh
        .as_ref()
        .is_none_or(|m| m.egress_gateway.is_none())
    {
        return;
    }
    for caller in &platform.services {
        let pods = pods_of(world, &caller.namespace, &caller.name.value);
        if !pods.iter().any(|p| p.sidecar) {
            continue;
        }
        for external in &caller.externals {
            let host = external.host.value.to_ascii_lowercase();
            let port = external.port.value;
            let what = format!(
                "{} → {host}:{port} through the egress gateway",
                caller.name.value
            );
            let mesh_routes = routes_of(world, &caller.namespace, &host, "mesh");
            let Some((to, subset, gateway_port)) = route_to(&mesh_routes, port, &host) else {
                out.push(format!(
                    "{what}: no route of `{}` sends it to the egress gateway",
                    caller.namespace
                ));
                continue;
            };
            let Some((ns, name)) = service_host(&to) else {
                out.push(format!("{what}: `{to}` is no Service"));
                continue;
            };
            let Some(svc) = world.service(&ns, &name) else {
                out.push(format!("{what}: `{to}` is no Service"));
                continue;
            };
            let Some(target) = svc
                .ports
                .iter()
                .find(|(_, p, _)| *p == gateway_port)
                .and_then(|(_, _, t)| t.as_u64())
                .and_then(|t| u16::try_from(t).ok())
            else {
                out.push(format!("{what}: Service `{to}` has no port {gateway_port}"));
                continue;
            };
            let gateway_pods: Vec<&Pod> = world.pods_in(&ns, &svc.selector).collect();
            if gateway_pods.is_empty() {
                out.push(format!("{what}: `{to}` has no pod behind it"));
                continue;
            }
            let mtls = subset.as_ref().is_some_and(|subset| {
                world
                    .of_kind("DestinationRule")
                    .filter(|dr| {
                        dr.namespace() == caller.namespace
                            && dr.value["spec"]["host"].as_str() == Some(to.as_str())
                    })
                    .flat_map(|dr| {
                        dr.value["spec"]["subsets"]
                            .as_sequence()
                            .into_iter()
                            .flatten()
                    })
                    .filter(|s| s["name"].as_str() == Some(subset.as_str()))
                    .flat_map(|s| {
                        s["trafficPolicy"]["portLevelSettings"]
                            .as_sequence()
                            .into_iter()
                            .flatten()
                    })
                    .any(|p| {
                        p["port"]["number"].as_u64() == Some(u64::from(gateway_port))
                            && p["tls"]["mode"].as_str() == Some("ISTIO_MUTUAL")
                            && p["tls"]["sni"].as_str() == Some(host.as_str())
                    })
            });
            if !mtls {
                out.push(format!(
                    "{what}: no DestinationRule subset of `{}` speaks mTLS to `{to}`:{gateway_port} with the host as SNI",
                    caller.namespace
                ));
            }
            let principal = format!(
                "cluster.local/ns/{}/sa/{}",
                caller.namespace, caller.name.value
            );
            for from in &pods {
                for gw in &gateway_pods {
                    if !allows(world, from, gw, target, "TCP") {
                        out.push(format!(
                            "{what}: the NetworkPolicies of {} or {} refuse port {target}",
                            from.origin, gw.origin
                        ));
                    }
                }
            }
            for gw in &gateway_pods {
                // A Gateway on these pods serves the host on that port in the mesh's mTLS.
                let served = world.of_kind("Gateway").find(|g| {
                    g.namespace() == gw.namespace
                        && matches(&labels(&g.value["spec"]["selector"]), &gw.labels)
                        && g.value["spec"]["servers"]
                            .as_sequence()
                            .into_iter()
                            .flatten()
                            .any(|s| {
                                s["port"]["number"].as_u64() == Some(u64::from(target))
                                    && s["tls"]["mode"].as_str() == Some("ISTIO_MUTUAL")
                                    && strings(&s["hosts"]).iter().any(|h| {
                                        h == &format!("{}/{host}", g.namespace())
                                            || h == &format!("*/{host}")
                                            || *h == host
                                    })
                            })
                });
                let Some(gateway) = served else {
                    out.push(format!(
                        "{what}: no Gateway on {} serves the host on {target} in mTLS",
                        gw.origin
                    ));
                    continue;
                };
                let gateway_ref = format!("{}/{}", gateway.namespace(), gateway.name());
                let onward = routes_of(world, &gw.namespace, &host, &gateway_ref);
                match route_to(&onward, target, &host) {
                    Some((to, _, p)) if to == host && p == port => {}
                    _ => out.push(format!(
                        "{what}: no route of Gateway `{gateway_ref}` sends it on to {host}:{port}"
                    )),
                }
                let admitted = world
                    .of_kind("AuthorizationPolicy")
                    .filter(|p| p.namespace() == gw.namespace)
                    .filter(|p| p.value["spec"]["action"].as_str() == Some("ALLOW"))
                    .filter(|p| {
                        matches(
                            &labels(&p.value["spec"]["selector"]["matchLabels"]),
                            &gw.labels,
                        )
                    })
                    .flat_map(|p| p.value["spec"]["rules"].as_sequence().into_iter().flatten())
                    .any(|rule| {
                        let from = rule["from"]
                            .as_sequence()
                            .into_iter()
                            .flatten()
                            .any(|f| strings(&f["source"]["principals"]).contains(&principal));
                        let to = rule["to"].as_sequence().into_iter().flatten().any(|t| {
                            strings(&t["operation"]["ports"]).contains(&target.to_string())
                        });
                        let when = rule["when"].as_sequence().into_iter().flatten().all(|w| {
                            w["key"].as_str() != Some("connection.sni")
                                || strings(&w["values"]).contains(&host)
                        });
                        from && to && when
                    });
                if !admitted {
                    out.push(format!(
                        "{what}: no AuthorizationPolicy of the egress gateway admits `{principal}` for the host"
                    ));
                }
                if !egress_allows(world, gw, Peer::Ip(OUTSIDE), port, "TCP") {
                    out.push(format!(
                        "{what}: the NetworkPolicies of {} refuse the outside on {port}",
                        gw.origin
                    ));
                }
            }
        }
    }
}

/// The directory of a tree's file: for a Terraform file, its module (stage).
fn module_dir(path: &str) -> String {
    path.rsplit_once('/').map_or("", |(d, _)| d).to_owned()
}

/// Each `access` of the cluster: its role has an access entry of the cluster, in the module
/// that makes the cluster, with a policy association whose principal is that entry and whose
/// policy is the declared one; with `from`, a rule on the cluster's own security group admits
/// that network on 443. Each policy association names an entry of its module.
fn cluster_access(platform: &Platform, world: &World, out: &mut Vec<String>) {
    let clusters: BTreeMap<String, &str> = world
        .tf_blocks("resource", "aws_eks_cluster")
        .map(|(path, id, _)| (module_dir(path), id))
        .collect();
    let entries: BTreeMap<(String, &str), &serde_json::Value> = world
        .tf_blocks("resource", "aws_eks_access_entry")
        .map(|(path, id, body)| ((module_dir(path), id), body))
        .collect();
    for (path, id, body) in world.tf_blocks("resource", "aws_eks_access_policy_association") {
        let principal = body["principal_arn"].as_str().unwrap_or_default();
        let entry = principal
            .strip_prefix("${aws_eks_access_entry.")
            .and_then(|rest| rest.strip_suffix(".principal_arn}"));
        if !entry.is_some_and(|e| entries.contains_key(&(module_dir(path), e))) {
            out.push(format!(
                "{path}: aws_eks_access_policy_association.{id} names no access entry of its module ({principal})"
            ));
        }
    }
    let Some(cluster) = platform.aws.as_ref().and_then(|a| a.cluster.as_ref()) else {
        return;
    };
    let module = "terraform/aws".to_owned();
    let Some(cluster_id) = clusters.get(&module) else {
        return;
    };
    let associations: Vec<&serde_json::Value> = world
        .tf_blocks("resource", "aws_eks_access_policy_association")
        .filter(|(path, _, _)| module_dir(path) == module)
        .map(|(_, _, body)| body)
        .collect();
    let rules: Vec<&serde_json::Value> = world
        .tf_blocks("resource", "aws_vpc_security_group_ingress_rule")
        .filter(|(path, _, _)| module_dir(path) == module)
        .map(|(_, _, body)| body)
        .collect();
    let cluster_group =
        format!("${{aws_eks_cluster.{cluster_id}.vpc_config[0].cluster_security_group_id}}");
    for access in &cluster.access {
        let name = &access.name.value;
        let role = &access.role.value;
        let Some((entry_id, entry)) = entries
            .iter()
            .find(|((d, _), b)| *d == module && b["principal_arn"].as_str() == Some(role))
            .map(|((_, id), b)| (*id, *b))
        else {
            out.push(format!(
                "access {name}: no access entry for {role} in {module}"
            ));
            continue;
        };
        if entry["cluster_name"].as_str()
            != Some(&format!("${{aws_eks_cluster.{cluster_id}.name}}"))
        {
            out.push(format!("access {name}: its entry is not of the cluster"));
        }
        let policy = access.policy.value.policy_name();
        let associated = associations.iter().any(|a| {
            a["principal_arn"].as_str()
                == Some(&format!(
                    "${{aws_eks_access_entry.{entry_id}.principal_arn}}"
                ))
                && a["policy_arn"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(&format!("/{policy}")))
                && a["access_scope"]["type"].as_str() == Some("cluster")
        });
        if !associated {
            out.push(format!(
                "access {name}: {role} is not associated with {policy}"
            ));
        }
        if let Some(from) = &access.from {
            let cidr = from.value.to_string();
            let admitted = rules.iter().any(|r| {
                r["security_group_id"].as_str() == Some(&cluster_group)
                    && r["cidr_ipv4"].as_str() == Some(&cidr)
                    && r["ip_protocol"].as_str() == Some("tcp")
                    && r["from_port"].as_u64().is_some_and(|p| p <= 443)
                    && r["to_port"].as_u64().is_some_and(|p| p >= 443)
            });
            if !admitted {
                out.push(format!(
                    "access {name}: the cluster security group does not admit {cidr} on 443"
                ));
            }
        }
    }
}

/// Every security group's name and description, and every rule's description, is of the
/// characters EC2 takes (`a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*`, at most 255): any other, an
/// apostrophe included, fails `CreateSecurityGroup` or `AuthorizeSecurityGroupIngress` with
/// `InvalidParameterValue` at `terraform apply`, after the plan passed.
fn security_group_texts(world: &World, out: &mut Vec<String>) {
    let allowed = |text: &str| {
        text.len() <= 255
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b" ._-:/()#,@[]+=&;{}!$*".contains(&b))
    };
    for kind in [
        "aws_security_group",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
    ] {
        for (path, id, body) in world.tf_blocks("resource", kind) {
            for key in ["name", "description"] {
                if let Some(text) = body[key].as_str()
                    && !text.contains("${")
                    && !allowed(text)
                {
                    out.push(format!(
                        "{path}: {kind}.{id}.{key} `{text}` is refused by EC2"
                    ));
                }
            }
        }
    }
}

/// Every log group EKS, RDS and `DocumentDB` write to is one of the same module's, encrypted
/// and kept a bounded time, and made before what writes to it (`depends_on`): a group the
/// service makes itself is unencrypted, kept forever and left by `terraform destroy`.
fn log_groups(world: &World, out: &mut Vec<String>) {
    let groups: BTreeMap<(String, &str), (&str, &serde_json::Value)> = world
        .tf_blocks("resource", "aws_cloudwatch_log_group")
        .filter_map(|(path, id, body)| {
            Some(((module_dir(path), body["name"].as_str()?), (id, body)))
        })
        .collect();
    let writers = [
        (
            "aws_db_instance",
            "identifier",
            "enabled_cloudwatch_logs_exports",
            "/aws/rds/instance",
        ),
        (
            "aws_docdb_cluster",
            "cluster_identifier",
            "enabled_cloudwatch_logs_exports",
            "/aws/docdb",
        ),
        (
            "aws_eks_cluster",
            "name",
            "enabled_cluster_log_types",
            "/aws/eks",
        ),
    ];
    for (kind, name_key, logs_key, prefix) in writers {
        for (path, id, body) in world.tf_blocks("resource", kind) {
            let name = body[name_key].as_str().unwrap_or_default();
            let mut wanted: Vec<String> = json_strings(&body[logs_key])
                .iter()
                .map(|log| format!("{prefix}/{name}/{log}"))
                .collect();
            if kind == "aws_eks_cluster" && !wanted.is_empty() {
                wanted = vec![format!("{prefix}/{name}/cluster")];
            }
            let depends = json_strings(&body["depends_on"]);
            for group in wanted {
                let Some((group_id, group_body)) = groups.get(&(module_dir(path), group.as_str()))
                else {
                    out.push(format!(
                        "{path}: {kind}.{id} writes to {group}, which it does not make"
                    ));
                    continue;
                };
                if group_body["kms_key_id"].as_str().is_none()
                    || group_body["retention_in_days"]
                        .as_u64()
                        .is_none_or(|d| d == 0)
                {
                    out.push(format!(
                        "{path}: log group {group} is not encrypted and bounded"
                    ));
                }
                if !depends.contains(&format!("aws_cloudwatch_log_group.{group_id}")) {
                    out.push(format!(
                        "{path}: {kind}.{id} does not wait for its log group {group}"
                    ));
                }
            }
        }
    }
}

/// Terraform: each add-on of the table that Helm installs has its release with the table's
/// chart, version, namespace and every pin; each EKS add-on has its `aws_eks_addon`; each Pod
/// Identity association names a `ServiceAccount` that exists; each reference to a first-stage
/// output is an output of the first stage.
fn terraform(platform: &Platform, world: &World, out: &mut Vec<String>) {
    let Some(aws) = &platform.aws else { return };
    let Some(_) = &aws.cluster else { return };
    let releases: BTreeMap<&str, (&str, &serde_json::Value)> = world
        .tf_blocks("resource", "helm_release")
        .map(|(path, name, body)| (name, (path, body)))
        .collect();
    let eks: BTreeSet<String> = world
        .tf_blocks("resource", "aws_eks_addon")
        .filter_map(|(_, _, b)| b["addon_name"].as_str().map(str::to_owned))
        .collect();
    for addon in &world.addons {
        match addon.source {
            Source::Helm {
                chart,
                version,
                repository,
            } => {
                let Some((path, body)) = releases.get(addon.id) else {
                    out.push(format!(
                        "add-on {}: no helm_release `{}`",
                        addon.release, addon.id
                    ));
                    continue;
                };
                for (key, want) in [
                    ("name", addon.release),
                    ("chart", chart),
                    ("version", version),
                    ("repository", repository),
                    ("namespace", &addon.namespace),
                ] {
                    if body[key].as_str() != Some(want) {
                        out.push(format!(
                            "{path}: helm_release.{}.{key} is not `{want}`",
                            addon.id
                        ));
                    }
                }
                let values: serde_json::Value = body["values"][0]
                    .as_str()
                    .and_then(|t| serde_json::from_str(t).ok())
                    .unwrap_or_default();
                for pin in addon.pins {
                    if addons::get(&values, pin.path()) != Some(&pin.value()) {
                        out.push(format!(
                            "{path}: helm_release.{} does not pin `{}` to {}",
                            addon.id,
                            pin.path(),
                            pin.value()
                        ));
                    }
                }
                // The same values for a user who installs the add-on with Helm.
                match world.addon_values.get(addon.release) {
                    None => out.push(format!(
                        "add-on {}: no helm/addons/{}.values.yaml",
                        addon.release, addon.release
                    )),
                    Some(helm_values) => {
                        for pin in addon.pins {
                            if addons::get(helm_values, pin.path()) != Some(&pin.value()) {
                                out.push(format!(
                                    "helm/addons/{}.values.yaml does not pin `{}` to {}",
                                    addon.release,
                                    pin.path(),
                                    pin.value()
                                ));
                            }
                        }
                    }
                }
            }
            Source::Eks { name } => {
                if !eks.contains(name) {
                    out.push(format!("add-on {}: no aws_eks_addon", addon.release));
                }
            }
            Source::Builtin => {}
        }
    }
    let mut associations = Vec::new();
    for (path, _, body) in world.tf_blocks("resource", "aws_eks_pod_identity_association") {
        associations.push((
            path.to_owned(),
            body["namespace"].as_str().unwrap_or_default().to_owned(),
            body["service_account"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ));
    }
    for (path, _, body) in world.tf_blocks("resource", "aws_eks_addon") {
        if let Some(sa) = body["pod_identity_association"]["service_account"].as_str() {
            associations.push((path.to_owned(), "kube-system".to_owned(), sa.to_owned()));
        }
    }
    for (path, ns, sa) in associations {
        if !world.accounts.contains(&(ns.clone(), sa.clone())) {
            out.push(format!(
                "{path}: Pod Identity association names ServiceAccount `{ns}/{sa}`, which nothing creates"
            ));
        }
    }
    let outputs: BTreeSet<String> = world
        .terraform
        .iter()
        .filter(|f| f.path.starts_with("terraform/aws/"))
        .flat_map(|f| {
            f.value["output"]
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .collect();
    for file in world
        .terraform
        .iter()
        .filter(|f| f.path.starts_with("terraform/cluster/"))
    {
        let mut strings = Vec::new();
        walk_strings(&file.value, &mut strings);
        for text in strings {
            let mut rest = text;
            while let Some(i) = rest.find("data.terraform_remote_state.aws.outputs.") {
                rest = &rest[i + "data.terraform_remote_state.aws.outputs.".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !outputs.contains(&name) {
                    out.push(format!(
                        "{}: the first stage has no output `{name}`",
                        file.path
                    ));
                }
            }
        }
    }
    // A file system policy replaces EFS's default one (any client through a mount target):
    // the EFS CSI driver mounts as an anonymous client (no `iam` mount option), so the policy
    // must allow anyone to mount and write through a mount target, or every mount is refused.
    let documents = world.tf_named("data", "aws_iam_policy_document");
    for (path, name, body) in world.tf_blocks("resource", "aws_efs_file_system_policy") {
        let document = document_name(&body["policy"]).and_then(|name| documents.get(name));
        let Some(document) = document else {
            out.push(format!(
                "{path}: aws_efs_file_system_policy.{name} names no policy document of the tree"
            ));
            continue;
        };
        let mounts = document["statement"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| {
                let actions = json_strings(&s["actions"]);
                let anyone = s["principals"].as_array().into_iter().flatten().any(|p| {
                    p["type"] == "AWS" && json_strings(&p["identifiers"]).iter().any(|i| i == "*")
                });
                let through_targets = s["condition"].as_array().into_iter().flatten().all(|c| {
                    c["variable"] == "elasticfilesystem:AccessedViaMountTarget"
                        && json_strings(&c["values"]) == ["true"]
                });
                s["effect"] == "Allow"
                    && anyone
                    && through_targets
                    && [
                        "elasticfilesystem:ClientMount",
                        "elasticfilesystem:ClientWrite",
                    ]
                    .iter()
                    .all(|a| actions.iter().any(|x| x == a))
            });
        if !mounts {
            out.push(format!(
                "{path}: aws_efs_file_system_policy.{name} allows no mount through a mount target: \
                 the EFS CSI driver's mounts are refused"
            ));
        }
    }
    // The cluster's tags name it as AWS does (an environment's name has its suffix): a
    // subnet tagged for another cluster only is one the AWS Load Balancer Controller skips
    // (`kubernetes.io/cluster/NAME`), and the Cluster Autoscaler's role may only touch the
    // node groups tagged for its cluster (`k8s.io/cluster-autoscaler/NAME`).
    let clusters: BTreeSet<&str> = world
        .tf_blocks("resource", "aws_eks_cluster")
        .filter_map(|(_, _, body)| body["name"].as_str())
        .collect();
    for file in &world.terraform {
        let mut strings = Vec::new();
        walk_strings(&file.value, &mut strings);
        walk_keys(&file.value, &mut strings);
        for text in strings {
            for prefix in ["kubernetes.io/cluster/", "k8s.io/cluster-autoscaler/"] {
                let Some(name) = text.split_once(prefix).map(|(_, name)| name) else {
                    continue;
                };
                if name != "enabled" && !clusters.contains(name) {
                    out.push(format!(
                        "{}: `{prefix}{name}` names no EKS cluster of the tree ({clusters:?})",
                        file.path
                    ));
                }
            }
        }
    }
    let _ = Ipv4Addr::LOCALHOST;
}

/// Every managed node group and EKS add-on follows its cluster's Kubernetes version: a node
/// group without one keeps the version it was made with (the provider detects no drift), and
/// EKS upgrades a control plane only while its node groups run its version; an add-on without
/// one keeps its first version across a bump.
fn cluster_versions(world: &World, out: &mut Vec<String>) {
    // `${aws_eks_cluster.X.name}` → `${aws_eks_cluster.X.version}`.
    let version_of = |body: &serde_json::Value| -> Option<String> {
        let name = body["cluster_name"].as_str()?;
        Some(format!("{}.version}}", name.strip_suffix(".name}")?))
    };
    for (path, id, body) in world.tf_blocks("resource", "aws_eks_node_group") {
        if body["version"].as_str().map(str::to_owned) != version_of(body) {
            out.push(format!(
                "{path}: node group `{id}` does not follow its cluster's version ({})",
                body["version"]
            ));
        }
    }
    let versions = world.tf_named("data", "aws_eks_addon_version");
    for (path, id, body) in world.tf_blocks("resource", "aws_eks_addon") {
        let read = body["addon_version"]
            .as_str()
            .and_then(|v| v.strip_prefix("${data.aws_eks_addon_version."))
            .and_then(|v| v.strip_suffix(".version}"))
            .and_then(|name| versions.get(name));
        let follows = read.is_some_and(|data| {
            data["addon_name"] == body["addon_name"]
                && data["kubernetes_version"].as_str().map(str::to_owned) == version_of(body)
        });
        if !follows {
            out.push(format!(
                "{path}: add-on `{id}` does not take its cluster's version's ({})",
                body["addon_version"]
            ));
        }
    }
}

/// A namespace's `Sidecar` lets its proxies send outside the mesh's registry (`ALLOW_ANY`)
/// exactly where one of its pods reaches an AWS store itself: every such pod's `NetworkPolicy`
/// opens the Pod Identity agent, whose credentials sign its calls. A secret or a file system,
/// fetched and mounted by the node's drivers, is no reason; and `REGISTRY_ONLY` would refuse
/// a store's calls.
fn sidecar_outbound(world: &World, out: &mut Vec<String>) {
    let (address, _) = addons::POD_IDENTITY_ADDRESS;
    let signer = format!("{address}/32");
    for sidecar in world.of_kind("Sidecar") {
        let open = sidecar.value["spec"]["outboundTrafficPolicy"]["mode"] == "ALLOW_ANY";
        let namespace = sidecar.namespace();
        let reaches_aws = world
            .of_kind("NetworkPolicy")
            .filter(|p| p.namespace() == namespace)
            .flat_map(|p| {
                p.value["spec"]["egress"]
                    .as_sequence()
                    .cloned()
                    .unwrap_or_default()
            })
            .flat_map(|rule| rule["to"].as_sequence().cloned().unwrap_or_default())
            .any(|peer| peer["ipBlock"]["cidr"].as_str() == Some(signer.as_str()));
        if open && !reaches_aws {
            out.push(format!(
                "{}: `ALLOW_ANY`, though no pod of `{namespace}` reaches an AWS store",
                sidecar.path
            ));
        }
        if !open && reaches_aws {
            out.push(format!(
                "{}: only the registry, though a pod of `{namespace}` calls an AWS store",
                sidecar.path
            ));
        }
    }
}

/// Seconds of a protobuf duration as `ProxyConfig` takes it in JSON (`"180s"`).
fn seconds(value: &serde_json::Value) -> Option<u64> {
    value.as_str()?.strip_suffix('s')?.parse().ok()
}

/// The NLB goes on opening connections to a deregistered IP target for about two minutes
/// (aws-load-balancer-controller#2366 and #3270, istio#35964): a gateway pod behind one must
/// take them that long.
const NLB_DEREGISTRATION_SECONDS: u64 = 120;

/// Each release of Istio's `gateway` chart keeps serving through a node drain (a
/// `PodDisruptionBudget` that still lets its pods be evicted one by one), and one behind an
/// NLB with IP targets through its own rollouts and stops: its namespace is labelled for the
/// load balancer controller's readiness gates before the release (after the release that
/// creates the namespace, and the controller), and its proxies drain, and the kubelet waits,
/// as long as the NLB may still send new connections. The same values are in
/// `helm/addons/`, for Helm users.
fn gateway_releases(world: &World, out: &mut Vec<String>) {
    let releases = world.tf_named("resource", "helm_release");
    let labels = world.tf_named("resource", "kubernetes_labels");
    for (id, body) in &releases {
        if body["chart"] != "gateway" {
            continue;
        }
        let release = body["name"].as_str().unwrap_or_default();
        let namespace = body["namespace"].as_str().unwrap_or_default();
        let values: serde_json::Value = body["values"][0]
            .as_str()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        let mut trees = vec![(format!("helm_release.{id}"), values)];
        match world.addon_values.get(release) {
            Some(helm) => trees.push((format!("helm/addons/{release}.values.yaml"), helm.clone())),
            None => out.push(format!("{release}: no helm/addons/{release}.values.yaml")),
        }
        for (what, values) in &trees {
            let pods = values["autoscaling"]["minReplicas"].as_u64().unwrap_or(1);
            let keep = values["podDisruptionBudget"]["minAvailable"].as_u64();
            if !keep.is_some_and(|keep| keep >= 1 && keep < pods) {
                out.push(format!(
                    "{what}: no PodDisruptionBudget that keeps a pod of {pods} and lets the \
                     others be evicted"
                ));
            }
            let service = &values["service"];
            let nlb_ip = service["type"] == "LoadBalancer"
                && service["annotations"]["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"]
                    == "ip";
            if !nlb_ip {
                continue;
            }
            let proxy: serde_json::Value = values["podAnnotations"]["proxy.istio.io/config"]
                .as_str()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default();
            // pilot-agent ends the drain once no connection is open where the proxy's metadata
            // says so: the annotation's, over the mesh's default (istiod's values).
            let mesh_exit = releases
                .values()
                .find(|r| r["chart"] == "istiod")
                .and_then(|r| r["values"][0].as_str())
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .and_then(|v| {
                    v["meshConfig"]["defaultConfig"]["proxyMetadata"]
                        ["EXIT_ON_ZERO_ACTIVE_CONNECTIONS"]
                        .as_str()
                        .map(str::to_owned)
                });
            let exit = proxy["proxyMetadata"]["EXIT_ON_ZERO_ACTIVE_CONNECTIONS"]
                .as_str()
                .map(str::to_owned)
                .or(mesh_exit);
            if exit.as_deref() == Some("true") {
                out.push(format!(
                    "{what}: the proxies stop once no connection is open, while the NLB may still \
                     open new ones"
                ));
            }
            let drain = seconds(&proxy["drainDuration"]).unwrap_or(45);
            let stop = seconds(&proxy["terminationDrainDuration"]).unwrap_or(5);
            let grace = values["terminationGracePeriodSeconds"]
                .as_u64()
                .unwrap_or(30);
            if drain.min(stop) < NLB_DEREGISTRATION_SECONDS {
                out.push(format!(
                    "{what}: the proxies stop taking connections after {}s, while the NLB may \
                     send them new ones for {NLB_DEREGISTRATION_SECONDS}s",
                    drain.min(stop)
                ));
            }
            if grace <= stop {
                out.push(format!(
                    "{what}: the kubelet kills the pods after {grace}s, before their {stop}s drain"
                ));
            }
            if values["strategy"]["rollingUpdate"]["maxUnavailable"] != 0 {
                out.push(format!(
                    "{what}: a rollout may stop a pod before the NLB sends to its replacement"
                ));
            }
            // Each spread constraint counts the gateway's own pods (the labels pinned on them).
            let pods = &values["labels"];
            for spread in values["topologySpreadConstraints"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let selector = &spread["labelSelector"]["matchLabels"];
                let selects = selector.as_object().is_some_and(|m| {
                    !m.is_empty() && m.iter().all(|(k, v)| &pods[k.as_str()] == v)
                });
                if !selects {
                    out.push(format!(
                        "{what}: the spread over `{}` selects {selector}, not the pods {pods}",
                        spread["topologyKey"]
                    ));
                }
            }
        }
        let service = &trees[0].1["service"];
        if service["type"] != "LoadBalancer"
            || service["annotations"]["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"]
                != "ip"
        {
            continue;
        }
        let depends = json_strings(&body["depends_on"]);
        let (key, value) = addons::READINESS_GATE_LABEL;
        let gate = labels.iter().find(|(name, l)| {
            l["kind"] == "Namespace"
                && l["metadata"]["name"] == namespace
                && l["labels"][key] == value
                && depends.contains(&format!("kubernetes_labels.{name}"))
        });
        let Some((_, gate)) = gate else {
            out.push(format!(
                "helm_release.{id}: its namespace `{namespace}` is not labelled `{key}={value}` \
                 before it: its pods get no readiness gate for the NLB"
            ));
            continue;
        };
        let after = json_strings(&gate["depends_on"]);
        let follows = |test: &dyn Fn(&serde_json::Value) -> bool| {
            after.iter().any(|d| {
                d.strip_prefix("helm_release.")
                    .and_then(|r| releases.get(r))
                    .is_some_and(|r| test(r))
            })
        };
        if !follows(&|r| r["namespace"] == namespace && r["create_namespace"] == true) {
            out.push(format!(
                "the label of namespace `{namespace}` does not wait for the release that creates it"
            ));
        }
        if !follows(&|r| r["chart"] == "aws-load-balancer-controller") {
            out.push(format!(
                "the label of namespace `{namespace}` does not wait for the load balancer \
                 controller, whose webhook adds the gates"
            ));
        }
    }
}

/// Every key of every object in `value`.
fn walk_keys<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::Array(a) => a.iter().for_each(|v| walk_keys(v, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(key, v)| {
            out.push(key);
            walk_keys(v, out);
        }),
        _ => {}
    }
}

/// Pods that use AWS stores reach the Pod Identity agent and their stores' addresses.
pub fn store_paths(platform: &Platform, world: &World) -> Vec<String> {
    let mut out = Vec::new();
    let Some(aws) = &platform.aws else { return out };
    let (agent, agent_port) = addons::POD_IDENTITY_ADDRESS;
    let agent: Ipv4Addr = agent.parse().unwrap();
    let private = platc::model::aws::private_subnets(aws);
    for service in platform.services.iter().filter(|s| !s.uses.is_empty()) {
        for pod in service_pods(world, &service.namespace, &service.name.value) {
            let needs_api = service.uses.iter().any(|u| {
                !matches!(
                    u.kind.value,
                    platc::model::service::StoreKind::Filesystem
                        | platc::model::service::StoreKind::Secret
                )
            });
            if needs_api && !egress_allows(world, pod, Peer::Ip(agent), agent_port, "TCP") {
                out.push(format!(
                    "{}: cannot reach the Pod Identity agent",
                    pod.origin
                ));
            }
            for used in &service.uses {
                let port = match used.kind.value {
                    platc::model::service::StoreKind::Database => aws
                        .databases
                        .iter()
                        .find(|d| d.name.value == used.name.value)
                        .map(|d| d.engine.value.port()),
                    platc::model::service::StoreKind::Cache => Some(platc::model::aws::CACHE_PORT),
                    platc::model::service::StoreKind::Docdb => Some(platc::model::aws::DOCDB_PORT),
                    platc::model::service::StoreKind::Bucket
                    | platc::model::service::StoreKind::Table
                    | platc::model::service::StoreKind::Queue
                    | platc::model::service::StoreKind::Topic => Some(443),
                    platc::model::service::StoreKind::Filesystem
                    | platc::model::service::StoreKind::Secret => None,
                };
                let Some(port) = port else { continue };
                // A host of each private subnet, where the store or its endpoint lives.
                for cidr in &private {
                    let ip = Ipv4Addr::from(cidr.address + 10);
                    if !egress_allows(world, pod, Peer::Ip(ip), port, "TCP") {
                        out.push(format!(
                            "{}: cannot reach {} `{}` at {ip}:{port}",
                            pod.origin,
                            used.kind.value.as_str(),
                            used.name.value
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The files of a pod: every container's (and init container's) `volumeMount` names a volume
/// of the pod; a `configMap` volume names a `ConfigMap` of the tree in the pod's namespace, and a
/// `subPath` mount of it a key of that `ConfigMap`; and the template's
/// `platc.dev/config-checksum` is the checksum of the data of the `ConfigMap` it mounts, so a
/// changed file restarts the pods.
fn pod_files(world: &World, out: &mut Vec<String>) {
    let config_maps: BTreeMap<(String, String), BTreeMap<String, String>> = world
        .of_kind("ConfigMap")
        .map(|c| {
            let data = c.value["data"]
                .as_mapping()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                .collect();
            ((c.namespace().to_owned(), c.name().to_owned()), data)
        })
        .collect();
    for object in world
        .objects
        .iter()
        .filter(|o| matches!(o.kind(), "Deployment" | "Job" | "StatefulSet"))
    {
        let template = &object.value["spec"]["template"];
        let spec = &template["spec"];
        // A StatefulSet's pods also have a volume per claim template, named after it.
        let claims = object.value["spec"]["volumeClaimTemplates"].as_sequence();
        let volumes: BTreeMap<&str, &Value> = spec["volumes"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|v| Some((v["name"].as_str()?, v)))
            .chain(
                claims
                    .into_iter()
                    .flatten()
                    .filter_map(|c| Some((c["metadata"]["name"].as_str()?, c))),
            )
            .collect();
        let mounted_map = |volume: &Value| {
            let name = volume["configMap"]["name"].as_str()?;
            Some((
                name.to_owned(),
                config_maps.get(&(object.namespace().to_owned(), name.to_owned())),
            ))
        };
        let mut mounted_data = Vec::new();
        for volume in volumes.values() {
            if let Some((name, data)) = mounted_map(volume) {
                match data {
                    Some(data) => mounted_data.push(data),
                    None => out.push(format!(
                        "{}: volume mounts ConfigMap `{name}`, which does not exist",
                        object.path
                    )),
                }
            }
        }
        let containers = spec["containers"].as_sequence().into_iter().flatten();
        let inits = spec["initContainers"].as_sequence().into_iter().flatten();
        for container in containers.chain(inits) {
            for mount in container["volumeMounts"]
                .as_sequence()
                .into_iter()
                .flatten()
            {
                let name = mount["name"].as_str().unwrap_or_default();
                let Some(volume) = volumes.get(name) else {
                    out.push(format!(
                        "{}: container `{}` mounts volume `{name}`, which the pod does not have",
                        object.path,
                        container["name"].as_str().unwrap_or_default()
                    ));
                    continue;
                };
                if let (Some((map, Some(data))), Some(key)) =
                    (mounted_map(volume), mount["subPath"].as_str())
                    && !data.contains_key(key)
                {
                    out.push(format!(
                        "{}: mount of `{key}` from ConfigMap `{map}`, which has no such key",
                        object.path
                    ));
                }
            }
        }
        let checksum = template["metadata"]["annotations"]["platc.dev/config-checksum"].as_str();
        match (checksum, mounted_data.as_slice()) {
            (None, []) => {}
            (Some(checksum), [data]) => {
                if checksum != platc::emit::conventions::config_checksum(data) {
                    out.push(format!(
                        "{}: config checksum {checksum} is not the checksum of the ConfigMap's data",
                        object.path
                    ));
                }
            }
            (checksum, maps) => out.push(format!(
                "{}: config checksum {checksum:?} for {} mounted ConfigMaps",
                object.path,
                maps.len()
            )),
        }
    }
}
