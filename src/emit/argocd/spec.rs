//! The Argo CD kinds platc writes, as typed specs (`argoproj.io/v1alpha1`; the fields as the
//! `Application` and `AppProject` CRDs of Argo CD declare them).

use serde::Serialize;

pub const API_VERSION: &str = "argoproj.io/v1alpha1";
pub const APPLICATION: &str = "Application";
pub const PROJECT: &str = "AppProject";

/// The cluster Argo CD runs in, as an Application's destination names it.
pub const IN_CLUSTER: &str = "https://kubernetes.default.svc";

/// Deleting an Application with this finalizer deletes the objects it deployed first.
pub const RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    pub project: String,
    pub source: Source,
    pub destination: Destination,
    pub sync_policy: SyncPolicy,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore_differences: Vec<IgnoreDifference>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    pub target_revision: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory: Option<Directory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<Plugin>,
}

#[derive(Serialize)]
pub struct Directory {
    pub recurse: bool,
    pub include: String,
}

#[derive(Serialize)]
pub struct Plugin {
    pub name: &'static str,
    pub parameters: Vec<Parameter>,
}

/// A string parameter of a config management plugin.
#[derive(Serialize)]
pub struct Parameter {
    pub name: &'static str,
    pub string: String,
}

#[derive(Serialize)]
pub struct Destination {
    pub server: &'static str,
    pub namespace: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automated: Option<Automated>,
    pub sync_options: Vec<&'static str>,
    pub retry: Retry,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Automated {
    pub prune: bool,
    pub self_heal: bool,
}

#[derive(Serialize)]
pub struct Retry {
    pub limit: u32,
    pub backoff: Backoff,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backoff {
    pub duration: &'static str,
    pub factor: u32,
    pub max_duration: &'static str,
}

/// Fields of one object that another controller owns at run time.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreDifference {
    pub group: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub jq_path_expressions: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSpec {
    pub description: String,
    pub source_repos: Vec<String>,
    pub destinations: Vec<Destination>,
    pub cluster_resource_whitelist: Vec<GroupKind>,
    pub namespace_resource_whitelist: Vec<GroupKind>,
}

#[derive(Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupKind {
    pub group: &'static str,
    pub kind: &'static str,
}

impl GroupKind {
    pub const fn of(group: &'static str, kind: &'static str) -> Self {
        Self { group, kind }
    }
}
