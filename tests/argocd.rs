//! The Argo CD closure: what the Applications of every built tree deploy, read back as Argo CD
//! reads them.
//!
//! Over `out/` and every golden tree whose platform has `argocd` (each environment's tree of a
//! whole build too, inside its base's tree as the repository holds it), it resolves each
//! Application's source the way Argo CD's repo server does (`reposerver/repository`: every file
//! under the source's path with a manifest extension, its path relative to the source's path
//! matched against `directory.include` with gobwas/glob and no separators, so `*` crosses
//! `/`), or by the plugin's `part` parameter, and checks:
//!
//! - every cluster object of the tree is deployed by exactly one Application, and no file that
//!   is not one is read by any (the environments' trees, charts, rules, dashboards, the
//!   manifest);
//! - each Application's project exists beside it and admits its repository, its destination,
//!   and every namespace it deploys to and no other, and every kind any tree deploys (platc's
//!   kinds, used by this platform or not) and no other;
//! - every `ignoreDifferences` names an object its Application deploys, and every route and
//!   subset Argo Rollouts changes is ignored where it is deployed;
//! - the sync policy is the one `platform.kdl` asks for;
//! - the root Application reads exactly the project and the Applications, the project first,
//!   then the platform's Application, then the services'; the edge's (the gateways'
//!   certificates and their issuer, whose health waits on Let's Encrypt and DNS) waits on no
//!   service's, and is annotated so that the Application health Lua of the Argo CD platc
//!   installs reports it Healthy to the root: no wave, nor the root's prune, waits on it; and
//!   it retries a failed sync for 15 minutes at least;
//! - every object carries the sync wave of its apply rank, the waves never go down along the
//!   apply order of `platc render`, and the kinds that must come first do; a platform without
//!   `argocd` has no wave at all.
//!
//! The second half plants one fault of each kind in the reference tree and checks it is caught.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use platc::diff::read_tree;
use platc::emit::Scope;
use platc::emit::conventions::cmp;
use platc::model::Checked;
use platc::model::addons::HOLDS_WAVES_ANNOTATION;
use platc::model::mesh::{ArgoSource, SyncMode};
use platc::output::{Owner, SYNC_WAVE_ANNOTATION};
use platc::source::Source;
use platc::{Options, compile, env_dir};
use serde_yaml::Value;

type Tree = BTreeMap<String, String>;

/// The part of the platform an object is in, as its Application deploys it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    /// The platform-wide and per-namespace objects but the edge's.
    Platform,
    /// The platform's cert-manager objects: a failed ACME order or account makes them
    /// Degraded, whatever the cluster does.
    Edge,
    Service(String),
}

impl Part {
    fn of(owner: &Owner, api_version: &str) -> Self {
        match owner {
            Owner::Service(name) => Self::Service(name.clone()),
            Owner::Platform if group(api_version) == "cert-manager.io" => Self::Edge,
            Owner::Platform | Owner::Namespace(_) => Self::Platform,
        }
    }
}

/// One build of a platform, inside the tree of its whole build.
struct Case {
    name: String,
    platform: Checked,
    /// Where this build's tree is in the whole tree: `""` or `env/NAME/`.
    prefix: String,
}

/// Every built tree: `(whole tree, its builds)`.
fn trees() -> Vec<(Tree, Vec<Case>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![reference_dir()];
    for entry in std::fs::read_dir(root.join("golden")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("expected").is_dir() {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            dirs.push((name, dir.join("platform.kdl"), dir.join("expected")));
        }
    }
    dirs.sort();
    dirs.into_iter().map(load).collect()
}

/// The reference platform and its committed tree.
fn reference_dir() -> (String, PathBuf, PathBuf) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    (
        "online-boutique".to_owned(),
        root.join("platform.kdl"),
        root.join("out"),
    )
}

/// A whole tree and its builds.
fn load((name, input, tree): (String, PathBuf, PathBuf)) -> (Tree, Vec<Case>) {
    {
        {
            let source = Source::new("platform.kdl", std::fs::read_to_string(&input).unwrap())
                .with_dir(input.parent().unwrap());
            let build = |env: Option<&str>| {
                compile(
                    &source,
                    &Options {
                        env: env.map(str::to_owned),
                        keep_envs: false,
                    },
                )
                .platform
                .unwrap_or_else(|| panic!("{name} {env:?} does not compile"))
            };
            let base = build(None);
            let mut cases: Vec<Case> = base
                .envs
                .iter()
                .map(|env| Case {
                    name: format!("{name}/{}", env_dir(&env.value)),
                    platform: build(Some(&env.value)),
                    prefix: format!("{}/", env_dir(&env.value)),
                })
                .collect();
            cases.push(Case {
                name,
                platform: base,
                prefix: String::new(),
            });
            (read_tree(&tree).unwrap(), cases)
        }
    }
}

// ------------------------------------------------------------------------------------------------
// gobwas/glob, as Argo CD compiles `directory.include` (no separators): `*` and `**` match any
// run of characters, `?` one, `{a,b}` alternatives, `\c` the character c.

fn glob(pattern: &str, text: &str) -> bool {
    compiled(pattern)(text)
}

/// `glob` of `pattern`, its alternatives expanded once for every text matched.
fn compiled(pattern: &str) -> impl Fn(&str) -> bool {
    let patterns: Vec<Vec<char>> = alternatives(pattern)
        .iter()
        .map(|p| p.chars().collect())
        .collect();
    move |text| {
        let text: Vec<char> = text.chars().collect();
        patterns.iter().any(|p| wildcard(p, &text))
    }
}

