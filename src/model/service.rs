//! A service: image, ports, calls, probes, resources, scaling, traffic policy, canary, SLOs.
//!
//! Defaults from `defaults { … }` are already applied: every field is what the service gets.

use crate::model::security::Security;
use crate::model::value::{Duration, Percent, Quantity};
use crate::span::{Span, Spanned};

/// `service NAME { … }`.
#[derive(Clone, Debug)]
pub struct Service {
    pub span: Span,
    pub name: Spanned<String>,
    /// The namespace it runs in: its own name, or the shared namespace.
    pub namespace: String,
    pub image: Image,
    /// `command …`: replaces the image's `ENTRYPOINT`; empty keeps it.
    pub command: Vec<Spanned<String>>,
    /// `args …`: replaces the image's `CMD`; empty keeps it.
    pub args: Vec<Spanned<String>>,
    pub language: Option<Spanned<String>>,
    /// Every port of the pod: the application's, then each extra container's (`Port::container`).
    pub ports: Vec<Port>,
    pub env: Vec<EnvVar>,
    pub calls: Vec<Call>,
    /// `calls-external HOST port=…`: calls to hosts outside the cluster.
    pub externals: Vec<ExternalCall>,
    pub probes: Vec<Probe>,
    pub resources: Resources,
    pub replicas: Spanned<u32>,
    pub autoscale: Option<Box<Autoscale>>,
    pub retries: Option<Box<Retries>>,
    pub timeout: Option<Spanned<Duration>>,
    pub circuit_breaker: Option<Box<CircuitBreaker>>,
    pub canary: Option<Box<Canary>>,
    /// `version NAME …`: long-lived versions beside the stable one, each its own Deployment.
    pub versions: Vec<Version>,
    pub slo: Option<Box<Slo>>,
    pub expose: Vec<Expose>,
    /// `load-balancer reason=…`: a `LoadBalancer` Service for testing (seed 003).
    pub load_balancer: Option<Spanned<String>>,
    /// `sidecar #false reason=…`: the service runs outside the mesh.
    pub sidecar_off: Option<Spanned<String>>,
    pub mtls_exceptions: Vec<MtlsException>,
    /// `automount-token #true reason=…`: mount the `ServiceAccount` token.
    pub automount_token: Option<Spanned<String>>,
    pub security: Security,
    pub uses: Vec<Use>,
    pub volumes: Vec<Volume>,
    /// `config NAME path=… text=…|file=…`: files of the service's `ConfigMap`, mounted read-only.
    pub configs: Vec<Config>,
    /// `container NAME { … }`: extra containers beside the application, in source order.
    pub containers: Vec<Container>,
    /// `init NAME { … }`: init containers, run in source order before the others start.
    pub inits: Vec<Container>,
    /// `migrate NAME { … }`: a Job run to completion before each rollout of the service.
    pub migrate: Option<Box<Container>>,
    /// `stateful { volume … }`: a `StatefulSet` with a claim per replica instead of a Deployment.
    pub stateful: Option<Stateful>,
    pub waivers: Vec<Waiver>,
    /// `build …`: how CI builds the service's image; `None` for an image platc does not build.
    pub build: Option<Build>,
}

impl Service {
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name.value == name)
    }

    /// The image of the canary, when it has its own tag or digest; a canary without one is
    /// armed only: its Rollout runs the stable image and the next image change is the canary.
    pub fn canary_image(&self) -> Option<Image> {
        let canary = self.canary.as_ref()?;
        if canary.tag.is_none() && canary.digest.is_none() {
            return None;
        }
        let mut image = self.image.clone();
        image.tag.clone_from(&canary.tag);
        image.digest.clone_from(&canary.digest);
        Some(image)
    }
}

/// An image: repository, and a tag or a digest (or both).
#[derive(Clone, Debug)]
pub struct Image {
    pub span: Span,
    /// The repository as written, or the name of a declared ECR `repository` when `ecr`.
    pub repository: Spanned<String>,
    /// `image repository=NAME`: the platform's own ECR repository of that name.
    pub ecr: bool,
    pub tag: Option<Spanned<String>>,
    pub digest: Option<Spanned<String>>,
}

