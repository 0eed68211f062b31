//! Argo CD, derived from the output set: the `AppProject` of the platform, an `Application` per
//! part (the platform-wide and per-namespace objects, each service's, and the edge's: the
//! gateways' certificates and their issuer), and the root Application (the app of apps) a
//! user applies once by hand.
//!
//! Input: the checked platform (`delivery { argocd … }`) and the set the other targets made,
//! read by owner and identity, never re-derived. Output: `argocd/project.yaml`,
//! `argocd/applications/<application>.yaml` and `argocd/root.yaml`. Invariants: every cluster
//! object of the set is deployed by exactly one Application, and with `source=out` no other
//! file of the tree is read by one (`include`); the project admits exactly the namespaces the
//! set has, and every kind platc deploys; the platform's Application is synced, and healthy,
//! before the services' (sync waves of the root; the add-on table pins the health of an
//! `Application`, which Argo CD stopped assessing in 1.8). The edge's Application is synced
//! beside the platform's, but its health holds back no wave (`addons::HOLDS_WAVES_ANNOTATION`):
//! it waits on Let's Encrypt and DNS (`output::on_the_edge`), and a wave that waited on it could
//! hold back every service of a first install, or the root's prune.
//!
//! The sync options, each for a reason:
//! - `PruneLast=true`: what the platform no longer declares is deleted after everything else
//!   is applied and healthy, so that a renamed object is replaced before the old one goes;
//! - `FailOnSharedResource=true`: each object belongs to one Application by construction; one
//!   that another Application already manages is a mistake to stop at, not to fight over;
//! - `ApplyOutOfSyncOnly=true` where Argo Rollouts owns fields (`ignoreDifferences`): a sync
//!   started by another change leaves the routes and subsets alone instead of resetting the
//!   weights of a canary in flight (Argo Rollouts: "Integrating with `GitOps`");
//! - not `RespectIgnoreDifferences=true`: for a custom resource Argo CD copies an ignored field
//!   back from the cluster by a JSON merge patch (`controller/sync.go`,
//!   `normalizeTargetResources`, v3.1), which carries a whole list: the route list of a
//!   `VirtualService` would stay as the cluster has it, and a change to a route's timeout or
//!   retries in `platform.kdl` would never be applied (argoproj/argo-cd#17694);
//! - not `CreateNamespace=true`: the platform's Application makes every namespace, with the
//!   labels for sidecar injection and Pod Security; a namespace Argo CD made on its own would
//!   have neither.
//!
//! Failed syncs are retried with a backoff: on a new cluster the first sync can race the
//! admission webhooks and controllers the cluster stage just installed.

mod include;
mod spec;

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::emit::conventions::{
    ROOT_NAMESPACE, argocd_application, argocd_root, cmp, common_labels, origin_annotation,
    tree_in_repository,
};
use crate::model::Checked;
use crate::model::addons::HOLDS_WAVES_ANNOTATION;
use crate::model::mesh::{ArgoCd, ArgoSource, SyncMode};
use crate::output::{IdRef, Item, Owner, Resource, SYNC_WAVE_ANNOTATION, Summary, on_the_edge};
use crate::span::Span;
use include::{Part, Tree};
use spec::{
    API_VERSION, APPLICATION, ApplicationSpec, Automated, Backoff, Destination, Directory,
    GroupKind, IN_CLUSTER, IgnoreDifference, PROJECT, Parameter, Plugin, ProjectSpec,
    RESOURCES_FINALIZER, Retry, Source, SyncPolicy,
};

/// The root's sync waves: the project, then the platform's Application and the edge's (whose
/// certificates need none of the services), then the services'.
const PROJECT_WAVE: u8 = 0;
const PLATFORM_WAVE: u8 = 1;
const EDGE_WAVE: u8 = PLATFORM_WAVE;
const SERVICE_WAVE: u8 = 2;

/// Where the files are, under the tree (and under `argocd/`).
const DIR: &str = "argocd";
const PROJECT_FILE: &str = "project.yaml";
const APPLICATIONS_DIR: &str = "applications";
const ROOT_FILE: &str = "root.yaml";

/// How many Applications are made at a time, each lot handed on before the next is made: at
/// 10,000 services the 10,000 typed Applications, made at once, were 34 MB at the build's
/// peak.
const LOT: usize = 256;

