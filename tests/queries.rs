//! Every query platc generates reads only what exists: Istio's standard metrics and their
//! labels, the series of the exporters kube-prometheus-stack installs (kube-state-metrics,
//! cAdvisor through the kubelet, node-exporter, istiod's own) and of cert-manager's controller,
//! and recording rules that a rules file of the same tree records for the same workload.
//!
//! Over the root platform and every golden tree: the expressions of the rules files, the
//! queries of the canary `AnalysisTemplate`s, and the targets of the Grafana dashboards. A
//! misspelt metric or label would make a query return nothing, which an alert reads as "all
//! well" and a gate as "no data": this test fails on it instead.

#[path = "support/cases.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use crate::support::cases;

/// Metrics of Istio's standard set (the sidecar's `istiocustom` stats).
const ISTIO_METRICS: &[&str] = &[
    "istio_requests_total",
    "istio_request_duration_milliseconds_bucket",
    "istio_request_duration_milliseconds_count",
    "istio_request_duration_milliseconds_sum",
    "istio_request_bytes_bucket",
    "istio_request_bytes_count",
    "istio_request_bytes_sum",
    "istio_response_bytes_bucket",
    "istio_response_bytes_count",
    "istio_response_bytes_sum",
    "istio_tcp_connections_opened_total",
    "istio_tcp_connections_closed_total",
    "istio_tcp_received_bytes_total",
    "istio_tcp_sent_bytes_total",
];

/// The labels of Istio's standard metrics, and the target labels the monitors add.
const ISTIO_LABELS: &[&str] = &[
    "reporter",
    "source_workload",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_canonical_service",
    "source_canonical_revision",
    "source_cluster",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "destination_canonical_service",
    "destination_canonical_revision",
    "destination_cluster",
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
    "connection_security_policy",
    "le",
];

/// Metrics of the stack's exporters that platc's queries read, by exact name.
const EXPORTER_METRICS: &[&str] = &[
    // kube-state-metrics
    "kube_pod_container_status_waiting_reason",
    "kube_pod_container_status_restarts_total",
    "kube_pod_container_status_ready",
    "kube_pod_container_resource_limits",
    "kube_pod_container_resource_requests",
    "kube_pod_status_ready",
    "kube_pod_status_phase",
    "kube_pod_info",
    "kube_node_status_condition",
    "kube_node_status_allocatable",
    "kube_node_status_capacity",
    "kube_node_info",
    "kube_deployment_status_replicas",
    "kube_deployment_status_replicas_available",
    "kube_deployment_spec_replicas",
    "kube_replicaset_owner",
    "kube_replicaset_spec_replicas",
    "kube_replicaset_status_ready_replicas",
    "kube_statefulset_replicas",
    "kube_statefulset_status_replicas_ready",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_horizontalpodautoscaler_status_desired_replicas",
    "kube_horizontalpodautoscaler_spec_min_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
    "kube_horizontalpodautoscaler_status_condition",
    // cAdvisor, through the kubelet
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
    "container_cpu_cfs_throttled_periods_total",
    "container_cpu_cfs_periods_total",
    // istiod and every Go process
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "up",
    // cert-manager's controller, v1.19.6 (`internal/collectors/certificate_collector.go`)
    "certmanager_certificate_ready_status",
    "certmanager_certificate_expiration_timestamp_seconds",
];

/// Families read by prefix: node-exporter's and istiod's own.
const EXPORTER_PREFIXES: &[&str] = &["node_", "pilot_", "istiod_", "galley_", "citadel_"];

/// Labels of those exporters' series, and of every Prometheus target.
const EXPORTER_LABELS: &[&str] = &[
    "namespace",
    "pod",
    "container",
    "image",
    "node",
    "instance",
    "job",
    "app",
    "service",
    "reason",
    "condition",
    "status",
    "phase",
    "resource",
    "unit",
    "horizontalpodautoscaler",
    "deployment",
    "replicaset",
    "owner_kind",
    "owner_name",
    "statefulset",
    "cpu",
    "mode",
    "mountpoint",
    "fstype",
    "device",
    "type",
    "version",
    // cert-manager's certificate series: the `Certificate`'s name and its issuer
    "name",
    "issuer_name",
    "issuer_kind",
    "issuer_group",
];

/// `PromQL`'s keywords, functions and aggregations: identifiers that are not metrics.
const PROMQL: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "group",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "predict_linear",
    "histogram_quantile",
    "max_over_time",
    "min_over_time",
    "avg_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "present_over_time",
    "absent",
    "absent_over_time",
    "changes",
    "resets",
    "clamp",
    "clamp_min",
    "clamp_max",
    "abs",
    "ceil",
    "floor",
    "round",
    "scalar",
    "vector",
    "time",
    "timestamp",
    "label_replace",
    "label_join",
    "sort",
    "sort_desc",
    "sgn",
    "exp",
    "ln",
    "log2",
    "log10",
    "sqrt",
    "inf",
    "nan",
    "Inf",
    "NaN",
];

