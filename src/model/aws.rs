//! The AWS side of the platform: state backend, network, cluster, domain and data stores.

use crate::model::service::Waiver;
use crate::model::value::{Cidr, InstanceType};
use crate::span::{Span, Spanned};

/// `aws region=… { … }`.
#[derive(Clone, Debug)]
pub struct Aws {
    pub span: Span,
    pub region: Spanned<String>,
    pub state: Option<State>,
    pub vpc: Vpc,
    pub cluster: Option<Cluster>,
    pub domain: Option<Domain>,
    pub databases: Vec<Database>,
    pub buckets: Vec<Bucket>,
    pub tables: Vec<Table>,
    pub filesystems: Vec<Filesystem>,
    pub repositories: Vec<Repository>,
    /// `waive CHECK reason=…`: Terraform policy checks (checkov ids) that do not apply.
    pub waivers: Vec<Waiver>,
}

/// `state bucket=… lock-table=… key=…`: the Terraform S3 backend with `DynamoDB` locking.
#[derive(Clone, Debug)]
pub struct State {
    pub span: Span,
    pub bucket: Spanned<String>,
    pub lock_table: Spanned<String>,
    pub key: Option<Spanned<String>>,
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

/// `cluster NAME version=… endpoint=… { node-group … }`.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub span: Span,
    pub name: Spanned<String>,
    pub version: Spanned<String>,
    pub endpoint: Spanned<Endpoint>,
    pub node_groups: Vec<NodeGroup>,
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

/// `domain NAME zone=…`: a Route53 hosted zone and an ACM certificate for NAME and `*.NAME`.
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

/// `repository NAME`: an ECR repository (scan on push, immutable tags).
#[derive(Clone, Debug)]
pub struct Repository {
    pub span: Span,
    pub name: Spanned<String>,
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

/// The platform's Route53 private hosted zone, associated with its VPC: `<platform>.internal`.
pub fn private_zone(platform: &str) -> String {
    format!("{}.internal", platform.to_ascii_lowercase())
}

/// The stable DNS name of a database, a CNAME to its RDS address in the private zone:
/// `<database>.db.<platform>.internal`. The RDS endpoint is only known after `apply`; this
/// name is known before.
pub fn database_host(platform: &str, database: &str) -> String {
    format!(
        "{}.db.{}",
        database.to_ascii_lowercase(),
        private_zone(platform)
    )
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