/// A pattern with every `{…}` expanded into its alternatives.
fn alternatives(pattern: &str) -> Vec<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut open = None;
    let mut depth = 0;
    let mut commas = Vec::new();
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '{' => {
                if depth == 0 {
                    open = Some(i);
                }
                depth += 1;
            }
            ',' if depth == 1 => commas.push(i),
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let start = open.unwrap();
                    let head: String = chars[..start].iter().collect();
                    let tail: String = chars[i + 1..].iter().collect();
                    let mut bounds = vec![start];
                    bounds.extend(&commas);
                    bounds.push(i);
                    return bounds
                        .windows(2)
                        .flat_map(|w| {
                            let alt: String = chars[w[0] + 1..w[1]].iter().collect();
                            alternatives(&format!("{head}{alt}{tail}"))
                        })
                        .collect();
                }
            }
            '[' => panic!("character classes are not modelled: {pattern}"),
            _ => {}
        }
        i += 1;
    }
    assert_eq!(depth, 0, "unbalanced braces in {pattern}");
    vec![pattern.to_owned()]
}

fn wildcard(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') => (0..=t.len()).any(|n| wildcard(&p[1..], &t[n..])),
        Some('?') => !t.is_empty() && wildcard(&p[1..], &t[1..]),
        Some('\\') => p.len() > 1 && t.first() == Some(&p[1]) && wildcard(&p[2..], &t[1..]),
        Some(c) => t.first() == Some(c) && wildcard(&p[1..], &t[1..]),
    }
}

#[test]
fn the_glob_matcher_follows_gobwas_without_separators() {
    assert!(glob("*.yaml", "a/b/c.yaml"));
    assert!(glob("a/*.yaml", "a/b/c.yaml"));
    assert!(!glob("a/*.yaml", "ab/c.yaml"));
    assert!(glob("{config.json,env-usw2/*}", "env-usw2/x/y.yaml"));
    assert!(glob("{x,a/{b,c}/*.yaml}", "a/c/d.yaml"));
    assert!(!glob("{x,a/{b,c}/*.yaml}", "a/d/d.yaml"));
    assert!(glob("a?c", "abc") && !glob("a?c", "ac"));
    assert!(glob(r"a\*", "a*") && !glob(r"a\*", "ab"));
}

// ------------------------------------------------------------------------------------------------

/// A file as Argo CD's directory source considers it (`manifestFile` in repository.go).
fn manifest_file(path: &str) -> bool {
    [".yaml", ".yml", ".json", ".jsonnet"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// The files an Application with a directory source reads, as tree paths: every file under its
/// directory (`dir`, a tree path, `""` for the root) whose path relative to it matches.
fn read_by(tree: &Tree, dir: &str, include: &str) -> Vec<String> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let matches = compiled(include);
    tree.keys()
        .filter_map(|path| {
            let relative = path.strip_prefix(&prefix)?;
            (manifest_file(relative) && matches(relative)).then(|| path.clone())
        })
        .collect()
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap_or(Value::Null)
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .fold(value, |v, k| &v[*k])
        .as_str()
        .unwrap_or_default()
}

/// The API group of an `apiVersion`.
fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// An object of the tree: its identity as its file states it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Obj {
    group: String,
    kind: String,
    namespace: Option<String>,
    name: String,
}

fn object(value: &Value) -> Option<Obj> {
    let kind = str_at(value, &["kind"]);
    let name = str_at(value, &["metadata", "name"]);
    if kind.is_empty() || name.is_empty() {
        return None;
    }
    Some(Obj {
        group: group(str_at(value, &["apiVersion"])).to_owned(),
        kind: kind.to_owned(),
        namespace: value["metadata"]["namespace"].as_str().map(str::to_owned),
        name: name.to_owned(),
    })
}

/// How long an Application's `retry` retries a failed sync, in seconds: `limit` waits, each
/// `factor` times the one before from `duration`, at most `maxDuration`.
fn retry_seconds(retry: &Value) -> u64 {
    let seconds = |text: &str| -> u64 {
        let (number, unit) = text.split_at(text.len() - 1);
        number.parse::<u64>().unwrap_or(0) * if unit == "m" { 60 } else { 1 }
    };
    let backoff = &retry["backoff"];
    let (mut wait, factor, max) = (
        seconds(str_at(backoff, &["duration"])),
        backoff["factor"].as_u64().unwrap_or(1),
        seconds(str_at(backoff, &["maxDuration"])),
    );
    let mut total = 0;
    for _ in 0..retry["limit"].as_u64().unwrap_or(0) {
        total += wait.min(max);
        wait *= factor;
    }
    total
}

fn wave(value: &Value) -> Option<i64> {
    value["metadata"]["annotations"][SYNC_WAVE_ANNOTATION]
        .as_str()
        .and_then(|w| w.parse().ok())
}

/// Kinds that must be applied, and healthy, before others in one Application.
const BEFORE: &[(&str, &[&str])] = &[
    (
        "Namespace",
        &[
            "NetworkPolicy",
            "ServiceAccount",
            "Deployment",
            "Rollout",
            "Service",
        ],
    ),
    (
        "ValidatingAdmissionPolicy",
        &["ValidatingAdmissionPolicyBinding", "Deployment", "Rollout"],
    ),
    (
        "ValidatingAdmissionPolicyBinding",
        &["Deployment", "Rollout"],
    ),
    ("NetworkPolicy", &["Deployment", "Rollout"]),
    ("PeerAuthentication", &["Deployment", "Rollout"]),
    ("AuthorizationPolicy", &["Deployment", "Rollout"]),
    ("Sidecar", &["Deployment", "Rollout"]),
    ("ServiceAccount", &["Deployment"]),
    ("ConfigMap", &["Deployment"]),
    ("PrometheusRule", &["Rollout"]),
    ("AnalysisTemplate", &["Rollout"]),
    ("DestinationRule", &["VirtualService", "Rollout"]),
    ("VirtualService", &["Rollout"]),
    (
        "Deployment",
        &["HorizontalPodAutoscaler", "PodDisruptionBudget"],
    ),
    (
        "Rollout",
        &["HorizontalPodAutoscaler", "PodDisruptionBudget"],
    ),
];

