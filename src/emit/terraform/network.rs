//! `network.tf.json`: the VPC with DNS, a public and a private subnet per zone, the internet
//! gateway, NAT gateways with their EIPs (one per zone or one shared), route tables, VPC flow
//! logs to a KMS-encrypted `CloudWatch` log group, and the default security group closed.
//!
//! It also declares what every other file reads: the partition and the account.

use serde_json::json;

use crate::emit::terraform::policy;
use crate::emit::terraform::{Context, Module, r};
use crate::model::aws::NatMode;
use crate::model::value::Cidr;

/// How long logs are kept: a year, the usual audit requirement.
pub const LOG_RETENTION_DAYS: u32 = 365;

/// The public and the private subnet CIDRs, one per zone.
pub fn subnets(cx: &Context) -> (Vec<Cidr>, Vec<Cidr>) {
    crate::model::aws::subnets(cx.aws)
}

/// The letters of a region's zones, where they do not simply run from `a`.
const ZONE_LETTERS: &[(&str, &str)] = &[
    ("ap-northeast-1", "acd"),
    ("ca-central-1", "abd"),
    ("us-west-1", "bc"),
];

/// The name of the VPC's `i`-th zone. Named, not looked up: a zone AWS adds later, or one that
/// is impaired at plan time, never moves a subnet.
pub fn zone(cx: &Context, i: usize) -> String {
    let region = cx.aws.region.value.as_str();
    let letters = ZONE_LETTERS
        .iter()
        .find(|(r, _)| *r == region)
        .map_or("abcdef", |(_, l)| l);
    let letter = letters.chars().nth(i).unwrap_or('a');
    format!("{region}{letter}")
}

/// References to the private subnets' ids, in zone order.
pub fn private_subnet_ids(cx: &Context) -> Vec<String> {
    (0..cx.zones())
        .map(|i| r(&format!("aws_subnet.private_{i}.id")))
        .collect()
}

/// Whether the logs KMS key exists: flow logs or the cluster's control-plane logs use it.
pub fn has_logs_key(cx: &Context) -> bool {
    cx.aws.vpc.flow_logs.value || cx.cluster.is_some()
}

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cx.aws.vpc.span));
    let name = cx.name();
    m.data("aws_partition", "current", json!({}));
    m.data("aws_caller_identity", "current", json!({}));
    let mut vpc = json!({
        "cidr_block": cx.aws.vpc.cidr.value.to_string(),
        "enable_dns_support": true,
        "enable_dns_hostnames": true,
        "tags": {"Name": name},
    });
    if let Some(reason) = &cx.aws.vpc.flow_logs_reason {
        vpc["//"] = json!(format!("flow logs off: {}", reason.value));
    }
    m.resource("aws_vpc", "main", vpc);
    // Adopting the default security group removes all its rules: nothing may use it.
    m.resource(
        "aws_default_security_group",
        "main",
        json!({"vpc_id": r("aws_vpc.main.id"), "tags": {"Name": format!("{name}-default-closed")}}),
    );
    m.resource(
        "aws_internet_gateway",
        "main",
        json!({"vpc_id": r("aws_vpc.main.id"), "tags": {"Name": name}}),
    );
    // The cluster's name in AWS (an environment's has its suffix): the AWS Load Balancer
    // Controller skips a subnet tagged for another cluster only.
    let cluster_tag = cx
        .cluster
        .map(|c| format!("kubernetes.io/cluster/{}", cx.cluster_name(c)));
    let (public, private) = subnets(cx);
    for (tier, cidrs, role) in [
        ("public", &public, "kubernetes.io/role/elb"),
        ("private", &private, "kubernetes.io/role/internal-elb"),
    ] {
        for (i, cidr) in cidrs.iter().enumerate() {
            let mut tags = json!({"Name": format!("{name}-{tier}-{i}"), role: "1"});
            if let Some(tag) = &cluster_tag {
                tags[tag] = json!("shared");
            }
            m.resource(
                "aws_subnet",
                &format!("{tier}_{i}"),
                json!({
                    "vpc_id": r("aws_vpc.main.id"),
                    "cidr_block": cidr.to_string(),
                    "availability_zone": zone(cx, i),
                    "map_public_ip_on_launch": false,
                    "tags": tags,
                }),
            );
        }
    }
    // Public subnets route to the internet gateway.
    m.resource(
        "aws_route_table",
        "public",
        json!({"vpc_id": r("aws_vpc.main.id"), "tags": {"Name": format!("{name}-public")}}),
    );
    m.resource(
        "aws_route",
        "public_internet",
        json!({
            "route_table_id": r("aws_route_table.public.id"),
            "destination_cidr_block": "0.0.0.0/0",
            "gateway_id": r("aws_internet_gateway.main.id"),
        }),
    );
    for i in 0..cx.zones() {
        m.resource(
            "aws_route_table_association",
            &format!("public_{i}"),
            json!({
                "subnet_id": r(&format!("aws_subnet.public_{i}.id")),
                "route_table_id": r("aws_route_table.public.id"),
            }),
        );
    }
    // NAT gateways live in the public subnets; each private subnet routes to its zone's one,
    // or to the single shared one.
    let nats = match cx.aws.vpc.nat.value {
        NatMode::PerZone => cx.zones(),
        NatMode::Single => 1,
    };
    for i in 0..nats {
        m.resource(
            "aws_eip",
            &format!("nat_{i}"),
            json!({
                "domain": "vpc",
                "tags": {"Name": format!("{name}-nat-{i}")},
                "depends_on": ["aws_internet_gateway.main"],
            }),
        );
        m.resource(
            "aws_nat_gateway",
            &format!("nat_{i}"),
            json!({
                "allocation_id": r(&format!("aws_eip.nat_{i}.id")),
                "subnet_id": r(&format!("aws_subnet.public_{i}.id")),
                "tags": {"Name": format!("{name}-nat-{i}")},
                "depends_on": ["aws_internet_gateway.main"],
            }),
        );
    }
    for i in 0..cx.zones() {
        let nat = if nats == 1 { 0 } else { i };
        m.resource(
            "aws_route_table",
            &format!("private_{i}"),
            json!({"vpc_id": r("aws_vpc.main.id"), "tags": {"Name": format!("{name}-private-{i}")}}),
        );
        m.resource(
            "aws_route",
            &format!("private_{i}_nat"),
            json!({
                "route_table_id": r(&format!("aws_route_table.private_{i}.id")),
                "destination_cidr_block": "0.0.0.0/0",
                "nat_gateway_id": r(&format!("aws_nat_gateway.nat_{nat}.id")),
            }),
        );
        m.resource(
            "aws_route_table_association",
            &format!("private_{i}"),
            json!({
                "subnet_id": r(&format!("aws_subnet.private_{i}.id")),
                "route_table_id": r(&format!("aws_route_table.private_{i}.id")),
            }),
        );
    }
    if has_logs_key(cx) {
        let logs = policy::logs_service_statement(cx);
        policy::kms_key(cx, &mut m, "logs", "CloudWatch log groups", vec![logs]);
    }
    if cx.aws.vpc.flow_logs.value {
        flow_logs(cx, &mut m);
    }
    m
}

