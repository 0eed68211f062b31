//! Each stage's `versions.tf` (the `terraform` block: required version, providers pinned to the
//! versions whose schemas the conformance step checks, the S3 backend locked by lock files,
//! one state key per stage), its `providers.tf.json`, and the second stage's view of the first
//! one's outputs (`state.tf.json`).
//!
//! The `terraform` block is HCL because checkov's `terraform_json` parser cannot read the scalar
//! `required_version` in a `.tf.json` file and drops the whole file; Terraform reads `.tf` and
//! `.tf.json` files of one directory as one module.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::emit::terraform::hcl;
use crate::emit::terraform::{Context, Module, Stage, docdb_users, r, users};

/// Terraform 1.11 is the first in which the S3 backend's lock files (`use_lockfile`, added in
/// 1.10) are generally available and `DynamoDB` locking deprecated; 1.10 brought the ephemeral
/// resources the database users are made with.
const TERRAFORM: &str = ">= 1.11.0";
/// The provider versions the schemas in the conformance step describe.
const AWS: &str = "~> 6.47.0";
const HELM: &str = "~> 3.0.2";
const KUBERNETES: &str = "~> 2.38.0";

/// `(local name, source, version)` of each provider a stage uses. The cluster stage reads the
/// databases' and `DocumentDB` clusters' master secrets with the AWS provider, when a service
/// uses one, and creates the databases' users with the database engines' providers.
fn providers_of(cx: &Context, stage: Stage) -> Vec<(&'static str, &'static str, &'static str)> {
    match stage {
        Stage::Aws => vec![("aws", "hashicorp/aws", AWS)],
        Stage::Cluster => {
            let mut out = vec![
                ("helm", "hashicorp/helm", HELM),
                ("kubernetes", "hashicorp/kubernetes", KUBERNETES),
            ];
            let databases = users::providers(cx);
            if !databases.is_empty() || docdb_users::wanted(cx) {
                out.push(("aws", "hashicorp/aws", AWS));
                out.extend(databases);
            }
            out.sort_unstable();
            out
        }
    }
}

/// The `versions.tf` of a stage.
pub fn hcl(cx: &Context, stage: Stage) -> String {
    let mut out = crate::encode::header(&cx.platform.origin.path(cx.aws.span));
    out.push_str("terraform {\n");
    hcl::attribute(&mut out, 2, "required_version", 0, &hcl::string(TERRAFORM));
    out.push_str("\n  required_providers {\n");
    for (name, source, version) in providers_of(cx, stage) {
        let _ = writeln!(out, "    {name} = {{");
        hcl::attribute(&mut out, 6, "source", 7, &hcl::string(source));
        hcl::attribute(&mut out, 6, "version", 7, &hcl::string(version));
        out.push_str("    }\n");
    }
    out.push_str("  }\n");
    if let (Some(state), Some(key)) = (&cx.aws.state, cx.state_key(stage)) {
        out.push_str("\n  backend \"s3\" {\n");
        let mut fields = vec![
            ("bucket", hcl::string(&state.bucket.value)),
            ("key", hcl::string(&key)),
            ("region", hcl::string(&cx.aws.region.value)),
            ("encrypt", "true".to_owned()),
        ];
        if let Some(kms_key) = &state.kms_key {
            fields.push(("kms_key_id", hcl::string(&kms_key.value)));
        }
        // A lock file beside the state (`<key>.tflock`, S3's conditional writes); with a
        // `DynamoDB` table named too, Terraform takes both locks, for the move off the table.
        fields.push(("use_lockfile", "true".to_owned()));
        if let Some(table) = &state.lock_table {
            fields.push(("dynamodb_table", hcl::string(&table.value)));
        }
        // `terraform fmt` aligns the `=` of consecutive attributes.
        let width = fields.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
        for (key, value) in &fields {
            hcl::attribute(&mut out, 4, key, width, value);
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

/// The provider configurations of a stage.
pub fn providers(cx: &Context, stage: Stage) -> Module {
    let mut module = Module::new(&cx.platform.origin.path(cx.aws.span));
    let mut providers = Map::new();
    match stage {
        Stage::Aws => {
            providers.insert("aws".into(), aws_provider(cx));
        }
        Stage::Cluster => {
            let cluster = cluster_access(cx);
            providers.insert("helm".into(), json!({"kubernetes": cluster.clone()}));
            providers.insert("kubernetes".into(), cluster);
            if !users::providers(cx).is_empty() || docdb_users::wanted(cx) {
                providers.insert("aws".into(), aws_provider(cx));
            }
        }
    }
    module.block("provider", Value::Object(providers));
    module
}

/// The AWS provider: the region, the platform's default tags, and the only account the tree may
/// be applied to.
fn aws_provider(cx: &Context) -> Value {
    let mut tags = json!({"platform": cx.platform.name.value, "managed-by": "platc"});
    if let Some(env) = &cx.platform.env {
        tags["environment"] = json!(env);
    }
    let mut aws = json!({
        "region": cx.aws.region.value,
        "default_tags": {"tags": tags},
    });
    if let Some(account) = &cx.aws.account {
        // The tree can only be applied with credentials of this account.
        aws["allowed_account_ids"] = json!([account.value]);
    }
    aws
}

/// How the second stage reaches the cluster: its endpoint and CA from the first stage's
/// outputs, and a token from `aws eks get-token` (present on the runner's image).
fn cluster_access(cx: &Context) -> Value {
    let out = |name: &str| r(&format!("data.terraform_remote_state.aws.outputs.{name}"));
    json!({
        "host": out("cluster_endpoint"),
        "cluster_ca_certificate": r("base64decode(data.terraform_remote_state.aws.outputs.cluster_ca)"),
        "exec": {
            "api_version": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--region", cx.aws.region.value,
                     "--cluster-name", out("cluster_name")],
        },
    })
}

/// `data.terraform_remote_state.aws`: the first stage's outputs, read from its state: in the
/// S3 backend, or without `state` from the first stage's local state beside this directory.
pub fn remote_state(cx: &Context) -> Module {
    let mut module = Module::new(&cx.platform.origin.path(cx.aws.span));
    let body = match (&cx.aws.state, cx.state_key(Stage::Aws)) {
        (Some(state), Some(key)) => json!({
            "backend": "s3",
            "config": {
                "bucket": state.bucket.value,
                "key": key,
                "region": cx.aws.region.value,
            },
        }),
        _ => json!({
            "backend": "local",
            "config": {"path": "../aws/terraform.tfstate"},
        }),
    };
    module.data("terraform_remote_state", "aws", body);
    module
}