/// Makes the Applications and then the project and the root, handing them to `hand` a lot at
/// a time (`LOT`), reading `items`: the summary of every item of the set, in its order.
pub fn emit<'a>(
    platform: &Checked,
    items: impl Iterator<Item = &'a Summary>,
    mut hand: impl FnMut(Vec<Item>),
) {
    let Some(argocd) = &platform.delivery.argocd else {
        return;
    };
    let Scan {
        parts,
        tree,
        rollouts,
        admitted,
    } = Scan::new(items, argocd.source.value == ArgoSource::Out);
    let names = Names::new(platform, argocd);
    let fields = rollouts_fields(in_platform_order(platform, rollouts));
    let rollouts = Ignores::new(&fields);

    let mut applications = Vec::new();
    // The platform's Application or the edge's, if the part has objects.
    let shared = |part: Part, name: &'static str, wave: u8| {
        let objects = parts.get(part)?;
        Some(Planned {
            part: name,
            origin: argocd.span,
            owner: Owner::Platform,
            wave,
            edge: part == Part::Edge,
            namespace: shared_namespace(objects, argocd),
            include: tree.as_ref().map(|t| t.include(part, paths(objects))),
            ignore: ignored_in(&rollouts, objects),
        })
    };
    applications.extend(shared(Part::Platform, cmp::PART_PLATFORM, PLATFORM_WAVE));
    applications.extend(shared(Part::Edge, cmp::PART_EDGE, EDGE_WAVE));
    for service in &platform.services {
        let name = service.name.value.as_str();
        let Some(objects) = parts.get(Part::Service(name)) else {
            continue;
        };
        applications.push(Planned {
            part: name,
            origin: service.span,
            owner: Owner::Service(name.to_owned()),
            wave: SERVICE_WAVE,
            edge: false,
            namespace: service.namespace.clone(),
            include: tree
                .as_ref()
                .map(|t| t.include(Part::Service(name), paths(objects))),
            ignore: ignored_in(&rollouts, objects),
        });
    }

    let project = project(platform, argocd, &names, admitted, &applications);
    let mut applications = applications.into_iter();
    loop {
        let lot: Vec<Item> = applications
            .by_ref()
            .take(LOT)
            .map(|planned| application(platform, argocd, &names, planned))
            .collect();
        if lot.is_empty() {
            break;
        }
        hand(lot);
    }
    hand(vec![project, root(platform, argocd, &names)]);
}

/// Whose part an object is: the platform's, the edge's or a service's.
fn part<'a>(item: &'a Summary, id: &IdRef) -> Part<'a> {
    match item.owner() {
        Owner::Service(name) => Part::Service(name.as_str()),
        owner if on_the_edge(owner, id.api_version) => Part::Edge,
        Owner::Platform | Owner::Namespace(_) => Part::Platform,
    }
}

/// The destination namespace of the platform's or the edge's Application. Every object names
/// its namespace; the destination's is only the default, which the project must admit: the
/// mesh's root namespace (mesh-wide policy) when the part has objects there, else the first
/// of its namespaces.
fn shared_namespace(objects: &[&Summary], argocd: &ArgoCd) -> String {
    let namespaces: BTreeSet<&str> = objects
        .iter()
        .filter_map(|i| i.id().and_then(|id| id.namespace))
        .collect();
    if namespaces.contains(ROOT_NAMESPACE) {
        ROOT_NAMESPACE
    } else {
        namespaces
            .first()
            .copied()
            .unwrap_or(argocd.namespace.value.as_str())
    }
    .to_owned()
}

/// What the target reads of the set, in one pass over it (80,000 summaries a tree at 1,000
/// services, 11 MB: each pass a walk through memory, not cache).
struct Scan<'a> {
    parts: Parts<'a>,
    /// With `source=out`, the directories of the set.
    tree: Option<Tree<'a>>,
    /// The `Rollout`s, in the order of the set.
    rollouts: Vec<&'a Summary>,
    /// The namespaces and kinds of the objects.
    admitted: Admitted<'a>,
}

