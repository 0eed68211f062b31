//! Checked platform → the output set: pure functions, one module per target.
//!
//! Input: a `Checked` platform (emitters never see an unchecked one, and never fail on user
//! input: every limit is checked in `check/`). Output: items added to an `output::Output`,
//! each with its path under `out/`, its owner, its origin and its typed body; encoding comes
//! after (`encode`). No emitter reads files or the clock, so the same input gives the same
//! bytes. Every target is `emit(&Checked, &mut Output)`; targets share names, labels and
//! addresses through `conventions` and never import one another.

pub mod argocd;
pub mod conventions;
pub mod helm;
pub mod istio;
pub mod jenkins;
pub mod kubernetes;
pub mod observability;
pub mod parallel;
pub mod rollout;
pub mod terraform;

use crate::model::Checked;
use crate::output::{Item, Output, Part, Selection, Summary};

/// What a run needs of the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every file of `out/` (`platc build`).
    All,
    /// The cluster objects alone, typed.
    Cluster,
    /// The cluster objects alone, each validated and encoded as it is made, so the typed
    /// objects of the whole platform are never held at once (`platc render`, the Argo CD
    /// plugin): items are `Body::Rendered`.
    Stream,
}

/// A target: adds its items to the set.
type Target = fn(&Checked, &mut Output);

/// The targets, in the order their items enter the set, and whether they add cluster
/// objects.
const TARGETS: &[(Target, bool)] = &[
    (kubernetes::emit, true),
    (istio::emit, true),
    (rollout::emit, true),
    // The last cluster target: `emit_part` makes its set beside the others'.
    (observability::emit, true),
    (terraform::emit, false),
];

/// The targets that derive their items from the set the others made (and add no cluster
/// objects of the platform's services): the Helm charts wrap the objects and the Jenkins
/// pipelines apply the platform's, each part's from that part's items. The Argo CD
/// Applications (`argocd::emit`), last, deploy every part and name every file the others
/// wrote: they read what the set keeps of every item (`Output::summaries`).
const DERIVED: &[Target] = &[helm::emit, jenkins::emit];

/// How many services' items a build makes before it hands them on (`emit_in_batches`): the
/// typed objects of a few services are held at a time, and each batch still has work for
/// every core.
pub const BATCH: usize = 32;

/// Every item of a build of one platform (or its cluster objects alone), sorted by path.
pub fn emit(platform: &Checked, scope: Scope) -> Output {
    emit_part(platform, scope, &Part::All)
}

/// The items of one part alone (`platc render --part`): the targets make no other part's
/// items (`Output::select`). The derived targets read every part's items, so a part is for
/// the cluster objects alone: with `Scope::All`, `part` must be `Part::All`.
pub fn emit_part(platform: &Checked, scope: Scope, part: &Part) -> Output {
    assert!(
        scope != Scope::All || *part == Part::All,
        "a build makes every part"
    );
    prefetch_origins(platform);
    if scope == Scope::All {
        let items = emit_in_batches(platform, BATCH, None, |items| items).handed;
        let mut out = Output::from_items(items.into_iter().flatten().collect());
        out.sort_by_path();
        return out;
    }
    let mut out = Output::for_scope(scope);
    out.select(Selection::from(part));
    let sync_waves = platform.delivery.argocd.is_some();
    if scope == Scope::Stream {
        out.render_on_entry(sync_waves);
    }
    // The cluster targets share nothing but the platform: the last (observability: a
    // dashboard per service, most of a small platform's bytes) makes its set beside the
    // others', and its items join after theirs, as in a serial run. It is the longer half, so
    // it starts at once on the thread that runs the join, and the others wait for the pool's
    // other thread to take them (render of the reference platform: emit 2.2 → 1.8 ms, the
    // median of 41 runs; whole process 0.0–0.25 ms less, within the noise of some runs).
    let cluster: Vec<Target> = TARGETS
        .iter()
        .filter(|(_, cluster)| *cluster)
        .map(|(target, _)| *target)
        .collect();
    let (first, last) = cluster.split_at(cluster.len() - 1);
    let mut rest = out.fork();
    rayon::join(
        || last.iter().for_each(|target| target(platform, &mut rest)),
        || first.iter().for_each(|target| target(platform, &mut out)),
    );
    out.absorb(rest);
    if sync_waves && scope != Scope::Stream {
        out.annotate_sync_waves();
    }
    // A stream is put in its order, paths included, as it is encoded
    // (`output::cluster_order`): sorted by path first, its items were moved for nothing.
    if scope != Scope::Stream {
        out.sort_by_path();
    }
    out
}