/// A `CloudWatch` log group, encrypted with the platform's logs key and kept a year. A service
/// that writes to a group of its own name (EKS, RDS, `DocumentDB`, `CodeBuild`) makes the group
/// itself when it is missing, unencrypted and kept forever, and outside the state, so that
/// `terraform destroy` leaves it: each such group is made here, before what writes to it.
/// Returns the group's address, for a `depends_on`.
pub fn log_group(m: &mut Module, id: &str, name: &str) -> String {
    m.resource(
        "aws_cloudwatch_log_group",
        id,
        json!({
            "name": name,
            "retention_in_days": LOG_RETENTION_DAYS,
            "kms_key_id": r("aws_kms_key.logs.arn"),
        }),
    );
    format!("aws_cloudwatch_log_group.{id}")
}

/// VPC flow logs of all traffic to a `CloudWatch` log group, written by a role of their own.
fn flow_logs(cx: &Context, m: &mut Module) {
    let name = cx.name();
    log_group(m, "flow_logs", &format!("/aws/vpc/{name}/flow-logs"));
    let trust = policy::trust(
        m,
        "flow_logs_trust",
        &["vpc-flow-logs.amazonaws.com"],
        &["sts:AssumeRole"],
    );
    policy::role(
        m,
        "flow_logs",
        &format!("{name}-flow-logs"),
        "Writes the VPC flow logs to CloudWatch Logs",
        &trust,
    );
    m.data(
        "aws_iam_policy_document",
        "flow_logs",
        policy::document(vec![policy::allow(
            "WriteFlowLogs",
            &[
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
            ],
            &[
                r("aws_cloudwatch_log_group.flow_logs.arn"),
                format!("{}:*", r("aws_cloudwatch_log_group.flow_logs.arn")),
            ],
        )]),
    );
    m.resource(
        "aws_iam_role_policy",
        "flow_logs",
        json!({
            "name": "write-flow-logs",
            "role": r("aws_iam_role.flow_logs.id"),
            "policy": r("data.aws_iam_policy_document.flow_logs.json"),
        }),
    );
    m.resource(
        "aws_flow_log",
        "main",
        json!({
            "vpc_id": r("aws_vpc.main.id"),
            "traffic_type": "ALL",
            "log_destination_type": "cloud-watch-logs",
            "log_destination": r("aws_cloudwatch_log_group.flow_logs.arn"),
            "iam_role_arn": r("aws_iam_role.flow_logs.arn"),
            "max_aggregation_interval": 60,
        }),
    );
}
