//! `runner.tf.json`: with a private cluster endpoint, the machine that applies the first stage
//! cannot reach the cluster's API, so the second stage (`terraform/cluster/`) runs from inside
//! the VPC: an AWS `CodeBuild` project in the private subnets, admitted to the API server by the
//! cluster's security group and to Kubernetes by an EKS access entry.
//!
//! The project takes the second stage's files as a zip from the state bucket
//! (`s3://<bucket>/<prefix>/cluster-stage.zip`, uploaded as the README shows), installs the
//! Terraform release the tree is checked with (checking the release's published SHA-256), and
//! runs `terraform plan`; with `TF_ACTION=apply` it applies that plan. Its role may read and
//! write the second stage's state and lock, read the first stage's state, write its own logs,
//! and manage the network interfaces `CodeBuild` needs in the VPC: nothing else in AWS. In the
//! cluster it is an administrator: it installs charts that create cluster roles and CRDs.
//!
//! When a service uses a database or a `DocumentDB` cluster, the second stage also creates
//! their users: the runner then reads their master secrets and reaches them on their port. For
//! `DocumentDB` it also installs `mongosh` (from the npm registry: a pinned release whose
//! tarball's SHA-512 is checked, and whose `@mongosh/cli-repl` locks every dependency with its
//! integrity in an `npm-shrinkwrap.json`) on a pinned Node.js runtime, and the Amazon RDS CA
//! bundle the clusters' certificates chain to. With a public endpoint (`endpoint=public` with
//! its CIDRs and reason) and no user to make, the second stage is applied from those networks
//! and no runner is emitted.

use serde_json::json;

use crate::emit::terraform::cluster::cluster_ref;
use crate::emit::terraform::network::{log_group, private_subnet_ids};
use crate::emit::terraform::{Context, Module, Stage, docdbs, ident, policy, r};
use crate::model::aws::{Cluster, DOCDB_PORT, Endpoint};

/// The Terraform release the runner installs: the one whose loader checks the tree.
pub const TERRAFORM_VERSION: &str = "1.15.5";
/// The Amazon Linux 2023 `CodeBuild` image: AWS CLI v2 (for `aws eks get-token`), curl, unzip,
/// Node.js runtimes.
const IMAGE: &str = "aws/codebuild/amazonlinux-x86_64-standard:5.0";
/// The Node.js runtime `mongosh` runs on (`runtime-versions`; `@mongosh/cli-repl` needs 18.19+).
const NODEJS: &str = "22";
/// The `mongosh` release the runner installs to make `DocumentDB` users, and the SHA-512 of its
/// npm tarball (the registry's `dist.integrity`, in hex).
const MONGOSH_VERSION: &str = "2.12.0";
const MONGOSH_SHA512: &str = "0bbafde421dde5d8300613d56a6a4333878e13598d613c505222430cf6878f97f45f7bb1ea7b3faeb30314290c5efd346693f665d46f2c34a0263f7011b18e20";
/// The Amazon RDS CA bundle (`DocumentDB`'s too), which no operating system trusts.
const CA_BUNDLE: &str = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";
/// Where the runner keeps that bundle, for `mongosh`'s `tlsCAFile`.
pub const DOCDB_CA_FILE: &str = "/usr/local/share/rds-global-bundle.pem";

/// Whether the platform needs the runner: a state bucket to hand the second stage over in, and
/// a second stage that must run inside the VPC (a private cluster endpoint, or database users
/// to create).
pub fn wanted(cx: &Context, cluster: &Cluster) -> bool {
    cx.aws.state.is_some()
        && (matches!(cluster.endpoint.value, Endpoint::Private)
            || !databases(cx).is_empty()
            || !docdbs::with_users(cx).is_empty())
}

/// The databases whose users the second stage keeps: every one declared (`users::providers`).
fn databases<'a>(cx: &Context<'a>) -> &'a [crate::model::aws::Database] {
    &cx.aws.databases
}

/// Where the runner takes the second stage from: `(bucket, key)`.
pub fn source(cx: &Context) -> Option<(String, String)> {
    let state = cx.aws.state.as_ref()?;
    let prefix = crate::emit::terraform::state_prefix(cx.platform, state);
    Some((
        state.bucket.value.clone(),
        format!("{prefix}/cluster-stage.zip"),
    ))
}

/// The runner's `CodeBuild` project name.
pub fn project(cx: &Context) -> String {
    format!("{}-cluster-stage", cx.name())
}