impl Image {
    /// The reference as a container runtime reads it; `registry` is the platform's ECR
    /// repository address for an `ecr` image (`Platform::registry`).
    pub fn reference(&self, registry: Option<&str>) -> String {
        let mut out = match (self.ecr, registry) {
            (true, Some(registry)) => registry.to_owned(),
            _ => self.repository.value.clone(),
        };
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }
}

/// The protocol a port speaks; it picks Istio's port-name prefix and `appProtocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Grpc,
    Http,
    Http2,
    Tcp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grpc => "grpc",
            Self::Http => "http",
            Self::Http2 => "http2",
            Self::Tcp => "tcp",
        }
    }

    /// Whether the mesh can route it per request (HTTP/1, HTTP/2 and gRPC).
    pub fn is_http(self) -> bool {
        !matches!(self, Self::Tcp)
    }
}

/// `port NAME NUMBER protocol=… target=…`.
#[derive(Clone, Debug)]
pub struct Port {
    pub span: Span,
    pub name: Spanned<String>,
    /// The Service port callers dial.
    pub number: Spanned<u16>,
    /// The container port, when it differs (emailservice: 5000 → 8080).
    pub target: Option<Spanned<u16>>,
    pub protocol: Spanned<Protocol>,
    /// `metrics="/path"`: the application serves Prometheus metrics on this port, at this path.
    pub metrics: Option<Spanned<String>>,
    /// The extra container that listens on it; `None` for the application's own.
    pub container: Option<String>,
}

impl Port {
    pub fn container_port(&self) -> u16 {
        self.target.as_ref().map_or(self.number.value, |t| t.value)
    }
}

/// `env NAME VALUE`.
#[derive(Clone, Debug)]
pub struct EnvVar {
    pub span: Span,
    pub name: Spanned<String>,
    pub value: Spanned<String>,
}

/// `calls SERVICE env=VAR port=NAME format=… scheme=… path=…`: a declared dependency, and the
/// env var that receives the callee's address.
#[derive(Clone, Debug)]
pub struct Call {
    pub span: Span,
    pub service: Spanned<String>,
    pub env: Option<Spanned<String>>,
    /// The callee's port; defaults to its first port.
    pub port: Option<Spanned<String>>,
    pub address: AddressShape,
}

/// How an `env=` variable writes an address: `format=`, `scheme=`, `path=`.
#[derive(Clone, Debug, Default)]
pub struct AddressShape {
    /// `host-port` unless given.
    pub format: Option<Spanned<AddressFormat>>,
    /// The URL's or URI's scheme (`http`, `mongodb`, `jdbc:postgresql`).
    pub scheme: Option<Spanned<String>>,
    /// The path after the authority, starting with `/`.
    pub path: Option<Spanned<String>>,
}

impl AddressShape {
    pub fn format(&self) -> AddressFormat {
        self.format
            .as_ref()
            .map_or(AddressFormat::HostPort, |f| f.value)
    }
}

/// What an address variable holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressFormat {
    /// The bare host name.
    Host,
    /// `host:port`.
    HostPort,
    /// `scheme://host:port/path`, the scheme `http` unless given.
    Url,
    /// `scheme://host:port/path`, the scheme given (`mongodb`, `amqp`, `jdbc:postgresql`).
    Uri,
}

impl AddressFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::HostPort => "host-port",
            Self::Url => "url",
            Self::Uri => "uri",
        }
    }
}

/// `calls-external HOST port=… protocol=… env=… format=… scheme=… path=… reason=…`: a call to
/// a host outside the cluster (a `ServiceEntry`, the `Sidecar`'s egress, a `NetworkPolicy` rule).
#[derive(Clone, Debug)]
pub struct ExternalCall {
    pub span: Span,
    /// A DNS name, never a wildcard: the mesh resolves it.
    pub host: Spanned<String>,
    pub port: Spanned<u16>,
    pub protocol: Spanned<ExternalProtocol>,
    pub env: Option<Spanned<String>>,
    pub address: AddressShape,
    /// Why plain text crosses the Internet (`protocol=http`).
    pub reason: Option<Spanned<String>>,
}

