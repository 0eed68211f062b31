//! `platc why TARGET`: the lines of `platform.kdl` that made an object of `out/`.
//!
//! TARGET is a path under `out/` (`kubernetes/services/frontend/hpa.yaml`, with or without
//! `out/`; under `out/env/NAME/` it reads that environment's build), optionally with
//! `#KIND/NAME` for one object of it, or an object as `kubectl` names it (`KIND/NAME`,
//! `hpa/frontend`, kind case-insensitive, singular or as its file name). It reads the output
//! set a build makes, so it names exactly the objects `platc build` writes.
//!
//! For each object: the node it came from (its stable path, line and text), and the values
//! that came from elsewhere: `defaults { … }`, an `env` overlay, or another node.

use std::fmt::Write as _;

use crate::cli::WhyArgs;
use crate::commands::{Output, Report, compile_source, read_source};
use crate::diagnostic::suggest;
use crate::model::{Origin, Service};
use crate::output::{Item, Owner};
use crate::source::Source;
use crate::span::Span;

pub fn run(args: &WhyArgs, color: bool) -> Output {
    let report = Report::beside_product(args.message_format, color);
    let (query, path_env) = Query::parse(&args.target);
    let env = args.env.as_deref().or(path_env.as_deref());
    let source = match read_source(&args.file, report) {
        Ok(source) => source,
        Err(output) => return output,
    };
    let (mut output, platform) = compile_source(&source, env, report);
    let Some(platform) = platform else {
        return output;
    };
    let set = match crate::output(&platform, crate::emit::Scope::All) {
        Ok(set) => set,
        Err(invalid) => {
            let _ = writeln!(output.stderr, "{invalid}");
            output.status = 2;
            return output;
        }
    };
    let found: Vec<&Item> = set.items().iter().filter(|i| query.matches(i)).collect();
    if found.is_empty() {
        let candidates: Vec<String> = set
            .items()
            .iter()
            .map(|i| match (&query, i.id()) {
                (Query::Object { .. }, Some(id)) => id.kind_name(),
                _ => i.path.clone(),
            })
            .collect();
        let hint = suggest(&query.to_string(), candidates.iter().map(String::as_str))
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        let _ = writeln!(
            output.stderr,
            "error: no file or object of the build is `{query}`{hint}"
        );
        output.status = 1;
        return output;
    }
    let mut text = String::new();
    for (i, item) in found.into_iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        explain(&mut text, &platform, &source, env, item);
    }
    output.stdout.push_str(&text);
    output
}

/// What the user asked about.
enum Query {
    /// A file under `out/`, and optionally one object of it (`KIND/NAME`).
    Path {
        path: String,
        object: Option<(String, String)>,
    },
    /// An object by kind and name.
    Object { kind: String, name: String },
}

impl Query {
    /// The query, and the environment a path under `out/env/NAME/` names.
    fn parse(target: &str) -> (Self, Option<String>) {
        let (path, object) = match target.split_once('#') {
            Some((path, object)) => (path, Some(object)),
            None => (target, None),
        };
        let object = object
            .and_then(|o| o.split_once('/'))
            .map(|(k, n)| (k.to_owned(), n.to_owned()));
        let path = path.trim_start_matches("./");
        let path = path.strip_prefix("out/").unwrap_or(path);
        if let Some(rest) = path.strip_prefix("env/")
            && let Some((env, inner)) = rest.split_once('/')
        {
            return (
                Self::Path {
                    path: inner.to_owned(),
                    object,
                },
                Some(env.to_owned()),
            );
        }
        // `KIND/NAME`: one slash, and no file extension.
        if let Some((kind, name)) = path.split_once('/')
            && object.is_none()
            && !name.contains('/')
            && !name.contains('.')
        {
            return (
                Self::Object {
                    kind: kind.to_owned(),
                    name: name.to_owned(),
                },
                None,
            );
        }
        (
            Self::Path {
                path: path.to_owned(),
                object,
            },
            None,
        )
    }

    fn matches(&self, item: &Item) -> bool {
        match self {
            Self::Path { path, object } => {
                item.path == *path
                    && object.as_ref().is_none_or(|(kind, name)| {
                        item.id()
                            .is_some_and(|id| kind_matches(kind, id.kind) && id.name == *name)
                    })
            }
            Self::Object { kind, name } => item
                .id()
                .is_some_and(|id| kind_matches(kind, id.kind) && id.name == *name),
        }
    }
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Path { path, object: None } => f.write_str(path),
            Self::Path {
                path,
                object: Some((kind, name)),
            } => write!(f, "{path}#{kind}/{name}"),
            Self::Object { kind, name } => write!(f, "{kind}/{name}"),
        }
    }
}

