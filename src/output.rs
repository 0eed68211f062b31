//! The output set: everything one build of a platform produces, before it is bytes.
//!
//! Every target adds its items here (`emit::<target>::emit(&Checked, &mut Output)`); validate,
//! encode, write, `render` and `platc why` read the set. An item has its path under `out/`,
//! its owner, the span of `platform.kdl` it came from, and its body: a cluster object with
//! its identity (apiVersion, kind, namespace, name), a JSON document (Terraform, dashboards),
//! or text (HCL, templates, pipelines). Bodies keep their typed values until they are
//! encoded (`encode`): a build's batch once it is made (`emit::emit_in_batches`), `render`'s
//! objects as they enter.

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::emit::conventions::cmp::{PART_EDGE, PART_PLATFORM, SHARED_PARTS};
use crate::model::service::Service;
use crate::span::Span;

mod summary;

pub use summary::{ApiKind, Brief, IdRef, Owners, Summary};

/// Who an item belongs to: the unit it is deployed, reviewed and (later) packaged with.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// The platform as a whole (mesh-wide policy, Terraform, gateways).
    Platform,
    /// One namespace (its Namespace object, its default-deny policies).
    Namespace(String),
    /// One service.
    Service(String),
}

/// The start of the API versions of the edge's kinds: cert-manager's.
const EDGE_API: &str = "cert-manager.io/";

/// Whether an object of `owner` and `api_version` is the edge's: one of the platform's own
/// whose health waits on the world outside the cluster. A cert-manager `Certificate` is
/// Degraded while its ACME order fails (the zone's delegation missing, Let's Encrypt's rate
/// limit reached), and its `ClusterIssuer` while the ACME account cannot register (Argo CD's
/// cert-manager `health.lua`). In the platform's Application either would hold back its later
/// sync waves (the gateways' routes), and with them the services' Applications, on a first
/// install; so the edge has an Application of its own, on whose health no wave waits (the Argo
/// CD target).
pub fn on_the_edge(owner: &Owner, api_version: &str) -> bool {
    *owner == Owner::Platform && api_version.starts_with(EDGE_API)
}

/// What names a cluster object on the API server.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Identity {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

impl Identity {
    /// The rank of its kind in an apply order: namespaces, policies and definitions first,
    /// workloads after what they use, so that `kubectl apply` of the stream succeeds front to
    /// back. The Argo CD sync wave of an object is its rank (`Output::annotate_sync_waves`).
    pub fn apply_rank(&self) -> u8 {
        apply_rank(self.kind)
    }

