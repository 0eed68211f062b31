//! `env NAME { … }` overlays, applied to the KDL tree before lowering.
//!
//! An overlay node merges into the base node with the same name (and, for nodes that name a
//! thing, such as `service X` or `port grpc`, the same first argument): its properties replace
//! the base's, its arguments replace the base's when given, its children merge recursively,
//! and nodes the base lacks are added. Merged entries keep their own spans, so a mistake made
//! in an overlay is reported at the overlay.
//!
//! Two exceptions keep an overlay from half-defining what it means to change:
//!
//! - `service X { … }` must name a base service (`platc::unknown-service` with a did-you-mean
//!   otherwise): an overlay changes services, it never declares one;
//! - `service X { remove }` removes the base service from the environment, and `calls`,
//!   `env`, `port`, `uses` and `volume` of a service can be removed the same way. `remove`
//!   takes no arguments, properties or children, and stands alone in its block
//!   (`platc::remove-with-changes`); one that matches nothing is `platc::nothing-to-remove`.

use crate::diagnostic::{Diagnostics, ErrorKind, suggest};
use crate::lower::grammar;
use crate::lower::reader::Reader;
use crate::syntax::{Document, Entry, Ident, Node, Value};

/// Nodes identified by their first argument rather than by name alone.
const KEYED: &[&str] = &[
    "access",
    "bucket",
    "cache",
    "calls",
    "calls-external",
    "config",
    "container",
    "database",
    "docdb",
    "env",
    "filesystem",
    "gateway",
    "header",
    "init",
    "migrate",
    "node-group",
    "pagerduty",
    "port",
    "probe",
    "queue",
    "repository",
    "secret",
    "service",
    "slack",
    "table",
    "topic",
    "uses",
    "version",
    "view",
    "volume",
    "waive",
];

/// Nodes an overlay may only change or remove, never add (at the top of the overlay).
const CHANGED_ONLY: &[&str] = &["service"];

/// Nodes of a service an overlay may `remove` (their grammar entries list `remove`).
const REMOVABLE_IN_SERVICE: &[&str] = &["calls", "env", "port", "uses", "version", "volume"];

/// The base platform's children with the overlay's children merged in. A node the overlay
/// names but the base lacks is reported when it is one the overlay may only change, and so is
/// a `remove` that matches nothing.
///
/// Beside the merged node, for each of its children, the place among the base's children of
/// the one it is an unchanged copy of; `None` for one the overlay changed or added.
pub fn apply(base: &Node, overlay: &Node, d: &mut Diagnostics) -> (Node, Vec<Option<usize>>) {
    let mut merged = base.clone();
    let mut kept = (0..base.children().map_or(0, |c| c.nodes().len()))
        .map(Some)
        .collect();
    if let Some(children) = overlay.children() {
        merge_children(
            merged.ensure_children(),
            children,
            Level::Platform,
            Some(&mut kept),
            d,
        );
    }
    (merged, kept)
}

/// Where a block being merged stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Platform,
    Service,
    Other,
}

/// `kept`, when given, follows the base's nodes: a removed one's place goes, a changed one's
/// becomes `None`, and an added one has `None`.
fn merge_children(
    base: &mut Document,
    overlay: &Document,
    level: Level,
    mut kept: Option<&mut Vec<Option<usize>>>,
    d: &mut Diagnostics,
) {
    for node in overlay.nodes() {
        let key = key(node);
        let name = node.name().value();
        let changed_only = level == Level::Platform && CHANGED_ONLY.contains(&name);
        let removable =
            changed_only || (level == Level::Service && REMOVABLE_IN_SERVICE.contains(&name));
        let remove = removable.then(|| removal(node, d)).flatten();
        let found = base.nodes().iter().position(|b| self::key(b) == key);
        // A service's extra and init containers remove their `env` and `port` as it does.
        let inner = if (name == "service" && level == Level::Platform)
            || (level == Level::Service && matches!(name, "container" | "init"))
        {
            Level::Service
        } else {
            Level::Other
        };
        match (found, remove) {
            (Some(i), Some(true)) => {
                base.nodes_mut().remove(i);
                if let Some(kept) = kept.as_deref_mut() {
                    kept.remove(i);
                }
            }
            // Reported by `removal`: neither removed nor changed.
            (Some(_), Some(false)) => {}
            (Some(i), None) => {
                merge_node(&mut base.nodes_mut()[i], node, inner, d);
                if let Some(kept) = kept.as_deref_mut() {
                    kept[i] = None;
                }
            }
            (None, _) if changed_only => unknown(base, node, d),
            (None, Some(_)) => nothing_to_remove(base, node, &key, d),
            (None, None) => {
                base.nodes_mut().push(node.clone());
                if let Some(kept) = kept.as_deref_mut() {
                    kept.push(None);
                }
            }
        }
    }
}

