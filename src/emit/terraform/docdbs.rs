//! `docdbs.tf.json`: an Amazon `DocumentDB` (instance-based) cluster per `docdb`.
//!
//! Each in a subnet group of the private subnets, behind a security group that admits only the
//! cluster's nodes (and so its pods) on port 27017; storage encrypted with the platform's data
//! key; TLS enforced and audit and profiler logs on through its cluster parameter group, both
//! exported to `CloudWatch`; backups kept 7 days; deletion protected, with a final snapshot;
//! the master password generated and kept by AWS Secrets Manager
//! (`manage_master_user_password`), never in the tree or its state. Its instances (the primary
//! and its replicas) are spread over the zones by `DocumentDB` itself.
//!
//! Services authenticate with IAM (`MONGODB-AWS`, `DocumentDB` 5.0): each signs with its
//! own Pod Identity role, which needs no permission; the cluster admits the role's ARN once it
//! is a user of its `$external` database, which the second stage makes (`docdb_users.rs`).

use serde_json::{Value, json};

use crate::emit::terraform::cluster::cluster_ref;
use crate::emit::terraform::network::log_group;
use crate::emit::terraform::{Context, Module, ident, r};
use crate::model::aws::{DOCDB_PORT, Docdb, docdb_identifier};
use crate::model::service::StoreKind;

/// The logs each cluster exports to `CloudWatch` (its parameter group turns both on).
const LOGS: [&str; 2] = ["audit", "profiler"];

/// The services that use a `DocumentDB` cluster: the `$external` users it needs, one per
/// service's role.
pub fn users<'a>(cx: &'a Context, docdb: &str) -> Vec<&'a str> {
    cx.platform
        .services
        .iter()
        .filter(|s| {
            s.uses
                .iter()
                .any(|u| u.kind.value == StoreKind::Docdb && u.name.value == docdb)
        })
        .map(|s| s.name.value.as_str())
        .collect()
}

/// The clusters whose users the second stage keeps, when the platform has an EKS cluster (and
/// so the services' roles): every one declared, whether a service uses it or not, so that the
/// users of the last service to stop using one are dropped too (`docdb_users`).
pub fn with_users<'a>(cx: &Context<'a>) -> &'a [Docdb] {
    if cx.cluster.is_none() {
        return &[];
    }
    &cx.aws.docdbs
}

/// The master user's name: letters and digits only, as `DocumentDB` requires.
const MASTER_USER: &str = "platcadmin";

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cx.aws.span));
    for docdb in &cx.aws.docdbs {
        cluster(cx, &mut m, docdb);
    }
    m
}

fn cluster(cx: &Context, m: &mut Module, docdb: &Docdb) {
    let id = ident(&docdb.name.value);
    let identifier = docdb_identifier(cx.platform, &docdb.name.value);
    let what = &docdb.name.value;
    m.resource(
        "aws_docdb_subnet_group",
        &id,
        json!({
            "name": identifier,
            "description": format!("Private subnets of the {what} DocumentDB cluster"),
            "subnet_ids": crate::emit::terraform::network::private_subnet_ids(cx),
        }),
    );
    let parameters = [
        ("audit_logs", "enabled"),
        ("profiler", "enabled"),
        ("profiler_threshold_ms", "1000"),
        ("tls", "enabled"),
    ];
    m.resource(
        "aws_docdb_cluster_parameter_group",
        &id,
        json!({
            "name": identifier,
            "family": format!("docdb{}", docdb.version.value),
            "description": format!("TLS and audit logs for the {what} DocumentDB cluster"),
            "parameter": parameters
                .iter()
                .map(|(name, value)| json!({"name": name, "value": value}))
                .collect::<Vec<Value>>(),
        }),
    );
    m.resource(
        "aws_security_group",
        &format!("docdb_{id}"),
        json!({
            "name": format!("{identifier}-docdb"),
            "description": format!("The {what} DocumentDB cluster: reachable from the cluster nodes only"),
            "vpc_id": r("aws_vpc.main.id"),
            "tags": {"Name": format!("{identifier}-docdb")},
        }),
    );
    if let Some(cluster) = cx.cluster {
        m.resource(
            "aws_vpc_security_group_ingress_rule",
            &format!("docdb_{id}_from_nodes"),
            json!({
                "security_group_id": r(&format!("aws_security_group.docdb_{id}.id")),
                "description": "DocumentDB from the cluster nodes",
                "ip_protocol": "tcp",
                "from_port": DOCDB_PORT,
                "to_port": DOCDB_PORT,
                "referenced_security_group_id": r(&format!(
                    "{}.vpc_config[0].cluster_security_group_id", cluster_ref(cluster)
                )),
            }),
        );
    }
    // The groups `DocumentDB` exports to, `/aws/docdb/<cluster>/<log>`.
    let groups: Vec<String> = LOGS
        .iter()
        .map(|log| {
            let name = format!("/aws/docdb/{identifier}/{log}");
            log_group(m, &format!("docdb_{id}_{log}"), &name)
        })
        .collect();
    m.resource(
        "aws_docdb_cluster",
        &id,
        json!({
            "cluster_identifier": identifier,
            "engine": "docdb",
            "engine_version": format!("{}.0", docdb.version.value),
            "port": DOCDB_PORT,
            "master_username": MASTER_USER,
            "manage_master_user_password": true,
            "storage_encrypted": true,
            "kms_key_id": r("aws_kms_key.data.arn"),
            "db_subnet_group_name": r(&format!("aws_docdb_subnet_group.{id}.name")),
            "db_cluster_parameter_group_name": r(&format!("aws_docdb_cluster_parameter_group.{id}.name")),
            "vpc_security_group_ids": [r(&format!("aws_security_group.docdb_{id}.id"))],
            "backup_retention_period": 7,
            "deletion_protection": true,
            "skip_final_snapshot": false,
            "final_snapshot_identifier": format!("{identifier}-final"),
            "enabled_cloudwatch_logs_exports": LOGS,
            "depends_on": groups,
        }),
    );
    for n in 1..=docdb.instances.value {
        m.resource(
            "aws_docdb_cluster_instance",
            &format!("{id}_{n}"),
            json!({
                "identifier": format!("{identifier}-{n}"),
                "cluster_identifier": r(&format!("aws_docdb_cluster.{id}.id")),
                "instance_class": docdb.class.value.to_string(),
                "auto_minor_version_upgrade": true,
                "copy_tags_to_snapshot": true,
            }),
        );
    }
}
