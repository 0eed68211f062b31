//! KDL document → `Platform`.
//!
//! Input: the parsed document and, optionally, the environment whose overlay to apply.
//! Output: the typed model, with `defaults` folded into every service; or nothing when the
//! document has no usable `platform` node. Every problem found goes to the diagnostics; the
//! model holds only values that passed their own syntax checks (cross-references are `check`'s).

mod aws;
mod calls;
mod container;
mod defaults;
pub mod files;
pub mod grammar;
mod mesh;
mod overlay;
pub mod reader;
mod service;
mod traffic;
mod typed;
pub mod value;

use crate::syntax::{Document, Node};

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, suggest};
use crate::lower::reader::{Reader, Seen, unknown_node, value_span};
use crate::model::{Defaults, Delivery, Observability, Platform};
use crate::span::{Span, Spanned};

/// The document's `platform` node: the first, the one `lower` lowers (a second is reported).
pub fn platform_node(document: &Document) -> Option<&Node> {
    document
        .nodes()
        .iter()
        .find(|n| n.name().value() == "platform")
}

/// The names of the environments a document declares, for `check` to lower one by one.
pub fn env_names(document: &Document) -> Vec<String> {
    let Some(platform) = platform_node(document) else {
        return Vec::new();
    };
    platform
        .children()
        .map(|c| {
            c.nodes()
                .iter()
                .filter(|n| n.name().value() == "env")
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| {
            n.entries()
                .first()
                .and_then(|e| e.value().as_string())
                .map(str::to_owned)
        })
        .collect()
}

/// Reports every property given twice on one node (`tag="1.27" tag="latest"`): KDL keeps the
/// last one without a word, which hides the mistake. `seen` is scratch space, reused from node
/// to node.
fn repeated_in<'a>(node: &'a Node, seen: &mut Vec<&'a crate::syntax::Ident>, d: &mut Diagnostics) {
    seen.clear();
    for entry in node.entries() {
        let Some(name) = entry.name() else { continue };
        if let Some(first) = seen.iter().find(|n| n.value() == name.value()) {
            d.push(
                Diagnostic::new(
                    ErrorKind::DuplicateProperty {
                        property: name.value().to_owned(),
                        node: node.name().value().to_owned(),
                    },
                    name.span(),
                )
                .with_label(first.span(), "first given here"),
            );
        } else {
            seen.push(name);
        }
    }
}

/// The largest string value, as JSON, that any output may carry.
pub const MAX_VALUE: usize = 64 * 1024;
/// The largest `reason`, as JSON: it is copied into annotations.
pub const MAX_REASON: usize = 1024;
/// The most text, as JSON, that one service's node may hold: its pods' objects carry it.
pub const MAX_SERVICE: usize = 128 * 1024;

/// Refuses text too large for the objects it reaches. Kubernetes keeps an object in etcd in at
/// most 1.5 MiB, and `kubectl apply` (what Argo CD runs) copies the whole object into the
/// `last-applied-configuration` annotation, and allows 256 KiB of annotations per object: a
/// service's text is held well under that, measured as the JSON that carries it.
///
/// `limits` checks this and the properties given twice (`repeated_in`) in one walk of the
/// document, with an explicit stack (no recursion, whatever the depth): the tree is large and
/// its nodes are far apart in memory, so one walk costs a third less than two did (1,000
/// services, 9.2 → 5.9 ms median).
pub fn limits(document: &Document, d: &mut Diagnostics) {
    // (node, whether its parent is a `platform`, the service it is in)
    let mut stack: Vec<(&Node, bool, Option<usize>)> =
        document.nodes().iter().map(|n| (n, false, None)).collect();
    // (service, the JSON size of its text, whether one of its values was too large)
    let mut services: Vec<(&Node, usize, bool)> = Vec::new();
    let mut seen = Vec::new();
    while let Some((node, in_platform, mut service)) = stack.pop() {
        repeated_in(node, &mut seen, d);
        let (size, oversized) = own_text(node, d);
        if service.is_none() && in_platform && node.name().value() == "service" {
            services.push((node, 0, false));
            service = Some(services.len() - 1);
        }
        if let Some(i) = service {
            services[i].1 += size;
            services[i].2 |= oversized;
        }
        if let Some(children) = node.children() {
            let platform = service.is_none() && node.name().value() == "platform";
            stack.extend(children.nodes().iter().map(|n| (n, platform, service)));
        }
    }
    for (node, total, oversized) in services {
        if !oversized && total > MAX_SERVICE {
            let name = node
                .entries()
                .first()
                .map_or(node.name().span(), crate::syntax::Entry::span);
            d.error(
                ErrorKind::TooLarge {
                    what: "the text of this service",
                    size: total,
                    limit: MAX_SERVICE,
                },
                node.name().span().join(name),
            );
        }
    }
}

