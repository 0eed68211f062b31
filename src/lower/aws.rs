//! `aws { … }`: region, state backend, VPC, cluster, domain and data stores.

use crate::syntax::Node;

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::lower::grammar::{self, REGIONS, nodes};
use crate::lower::reader::{Reader, Seen, choice, unknown_node};
use crate::lower::typed;
use crate::model::aws::{
    Access, AccessPolicy, Aws, Bucket, Cache, CacheEngine, CapacityType, Cluster, Database, Docdb,
    Domain, Endpoint, Engine, Filesystem, NatMode, NodeGroup, Queue, Repository, Secret,
    SecretSource, State, Table, Topic, Vpc,
};
use crate::model::service::Waiver;
use crate::model::value::Cidr;
use crate::span::{Span, Spanned};

pub fn lower(node: &Node, d: &mut Diagnostics) -> Option<Aws> {
    let mut r = Reader::new(node, &nodes::AWS);
    let region = r.prop("region").and_then(|e| {
        let options: Vec<(&'static str, &'static str)> = REGIONS.iter().map(|r| (*r, *r)).collect();
        choice(e, &options, d).map(|s| s.map(str::to_owned))
    });
    if region.is_none() && r.prop("region").is_none() {
        r.missing("region", d);
    }
    let account = r.string_prop("account", d).and_then(|a| {
        if a.value.len() == 12 && a.value.bytes().all(|b| b.is_ascii_digit()) {
            Some(a)
        } else {
            d.error(
                ErrorKind::InvalidValue {
                    value: a.value.clone(),
                    expected: vec!["a 12-digit AWS account id, such as \"123456789012\""],
                    suggestion: None,
                },
                a.span,
            );
            None
        }
    });
    let mut seen = Seen::default();
    let mut state = None;
    let mut vpc = None;
    let mut cluster = None;
    let mut domain = None;
    let mut databases: Vec<Database> = Vec::new();
    let mut buckets: Vec<Bucket> = Vec::new();
    let mut tables: Vec<Table> = Vec::new();
    let mut filesystems: Vec<Filesystem> = Vec::new();
    let mut caches: Vec<Cache> = Vec::new();
    let mut docdbs: Vec<Docdb> = Vec::new();
    let mut queues: Vec<Queue> = Vec::new();
    let mut topics: Vec<Topic> = Vec::new();
    let mut repositories: Vec<Repository> = Vec::new();
    let mut secrets: Vec<Secret> = Vec::new();
    let mut waivers: Vec<Waiver> = Vec::new();
    for child in r.children() {
        if r.child(child, d).is_none() {
            continue;
        }
        match child.name().value() {
            "state" => {
                if seen.once(child, d) {
                    state = lower_state(child, d);
                }
            }
            "vpc" => {
                if seen.once(child, d) {
                    vpc = lower_vpc(child, d);
                }
            }
            "cluster" => {
                if seen.once(child, d) {
                    cluster = lower_cluster(child, d);
                }
            }
            "domain" => {
                if seen.once(child, d) {
                    domain = lower_domain(child, d);
                }
            }
            "database" => push_unique(
                &mut databases,
                lower_database(child, d),
                "database",
                |x| &x.name,
                d,
            ),
            "bucket" => push_unique(
                &mut buckets,
                lower_bucket(child, d),
                "bucket",
                |x| &x.name,
                d,
            ),
            "table" => push_unique(&mut tables, lower_table(child, d), "table", |x| &x.name, d),
            "filesystem" => push_unique(
                &mut filesystems,
                named(child, &nodes::FILESYSTEM, d).map(|(span, name)| Filesystem { span, name }),
                "filesystem",
                |x| &x.name,
                d,
            ),
            "cache" => push_unique(&mut caches, lower_cache(child, d), "cache", |x| &x.name, d),
            "docdb" => push_unique(&mut docdbs, lower_docdb(child, d), "docdb", |x| &x.name, d),
            "queue" => push_unique(&mut queues, lower_queue(child, d), "queue", |x| &x.name, d),
            "topic" => push_unique(&mut topics, lower_topic(child, d), "topic", |x| &x.name, d),
            "repository" => push_unique(
                &mut repositories,
                named(child, &nodes::REPOSITORY, d).map(|(span, name)| Repository { span, name }),
                "repository",
                |x| &x.name,
                d,
            ),
            "secret" => push_unique(
                &mut secrets,
                lower_secret(child, d),
                "secret",
                |x| &x.name,
                d,
            ),
            "waive" => {
                if let Some(waiver) = crate::lower::service::waiver(child, d)
                    && !waivers.iter().any(|w| w.check.value == waiver.check.value)
                {
                    waivers.push(waiver);
                }
            }
            _ => unknown_node(child, r.spec(), d),
        }
    }
    let had_vpc = seen_vpc(r.children());
    r.finish(d);
    if !had_vpc {
        d.error(
            ErrorKind::MissingNode {
                parent: "aws".into(),
                node: "vpc",
            },
            node.name().span(),
        );
    }
    Some(Aws {
        span: node.span(),
        name_span: node.name().span(),
        region: region?,
        account,
        state,
        vpc: vpc?,
        cluster,
        domain,
        databases,
        buckets,
        tables,
        filesystems,
        caches,
        docdbs,
        queues,
        topics,
        repositories,
        secrets,
        waivers,
    })
}

