//! `service NAME { … }` and its children; `resources`, `replicas`, `security` and `waive`
//! stand in `defaults` (and `waive` in `aws`) too.

use super::{Arg, Child, Example, Node, Prop, Value};

use Example::{Boolean as B, Number as N, String as S};

/// Istio's `retryOn` conditions (HTTP and gRPC); HTTP status codes are taken too.
pub const RETRY_ON: &[&str] = &[
    "5xx",
    "cancelled",
    "connect-failure",
    "deadline-exceeded",
    "envoy-ratelimited",
    "gateway-error",
    "internal",
    "refused-stream",
    "reset",
    "reset-before-request",
    "resource-exhausted",
    "retriable-4xx",
    "retriable-headers",
    "retriable-status-codes",
    "unavailable",
];

pub static SERVICE: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("web"))],
    children: &[
        Child::once(&ARGS),
        Child::once(&AUTOMOUNT_TOKEN),
        Child::once(&AUTOSCALE),
        Child::once(&BUILD),
        Child::any(&CALLS),
        Child::any(&CALLS_EXTERNAL),
        Child::once(&CANARY),
        Child::once(&CIRCUIT_BREAKER),
        Child::once(&COMMAND),
        Child::any(&CONFIG),
        Child::any(&CONTAINER),
        Child::any(&ENV),
        Child::any(&EXPOSE),
        Child::one(&IMAGE),
        Child::any(&INIT),
        Child::once(&LANGUAGE),
        Child::once(&LOAD_BALANCER),
        Child::once(&MIGRATE),
        Child::any(&MTLS_EXCEPTION),
        Child::any(&PORT),
        Child::any(&PROBE),
        Child::once(&REMOVE),
        Child::once(&REPLICAS),
        Child::once(&RESOURCES),
        Child::once(&RETRIES),
        Child::once(&SECURITY),
        Child::once(&SIDECAR),
        Child::once(&SLO),
        Child::once(&STATEFUL),
        Child::once(&TIMEOUT),
        Child::any(&USES),
        Child::any(&VERSION),
        Child::any(&VOLUME),
        Child::any(&WAIVE),
    ],
    ..Node::new(
        "service",
        "One microservice: a Deployment, a Service, and everything around them.",
    )
};

pub static ARGS: Node = Node {
    args: &[Arg::repeated("ARG", Value::String, S("--port=8080"))],
    ..Node::new(
        "args",
        "The container's arguments: they replace the image's `CMD`.",
    )
};

pub static COMMAND: Node = Node {
    args: &[Arg::repeated("ARG", Value::String, S("/bin/app"))],
    ..Node::new(
        "command",
        "The container's command: it replaces the image's `ENTRYPOINT`.",
    )
};

pub static CONFIG: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("settings"))],
    props: &[
        Prop::optional("file", Value::String, S("config/settings.yaml")),
        Prop::required("path", Value::String, S("/etc/app/settings.yaml")),
        Prop::optional("text", Value::String, S("level: info")),
    ],
    ..Node::new(
        "config",
        "A file of the service's ConfigMap, from `text=` or a `file=` next to platform.kdl, mounted read-only at `path`.",
    )
};

pub static CONTAINER: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("exporter"))],
    children: &[
        Child::once(&ARGS),
        Child::once(&COMMAND),
        Child::any(&ENV),
        Child::once(&IMAGE),
        Child::any(&PORT),
        Child::any(&PROBE),
        Child::once(&RESOURCES),
    ],
    ..Node::new(
        "container",
        "An extra container in the service's pod, beside the application.",
    )
};

/// The children of a container that runs to completion: an `init` container, a `migrate` Job.
static RUN_TO_COMPLETION: [Child; 5] = [
    Child::once(&ARGS),
    Child::once(&COMMAND),
    Child::any(&ENV),
    Child::once(&IMAGE),
    Child::once(&RESOURCES),
];

pub static INIT: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("migrate"))],
    children: &RUN_TO_COMPLETION,
    ..Node::new(
        "init",
        "An init container: it runs to completion before the pod's other containers start.",
    )
};

pub static MIGRATE: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("migrate"))],
    children: &RUN_TO_COMPLETION,
    ..Node::new(
        "migrate",
        "A Job that runs to completion with the service's identity and env before each rollout of the service (a schema migration).",
    )
};

pub static BUILD: Node = Node {
    props: &[
        Prop::required("context", Value::String, S("src/web")),
        Prop::optional("dockerfile", Value::String, S("src/web/Dockerfile")),
        Prop::optional("test", Value::String, S("go test ./...")),
    ],
    ..Node::new(
        "build",
        "Where the service's source is and how its tests run, for the pipeline that builds its image.",
    )
};

