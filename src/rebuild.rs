//! A rebuild that makes again only the services a change reaches.
//!
//! A whole `platc build` over an `out/` it wrote before knows, from a record it keeps outside
//! the repository (`cache_file`), what each service's items were and what they came from: a
//! fingerprint of every input of the service's items (`fingerprints`). A service whose
//! fingerprint is unchanged would be made into the same bytes: the rebuild does not make it,
//! takes its files' hashes and origins from the old manifest, and hands the Argo CD target the
//! summaries of its items from the record. Namespaces are fingerprinted and reused the same
//! way, and so are the platform's own items (the platform's batch) with the Argo CD
//! Applications, whose fingerprint leaves out the image tags; the umbrella chart's
//! `Chart.yaml`, which reads every service's tag, is always made again.
//!
//! The record is used only when it was written by this very build of platc, for the tree
//! whose manifest is on disk now (it names the manifest's stamp: size, inode, change and
//! modification times): another checkout, a tree written by someone else, a `git checkout`
//! of an older `out/`, and the rebuild makes everything, as a first build does. It is not in
//! `out/`: it would be committed, and it changes with every build of platc.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rayon::iter::{IntoParallelIterator as _, ParallelIterator as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::emit::Reuse;
use crate::model::Checked;
use crate::output::{ApiKind, Brief, Owner, Summary};
use crate::source::Source;
use crate::write::{self, MANIFEST};

/// What a service's items are made from, as a sha256 in hex, by service name: everything
/// outside the `service` nodes of the file (each node blanked to its line breaks, so a line
/// moved from one place to another changes it), the file's name, the order of the services
/// and the build of platc running; the service's own node text, the line it starts on and
/// its config files' contents; and the same, but for the children only a service's own items
/// read (`OWN_ONLY`: its image, resources, env, probes, replicas and autoscaling), of every
/// service it names or that names it (a caller's authorization, a callee's address), that it
/// calls or that calls it in the platform as compiled (an environment's overlay may add a
/// call, and a name may be written with escapes), or that an environment's `service NAME
/// { … }` overlay of it names. A namespace's is made of its services' (their own children
/// included). The platform's (its own items and the Argo CD Applications) is made of the
/// text outside the service nodes and every service's node but its image's tag. So a new
/// image tag makes that service's items again, not its neighbours' nor the platform's.
/// `None` when the services' nodes cannot be told apart in the text (overlapping spans), or
/// this build of platc cannot be told from another (`build_id`): then everything is made.
pub fn fingerprints(source: &Source, platform: &Checked) -> Option<Fingerprints> {
    let text = source.text();
    let services = &platform.services;
    let mut order: Vec<usize> = (0..services.len()).collect();
    order.sort_by_key(|&i| services[i].span.start);
    let mut last = 0;
    let mut global = Sha256::new();
    hash_field(&mut global, build_id()?.as_bytes());
    hash_field(&mut global, source.name().as_bytes());
    for &i in &order {
        let span = services[i].span;
        let node = text.get(span.start..span.end)?;
        if span.start < last {
            return None;
        }
        hash_field(&mut global, &text.as_bytes()[last..span.start]);
        hash_field(&mut global, &node.matches('\n').count().to_le_bytes());
        last = span.end;
    }
    hash_field(&mut global, &text.as_bytes()[last..]);
    for service in services {
        hash_field(&mut global, service.name.value.as_bytes());
    }
    let global = global.finalize();

    let lines = &platform.origin;
    let own_only = own_only_children(platform);
    // Each service's face: its node without its `OWN_ONLY` children, each blanked to its line
    // breaks (as the global hash blanks the service nodes); its own hash, the face's and
    // those children's texts (each byte of the node hashed once); and what the platform's
    // batch reads of it, the face and those children but for the image's tag.
    let mut shared = Sha256::new();
    hash_field(&mut shared, &global);
    let (own, faces): (Vec<_>, Vec<_>) = services
        .iter()
        .map(|service| {
            let mut face = Sha256::new();
            hash_field(&mut face, &lines.line(service.span.start).to_le_bytes());
            let mut children = Sha256::new();
            let mut read = Sha256::new();
            let mut last = service.span.start;
            for &(span, image) in own_only.get(&service.span.start).into_iter().flatten() {
                let (Some(kept), Some(blanked)) =
                    (text.get(last..span.start), text.get(span.start..span.end))
                else {
                    continue;
                };
                hash_field(&mut face, kept.as_bytes());
                hash_field(&mut face, &blanked.matches('\n').count().to_le_bytes());
                hash_field(&mut children, blanked.as_bytes());
                if !image {
                    hash_field(&mut read, blanked.as_bytes());
                }
                last = span.end;
            }
            hash_field(&mut face, &text.as_bytes()[last..service.span.end]);
            for config in &service.configs {
                hash_field(&mut face, config.name.value.as_bytes());
                hash_field(&mut face, config.data.as_bytes());
            }
            let face = face.finalize();
            let mut own = Sha256::new();
            hash_field(&mut own, &face);
            hash_field(&mut own, &children.finalize());
            // The image as compiled but for its tag (an environment's overlay of it is in
            // the text outside the service nodes, which `global` covers).
            let image = &service.image;
            hash_field(&mut read, image.repository.value.as_bytes());
            hash_field(&mut read, &[u8::from(image.ecr)]);
            let digest = image.digest.as_ref().map(|d| d.value.as_str());
            hash_field(&mut read, digest.unwrap_or_default().as_bytes());
            hash_field(&mut read, &[u8::from(digest.is_some())]);
            hash_field(&mut shared, service.name.value.as_bytes());
            hash_field(&mut shared, &face);
            hash_field(&mut shared, &read.finalize());
            (own.finalize(), face)
        })
        .unzip();
    // Looked up for each word of each service node: 260,000 at 1,000 services.
    let index = Names::new(services.iter().map(|s| s.name.value.as_str()));
    let mut neighbours: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); services.len()];
    let mut link = |i: usize, j: usize| {
        if i != j {
            neighbours[i].insert(j);
            neighbours[j].insert(i);
        }
    };
    for (i, service) in services.iter().enumerate() {
        for word in words(&text[service.span.start..service.span.end]) {
            if let Some(j) = index.get(word) {
                link(i, j);
            }
        }
        for call in &service.calls {
            if let Some(j) = index.get(call.service.value.as_bytes()) {
                link(i, j);
            }
        }
    }
    // An environment's `service NAME { … }` overlay is part of that service as the environment
    // builds it: the services it names are tied to it as its own node's are.
    for node in platform.origin.nodes() {
        let Some(name) = node.segment.strip_prefix("service=") else {
            continue;
        };
        let Some(i) = index.get(name.as_bytes()) else {
            continue;
        };
        if node.span == services[i].span {
            continue;
        }
        for word in words(text.get(node.span.start..node.span.end).unwrap_or_default()) {
            if let Some(j) = index.get(word) {
                link(i, j);
            }
        }
    }
    let mut namespaces: BTreeMap<&str, Sha256> = BTreeMap::new();
    let services: BTreeMap<String, String> = services
        .iter()
        .enumerate()
        .map(|(i, service)| {
            let mut print = Sha256::new();
            hash_field(&mut print, &global);
            hash_field(&mut print, &own[i]);
            for &j in &neighbours[i] {
                hash_field(&mut print, services[j].name.value.as_bytes());
                hash_field(&mut print, &faces[j]);
            }
            let print = print.finalize();
            let namespace = namespaces
                .entry(service.namespace.as_str())
                .or_insert_with(|| {
                    let mut hash = Sha256::new();
                    hash_field(&mut hash, &global);
                    hash
                });
            hash_field(namespace, service.name.value.as_bytes());
            hash_field(namespace, &print);
            (service.name.value.clone(), write::sha256_hex_bytes(&print))
        })
        .collect();
    let namespaces = namespaces
        .into_iter()
        .map(|(name, hash)| (name.to_owned(), write::sha256_hex_bytes(&hash.finalize())))
        .collect();
    Some(Fingerprints {
        services,
        namespaces,
        platform: write::sha256_hex_bytes(&shared.finalize()),
    })
}

/// The children of a service node that only the service's own items read: what its
/// neighbours' items (a caller's address and egress, a callee's authorization, a namespace's
/// `Sidecar`) take of a service is its name, namespace, ports, calls and mesh settings,
/// never these. `tests/rebuild.rs` holds it: every line of every service of every built case
/// blanked, and every service's image changed, the rebuild that makes only that service
/// again is the fresh build.
const OWN_ONLY: [&str; 6] = [
    "image",
    "resources",
    "env",
    "probe",
    "replicas",
    "autoscale",
];

/// The spans of the `OWN_ONLY` children of each service node of the document, in source
/// order, by the service node's start, each with whether it is the `image`.
fn own_only_children(platform: &Checked) -> HashMap<usize, Vec<(crate::span::Span, bool)>> {
    let nodes = platform.origin.nodes();
    let service_spans: std::collections::HashSet<(usize, usize)> = platform
        .services
        .iter()
        .map(|s| (s.span.start, s.span.end))
        .collect();
    let mut children: HashMap<usize, Vec<(crate::span::Span, bool)>> = HashMap::new();
    for node in nodes {
        let Some(parent) = node.parent.and_then(|p| nodes.get(p)) else {
            continue;
        };
        if !service_spans.contains(&(parent.span.start, parent.span.end)) {
            continue;
        }
        let name = node.segment.split(['=', '[']).next().unwrap_or_default();
        if OWN_ONLY.contains(&name) {
            children
                .entry(parent.span.start)
                .or_default()
                .push((node.span, name == "image"));
        }
    }
    children
}

/// The fingerprints of a platform's services and namespaces, by name, and of its own items
/// (the platform's batch, `emit::emit_in_batches`, and the Argo CD Applications).
#[derive(Debug)]
pub struct Fingerprints {
    services: BTreeMap<String, String>,
    namespaces: BTreeMap<String, String>,
    /// What the platform's batch and the Applications read: `global`, and each service's
    /// name, face and `OWN_ONLY` children but for its image's tag (which only the umbrella
    /// chart's `Chart.yaml` reads of them, made apart: `helm::umbrella_chart`).
    platform: String,
}

/// The words of `text` that could be a service's name (DNS labels): its runs of ASCII
/// letters, digits, `-` and `_` (any other byte, each byte of a character beyond ASCII too,
/// ends a word).
fn words(text: &str) -> impl Iterator<Item = &[u8]> {
    text.as_bytes()
        .split(|&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .filter(|word| !word.is_empty())
}

/// The services' names, by position, for the look-up of each word of each service node
/// (260,000 at 1,000 services, most of them no name: `image`, `port`, `8080`). A word whose
/// first byte and length no name has is passed over without a hash.
struct Names<'a> {
    index: HashMap<&'a [u8], usize, foldhash::fast::RandomState>,
    /// For each first byte, a bit for each length (the last for 63 bytes and more) of a name
    /// that starts with it.
    lengths: [u64; 256],
}

