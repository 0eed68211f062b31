//! The AWS side of the platform as Terraform, in two stages that each apply:
//!
//! - `out/terraform/aws/`: network, VPC endpoints, the EKS cluster and its EKS add-ons, data
//!   stores (databases, buckets, tables, file systems, caches, `DocumentDB` clusters, queues and topics), IAM roles and Pod Identity associations, the domain's zone, and (for a private
//!   endpoint) the runner that applies the second stage from inside the VPC. Nothing here talks
//!   to the cluster's API, so it applies from anywhere.
//! - `out/terraform/cluster/`: the Helm releases of the add-ons and what the cluster needs from
//!   the first stage (the data stores' addresses, the file systems' `StorageClass`es). It reads
//!   the first stage's outputs from its remote state, and needs the cluster's API: from the
//!   runner when the endpoint is private, or from the CIDRs a public endpoint admits.
//!
//! Input: a checked platform with an `aws` block (nothing is emitted without one). Output: per
//! stage a `versions.tf` (the `terraform` block in HCL: checkov's `terraform_json` parser cannot
//! read the scalar `required_version`, and drops any `.tf.json` file that has one) and one
//! `.tf.json` file per concern, written with the canonical encoder. Invariants: resource names
//! derive only from the platform's names, so the same input gives the same bytes; every `${…}`
//! reference points at something the same stage declares; the add-ons, their namespaces,
//! `ServiceAccount`s and chart values come from the add-on table (`model::addons`).

mod addons;
mod caches;
mod cluster;
mod databases;
mod docdb_users;
mod docdbs;
mod domain;
mod endpoints;
mod hcl;
mod identity;
mod messaging;
mod module;
mod network;
mod outputs;
mod policy;
mod runner;
mod storage;
mod stores;
mod users;
mod versions;

use std::fmt::Write as _;

use crate::model::Checked;
use crate::model::addons::{Addon, installed};
use crate::model::aws::{Aws, Cluster};
use crate::output::{Item, Output, Owner};
use crate::span::Span;

pub use module::Module;

/// The two Terraform stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `terraform/aws/`: everything that only needs the AWS API.
    Aws,
    /// `terraform/cluster/`: everything that needs the cluster's API.
    Cluster,
}

impl Stage {
    pub fn dir(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::Cluster => "cluster",
        }
    }
}

/// What every part of the Terraform tree needs to know.
pub struct Context<'a> {
    pub platform: &'a Checked,
    pub aws: &'a Aws,
    pub cluster: Option<&'a Cluster>,
    /// The add-ons the platform relies on (`model::addons::installed`).
    pub addons: Vec<Addon>,
}

impl Context<'_> {
    /// The prefix of every AWS name platc chooses: the platform's name, and the environment's
    /// when an `env` overlay is built, so that two environments in one account never collide.
    pub fn name(&self) -> String {
        self.platform.aws_prefix()
    }

    /// `name`, with `-<env>` when an environment is built.
    pub fn with_env(&self, name: &str) -> String {
        self.platform.with_env(name)
    }

    /// The EKS cluster's name in AWS.
    pub fn cluster_name(&self, cluster: &Cluster) -> String {
        crate::model::aws::cluster_name(self.platform, cluster)
    }

    /// `${data.aws_partition.current.partition}`, for ARNs that hold in every partition.
    pub fn partition(&self) -> &'static str {
        "${data.aws_partition.current.partition}"
    }

    /// The account: as declared (`aws account=…`), else the caller's.
    pub fn account(&self) -> String {
        self.aws.account.as_ref().map_or_else(
            || "${data.aws_caller_identity.current.account_id}".to_owned(),
            |a| a.value.clone(),
        )
    }

    /// The ARN of an AWS-managed IAM policy.
    pub fn managed_policy(&self, name: &str) -> String {
        format!("arn:{}:iam::aws:policy/{name}", self.partition())
    }

    /// The zones the VPC spans.
    pub fn zones(&self) -> usize {
        usize::from(self.aws.vpc.zones.value)
    }

    /// The add-on with this Terraform id, if the platform installs it.
    pub fn addon(&self, id: &str) -> Option<&Addon> {
        self.addons.iter().find(|a| a.id == id)
    }

    /// The key of a stage's state in the backend: `<prefix>/<stage>.tfstate`.
    pub fn state_key(&self, stage: Stage) -> Option<String> {
        let backend = self.aws.state.as_ref()?;
        Some(format!(
            "{}/{}.tfstate",
            state_prefix(self.platform, backend),
            stage.dir()
        ))
    }
}

pub use crate::model::aws::state_prefix;

/// A Terraform identifier for a platform name: `boutique-assets` → `boutique_assets`.
pub fn ident(name: &str) -> String {
    crate::model::aws::identifier(name)
}

/// A literal string as Terraform JSON holds it: every `${` and `%{` a value from
/// `platform.kdl` contains is escaped (`$${`, `%%{`), so Terraform never reads it as a
/// template. Only references platc builds (`r`) are interpolations.
pub fn lit(text: &str) -> String {
    text.replace("${", "$${").replace("%{", "%%{")
}

