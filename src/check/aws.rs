//! Names platc builds from the AWS account, and what the Terraform stages need:
//!
//! - bucket names live in the account's regional namespace (`-<account>-<region>-an`) and ECR
//!   image addresses are `<account>.dkr.ecr.<region>.amazonaws.com/…`: both need
//!   `aws account=…` (`platc::needs-account`);
//! - an image's `repository=` names a declared `repository` (`platc::unknown-store`);
//! - a bucket's full name fits S3's 63 characters, a cache's replication group id
//!   `ElastiCache`'s 40, a dead-letter queue's name SQS's 80 (`platc::out-of-range`);
//! - a secret's and the state's `kms-key=` are keys of the platform's region
//!   (`platc::invalid-value`);
//! - a queue's `subscribe=` names a declared `topic` (`platc::unknown-store`), and a FIFO queue
//!   a FIFO topic (`platc::invalid-value`): SNS delivers a standard topic to standard queues
//!   only;
//! - each IAM role name fits IAM's 64 characters, each RDS identifier (and `DocumentDB`
//!   instance identifier, `<cluster>-<n>`) RDS's 63, each file system's creation token EFS's
//!   64, and each service's user of a `MySQL` database (its name) `MySQL`'s 32
//!   (`platc::out-of-range`, at the name that makes it long: a service's, a database's, the
//!   cluster's, else the platform's).

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, suggest};
use crate::model::Platform;
use crate::model::addons;
use crate::model::aws::{
    CLUSTER_ROLE_SUFFIXES, Engine, IAM_ROLE_NAME_MAX, MYSQL_USER_MAX, RDS_IDENTIFIER_MAX,
    bucket_name, cache_id, cluster_role_name, database_identifier, dead_letter_queue_name,
    docdb_identifier, filesystem_token, role_name,
};
use crate::model::service::StoreKind;
use crate::span::Span;

/// The longest creation token EFS takes.
const EFS_TOKEN_MAX: usize = 64;

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
    for cache in &aws.caches {
        let id = cache_id(platform, &cache.name.value);
        if id.len() > 40 {
            d.error(
                ErrorKind::OutOfRange {
                    what: "cache id length",
                    value: format!("{} (`{id}`)", id.len()),
                    min: 1,
                    max: 40,
                },
                cache.name.span,
            );
        }
    }
    // A secret's customer-managed key is in the secret's region, the platform's; the state
    // bucket's in the bucket's, which the backend names as the platform's too.
    let keys = aws.secrets.iter().filter_map(|s| {
        let expected = "a KMS key of the `aws` block's region: a secret is encrypted with a key of \
                        its own region";
        s.kms_key.as_ref().map(|k| (k, expected))
    });
    let state_key = aws.state.as_ref().and_then(|s| s.kms_key.as_ref()).map(|k| {
        let expected = "a KMS key of the `aws` block's region: S3 encrypts a bucket's objects with \
                        a key of the bucket's region";
        (k, expected)
    });
    for (key, expected) in keys.chain(state_key) {
        let region = key.value.split(':').nth(3).unwrap_or_default();
        if region != aws.region.value {
            d.push(
                Diagnostic::new(
                    ErrorKind::InvalidValue {
                        value: key.value.clone(),
                        expected: vec![expected],
                        suggestion: None,
                    },
                    key.span,
                )
                .with_label(aws.region.span, "the platform's region"),
            );
        }
    }
    for queue in &aws.queues {
        let name = dead_letter_queue_name(platform, queue);
        if name.len() > 80 {
            d.error(
                ErrorKind::OutOfRange {
                    what: "dead-letter queue name length",
                    value: format!("{} (`{name}`)", name.len()),
                    min: 1,
                    max: 80,
                },
                queue.name.span,
            );
        }
        let Some(subscribe) = &queue.subscribe else {
            continue;
        };
        match aws.topics.iter().find(|t| t.name.value == subscribe.value) {
            None => d.error(
                ErrorKind::UnknownStore {
                    kind: "topic",
                    name: subscribe.value.clone(),
                    suggestion: suggest(
                        &subscribe.value,
                        aws.topics.iter().map(|t| t.name.value.as_str()),
                    ),
                },
                subscribe.span,
            ),
            Some(topic) if queue.fifo.value && !topic.fifo.value => d.push(
                Diagnostic::new(
                    ErrorKind::InvalidValue {
                        value: subscribe.value.clone(),
                        expected: vec!["a FIFO topic (`topic NAME fifo=#true`): SNS delivers a standard topic to standard queues only"],
                        suggestion: None,
                    },
                    subscribe.span,
                )
                .with_label(topic.name.span, "a standard topic"),
            ),
            Some(_) => {}
        }
    }
    names(platform, d);
    mysql_users(platform, d);
}

/// A service's user of a `MySQL` database is named after the service: the name fits `MySQL`'s
/// user names.
fn mysql_users(platform: &Platform, d: &mut Diagnostics) {
    let Some(aws) = &platform.aws else { return };
    let mysql: Vec<&str> = aws
        .databases
        .iter()
        .filter(|db| db.engine.value == Engine::Mysql)
        .map(|db| db.name.value.as_str())
        .collect();
    for service in &platform.services {
        let name = &service.name.value;
        let uses_mysql = service
            .uses
            .iter()
            .any(|u| u.kind.value == StoreKind::Database && mysql.contains(&u.name.value.as_str()));
        if uses_mysql && name.len() > MYSQL_USER_MAX {
            d.error(
                ErrorKind::OutOfRange {
                    what: "MySQL user name length",
                    value: format!("{} (`{name}`)", name.len()),
                    min: 1,
                    max: i64::try_from(MYSQL_USER_MAX).unwrap_or(i64::MAX),
                },
                service.name.span,
            );
        }
    }
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
    for filesystem in &aws.filesystems {
        long(
            filesystem_token(platform, &filesystem.name.value),
            EFS_TOKEN_MAX,
            filesystem.name.span,
        );
    }
    for docdb in &aws.docdbs {
        // A DocumentDB cluster identifier has RDS's 63 characters; an instance's adds `-<n>`.
        long(
            format!(
                "{}-{}",
                docdb_identifier(platform, &docdb.name.value),
                docdb.instances.value
            ),
            RDS_IDENTIFIER_MAX,
            docdb.name.span,
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
    // The add-ons' roles (the longest release names one), the cluster-stage runner's, and
    // Alertmanager's (after its `ServiceAccount`).
    let alertmanager = platform
        .observability
        .alerts
        .is_some()
        .then_some(addons::ALERTMANAGER_SERVICE_ACCOUNT);
    let longest = addons::installed(platform)
        .iter()
        .map(|a| a.release)
        .chain(["cluster-stage"])
        .chain(alertmanager)
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