    /// `Kind/name`, as `kubectl` names an object.
    pub fn kind_name(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// The rank of `kind` in the apply order (`Identity::apply_rank`).
fn apply_rank(kind: &str) -> u8 {
    APPLY_ORDER
        .iter()
        .find(|(kinds, _)| kinds.contains(&kind))
        .map_or(LAST_RANK, |&(_, rank)| rank)
}

/// Kinds by apply rank; every other kind comes last. Argo CD applies the objects of one
/// Application wave by wave, each after the previous one is healthy, and within a wave by its
/// own kind order (gitops-engine `pkg/sync/sync_tasks.go`, Helm's): that order knows only
/// core kinds, and puts every other kind (`ValidatingAdmissionPolicy`, every custom resource)
/// after them all, by name. So the ranks say what must exist first:
///
/// - the namespaces and the canary guards: a guard that is not there when the `Deployment`
///   its `Rollout` takes its pods from is created lets the canary's image through as the first
///   revision (see the Rollouts target); the binding names its policy;
/// - the mesh's policy beside the `NetworkPolicy`s, so that no workload ever runs before the
///   rules that admit (and deny) its traffic;
/// - what workloads read (`ConfigMap`s, claims, the `StorageClass` of a `StatefulSet`'s claims) and what routes and analyses read (Services,
///   subsets, the Prometheus rules an `AnalysisTemplate` queries), then the routes, whose
///   subsets must exist before a route names them;
/// - the workloads (a `Rollout` after the routes and `AnalysisTemplate` it names), then what
///   scales and protects them;
/// - the edge's issuer and certificates in one wave, the last of their Application: a wave
///   waits for the health of the one before, and an issuer's waits on the ACME server, while
///   cert-manager itself retries a certificate whose issuer is not ready yet. The last wave
///   of a sync is done once applied, so an issuer that cannot register yet fails no sync.
const APPLY_ORDER: &[(&[&str], u8)] = &[
    (
        &[
            "Namespace",
            "CustomResourceDefinition",
            "ValidatingAdmissionPolicy",
        ],
        0,
    ),
    (&["ServiceAccount", "ValidatingAdmissionPolicyBinding"], 1),
    (
        &[
            "NetworkPolicy",
            "PeerAuthentication",
            "AuthorizationPolicy",
            "RequestAuthentication",
            "Sidecar",
        ],
        2,
    ),
    (
        &[
            "ConfigMap",
            "Secret",
            "PersistentVolumeClaim",
            "StorageClass",
        ],
        3,
    ),
    (
        &[
            "Service",
            "ServiceEntry",
            "DestinationRule",
            "Gateway",
            "ClusterIssuer",
            "Certificate",
            "AnalysisTemplate",
            "PrometheusRule",
            "PodMonitor",
            "ServiceMonitor",
        ],
        4,
    ),
    // A migration Job (an Argo CD `Sync` hook) completes before the workloads are applied.
    (&["VirtualService", "Job"], 5),
    (&["Deployment", "Rollout", "StatefulSet"], 6),
    (&["HorizontalPodAutoscaler", "PodDisruptionBudget"], 7),
];
const LAST_RANK: u8 = 8;

/// The annotation that puts an object into an Argo CD sync wave.
pub const SYNC_WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";

/// A value the encoder can write both ways: YAML for files and streams, a JSON tree for the
/// schema check. Any serialisable value is one.
pub trait Encode: Send + Sync {
    fn to_yaml(&self) -> String;
    /// `to_yaml`, appended to `out` (which is empty or ends with a line break).
    fn write_yaml(&self, out: &mut String);
    fn to_value(&self) -> serde_json::Value;
    /// Whether its tree surely satisfies a schema, walked as it serialises
    /// (`structural::Node::admits`).
    fn admitted_by(&self, schema: &crate::validate::structural::Node<'_>) -> bool;
}

impl<T: Serialize + Send + Sync> Encode for T {
    fn to_yaml(&self) -> String {
        crate::encode::yaml(self)
    }

    fn write_yaml(&self, out: &mut String) {
        crate::encode::write_yaml(out, self);
    }

    fn to_value(&self) -> serde_json::Value {
        crate::encode::to_value(self)
    }

    fn admitted_by(&self, schema: &crate::validate::structural::Node<'_>) -> bool {
        schema.admits(self)
    }
}

/// The typed value of a cluster object: encodable, with metadata the set can still annotate.
pub trait ObjectValue: Encode {
    fn metadata_mut(&mut self) -> &mut ObjectMeta;
}

/// A Kubernetes object of a k8s-openapi type.
struct K8s<T>(T);

impl<T: Serialize + Send + Sync> Encode for K8s<T> {
    fn to_yaml(&self) -> String {
        crate::encode::yaml(&self.0)
    }

    fn write_yaml(&self, out: &mut String) {
        crate::encode::write_yaml(out, &self.0);
    }

    fn to_value(&self) -> serde_json::Value {
        crate::encode::to_value(&self.0)
    }

    fn admitted_by(&self, schema: &crate::validate::structural::Node<'_>) -> bool {
        schema.admits(&self.0)
    }
}

impl<T: k8s_openapi::Metadata<Ty = ObjectMeta> + Serialize + Send + Sync> ObjectValue for K8s<T> {
    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        self.0.metadata_mut()
    }
}

impl<S: Serialize + Send + Sync> ObjectValue for Resource<S> {
    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// A `ConfigMap` of one key, `key`, whose value is the pretty JSON text of `document` (a
/// Grafana dashboard's, `encode::json_in_field_order`): written as that `ConfigMap` is, byte
/// for byte (a test holds it), but with the JSON laid out in its YAML block as it is
/// written (`encode::yaml::JsonBlock`), not made as a text first and then indented line by
/// line (render of 1,000 services: 25 MB of the stream's 46).
pub struct JsonConfigMap<T> {
    pub metadata: ObjectMeta,
    pub key: String,
    pub document: T,
}

impl<T: Serialize> JsonConfigMap<T> {
    /// The `ConfigMap` it is written as.
    pub fn config_map(&self) -> ConfigMap {
        ConfigMap {
            metadata: self.metadata.clone(),
            data: Some(std::collections::BTreeMap::from([(
                self.key.clone(),
                crate::encode::json_in_field_order(&self.document),
            )])),
            ..ConfigMap::default()
        }
    }
}

/// The fields of a `JsonConfigMap` as `ConfigMap` serialises them, in its order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonConfigMapFields<'a, T> {
    api_version: &'static str,
    kind: &'static str,
    data: JsonConfigMapData<'a, T>,
    metadata: &'a ObjectMeta,
}

/// A `JsonConfigMap`'s `data`: its one key and the block of its document.
struct JsonConfigMapData<'a, T> {
    key: &'a str,
    document: &'a T,
}

impl<T: Serialize> Serialize for JsonConfigMapData<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let block = crate::encode::yaml::JsonBlock(self.document);
        serializer.collect_map(std::iter::once((self.key, block)))
    }
}

impl<T: Serialize + Send + Sync> Encode for JsonConfigMap<T> {
    fn to_yaml(&self) -> String {
        let mut out = String::new();
        self.write_yaml(&mut out);
        out
    }

    fn write_yaml(&self, out: &mut String) {
        crate::encode::write_yaml(
            out,
            &JsonConfigMapFields {
                api_version: <ConfigMap as k8s_openapi::Resource>::API_VERSION,
                kind: <ConfigMap as k8s_openapi::Resource>::KIND,
                data: JsonConfigMapData {
                    key: &self.key,
                    document: &self.document,
                },
                metadata: &self.metadata,
            },
        );
    }

    fn to_value(&self) -> serde_json::Value {
        crate::encode::to_value(&self.config_map())
    }

    fn admitted_by(&self, schema: &crate::validate::structural::Node<'_>) -> bool {
        schema.admits(&self.config_map())
    }
}

impl<T: Serialize + Send + Sync> ObjectValue for JsonConfigMap<T> {
    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// A cluster object: its identity and its typed value.
pub struct Object {
    pub id: Identity,
    pub value: Box<dyn ObjectValue>,
}

impl Object {
    /// Puts the object, when it is in no Argo CD sync wave yet, into the wave of its apply
    /// rank (`Output::annotate_sync_waves`).
    fn annotate_sync_wave(&mut self) {
        let rank = self.id.apply_rank();
        self.value
            .metadata_mut()
            .annotations
            .get_or_insert_default()
            .entry(SYNC_WAVE_ANNOTATION.to_owned())
            .or_insert_with(|| rank.to_string());
    }
}

/// Any custom resource: `apiVersion`, `kind`, metadata and a typed spec. Its identity is read
/// from these fields, so a kind is written once.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource<S> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: S,
}

