//! `ErrorKind`: every problem platc can report, with its stable code, message, label and help.
//!
//! Variants are in alphabetical order. The code of a variant is its name in kebab case under
//! `platc::`; codes are stable: tools match on them and `docs/codes/<code>.md` documents each.

use std::fmt::Write as _;

/// What went wrong. The data in a variant is what the message, label and help need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// An address an `env=` variable cannot hold as asked: a URL of a port that speaks no
    /// HTTP, a scheme the protocol contradicts, a path or scheme with a format that has none.
    AddressFormat { detail: String, help: &'static str },
    /// A minimum above its maximum: `autoscale`, or a node group's size.
    AutoscaleRange {
        what: &'static str,
        min: u64,
        max: u64,
    },
    /// A service says how to `build` its image, but the image is not one of the platform's
    /// ECR repositories, so a pipeline would have nowhere to push it.
    BuildWithoutRepository { service: String },
    /// A canary is declared but the platform has no service mesh to split traffic.
    CanaryNeedsMesh { service: String, sidecar_off: bool },
    /// Canary steps are not strictly increasing, or the first weight disagrees with them.
    CanarySteps { detail: String },
    /// The node groups cannot hold every service at its autoscaling maximum.
    Capacity {
        resource: &'static str,
        needed: String,
        available: String,
    },
    /// `jenkins deploy=helm` on a platform whose Argo CD Applications own the same objects.
    DeployConflict,
    /// Two env vars of one container share a name.
    DuplicateEnv { name: String },
    /// Two named things of one kind (node groups, databases, gateways, …) share a name.
    DuplicateName { kind: &'static str, name: String },
    /// A node that may appear once appears twice.
    DuplicateNode { node: String },
    /// Two ports of a service share a name or a number.
    DuplicatePort { port: String },
    /// A node gives the same property twice; KDL would keep the last one silently.
    DuplicateProperty { property: String, node: String },
    /// Two services share a name.
    DuplicateService { name: String },
    /// A service is exposed on a gateway but has no HTTP, HTTP/2 or gRPC port to route to.
    ExposedWithoutHttp { service: String },
    /// A canary has metric gates but the platform has no Prometheus to evaluate them.
    GateWithoutPrometheus { service: String },
    /// An image uses the moving tag `latest`.
    ImageLatest { image: String },
    /// A CIDR block that is not a valid IPv4 network.
    InvalidCidr { value: String, reason: String },
    /// A duration that is not a number followed by `ms`, `s`, `m`, `h` or `d`.
    InvalidDuration { value: String },
    /// `config … file=` names a file platc cannot take: outside the directory of
    /// `platform.kdl`, missing, or not UTF-8.
    InvalidFile { path: String, reason: String },
    /// An image reference that does not follow the OCI reference grammar.
    InvalidImage { value: String, reason: String },
    /// An EC2 or RDS instance type that is not of the form `family.size`.
    InvalidInstanceType { value: String },
    /// A name that breaks the rules of its kind: a DNS-1123 label (Kubernetes names), a port
    /// name (IANA service name), an env var name, a host name or a header name.
    InvalidName {
        value: String,
        reason: String,
        rule: NameRule,
    },
    /// A percentage outside 0–100.
    InvalidPercentage { value: String },
    /// The file is not UTF-8: at `offset` is a byte sequence that is not.
    InvalidUtf8 { offset: usize },
    /// A port number outside 1–65535.
    InvalidPort { value: String },
    /// A Kubernetes quantity that does not parse (`100m`, `64Mi`, `1.5`).
    InvalidQuantity {
        value: String,
        resource: &'static str,
    },
    /// `expose match=regex path=…` is not a regular expression in RE2 syntax.
    InvalidRegex { value: String, detail: String },
    /// A value of the wrong KDL type.
    InvalidType {
        expected: &'static str,
        found: &'static str,
        /// Help for a mistake recognised by its shape (`port 5050 grpc`), instead of the
        /// generic one.
        hint: Option<&'static str>,
    },
    /// A keyword that is not one of the allowed ones.
    InvalidValue {
        value: String,
        expected: Vec<&'static str>,
        suggestion: Option<String>,
    },
    /// The file is KDL v1; it was read, but v2 is the language platc documents.
    KdlV1,
    /// A node lacks a required argument.
    MissingArgument { node: String, what: &'static str },
    /// A required child node is missing.
    MissingNode { parent: String, node: &'static str },
    /// A latency threshold without the percentile it bounds (`latency=` for `latency-pNN=`).
    MissingPercentile { node: &'static str },
    /// The file has no top-level `platform` node.
    MissingPlatform { suggestion: Option<String> },
    /// A node lacks a required property.
    MissingProperty {
        node: String,
        property: &'static str,
    },
    /// A security default is weakened without a `reason`.
    MissingReason { what: String },
    /// The file nests nodes deeper than any platform needs.
    NestingTooDeep { limit: usize },
    /// A name platc builds from the AWS account id, and no `aws account=` to build it from.
    NeedsAccount { what: String },
    /// An overlay's `X { remove }` that matches no node of the base platform.
    NothingToRemove {
        what: String,
        suggestion: Option<String>,
    },
    /// An integer outside its allowed range.
    OutOfRange {
        what: &'static str,
        value: String,
        min: i64,
        max: i64,
    },
    /// Strict mTLS, but a service runs outside the mesh and declares no port exception.
    OutsideMesh { service: String },
    /// A probe's kind does not fit the protocol of the port it checks.
    ProbeProtocol {
        probe: String,
        port: String,
        protocol: String,
    },
    /// An overlay's `X { remove }` that also changes the node it removes.
    RemoveWithChanges { node: String, what: String },
    /// A resource request is above its limit.
    RequestsAboveLimits {
        resource: &'static str,
        request: String,
        limit: String,
    },
    /// Retries, a timeout or a canary route on a service that has no HTTP, HTTP/2 or gRPC port:
    /// the mesh routes and retries requests, and a TCP stream has none.
    RouteWithoutHttp { service: String, what: &'static str },
    /// A prefix's rewrite whose trailing `/` is not the prefix's: Envoy replaces the matched
    /// text as it is, and the path goes on with a doubled or a missing `/`.
    RewriteSlash { path: String, rewrite: String },
    /// A service calls itself.
    SelfCall { service: String },
    /// Two environments (or an environment and the base platform) keep their Terraform state
    /// under the same key: one apply would overwrite the other's state.
    SharedStateKey { key: String },
    /// An objective or gate the burn-rate alerts and the sidecars' histograms cannot express.
    SloNotExpressible { what: String, why: Inexpressible },
    /// An SLO on a service whose requests nothing measures.
    SloUnmeasured { service: String, why: Unmeasured },
    /// A stateful service with what a `StatefulSet` cannot have: a canary (Argo Rollouts rolls
    /// Deployments) or an autoscaler (each replica adds a volume).
    StatefulConflict { service: String, what: &'static str },
    /// The number of explicit public or private subnets is not the number of zones.
    SubnetCount {
        kind: &'static str,
        count: u64,
        zones: u64,
    },
    /// A subnet does not lie inside the VPC.
    SubnetOutsideVpc { subnet: String, vpc: String },
    /// Two subnets overlap.
    SubnetOverlap { subnet: String, other: String },
    /// The KDL text does not parse.
    Syntax {
        message: String,
        help: Option<String>,
    },
    /// Text larger than the objects it reaches may be: `what`, `size` bytes as written into
    /// JSON, above `limit`.
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    /// A node got more arguments than it takes.
    UnexpectedArgument { node: String },
    /// `--env` names an environment the platform does not declare.
    UnknownEnv {
        name: String,
        declared: Vec<String>,
        suggestion: Option<String>,
    },
    /// A reference to a gateway the mesh does not declare.
    UnknownGateway {
        name: String,
        suggestion: Option<String>,
    },
    /// `expose jwt=NAME` names no `mesh { jwt NAME … }`.
    UnknownJwt {
        name: String,
        suggestion: Option<String>,
    },
    /// A node name that is not part of the language at this place.
    UnknownNode {
        node: String,
        parent: String,
        suggestion: Option<String>,
    },
    /// A reference to a port the service does not declare.
    UnknownPort {
        service: String,
        port: String,
        suggestion: Option<String>,
    },
    /// A property name that this node does not take.
    UnknownProperty {
        node: String,
        property: String,
        suggestion: Option<String>,
        /// The properties the node takes, from the language's table.
        accepted: Vec<&'static str>,
    },
    /// A reference to a service the platform does not declare.
    UnknownService {
        name: String,
        suggestion: Option<String>,
        /// Named by an `env` overlay, which may change a base service but never declare one.
        overlay: bool,
    },
    /// A reference to a data store (database, bucket, table, filesystem) that `aws` does not declare.
    UnknownStore {
        kind: &'static str,
        name: String,
        suggestion: Option<String>,
    },
    /// A stateful service runs several replicas that declare no `peers`: they cannot
    /// replicate, so each keeps its own data behind one Service.
    UnpeeredReplicas { service: String, replicas: u32 },
    /// The cluster's Kubernetes version is one an add-on platc installs does not support.
    UnsupportedClusterVersion {
        version: String,
        addon: &'static str,
        min: &'static str,
        max: &'static str,
    },
    /// Versions of a service with what cannot split their traffic: a canary's Rollout, or no
    /// mesh.
    VersionConflict { service: String, with: &'static str },
    /// Versions whose weights leave the stable version less than nothing, or a version no
    /// traffic reaches.
    VersionWeights {
        service: String,
        detail: String,
        label: &'static str,
    },
    /// The VPC is too small to carve a public and a private subnet per zone.
    VpcTooSmall { cidr: String, zones: u64 },
}

/// Why an objective or a gate cannot be measured as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inexpressible {
    /// 100%: no error budget to burn.
    NoBudget,
    /// A budget so large that the fastest burn the page watches exceeds every request failing.
    WideBudget,
    /// An SLO on p50, p75 or p90: the same, for slow requests.
    LowPercentile,
    /// A latency of 0ms: no histogram bucket.
    ZeroLatency,
    /// Canary steps that advance before the gate can abort a failing canary.
    ShortInterval,
}

impl Inexpressible {
    fn label(self) -> &'static str {
        match self {
            Self::NoBudget => "no error budget",
            Self::WideBudget => "a budget no page can watch",
            Self::LowPercentile => "too low a percentile for an SLO",
            Self::ZeroLatency => "no histogram bucket",
            Self::ShortInterval => "steps advance before the gate can judge",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Self::NoBudget => {
                "At 100% any failed request breaks the SLO and there is no budget to burn: use 99.999% at most."
            }
            Self::WideBudget => {
                "The page fires when the error budget burns 14.4 times too fast (2% of a 30-day budget in an hour); below 93.056% that pace is more than every request failing. Use 93.056% or more."
            }
            Self::LowPercentile => {
                "Slow requests at p50, p75 or p90 are a budget of 10% or more, which no page can watch (it fires at 14.4 times the budget): use `latency-p95` or `latency-p99` in an `slo`. A canary `gate` may use any percentile."
            }
            Self::ZeroLatency => {
                "A latency is compared with a bucket of the sidecar's histogram: use a threshold of at least 1ms."
            }
            Self::ShortInterval => {
                "The gate first measures the canary two minutes into the rollout, then once a minute, and aborts on the third failure: give `steps … interval=` at least \"5m\", or leave `interval` out to promote by hand."
            }
        }
    }
}

/// Why nothing measures a service's requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unmeasured {
    /// Only TCP ports: the sidecar sees connections, not requests.
    NoHttpPort,
    /// No mesh, or the service's sidecar is off: no sidecar reports its requests.
    NoSidecar,
    /// No `prometheus` in `observability`: nothing keeps the metrics.
    NoPrometheus,
}

impl Unmeasured {
    fn reason(self) -> &'static str {
        match self {
            Self::NoHttpPort => "it has no HTTP or gRPC port",
            Self::NoSidecar => "it runs no Istio sidecar",
            Self::NoPrometheus => "the platform has no Prometheus",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Self::NoHttpPort => {
                "Istio counts requests on HTTP and gRPC ports only: give a port `protocol=http`, `http2` or `grpc`, or remove the `slo` line."
            }
            Self::NoSidecar => {
                "The SLO is measured by the service's own sidecar: add a `mesh`, or turn its sidecar back on, or remove the `slo` line."
            }
            Self::NoPrometheus => "Add `prometheus` to `observability`, or remove the `slo` line.",
        }
    }
}

impl ErrorKind {
    /// The stable code, `platc::<kebab-case variant>`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AddressFormat { .. } => "platc::address-format",
            Self::AutoscaleRange { .. } => "platc::autoscale-range",
            Self::BuildWithoutRepository { .. } => "platc::build-without-repository",
            Self::CanaryNeedsMesh { .. } => "platc::canary-needs-mesh",
            Self::CanarySteps { .. } => "platc::canary-steps",
            Self::Capacity { .. } => "platc::capacity",
            Self::DeployConflict => "platc::deploy-conflict",
            Self::DuplicateEnv { .. } => "platc::duplicate-env",
            Self::DuplicateName { .. } => "platc::duplicate-name",
            Self::DuplicateNode { .. } => "platc::duplicate-node",
            Self::DuplicatePort { .. } => "platc::duplicate-port",
            Self::DuplicateProperty { .. } => "platc::duplicate-property",
            Self::DuplicateService { .. } => "platc::duplicate-service",
            Self::ExposedWithoutHttp { .. } => "platc::exposed-without-http",
            Self::GateWithoutPrometheus { .. } => "platc::gate-without-prometheus",
            Self::ImageLatest { .. } => "platc::image-latest",
            Self::InvalidCidr { .. } => "platc::invalid-cidr",
            Self::InvalidDuration { .. } => "platc::invalid-duration",
            Self::InvalidImage { .. } => "platc::invalid-image",
            Self::InvalidInstanceType { .. } => "platc::invalid-instance-type",
            Self::InvalidName { .. } => "platc::invalid-name",
            Self::InvalidPercentage { .. } => "platc::invalid-percentage",
            Self::InvalidPort { .. } => "platc::invalid-port",
            Self::InvalidRegex { .. } => "platc::invalid-regex",
            Self::InvalidQuantity { .. } => "platc::invalid-quantity",
            Self::InvalidType { .. } => "platc::invalid-type",
            Self::InvalidUtf8 { .. } => "platc::invalid-utf8",
            Self::InvalidFile { .. } => "platc::invalid-file",
            Self::InvalidValue { .. } => "platc::invalid-value",
            Self::KdlV1 => "platc::kdl-v1",
            Self::MissingArgument { .. } => "platc::missing-argument",
            Self::MissingNode { .. } => "platc::missing-node",
            Self::MissingPercentile { .. } => "platc::missing-percentile",
            Self::MissingPlatform { .. } => "platc::missing-platform",
            Self::MissingProperty { .. } => "platc::missing-property",
            Self::MissingReason { .. } => "platc::missing-reason",
            Self::NestingTooDeep { .. } => "platc::nesting-too-deep",
            Self::NeedsAccount { .. } => "platc::needs-account",
            Self::NothingToRemove { .. } => "platc::nothing-to-remove",
            Self::OutOfRange { .. } => "platc::out-of-range",
            Self::OutsideMesh { .. } => "platc::outside-mesh",
            Self::ProbeProtocol { .. } => "platc::probe-protocol",
            Self::RemoveWithChanges { .. } => "platc::remove-with-changes",
            Self::RequestsAboveLimits { .. } => "platc::requests-above-limits",
            Self::RouteWithoutHttp { .. } => "platc::route-without-http",
            Self::RewriteSlash { .. } => "platc::rewrite-slash",
            Self::SelfCall { .. } => "platc::self-call",
            Self::SharedStateKey { .. } => "platc::shared-state-key",
            Self::SloNotExpressible { .. } => "platc::slo-not-expressible",
            Self::SloUnmeasured { .. } => "platc::slo-unmeasured",
            Self::StatefulConflict { .. } => "platc::stateful-conflict",
            Self::SubnetCount { .. } => "platc::subnet-count",
            Self::SubnetOutsideVpc { .. } => "platc::subnet-outside-vpc",
            Self::SubnetOverlap { .. } => "platc::subnet-overlap",
            Self::Syntax { .. } => "platc::syntax",
            Self::TooLarge { .. } => "platc::too-large",
            Self::UnexpectedArgument { .. } => "platc::unexpected-argument",
            Self::UnknownEnv { .. } => "platc::unknown-env",
            Self::UnknownGateway { .. } => "platc::unknown-gateway",
            Self::UnknownJwt { .. } => "platc::unknown-jwt",
            Self::UnknownNode { .. } => "platc::unknown-node",
            Self::UnknownPort { .. } => "platc::unknown-port",
            Self::UnknownProperty { .. } => "platc::unknown-property",
            Self::UnknownService { .. } => "platc::unknown-service",
            Self::UnknownStore { .. } => "platc::unknown-store",
            Self::UnpeeredReplicas { .. } => "platc::unpeered-replicas",
            Self::UnsupportedClusterVersion { .. } => "platc::unsupported-cluster-version",
            Self::VersionConflict { .. } => "platc::version-conflict",
            Self::VersionWeights { .. } => "platc::version-weights",
            Self::VpcTooSmall { .. } => "platc::vpc-too-small",
        }
    }

    /// Every code platc can emit, for `explain` and the documentation test.
    pub const CODES: &'static [&'static str] = &[
        "platc::address-format",
        "platc::autoscale-range",
        "platc::build-without-repository",
        "platc::canary-needs-mesh",
        "platc::canary-steps",
        "platc::capacity",
        "platc::deploy-conflict",
        "platc::duplicate-env",
        "platc::duplicate-name",
        "platc::duplicate-node",
        "platc::duplicate-port",
        "platc::duplicate-property",
        "platc::duplicate-service",
        "platc::exposed-without-http",
        "platc::gate-without-prometheus",
        "platc::image-latest",
        "platc::invalid-cidr",
        "platc::invalid-duration",
        "platc::invalid-file",
        "platc::invalid-image",
        "platc::invalid-instance-type",
        "platc::invalid-name",
        "platc::invalid-percentage",
        "platc::invalid-port",
        "platc::invalid-quantity",
        "platc::invalid-regex",
        "platc::invalid-type",
        "platc::invalid-utf8",
        "platc::invalid-value",
        "platc::kdl-v1",
        "platc::missing-argument",
        "platc::missing-node",
        "platc::missing-percentile",
        "platc::missing-platform",
        "platc::missing-property",
        "platc::missing-reason",
        "platc::needs-account",
        "platc::nesting-too-deep",
        "platc::nothing-to-remove",
        "platc::out-of-range",
        "platc::outside-mesh",
        "platc::probe-protocol",
        "platc::remove-with-changes",
        "platc::requests-above-limits",
        "platc::rewrite-slash",
        "platc::route-without-http",
        "platc::self-call",
        "platc::shared-state-key",
        "platc::slo-not-expressible",
        "platc::slo-unmeasured",
        "platc::stateful-conflict",
        "platc::subnet-count",
        "platc::subnet-outside-vpc",
        "platc::subnet-overlap",
        "platc::syntax",
        "platc::too-large",
        "platc::unexpected-argument",
        "platc::unknown-env",
        "platc::unknown-gateway",
        "platc::unknown-jwt",
        "platc::unknown-node",
        "platc::unknown-port",
        "platc::unknown-property",
        "platc::unknown-service",
        "platc::unknown-store",
        "platc::unpeered-replicas",
        "platc::unsupported-cluster-version",
        "platc::version-conflict",
        "platc::version-weights",
        "platc::vpc-too-small",
    ];

    /// One line: lowercase, no final period, names in backticks.
    pub fn message(&self) -> String {
        match self {
            Self::AddressFormat { detail, .. } => detail.clone(),
            Self::AutoscaleRange { what, min, max } => {
                format!("{what} minimum {min} is above the maximum {max}")
            }
            Self::BuildWithoutRepository { service } => {
                format!(
                    "`{service}` builds its image, but the image is not in an ECR `repository` of the platform"
                )
            }
            Self::CanaryNeedsMesh { service, .. } => {
                format!("canary of `{service}` needs a service mesh")
            }
            Self::CanarySteps { detail } => format!("invalid canary steps: {detail}"),
            Self::Capacity {
                resource,
                needed,
                available,
            } => format!(
                "services and add-ons may need {needed} of {resource} at their autoscaling maximum (sidecars counted), but the node groups hold {available} after their per-node agents"
            ),
            Self::DeployConflict => {
                "Jenkins would deploy with Helm the objects Argo CD already syncs".into()
            }
            Self::DuplicateEnv { name } => format!("env var `{name}` is set twice"),
            Self::DuplicateName { kind, name } => format!("duplicate {kind} `{name}`"),
            Self::DuplicateNode { node } => format!("`{node}` is given more than once"),
            Self::DuplicatePort { port } => format!("duplicate port `{port}`"),
            Self::DuplicateProperty { property, node } => {
                format!("`{node}` gives the property `{property}` twice")
            }
            Self::DuplicateService { name } => format!("duplicate service `{name}`"),
            Self::ExposedWithoutHttp { service } => {
                format!("service `{service}` is exposed on a gateway but has no HTTP or gRPC port")
            }
            Self::GateWithoutPrometheus { service } => {
                format!("canary gates of `{service}` need Prometheus")
            }
            Self::ImageLatest { image } => {
                if image.ends_with(":latest") {
                    format!("image `{image}` uses the tag `latest`")
                } else {
                    format!("image `{image}` has no tag or digest, so it pulls `latest`")
                }
            }
            Self::InvalidCidr { value, reason } => format!("invalid CIDR `{value}`: {reason}"),
            Self::InvalidDuration { value } => format!("invalid duration `{value}`"),
            Self::InvalidImage { value, reason } => {
                format!("invalid image reference `{value}`: {reason}")
            }
            Self::InvalidInstanceType { value } => format!("invalid instance type `{value}`"),
            Self::InvalidName {
                value,
                reason,
                rule,
            } => {
                format!("invalid {} `{value}`: {reason}", rule.noun())
            }
            Self::InvalidPercentage { value } => format!("invalid percentage `{value}`"),
            Self::InvalidFile { path, reason } => format!("cannot use the file `{path}`: {reason}"),
            Self::InvalidUtf8 { offset } => {
                format!("this file is not UTF-8: byte {offset} starts an invalid sequence")
            }
            Self::InvalidPort { value } => format!("invalid port number `{value}`"),
            Self::InvalidRegex { value, detail } => {
                format!("invalid regular expression `{value}`: {detail}")
            }
            Self::InvalidQuantity { value, resource } => {
                format!("invalid {resource} quantity `{value}`")
            }
            Self::InvalidType {
                expected, found, ..
            } => format!("expected {expected}, found {found}"),
            Self::InvalidValue { value, .. } => format!("invalid value `{value}`"),
            Self::KdlV1 => "this file is KDL v1".to_owned(),
            Self::MissingArgument { node, what } => format!("`{node}` needs {what}"),
            Self::MissingNode { parent, node } => {
                format!("`{parent}` needs {} `{node}` node", article(node))
            }
            Self::MissingPercentile { node } => {
                format!("the latency of `{node}` names no percentile")
            }
            Self::MissingPlatform { .. } => "no `platform` node in this file".to_owned(),
            Self::MissingProperty { node, property } => {
                format!("`{node}` needs the property `{property}`")
            }
            Self::MissingReason { what } => format!("{what} without a `reason`"),
            Self::NeedsAccount { what } => format!("{what} needs the AWS account id"),
            Self::NestingTooDeep { limit } => {
                format!("nodes are nested more than {limit} levels deep")
            }
            Self::NothingToRemove { what, .. } => {
                format!("the base platform has no `{what}` to remove")
            }
            Self::OutOfRange {
                what,
                value,
                min,
                max,
            } => {
                format!("{what} `{value}` is outside {min}–{max}")
            }
            Self::OutsideMesh { service } => {
                format!("service `{service}` runs outside the mesh, but mTLS is strict")
            }
            Self::ProbeProtocol {
                probe,
                port,
                protocol,
            } => {
                format!(
                    "a `{probe}` probe cannot check `{port}`, {} port",
                    protocol_noun(protocol)
                )
            }
            Self::RemoveWithChanges { node, what } => {
                format!("this `{node}` is removed, and {what} would change it")
            }
            Self::RequestsAboveLimits {
                resource,
                request,
                limit,
            } => {
                format!("{resource} request `{request}` is above its limit `{limit}`")
            }
            Self::RouteWithoutHttp { service, what } => {
                format!("{what} of `{service}` need an HTTP or gRPC port, and it has none")
            }
            Self::RewriteSlash { path, rewrite } => {
                if path.ends_with('/') {
                    format!("the rewrite `{rewrite}` of the prefix `{path}` lacks its trailing `/`")
                } else {
                    format!("the rewrite `{rewrite}` of the prefix `{path}` adds a trailing `/`")
                }
            }
            Self::SelfCall { service } => format!("service `{service}` calls itself"),
            Self::SloNotExpressible { what, .. } => format!("{what} cannot be measured as stated"),
            Self::SloUnmeasured { service, why } => {
                format!(
                    "nothing measures the requests of `{service}`: {}",
                    why.reason()
                )
            }
            Self::StatefulConflict { service, what } => {
                format!("stateful service `{service}` cannot have {what}")
            }
            Self::UnpeeredReplicas { service, replicas } => {
                format!(
                    "the {replicas} replicas of stateful service `{service}` keep separate data"
                )
            }
            Self::SharedStateKey { key } => {
                format!("two environments keep their Terraform state at `{key}`")
            }
            Self::SubnetCount { kind, count, zones } => {
                format!("{count} {kind} subnets for {zones} zones")
            }
            Self::SubnetOutsideVpc { subnet, vpc } => {
                format!("subnet `{subnet}` is not inside the VPC `{vpc}`")
            }
            Self::SubnetOverlap { subnet, other } => {
                format!("subnet `{subnet}` overlaps `{other}`")
            }
            Self::TooLarge { what, size, limit } => {
                format!("{what} is {size} bytes as JSON, above the limit of {limit}")
            }
            Self::Syntax { message, .. } => {
                let mut text = message.trim_end_matches('.').to_owned();
                if let Some(first) = text.get(..1) {
                    let lower = first.to_lowercase();
                    text.replace_range(..1, &lower);
                }
                text
            }
            Self::UnexpectedArgument { node } => format!("unexpected argument to `{node}`"),
            Self::UnknownEnv { name, .. } => format!("unknown environment `{name}`"),
            Self::UnknownGateway { name, .. } => format!("unknown gateway `{name}`"),
            Self::UnknownJwt { name, .. } => format!("unknown jwt issuer `{name}`"),
            Self::UnknownNode { node, parent, .. } if parent.is_empty() => {
                format!("unknown node `{node}` at the top level")
            }
            Self::UnknownNode { node, parent, .. } => {
                format!("unknown node `{node}` in `{parent}`")
            }
            Self::UnknownPort { service, port, .. } if port.is_empty() => {
                format!("service `{service}` declares no port")
            }
            Self::UnknownPort { service, port, .. } => {
                format!("service `{service}` has no port `{port}`")
            }
            Self::UnknownProperty { node, property, .. } => {
                format!("unknown property `{property}` on `{node}`")
            }
            Self::UnknownService { name, .. } => format!("unknown service `{name}`"),
            Self::UnknownStore { kind, name, .. } => format!("unknown {kind} `{name}`"),
            Self::UnsupportedClusterVersion {
                version,
                addon,
                min,
                max,
            } => format!(
                "Kubernetes `{version}` is not supported by {addon}, which supports {min} to {max}"
            ),
            Self::VersionConflict { service, with } => {
                format!("the versions of `{service}` cannot run {with}")
            }
            Self::VersionWeights {
                service, detail, ..
            } => {
                format!("invalid version weights of `{service}`: {detail}")
            }
            Self::VpcTooSmall { cidr, zones } => format!(
                "VPC `{cidr}` is too small for a public and a private subnet in each of {zones} zones"
            ),
        }
    }

    /// The text of the primary label, under the span.
    pub fn label(&self) -> String {
        match self {
            Self::AddressFormat { .. } => "this address".into(),
            Self::AutoscaleRange { .. } => "minimum above maximum".into(),
            Self::BuildWithoutRepository { .. } => "built here".into(),
            Self::CanaryNeedsMesh { .. } => "canary declared here".into(),
            Self::CanarySteps { .. } => "these steps".into(),
            Self::Capacity { .. } => "node groups declared here".into(),
            Self::DeployConflict => "Helm deploys here".into(),
            Self::DuplicateEnv { .. }
            | Self::DuplicateName { .. }
            | Self::DuplicateNode { .. }
            | Self::DuplicatePort { .. }
            | Self::DuplicateProperty { .. }
            | Self::DuplicateService { .. } => "defined again here".into(),
            Self::ExposedWithoutHttp { .. } => "exposed here".into(),
            Self::GateWithoutPrometheus { .. } => "metric gate".into(),
            Self::ImageLatest { .. } => "moving tag".into(),
            Self::InvalidCidr { .. } => "not a valid CIDR".into(),
            Self::InvalidDuration { .. } => "not a duration".into(),
            Self::InvalidImage { .. } => "not a valid image reference".into(),
            Self::InvalidInstanceType { .. } => "not an instance type".into(),
            Self::InvalidName { rule, .. } => format!("not a valid {}", rule.noun()),
            Self::InvalidPercentage { .. } => "not a percentage".into(),
            Self::InvalidUtf8 { .. } => "not UTF-8 (shown as �)".into(),
            Self::InvalidFile { .. } => "this file".into(),
            Self::InvalidPort { .. } => "not a port number".into(),
            Self::InvalidRegex { .. } => "not RE2 syntax".into(),
            Self::InvalidQuantity { .. } => "not a quantity".into(),
            Self::InvalidType { expected, .. } => format!("expected {expected}"),
            Self::InvalidValue { .. } => "not allowed here".into(),
            Self::KdlV1 => "read as KDL v1".into(),
            Self::MissingArgument { what, .. } => format!("missing {what}"),
            Self::MissingNode { node, .. } => format!("no `{node}` in here"),
            Self::MissingPercentile { .. } => "which percentile?".into(),
            Self::MissingPlatform { .. } => "expected `platform NAME { … }`".into(),
            Self::MissingProperty { property, .. } => format!("missing `{property}`"),
            Self::MissingReason { .. } => "weakens a secure default".into(),
            Self::NeedsAccount { .. } => "named from the account".into(),
            Self::NestingTooDeep { .. } => "one level too many".into(),
            Self::NothingToRemove { .. } => "nothing to remove".into(),
            Self::OutOfRange { .. } => "out of range".into(),
            Self::OutsideMesh { .. } => "sidecar turned off here".into(),
            Self::ProbeProtocol { .. } => "probe kind does not match the port".into(),
            Self::RemoveWithChanges { .. } => "beside `remove`".into(),
            Self::RequestsAboveLimits { .. } => "request above limit".into(),
            Self::RouteWithoutHttp { .. } => "needs an HTTP or gRPC port".into(),
            Self::RewriteSlash { .. } => "replaces the prefix as it is".into(),
            Self::SelfCall { .. } => "calls its own service".into(),
            Self::SloNotExpressible { why, .. } => why.label().into(),
            Self::SloUnmeasured { .. } => "service level objective".into(),
            Self::StatefulConflict { what, .. } => format!("{what} of a stateful service"),
            Self::UnpeeredReplicas { .. } => "replicas that never reach each other".into(),
            Self::SharedStateKey { .. } => "this state".into(),
            Self::SubnetCount { .. } => "not one per zone".into(),
            Self::SubnetOutsideVpc { .. } => "outside the VPC".into(),
            Self::SubnetOverlap { .. } => "overlapping subnet".into(),
            Self::Syntax { .. } => "here".into(),
            Self::TooLarge { .. } => "too large".into(),
            Self::UnexpectedArgument { .. } => "unexpected".into(),
            Self::UnknownEnv { .. } => "no such environment".into(),
            Self::UnknownGateway { .. } => "no such gateway".into(),
            Self::UnknownJwt { .. } => "no such `jwt` in `mesh`".into(),
            Self::UnknownNode { .. } => "unknown node".into(),
            Self::UnknownPort { .. } => "no such port".into(),
            Self::UnknownProperty { .. } => "unknown property".into(),
            Self::UnknownService { .. } => "no such service".into(),
            Self::UnknownStore { .. } => "not declared in `aws`".into(),
            Self::UnsupportedClusterVersion { .. } => "this version".into(),
            Self::VersionConflict { .. } => "a version".into(),
            Self::VersionWeights { label, .. } => (*label).into(),
            Self::VpcTooSmall { .. } => "too small".into(),
        }
    }

    /// A whole sentence that says how to fix it.
    pub fn help(&self) -> String {
        match self {
                        Self::AddressFormat { help, .. } => (*help).into(),
            Self::AutoscaleRange { .. } => "Make `min` at most `max`.".into(),
            Self::BuildWithoutRepository { .. } => {
                "Declare the repository in `aws` (`repository NAME`) and name it in the image (`image repository=NAME tag=…`), or remove `build`: platc builds only the images the platform owns.".into()
            }
            Self::CanaryNeedsMesh { sidecar_off: true, .. } => {
                "Keep the sidecar (remove `sidecar #false`): the mesh splits canary traffic at the caller's sidecar.".into()
            }
            Self::CanaryNeedsMesh { .. } => {
                "Declare `mesh istio { … }`: canary traffic is split by the mesh.".into()
            }
            Self::CanarySteps { .. } => {
                "Give steps as increasing weights from 1 to 100, for example `steps 10 25 50 100`."
                    .into()
            }
            Self::Capacity { .. } => {
                "Raise `max` of a node group or use a larger instance type, or lower the services' requests or autoscaling maximum.".into()
            }
            Self::DeployConflict => {
                "Remove `deploy=helm` (the pipelines then wait for Argo CD to sync each service), or remove `argocd`: a Helm release cannot adopt objects Argo CD applied, and Argo CD would undo what Helm changed.".into()
            }
            Self::DuplicateEnv { .. } => {
                "Remove or rename one of them; `calls … env=NAME` and `uses` set their variables themselves and need no `env` line.".into()
            }
                        Self::DuplicateName { kind: "call", .. } => {
                "Remove one of them: one `calls` line per callee is enough.".into()
            }
            Self::DuplicateName {
                kind: "external call",
                ..
            } => "Remove one of them: one `calls-external` line per host is enough.".into(),
            Self::DuplicateName {
                kind: "external port",
                ..
            } => "Declare the same protocol on both lines: the namespace has one `ServiceEntry` per host, with one protocol per port.".into(),
            Self::DuplicateName {
                kind: "external TCP port",
                ..
            } => "Give each external TCP host its own port, or call them from different namespaces: the mesh tells TCP streams apart by port alone, so one port of a namespace leads to one external host.".into(),
            Self::DuplicateName {
                kind: "egress gateway port of an outside host",
                ..
            } => "Call the host on one port for its TLS and TCP streams, and one for HTTP, across the platform: the egress gateway tells a host's streams apart by its name alone, so each leads to one port.".into(),
            Self::DuplicateName {
                kind: "Argo CD application",
                name,
            } => format!(
                "Rename the service: `{name}` names the part of {}, in the Argo CD Applications' names and in the plugin's `part` parameter.",
                crate::emit::conventions::cmp::shared_part(name).unwrap_or("the platform")
            ),
            Self::DuplicateName { kind: "route", .. } => {
                "Remove one of the two `expose` lines, or give it another host, path or `match=`: the gateway would send every request of the pair to one service only.".into()
            }
            Self::DuplicateName {
                kind: "ingress VirtualService",
                ..
            } => "Rename one of the hosts: the gateway's `VirtualService` of a host is named `<gateway>-<host>` with `.` and `*` as `-`, and these two hosts give the same name.".into(),
            Self::DuplicateName { kind: "chart", .. } => {
                "Rename the platform or the service: the umbrella chart, each service's chart and the add-ons' values (`addons`) share `out/helm/`.".into()
            }
            Self::DuplicateName {
                kind: "mount path", ..
            } => "Mount each volume, file system, secret and config file at a path of its own.".into(),
            Self::DuplicateName {
                kind: "mount path of one volume",
                ..
            } => "Give every `uses secret` line of one secret the same `path=`, or leave it out of all but one: the secret is one volume.".into(),
            Self::DuplicateName { kind: "volume", .. } => {
                "Rename one of them: a `volume`, a `stateful` volume, a file system and a secret of a service are each a volume of its pod, named after it.".into()
            }
            Self::DuplicateName {
                kind: "access role",
                ..
            } => "Admit each role once, in one `access` with the widest `policy` it needs: EKS keeps one access entry per principal.".into(),
            Self::DuplicateName { kind, .. } => format!("Give each {kind} its own name."),
            Self::DuplicateNode { node } => format!(
                "`{node}` may be given once here: keep the one you mean and delete the other."
            ),
            Self::DuplicatePort { .. } => "Give each port its own name and number.".into(),
            Self::DuplicateProperty { .. } => {
                "Keep one of them: KDL would use the last one and drop the first without a word.".into()
            }
            Self::DuplicateService { .. } => {
                "Rename one of them, or merge the two into one `service` node.".into()
            }
            Self::ExposedWithoutHttp { .. } => {
                "Add a port with `protocol=http`, `http2` or `grpc`, or remove `expose`.".into()
            }
            Self::GateWithoutPrometheus { .. } => {
                "Add `prometheus` to `observability`, or remove the `gate` line.".into()
            }
            Self::ImageLatest { .. } => {
                "Pin a version tag or a digest, so a build is reproducible and a rollback means something.".into()
            }
            Self::InvalidCidr { .. } => {
                "Write an IPv4 network with its prefix length and no host bits, for example \"10.0.0.0/16\".".into()
            }
            Self::InvalidDuration { .. } => {
                "Write a number with a unit `ms`, `s`, `m`, `h` or `d`, for example \"30s\" or \"1m30s\".".into()
            }
            Self::InvalidImage { .. } => {
                "Write the repository, optionally with a registry host, and give the tag with `tag=` or the digest with `digest=\"sha256:…\"`.".into()
            }
            Self::InvalidInstanceType { .. } => {
                "Write an instance type as `family.size`, for example `m6i.large` (or `db.t4g.micro` for RDS, `cache.t4g.micro` for ElastiCache).".into()
            }
                        Self::InvalidName { rule, .. } => rule.help().into(),
            Self::InvalidFile { .. } => {
                "Name a UTF-8 text file inside the directory of platform.kdl, by a path relative to it (`config/nginx.conf`), or give the contents inline with `text=`.".into()
            }
            Self::InvalidUtf8 { .. } => {
                "Save the file as UTF-8: KDL is UTF-8 text; a file written in Latin-1 or UTF-16 must be converted (`iconv -f LATIN1 -t UTF-8`).".into()
            }
            Self::InvalidPercentage { .. } => {
                "Write a number from 0 to 100 with at most three decimals, for example `99.9`.".into()
            }
            Self::InvalidPort { .. } => "Use a port number from 1 to 65535.".into(),
            Self::InvalidRegex { .. } => "Write the path in RE2 syntax, as Envoy matches it against the whole path: no look-around and no back-references; escape `.` and other metacharacters with `\\`.".into(),
            Self::InvalidQuantity { resource, .. } => match *resource {
                "cpu" => "Write CPU as cores or millicores in a string, for example \"0.5\" or \"500m\".".into(),
                _ => "Write memory and storage with a binary suffix in a string, for example \"64Mi\" or \"1Gi\".".into(),
            },
            Self::InvalidType {
                hint: Some(hint), ..
            } => (*hint).into(),
            Self::InvalidType { expected, .. } => {
                let mut help = format!("Write {expected} here");
                if *expected == "a string" {
                    help.push_str(", in double quotes");
                }
                help.push('.');
                help
            }
            Self::InvalidValue { expected, suggestion, .. } => {
                // A description ("an absolute path") rather than a list of choices reads as one.
                let described = expected.len() == 1 && expected[0].contains(' ');
                let want = if described {
                    format!("Use {}.", expected[0])
                } else {
                    format!("Use one of {}.", quoted_list(expected))
                };
                match suggestion {
                    Some(name) if described => format!("Did you mean `{name}`? {want}"),
                    _ => with_suggestion(&want, suggestion.as_deref()),
                }
            }
            Self::KdlV1 => {
                "Convert it to KDL v2: write `#true`, `#false` and `#null`, and quote strings that are not plain identifiers.".into()
            }
            Self::MissingArgument { node, what } => format!("Write {what} after `{node}`."),
            Self::MissingPercentile { .. } => {
                "Name the percentile the threshold bounds: `latency-p99=\"200ms\"` (p50, p75, p90, p95 or p99).".into()
            }
                        Self::MissingNode { node, .. } => format!("Add {} `{node}` node.", article(node)),
            Self::MissingPlatform { suggestion: Some(name) } => format!("Did you mean `{name}`?"),
            Self::MissingPlatform { suggestion: None } => {
                "Wrap the file in `platform NAME { … }`; see `docs/language.md`.".into()
            }
            Self::MissingProperty { property, .. } => format!("Add `{property}=…` to this node."),
                        Self::MissingReason { .. } => {
                "Add `reason=\"…\"` to this node saying why it is needed; weakening a secure default takes a written reason.".into()
            }
            Self::NestingTooDeep { .. } => {
                "The language nests four levels at most (`platform` › `aws` › `cluster` › `node-group`); look for a `{` that is never closed, or a block pasted into itself.".into()
            }
            Self::NeedsAccount { .. } => {
                "Add `account=\"123456789012\"` (your 12-digit AWS account id) to `aws`: bucket names and image registry addresses are built from it, and the tree can then only be applied to that account.".into()
            }
            Self::OutOfRange {
                what: "Helm release name length",
                max,
                ..
            } => format!(
                "Shorten the name to {max} characters or fewer: its Helm chart installs as a release of that name, and Helm refuses longer ones."
            ),
            Self::NothingToRemove { suggestion, .. } => with_suggestion(
                "An overlay removes what the base platform declares: fix the name, or delete this block.",
                suggestion.as_deref(),
            ),
            Self::OutOfRange {
                what: "canary weight",
                ..
            } => "Start the canary at a weight from 1 to 100, the first of its `steps`: at 0 it gets no traffic, so there is nothing to measure or promote.".into(),
            Self::OutOfRange {
                what: "MySQL user name length",
                max,
                ..
            } => format!(
                "Shorten the service's name to {max} characters: its user of the MySQL database is named after it, and MySQL refuses a longer user name."
            ),
            Self::OutOfRange {
                what: "AWS name length",
                max,
                ..
            } => format!(
                "Shorten the platform's, the environment's or this node's name so the AWS name fits in {max} characters: AWS refuses longer ones."
            ),
            Self::OutOfRange { min, max, .. } => format!("Use a value from {min} to {max}."),
            Self::OutsideMesh { .. } => {
                "Keep the sidecar, or add `mtls-exception port=… reason=\"…\"` for the ports its callers reach without mTLS.".into()
            }
            Self::ProbeProtocol { .. } => {
                "Use a `grpc` probe on a gRPC port, `http` on an HTTP port, or `tcp` on any port.".into()
            }
            Self::RemoveWithChanges { node, .. } => format!(
                "An overlay either removes the {node} (`remove` alone in its block) or changes it: delete `remove`, or delete this."
            ),
            Self::RequestsAboveLimits { .. } => {
                "Raise the limit or lower the request; Kubernetes rejects a pod whose request exceeds its limit.".into()
            }
            Self::RouteWithoutHttp { .. } => {
                "Give the service a port with `protocol=http`, `http2` or `grpc`, or remove this line: on a TCP port the mesh sees no requests to retry, time out or split.".into()
            }
            Self::SharedStateKey { .. } => {
                "Give each environment its own `state prefix=…` (or bucket): each keeps `<prefix>/<env>/<stage>.tfstate`.".into()
            }
            Self::RewriteSlash { path, rewrite } => {
                if path.ends_with('/') {
                    format!("Write `rewrite=\"{rewrite}/\"`: the prefix `{path}` rewritten to `{rewrite}` sends `{path}x` on as `{rewrite}x`.")
                } else {
                    let rest = rewrite.strip_suffix('/').filter(|r| !r.is_empty());
                    let other = rest.map_or(String::new(), |r| format!(", or `rewrite=\"{r}\"`"));
                    format!("Write `path=\"{path}/\"`{other}: the prefix `{path}` rewritten to `{rewrite}` sends `{path}/x` on as `{rewrite}/x`; a prefix ending in `/` routes the path without it too.")
                }
            }
            Self::SelfCall { .. } => {
                "Remove this `calls`: a service reaches itself without the mesh.".into()
            }
            Self::SloNotExpressible { why, .. } => why.help().into(),
            Self::SloUnmeasured { why, .. } => why.help().into(),
            Self::UnpeeredReplicas { .. } => {
                "Run `replicas 1`, or declare `peers` with the ports the replicas replicate on: each has a volume of its own, and the Service sends each caller to any of them.".into()
            }
            Self::StatefulConflict { what, .. } => if *what == "a canary" {
                "Remove `canary`: Argo Rollouts rolls Deployments only, and a StatefulSet already updates its pods one at a time, the highest ordinal first, each after the previous one is ready."
            } else if *what == "versions" {
                "Remove the `version` lines: the replicas of a stateful service share one identity and one set of volumes, and a second version would be a second store."
            } else {
                "Remove `autoscale` and set `replicas`: each new replica of a StatefulSet gets a volume of its own, which scaling in keeps, and a store does not grow by adding pods on load."
            }
            .into(),
                        Self::SubnetCount { .. } => {
                "Give one public and one private subnet per zone, or leave both lists out and platc carves them from the VPC.".into()
            }
            Self::SubnetOutsideVpc { .. } => {
                "Carve every subnet from the VPC's CIDR, or leave the subnets out and platc carves them.".into()
            }
            Self::SubnetOverlap { .. } => "Give every subnet its own address range.".into(),
            Self::TooLarge { what, .. } => too_large_help(what).into(),
            Self::Syntax { help, .. } => help.clone().unwrap_or_else(|| {
                "See the KDL v2 syntax at https://kdl.dev: a value that starts with a digit, or holds spaces, `/`, `=`, quotes or brackets, needs double quotes.".into()
            }),
            Self::UnexpectedArgument { .. } => "Remove it, or write it as a `name=value` property.".into(),
                        Self::UnknownEnv { suggestion, declared, .. } => {
                let help = if declared.is_empty() {
                    "This platform declares no environments; declare one with `env NAME { … }` in `platform`.".to_owned()
                } else {
                    let names: Vec<&str> = declared.iter().map(String::as_str).collect();
                    format!("Declared environments: {}.", quoted_list(&names))
                };
                with_suggestion(&help, suggestion.as_deref())
            }
            Self::UnknownGateway { suggestion, .. } => with_suggestion(
                "Declare it with `gateway NAME host=…` inside `mesh`.",
                suggestion.as_deref(),
            ),
            Self::UnknownJwt { suggestion, .. } => with_suggestion(
                "Declare the issuer with `jwt NAME issuer=… jwks=…` inside `mesh`.",
                suggestion.as_deref(),
            ),
                        Self::UnknownNode { suggestion, parent, .. } if parent.is_empty() => with_suggestion(
                "Move it inside `platform NAME { … }`: a file holds one platform and nothing else.",
                suggestion.as_deref(),
            ),
            Self::UnknownNode { node, .. } if node == "remove" => {
                "`remove` stands only in an `env` overlay (`service NAME { remove }`, `port NAME { remove }`, …), where it leaves the base platform's node out of that environment; in the base platform, delete the node instead.".into()
            }
            Self::UnknownNode { suggestion, .. } => with_suggestion(
                "See `docs/language.md` for the nodes allowed here.",
                suggestion.as_deref(),
            ),
                        Self::UnknownPort { port, .. } if port.is_empty() => {
                "Declare a port with `port NAME NUMBER protocol=…` in that service.".into()
            }
            Self::UnknownPort {
                port,
                suggestion: Some(name),
                ..
            } if port.parse::<u16>().is_ok() => format!(
                "Name the port, not its number: `port={name}` is the port numbered {port}."
            ),
            Self::UnknownPort { suggestion, .. } => with_suggestion(
                "Name a port declared with `port NAME NUMBER` in that service.",
                suggestion.as_deref(),
            ),
            Self::UnknownProperty {
                node,
                suggestion,
                accepted,
                ..
            } => {
                let takes = if accepted.is_empty() {
                    format!("`{node}` takes no properties.")
                } else {
                    let mut sorted = accepted.clone();
                    sorted.sort_unstable();
                    format!("`{node}` takes {}.", and_list(&sorted))
                };
                match suggestion {
                    Some(name) => format!("Did you mean `{name}`? {takes}"),
                    None => takes,
                }
            }
            Self::UnknownService {
                overlay: true,
                suggestion,
                ..
            } => with_suggestion(
                "An overlay changes or removes the base platform's services and declares none: fix the name, or declare the service in `platform` and `remove` it in the environments that lack it.",
                suggestion.as_deref(),
            ),
            Self::UnknownService { suggestion, .. } => with_suggestion(
                "Declare it with `service NAME { … }`, or fix the name.",
                suggestion.as_deref(),
            ),
            Self::UnknownStore { kind, suggestion, .. } => with_suggestion(
                &format!("Declare it with `{kind} NAME` inside `aws`."),
                suggestion.as_deref(),
            ),
            Self::UnsupportedClusterVersion { min, max, .. } => format!(
                "Choose a cluster version from {min} to {max}; platc pins its add-ons to releases tested together."
            ),
            Self::VersionConflict { with, .. } => if *with == "with a canary" {
                "Release through `version` lines or through `canary`, not both: the canary's Argo Rollout moves a route of two destinations, the stable pods and the canary, and would undo the versions' split."
            } else {
                "Declare `mesh istio` and keep the service's sidecar: Istio routes each request to a version by its headers, cookies and the weights."
            }
            .into(),
            Self::VersionWeights { .. } => {
                "The weights of the versions add up to at most 100; the stable version gets the rest. A version with no weight needs a `header` or a `cookie` that picks it.".into()
            }
            Self::VpcTooSmall { .. } => {
                "Use a larger VPC (a /16 is usual), or fewer zones.".into()
            }
        }
    }

    /// Warnings do not fail `platc check` unless `--deny-warnings` is given.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            Self::Capacity { .. }
                | Self::ImageLatest { .. }
                | Self::KdlV1
                | Self::UnpeeredReplicas { .. }
        )
    }
}

