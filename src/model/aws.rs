//! The AWS side of the platform: state backend, network, cluster, domain and data stores.

use crate::model::service::Waiver;
use crate::model::value::{Cidr, InstanceType};
use crate::span::{Span, Spanned};

/// `aws region=… { … }`.
#[derive(Clone, Debug)]
pub struct Aws {
    pub span: Span,
    /// The span of the node's name (`aws`).
    pub name_span: Span,
    pub region: Spanned<String>,
    /// `account="…"`: the only AWS account the tree may be applied to.
    pub account: Option<Spanned<String>>,
    pub state: Option<State>,
    pub vpc: Vpc,
    pub cluster: Option<Cluster>,
    pub domain: Option<Domain>,
    pub databases: Vec<Database>,
    pub buckets: Vec<Bucket>,
    pub tables: Vec<Table>,
    pub filesystems: Vec<Filesystem>,
    pub caches: Vec<Cache>,
    pub docdbs: Vec<Docdb>,
    pub queues: Vec<Queue>,
    pub topics: Vec<Topic>,
    pub repositories: Vec<Repository>,
    pub secrets: Vec<Secret>,
    /// `waive CHECK reason=…`: Terraform policy checks (checkov ids) that do not apply.
    pub waivers: Vec<Waiver>,
}

/// `state bucket=… prefix=… kms-key=… lock-table=…`: the Terraform S3 backend, locked by a lock
/// file beside each state. Each stage keeps its state at `<prefix>[/<env>]/<stage>.tfstate`.
#[derive(Clone, Debug)]
pub struct State {
    pub span: Span,
    pub bucket: Spanned<String>,
    /// `lock-table=`: a `DynamoDB` table that locks the states too, for the move from
    /// Terraform's deprecated `DynamoDB` locking (both locks are taken while it is named).
    pub lock_table: Option<Spanned<String>>,
    pub prefix: Option<Spanned<String>>,
    /// `kms-key=`: the customer-managed KMS key the bucket encrypts the states with, which the
    /// backend names and the runner's role may use.
    pub kms_key: Option<Spanned<String>>,
}

/// How NAT gateways are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NatMode {
    /// One NAT gateway (and EIP) per zone: no cross-zone dependency.
    PerZone,
    /// One shared NAT gateway: cheaper, one zone's outage cuts egress for all.
    Single,
}

/// `vpc cidr=… zones=… nat=…`, with optional explicit subnets.
#[derive(Clone, Debug)]
pub struct Vpc {
    pub span: Span,
    pub cidr: Spanned<Cidr>,
    pub zones: Spanned<u8>,
    pub nat: Spanned<NatMode>,
    /// Explicit public subnets, one per zone; empty means carve them from `cidr`.
    pub public_subnets: Vec<Spanned<Cidr>>,
    pub private_subnets: Vec<Spanned<Cidr>>,
    pub flow_logs: Spanned<bool>,
    /// Why flow logs are off, when they are.
    pub flow_logs_reason: Option<Spanned<String>>,
}

/// Where the EKS API server can be reached from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Private,
    /// Public as well as private; needs a reason and the CIDRs allowed in.
    Public {
        reason: Spanned<String>,
        allowed: Vec<Spanned<Cidr>>,
    },
}

/// `cluster NAME version=… endpoint=… { node-group …; access … }`.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub span: Span,
    pub name: Spanned<String>,
    pub version: Spanned<String>,
    pub endpoint: Spanned<Endpoint>,
    pub node_groups: Vec<NodeGroup>,
    pub access: Vec<Access>,
}

/// `access NAME role=… from=… policy=…`: an IAM role admitted to the cluster's API (an EKS
/// access entry with an access policy over the whole cluster) and, with `from`, the network it
/// calls from admitted to the private endpoint (the cluster security group, port 443).
#[derive(Clone, Debug)]
pub struct Access {
    pub span: Span,
    pub name: Spanned<String>,
    /// The role's ARN, `arn:PARTITION:iam::ACCOUNT:role/NAME` (or `user/NAME`).
    pub role: Spanned<String>,
    pub from: Option<Spanned<Cidr>>,
    pub policy: Spanned<AccessPolicy>,
}

