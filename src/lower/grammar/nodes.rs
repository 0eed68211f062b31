//! The platform and its platform-wide nodes: `aws`, `mesh`, `observability`, `delivery`,
//! `defaults` and the `env` overlays. The service's own are in `service.rs`.

use super::service::{REPLICAS, RESOURCES, SECURITY, SERVICE, WAIVE};
use super::{Arg, Child, Example, Node, Prop, Value};

use Example::{Boolean as B, Number as N, String as S};

/// The AWS regions platc knows; a region outside the list is most likely a typo.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// The file: one `platform` node and nothing else.
pub static DOCUMENT: Node = Node {
    children: &[Child::one(&PLATFORM)],
    ..Node::new("", "A platform file: one `platform` node.")
};

pub static PLATFORM: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("shop"))],
    children: &[
        Child::once(&AWS),
        Child::once(&DEFAULTS),
        Child::once(&DELIVERY),
        Child::any(&ENV),
        Child::once(&MESH),
        Child::once(&OBSERVABILITY),
        Child::any(&SERVICE),
    ],
    ..Node::new(
        "platform",
        "The whole platform: its AWS side, mesh, tooling, defaults, services and environments.",
    )
};

/// `env NAME { … }`: the differences of an environment, in the platform's own shape.
pub static ENV: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("staging"))],
    children: &[
        Child::once(&AWS),
        Child::once(&DEFAULTS),
        Child::once(&DELIVERY),
        Child::once(&MESH),
        Child::once(&OBSERVABILITY),
        Child::any(&SERVICE),
    ],
    ..Node::new(
        "env",
        "An environment overlay: what differs from the base platform, merged into it.",
    )
};

pub static AWS: Node = Node {
    props: &[
        Prop::optional("account", Value::String, S("123456789012")),
        Prop::required("region", Value::Keyword(REGIONS), S("us-east-1")),
    ],
    children: &[
        Child::any(&BUCKET),
        Child::any(&CACHE),
        Child::once(&CLUSTER),
        Child::any(&DATABASE),
        Child::any(&DOCDB),
        Child::once(&DOMAIN),
        Child::any(&FILESYSTEM),
        Child::any(&QUEUE),
        Child::any(&REPOSITORY),
        Child::any(&SECRET),
        Child::once(&STATE),
        Child::any(&TABLE),
        Child::any(&TOPIC),
        Child::one(&VPC),
        Child::any(&WAIVE),
    ],
    ..Node::new(
        "aws",
        "The AWS side, emitted as Terraform: region, state, VPC, EKS cluster, domain and data stores.",
    )
};

pub static STATE: Node = Node {
    props: &[
        Prop::required("bucket", Value::String, S("shop-tfstate-123456789012")),
        Prop::optional(
            "kms-key",
            Value::String,
            S("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ),
        Prop::optional("lock-table", Value::String, S("shop-tflock")),
        Prop::optional("prefix", Value::String, S("shop")),
    ],
    ..Node::new(
        "state",
        "The Terraform S3 backend, locked by lock files; the bucket must exist before `terraform init`.",
    )
};

pub static VPC: Node = Node {
    props: &[
        Prop::required("cidr", Value::Cidr, S("10.0.0.0/16")),
        Prop::optional("flow-logs", Value::Boolean, B(true)),
        Prop::optional(
            "nat",
            Value::Keyword(&["per-zone", "single"]),
            S("per-zone"),
        ),
        Prop::optional("reason", Value::String, S("why flow logs are off")),
        Prop::optional("zones", Value::Integer { min: 1, max: 6 }, N("3")),
    ],
    children: &[Child::once(&PRIVATE_SUBNETS), Child::once(&PUBLIC_SUBNETS)],
    ..Node::new(
        "vpc",
        "The network: a public and a private subnet in each zone.",
    )
};

pub static PUBLIC_SUBNETS: Node = Node {
    args: &[Arg::repeated("CIDR", Value::Cidr, S("10.0.0.0/24"))],
    ..Node::new("public-subnets", "The public subnets, one per zone.")
};

pub static PRIVATE_SUBNETS: Node = Node {
    args: &[Arg::repeated("CIDR", Value::Cidr, S("10.0.16.0/20"))],
    ..Node::new("private-subnets", "The private subnets, one per zone.")
};

pub static CLUSTER: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("shop"))],
    props: &[
        Prop::optional(
            "endpoint",
            Value::Keyword(&["private", "public"]),
            S("private"),
        ),
        Prop::optional("public-access-cidr", Value::Cidr, S("203.0.113.0/24")),
        Prop::optional("reason", Value::String, S("why the endpoint is public")),
        Prop::optional("version", Value::Version, S("1.31")),
    ],
    children: &[Child::any(&ACCESS), Child::some(&NODE_GROUP)],
    ..Node::new("cluster", "The EKS cluster.")
};

