//! `cluster.tf.json`: the EKS cluster and what it runs on.
//!
//! IAM roles for the control plane and the nodes with the AWS-managed policies; the cluster
//! with a private endpoint (public only when the platform says so, limited to its CIDR),
//! secrets encrypted with a rotating KMS key, every control-plane log type in a KMS-encrypted
//! log group; managed node groups in the private subnets whose launch template requires `IMDSv2`
//! and encrypts the root volume; the OIDC provider (for IRSA, should a chart need it); and the
//! EKS add-ons of the add-on table: the VPC CNI with its network policy agent on (without it
//! `NetworkPolicies` are accepted and never enforced), kube-proxy, `CoreDNS`, the Pod Identity
//! agent, and the EBS (and, when a service mounts a file system, EFS) CSI drivers with their
//! roles given through EKS Pod Identity.

use serde_json::{Value, json};

use crate::emit::terraform::network::{log_group, private_subnet_ids};
use crate::emit::terraform::{Context, Module, ident, policy, r};
use crate::model::addons::{self, Addon, Source};
use crate::model::aws::{Access, CapacityType, Cluster, Endpoint, NodeGroup, cluster_role_name};

/// Every control-plane log type EKS offers.
const LOG_TYPES: &[&str] = &[
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];

/// The `aws_eks_cluster` resource's Terraform name.
pub fn cluster_ref(cluster: &Cluster) -> String {
    format!("aws_eks_cluster.{}", ident(&cluster.name.value))
}

pub fn module(cx: &Context, cluster: &Cluster) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cluster.span));
    let name = &cx.cluster_name(cluster);
    let id = ident(&cluster.name.value);
    // The control plane's role.
    let trust = policy::trust(
        &mut m,
        "cluster_trust",
        &["eks.amazonaws.com"],
        &["sts:AssumeRole", "sts:TagSession"],
    );
    policy::role(
        &mut m,
        "cluster",
        &cluster_role_name(cx.platform, cluster, "cluster"),
        "The EKS control plane",
        &trust,
    );
    let cluster_policies = policy::attach(
        cx,
        &mut m,
        "cluster",
        &["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"],
    );
    // The nodes' role.
    let trust = policy::trust(
        &mut m,
        "node_trust",
        &["ec2.amazonaws.com"],
        &["sts:AssumeRole"],
    );
    policy::role(
        &mut m,
        "node",
        &cluster_role_name(cx.platform, cluster, "node"),
        "The EKS managed nodes",
        &trust,
    );
    let node_policies = policy::attach(
        cx,
        &mut m,
        "node",
        &[
            "AmazonEKSWorkerNodePolicy",
            "AmazonEKS_CNI_Policy",
            "AmazonEC2ContainerRegistryReadOnly",
        ],
    );
    policy::kms_key(cx, &mut m, "eks", "EKS secrets encryption", Vec::new());
    // The name EKS writes to.
    let logs = log_group(&mut m, "eks", &format!("/aws/eks/{name}/cluster"));
    let mut vpc_config = json!({
        "subnet_ids": private_subnet_ids(cx),
        "endpoint_private_access": true,
        "endpoint_public_access": false,
    });
    let mut public_reason = None;
    if let Endpoint::Public { allowed, reason } = &cluster.endpoint.value {
        public_reason = Some(format!("public endpoint: {}", reason.value));
        vpc_config["endpoint_public_access"] = json!(true);
        if !allowed.is_empty() {
            vpc_config["public_access_cidrs"] = json!(
                allowed
                    .iter()
                    .map(|c| c.value.to_string())
                    .collect::<Vec<_>>()
            );
        }
    }
    let mut depends: Vec<String> = cluster_policies;
    depends.push(logs);
    let mut body = json!({
        "name": name,
        "version": cluster.version.value,
        "role_arn": r("aws_iam_role.cluster.arn"),
        "enabled_cluster_log_types": LOG_TYPES,
        "vpc_config": vpc_config,
        "encryption_config": {
            "resources": ["secrets"],
            "provider": {"key_arn": r("aws_kms_key.eks.arn")},
        },
        "access_config": {
            "authentication_mode": "API",
            "bootstrap_cluster_creator_admin_permissions": true,
        },
        "depends_on": depends,
    });
    if let Some(reason) = public_reason {
        body["//"] = json!(reason);
    }
    m.resource("aws_eks_cluster", &id, body);
    for group in &cluster.node_groups {
        node_group(cx, &mut m, cluster, group, &node_policies);
    }
    for entry in &cluster.access {
        access(cx, &mut m, cluster, entry);
    }
    m.resource(
        "aws_iam_openid_connect_provider",
        "eks",
        json!({
            "url": r(&format!("{}.identity[0].oidc[0].issuer", cluster_ref(cluster))),
            "client_id_list": ["sts.amazonaws.com"],
        }),
    );
    addons(cx, &mut m, cluster);
    m
}