/// Checks the node's own values; returns their JSON size and whether one was too large.
fn own_text(node: &Node, d: &mut Diagnostics) -> (usize, bool) {
    let mut total = 0;
    let mut oversized = false;
    for entry in node.entries() {
        let Some(text) = entry.value().as_string() else {
            continue;
        };
        let size = json_size(text);
        total += size;
        let reason = entry.name().is_some_and(|n| n.value() == "reason");
        let (what, limit) = if reason && size <= MAX_VALUE {
            ("this reason", MAX_REASON)
        } else {
            ("this value", MAX_VALUE)
        };
        if size > limit {
            oversized = true;
            // The property's name, or the value's opening quote: the value may be pages long.
            let at = entry.name().map_or_else(
                || {
                    let value = value_span(entry);
                    Span::new(value.start, value.start + 1)
                },
                crate::syntax::Ident::span,
            );
            d.error(ErrorKind::TooLarge { what, size, limit }, at);
        }
    }
    (total, oversized)
}

/// The bytes `text` takes as a JSON string as Go's `encoding/json` writes it (what kubectl
/// and the API server use): quotes and backslashes doubled, control characters, `<`, `>`,
/// `&`, U+2028 and U+2029 as six-byte escapes.
fn json_size(text: &str) -> usize {
    let bytes: usize = text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            b'<' | b'>' | b'&' | 0..0x20 => 6,
            _ => 1,
        })
        .sum();
    // U+2028 and U+2029 are three bytes, counted above, written as six.
    let separators = if text.is_ascii() {
        0
    } else {
        text.matches(['\u{2028}', '\u{2029}']).count()
    };
    bytes + 3 * separators + 2
}

/// Lowers the document, with the overlay of `env` applied when given.
pub fn lower(document: &Document, env: Option<&str>, d: &mut Diagnostics) -> Option<Platform> {
    lower_platforms(document, env, None, d)
}

/// `lower`, taking from `services` (lowered from this same document) each service the
/// environment's overlay leaves as the base has it, with its diagnostics, instead of lowering
/// it again: the same platform and the same diagnostics as `lower` gives.
pub fn lower_reusing(
    document: &Document,
    env: Option<&str>,
    mut services: Services,
    d: &mut Diagnostics,
) -> Option<Platform> {
    lower_platforms(document, env, Some(&mut services), d)
}

/// The services of a document's platform, each lowered once for the base and every
/// environment: an environment's overlay changes a few services, and an environment of 1,000
/// services lowered all of them again, beside the base (issue 15: `platc check` of 1,000
/// services, where lowering is most of the time). Each platform lowered takes its own copy.
#[derive(Default)]
pub struct Services {
    /// For each child of the platform's node, in order: what lowering a `service` gave.
    lowered: Vec<Option<Lowered>>,
}

/// A service as lowering gave it, with what lowering it reported.
type Lowered = (Option<crate::model::Service>, Diagnostics);