pub static IMAGE: Node = Node {
    args: &[Arg::optional(
        "REFERENCE",
        Value::Image,
        S("ghcr.io/acme/web"),
    )],
    props: &[
        Prop::optional(
            "digest",
            Value::String,
            S("sha256:0000000000000000000000000000000000000000000000000000000000000000"),
        ),
        Prop::optional("repository", Value::Name, S("web")),
        Prop::optional("tag", Value::String, S("v1.0.0")),
    ],
    ..Node::new(
        "image",
        "The container image: a reference, or `repository=` for an ECR repository of `aws`.",
    )
};

pub static LANGUAGE: Node = Node {
    args: &[Arg::required("NAME", Value::String, S("go"))],
    ..Node::new("language", "The implementation language, a free string.")
};

pub static PORT: Node = Node {
    args: &[
        Arg::required("NAME", Value::PortName, S("http")),
        Arg::required("NUMBER", Value::PortNumber, N("8080")),
    ],
    props: &[
        Prop::optional("metrics", Value::String, S("/metrics")),
        Prop::optional(
            "protocol",
            Value::Keyword(&["grpc", "http", "http2", "tcp"]),
            S("http"),
        ),
        Prop::optional("target", Value::PortNumber, N("8080")),
    ],
    children: &[Child::once(&REMOVE)],
    ..Node::new(
        "port",
        "A port of the Service: its name, the number callers dial.",
    )
};

pub static ENV: Node = Node {
    args: &[
        Arg::required("NAME", Value::EnvName, S("LOG_LEVEL")),
        Arg::required("VALUE", Value::Text, S("info")),
    ],
    children: &[Child::once(&REMOVE)],
    ..Node::new("env", "An environment variable of the container.")
};

pub static CALLS: Node = Node {
    args: &[Arg::required("SERVICE", Value::String, S("cart"))],
    props: &[
        Prop::optional("env", Value::EnvName, S("CART_ADDR")),
        Prop::optional("format", Value::Keyword(FORMATS), S("url")),
        Prop::optional("path", Value::String, S("/api")),
        Prop::optional("port", Value::String, S("grpc")),
        Prop::optional("scheme", Value::String, S("http")),
    ],
    children: &[Child::once(&REMOVE)],
    ..Node::new(
        "calls",
        "A declared call to another service; `env=` receives its address.",
    )
};

/// The shapes of an address in an env var (`calls … format=`).
pub const FORMATS: &[&str] = &["host", "host-port", "url", "uri"];

pub static CALLS_EXTERNAL: Node = Node {
    args: &[Arg::required("HOST", Value::Host, S("api.example.com"))],
    props: &[
        Prop::optional("env", Value::EnvName, S("PAYMENTS_API")),
        Prop::optional("format", Value::Keyword(FORMATS), S("url")),
        Prop::optional("path", Value::String, S("/v1")),
        Prop::required("port", Value::PortNumber, N("443")),
        Prop::optional(
            "protocol",
            Value::Keyword(&["tls", "https", "http", "tcp"]),
            S("https"),
        ),
        Prop::optional(
            "reason",
            Value::String,
            S("the partner serves plain HTTP only"),
        ),
        Prop::optional("scheme", Value::String, S("https")),
    ],
    ..Node::new(
        "calls-external",
        "A declared call to a host outside the cluster; `env=` receives its address.",
    )
};

pub static PROBE: Node = Node {
    args: &[
        Arg::required(
            "KIND",
            Value::Keyword(&["grpc", "http", "tcp", "exec"]),
            S("http"),
        ),
        Arg::repeated("COMMAND", Value::String, S("redis-cli")),
    ],
    props: &[
        Prop::optional(
            "failure-threshold",
            Value::Integer { min: 1, max: 100 },
            N("3"),
        ),
        Prop::optional(
            "for",
            Value::Keyword(&["both", "readiness", "liveness", "startup"]),
            S("readiness"),
        ),
        Prop::optional("initial-delay", Value::Duration, S("10s")),
        Prop::optional("path", Value::String, S("/healthz")),
        Prop::optional("period", Value::Duration, S("20s")),
        Prop::optional("port", Value::String, S("http")),
        Prop::optional("timeout", Value::Duration, S("2s")),
    ],
    children: &[Child::any(&PROBE_HEADER)],
    ..Node::new("probe", "A readiness, liveness or startup probe.")
};

pub static PROBE_HEADER: Node = Node {
    args: &[
        Arg::required("NAME", Value::String, S("Cookie")),
        Arg::required("VALUE", Value::String, S("session=probe")),
    ],
    ..Node::new("header", "An HTTP header the probe sends.")
};