/// What an external call speaks, as the mesh sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternalProtocol {
    /// TLS the application originates; the mesh passes it through by its SNI.
    Tls,
    /// HTTPS, which the mesh also passes through by its SNI.
    Https,
    /// Plain HTTP: needs a reason.
    Http,
    /// An opaque TCP stream.
    Tcp,
}

impl ExternalProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::Https => "https",
            Self::Http => "http",
            Self::Tcp => "tcp",
        }
    }

    /// The scheme of a URL of the host without `scheme=`; none for TCP.
    pub fn default_scheme(self) -> Option<&'static str> {
        match self {
            Self::Tls | Self::Https => Some("https"),
            Self::Http => Some("http"),
            Self::Tcp => None,
        }
    }

    /// The protocol of a `ServiceEntry` port.
    pub fn istio(self) -> &'static str {
        match self {
            Self::Tls => "TLS",
            Self::Https => "HTTPS",
            Self::Http => "HTTP",
            Self::Tcp => "TCP",
        }
    }
}

/// What a probe checks with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    Grpc,
    Http,
    Tcp,
    Exec,
}

/// Which of the kubelet's probes a `probe` line sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeUse {
    /// Readiness and liveness alike.
    Both,
    Readiness,
    Liveness,
    Startup,
}

/// `probe KIND port=… path=… for=… initial-delay=… period=… timeout=… failure-threshold=…`.
#[derive(Clone, Debug)]
pub struct Probe {
    pub span: Span,
    pub kind: Spanned<ProbeKind>,
    pub port: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    pub command: Vec<Spanned<String>>,
    pub headers: Vec<(Spanned<String>, Spanned<String>)>,
    pub used_for: Spanned<ProbeUse>,
    pub initial_delay: Option<Spanned<Duration>>,
    pub period: Option<Spanned<Duration>>,
    pub timeout: Option<Spanned<Duration>>,
    pub failure_threshold: Option<Spanned<u32>>,
}

/// Requests and limits, defaults applied.
#[derive(Clone, Debug)]
pub struct Resources {
    pub cpu: Spanned<Quantity>,
    pub memory: Spanned<Quantity>,
    pub cpu_limit: Spanned<Quantity>,
    pub memory_limit: Spanned<Quantity>,
}

/// `autoscale min=… max=… cpu=… memory=…`.
#[derive(Clone, Debug)]
pub struct Autoscale {
    pub span: Span,
    pub min: Spanned<u32>,
    pub max: Spanned<u32>,
    pub cpu: Option<Spanned<Percent>>,
    pub memory: Option<Spanned<Percent>>,
}

/// `retries attempts=… per-try-timeout=… on=…`.
#[derive(Clone, Debug)]
pub struct Retries {
    pub span: Span,
    pub attempts: Spanned<u32>,
    pub per_try_timeout: Option<Spanned<Duration>>,
    /// Istio `retryOn` conditions.
    pub on: Vec<Spanned<String>>,
}

/// `circuit-breaker consecutive-errors=… interval=… ejection=… …`.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    pub span: Span,
    pub consecutive_errors: Spanned<u32>,
    pub interval: Spanned<Duration>,
    pub ejection: Spanned<Duration>,
    pub max_ejection: Option<Spanned<Percent>>,
    pub max_connections: Option<Spanned<u32>>,
    pub max_pending: Option<Spanned<u32>>,
    pub max_requests: Option<Spanned<u32>>,
}

/// `canary VERSION tag=… weight=… { header …; steps …; gate … }`.
#[derive(Clone, Debug)]
pub struct Canary {
    pub span: Span,
    pub version: Spanned<String>,
    pub tag: Option<Spanned<String>>,
    pub digest: Option<Spanned<String>>,
    pub weight: Spanned<Percent>,
    pub headers: Vec<HeaderMatch>,
    pub steps: Vec<Spanned<Percent>>,
    pub steps_span: Option<Span>,
    pub interval: Option<Spanned<Duration>>,
    pub gate: Option<Gate>,
}

