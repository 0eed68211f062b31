//! `identity.tf.json`: AWS permissions through EKS Pod Identity, for the services that `uses` a
//! data store and for the add-ons that call AWS.
//!
//! Each gets an IAM role that only `pods.eks.amazonaws.com` can assume, a policy that reaches
//! exactly what it needs, and an `aws_eks_pod_identity_association` binding the role to its
//! `ServiceAccount`. The association lives in AWS, so the `ServiceAccount` needs no annotation,
//! no account id and no OIDC trust: the Pod Identity agent add-on hands the credentials out. The
//! namespace and `ServiceAccount` of an add-on come from the add-on table, the same that pins
//! them in the add-on's chart values.
//!
//! - a service: its own database user through IAM authentication, its buckets' objects, its
//!   tables' items, its caches' IAM user, its queues' messages, publishing to its topics (least
//!   privilege: only the stores it declares); a `DocumentDB` cluster needs the role alone and
//!   no permission (the driver signs `sts:GetCallerIdentity`, which no policy can deny, and the
//!   cluster admits the role's ARN as a user of its `$external` database);
//! - cert-manager (DNS-01 challenges) and external-dns (the gateway hosts' records): the records
//!   of the domain's Route53 zone only;
//! - the AWS Load Balancer Controller: the load balancers, target groups and security groups it
//!   creates, identified by the `elbv2.k8s.aws/cluster` tag it puts on them (the upstream policy
//!   without WAF, Shield, Cognito and certificate discovery, which its flags turn off);
//! - the Cluster Autoscaler: the desired size of the node groups of this cluster.

use serde_json::{Value, json};

use crate::emit::terraform::cluster::cluster_ref;
use crate::emit::terraform::policy::with_condition;
use crate::emit::terraform::{Context, Module, ident, lit, policy, r, users};
use crate::model::addons::{self, Addon};
use crate::model::aws::{Cluster, Secret, SecretSource, role_name};
use crate::model::service::{Service, StoreKind};

/// The Terraform name of a store's resource.
pub fn store_ref(kind: StoreKind, name: &str) -> String {
    let kind = match kind {
        StoreKind::Database => "aws_db_instance",
        StoreKind::Bucket => "aws_s3_bucket",
        StoreKind::Table => "aws_dynamodb_table",
        StoreKind::Filesystem => "aws_efs_file_system",
        StoreKind::Cache => "aws_elasticache_replication_group",
        StoreKind::Docdb => "aws_docdb_cluster",
        StoreKind::Queue => "aws_sqs_queue",
        StoreKind::Topic => "aws_sns_topic",
        // Not made by platc: a secret exists in AWS already.
        StoreKind::Secret => "data.aws_secretsmanager_secret",
    };
    format!("{kind}.{}", ident(name))
}

pub fn module(cx: &Context, cluster: &Cluster) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cluster.span));
    for service in cx.platform.services.iter().filter(|s| !s.uses.is_empty()) {
        workload(cx, &mut m, cluster, service);
    }
    alertmanager(cx, &mut m, cluster);
    for addon in &cx.addons {
        let Some(statements) = addon_statements(cx, addon) else {
            continue;
        };
        let id = addon.id;
        let workload = &addon.workloads[0];
        bind(
            &mut m,
            cluster,
            Binding {
                id,
                role_name: &role_name(cx.platform, addon.release),
                description: &format!("The {} add-on, through EKS Pod Identity", addon.release),
                statements,
                namespace: &addon.namespace,
                service_account: workload.service_account,
            },
        );
    }
    m
}