impl<'a> Scan<'a> {
    fn new(items: impl Iterator<Item = &'a Summary>, tree: bool) -> Self {
        let mut scan = Self {
            parts: Parts {
                groups: Vec::new(),
                index: HashMap::new(),
            },
            tree: tree.then(Tree::empty),
            rollouts: Vec::new(),
            admitted: Admitted::default(),
        };
        // The part of the object before, and its place: a part's objects mostly come one
        // after another (a service's, made or kept, then the platform's batch), and a run is
        // looked up once, not each of its objects.
        let mut last: Option<(Part<'a>, usize)> = None;
        for item in items {
            if item.rollout().is_some() {
                scan.rollouts.push(item);
            }
            let Some(id) = item.id() else {
                if let Some(tree) = &mut scan.tree {
                    tree.add(item, None);
                }
                continue;
            };
            let here = part(item, &id);
            scan.admitted.add(id);
            if let Some(tree) = &mut scan.tree {
                tree.add(item, Some(here));
            }
            let at = match last {
                Some((part, at)) if part == here => at,
                _ => {
                    let parts = &mut scan.parts;
                    let groups = &mut parts.groups;
                    let at = *parts.index.entry(here).or_insert_with(|| {
                        groups.push(Vec::new());
                        groups.len() - 1
                    });
                    last = Some((here, at));
                    at
                }
            };
            scan.parts.groups[at].push(item);
        }
        scan
    }
}

/// The namespaces and kinds of the set's objects, as the project admits them.
#[derive(Default)]
struct Admitted<'a> {
    namespaces: BTreeSet<&'a str>,
    cluster: BTreeSet<GroupKind>,
    namespaced: BTreeSet<GroupKind>,
    /// The kinds admitted so far, by the addresses of their texts (API version, kind) and
    /// whether namespaced: an object's kind is nearly always one of these, found without a
    /// comparison of texts (a part's objects are of a dozen kinds, so the one before is
    /// seldom the same).
    seen: Vec<(&'static str, &'static str, bool)>,
    /// The namespace of the object before: a part's objects share one.
    namespace: Option<&'a str>,
}

impl<'a> Admitted<'a> {
    fn add(&mut self, id: IdRef<'a>) {
        let namespace = id.namespace;
        if let Some(namespace) = namespace
            && self.namespace != Some(namespace)
        {
            self.namespace = Some(namespace);
            self.namespaces.insert(namespace);
        }
        let scoped = namespace.is_some();
        let seen = self.seen.iter().any(|&(api_version, kind, namespaced)| {
            std::ptr::eq(api_version, id.api_version)
                && std::ptr::eq(kind, id.kind)
                && namespaced == scoped
        });
        if seen {
            return;
        }
        self.seen.push((id.api_version, id.kind, scoped));
        let kind = GroupKind {
            group: group(&id),
            kind: id.kind,
        };
        if scoped {
            self.namespaced.insert(kind);
        } else {
            self.cluster.insert(kind);
        }
    }
}

/// The cluster objects of the set (the items with an identity), by part, each part's in the
/// order of the set. Looked up by part, never iterated in its own order.
struct Parts<'a> {
    groups: Vec<Vec<&'a Summary>>,
    index: HashMap<Part<'a>, usize>,
}

impl<'a> Parts<'a> {
    /// The objects of `part`, if it has any.
    fn get(&self, part: Part) -> Option<&[&'a Summary]> {
        self.index.get(&part).map(|&at| self.groups[at].as_slice())
    }
}

fn paths<'a>(objects: &'a [&'a Summary]) -> impl Iterator<Item = &'a str> {
    objects.iter().map(|i| i.path())
}

/// The names and places every object of the target shares.
struct Names {
    project: String,
    /// Argo CD's namespace: the Applications and the project live there.
    namespace: String,
    /// The directory of the rendered tree in the repository: `path`, or for an environment
    /// its tree under it (`<path>/env/NAME`, where a whole `platc build` writes it).
    tree: String,
}

impl Names {
    fn new(platform: &Checked, argocd: &ArgoCd) -> Self {
        let tree = tree_in_repository(platform, &argocd.path.value);
        Self {
            project: argocd_root(platform),
            namespace: argocd.namespace.value.clone(),
            tree,
        }
    }
}

/// An Application before it is written.
struct Planned<'a> {
    /// `cmp::PART_PLATFORM`, `cmp::PART_EDGE` or a service's name.
    part: &'a str,
    origin: Span,
    owner: Owner,
    wave: u8,
    /// The edge's: its health holds back no wave of the root, and it retries a failed sync
    /// for longer (`EDGE_RETRIES`).
    edge: bool,
    /// Its destination namespace (every object names its own; the project must admit this).
    namespace: String,
    /// With `source=out`, the glob of its files.
    include: Option<String>,
    ignore: Vec<IgnoreDifference>,
}