fn with_suggestion(help: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        Some(name) => format!("Did you mean `{name}`?"),
        None => help.to_owned(),
    }
}

/// `a` or `an`, by the first letter.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn protocol_noun(protocol: &str) -> &'static str {
    match protocol {
        "grpc" => "a gRPC",
        "http" => "an HTTP",
        "http2" => "an HTTP/2",
        _ => "a TCP",
    }
}

/// Items in backticks when they are keywords; descriptions (with spaces) as they are.
fn quoted_list(items: &[&str]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == items.len() { " or " } else { ", " });
        }
        if item.contains(' ') {
            out.push_str(item);
        } else {
            let _ = write!(out, "`{item}`");
        }
    }
    out
}

/// Names in backticks, the last joined by `and`: `a`, `b` and `c`.
fn and_list(items: &[&str]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == items.len() { " and " } else { ", " });
        }
        let _ = write!(out, "`{item}`");
    }
    out
}

/// Which naming rule an `InvalidName` broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// A DNS-1123 label: Kubernetes object and namespace names.
    Label,
    /// An IANA service name: Kubernetes container port names.
    Port,
    /// A C identifier: env var names.
    EnvVar,
    /// A DNS host name.
    Host,
    /// An HTTP header name in an Istio match.
    Header,
    /// A cookie's name and value in a route's match.
    Cookie,
    /// A Jenkins item name (a view): Jenkins refuses some characters in names.
    Jenkins,
    /// An Alertmanager receiver of `alerts`: a name, not `null`.
    Receiver,
}