/// Everything wrong with the Argo CD objects of one build, in `tree` (its whole build's).
fn failures(case: &Case, tree: &Tree) -> Vec<String> {
    let mut out = Vec::new();
    let platform = &case.platform;
    let prefix = &case.prefix;
    let output = platc::output(platform, Scope::All).expect("the set validates");
    // Every cluster object of the build but the Argo CD ones, by tree path, with its part.
    let mut objects: BTreeMap<String, Part> = BTreeMap::new();
    for item in output.items() {
        if let Some(id) = item.id()
            && !item.path.starts_with("argocd/")
        {
            let part = Part::of(&item.owner, id.api_version);
            objects.insert(format!("{prefix}{}", item.path), part);
        }
    }
    let read = |path: &str| tree.get(path).map_or(Value::Null, |t| yaml(t));

    let Some(argocd) = &platform.delivery.argocd else {
        for path in objects.keys() {
            if wave(&read(path)).is_some() {
                out.push(format!("{path}: a sync wave without `argocd`"));
            }
        }
        if tree
            .keys()
            .any(|p| p.starts_with(&format!("{prefix}argocd/")))
        {
            out.push(format!("{prefix}argocd/ without `argocd`"));
        }
        return out;
    };
    let namespace = argocd.namespace.value.as_str();
    // The tree's root is the repository's `path`; this build's tree is under it.
    let tree_dir = |repo: &str| -> Option<String> {
        if repo == argocd.path.value {
            Some(String::new())
        } else {
            repo.strip_prefix(&format!("{}/", argocd.path.value))
                .map(str::to_owned)
        }
    };

    // The project, beside the Applications.
    let project_path = format!("{prefix}argocd/project.yaml");
    let project = read(&project_path);
    if str_at(&project, &["kind"]) != "AppProject"
        || str_at(&project, &["metadata", "namespace"]) != namespace
    {
        out.push(format!("{project_path}: no AppProject in `{namespace}`"));
    }
    let admitted_namespaces: BTreeSet<&str> = project["spec"]["destinations"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter(|d| str_at(d, &["server"]) == "https://kubernetes.default.svc")
        .map(|d| str_at(d, &["namespace"]))
        .collect();
    let whitelist = |key: &str| -> BTreeSet<(String, String)> {
        project["spec"][key]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|gk| {
                (
                    str_at(gk, &["group"]).to_owned(),
                    str_at(gk, &["kind"]).to_owned(),
                )
            })
            .collect()
    };
    let cluster_kinds = whitelist("clusterResourceWhitelist");
    let namespaced_kinds = whitelist("namespaceResourceWhitelist");
    let repos: Vec<&str> = project["spec"]["sourceRepos"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();

    // The root: the project and the Applications, nothing else.
    let root_path = format!("{prefix}argocd/root.yaml");
    let root = read(&root_path);
    let applications_dir = format!("{prefix}argocd/applications/");
    let mut root_reads = BTreeSet::new();
    match tree_dir(str_at(&root, &["spec", "source", "path"])) {
        Some(dir) if dir == format!("{prefix}argocd") => {
            root_reads.extend(read_by(
                tree,
                &dir,
                str_at(&root, &["spec", "source", "directory", "include"]),
            ));
        }
        _ => out.push(format!("{root_path}: its path is not {prefix}argocd/")),
    }
    let wanted: BTreeSet<String> = tree
        .keys()
        .filter(|p| p.starts_with(&applications_dir) || **p == project_path)
        .cloned()
        .collect();
    if root_reads != wanted {
        out.push(format!(
            "{root_path} reads {root_reads:?}, not the project and the Applications {wanted:?}"
        ));
    }
    if str_at(&root, &["spec", "destination", "namespace"]) != namespace {
        out.push(format!("{root_path}: its destination is not `{namespace}`"));
    }

    // Each Application.
    let mut deployed_by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut plugin_parts: BTreeMap<Part, Vec<String>> = BTreeMap::new();
    let mut namespaces_used = BTreeSet::new();
    let mut app_waves: Vec<(Part, i64)> = Vec::new();
    // Every Application's ignored fields, by (kind, namespace, name); and each weighted route a
    // Rollout names in a `VirtualService` of another namespace (`<name>.<namespace>`, a
    // gateway's host), which another Application deploys: resolved after the loop.
    let mut all_ignores: Vec<(String, Option<String>, String, Vec<String>)> = Vec::new();
    let mut elsewhere: Vec<(String, Option<String>, String, String)> = Vec::new();
    let project_wave = wave(&project).unwrap_or(i64::MAX);
    for (path, text) in tree.range(applications_dir.clone()..) {
        if !path.starts_with(&applications_dir) {
            break;
        }
        let app = yaml(text);
        let name = str_at(&app, &["metadata", "name"]).to_owned();
        let here = |what: &str| format!("{path} ({name}): {what}");
        if str_at(&app, &["kind"]) != "Application"
            || str_at(&app, &["metadata", "namespace"]) != namespace
        {
            out.push(here("not an Application in Argo CD's namespace"));
        }
        if str_at(&app, &["spec", "project"]) != str_at(&project, &["metadata", "name"]) {
            out.push(here("its project is not the platform's"));
        }
        let source = &app["spec"]["source"];
        if !repos.contains(&str_at(source, &["repoURL"])) {
            out.push(here("the project does not admit its repository"));
        }
        let destination = &app["spec"]["destination"];
        if str_at(destination, &["server"]) != "https://kubernetes.default.svc"
            || !admitted_namespaces.contains(str_at(destination, &["namespace"]))
        {
            out.push(here("the project does not admit its destination"));
        }
        namespaces_used.insert(str_at(destination, &["namespace"]).to_owned());

        // What it deploys.
        let deployed: Vec<String> = match argocd.source.value {
            ArgoSource::Out => {
                let Some(dir) = tree_dir(str_at(source, &["path"])) else {
                    out.push(here("its path is outside the tree"));
                    continue;
                };
                if dir != prefix.trim_end_matches('/') {
                    out.push(here("its path is not this build's tree"));
                }
                let files = read_by(tree, &dir, str_at(source, &["directory", "include"]));
                if source["directory"]["recurse"].as_bool() != Some(true) {
                    out.push(here("its directory is not read recursively"));
                }
                for file in &files {
                    if !objects.contains_key(file) {
                        out.push(here(&format!(
                            "reads {file}, which is no cluster object of this build"
                        )));
                    } else if object(&read(file)).is_none() {
                        out.push(here(&format!(
                            "reads {file}, which does not parse as an object"
                        )));
                    }
                }
                files
            }
            ArgoSource::Plugin => {
                let plugin = &source["plugin"];
                let parameters: BTreeMap<&str, &str> = plugin["parameters"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .map(|p| (str_at(p, &["name"]), str_at(p, &["string"])))
                    .collect();
                if str_at(plugin, &["name"]) != cmp::PLUGIN_NAME {
                    out.push(here("its plugin is not platc's"));
                }
                if parameters.get(cmp::PARAM_ENV).copied() != platform.env.as_deref() {
                    out.push(here("its `env` parameter is not this build's environment"));
                }
                let holds_kdl = format!("{}/", str_at(source, &["path"]));
                let expected_dir = argocd.path.value.rsplit_once('/').map_or(".", |(p, _)| p);
                if str_at(source, &["path"]) != expected_dir
                    || (expected_dir != "." && !argocd.path.value.starts_with(&holds_kdl))
                {
                    out.push(here("its path is not the directory holding platform.kdl"));
                }
                let part = match parameters.get(cmp::PARAM_PART).copied() {
                    Some(cmp::PART_PLATFORM) => Part::Platform,
                    Some(cmp::PART_EDGE) => Part::Edge,
                    Some(service) => Part::Service(service.to_owned()),
                    None => {
                        out.push(here("no `part` parameter"));
                        continue;
                    }
                };
                plugin_parts
                    .entry(part.clone())
                    .or_default()
                    .push(name.clone());
                objects
                    .iter()
                    .filter(|(_, p)| **p == part)
                    .map(|(path, _)| path.clone())
                    .collect()
            }
        };
        let mut deployed_objects = BTreeSet::new();
        let mut waves: BTreeMap<String, Option<i64>> = BTreeMap::new();
        let mut parts = BTreeSet::new();
        for file in &deployed {
            deployed_by
                .entry(file.clone())
                .or_default()
                .push(name.clone());
            if let Some(part) = objects.get(file) {
                parts.insert(part.clone());
            }
            let Some(obj) = object(&read(file)) else {
                continue;
            };
            match &obj.namespace {
                Some(ns) => {
                    if !admitted_namespaces.contains(ns.as_str()) {
                        out.push(here(&format!(
                            "the project does not admit namespace `{ns}` of {file}"
                        )));
                    }
                    if !namespaced_kinds.contains(&(obj.group.clone(), obj.kind.clone())) {
                        out.push(here(&format!(
                            "the project does not admit {}/{} ({file})",
                            obj.group, obj.kind
                        )));
                    }
                    namespaces_used.insert(ns.clone());
                }
                None => {
                    if !cluster_kinds.contains(&(obj.group.clone(), obj.kind.clone())) {
                        out.push(here(&format!(
                            "the project does not admit cluster-scoped {}/{} ({file})",
                            obj.group, obj.kind
                        )));
                    }
                }
            }
            deployed_objects.insert((obj, file.clone()));
            waves.insert(file.clone(), wave(&read(file)));
        }
        if parts.len() > 1 {
            out.push(here(&format!(
                "deploys objects of several parts: {parts:?}"
            )));
        }
        if let Some(part) = parts.into_iter().next() {
            let holds = app["metadata"]["annotations"][HOLDS_WAVES_ANNOTATION].as_str();
            if part == Part::Edge {
                if holds != Some("false") {
                    out.push(here("the edge's health holds back the root's waves"));
                }
                // Its first syncs after an upgrade wait for the platform's prune: the
                // platform's next poll (3 min) and its waves.
                let retrying = retry_seconds(&app["spec"]["syncPolicy"]["retry"]);
                if retrying < 15 * 60 {
                    out.push(here(&format!(
                        "the edge retries a failed sync for {retrying} s, under 15 min"
                    )));
                }
            } else if holds.is_some() {
                out.push(here("its health holds back no wave of the root"));
            }
            app_waves.push((part, wave(&app).unwrap_or(i64::MIN)));
        }

        // What Argo Rollouts owns.
        let ignores: Vec<&Value> = app["spec"]["ignoreDifferences"]
            .as_sequence()
            .into_iter()
            .flatten()
            .collect();
        for ignore in &ignores {
            all_ignores.push((
                str_at(ignore, &["kind"]).to_owned(),
                ignore["namespace"].as_str().map(str::to_owned),
                str_at(ignore, &["name"]).to_owned(),
                ignore["jqPathExpressions"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            ));
            let named = Obj {
                group: str_at(ignore, &["group"]).to_owned(),
                kind: str_at(ignore, &["kind"]).to_owned(),
                namespace: ignore["namespace"].as_str().map(str::to_owned),
                name: str_at(ignore, &["name"]).to_owned(),
            };
            if !deployed_objects.iter().any(|(o, _)| *o == named) {
                out.push(here(&format!(
                    "ignores differences of {named:?}, which it does not deploy"
                )));
            }
        }
        let ignore_of = |kind: &str, name: &str, ns: &Option<String>| {
            ignores.iter().copied().find(|i| {
                str_at(i, &["group"]) == "networking.istio.io"
                    && str_at(i, &["kind"]) == kind
                    && str_at(i, &["name"]) == name
                    && i["namespace"].as_str() == ns.as_deref()
            })
        };
        for (rollout, file) in deployed_objects.iter().filter(|(o, _)| o.kind == "Rollout") {
            let istio = &read(file)["spec"]["strategy"]["canary"]["trafficRouting"]["istio"];
            for vs in istio["virtualServices"].as_sequence().into_iter().flatten() {
                let vs_name = str_at(vs, &["name"]);
                if let Some((name, namespace)) = vs_name.split_once('.') {
                    for route in vs["routes"]
                        .as_sequence()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        elsewhere.push((
                            here(vs_name),
                            Some(namespace.to_owned()),
                            name.to_owned(),
                            route.to_owned(),
                        ));
                    }
                    continue;
                }
                let Some(ignore) = ignore_of("VirtualService", vs_name, &rollout.namespace) else {
                    out.push(here(&format!("no ignoreDifferences for VirtualService {vs_name}, whose weights Argo Rollouts sets")));
                    continue;
                };
                let expressions: Vec<&str> = ignore["jqPathExpressions"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                for route in vs["routes"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    let wanted =
                        format!(".spec.http[] | select(.name == \"{route}\") | .route[].weight");
                    if !expressions.contains(&wanted.as_str()) {
                        out.push(here(&format!(
                            "the weights of route `{route}` of {vs_name} are not ignored"
                        )));
                    }
                }
            }
            let dr = str_at(istio, &["destinationRule", "name"]);
            match ignore_of("DestinationRule", dr, &rollout.namespace) {
                Some(ignore)
                    if ignore["jqPathExpressions"][0].as_str()
                        == Some(".spec.subsets[].labels[\"rollouts-pod-template-hash\"]") => {}
                _ => out.push(here(&format!(
                    "no ignoreDifferences for the subset labels of DestinationRule {dr}"
                ))),
            }
        }

        // The sync policy `platform.kdl` asks for.
        let policy = &app["spec"]["syncPolicy"];
        let automated = &policy["automated"];
        let want_auto = argocd.sync.value == SyncMode::Auto;
        if automated.is_mapping() != want_auto
            || (want_auto
                && (automated["prune"].as_bool() != Some(argocd.prune.value)
                    || automated["selfHeal"].as_bool() != Some(argocd.self_heal.value)))
        {
            out.push(here(
                "its automated sync is not the one platform.kdl asks for",
            ));
        }
        let finalizer = app["metadata"]["finalizers"]
            .as_sequence()
            .is_some_and(|f| {
                f.iter()
                    .any(|f| f.as_str() == Some("resources-finalizer.argocd.argoproj.io"))
            });
        if finalizer != argocd.prune.value {
            out.push(here("its resources finalizer does not follow `prune`"));
        }
        let options: Vec<&str> = policy["syncOptions"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if options
            .iter()
            .any(|o| o.starts_with("CreateNamespace=true"))
        {
            out.push(here(
                "it creates namespaces the platform's Application makes",
            ));
        }

        // Within the Application, the kinds that must come first do.
        for (first, first_file) in &deployed_objects {
            for (then, file) in &deployed_objects {
                let must = BEFORE
                    .iter()
                    .any(|(a, bs)| *a == first.kind && bs.contains(&then.kind.as_str()));
                let (Some(a), Some(b)) = (waves[first_file], waves[file]) else {
                    continue;
                };
                if must && a >= b {
                    out.push(here(&format!(
                        "{} {} (wave {a}) is not before {} {} (wave {b})",
                        first.kind, first.name, then.kind, then.name
                    )));
                }
            }
        }
    }

    for (at, namespace, name, route) in &elsewhere {
        let wanted = format!(".spec.http[] | select(.name == \"{route}\") | .route[].weight");
        if !all_ignores.iter().any(|(k, ns, n, expressions)| {
            k == "VirtualService" && ns == namespace && n == name && expressions.contains(&wanted)
        }) {
            out.push(format!(
                "{at}: no Application ignores the weights of route `{route}` of {name} in {namespace:?}, which Argo Rollouts sets"
            ));
        }
    }

    // Every object exactly once; with the plugin, every part exactly once.
    for path in objects.keys() {
        match deployed_by.get(path).map_or(0, Vec::len) {
            1 => {}
            0 => out.push(format!("{path} is deployed by no Application")),
            _ => out.push(format!(
                "{path} is deployed by several Applications: {:?}",
                deployed_by[path]
            )),
        }
    }
    for (part, apps) in &plugin_parts {
        if apps.len() > 1 {
            out.push(format!("part {part:?} has several Applications: {apps:?}"));
        }
    }

    // The project admits exactly what is deployed.
    let used_namespaces: BTreeSet<&str> = namespaces_used.iter().map(String::as_str).collect();
    if admitted_namespaces != used_namespaces {
        out.push(format!(
            "{project_path} admits the namespaces {admitted_namespaces:?}, not {used_namespaces:?}"
        ));
    }
    // Every kind platc deploys, used here or not: Argo CD prunes no object whose kind its
    // project does not admit, so a project narrowed with the platform would strand the last
    // object of a kind the platform stopped using.
    let admitted_kinds: BTreeSet<(bool, String, String)> = cluster_kinds
        .iter()
        .map(|(g, k)| (false, g.clone(), k.clone()))
        .chain(
            namespaced_kinds
                .iter()
                .map(|(g, k)| (true, g.clone(), k.clone())),
        )
        .collect();
    if admitted_kinds != *platc_kinds() {
        out.push(format!(
            "{project_path} admits {admitted_kinds:?}, not every kind platc deploys {:?}",
            platc_kinds()
        ));
    }

    // The root's waves: the project, the platform, the services, the edge.
    for (part, app_wave) in &app_waves {
        if *app_wave <= project_wave {
            out.push(format!(
                "the Application of {part:?} is not after the project"
            ));
        }
        for (other, other_wave) in &app_waves {
            let service = matches!(other, Part::Service(_));
            if *part == Part::Platform && service && app_wave >= other_wave {
                out.push(format!(
                    "the platform's Application is not before {other:?}'s"
                ));
            }
            if *part == Part::Edge && service && app_wave > other_wave {
                out.push(format!("the edge's Application waits on {other:?}'s"));
            }
        }
    }
    // The Lua that makes the annotation so, where the tree installs Argo CD.
    let values = format!("{prefix}helm/addons/argo-cd.values.yaml");
    if let Some(text) = tree.get(&values) {
        let lua =
            yaml(text)["configs"]["cm"]["resource.customizations.health.argoproj.io_Application"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        let test = format!(
            "if obj.metadata.annotations ~= nil and \
             obj.metadata.annotations[\"{HOLDS_WAVES_ANNOTATION}\"] == \"false\" then\n  \
             hs.status = \"Healthy\""
        );
        if !lua.starts_with("hs = {}") || !lua.contains(&test) {
            out.push(format!(
                "{values}: the Application health does not read {HOLDS_WAVES_ANNOTATION}"
            ));
        }
    }

    // Every object in a wave, never decreasing along the apply order of `platc render`.
    let stream = platc::output(platform, Scope::Cluster)
        .expect("the set validates")
        .into_cluster_objects();
    let mut last = (i64::MIN, String::new());
    for item in &stream {
        let path = format!("{prefix}{}", item.path);
        let Some(w) = wave(&read(&path)) else {
            out.push(format!("{path}: no sync wave"));
            continue;
        };
        if w < last.0 {
            out.push(format!(
                "{path} (wave {w}) comes after {} (wave {}) in apply order",
                last.1, last.0
            ));
        }
        last = (w, path);
    }
    out
}

/// Every kind (namespaced, group, kind) of a cluster object any built tree deploys, with or
/// without `argocd`: the kinds platc makes, as far as the trees show them.
fn platc_kinds() -> &'static BTreeSet<(bool, String, String)> {
    static KINDS: OnceLock<BTreeSet<(bool, String, String)>> = OnceLock::new();
    KINDS.get_or_init(|| {
        let mut kinds = BTreeSet::new();
        for (_, cases) in trees() {
            for case in &cases {
                let output = platc::output(&case.platform, Scope::All).expect("the set validates");
                for item in output.items() {
                    if let Some(id) = item.id()
                        && !item.path.starts_with("argocd/")
                    {
                        kinds.insert((
                            id.namespace.is_some(),
                            group(id.api_version).to_owned(),
                            id.kind.to_owned(),
                        ));
                    }
                }
            }
        }
        kinds
    })
}

fn all_failures(tree: &Tree, cases: &[Case]) -> Vec<String> {
    cases
        .iter()
        .flat_map(|case| {
            failures(case, tree)
                .into_iter()
                .map(move |f| format!("{}: {f}", case.name))
        })
        .collect()
}

#[test]
fn every_application_deploys_exactly_its_part_within_its_project() {
    let mut with_argocd = Vec::new();
    let mut problems = Vec::new();
    for (tree, cases) in trees() {
        for case in &cases {
            if let Some(argocd) = &case.platform.delivery.argocd {
                with_argocd.push((case.name.clone(), argocd.source.value));
            }
        }
        problems.extend(all_failures(&tree, &cases));
    }
    // The reference platform, its environment, and both kinds of source are covered.
    for name in ["online-boutique", "online-boutique/env/staging"] {
        assert!(
            with_argocd.iter().any(|(n, _)| n == name),
            "{name} has no argocd"
        );
    }
    for source in [ArgoSource::Out, ArgoSource::Plugin] {
        assert!(
            with_argocd.iter().any(|(_, s)| *s == source),
            "no tree with {source:?}"
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The Applications are made a lot of 256 at a time (`argocd::LOT`): a platform of 300
/// services crosses the seam, and still every service has one Application, every object is
/// deployed by exactly one, and the root reads them all in order.
#[test]
fn applications_made_in_lots_deploy_every_part_across_a_seam() {
    const SERVICES: usize = 300;
    let mut text = String::from(
        "platform lots {\n    mesh istio mtls=strict\n    delivery {\n        argocd \
         repo=\"https://github.com/acme/lots.git\" path=out revision=main\n    }\n",
    );
    for i in 0..SERVICES {
        writeln!(
            text,
            "    service svc-{i:03} {{\n        image \"ghcr.io/acme/svc\" tag=\"v1.0.0\"\n        \
             port grpc 7070\n        probe grpc\n    }}"
        )
        .unwrap();
    }
    text.push_str("}\n");
    let source = Source::new("platform.kdl", text);
    let options = Options {
        env: None,
        keep_envs: false,
    };
    let platform = compile(&source, &options).platform.expect("compiles");
    let tree = platc::build_full_tree(&source, &platform).expect("builds");
    let applications: Vec<&String> = tree
        .keys()
        .filter(|path| path.starts_with("argocd/applications/"))
        .collect();
    // Each service's and the platform's.
    assert_eq!(applications.len(), SERVICES + 1);
    for i in [0, 255, 256, SERVICES - 1] {
        let path = format!("argocd/applications/lots-svc-{i:03}.yaml");
        assert!(tree.contains_key(&path), "no {path}");
    }
    let case = Case {
        name: "lots".to_owned(),
        platform,
        prefix: String::new(),
    };
    let problems = all_failures(&tree, &[case]);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------------------------------------------
// Planted faults: each must be caught.

fn reference() -> (Tree, Vec<Case>) {
    load(reference_dir())
}

fn planted(path: &str, from: &str, to: &str) -> Vec<String> {
    let (mut tree, cases) = reference();
    let text = tree.get_mut(path).unwrap_or_else(|| panic!("no {path}"));
    assert!(text.contains(from), "{path} does not contain `{from}`");
    *text = text.replacen(from, to, 1);
    all_failures(&tree, &cases)
}

fn caught(failures: &[String], needle: &str) {
    assert!(
        failures.iter().any(|f| f.contains(needle)),
        "`{needle}` was not reported; got:\n{}",
        failures.join("\n")
    );
}

#[test]
fn a_directory_left_out_of_an_include_is_caught() {
    let f = planted(
        "argocd/applications/online-boutique-frontend.yaml",
        "istio/services/frontend/*.yaml,",
        "",
    );
    caught(
        &f,
        "istio/services/frontend/virtualservice.yaml is deployed by no Application",
    );
}

#[test]
fn an_include_that_reaches_other_files_is_caught() {
    let f = planted(
        "argocd/applications/online-boutique-platform.yaml",
        "{istio/gateways/*.yaml,",
        "{*/gateways/*.yaml,monitoring/*.yaml,",
    );
    // The environment's tree, and the plain rules files.
    caught(&f, "reads env/staging/istio/gateways/public/gateway.yaml");
    caught(&f, "reads monitoring/prometheus/rules/");
}

#[test]
fn an_object_two_applications_deploy_is_caught() {
    let f = planted(
        "argocd/applications/online-boutique-frontend.yaml",
        "istio/services/frontend/*.yaml,",
        "istio/services/frontend/*.yaml,istio/services/cartservice/*.yaml,",
    );
    caught(&f, "deployed by several Applications");
}

#[test]
fn a_namespace_the_project_does_not_admit_is_caught() {
    let f = planted(
        "argocd/project.yaml",
        "      namespace: cartservice\n",
        "      namespace: cartservices\n",
    );
    caught(&f, "does not admit namespace `cartservice`");
}

#[test]
fn a_kind_the_project_does_not_admit_is_caught() {
    let f = planted("argocd/project.yaml", "kind: Rollout", "kind: Rollouts");
    caught(&f, "does not admit argoproj.io/Rollout");
}

/// The reference platform runs no migration `Job`; its project admits the kind all the same,
/// or the last `Job` of a platform that stopped running one would never be pruned.
#[test]
fn a_project_narrowed_to_the_kinds_in_use_is_caught() {
    let f = planted(
        "argocd/project.yaml",
        "    - group: batch\n      kind: Job\n",
        "",
    );
    caught(&f, "not every kind platc deploys");
}

#[test]
fn a_route_argo_cd_would_fight_over_is_caught() {
    let f = planted(
        "argocd/applications/online-boutique-checkoutservice.yaml",
        "select(.name == \\\"primary\\\")",
        "select(.name == \\\"secondary\\\")",
    );
    caught(
        &f,
        "the weights of route `primary` of checkoutservice are not ignored",
    );
    let f = planted(
        "argocd/applications/online-boutique-paymentservice.yaml",
        "      kind: DestinationRule\n      name: paymentservice",
        "      kind: DestinationRule\n      name: paymentservice-old",
    );
    caught(&f, "which it does not deploy");
    caught(
        &f,
        "no ignoreDifferences for the subset labels of DestinationRule paymentservice",
    );
}

#[test]
fn a_wave_out_of_order_is_caught() {
    let f = planted(
        "rollouts/checkoutservice/guard-first-binding.yaml",
        "argocd.argoproj.io/sync-wave: \"1\"",
        "argocd.argoproj.io/sync-wave: \"7\"",
    );
    caught(
        &f,
        "ValidatingAdmissionPolicyBinding platc-canary-checkoutservice-checkoutservice-first (wave 7) is not before Deployment",
    );
    caught(&f, "in apply order");
}

#[test]
fn a_root_that_reads_itself_or_misses_the_project_is_caught() {
    let f = planted(
        "argocd/root.yaml",
        "{project.yaml,applications/*.yaml}",
        "{root.yaml,applications/*.yaml}",
    );
    caught(&f, "not the project and the Applications");
    let f = planted(
        "argocd/applications/online-boutique-platform.yaml",
        "argocd.argoproj.io/sync-wave: \"1\"",
        "argocd.argoproj.io/sync-wave: \"2\"",
    );
    caught(&f, "the platform's Application is not before");
}

#[test]
fn an_edge_a_wave_waits_on_is_caught() {
    let edge = "argocd/applications/online-boutique-edge.yaml";
    let f = planted(edge, "    platc.dev/holds-waves: \"false\"\n", "");
    caught(&f, "the edge's health holds back the root's waves");
    let f = planted(
        "helm/addons/argo-cd.values.yaml",
        "[\"platc.dev/holds-waves\"]",
        "[\"platc.dev/hold-waves\"]",
    );
    caught(
        &f,
        "the Application health does not read platc.dev/holds-waves",
    );
    let f = planted(edge, "limit: 10", "limit: 5");
    caught(&f, "the edge retries a failed sync for 310 s, under 15 min");
    // After the services, it would wait on every one of them.
    let f = planted(
        edge,
        "argocd.argoproj.io/sync-wave: \"1\"",
        "argocd.argoproj.io/sync-wave: \"3\"",
    );
    caught(
        &f,
        "the edge's Application waits on Service(\"frontend\")'s",
    );
    // A certificate deployed with the platform's objects: its wave would hold the routes.
    let f = planted(
        "argocd/applications/online-boutique-platform.yaml",
        "{istio/gateways/*.yaml,",
        "{istio/edge/certificate-public.yaml,istio/gateways/*.yaml,",
    );
    caught(&f, "deploys objects of several parts: {Platform, Edge}");
    caught(
        &f,
        "istio/edge/certificate-public.yaml is deployed by several Applications",
    );
}

#[test]
fn a_sync_policy_other_than_the_platform_asks_is_caught() {
    let f = planted(
        "argocd/applications/online-boutique-adservice.yaml",
        "selfHeal: true",
        "selfHeal: false",
    );
    caught(
        &f,
        "its automated sync is not the one platform.kdl asks for",
    );
}

/// A platform whose Applications use the plugin, on a cluster platc installs Argo CD on.
const PLUGIN_ON_AWS: &str = r#"platform shop {
    aws region=us-east-1 account="123456789012" {
        vpc cidr="10.0.0.0/16" zones=2
        cluster shop version="1.33" {
            node-group general instance=m6i.large min=2 max=4
        }
    }
    delivery {
        argocd repo="https://github.com/acme/shop.git" source=plugin PLUGIN_IMAGE
    }
    service web {
        image "ghcr.io/acme/web" tag="v1.0.0"
        port http 8080 protocol=http
    }
}
"#;

#[test]
fn the_argo_cd_platc_installs_runs_the_plugin_the_applications_name() {
    let source = PLUGIN_ON_AWS.replace(
        "PLUGIN_IMAGE",
        r#"plugin-image="registry.example.com/platc-cmp:0.1.0""#,
    );
    let platform = compile(&Source::new("platform.kdl", source), &Options::default())
        .platform
        .expect("compiles");
    let output = platc::output(&platform, Scope::All).expect("valid");
    let values = output
        .items()
        .iter()
        .find(|i| i.path == "helm/addons/argo-cd.values.yaml")
        .and_then(|i| match &i.body {
            platc::output::Body::Text(text) => serde_yaml::from_str::<serde_json::Value>(text).ok(),
            _ => None,
        })
        .expect("the argo-cd add-on's values, as YAML");
    let sidecar = &values["repoServer"]["extraContainers"][0];
    assert_eq!(sidecar["image"], "registry.example.com/platc-cmp:0.1.0");
    assert_eq!(sidecar["command"][0], "/var/run/argocd/argocd-cmp-server");
    // The plugin the sidecar serves is the one the Applications name, with their parameters.
    let plugin = &values["configs"]["cmp"]["plugins"][cmp::PLUGIN_NAME];
    assert_eq!(plugin["discover"]["fileName"], cmp::DISCOVER_FILE);
    let params: BTreeSet<&str> = plugin["parameters"]["static"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        params,
        BTreeSet::from([cmp::PARAM_ENV, cmp::PARAM_PART, cmp::PARAM_STABLE])
    );
    // The pins platc relies on stay beside it.
    assert_eq!(values["fullnameOverride"], "argocd");

    // Without the image, the sidecar could not run: an error, not a repo-server that never
    // becomes ready.
    let broken = PLUGIN_ON_AWS.replace("PLUGIN_IMAGE", "");
    let failed = compile(&Source::new("platform.kdl", broken), &Options::default());
    assert!(failed.platform.is_none());
    let codes: Vec<&str> = failed.diagnostics.iter().map(|d| d.kind.code()).collect();
    assert_eq!(codes, ["platc::missing-property"]);
}

#[test]
fn an_ingress_route_argo_cd_would_fight_over_is_caught() {
    // The ingress VirtualService of a canary is the platform Application's: its weighted route
    // must be ignored there.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/argocd-out");
    let (mut tree, cases) = load((
        "argocd-out".into(),
        root.join("platform.kdl"),
        root.join("expected"),
    ));
    assert!(
        all_failures(&tree, &cases).is_empty(),
        "argocd-out is not clean"
    );
    let path = "argocd/applications/shop-platform.yaml";
    let text = tree.get_mut(path).unwrap_or_else(|| panic!("no {path}"));
    let from = "select(.name == \\\"web-primary\\\")";
    assert!(text.contains(from), "{path} does not contain `{from}`");
    *text = text.replacen(from, "select(.name == \\\"web-secondary\\\")", 1);
    caught(
        &all_failures(&tree, &cases),
        "no Application ignores the weights of route `web-primary`",
    );
}