/// Metadata of an object of the target, in Argo CD's namespace.
fn metadata(
    platform: &Checked,
    name: String,
    namespace: &str,
    origin: Span,
    wave: Option<u8>,
) -> ObjectMeta {
    let mut annotations = origin_annotation(platform, origin);
    if let Some(wave) = wave {
        annotations.insert(SYNC_WAVE_ANNOTATION.to_owned(), wave.to_string());
    }
    ObjectMeta {
        name: Some(name),
        namespace: Some(namespace.to_owned()),
        labels: Some(common_labels(platform)),
        annotations: Some(annotations),
        ..ObjectMeta::default()
    }
}

fn application(platform: &Checked, argocd: &ArgoCd, names: &Names, planned: Planned) -> Item {
    let name = argocd_application(platform, planned.part);
    let source = match argocd.source.value {
        ArgoSource::Out => Source {
            repo_url: argocd.repo.value.clone(),
            target_revision: argocd.revision.value.clone(),
            path: names.tree.clone(),
            directory: Some(Directory {
                recurse: true,
                include: planned.include.unwrap_or_default(),
            }),
            plugin: None,
        },
        ArgoSource::Plugin => {
            let mut parameters = vec![Parameter {
                name: cmp::PARAM_PART,
                string: planned.part.to_owned(),
            }];
            if let Some(env) = &platform.env {
                parameters.push(Parameter {
                    name: cmp::PARAM_ENV,
                    string: env.clone(),
                });
            }
            Source {
                repo_url: argocd.repo.value.clone(),
                target_revision: argocd.revision.value.clone(),
                path: argocd.plugin_path().to_owned(),
                directory: None,
                plugin: Some(Plugin {
                    name: cmp::PLUGIN_NAME,
                    parameters,
                }),
            }
        }
    };
    let mut sync_options = vec!["PruneLast=true", "FailOnSharedResource=true"];
    if !planned.ignore.is_empty() {
        sync_options.push("ApplyOutOfSyncOnly=true");
    }
    let mut metadata = metadata(
        platform,
        name.clone(),
        &names.namespace,
        planned.origin,
        Some(planned.wave),
    );
    if argocd.prune.value {
        // Pruning an Application (its service left `platform.kdl`) deletes its objects too.
        metadata.finalizers = Some(vec![RESOURCES_FINALIZER.to_owned()]);
    }
    if planned.edge {
        metadata
            .annotations
            .get_or_insert_default()
            .insert(HOLDS_WAVES_ANNOTATION.to_owned(), "false".to_owned());
    }
    Item::resource(
        format!("{DIR}/{APPLICATIONS_DIR}/{name}.yaml"),
        planned.owner,
        planned.origin,
        Resource {
            api_version: API_VERSION,
            kind: APPLICATION,
            metadata,
            spec: ApplicationSpec {
                project: names.project.clone(),
                source,
                destination: Destination {
                    server: IN_CLUSTER,
                    namespace: planned.namespace,
                },
                sync_policy: sync_policy(
                    argocd,
                    sync_options,
                    if planned.edge { EDGE_RETRIES } else { RETRIES },
                ),
                ignore_differences: planned.ignore,
            },
        },
    )
}

/// How many times a failed sync is retried, 10 s after the first failure and twice as long
/// after each next, at most 3 min: some 5 min in all.
const RETRIES: u32 = 5;
/// The edge's: some 20 min. Its first syncs after an upgrade from a platc without the edge
/// fail on `FailOnSharedResource` until the platform's Application, at its next poll, has
/// pruned the certificates it deployed before, after its own waves. Not without end: while an
/// operation retries, Argo CD starts no sync of a newer revision (before 3.2 a retry never
/// takes one either), and a commit that fixes the cause would wait for it.
const EDGE_RETRIES: u32 = 10;