fn seen_vpc(children: &[Node]) -> bool {
    children.iter().any(|c| c.name().value() == "vpc")
}

/// Adds a named item, or reports `duplicate-name` against the first of that name.
pub fn push_unique<T>(
    items: &mut Vec<T>,
    item: Option<T>,
    kind: &'static str,
    name: impl Fn(&T) -> &Spanned<String>,
    d: &mut Diagnostics,
) {
    let Some(item) = item else { return };
    let new = name(&item);
    if let Some(first) = items.iter().find(|i| name(i).value == new.value) {
        d.push(
            Diagnostic::new(
                ErrorKind::DuplicateName {
                    kind,
                    name: new.value.clone(),
                },
                new.span,
            )
            .with_label(name(first).span, "first defined here"),
        );
        return;
    }
    items.push(item);
}

/// A node whose only content is a DNS-1123 name argument.
fn named(
    node: &Node,
    spec: &'static grammar::Node,
    d: &mut Diagnostics,
) -> Option<(Span, Spanned<String>)> {
    let mut r = Reader::new(node, spec);
    let name = r
        .required_string_arg(0, "a name", d)
        .and_then(|n| typed::check_name(n, d));
    r.finish(d);
    Some((node.span(), name?))
}

fn lower_secret(node: &Node, d: &mut Diagnostics) -> Option<Secret> {
    let mut r = Reader::new(node, &nodes::SECRET);
    let name = r
        .required_string_arg(0, "a secret name", d)
        .and_then(|n| typed::check_name(n, d));
    let source = r.choice_prop(
        "source",
        &[
            ("secrets-manager", SecretSource::SecretsManager),
            ("ssm", SecretSource::Ssm),
        ],
        d,
    );
    if r.prop("source").is_none() {
        r.missing("source", d);
    }
    let aws_name = r.required_string_prop("name", d);
    let kms_key = r.string_prop("kms-key", d).and_then(|k| kms_key_arn(k, d));
    r.finish(d);
    let source = source?;
    let aws_name = aws_name.and_then(|n| secret_name(n, source.value, d))?;
    Some(Secret {
        span: node.span(),
        name: name?,
        source,
        aws_name,
        kms_key,
    })
}