impl<'a> Names<'a> {
    fn new(names: impl Iterator<Item = &'a str>) -> Self {
        let mut lengths = [0u64; 256];
        let index = names
            .enumerate()
            .map(|(i, name)| {
                if let Some(&first) = name.as_bytes().first() {
                    lengths[usize::from(first)] |= 1 << name.len().min(63);
                }
                (name.as_bytes(), i)
            })
            .collect();
        Self { index, lengths }
    }

    /// The position of the name `word` is, if it is one.
    fn get(&self, word: &[u8]) -> Option<usize> {
        match word.first() {
            Some(&first) if self.lengths[usize::from(first)] >> word.len().min(63) & 1 == 0 => None,
            _ => self.index.get(word).copied(),
        }
    }
}

/// Hashes `bytes` with its length ahead, so that no two lists of fields hash alike.
fn hash_field(hash: &mut Sha256, bytes: &[u8]) {
    hash.update(bytes.len().to_le_bytes());
    hash.update(bytes);
}

/// This build of platc: its version and its executable's stamp (size, inode, and times of
/// change and modification: a binary replaced at the same path, even with the same size and
/// modification time as a reproducible build gives, has another change time). A record
/// another build wrote is not used (its emitters may make other bytes). `None` when the
/// executable cannot be found: no record is then read or written.
pub(crate) fn build_id() -> Option<&'static str> {
    static ID: OnceLock<Option<String>> = OnceLock::new();
    ID.get_or_init(|| {
        let exe = write::Stamp::of(&std::env::current_exe().ok()?)?;
        Some(format!("platc {} {exe:?}", env!("CARGO_PKG_VERSION")))
    })
    .as_deref()
}

/// What a build knows of the tree it wrote: kept outside `out/` (`cache_file`), before a
/// last line (`Header`) that says which tree it holds for.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Record {
    /// Each tree with a manifest of its own, by its directory in `out/` (`""` for `out/`
    /// itself, `env/NAME/` for an environment's).
    trees: BTreeMap<String, KeptTree>,
}

/// A tree's record as a build keeps it until it is saved: as made, or already encoded
/// (`TreeRecord::encoded`), or encoded into a file of the cache (`TreeRecord::spilled`). A
/// first build spills each tree's as soon as the tree is made: at 10,000 services each
/// tree's record was 67 MB of values (800,000 paths and identities, each in strings of its
/// own) and is 37 MB of text, and the first tree's text was held while the second was made,
/// and both at the build's end, its peak.
#[derive(Clone, Debug, PartialEq)]
pub enum KeptTree {
    Made(TreeRecord),
    /// `serde_json`'s compact text of a `TreeRecord`.
    Encoded(Vec<u8>),
    /// The same text, in a file of the cache.
    Spilled(Spilled),
}

/// A file of the cache holding a tree's record's text (`KeptTree::Spilled`), removed once no
/// record holds it.
#[derive(Clone, Debug)]
pub struct Spilled(std::sync::Arc<SpillFile>);

impl PartialEq for Spilled {
    fn eq(&self, other: &Self) -> bool {
        self.0.path == other.0.path
    }
}

/// The file behind a `Spilled`, and its length: removed when dropped. (Left by a process
/// that did not end, `tree-spill-PID-N.tmp`, it is removed with the cache's other stale
/// temporary files, `evict`.)
#[derive(Debug)]
struct SpillFile {
    path: PathBuf,
    len: u64,
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Spilled {
    /// Its text, read back.
    fn read(&self) -> Option<Vec<u8>> {
        std::fs::read(&self.0.path).ok()
    }
}

impl From<TreeRecord> for KeptTree {
    fn from(tree: TreeRecord) -> Self {
        Self::Made(tree)
    }
}

impl<'de> Deserialize<'de> for KeptTree {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        TreeRecord::deserialize(deserializer).map(Self::Made)
    }
}

/// The last line of a record's file: who wrote it, for which manifest. (Last: the record's
/// text is written while the tree is, before the manifest's stamp is known, `Begun`.)
#[derive(Serialize, Deserialize)]
struct Header {
    /// `build_id()` of the platc that wrote it.
    platc: String,
    /// The stamp of the manifest of the tree it describes.
    manifest: write::Stamp,
    /// The stamps of the manifests of the trees nested in it (`write::Old::noted`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    nested: Vec<(String, write::Stamp)>,
}

/// One tree's services and namespaces, and the platform's batch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TreeRecord {
    services: BTreeMap<String, PartRecord>,
    namespaces: BTreeMap<String, PartRecord>,
    /// The items of the platform's batch (`emit::emit_in_batches`; its namespaces' too, of
    /// the egress gateway's, which no service's fingerprint covers) and the Argo CD
    /// Applications, whatever their owners: handed back, each is the platform's (the Argo CD
    /// target, the one reader of owners that looks past the service's, does not run when
    /// they are kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    platform: Option<PartRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct PartRecord {
    fingerprint: String,
    /// Its items, as the Argo CD target reads them, in the order they were made.
    items: Vec<ItemRecord>,
}

/// An item: its path, its identity and a `Rollout`'s value (as a summary holds them, so a
/// summary's becomes the record's, and back, without a copy), and its rank: where its path
/// falls among the paths of every item of its tree (`TreeRecord::rank`), so that a rebuild
/// finds the kept items' entries in one walk down the old manifest, which is sorted by path
/// (`TreeRecord::reuse`), not by a look-up each (80,000 at 1,000 services, a cache miss or
/// two each). Encoded as a JSON array, `[path, [API version, kind, namespace, name], rollout,
/// rank]` (the identity and the rollout `null` when there is none): most of the record, and
/// its fields' names would be half of it.
#[derive(Clone, Debug, PartialEq)]
struct ItemRecord(Brief, u32);

impl Serialize for ItemRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple as _;
        let brief = &self.0;
        let mut tuple = serializer.serialize_tuple(4)?;
        tuple.serialize_element(brief.path())?;
        tuple.serialize_element(
            &brief
                .id()
                .map(|id| (id.api_version, id.kind, id.namespace, id.name)),
        )?;
        tuple.serialize_element(&brief.rollout())?;
        tuple.serialize_element(&self.1)?;
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for ItemRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = ItemRecord;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an item: path, identity, rollout and rank")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ItemRecord, A::Error> {
                use serde::de::Error as _;
                let missing = |field: usize| A::Error::invalid_length(field, &self);
                let path: Text = seq.next_element()?.ok_or_else(|| missing(0))?;
                let id: Option<IdRecord> = seq.next_element()?.ok_or_else(|| missing(1))?;
                let rollout: Option<Box<serde_json::Value>> =
                    seq.next_element()?.ok_or_else(|| missing(2))?;
                let rank: u32 = seq.next_element()?.ok_or_else(|| missing(3))?;
                let id = match &id {
                    Some(IdRecord(api_version, kind, namespace, name)) => Some((
                        ApiKind::read(api_version.0, kind.0)
                            .ok_or_else(|| A::Error::custom("more kinds than a platform makes"))?,
                        namespace.as_ref().map(|n| &*n.0),
                        &*name.0,
                    )),
                    None => None,
                };
                let brief = Brief::new(&path.0, id, rollout)
                    .ok_or_else(|| A::Error::custom("texts longer than a platform makes"))?;
                Ok(ItemRecord(brief, rank))
            }
        }
        deserializer.deserialize_tuple(4, Fields)
    }
}

/// A text of a record, borrowed from its bytes where it has no escape.
struct Text<'a>(std::borrow::Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a text")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                text: &'de str,
            ) -> Result<Text<'a>, E> {
                Ok(Text(text.into()))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Text<'a>, E> {
                Ok(Text(text.to_owned().into()))
            }
        }
        deserializer.deserialize_str(Visit(std::marker::PhantomData))
    }
}

/// The rank of an item not ranked yet (one made now).
const UNRANKED: u32 = u32::MAX;

/// `items` in order of their ranks (the first field). Each put in its place in a table of
/// the ranks, with no comparison, when they are distinct and fall below twice their count
/// (and a little more), as a record's do: each item's place among its tree's (the kept
/// items' of a rebuild of 1,000 services, 40,000 a tree, sorted, were a fifth of the walk
/// that reuses them); else sorted.
fn in_rank_order<T: Copy>(mut items: Vec<(u32, T)>) -> Vec<(u32, T)> {
    const FREE: u32 = u32::MAX;
    let bound = items.len().saturating_mul(2).saturating_add(1024);
    let ranks = items
        .iter()
        .map(|&(rank, _)| rank)
        .max()
        .map_or(0, |max| (max as usize).saturating_add(1));
    let mut table = if ranks <= bound && items.len() < FREE as usize {
        vec![FREE; ranks]
    } else {
        Vec::new()
    };
    let placed = !table.is_empty()
        && (0u32..).zip(&items).all(|(at, &(rank, _))| {
            let slot = &mut table[rank as usize];
            let free = *slot == FREE;
            *slot = at;
            free
        });
    if !placed {
        items.sort_unstable_by_key(|&(rank, _)| rank);
        return items;
    }
    // Sized once: collected from the filter, the list grew by doubling (80,000 items a tree
    // at 1,000 services), each time into fresh pages.
    let mut ordered = Vec::with_capacity(items.len());
    ordered.extend(
        table
            .into_iter()
            .filter(|&at| at != FREE)
            .map(|at| items[at as usize]),
    );
    ordered
}

/// An identity as a record names it: API version, kind, namespace, name.
#[derive(Deserialize)]
struct IdRecord<'a>(
    Interned,
    Interned,
    #[serde(borrow)] Option<Text<'a>>,
    #[serde(borrow)] Text<'a>,
);

/// An API version or a kind, as an `Identity` holds it: one of a few texts, each kept once
/// (`intern`), not two strings per item (800,000 items at 10,000 services).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Interned(&'static str);