pub static ACCESS: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("ops"))],
    props: &[
        Prop::optional("from", Value::Cidr, S("10.8.0.0/16")),
        Prop::optional(
            "policy",
            Value::Keyword(&["cluster-admin", "view"]),
            S("cluster-admin"),
        ),
        Prop::required(
            "role",
            Value::String,
            S("arn:aws:iam::123456789012:role/platform-ops"),
        ),
    ],
    ..Node::new(
        "access",
        "An IAM role admitted to the cluster's API, and the network it calls the private endpoint from.",
    )
};

pub static NODE_GROUP: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("general"))],
    props: &[
        Prop::optional(
            "capacity",
            Value::Keyword(&["on-demand", "spot"]),
            S("on-demand"),
        ),
        Prop::optional("desired", Value::Integer { min: 0, max: 1000 }, N("3")),
        Prop::optional(
            "disk-gb",
            Value::Integer {
                min: 20,
                max: 16_384,
            },
            N("50"),
        ),
        Prop::required("instance", Value::InstanceType, S("m6i.large")),
        Prop::optional("max", Value::Integer { min: 1, max: 1000 }, N("9")),
        Prop::optional("min", Value::Integer { min: 0, max: 1000 }, N("3")),
    ],
    ..Node::new("node-group", "A managed node group of the cluster.")
};

pub static DOMAIN: Node = Node {
    args: &[Arg::required("HOST", Value::Host, S("shop.example.com"))],
    props: &[Prop::optional("zone", Value::Host, S("example.com"))],
    ..Node::new(
        "domain",
        "The domain's public Route53 zone, looked up: DNS records and certificates go there.",
    )
};

pub static DATABASE: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("orders"))],
    props: &[
        Prop::optional("backup-days", Value::Integer { min: 1, max: 35 }, N("7")),
        Prop::required("class", Value::InstanceType, S("db.t4g.micro")),
        Prop::required(
            "engine",
            Value::Keyword(&["postgres", "mysql"]),
            S("postgres"),
        ),
        Prop::optional("multi-az", Value::Boolean, B(false)),
        Prop::optional(
            "storage-gb",
            Value::Integer {
                min: 20,
                max: 65_536,
            },
            N("20"),
        ),
        Prop::required("version", Value::Version, S("16")),
    ],
    ..Node::new("database", "An RDS database.")
};

pub static BUCKET: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("assets"))],
    props: &[Prop::optional("versioned", Value::Boolean, B(true))],
    ..Node::new("bucket", "An S3 bucket.")
};

pub static TABLE: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("sessions"))],
    props: &[
        Prop::required("hash-key", Value::String, S("id")),
        Prop::optional("range-key", Value::String, S("item")),
    ],
    ..Node::new("table", "A DynamoDB table, billed on demand.")
};

pub static FILESYSTEM: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("shared"))],
    ..Node::new("filesystem", "An encrypted EFS file system.")
};

pub static CACHE: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("sessions"))],
    props: &[
        Prop::required("engine", Value::Keyword(&["valkey", "redis"]), S("valkey")),
        Prop::required("node-type", Value::InstanceType, S("cache.t4g.micro")),
        Prop::optional("nodes", Value::Integer { min: 2, max: 6 }, N("2")),
        Prop::required("version", Value::Version, S("8.0")),
    ],
    ..Node::new(
        "cache",
        "An ElastiCache (Valkey or Redis OSS) replication group with IAM authentication.",
    )
};