/// A KMS key's ARN, `arn:PARTITION:kms:REGION:ACCOUNT:key/ID`: a key, not an alias (an IAM
/// policy grants nothing on an alias's ARN for `kms:Decrypt`).
fn kms_key_arn(arn: Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let parts: Vec<&str> = arn.value.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov")
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[3]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].strip_prefix("key/").is_some_and(|id| {
            !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if ok {
        Some(arn)
    } else {
        d.error(
            ErrorKind::InvalidValue {
                value: arn.value.clone(),
                expected: vec![
                    "a KMS key's ARN, `arn:aws:kms:REGION:ACCOUNT:key/KEY-ID` (not an alias)",
                ],
                suggestion: None,
            },
            arn.span,
        );
        None
    }
}

/// A secret's name in AWS: Secrets Manager takes 1 to 512 of letters, digits and `/_+=.@-`;
/// Parameter Store 1 to 1011 of letters, digits and `_.-/`, a name with `/` starting with one.
fn secret_name(
    name: Spanned<String>,
    source: SecretSource,
    d: &mut Diagnostics,
) -> Option<Spanned<String>> {
    let v = &name.value;
    let (ok, expected) = match source {
        SecretSource::SecretsManager => (
            !v.is_empty()
                && v.len() <= 512
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b)),
            "a Secrets Manager name: 1 to 512 letters, digits and `/_+=.@-`",
        ),
        SecretSource::Ssm => (
            !v.is_empty()
                && v.len() <= 1011
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b))
                && (!v.contains('/') || v.starts_with('/'))
                && !v.ends_with('/'),
            "a Parameter Store name: letters, digits and `_.-/`, starting with `/` when it has one",
        ),
    };
    if ok {
        return Some(name);
    }
    d.error(
        ErrorKind::InvalidValue {
            value: v.clone(),
            expected: vec![expected],
            suggestion: None,
        },
        name.span,
    );
    None
}

fn lower_state(node: &Node, d: &mut Diagnostics) -> Option<State> {
    let mut r = Reader::new(node, &nodes::STATE);
    let valid = |value: Option<Spanned<String>>,
                 ok: fn(&str) -> bool,
                 expected: &'static str,
                 d: &mut Diagnostics| {
        let value = value?;
        if ok(&value.value) {
            return Some(value);
        }
        d.error(
            ErrorKind::InvalidValue {
                value: value.value.clone(),
                expected: vec![expected],
                suggestion: None,
            },
            value.span,
        );
        None
    };
    let bucket = valid(
        r.required_string_prop("bucket", d),
        |b| {
            (3..=63).contains(&b.len())
                && b.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
                && b.starts_with(|c: char| c.is_ascii_alphanumeric())
                && b.ends_with(|c: char| c.is_ascii_alphanumeric())
        },
        "an S3 bucket name: 3 to 63 lowercase letters, digits, `-` and `.`",
        d,
    );
    let lock_table = valid(
        r.string_prop("lock-table", d),
        |t| {
            (3..=255).contains(&t.len())
                && t.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        },
        "a DynamoDB table name: 3 to 255 letters, digits, `-`, `_` and `.`",
        d,
    );
    let prefix = valid(
        r.string_prop("prefix", d),
        |p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'))
                && !p.starts_with('/')
                && !p.ends_with('/')
        },
        "a key prefix of letters, digits, `-`, `_`, `.` and `/`, such as \"shop\" or \"teams/shop\"",
        d,
    );
    let kms_key = r.string_prop("kms-key", d).and_then(|k| kms_key_arn(k, d));
    r.finish(d);
    Some(State {
        span: node.span(),
        bucket: bucket?,
        lock_table,
        prefix,
        kms_key,
    })
}