/// What an item holds.
pub enum Body {
    /// A cluster object, one YAML file.
    Object(Object),
    /// A JSON document (a Terraform module, a dashboard), written as pretty JSON with sorted
    /// keys. Held as a tree: these documents are built as one.
    Json(serde_json::Value),
    /// A YAML document that is not a cluster object (`Chart.yaml`, `values.yaml`).
    Yaml(serde_json::Value),
    /// Text written as it is (HCL, checkov's configuration, templates).
    Text(String),
    /// A cluster object already validated and encoded as it entered the set
    /// (`Scope::Stream`): its identity, and its YAML document introduced by `---`.
    Rendered { id: Identity, yaml: String },
}

/// One item of the set.
pub struct Item {
    /// Where it is written under `out/` (`/`-separated).
    pub path: String,
    pub owner: Owner,
    /// The part of `platform.kdl` it came from.
    pub origin: Span,
    pub body: Body,
}

impl Item {
    /// A Kubernetes object of a k8s-openapi type: its identity read from the type and its
    /// metadata.
    pub fn k8s<T>(path: String, owner: Owner, origin: Span, value: T) -> Self
    where
        T: k8s_openapi::Resource
            + k8s_openapi::Metadata<Ty = ObjectMeta>
            + Serialize
            + Send
            + Sync
            + 'static,
    {
        let meta = value.metadata();
        let id = Identity {
            api_version: T::API_VERSION,
            kind: T::KIND,
            namespace: meta.namespace.clone(),
            name: meta.name.clone().unwrap_or_default(),
        };
        Self::object(path, owner, origin, id, K8s(value))
    }

    /// A custom resource: its identity read from its fields.
    pub fn resource<S: Serialize + Send + Sync + 'static>(
        path: String,
        owner: Owner,
        origin: Span,
        value: Resource<S>,
    ) -> Self {
        let id = Identity {
            api_version: value.api_version,
            kind: value.kind,
            namespace: value.metadata.namespace.clone(),
            name: value.metadata.name.clone().unwrap_or_default(),
        };
        Self::object(path, owner, origin, id, value)
    }

    /// A cluster object with its identity.
    /// A `ConfigMap` of one JSON document, its identity read from its metadata.
    pub fn json_config_map<T: Serialize + Send + Sync + 'static>(
        path: String,
        owner: Owner,
        origin: Span,
        value: JsonConfigMap<T>,
    ) -> Self {
        let id = Identity {
            api_version: <ConfigMap as k8s_openapi::Resource>::API_VERSION,
            kind: <ConfigMap as k8s_openapi::Resource>::KIND,
            namespace: value.metadata.namespace.clone(),
            name: value.metadata.name.clone().unwrap_or_default(),
        };
        Self::object(path, owner, origin, id, value)
    }

    fn object(
        path: String,
        owner: Owner,
        origin: Span,
        id: Identity,
        value: impl ObjectValue + 'static,
    ) -> Self {
        Self {
            path,
            owner,
            origin,
            body: Body::Object(Object {
                id,
                value: Box::new(value),
            }),
        }
    }

    /// A JSON document.
    pub fn json(path: String, owner: Owner, origin: Span, value: serde_json::Value) -> Self {
        Self {
            path,
            owner,
            origin,
            body: Body::Json(value),
        }
    }

    /// A YAML document that is not a cluster object.
    pub fn yaml(path: String, owner: Owner, origin: Span, value: serde_json::Value) -> Self {
        Self {
            path,
            owner,
            origin,
            body: Body::Yaml(value),
        }
    }

    /// A text file.
    pub fn text(path: String, owner: Owner, origin: Span, text: String) -> Self {
        Self {
            path,
            owner,
            origin,
            body: Body::Text(text),
        }
    }

    /// The identity of a cluster object; `None` for files.
    pub fn id(&self) -> Option<&Identity> {
        match &self.body {
            Body::Object(object) => Some(&object.id),
            Body::Rendered { id, .. } => Some(id),
            _ => None,
        }
    }

    /// A cluster object validated and encoded, with its sync wave when `sync_waves`; other
    /// items as they are. The object's typed value is dropped here.
    fn rendered(mut self, sync_waves: bool) -> Result<Self, crate::validate::Invalid> {
        let Body::Object(mut object) = std::mem::replace(&mut self.body, Body::Text(String::new()))
        else {
            return Ok(self);
        };
        if sync_waves {
            object.annotate_sync_wave();
        }
        crate::validate::object(&self.path, &object)?;
        // Encoded into the thread's scratch and copied at its length: grown in place, the
        // text would hold up to twice its length until it is printed (render of 1,000
        // services: 46 MB of text; peak RSS 132 -> 115 MB).
        let yaml = SCRATCH.with_borrow_mut(|scratch| {
            scratch.clear();
            scratch.push_str("---\n");
            object.value.write_yaml(scratch);
            String::from(scratch.as_str())
        });
        self.body = Body::Rendered {
            id: object.id,
            yaml,
        };
        Ok(self)
    }
}

