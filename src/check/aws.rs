//! Names platc builds from the AWS account, and what the Terraform stages need:
//!
//! - bucket names live in the account's regional namespace (`-<account>-<region>-an`) and ECR
//!   image addresses are `<account>.dkr.ecr.<region>.amazonaws.com/…`: both need
//!   `aws account=…` (`platc::needs-account`);
//! - an image's `repository=` names a declared `repository` (`platc::unknown-store`);
//! - a bucket's full name fits S3's 63 characters, each IAM role name IAM's 64 and each RDS
//!   identifier RDS's 63 (`platc::out-of-range`, at the name that makes it long: a service's,
//!   a database's, the cluster's, else the platform's).

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, suggest};
use crate::model::Platform;
use crate::model::addons;
use crate::model::aws::{
    CLUSTER_ROLE_SUFFIXES, IAM_ROLE_NAME_MAX, RDS_IDENTIFIER_MAX, bucket_name, cluster_role_name,
    database_identifier, role_name,
};
use crate::model::service::StoreKind;
use crate::span::Span;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    let aws = platform.aws.as_ref();
    for service in &platform.services {
        let image = &service.image;
        if !image.ecr {
            continue;
        }
        let Some(aws) = aws else {
            d.error(
                ErrorKind::UnknownStore {
                    kind: "repository",
                    name: image.repository.value.clone(),
                    suggestion: None,
                },
                image.repository.span,
            );
            continue;
        };
        let names: Vec<&str> = aws
            .repositories
            .iter()
            .map(|r| r.name.value.as_str())
            .collect();
        if !names.contains(&image.repository.value.as_str()) {
            d.error(
                ErrorKind::UnknownStore {
                    kind: "repository",
                    name: image.repository.value.clone(),
                    suggestion: suggest(&image.repository.value, names.iter().copied()),
                },
                image.repository.span,
            );
        } else if aws.account.is_none() {
            d.error(
                ErrorKind::NeedsAccount {
                    what: format!(
                        "the address of the ECR repository `{}`",
                        image.repository.value
                    ),
                },
                image.repository.span,
            );
        }
    }
    let Some(aws) = aws else { return };
    for bucket in &aws.buckets {
        if aws.account.is_none() {
            d.error(
                ErrorKind::NeedsAccount {
                    what: format!("the name of bucket `{}`", bucket.name.value),
                },
                bucket.name.span,
            );
            continue;
        }
        let name = bucket_name(platform, aws, &bucket.name.value);
        if name.len() > 63 {
            d.push(Diagnostic::new(
                ErrorKind::OutOfRange {
                    what: "bucket name length",
                    value: format!("{} (`{name}`)", name.len()),
                    min: 3,
                    max: 63,
                },
                bucket.name.span,
            ));
        }
    }
    names(platform, d);
}

/// Every IAM role and RDS identifier platc names from the platform's names fits AWS's limit.
fn names(platform: &Platform, d: &mut Diagnostics) {
    let Some(aws) = &platform.aws else { return };
    let mut long = |name: String, max: usize, span: Span| {
        if name.len() > max {
            d.error(
                ErrorKind::OutOfRange {
                    what: "AWS name length",
                    value: format!("{} (`{name}`)", name.len()),
                    min: 1,
                    max: i64::try_from(max).unwrap_or(i64::MAX),
                },
                span,
            );
        }
    };
    for database in &aws.databases {
        long(
            database_identifier(platform, database),
            RDS_IDENTIFIER_MAX,
            database.name.span,
        );
    }
    if !aws.databases.is_empty() {
        long(
            role_name(platform, "rds-monitoring"),
            IAM_ROLE_NAME_MAX,
            platform.name.span,
        );
    }
    let Some(cluster) = &aws.cluster else { return };
    for suffix in CLUSTER_ROLE_SUFFIXES {
        long(
            cluster_role_name(platform, cluster, suffix),
            IAM_ROLE_NAME_MAX,
            cluster.name.span,
        );
    }
    // The add-ons' roles (the longest release names one), and the cluster-stage runner's.
    let longest = addons::installed(platform)
        .iter()
        .map(|a| a.release)
        .chain(["cluster-stage"])
        .max_by_key(|r| r.len())
        .unwrap_or_default();
    long(
        role_name(platform, longest),
        IAM_ROLE_NAME_MAX,
        platform.name.span,
    );
    for service in &platform.services {
        // A service has a role when it calls AWS: every store but a file system, which the
        // node's CSI driver mounts.
        if service
            .uses
            .iter()
            .any(|u| u.kind.value != StoreKind::Filesystem)
        {
            long(
                role_name(platform, &service.name.value),
                IAM_ROLE_NAME_MAX,
                service.name.span,
            );
        }
    }
}