fn lower_vpc(node: &Node, d: &mut Diagnostics) -> Option<Vpc> {
    let mut r = Reader::new(node, &nodes::VPC);
    let cidr = r.required_prop("cidr", d).and_then(|e| typed::cidr(e, d));
    let zones = r
        .prop("zones")
        .and_then(|e| typed::count(e, "number of zones", 1, 6, d))
        .map_or_else(
            || Spanned::new(3, r.name_span()),
            |z| z.map(|n| u8::try_from(n).unwrap_or(3)),
        );
    let nat = r
        .choice_prop(
            "nat",
            &[("per-zone", NatMode::PerZone), ("single", NatMode::Single)],
            d,
        )
        .unwrap_or_else(|| Spanned::new(NatMode::PerZone, r.name_span()));
    let flow_logs = r
        .bool_prop("flow-logs", d)
        .unwrap_or_else(|| Spanned::new(true, r.name_span()));
    let reason = r.string_prop("reason", d);
    if !flow_logs.value && reason.is_none() {
        d.error(
            ErrorKind::MissingReason {
                what: "flow logs turned off".into(),
            },
            flow_logs.span,
        );
    }
    let mut public_subnets = Vec::new();
    let mut private_subnets = Vec::new();
    let mut seen = Seen::default();
    for child in r.children() {
        let Some(spec) = r.child(child, d) else {
            continue;
        };
        let target = match spec.name {
            "public-subnets" => &mut public_subnets,
            "private-subnets" => &mut private_subnets,
            _ => {
                unknown_node(child, r.spec(), d);
                continue;
            }
        };
        if !seen.once(child, d) {
            continue;
        }
        let mut c = Reader::new(child, spec);
        let subnets: Vec<Spanned<Cidr>> = c
            .args_from(0)
            .into_iter()
            .filter_map(|e| typed::cidr(e, d))
            .collect();
        *target = subnets;
        c.finish(d);
    }
    r.finish(d);
    Some(Vpc {
        span: node.span(),
        cidr: cidr?,
        zones,
        nat,
        public_subnets,
        private_subnets,
        flow_logs,
        flow_logs_reason: reason,
    })
}

fn lower_cluster(node: &Node, d: &mut Diagnostics) -> Option<Cluster> {
    let mut r = Reader::new(node, &nodes::CLUSTER);
    let name = r
        .required_string_arg(0, "a cluster name", d)
        .and_then(|n| typed::check_name(n, d));
    let version = r.prop("version").and_then(|e| {
        let text = crate::lower::reader::string_or_number(e, d)?;
        let ok = text.value.split_once('.').is_some_and(|(major, minor)| {
            major == "1" && minor.parse::<u32>().is_ok_and(|m| (28..=40).contains(&m))
        });
        if ok {
            Some(text)
        } else {
            d.error(
                ErrorKind::InvalidValue {
                    value: text.value,
                    expected: vec!["a Kubernetes version from \"1.28\" on, such as \"1.31\""],
                    suggestion: None,
                },
                text.span,
            );
            None
        }
    });
    let version = version.or_else(|| {
        r.prop("version")
            .is_none()
            .then(|| Spanned::new("1.31".to_owned(), r.name_span()))
    });
    let endpoint_kind = r
        .choice_prop("endpoint", &[("private", false), ("public", true)], d)
        .unwrap_or_else(|| Spanned::new(false, r.name_span()));
    let reason = r.string_prop("reason", d);
    let allowed: Vec<Spanned<Cidr>> = r
        .prop("public-access-cidr")
        .and_then(|e| typed::cidr(e, d))
        .into_iter()
        .collect();
    let endpoint = if endpoint_kind.value {
        if let Some(reason) = reason {
            Spanned::new(Endpoint::Public { reason, allowed }, endpoint_kind.span)
        } else {
            d.error(
                ErrorKind::MissingReason {
                    what: "a public cluster endpoint".into(),
                },
                endpoint_kind.span,
            );
            Spanned::new(Endpoint::Private, endpoint_kind.span)
        }
    } else {
        Spanned::new(Endpoint::Private, endpoint_kind.span)
    };
    let mut node_groups: Vec<NodeGroup> = Vec::new();
    let mut access: Vec<Access> = Vec::new();
    for child in r.children() {
        if r.child(child, d).is_none() {
            continue;
        }
        if child.name().value() == "access" {
            let entry = lower_access(child, d);
            // EKS keeps one access entry per principal: a second fails `terraform apply`.
            if let Some(new) = &entry
                && let Some(first) = access.iter().find(|a| a.role.value == new.role.value)
            {
                d.push(
                    Diagnostic::new(
                        ErrorKind::DuplicateName {
                            kind: "access role",
                            name: new.role.value.clone(),
                        },
                        new.role.span,
                    )
                    .with_label(first.role.span, "first admitted here"),
                );
                continue;
            }
            push_unique(&mut access, entry, "access", |a| &a.name, d);
        } else {
            push_unique(
                &mut node_groups,
                lower_node_group(child, d),
                "node group",
                |g| &g.name,
                d,
            );
        }
    }
    if node_groups.is_empty()
        && !r
            .children()
            .iter()
            .any(|c| c.name().value() == "node-group")
    {
        d.error(
            ErrorKind::MissingNode {
                parent: "cluster".into(),
                node: "node-group",
            },
            r.name_span(),
        );
    }
    r.finish(d);
    Some(Cluster {
        span: node.span(),
        name: name?,
        version: version?,
        endpoint,
        node_groups,
        access,
    })
}