/// Lists the document's nodes for the origin annotations (`model::Origin::nodes`) on every
/// core, before any target asks: the first to ask would list them alone while every other
/// thread that asks waits for it (render of 1,000 services: 4–6 ms with one core idle).
fn prefetch_origins(platform: &Checked) {
    platform.origin.nodes();
}

/// What `emit_in_batches` gives: what `hand_on` gave for each batch, in order, and what the
/// set kept of the items of the services and namespaces it made (their summaries, in the
/// order they were made: a rebuild keeps them to stand for the parts it does not make again).
pub struct Batches<R> {
    pub handed: Vec<R>,
    /// In three lists: the services', the namespaces' made (in their batches), and the
    /// platform batch's own and the Argo CD target's, when they were made (none copied onto
    /// another: at 10,000 services, 400,000 summaries).
    pub parts: [Vec<Summary>; 3],
    /// The summaries `Reuse::kept` gave, handed back once read: the services' and the
    /// platform part's, then the namespaces', each in their order (a rebuild's record takes
    /// them back, `rebuild::TreeRecord::new`).
    pub kept: [Vec<Summary>; 2],
}

/// The services and namespaces a build makes again, and what it knows of the others' items.
#[derive(Debug, Default)]
pub struct Reuse {
    /// The services to make; the others' items are not made.
    pub make: std::collections::BTreeSet<String>,
    /// The namespaces whose items are not made.
    pub keep_namespaces: std::collections::BTreeSet<String>,
    /// Whether the platform's batch and the Argo CD target's items are not made: they did
    /// not change.
    pub keep_platform: bool,
    /// The summaries of the items of every service and namespace not made, and of the
    /// platform's batch when it is kept (from the build that made them): the derived targets
    /// read them beside the new ones.
    pub kept: Vec<Summary>,
}