impl<'de> Deserialize<'de> for Interned {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Interned;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an API version or a kind")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Interned, E> {
                intern(text)
                    .map(Interned)
                    .ok_or_else(|| E::custom("more kinds than a platform makes"))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

impl TreeRecord {
    /// The record of a tree whose services and namespaces have `fingerprints`, and whose
    /// items are summarised in `made` (the parts made now) and `before` (the record of the
    /// tree it rebuilt, for the parts reused, whose summaries `kept` gives back: `refill`).
    /// `walked`: the parts reused were found by their ranks in one walk down the old
    /// manifest (`TreeReuse::walked`), so their ranks are in their paths' order.
    pub fn new(
        fingerprints: &Fingerprints,
        made: [Vec<Summary>; 3],
        kept: [Vec<Summary>; 2],
        mut before: Option<TreeRecord>,
        walked: bool,
    ) -> Self {
        if let Some(before) = &mut before {
            before.refill(kept);
        }
        let [services, namespaces, platform] = made;
        let made = [services, namespaces];
        let mut record = Self {
            platform: (!platform.is_empty()).then(|| PartRecord {
                fingerprint: fingerprints.platform.clone(),
                items: platform
                    .into_iter()
                    .map(|summary| ItemRecord(summary.into_brief(), UNRANKED))
                    .collect(),
            }),
            ..Self::default()
        };
        // Each part's list sized once, from its items counted first (800,000 items at 10,000
        // services: grown by doubling, a third of the room would be spare). A part's items
        // mostly come one after another: counted a run at a time.
        let mut counts: BTreeMap<(bool, &str), usize> = BTreeMap::new();
        for run in made
            .iter()
            .flat_map(|made| made.chunk_by(|a, b| a.owner() == b.owner()))
        {
            let key = match run[0].owner() {
                Owner::Service(name) => (true, name.as_str()),
                Owner::Namespace(name) => (false, name.as_str()),
                Owner::Platform => continue,
            };
            *counts.entry(key).or_default() += run.len();
        }
        for ((service, name), count) in counts {
            let (records, prints) = if service {
                (&mut record.services, &fingerprints.services)
            } else {
                (&mut record.namespaces, &fingerprints.namespaces)
            };
            if let Some(fingerprint) = prints.get(name) {
                records.insert(
                    name.to_owned(),
                    PartRecord {
                        fingerprint: fingerprint.clone(),
                        items: Vec::with_capacity(count),
                    },
                );
            }
        }
        for summary in made.into_iter().flatten() {
            let (records, name) = match summary.owner() {
                Owner::Service(name) => (&mut record.services, name),
                Owner::Namespace(name) => (&mut record.namespaces, name),
                Owner::Platform => continue,
            };
            let Some(part) = records.get_mut(name) else {
                continue;
            };
            part.items.push(ItemRecord(summary.into_brief(), UNRANKED));
        }
        if let Some(mut before) = before {
            let pairs = [
                (
                    &mut record.services,
                    &fingerprints.services,
                    &mut before.services,
                ),
                (
                    &mut record.namespaces,
                    &fingerprints.namespaces,
                    &mut before.namespaces,
                ),
            ];
            // The kept parts' records move over (40,000 items a tree at 1,000 services).
            for (records, prints, old) in pairs {
                for (name, fingerprint) in prints {
                    if !records.contains_key(name)
                        && let Some(old) = old.remove(name)
                        && old.fingerprint == *fingerprint
                    {
                        records.insert(name.clone(), old);
                    }
                }
            }
            if record.platform.is_none() {
                record.platform = before
                    .platform
                    .filter(|old| old.fingerprint == fingerprints.platform);
            }
        }
        record.rank(walked);
        record
    }

    /// Gives the items of the parts a rebuild kept back what `take_summaries` took of them:
    /// `kept`, the summaries it gave, each part's in its order, one part after another (as
    /// `emit::Batches::kept` hands them back). A part not given back whole is dropped (the
    /// next rebuild makes it again).
    fn refill(&mut self, kept: [Vec<Summary>; 2]) {
        for summaries in kept {
            // The part of the summary before, and its next item to fill (the items filled
            // are the first ones: each has a path again).
            let mut part: Option<(Owner, &mut PartRecord, usize)> = None;
            for summary in summaries {
                if part
                    .as_ref()
                    .is_none_or(|(owner, _, _)| owner != summary.owner())
                {
                    let record = match summary.owner() {
                        Owner::Service(name) => self.services.get_mut(name),
                        Owner::Namespace(name) => self.namespaces.get_mut(name),
                        Owner::Platform => self.platform.as_mut(),
                    };
                    // Its next item to fill: the first still taken (a part's summaries
                    // come in one run, but were they in two, in order, the second would
                    // go on where the first stopped).
                    part = record.map(|record| {
                        let next = record
                            .items
                            .partition_point(|item| !item.0.path().is_empty());
                        (summary.owner().clone(), record, next)
                    });
                }
                let Some((_, record, next)) = &mut part else {
                    continue;
                };
                if let Some(item) = record.items.get_mut(*next) {
                    item.0 = summary.into_brief();
                }
                *next += 1;
            }
        }
        // Every item has a path: one without was taken and not given back.
        for parts in [&mut self.services, &mut self.namespaces] {
            parts.retain(|_, part| part.items.iter().all(|item| !item.0.path().is_empty()));
        }
        self.platform = self
            .platform
            .take()
            .filter(|part| part.items.iter().all(|item| !item.0.path().is_empty()));
    }

    /// Ranks every item by its path: the kept parts' items, already ranked among themselves,
    /// stay in their order (checked unless `walked` found them in it); the items made now are
    /// sorted (a rebuild's few) and each put in its place among them by a binary search.
    /// (Places as two `u32`s: a first build of 10,000 services sorts 400,000 a tree, at the
    /// build's peak.)
    fn rank(&mut self, walked: bool) {
        let mut parts: Vec<&mut PartRecord> = self
            .services
            .values_mut()
            .chain(self.namespaces.values_mut())
            .chain(self.platform.as_mut())
            .collect();
        // Room for every item (most are kept): grown by doubling, the list was copied again
        // and again into fresh pages.
        let items = parts.iter().map(|part| part.items.len()).sum();
        let mut kept: Vec<(u32, (u32, u32))> = Vec::with_capacity(items);
        let mut made: Vec<(u32, u32)> = Vec::new();
        for (p, part) in (0u32..).zip(parts.iter()) {
            for (i, item) in (0u32..).zip(&part.items) {
                if item.1 == UNRANKED {
                    made.push((p, i));
                } else {
                    kept.push((item.1, (p, i)));
                }
            }
        }
        // By their old ranks: a table of them, not a sort (a third of this record's making
        // in a steady rebuild of 1,000 services).
        let mut kept: Vec<(u32, u32)> = in_rank_order(kept)
            .into_iter()
            .map(|(_, place)| place)
            .collect();
        let order = {
            let view: &[&mut PartRecord] = &parts;
            let path = |&(p, i): &(u32, u32)| view[p as usize].items[i as usize].0.path();
            // A record edited by hand, or ranked by another rule: sorted again.
            if !walked && !kept.is_sorted_by(|a, b| path(a) < path(b)) {
                kept.sort_unstable_by(|a, b| path(a).cmp(path(b)));
            }
            made.sort_unstable_by(|a, b| path(a).cmp(path(b)));
            if kept.is_empty() {
                made
            } else {
                let mut order = Vec::with_capacity(kept.len() + made.len());
                let mut rest = kept.as_slice();
                for item in made {
                    let before = rest.partition_point(|k| path(k) < path(&item));
                    order.extend_from_slice(&rest[..before]);
                    order.push(item);
                    rest = &rest[before..];
                }
                order.extend_from_slice(rest);
                order
            }
        };
        for (rank, (p, i)) in (0u32..).zip(order) {
            parts[p as usize].items[i as usize].1 = rank;
        }
    }
}

/// What a rebuild reuses of one tree: the services it makes again, the summaries of the
/// others' items, and their files' manifest entries (paths in `out/`, the tree's directory
/// ahead: the top manifest's).
pub struct TreeReuse {
    pub reuse: Reuse,
    /// In the old manifest's order, which is by path as platc writes it.
    pub entries: Vec<(String, write::Entry)>,
    /// Whether the parts kept were found in one walk down the old manifest, by their ranks
    /// (`TreeRecord::reuse_in_order`): then their ranks are in their paths' order.
    pub walked: bool,
    /// Walked, each entry's place in the old manifest (rising): the new manifest's text
    /// copies each run of them from the old text (`write::manifest_text_reusing`).
    pub places: Vec<u32>,
}

impl Record {
    /// A record of the trees of a build.
    pub fn new(trees: BTreeMap<String, KeptTree>) -> Self {
        Self { trees }
    }

    /// Its text in the cache, less the last line (`finish` adds it once the manifest it holds
    /// for is written): made while the tree is written.
    pub fn encode(&self) -> Option<Vec<u8>> {
        // In a buffer of about its size (7 MB at 1,000 services): grown by doubling from
        // nothing, it would be copied a dozen times, each time into fresh pages.
        let mut text = Vec::with_capacity(self.size_hint());
        self.write_to(&mut text).ok()?;
        Some(text)
    }

    /// Not freed, for a process about to end, but for the files its spilled trees are in
    /// (`KeptTree::Spilled`), which are removed.
    pub fn forget_but_files(self) {
        for (_, tree) in self.trees {
            match tree {
                KeptTree::Spilled(spilled) => drop(spilled),
                tree => std::mem::forget(tree),
            }
        }
    }

    /// Its text, as `serde_json` writes a map of trees by directory, each tree's encoded
    /// text as it is, and a line break ahead of each tree and of the map's end.
    pub fn write_to(&self, to: &mut impl std::io::Write) -> serde_json::Result<()> {
        to.write_all(b"{\"trees\":{")
            .map_err(serde_json::Error::io)?;
        for (at, (dir, tree)) in self.trees.iter().enumerate() {
            // Each tree on a line of its own (no JSON text `serde_json` writes holds a line
            // break): a rebuild finds them by their lines (`trees_in`).
            let start: &[u8] = if at > 0 { b"\n," } else { b"\n" };
            to.write_all(start).map_err(serde_json::Error::io)?;
            serde_json::to_writer(&mut *to, dir)?;
            to.write_all(b":").map_err(serde_json::Error::io)?;
            match tree {
                KeptTree::Made(tree) => serde_json::to_writer(&mut *to, tree)?,
                KeptTree::Encoded(text) => to.write_all(text).map_err(serde_json::Error::io)?,
                KeptTree::Spilled(spilled) => {
                    let mut file =
                        std::fs::File::open(&spilled.0.path).map_err(serde_json::Error::io)?;
                    let copied = std::io::copy(&mut file, to).map_err(serde_json::Error::io)?;
                    if copied != spilled.0.len {
                        return Err(serde_json::Error::io(
                            std::io::ErrorKind::UnexpectedEof.into(),
                        ));
                    }
                }
            }
        }
        to.write_all(b"\n}}").map_err(serde_json::Error::io)
    }