/// The EKS access policy an `access` entry gets, over the whole cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessPolicy {
    /// `AmazonEKSClusterAdminPolicy`: everything, as the cluster's creator has.
    ClusterAdmin,
    /// `AmazonEKSViewPolicy`: read most objects, no `Secret`s.
    View,
}

impl AccessPolicy {
    /// The policy's name in `arn:PARTITION:eks::aws:cluster-access-policy/NAME`.
    pub fn policy_name(self) -> &'static str {
        match self {
            Self::ClusterAdmin => "AmazonEKSClusterAdminPolicy",
            Self::View => "AmazonEKSViewPolicy",
        }
    }
}

/// Whether a node group runs on on-demand or spot capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapacityType {
    OnDemand,
    Spot,
}

/// `node-group NAME instance=… min=… max=… desired=…`.
#[derive(Clone, Debug)]
pub struct NodeGroup {
    pub span: Span,
    pub name: Spanned<String>,
    pub instance: Spanned<InstanceType>,
    pub min: Spanned<u32>,
    pub max: Spanned<u32>,
    pub desired: Spanned<u32>,
    pub disk_gb: Spanned<u32>,
    pub capacity: Spanned<CapacityType>,
}

/// `domain NAME zone=…`: the public Route53 hosted zone where external-dns writes the gateway
/// hosts and cert-manager answers DNS-01 challenges.
#[derive(Clone, Debug)]
pub struct Domain {
    pub span: Span,
    pub name: Spanned<String>,
    /// The hosted zone, when it differs from the domain (a subdomain in a parent zone).
    pub zone: Option<Spanned<String>>,
}

/// The RDS engine of a database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Mysql,
}

/// The names of the variables that hold a database's host, port, database and user, from which
/// the kubelet composes its connection URIs (`$(VAR)`).
pub struct ConnectionParts {
    pub host: String,
    pub port: String,
    pub name: String,
    pub user: String,
    /// The variable of the password, when a password user reads it from env (`env
    /// password=`); without it the URI has no password: the IAM token, or the password file,
    /// is given to the driver apart.
    pub password: Option<String>,
}

impl ConnectionParts {
    /// The connection URI (`jdbc`: the JDBC URL) of a database of `engine`, with the user
    /// and the password's variable if any (platc's passwords are letters and digits alone, so
    /// they need no escape in a URI). TLS is required, as the parameter group requires; the
    /// server's certificate is not verified, since RDS's CAs are in no image's trust store
    /// (`verify-full` needs the RDS CA bundle in the client).
    pub fn uri(&self, engine: Engine, jdbc: bool) -> String {
        let Self {
            host,
            port,
            name,
            user,
            password,
        } = self;
        let (secret, param) = password.as_ref().map_or_else(
            || (String::new(), String::new()),
            |p| (format!(":$({p})"), format!("&password=$({p})")),
        );
        match (engine, jdbc) {
            (Engine::Postgres, false) => format!(
                "postgresql://$({user}){secret}@$({host}):$({port})/$({name})?sslmode=require"
            ),
            (Engine::Postgres, true) => format!(
                "jdbc:postgresql://$({host}):$({port})/$({name})?user=$({user}){param}&sslmode=require"
            ),
            (Engine::Mysql, false) => {
                format!("mysql://$({user}){secret}@$({host}):$({port})/$({name})?ssl-mode=REQUIRED")
            }
            (Engine::Mysql, true) => format!(
                "jdbc:mysql://$({host}):$({port})/$({name})?user=$({user}){param}&sslMode=REQUIRED"
            ),
        }
    }
}

/// `database NAME engine=… version=… class=… storage-gb=…`.
#[derive(Clone, Debug)]
pub struct Database {
    pub span: Span,
    pub name: Spanned<String>,
    pub engine: Spanned<Engine>,
    pub version: Spanned<String>,
    pub class: Spanned<InstanceType>,
    pub storage_gb: Spanned<u32>,
    pub multi_az: Spanned<bool>,
    pub backup_days: Spanned<u32>,
}