/// Every item of a build of one platform, handed to `hand_on` a batch at a time, on every
/// core: first the items of `batch` namespaces at a time, then a batch of the platform's
/// own items, then the items of `batch` services at a time, each batch's Helm charts and
/// pipelines with them; then, last, the Argo CD target's, which reads what every batch kept
/// of its items (`Output::summaries`), a lot of Applications at a time, and the umbrella
/// chart's `Chart.yaml`. What `hand_on` gives for each batch, in that order.
/// Together the batches are the set `emit` gives, each item once; a build encodes each batch
/// on the thread that made it, so the typed objects of the whole platform are never held at
/// once. With `reuse`, only the services it names are made, only the namespaces it does
/// not keep, and the platform's batch and the Argo CD target's items unless it keeps them
/// (the umbrella chart's `Chart.yaml` is always made); the derived targets read its kept
/// summaries for what was not made.
pub fn emit_in_batches<R: Send>(
    platform: &Checked,
    batch: usize,
    reuse: Option<Reuse>,
    hand_on: impl Fn(Vec<Item>) -> R + Sync + Send,
) -> Batches<R> {
    prefetch_origins(platform);
    let sync_waves = platform.delivery.argocd.is_some();
    let (only, keep_namespaces, keep_platform, mut kept) = match reuse {
        Some(reuse) => (
            Some(reuse.make),
            reuse.keep_namespaces,
            reuse.keep_platform,
            reuse.kept,
        ),
        None => Default::default(),
    };
    // The kept namespaces' summaries go to the platform's batch, the services' to the end
    // (taken out in place: 40,000 at 1,000 services, not moved to new vectors).
    let kept_namespaces: Vec<Summary> = kept
        .extract_if(.., |s| {
            matches!(s.owner(), crate::output::Owner::Namespace(_))
        })
        .collect();
    let names: Vec<&str> = platform
        .services
        .iter()
        .map(|s| s.name.value.as_str())
        .filter(|name| only.as_ref().is_none_or(|only| only.contains(*name)))
        .collect();
    // A batch's items, made by every target and handed on; and the summaries of them.
    let make_batch = |selection: &Selection, keep: Option<Vec<Summary>>| {
        let mut out = Output::for_scope(Scope::All);
        out.select(selection.clone());
        if let Some(keep) = keep {
            out.keep(keep);
        }
        for (target, _) in TARGETS {
            target(platform, &mut out);
        }
        if sync_waves {
            out.annotate_sync_waves();
        }
        // Derived targets read what the others made.
        for target in DERIVED {
            target(platform, &mut out);
        }
        let handed = hand_on(out.drain());
        (handed, out.into_summaries())
    };
    // The namespaces' items first, `batch` namespaces at a time: at 10,000 services, every
    // namespace's typed objects were 150 MB held at once in one batch. The namespaces of
    // the services, in their order; the items of any other (the egress gateway's) are the
    // platform's batch's.
    let mut batched = keep_namespaces;
    let made_namespaces: Vec<&str> = platform
        .services
        .iter()
        .map(|s| s.namespace.as_str())
        .filter(|namespace| batched.insert((*namespace).to_owned()))
        .collect();
    let namespace_batches: Vec<Selection> = made_namespaces
        .chunks(batch.max(1))
        .map(|names| Selection::namespaces(names.iter().copied()))
        .collect();
    let (mut handed, namespace_summaries): (Vec<R>, Vec<Vec<Summary>>) =
        parallel::map_each(&namespace_batches, |selection| make_batch(selection, None))
            .into_iter()
            .unzip();
    // The platform's batch reads every namespace's items as kept ones: a rebuild's kept,
    // then the ones just made (their summaries handed on as its own, `Batches::parts`).
    let kept_in_shared = kept_namespaces.len();
    let mut shared_keep = kept_namespaces;
    shared_keep.extend(namespace_summaries.into_iter().flatten());
    // Then the platform's batch, begun at once: it is made before the other batches' files
    // and summaries have piled up (a fresh build of 10,000 services: RSS 970 MB when it was
    // made last, 690 MB made first); beside it, the services', `batch` at a time.
    let services: Vec<Selection> = names
        .chunks(batch.max(1))
        .map(|names| Selection::services(names.iter().copied()))
        .collect();
    let made_in_shared = shared_keep.len();
    let ((platform_handed, mut shared), made) = rayon::join(
        || {
            if keep_platform {
                (None, shared_keep)
            } else {
                let (handed, shared) =
                    make_batch(&Selection::shared_but(batched), Some(shared_keep));
                (Some(handed), shared)
            }
        },
        || parallel::map_each(&services, |selection| make_batch(selection, None)),
    );
    handed.extend(platform_handed);
    let (made_handed, summaries): (Vec<R>, Vec<Vec<Summary>>) = made.into_iter().unzip();
    handed.extend(made_handed);
    // The Argo CD target reads every item's summary: the services' kept, the services'
    // made, the platform's batch (the namespaces' items, kept and made, first in it), each
    // list where it lies (joined, the kept were moved once more: 80,000 at 1,000 services).
    // The services' made are moved into one list first, sized once: at 10,000 services,
    // their 313 batches' lists, held until the record is made and then freed among its new
    // allocations, left the allocator's pages more scattered (peak RSS some 20 MB more in
    // interleaved first builds), and read by the record a list at a time, each freed once
    // read, they lowered the live heap's peak by 4 MB alone (`bench/heap.sh`, 299 -> 295).
    let made_len = summaries.iter().map(Vec::len).sum();
    let mut made = Vec::with_capacity(made_len);
    for batch in summaries {
        made.extend(batch);
    }
    // The Applications are the platform's batch's, made and kept with it: they read the
    // summaries' paths, identities and canaries' traffic routing, and the platform, none of
    // which a tag (the one input the platform's fingerprint leaves out) reaches.
    // Each lot of them handed on as it is made (`argocd::LOT`), the chart last.
    let mut out = Output::default();
    let chart = helm::umbrella_chart(platform);
    if !keep_platform {
        let chart_summary = Summary::of(&chart);
        let all = kept
            .iter()
            .chain(&made)
            .chain(&shared)
            .chain(std::iter::once(&chart_summary));
        argocd::emit(platform, all, |lot| {
            out.extend(lot);
            handed.push(hand_on(out.drain()));
        });
    }
    let applications = out.into_summaries();
    handed.push(hand_on(vec![chart]));
    // The parts made: the services' items, the namespaces' made (in their batches), and the
    // platform batch's own with the Applications (a few thousand, copied); and the kept
    // ones, handed back. A first build keeps nothing: the namespaces' list is the whole one,
    // taken, not copied, and the room left behind, never touched, freed.
    let mut own = shared.split_off(made_in_shared);
    own.extend(applications);
    let made_shared = shared.split_off(kept_in_shared);
    shared.shrink_to_fit();
    Batches {
        handed,
        parts: [made, made_shared, own],
        kept: [kept, shared],
    }
}