fn buildspec(docdb: bool) -> String {
    let v = TERRAFORM_VERSION;
    let zip = format!("terraform_{v}_linux_amd64.zip");
    let base = format!("https://releases.hashicorp.com/terraform/{v}");
    let mut lines = vec![
        "version: 0.2".to_owned(),
        "env:".to_owned(),
        "  variables:".to_owned(),
        "    TF_ACTION: plan".to_owned(),
        "    TF_IN_AUTOMATION: \"1\"".to_owned(),
        "phases:".to_owned(),
        "  install:".to_owned(),
    ];
    if docdb {
        lines.push("    runtime-versions:".to_owned());
        lines.push(format!("      nodejs: {NODEJS}"));
    }
    lines.extend([
        "    commands:".to_owned(),
        format!("      - curl -fsSLo /tmp/{zip} {base}/{zip}"),
        format!("      - curl -fsSLo /tmp/SHA256SUMS {base}/terraform_{v}_SHA256SUMS"),
        format!("      - (cd /tmp && grep ' {zip}$' SHA256SUMS | sha256sum -c -)"),
        format!("      - unzip -o /tmp/{zip} terraform -d /usr/local/bin"),
    ]);
    if docdb {
        // mongosh for the DocumentDB users: the tarball checked, then installed with the
        // versions and integrity hashes its shrinkwrap locks; no install scripts (the native
        // add-ons it lists are optional).
        let tgz = format!("mongosh-{MONGOSH_VERSION}.tgz");
        lines.extend([
            format!("      - curl -fsSLo /tmp/{tgz} https://registry.npmjs.org/mongosh/-/{tgz}"),
            format!("      - echo '{MONGOSH_SHA512}  /tmp/{tgz}' | sha512sum -c -"),
            format!(
                "      - npm install --global --ignore-scripts --no-audit --no-fund /tmp/{tgz}"
            ),
            // No usage telemetry from the runner (mongosh's global configuration file).
            "      - echo '{\"forceDisableTelemetry\":true}' > /etc/mongosh.conf".to_owned(),
            "      - mongosh --version".to_owned(),
            format!("      - curl -fsSLo {DOCDB_CA_FILE} {CA_BUNDLE}"),
        ]);
    }
    lines.extend([
        "  build:".to_owned(),
        "    commands:".to_owned(),
        "      - cd \"$CODEBUILD_SRC_DIR\"".to_owned(),
        "      - terraform init -input=false".to_owned(),
        "      - terraform plan -input=false -out=plan.tfplan".to_owned(),
        "      - if [ \"$TF_ACTION\" = apply ]; then terraform apply -input=false plan.tfplan; fi"
            .to_owned(),
    ]);
    lines.join("\n") + "\n"
}