/// `access NAME role=… from=… policy=…`.
fn lower_access(node: &Node, d: &mut Diagnostics) -> Option<Access> {
    let mut r = Reader::new(node, &nodes::ACCESS);
    let name = r
        .required_string_arg(0, "an access name", d)
        .and_then(|n| typed::check_name(n, d));
    let role = r
        .required_string_prop("role", d)
        .and_then(|role| principal_arn(role, d));
    let from = r.prop("from").and_then(|e| typed::cidr(e, d));
    let from = from.and_then(|cidr| {
        if cidr.value.prefix == 0 {
            d.error(
                ErrorKind::InvalidValue {
                    value: cidr.value.to_string(),
                    expected: vec![
                        "the network the role calls from: a VPN's, a peered VPC's or a subnet's CIDR, not every address",
                    ],
                    suggestion: None,
                },
                cidr.span,
            );
            return None;
        }
        Some(cidr)
    });
    let policy = r
        .choice_prop(
            "policy",
            &[
                ("cluster-admin", AccessPolicy::ClusterAdmin),
                ("view", AccessPolicy::View),
            ],
            d,
        )
        .unwrap_or_else(|| Spanned::new(AccessPolicy::ClusterAdmin, r.name_span()));
    r.finish(d);
    Some(Access {
        span: node.span(),
        name: name?,
        role: role?,
        from,
        policy,
    })
}

/// An IAM principal's ARN as an EKS access entry takes it: a role's or a user's,
/// `arn:PARTITION:iam::ACCOUNT:role/NAME` (a path allowed), not an assumed role's session.
fn principal_arn(arn: Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let parts: Vec<&str> = arn.value.splitn(6, ':').collect();
    let name_ok = |name: &str| {
        !name.is_empty()
            && !name.ends_with('/')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
    };
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && ["role/", "user/"]
            .iter()
            .any(|kind| parts[5].strip_prefix(kind).is_some_and(name_ok));
    if ok {
        Some(arn)
    } else {
        d.error(
            ErrorKind::InvalidValue {
                value: arn.value.clone(),
                expected: vec![
                    "an IAM role's ARN, `arn:aws:iam::ACCOUNT:role/NAME` (or a user's, `…:user/NAME`)",
                ],
                suggestion: None,
            },
            arn.span,
        );
        None
    }
}

