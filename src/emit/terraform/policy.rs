//! IAM policy documents, trust policies and KMS keys, shared by every part of the tree.
//!
//! Permission policies are `aws_iam_policy_document` data sources, which Terraform checks and
//! checkov reads statement by statement. A KMS key policy is the one exception: it must grant
//! the account's root `kms:*` on `*` (the key's own ARN cannot be named inside its policy), so
//! it is written inline as JSON on the key rather than as a reusable policy document.

use serde_json::{Value, json};

use crate::emit::terraform::{Context, Module, r};

/// An `Allow` statement of a policy document.
pub fn allow(sid: &str, actions: &[&str], resources: &[String]) -> Value {
    json!({
        "sid": sid,
        "effect": "Allow",
        "actions": actions,
        "resources": resources,
    })
}

/// Adds a condition block to a policy document statement.
pub fn with_condition(
    mut statement: Value,
    test: &str,
    variable: &str,
    values: &[String],
) -> Value {
    let condition = json!({"test": test, "variable": variable, "values": values});
    match statement.get_mut("condition").and_then(Value::as_array_mut) {
        Some(list) => list.push(condition),
        None => statement["condition"] = json!([condition]),
    }
    statement
}

/// A policy document data source's body.
#[allow(clippy::needless_pass_by_value)]
pub fn document(statements: Vec<Value>) -> Value {
    json!({ "statement": statements })
}

/// Declares `data.aws_iam_policy_document.NAME` for a role that AWS services of `services`
/// assume (`ec2.amazonaws.com`, …), and returns its JSON reference.
pub fn trust(module: &mut Module, name: &str, services: &[&str], actions: &[&str]) -> String {
    module.data(
        "aws_iam_policy_document",
        name,
        document(vec![json!({
            "sid": "AssumeRole",
            "effect": "Allow",
            "actions": actions,
            "principals": [{"type": "Service", "identifiers": services}],
        })]),
    );
    r(&format!("data.aws_iam_policy_document.{name}.json"))
}

/// The trust policy of a role that pods assume through EKS Pod Identity.
pub fn pod_identity_trust(module: &mut Module, name: &str) -> String {
    trust(
        module,
        name,
        &["pods.eks.amazonaws.com"],
        &["sts:AssumeRole", "sts:TagSession"],
    )
}

/// An IAM role with a trust policy, named `role_name` in AWS.
pub fn role(module: &mut Module, name: &str, role_name: &str, description: &str, trust: &str) {
    module.resource(
        "aws_iam_role",
        name,
        json!({
            "name": role_name,
            "description": description,
            "assume_role_policy": trust,
        }),
    );
}

/// Attaches AWS-managed policies to a role: one `aws_iam_role_policy_attachment` each, named
/// `ROLE_POLICY`.
pub fn attach(cx: &Context, module: &mut Module, role: &str, policies: &[&str]) -> Vec<String> {
    policies
        .iter()
        .map(|policy| {
            let name = format!("{role}_{}", crate::emit::terraform::ident(policy)).to_lowercase();
            let name = name.replace("service_role_", "");
            module.resource(
                "aws_iam_role_policy_attachment",
                &name,
                json!({
                    "role": r(&format!("aws_iam_role.{role}.name")),
                    "policy_arn": cx.managed_policy(policy),
                }),
            );
            format!("aws_iam_role_policy_attachment.{name}")
        })
        .collect()
}

/// A customer-managed KMS key that rotates yearly, with an alias. `services` are extra key
/// policy statements for AWS services that use the key without the caller's credentials
/// (`CloudWatch` Logs).
pub fn kms_key(cx: &Context, module: &mut Module, name: &str, purpose: &str, services: Vec<Value>) {
    let root = format!("arn:{}:iam::{}:root", cx.partition(), cx.account());
    let mut statements = vec![json!({
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": root},
        "Action": "kms:*",
        "Resource": "*",
    })];
    statements.extend(services);
    let policy = json!({"Version": "2012-10-17", "Statement": statements});
    module.resource(
        "aws_kms_key",
        name,
        json!({
            "description": format!("{}: {purpose}", cx.name()),
            "enable_key_rotation": true,
            "rotation_period_in_days": 365,
            "deletion_window_in_days": 30,
            "policy": serde_json::to_string(&policy).unwrap_or_default(),
        }),
    );
    module.resource(
        "aws_kms_alias",
        name,
        json!({
            "name": format!("alias/{}-{}", cx.name(), name.replace('_', "-")),
            "target_key_id": r(&format!("aws_kms_key.{name}.key_id")),
        }),
    );
}

/// The key policy statement that lets `CloudWatch` Logs in the platform's region encrypt the
/// account's log groups with a key.
pub fn logs_service_statement(cx: &Context) -> Value {
    let region = &cx.aws.region.value;
    json!({
        "Sid": "CloudWatchLogsEncrypt",
        "Effect": "Allow",
        "Principal": {"Service": format!("logs.{region}.amazonaws.com")},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": format!(
            "arn:{}:logs:{region}:{}:log-group:*", cx.partition(), cx.account()
        )}},
    })
}

/// A deny of any request that does not arrive over TLS, for a resource policy.
pub fn deny_insecure_transport(actions: &[&str], resources: &[String]) -> Value {
    json!({
        "sid": "DenyInsecureTransport",
        "effect": "Deny",
        "actions": actions,
        "resources": resources,
        "principals": [{"type": "AWS", "identifiers": ["*"]}],
        "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
    })
}
