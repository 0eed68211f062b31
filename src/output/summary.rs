//! What a build keeps of each item it hands on: the summary the derived targets read (the Argo
//! CD Applications, the platform's pipeline) and a rebuild's record holds. A build of 10,000
//! services keeps one of each of 400,000 items a tree, until the tree's end, at the build's
//! peak: as a path, an owner and an identity of their own (144 bytes and four strings each,
//! some 360 bytes an item with the packed manifest entry) they were most of what a tree added
//! to the heap. So a summary is its texts in one allocation (`Brief`), its API version and
//! kind one interned pair, and its owner shared with the other items of its part.

use std::cell::RefCell;
use std::sync::Arc;

use super::{Item, Owner};
use crate::intern::Interner;

/// An API version and a kind, kept once for the life of the process (`ApiKind::of`): a
/// summary holds a pointer to the pair, not two texts' pointers and lengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiKind {
    pub api_version: &'static str,
    pub kind: &'static str,
}

/// The most pairs kept: platc makes some 40 kinds, and a record read from the cache (a file
/// anyone may edit) that names more than this is not used.
const MOST_KEPT: usize = 512;

impl ApiKind {
    /// The pair of `api_version` and `kind` (texts of platc's own), kept once.
    pub fn of(api_version: &'static str, kind: &'static str) -> &'static Self {
        // Past `MOST_KEPT` (a record read named that many), a copy of this thread's own.
        Self::kept(Self { api_version, kind }, false)
            .unwrap_or_else(|| Box::leak(Box::new(Self { api_version, kind })))
    }

    /// The pair of `api_version` and `kind` as a record names them, kept once; `None` when
    /// `MOST_KEPT` pairs are kept already.
    pub fn read(api_version: &'static str, kind: &'static str) -> Option<&'static Self> {
        Self::kept(Self { api_version, kind }, true)
    }

    /// `pair`, kept once (for a pair not `read`, a copy of this thread's own past
    /// `MOST_KEPT`). Each thread keeps the pairs it was given: the lock is taken once a
    /// thread and pair, not once an item.
    fn kept(pair: Self, read: bool) -> Option<&'static Self> {
        static KEPT: Interner<ApiKind> = Interner::new(MOST_KEPT);
        thread_local! {
            static GIVEN: RefCell<Vec<&'static ApiKind>> = const { RefCell::new(Vec::new()) };
        }
        GIVEN.with_borrow_mut(|given| {
            if let Some(known) = given.iter().find(|known| ***known == pair) {
                return Some(*known);
            }
            let kept = KEPT.get_with(&pair, |pair| Box::leak(Box::new(*pair)));
            let known = match kept {
                Some(known) => known,
                None if read => return None,
                None => Box::leak(Box::new(pair)),
            };
            given.push(known);
            Some(known)
        })
    }
}

/// An item's identity as a summary holds it (`Identity`, borrowed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRef<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}

impl IdRef<'_> {
    /// The rank of its kind in an apply order (`Identity::apply_rank`).
    pub fn apply_rank(&self) -> u8 {
        super::apply_rank(self.kind)
    }
}

/// An item's path, identity and `Rollout` value, without its owner: what a rebuild's record
/// holds of each item (its part names the owner). The path, namespace and name are one text
/// one after another (each's end kept), so a brief is 48 bytes and one allocation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Brief {
    text: Box<str>,
    /// Where the path ends in `text`, and where the namespace does (a cluster-scoped object
    /// has none: it ends where the path does). The name is the rest.
    path_end: u32,
    namespace_end: u32,
    /// The API version and kind of a cluster object; `None` for an item that is not one.
    kind: Option<&'static ApiKind>,
    namespaced: bool,
    /// The value of a `Rollout`, as a tree. (Boxed: one item in forty has one.)
    rollout: Option<Box<serde_json::Value>>,
}

impl Brief {
    /// The brief of an item at `path` with the identity `id` (its API version and kind as
    /// `ApiKind` keeps them) and, for a `Rollout`, its value. `None` when the texts are
    /// longer than 4 GB.
    pub fn new(
        path: &str,
        id: Option<(&'static ApiKind, Option<&str>, &str)>,
        rollout: Option<Box<serde_json::Value>>,
    ) -> Option<Self> {
        let (kind, namespace, name) = match id {
            Some((kind, namespace, name)) => (Some(kind), namespace, name),
            None => (None, None, ""),
        };
        let namespace_text = namespace.unwrap_or_default();
        let mut text = String::with_capacity(path.len() + namespace_text.len() + name.len());
        text.push_str(path);
        let path_end = u32::try_from(text.len()).ok()?;
        text.push_str(namespace_text);
        let namespace_end = u32::try_from(text.len()).ok()?;
        text.push_str(name);
        u32::try_from(text.len()).ok()?;
        Some(Self {
            text: text.into_boxed_str(),
            path_end,
            namespace_end,
            kind,
            namespaced: namespace.is_some(),
            rollout,
        })
    }

    /// The brief of `item`.
    fn of(item: &Item) -> Self {
        let rollout = match &item.body {
            super::Body::Object(object) if object.id.kind == "Rollout" => {
                Some(Box::new(object.value.to_value()))
            }
            _ => None,
        };
        let id = item.id().map(|id| {
            (
                ApiKind::of(id.api_version, id.kind),
                id.namespace.as_deref(),
                id.name.as_str(),
            )
        });
        // Texts of 4 GB are not a build's.
        Self::new(&item.path, id, rollout).unwrap_or_default()
    }

    /// Its path (empty for a brief taken: `std::mem::take`).
    pub fn path(&self) -> &str {
        self.part(0, self.path_end)
    }

    /// Its identity, if it is a cluster object.
    pub fn id(&self) -> Option<IdRef<'_>> {
        let kind = self.kind?;
        Some(IdRef {
            api_version: kind.api_version,
            kind: kind.kind,
            namespace: self
                .namespaced
                .then(|| self.part(self.path_end, self.namespace_end)),
            name: self.part(self.namespace_end, u32::MAX),
        })
    }