pub static DOCDB: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("catalog"))],
    props: &[
        Prop::required("class", Value::InstanceType, S("db.t4g.medium")),
        Prop::optional("instances", Value::Integer { min: 1, max: 16 }, N("2")),
        Prop::required("version", Value::Version, S("5.0")),
    ],
    ..Node::new(
        "docdb",
        "An Amazon DocumentDB cluster (MongoDB compatible) with IAM authentication.",
    )
};

pub static QUEUE: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("orders"))],
    props: &[
        Prop::optional("fifo", Value::Boolean, B(false)),
        Prop::optional("subscribe", Value::Name, S("order-events")),
    ],
    ..Node::new("queue", "An SQS queue with its dead-letter queue.")
};

pub static TOPIC: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("order-events"))],
    props: &[Prop::optional("fifo", Value::Boolean, B(false))],
    ..Node::new("topic", "An SNS topic.")
};

pub static SECRET: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("jwt-keys"))],
    props: &[
        Prop::optional(
            "kms-key",
            Value::String,
            S("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ),
        Prop::required("name", Value::String, S("shop/jwt")),
        Prop::required(
            "source",
            Value::Keyword(&["secrets-manager", "ssm"]),
            S("secrets-manager"),
        ),
    ],
    ..Node::new(
        "secret",
        "A secret that exists in Secrets Manager or Parameter Store, read by reference.",
    )
};

pub static REPOSITORY: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("web"))],
    ..Node::new(
        "repository",
        "An ECR repository (scan on push, immutable tags).",
    )
};

pub static MESH: Node = Node {
    args: &[Arg::required(
        "IMPLEMENTATION",
        Value::Keyword(&["istio"]),
        S("istio"),
    )],
    props: &[
        Prop::optional(
            "mtls",
            Value::Keyword(&["strict", "permissive", "disabled"]),
            S("strict"),
        ),
        Prop::optional("reason", Value::String, S("why mTLS is below strict")),
    ],
    children: &[
        Child::once(&EGRESS_GATEWAY),
        Child::any(&GATEWAY),
        Child::any(&JWT),
    ],
    ..Node::new(
        "mesh",
        "The Istio mesh, its mTLS mode and its ingress gateways.",
    )
};

pub static EGRESS_GATEWAY: Node = Node::new(
    "egress-gateway",
    "Every call to the outside from a meshed service leaves through Istio's egress gateway, which admits each host's declared callers only.",
);

pub static GATEWAY: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("public"))],
    props: &[
        Prop::required("host", Value::Host, S("shop.example.com")),
        Prop::optional("reason", Value::String, S("why TLS is off")),
        Prop::optional("redirect-http", Value::Boolean, B(true)),
        Prop::optional(
            "tls",
            Value::Keyword(&["simple", "mutual", "passthrough", "disabled"]),
            S("simple"),
        ),
    ],
    ..Node::new("gateway", "An ingress gateway.")
};

pub static JWT: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("users"))],
    props: &[
        Prop::optional("audiences", Value::String, S("shop,shop-api")),
        Prop::required("issuer", Value::String, S("https://auth.example.com")),
        Prop::required(
            "jwks",
            Value::String,
            S("https://auth.example.com/.well-known/jwks.json"),
        ),
    ],
    ..Node::new(
        "jwt",
        "An issuer of end-user tokens (JWT) that the ingress gateway checks on the routes naming it.",
    )
};

pub static OBSERVABILITY: Node = Node {
    children: &[
        Child::once(&ALERTS),
        Child::once(&GRAFANA),
        Child::once(&KIALI),
        Child::once(&PROMETHEUS),
    ],
    ..Node::new("observability", "The monitoring stack.")
};

pub static PROMETHEUS: Node = Node {
    props: &[
        Prop::optional("retention", Value::Duration, S("15d")),
        Prop::optional("scrape-interval", Value::Duration, S("30s")),
    ],
    ..Node::new(
        "prometheus",
        "Prometheus: monitors, SLO rules and alerts, platform alerts with runbooks.",
    )
};