pub fn module(cx: &Context, cluster: &Cluster) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cluster.span));
    let (Some(state), Some((bucket, key))) = (&cx.aws.state, source(cx)) else {
        return m;
    };
    if !wanted(cx, cluster) {
        return m;
    }
    let name = project(cx);
    let partition = cx.partition();
    let region = &cx.aws.region.value;
    let account = cx.account();
    log_group(&mut m, "runner", &format!("/aws/codebuild/{name}"));
    let trust = policy::trust(
        &mut m,
        "runner_trust",
        &["codebuild.amazonaws.com"],
        &["sts:AssumeRole"],
    );
    policy::role(
        &mut m,
        "runner",
        &name,
        "Applies the cluster stage of the Terraform tree from inside the VPC",
        &trust,
    );
    let bucket_arn = format!("arn:{partition}:s3:::{bucket}");
    let aws_state = cx.state_key(Stage::Aws).unwrap_or_default();
    let cluster_state = cx.state_key(Stage::Cluster).unwrap_or_default();
    let subnets: Vec<String> = (0..cx.zones())
        .map(|i| {
            format!(
                "arn:{partition}:ec2:{region}:{account}:subnet/{}",
                r(&format!("aws_subnet.private_{i}.id"))
            )
        })
        .collect();
    let mut interface_resources = vec![format!(
        "arn:{partition}:ec2:{region}:{account}:network-interface/*"
    )];
    interface_resources.extend(subnets.iter().cloned());
    interface_resources.push(format!(
        "arn:{partition}:ec2:{region}:{account}:security-group/{}",
        r("aws_security_group.runner.id")
    ));
    let statements = vec![
        policy::allow(
            "Logs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            &[
                r("aws_cloudwatch_log_group.runner.arn"),
                format!("{}:*", r("aws_cloudwatch_log_group.runner.arn")),
            ],
        ),
        policy::allow(
            "ReadStagesAndSource",
            &["s3:GetObject", "s3:GetObjectVersion"],
            &[
                format!("{bucket_arn}/{key}"),
                format!("{bucket_arn}/{aws_state}"),
                format!("{bucket_arn}/{cluster_state}"),
            ],
        ),
        // Terraform deletes no state; its lock file it reads, writes and deletes (the S3
        // backend's "Permissions Required").
        policy::allow(
            "WriteOwnState",
            &["s3:PutObject"],
            &[format!("{bucket_arn}/{cluster_state}")],
        ),
        policy::allow(
            "LockFile",
            &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            &[format!("{bucket_arn}/{cluster_state}.tflock")],
        ),
        policy::allow(
            "ListStateBucket",
            &["s3:ListBucket", "s3:GetBucketLocation"],
            std::slice::from_ref(&bucket_arn),
        ),
        // CodeBuild's network interfaces in the VPC (CodeBuild user guide, "VPC network
        // interface"): only in the private subnets, with the runner's security group.
        policy::allow(
            "VpcDescribe",
            &[
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
            ],
            &["*".to_owned()],
        ),
        policy::allow(
            "VpcInterfaceLifecycle",
            &["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
            &interface_resources,
        ),
        json!({
            "sid": "VpcInterfaces",
            "effect": "Allow",
            "actions": ["ec2:CreateNetworkInterfacePermission"],
            "resources": [format!("arn:{partition}:ec2:{region}:{account}:network-interface/*")],
            "condition": [
                {"test": "StringEquals", "variable": "ec2:AuthorizedService", "values": ["codebuild.amazonaws.com"]},
                {"test": "ArnEquals", "variable": "ec2:Subnet", "values": subnets},
            ],
        }),
        policy::allow(
            "LogsKey",
            &["kms:Decrypt", "kms:GenerateDataKey"],
            &[r("aws_kms_key.logs.arn")],
        ),
    ];
    let mut statements = statements;
    if let Some(table) = &state.lock_table {
        statements.push(policy::allow(
            "LockTable",
            &[
                "dynamodb:DescribeTable",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
            ],
            &[format!(
                "arn:{partition}:dynamodb:{region}:{account}:table/{}",
                table.value
            )],
        ));
    }
    if let Some(key) = &state.kms_key {
        // The states, the source and the lock file are encrypted with the bucket's key.
        statements.push(policy::allow(
            "StateKey",
            &["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            std::slice::from_ref(&key.value),
        ));
    }
    let databases = databases(cx);
    if !databases.is_empty() {
        // The master users' passwords, to create each service's database user.
        statements.push(policy::allow(
            "DatabaseMasterSecrets",
            &[
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
            ],
            &databases
                .iter()
                .map(|d| {
                    r(&format!(
                        "aws_db_instance.{}.master_user_secret[0].secret_arn",
                        ident(&d.name.value)
                    ))
                })
                .collect::<Vec<_>>(),
        ));
        let passwords: Vec<String> = databases
            .iter()
            .flat_map(|d| {
                crate::emit::terraform::users::users(cx, &d.name.value)
                    .into_iter()
                    .filter(|(_, password)| *password)
                    .map(|(user, _)| {
                        r(&format!(
                            "aws_secretsmanager_secret.{}.arn",
                            crate::emit::terraform::users::password_ident(&d.name.value, user)
                        ))
                    })
            })
            .collect();
        let key_actions: &[&str] = if passwords.is_empty() {
            &["kms:Decrypt"]
        } else {
            // The password users' secrets: a password generated by Secrets Manager, written
            // into each and read back (encrypting with the data key).
            statements.push(policy::allow(
                "DatabasePasswords",
                &[
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                &passwords,
            ));
            statements.push(policy::allow(
                "DatabasePasswordGeneration",
                &["secretsmanager:GetRandomPassword"],
                &["*".to_owned()],
            ));
            &["kms:Decrypt", "kms:GenerateDataKey"]
        };
        statements.push(policy::allow(
            "DatabaseSecretsKey",
            key_actions,
            &[r("aws_kms_key.data.arn")],
        ));
    }
    let clusters = docdbs::with_users(cx);
    if !clusters.is_empty() {
        // The DocumentDB master users' passwords, to create each service's `$external` user;
        // Secrets Manager's default key encrypts them, which needs no grant.
        statements.push(policy::allow(
            "DocdbMasterSecrets",
            &[
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
            ],
            &clusters
                .iter()
                .map(|d| {
                    r(&format!(
                        "aws_docdb_cluster.{}.master_user_secret[0].secret_arn",
                        ident(&d.name.value)
                    ))
                })
                .collect::<Vec<_>>(),
        ));
    }
    m.data(
        "aws_iam_policy_document",
        "runner",
        policy::document(statements),
    );
    m.resource(
        "aws_iam_role_policy",
        "runner",
        json!({
            "name": "cluster-stage",
            "role": r("aws_iam_role.runner.id"),
            "policy": r("data.aws_iam_policy_document.runner.json"),
        }),
    );
    m.resource(
        "aws_security_group",
        "runner",
        json!({
            "name": format!("{name}-runner"),
            "description": "The cluster-stage runner: HTTPS out to the cluster API, the registries and AWS",
            "vpc_id": r("aws_vpc.main.id"),
            "tags": {"Name": format!("{name}-runner")},
        }),
    );
    m.resource(
        "aws_vpc_security_group_egress_rule",
        "runner_https",
        json!({
            "security_group_id": r("aws_security_group.runner.id"),
            "description": "HTTPS: the cluster API, the Terraform registry, chart repositories, AWS APIs",
            "ip_protocol": "tcp",
            "from_port": 443,
            "to_port": 443,
            "cidr_ipv4": "0.0.0.0/0",
        }),
    );
    for database in databases {
        let id = ident(&database.name.value);
        let port = database.engine.value.port();
        m.resource(
            "aws_vpc_security_group_egress_rule",
            &format!("runner_db_{id}"),
            json!({
                "security_group_id": r("aws_security_group.runner.id"),
                "description": format!("The {} database", database.name.value),
                "ip_protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "referenced_security_group_id": r(&format!("aws_security_group.db_{id}.id")),
            }),
        );
        m.resource(
            "aws_vpc_security_group_ingress_rule",
            &format!("db_{id}_from_runner"),
            json!({
                "security_group_id": r(&format!("aws_security_group.db_{id}.id")),
                "description": "The cluster-stage runner creates the database users of the services",
                "ip_protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "referenced_security_group_id": r("aws_security_group.runner.id"),
            }),
        );
    }
    for docdb in clusters {
        let id = ident(&docdb.name.value);
        m.resource(
            "aws_vpc_security_group_egress_rule",
            &format!("runner_docdb_{id}"),
            json!({
                "security_group_id": r("aws_security_group.runner.id"),
                "description": format!("The {} DocumentDB cluster", docdb.name.value),
                "ip_protocol": "tcp",
                "from_port": DOCDB_PORT,
                "to_port": DOCDB_PORT,
                "referenced_security_group_id": r(&format!("aws_security_group.docdb_{id}.id")),
            }),
        );
        m.resource(
            "aws_vpc_security_group_ingress_rule",
            &format!("docdb_{id}_from_runner"),
            json!({
                "security_group_id": r(&format!("aws_security_group.docdb_{id}.id")),
                "description": "The cluster-stage runner creates the DocumentDB users of the services",
                "ip_protocol": "tcp",
                "from_port": DOCDB_PORT,
                "to_port": DOCDB_PORT,
                "referenced_security_group_id": r("aws_security_group.runner.id"),
            }),
        );
    }
    m.resource(
        "aws_vpc_security_group_ingress_rule",
        "cluster_api_from_runner",
        json!({
            "security_group_id": r(&format!("{}.vpc_config[0].cluster_security_group_id", cluster_ref(cluster))),
            "description": "The cluster API from the cluster-stage runner",
            "ip_protocol": "tcp",
            "from_port": 443,
            "to_port": 443,
            "referenced_security_group_id": r("aws_security_group.runner.id"),
        }),
    );
    m.resource(
        "aws_eks_access_entry",
        "runner",
        json!({
            "cluster_name": r(&format!("{}.name", cluster_ref(cluster))),
            "principal_arn": r("aws_iam_role.runner.arn"),
            "type": "STANDARD",
        }),
    );
    m.resource(
        "aws_eks_access_policy_association",
        "runner",
        json!({
            "cluster_name": r(&format!("{}.name", cluster_ref(cluster))),
            "principal_arn": r("aws_eks_access_entry.runner.principal_arn"),
            "policy_arn": format!("arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"),
            "access_scope": {"type": "cluster"},
        }),
    );
    m.resource(
        "aws_codebuild_project",
        "runner",
        json!({
            "name": name,
            "description": "Applies out/terraform/cluster from inside the VPC: TF_ACTION=plan (default) or apply",
            "service_role": r("aws_iam_role.runner.arn"),
            "build_timeout": 60,
            "encryption_key": r("aws_kms_key.logs.arn"),
            "source": {
                "type": "S3",
                "location": format!("{bucket}/{key}"),
                "buildspec": buildspec(!clusters.is_empty()),
            },
            "artifacts": {"type": "NO_ARTIFACTS"},
            "environment": {
                "type": "LINUX_CONTAINER",
                "compute_type": "BUILD_GENERAL1_SMALL",
                "image": IMAGE,
                "image_pull_credentials_type": "CODEBUILD",
                "privileged_mode": false,
            },
            "vpc_config": {
                "vpc_id": r("aws_vpc.main.id"),
                "subnets": private_subnet_ids(cx),
                "security_group_ids": [r("aws_security_group.runner.id")],
            },
            "logs_config": {
                "cloudwatch_logs": {
                    "status": "ENABLED",
                    "group_name": r("aws_cloudwatch_log_group.runner.name"),
                },
                "s3_logs": {"status": "DISABLED"},
            },
            // The role must hold its VPC permissions before CodeBuild checks them.
            "depends_on": ["aws_iam_role_policy.runner"],
        }),
    );
    m
}