thread_local! {
    /// Where `Item::rendered` encodes an object before copying it out.
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The set (or one batch of a build's), in the order targets added their items.
/// `sort_by_path` and `into_cluster_objects` give the orders the outputs need.
#[derive(Default)]
pub struct Output {
    items: Vec<Item>,
    /// The cluster objects alone are wanted (`platc render`): targets skip the files that
    /// are not cluster objects (rules files, their tests, dashboards' JSON, runbooks).
    cluster_only: bool,
    /// `Some` in `Scope::Stream`: each cluster object is validated and encoded as it enters
    /// the set, so the typed objects of the whole platform are never held at once; `true`
    /// when each goes into a sync wave too.
    render_on_entry: Option<bool>,
    /// The first object that did not validate as it entered, in `Scope::Stream`.
    invalid: Option<crate::validate::Invalid>,
    /// The items wanted: every other item is dropped as it enters, and targets skip making
    /// them (`wants_shared`, `services`).
    selection: Selection,
    /// What the derived targets read of the items already handed on (`drain`).
    drained: Vec<Summary>,
}

impl Output {
    /// An empty set for `scope`.
    pub fn for_scope(scope: crate::emit::Scope) -> Self {
        Self {
            cluster_only: scope != crate::emit::Scope::All,
            ..Self::default()
        }
    }

    /// An empty set that takes the items this one would (its scope, selection and
    /// encoding): a target makes its items into it on another thread, and `absorb` joins them.
    #[must_use]
    pub fn fork(&self) -> Self {
        Self {
            cluster_only: self.cluster_only,
            render_on_entry: self.render_on_entry,
            selection: self.selection.clone(),
            ..Self::default()
        }
    }

    /// Adds the items of `other` (a `fork` of this set) after its own, as if they had
    /// entered it; the first invalid object stays this set's, if it has one.
    pub fn absorb(&mut self, other: Self) {
        self.items.extend(other.items);
        self.drained.extend(other.drained);
        if self.invalid.is_none() {
            self.invalid = other.invalid;
        }
    }

    /// From now on, each cluster object is validated and encoded as it enters (with its
    /// sync wave when `sync_waves`): `Scope::Stream`, which no target reads back.
    pub fn render_on_entry(&mut self, sync_waves: bool) {
        self.render_on_entry = Some(sync_waves);
    }

    /// The first object that did not validate as it entered (`render_on_entry`).
    pub fn take_invalid(&mut self) -> Option<crate::validate::Invalid> {
        self.invalid.take()
    }

    /// A whole build's set of `items` (`emit::emit_in_batches` made them).
    pub fn from_items(items: Vec<Item>) -> Self {
        Self {
            items,
            ..Self::default()
        }
    }

    /// From now on, only the items `selection` holds enter the set. Targets that make an
    /// item for each service ask `services` which to make, and skip the platform's and
    /// namespaces' items unless `wants_shared`; an item made anyway is dropped here.
    pub fn select(&mut self, selection: Selection) {
        self.selection = selection;
    }

    /// Whether the platform's own items are wanted (its namespaces': `wants_namespace`).
    pub fn wants_shared(&self) -> bool {
        self.selection.shared
    }

    /// Whether the items of namespace `name` are wanted.
    pub fn wants_namespace(&self, name: &str) -> bool {
        self.selection.holds_namespace(name)
    }

    /// Whether the items of any namespace may be wanted: a target that makes them asks
    /// `wants_namespace` of each, or makes those of `namespaces` alone.
    pub fn wants_namespaces(&self) -> bool {
        self.selection.holds_namespaces()
    }

    /// The namespaces of the services of `platform` whose items are wanted, by name, each
    /// with its services in their order (`conventions::namespaces`, those wanted alone): a
    /// batch of a few namespaces finds them without a walk of every service.
    pub fn namespaces<'p>(
        &self,
        platform: &'p crate::model::Platform,
    ) -> std::collections::BTreeMap<&'p str, Vec<&'p Service>> {
        let Some(names) = &self.selection.namespaces else {
            let mut namespaces = crate::emit::conventions::namespaces(platform);
            namespaces.retain(|name, _| self.selection.holds_namespace(name));
            return namespaces;
        };
        names
            .iter()
            .filter_map(|name| {
                let services = platform.services_in(name);
                Some((services.first()?.namespace.as_str(), services))
            })
            .collect()
    }

    /// Keeps `summaries` of items made by an earlier build for the derived targets to read
    /// with the ones made now (`summaries`).
    pub fn keep(&mut self, summaries: Vec<Summary>) {
        self.drained.extend(summaries);
    }

    /// The services of `platform` whose items are wanted, in their order.
    pub fn services<'p>(&self, platform: &'p crate::model::Platform) -> Vec<&'p Service> {
        platform
            .services
            .iter()
            .filter(|s| self.selection.holds_service(&s.name.value))
            .collect()
    }

    /// Hands on the items made so far, keeping what the derived targets read of them
    /// (`summaries`): a build encodes a few services' items at a time, so the typed objects
    /// of the whole platform are never held at once.
    pub fn drain(&mut self) -> Vec<Item> {
        let mut owners = Owners::default();
        self.drained
            .extend(self.items.iter().map(|item| owners.summary(item)));
        std::mem::take(&mut self.items)
    }

    /// Hands on the items made so far, keeping nothing of them: the last target's.
    pub fn take_items(&mut self) -> Vec<Item> {
        std::mem::take(&mut self.items)
    }

    /// What the set kept of the items it handed on, giving up the set.
    pub fn into_summaries(self) -> Vec<Summary> {
        self.drained
    }

    /// Every item that entered the set, handed on or not, as the derived targets read it:
    /// the summaries of those handed on borrowed, the others' made.
    pub fn summaries(&self) -> Summaries<'_> {
        Summaries {
            handed: &self.drained,
            held: {
                let mut owners = Owners::default();
                self.items.iter().map(|item| owners.summary(item)).collect()
            },
        }
    }

    /// Whether files that are not cluster objects are wanted: a target that makes them
    /// asks, so `platc render` builds none of what it would throw away.
    pub fn wants_files(&self) -> bool {
        !self.cluster_only
    }

    pub fn push(&mut self, item: Item) {
        if !self.selection.holds(&item) {
            return;
        }
        match self.render_on_entry {
            Some(sync_waves) => self.add_rendered(item.rendered(sync_waves)),
            None => self.items.push(item),
        }
    }

    fn add_rendered(&mut self, item: Result<Item, crate::validate::Invalid>) {
        match item {
            Ok(item) => self.items.push(item),
            Err(invalid) => {
                self.invalid.get_or_insert(invalid);
            }
        }
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The items, giving up the set (to encode and drop them in parallel).
    pub fn into_items(self) -> Vec<Item> {
        self.items
    }

    /// Puts every cluster object that is in no Argo CD sync wave yet into the wave of its
    /// apply rank, on its typed metadata (nothing is encoded). For a platform Argo CD syncs:
    /// within one Application, the namespaces, the mesh's policy and the canary guards are
    /// then applied, and healthy, before the workloads (`APPLY_ORDER`).
    pub fn annotate_sync_waves(&mut self) {
        for item in &mut self.items {
            if let Body::Object(object) = &mut item.body {
                object.annotate_sync_wave();
            }
        }
    }

    /// Sorted by path: the order of files in `out/` (stable: of two items at one path, the
    /// one added first stays first). The paths and places are sorted, and each item then
    /// moved once to its place: a sort of the items themselves moved each some 14 times
    /// (render of 1,000 services: 15,000 of them, on one core while the other waits).
    pub fn sort_by_path(&mut self) {
        let mut order: Vec<(&str, usize)> = self
            .items
            .iter()
            .enumerate()
            .map(|(at, item)| (item.path.as_str(), at))
            .collect();
        order.sort_unstable();
        let order: Vec<usize> = order.into_iter().map(|(_, at)| at).collect();
        self.items = in_order(std::mem::take(&mut self.items), &order);
    }

    /// The cluster objects in apply order (`cluster_order`), giving up the set.
    pub fn into_cluster_objects(self) -> Vec<Item> {
        let order = cluster_order(&self.items);
        in_order(self.items, &order)
    }
}