/// The sync policy `platform.kdl` asks for, a failed sync retried `retries` times.
fn sync_policy(argocd: &ArgoCd, sync_options: Vec<&'static str>, retries: u32) -> SyncPolicy {
    SyncPolicy {
        automated: (argocd.sync.value == SyncMode::Auto).then_some(Automated {
            prune: argocd.prune.value,
            self_heal: argocd.self_heal.value,
        }),
        sync_options,
        retry: Retry {
            limit: retries,
            backoff: Backoff {
                duration: "10s",
                factor: 2,
                max_duration: "3m",
            },
        },
    }
}

/// The `Rollout`s of the set (`rollouts`, in its order) in the order of their services in the
/// platform (a service's own in the order given): a rebuild hands on the summaries of the
/// services it kept ahead of the ones it made, and the routes of one gateway `VirtualService`
/// named by two services' Rollouts are listed in this order, as a whole build lists them.
fn in_platform_order<'a>(
    platform: &Checked,
    mut rollouts: Vec<&'a Summary>,
) -> impl Iterator<Item = &'a Summary> {
    if !rollouts.is_empty() {
        let places: HashMap<&str, usize> = platform
            .services
            .iter()
            .enumerate()
            .map(|(place, service)| (service.name.value.as_str(), place))
            .collect();
        // Stable: a service's Rollouts stay in the order they were made.
        rollouts.sort_by_key(|item| match item.owner() {
            Owner::Service(name) => places.get(name.as_str()).copied(),
            Owner::Platform | Owner::Namespace(_) => None,
        });
    }
    rollouts.into_iter()
}

/// What Argo Rollouts changes at run time in the objects a service's `Rollout`s name: the
/// weights of the named routes of each `VirtualService`, and the `rollouts-pod-template-hash`
/// label it adds to both subsets of the `DestinationRule` (Argo Rollouts, "Istio", "Integrating
/// with `GitOps`"; `rollout/trafficrouting/istio/istio.go`). The annotation it adds to the
/// `DestinationRule` needs nothing: Argo CD ignores keys of a map that Git never set. Read from
/// the Rollouts themselves, so the names are the ones Argo Rollouts acts on. A gateway's
/// `VirtualService` of a host is in the gateway's namespace (`<name>.<namespace>`, Argo
/// Rollouts' `GetVirtualServiceNamespaceName`) and deployed with the platform's part.
fn rollouts_fields<'a>(objects: impl Iterator<Item = &'a Summary>) -> Vec<IgnoreDifference> {
    let mut out = Vec::new();
    for item in objects {
        let (Some(rollout), Some(id)) = (item.rollout(), item.id()) else {
            continue;
        };
        let namespace = id.namespace.unwrap_or_default().to_owned();
        let istio = &rollout["spec"]["strategy"]["canary"]["trafficRouting"]["istio"];
        for vs in istio["virtualServices"].as_array().into_iter().flatten() {
            let routes: Vec<String> = vs["routes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|route| {
                    format!(".spec.http[] | select(.name == \"{route}\") | .route[].weight")
                })
                .collect();
            if let Some(reference) = vs["name"].as_str() {
                let mut fields = reference.split('.');
                let name = fields.next().unwrap_or_default();
                let namespace = fields.next().unwrap_or(&namespace);
                out.push(IgnoreDifference {
                    group: "networking.istio.io",
                    kind: "VirtualService",
                    name: name.to_owned(),
                    namespace: namespace.to_owned(),
                    jq_path_expressions: routes,
                });
            }
        }
        if let Some(name) = istio["destinationRule"]["name"].as_str() {
            out.push(IgnoreDifference {
                group: "networking.istio.io",
                kind: "DestinationRule",
                name: name.to_owned(),
                namespace: namespace.clone(),
                jq_path_expressions: vec![
                    ".spec.subsets[].labels[\"rollouts-pod-template-hash\"]".to_owned(),
                ],
            });
        }
    }
    out
}