impl Services {
    /// The services of the document's (first) platform, with its `defaults` folded in as
    /// `lower` folds them; on every core when there are many.
    pub fn lower(document: &Document) -> Self {
        use rayon::prelude::*;
        /// This many services or more are lowered on the pool.
        const MANY: usize = 64;
        let Some(node) = platform_node(document) else {
            return Self::default();
        };
        // What reading the name and `defaults` reports, `lower` reports again.
        let (_, defaults_read) = head(
            &mut Reader::new(node, &grammar::PLATFORM),
            &mut Diagnostics::default(),
        );
        let children = node.children().map_or(&[][..], Document::nodes);
        let one = |child: &Node| {
            (child.name().value() == "service").then(|| {
                let mut d = Diagnostics::default();
                (service::lower(child, &defaults_read, &mut d), d)
            })
        };
        let count = children
            .iter()
            .filter(|c| c.name().value() == "service")
            .count();
        let lowered = if count >= MANY {
            children.par_iter().map(one).collect()
        } else {
            children.iter().map(one).collect()
        };
        Self { lowered }
    }

    /// A copy, for another platform to take: on every core when there are many services.
    #[must_use]
    pub fn copy(&self) -> Self {
        use rayon::prelude::*;
        let lowered = if self.lowered.len() >= 64 {
            self.lowered.par_iter().cloned().collect()
        } else {
            self.lowered.clone()
        };
        Self { lowered }
    }
}

/// What a platform's lowering takes from the base's lowered services.
struct Reuse<'a> {
    services: &'a mut Services,
    /// For each child of the node lowered, the base's child it is an unchanged copy of;
    /// `None` for the base's node itself.
    kept: Option<&'a [Option<usize>]>,
}

impl Reuse<'_> {
    /// The lowered service of the `index`-th child, taken, when it is the base's as it was
    /// lowered (each base child is kept at one place at most).
    fn take(&mut self, index: usize) -> Option<Lowered> {
        let base = match self.kept {
            None => index,
            Some(kept) => (*kept.get(index)?)?,
        };
        self.services.lowered.get_mut(base)?.take()
    }
}

fn lower_platforms(
    document: &Document,
    env: Option<&str>,
    services: Option<&mut Services>,
    d: &mut Diagnostics,
) -> Option<Platform> {
    let mut platforms = document
        .nodes()
        .iter()
        .filter(|n| n.name().value() == "platform");
    let Some(node) = platforms.next() else {
        // No platform: the first node is most likely a misspelt one, so say so once, at it.
        let first = document.nodes().first();
        let span = first.map_or(Span::new(0, 0), |n| n.name().span());
        let suggestion = first.and_then(|n| suggest(n.name().value(), ["platform"]));
        d.error(ErrorKind::MissingPlatform { suggestion }, span);
        return None;
    };
    for extra in platforms {
        d.push(
            Diagnostic::new(
                ErrorKind::DuplicateNode {
                    node: "platform".into(),
                },
                extra.name().span(),
            )
            .with_label(node.name().span(), "first given here"),
        );
    }
    report_stray_top_level(document, d);

    let envs = declared_envs(node, d);
    let merged;
    let kept;
    let (node, reuse) = match env {
        None => (
            node,
            services.map(|services| Reuse {
                services,
                kept: None,
            }),
        ),
        Some(name) => {
            let overlay = node.children().and_then(|c| {
                c.nodes()
                    .iter()
                    .find(|n| n.name().value() == "env" && first_string(n) == Some(name))
            });
            if let Some(overlay) = overlay {
                (merged, kept) = overlay::apply(node, overlay, d);
                // Every service folds `defaults` in: an overlay that has one lowers them all.
                let defaults = overlay
                    .children()
                    .is_some_and(|c| c.nodes().iter().any(|n| n.name().value() == "defaults"));
                let reuse = services.filter(|_| !defaults).map(|services| Reuse {
                    services,
                    kept: Some(&kept),
                });
                (&merged, reuse)
            } else {
                let suggestion = suggest(name, envs.iter().map(|e| e.value.as_str()));
                d.error(
                    ErrorKind::UnknownEnv {
                        name: name.to_owned(),
                        declared: envs.iter().map(|e| e.value.clone()).collect(),
                        suggestion,
                    },
                    node.name().span(),
                );
                return None;
            }
        }
    };
    Some(lower_platform(node, envs, env, reuse, d))
}

fn report_stray_top_level(document: &Document, d: &mut Diagnostics) {
    for node in document
        .nodes()
        .iter()
        .filter(|n| n.name().value() != "platform")
    {
        unknown_node(node, &grammar::DOCUMENT, d);
    }
}