/// The permission statements of an add-on that calls AWS; none for the others.
fn addon_statements(cx: &Context, addon: &Addon) -> Option<Vec<Value>> {
    let zone = || r("data.aws_route53_zone.main.arn");
    match addon.id {
        id if id == addons::CERT_MANAGER.id => {
            cx.aws.domain.as_ref()?;
            Some(vec![
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
                    &[zone()],
                ),
                policy::allow(
                    "FindZone",
                    &["route53:ListHostedZonesByName"],
                    &["*".to_owned()],
                ),
            ])
        }
        id if id == addons::EXTERNAL_DNS.id => Some(vec![
            policy::allow(
                "ZoneRecords",
                &[
                    "route53:ChangeResourceRecordSets",
                    "route53:ListResourceRecordSets",
                    "route53:ListTagsForResources",
                ],
                &[zone()],
            ),
            policy::allow("FindZones", &["route53:ListHostedZones"], &["*".to_owned()]),
        ]),
        id if id == addons::LOAD_BALANCER_CONTROLLER.id => Some(load_balancer_controller(cx)),
        id if id == addons::CLUSTER_AUTOSCALER.id => {
            let cluster = cx.cluster?;
            Some(vec![
                policy::allow(
                    "Discover",
                    &[
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeLaunchConfigurations",
                        "autoscaling:DescribeScalingActivities",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplateVersions",
                        "ec2:GetInstanceTypesFromInstanceRequirements",
                    ],
                    &["*".to_owned()],
                ),
                policy::allow(
                    "NodeGroups",
                    &["eks:DescribeNodegroup"],
                    &[format!(
                        "arn:{}:eks:{}:{}:nodegroup/{}/*/*",
                        cx.partition(),
                        cx.aws.region.value,
                        cx.account(),
                        cx.cluster_name(cluster)
                    )],
                ),
                // Only the Auto Scaling groups the autoscaler discovers: those tagged
                // `k8s.io/cluster-autoscaler/<cluster>` (the tag its auto-discovery matches,
                // whatever its value; EKS puts it on managed node groups).
                with_condition(
                    policy::allow(
                        "ScaleOwnGroups",
                        &[
                            "autoscaling:SetDesiredCapacity",
                            "autoscaling:TerminateInstanceInAutoScalingGroup",
                        ],
                        &["*".to_owned()],
                    ),
                    "Null",
                    &format!(
                        "aws:ResourceTag/k8s.io/cluster-autoscaler/{}",
                        cx.cluster_name(cluster)
                    ),
                    &["false".to_owned()],
                ),
            ])
        }
        _ => None,
    }
}

/// The AWS Load Balancer Controller's permissions for network load balancers: read what it
/// discovers, and change only what carries its `elbv2.k8s.aws/cluster` tag.
fn load_balancer_controller(cx: &Context) -> Vec<Value> {
    const TAG: &str = "elbv2.k8s.aws/cluster";
    let request_tagged = |s: Value| {
        with_condition(
            s,
            "Null",
            &format!("aws:RequestTag/{TAG}"),
            &["false".into()],
        )
    };
    let resource_tagged = |s: Value| {
        with_condition(
            s,
            "Null",
            &format!("aws:ResourceTag/{TAG}"),
            &["false".into()],
        )
    };
    let all = || vec!["*".to_owned()];
    let arn = |rest: &str| format!("arn:{}:{rest}", cx.partition());
    let vpc = format!(
        "arn:{}:ec2:{}:{}:vpc/{}",
        cx.partition(),
        cx.aws.region.value,
        cx.account(),
        r("aws_vpc.main.id")
    );
    let balancers = vec![
        arn("elasticloadbalancing:*:*:targetgroup/*/*"),
        arn("elasticloadbalancing:*:*:loadbalancer/net/*/*"),
    ];
    vec![
        with_condition(
            policy::allow(
                "ServiceLinkedRole",
                &["iam:CreateServiceLinkedRole"],
                &all(),
            ),
            "StringEquals",
            "iam:AWSServiceName",
            &["elasticloadbalancing.amazonaws.com".into()],
        ),
        policy::allow(
            "Discover",
            &[
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeAddresses",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeVpcs",
                "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeCoipPools",
                "ec2:DescribeIpamPools",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeTags",
                "ec2:DescribeRouteTables",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeListenerCertificates",
                "elasticloadbalancing:DescribeSSLPolicies",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTrustStores",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeCapacityReservation",
            ],
            &all(),
        ),
        policy::allow(
            "VpcSecurityGroups",
            &["ec2:GetSecurityGroupsForVpc"],
            std::slice::from_ref(&vpc),
        ),
        policy::allow(
            "CreateSecurityGroups",
            &["ec2:CreateSecurityGroup"],
            &[arn("ec2:*:*:security-group/*"), vpc],
        ),
        with_condition(
            with_condition(
                policy::allow(
                    "TagNewSecurityGroups",
                    &["ec2:CreateTags"],
                    &[arn("ec2:*:*:security-group/*")],
                ),
                "StringEquals",
                "ec2:CreateAction",
                &["CreateSecurityGroup".into()],
            ),
            "Null",
            &format!("aws:RequestTag/{TAG}"),
            &["false".into()],
        ),
        resource_tagged(policy::allow(
            "OwnSecurityGroups",
            &[
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:DeleteSecurityGroup",
                "ec2:CreateTags",
                "ec2:DeleteTags",
            ],
            &[arn("ec2:*:*:security-group/*")],
        )),
        // The targets' security group (the cluster's) gets the rules that admit the load
        // balancer; it carries no tag of the controller's.
        policy::allow(
            "TargetRules",
            &[
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
            ],
            &[arn("ec2:*:*:security-group/*")],
        ),
        request_tagged(policy::allow(
            "CreateBalancers",
            &[
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:CreateTargetGroup",
            ],
            &all(),
        )),
        with_condition(
            request_tagged(policy::allow(
                "TagNewBalancers",
                &["elasticloadbalancing:AddTags"],
                &balancers,
            )),
            "StringEquals",
            "elasticloadbalancing:CreateAction",
            &["CreateTargetGroup".into(), "CreateLoadBalancer".into()],
        ),
        resource_tagged(policy::allow(
            "OwnBalancers",
            &[
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
            ],
            &balancers,
        )),
        policy::allow(
            "Listeners",
            &[
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
            ],
            &[
                arn("elasticloadbalancing:*:*:loadbalancer/net/*/*"),
                arn("elasticloadbalancing:*:*:listener/net/*/*/*"),
            ],
        ),
        policy::allow(
            "Targets",
            &[
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
            ],
            &[arn("elasticloadbalancing:*:*:targetgroup/*/*")],
        ),
    ]
}