/// `version NAME image=… tag=… weight=… { header …; cookie … }`: a long-lived version of the
/// service beside its stable one, with its own image, Deployment and `DestinationRule` subset.
#[derive(Clone, Debug)]
pub struct Version {
    pub span: Span,
    pub name: Spanned<String>,
    /// The service's image with the version's repository, tag or digest.
    pub image: Image,
    /// Whether the version names an image, tag or digest of its own (else it would run the
    /// stable image).
    pub own_image: bool,
    /// The version's share of the traffic no header or cookie picks; 0 when unset.
    pub weight: Option<Spanned<Percent>>,
    /// `header NAME=VALUE`: requests with one of these headers go to this version.
    pub headers: Vec<HeaderMatch>,
    /// `cookie NAME=VALUE`: requests with one of these cookies go to this version.
    pub cookies: Vec<HeaderMatch>,
}

impl Version {
    /// The version's whole-percent share of the weighted route.
    pub fn share(&self) -> u32 {
        self.weight
            .as_ref()
            .map_or(0, |w| w.value.thousandths.div_ceil(1000).min(100))
    }
}

/// `build context=… dockerfile=… test=…`: where the service's source is in the repository
/// and how its tests run, for the Jenkins pipeline that builds its image into its ECR
/// repository.
#[derive(Clone, Debug)]
pub struct Build {
    pub span: Span,
    /// The Docker build context, relative to the repository's root.
    pub context: Spanned<String>,
    /// The Dockerfile, relative to the repository's root; `<context>/Dockerfile` when unset.
    pub dockerfile: Option<Spanned<String>>,
    /// The shell command that runs the service's tests in its context; none when unset.
    pub test: Option<Spanned<String>>,
}

/// `header NAME=VALUE`: requests with this header go to the canary.
#[derive(Clone, Debug)]
pub struct HeaderMatch {
    pub span: Span,
    pub name: Spanned<String>,
    pub value: Spanned<String>,
}

/// `gate success-rate=… latency-pNN=…`: metric thresholds a canary step must meet.
#[derive(Clone, Debug)]
pub struct Gate {
    pub span: Span,
    pub success_rate: Option<Spanned<Percent>>,
    pub latency: Option<Latency>,
}

/// A latency objective: percentile and threshold.
#[derive(Clone, Debug)]
pub struct Latency {
    pub span: Span,
    pub percentile: u8,
    pub threshold: Duration,
}

/// `slo availability=… latency-pNN=…`.
#[derive(Clone, Debug)]
pub struct Slo {
    pub span: Span,
    pub availability: Option<Spanned<Percent>>,
    pub latency: Option<Latency>,
}

/// How an `expose` line's `path=` matches the request's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathMatch {
    Exact,
    Prefix,
    Regex,
}

impl PathMatch {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Prefix => "prefix",
            Self::Regex => "regex",
        }
    }
}

/// `expose gateway=… host=… path=… match=… rewrite=… port=…`: one host–path route from an
/// ingress gateway to this service; a service has as many as it needs.
#[derive(Clone, Debug)]
pub struct Expose {
    pub span: Span,
    pub gateway: Spanned<String>,
    pub host: Option<Spanned<String>>,
    pub path: Spanned<String>,
    pub r#match: Spanned<PathMatch>,
    pub rewrite: Option<Spanned<String>>,
    pub port: Option<Spanned<String>>,
    /// `jwt=NAME`: a `mesh { jwt NAME … }` whose token the route requires.
    pub jwt: Option<Spanned<String>>,
    /// `claims="KEY=VALUE,…"`: what the token's claims must hold.
    pub claims: Vec<(Spanned<String>, Spanned<String>)>,
}

/// How mTLS is relaxed on one port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortMtls {
    Permissive,
    Disable,
}