pub static ALERTS: Node = Node {
    children: &[Child::any(&PAGERDUTY), Child::any(&SLACK)],
    ..Node::new(
        "alerts",
        "Where Alertmanager sends the alerts: Slack channels and PagerDuty services.",
    )
};

pub static SLACK: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("oncall"))],
    props: &[
        Prop::optional("channel", Value::String, S("#shop-alerts")),
        Prop::required("secret", Value::Name, S("slack-webhook")),
        Prop::optional(
            "severity",
            Value::Keyword(&["critical", "warning"]),
            S("warning"),
        ),
    ],
    ..Node::new(
        "slack",
        "A Slack incoming webhook, its URL in a secret of `aws`.",
    )
};

pub static PAGERDUTY: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("pager"))],
    props: &[
        Prop::required("secret", Value::Name, S("pagerduty-key")),
        Prop::optional(
            "severity",
            Value::Keyword(&["critical", "warning"]),
            S("critical"),
        ),
    ],
    ..Node::new(
        "pagerduty",
        "A PagerDuty service, its Events API v2 integration key in a secret of `aws`.",
    )
};

pub static GRAFANA: Node = Node::new(
    "grafana",
    "Grafana, with a dashboard per service, the overview, the cluster and the mesh.",
);

pub static KIALI: Node = Node::new("kiali", "Kiali, the mesh console.");

pub static DELIVERY: Node = Node {
    children: &[Child::once(&ARGOCD), Child::once(&JENKINS)],
    ..Node::new("delivery", "Pipelines and GitOps.")
};

pub static JENKINS: Node = Node {
    props: &[
        Prop::optional("agent", Value::String, S("linux")),
        Prop::optional("branch", Value::String, S("main")),
        Prop::optional("deploy", Value::Keyword(&["argocd", "helm"]), S("helm")),
        Prop::optional("path", Value::String, S("out")),
        Prop::optional(
            "repo",
            Value::String,
            S("https://github.com/acme/shop-platform.git"),
        ),
    ],
    children: &[Child::any(&VIEW)],
    ..Node::new("jenkins", "A pipeline per service, grouped into views.")
};

pub static VIEW: Node = Node {
    args: &[
        Arg::required("NAME", Value::String, S("storefront")),
        Arg::repeated("SERVICE", Value::String, S("web")),
    ],
    ..Node::new("view", "A Jenkins list view of the named services.")
};

pub static ARGOCD: Node = Node {
    props: &[
        Prop::optional("namespace", Value::Name, S("argocd")),
        Prop::optional("path", Value::String, S("out")),
        Prop::optional(
            "plugin-image",
            Value::String,
            S("registry.example.com/platc-cmp:0.1.0"),
        ),
        Prop::optional("prune", Value::Boolean, B(true)),
        Prop::required(
            "repo",
            Value::String,
            S("https://github.com/acme/shop-platform.git"),
        ),
        Prop::optional("revision", Value::String, S("main")),
        Prop::optional("self-heal", Value::Boolean, B(true)),
        Prop::optional("source", Value::Keyword(&["out", "plugin"]), S("out")),
        Prop::optional("sync", Value::Keyword(&["auto", "manual"]), S("auto")),
    ],
    ..Node::new(
        "argocd",
        "Argo CD, and the repository of the generated files.",
    )
};

pub static DEFAULTS: Node = Node {
    children: &[
        Child::once(&NAMESPACE),
        Child::once(&NAMESPACE_PER_SERVICE),
        Child::once(&REPLICAS),
        Child::once(&RESOURCES),
        Child::once(&SECURITY),
        Child::any(&WAIVE),
    ],
    ..Node::new(
        "defaults",
        "What every service gets unless it sets its own: namespaces, replicas, resources, security.",
    )
};

pub static NAMESPACE: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("shop"))],
    ..Node::new("namespace", "Every service in this one shared namespace.")
};

pub static NAMESPACE_PER_SERVICE: Node = Node {
    args: &[Arg::optional("BOOLEAN", Value::Boolean, B(true))],
    ..Node::new(
        "namespace-per-service",
        "A namespace per service (the default), or with #false one named after the platform.",
    )
};