/// `Deployment`, `deployment`, `deployments`, and kubectl's short names for the kinds platc
/// writes.
fn kind_matches(asked: &str, kind: &str) -> bool {
    let asked = asked.to_ascii_lowercase();
    let asked = asked.split('.').next().unwrap_or_default();
    let lower = kind.to_ascii_lowercase();
    let short = match kind {
        "HorizontalPodAutoscaler" => "hpa",
        "PodDisruptionBudget" => "pdb",
        "ServiceAccount" => "sa",
        "NetworkPolicy" => "netpol",
        "Namespace" => "ns",
        "Service" => "svc",
        "Deployment" => "deploy",
        "StatefulSet" => "sts",
        "StorageClass" => "sc",
        "ConfigMap" => "cm",
        "PersistentVolumeClaim" => "pvc",
        "VirtualService" => "vs",
        "DestinationRule" => "dr",
        "Gateway" => "gw",
        "PeerAuthentication" => "pa",
        "AuthorizationPolicy" => "ap",
        "Rollout" => "ro",
        _ => "",
    };
    asked == lower || asked == format!("{lower}s") || (!short.is_empty() && asked == short)
}

/// Writes what made one item.
fn explain(
    text: &mut String,
    platform: &crate::model::Checked,
    source: &Source,
    env: Option<&str>,
    item: &Item,
) {
    let origin = &platform.origin;
    let prefix = env.map_or_else(|| "out/".into(), |e| format!("out/{}/", crate::env_dir(e)));
    let _ = write!(text, "{prefix}{}", item.path);
    if let Some(id) = item.id() {
        let _ = write!(text, ": {} ", id.kind);
        if let Some(namespace) = &id.namespace {
            let _ = write!(text, "{namespace}/");
        }
        text.push_str(&id.name);
    }
    text.push('\n');
    let _ = writeln!(
        text,
        "  made by {} ({}):",
        origin.locate(item.origin),
        node_path(origin, item.origin)
    );
    snippet(text, origin, source, item.origin, "    ");
    let mut elsewhere: Vec<(String, Span)> = Vec::new();
    if let Owner::Service(name) = &item.owner
        && let Some(service) = platform.service(name)
    {
        let node = origin.node_of(service.span).map(|i| origin.nodes()[i].span);
        let kind = item.id().map_or("", |id| id.kind);
        for (what, span) in service_values(service, kind) {
            if node.is_none_or(|n| !(n.start <= span.start && span.end <= n.end)) {
                elsewhere.push((what.to_owned(), span));
            }
        }
    }
    if let Some(env) = env {
        for span in overlay_nodes(origin, item.origin, env) {
            elsewhere.push(("overlay".to_owned(), span));
        }
    }
    // One entry per line, named for the value it sets where one is known.
    elsewhere.sort_by_key(|(what, span)| (origin.line(span.start), what == "overlay", span.start));
    elsewhere.dedup_by_key(|(_, span)| origin.line(span.start));
    if !elsewhere.is_empty() {
        text.push_str("  with values from elsewhere:\n");
        for (what, span) in elsewhere {
            let _ = writeln!(
                text,
                "    {what}: {} ({}), {}",
                origin.locate(span),
                node_path(origin, span),
                kind_of_place(origin, span, env)
            );
            snippet(text, origin, source, span, "      ");
        }
    }
}

/// `a=x/b`: the path of the node a span lies in, without the file.
fn node_path(origin: &Origin, span: Span) -> String {
    let path = origin.path(span);
    path.split_once('#')
        .map_or(path.clone(), |(_, p)| p.to_owned())
}