/// `bucket NAME versioned=…`.
#[derive(Clone, Debug)]
pub struct Bucket {
    pub span: Span,
    pub name: Spanned<String>,
    pub versioned: Spanned<bool>,
}

/// `table NAME hash-key=… range-key=…`: a `DynamoDB` table billed on demand.
#[derive(Clone, Debug)]
pub struct Table {
    pub span: Span,
    pub name: Spanned<String>,
    pub hash_key: Spanned<String>,
    pub range_key: Option<Spanned<String>>,
}

/// `filesystem NAME`: an encrypted EFS file system with mount targets in the private subnets.
#[derive(Clone, Debug)]
pub struct Filesystem {
    pub span: Span,
    pub name: Spanned<String>,
}

/// The engine of an `ElastiCache` cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheEngine {
    Valkey,
    Redis,
}

impl CacheEngine {
    /// The engine's name in the `ElastiCache` API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valkey => "valkey",
            Self::Redis => "redis",
        }
    }
}

/// The port a cache listens on (Valkey and Redis OSS alike).
pub const CACHE_PORT: u16 = 6379;

/// `cache NAME engine=… version=… node-type=… nodes=…`: an `ElastiCache` replication group
/// (cluster mode off: one primary, the other nodes replicas).
#[derive(Clone, Debug)]
pub struct Cache {
    pub span: Span,
    pub name: Spanned<String>,
    pub engine: Spanned<CacheEngine>,
    /// `major.minor`, such as `8.0` (Valkey) or `7.1` (Redis OSS).
    pub version: Spanned<String>,
    pub node_type: Spanned<InstanceType>,
    /// The primary and its replicas, 2 to 6: with a replica in another zone, failover is
    /// automatic.
    pub nodes: Spanned<u32>,
}

/// The port a `DocumentDB` cluster listens on.
pub const DOCDB_PORT: u16 = 27017;

/// `docdb NAME version=… class=… instances=…`: an Amazon `DocumentDB` (instance-based) cluster.
#[derive(Clone, Debug)]
pub struct Docdb {
    pub span: Span,
    pub name: Spanned<String>,
    /// `major.minor`: `5.0`, the version with IAM authentication.
    pub version: Spanned<String>,
    /// The instances' class, with the `db.` prefix: `db.t4g.medium`.
    pub class: Spanned<InstanceType>,
    /// The primary and its replicas, 1 to 16.
    pub instances: Spanned<u32>,
}

/// `queue NAME fifo=… subscribe=…`: an SQS queue with its dead-letter queue.
#[derive(Clone, Debug)]
pub struct Queue {
    pub span: Span,
    pub name: Spanned<String>,
    pub fifo: Spanned<bool>,
    /// The `topic` whose messages the queue receives.
    pub subscribe: Option<Spanned<String>>,
}

/// `topic NAME fifo=…`: an SNS topic.
#[derive(Clone, Debug)]
pub struct Topic {
    pub span: Span,
    pub name: Spanned<String>,
    pub fifo: Spanned<bool>,
}

/// `repository NAME`: an ECR repository (scan on push, immutable tags).
#[derive(Clone, Debug)]
pub struct Repository {
    pub span: Span,
    pub name: Spanned<String>,
}

/// Where a secret's value is kept in AWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// AWS Secrets Manager: a secret by its name.
    SecretsManager,
    /// Systems Manager Parameter Store: a (`SecureString`) parameter by its name.
    Ssm,
}

impl SecretSource {
    /// The `objectType` the AWS provider of the Secrets Store CSI driver reads.
    pub fn object_type(self) -> &'static str {
        match self {
            Self::SecretsManager => "secretsmanager",
            Self::Ssm => "ssmparameter",
        }
    }
}

/// `secret NAME source=… name=…`: a secret that already exists in AWS, which services read by
/// reference. platc never holds its value: the Secrets Store CSI driver fetches it into the
/// pods that use it, with each service's own Pod Identity role.
#[derive(Clone, Debug)]
pub struct Secret {
    pub span: Span,
    pub name: Spanned<String>,
    pub source: Spanned<SecretSource>,
    /// Its name in Secrets Manager or Parameter Store.
    pub aws_name: Spanned<String>,
    /// `kms-key=`: the ARN of the customer-managed KMS key it is encrypted with, which the
    /// roles that read it may decrypt with (through Secrets Manager or Parameter Store only).
    pub kms_key: Option<Spanned<String>>,
}