/// The items a run wants: the platform's and namespaces' or not, and every service's or
/// some. A part (`Part`) is one; a build makes a few namespaces at a time, then the
/// platform's items and a few services at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Whether the platform's own items are wanted (and, without `namespaces`, its namespaces').
    shared: bool,
    /// `None` for every service.
    services: Option<std::collections::BTreeSet<String>>,
    /// Namespaces whose items are not wanted even with `shared` (a rebuild reuses them, or
    /// a batch of their own makes them).
    kept_namespaces: std::collections::BTreeSet<String>,
    /// `Some`: the items of these namespaces alone are wanted (of the namespaces, whatever
    /// `shared` and `kept_namespaces` say).
    namespaces: Option<std::collections::BTreeSet<String>>,
    /// Which of the platform's own items, with `shared`.
    edge: Edge,
}

/// Which of the platform's own items a selection holds, by whether they are the edge's
/// (`on_the_edge`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edge {
    /// The edge's and the others.
    With,
    /// All but the edge's.
    Without,
    /// The edge's alone.
    Only,
}

impl Default for Selection {
    /// Every item.
    fn default() -> Self {
        Self {
            shared: true,
            services: None,
            kept_namespaces: std::collections::BTreeSet::new(),
            namespaces: None,
            edge: Edge::With,
        }
    }
}

impl Selection {
    /// The platform's and namespaces' items alone.
    pub fn shared() -> Self {
        Self {
            services: Some(std::collections::BTreeSet::new()),
            ..Self::default()
        }
    }

    /// The platform's items and the namespaces' but those of `kept`.
    pub fn shared_but(kept: std::collections::BTreeSet<String>) -> Self {
        Self {
            kept_namespaces: kept,
            ..Self::shared()
        }
    }

    /// The items of these services alone.
    pub fn services<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            shared: false,
            services: Some(names.into_iter().map(str::to_owned).collect()),
            ..Self::default()
        }
    }

    /// The items of these namespaces alone.
    pub fn namespaces<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            namespaces: Some(names.into_iter().map(str::to_owned).collect()),
            ..Self::services([])
        }
    }

    /// Whether it holds `item`.
    pub fn holds(&self, item: &Item) -> bool {
        self.holds_object(&item.owner, item.id().map(|id| id.api_version))
    }

    /// Whether it holds an item of `owner`, and of `api_version` if it is a cluster object.
    fn holds_object(&self, owner: &Owner, api_version: Option<&str>) -> bool {
        match owner {
            Owner::Service(name) => self.holds_service(name),
            Owner::Platform => {
                let edge = || api_version.is_some_and(|v| on_the_edge(owner, v));
                self.shared
                    && match self.edge {
                        Edge::With => true,
                        Edge::Without => !edge(),
                        Edge::Only => edge(),
                    }
            }
            Owner::Namespace(name) => self.holds_namespace(name),
        }
    }

    /// Whether it holds the items of service `name`.
    pub fn holds_service(&self, name: &str) -> bool {
        self.services.as_ref().is_none_or(|s| s.contains(name))
    }

    /// Whether it holds the items of namespace `name`.
    pub fn holds_namespace(&self, name: &str) -> bool {
        match &self.namespaces {
            Some(namespaces) => namespaces.contains(name),
            None => self.shared && !self.kept_namespaces.contains(name),
        }
    }

    /// Whether it may hold the items of a namespace.
    fn holds_namespaces(&self) -> bool {
        match &self.namespaces {
            Some(namespaces) => !namespaces.is_empty(),
            None => self.shared,
        }
    }
}

impl From<&Part> for Selection {
    fn from(part: &Part) -> Self {
        match part {
            Part::All => Self::default(),
            Part::Platform => Self {
                edge: Edge::Without,
                ..Self::shared()
            },
            Part::Edge => Self {
                shared: true,
                edge: Edge::Only,
                ..Self::namespaces([])
            },
            Part::Service(name) => Self::services([name.as_str()]),
        }
    }
}

/// Every item of a set as the derived targets read it (`Output::summaries`).
pub struct Summaries<'o> {
    handed: &'o [Summary],
    held: Vec<Summary>,
}