fn first_string(node: &Node) -> Option<&str> {
    node.entries()
        .iter()
        .find(|e| e.name().is_none())
        .and_then(|e| e.value().as_string())
}

fn declared_envs(platform: &Node, d: &mut Diagnostics) -> Vec<Spanned<String>> {
    let mut envs: Vec<Spanned<String>> = Vec::new();
    for node in platform.children().map_or(&[][..], Document::nodes) {
        if node.name().value() != "env" {
            continue;
        }
        let mut r = Reader::new(node, &grammar::nodes::ENV);
        let name = r.required_string_arg(0, "an environment name", d);
        // Its children are read as the platform's, once merged into it.
        r.finish(d);
        let Some(name) = name else {
            continue;
        };
        let Some(name) = typed::check_name(name, d) else {
            continue;
        };
        if let Some(first) = envs.iter().find(|e| e.value == name.value) {
            d.duplicate_name("environment", &name, first.span, "first defined here");
            continue;
        }
        envs.push(name);
    }
    envs
}

/// The platform's name, read from `r`, and its `defaults` as its services fold them in.
fn head(r: &mut Reader<'_>, d: &mut Diagnostics) -> (Spanned<String>, defaults::DefaultsRead) {
    let name = r
        .required_string_arg(0, "the platform's name", d)
        .and_then(|n| typed::check_name(n, d))
        .unwrap_or_else(|| Spanned::new("platform".into(), r.name_span()));

    // Defaults first: services fold them in, wherever they are written.
    let mut seen = Seen::default();
    let mut defaults_read = defaults::DefaultsRead::default();
    for child in r
        .children()
        .iter()
        .filter(|c| c.name().value() == "defaults")
    {
        if seen.once(child, d) {
            defaults_read = defaults::lower(child, d);
        }
    }

    if let (Some(span), crate::model::NamespaceMode::PerService) =
        (defaults_read.shared_by_default, &defaults_read.namespace)
    {
        defaults_read.namespace =
            crate::model::NamespaceMode::Shared(Spanned::new(name.value.clone(), span));
    }
    (name, defaults_read)
}

fn lower_platform(
    node: &Node,
    envs: Vec<Spanned<String>>,
    env: Option<&str>,
    mut reuse: Option<Reuse<'_>>,
    d: &mut Diagnostics,
) -> Platform {
    let mut r = Reader::new(node, &grammar::PLATFORM);
    let (name, defaults_read) = head(&mut r, d);
    let mut seen = Seen::default();
    let mut platform = Platform {
        span: r.span(),
        name,
        aws: None,
        mesh: None,
        observability: Observability::default(),
        delivery: Delivery::default(),
        defaults: Defaults {
            namespace: defaults_read.namespace.clone(),
            replicas: defaults_read.replicas.clone(),
        },
        // Sized once: 10,000 services grown by doubling were copied a dozen times (the last
        // copy alone 24 MB beside its 48 MB successor, when a `Service` was 3 KB; with its
        // rare parts boxed it is about 1.5 KB).
        services: Vec::with_capacity(
            r.children()
                .iter()
                .filter(|c| c.name().value() == "service")
                .count(),
        ),
        envs,
        env: env.map(str::to_owned),
        origin: crate::model::Origin::default(),
        index: None,
        caller_index: None,
        namespace_index: None,
    };
    for (index, child) in r.children().iter().enumerate() {
        if r.child(child, d).is_none() {
            continue;
        }
        match child.name().value() {
            "aws" => {
                if seen.once(child, d) {
                    platform.aws = aws::lower(child, d);
                }
            }
            "mesh" => {
                if seen.once(child, d) {
                    platform.mesh = Some(mesh::lower_mesh(child, d));
                }
            }
            "observability" => {
                if seen.once(child, d) {
                    platform.observability = mesh::lower_observability(child, d);
                }
            }
            "delivery" => {
                if seen.once(child, d) {
                    platform.delivery = mesh::lower_delivery(child, d);
                }
            }
            "service" => {
                let service = match reuse.as_mut().and_then(|reuse| reuse.take(index)) {
                    Some((service, found)) => {
                        d.extend(found);
                        service
                    }
                    None => service::lower(child, &defaults_read, d),
                };
                if let Some(service) = service {
                    platform.services.push(service);
                }
            }
            // Read above; overlays are applied by `lower`, their names by `declared_envs`.
            "defaults" | "env" => {}
            _ => unknown_node(child, r.spec(), d),
        }
    }
    r.finish(d);
    platform.index_services();
    platform
}