impl Secret {
    /// The ARNs a role must be allowed to read it by: a Secrets Manager ARN ends in `-` and six
    /// random characters (`<name>-??????`, the pattern the Secrets Manager guide gives for a
    /// policy by name); a parameter's ARN is its name after `parameter/`, without a leading `/`.
    /// `escape` is applied to the secret's name (the target's escape of user text), not to
    /// the rest, which may be the target's own references.
    pub fn arn(
        &self,
        escape: impl Fn(&str) -> String,
        partition: &str,
        region: &str,
        account: &str,
    ) -> String {
        match self.source.value {
            SecretSource::SecretsManager => format!(
                "arn:{partition}:secretsmanager:{region}:{account}:secret:{}-??????",
                escape(&self.aws_name.value)
            ),
            SecretSource::Ssm => format!(
                "arn:{partition}:ssm:{region}:{account}:parameter/{}",
                escape(self.aws_name.value.trim_start_matches('/'))
            ),
        }
    }
}

impl Database {
    /// The name of the database RDS creates in the instance: the name with every character
    /// other than a letter or digit `_`, and `_` before a leading digit.
    pub fn db_name(&self) -> String {
        identifier(&self.name.value)
    }
}

impl Engine {
    /// The port the engine listens on.
    pub fn port(self) -> u16 {
        match self {
            Self::Postgres => 5432,
            Self::Mysql => 3306,
        }
    }
}

/// What AWS only knows once a store exists, which a service still needs in its env.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreEndpoint {
    /// The address of a database instance: IAM authentication tokens are signed for it, and a
    /// name of our own (a CNAME) would not do.
    Database(String),
    /// The URL of the VPC's `DynamoDB` interface endpoint.
    Dynamodb,
    /// The primary endpoint's address of a cache.
    Cache(String),
    /// The cluster endpoint (the primary's address) of a `DocumentDB` cluster.
    Docdb(String),
    /// The `mongodb://` connection string of a `DocumentDB` cluster (`docdb_uri`).
    DocdbUri(String),
    /// The URL of a queue.
    Queue(String),
    /// The ARN of a topic.
    Topic(String),
}

/// The `ConfigMap` (in the service's namespace) where the Terraform cluster stage writes a
/// service's `StoreEndpoint`s: `<service>-aws`.
pub fn stores_config_map(service: &str) -> String {
    format!("{service}-aws")
}

/// The `SecretProviderClass` through which a service reads a secret, and the `Secret` the
/// Secrets Store CSI driver keeps in step with it for the secret's env vars (both in the
/// service's namespace): `<service>.<secret>`. Both are DNS labels without a dot, so the dot
/// keeps two pairs from making one name (`a` and `b-c`, `a-b` and `c`) in a shared namespace.
/// (It also splits the value that checkov's secrets scanner, keyed on the word `secret` in
/// `secretProviderClass`, would otherwise measure as one high-entropy string.)
pub fn secret_class(service: &str, secret: &str) -> String {
    format!("{service}.{secret}")
}

/// The pod volume (and the name of its `SecretProviderClass` after the service's) of the
/// password of a database a service uses with `auth=password`: `<database>-password`.
pub fn password_volume(database: &str) -> String {
    format!("{database}-password")
}

/// Where that volume is mounted: `/run/secrets/<database>-password`, beside the secrets'.
pub fn password_mount(database: &str) -> String {
    format!("/run/secrets/{}", password_volume(database))
}

/// The file in that mount (and the key of the `Secret` synced for `env password=`) that holds
/// the password.
pub const PASSWORD_FILE: &str = "password";

/// The Secrets Manager name of the password of a service's user of a database:
/// `<platform>[-<env>]/database/<database>/<service>`.
pub fn password_secret_name(
    platform: &crate::model::Platform,
    database: &str,
    service: &str,
) -> String {
    format!("{}/database/{database}/{service}", platform.aws_prefix())
}