/// The values of a service an object of this kind uses that may be written outside the
/// service's node: by `defaults` or an overlay.
fn service_values(service: &Service, kind: &str) -> Vec<(&'static str, Span)> {
    let mut out = Vec::new();
    let autoscale = |out: &mut Vec<(&'static str, Span)>| {
        if let Some(autoscale) = &service.autoscale {
            out.push(("autoscale", autoscale.min.span));
            out.push(("autoscale", autoscale.max.span));
        }
    };
    match kind {
        "Deployment" | "Rollout" | "StatefulSet" => {
            out.extend([
                ("replicas", service.replicas.span),
                ("cpu request", service.resources.cpu.span),
                ("memory request", service.resources.memory.span),
                ("cpu limit", service.resources.cpu_limit.span),
                ("memory limit", service.resources.memory_limit.span),
                ("image", service.image.repository.span),
            ]);
            if let Some(tag) = &service.image.tag {
                out.push(("image tag", tag.span));
            }
            if let Some(reason) = &service.security.reason {
                out.push(("security", reason.span));
            }
            for capability in &service.security.add_capabilities {
                out.push(("added capability", capability.span));
            }
            for waiver in &service.waivers {
                out.push(("waiver", waiver.check.span));
            }
        }
        "HorizontalPodAutoscaler" => autoscale(&mut out),
        "PodDisruptionBudget" => {
            out.push(("replicas", service.replicas.span));
            autoscale(&mut out);
        }
        "VirtualService" | "Gateway" => {
            for expose in &service.expose {
                out.push(("expose", expose.span));
            }
        }
        _ => {}
    }
    // A value platc made up has an empty span: it is no line of the file.
    out.retain(|(_, span)| span.end > span.start);
    out
}

/// Where a span lies, in words.
fn kind_of_place(origin: &Origin, span: Span, env: Option<&str>) -> String {
    let path = node_path(origin, span);
    if path == "defaults" || path.starts_with("defaults/") {
        return "a default for every service (`defaults`)".into();
    }
    if let Some(env) = env
        && path.starts_with(&format!("env={env}/"))
    {
        return format!("the `{env}` overlay");
    }
    "another node".into()
}

/// The nodes of environment `env`'s overlay that merge into the node a span lies in (or
/// into one of its ancestors or descendants): what the overlay changed of an object.
fn overlay_nodes(origin: &Origin, span: Span, env: &str) -> Vec<Span> {
    let Some(node) = origin.node_of(span) else {
        return Vec::new();
    };
    let target = segments(origin, node);
    let nodes = origin.nodes();
    let mut out = Vec::new();
    for (i, candidate) in nodes.iter().enumerate() {
        let path = segments(origin, i);
        // `env=NAME/…` below the root `platform` node.
        let Some(rest) = path.strip_prefix(&[format!("env={env}")][..]) else {
            continue;
        };
        if rest.is_empty() {
            continue;
        }
        let matched = rest.iter().zip(&target).all(|(a, b)| same_node(a, b));
        // The overlay node is the target's node or a descendant of it: what it changes.
        if matched && rest.len() >= target.len() {
            // Only the outermost such node: its own lines show what it sets.
            let parent_matches = candidate.parent.is_some_and(|p| {
                let parent = segments(origin, p);
                parent.len() > 1 && parent.len() > target.len()
            });
            if !parent_matches {
                out.push(candidate.span);
            }
        }
    }
    out
}

/// The segments of a node's path below the root `platform` node.
fn segments(origin: &Origin, node: usize) -> Vec<String> {
    let nodes = origin.nodes();
    let mut out = Vec::new();
    let mut at = Some(node);
    while let Some(i) = at {
        if nodes[i].parent.is_some() {
            out.push(nodes[i].segment.clone());
        }
        at = nodes[i].parent;
    }
    out.reverse();
    out
}

/// Whether two segments name the same node as overlays merge them: the same name, and the
/// same argument where both have one (`mesh` merges into `mesh=istio`).
fn same_node(a: &str, b: &str) -> bool {
    let split = |s: &str| {
        let s = s.split('[').next().unwrap_or(s).to_owned();
        match s.split_once('=') {
            Some((name, arg)) => (name.to_owned(), Some(arg.to_owned())),
            None => (s, None),
        }
    };
    let (an, aa) = split(a);
    let (bn, ba) = split(b);
    an == bn && (aa.is_none() || ba.is_none() || aa == ba)
}

/// The lines of the node a span lies in (at most six), numbered.
fn snippet(text: &mut String, origin: &Origin, source: &Source, span: Span, indent: &str) {
    let node = origin
        .node_of(span)
        .map_or(span, |i| origin.nodes()[i].span);
    let first = origin.line(node.start);
    let last = origin.line(node.end.saturating_sub(1)).max(first);
    let lines: Vec<&str> = source.text().lines().collect();
    let shown = last.min(first + 5);
    let width = shown.to_string().len();
    for number in first..=shown {
        if let Some(line) = lines.get(number - 1) {
            let _ = writeln!(
                text,
                "{indent}{number:>width$} | {}",
                crate::diagnostic::escape(line.trim_end())
            );
        }
    }
    if shown < last {
        let _ = writeln!(text, "{indent}{} | …", " ".repeat(width));
    }
}