/// With `alerts`, Alertmanager's own role: the Secrets Store CSI driver's AWS provider reads
/// the receivers' secrets with it (through Pod Identity), and it may read those alone.
fn alertmanager(cx: &Context, m: &mut Module, cluster: &Cluster) {
    let Some(stack) = cx.addon(addons::PROMETHEUS_STACK.id) else {
        return;
    };
    let mut statements = Vec::new();
    for (i, secret) in addons::alert_secrets(cx.platform).enumerate() {
        statements.extend(secret_statements(cx, secret, &format!("Receiver{i}")));
    }
    if statements.is_empty() {
        return;
    }
    let workload = stack.workload("alertmanager");
    bind(
        m,
        cluster,
        Binding {
            id: "alertmanager",
            // After the `ServiceAccount`, as an add-on's role is after its release (a service's
            // is after the service: one named so would take it, as one named after a release).
            role_name: &role_name(cx.platform, workload.service_account),
            description: "Alertmanager's access to the secrets of its receivers",
            statements,
            namespace: &stack.namespace,
            service_account: workload.service_account,
        },
    );
}

/// What reading one `aws` secret takes: the secret alone, by name, and, for one encrypted
/// with a customer-managed key, decrypting with that key only as Secrets Manager or Parameter
/// Store does on the role's behalf.
fn secret_statements(cx: &Context, secret: &Secret, sid: &str) -> Vec<Value> {
    let arn = secret.arn(lit, cx.partition(), &cx.aws.region.value, &cx.account());
    let actions: &[&str] = match secret.source.value {
        SecretSource::SecretsManager => &[
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
        ],
        SecretSource::Ssm => &["ssm:GetParameters"],
    };
    let mut statements = vec![policy::allow(sid, actions, &[arn])];
    if let Some(key) = &secret.kms_key {
        let via = match secret.source.value {
            SecretSource::SecretsManager => "secretsmanager",
            SecretSource::Ssm => "ssm",
        };
        let mut statement = policy::allow(
            &format!("{sid}Key"),
            &["kms:Decrypt"],
            std::slice::from_ref(&key.value),
        );
        statement["condition"] = json!([{
            "test": "StringEquals",
            "variable": "kms:ViaService",
            "values": [format!("{via}.{}.amazonaws.com", cx.aws.region.value)],
        }]);
        statements.push(statement);
    }
    statements
}

/// One role bound to one `ServiceAccount`.
struct Binding<'a> {
    id: &'a str,
    role_name: &'a str,
    description: &'a str,
    statements: Vec<Value>,
    namespace: &'a str,
    service_account: &'a str,
}

fn bind(m: &mut Module, cluster: &Cluster, binding: Binding) {
    let id = binding.id;
    let trust = policy::pod_identity_trust(m, &format!("{id}_trust"));
    policy::role(m, id, binding.role_name, binding.description, &trust);
    if !binding.statements.is_empty() {
        m.data(
            "aws_iam_policy_document",
            id,
            policy::document(binding.statements),
        );
        m.resource(
            "aws_iam_role_policy",
            id,
            json!({
                "name": "platc",
                "role": r(&format!("aws_iam_role.{id}.id")),
                "policy": r(&format!("data.aws_iam_policy_document.{id}.json")),
            }),
        );
    }
    m.resource(
        "aws_eks_pod_identity_association",
        id,
        json!({
            "cluster_name": r(&format!("{}.name", cluster_ref(cluster))),
            "namespace": binding.namespace,
            "service_account": binding.service_account,
            "role_arn": r(&format!("aws_iam_role.{id}.arn")),
            "depends_on": [format!("aws_eks_addon.{}", addons::POD_IDENTITY_AGENT.id)],
        }),
    );
}