/// `mtls-exception port=… mode=… reason=…`.
#[derive(Clone, Debug)]
pub struct MtlsException {
    pub span: Span,
    pub port: Spanned<String>,
    pub mode: Spanned<PortMtls>,
    pub reason: Spanned<String>,
}

/// The kinds of data store a service can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    Database,
    Bucket,
    Table,
    Filesystem,
    Cache,
    Docdb,
    Queue,
    Topic,
    Secret,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Database => "database",
            Self::Bucket => "bucket",
            Self::Table => "table",
            Self::Filesystem => "filesystem",
            Self::Cache => "cache",
            Self::Docdb => "docdb",
            Self::Queue => "queue",
            Self::Topic => "topic",
            Self::Secret => "secret",
        }
    }

    /// Whether the pod itself connects to the store (or its AWS API). The node's drivers
    /// mount a file system and fetch a secret: a pod that uses only those reaches nothing
    /// outside the cluster for them.
    pub fn reached_by_pod(self) -> bool {
        !matches!(self, Self::Filesystem | Self::Secret)
    }

    /// The keys of `uses KIND NAME { env KEY=VAR }`: the suffixes of the variables the kind
    /// gives, lowercased (`host` for `…_DATABASE_HOST`, `uri` for `…_DOCDB_URI`), and a
    /// database's connection URIs.
    pub fn env_keys(self) -> &'static [&'static str] {
        match self {
            Self::Database => &["host", "port", "name", "user", "password", "uri", "jdbc"],
            Self::Bucket => &["bucket"],
            Self::Table => &["table"],
            Self::Cache => &["host", "port", "tls", "name", "user"],
            Self::Docdb => &["host", "port", "tls", "uri"],
            Self::Queue => &["url"],
            Self::Topic => &["arn"],
            Self::Filesystem | Self::Secret => &[],
        }
    }
}

/// How a service's database user logs in: `uses database NAME auth=…`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbAuth {
    /// IAM authentication: the service signs a token with its Pod Identity role.
    Iam,
    /// A password platc generates into a Secrets Manager secret of the service's own.
    Password,
}

/// `env KEY=VAR` under `uses`: the variable of `key` goes by the name `env`.
#[derive(Clone, Debug)]
pub struct StoreVar {
    pub key: Spanned<String>,
    pub env: Spanned<String>,
}

/// `uses KIND NAME path=…`: the service reads or writes a data store declared in `aws`;
/// `uses secret NAME path=… env=… key=… reason=…` reads a secret, as files or as env.
#[derive(Clone, Debug)]
pub struct Use {
    pub span: Span,
    pub kind: Spanned<StoreKind>,
    pub name: Spanned<String>,
    /// Where a file system or a secret is mounted (`/mnt/<name>`, `/run/secrets/<name>` unless
    /// given).
    pub path: Option<Spanned<String>>,
    /// A secret's env var.
    pub env: Option<Spanned<String>>,
    /// A key of a secret whose value is a JSON object: the file or the env var holds that key.
    pub key: Option<Spanned<String>>,
    /// Why a secret (or a database's password) is read from env rather than files.
    pub reason: Option<Spanned<String>>,
    /// `auth=`: how a database's user logs in (IAM unless given); `None` for other kinds.
    pub auth: Option<Spanned<DbAuth>>,
    /// `env KEY=VAR…`: the store's variables under the names the application expects, and a
    /// database's connection URIs (`uri`, `jdbc`), in source order.
    pub vars: Vec<StoreVar>,
}

impl Use {
    /// The name given to the variable of `key` (`env host=DB_HOST`), if any.
    pub fn var(&self, key: &str) -> Option<&Spanned<String>> {
        self.vars
            .iter()
            .rev()
            .find(|v| v.key.value == key)
            .map(|v| &v.env)
    }

    /// Whether this line uses a database whose user logs in with a password.
    pub fn password_auth(&self) -> bool {
        self.kind.value == StoreKind::Database
            && self
                .auth
                .as_ref()
                .is_some_and(|a| a.value == DbAuth::Password)
    }

