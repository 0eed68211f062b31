//! `platc graph [--format mermaid|dot]`: the declared call graph, the picture a reader of the
//! platform wants first. Nodes are the services (with their ports and protocols, and the canary
//! when there is one) and the ingress gateways; edges are the `calls` lines (labelled with the
//! protocol and port dialled) and the `expose` lines (host and path).

use std::fmt::Write as _;

use crate::cli::{GraphArgs, GraphFormat};
use crate::commands::{Output, Report, compile_with};
use crate::model::Platform;
use crate::model::service::Service;

pub fn run(args: &GraphArgs, color: bool) -> Output {
    let (mut output, platform) = compile_with(
        &args.file,
        args.env.as_deref(),
        Report::beside_product(args.message_format, color),
    );
    if let Some(platform) = platform {
        output.stdout = render(&platform, args.format);
    }
    output
}

/// One node of the graph.
struct Node {
    id: String,
    label: Vec<String>,
    gateway: bool,
    canary: bool,
}

/// One edge: from, to, label.
type Edge = (String, String, String);

/// A node id both formats accept whatever the name (Mermaid reserves words such as `end`).
fn service_id(name: &str) -> String {
    format!("svc_{}", name.replace(['-', '.'], "_"))
}

fn gateway_id(name: &str) -> String {
    format!("gateway_{}", name.replace(['-', '.'], "_"))
}

fn ports(service: &Service) -> Vec<String> {
    service
        .ports
        .iter()
        .map(|p| {
            let target = p
                .target
                .as_ref()
                .map_or_else(String::new, |t| format!("→{}", t.value));
            format!("{} {}{target}", p.protocol.value.as_str(), p.number.value)
        })
        .collect()
}

/// The nodes and edges of a platform, in source order.
fn graph(platform: &Platform) -> (Vec<Node>, Vec<Edge>) {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for gateway in platform.mesh.iter().flat_map(|m| &m.gateways) {
        let mut label = vec![format!("gateway {}", gateway.name.value)];
        label.extend(gateway.hosts.iter().map(|h| h.value.clone()));
        nodes.push(Node {
            id: gateway_id(&gateway.name.value),
            label,
            gateway: true,
            canary: false,
        });
    }
    for service in &platform.services {
        let mut label = vec![service.name.value.clone()];
        label.extend(ports(service));
        if let Some(canary) = &service.canary {
            label.push(format!(
                "canary {} {}%",
                canary.version.value, canary.weight.value
            ));
        }
        nodes.push(Node {
            id: service_id(&service.name.value),
            label,
            gateway: false,
            canary: service.canary.is_some(),
        });
        for call in &service.calls {
            let callee = platform.service(&call.service.value);
            let port = callee.and_then(|c| {
                call.port
                    .as_ref()
                    .and_then(|p| c.port(&p.value))
                    .or_else(|| c.ports.first())
            });
            let label = port.map_or_else(String::new, |p| {
                format!("{} :{}", p.protocol.value.as_str(), p.number.value)
            });
            edges.push((
                service_id(&service.name.value),
                service_id(&call.service.value),
                label,
            ));
        }
        for expose in &service.expose {
            let host = expose.host.as_ref().map_or("", |h| h.value.as_str());
            edges.push((
                gateway_id(&expose.gateway.value),
                service_id(&service.name.value),
                format!("{host}{}", expose.path.value),
            ));
        }
    }
    (nodes, edges)
}

/// The graph in the asked format, ending with a newline.
pub fn render(platform: &Platform, format: GraphFormat) -> String {
    let (nodes, edges) = graph(platform);
    let mut out = String::new();
    match format {
        GraphFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            for node in &nodes {
                let label = node.label.join("<br/>").replace('"', "#quot;");
                let (open, close) = if node.gateway {
                    ("([", "])")
                } else {
                    ("[", "]")
                };
                let _ = writeln!(out, "    {}{open}\"{label}\"{close}", node.id);
            }
            for (from, to, label) in &edges {
                if label.is_empty() {
                    let _ = writeln!(out, "    {from} --> {to}");
                } else {
                    let _ = writeln!(
                        out,
                        "    {from} -->|\"{}\"| {to}",
                        label.replace('"', "#quot;")
                    );
                }
            }
            let canaries: Vec<&str> = nodes
                .iter()
                .filter(|n| n.canary)
                .map(|n| n.id.as_str())
                .collect();
            if !canaries.is_empty() {
                out.push_str("    classDef canary stroke-dasharray: 5 5\n");
                let _ = writeln!(out, "    class {} canary", canaries.join(","));
            }
        }
        GraphFormat::Dot => {
            let _ = writeln!(out, "digraph {} {{", dot_string(&platform.name.value));
            out.push_str("    rankdir=LR;\n    node [shape=box];\n");
            for node in &nodes {
                let mut attrs = format!("label={}", dot_string(&node.label.join("\n")));
                if node.gateway {
                    attrs.push_str(", shape=oval");
                }
                if node.canary {
                    attrs.push_str(", style=dashed");
                }
                let _ = writeln!(out, "    {} [{attrs}];", node.id);
            }
            for (from, to, label) in &edges {
                if label.is_empty() {
                    let _ = writeln!(out, "    {from} -> {to};");
                } else {
                    let _ = writeln!(out, "    {from} -> {to} [label={}];", dot_string(label));
                }
            }
            out.push_str("}\n");
        }
    }
    out
}

/// A DOT string literal.
fn dot_string(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}