    /// About the bytes `encode` gives, a little more rather than less (room never written
    /// is never touched).
    fn size_hint(&self) -> usize {
        self.trees
            .iter()
            .map(|(dir, tree)| {
                dir.len()
                    + 8
                    + match tree {
                        KeptTree::Made(tree) => tree.size_hint(),
                        KeptTree::Encoded(text) => text.len(),
                        KeptTree::Spilled(spilled) => {
                            usize::try_from(spilled.0.len).unwrap_or(usize::MAX)
                        }
                    }
            })
            .sum::<usize>()
            + 16
    }

    /// Whether the trees at `dirs` are every tree recorded, each with the services and
    /// namespaces that `prints` gives it, with the fingerprints recorded: then a build makes
    /// exactly the tree whose manifest the record holds for. Each service's fingerprint
    /// covers the text outside the service nodes too; a tree without services has nothing
    /// that does, and is never unchanged.
    pub fn unchanged(&self, trees: &[(String, Fingerprints)]) -> bool {
        fn same(parts: &BTreeMap<String, PartRecord>, prints: &BTreeMap<String, String>) -> bool {
            parts.len() == prints.len()
                && parts
                    .iter()
                    .zip(prints)
                    .all(|((name, part), (named, print))| {
                        name == named && part.fingerprint == *print
                    })
        }
        self.trees.len() == trees.len()
            && trees.iter().all(|(dir, prints)| {
                !prints.services.is_empty()
                    && self.trees.get(dir).is_some_and(|tree| {
                        // A record read (the only one asked) is as made; an encoded one is
                        // taken for changed, and the build makes its tree.
                        let KeptTree::Made(tree) = tree else {
                            return false;
                        };
                        same(&tree.services, &prints.services)
                            && same(&tree.namespaces, &prints.namespaces)
                    })
            })
    }

    /// The record of the tree at `dir` (`""`, or `env/NAME/`), taken out (an empty one when
    /// it has none): a rebuild of that tree reads it (`TreeRecord::reuse`), then moves what
    /// it kept to its new record.
    pub fn take(&mut self, dir: &str) -> TreeRecord {
        match self.trees.remove(dir) {
            Some(KeptTree::Made(tree)) => tree,
            Some(KeptTree::Encoded(text)) => serde_json::from_slice(&text).unwrap_or_default(),
            Some(KeptTree::Spilled(spilled)) => spilled
                .read()
                .and_then(|text| serde_json::from_slice(&text).ok())
                .unwrap_or_default(),
            None => TreeRecord::default(),
        }
    }
}

impl TreeRecord {
    /// The record, encoded into a new file of the cache (`KeptTree::Spilled`) through a
    /// buffer, its text never held whole; `encoded` when there is no cache or the file cannot
    /// be written.
    pub fn spilled(&self) -> KeptTree {
        self.spilled_in(cache_dir().as_deref())
    }

    /// `spilled`, into a file of `dir`.
    fn spilled_in(&self, dir: Option<&Path>) -> KeptTree {
        static SPILLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let spill = || -> Option<SpillFile> {
            let at = SPILLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = dir?.join(format!("tree-spill-{}-{at}.tmp", std::process::id()));
            let file = create_new(&path)?;
            // Removed when dropped: on any error below, too.
            let mut spilled = SpillFile { path, len: 0 };
            let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
            serde_json::to_writer(&mut writer, self).ok()?;
            let file = writer.into_inner().ok()?;
            spilled.len = file.metadata().ok()?.len();
            Some(spilled)
        };
        match spill() {
            Some(file) => KeptTree::Spilled(Spilled(std::sync::Arc::new(file))),
            None => self.encoded(),
        }
    }

    /// The record, encoded (`KeptTree::Encoded`) into a buffer of about its size.
    pub fn encoded(&self) -> KeptTree {
        let mut text = Vec::with_capacity(self.size_hint());
        match serde_json::to_writer(&mut text, self) {
            Ok(()) => KeptTree::Encoded(text),
            // Our types always serialise; were one not to, the record is kept as made.
            Err(_) => KeptTree::Made(self.clone()),
        }
    }

    /// About the bytes of its text, a little more rather than less: each item's strings and
    /// its punctuation, a `Rollout` as 4 KB.
    fn size_hint(&self) -> usize {
        let item = |ItemRecord(brief, _): &ItemRecord| {
            let id = brief.id().map_or(4, |id| {
                id.api_version.len()
                    + id.kind.len()
                    + id.namespace.map_or(4, str::len)
                    + id.name.len()
                    + 16
            });
            // The rank: up to 10 digits and a comma.
            brief.path().len() + id + brief.rollout().map_or(4, |_| 4096) + 8 + 11
        };
        let parts = |parts: &BTreeMap<String, PartRecord>| -> usize {
            parts
                .iter()
                .map(|(name, part)| {
                    name.len()
                        + part.fingerprint.len()
                        + 32
                        + part.items.iter().map(item).sum::<usize>()
                })
                .sum()
        };
        let platform = self.platform.as_ref().map_or(0, |part| {
            part.fingerprint.len() + 48 + part.items.iter().map(item).sum::<usize>()
        });
        48 + parts(&self.services) + parts(&self.namespaces) + platform
    }

    /// What the tree at `dir` (`""`, or `env/NAME/`) of a rebuild reuses, this its record:
    /// every service and namespace whose fingerprint is the record's, and whose files the old
    /// manifest all lists, is not made.
    pub fn reuse(
        &mut self,
        old: &write::Listing,
        dir: &str,
        fingerprints: &Fingerprints,
    ) -> TreeReuse {
        match old.ordered() {
            Some(ordered) => self.reuse_in_order(ordered, dir, fingerprints),
            None => self.reuse_by_look_up(old, dir, fingerprints),
        }
    }

    /// `reuse`, when the old manifest is sorted by path (as platc writes it): the kept
    /// parts' items taken in the order of their ranks, which is their paths' (`rank`), and
    /// each found in one walk down the old manifest. An item whose rank is out of its path's
    /// order is not found, and its part is made again.
    fn reuse_in_order(
        &mut self,
        old: write::Ordered,
        dir: &str,
        fingerprints: &Fingerprints,
    ) -> TreeReuse {
        let mut reuse = Reuse::default();
        // The parts whose fingerprints are the record's: services, then namespaces, each by
        // name, as `reuse_by_look_up` takes them (the Argo CD target reads their summaries in
        // this order).
        let mut parts: Vec<(Owner, &PartRecord)> = Vec::new();
        for (name, fingerprint) in &fingerprints.services {
            match self.services.get(name) {
                Some(part) if part.fingerprint == *fingerprint => {
                    parts.push((Owner::Service(name.clone()), part));
                }
                _ => {
                    reuse.make.insert(name.clone());
                }
            }
        }
        for (name, fingerprint) in &fingerprints.namespaces {
            if let Some(part) = self.namespaces.get(name)
                && part.fingerprint == *fingerprint
            {
                parts.push((Owner::Namespace(name.clone()), part));
            }
        }
        if let Some(part) = &self.platform
            && part.fingerprint == fingerprints.platform
        {
            parts.push((Owner::Platform, part));
        }
        // Sized once, as `in_rank_order`'s list.
        let mut items: Vec<(u32, (usize, &str))> =
            Vec::with_capacity(parts.iter().map(|(_, part)| part.items.len()).sum());
        items.extend(parts.iter().enumerate().flat_map(|(p, (_, part))| {
            part.items
                .iter()
                .map(move |ItemRecord(brief, rank)| (*rank, (p, brief.path())))
        }));
        let items = in_rank_order(items);
        // Each kept item's part and place in the old manifest, in its order; and the parts
        // with a file the old manifest does not list.
        let mut found: Vec<(usize, usize)> = Vec::with_capacity(items.len());
        let mut missing = vec![false; parts.len()];
        let mut at = 0;
        let mut path = String::from(dir);
        for (_, (p, item)) in items {
            path.truncate(dir.len());
            path.push_str(item);
            while at < old.len() && old.path(at) < path.as_str() {
                at += 1;
            }
            if at < old.len() && old.path(at) == path {
                found.push((p, at));
                at += 1;
            } else {
                missing[p] = true;
            }
        }
        let kept = parts
            .iter()
            .zip(&missing)
            .filter(|(_, missing)| !**missing)
            .map(|((_, part), _)| part.items.len())
            .sum();
        reuse.kept.reserve_exact(kept);
        let owners: Vec<Owner> = parts.into_iter().map(|(owner, _)| owner).collect();
        for (owner, missing) in owners.iter().zip(&missing) {
            let part = match (owner, missing) {
                (Owner::Service(name), true) => {
                    reuse.make.insert(name.clone());
                    continue;
                }
                (_, true) => continue,
                (Owner::Service(name), false) => self.services.get_mut(name),
                (Owner::Namespace(name), false) => {
                    reuse.keep_namespaces.insert(name.clone());
                    self.namespaces.get_mut(name)
                }
                (Owner::Platform, false) => {
                    reuse.keep_platform = true;
                    self.platform.as_mut()
                }
            };
            if let Some(part) = part {
                reuse.kept.extend(take_summaries(owner, &mut part.items));
            }
        }
        let kept: Vec<usize> = found
            .into_iter()
            .filter(|&(p, _)| !missing[p])
            .map(|(_, at)| at)
            .collect();
        let entries = kept
            .iter()
            .map(|&at| {
                let (origin, sha256) = old.entry(at);
                let entry = write::Entry {
                    origin: write::Origin::parse(origin),
                    sha256: write::FileHash::from_hex(sha256),
                };
                (old.path(at).to_owned(), entry)
            })
            .collect();
        let mut places = Vec::with_capacity(kept.len());
        for at in kept {
            let Ok(at) = u32::try_from(at) else {
                places = Vec::new();
                break;
            };
            places.push(at);
        }
        TreeReuse {
            reuse,
            entries,
            walked: true,
            places,
        }
    }

