//! The VPC: explicit subnets inside it, one per zone and not overlapping; or, when platc
//! carves them, a VPC large enough for a public and a private subnet per zone.

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::model::Platform;
use crate::model::value::Cidr;
use crate::span::Spanned;

/// The smallest subnet AWS allows.
const SMALLEST_SUBNET: u8 = 28;

pub use crate::model::aws::carved_prefix;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    let Some(aws) = &platform.aws else { return };
    let vpc = &aws.vpc;
    if vpc.cidr.value.prefix < 16 || vpc.cidr.value.prefix > SMALLEST_SUBNET {
        d.error(
            ErrorKind::OutOfRange {
                what: "VPC prefix length",
                value: vpc.cidr.value.prefix.to_string(),
                min: 16,
                max: i64::from(SMALLEST_SUBNET),
            },
            vpc.cidr.span,
        );
        return;
    }
    if vpc.public_subnets.is_empty() && vpc.private_subnets.is_empty() {
        if carved_prefix(vpc) > SMALLEST_SUBNET {
            d.error(
                ErrorKind::VpcTooSmall {
                    cidr: vpc.cidr.value.to_string(),
                    zones: u64::from(vpc.zones.value),
                },
                vpc.cidr.span,
            );
        }
        return;
    }
    let zones = usize::from(vpc.zones.value);
    for (kind, subnets) in [
        ("public", &vpc.public_subnets),
        ("private", &vpc.private_subnets),
    ] {
        if subnets.len() != zones {
            let span = subnets.first().map_or(vpc.zones.span, |s| s.span);
            d.push(
                Diagnostic::new(
                    ErrorKind::SubnetCount {
                        kind,
                        count: subnets.len() as u64,
                        zones: u64::from(vpc.zones.value),
                    },
                    span,
                )
                .with_label(vpc.zones.span, "the zones"),
            );
        }
    }
    let all: Vec<&Spanned<Cidr>> = vpc
        .public_subnets
        .iter()
        .chain(&vpc.private_subnets)
        .collect();
    for (i, subnet) in all.iter().enumerate() {
        if !vpc.cidr.value.contains(subnet.value) {
            d.push(
                Diagnostic::new(
                    ErrorKind::SubnetOutsideVpc {
                        subnet: subnet.value.to_string(),
                        vpc: vpc.cidr.value.to_string(),
                    },
                    subnet.span,
                )
                .with_label(vpc.cidr.span, "the VPC"),
            );
            continue;
        }
        if subnet.value.prefix > SMALLEST_SUBNET {
            d.error(
                ErrorKind::OutOfRange {
                    what: "subnet prefix length",
                    value: subnet.value.prefix.to_string(),
                    min: i64::from(vpc.cidr.value.prefix),
                    max: i64::from(SMALLEST_SUBNET),
                },
                subnet.span,
            );
        }
        if let Some(other) = all[..i].iter().find(|o| o.value.overlaps(subnet.value)) {
            d.push(
                Diagnostic::new(
                    ErrorKind::SubnetOverlap {
                        subnet: subnet.value.to_string(),
                        other: other.value.to_string(),
                    },
                    subnet.span,
                )
                .with_label(other.span, "overlaps this one"),
            );
        }
    }
}