/// An `access` entry: the role's EKS access entry and its policy over the whole cluster and,
/// with `from`, its network admitted to the API on the cluster security group, which is the
/// only group of the endpoint's network interfaces.
fn access(cx: &Context, m: &mut Module, cluster: &Cluster, entry: &Access) {
    let id = format!("access_{}", ident(&entry.name.value));
    let cluster_name = r(&format!("{}.name", cluster_ref(cluster)));
    m.resource(
        "aws_eks_access_entry",
        &id,
        json!({
            "cluster_name": cluster_name,
            "principal_arn": entry.role.value,
            "type": "STANDARD",
        }),
    );
    m.resource(
        "aws_eks_access_policy_association",
        &id,
        json!({
            "cluster_name": cluster_name,
            "principal_arn": r(&format!("aws_eks_access_entry.{id}.principal_arn")),
            "policy_arn": format!(
                "arn:{}:eks::aws:cluster-access-policy/{}",
                cx.partition(),
                entry.policy.value.policy_name()
            ),
            "access_scope": {"type": "cluster"},
        }),
    );
    if let Some(from) = &entry.from {
        m.resource(
            "aws_vpc_security_group_ingress_rule",
            &format!("cluster_api_from_{}", ident(&entry.name.value)),
            json!({
                "security_group_id": r(&format!(
                    "{}.vpc_config[0].cluster_security_group_id",
                    cluster_ref(cluster)
                )),
                "description": format!("The cluster API for access {}", entry.name.value),
                "ip_protocol": "tcp",
                "from_port": 443,
                "to_port": 443,
                "cidr_ipv4": from.value.to_string(),
            }),
        );
    }
}

/// The AMI type of a node group: Graviton families (`m7g`, `t4g`, …) run the ARM image.
fn ami_type(group: &NodeGroup) -> &'static str {
    let family = &group.instance.value.family;
    if family.len() > 1 && family[1..].contains('g') {
        "AL2023_ARM_64_STANDARD"
    } else {
        "AL2023_x86_64_STANDARD"
    }
}

fn node_group(
    cx: &Context,
    m: &mut Module,
    cluster: &Cluster,
    group: &NodeGroup,
    node_policies: &[String],
) {
    let name = format!("{}-{}", cx.cluster_name(cluster), group.name.value);
    let id = ident(&group.name.value);
    m.resource(
        "aws_launch_template",
        &id,
        json!({
            "name": name,
            "description": format!("Nodes of the {} node group", group.name.value),
            "update_default_version": true,
            // IMDSv2 only, and one hop: pods reach AWS through EKS Pod Identity, not the
            // node's instance profile.
            "metadata_options": {
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
            },
            "block_device_mappings": {
                "device_name": "/dev/xvda",
                "ebs": {
                    "volume_size": group.disk_gb.value,
                    "volume_type": "gp3",
                    "encrypted": "true",
                    "delete_on_termination": "true",
                },
            },
            "tag_specifications": {
                "resource_type": "instance",
                "tags": {"Name": name},
            },
        }),
    );
    m.resource(
        "aws_eks_node_group",
        &id,
        json!({
            "cluster_name": r(&format!("{}.name", cluster_ref(cluster))),
            "node_group_name": group.name.value,
            "node_role_arn": r("aws_iam_role.node.arn"),
            "subnet_ids": private_subnet_ids(cx),
            "instance_types": [group.instance.value.to_string()],
            "ami_type": ami_type(group),
            "capacity_type": match group.capacity.value {
                CapacityType::OnDemand => "ON_DEMAND",
                CapacityType::Spot => "SPOT",
            },
            "scaling_config": {
                "min_size": group.min.value,
                "max_size": group.max.value,
                "desired_size": group.desired.value,
            },
            "update_config": {"max_unavailable": 1},
            // The nodes follow the control plane: without a version the group keeps the one it
            // was made with (the provider detects no drift), so a bump upgraded the control
            // plane alone and the next one fails (EKS upgrades a control plane only while
            // its managed node groups run its version). A bump then rolls the nodes,
            // `max_unavailable` at a time, each drained within the pods' budgets.
            "version": r(&format!("{}.version", cluster_ref(cluster))),
            "launch_template": {
                "id": r(&format!("aws_launch_template.{id}.id")),
                "version": r(&format!("aws_launch_template.{id}.latest_version")),
            },
            // The cluster autoscaler owns the desired size once the group exists.
            "lifecycle": {"ignore_changes": ["scaling_config[0].desired_size"]},
            "depends_on": node_policies,
        }),
    );
}

