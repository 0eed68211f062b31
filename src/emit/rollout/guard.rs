//! The canary guard: two `ValidatingAdmissionPolicy`s per service whose canary has an image,
//! so that the canary never becomes the first revision of its Rollout.
//!
//! Argo Rollouts promotes the first revision of a Rollout (no stable `ReplicaSet` yet) to 100%
//! at once, skipping the steps and the analysis (`rollout/sync.go`, "Initial deploy"). Applied to
//! a cluster where the service does not run under its Rollout yet, the canary would therefore
//! reach every user unmeasured. The API server refuses that, with CEL and no webhook:
//!
//! - `<…>-first`: no Deployment of the service may be created with the canary's image, nor may a
//!   Deployment that is not yet a Rollout's template (no `platc.dev/rollout` annotation on the
//!   object the cluster has) be switched to it;
//! - `<…>-stable`: the Deployment may take the canary's image only once the service's Rollout
//!   has a stable revision (`status.stableRS`), read as the policy's parameter.
//!
//! The way through is the one Argo Rollouts allows: apply the platform with the canary armed
//! (its `tag=` removed: the Rollout runs the stable image), then add the canary's image back.
//! The message says so. Admission policies need Kubernetes 1.30 (`check::versions`).

use k8s_openapi::api::admissionregistration::v1::{
    MatchCondition, MatchResources, NamedRuleWithOperations, ParamKind, ParamRef,
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    ValidatingAdmissionPolicyBindingSpec, ValidatingAdmissionPolicySpec, Validation,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::emit::conventions::{ROLLOUT_ANNOTATION, common_labels, origin_annotation};
use crate::model::Platform;
use crate::model::service::Service;
use crate::output::{Item, Owner};

/// The names of a service's two policies (cluster-scoped, so the namespace is in them).
pub fn policy_names(service: &Service) -> [String; 2] {
    let base = format!("platc-canary-{}-{}", service.namespace, service.name.value);
    [format!("{base}-first"), format!("{base}-stable")]
}

/// CEL: whether a Deployment's pod template runs `image`.
fn runs(object: &str, image: &str) -> String {
    format!("{object}.spec.template.spec.containers.exists(c, c.image == '{image}')")
}

/// The expressions of the two policies, for a service whose canary runs `image`:
/// `(first, stable)`. Public for the test that evaluates them.
pub fn expressions(image: &str) -> (String, String) {
    let first = format!(
        "!{} || (request.operation == 'UPDATE' && has(oldObject.metadata.annotations) && '{ROLLOUT_ANNOTATION}' in oldObject.metadata.annotations)",
        runs("object", image)
    );
    let stable = format!(
        "!{} || {} || (has(params.status) && has(params.status.stableRS) && params.status.stableRS != '')",
        runs("object", image),
        runs("oldObject", image)
    );
    (first, stable)
}

fn rules(operations: &[&str]) -> MatchResources {
    MatchResources {
        resource_rules: Some(vec![NamedRuleWithOperations {
            api_groups: Some(vec!["apps".into()]),
            api_versions: Some(vec!["v1".into()]),
            operations: Some(operations.iter().map(|o| (*o).to_owned()).collect()),
            resources: Some(vec!["deployments".into()]),
            ..NamedRuleWithOperations::default()
        }]),
        ..MatchResources::default()
    }
}

/// The policies and bindings of a service; none when its canary has no image of its own.
pub fn objects(platform: &Platform, service: &Service) -> Vec<Item> {
    let Some(canary_image) = service.canary_image() else {
        return Vec::new();
    };
    let Some(canary) = &service.canary else {
        return Vec::new();
    };
    let image = platform.image_reference(&canary_image);
    let name = &service.name.value;
    let namespace = &service.namespace;
    let (first, stable) = expressions(&image);
    let message = format!(
        "{name} does not run under its Argo Rollout on this cluster yet, so the canary {image} would be its first revision and reach every user without analysis: apply the platform with the canary's tag= (or digest=) removed, wait until the Rollout {name} is Healthy, then add it back"
    );
    let meta = |policy: &str| ObjectMeta {
        name: Some(policy.to_owned()),
        labels: Some(common_labels(platform)),
        annotations: Some(origin_annotation(platform, canary.span)),
        ..ObjectMeta::default()
    };
    let in_namespace = LabelSelector {
        match_labels: Some([("kubernetes.io/metadata.name".to_owned(), namespace.clone())].into()),
        ..LabelSelector::default()
    };
    let this_deployment = vec![MatchCondition {
        name: "the-service-deployment".into(),
        expression: format!("object.metadata.name == '{name}'"),
    }];
    let [first_name, stable_name] = policy_names(service);
    let policy =
        |policy_name: &str, operations: &[&str], expression: String, param: Option<ParamKind>| {
            ValidatingAdmissionPolicy {
                metadata: meta(policy_name),
                spec: Some(ValidatingAdmissionPolicySpec {
                    failure_policy: Some("Fail".into()),
                    match_constraints: Some(MatchResources {
                        namespace_selector: Some(in_namespace.clone()),
                        ..rules(operations)
                    }),
                    match_conditions: Some(this_deployment.clone()),
                    param_kind: param,
                    validations: Some(vec![Validation {
                        expression,
                        message: Some(message.clone()),
                        reason: Some("Forbidden".into()),
                        ..Validation::default()
                    }]),
                    ..ValidatingAdmissionPolicySpec::default()
                }),
                ..ValidatingAdmissionPolicy::default()
            }
        };
    let binding =
        |policy_name: &str, param_ref: Option<ParamRef>| ValidatingAdmissionPolicyBinding {
            metadata: meta(policy_name),
            spec: Some(ValidatingAdmissionPolicyBindingSpec {
                policy_name: Some(policy_name.to_owned()),
                param_ref,
                validation_actions: Some(vec!["Deny".into()]),
                ..ValidatingAdmissionPolicyBindingSpec::default()
            }),
        };
    let dir = format!("rollouts/{name}");
    let owner = || Owner::Service(service.name.value.clone());
    vec![
        Item::k8s(
            format!("{dir}/guard-first-policy.yaml"),
            owner(),
            canary.span,
            policy(&first_name, &["CREATE", "UPDATE"], first, None),
        ),
        Item::k8s(
            format!("{dir}/guard-first-binding.yaml"),
            owner(),
            canary.span,
            binding(&first_name, None),
        ),
        Item::k8s(
            format!("{dir}/guard-stable-policy.yaml"),
            owner(),
            canary.span,
            policy(
                &stable_name,
                &["UPDATE"],
                stable,
                Some(ParamKind {
                    api_version: Some("argoproj.io/v1alpha1".into()),
                    kind: Some("Rollout".into()),
                }),
            ),
        ),
        Item::k8s(
            format!("{dir}/guard-stable-binding.yaml"),
            owner(),
            canary.span,
            binding(
                &stable_name,
                Some(ParamRef {
                    name: Some(name.clone()),
                    namespace: Some(namespace.clone()),
                    // No Rollout yet: the `-first` policy decides.
                    parameter_not_found_action: Some("Allow".into()),
                    ..ParamRef::default()
                }),
            ),
        ),
    ]
}
