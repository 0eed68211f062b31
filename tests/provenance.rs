//! Provenance that does not churn: objects name the node of `platform.kdl` they came from by
//! its path in the document, so a line added elsewhere changes nothing in `out/` but the
//! manifests, which keep the lines.

#[path = "support/tree.rs"]
mod support;

use platc::source::Source;

use crate::support::tree_of as tree;

#[test]
fn a_line_added_above_everything_changes_only_the_manifests() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/platform.kdl");
    let text = std::fs::read_to_string(root).expect("reads platform.kdl");
    let before = tree(&text);
    let (first, rest) = text.split_once('\n').expect("more than one line");
    let after = tree(&format!("{first}\n// a new line near the top\n\n{rest}"));
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    let changed: Vec<&String> = before
        .iter()
        .filter(|(path, text)| after[*path] != **text)
        .map(|(path, _)| path)
        .collect();
    assert!(!changed.is_empty(), "the manifests record lines");
    assert!(
        changed.iter().all(|p| p.ends_with(platc::write::MANIFEST)),
        "changed beyond the manifests: {changed:?}"
    );
}

/// The origin of a document of `text` in `file`, and the parsed document it lists its nodes
/// from.
fn origin_of(
    file: &str,
    text: &str,
) -> (
    platc::model::Origin,
    std::sync::Arc<platc::syntax::Document>,
) {
    let source = Source::new(file, text);
    let mut d = platc::diagnostic::Diagnostics::default();
    let document = std::sync::Arc::new(platc::parse::parse(&source, &mut d).expect("parses"));
    let origin = platc::model::Origin::new(file, text, document.clone());
    (origin, document)
}

#[test]
fn a_path_names_the_innermost_node_and_escapes_its_arguments() {
    let text = "platform shop {\n    service web {\n        image \"nginx\" tag=\"1.27\"\n        port http 8080\n        port grpc 9090\n        autoscale min=2 max=4\n    }\n    service \"a/b\" { }\n}\n";
    let (origin, document) = origin_of("dir/platform.kdl", text);
    let at = |needle: &str| {
        let start = text.find(needle).expect("in the text");
        platc::span::Span::new(start, start + needle.len())
    };
    assert_eq!(
        origin.path(at("min=2")),
        "platform.kdl#service=web/autoscale"
    );
    assert_eq!(
        origin.path(at("grpc")),
        "platform.kdl#service=web/port=grpc"
    );
    assert_eq!(origin.path(at("service web")), "platform.kdl#service=web");
    assert_eq!(origin.path(at("\"a/b\"")), "platform.kdl#service=a%2Fb");
    assert_eq!(
        origin.path(at("platform shop")),
        "platform.kdl#platform=shop"
    );
    assert_eq!(origin.locate(at("grpc")), "platform.kdl:5");
    // Its nodes listed, the origin no longer holds the document.
    assert_eq!(std::sync::Arc::strong_count(&document), 1);
}

#[test]
fn a_level_of_many_siblings_is_numbered_and_nested_as_a_level_of_few() {
    // Seventy services: a level of that many is walked on the pool, its subtrees joined in
    // order. Each has two ports of one name, and one service name comes twice.
    let mut text = String::from("platform shop {\n");
    for i in 0..70 {
        let service =
            format!("    service s{i} {{\n        port http 80\n        port http 81\n    }}\n");
        text += &service;
    }
    text.push_str(
        "    service s3 {\n        env \"A B\" \"x\"\n        env \"é\" \"y\"\n    }\n}\n",
    );
    let (origin, _) = origin_of("platform.kdl", &text);
    let at = |needle: &str| {
        let start = text.rfind(needle).expect("in the text");
        platc::span::Span::new(start, start + needle.len())
    };
    assert_eq!(origin.path(at("service s0 ")), "platform.kdl#service=s0");
    assert_eq!(
        origin.path(at("port http 80")),
        "platform.kdl#service=s69/port=http"
    );
    assert_eq!(
        origin.path(at("port http 81")),
        "platform.kdl#service=s69/port=http[2]"
    );
    assert_eq!(origin.path(at("service s3 ")), "platform.kdl#service=s3[2]");
    assert_eq!(
        origin.path(at("env \"A B\"")),
        "platform.kdl#service=s3[2]/env=A%20B"
    );
    assert_eq!(
        origin.path(at("env \"é\"")),
        "platform.kdl#service=s3[2]/env=é"
    );
    // Every node's parent comes before it and holds it, as in a walk on one thread.
    let nodes = origin.nodes();
    assert_eq!(nodes.len(), 1 + 71 + 70 * 2 + 2);
    for (i, node) in nodes.iter().enumerate().skip(1) {
        let parent = node.parent.expect("below the platform");
        assert!(parent < i, "{}", node.segment);
        let outer = nodes[parent].span;
        assert!(outer.start <= node.span.start && node.span.end <= outer.end);
    }
}

/// The base platform and each environment kept by a whole build's compile share one origin:
/// the document's nodes are listed once, for whichever tree is made first, and that one
/// listing names the nodes of every tree.
#[test]
fn the_base_and_its_environments_list_the_document_once() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/platform.kdl"))
        .expect("the reference platform");
    let source = Source::new("platform.kdl", text);
    let options = platc::Options {
        keep_envs: true,
        ..platc::Options::default()
    };
    let compiled = platc::compile(&source, &options);
    let base = compiled.platform.expect("compiles");
    assert!(
        !compiled.envs.is_empty(),
        "the reference platform has environments"
    );
    for (name, env) in &compiled.envs {
        let listed = env.origin.nodes();
        assert!(!listed.is_empty(), "{name}");
        assert!(
            std::ptr::eq(listed, base.origin.nodes()),
            "{name}: listed again"
        );
    }
}