/// The role of an EKS add-on's controller, given through EKS Pod Identity.
struct AddonRole {
    /// The Terraform name of the role.
    role: &'static str,
    /// AWS-managed policies it gets.
    policies: &'static [&'static str],
}

/// The AWS role an EKS add-on of the table needs, if any.
fn addon_role(addon: &Addon) -> Option<AddonRole> {
    match addon.id {
        "aws_ebs_csi_driver" => Some(AddonRole {
            role: "ebs_csi",
            policies: &["service-role/AmazonEBSCSIDriverPolicy"],
        }),
        "aws_efs_csi_driver" => Some(AddonRole {
            role: "efs_csi",
            policies: &["service-role/AmazonEFSCSIDriverPolicy"],
        }),
        _ => None,
    }
}

fn addons(cx: &Context, m: &mut Module, cluster: &Cluster) {
    let groups: Vec<String> = cluster
        .node_groups
        .iter()
        .map(|g| format!("aws_eks_node_group.{}", ident(&g.name.value)))
        .collect();
    for addon in cx
        .addons
        .iter()
        .filter(|a| matches!(a.source, Source::Eks { .. }))
    {
        let Source::Eks { name: addon_name } = addon.source else {
            continue;
        };
        // The add-on's default version for the cluster's Kubernetes version: without one, an
        // add-on keeps the version it was made with across a bump of the cluster.
        m.data(
            "aws_eks_addon_version",
            addon.id,
            json!({
                "addon_name": addon_name,
                "kubernetes_version": r(&format!("{}.version", cluster_ref(cluster))),
                "most_recent": false,
            }),
        );
        let mut body = json!({
            "cluster_name": r(&format!("{}.name", cluster_ref(cluster))),
            "addon_name": addon_name,
            "addon_version": r(&format!("data.aws_eks_addon_version.{}.version", addon.id)),
            "resolve_conflicts_on_create": "OVERWRITE",
            "resolve_conflicts_on_update": "PRESERVE",
        });
        let mut depends: Vec<Value> = Vec::new();
        // Pods need nodes to run on; the networking add-ons come up with the nodes.
        if !matches!(addon.id, "vpc_cni" | "kube_proxy") {
            depends.extend(groups.iter().map(|g| json!(g)));
        }
        if addon.id == addons::VPC_CNI.id {
            // The network policy agent: without it the NetworkPolicies platc writes are
            // accepted by the API server and enforced by nothing.
            body["configuration_values"] = json!(
                serde_json::to_string(&json!({"enableNetworkPolicy": "true"})).unwrap_or_default()
            );
        }
        if let Some(role) = addon_role(addon) {
            let trust = policy::pod_identity_trust(m, &format!("{}_trust", role.role));
            policy::role(
                m,
                role.role,
                &cluster_role_name(cx.platform, cluster, &role.role.replace('_', "-")),
                &format!("The {addon_name} add-on's controller, through EKS Pod Identity"),
                &trust,
            );
            policy::attach(cx, m, role.role, role.policies);
            body["pod_identity_association"] = json!({
                "role_arn": r(&format!("aws_iam_role.{}.arn", role.role)),
                "service_account": addon.workloads[0].service_account,
            });
            depends.push(json!(format!(
                "aws_eks_addon.{}",
                addons::POD_IDENTITY_AGENT.id
            )));
        }
        if !depends.is_empty() {
            body["depends_on"] = Value::Array(depends);
        }
        m.resource("aws_eks_addon", addon.id, body);
    }
}