fn workload(cx: &Context, m: &mut Module, cluster: &Cluster, service: &Service) {
    let name = &service.name.value;
    let mut statements: Vec<Value> = Vec::new();
    let mut encrypted = false;
    let mut read_secrets: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    // A role with no permission still has an identity: `DocumentDB` authenticates it.
    let mut identity_only = false;
    for (i, used) in service.uses.iter().enumerate() {
        let store = store_ref(used.kind.value, &used.name.value);
        let sid = format!("Use{i}");
        match used.kind.value {
            StoreKind::Database if used.password_auth() => {
                // The password of its own user, from its own secret, which the Secrets Store
                // CSI driver reads with this role; decrypted with the data key through
                // Secrets Manager only.
                let secret = format!(
                    "aws_secretsmanager_secret.{}.arn",
                    users::password_ident(&used.name.value, name)
                );
                if !read_secrets.insert(secret.clone()) {
                    continue;
                }
                statements.push(policy::allow(
                    &sid,
                    &[
                        "secretsmanager:DescribeSecret",
                        "secretsmanager:GetSecretValue",
                    ],
                    &[r(&secret)],
                ));
                let mut statement = policy::allow(
                    &format!("{sid}Key"),
                    &["kms:Decrypt"],
                    &[r("aws_kms_key.data.arn")],
                );
                statement["condition"] = json!([{
                    "test": "StringEquals",
                    "variable": "kms:ViaService",
                    "values": [format!("secretsmanager.{}.amazonaws.com", cx.aws.region.value)],
                }]);
                statements.push(statement);
            }
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
            StoreKind::Cache => {
                // IAM authentication as the cache's user: `Connect` names both the replication
                // group and the user.
                statements.push(policy::allow(
                    &sid,
                    &["elasticache:Connect"],
                    &[
                        r(&format!("{store}.arn")),
                        r(&format!(
                            "aws_elasticache_user.{}.arn",
                            ident(&used.name.value)
                        )),
                    ],
                ));
            }
            StoreKind::Docdb => identity_only = true,
            StoreKind::Queue => {
                encrypted = true;
                statements.push(policy::allow(
                    &sid,
                    &[
                        "sqs:ChangeMessageVisibility",
                        "sqs:DeleteMessage",
                        "sqs:GetQueueAttributes",
                        "sqs:GetQueueUrl",
                        "sqs:ReceiveMessage",
                        "sqs:SendMessage",
                    ],
                    &[r(&format!("{store}.arn"))],
                ));
            }
            StoreKind::Topic => {
                encrypted = true;
                statements.push(policy::allow(
                    &sid,
                    &["sns:Publish"],
                    &[r(&format!("{store}.arn"))],
                ));
            }
            StoreKind::Filesystem => {
                // The node's CSI driver mounts the file system; the pod needs no AWS call.
            }
            StoreKind::Secret => {
                // The Secrets Store CSI driver's AWS provider reads it with this role (the
                // pod's, through Pod Identity): the declared secret alone, by name.
                let Some(secret) = cx
                    .aws
                    .secrets
                    .iter()
                    .find(|s| s.name.value == used.name.value)
                else {
                    continue;
                };
                if !read_secrets.insert(secret.name.value.clone()) {
                    continue;
                }
                statements.extend(secret_statements(cx, secret, &sid));
            }
        }
    }
    if encrypted {
        // Buckets, tables, queues and topics are encrypted with the platform's data key.
        statements.push(policy::allow(
            "DataKey",
            &["kms:Decrypt", "kms:GenerateDataKey"],
            &[r("aws_kms_key.data.arn")],
        ));
    }
    if statements.is_empty() && !identity_only {
        return;
    }
    bind(
        m,
        cluster,
        Binding {
            id: &format!("svc_{}", ident(name)),
            role_name: &role_name(cx.platform, name),
            description: &format!("The {name} service's access to its data stores"),
            statements,
            namespace: &service.namespace,
            service_account: name,
        },
    );
}