impl NameRule {
    fn noun(self) -> &'static str {
        match self {
            Self::Label => "name",
            Self::Port => "port name",
            Self::EnvVar => "env var name",
            Self::Host => "host name",
            Self::Header => "header name",
            Self::Cookie => "cookie",
            Self::Jenkins => "Jenkins view name",
            Self::Receiver => "receiver name",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Self::Label => {
                "Use at most 63 lowercase letters, digits and `-`, starting with a letter, ending with a letter or digit, without `--`."
            }
            Self::Port => {
                "Use at most 15 lowercase letters, digits and `-`, with at least one letter, starting and ending with a letter or digit."
            }
            Self::EnvVar => {
                "Use letters, digits and `_`, not starting with a digit, for example `LOG_LEVEL`."
            }
            Self::Host => {
                "Write a DNS name of lowercase labels separated by dots, for example `shop.example.com` or `*.example.com`."
            }
            Self::Header => "Write the header name in lowercase, for example `x-canary`.",
            Self::Cookie => {
                "Write `cookie NAME=VALUE`: a name of letters, digits, `-`, `_` and `.` (an HTTP token), and a value of printable ASCII without spaces, `\"`, `,`, `;` or `\\`."
            }
            Self::Jenkins => {
                "Use letters, digits, spaces, `-`, `_` and `.`: Jenkins refuses a name with any of `?*/\\%!@#$^&|<>[]:;`, or one that is `.` or `..`."
            }
            Self::Receiver => "Name the receiver after who it reaches, for example `oncall`.",
        }
    }
}

