//! Rules over the whole model: cross-references, resources, mesh policy, canaries, network.
//!
//! Input: a lowered `Platform` (every value already well-formed). Output: a `Checked` platform
//! when no rule reports an error. Each family of rules lives in its own file; every rule
//! reports with its own stable code and never stops at the first problem.

mod addresses;
mod argocd;
mod aws;
mod canary;
mod capacity;
mod delivery;
mod helm;
mod mesh;
mod mounts;
pub(crate) mod network;
mod observability;
pub mod partial;
mod references;
mod resources;
mod routes;
mod stateful;
mod subsets;
mod versions;

use crate::diagnostic::Diagnostics;
use crate::model::{Checked, Platform};

/// Runs every rule; returns the checked platform when none reported an error.
pub fn check(platform: Platform, d: &mut Diagnostics) -> Option<Checked> {
    let before = d.has_errors();
    references::check(&platform, d);
    addresses::check(&platform, d);
    mounts::check(&platform, d);
    delivery::check(&platform, d);
    aws::check(&platform, d);
    resources::check(&platform, d);
    capacity::check(&platform, d);
    mesh::check(&platform, d);
    routes::check(&platform, d);
    canary::check(&platform, d);
    stateful::check(&platform, d);
    subsets::check(&platform, d);
    observability::check(&platform, d);
    network::check(&platform, d);
    versions::check(&platform, d);
    helm::check(&platform, d);
    argocd::check(&platform, d);
    (!before && !d.has_errors()).then(|| Checked::new(platform))
}