impl crate::model::NodeSource for Document {
    fn path_nodes(&self) -> Vec<crate::model::PathNode> {
        path_nodes(self)
    }
}

/// Every node of the document with its path segment, in pre-order, for `model::Origin`.
/// Each level's segments are made first, then each told from the earlier siblings with the
/// same one by a count of those. The walk is every node of the document (1,000 services:
/// 55,000), and the first origin annotation waits for it: a level of many nodes (the
/// services) has its subtrees walked on every core, and joined in order.
pub fn path_nodes(document: &Document) -> Vec<crate::model::PathNode> {
    let mut out = Vec::new();
    path_level(document, None, &mut out);
    out
}

/// The nodes of one level and their subtrees, in pre-order, added to `out`: `parent` is the
/// place in `out` of the level's node.
fn path_level(document: &Document, parent: Option<usize>, out: &mut Vec<crate::model::PathNode>) {
    use rayon::prelude::*;
    /// Up to this many siblings are counted by a scan of the earlier ones; more, by a map.
    const FEW: usize = 16;
    /// This many siblings or more have their subtrees walked on the pool.
    const MANY: usize = 64;
    let nodes = document.nodes();
    let mut segments: Vec<String> = nodes.iter().map(path_segment).collect();
    // How many siblings up to each one have its segment.
    let counts: Vec<usize> = if segments.len() <= FEW {
        (0..segments.len())
            .map(|i| 1 + segments[..i].iter().filter(|s| **s == segments[i]).count())
            .collect()
    } else {
        let mut seen: std::collections::HashMap<&str, usize, foldhash::fast::RandomState> =
            std::collections::HashMap::default();
        segments
            .iter()
            .map(|s| {
                let count = seen.entry(s.as_str()).or_default();
                *count += 1;
                *count
            })
            .collect()
    };
    for (segment, count) in segments.iter_mut().zip(counts) {
        if count > 1 {
            use std::fmt::Write as _;
            let _ = write!(segment, "[{count}]");
        }
    }
    if nodes.len() < MANY {
        for (node, segment) in nodes.iter().zip(segments) {
            let at = out.len();
            out.push(crate::model::PathNode {
                span: node.span(),
                parent,
                segment,
            });
            if let Some(children) = node.children() {
                path_level(children, Some(at), out);
            }
        }
        return;
    }
    // Each subtree with places from its own start, its top node's parent left `None`.
    let subtrees: Vec<Vec<crate::model::PathNode>> = nodes
        .par_iter()
        .zip(segments)
        .map(|(node, segment)| {
            let mut subtree = vec![crate::model::PathNode {
                span: node.span(),
                parent: None,
                segment,
            }];
            if let Some(children) = node.children() {
                path_level(children, Some(0), &mut subtree);
            }
            subtree
        })
        .collect();
    out.reserve(subtrees.iter().map(Vec::len).sum());
    for subtree in subtrees {
        let start = out.len();
        out.extend(subtree.into_iter().map(|mut node| {
            node.parent = node.parent.map_or(parent, |p| Some(start + p));
            node
        }));
    }
}

/// A node's path segment: `name`, or `name=ARG` when its first argument is a string.
fn path_segment(node: &crate::syntax::Node) -> String {
    let name = node.name().value();
    let arg = node
        .entries()
        .first()
        .filter(|e| e.name().is_none())
        .and_then(|e| e.value().as_string());
    let mut segment = String::with_capacity(name.len() + arg.map_or(0, |a| a.len() + 1));
    segment.push_str(name);
    if let Some(arg) = arg {
        segment.push('=');
        path_escape(arg, &mut segment);
    }
    segment
}

