//! The typed platform model: plain data with spans, no I/O.
//!
//! `lower` builds it from the KDL document with defaults and the chosen `env` overlay applied,
//! so later stages never see raw KDL. `check` turns it into a `Checked` platform.

pub mod addons;
pub mod aws;
pub mod mesh;
pub mod security;
pub mod service;
pub mod value;

use crate::span::{Span, Spanned};

pub use aws::Aws;
pub use mesh::{Delivery, Mesh, Observability};
pub use service::Service;

/// A whole platform: one `platform NAME { … }` node.
#[derive(Clone, Debug)]
pub struct Platform {
    pub span: Span,
    pub name: Spanned<String>,
    pub aws: Option<Aws>,
    pub mesh: Option<Mesh>,
    pub observability: Observability,
    pub delivery: Delivery,
    pub defaults: Defaults,
    /// In source order.
    pub services: Vec<Service>,
    /// The environments the file declares, in source order.
    pub envs: Vec<Spanned<String>>,
    /// The environment whose overlay was applied, if any.
    pub env: Option<String>,
    /// Where the platform was read from, for provenance annotations.
    pub origin: Origin,
    /// Service name → position of its first definition; only looked up, never iterated, so
    /// its order cannot reach the output.
    pub index: Option<NameIndex<usize>>,
    /// Callee name → (caller, call) positions; looked up only, like `index`.
    pub caller_index: Option<NameIndex<Vec<(usize, usize)>>>,
    /// Namespace → positions of its services, in source order; looked up only, like `index`.
    pub namespace_index: Option<NameIndex<Vec<usize>>>,
}

/// A map by name, hashed with foldhash: the standard hasher's defence against chosen keys
/// buys nothing for names from the platform's own file, and was a tenth of the index's
/// making.
pub type NameIndex<V> = std::collections::HashMap<String, V, foldhash::fast::RandomState>;

/// The file a platform came from, where its lines start, and the path of each node, so
/// emitters can name the node that produced an object: a stable path in the document
/// (`platform.kdl#service=frontend/port=http`) for what is written into `out/`, and a line
/// (`platform.kdl:42`) for the manifest, `platc why` and diagnostics.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    /// The file name only, so output does not depend on where the checkout lives.
    pub file: String,
    line_starts: Vec<usize>,
    /// The nodes and their paths, made from the document on first use (emit asks for
    /// thousands of paths; `check` for none), shared by clones of the platform.
    index: std::sync::Arc<NodeIndex>,
}

/// Where `Origin` finds the document's nodes: the parsed document, kept until asked.
pub trait NodeSource: Send + Sync + std::fmt::Debug {
    /// Every node with its path segment, in pre-order.
    fn path_nodes(&self) -> Vec<PathNode>;
}

#[derive(Debug, Default)]
struct NodeIndex {
    /// Taken when the nodes are made: the document is freed once its platforms (the base
    /// and every environment, which share one origin) are compiled and its nodes listed (at
    /// 10,000 services it is 100 MB; the nodes a fifth of that).
    source: std::sync::Mutex<Option<std::sync::Arc<dyn NodeSource>>>,
    nodes: std::sync::OnceLock<Listed>,
}

/// The document's nodes, and where each starts.
#[derive(Debug, Default)]
struct Listed {
    nodes: Vec<PathNode>,
    /// Each node's first byte, in the nodes' order: what `Origin::node_of` searches, packed
    /// (the search over the nodes themselves missed the cache at every step: 3% of a
    /// render's CPU, one search per object).
    starts: Vec<usize>,
}

/// One node of the document, for `Origin::path`.
#[derive(Clone, Debug)]
pub struct PathNode {
    pub span: Span,
    /// The enclosing node, by position in the list.
    pub parent: Option<usize>,
    /// `name`, or `name=ARG` when the node's first argument is a string; `[N]` added from
    /// the second sibling with the same segment on.
    pub segment: String,
}