/// Why a size limit holds, and what to do instead.
fn too_large_help(what: &str) -> &'static str {
    match what {
        "this reason" => {
            "Say why in a sentence or two: a reason is copied into annotations, and Kubernetes allows 256 KiB of annotations per object."
        }
        "the data of this service's ConfigMap" => {
            "Keep a service's `config` files under 192 KiB in all: `kubectl apply`, which Argo CD runs, copies the ConfigMap into an annotation limited to 256 KiB. A larger file belongs in the image or in a store the service reads."
        }
        "the text of this service" => {
            "Move large configuration out of `env` (into a file the image holds, or a store the service reads): `kubectl apply`, which Argo CD runs, copies the whole object into an annotation limited to 256 KiB."
        }
        _ => {
            "Keep a value under 64 KiB: large configuration belongs in a file the image holds or a store the service reads, not in manifests (Kubernetes stores an object in at most 1.5 MiB, and `kubectl apply` copies it into a 256 KiB annotation)."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_and_unique() {
        let mut sorted = ErrorKind::CODES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, ErrorKind::CODES);
    }

    #[test]
    fn suggestion_replaces_the_generic_help() {
        let kind = ErrorKind::UnknownService {
            name: "paymnet".into(),
            suggestion: Some("payment".into()),
            overlay: false,
        };
        assert_eq!(kind.help(), "Did you mean `payment`?");
        assert_eq!(kind.message(), "unknown service `paymnet`");
        assert_eq!(kind.code(), "platc::unknown-service");
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(quoted_list(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(quoted_list(&["an absolute path"]), "an absolute path");
        assert_eq!(article("image"), "an");
        assert_eq!(and_list(&["max", "min"]), "`max` and `min`");
    }
}