    /// The value of a `Rollout`.
    pub fn rollout(&self) -> Option<&serde_json::Value> {
        self.rollout.as_deref()
    }

    /// The part of `text` from `start` to `end` (its end past it).
    fn part(&self, start: u32, end: u32) -> &str {
        let at =
            |at: u32| usize::try_from(at).map_or(self.text.len(), |at| at.min(self.text.len()));
        self.text.get(at(start)..at(end)).unwrap_or_default()
    }
}

/// What the derived targets read of an item: its path, owner and identity, and a `Rollout`'s
/// whole value (the Argo CD Applications ignore the fields its canary steps change).
#[derive(Clone, Debug)]
pub struct Summary {
    brief: Brief,
    /// Shared by the items of a part summarised one after another (`Owners`).
    owner: Arc<Owner>,
}

impl Summary {
    /// The summary of `item`, its owner its own.
    pub fn of(item: &Item) -> Self {
        Owners::default().summary(item)
    }

    /// The summary of a brief, owned by `owner`.
    pub fn new(brief: Brief, owner: Arc<Owner>) -> Self {
        Self { brief, owner }
    }

    pub fn path(&self) -> &str {
        self.brief.path()
    }

    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    pub fn id(&self) -> Option<IdRef<'_>> {
        self.brief.id()
    }

    pub fn rollout(&self) -> Option<&serde_json::Value> {
        self.brief.rollout()
    }

    /// Its brief, giving up the owner.
    pub fn into_brief(self) -> Brief {
        self.brief
    }
}

/// Summarises items, one owner shared by the items of a part that come one after another (a
/// target makes a service's items together): one allocation a run, not a copy of the owner's
/// name an item.
#[derive(Default)]
pub struct Owners {
    last: Option<Arc<Owner>>,
}

impl Owners {
    pub fn summary(&mut self, item: &Item) -> Summary {
        let owner = match &self.last {
            Some(last) if **last == item.owner => Arc::clone(last),
            _ => Arc::clone(self.last.insert(Arc::new(item.owner.clone()))),
        };
        Summary::new(Brief::of(item), owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A summary is kept of every item a build makes (800,000 at 10,000 services): a
    /// `Rollout`'s value, in one item of forty, does not widen the other thirty-nine.
    #[test]
    fn a_summary_is_small() {
        assert!(
            std::mem::size_of::<Summary>() <= 56,
            "{} bytes",
            std::mem::size_of::<Summary>()
        );
        assert!(std::mem::size_of::<Brief>() <= 48);
    }

    #[test]
    fn a_brief_gives_back_its_texts() {
        let deployment = ApiKind::of("apps/v1", "Deployment");
        let read = ApiKind::read("apps/v1", String::from("Deployment").leak());
        assert!(std::ptr::eq(deployment, read.unwrap()));
        let brief = Brief::new("k/d.yaml", Some((deployment, Some("ns"), "web")), None).unwrap();
        assert_eq!(brief.path(), "k/d.yaml");
        let id = brief.id().unwrap();
        assert_eq!(
            (id.api_version, id.kind, id.namespace, id.name),
            ("apps/v1", "Deployment", Some("ns"), "web")
        );
        let namespace = ApiKind::of("v1", "Namespace");
        let cluster = Brief::new("k/n.yaml", Some((namespace, None, "ns")), None).unwrap();
        assert_eq!(cluster.id().unwrap().namespace, None);
        assert_eq!(cluster.id().unwrap().name, "ns");
        let file = Brief::new("m/rules.yaml", None, None).unwrap();
        assert_eq!((file.path(), file.id()), ("m/rules.yaml", None));
        // What a record's item is, its brief taken (`rebuild::take_summaries`).
        let mut left = Brief::new("a", None, None).unwrap();
        assert_eq!(std::mem::take(&mut left).path(), "a");
        assert_eq!((left.path(), left.id()), ("", None));
    }
}