pub static RESOURCES: Node = Node {
    props: &[
        Prop::optional("cpu", Value::Cpu, S("100m")),
        Prop::optional("cpu-limit", Value::Cpu, S("200m")),
        Prop::optional("memory", Value::Memory, S("64Mi")),
        Prop::optional("memory-limit", Value::Memory, S("128Mi")),
    ],
    ..Node::new("resources", "The container's requests and limits.")
};

/// `remove`, in an `env` overlay only (`service X { remove }`, `calls X { remove }`, …): the
/// environment lacks the base platform's node.
pub static REMOVE: Node = Node::new(
    "remove",
    "In an `env` overlay only: the environment lacks this node of the base platform.",
);

pub static REPLICAS: Node = Node {
    args: &[Arg::required(
        "N",
        Value::Integer { min: 0, max: 1000 },
        N("2"),
    )],
    ..Node::new("replicas", "The number of replicas, without autoscaling.")
};

pub static AUTOSCALE: Node = Node {
    props: &[
        Prop::optional("cpu", Value::Percent, N("70")),
        Prop::required("max", Value::Integer { min: 1, max: 1000 }, N("10")),
        Prop::optional("memory", Value::Percent, S("85.5")),
        Prop::optional("min", Value::Integer { min: 1, max: 1000 }, N("2")),
    ],
    ..Node::new("autoscale", "A HorizontalPodAutoscaler.")
};

pub static RETRIES: Node = Node {
    props: &[
        Prop::required("attempts", Value::Integer { min: 0, max: 100 }, N("3")),
        Prop::optional("on", Value::Conditions(RETRY_ON), S("unavailable,reset")),
        Prop::optional("per-try-timeout", Value::Duration, S("2s")),
    ],
    ..Node::new("retries", "The mesh retries calls to this service.")
};

pub static TIMEOUT: Node = Node {
    args: &[Arg::required("DURATION", Value::Duration, S("10s"))],
    ..Node::new("timeout", "The request timeout of calls to this service.")
};

pub static CIRCUIT_BREAKER: Node = Node {
    props: &[
        Prop::optional(
            "consecutive-errors",
            Value::Integer { min: 1, max: 1000 },
            N("5"),
        ),
        Prop::optional("ejection", Value::Duration, S("30s")),
        Prop::optional("interval", Value::Duration, S("10s")),
        Prop::optional(
            "max-connections",
            Value::Integer {
                min: 1,
                max: 1_000_000,
            },
            N("100"),
        ),
        Prop::optional("max-ejection", Value::Percent, N("50")),
        Prop::optional(
            "max-pending",
            Value::Integer {
                min: 1,
                max: 1_000_000,
            },
            N("10"),
        ),
        Prop::optional(
            "max-requests",
            Value::Integer {
                min: 1,
                max: 1_000_000,
            },
            N("1000"),
        ),
    ],
    ..Node::new(
        "circuit-breaker",
        "Outlier detection and a connection pool.",
    )
};

pub static CANARY: Node = Node {
    args: &[Arg::required("VERSION", Value::Name, S("v2"))],
    props: &[
        Prop::optional(
            "digest",
            Value::String,
            S("sha256:0000000000000000000000000000000000000000000000000000000000000000"),
        ),
        Prop::optional("tag", Value::String, S("v1.1.0")),
        Prop::optional("weight", Value::Percent, N("10")),
    ],
    children: &[
        Child::once(&GATE),
        Child::any(&CANARY_HEADER),
        Child::once(&STEPS),
    ],
    ..Node::new(
        "canary",
        "A canary release, its traffic split by the mesh through an Argo Rollout.",
    )
};

pub static CANARY_HEADER: Node = Node {
    any_props: Some(Value::String),
    ..Node::new(
        "header",
        "Requests with these headers (lowercase names) go to the canary.",
    )
};

pub static VERSION: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("v2"))],
    props: &[
        Prop::optional(
            "digest",
            Value::String,
            S("sha256:0000000000000000000000000000000000000000000000000000000000000000"),
        ),
        Prop::optional("image", Value::Image, S("ghcr.io/acme/web-next")),
        Prop::optional("tag", Value::String, S("v2.0.0")),
        Prop::optional("weight", Value::Percent, N("20")),
    ],
    children: &[
        Child::any(&VERSION_COOKIE),
        Child::any(&VERSION_HEADER),
        Child::once(&REMOVE),
    ],
    ..Node::new(
        "version",
        "A long-lived version beside the stable one: its own image, Deployment and subset.",
    )
};

