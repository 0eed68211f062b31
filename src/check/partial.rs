//! Checking a platform whose lowering reported errors, so that every error of a run shows at
//! once: a bad port in one service does not hide a bad VPC in `aws`.
//!
//! Lowering drops what it cannot read, so the model it leaves is partial, and a rule run over
//! it may report a consequence of a dropped value rather than a mistake of its own (a call to
//! a port that was dropped for its bad number is not an unknown port). The file is divided
//! into parts, the children of `platform`: each `service`, `aws`, `mesh`, `observability`,
//! `defaults`, …. A part holding a lowering error is *broken*. A finding of the rules is kept
//! only when it points into no broken part and depends on none (`depends_on`); the others
//! are counted, and the summary says that many findings wait for the errors' fix. When an
//! error lies in `platform` but outside every part (its name), or in a part every other one
//! depends on (`defaults`), no rule runs: the summary says so. An error outside `platform`
//! (a stray top-level node) breaks nothing.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, Unmeasured};
use crate::model::Platform;
use crate::span::Span;
use crate::syntax::{Document, Node};

/// One child of `platform`.
struct Part {
    span: Span,
    /// The node's name (`service`, `aws`, …).
    node: String,
    /// The first argument as written (a service's name), if any.
    name: Option<String>,
}

/// What a finding depends on beyond the text it points at.
enum Dependency<'a> {
    /// A service of this name.
    Service(&'a str),
    /// A part that is one node (`aws`, `mesh`, `observability`).
    Node(&'static str),
    /// Every service.
    Services,
    /// Anything at all.
    Everything,
}

fn depends_on(kind: &ErrorKind) -> Option<Dependency<'_>> {
    Some(match kind {
        ErrorKind::UnknownService { name, .. } => Dependency::Service(name),
        ErrorKind::UnknownPort { service, .. } => Dependency::Service(service),
        ErrorKind::UnknownStore { .. }
        | ErrorKind::NeedsAccount { .. }
        | ErrorKind::SharedStateKey { .. } => Dependency::Node("aws"),
        ErrorKind::UnknownGateway { .. }
        | ErrorKind::CanaryNeedsMesh { .. }
        | ErrorKind::OutsideMesh { .. }
        | ErrorKind::SloUnmeasured {
            why: Unmeasured::NoSidecar,
            ..
        } => Dependency::Node("mesh"),
        ErrorKind::GateWithoutPrometheus { .. }
        | ErrorKind::SloUnmeasured {
            why: Unmeasured::NoPrometheus,
            ..
        } => Dependency::Node("observability"),
        ErrorKind::Capacity { .. } => Dependency::Services,
        // `calls … env=` and `uses` add variables named by other parts.
        ErrorKind::DuplicateEnv { .. } => Dependency::Everything,
        _ => return None,
    })
}

/// The parts of the platform node.
fn parts(platform: &Node) -> Vec<Part> {
    platform
        .children()
        .map_or(&[][..], Document::nodes)
        .iter()
        .map(|node| Part {
            span: node.span(),
            node: node.name().value().to_owned(),
            name: node
                .entries()
                .iter()
                .find(|e| e.name().is_none())
                .and_then(|e| e.value().as_string())
                .map(str::to_owned),
        })
        .collect()
}

/// The outcome of checking a partial platform.
pub struct Partial {
    /// Findings kept: they stand whatever the fix of the lowering errors.
    pub kept: Diagnostics,
    /// How many findings were held back, or `None` when no rule could run.
    pub held_back: Option<usize>,
}

/// Runs every rule over `platform`, lowered from `platform_node` with the errors `lowering`,
/// and keeps the findings that no lowering error can have caused.
pub fn check(platform: Platform, platform_node: &Node, lowering: &Diagnostics) -> Partial {
    let parts = parts(platform_node);
    let errors: Vec<Span> = lowering
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.span)
        .collect();
    let part_of = |span: Span| {
        parts
            .iter()
            .position(|p| p.span.start <= span.start && span.end <= p.span.end)
    };
    let within = platform_node.span();
    let mut broken = BTreeSet::new();
    // An error outside `platform` (a stray top-level node) changes nothing inside it.
    for &span in errors
        .iter()
        .filter(|s| within.start <= s.start && s.end <= within.end)
    {
        match part_of(span) {
            Some(i) if parts[i].node != "defaults" => {
                broken.insert(i);
            }
            _ => {
                return Partial {
                    kept: Diagnostics::default(),
                    held_back: None,
                };
            }
        }
    }
    let is_broken = |node: &str, name: Option<&str>| {
        broken
            .iter()
            .any(|&i| parts[i].node == node && (name.is_none() || parts[i].name.as_deref() == name))
    };
    let mut found = Diagnostics::default();
    super::check(platform, &mut found);
    let mut kept = Diagnostics::default();
    let mut held_back = 0;
    for diagnostic in &found {
        if stands(diagnostic, &part_of, &broken, &is_broken) {
            kept.push(diagnostic.clone());
        } else {
            held_back += 1;
        }
    }
    Partial {
        kept,
        held_back: Some(held_back),
    }
}

fn stands(
    diagnostic: &Diagnostic,
    part_of: &dyn Fn(Span) -> Option<usize>,
    broken: &BTreeSet<usize>,
    is_broken: &dyn Fn(&str, Option<&str>) -> bool,
) -> bool {
    let spans = std::iter::once(diagnostic.span).chain(diagnostic.labels.iter().map(|l| l.span));
    for span in spans {
        if part_of(span).is_none_or(|i| broken.contains(&i)) {
            return false;
        }
    }
    match depends_on(&diagnostic.kind) {
        None => true,
        Some(Dependency::Service(name)) => !is_broken("service", Some(name)),
        Some(Dependency::Node(node)) => !is_broken(node, None),
        Some(Dependency::Services) => !is_broken("service", None),
        Some(Dependency::Everything) => broken.is_empty(),
    }
}
