//! `endpoints.tf.json`: the VPC endpoints that keep AWS API traffic inside the VPC, and that the
//! services' `NetworkPolicies` can name.
//!
//! A `NetworkPolicy` speaks addresses, and a gateway endpoint leaves S3 and `DynamoDB` on their
//! public addresses (an AWS-managed prefix list no `ipBlock` can follow). So the APIs the
//! services call have interface endpoints in the private subnets, and a service's policy admits
//! port 443 to those subnets and nothing else:
//! - S3 with private DNS for every in-VPC client (`s3.<region>.amazonaws.com` resolves to the
//!   endpoint; `private_dns_only_for_inbound_resolver_endpoint` is false, which needs no gateway
//!   endpoint);
//! - `DynamoDB`, whose interface endpoints have no private DNS: services that use a table get the
//!   endpoint's URL as `AWS_ENDPOINT_URL_DYNAMODB`, which every current AWS SDK reads. A gateway
//!   endpoint serves every other client (nodes, add-ons) for free;
//! - SQS and SNS with private DNS, for the services that use a queue or a topic;
//! - STS, ECR (API and registry), Secrets Manager and the EKS Auth API that the Pod Identity
//!   agent calls, which the EKS guide lists for private clusters; Systems Manager when a
//!   secret is a parameter (the Secrets Store CSI driver's provider reads it).

use serde_json::json;

use crate::emit::terraform::network::{private_subnet_ids, subnets};
use crate::emit::terraform::{Context, Module, ident, r};
use crate::model::aws::SecretSource;
use crate::model::service::StoreKind;

/// Whether any service uses a store of this kind.
fn used(cx: &Context, kind: StoreKind) -> bool {
    cx.platform
        .services
        .iter()
        .flat_map(|s| &s.uses)
        .any(|u| u.kind.value == kind)
}

/// The interface endpoints of the platform: `(service suffix, private DNS)`.
pub fn interface_endpoints(cx: &Context) -> Vec<(&'static str, bool)> {
    if cx.cluster.is_none() {
        return Vec::new();
    }
    let mut out = vec![
        ("ecr.api", true),
        ("ecr.dkr", true),
        ("eks-auth", true),
        ("sts", true),
    ];
    // The Secrets Store CSI driver's provider reads the secrets the services and the
    // receivers of `alerts` use.
    let source_used = |source: SecretSource| {
        cx.platform
            .services
            .iter()
            .flat_map(|s| &s.uses)
            .filter(|u| u.kind.value == StoreKind::Secret)
            .filter_map(|u| cx.aws.secrets.iter().find(|s| s.name.value == u.name.value))
            .chain(crate::model::addons::alert_secrets(cx.platform))
            .any(|s| s.source.value == source)
    };
    if !cx.aws.databases.is_empty() || source_used(SecretSource::SecretsManager) {
        out.push(("secretsmanager", true));
    }
    if source_used(SecretSource::Ssm) {
        out.push(("ssm", true));
    }
    if used(cx, StoreKind::Bucket) || !cx.aws.repositories.is_empty() {
        out.push(("s3", true));
    }
    if used(cx, StoreKind::Table) {
        out.push(("dynamodb", false));
    }
    if used(cx, StoreKind::Queue) {
        out.push(("sqs", true));
    }
    if used(cx, StoreKind::Topic) {
        out.push(("sns", true));
    }
    out.sort_unstable();
    out
}

/// The Terraform reference of an interface endpoint.
pub fn endpoint_ref(service: &str) -> String {
    format!("aws_vpc_endpoint.{}", ident(service))
}

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cx.aws.vpc.span));
    let endpoints = interface_endpoints(cx);
    if endpoints.is_empty() {
        return m;
    }
    let name = cx.name();
    let region = &cx.aws.region.value;
    m.resource(
        "aws_security_group",
        "vpc_endpoints",
        json!({
            "name": format!("{name}-vpc-endpoints"),
            "description": "The VPC interface endpoints: HTTPS from the private subnets only",
            "vpc_id": r("aws_vpc.main.id"),
            "tags": {"Name": format!("{name}-vpc-endpoints")},
        }),
    );
    let (_, private) = subnets(cx);
    for (i, cidr) in private.iter().enumerate() {
        m.resource(
            "aws_vpc_security_group_ingress_rule",
            &format!("vpc_endpoints_private_{i}"),
            json!({
                "security_group_id": r("aws_security_group.vpc_endpoints.id"),
                "description": format!("HTTPS from private subnet {i}"),
                "ip_protocol": "tcp",
                "from_port": 443,
                "to_port": 443,
                "cidr_ipv4": cidr.to_string(),
            }),
        );
    }
    for (service, private_dns) in &endpoints {
        let mut body = json!({
            "vpc_id": r("aws_vpc.main.id"),
            "service_name": format!("com.amazonaws.{region}.{service}"),
            "vpc_endpoint_type": "Interface",
            "subnet_ids": private_subnet_ids(cx),
            "security_group_ids": [r("aws_security_group.vpc_endpoints.id")],
            "private_dns_enabled": private_dns,
            "tags": {"Name": format!("{name}-{service}")},
        });
        if *service == "s3" {
            // Without a gateway endpoint for S3 the API would take `true` as the default and
            // refuse the endpoint.
            body["dns_options"] = json!({"private_dns_only_for_inbound_resolver_endpoint": false});
        }
        m.resource("aws_vpc_endpoint", &ident(service), body);
    }
    if used(cx, StoreKind::Table) {
        m.resource(
            "aws_vpc_endpoint",
            "dynamodb_gateway",
            json!({
                "vpc_id": r("aws_vpc.main.id"),
                "service_name": format!("com.amazonaws.{region}.dynamodb"),
                "vpc_endpoint_type": "Gateway",
                "route_table_ids": (0..cx.zones())
                    .map(|i| r(&format!("aws_route_table.private_{i}.id")))
                    .collect::<Vec<_>>(),
                "tags": {"Name": format!("{name}-dynamodb-gateway")},
            }),
        );
    }
    m
}