    /// `reuse`, each kept item's entry looked up in the old manifest.
    fn reuse_by_look_up(
        &mut self,
        old: &write::Listing,
        dir: &str,
        fingerprints: &Fingerprints,
    ) -> TreeReuse {
        // Room for every recorded item (most are kept): 40,000 a tree at 1,000 services,
        // which grown by doubling would be copied again and again.
        let recorded = self
            .services
            .values()
            .chain(self.namespaces.values())
            .chain(&self.platform)
            .map(|part| part.items.len())
            .sum();
        let mut reuse = Reuse {
            kept: Vec::with_capacity(recorded),
            ..Reuse::default()
        };
        let mut entries: Vec<Placed> = Vec::with_capacity(recorded);
        let (services, namespaces) = (&mut self.services, &mut self.namespaces);
        for (name, fingerprint) in &fingerprints.services {
            let owner = Owner::Service(name.clone());
            let reused = reused(old, dir, services.get_mut(name), fingerprint, &owner);
            match reused {
                Some((kept, listed)) => {
                    reuse.kept.extend(kept);
                    entries.extend(listed);
                }
                None => {
                    reuse.make.insert(name.clone());
                }
            }
        }
        for (name, fingerprint) in &fingerprints.namespaces {
            let owner = Owner::Namespace(name.clone());
            let reused = reused(old, dir, namespaces.get_mut(name), fingerprint, &owner);
            if let Some((kept, listed)) = reused {
                reuse.keep_namespaces.insert(name.clone());
                reuse.kept.extend(kept);
                entries.extend(listed);
            }
        }
        let platform = self.platform.as_mut();
        if let Some((kept, listed)) =
            reused(old, dir, platform, &fingerprints.platform, &Owner::Platform)
        {
            reuse.keep_platform = true;
            reuse.kept.extend(kept);
            entries.extend(listed);
        }
        // In the manifest's order, so that the new manifest takes them without a sort.
        entries.sort_unstable_by_key(|(place, _)| *place);
        let entries = entries.into_iter().map(|(_, entry)| entry).collect();
        TreeReuse {
            reuse,
            entries,
            walked: false,
            places: Vec::new(),
        }
    }
}

/// A kept file's manifest entry and its place in the old manifest.
type Placed = (u32, (String, write::Entry));

/// What a rebuild keeps of a part it does not make: its items' summaries and its files'
/// manifest entries.
type Kept = (Vec<Summary>, Vec<Placed>);

/// The summaries and manifest entries of the part of `owner` (of the tree at `dir`), this its
/// record, when its fingerprint is still `fingerprint` and the old manifest lists every file
/// of it.
fn reused(
    old: &write::Listing,
    dir: &str,
    record: Option<&mut PartRecord>,
    fingerprint: &str,
    owner: &Owner,
) -> Option<Kept> {
    let record = record.filter(|r| r.fingerprint == fingerprint)?;
    let mut path = String::from(dir);
    let listed = record
        .items
        .iter()
        .map(|item| {
            path.truncate(dir.len());
            path.push_str(item.0.path());
            let (origin, sha256, place) = old.placed(&path)?;
            let entry = write::Entry {
                origin: write::Origin::parse(origin),
                sha256: write::FileHash::from_hex(sha256),
            };
            Some((place, (path.clone(), entry)))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((take_summaries(owner, &mut record.items).collect(), listed))
}

/// The summaries of the recorded items of `owner`, taken out of them, not copied (80,000
/// items a tree at 1,000 services), the owner one for them all: each item keeps its rank
/// alone until the summary comes back (`TreeRecord::refill`).
fn take_summaries<'a>(
    owner: &Owner,
    items: &'a mut [ItemRecord],
) -> impl Iterator<Item = Summary> + 'a {
    let owner = std::sync::Arc::new(owner.clone());
    items
        .iter_mut()
        .map(move |item| Summary::new(std::mem::take(&mut item.0), owner.clone()))
}

/// `text` as a `&'static str`, as an `Identity` holds its API version and kind. Each
/// distinct text is kept once for the life of the process, and only a few: a record with
/// more than 512 is not used.
///
/// Each thread keeps the texts it was given (a record holds some 30, each in 80,000 items at
/// 1,000 services): the lock is taken once a thread and text, not twice an item.
fn intern(text: &str) -> Option<&'static str> {
    static TEXTS: crate::intern::Interner = crate::intern::Interner::new(512);
    type Given = std::collections::HashSet<&'static str, foldhash::fast::FixedState>;
    thread_local! {
        static GIVEN: std::cell::RefCell<Given> = std::cell::RefCell::new(Given::default());
    }
    GIVEN.with_borrow_mut(|given| {
        if let Some(known) = given.get(text) {
            return Some(*known);
        }
        let known = TEXTS.get(text)?;
        given.insert(known);
        Some(known)
    })
}

/// Where the record of the tree at `out` is kept: `$PLATC_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/platc`, else `~/.cache/platc`, in a file named by the sha256 of the real
/// path of `out`. `None` when there is no such directory, or `out` does not exist.
pub(crate) fn cache_file(out: &Path) -> Option<PathBuf> {
    let dir = cache_dir()?;
    let real = std::fs::canonicalize(out).ok()?;
    let key = write::sha256_hex_bytes(real.as_os_str().as_encoded_bytes());
    Some(dir.join(format!("tree-{}.json", &key[..32])))
}

/// The directory of the records: `$PLATC_CACHE_DIR`, `$XDG_CACHE_HOME/platc` or
/// `~/.cache/platc`.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    var("PLATC_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| var("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("platc")))
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache").join("platc")))
}

/// What a rebuild of `out` starts from, read (`read`): the record's bytes (none when there is
/// no record), and the manifest on disk with its stamp.
pub struct Read {
    record: Vec<u8>,
    /// The text of `out/.platc/manifest.json`.
    pub manifest: String,
    pub stamp: write::Stamp,
}

/// The manifest of `out`, and its record when there is one: each read (and then parsed
/// apart: `Read::record`, `write::Listing::parse`) on a core of its own. Without a record (a
/// fresh clone, another machine's build, another platc's), a rebuild still compares what it
/// makes with the manifest's hashes, and holds only the changed files' texts.
pub fn read(out: &Path) -> Option<Read> {
    let file = cache_file(out);
    let path = out.join(MANIFEST);
    let (record, manifest) = rayon::join(
        || file.and_then(|file| std::fs::read(file).ok()),
        || {
            let stamp = write::Stamp::of(&path)?;
            let manifest = std::fs::read_to_string(&path).ok()?;
            (write::Stamp::of(&path)? == stamp).then_some((manifest, stamp))
        },
    );
    let (manifest, stamp) = manifest?;
    Some(Read {
        record: record.unwrap_or_default(),
        manifest,
        stamp,
    })
}

/// Each tree's text in a record's (`Record::write_to`), by its directory: found by their
/// lines, each tree's on its own, where the record's text does not hold a directory written
/// with an escape; else by a scan of the whole text as JSON, which was a fifth of a
/// rebuild's read of the record (7.7 MB at 1,000 services), on one core, before the trees'
/// parse on both.
fn trees_in(record: &str) -> Option<BTreeMap<String, &str>> {
    /// The record with each tree's text as it stands, found by a scan of it, not parsed.
    #[derive(Deserialize)]
    struct Trees<'a> {
        #[serde(borrow)]
        trees: BTreeMap<String, &'a serde_json::value::RawValue>,
    }
    let by_lines = || -> Option<BTreeMap<String, &str>> {
        let body = record.strip_prefix("{\"trees\":{")?.strip_suffix("\n}}")?;
        let Some(body) = body.strip_prefix('\n') else {
            return body.is_empty().then(BTreeMap::new);
        };
        body.split('\n')
            .enumerate()
            .map(|(at, line)| {
                let line = if at > 0 {
                    line.strip_prefix(',')?
                } else {
                    line
                };
                let (dir, tree) = line.strip_prefix('"')?.split_once('"')?;
                let tree = tree.strip_prefix(':')?;
                (!dir.contains('\\')).then(|| (dir.to_owned(), tree))
            })
            .collect()
    };
    by_lines().or_else(|| {
        let Trees { trees } = serde_json::from_str(record).ok()?;
        Some(
            trees
                .into_iter()
                .map(|(dir, text)| (dir, text.get()))
                .collect(),
        )
    })
}

impl Read {
    /// The record, when this platc wrote it and it holds for the tree on disk: the manifest
    /// read has the stamp it names (it is the file that build wrote).
    pub fn record(&self) -> Option<Record> {
        let (record, _) = self.split()?;
        // Checked as UTF-8 once, whole (it is ASCII but for names that need more): `from_str`
        // then takes each string as it stands, not checked again one by one.
        let trees = trees_in(std::str::from_utf8(record).ok()?)?;
        // Each tree parsed on a core of its own (the base's and an environment's, 3.8 MB
        // each at 1,000 services), beside the manifest's parse (`write::Listing::parse`).
        let trees = trees
            .into_par_iter()
            .map(|(dir, text)| Some((dir, serde_json::from_str(text).ok()?)))
            .collect::<Option<BTreeMap<String, KeptTree>>>()?;
        Some(Record { trees })
    }

    /// The stamps the record notes of the manifests of the trees nested in this one
    /// (`write::Old::noted`); none when the record does not hold.
    pub fn nested(&self) -> Vec<(String, write::Stamp)> {
        self.split()
            .map(|(_, header)| header.nested)
            .unwrap_or_default()
    }

    /// The record's text and its header, when this platc wrote it for the manifest read.
    fn split(&self) -> Option<(&[u8], Header)> {
        let text = self.record.strip_suffix(b"\n")?;
        let split = memchr::memrchr(b'\n', text)?;
        let (record, header) = (&text[..split], &text[split + 1..]);
        let header: Header = serde_json::from_slice(header).ok()?;
        (Some(header.platc.as_str()) == build_id() && header.manifest == self.stamp)
            .then_some((record, header))
    }
}

/// How a build knows that the manifest on disk is the one it wrote.
pub enum Held<'a> {
    /// The manifest's text: the file is read back and compared, and holds when it is that
    /// text, unchanged while it is read (another build may have written the tree since).
    Text(&'a str),
    /// The manifest's stamp, noted under the write's lock right after the write made it
    /// (or found it to be the text it would write): it holds while the file still has it.
    /// Nothing is read: 15 MB at 1,000 services. With it, the nested trees' manifests'
    /// (`nested`).
    Noted(Option<write::Stamp>, Vec<(String, write::Stamp)>),
}

/// The stamps of the manifests of the trees nested in the tree at `out` (an environment's,
/// `env/NAME/.platc/manifest.json`) as `new` lists them, noted under the write's lock right
/// after the write made the tree (or found it to be the one it would write): each file holds
/// the hash `new` lists for it while it keeps its stamp. As the stamps' file's (`stamps`),
/// a stamp is noted only once the clock of out/'s file system (read in `beside`) has passed
/// its change time: a file changed again within that tick would keep the stamp. The next
/// rebuild takes such a file for what the manifest says, unread (`write::Old::noted`): 7.5
/// MB read and hashed at 1,000 services.
pub fn nested(out: &Path, beside: &Path, new: &write::Manifest) -> Vec<(String, write::Stamp)> {
    nested_listed(out, beside, new.files.keys().map(String::as_str))
}

