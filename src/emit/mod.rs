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
use crate::output::{Output, Part, Selection};

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
    (observability::emit, true),
    (terraform::emit, false),
];

/// The targets that derive their items from the set the others made (and add no cluster
/// objects of the platform's services): the Helm charts wrap the objects, the Jenkins
/// pipelines apply the platform's, and the Argo CD Applications, last, deploy them and name
/// every file the others wrote.
const DERIVED: &[Target] = &[helm::emit, jenkins::emit, argocd::emit];

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
    let mut out = Output::for_scope(scope);
    out.select(Selection::from(part));
    let sync_waves = platform.delivery.argocd.is_some();
    if scope == Scope::Stream {
        out.render_on_entry(sync_waves);
    }
    for (target, cluster) in TARGETS {
        if scope == Scope::All || *cluster {
            target(platform, &mut out);
        }
    }
    if sync_waves && scope != Scope::Stream {
        out.annotate_sync_waves();
    }
    // Derived targets read what the others made.
    if scope == Scope::All {
        for target in DERIVED {
            target(platform, &mut out);
        }
    }
    out.sort_by_path();
    out
}