/// The ECR name of a declared repository: as declared, with the environment's name when an
/// `env` overlay is built.
pub fn repository_name(platform: &crate::model::Platform, repository: &str) -> String {
    match &platform.env {
        Some(env) => format!("{repository}-{env}"),
        None => repository.to_owned(),
    }
}

/// The S3 name of a bucket: in the account's own regional namespace (`-<account>-<region>-an`,
/// AWS's suffix for it), so no other account can take the name, with the environment's name
/// when an `env` overlay is built: `<bucket>[-<env>]-<account>-<region>-an`. Without a declared
/// `account` (a check error when a service uses a bucket) the account is left as `ACCOUNT`.
pub fn bucket_name(platform: &crate::model::Platform, aws: &Aws, bucket: &str) -> String {
    let name = match &platform.env {
        Some(env) => format!("{bucket}-{env}"),
        None => bucket.to_owned(),
    };
    let account = aws.account.as_ref().map_or("ACCOUNT", |a| a.value.as_str());
    format!("{name}-{account}-{}-an", aws.region.value)
}

/// The `ElastiCache` replication group id of a cache: `<platform>[-<env>]-<cache>`, at most 40
/// characters (`check::aws`). Its IAM user has the same id and name, as IAM authentication
/// requires.
pub fn cache_id(platform: &crate::model::Platform, cache: &str) -> String {
    format!("{}-{cache}", platform.aws_prefix())
}

/// The creation token of a file system: `<platform>[-<env>]-<filesystem>`, at most EFS's 64
/// characters (`check::aws`).
pub fn filesystem_token(platform: &crate::model::Platform, filesystem: &str) -> String {
    format!("{}-{filesystem}", platform.aws_prefix())
}

/// The longest user name `MySQL` takes (8.0; 5.7.8 on): a service's database user is named
/// after the service.
pub const MYSQL_USER_MAX: usize = 32;

/// The cluster identifier of a `DocumentDB` cluster: `<platform>[-<env>]-<docdb>`, at most 63
/// characters (`check::aws`); its instances are `<identifier>-<n>`, n from 1.
pub fn docdb_identifier(platform: &crate::model::Platform, docdb: &str) -> String {
    format!("{}-{docdb}", platform.aws_prefix())
}

/// The query of a `DocumentDB` connection string: TLS, IAM authentication as the caller's
/// role (`MONGODB-AWS` against `$external`, URL-encoded), the replica set `DocumentDB` names
/// `rs0`, reads from replicas when they can serve, and no retryable writes (`DocumentDB` has
/// none).
pub const DOCDB_URI_QUERY: &str = "tls=true&authMechanism=MONGODB-AWS&authSource=%24external&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false";

/// The SQS name of a queue: `<platform>[-<env>]-<queue>`, with `.fifo` for a FIFO queue.
pub fn queue_name(platform: &crate::model::Platform, queue: &Queue) -> String {
    fifo_suffixed(
        format!("{}-{}", platform.aws_prefix(), queue.name.value),
        queue.fifo.value,
    )
}

/// The SQS name of a queue's dead-letter queue: `<platform>[-<env>]-<queue>-dlq[.fifo]`.
pub fn dead_letter_queue_name(platform: &crate::model::Platform, queue: &Queue) -> String {
    fifo_suffixed(
        format!("{}-{}-dlq", platform.aws_prefix(), queue.name.value),
        queue.fifo.value,
    )
}

/// The SNS name of a topic: `<platform>[-<env>]-<topic>`, with `.fifo` for a FIFO topic.
pub fn topic_name(platform: &crate::model::Platform, topic: &Topic) -> String {
    fifo_suffixed(
        format!("{}-{}", platform.aws_prefix(), topic.name.value),
        topic.fifo.value,
    )
}

fn fifo_suffixed(name: String, fifo: bool) -> String {
    if fifo { format!("{name}.fifo") } else { name }
}

