//! `aws/outputs.tf.json`: what the next steps read from the first stage. The cluster stage reads
//! the cluster's name, endpoint, CA and VPC, each database's address, the `DynamoDB` endpoint's
//! URL, each file system's id, each cache's address, each `DocumentDB` cluster's endpoint and connection string, each queue's URL and each topic's ARN through its remote state; people read the kubeconfig command
//! and the runner's project and source.

use serde_json::json;

use crate::emit::terraform::cluster::cluster_ref;
use crate::emit::terraform::endpoints::{endpoint_ref, interface_endpoints};
use crate::emit::terraform::stores::endpoint_output;
use crate::emit::terraform::{Context, Module, ident, r, runner};
use crate::model::aws::StoreEndpoint;

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cx.aws.span));
    m.output("vpc_id", "The VPC's id", r("aws_vpc.main.id"));
    m.output(
        "private_subnet_ids",
        "The private subnets, one per zone",
        json!(crate::emit::terraform::network::private_subnet_ids(cx)),
    );
    if let Some(cluster) = cx.cluster {
        let eks = cluster_ref(cluster);
        m.output(
            "cluster_name",
            "The EKS cluster's name",
            r(&format!("{eks}.name")),
        );
        m.output(
            "cluster_endpoint",
            "The EKS API server's endpoint",
            r(&format!("{eks}.endpoint")),
        );
        m.output(
            "cluster_ca",
            "The cluster's CA certificate (base64)",
            r(&format!("{eks}.certificate_authority[0].data")),
        );
        m.output(
            "cluster_oidc_issuer",
            "The cluster's OIDC issuer URL",
            r(&format!("{eks}.identity[0].oidc[0].issuer")),
        );
        m.output(
            "kubeconfig_command",
            "Writes a kubeconfig entry for the cluster",
            format!(
                "aws eks update-kubeconfig --region {} --name {}",
                cx.aws.region.value,
                cx.cluster_name(cluster)
            ),
        );
        if runner::wanted(cx, cluster)
            && let Some((bucket, key)) = runner::source(cx)
        {
            m.output(
                "runner_project",
                "The CodeBuild project that applies terraform/cluster from inside the VPC",
                r("aws_codebuild_project.runner.name"),
            );
            m.output(
                "runner_source",
                "Where the runner takes terraform/cluster from (a zip of the directory)",
                format!("s3://{bucket}/{key}"),
            );
        }
    }
    for database in &cx.aws.databases {
        let id = ident(&database.name.value);
        m.output(
            &endpoint_output(&StoreEndpoint::Database(database.name.value.clone())),
            &format!(
                "The {} database instance's address (IAM tokens are signed for it)",
                database.name.value
            ),
            r(&format!("aws_db_instance.{id}.address")),
        );
        m.output(
            &format!("database_{id}_master_secret"),
            &format!(
                "The Secrets Manager secret of the {} database's master user",
                database.name.value
            ),
            r(&format!(
                "aws_db_instance.{id}.master_user_secret[0].secret_arn"
            )),
        );
        for (user, _) in crate::emit::terraform::users::users(cx, &database.name.value)
            .into_iter()
            .filter(|(_, password)| *password)
        {
            m.output(
                &crate::emit::terraform::users::password_output(&database.name.value, user),
                &format!(
                    "The Secrets Manager secret of the {user} service's password for the {} database",
                    database.name.value
                ),
                r(&format!(
                    "aws_secretsmanager_secret.{}.arn",
                    crate::emit::terraform::users::password_ident(&database.name.value, user)
                )),
            );
        }
    }
    if interface_endpoints(cx)
        .iter()
        .any(|(service, _)| *service == "dynamodb")
    {
        m.output(
            &endpoint_output(&StoreEndpoint::Dynamodb),
            "The DynamoDB interface endpoint's URL (it has no private DNS)",
            format!(
                "https://{}",
                r(&format!(
                    "{}.dns_entry[0].dns_name",
                    endpoint_ref("dynamodb")
                ))
            ),
        );
    }
    for bucket in &cx.aws.buckets {
        let id = ident(&bucket.name.value);
        m.output(
            &format!("bucket_{id}"),
            &format!("The {} bucket's name", bucket.name.value),
            r(&format!("aws_s3_bucket.{id}.bucket")),
        );
    }
    for table in &cx.aws.tables {
        let id = ident(&table.name.value);
        m.output(
            &format!("table_{id}"),
            &format!("The {} table's name", table.name.value),
            r(&format!("aws_dynamodb_table.{id}.name")),
        );
    }
    for filesystem in &cx.aws.filesystems {
        let id = ident(&filesystem.name.value);
        m.output(
            &format!("filesystem_{id}_id"),
            &format!("The {} file system's id", filesystem.name.value),
            r(&format!("aws_efs_file_system.{id}.id")),
        );
    }
    for cache in &cx.aws.caches {
        m.output(
            &endpoint_output(&StoreEndpoint::Cache(cache.name.value.clone())),
            &format!("The {} cache's primary endpoint address", cache.name.value),
            r(&format!(
                "aws_elasticache_replication_group.{}.primary_endpoint_address",
                ident(&cache.name.value)
            )),
        );
    }
    for docdb in &cx.aws.docdbs {
        let id = ident(&docdb.name.value);
        let endpoint = r(&format!("aws_docdb_cluster.{id}.endpoint"));
        m.output(
            &endpoint_output(&StoreEndpoint::Docdb(docdb.name.value.clone())),
            &format!(
                "The {} DocumentDB cluster's endpoint (its primary)",
                docdb.name.value
            ),
            endpoint.clone(),
        );
        m.output(
            &endpoint_output(&StoreEndpoint::DocdbUri(docdb.name.value.clone())),
            &format!(
                "The {} DocumentDB cluster's connection string (IAM authentication, TLS)",
                docdb.name.value
            ),
            // The path names the database the services' users may read and write: the
            // drivers' default database.
            format!(
                "mongodb://{endpoint}:{}/{}?{}",
                crate::model::aws::DOCDB_PORT,
                docdb.name.value,
                crate::model::aws::DOCDB_URI_QUERY
            ),
        );
        m.output(
            &format!("docdb_{id}_master_secret"),
            &format!(
                "The ARN of the {} DocumentDB cluster's master user secret",
                docdb.name.value
            ),
            r(&format!(
                "aws_docdb_cluster.{id}.master_user_secret[0].secret_arn"
            )),
        );
        // The roles the cluster admits as users of its `$external` database (one per service
        // that uses it), which the cluster stage makes.
        // Empty when no service uses the cluster: the cluster stage then drops every user.
        if cx.cluster.is_some() {
            let users: Vec<serde_json::Value> =
                crate::emit::terraform::docdbs::users(cx, &docdb.name.value)
                    .into_iter()
                    .map(|s| json!(r(&format!("aws_iam_role.svc_{}.arn", ident(s)))))
                    .collect();
            m.output(
                &format!("docdb_{id}_users"),
                &format!(
                    "The IAM roles the cluster stage makes MONGODB-AWS users of the {} DocumentDB cluster's $external database",
                    docdb.name.value
                ),
                json!(users),
            );
        }
    }
    for queue in &cx.aws.queues {
        m.output(
            &endpoint_output(&StoreEndpoint::Queue(queue.name.value.clone())),
            &format!("The {} queue's URL", queue.name.value),
            r(&format!("aws_sqs_queue.{}.url", ident(&queue.name.value))),
        );
    }
    for topic in &cx.aws.topics {
        m.output(
            &endpoint_output(&StoreEndpoint::Topic(topic.name.value.clone())),
            &format!("The {} topic's ARN", topic.name.value),
            r(&format!("aws_sns_topic.{}.arn", ident(&topic.name.value))),
        );
    }
    for repository in &cx.aws.repositories {
        let id = ident(&repository.name.value);
        m.output(
            &format!("repository_{id}_url"),
            &format!("The {} image repository's URL", repository.name.value),
            r(&format!("aws_ecr_repository.{id}.repository_url")),
        );
    }
    m
}
