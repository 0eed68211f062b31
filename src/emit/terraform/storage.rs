//! `storage.tf.json`: the platform's data key and its buckets, tables, file systems and image
//! repositories.
//!
//! S3: versioning, SSE-KMS with a bucket key, the public access block, owner-enforced object
//! ownership, a lifecycle that ends incomplete uploads and old versions, and a policy denying
//! any request without TLS. `DynamoDB`: on demand, SSE with the data key, point-in-time recovery,
//! deletion protection. EFS: encrypted, backed up, TLS-only, mount targets in each private
//! subnet behind a security group admitting only the cluster's nodes. ECR: scan on push,
//! immutable tags, KMS encryption, a lifecycle that drops untagged images.

use serde_json::{Value, json};

use crate::emit::terraform::cluster::cluster_ref;
use crate::emit::terraform::{Context, Module, ident, lit, policy, r};
use crate::model::aws::{
    Bucket, Filesystem, Repository, Table, bucket_name, filesystem_token, repository_name,
};

/// Whether anything is encrypted with the data key.
pub fn has_data_key(cx: &Context) -> bool {
    let aws = cx.aws;
    !(aws.databases.is_empty()
        && aws.buckets.is_empty()
        && aws.tables.is_empty()
        && aws.filesystems.is_empty()
        && aws.caches.is_empty()
        && aws.docdbs.is_empty()
        && aws.queues.is_empty()
        && aws.topics.is_empty()
        && aws.repositories.is_empty())
}

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cx.aws.span));
    if !has_data_key(cx) {
        return m;
    }
    // SNS encrypts what it delivers to a subscribed queue with the queue's key.
    let services = if cx.aws.queues.iter().any(|q| q.subscribe.is_some()) {
        vec![crate::emit::terraform::messaging::sns_delivery_statement()]
    } else {
        Vec::new()
    };
    policy::kms_key(
        cx,
        &mut m,
        "data",
        "data stores and image repositories",
        services,
    );
    for bucket in &cx.aws.buckets {
        self::bucket(cx, &mut m, bucket);
    }
    for table in &cx.aws.tables {
        self::table(cx, &mut m, table);
    }
    for filesystem in &cx.aws.filesystems {
        self::filesystem(cx, &mut m, filesystem);
    }
    for repository in &cx.aws.repositories {
        self::repository(cx, &mut m, repository);
    }
    m
}

fn bucket(cx: &Context, m: &mut Module, bucket: &Bucket) {
    let id = ident(&bucket.name.value);
    let this = r(&format!("aws_s3_bucket.{id}.id"));
    // In the account's regional namespace: a name no other account can take first.
    m.resource(
        "aws_s3_bucket",
        &id,
        json!({
            "bucket": bucket_name(cx.platform, cx.aws, &bucket.name.value),
            "bucket_namespace": "account-regional",
            "force_destroy": false,
        }),
    );
    m.resource(
        "aws_s3_bucket_versioning",
        &id,
        json!({
            "bucket": this,
            "versioning_configuration": {
                "status": if bucket.versioned.value { "Enabled" } else { "Suspended" },
            },
        }),
    );
    m.resource(
        "aws_s3_bucket_server_side_encryption_configuration",
        &id,
        json!({
            "bucket": this,
            "rule": {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": r("aws_kms_key.data.arn"),
                },
                "bucket_key_enabled": true,
            },
        }),
    );
    m.resource(
        "aws_s3_bucket_public_access_block",
        &id,
        json!({
            "bucket": this,
            "block_public_acls": true,
            "block_public_policy": true,
            "ignore_public_acls": true,
            "restrict_public_buckets": true,
        }),
    );
    m.resource(
        "aws_s3_bucket_ownership_controls",
        &id,
        json!({"bucket": this, "rule": {"object_ownership": "BucketOwnerEnforced"}}),
    );
    m.resource(
        "aws_s3_bucket_lifecycle_configuration",
        &id,
        json!({
            "bucket": this,
            "rule": [{
                "id": "tidy",
                "status": "Enabled",
                "filter": {},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                "noncurrent_version_expiration": {"noncurrent_days": 90},
            }],
        }),
    );
    let arn = r(&format!("aws_s3_bucket.{id}.arn"));
    m.data(
        "aws_iam_policy_document",
        &format!("bucket_{id}"),
        policy::document(vec![policy::deny_insecure_transport(
            &["s3:*"],
            &[arn.clone(), format!("{arn}/*")],
        )]),
    );
    m.resource(
        "aws_s3_bucket_policy",
        &id,
        json!({
            "bucket": this,
            "policy": r(&format!("data.aws_iam_policy_document.bucket_{id}.json")),
            // The public access block first, so that S3 judges the policy with it in place.
            "depends_on": [format!("aws_s3_bucket_public_access_block.{id}")],
        }),
    );
}

fn table(cx: &Context, m: &mut Module, table: &Table) {
    let hash_key = lit(&table.hash_key.value);
    let mut attributes = vec![json!({"name": hash_key, "type": "S"})];
    let mut body = json!({
        "name": format!("{}-{}", cx.name(), table.name.value),
        "billing_mode": "PAY_PER_REQUEST",
        "hash_key": hash_key,
        "server_side_encryption": {"enabled": true, "kms_key_arn": r("aws_kms_key.data.arn")},
        "point_in_time_recovery": {"enabled": true},
        "deletion_protection_enabled": true,
    });
    if let Some(range) = &table.range_key {
        let range = lit(&range.value);
        body["range_key"] = json!(range);
        attributes.push(json!({"name": range, "type": "S"}));
    }
    body["attribute"] = json!(attributes);
    m.resource("aws_dynamodb_table", &ident(&table.name.value), body);
}