impl Summaries<'_> {
    /// The items in the order they entered the set.
    pub fn iter(&self) -> impl Iterator<Item = &Summary> {
        self.handed.iter().chain(&self.held)
    }
}

/// A part of a platform's cluster objects, by owner: what one Argo CD Application deploys, and
/// what `platc render --part` and the plugin's `part` parameter select. Every item has one
/// owner, and the platform's own objects are the edge's or not (`on_the_edge`), so the parts
/// of a platform (`platform`, `edge` and each service) split its objects: each object is in
/// exactly one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Part {
    /// Every object.
    #[default]
    All,
    /// The platform-wide and per-namespace objects but the edge's: owner `Platform` or
    /// `Namespace(_)`.
    Platform,
    /// The edge's objects (`on_the_edge`): owner `Platform`.
    Edge,
    /// One service's objects: owner `Service(name)`.
    Service(String),
}

/// Why a part's name names no part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartError {
    /// Neither `platform`, `edge` nor a service's name; the closest name, if one is close.
    Unknown {
        name: String,
        suggestion: Option<String>,
    },
    /// A service has the name of a part of the platform (`platform` or `edge`).
    Ambiguous(&'static str),
}

impl Part {
    /// The part `name` names among a platform's services: empty for every object,
    /// `conventions::cmp::PART_PLATFORM`, `PART_EDGE`, or a service's name.
    pub fn named<'a>(
        name: &str,
        services: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Result<Self, PartError> {
        let is_service = services.clone().into_iter().any(|s| s == name);
        match name {
            "" => Ok(Self::All),
            PART_PLATFORM if is_service => Err(PartError::Ambiguous(PART_PLATFORM)),
            PART_EDGE if is_service => Err(PartError::Ambiguous(PART_EDGE)),
            PART_PLATFORM => Ok(Self::Platform),
            PART_EDGE => Ok(Self::Edge),
            _ if is_service => Ok(Self::Service(name.to_owned())),
            _ => Err(PartError::Unknown {
                name: name.to_owned(),
                suggestion: crate::diagnostic::suggest(
                    name,
                    SHARED_PARTS.iter().map(|(part, _)| *part).chain(services),
                ),
            }),
        }
    }

    /// Whether the part holds an object of `owner` and `api_version`.
    pub fn holds(&self, owner: &Owner, api_version: &str) -> bool {
        Selection::from(self).holds_object(owner, Some(api_version))
    }
}

impl std::fmt::Display for PartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown { name, suggestion } => {
                write!(
                    f,
                    "unknown part `{name}`: a part is `{PART_PLATFORM}`, `{PART_EDGE}`, a \
                     service's name, or empty for every object"
                )?;
                if let Some(suggestion) = suggestion {
                    write!(f, ". Did you mean `{suggestion}`?")?;
                }
                Ok(())
            }
            Self::Ambiguous(part) => write!(
                f,
                "part `{part}` is ambiguous: a service is named `{part}` too, so neither can be \
                 selected alone; rename the service"
            ),
        }
    }
}

/// The places of the cluster objects of `items` in apply order: by rank, then path (the
/// order of the stream `platc render` prints), then place, as a stable sort by path and then
/// by rank would put them. Their keys are sorted, not the items: a sort of the items moved
/// each (some 180 bytes) many times, on one core at the end of the render.
pub fn cluster_order(items: &[Item]) -> Vec<usize> {
    let mut keys: Vec<(u8, &str, usize)> = items
        .iter()
        .enumerate()
        .filter_map(|(at, item)| Some((item.id()?.apply_rank(), item.path.as_str(), at)))
        .collect();
    keys.sort_unstable();
    keys.into_iter().map(|(_, _, at)| at).collect()
}

/// The items at `order` (places in `items`, each at most once), in that order; the others
/// are dropped.
fn in_order(items: Vec<Item>, order: &[usize]) -> Vec<Item> {
    let mut slots: Vec<Option<Item>> = items.into_iter().map(Some).collect();
    order.iter().filter_map(|&at| slots[at].take()).collect()
}

impl Output {
    /// The items `make` gives for each input, made on every core and added in input order.
    /// With `render_on_entry`, each is validated and encoded on the thread that made it, at
    /// once: what it was made of (a service's typed objects, a dashboard's JSON text) is
    /// freed there and its memory reused for the next input, where `extend` of every
    /// input's items would hold them all typed at once (the per-service targets made so:
    /// render of 1,000 services, peak RSS 115 -> 88 MB; of 10,000, 1,151 -> 753 MB).
    pub fn extend_mapped<T: Sync, I: IntoIterator<Item = Item> + Send>(
        &mut self,
        inputs: &[T],
        make: impl Fn(&T) -> I + Sync + Send,
    ) {
        let selection = &self.selection;
        let Some(sync_waves) = self.render_on_entry else {
            for items in crate::emit::parallel::map(inputs, make) {
                let wanted = items.into_iter().filter(|i| selection.holds(i));
                self.items.extend(wanted);
            }
            return;
        };
        let rendered = crate::emit::parallel::map(inputs, |input| {
            make(input)
                .into_iter()
                .filter(|item| selection.holds(item))
                .map(|item| item.rendered(sync_waves))
                .collect::<Vec<_>>()
        });
        for item in rendered.into_iter().flatten() {
            self.add_rendered(item);
        }
    }
}