impl Origin {
    pub fn new(path: &str, text: &str, source: std::sync::Arc<dyn NodeSource>) -> Self {
        let file = std::path::Path::new(path)
            .file_name()
            .map_or_else(|| path.to_owned(), |f| f.to_string_lossy().into_owned());
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            file,
            line_starts,
            index: std::sync::Arc::new(NodeIndex {
                source: std::sync::Mutex::new(Some(source)),
                ..NodeIndex::default()
            }),
        }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&start| start <= offset)
            .max(1)
    }

    /// `file:line` of a span's start.
    pub fn locate(&self, span: Span) -> String {
        format!("{}:{}", self.file, self.line(span.start))
    }

    /// Every node of the document, in source order.
    pub fn nodes(&self) -> &[PathNode] {
        &self.listed().nodes
    }

    fn listed(&self) -> &Listed {
        self.index.nodes.get_or_init(|| {
            let source = self
                .index
                .source
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            let nodes = source.map(|s| s.path_nodes()).unwrap_or_default();
            let starts = nodes.iter().map(|n| n.span.start).collect();
            Listed { nodes, starts }
        })
    }

    /// The innermost node that holds a span, by position in `nodes`.
    pub fn node_of(&self, span: Span) -> Option<usize> {
        let Listed { nodes, starts } = self.listed();
        let last = starts
            .partition_point(|&start| start <= span.start)
            .checked_sub(1)?;
        // Walk out from the last node that starts at or before the span to one that also
        // ends after it: the nodes are in pre-order, so that is the innermost holder.
        let mut at = Some(last);
        while let Some(i) = at {
            let node = &nodes[i];
            if node.span.end >= span.end {
                return Some(i);
            }
            at = node.parent;
        }
        None
    }

    /// `file#a=x/b`: the path of the innermost node holding a span, from below the root
    /// `platform` node. It changes only when that node or an ancestor is renamed, not when
    /// lines are added elsewhere, so provenance annotations do not churn in review.
    pub fn path(&self, span: Span) -> String {
        let nodes = self.nodes();
        let mut path = String::with_capacity(64);
        path.push_str(&self.file);
        path.push('#');
        if let Some(i) = self.node_of(span) {
            push_path(nodes, i, &mut path);
        }
        path
    }
}

/// The path of node `at` below the root `platform` node, added to `path`: its ancestors'
/// segments, then its own. Made when asked (each object's annotation), not kept for every node
/// of the document: most are never asked for, and making them all held up the first
/// annotation (render of 1,000 services: 1.7 ms on one core, 11 MB at 10,000).
fn push_path(nodes: &[PathNode], at: usize, path: &mut String) {
    let node = &nodes[at];
    // Every path starts below the one `platform` node.
    if let Some(parent) = node.parent.filter(|&p| nodes[p].parent.is_some()) {
        push_path(nodes, parent, path);
        path.push('/');
    }
    path.push_str(&node.segment);
}

impl Platform {
    /// Whether an Argo Rollout runs a service's pods: it has a canary, and a mesh to split it.
    pub fn rolled_out(&self, service: &Service) -> bool {
        service.canary.is_some() && self.mesh.is_some()
    }

    /// The minor Kubernetes version of the cluster (`33` of `1.33`), where platc knows it: an
    /// `aws` block with a cluster (lowering guarantees the form `1.MINOR`).
    pub fn cluster_minor(&self) -> Option<u32> {
        let cluster = self.aws.as_ref()?.cluster.as_ref()?;
        cluster.version.value.split_once('.')?.1.parse().ok()
    }