/// `${EXPR}`: a reference inside a Terraform JSON string.
pub fn r(expr: &str) -> String {
    format!("${{{expr}}}")
}

/// Adds the Terraform stages of the platform's `aws` block, if it has one.
pub fn emit(platform: &Checked, out: &mut Output) {
    // Every module is the platform's.
    if !out.wants_shared() {
        return;
    }
    let Some(aws) = &platform.aws else { return };
    let cx = Context {
        platform,
        aws,
        cluster: aws.cluster.as_ref(),
        addons: installed(platform),
    };
    let mut module = |stage: Stage, name: &str, module: Module, origin: Span| {
        if !module.is_empty() {
            out.push(Item::json(
                format!("terraform/{}/{name}.tf.json", stage.dir()),
                Owner::Platform,
                origin,
                module.into_value(),
            ));
        }
    };
    // Stage one: the AWS API only.
    let aws_stage = Stage::Aws;
    module(
        aws_stage,
        "providers",
        versions::providers(&cx, aws_stage),
        aws.span,
    );
    module(aws_stage, "network", network::module(&cx), aws.vpc.span);
    module(aws_stage, "endpoints", endpoints::module(&cx), aws.vpc.span);
    if let Some(cluster) = cx.cluster {
        module(
            aws_stage,
            "cluster",
            cluster::module(&cx, cluster),
            cluster.span,
        );
        module(
            aws_stage,
            "identity",
            identity::module(&cx, cluster),
            cluster.span,
        );
        module(
            aws_stage,
            "runner",
            runner::module(&cx, cluster),
            cluster.span,
        );
    }
    module(aws_stage, "databases", databases::module(&cx), aws.span);
    module(aws_stage, "storage", storage::module(&cx), aws.span);
    module(aws_stage, "caches", caches::module(&cx), aws.span);
    module(aws_stage, "docdbs", docdbs::module(&cx), aws.span);
    module(aws_stage, "messaging", messaging::module(&cx), aws.span);
    if let Some(domain) = &aws.domain {
        module(
            aws_stage,
            "domain",
            domain::module(&cx, domain),
            domain.span,
        );
    }
    module(aws_stage, "outputs", outputs::module(&cx), aws.span);
    // Stage two: the cluster's API.
    if let Some(cluster) = cx.cluster {
        let stage = Stage::Cluster;
        module(
            stage,
            "providers",
            versions::providers(&cx, stage),
            cluster.span,
        );
        module(stage, "state", versions::remote_state(&cx), cluster.span);
        module(stage, "addons", addons::module(&cx, cluster), cluster.span);
        module(stage, "stores", stores::module(&cx), cluster.span);
        module(stage, "databases", users::module(&cx), cluster.span);
        module(stage, "docdbs", docdb_users::module(&cx), cluster.span);
    }
    let stages: &[Stage] = if cx.cluster.is_some() {
        &[Stage::Aws, Stage::Cluster]
    } else {
        &[Stage::Aws]
    };
    for &stage in stages {
        out.push(Item::text(
            format!("terraform/{}/versions.tf", stage.dir()),
            Owner::Platform,
            aws.span,
            versions::hcl(&cx, stage),
        ));
    }
    if let Some(cluster) = cx.cluster
        && let Some(handovers) = stores::handovers_hcl(&cx)
    {
        out.push(Item::text(
            format!("terraform/{}/namespaces.tf", Stage::Cluster.dir()),
            Owner::Platform,
            cluster.span,
            handovers,
        ));
    }
    // The checks `aws { waive … }` waives, where checkov looks for its configuration: the
    // directory it is pointed at (`checkov -d out/`, or one stage's directory).
    if let Some(config) = checkov_config(&cx) {
        for dir in std::iter::once(String::new()).chain(
            stages
                .iter()
                .map(|stage| format!("terraform/{}/", stage.dir())),
        ) {
            out.push(Item::text(
                format!("{dir}.checkov.yaml"),
                Owner::Platform,
                aws.span,
                config.clone(),
            ));
        }
    }
}

/// checkov's configuration file with the waived checks (`skip-check`), each reason beside it;
/// none without waivers. checkov's `terraform_json` runner reads no per-resource skip comment,
/// so a waiver holds for the whole tree, as `platform.kdl` states it.
fn checkov_config(cx: &Context) -> Option<String> {
    if cx.aws.waivers.is_empty() {
        return None;
    }
    let mut out = crate::encode::header(&cx.platform.origin.path(cx.aws.span));
    out.push_str(
        "# The checks platform.kdl waives (`aws { waive … }`), with their reasons.\nskip-check:\n",
    );
    for waiver in &cx.aws.waivers {
        let _ = write!(
            out,
            "  # {}\n  - {}\n",
            crate::encode::comment_safe(&waiver.reason.value),
            serde_json::Value::from(waiver.check.value.as_str())
        );
    }
    Some(out)
}
