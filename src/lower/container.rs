//! The shape of a service's pod beyond its one image: `command` and `args`, extra containers
//! (`container`), init containers (`init`) and files from config (`config`). A `config … file=`
//! is read after lowering, by `files::read`, from the directory of `platform.kdl`.

use crate::syntax::Node;

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::lower::defaults::{self, PartialResources};
use crate::lower::grammar::{self, service as spec};
use crate::lower::reader::{Reader, Seen, string, unknown_node};
use crate::lower::service::{add_env, add_port, env_var, image, port, resolve_resources};
use crate::lower::traffic;
use crate::lower::typed;
use crate::model::service::{CONFIG_VOLUME, Config, Container, Port, StoreKind, Use, Volume};
use crate::span::{Span, Spanned};

/// `command ARG…` or `args ARG…`: the strings, in order.
pub fn strings(
    node: &Node,
    spec: &'static grammar::Node,
    d: &mut Diagnostics,
) -> Vec<Spanned<String>> {
    let mut r = Reader::new(node, spec);
    let out = r
        .args_from(0)
        .into_iter()
        .filter_map(|e| string(e, d))
        .collect();
    r.finish(d);
    out
}

/// `container NAME { … }`, `init NAME { … }` or `migrate NAME { … }` (by the node's name).
/// The ports of an extra container join the service's, which checks them against its own.
pub fn container(
    node: &Node,
    defaults: &PartialResources,
    ports: &mut Vec<Port>,
    d: &mut Diagnostics,
) -> Option<Container> {
    let spec = match node.name().value() {
        "init" => &spec::INIT,
        "migrate" => &spec::MIGRATE,
        _ => &spec::CONTAINER,
    };
    let mut r = Reader::new(node, spec);
    let name = r
        .required_string_arg(0, "a container name", d)
        .and_then(|n| typed::check_name(n, d));
    let mut seen = Seen::default();
    let mut out = Container {
        span: node.span(),
        name: Spanned::new(String::new(), node.name().span()),
        image: None,
        command: Vec::new(),
        args: Vec::new(),
        env: Vec::new(),
        probes: Vec::new(),
        resources: resolve_resources(defaults, node.name().span()),
    };
    let mut own_ports = Vec::new();
    for child in r.children() {
        if r.child(child, d).is_none() {
            continue;
        }
        match child.name().value() {
            "env" => {
                if let Some(var) = env_var(child, d) {
                    add_env(&mut out.env, var, d);
                }
            }
            "port" => own_ports.extend(port(child, d)),
            "probe" => out.probes.extend(traffic::probe(child, d)),
            _ if !seen.once(child, d) => {}
            "image" => out.image = image(child, d),
            "command" => out.command = strings(child, &spec::COMMAND, d),
            "args" => out.args = strings(child, &spec::ARGS, d),
            "resources" => {
                out.resources =
                    resolve_resources(&defaults::resources(child, d).or(defaults), child.span());
            }
            _ => unknown_node(child, r.spec(), d),
        }
    }
    r.finish(d);
    let name = name?;
    for mut port in own_ports {
        port.container = Some(name.value.clone());
        add_port(ports, port, d);
    }
    out.name = name;
    Some(out)
}

/// `config NAME path=… text=…` or `… file=…`: at most one of `text` and `file`; with neither,
/// the file is empty.
pub fn config(node: &Node, d: &mut Diagnostics) -> Option<Config> {
    let mut r = Reader::new(node, &spec::CONFIG);
    let name = r
        .required_string_arg(0, "a config name", d)
        .and_then(|n| typed::check_name(n, d));
    let path = r.required_string_prop("path", d);
    let text = r.string_prop("text", d);
    let file = r.string_prop("file", d);
    r.finish(d);
    let path = path?;
    if !path.value.starts_with('/') || path.value.ends_with('/') {
        d.error(
            ErrorKind::InvalidValue {
                value: path.value.clone(),
                expected: vec!["an absolute path to a file"],
                suggestion: None,
            },
            path.span,
        );
        return None;
    }
    let (data, file) = match (text, file) {
        (Some(text), None) => (text.value, None),
        (None, Some(file)) => (String::new(), Some(file)),
        (Some(_), Some(file)) => {
            d.error(
                ErrorKind::InvalidValue {
                    value: file.value.clone(),
                    expected: vec!["`text=` or `file=`, not both"],
                    suggestion: None,
                },
                file.span,
            );
            return None;
        }
        // Neither: an empty file.
        (None, None) => (String::new(), None),
    };
    Some(Config {
        span: node.span(),
        name: name?,
        path,
        data,
        file,
    })
}

/// Every mount of the pod has its own path: a `volume`, a file system a service `uses`, a
/// `config`; and every `config` its own name (its key in the `ConfigMap`). A `volume` may not take
/// the name of the volume platc mounts the `config` files from.
pub fn check_mounts(volumes: &[Volume], uses: &[Use], configs: &[Config], d: &mut Diagnostics) {
    let mut paths: Vec<(String, Span)> = Vec::new();
    let mounts = volumes
        .iter()
        .map(|v| (v.path.value.clone(), v.path.span))
        .chain(
            uses.iter()
                .filter(|u| u.kind.value == StoreKind::Filesystem)
                .map(|u| (u.mount_path(), u.path.as_ref().map_or(u.span, |p| p.span))),
        )
        .chain(configs.iter().map(|c| (c.path.value.clone(), c.path.span)));
    for (path, span) in mounts {
        let normal = path.trim_end_matches('/').to_owned();
        if let Some((_, first)) = paths.iter().find(|(p, _)| *p == normal) {
            d.push(
                Diagnostic::new(
                    ErrorKind::DuplicateName {
                        kind: "mount path",
                        name: path.clone(),
                    },
                    span,
                )
                .with_label(*first, "first mounted here"),
            );
        } else {
            paths.push((normal, span));
        }
    }
    for (i, config) in configs.iter().enumerate() {
        if let Some(first) = configs[..i]
            .iter()
            .find(|c| c.name.value == config.name.value)
        {
            d.duplicate_name(
                "config",
                &config.name,
                first.name.span,
                "first defined here",
            );
        }
    }
    for volume in volumes.iter().filter(|v| v.name.value == CONFIG_VOLUME) {
        d.error(
            ErrorKind::InvalidValue {
                value: volume.name.value.clone(),
                expected: vec!["a volume name other than the one of the `config` files"],
                suggestion: None,
            },
            volume.name.span,
        );
    }
}