    /// The first service of this name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        match &self.index {
            Some(index) => index.get(name).map(|&i| &self.services[i]),
            None => self.services.iter().find(|s| s.name.value == name),
        }
    }

    /// `name`, with `-<env>` when an environment's overlay is applied.
    pub fn with_env(&self, name: &str) -> String {
        match &self.env {
            Some(env) => format!("{name}-{env}"),
            None => name.to_owned(),
        }
    }

    /// The prefix of every AWS name platc chooses: the platform's name, and the environment's
    /// when an `env` overlay is applied, so that two environments in one account never collide.
    pub fn aws_prefix(&self) -> String {
        match &self.env {
            Some(env) => format!("{}-{env}", self.name.value),
            None => self.name.value.clone(),
        }
    }

    /// The address of a declared ECR repository: `<account>.dkr.ecr.<region>.amazonaws.com/<name>`
    /// (with the environment's suffix when an `env` overlay is built). `None` without an
    /// `aws` account (a check error when an image names a repository).
    pub fn registry(&self, repository: &str) -> Option<String> {
        let aws = self.aws.as_ref()?;
        let account = aws.account.as_ref()?;
        Some(format!(
            "{}.dkr.ecr.{}.amazonaws.com/{}",
            account.value,
            aws.region.value,
            aws::repository_name(self, repository)
        ))
    }

    /// The reference of a service's image as the runtime pulls it.
    pub fn image_reference(&self, image: &service::Image) -> String {
        let registry = image
            .ecr
            .then(|| self.registry(&image.repository.value))
            .flatten();
        image.reference(registry.as_deref())
    }

    /// The env vars a service gets for the data stores it `uses`, after its own `env` and
    /// `calls … env=`: `<STORE>_BUCKET`, `<STORE>_TABLE`, `<STORE>_DATABASE_HOST`, `…_PORT`,
    /// `…_NAME`, `…_USER`, `<STORE>_CACHE_HOST`, `…_PORT`, `…_TLS`, `…_NAME`, `…_USER`,
    /// `<STORE>_DOCDB_HOST`, `…_PORT`, `…_TLS`, `…_URI`,
    /// `<STORE>_QUEUE_URL`, `<STORE>_TOPIC_ARN`, `AWS_ENDPOINT_URL_DYNAMODB` for a table, and `AWS_REGION` once for
    /// any of them. `<STORE>` is the store's name uppercased with every other character `_`. A
    /// store not declared in `aws` gives nothing (it is `platc::unknown-store`); a `filesystem`
    /// gives nothing (it is mounted, not addressed); a `secret` read with `env=` gives that
    /// var, from the `Secret` the Secrets Store CSI driver syncs (`StoreValue::Secret`). What AWS only knows once the store exists
    /// (a database's endpoint, the `DynamoDB` endpoint's URL) is a `StoreValue::Endpoint`: the
    /// cluster stage of the Terraform tree writes it into the service's `ConfigMap`
    /// (`aws::stores_config_map`).
    pub fn store_env<'a>(&self, service: &'a Service) -> Vec<StoreEnv<'a>> {
        let Some(aws) = &self.aws else {
            return Vec::new();
        };
        let prefix_of = |store: &str| -> String {
            store
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        let mut vars = Vec::new();
        let mut secrets = Vec::new();
        let mut dynamodb = None;
        for used in &service.uses {
            let store = &used.name.value;
            let prefix = prefix_of(store);
            // The variable of `key` (`host`): the name `env host=…` gives it, else
            // `<STORE>_<SUFFIX>`.
            let name_of = |key: &str, suffix: &str| {
                used.var(key)
                    .map_or_else(|| format!("{prefix}_{suffix}"), |v| v.value.clone())
            };
            let mut var = |key: &str, suffix: &str, value: StoreValue| {
                vars.push(StoreEnv {
                    name: name_of(key, suffix),
                    value,
                    used,
                });
            };
            match used.kind.value {
                service::StoreKind::Bucket => {
                    if aws.buckets.iter().any(|b| &b.name.value == store) {
                        var(
                            "bucket",
                            "BUCKET",
                            StoreValue::Literal(aws::bucket_name(self, aws, store)),
                        );
                    }
                }
                service::StoreKind::Table => {
                    if aws.tables.iter().any(|t| &t.name.value == store) {
                        var(
                            "table",
                            "TABLE",
                            StoreValue::Literal(format!("{}-{store}", self.aws_prefix())),
                        );
                        dynamodb.get_or_insert(used);
                    }
                }
                service::StoreKind::Database => {
                    if let Some(db) = aws.databases.iter().find(|d| &d.name.value == store) {
                        var(
                            "host",
                            "DATABASE_HOST",
                            StoreValue::Endpoint(aws::StoreEndpoint::Database(store.clone())),
                        );
                        var(
                            "port",
                            "DATABASE_PORT",
                            StoreValue::Literal(db.engine.value.port().to_string()),
                        );
                        var("name", "DATABASE_NAME", StoreValue::Literal(db.db_name()));
                        // The user named after the service: the one its Pod Identity role may
                        // `rds-db:connect` as, or that platc gives a password.
                        var(
                            "user",
                            "DATABASE_USER",
                            StoreValue::Literal(service.name.value.clone()),
                        );
                        // A password user's password, in env only when named (`env
                        // password=`, with a reason): from the `Secret` the Secrets Store CSI
                        // driver syncs from the service's own secret.
                        let password = used.secret_env().map(|env| {
                            vars.push(StoreEnv {
                                name: env.value.clone(),
                                value: StoreValue::Secret {
                                    name: aws::secret_class(
                                        &service.name.value,
                                        &aws::password_volume(store),
                                    ),
                                    key: aws::PASSWORD_FILE.to_owned(),
                                },
                                used,
                            });
                            env.value.clone()
                        });
                        // The connection URIs, from the variables above by the kubelet's
                        // `$(VAR)` expansion: they come after them in the container's env.
                        let parts = aws::ConnectionParts {
                            host: name_of("host", "DATABASE_HOST"),
                            port: name_of("port", "DATABASE_PORT"),
                            name: name_of("name", "DATABASE_NAME"),
                            user: name_of("user", "DATABASE_USER"),
                            password,
                        };
                        for v in used
                            .vars
                            .iter()
                            .filter(|v| matches!(v.key.value.as_str(), "uri" | "jdbc"))
                        {
                            let jdbc = v.key.value == "jdbc";
                            vars.push(StoreEnv {
                                name: v.env.value.clone(),
                                value: StoreValue::Composed(parts.uri(db.engine.value, jdbc)),
                                used,
                            });
                        }
                    }
                }
                service::StoreKind::Cache => {
                    if aws.caches.iter().any(|c| &c.name.value == store) {
                        var(
                            "host",
                            "CACHE_HOST",
                            StoreValue::Endpoint(aws::StoreEndpoint::Cache(store.clone())),
                        );
                        var(
                            "port",
                            "CACHE_PORT",
                            StoreValue::Literal(aws::CACHE_PORT.to_string()),
                        );
                        // In-transit encryption is on, and IAM authentication needs it.
                        var("tls", "CACHE_TLS", StoreValue::Literal("true".into()));
                        // The replication group an IAM token is signed for, and its IAM user:
                        // one id for both, as IAM authentication requires.
                        let id = aws::cache_id(self, store);
                        var("name", "CACHE_NAME", StoreValue::Literal(id.clone()));
                        var("user", "CACHE_USER", StoreValue::Literal(id));
                    }
                }
                service::StoreKind::Docdb => {
                    if aws.docdbs.iter().any(|c| &c.name.value == store) {
                        var(
                            "host",
                            "DOCDB_HOST",
                            StoreValue::Endpoint(aws::StoreEndpoint::Docdb(store.clone())),
                        );
                        var(
                            "port",
                            "DOCDB_PORT",
                            StoreValue::Literal(aws::DOCDB_PORT.to_string()),
                        );
                        // The cluster's parameter group enforces TLS.
                        var("tls", "DOCDB_TLS", StoreValue::Literal("true".into()));
                        // The whole connection string: IAM authentication with the pod's own
                        // role (`MONGODB-AWS`, user in `$external`), TLS, the replica set.
                        var(
                            "uri",
                            "DOCDB_URI",
                            StoreValue::Endpoint(aws::StoreEndpoint::DocdbUri(store.clone())),
                        );
                    }
                }
                service::StoreKind::Queue => {
                    if aws.queues.iter().any(|q| &q.name.value == store) {
                        var(
                            "url",
                            "QUEUE_URL",
                            StoreValue::Endpoint(aws::StoreEndpoint::Queue(store.clone())),
                        );
                    }
                }
                service::StoreKind::Topic => {
                    if aws.topics.iter().any(|t| &t.name.value == store) {
                        var(
                            "arn",
                            "TOPIC_ARN",
                            StoreValue::Endpoint(aws::StoreEndpoint::Topic(store.clone())),
                        );
                    }
                }
                service::StoreKind::Filesystem => {}
                service::StoreKind::Secret => {
                    if let Some(env) = &used.env
                        && aws.secrets.iter().any(|s| &s.name.value == store)
                    {
                        secrets.push(StoreEnv {
                            name: env.value.clone(),
                            value: StoreValue::Secret {
                                name: aws::secret_class(&service.name.value, store),
                                key: used.secret_file().to_owned(),
                            },
                            used,
                        });
                    }
                }
            }
        }
        if let Some(used) = dynamodb {
            // DynamoDB's interface endpoint has no private DNS: the SDKs read its URL here.
            vars.push(StoreEnv {
                name: "AWS_ENDPOINT_URL_DYNAMODB".into(),
                value: StoreValue::Endpoint(aws::StoreEndpoint::Dynamodb),
                used,
            });
        }
        if let Some(first) = vars.first().map(|v| v.used) {
            vars.push(StoreEnv {
                name: "AWS_REGION".into(),
                value: StoreValue::Literal(aws.region.value.clone()),
                used: first,
            });
        }
        // A secret's env vars, after: the pod calls no AWS API for them.
        vars.extend(secrets);
        vars
    }

    /// Builds the name index that makes `service` constant-time; call once the service list
    /// is final.
    pub fn index_services(&mut self) {
        // Each map with room for a key a service: grown from empty, the callers' and the
        // namespaces' were rehashed some ten times each at 1,000 services.
        let room = self.services.len();
        let mut index =
            NameIndex::with_capacity_and_hasher(room, foldhash::fast::RandomState::default());
        let mut callers: NameIndex<Vec<(usize, usize)>> =
            NameIndex::with_capacity_and_hasher(room, foldhash::fast::RandomState::default());
        let mut namespaces: NameIndex<Vec<usize>> =
            NameIndex::with_capacity_and_hasher(room, foldhash::fast::RandomState::default());
        for (i, service) in self.services.iter().enumerate() {
            index.entry(service.name.value.clone()).or_insert(i);
            namespaces
                .entry(service.namespace.clone())
                .or_default()
                .push(i);
            for (j, call) in service.calls.iter().enumerate() {
                callers
                    .entry(call.service.value.clone())
                    .or_default()
                    .push((i, j));
            }
        }
        self.index = Some(index);
        self.caller_index = Some(callers);
        self.namespace_index = Some(namespaces);
    }

    /// The services of namespace `name`, in source order: constant-time per service once
    /// `index_services` has run (emit asks once per namespace, and a platform may have a
    /// namespace per service).
    pub fn services_in(&self, name: &str) -> Vec<&Service> {
        match &self.namespace_index {
            Some(index) => index
                .get(name)
                .map(|at| at.iter().map(|&i| &self.services[i]).collect())
                .unwrap_or_default(),
            None => self
                .services
                .iter()
                .filter(|s| s.namespace == name)
                .collect(),
        }
    }

    /// Every `calls` line naming `name`, with the service that wrote it, in source order.
    pub fn callers(&self, name: &str) -> Vec<(&Service, &service::Call)> {
        match &self.caller_index {
            Some(index) => index
                .get(name)
                .map(|calls| {
                    calls
                        .iter()
                        .map(|&(i, j)| (&self.services[i], &self.services[i].calls[j]))
                        .collect()
                })
                .unwrap_or_default(),
            None => self
                .services
                .iter()
                .flat_map(|s| {
                    s.calls
                        .iter()
                        .filter(|c| c.service.value == name)
                        .map(move |c| (s, c))
                })
                .collect(),
        }
    }
}

