//! `outputs.tf.json`: what the next steps read from Terraform: the cluster's name, endpoint and
//! OIDC issuer, the command that writes a kubeconfig, and each data store's address or name.

use serde_json::json;

use crate::emit::terraform::cluster::cluster_ref;
use crate::emit::terraform::{Context, Module, ident, r};

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.locate(cx.aws.span));
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
            "cluster_oidc_issuer",
            "The cluster's OIDC issuer URL",
            r(&format!("{eks}.identity[0].oidc[0].issuer")),
        );
        m.output(
            "kubeconfig_command",
            "Writes a kubeconfig entry for the cluster",
            format!(
                "aws eks update-kubeconfig --region {} --name {}",
                cx.aws.region.value, cluster.name.value
            ),
        );
    }
    for database in &cx.aws.databases {
        let id = ident(&database.name.value);
        m.output(
            &format!("database_{id}_endpoint"),
            &format!("The {} database's host:port", database.name.value),
            r(&format!("aws_db_instance.{id}.endpoint")),
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
            &format!("filesystem_{id}"),
            &format!("The {} file system's id", filesystem.name.value),
            r(&format!("aws_efs_file_system.{id}.id")),
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
    if cx.aws.domain.is_some() {
        m.output(
            "certificate_arn",
            "The validated ACM certificate",
            r("aws_acm_certificate_validation.main.certificate_arn"),
        );
    }
    m
}
