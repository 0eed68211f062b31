//! `defaults { … }`: namespace layout, replicas, resources and security for every service, and
//! the `resources` and `security` nodes that services use to override them.

use crate::syntax::{Entry, Node};

use crate::diagnostic::{Diagnostics, ErrorKind};
use crate::lower::grammar::{nodes, service};
use crate::lower::reader::{Reader, Seen, string, unknown_node};
use crate::lower::typed;
use crate::model::NamespaceMode;
use crate::model::security::{Seccomp, Security};
use crate::model::value::Quantity;
use crate::span::{Span, Spanned};

/// Requests and limits as written; a `None` falls back to the next level.
#[derive(Clone, Debug, Default)]
pub struct PartialResources {
    pub cpu: Option<Spanned<Quantity>>,
    pub memory: Option<Spanned<Quantity>>,
    pub cpu_limit: Option<Spanned<Quantity>>,
    pub memory_limit: Option<Spanned<Quantity>>,
}

impl PartialResources {
    /// `self` where set, else `fallback`.
    pub fn or(&self, fallback: &Self) -> Self {
        Self {
            cpu: self.cpu.clone().or_else(|| fallback.cpu.clone()),
            memory: self.memory.clone().or_else(|| fallback.memory.clone()),
            cpu_limit: self
                .cpu_limit
                .clone()
                .or_else(|| fallback.cpu_limit.clone()),
            memory_limit: self
                .memory_limit
                .clone()
                .or_else(|| fallback.memory_limit.clone()),
        }
    }
}

/// `defaults` as read.
#[derive(Clone, Debug)]
pub struct DefaultsRead {
    pub namespace: NamespaceMode,
    pub replicas: Spanned<u32>,
    pub resources: PartialResources,
    pub security: Security,
    /// Checks waived for every service.
    pub waivers: Vec<crate::model::service::Waiver>,
    /// `namespace-per-service #false` without a `namespace`: one namespace named after the
    /// platform.
    pub shared_by_default: Option<Span>,
}

impl Default for DefaultsRead {
    fn default() -> Self {
        Self {
            namespace: NamespaceMode::PerService,
            replicas: Spanned::new(1, Span::default()),
            resources: PartialResources::default(),
            security: Security::default(),
            waivers: Vec::new(),
            shared_by_default: None,
        }
    }
}

pub fn lower(node: &Node, d: &mut Diagnostics) -> DefaultsRead {
    let r = Reader::new(node, &nodes::DEFAULTS);
    let mut out = DefaultsRead::default();
    let mut seen = Seen::default();
    for child in r.children() {
        if r.child(child, d).is_none() {
            continue;
        }
        match child.name().value() {
            "namespace-per-service" => {
                if seen.once(child, d) {
                    let mut c = Reader::new(child, &nodes::NAMESPACE_PER_SERVICE);
                    let on = c.arg(0).and_then(|e| crate::lower::reader::boolean(e, d));
                    match on {
                        Some(off) if !off.value => out.shared_by_default = Some(off.span),
                        _ => out.namespace = NamespaceMode::PerService,
                    }
                    c.finish(d);
                }
            }
            "namespace" => {
                if seen.once(child, d) {
                    let mut c = Reader::new(child, &nodes::NAMESPACE);
                    if let Some(name) = c
                        .required_string_arg(0, "a namespace name", d)
                        .and_then(|n| typed::check_name(n, d))
                    {
                        out.namespace = NamespaceMode::Shared(name);
                    }
                    c.finish(d);
                }
            }
            "replicas" => {
                if seen.once(child, d)
                    && let Some(n) = replicas(child, d)
                {
                    out.replicas = n;
                }
            }
            "resources" => {
                if seen.once(child, d) {
                    out.resources = resources(child, d);
                }
            }
            "security" => {
                if seen.once(child, d) {
                    out.security = security(child, &Security::default(), d);
                }
            }
            "waive" => out.waivers.extend(crate::lower::service::waiver(child, d)),
            _ => unknown_node(child, r.spec(), d),
        }
    }
    r.finish(d);
    out
}

/// `replicas N`.
pub fn replicas(node: &Node, d: &mut Diagnostics) -> Option<Spanned<u32>> {
    let mut r = Reader::new(node, &service::REPLICAS);
    let value = if let Some(entry) = r.arg(0) {
        typed::count(entry, "replicas", 0, 1000, d)
    } else {
        d.error(
            ErrorKind::MissingArgument {
                node: "replicas".into(),
                what: "a number of replicas",
            },
            r.name_span(),
        );
        None
    };
    r.finish(d);
    value
}

/// `resources cpu=… memory=… cpu-limit=… memory-limit=…`.
pub fn resources(node: &Node, d: &mut Diagnostics) -> PartialResources {
    let mut r = Reader::new(node, &service::RESOURCES);
    let out = PartialResources {
        cpu: r.prop("cpu").and_then(|e| typed::cpu(e, d)),
        memory: r.prop("memory").and_then(|e| typed::bytes(e, "memory", d)),
        cpu_limit: r.prop("cpu-limit").and_then(|e| typed::cpu(e, d)),
        memory_limit: r
            .prop("memory-limit")
            .and_then(|e| typed::bytes(e, "memory", d)),
    };
    r.finish(d);
    out
}

/// `security …` over `base`; any weakening needs `reason`.
pub fn security(node: &Node, base: &Security, d: &mut Diagnostics) -> Security {
    let mut r = Reader::new(node, &service::SECURITY);
    let mut out = base.clone();
    let id = |e: &Entry, what, d: &mut Diagnostics| {
        typed::count(e, what, 0, 2_147_483_647, d).map(|v| v.value)
    };
    let mut root_span = None;
    if let Some(entry) = r.prop("run-as-user")
        && let Some(v) = id(entry, "user id", d)
    {
        out.run_as_user = v;
        root_span = Some(crate::lower::reader::value_span(entry));
    }
    if let Some(v) = r.prop("run-as-group").and_then(|e| id(e, "group id", d)) {
        out.run_as_group = v;
    }
    if let Some(v) = r.prop("fs-group").and_then(|e| id(e, "group id", d)) {
        out.fs_group = v;
    }
    if let Some(v) = r.bool_prop("run-as-non-root", d) {
        out.run_as_non_root = v.value;
    }
    if let Some(v) = r.bool_prop("read-only-root", d) {
        out.read_only_root = v.value;
    }
    if let Some(v) = r.bool_prop("privilege-escalation", d) {
        out.privilege_escalation = v.value;
    }
    if let Some(entry) = r.prop("add-capability")
        && let Some(cap) = string(entry, d)
    {
        out.add_capabilities.push(cap);
    }
    if let Some(v) = r.choice_prop(
        "seccomp",
        &[
            ("runtime-default", Seccomp::RuntimeDefault),
            ("unconfined", Seccomp::Unconfined),
        ],
        d,
    ) {
        out.seccomp = v.value;
    }
    let reason = r.string_prop("reason", d);
    if reason.is_some() {
        out.reason = reason;
    }
    if out.run_as_user == 0 && out.run_as_non_root {
        // Kubernetes refuses to start a pod that asks for both.
        d.error(
            ErrorKind::InvalidValue {
                value: "0".into(),
                expected: vec!["a user id above 0 (0 is root, and `run-as-non-root` is on)"],
                suggestion: None,
            },
            root_span.unwrap_or_else(|| r.name_span()),
        );
    }
    if out.is_weakened() && out.reason.is_none() {
        d.error(
            ErrorKind::MissingReason {
                what: "security weakened".into(),
            },
            r.name_span(),
        );
    }
    r.finish(d);
    out
}