/// An env var a service gets from a store it `uses`, and the `uses` line it comes from.
#[derive(Clone, Debug)]
pub struct StoreEnv<'a> {
    pub name: String,
    pub value: StoreValue,
    pub used: &'a service::Use,
}

/// The value of a store's env var: known when platc builds, or only once AWS has made the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreValue {
    Literal(String),
    /// Written by the Terraform cluster stage into the service's `ConfigMap`, under the var's
    /// name.
    Endpoint(aws::StoreEndpoint),
    /// Made by the kubelet from variables set before it in the container's env, which the
    /// value names as `$(VAR)` (a database's connection URI).
    Composed(String),
    /// A key of the `Secret` the Secrets Store CSI driver syncs from a secret
    /// (`aws::secret_class`).
    Secret {
        name: String,
        key: String,
    },
}

/// Where services run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamespaceMode {
    /// Each service in a namespace of its own name.
    PerService,
    /// All services in one namespace.
    Shared(Spanned<String>),
}

/// `defaults { … }` as read, before it is folded into each service.
#[derive(Clone, Debug)]
pub struct Defaults {
    pub namespace: NamespaceMode,
    pub replicas: Spanned<u32>,
}

/// A platform that passed every check. Only `check::check` makes one, and emitters take it,
/// so an unchecked model cannot reach them.
#[derive(Clone, Debug)]
pub struct Checked(Platform);

impl Checked {
    pub(crate) fn new(platform: Platform) -> Self {
        Self(platform)
    }

    /// The same platform with every canary armed: without an image of its own, so each
    /// service's Rollout runs its stable image. Dropping the canary's image cannot break a
    /// check, so the result is still a checked platform.
    #[must_use]
    pub fn with_canaries_armed(mut self) -> Self {
        for service in &mut self.0.services {
            if let Some(canary) = &mut service.canary {
                canary.tag = None;
                canary.digest = None;
            }
        }
        self
    }
}

impl std::ops::Deref for Checked {
    type Target = Platform;

    fn deref(&self) -> &Platform {
        &self.0
    }
}