fn lower_node_group(node: &Node, d: &mut Diagnostics) -> Option<NodeGroup> {
    let mut r = Reader::new(node, &nodes::NODE_GROUP);
    let name = r
        .required_string_arg(0, "a node group name", d)
        .and_then(|n| typed::check_name(n, d));
    let instance = r
        .required_prop("instance", d)
        .and_then(|e| typed::instance_type(e, "", d));
    let min = r
        .prop("min")
        .and_then(|e| typed::count(e, "node count", 0, 1000, d));
    let max = r
        .prop("max")
        .and_then(|e| typed::count(e, "node count", 1, 1000, d));
    let desired = r
        .prop("desired")
        .and_then(|e| typed::count(e, "node count", 0, 1000, d));
    let disk = r
        .prop("disk-gb")
        .and_then(|e| typed::count(e, "disk size", 20, 16_384, d));
    let capacity = r
        .choice_prop(
            "capacity",
            &[
                ("on-demand", CapacityType::OnDemand),
                ("spot", CapacityType::Spot),
            ],
            d,
        )
        .unwrap_or_else(|| Spanned::new(CapacityType::OnDemand, r.name_span()));
    let here = r.name_span();
    let min = min.unwrap_or_else(|| Spanned::new(1, here));
    let max = max.unwrap_or_else(|| Spanned::new(min.value.max(3), here));
    if min.value > max.value {
        d.push(
            Diagnostic::new(
                ErrorKind::AutoscaleRange {
                    what: "node group size",
                    min: u64::from(min.value),
                    max: u64::from(max.value),
                },
                min.span,
            )
            .with_label(max.span, "maximum"),
        );
    }
    let desired = desired.unwrap_or_else(|| Spanned::new(min.value, here));
    // With min above max there is no valid desired size; that error is reported above.
    if min.value <= max.value && (desired.value < min.value || desired.value > max.value) {
        d.error(
            ErrorKind::OutOfRange {
                what: "desired size",
                value: desired.value.to_string(),
                min: i64::from(min.value),
                max: i64::from(max.value),
            },
            desired.span,
        );
    }
    r.finish(d);
    Some(NodeGroup {
        span: node.span(),
        name: name?,
        instance: instance?,
        min,
        max,
        desired,
        disk_gb: disk.unwrap_or_else(|| Spanned::new(50, here)),
        capacity,
    })
}

fn lower_domain(node: &Node, d: &mut Diagnostics) -> Option<Domain> {
    let mut r = Reader::new(node, &nodes::DOMAIN);
    let name = if let Some(e) = r.arg(0) {
        typed::host(e, d)
    } else {
        d.error(
            ErrorKind::MissingArgument {
                node: "domain".into(),
                what: "a domain name",
            },
            r.name_span(),
        );
        None
    };
    let zone = r.prop("zone").and_then(|e| typed::host(e, d));
    r.finish(d);
    Some(Domain {
        span: node.span(),
        name: name?,
        zone,
    })
}

fn lower_database(node: &Node, d: &mut Diagnostics) -> Option<Database> {
    let mut r = Reader::new(node, &nodes::DATABASE);
    let name = r
        .required_string_arg(0, "a database name", d)
        .and_then(|n| typed::check_name(n, d));
    let engine = r.required_prop("engine", d).and_then(|e| {
        choice(
            e,
            &[("postgres", Engine::Postgres), ("mysql", Engine::Mysql)],
            d,
        )
    });
    let version = r
        .required_prop("version", d)
        .and_then(|e| crate::lower::reader::string_or_number(e, d));
    // RDS upgrades minor versions itself (auto minor version upgrade is on): a pinned minor
    // would be downgraded on the next apply, or fail it. Only the major is written.
    let version = match (version, engine.as_ref().map(|e| e.value)) {
        (Some(v), Some(engine)) => {
            let major = major_version(engine, &v.value);
            if major.as_deref() == Some(v.value.as_str()) {
                Some(v)
            } else {
                d.error(
                    ErrorKind::InvalidValue {
                        value: v.value.clone(),
                        expected: vec![match engine {
                            Engine::Postgres => "a PostgreSQL major version, such as \"16\" (RDS applies minor upgrades itself)",
                            Engine::Mysql => "a MySQL major version, such as \"8.0\" (RDS applies minor upgrades itself)",
                        }],
                        suggestion: major,
                    },
                    v.span,
                );
                None
            }
        }
        (v, _) => v,
    };
    let class = r
        .required_prop("class", d)
        .and_then(|e| typed::instance_type(e, "db.", d));
    let here = r.name_span();
    let storage = r
        .prop("storage-gb")
        .and_then(|e| typed::count(e, "storage size", 20, 65_536, d))
        .unwrap_or_else(|| Spanned::new(20, here));
    let multi_az = r
        .bool_prop("multi-az", d)
        .unwrap_or_else(|| Spanned::new(false, here));
    let backup_days = r
        .prop("backup-days")
        .and_then(|e| typed::count(e, "backup retention days", 1, 35, d))
        .unwrap_or_else(|| Spanned::new(7, here));
    r.finish(d);
    Some(Database {
        span: node.span(),
        name: name?,
        engine: engine?,
        version: version?,
        class: class?,
        storage_gb: storage,
        multi_az,
        backup_days,
    })
}