    /// The env var that holds a secret value, if any: a secret's `env=`, or a password
    /// database's `env password=`. It needs `reason=`.
    pub fn secret_env(&self) -> Option<&Spanned<String>> {
        match self.kind.value {
            StoreKind::Secret => self.env.as_ref(),
            StoreKind::Database if self.password_auth() => self.var("password"),
            _ => None,
        }
    }

    /// The mount path of a file system, or of the files of a secret.
    pub fn mount_path(&self) -> String {
        let default = match self.kind.value {
            StoreKind::Secret => "/run/secrets",
            _ => "/mnt",
        };
        self.path.as_ref().map_or_else(
            || format!("{default}/{}", self.name.value),
            |p| p.value.clone(),
        )
    }

    /// The file (in `mount_path`) and the key of the synced `Secret` that hold what this line
    /// reads of a secret: its `key`, else the whole value under the secret's name.
    pub fn secret_file(&self) -> &str {
        self.key.as_ref().map_or(&self.name.value, |k| &k.value)
    }

    /// The `PersistentVolumeClaim` of a file system a service mounts: `<service>-<filesystem>`.
    pub fn claim(&self, service: &str) -> String {
        format!("{service}-{}", self.name.value)
    }
}

/// `volume NAME path=… size-limit=…`: a writable emptyDir.
#[derive(Clone, Debug)]
pub struct Volume {
    pub span: Span,
    pub name: Spanned<String>,
    pub path: Spanned<String>,
    pub size_limit: Option<Spanned<Quantity>>,
}

/// The pod volume that mounts the service's `ConfigMap`; a `volume` may not take its name.
pub const CONFIG_VOLUME: &str = "platc-config";

/// `config NAME path=… text=…` or `file=…`: one key of the service's `ConfigMap`, mounted as
/// the file `path` in every container of the pod.
#[derive(Clone, Debug)]
pub struct Config {
    pub span: Span,
    pub name: Spanned<String>,
    pub path: Spanned<String>,
    /// The file's contents: the `text=` as written, or the file `file=` names, read as UTF-8
    /// once the lowering is done (`lower::files`).
    pub data: String,
    /// `file=`: the file next to `platform.kdl` the contents come from.
    pub file: Option<Spanned<String>>,
}

/// An extra (`container`) or init (`init`) container of a service's pod.
#[derive(Clone, Debug)]
pub struct Container {
    pub span: Span,
    pub name: Spanned<String>,
    /// Its own image; `None` runs the service's.
    pub image: Option<Image>,
    pub command: Vec<Spanned<String>>,
    pub args: Vec<Spanned<String>>,
    pub env: Vec<EnvVar>,
    /// Its probes (an extra container's); a probe without `port=` checks its first port.
    pub probes: Vec<Probe>,
    /// Its own requests and limits, or those of `defaults` (or platc's).
    pub resources: Resources,
}

/// `stateful { volume NAME path=… size=… }`.
#[derive(Clone, Debug)]
pub struct Stateful {
    pub span: Span,
    /// `peers PORT…`: the ports the replicas call each other on.
    pub peers: Option<StatefulPeers>,
    pub volumes: Vec<StatefulVolume>,
}

/// `peers PORT…` of `stateful`: replicas of a clustered store reach each other on these ports,
/// through the pods' own DNS names under the headless Service.
#[derive(Clone, Debug)]
pub struct StatefulPeers {
    pub span: Span,
    pub ports: Vec<Spanned<String>>,
}

/// `volume NAME path=… size=…` of `stateful`: one `PersistentVolumeClaim` per replica.
#[derive(Clone, Debug)]
pub struct StatefulVolume {
    pub span: Span,
    pub name: Spanned<String>,
    pub path: Spanned<String>,
    pub size: Spanned<Quantity>,
}

/// `waive CHECK reason=…`: a policy check (checkov) that does not apply, and why.
#[derive(Clone, Debug)]
pub struct Waiver {
    pub span: Span,
    pub check: Spanned<String>,
    pub reason: Spanned<String>,
}