/// The limits AWS puts on the names platc builds (IAM `CreateRole` `RoleName`: 1–64; RDS
/// `DBInstanceIdentifier`: 1–63; EKS `CreateCluster` `name`: 1–100).
pub const IAM_ROLE_NAME_MAX: usize = 64;
pub const RDS_IDENTIFIER_MAX: usize = 63;

/// The name of a platform-wide IAM role: `<platform>[-<env>]-<suffix>` (a service's own role
/// is suffixed with the service's name, an add-on's with its release).
pub fn role_name(platform: &crate::model::Platform, suffix: &str) -> String {
    format!("{}-{suffix}", platform.aws_prefix())
}

/// The EKS cluster's name in AWS: `<cluster>[-<env>]`, so that two environments in one
/// account never collide. The Terraform that makes it and every pipeline that reaches it read
/// this one name.
pub fn cluster_name(platform: &crate::model::Platform, cluster: &Cluster) -> String {
    platform.with_env(&cluster.name.value)
}

/// The name of an IAM role of the cluster: `<cluster>[-<env>]-<suffix>` (`cluster`, `node`,
/// `ebs-csi`, `efs-csi`).
pub fn cluster_role_name(
    platform: &crate::model::Platform,
    cluster: &Cluster,
    suffix: &str,
) -> String {
    format!("{}-{suffix}", cluster_name(platform, cluster))
}

/// The suffixes of the cluster's IAM roles, for the length check.
pub const CLUSTER_ROLE_SUFFIXES: &[&str] = &["cluster", "node", "ebs-csi", "efs-csi"];

/// The RDS instance identifier of a database: `<platform>[-<env>]-<database>`.
pub fn database_identifier(platform: &crate::model::Platform, database: &Database) -> String {
    format!("{}-{}", platform.aws_prefix(), database.name.value)
}

/// A name as an identifier: every character other than an ASCII letter or digit becomes `_`,
/// and a leading digit gets a `_` before it (`boutique-assets` → `boutique_assets`). RDS
/// database names and Terraform resource names both follow this rule.
pub fn identifier(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The prefix length of carved subnets: the VPC split into the next power of two at or above
/// 2 × zones equal parts.
pub fn carved_prefix(vpc: &Vpc) -> u8 {
    let parts = u32::from(vpc.zones.value) * 2;
    let bits = u8::try_from(parts.next_power_of_two().trailing_zeros()).unwrap_or(32);
    vpc.cidr.value.prefix + bits
}

/// The public and the private subnet CIDRs, one per zone: the explicit ones, or carved from the
/// VPC CIDR (publics in the first parts, privates in the next, as `check::network` sized them).
pub fn subnets(aws: &Aws) -> (Vec<Cidr>, Vec<Cidr>) {
    let vpc = &aws.vpc;
    if !vpc.public_subnets.is_empty() {
        return (
            vpc.public_subnets.iter().map(|s| s.value).collect(),
            vpc.private_subnets.iter().map(|s| s.value).collect(),
        );
    }
    let prefix = carved_prefix(vpc);
    let size = 1u64 << (32 - u32::from(prefix.min(32)));
    let part = |i: usize| Cidr {
        address: u32::try_from(u64::from(vpc.cidr.value.address) + size * i as u64)
            .unwrap_or(u32::MAX),
        prefix,
    };
    let zones = usize::from(vpc.zones.value);
    (
        (0..zones).map(part).collect(),
        (zones..2 * zones).map(part).collect(),
    )
}

/// The private subnets, where the nodes, pods, databases and VPC endpoints live.
pub fn private_subnets(aws: &Aws) -> Vec<Cidr> {
    subnets(aws).1
}

/// Where a platform's Terraform states live in the bucket: the declared `prefix`, else the
/// platform's name, and under it the environment's name when one is built. Each stage keeps
/// `<this>/<stage>.tfstate`.
pub fn state_prefix(platform: &crate::model::Platform, state: &State) -> String {
    let base = state
        .prefix
        .as_ref()
        .map_or_else(|| platform.name.value.clone(), |p| p.value.clone());
    match &platform.env {
        Some(env) => format!("{base}/{env}"),
        None => base,
    }
}