/// The major version in `version`: `16` of `16.4`, `8.0` of `8.0.39`; `None` when it does not
/// start with one.
fn major_version(engine: Engine, version: &str) -> Option<String> {
    let mut parts = version.split('.');
    let first = parts
        .next()
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))?;
    match engine {
        Engine::Postgres => Some(first.to_owned()),
        Engine::Mysql => {
            let second = parts
                .next()
                .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))?;
            Some(format!("{first}.{second}"))
        }
    }
}

fn lower_bucket(node: &Node, d: &mut Diagnostics) -> Option<Bucket> {
    let mut r = Reader::new(node, &nodes::BUCKET);
    let name = r
        .required_string_arg(0, "a bucket name", d)
        .and_then(|n| typed::check_name(n, d));
    let versioned = r
        .bool_prop("versioned", d)
        .unwrap_or_else(|| Spanned::new(true, r.name_span()));
    r.finish(d);
    Some(Bucket {
        span: node.span(),
        name: name?,
        versioned,
    })
}

fn lower_table(node: &Node, d: &mut Diagnostics) -> Option<Table> {
    let mut r = Reader::new(node, &nodes::TABLE);
    let name = r
        .required_string_arg(0, "a table name", d)
        .and_then(|n| typed::check_name(n, d));
    let hash_key = r.required_string_prop("hash-key", d);
    let range_key = r.string_prop("range-key", d);
    r.finish(d);
    Some(Table {
        span: node.span(),
        name: name?,
        hash_key: hash_key?,
        range_key,
    })
}

fn lower_cache(node: &Node, d: &mut Diagnostics) -> Option<Cache> {
    let mut r = Reader::new(node, &nodes::CACHE);
    let name = r
        .required_string_arg(0, "a cache name", d)
        .and_then(|n| typed::check_name(n, d));
    let engine = r.required_prop("engine", d).and_then(|e| {
        choice(
            e,
            &[
                ("valkey", CacheEngine::Valkey),
                ("redis", CacheEngine::Redis),
            ],
            d,
        )
    });
    let version = r
        .required_prop("version", d)
        .and_then(|e| crate::lower::reader::string_or_number(e, d));
    // IAM authentication needs Valkey 7.2 or Redis OSS 7.0 on; ElastiCache takes the version as
    // `major.minor` and applies patches itself.
    let version = match (version, engine.as_ref().map(|e| e.value)) {
        (Some(v), Some(engine)) => {
            let parsed = v
                .value
                .split_once('.')
                .and_then(|(major, minor)| {
                    Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?))
                })
                .filter(|_| v.value.matches('.').count() == 1);
            let ok = parsed.is_some_and(|(major, minor)| match engine {
                CacheEngine::Valkey => (major, minor) >= (7, 2) && major <= 9,
                CacheEngine::Redis => major == 7,
            });
            if ok {
                Some(v)
            } else {
                d.error(
                    ErrorKind::InvalidValue {
                        value: v.value.clone(),
                        expected: vec![match engine {
                            CacheEngine::Valkey => "a Valkey version from \"7.2\" on, as `major.minor`, such as \"8.0\" (IAM authentication needs 7.2)",
                            CacheEngine::Redis => "a Redis OSS 7 version as `major.minor`, such as \"7.1\" (IAM authentication needs 7.0)",
                        }],
                        suggestion: None,
                    },
                    v.span,
                );
                None
            }
        }
        (v, _) => v,
    };
    let node_type = r
        .required_prop("node-type", d)
        .and_then(|e| typed::instance_type(e, "cache.", d));
    let nodes = r
        .prop("nodes")
        .and_then(|e| typed::count(e, "number of cache nodes", 2, 6, d))
        .unwrap_or_else(|| Spanned::new(2, r.name_span()));
    r.finish(d);
    Some(Cache {
        span: node.span(),
        name: name?,
        engine: engine?,
        version: version?,
        node_type: node_type?,
        nodes,
    })
}