fn filesystem(cx: &Context, m: &mut Module, filesystem: &Filesystem) {
    let id = ident(&filesystem.name.value);
    let name = filesystem_token(cx.platform, &filesystem.name.value);
    m.resource(
        "aws_efs_file_system",
        &id,
        json!({
            "creation_token": name,
            "encrypted": true,
            "kms_key_id": r("aws_kms_key.data.arn"),
            "performance_mode": "generalPurpose",
            "throughput_mode": "elastic",
            "lifecycle_policy": [{"transition_to_ia": "AFTER_30_DAYS"}],
            "tags": {"Name": name},
        }),
    );
    m.resource(
        "aws_efs_backup_policy",
        &id,
        json!({
            "file_system_id": r(&format!("aws_efs_file_system.{id}.id")),
            "backup_policy": {"status": "ENABLED"},
        }),
    );
    // A file system policy replaces EFS's default one, which lets any client that reaches a
    // mount target in: alone, the deny of plain NFS would leave no client allowed to mount
    // (the EFS CSI driver mounts without IAM by default, as an anonymous client). So, as the
    // EFS console's "enforce in-transit encryption" policy does: mounts and writes through a
    // mount target (in the private subnets, open to the nodes alone) are allowed, root
    // access is not (the pods' volumes are access points with their own owner), and
    // anything not over TLS is denied.
    let arn = r(&format!("aws_efs_file_system.{id}.arn"));
    m.data(
        "aws_iam_policy_document",
        &format!("efs_{id}"),
        policy::document(vec![
            mount_through_mount_targets(&arn),
            policy::deny_insecure_transport(&["elasticfilesystem:*"], &[arn]),
        ]),
    );
    m.resource(
        "aws_efs_file_system_policy",
        &id,
        json!({
            "file_system_id": r(&format!("aws_efs_file_system.{id}.id")),
            "policy": r(&format!("data.aws_iam_policy_document.efs_{id}.json")),
        }),
    );
    m.resource(
        "aws_security_group",
        &format!("efs_{id}"),
        json!({
            "name": format!("{name}-efs"),
            "description": format!("The {} file system: NFS from the cluster nodes only", filesystem.name.value),
            "vpc_id": r("aws_vpc.main.id"),
            "tags": {"Name": format!("{name}-efs")},
        }),
    );
    if let Some(cluster) = cx.cluster {
        m.resource(
            "aws_vpc_security_group_ingress_rule",
            &format!("efs_{id}_from_nodes"),
            json!({
                "security_group_id": r(&format!("aws_security_group.efs_{id}.id")),
                "description": "NFS from the cluster nodes",
                "ip_protocol": "tcp",
                "from_port": 2049,
                "to_port": 2049,
                "referenced_security_group_id": r(&format!(
                    "{}.vpc_config[0].cluster_security_group_id", cluster_ref(cluster)
                )),
            }),
        );
    }
    for i in 0..cx.zones() {
        m.resource(
            "aws_efs_mount_target",
            &format!("{id}_{i}"),
            json!({
                "file_system_id": r(&format!("aws_efs_file_system.{id}.id")),
                "subnet_id": r(&format!("aws_subnet.private_{i}.id")),
                "security_groups": [r(&format!("aws_security_group.efs_{id}.id"))],
            }),
        );
    }
}

/// Mounts and writes of the file system `arn` by anyone who reaches a mount target.
fn mount_through_mount_targets(arn: &str) -> Value {
    let mut statement = policy::with_condition(
        policy::allow(
            "MountThroughMountTargets",
            &[
                "elasticfilesystem:ClientMount",
                "elasticfilesystem:ClientWrite",
            ],
            &[arn.to_owned()],
        ),
        "Bool",
        "elasticfilesystem:AccessedViaMountTarget",
        &["true".to_owned()],
    );
    statement["principals"] = json!([{"type": "AWS", "identifiers": ["*"]}]);
    statement
}

fn repository(cx: &Context, m: &mut Module, repository: &Repository) {
    let id = ident(&repository.name.value);
    m.resource(
        "aws_ecr_repository",
        &id,
        json!({
            "name": repository_name(cx.platform, &repository.name.value),
            "image_tag_mutability": "IMMUTABLE",
            "image_scanning_configuration": {"scan_on_push": true},
            "encryption_configuration": {
                "encryption_type": "KMS",
                "kms_key": r("aws_kms_key.data.arn"),
            },
        }),
    );
    let rules = json!({"rules": [{
        "rulePriority": 1,
        "description": "Drop untagged images after 14 days",
        "selection": {
            "tagStatus": "untagged",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 14,
        },
        "action": {"type": "expire"},
    }]});
    m.resource(
        "aws_ecr_lifecycle_policy",
        &id,
        json!({
            "repository": r(&format!("aws_ecr_repository.{id}.name")),
            "policy": serde_json::to_string(&rules).unwrap_or_default(),
        }),
    );
}