/// The `PromQL` words whose parenthesised list names labels.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// One query, with where it came from.
struct Query {
    origin: String,
    expr: String,
}

/// The identifiers of an expression outside strings and label matchers: metric names and
/// `PromQL` words, and the label names it uses in matchers and in `by`/`on`/`without` lists.
fn scan(expr: &str) -> (Vec<String>, Vec<String>) {
    let mut metrics = Vec::new();
    let mut labels = Vec::new();
    let bytes: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut in_braces = false;
    let mut in_list = false;
    let mut last_word = String::new();
    while i < bytes.len() {
        let c = bytes[i];
        if c == '"' || c == '\'' || c == '`' {
            // Skip the string, with its escapes.
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                if bytes[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            continue;
        }
        if c == '[' {
            // A range or subquery duration.
            while i < bytes.len() && bytes[i] != ']' {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c == '{' {
            in_braces = true;
        } else if c == '}' {
            in_braces = false;
        } else if c == '(' && LABEL_LISTS.contains(&last_word.as_str()) {
            in_list = true;
        } else if c == ')' {
            in_list = false;
        }
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == '_' || bytes[i] == ':')
            {
                i += 1;
            }
            let word: String = bytes[start..i].iter().collect();
            // A number's exponent or a duration's unit follows a digit.
            let after_digit = start > 0 && bytes[start - 1].is_ascii_digit();
            if after_digit {
                continue;
            }
            if in_braces || in_list {
                labels.push(word.clone());
            } else if !PROMQL.contains(&word.as_str()) {
                metrics.push(word.clone());
            }
            last_word = word;
            continue;
        }
        if !c.is_whitespace() {
            last_word.clear();
        }
        i += 1;
    }
    (metrics, labels)
}

/// The value of a label matcher `name="value"` in an expression, if any.
fn matcher<'a>(expr: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = expr.find(&key)? + key.len();
    let end = expr[start..].find('"')? + start;
    Some(&expr[start..end])
}

/// What is wrong with the queries of one tree.
fn problems(queries: &[Query], recorded: &BTreeSet<(String, String)>) -> Vec<String> {
    let mut out = Vec::new();
    for q in queries {
        let (metrics, labels) = scan(&q.expr);
        for metric in &metrics {
            let known = ISTIO_METRICS.contains(&metric.as_str())
                || EXPORTER_METRICS.contains(&metric.as_str())
                || EXPORTER_PREFIXES.iter().any(|p| metric.starts_with(p));
            if metric.starts_with("platc:") {
                let workload = matcher(&q.expr, "destination_workload").unwrap_or("");
                // A record without a workload matcher is recorded for every workload; a query
                // without one (over many workloads) needs the record for some.
                let found = recorded.contains(&(metric.clone(), workload.to_owned()))
                    || recorded.contains(&(metric.clone(), String::new()))
                    || (workload.is_empty() && recorded.iter().any(|(r, _)| r == metric));
                if !found {
                    out.push(format!(
                        "{}: `{metric}` for workload `{workload}` is recorded by no rule of the tree",
                        q.origin
                    ));
                }
            } else if !known {
                out.push(format!("{}: unknown metric `{metric}`", q.origin));
            }
        }
        for label in &labels {
            if !ISTIO_LABELS.contains(&label.as_str()) && !EXPORTER_LABELS.contains(&label.as_str())
            {
                out.push(format!("{}: unknown label `{label}`", q.origin));
            }
        }
    }
    out
}

/// The queries of a tree, and the recording rules it defines: `(record, workload)`.
fn queries(tree: &BTreeMap<String, String>) -> (Vec<Query>, BTreeSet<(String, String)>) {
    let mut queries = Vec::new();
    let mut recorded = BTreeSet::new();
    for (path, text) in tree {
        if path.starts_with("monitoring/prometheus/rules/") {
            let doc: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
            for group in doc["groups"].as_sequence().unwrap() {
                for rule in group["rules"].as_sequence().unwrap() {
                    let expr = rule["expr"].as_str().unwrap().to_owned();
                    if let Some(record) = rule["record"].as_str() {
                        let workload = matcher(&expr, "destination_workload").unwrap_or("");
                        recorded.insert((record.to_owned(), workload.to_owned()));
                    }
                    queries.push(Query {
                        origin: path.clone(),
                        expr,
                    });
                }
            }
        } else if path.starts_with("rollouts/") && path.ends_with("analysistemplate.yaml") {
            let body = text
                .lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n");
            let doc: serde_yaml::Value = serde_yaml::from_str(&body).unwrap();
            for metric in doc["spec"]["metrics"].as_sequence().unwrap() {
                if let Some(q) = metric["provider"]["prometheus"]["query"].as_str() {
                    queries.push(Query {
                        origin: path.clone(),
                        expr: q.to_owned(),
                    });
                }
            }
        } else if path.starts_with("monitoring/grafana/")
            && std::path::Path::new(path)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            let doc: serde_json::Value = serde_json::from_str(text).unwrap();
            let mut stack = vec![&doc];
            while let Some(v) = stack.pop() {
                match v {
                    serde_json::Value::Object(map) => {
                        if let Some(serde_json::Value::String(expr)) = map.get("expr") {
                            queries.push(Query {
                                origin: path.clone(),
                                expr: dashboard_expr(expr),
                            });
                        }
                        stack.extend(map.values());
                    }
                    serde_json::Value::Array(items) => stack.extend(items),
                    _ => {}
                }
            }
        }
    }
    (queries, recorded)
}