/// `nested` of a tree whose manifest lists `listed` (`write::Paths`).
pub fn nested_listed<'a>(
    out: &Path,
    beside: &Path,
    listed: impl Iterator<Item = &'a str>,
) -> Vec<(String, write::Stamp)> {
    let stamped: Vec<(String, write::Stamp)> = listed
        .filter(|path| {
            path.strip_suffix(MANIFEST)
                .is_some_and(|dir| dir.ends_with('/'))
        })
        .filter_map(|path| Some((path.to_owned(), write::Stamp::of(&out.join(path))?)))
        .collect();
    let newest = stamped.iter().map(|(_, stamp)| stamp.changed).max();
    match newest {
        Some(newest) if crate::stamps::clock_past(beside, newest).is_some() => stamped,
        _ => Vec::new(),
    }
}

/// Keeps the record (`Record::encode`'s text) for the tree at `out`, whose manifest was just
/// written (`manifest`), or, when it cannot, makes sure no stale record is left: the record
/// names the manifest's stamp only when the manifest on disk is the one written. Never fails
/// a build: the next one makes everything.
pub fn save(out: &Path, record: Option<Vec<u8>>, manifest: Held) {
    let begun = record.and_then(|record| begin(out, &record));
    finish(out, begun, manifest);
}

/// `save` of `record`, encoded as it is written (a first build of 10,000 services: its
/// 75 MB of text never held whole).
pub fn save_record(out: &Path, record: Option<&Record>, manifest: Held) {
    let begun = record.and_then(|record| begin_encoding(out, record));
    finish(out, begun, manifest);
}

/// A record's text in a temporary file of the cache, not in place yet: its header (the
/// manifest's stamp, known once the tree is written) ends it (`finish`). So a rebuild
/// writes the text (7 MB at 1,000 services) beside the tree's write, and only the header
/// after it. Dropped unfinished, the temporary file is removed.
pub struct Begun {
    temporary: PathBuf,
    file: Option<std::fs::File>,
}

impl Drop for Begun {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

/// Begins to keep `record`'s text for the tree at `out` (`Begun`); `None` when it cannot
/// (no cache, `out` missing, a file that cannot be written).
pub fn begin(out: &Path, record: &[u8]) -> Option<Begun> {
    begin_with(out, |file| file.write_all(record))
}

/// `begin` of `record`'s text, encoded into the file as it is made: the text is never
/// held whole (`Record::encode`), and what it is encoded into is a buffer of 64 KB, used
/// again and again (not 7.7 MB of fresh pages at 1,000 services).
pub fn begin_encoding(out: &Path, record: &Record) -> Option<Begun> {
    begin_with(out, |file| {
        let mut to = std::io::BufWriter::with_capacity(1 << 16, file);
        record.write_to(&mut to)?;
        to.flush()
    })
}

/// `begin`, the text written to the file by `record`.
fn begin_with(
    out: &Path,
    record: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Option<Begun> {
    begin_at(&cache_file(out)?, record)
}

/// `begin_with`, for the cache's file `file`.
fn begin_at(
    file: &Path,
    record: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Option<Begun> {
    let temporary = file.with_extension(format!("{}.tmp", std::process::id()));
    let opened = create_new(&temporary)?;
    let mut begun = Begun {
        temporary,
        file: Some(opened),
    };
    record(begun.file.as_mut()?).ok()?;
    Some(begun)
}

/// A new temporary file of the cache at `path`, never one that is there (nor what a link
/// there points to): one of the same name, left by an earlier process of the same id, is
/// removed first.
fn create_new(path: &Path) -> Option<std::fs::File> {
    std::fs::create_dir_all(path.parent()?).ok()?;
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .ok()
}

/// Ends the record `begun` for the tree at `out` with its header, the stamp of the manifest
/// just written (`manifest`), and puts it in place; or, when there is no record or the
/// manifest on disk is not the one written, removes the tree's record from the cache. The
/// file: the record's text (`serde_json`'s compact text: no line break), a line break, the
/// header, a line break.
pub fn finish(out: &Path, begun: Option<Begun>, manifest: Held) {
    let Some(file) = cache_file(out) else {
        return;
    };
    let path = out.join(MANIFEST);
    let (stamp, nested) = match manifest {
        Held::Text(manifest) => {
            let stamp = write::Stamp::of(&path).filter(|stamp| {
                std::fs::read(&path).is_ok_and(|bytes| bytes == manifest.as_bytes())
                    && write::Stamp::of(&path).as_ref() == Some(stamp)
            });
            (stamp, Vec::new())
        }
        Held::Noted(noted, nested) => (
            noted.filter(|noted| write::Stamp::of(&path).as_ref() == Some(noted)),
            nested,
        ),
    };
    let saved = begun
        .zip(stamp)
        .zip(build_id())
        .is_some_and(|((mut begun, stamp), platc)| {
            let header = Header {
                platc: platc.to_owned(),
                manifest: stamp,
                nested,
            };
            let Ok(header) = serde_json::to_vec(&header) else {
                return false;
            };
            // Taken out and closed before the rename: the file is in place, or removed.
            let Some(mut opened) = begun.file.take() else {
                return false;
            };
            let ended = opened.write_all(b"\n").is_ok()
                && opened.write_all(&header).is_ok()
                && opened.write_all(b"\n").is_ok();
            drop(opened);
            ended && std::fs::rename(&begun.temporary, &file).is_ok() || {
                let _ = std::fs::remove_file(&begun.temporary);
                false
            }
        });
    if !saved {
        let _ = std::fs::remove_file(&file);
        return;
    }
    if let Some(dir) = file.parent() {
        evict(dir);
    }
}

/// How many trees' records the cache keeps: the ones written last.
const KEPT: usize = 32;

/// Removes all but the `KEPT` records written last from `dir` (trees built once, in a
/// directory since removed, leave theirs), the same of the stamps' files, and the temporary
/// files of saves and spills (`write::Spill`) killed over an hour ago.
fn evict(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let entries: Vec<std::fs::DirEntry> = entries.filter_map(Result::ok).collect();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_hours(1);
    for entry in &entries {
        let name = entry.file_name();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|time| time < hour_ago);
        let name = name.to_string_lossy();
        if (name.starts_with("tree-") || name.starts_with("packed-spill-"))
            && name.ends_with(".tmp")
            && stale
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    // The records, and the stamps beside them (`stamps`).
    for kind in [".json", ".stamps"] {
        let mut records: Vec<(std::time::SystemTime, PathBuf)> = entries
            .iter()
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("tree-") && name.ends_with(kind)
            })
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if records.len() <= KEPT {
            continue;
        }
        records.sort();
        for (_, path) in &records[..records.len() - KEPT] {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items come in the order of their ranks, each with its own value: ranks distinct and
    /// below the table's bound (placed), and ranks given twice, unranked or far apart
    /// (sorted).
    #[test]
    fn items_come_in_the_order_of_their_ranks() {
        let shuffled = |ranks: &[u32]| -> Vec<(u32, usize)> {
            ranks
                .iter()
                .map(|&rank| (rank, rank as usize * 7))
                .collect()
        };
        let sorted = |ranks: &[u32]| {
            let mut items = shuffled(ranks);
            items.sort_by_key(|&(rank, _)| rank);
            items
        };
        let mut permuted: Vec<u32> = (0..5000)
            .map(|i| (i * 2_654_435_761u64 % 5003) as u32)
            .collect();
        permuted.retain(|&rank| rank % 3 != 0);
        for ranks in [
            &permuted[..],
            &[],
            &[0],
            &[3, 1, 2],
            &[3, 1, 3, 2],
            &[5, UNRANKED, 1],
            &[2_000_000, 1, 7],
        ] {
            let items = in_rank_order(shuffled(ranks));
            let mut expected = sorted(ranks);
            // Of equal ranks, either order.
            let rank_of = |items: &[(u32, usize)]| items.iter().map(|i| i.0).collect::<Vec<_>>();
            assert_eq!(rank_of(&items), rank_of(&expected), "{ranks:?}");
            let mut got = items.clone();
            got.sort_unstable();
            expected.sort_unstable();
            assert_eq!(got, expected, "{ranks:?}");
        }
    }

    /// A record is unchanged for exactly its trees, each with its services' and namespaces'
    /// fingerprints; a tree without services never is (nothing in it covers the platform).
    #[test]
    fn a_record_is_unchanged_for_its_own_trees_and_fingerprints_only() {
        let prints = |services: &[(&str, &str)], namespaces: &[(&str, &str)]| {
            let map = |parts: &[(&str, &str)]| -> BTreeMap<String, String> {
                parts
                    .iter()
                    .map(|(n, f)| ((*n).to_owned(), (*f).to_owned()))
                    .collect()
            };
            Fingerprints {
                services: map(services),
                namespaces: map(namespaces),
                platform: String::new(),
            }
        };
        let tree = |p: &Fingerprints| {
            let parts = |m: &BTreeMap<String, String>| {
                m.iter()
                    .map(|(name, fingerprint)| {
                        let part = PartRecord {
                            fingerprint: fingerprint.clone(),
                            items: Vec::new(),
                        };
                        (name.clone(), part)
                    })
                    .collect()
            };
            TreeRecord {
                services: parts(&p.services),
                namespaces: parts(&p.namespaces),
                platform: None,
            }
        };
        let base = prints(&[("a", "1"), ("b", "2")], &[("ns", "3")]);
        let env = prints(&[("a", "4"), ("b", "5")], &[("ns", "6")]);
        let record = Record::new(BTreeMap::from([
            (String::new(), tree(&base).into()),
            ("env/x/".to_owned(), tree(&env).into()),
        ]));
        let both = |base, env| vec![(String::new(), base), ("env/x/".to_owned(), env)];
        let same = |p: &Fingerprints| {
            prints(
                &p.services
                    .iter()
                    .map(|(n, f)| (n.as_str(), f.as_str()))
                    .collect::<Vec<_>>(),
                &p.namespaces
                    .iter()
                    .map(|(n, f)| (n.as_str(), f.as_str()))
                    .collect::<Vec<_>>(),
            )
        };
        assert!(record.unchanged(&both(same(&base), same(&env))));
        // A tree fewer (an environment gone), another service, another fingerprint of a
        // service or a namespace: changed.
        assert!(!record.unchanged(&[(String::new(), same(&base))]));
        let other = prints(&[("a", "1"), ("b", "2"), ("c", "7")], &[("ns", "3")]);
        assert!(!record.unchanged(&both(other, same(&env))));
        let other = prints(&[("a", "1"), ("b", "9")], &[("ns", "3")]);
        assert!(!record.unchanged(&both(other, same(&env))));
        let other = prints(&[("a", "4"), ("b", "5")], &[("ns", "9")]);
        assert!(!record.unchanged(&both(same(&base), other)));
        // No services: never unchanged.
        let empty = Record::new(BTreeMap::from([(
            String::new(),
            TreeRecord::default().into(),
        )]));
        assert!(!empty.unchanged(&[(String::new(), prints(&[], &[]))]));
    }

    /// A service's `OWN_ONLY` children (its tag above all) change its own fingerprint and
    /// its namespace's, not its neighbours'; what a neighbour reads of it (a port) changes
    /// both. Unrelated services change with neither.
    #[test]
    fn a_new_tag_changes_its_own_service_alone() {
        let platform = |api: &str| {
            format!(
                r#"platform shop {{
    service web {{
        image "ghcr.io/acme/web" tag="v1"
        port http 8080 protocol=http
        calls api env=API_ADDR
    }}
    service api {{
{api}
    }}
    service lone {{
        image "ghcr.io/acme/lone" tag="v1"
        port http 7000 protocol=http
    }}
}}
"#
            )
        };
        let prints = |api: &str| {
            let source = Source::new("platform.kdl", platform(api));
            let base = crate::compile(&source, &crate::Options::default())
                .platform
                .expect("compiles");
            fingerprints(&source, &base).expect("fingerprints")
        };
        let api = "        image \"ghcr.io/acme/api\" tag=\"v1\"\n        port http 9000 protocol=http\n        resources cpu=\"100m\" memory=\"64Mi\"\n        replicas 2\n        env LOG \"info\"; probe http port=http path=\"/healthz\" for=readiness";
        let before = prints(api);
        let changed =
            |after: &Fingerprints, name: &str| after.services[name] != before.services[name];
        for own in [
            api.replace("tag=\"v1\"", "tag=\"v2\""),
            api.replace("100m", "200m"),
            api.replace("replicas 2", "replicas 3"),
            api.replace("\"info\"", "\"debug\""),
            api.replace("/healthz", "/ready"),
        ] {
            let after = prints(&own);
            assert!(changed(&after, "api"), "{own}");
            assert!(!changed(&after, "web"), "{own}");
            assert!(!changed(&after, "lone"), "{own}");
            assert_ne!(after.namespaces["api"], before.namespaces["api"], "{own}");
            assert_eq!(after.namespaces["web"], before.namespaces["web"], "{own}");
        }
        let port = prints(&api.replace("9000", "9001"));
        assert!(changed(&port, "api") && changed(&port, "web"));
        assert!(!changed(&port, "lone"));
    }

    /// A whole build of the reference platform, in memory.
    fn reference_build() -> crate::Built {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("platform.kdl")).unwrap();
        let source = Source::new("platform.kdl", text).with_dir(root);
        let base = crate::compile(&source, &crate::Options::default())
            .platform
            .expect("compiles");
        crate::build_full_tree_listed(&source, &base).expect("builds")
    }