pub static VERSION_COOKIE: Node = Node {
    any_props: Some(Value::String),
    ..Node::new(
        "cookie",
        "Requests that carry one of these cookies go to this version.",
    )
};

pub static VERSION_HEADER: Node = Node {
    any_props: Some(Value::String),
    ..Node::new(
        "header",
        "Requests with one of these headers (lowercase names) go to this version.",
    )
};

pub static STEPS: Node = Node {
    args: &[Arg::repeated("PERCENT", Value::Percent, N("10"))],
    props: &[Prop::optional("interval", Value::Duration, S("5m"))],
    ..Node::new(
        "steps",
        "The weights of the progressive rollout, and the time between steps.",
    )
};

pub static GATE: Node = Node {
    props: &[
        Prop::optional("latency-p50", Value::Duration, S("100ms")),
        Prop::optional("latency-p75", Value::Duration, S("200ms")),
        Prop::optional("latency-p90", Value::Duration, S("300ms")),
        Prop::optional("latency-p95", Value::Duration, S("400ms")),
        Prop::optional("latency-p99", Value::Duration, S("500ms")),
        Prop::optional("success-rate", Value::Percent, S("99.5")),
    ],
    ..Node::new(
        "gate",
        "The thresholds each canary step must meet, measured in Prometheus.",
    )
};

pub static SLO: Node = Node {
    props: &[
        Prop::optional("availability", Value::Percent, S("99.9")),
        Prop::optional("latency-p50", Value::Duration, S("100ms")),
        Prop::optional("latency-p75", Value::Duration, S("200ms")),
        Prop::optional("latency-p90", Value::Duration, S("300ms")),
        Prop::optional("latency-p95", Value::Duration, S("300ms")),
        Prop::optional("latency-p99", Value::Duration, S("300ms")),
    ],
    ..Node::new(
        "slo",
        "The service-level objectives over 30 days, with their recording rules and alerts.",
    )
};

pub static EXPOSE: Node = Node {
    props: &[
        Prop::optional("claims", Value::String, S("groups=admin")),
        Prop::required("gateway", Value::String, S("public")),
        Prop::optional("host", Value::Host, S("shop.example.com")),
        Prop::optional("jwt", Value::String, S("users")),
        Prop::optional(
            "match",
            Value::Keyword(&["exact", "prefix", "regex"]),
            S("prefix"),
        ),
        Prop::optional("path", Value::String, S("/")),
        Prop::optional("port", Value::String, S("http")),
        Prop::optional("rewrite", Value::String, S("/")),
    ],
    ..Node::new(
        "expose",
        "One host and path an ingress gateway routes to this service; repeat it for more.",
    )
};

pub static LOAD_BALANCER: Node = Node {
    props: &[Prop::required(
        "reason",
        Value::String,
        S("load tests from outside the cluster"),
    )],
    ..Node::new(
        "load-balancer",
        "A Service of type LoadBalancer, outside the mesh; for testing.",
    )
};

pub static SIDECAR: Node = Node {
    args: &[Arg::required("BOOLEAN", Value::Boolean, B(false))],
    props: &[Prop::optional(
        "reason",
        Value::String,
        S("vendor image breaks with iptables redirection"),
    )],
    ..Node::new(
        "sidecar",
        "`sidecar #false`: the service runs without the Istio sidecar.",
    )
};

pub static MTLS_EXCEPTION: Node = Node {
    props: &[
        Prop::optional(
            "mode",
            Value::Keyword(&["permissive", "disable"]),
            S("permissive"),
        ),
        Prop::required("port", Value::String, S("http")),
        Prop::required(
            "reason",
            Value::String,
            S("meshed callers reach it in plain text"),
        ),
    ],
    ..Node::new(
        "mtls-exception",
        "Relaxes mTLS on one port of this service.",
    )
};

pub static AUTOMOUNT_TOKEN: Node = Node {
    args: &[Arg::required("BOOLEAN", Value::Boolean, B(true))],
    props: &[Prop::optional(
        "reason",
        Value::String,
        S("reads pod metadata from the Kubernetes API"),
    )],
    ..Node::new(
        "automount-token",
        "`automount-token #true`: mounts the ServiceAccount token in the pod.",
    )
};

const ID: Value = Value::Integer {
    min: 0,
    max: 2_147_483_647,
};

