//! The AWS side of the platform as Terraform JSON: `out/terraform/*.tf.json`.
//!
//! Input: a checked platform with an `aws` block (nothing is emitted without one). Output: one
//! file per concern (versions and providers, network, cluster, workload identities, data stores,
//! domain, add-ons, outputs), each a Terraform JSON module body written with the canonical
//! encoder. Invariants: resource names derive only from the platform's names, so the same input
//! gives the same bytes; every `${…}` reference points at something one of the files declares;
//! the `terraform` and `provider` blocks live alone in `versions.tf.json`, because checkov skips
//! a whole file whose `terraform` block holds a scalar.

mod addons;
mod cluster;
mod databases;
mod domain;
mod identity;
mod module;
mod network;
mod outputs;
mod policy;
mod storage;
mod versions;

use crate::emit::{Artifact, Artifacts};
use crate::model::Checked;
use crate::model::aws::{Aws, Cluster};
use crate::span::Span;

pub use module::Module;

/// What every part of the Terraform tree needs to know.
pub struct Context<'a> {
    pub platform: &'a Checked,
    pub aws: &'a Aws,
    pub cluster: Option<&'a Cluster>,
}

impl Context<'_> {
    /// The platform's name: the prefix of every AWS name platc chooses.
    pub fn name(&self) -> &str {
        &self.platform.name.value
    }

    /// `${data.aws_partition.current.partition}`, for ARNs that hold in every partition.
    pub fn partition(&self) -> &'static str {
        "${data.aws_partition.current.partition}"
    }

    /// `${data.aws_caller_identity.current.account_id}`.
    pub fn account(&self) -> &'static str {
        "${data.aws_caller_identity.current.account_id}"
    }

    /// The ARN of an AWS-managed IAM policy.
    pub fn managed_policy(&self, name: &str) -> String {
        format!("arn:{}:iam::aws:policy/{name}", self.partition())
    }

    /// The zones the VPC spans.
    pub fn zones(&self) -> usize {
        usize::from(self.aws.vpc.zones.value)
    }
}

/// A Terraform identifier for a platform name: `boutique-assets` → `boutique_assets`.
pub fn ident(name: &str) -> String {
    crate::model::aws::identifier(name)
}

/// `${EXPR}`: a reference inside a Terraform JSON string.
pub fn r(expr: &str) -> String {
    format!("${{{expr}}}")
}

/// Adds the Terraform files of the platform's `aws` block, if it has one.
pub fn files(platform: &Checked, artifacts: &mut Artifacts) {
    let Some(aws) = &platform.aws else { return };
    let cx = Context {
        platform,
        aws,
        cluster: aws.cluster.as_ref(),
    };
    let mut add = |name: &str, module: Module, origin: Span| {
        if module.is_empty() {
            return;
        }
        artifacts.insert(
            format!("terraform/{name}.tf.json"),
            Artifact {
                text: module.encode(),
                origin,
            },
        );
    };
    add("versions", versions::module(&cx), aws.span);
    add("network", network::module(&cx), aws.vpc.span);
    if let Some(cluster) = cx.cluster {
        add("cluster", cluster::module(&cx, cluster), cluster.span);
        add("identity", identity::module(&cx, cluster), cluster.span);
        add("addons", addons::module(&cx, cluster), cluster.span);
    }
    add("databases", databases::module(&cx), aws.span);
    add("storage", storage::module(&cx), aws.span);
    if let Some(domain) = &aws.domain {
        add("domain", domain::module(&cx, domain), domain.span);
    }
    add("outputs", outputs::module(&cx), aws.span);
}