    /// The record of a whole build of the reference platform, kept as a build in memory
    /// keeps it (each tree as made).
    fn reference_record() -> Record {
        reference_build()
            .record
            .expect("a whole build keeps a record")
    }

    /// The fingerprints a tree's record holds.
    fn prints(tree: &TreeRecord) -> Fingerprints {
        let map = |parts: &BTreeMap<String, PartRecord>| -> BTreeMap<String, String> {
            parts
                .iter()
                .map(|(name, part)| (name.clone(), part.fingerprint.clone()))
                .collect()
        };
        Fingerprints {
            services: map(&tree.services),
            namespaces: map(&tree.namespaces),
            platform: tree
                .platform
                .as_ref()
                .map(|part| part.fingerprint.clone())
                .unwrap_or_default(),
        }
    }

    /// The summaries a rebuild takes out of the kept parts of the old record come back to
    /// them (`TreeRecord::refill`): the record of a rebuild that made nothing is the old one.
    /// A part not given back whole is dropped (the next rebuild makes it), not kept with an
    /// item missing, and the others are kept as they were.
    #[test]
    fn the_kept_summaries_come_back_to_the_record() {
        let built = reference_build();
        let manifest = built.tree.get(MANIFEST).expect("the manifest");
        let listing = write::Listing::parse(manifest).expect("parses");
        let record = built.record.expect("a whole build keeps a record");
        for (dir, tree) in &record.trees {
            let KeptTree::Made(tree) = tree else {
                panic!("kept as made");
            };
            let all = prints(tree);
            let mut taken = tree.clone();
            let reuse = taken.reuse_in_order(listing.ordered().unwrap(), dir, &all);
            assert!(reuse.reuse.make.is_empty(), "{dir}");
            assert!(reuse.reuse.keep_platform, "{dir}");
            assert!(
                taken
                    .services
                    .values()
                    .chain(taken.namespaces.values())
                    .chain(&taken.platform)
                    .flat_map(|part| &part.items)
                    .all(|item| item.0 == Brief::default()),
                "{dir}: taken, not copied"
            );
            let mut kept = reuse.reuse.kept;
            let namespaces: Vec<Summary> = kept
                .extract_if(.., |s| matches!(s.owner(), Owner::Namespace(_)))
                .collect();
            let again = TreeRecord::new(
                &all,
                Default::default(),
                [kept.clone(), namespaces.clone()],
                Some(taken.clone()),
                true,
            );
            assert_eq!(&again, tree, "{dir}");

            // A part's summaries in two runs, another part's between them: each part's
            // second run goes on where its first stopped.
            let first = kept
                .iter()
                .take_while(|s| s.owner() == kept[0].owner())
                .count();
            let second = kept[first..]
                .iter()
                .take_while(|s| s.owner() == kept[first].owner())
                .count();
            assert!(first >= 2 && second >= 1, "{dir}: parts of several items");
            let mut split = kept.clone();
            split[first / 2..first + second].rotate_left(first - first / 2);
            let paths = |summaries: &[Summary]| -> Vec<String> {
                summaries.iter().map(|s| s.path().to_owned()).collect()
            };
            assert_ne!(paths(&split), paths(&kept));
            let again = TreeRecord::new(
                &all,
                Default::default(),
                [split, namespaces],
                Some(taken.clone()),
                true,
            );
            assert_eq!(&again, tree, "{dir}");

            // The platform batch's come last.
            let service = kept
                .iter()
                .rposition(|s| matches!(s.owner(), Owner::Service(_)));
            assert_eq!(kept.last().map(Summary::owner), Some(&Owner::Platform));
            let last = kept.remove(service.expect("kept services"));
            let Owner::Service(short) = last.owner() else {
                panic!("a service's");
            };
            let again = TreeRecord::new(
                &all,
                Default::default(),
                [kept, Vec::new()],
                Some(taken),
                true,
            );
            assert!(!again.services.contains_key(short), "{dir}: {short}");
            assert!(again.namespaces.is_empty(), "{dir}: not given back");
            let items = |part: &PartRecord| -> Vec<Brief> {
                part.items.iter().map(|item| item.0.clone()).collect()
            };
            assert_eq!(again.services.len() + 1, tree.services.len(), "{dir}");
            assert_eq!(
                again.platform.as_ref().map(items),
                tree.platform.as_ref().map(items),
                "{dir}: given back"
            );
            for (name, part) in &again.services {
                assert_eq!(items(part), items(&tree.services[name]), "{dir}: {name}");
            }
        }
    }

    /// An item's record reads back as it was written, its texts borrowed from the record's
    /// bytes or, where one has an escape, copied; one that does not hold is not read.
    #[test]
    fn an_item_reads_back_as_written() {
        let text = r#"["k/a\u002fb.yaml",["v1","ConfigMap","n\u0073","x"],null,3]"#;
        let item: ItemRecord = serde_json::from_str(text).expect("reads");
        assert_eq!(item.0.path(), "k/a/b.yaml");
        let id = item.0.id().expect("an identity");
        assert_eq!(
            (id.kind, id.namespace, id.name),
            ("ConfigMap", Some("ns"), "x")
        );
        assert_eq!(item.1, 3);
        let written = serde_json::to_string(&item).unwrap();
        assert_eq!(
            written,
            r#"["k/a/b.yaml",["v1","ConfigMap","ns","x"],null,3]"#
        );
        let cluster = r#"["n.yaml",["v1","Namespace",null,"ns"],{"kind":"Rollout"},0]"#;
        let item: ItemRecord = serde_json::from_str(cluster).expect("reads");
        assert_eq!(item.0.id().and_then(|id| id.namespace), None);
        assert_eq!(serde_json::to_string(&item).unwrap(), cluster);
        for broken in [
            r#"["a",null,null]"#,
            r#"["a",null,null,1,2]"#,
            "[1,null,null,1]",
        ] {
            assert!(
                serde_json::from_str::<ItemRecord>(broken).is_err(),
                "{broken}"
            );
        }
    }

    /// `brief` at its path with a `~` after it: a path the manifest does not list.
    fn misspelt(brief: &Brief) -> Brief {
        let id = brief
            .id()
            .map(|id| (ApiKind::of(id.api_version, id.kind), id.namespace, id.name));
        let rollout = brief.rollout().cloned().map(Box::new);
        Brief::new(&format!("{}~", brief.path()), id, rollout).expect("short texts")
    }