pub static SECURITY: Node = Node {
    props: &[
        Prop::optional("add-capability", Value::String, S("NET_ADMIN")),
        Prop::optional("fs-group", ID, N("2000")),
        Prop::optional("privilege-escalation", Value::Boolean, B(false)),
        Prop::optional("read-only-root", Value::Boolean, B(true)),
        Prop::optional("reason", Value::String, S("why the security is weakened")),
        Prop::optional("run-as-group", ID, N("2000")),
        Prop::optional("run-as-non-root", Value::Boolean, B(true)),
        Prop::optional("run-as-user", ID, N("2000")),
        Prop::optional(
            "seccomp",
            Value::Keyword(&["runtime-default", "unconfined"]),
            S("runtime-default"),
        ),
    ],
    ..Node::new(
        "security",
        "The pod's and container's security context; any weakening needs `reason=`.",
    )
};

pub static USES: Node = Node {
    args: &[
        Arg::required(
            "KIND",
            Value::Keyword(&[
                "database",
                "bucket",
                "table",
                "filesystem",
                "cache",
                "docdb",
                "queue",
                "topic",
                "secret",
            ]),
            S("secret"),
        ),
        Arg::required("NAME", Value::String, S("jwt-keys")),
    ],
    props: &[
        Prop::optional("auth", Value::Keyword(&["iam", "password"]), S("iam")),
        Prop::optional("env", Value::EnvName, S("JWT_KEY")),
        Prop::optional("key", Value::String, S("private.pem")),
        Prop::optional("path", Value::String, S("/etc/jwt")),
        Prop::optional(
            "reason",
            Value::String,
            S("the SDK reads the key from env only"),
        ),
    ],
    children: &[Child::once(&USES_ENV), Child::once(&REMOVE)],
    ..Node::new(
        "uses",
        "A data store or a secret of `aws` the service reads or writes.",
    )
};

/// `uses KIND NAME { env KEY=VAR… }`: the names of the variables a store gives, by their
/// suffix (`host` for `…_DATABASE_HOST`), and a database's connection URIs.
pub static USES_ENV: Node = Node {
    props: &[
        Prop::optional("arn", Value::EnvName, S("TOPIC_ARN")),
        Prop::optional("bucket", Value::EnvName, S("S3_BUCKET")),
        Prop::optional("host", Value::EnvName, S("DB_HOST")),
        Prop::optional("jdbc", Value::EnvName, S("SPRING_DATASOURCE_URL")),
        Prop::optional("name", Value::EnvName, S("DB_NAME")),
        Prop::optional("password", Value::EnvName, S("DB_PASSWORD")),
        Prop::optional("port", Value::EnvName, S("DB_PORT")),
        Prop::optional("table", Value::EnvName, S("DYNAMO_TABLE")),
        Prop::optional("tls", Value::EnvName, S("REDIS_TLS")),
        Prop::optional("uri", Value::EnvName, S("DATABASE_URL")),
        Prop::optional("url", Value::EnvName, S("QUEUE_URL")),
        Prop::optional("user", Value::EnvName, S("DB_USER")),
    ],
    ..Node::new(
        "env",
        "The names of the variables a store gives, by key (`host` for `…_DATABASE_HOST`), and a database's connection URIs.",
    )
};

pub static VOLUME: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("cache"))],
    props: &[
        Prop::required("path", Value::String, S("/var/cache")),
        Prop::optional("size-limit", Value::Memory, S("128Mi")),
    ],
    children: &[Child::once(&REMOVE)],
    ..Node::new(
        "volume",
        "A writable emptyDir, since the root file system is read-only.",
    )
};

pub static STATEFUL: Node = Node {
    children: &[Child::once(&STATEFUL_PEERS), Child::some(&STATEFUL_VOLUME)],
    ..Node::new(
        "stateful",
        "The service keeps state: a StatefulSet with a persistent volume per replica, a headless Service and a PodDisruptionBudget.",
    )
};

pub static STATEFUL_PEERS: Node = Node {
    args: &[Arg::repeated("PORT", Value::PortName, S("raft"))],
    ..Node::new(
        "peers",
        "The ports the replicas call each other on (replication, a cluster bus, a quorum): each pod admits the others there.",
    )
};

pub static STATEFUL_VOLUME: Node = Node {
    args: &[Arg::required("NAME", Value::Name, S("data"))],
    props: &[
        Prop::required("path", Value::String, S("/var/lib/postgresql/data")),
        Prop::required("size", Value::Memory, S("20Gi")),
    ],
    ..Node::new(
        "volume",
        "A persistent volume per replica: an encrypted gp3 EBS volume, kept when the service is deleted or scaled down.",
    )
};

pub static WAIVE: Node = Node {
    args: &[Arg::required("CHECK", Value::String, S("CKV_K8S_43"))],
    props: &[Prop::required(
        "reason",
        Value::String,
        S("why the check does not apply"),
    )],
    ..Node::new(
        "waive",
        "A policy check (a checkov id) that does not apply, and why.",
    )
};