fn lower_docdb(node: &Node, d: &mut Diagnostics) -> Option<Docdb> {
    let mut r = Reader::new(node, &nodes::DOCDB);
    let name = r
        .required_string_arg(0, "a DocumentDB cluster name", d)
        .and_then(|n| typed::check_name(n, d));
    let version = r
        .required_prop("version", d)
        .and_then(|e| crate::lower::reader::string_or_number(e, d));
    // IAM authentication is documented for instance-based clusters of 5.0 only; the engine
    // version is `major.minor.0`, patches come with the maintenance window.
    let version = version.and_then(|v| {
        if v.value == "5.0" {
            Some(v)
        } else {
            d.error(
                ErrorKind::InvalidValue {
                    value: v.value.clone(),
                    expected: vec!["\"5.0\": the DocumentDB version with IAM authentication"],
                    suggestion: None,
                },
                v.span,
            );
            None
        }
    });
    // DocumentDB offers the R4, R5, R6G, R8G, T3 and T4G families, the burstable ones in
    // `medium` only.
    let class = r
        .required_prop("class", d)
        .and_then(|e| typed::instance_type(e, "db.", d))
        .and_then(|c| {
            let ok = match c.value.family.as_str() {
                "r4" | "r5" | "r6g" | "r8g" => true,
                "t3" | "t4g" => c.value.size == "medium",
                _ => false,
            };
            if ok {
                Some(c)
            } else {
                d.error(
                    ErrorKind::InvalidValue {
                        value: c.value.text.clone(),
                        expected: vec!["a DocumentDB instance class: `db.t3.medium`, `db.t4g.medium`, or an R4, R5, R6G or R8G class such as `db.r6g.large`"],
                        suggestion: None,
                    },
                    c.span,
                );
                None
            }
        });
    let instances = r
        .prop("instances")
        .and_then(|e| typed::count(e, "number of DocumentDB instances", 1, 16, d))
        .unwrap_or_else(|| Spanned::new(2, r.name_span()));
    r.finish(d);
    Some(Docdb {
        span: node.span(),
        name: name?,
        version: version?,
        class: class?,
        instances,
    })
}

fn lower_queue(node: &Node, d: &mut Diagnostics) -> Option<Queue> {
    let mut r = Reader::new(node, &nodes::QUEUE);
    let name = r
        .required_string_arg(0, "a queue name", d)
        .and_then(|n| typed::check_name(n, d));
    let fifo = r
        .bool_prop("fifo", d)
        .unwrap_or_else(|| Spanned::new(false, r.name_span()));
    let subscribe = r
        .string_prop("subscribe", d)
        .and_then(|n| typed::check_name(n, d));
    r.finish(d);
    Some(Queue {
        span: node.span(),
        name: name?,
        fifo,
        subscribe,
    })
}

fn lower_topic(node: &Node, d: &mut Diagnostics) -> Option<Topic> {
    let mut r = Reader::new(node, &nodes::TOPIC);
    let name = r
        .required_string_arg(0, "a topic name", d)
        .and_then(|n| typed::check_name(n, d));
    let fifo = r
        .bool_prop("fifo", d)
        .unwrap_or_else(|| Spanned::new(false, r.name_span()));
    r.finish(d);
    Some(Topic {
        span: node.span(),
        name: name?,
        fifo,
    })
}