    /// A rebuild finds the kept items' entries in one walk down the old manifest, and finds
    /// exactly what a look-up of each finds: every part kept, a service and a namespace
    /// changed, a file the manifest does not list. Ranked out of their paths' order (a record
    /// edited by hand), items are not found, and their parts are made again: the walk never
    /// keeps what the look-ups would not.
    #[test]
    fn the_walk_down_the_manifest_finds_what_the_look_ups_find() {
        let built = reference_build();
        let manifest = built.tree.get(MANIFEST).expect("the manifest");
        let listing = write::Listing::parse(manifest).expect("parses");
        assert!(
            listing.ordered().is_some(),
            "platc writes its manifest by path"
        );
        let record = built.record.expect("a whole build keeps a record");
        let shown = |reuse: &TreeReuse| {
            (
                reuse.reuse.make.clone(),
                reuse.reuse.keep_namespaces.clone(),
                reuse.reuse.keep_platform,
                format!("{:?}", reuse.reuse.kept),
                reuse.entries.clone(),
            )
        };
        assert!(
            record.trees.len() >= 2,
            "the reference platform has environments"
        );
        for (dir, tree) in &record.trees {
            let KeptTree::Made(tree) = tree else {
                panic!("kept as made");
            };
            // The ranks follow the paths.
            let mut ranked: Vec<&ItemRecord> = tree
                .services
                .values()
                .chain(tree.namespaces.values())
                .chain(&tree.platform)
                .flat_map(|part| &part.items)
                .collect();
            ranked.sort_by_key(|item| item.1);
            assert!(
                ranked.windows(2).all(|w| w[0].0.path() < w[1].0.path()),
                "{dir}"
            );
            assert_eq!(
                ranked.last().map(|item| item.1 as usize + 1),
                Some(ranked.len())
            );

            let all = prints(tree);
            let walked = tree
                .clone()
                .reuse_in_order(listing.ordered().unwrap(), dir, &all);
            assert!(walked.reuse.make.is_empty(), "{dir}");
            assert_eq!(walked.entries.len(), ranked.len(), "{dir}");
            assert_eq!(
                shown(&walked),
                shown(&tree.clone().reuse_by_look_up(&listing, dir, &all))
            );

            let mut changed = prints(tree);
            let service = changed.services.keys().nth(1).unwrap().clone();
            changed
                .services
                .insert(service.clone(), "changed".to_owned());
            let namespace = changed.namespaces.keys().next().unwrap().clone();
            changed
                .namespaces
                .insert(namespace.clone(), "changed".to_owned());
            let walked = tree
                .clone()
                .reuse_in_order(listing.ordered().unwrap(), dir, &changed);
            assert_eq!(walked.reuse.make, BTreeSet::from([service]), "{dir}");
            assert!(!walked.reuse.keep_namespaces.contains(&namespace));
            assert!(walked.reuse.keep_platform, "{dir}");
            assert_eq!(
                shown(&walked),
                shown(&tree.clone().reuse_by_look_up(&listing, dir, &changed))
            );
            changed.platform = "changed".to_owned();
            let walked = tree
                .clone()
                .reuse_in_order(listing.ordered().unwrap(), dir, &changed);
            assert!(!walked.reuse.keep_platform, "{dir}");
            assert_eq!(
                shown(&walked),
                shown(&tree.clone().reuse_by_look_up(&listing, dir, &changed))
            );

            // A file of the platform's batch the manifest does not list: the batch is made.
            let mut unlisted = tree.clone();
            let item = &mut unlisted.platform.as_mut().expect("recorded").items[0];
            item.0 = misspelt(&item.0);
            let walked = unlisted
                .clone()
                .reuse_in_order(listing.ordered().unwrap(), dir, &all);
            assert!(walked.reuse.make.is_empty() && !walked.reuse.keep_platform);
            assert_eq!(
                shown(&walked),
                shown(&unlisted.reuse_by_look_up(&listing, dir, &all))
            );

            // A file of the first service the manifest does not list, ranked in its place.
            let mut unlisted = tree.clone();
            let (first, part) = unlisted.services.iter_mut().next().unwrap();
            let first = first.clone();
            part.items[0].0 = misspelt(&part.items[0].0);
            let walked = unlisted
                .clone()
                .reuse_in_order(listing.ordered().unwrap(), dir, &all);
            assert_eq!(walked.reuse.make, BTreeSet::from([first]), "{dir}");
            assert_eq!(
                shown(&walked),
                shown(&unlisted.reuse_by_look_up(&listing, dir, &all))
            );

            // Ranked backwards: every item is out of order but the first taken.
            let mut backwards = tree.clone();
            for part in backwards
                .services
                .values_mut()
                .chain(backwards.namespaces.values_mut())
                .chain(&mut backwards.platform)
            {
                for item in &mut part.items {
                    item.1 = u32::MAX - 1 - item.1;
                }
            }
            let walked = backwards.reuse_in_order(listing.ordered().unwrap(), dir, &all);
            let looked = tree.clone().reuse_by_look_up(&listing, dir, &all);
            assert!(walked.reuse.make.len() + 1 >= all.services.len(), "{dir}");
            assert!(walked.entries.iter().all(|e| looked.entries.contains(e)));
        }
    }

    /// `encode`'s buffer is sized once: the hint covers the text of the reference platform's
    /// record (its Rollouts included), and is not far over it.
    #[test]
    fn the_size_hint_covers_the_encoded_record() {
        let record = reference_record();
        let rollouts = record
            .trees
            .values()
            .filter_map(|t| match t {
                KeptTree::Made(tree) => Some(tree),
                KeptTree::Encoded(_) | KeptTree::Spilled(_) => None,
            })
            .flat_map(|t| t.services.values())
            .flat_map(|p| &p.items)
            .filter(|i| i.0.rollout().is_some())
            .count();
        assert!(rollouts > 0, "the reference platform runs canaries");
        let (hint, len) = (record.size_hint(), record.encode().unwrap().len());
        assert!(hint >= len, "hint {hint} under {len} bytes");
        assert!(hint < len * 2, "hint {hint} far over {len} bytes");
    }

    /// A record whose trees were encoded as they were made (a first build's) is the same
    /// text as the record of the same trees kept as values, that text is `serde_json`'s of
    /// the trees by directory, and it reads back as those trees.
    #[test]
    fn a_record_encoded_tree_by_tree_is_the_record_of_its_trees() {
        let made = reference_record();
        assert!(
            made.trees.len() > 1,
            "the reference platform has environments"
        );
        let trees: BTreeMap<&String, &TreeRecord> = made
            .trees
            .iter()
            .map(|(dir, tree)| match tree {
                KeptTree::Made(tree) => (dir, tree),
                KeptTree::Encoded(_) | KeptTree::Spilled(_) => {
                    panic!("a build in memory keeps its trees as made")
                }
            })
            .collect();
        let encoded = Record::new(
            trees
                .iter()
                .map(|(dir, tree)| ((*dir).clone(), tree.encoded()))
                .collect(),
        );
        let text = made.encode().unwrap();
        assert_eq!(encoded.encode().unwrap(), text);
        // Spilled into files (a first build's), the same text; each file gone with the last
        // record that holds it.
        let dir = std::env::temp_dir().join(format!("platc-spill-test-{}", std::process::id()));
        let spilled = Record::new(
            trees
                .iter()
                .map(|(dir_of, tree)| ((*dir_of).clone(), tree.spilled_in(Some(&dir))))
                .collect(),
        );
        let files = || std::fs::read_dir(&dir).map_or(0, Iterator::count);
        assert!(
            spilled
                .trees
                .values()
                .all(|t| matches!(t, KeptTree::Spilled(_))),
            "not spilled"
        );
        assert_eq!(files(), trees.len());
        let copy = spilled.clone();
        assert_eq!(spilled.encode().unwrap(), text);
        let mut written = Vec::new();
        spilled.write_to(&mut written).unwrap();
        assert_eq!(written, text);
        drop(spilled);
        assert_eq!(files(), trees.len(), "removed while a clone holds it");
        drop(copy);
        assert_eq!(files(), 0, "left in the cache");
        let _ = std::fs::remove_dir(&dir);
        // The text `serde_json` writes, with a line break ahead of each tree (and its comma)
        // and of the end.
        let serde = serde_json::to_string(&BTreeMap::from([("trees", &trees)])).unwrap();
        let mut lines = serde.clone();
        for dir in trees.keys().rev() {
            let key = format!("{}:{{", serde_json::to_string(dir).unwrap());
            let at = lines.rfind(&key).unwrap();
            let at = if lines[..at].ends_with(',') {
                at - 1
            } else {
                at
            };
            lines.insert(at, '\n');
        }
        lines.insert(lines.len() - 2, '\n');
        let text = String::from_utf8(text).unwrap();
        assert_eq!(text, lines);
        let read: Record = serde_json::from_str(&text).unwrap();
        assert_eq!(read, made);
        // Its trees found by their lines are the ones the JSON holds, and so are those of
        // the text without line breaks, and of one whose directory is written with escapes.
        let found: BTreeMap<String, KeptTree> = trees_in(&text)
            .unwrap()
            .into_iter()
            .map(|(dir, tree)| (dir, serde_json::from_str(tree).unwrap()))
            .collect();
        assert_eq!(Record { trees: found }, made);
        let flat = trees_in(&serde).unwrap();
        assert_eq!(flat, trees_in(&text).unwrap());
        let escaped = text.replacen("\n\"", "\n\"\\u0065", 1);
        let found = trees_in(&escaped).unwrap();
        assert_eq!(found.len(), trees.len());
        assert!(found.keys().any(|dir| dir.starts_with('e')), "{found:?}");
        // A tree taken from an encoded record is the tree.
        let mut encoded = encoded;
        for (dir, tree) in trees {
            assert_eq!(encoded.take(dir), *tree);
        }
    }

    /// A record begun and dropped unfinished (the write fell back to the whole tree, or
    /// failed), or whose text could not be written, leaves no temporary file behind.
    #[test]
    fn a_record_begun_and_dropped_leaves_nothing_in_the_cache() {
        let dir = std::env::temp_dir().join(format!("platc-begun-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = dir.join("tree-x.json");
        let begun = begin_at(&file, |f| f.write_all(b"{}")).expect("begun");
        assert!(begun.temporary.exists());
        assert!(begun.temporary.starts_with(&dir));
        drop(begun);
        let left = std::fs::read_dir(&dir).unwrap().count();
        let failed = begin_at(&file, |_| Err(std::io::Error::other("no room")));
        let after = std::fs::read_dir(&dir).unwrap().count();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(left, 0, "the temporary file of a record dropped unfinished");
        assert!(failed.is_none());
        assert_eq!(after, 0, "the temporary file of a record whose text failed");
    }

    /// The cache keeps the `KEPT` records written last, and sweeps the temporary files of
    /// saves killed over an hour ago (not one being written now).
    #[test]
    fn the_cache_keeps_the_records_written_last() {
        let dir = std::env::temp_dir().join(format!("platc-evict-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let now = std::time::SystemTime::now();
        let aged = |name: &str, seconds: u64| {
            let file = std::fs::File::create(dir.join(name)).unwrap();
            file.set_modified(now - std::time::Duration::from_secs(seconds))
                .unwrap();
        };
        for i in 0..40u64 {
            aged(&format!("tree-{i:02}.json"), 100 - i);
            aged(&format!("tree-{i:02}.stamps"), 100 - i);
        }
        aged("tree-killed.1.tmp", 7200);
        aged("tree-saving.2.tmp", 1);
        aged("other.json", 7200);
        evict(&dir);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let _ = std::fs::remove_dir_all(&dir);
        let mut expected: Vec<String> = (8..40)
            .flat_map(|i| [format!("tree-{i:02}.json"), format!("tree-{i:02}.stamps")])
            .collect();
        expected.extend(["other.json".into(), "tree-saving.2.tmp".into()]);
        expected.sort();
        assert_eq!(left, expected);
    }
}
