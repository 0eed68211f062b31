//! `identity.tf.json`: AWS permissions for the services that `uses` a data store, through EKS
//! Pod Identity.
//!
//! Per such service: an IAM role that only `pods.eks.amazonaws.com` can assume, a policy that
//! reaches exactly the stores the service declares (least privilege: its own database user
//! through IAM authentication, its buckets' objects, its tables' items, its file systems), and
//! an `aws_eks_pod_identity_association` binding the role to the service's `ServiceAccount`.
//! The association lives in AWS, so the `ServiceAccount` needs no annotation, no account id and
//! no OIDC trust per service: the Pod Identity agent add-on hands the credentials out.
//!
//! cert-manager gets the same kind of role when its `ClusterIssuer` answers DNS-01 challenges in
//! the domain's Route53 zone: it may change and list the records of that zone only, read the
//! status of its changes, and find the zone by name (an action that names no resource).

use serde_json::{Value, json};

use crate::emit::terraform::{Context, Module, addons, ident, policy, r};
use crate::model::aws::Cluster;
use crate::model::service::{Service, StoreKind};

/// The Terraform name of a store's resource.
pub fn store_ref(kind: StoreKind, name: &str) -> String {
    let kind = match kind {
        StoreKind::Database => "aws_db_instance",
        StoreKind::Bucket => "aws_s3_bucket",
        StoreKind::Table => "aws_dynamodb_table",
        StoreKind::Filesystem => "aws_efs_file_system",
    };
    format!("{kind}.{}", ident(name))
}

/// The Terraform name of cert-manager's role, policy and association.
pub const CERT_MANAGER: &str = "cert_manager";

pub fn module(cx: &Context, cluster: &Cluster) -> Module {
    let mut m = Module::new(&cx.platform.origin.locate(cluster.span));
    for service in cx.platform.services.iter().filter(|s| !s.uses.is_empty()) {
        workload(cx, &mut m, cluster, service);
    }
    if cx.aws.domain.is_some() && addons::cert_manager_wanted(cx) {
        cert_manager(cx, &mut m, cluster);
    }
    m
}

/// cert-manager's DNS-01 access to the domain's hosted zone (`domain.tf.json` looks it up).
fn cert_manager(cx: &Context, m: &mut Module, cluster: &Cluster) {
    let id = CERT_MANAGER;
    let trust = policy::pod_identity_trust(m, &format!("{id}_trust"));
    policy::role(
        m,
        id,
        &format!("{}-cert-manager", cx.name()),
        "cert-manager's DNS-01 challenges in the domain's Route53 zone",
        &trust,
    );
    let zone = r("data.aws_route53_zone.main.arn");
    let statements = vec![
        policy::allow(
            "ChangeStatus",
            &["route53:GetChange"],
            &[format!("arn:{}:route53:::change/*", cx.partition())],
        ),
        policy::allow(
            "ZoneRecords",
            &[
                "route53:ChangeResourceRecordSets",
                "route53:ListResourceRecordSets",
            ],
            &[zone],
        ),
        policy::allow(
            "FindZone",
            &["route53:ListHostedZonesByName"],
            &["*".to_owned()],
        ),
    ];
    m.data("aws_iam_policy_document", id, policy::document(statements));
    m.resource(
        "aws_iam_role_policy",
        id,
        json!({
            "name": "route53-dns01",
            "role": r(&format!("aws_iam_role.{id}.id")),
            "policy": r(&format!("data.aws_iam_policy_document.{id}.json")),
        }),
    );
    m.resource(
        "aws_eks_pod_identity_association",
        id,
        json!({
            "cluster_name": r(&format!("{}.name", crate::emit::terraform::cluster::cluster_ref(cluster))),
            "namespace": addons::CERT_MANAGER_NAMESPACE,
            "service_account": addons::CERT_MANAGER_SERVICE_ACCOUNT,
            "role_arn": r(&format!("aws_iam_role.{id}.arn")),
            "depends_on": ["aws_eks_addon.eks_pod_identity_agent"],
        }),
    );
}

fn workload(cx: &Context, m: &mut Module, cluster: &Cluster, service: &Service) {
    let name = &service.name.value;
    let id = format!("svc_{}", ident(name));
    let trust = policy::pod_identity_trust(m, &format!("{id}_trust"));
    policy::role(
        m,
        &id,
        &format!("{}-{name}", cx.name()),
        &format!("The {name} service's access to its data stores"),
        &trust,
    );
    let mut statements: Vec<Value> = Vec::new();
    let mut encrypted = false;
    for (i, used) in service.uses.iter().enumerate() {
        let store = store_ref(used.kind.value, &used.name.value);
        let sid = format!("Use{i}");
        match used.kind.value {
            StoreKind::Database => {
                // IAM database authentication as the database user named after the service.
                let user = format!(
                    "arn:{}:rds-db:{}:{}:dbuser:{}/{name}",
                    cx.partition(),
                    cx.aws.region.value,
                    cx.account(),
                    r(&format!("{store}.resource_id")),
                );
                statements.push(policy::allow(&sid, &["rds-db:connect"], &[user]));
            }
            StoreKind::Bucket => {
                encrypted = true;
                statements.push(policy::allow(
                    &format!("{sid}List"),
                    &["s3:ListBucket", "s3:GetBucketLocation"],
                    &[r(&format!("{store}.arn"))],
                ));
                statements.push(policy::allow(
                    &format!("{sid}Objects"),
                    &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    &[format!("{}/*", r(&format!("{store}.arn")))],
                ));
            }
            StoreKind::Table => {
                encrypted = true;
                statements.push(policy::allow(
                    &sid,
                    &[
                        "dynamodb:BatchGetItem",
                        "dynamodb:BatchWriteItem",
                        "dynamodb:ConditionCheckItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:DescribeTable",
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:Query",
                        "dynamodb:Scan",
                        "dynamodb:UpdateItem",
                    ],
                    &[
                        r(&format!("{store}.arn")),
                        format!("{}/index/*", r(&format!("{store}.arn"))),
                    ],
                ));
            }
            StoreKind::Filesystem => {
                statements.push(policy::allow(
                    &sid,
                    &[
                        "elasticfilesystem:ClientMount",
                        "elasticfilesystem:ClientWrite",
                    ],
                    &[r(&format!("{store}.arn"))],
                ));
            }
        }
    }
    if encrypted {
        // Buckets and tables are encrypted with the platform's data key.
        statements.push(policy::allow(
            "DataKey",
            &["kms:Decrypt", "kms:GenerateDataKey"],
            &[r("aws_kms_key.data.arn")],
        ));
    }
    m.data("aws_iam_policy_document", &id, policy::document(statements));
    m.resource(
        "aws_iam_role_policy",
        &id,
        json!({
            "name": "data-stores",
            "role": r(&format!("aws_iam_role.{id}.id")),
            "policy": r(&format!("data.aws_iam_policy_document.{id}.json")),
        }),
    );
    m.resource(
        "aws_eks_pod_identity_association",
        &id,
        json!({
            "cluster_name": r(&format!("{}.name", crate::emit::terraform::cluster::cluster_ref(cluster))),
            "namespace": service.namespace,
            "service_account": name,
            "role_arn": r(&format!("aws_iam_role.{id}.arn")),
            "depends_on": ["aws_eks_addon.eks_pod_identity_agent"],
        }),
    );
}