/// The fields the Rollouts change (`rollouts_fields`), and which of them each object has,
/// by kind, namespace and name: each Application looks up its own objects, instead of
/// searching them for every field of every Rollout.
struct Ignores<'a> {
    all: &'a [IgnoreDifference],
    /// The kinds of those objects (two): most objects are of neither, and are not looked up.
    kinds: Vec<&'static str>,
    by_object: HashMap<(&'a str, &'a str, &'a str), Vec<usize>>,
}

impl<'a> Ignores<'a> {
    fn new(all: &'a [IgnoreDifference]) -> Self {
        let mut by_object: HashMap<_, Vec<usize>> = HashMap::new();
        for (i, ignore) in all.iter().enumerate() {
            let object = (ignore.kind, ignore.namespace.as_str(), ignore.name.as_str());
            by_object.entry(object).or_default().push(i);
        }
        let mut kinds: Vec<&'static str> = all.iter().map(|ignore| ignore.kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        Self {
            all,
            kinds,
            by_object,
        }
    }
}

/// The fields to ignore of the objects one Application deploys, in the order of `ignores`;
/// the routes of one `VirtualService` named by several Rollouts in one entry.
fn ignored_in(ignores: &Ignores, objects: &[&Summary]) -> Vec<IgnoreDifference> {
    if ignores.all.is_empty() {
        return Vec::new();
    }
    let mut deployed: Vec<usize> = objects
        .iter()
        .filter_map(|i| i.id())
        .filter(|id| ignores.kinds.contains(&id.kind))
        .filter_map(|id| {
            let object = (id.kind, id.namespace?, id.name);
            ignores.by_object.get(&object)
        })
        .flatten()
        .copied()
        .collect();
    deployed.sort_unstable();
    deployed.dedup();
    let mut out: Vec<IgnoreDifference> = Vec::new();
    for ignore in deployed.into_iter().map(|i| &ignores.all[i]) {
        match out.iter_mut().find(|o| {
            o.kind == ignore.kind && o.name == ignore.name && o.namespace == ignore.namespace
        }) {
            Some(o) => o
                .jq_path_expressions
                .extend(ignore.jq_path_expressions.iter().cloned()),
            None => out.push(ignore.clone()),
        }
    }
    out
}

/// The API group of an `apiVersion` (`""` for the core group).
fn group(id: &IdRef) -> &'static str {
    id.api_version
        .rsplit_once('/')
        .map_or("", |(group, _)| group)
}