/// A `remove` whose node the base block lacks.
fn nothing_to_remove(
    base: &Document,
    node: &Node,
    key: &(String, Vec<String>),
    d: &mut Diagnostics,
) {
    let what = std::iter::once(key.0.clone())
        .chain(key.1.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let declared: Vec<String> = base
        .nodes()
        .iter()
        .map(self::key)
        .filter(|k| k.0 == key.0)
        .map(|k| k.1.join(" "))
        .collect();
    let suggestion = suggest(&key.1.join(" "), declared.iter().map(String::as_str))
        .map(|s| format!("{} {s}", key.0));
    let span = node
        .entries()
        .iter()
        .find(|e| e.name().is_none())
        .map_or_else(|| node.name().span(), Entry::span);
    d.error(ErrorKind::NothingToRemove { what, suggestion }, span);
}

/// Whether the overlay node removes its base node: `Some(true)` for a well-formed
/// `X { remove }`, `Some(false)` for a `remove` with anything beside or inside it (reported),
/// `None` without one.
fn removal(node: &Node, d: &mut Diagnostics) -> Option<bool> {
    let children = node.children()?;
    let remove = children
        .nodes()
        .iter()
        .find(|c| c.name().value() == "remove")?;
    let r = Reader::new(remove, &grammar::service::REMOVE);
    r.finish(d);
    let mut alone = true;
    for other in children
        .nodes()
        .iter()
        .filter(|c| !std::ptr::eq(*c, remove))
    {
        alone = false;
        d.error(
            ErrorKind::RemoveWithChanges {
                node: node.name().value().to_owned(),
                what: format!("`{}`", other.name().value()),
            },
            other.name().span(),
        );
    }
    // The key's arguments name the node; any further one (`port http 9090`) would change it.
    let named = if node.name().value() == "uses" {
        usize::MAX
    } else {
        1
    };
    let extra_args = node
        .entries()
        .iter()
        .filter(|e| e.name().is_none())
        .skip(named);
    for entry in extra_args {
        alone = false;
        d.error(
            ErrorKind::RemoveWithChanges {
                node: node.name().value().to_owned(),
                what: format!("the argument `{}`", entry.value()),
            },
            entry.span(),
        );
    }
    for entry in node.entries().iter().filter(|e| e.name().is_some()) {
        alone = false;
        d.error(
            ErrorKind::RemoveWithChanges {
                node: node.name().value().to_owned(),
                what: format!("`{}=`", entry.name().map_or("", Ident::value)),
            },
            entry.span(),
        );
    }
    Some(alone && remove.entries().is_empty() && remove.children().is_none())
}

/// An overlay node that names no base node of its kind.
fn unknown(base: &Document, node: &Node, d: &mut Diagnostics) {
    let kind = node.name().value();
    let Some(name) = node.entries().iter().find(|e| e.name().is_none()) else {
        // Without a name the lowering reports the missing argument.
        return;
    };
    let text = match name.value() {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let declared: Vec<String> = base
        .nodes()
        .iter()
        .filter(|b| b.name().value() == kind)
        .filter_map(|b| key(b).1.into_iter().next())
        .collect();
    d.error(
        ErrorKind::UnknownService {
            suggestion: suggest(&text, declared.iter().map(String::as_str)),
            name: text,
            overlay: true,
        },
        name.span(),
    );
}

fn merge_node(base: &mut Node, overlay: &Node, level: Level, d: &mut Diagnostics) {
    let keyed = usize::from(KEYED.contains(&base.name().value()));
    let overlay_args: Vec<&Entry> = overlay
        .entries()
        .iter()
        .filter(|e| e.name().is_none())
        .collect();
    let mut args: Vec<Entry> = base
        .entries()
        .iter()
        .filter(|e| e.name().is_none())
        .cloned()
        .collect();
    if overlay_args.len() > keyed {
        args.truncate(keyed);
        args.extend(overlay_args[keyed..].iter().map(|e| (*e).clone()));
    }
    let mut props: Vec<Entry> = base
        .entries()
        .iter()
        .filter(|e| e.name().is_some())
        .cloned()
        .collect();
    for entry in overlay.entries().iter().filter(|e| e.name().is_some()) {
        let name = entry.name().map(Ident::value);
        props.retain(|p| p.name().map(Ident::value) != name);
        props.push(entry.clone());
    }
    let entries = base.entries_mut();
    entries.clear();
    entries.extend(args);
    entries.extend(props);
    if let Some(children) = overlay.children() {
        merge_children(base.ensure_children(), children, level, None, d);
    }
}

/// A node's identity within its block: its name, plus its first argument for named things
/// (all arguments for `uses`, whose first argument is a kind).
fn key(node: &Node) -> (String, Vec<String>) {
    let name = node.name().value();
    if name == "mtls-exception" {
        // Exceptions are named by their port.
        let port = node
            .entries()
            .iter()
            .find(|e| e.name().is_some_and(|n| n.value() == "port"))
            .map(|e| e.value().to_string());
        return (name.to_owned(), port.into_iter().collect());
    }
    let take = match name {
        "uses" => usize::MAX,
        n if KEYED.contains(&n) => 1,
        _ => 0,
    };
    let args = node
        .entries()
        .iter()
        .filter(|e| e.name().is_none())
        .take(take)
        .map(|e| match e.value() {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    (name.to_owned(), args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(text: &str) -> Node {
        crate::syntax::parser::parse(text).unwrap().nodes()[0].clone()
    }

    #[test]
    fn overlay_replaces_properties_and_adds_nodes() {
        let base =
            platform("platform p { service a { autoscale min=2 max=10 cpu=70; port grpc 5050 } }");
        let env =
            platform("env staging { service a { autoscale max=2; replicas 1; port http 80 } }");
        let mut d = Diagnostics::default();
        let merged = apply(&base, &env, &mut d).0;
        let text = merged.to_string();
        assert!(text.contains("autoscale min=2 cpu=70 max=2"), "{text}");
        assert!(text.contains("replicas 1"), "{text}");
        assert!(text.contains("port grpc 5050"), "{text}");
        assert!(text.contains("port http 80"), "{text}");
        assert!(!d.has_errors());
    }

    #[test]
    fn an_overlay_copies_only_the_blocks_it_changes() {
        let base = platform(
            "platform p { service a { replicas 3; port grpc 5050 }; service b { replicas 2 } }",
        );
        let before = base.to_string();
        let env = platform("env dev { service a { replicas 1 } }");
        let merged = apply(&base, &env, &mut Diagnostics::default()).0;
        assert_eq!(base.to_string(), before, "the base changed");
        assert!(
            merged.to_string().contains("service a { replicas 1"),
            "{merged}"
        );
        let block = |n: &Node, i: usize| n.children().unwrap().nodes()[i].children().cloned();
        let (a, b) = (block(&base, 0).unwrap(), block(&base, 1).unwrap());
        assert!(
            !block(&merged, 0).unwrap().shares_nodes_with(&a),
            "a was not copied"
        );
        assert!(
            block(&merged, 1).unwrap().shares_nodes_with(&b),
            "b was copied"
        );
    }

    /// Each merged child names the base child it is an unchanged copy of: a removed one's
    /// place goes, a changed one's and an added one's are `None`.
    #[test]
    fn the_merged_children_name_the_base_children_they_copy() {
        let base = platform(
            "platform p { defaults { replicas 2 }; service a; service b; service c; service d }",
        );
        let env = platform(
            "env dev { service b { remove }; service d { replicas 1 }; mesh istio; service x }",
        );
        let mut d = Diagnostics::default();
        let (merged, kept) = apply(&base, &env, &mut d);
        let names: Vec<String> = merged
            .children()
            .unwrap()
            .nodes()
            .iter()
            .map(|n| format!("{}{}", n.name().value(), n.entries().len()))
            .collect();
        assert_eq!(
            names,
            ["defaults0", "service1", "service1", "service1", "mesh1"]
        );
        assert_eq!(kept, [Some(0), Some(1), Some(3), None, None]);
        let codes: Vec<&str> = d.iter().map(|x| x.kind.code()).collect();
        assert_eq!(codes, ["platc::unknown-service"]);
        let (_, kept) = apply(&base, &platform("env dev"), &mut d);
        assert_eq!(kept, [Some(0), Some(1), Some(2), Some(3), Some(4)]);
    }

    #[test]
    fn keyed_nodes_merge_by_first_argument() {
        let base = platform("platform p { service a { port grpc 5050; port http 8080 } }");
        let env = platform("env dev { service a { port http 9090 } }");
        let text = apply(&base, &env, &mut Diagnostics::default())
            .0
            .to_string();
        assert!(text.contains("port grpc 5050"), "{text}");
        assert!(text.contains("port http 9090"), "{text}");
        assert!(!text.contains("8080"), "{text}");
    }

    #[test]
    fn an_overlay_declares_no_service() {
        let base = platform("platform p { service checkout { replicas 3 } }");
        let env = platform("env dev { service chekout { replicas 1 } }");
        let mut d = Diagnostics::default();
        let text = apply(&base, &env, &mut d).0.to_string();
        assert!(!text.contains("chekout"), "{text}");
        let kinds: Vec<&ErrorKind> = d.iter().map(|x| &x.kind).collect();
        assert!(
            matches!(
                kinds.as_slice(),
                [ErrorKind::UnknownService { suggestion: Some(s), overlay: true, .. }] if s == "checkout"
            ),
            "{kinds:?}"
        );
    }

    #[test]
    fn remove_drops_the_service_and_stands_alone() {
        let base = platform("platform p { service a { replicas 3 }; service b { replicas 1 } }");
        let env = platform("env prod { service a { remove } }");
        let mut d = Diagnostics::default();
        let text = apply(&base, &env, &mut d).0.to_string();
        assert!(!text.contains("service a"), "{text}");
        assert!(text.contains("service b"), "{text}");
        assert!(!d.has_errors());

        let env = platform("env prod { service a { remove; replicas 0 } }");
        let mut d = Diagnostics::default();
        let text = apply(&base, &env, &mut d).0.to_string();
        assert!(
            text.contains("replicas 3"),
            "neither removed nor changed: {text}"
        );
        let codes: Vec<&str> = d.iter().map(|x| x.kind.code()).collect();
        assert_eq!(codes, ["platc::remove-with-changes"]);
    }

    #[test]
    fn a_service_drops_its_calls_and_variables_by_key() {
        let base = platform(
            "platform p { service a { env A \"1\"; env B \"2\"; calls b env=B_ADDR; port http 80 } }",
        );
        let env = platform("env prod { service a { env A { remove }; calls b { remove } } }");
        let mut d = Diagnostics::default();
        let text = apply(&base, &env, &mut d).0.to_string();
        assert!(!text.contains("env A"), "{text}");
        assert!(text.contains("env B"), "{text}");
        assert!(!text.contains("calls"), "{text}");
        assert!(!d.has_errors());

        let env = platform("env prod { service a { calls c { remove } } }");
        let mut d = Diagnostics::default();
        let _ = apply(&base, &env, &mut d);
        let codes: Vec<&str> = d.iter().map(|x| x.kind.code()).collect();
        assert_eq!(codes, ["platc::nothing-to-remove"]);
    }

    #[test]
    fn containers_and_configs_merge_by_name() {
        let base = platform(
            "platform p { service a { config app path=\"/etc/a\" text=\"base\"; container x { args \"--base\" }; container y { args \"--y\" }; init m { args \"--m\" } } }",
        );
        let env = platform(
            "env dev { service a { config app text=\"dev\"; container x { args \"--dev\" }; init m { command \"/bin/m\" } } }",
        );
        let mut d = Diagnostics::default();
        let text = apply(&base, &env, &mut d).0.to_string();
        assert!(!d.has_errors());
        assert!(text.contains("text=dev"), "{text}");
        let env = platform("env dev { service a { container x { env A { remove } } } }");
        let base2 =
            platform("platform p { service a { container x { env A \"1\"; env B \"2\" } } }");
        let mut d2 = Diagnostics::default();
        let removed = apply(&base2, &env, &mut d2).0.to_string();
        assert!(!d2.has_errors());
        assert!(
            !removed.contains("env A") && removed.contains("env B"),
            "{removed}"
        );
        assert!(!text.contains("base"), "{text}");
        assert!(text.contains("path=\"/etc/a\""), "{text}");
        assert!(text.contains("--y"), "{text}");
        assert!(text.contains("--m") && text.contains("/bin/m"), "{text}");
        assert_eq!(text.matches("container x").count(), 1, "{text}");
        assert_eq!(text.matches("init m").count(), 1, "{text}");
    }
}