/// A dashboard's expression with its variables as values a query would hold.
fn dashboard_expr(expr: &str) -> String {
    let mut out = expr.to_owned();
    for (var, value) in [
        ("$__rate_interval", "5m"),
        ("${__rate_interval}", "5m"),
        ("$__interval", "1m"),
        ("$__range", "1h"),
    ] {
        out = out.replace(var, value);
    }
    // Any other `$name`/`${name}` stands inside a label value or a regex.
    out
}

#[test]
fn every_generated_query_reads_known_metrics_and_recorded_rules() {
    let mut all = Vec::new();
    let mut counted = 0;
    for (name, _, tree) in cases() {
        let (queries, recorded) = queries(&tree);
        counted += queries.len();
        all.extend(
            problems(&queries, &recorded)
                .into_iter()
                .map(|p| format!("{name}: {p}")),
        );
    }
    assert!(
        counted > 500,
        "only {counted} queries found: is out/ built?"
    );
    assert!(
        all.is_empty(),
        "{} problems:\n{}",
        all.len(),
        all.join("\n")
    );
}

#[test]
fn a_misspelt_metric_label_or_record_is_caught() {
    let recorded = BTreeSet::from([("platc:requests:rate5m".to_owned(), "cart".to_owned())]);
    let q = |expr: &str| Query {
        origin: "x".into(),
        expr: expr.into(),
    };
    let good = [
        q(
            "sum by (destination_workload) (rate(istio_requests_total{reporter=\"destination\",destination_workload=\"cart\"}[5m]))",
        ),
        q("platc:requests:rate5m{destination_workload=\"cart\"} > 1e-3"),
        q("max by (namespace, pod) (kube_pod_status_ready{condition=\"false\"}) == 1"),
    ];
    assert_eq!(problems(&good, &recorded), Vec::<String>::new());
    for bad in [
        "rate(istio_request_total{reporter=\"destination\"}[5m])",
        "rate(istio_requests_total{destination_workload_namspace=\"x\"}[5m])",
        "sum by (destination_wrkload) (rate(istio_requests_total[5m]))",
        "platc:requests:rate5m{destination_workload=\"payment\"}",
        "platc:request:rate5m{destination_workload=\"cart\"}",
    ] {
        assert_eq!(problems(&[q(bad)], &recorded).len(), 1, "{bad}");
    }
}

/// cert-manager labels its series with the `Certificate`'s own `namespace`, which the alerts
/// on the gateways' certificates select. Prometheus keeps that label only where the monitor
/// honours a series' labels: else the target's (the pod's namespace, `cert-manager`) takes it,
/// and the alerts never fire. Every tree whose rules read cert-manager's series scrapes its
/// pods so.
#[test]
fn the_certificates_series_keep_their_own_namespace() {
    let mut trees = 0;
    for (name, _, tree) in cases() {
        let reads = tree.iter().any(|(p, t)| {
            p.starts_with("monitoring/prometheus/rules/") && t.contains("certmanager_")
        });
        if !reads {
            continue;
        }
        trees += 1;
        let honoured = tree
            .iter()
            .filter(|(p, _)| p.starts_with("monitoring/platform/podmonitor-"))
            .any(|(_, text)| {
                let doc: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
                let spec = &doc["spec"];
                let cert_manager = spec["namespaceSelector"]["matchNames"]
                    .as_sequence()
                    .is_some_and(|names| names.iter().any(|n| n.as_str() == Some("cert-manager")));
                let endpoints = spec["podMetricsEndpoints"].as_sequence();
                cert_manager
                    && endpoints.is_some_and(|e| {
                        !e.is_empty() && e.iter().all(|e| e["honorLabels"].as_bool() == Some(true))
                    })
            });
        assert!(
            honoured,
            "{name}: no monitor of cert-manager's pods honours the series' labels"
        );
    }
    assert!(trees > 3, "only {trees} trees read cert-manager's series");
}
