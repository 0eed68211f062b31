//! `env NAME { … }` overlays, applied to the KDL tree before lowering.
//!
//! An overlay node merges into the base node with the same name (and, for nodes that name a
//! thing, such as `service X` or `port grpc`, the same first argument): its properties replace
//! the base's, its arguments replace the base's when given, its children merge recursively,
//! and nodes the base lacks are added. Merged entries keep their own spans, so a mistake made
//! in an overlay is reported at the overlay.

use crate::syntax::{Document, Entry, Ident, Node, Value};

/// Nodes identified by their first argument rather than by name alone.
const KEYED: &[&str] = &[
    "bucket",
    "calls",
    "config",
    "container",
    "database",
    "env",
    "filesystem",
    "gateway",
    "header",
    "init",
    "node-group",
    "port",
    "probe",
    "repository",
    "service",
    "table",
    "uses",
    "view",
    "volume",
    "waive",
];

/// The base platform's children with the overlay's children merged in.
pub fn apply(base: &Node, overlay: &Node) -> Node {
    let mut merged = base.clone();
    if let Some(children) = overlay.children() {
        merge_children(merged.ensure_children(), children);
    }
    merged
}

fn merge_children(base: &mut Document, overlay: &Document) {
    for node in overlay.nodes() {
        let key = key(node);
        match base.nodes_mut().iter_mut().find(|b| self::key(b) == key) {
            Some(existing) => merge_node(existing, node),
            None => base.nodes_mut().push(node.clone()),
        }
    }
}

fn merge_node(base: &mut Node, overlay: &Node) {
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
        merge_children(base.ensure_children(), children);
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
        let env = platform(
            "env staging { service a { autoscale max=2; replicas 1 }; service b { image x } }",
        );
        let merged = apply(&base, &env);
        let text = merged.to_string();
        assert!(text.contains("autoscale min=2 cpu=70 max=2"), "{text}");
        assert!(text.contains("replicas 1"), "{text}");
        assert!(text.contains("port grpc 5050"), "{text}");
        assert!(text.contains("service b"), "{text}");
    }

    #[test]
    fn keyed_nodes_merge_by_first_argument() {
        let base = platform("platform p { service a { port grpc 5050; port http 8080 } }");
        let env = platform("env dev { service a { port http 9090 } }");
        let text = apply(&base, &env).to_string();
        assert!(text.contains("port grpc 5050"), "{text}");
        assert!(text.contains("port http 9090"), "{text}");
        assert!(!text.contains("8080"), "{text}");
    }

    #[test]
    fn containers_and_configs_merge_by_name() {
        let base = platform(
            "platform p { service a { config app path=\"/etc/a\" text=\"base\"; container x { args \"--base\" }; container y { args \"--y\" }; init m { args \"--m\" } } }",
        );
        let env = platform(
            "env dev { service a { config app text=\"dev\"; container x { args \"--dev\" }; init m { command \"/bin/m\" } } }",
        );
        let text = apply(&base, &env).to_string();
        assert!(text.contains("text=dev"), "{text}");
        assert!(!text.contains("base"), "{text}");
        assert!(text.contains("path=\"/etc/a\""), "{text}");
        assert!(text.contains("--y"), "{text}");
        assert!(text.contains("--m") && text.contains("/bin/m"), "{text}");
        assert_eq!(text.matches("container x").count(), 1, "{text}");
        assert_eq!(text.matches("init m").count(), 1, "{text}");
    }
}
