//! Names platc builds from the AWS account, and what the Terraform stages need:
//!
//! - bucket names live in the account's regional namespace (`-<account>-<region>-an`) and ECR
//!   image addresses are `<account>.dkr.ecr.<region>.amazonaws.com/…`: both need
//!   `aws account=…` (`platc::needs-account`);
//! - an image's `repository=` names a declared `repository` (`platc::unknown-store`);
//! - a bucket's full name fits S3's 63 characters (`platc::out-of-range`).

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, suggest};
use crate::model::Platform;
use crate::model::aws::bucket_name;

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
}
