//! `versions.tf.json`: the `terraform` block (required version, providers pinned to the
//! versions whose schemas the conformance step checks against, the S3 backend with `DynamoDB`
//! locking) and the provider configurations.
//!
//! Nothing else goes in this file: checkov skips a whole `.tf.json` file whose `terraform` block
//! holds a scalar such as `required_version`, so resources here would go unscanned.

use serde_json::{Map, Value, json};

use crate::emit::terraform::addons;
use crate::emit::terraform::{Context, Module, ident, r};

/// Terraform 1.10 is the first with the S3 backend's current locking and encryption options.
const TERRAFORM: &str = ">= 1.10.0";
/// The provider versions the schemas in the conformance step describe.
const AWS: &str = "~> 6.47.0";
const HELM: &str = "~> 3.0.2";

pub fn module(cx: &Context) -> Module {
    let mut module = Module::new(&cx.platform.origin.locate(cx.aws.span));
    // checkov reads no skip comments in .tf.json: conformance/terraform.py reads these.
    for waiver in &cx.aws.waivers {
        module.note(format!(
            "checkov:skip={}: {}",
            waiver.check.value, waiver.reason.value
        ));
    }
    let helm = cx.cluster.is_some_and(|_| addons::wanted(cx));
    let mut providers = Map::new();
    providers.insert(
        "aws".into(),
        json!({"source": "hashicorp/aws", "version": AWS}),
    );
    if helm {
        providers.insert(
            "helm".into(),
            json!({"source": "hashicorp/helm", "version": HELM}),
        );
    }
    let mut terraform = json!({
        "required_version": TERRAFORM,
        "required_providers": providers,
    });
    if let Some(state) = &cx.aws.state {
        let key = state.key.as_ref().map_or_else(
            || format!("{}/terraform.tfstate", cx.name()),
            |k| k.value.clone(),
        );
        terraform["backend"] = json!({"s3": {
            "bucket": state.bucket.value,
            "key": key,
            "region": cx.aws.region.value,
            "dynamodb_table": state.lock_table.value,
            "encrypt": true,
        }});
    }
    module.block("terraform", terraform);
    let mut provider = Map::new();
    provider.insert(
        "aws".into(),
        json!({
            "region": cx.aws.region.value,
            "default_tags": {"tags": {
                "platform": cx.name(),
                "managed-by": "platc",
            }},
        }),
    );
    if let (true, Some(cluster)) = (helm, cx.cluster) {
        let id = ident(&cluster.name.value);
        provider.insert(
            "helm".into(),
            json!({"kubernetes": {
                "host": r(&format!("aws_eks_cluster.{id}.endpoint")),
                "cluster_ca_certificate": r(&format!(
                    "base64decode(aws_eks_cluster.{id}.certificate_authority[0].data)"
                )),
                "exec": {
                    "api_version": "client.authentication.k8s.io/v1beta1",
                    "command": "aws",
                    "args": ["eks", "get-token", "--region", cx.aws.region.value,
                             "--cluster-name", r(&format!("aws_eks_cluster.{id}.name"))],
                },
            }}),
        );
    }
    module.block("provider", Value::Object(provider));
    module
}
