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

/// The names of the environments a document declares, for `check` to lower one by one.
pub fn env_names(document: &Document) -> Vec<String> {
    let Some(platform) = document
        .nodes()
        .iter()
        .find(|n| n.name().value() == "platform")
    else {
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
    let node = match env {
        None => node,
        Some(name) => {
            let overlay = node.children().and_then(|c| {
                c.nodes()
                    .iter()
                    .find(|n| n.name().value() == "env" && first_string(n) == Some(name))
            });
            if let Some(overlay) = overlay {
                merged = overlay::apply(node, overlay, d);
                &merged
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
    Some(lower_platform(node, envs, env, d))
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

fn lower_platform(
    node: &Node,
    envs: Vec<Spanned<String>>,
    env: Option<&str>,
    d: &mut Diagnostics,
) -> Platform {
    let mut r = Reader::new(node, &grammar::PLATFORM);
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
    for child in r.children() {
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
                if let Some(service) = service::lower(child, &defaults_read, d) {
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