/// The cluster-scoped kinds platc deploys through an Application, by group.
const CLUSTER_KINDS: &[GroupKind] = &[
    GroupKind::of("", "Namespace"),
    GroupKind::of("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    GroupKind::of(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    GroupKind::of("cert-manager.io", "ClusterIssuer"),
    GroupKind::of("storage.k8s.io", "StorageClass"),
];

/// The namespaced kinds platc deploys through an Application, by group.
const NAMESPACED_KINDS: &[GroupKind] = &[
    GroupKind::of("", "ConfigMap"),
    GroupKind::of("", "PersistentVolumeClaim"),
    GroupKind::of("", "Service"),
    GroupKind::of("", "ServiceAccount"),
    GroupKind::of("apps", "Deployment"),
    GroupKind::of("apps", "StatefulSet"),
    GroupKind::of("argoproj.io", "AnalysisTemplate"),
    GroupKind::of("argoproj.io", "Rollout"),
    GroupKind::of("autoscaling", "HorizontalPodAutoscaler"),
    GroupKind::of("batch", "Job"),
    GroupKind::of("cert-manager.io", "Certificate"),
    GroupKind::of("monitoring.coreos.com", "PodMonitor"),
    GroupKind::of("monitoring.coreos.com", "PrometheusRule"),
    GroupKind::of("monitoring.coreos.com", "ServiceMonitor"),
    GroupKind::of("networking.istio.io", "DestinationRule"),
    GroupKind::of("networking.istio.io", "Gateway"),
    GroupKind::of("networking.istio.io", "ServiceEntry"),
    GroupKind::of("networking.istio.io", "Sidecar"),
    GroupKind::of("networking.istio.io", "VirtualService"),
    GroupKind::of("networking.k8s.io", "NetworkPolicy"),
    GroupKind::of("policy", "PodDisruptionBudget"),
    GroupKind::of("secrets-store.csi.x-k8s.io", "SecretProviderClass"),
    GroupKind::of("security.istio.io", "AuthorizationPolicy"),
    GroupKind::of("security.istio.io", "PeerAuthentication"),
    GroupKind::of("security.istio.io", "RequestAuthentication"),
];

/// The `AppProject` of the platform's Applications: its repository, exactly the namespaces
/// of the set, and every kind platc deploys (`CLUSTER_KINDS`, `NAMESPACED_KINDS`, with any
/// kind of the set besides). The kinds are platc's, not the set's: Argo CD neither prunes
/// nor, deleting an Application, deletes a live object whose kind its project does not admit
/// (`controller/state.go`, `getPermittedAppLiveObjects`, v3.1), so a project narrowed with
/// the set would leave the last `Rollout` running beside the `Deployment` that replaced it,
/// or the last `HorizontalPodAutoscaler` scaling a workload that no longer asks for one.
/// A namespace needs no such care: the platform's Application deletes the namespace itself,
/// and the cluster everything in it.
fn project(
    platform: &Checked,
    argocd: &ArgoCd,
    names: &Names,
    admitted: Admitted,
    applications: &[Planned],
) -> Item {
    let Admitted {
        namespaces: mut destinations,
        cluster,
        namespaced,
        ..
    } = admitted;
    destinations.extend(applications.iter().map(|a| a.namespace.as_str()));
    let cluster: BTreeSet<GroupKind> = cluster
        .into_iter()
        .chain(CLUSTER_KINDS.iter().copied())
        .collect();
    let namespaced: BTreeSet<GroupKind> = namespaced
        .into_iter()
        .chain(NAMESPACED_KINDS.iter().copied())
        .collect();
    Item::resource(
        format!("{DIR}/{PROJECT_FILE}"),
        Owner::Platform,
        argocd.span,
        Resource {
            api_version: API_VERSION,
            kind: PROJECT,
            metadata: metadata(
                platform,
                names.project.clone(),
                &names.namespace,
                argocd.span,
                Some(PROJECT_WAVE),
            ),
            spec: ProjectSpec {
                description: format!(
                    "{}, generated by platc from platform.kdl",
                    platform.name.value
                ),
                source_repos: vec![argocd.repo.value.clone()],
                destinations: destinations
                    .into_iter()
                    .map(|namespace| Destination {
                        server: IN_CLUSTER,
                        namespace: namespace.to_owned(),
                    })
                    .collect(),
                cluster_resource_whitelist: cluster.into_iter().collect(),
                namespace_resource_whitelist: namespaced.into_iter().collect(),
            },
        },
    )
}

/// The root Application: it syncs the project and the Applications (`argocd/` without
/// itself), the platform's and the edge's first. It is applied by hand, before any
/// project of the platform exists, so it is in Argo CD's `default` project: a project of its
/// own would have to be applied by hand before it, and could not be narrower in effect, since
/// what the root syncs (an `AppProject`) may admit anything. It has no resources finalizer:
/// deleting it leaves the platform running.
fn root(platform: &Checked, argocd: &ArgoCd, names: &Names) -> Item {
    let name = argocd_root(platform);
    Item::resource(
        format!("{DIR}/{ROOT_FILE}"),
        Owner::Platform,
        argocd.span,
        Resource {
            api_version: API_VERSION,
            kind: APPLICATION,
            metadata: metadata(platform, name, &names.namespace, argocd.span, None),
            spec: ApplicationSpec {
                project: "default".to_owned(),
                source: Source {
                    repo_url: argocd.repo.value.clone(),
                    target_revision: argocd.revision.value.clone(),
                    path: format!("{}/{DIR}", names.tree),
                    directory: Some(Directory {
                        recurse: true,
                        include: format!("{{{PROJECT_FILE},{APPLICATIONS_DIR}/*.yaml}}"),
                    }),
                    plugin: None,
                },
                destination: Destination {
                    server: IN_CLUSTER,
                    namespace: names.namespace.clone(),
                },
                sync_policy: sync_policy(
                    argocd,
                    vec!["PruneLast=true", "FailOnSharedResource=true"],
                    RETRIES,
                ),
                ignore_differences: Vec::new(),
            },
        },
    )
}