impl Extend<Item> for Output {
    /// With `render_on_entry`, the items are encoded on every core.
    fn extend<I: IntoIterator<Item = Item>>(&mut self, items: I) {
        let selection = &self.selection;
        let items = items.into_iter().filter(|item| selection.holds(item));
        let Some(sync_waves) = self.render_on_entry else {
            self.items.extend(items);
            return;
        };
        let items: Vec<Item> = items.collect();
        for item in crate::emit::parallel::map_owned(items, |item| item.rendered(sync_waves)) {
            self.add_rendered(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Namespace, Service};

    fn named<T: Default + k8s_openapi::Metadata<Ty = ObjectMeta>>(name: &str) -> T {
        let mut value = T::default();
        value.metadata_mut().name = Some(name.into());
        value
    }

    /// A `JsonConfigMap` is the `ConfigMap` holding its document's text, in every way the set
    /// and its outputs see it: its YAML (with a block, and quoted when the text holds a C1
    /// control), its tree, and its identity.
    #[test]
    fn a_json_config_map_is_the_config_map_of_its_text() {
        for note in ["plain", "a C1 control: \u{85}", "DEL: \u{7f}"] {
            let mut metadata: ObjectMeta = named::<ConfigMap>("board").metadata;
            metadata.namespace = Some("shop".into());
            metadata.annotations = Some([(SYNC_WAVE_ANNOTATION.to_owned(), "1".into())].into());
            let document =
                serde_json::json!({"title": note, "panels": [{"id": 1}, {}], "tags": []});
            let map = JsonConfigMap {
                metadata,
                key: "board.json".into(),
                document,
            };
            let config_map = map.config_map();
            let text = &config_map.data.as_ref().unwrap()["board.json"];
            assert_eq!(text, &crate::encode::json_in_field_order(&map.document));
            assert_eq!(map.to_yaml(), crate::encode::yaml(&config_map), "{note}");
            assert_eq!(
                map.to_yaml().contains("board.json: |\n    {\n"),
                note == "plain",
                "{note}"
            );
            assert_eq!(map.to_value(), crate::encode::to_value(&config_map));
            let span = Span::new(0, 0);
            let item = Item::json_config_map("a.yaml".into(), Owner::Platform, span, map);
            let k8s = Item::k8s("a.yaml".into(), Owner::Platform, span, config_map);
            assert_eq!(item.id(), k8s.id());
        }
    }

    /// The stream's order is rank, then path, then the order added, whatever order the set
    /// is in: `emit_part` no longer sorts a stream's set by path first.
    #[test]
    fn a_set_in_any_order_streams_by_rank_then_path() {
        let span = Span::new(0, 0);
        let mut output = Output::default();
        for (path, name) in [
            ("z/service.yaml", "z"),
            ("b/namespace.yaml", "b"),
            ("a/service.yaml", "a1"),
            ("a/namespace.yaml", "a"),
            ("a/service.yaml", "a2"),
        ] {
            let item = if path.ends_with("namespace.yaml") {
                Item::k8s(path.into(), Owner::Platform, span, named::<Namespace>(name))
            } else {
                Item::k8s(path.into(), Owner::Platform, span, named::<Service>(name))
            };
            output.push(item);
        }
        let order: Vec<String> = output
            .into_cluster_objects()
            .iter()
            .filter_map(|i| i.id().map(Identity::kind_name))
            .collect();
        assert_eq!(
            order,
            [
                "Namespace/a",
                "Namespace/b",
                "Service/a1",
                "Service/a2",
                "Service/z"
            ]
        );
    }

    /// Sorting by path moves no item past another at the same path.
    #[test]
    fn the_sort_by_path_is_stable() {
        let span = Span::new(0, 0);
        let mut output = Output::default();
        for (path, text) in [("b", "1"), ("a", "2"), ("b", "3"), ("a", "4"), ("c", "5")] {
            output.push(Item::text(path.into(), Owner::Platform, span, text.into()));
        }
        output.sort_by_path();
        let texts: Vec<&str> = output
            .items()
            .iter()
            .map(|item| match &item.body {
                Body::Text(text) => text.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(texts, ["2", "4", "1", "3", "5"]);
    }

    #[test]
    fn objects_come_in_apply_order_and_files_are_left_out() {
        let mut output = Output::default();
        let span = Span::new(0, 0);
        output.push(Item::k8s(
            "a/service.yaml".into(),
            Owner::Service("a".into()),
            span,
            named::<Service>("a"),
        ));
        output.push(Item::text(
            "a/readme".into(),
            Owner::Platform,
            span,
            "x".into(),
        ));
        output.push(Item::k8s(
            "z/namespace.yaml".into(),
            Owner::Namespace("a".into()),
            span,
            named::<Namespace>("a"),
        ));
        assert_eq!(output.items()[0].id().map(|id| id.api_version), Some("v1"));
        output.sort_by_path();
        let order: Vec<String> = output
            .into_cluster_objects()
            .iter()
            .filter_map(|i| i.id().map(Identity::kind_name))
            .collect();
        assert_eq!(order, ["Namespace/a", "Service/a"]);
    }

    #[test]
    fn parts_split_the_objects_by_owner_and_the_platform_s_by_edge() {
        let span = Span::new(0, 0);
        let owners = [
            Owner::Platform,
            Owner::Namespace("a".into()),
            Owner::Service("a".into()),
            Owner::Service("b".into()),
        ];
        let paths = |part: &Part| {
            let mut output = Output::default();
            output.select(Selection::from(part));
            for (i, owner) in owners.iter().enumerate() {
                output.push(Item::k8s(
                    format!("{i}.yaml"),
                    owner.clone(),
                    span,
                    named::<Service>(&i.to_string()),
                ));
            }
            // A certificate of the platform's, and one a service's own (not the edge's).
            for (i, owner) in [(4, Owner::Platform), (5, Owner::Service("a".into()))] {
                output.push(Item::resource(
                    format!("{i}.yaml"),
                    owner,
                    span,
                    Resource {
                        api_version: "cert-manager.io/v1",
                        kind: "Certificate",
                        metadata: ObjectMeta::default(),
                        spec: (),
                    },
                ));
            }
            output
                .items()
                .iter()
                .map(|i| i.path.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            paths(&Part::All),
            ["0.yaml", "1.yaml", "2.yaml", "3.yaml", "4.yaml", "5.yaml"]
        );
        assert_eq!(paths(&Part::Platform), ["0.yaml", "1.yaml"]);
        assert_eq!(paths(&Part::Edge), ["4.yaml"]);
        assert_eq!(paths(&Part::Service("a".into())), ["2.yaml", "5.yaml"]);
        assert_eq!(paths(&Part::Service("b".into())), ["3.yaml"]);
    }

    #[test]
    fn a_part_is_named_by_platform_edge_or_a_service() {
        let services = ["frontend", "cartservice"];
        assert_eq!(Part::named("", services), Ok(Part::All));
        assert_eq!(Part::named("platform", services), Ok(Part::Platform));
        assert_eq!(Part::named("edge", services), Ok(Part::Edge));
        assert_eq!(
            Part::named("frontend", services),
            Ok(Part::Service("frontend".into()))
        );
        let unknown = Part::named("frontnd", services).unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "unknown part `frontnd`: a part is `platform`, `edge`, a service's name, or empty \
             for every object. Did you mean `frontend`?"
        );
        assert!(matches!(
            Part::named("platfrom", services),
            Err(PartError::Unknown { suggestion: Some(s), .. }) if s == "platform"
        ));
        assert!(matches!(
            Part::named("zzz", services),
            Err(PartError::Unknown {
                suggestion: None,
                ..
            })
        ));
        assert!(matches!(
            Part::named("edg", services),
            Err(PartError::Unknown { suggestion: Some(s), .. }) if s == "edge"
        ));
        for part in ["platform", "edge"] {
            let ambiguous = Part::named(part, [part]).unwrap_err();
            assert_eq!(ambiguous, PartError::Ambiguous(part));
            assert_eq!(
                ambiguous.to_string(),
                format!(
                    "part `{part}` is ambiguous: a service is named `{part}` too, so neither \
                     can be selected alone; rename the service"
                )
            );
        }
    }

    /// `extend_mapped` adds each input's items in input order, on every core (200 inputs:
    /// more than `parallel` runs serially), the unselected dropped; in `Scope::Stream` each
    /// object arrives encoded, its text at its exact length (what `platc render` holds of
    /// 15,081 objects at 1,000 services until it prints them).
    #[test]
    fn mapped_items_enter_in_input_order_and_a_stream_holds_their_text_at_its_length() {
        let span = Span::new(0, 0);
        let inputs: Vec<usize> = (0..200).collect();
        let make = |i: &usize| {
            let owner = Owner::Service(if i.is_multiple_of(3) { "b" } else { "a" }.into());
            [
                Item::k8s(
                    format!("{i}/s.yaml"),
                    owner.clone(),
                    span,
                    named::<Service>(&i.to_string()),
                ),
                Item::text(format!("{i}/t"), owner, span, String::new()),
            ]
        };
        let wanted: Vec<String> = inputs
            .iter()
            .filter(|i| !i.is_multiple_of(3))
            .flat_map(|i| [format!("{i}/s.yaml"), format!("{i}/t")])
            .collect();
        let mut typed = Output::for_scope(crate::emit::Scope::Cluster);
        typed.select(Selection::from(&Part::Service("a".into())));
        typed.extend_mapped(&inputs, make);
        let paths: Vec<&String> = typed.items().iter().map(|i| &i.path).collect();
        assert_eq!(paths, wanted.iter().collect::<Vec<_>>());

        let mut stream = Output::for_scope(crate::emit::Scope::Stream);
        stream.select(Selection::from(&Part::Service("a".into())));
        stream.render_on_entry(false);
        stream.extend_mapped(&inputs, make);
        assert!(stream.take_invalid().is_none());
        let paths: Vec<&String> = stream.items().iter().map(|i| &i.path).collect();
        assert_eq!(paths, wanted.iter().collect::<Vec<_>>());
        for item in stream.items().iter().step_by(2) {
            let Body::Rendered { yaml, .. } = &item.body else {
                panic!("{} is not encoded", item.path);
            };
            let name = item.path.trim_end_matches("/s.yaml");
            assert!(
                yaml.starts_with("---\napiVersion: v1\nkind: Service\n"),
                "{yaml}"
            );
            assert!(yaml.contains(&format!("  name: \"{name}\"\n")), "{yaml}");
            assert_eq!(yaml.capacity(), yaml.len(), "{}", item.path);
        }
    }

    #[test]
    fn sync_waves_follow_the_apply_rank_and_keep_a_wave_already_set() {
        let mut output = Output::default();
        let span = Span::new(0, 0);
        output.push(Item::k8s(
            "s.yaml".into(),
            Owner::Service("a".into()),
            span,
            named::<Service>("a"),
        ));
        let mut namespace = named::<Namespace>("a");
        namespace.metadata.annotations =
            Some([(SYNC_WAVE_ANNOTATION.to_owned(), "9".to_owned())].into());
        output.push(Item::k8s(
            "n.yaml".into(),
            Owner::Namespace("a".into()),
            span,
            namespace,
        ));
        output.push(Item::resource(
            "r.yaml".into(),
            Owner::Service("a".into()),
            span,
            Resource {
                api_version: "argoproj.io/v1alpha1",
                kind: "Rollout",
                metadata: ObjectMeta::default(),
                spec: (),
            },
        ));
        output.annotate_sync_waves();
        let waves: Vec<String> = output
            .items()
            .iter()
            .map(|item| {
                let Body::Object(object) = &item.body else {
                    return String::new();
                };
                object.value.to_value()["metadata"]["annotations"][SYNC_WAVE_ANNOTATION]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        assert_eq!(waves, ["4", "9", "6"]);
    }
}