/// An argument as a path segment, added to `out`: `/`, `#`, `%`, `[`, `]`, `=`, spaces and
/// control characters percent-encoded, so that the path reads back unambiguously.
fn path_escape(text: &str, out: &mut String) {
    use std::fmt::Write as _;
    // Most arguments are names: ASCII, with nothing to encode.
    let plain =
        |b: &u8| b.is_ascii_graphic() && !matches!(b, b'/' | b'#' | b'%' | b'[' | b']' | b'=');
    if text.bytes().all(|b| plain(&b)) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        if matches!(c, '/' | '#' | '%' | '[' | ']' | '=') || c.is_whitespace() || c.is_control() {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(text: &str) -> Document {
        crate::syntax::parser::parse(text).expect("parses")
    }

    /// The platform and the diagnostics, as text, of `lower` and of `lower_reusing`; without
    /// the indexes made from the services (hash maps, in no fixed order).
    fn both(document: &Document, env: Option<&str>) -> (String, String) {
        let text = |platform: Option<Platform>, d: &Diagnostics| {
            let platform = platform.map(|mut p| {
                (p.index, p.caller_index, p.namespace_index) = (None, None, None);
                p
            });
            format!("{platform:#?}\n{d:#?}")
        };
        let mut fresh = Diagnostics::default();
        let lowered = lower(document, env, &mut fresh);
        let mut reusing = Diagnostics::default();
        let reused = lower_reusing(document, env, Services::lower(document), &mut reusing);
        (text(lowered, &fresh), text(reused, &reusing))
    }

    /// The reused services make the platform and diagnostics that lowering them again makes,
    /// for every golden case and the reference platform, the base and each environment.
    #[test]
    fn reusing_the_bases_services_lowers_what_lowering_them_again_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("platform.kdl")];
        for entry in std::fs::read_dir(root.join("golden")).expect("golden/") {
            files.push(entry.expect("an entry").path().join("platform.kdl"));
        }
        files.sort();
        let mut compared = 0;
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let Some(document) = crate::syntax::parser::parse(&text) else {
                continue;
            };
            let names = env_names(&document);
            for env in std::iter::once(None).chain(names.iter().map(|n| Some(n.as_str()))) {
                let (fresh, reused) = both(&document, env);
                assert!(fresh == reused, "{} {env:?}", file.display());
                compared += 1;
            }
        }
        assert!(compared > 200, "{compared} platforms compared");
    }

    /// Which services a platform takes as the base's lowered them: all of the base's, those of
    /// an environment that its overlay leaves alone, none when the overlay has `defaults`.
    /// (The services are lowered from an earlier text, so that a taken one shows.)
    #[test]
    fn a_platform_takes_the_services_its_overlay_leaves_alone() {
        let earlier = document(
            "platform p { service a { image \"a\"; replicas 7 }; service b { image \"b\"; replicas 7 }; service c { image \"c\"; replicas 7 } }",
        );
        let text = "platform p { service a { image \"a\"; replicas 2 }; service b { image \"b\"; replicas 2 }; service c { image \"c\"; replicas 2 }; env dev { service a { remove }; service b { image \"b2\" } }; env prod { defaults { replicas 3 } } }";
        let now = document(text);
        let replicas = |env: Option<&str>| {
            let mut d = Diagnostics::default();
            let platform =
                lower_reusing(&now, env, Services::lower(&earlier), &mut d).expect("a platform");
            assert!(!d.has_errors(), "{d:?}");
            platform
                .services
                .iter()
                .map(|s| (s.name.value.clone(), s.replicas.value))
                .collect::<Vec<_>>()
        };
        let pairs = |list: &[(&str, u32)]| {
            list.iter()
                .map(|(n, r)| ((*n).to_owned(), *r))
                .collect::<Vec<_>>()
        };
        assert_eq!(replicas(None), pairs(&[("a", 7), ("b", 7), ("c", 7)]));
        assert_eq!(replicas(Some("dev")), pairs(&[("b", 2), ("c", 7)]));
        assert_eq!(
            replicas(Some("prod")),
            pairs(&[("a", 2), ("b", 2), ("c", 2)])
        );
    }
}
