//! `promtool test rules` files for the generated rules: the proof that an alert means what its
//! SLO says. For every objective, synthetic series of the service's requests, as its sidecars
//! report them, at paces that pin each burn-rate tier (a change to one tier's windows or factor
//! fails a case):
//!
//! - a fast burn (20 times the budget, or halfway between the fastest tier and every request
//!   failing where that is less) after six clean hours pages within the hour: only the 1h/5m
//!   tier can have seen it;
//! - a burn at 12 times the budget after six clean hours does not page (the 1h/5m factor);
//! - a burn at 8 times the budget pages through the 6h/30m tier alone, one at 5 times does not;
//! - a fast burn that stops: the page clears with its short window, the ticket stays;
//! - a burn at 1.2 times the budget opens a ticket (3d/6h) and never pages;
//! - a burn at 0.9 times the budget fires nothing in six hours.
//!
//! Requests that fail on the caller's side (a gRPC `NOT_FOUND`, an HTTP 404) run beside the
//! failures throughout and never count against the budget. The platform's alerts get a case
//! each that fires and one that must not.

use serde_json::{Value, json};

use super::rules::{CERTIFICATE_OVERDUE_DAYS, CERTIFICATE_URGENT_DAYS, Groups, Objective, Rule};
use crate::emit::conventions::slo::{self, Severity};
use crate::emit::conventions::{credential_name, gateway_namespace, namespaces};
use crate::model::Platform;
use crate::model::service::{Protocol, Service};

/// Requests per minute of every synthetic service.
const PER_MINUTE: u64 = 1_000_000;

/// The alert rule of this name and severity, if the groups have one.
fn find<'a>(groups: &'a Groups, alert: &str, severity: Option<Severity>) -> Option<&'a Rule> {
    groups.groups.iter().flat_map(|g| &g.rules).find(|r| {
        r.alert.as_deref() == Some(alert)
            && severity
                .is_none_or(|s| r.labels.get("severity").map(String::as_str) == Some(s.as_str()))
    })
}

/// An input series of a rule test: the series and its values, in promtool's notation.
type Input = (String, String);

/// A test of a certificate alert: the alert (an index), what the test shows, when, the series,
/// and the severities that fire.
type CertificateCase = (
    usize,
    &'static str,
    &'static str,
    Vec<Input>,
    &'static [Severity],
);

/// An expected alert: the rule's labels and annotations, and the series' labels.
fn expected(rule: &Rule, series: &[(&str, String)]) -> Value {
    let mut labels = json!(rule.labels);
    for (k, v) in series {
        labels[*k] = json!(v);
    }
    json!({"exp_labels": labels, "exp_annotations": rule.annotations})
}

/// `name{k="v",…}`, in the series notation of promtool.
fn series(name: &str, labels: &[(&str, String)]) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// A counter in promtool's notation, one sample a minute from 0: it grows by `per_minute` for
/// `minutes`, segment after segment.
fn counter(segments: &[(u64, u64)]) -> String {
    let mut out = Vec::new();
    let mut value = 0;
    for (i, &(per_minute, minutes)) in segments.iter().enumerate() {
        if i == 0 {
            out.push(format!("0+{per_minute}x{minutes}"));
        } else if minutes > 0 {
            out.push(format!(
                "{}+{per_minute}x{}",
                value + per_minute,
                minutes - 1
            ));
        }
        value += per_minute * minutes;
    }
    out.join(" ")
}

/// One pace of a test: a clean start, failures (or slow requests) per minute for a while,
/// then none; when the alert is evaluated, and which of its severities fire then.
struct Pace {
    name: &'static str,
    clean: u64,
    bad: u64,
    minutes: u64,
    rest: u64,
    eval: &'static str,
    fires: &'static [Severity],
}

impl Pace {
    /// The bad requests per minute, segment after segment.
    fn bad(&self) -> [(u64, u64); 3] {
        [(0, self.clean), (self.bad, self.minutes), (0, self.rest)]
    }

    /// The rest of `PER_MINUTE - floor` each minute, segment after segment.
    fn rest_of(&self, floor: u64) -> [(u64, u64); 3] {
        self.bad()
            .map(|(bad, minutes)| (PER_MINUTE - floor - bad, minutes))
    }

    fn steady(&self, per_minute: u64) -> String {
        counter(&[(per_minute, self.clean + self.minutes + self.rest)])
    }
}

/// The paces that pin each tier: a change to one tier's windows or factor fails a test.
fn paces(budget: u64) -> [Pace; 7] {
    // `times(n)` bad requests a minute burn the budget at `n / 10` times the allowed pace.
    let times = |tenths: u64| tenths * budget * PER_MINUTE / (10 * u64::from(slo::WHOLE));
    // 20 times the budget, or halfway between the fastest tier and every request failing
    // where 20 times is more than all.
    let fast = times(200).min(u64::midpoint(times(144), PER_MINUTE));
    [
        Pace {
            // After six clean hours only the 1h window can have seen enough.
            name: "a fast burn after six clean hours pages within the hour (1h/5m)",
            clean: 360,
            bad: fast,
            minutes: 60,
            rest: 0,
            eval: "420m",
            fires: &[Severity::Critical, Severity::Warning],
        },
        Pace {
            // Below the 1h tier's factor, and the 6h window has seen too little.
            name: "a burn at 12 times the budget after six clean hours does not page",
            clean: 360,
            bad: times(120),
            minutes: 60,
            rest: 0,
            eval: "420m",
            fires: &[Severity::Warning],
        },
        Pace {
            name: "a burn at 8 times the budget pages (6h/30m)",
            clean: 0,
            bad: times(80),
            minutes: 30,
            rest: 0,
            eval: "30m",
            fires: &[Severity::Critical, Severity::Warning],
        },
        Pace {
            name: "a burn at 5 times the budget opens a ticket and does not page",
            clean: 0,
            bad: times(50),
            minutes: 30,
            rest: 0,
            eval: "30m",
            fires: &[Severity::Warning],
        },
        Pace {
            name: "a fast burn that stops clears the page and keeps the ticket",
            clean: 0,
            bad: fast,
            minutes: 30,
            rest: 30,
            eval: "60m",
            fires: &[Severity::Warning],
        },
        Pace {
            name: "a burn at 1.2 times the budget opens a ticket (3d/6h) and never pages",
            clean: 0,
            bad: times(12),
            minutes: 180,
            rest: 0,
            eval: "3h",
            fires: &[Severity::Warning],
        },
        Pace {
            name: "a burn at 0.9 times the budget fires nothing",
            clean: 0,
            bad: times(9),
            minutes: 400,
            rest: 0,
            eval: "6h",
            fires: &[],
        },
    ]
}

/// Whether the synthetic requests are gRPC (the service has a gRPC port) or HTTP.
fn grpc(service: &Service) -> bool {
    service
        .ports
        .iter()
        .any(|p| p.protocol.value == Protocol::Grpc)
}

/// The input series of one pace of an objective.
fn inputs(service: &Service, objective: Objective, pace: &Pace) -> Vec<Value> {
    let base = vec![
        ("reporter", "destination".to_owned()),
        ("destination_workload_namespace", service.namespace.clone()),
        ("destination_workload", service.name.value.clone()),
        ("destination_canonical_revision", "stable".to_owned()),
    ];
    let with = |extra: &[(&'static str, &str)]| {
        let mut labels = base.clone();
        labels.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        labels
    };
    match objective {
        Objective::Availability(_) => {
            // Requests the caller got wrong, a steady share that never counts as failed.
            let client_errors = (PER_MINUTE - pace.bad) / 2;
            let (ok, client, server): (&[_], &[_], &[_]) = if grpc(service) {
                (
                    &[("grpc_response_status", "0"), ("response_code", "200")],
                    &[("grpc_response_status", "5"), ("response_code", "200")],
                    &[("grpc_response_status", "14"), ("response_code", "200")],
                )
            } else {
                (
                    &[("response_code", "200")],
                    &[("response_code", "404")],
                    &[("response_code", "503")],
                )
            };
            vec![
                json!({"series": series("istio_requests_total", &with(ok)), "values": counter(&pace.rest_of(client_errors))}),
                json!({"series": series("istio_requests_total", &with(client)), "values": pace.steady(client_errors)}),
                json!({"series": series("istio_requests_total", &with(server)), "values": counter(&pace.bad())}),
            ]
        }
        Objective::Latency(_, millis) => {
            let bound = millis.to_string();
            vec![
                json!({"series": series("istio_request_duration_milliseconds_bucket", &with(&[("le", bound.as_str())])), "values": counter(&pace.rest_of(0))}),
                json!({"series": series("istio_request_duration_milliseconds_bucket", &with(&[("le", "+Inf")])), "values": pace.steady(PER_MINUTE)}),
            ]
        }
    }
}

/// The rule tests of a service's objectives and of its canary's gate; none without either.
pub fn service(service: &Service, groups: Option<&Groups>) -> Option<Value> {
    let mut tests = Vec::new();
    if let (Some(objective), Some(groups)) = (&service.slo, groups) {
        let mut objectives = Vec::new();
        if let Some(a) = &objective.availability {
            objectives.push(Objective::Availability(a.value));
        }
        if let Some(l) = &objective.latency {
            objectives.push(Objective::Latency(
                slo::percentile_objective(l),
                l.threshold.millis,
            ));
        }
        let series_labels = [
            ("destination_workload_namespace", service.namespace.clone()),
            ("destination_workload", service.name.value.clone()),
        ];
        for objective in objectives {
            for pace in paces(u64::from(slo::budget(objective.target()))) {
                let exp_alerts: Vec<Value> = pace
                    .fires
                    .iter()
                    .filter_map(|s| find(groups, objective.alert(), Some(*s)))
                    .map(|rule| expected(rule, &series_labels))
                    .collect();
                tests.push(json!({
                    "name": format!("{} {}: {}", service.name.value, objective.alert(), pace.name),
                    "interval": "1m",
                    "input_series": inputs(service, objective, &pace),
                    "alert_rule_test": [{
                        "eval_time": pace.eval,
                        "alertname": objective.alert(),
                        "exp_alerts": exp_alerts,
                    }],
                }));
            }
        }
    }
    tests.extend(gate(service));
    let mut files = vec!["platform.yaml".to_owned()];
    if groups.is_some() {
        files.push(format!("{}.yaml", service.name.value));
    }
    (!tests.is_empty()).then(|| rules_file(&files, &tests))
}

/// The gate's queries over the recorded rules: a canary that fails one request in four and
/// is slow on one in four, beside a stable revision that does neither, measures 0.75 and 0.25;
/// a revision that served nothing measures nothing.
fn gate(service: &Service) -> Option<Value> {
    let canary = service.canary.as_ref()?;
    let gate = canary.gate.as_ref()?;
    let revision = canary.version.value.as_str();
    let labels = |revision: &str, extra: &[(&'static str, &str)]| {
        let mut labels = vec![
            ("reporter", "destination".to_owned()),
            ("destination_workload_namespace", service.namespace.clone()),
            ("destination_workload", service.name.value.clone()),
            ("destination_canonical_revision", revision.to_owned()),
        ];
        labels.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        labels
    };
    let (ok, failed): (&[_], &[_]) = if grpc(service) {
        (
            &[("grpc_response_status", "0"), ("response_code", "200")],
            &[("grpc_response_status", "14"), ("response_code", "200")],
        )
    } else {
        (&[("response_code", "200")], &[("response_code", "503")])
    };
    let mut inputs = vec![
        json!({"series": series("istio_requests_total", &labels(STABLE, ok)), "values": "0+100x10"}),
        json!({"series": series("istio_requests_total", &labels(revision, ok)), "values": "0+3x10"}),
        json!({"series": series("istio_requests_total", &labels(revision, failed)), "values": "0+1x10"}),
    ];
    let mut checks = Vec::new();
    if gate.success_rate.is_some() {
        checks.push(json!({
            "expr": slo::revision_success_rate(service, revision),
            "eval_time": "10m",
            "exp_samples": [{"labels": "{}", "value": 0.75}],
        }));
        checks.push(json!({
            "expr": slo::revision_success_rate(service, "absent"),
            "eval_time": "10m",
            "exp_samples": [],
        }));
    }
    if let Some(latency) = &gate.latency {
        let bound = latency.threshold.millis.to_string();
        for (revision, under, all) in [
            (STABLE, "0+100x10", "0+100x10"),
            (revision, "0+3x10", "0+4x10"),
        ] {
            inputs.push(json!({"series": series("istio_request_duration_milliseconds_bucket", &labels(revision, &[("le", &bound)])), "values": under}));
            inputs.push(json!({"series": series("istio_request_duration_milliseconds_bucket", &labels(revision, &[("le", "+Inf")])), "values": all}));
        }
        checks.push(json!({
            "expr": slo::revision_slow_ratio(service, revision, latency.threshold.millis),
            "eval_time": "10m",
            "exp_samples": [{"labels": "{}", "value": 0.25}],
        }));
    }
    Some(json!({
        "name": format!("{} gate: the canary is measured from the recorded rules alone", service.name.value),
        "interval": "1m",
        "input_series": inputs,
        "promql_expr_test": checks,
    }))
}

/// The revision of the synthetic stable pods.
const STABLE: &str = "stable";

/// A test file over the rules files of `monitoring/prometheus/rules/`: the platform's (its
/// recording rules) first.
fn rules_file(rules: &[String], tests: &[Value]) -> Value {
    json!({
        "rule_files": rules.iter().map(|r| format!("../rules/{r}")).collect::<Vec<_>>(),
        // Every eval_time is a multiple of 5m; the series have a sample a minute.
        "evaluation_interval": "5m",
        "tests": tests,
    })
}

/// The rule tests of the platform's alerts: each fires on a series in one of its namespaces,
/// and stays silent on its look-alike.
pub fn platform(platform: &Platform, groups: &Groups) -> Value {
    let ns = namespaces(platform)
        .into_keys()
        .next()
        .unwrap_or("default")
        .to_owned();
    let l = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    };
    let mut tests = Vec::new();
    let mut case = |alert: &str,
                    eval: &str,
                    inputs: Vec<(String, &str)>,
                    fires: Vec<Vec<(&'static str, String)>>| {
        let Some(rule) = find(groups, alert, None) else {
            return;
        };
        tests.push(json!({
            "name": format!("{alert} fires on its condition alone"),
            "interval": "1m",
            "input_series": inputs.into_iter().map(|(s, v)| json!({"series": s, "values": v})).collect::<Vec<_>>(),
            "alert_rule_test": [{
                "eval_time": eval,
                "alertname": alert,
                "exp_alerts": fires.iter().map(|labels| expected(rule, labels)).collect::<Vec<_>>(),
            }],
        }));
    };
    // A workload's ReplicaSets: `(replicaset, owner kind, owner, wanted, ready)`.
    let owned = |sets: &[(&str, &str, &str, &'static str, &'static str)]| {
        let mut inputs = Vec::new();
        for &(set, kind, owner, wanted, ready) in sets {
            let of = l(&[("namespace", &ns), ("replicaset", set)]);
            let mut owner_labels = of.clone();
            owner_labels.extend(l(&[
                ("owner_kind", kind),
                ("owner_name", owner),
                ("owner_is_controller", "true"),
            ]));
            inputs.push((series("kube_replicaset_owner", &owner_labels), "1x30"));
            inputs.push((series("kube_replicaset_spec_replicas", &of), wanted));
            inputs.push((series("kube_replicaset_status_ready_replicas", &of), ready));
        }
        inputs
    };
    // A StatefulSet's pods: `(statefulset, wanted, ready)`.
    let stateful = |sets: &[(&str, &'static str, &'static str)]| {
        let mut inputs = Vec::new();
        for &(set, wanted, ready) in sets {
            let of = l(&[("namespace", &ns), ("statefulset", set)]);
            inputs.push((series("kube_statefulset_replicas", &of), wanted));
            inputs.push((series("kube_statefulset_status_replicas_ready", &of), ready));
        }
        inputs
    };
    case(
        super::runbooks::UNAVAILABLE.alert,
        "20m",
        owned(&[
            // Every pod of a Deployment not ready: it fires.
            ("down-5d8f", "Deployment", "down", "2x30", "0x30"),
            // A Rollout's canary not ready while its stable pods serve: it does not.
            ("canary-7c9d", "Rollout", "canary", "1x30", "0x30"),
            ("canary-6b8e", "Rollout", "canary", "2x30", "2x30"),
            // A Rollout's workloadRef: its Deployment of the same name scaled to zero, its own
            // pods serving: it does not.
            ("shop-3f6c", "Deployment", "shop", "0x30", "0x30"),
            ("shop-4a7b", "Rollout", "shop", "2x30", "2x30"),
            // The same with the Rollout's pods down: it fires.
            ("cart-3f6c", "Deployment", "cart", "0x30", "0x30"),
            ("cart-4a7b", "Rollout", "cart", "2x30", "0x30"),
            // Down for less than its 5 minutes: not yet.
            ("blip-2e5d", "Deployment", "blip", "2x30", "2x17 0x12"),
        ])
        .into_iter()
        .chain(stateful(&[
            // A StatefulSet with no ready pod fires; one with a ready pod does not.
            ("ledger", "3x30", "0x30"),
            ("cache", "3x30", "1x30"),
        ]))
        .collect(),
        vec![
            l(&[("namespace", &ns), ("owner_name", "cart")]),
            l(&[("namespace", &ns), ("owner_name", "down")]),
            l(&[("namespace", &ns), ("owner_name", "ledger")]),
        ],
    );
    let looping = l(&[
        ("namespace", &ns),
        ("pod", "crashing-0"),
        ("container", "server"),
        ("reason", "CrashLoopBackOff"),
    ]);
    case(
        super::runbooks::CRASH_LOOPING.alert,
        "20m",
        vec![
            (
                series("kube_pod_container_status_waiting_reason", &looping),
                "1x30",
            ),
            (
                series(
                    "kube_pod_container_status_waiting_reason",
                    &l(&[
                        ("namespace", "elsewhere"),
                        ("pod", "other-0"),
                        ("container", "server"),
                        ("reason", "CrashLoopBackOff"),
                    ]),
                ),
                "1x30",
            ),
        ],
        vec![looping.clone()],
    );
    case(
        super::runbooks::NOT_READY.alert,
        "20m",
        vec![
            (
                series(
                    "kube_pod_status_ready",
                    &l(&[
                        ("namespace", &ns),
                        ("pod", "unready-0"),
                        ("condition", "false"),
                    ]),
                ),
                "1x30",
            ),
            (
                series(
                    "kube_pod_status_ready",
                    &l(&[
                        ("namespace", &ns),
                        ("pod", "done-0"),
                        ("condition", "false"),
                    ]),
                ),
                "1x30",
            ),
            (
                series(
                    "kube_pod_status_phase",
                    &l(&[
                        ("namespace", &ns),
                        ("pod", "done-0"),
                        ("phase", "Succeeded"),
                    ]),
                ),
                "1x30",
            ),
        ],
        vec![l(&[("namespace", &ns), ("pod", "unready-0")])],
    );
    let hpa = |name: &str, metric: &str, value: &'static str| {
        (
            series(
                metric,
                &l(&[("namespace", &ns), ("horizontalpodautoscaler", name)]),
            ),
            value,
        )
    };
    let maxed = hpa(
        "maxed",
        "kube_horizontalpodautoscaler_status_current_replicas",
        "6x30",
    );
    case(
        super::runbooks::AUTOSCALER_AT_MAX.alert,
        "20m",
        vec![
            maxed,
            hpa(
                "maxed",
                "kube_horizontalpodautoscaler_spec_max_replicas",
                "6x30",
            ),
            hpa(
                "maxed",
                "kube_horizontalpodautoscaler_spec_min_replicas",
                "2x30",
            ),
            // An autoscaler whose minimum is its maximum is always at it.
            hpa(
                "pinned",
                "kube_horizontalpodautoscaler_status_current_replicas",
                "1x30",
            ),
            hpa(
                "pinned",
                "kube_horizontalpodautoscaler_spec_max_replicas",
                "1x30",
            ),
            hpa(
                "pinned",
                "kube_horizontalpodautoscaler_spec_min_replicas",
                "1x30",
            ),
        ],
        vec![l(&[
            ("namespace", &ns),
            ("horizontalpodautoscaler", "maxed"),
        ])],
    );
    // kube-state-metrics gives each condition of an autoscaler three series, one per status.
    let condition = |name: &str, kind: &str, [t, f, u]: [&'static str; 3]| {
        [("true", t), ("false", f), ("unknown", u)].map(|(status, value)| {
            (
                series(
                    "kube_horizontalpodautoscaler_status_condition",
                    &l(&[
                        ("namespace", &ns),
                        ("horizontalpodautoscaler", name),
                        ("condition", kind),
                        ("status", status),
                    ]),
                ),
                value,
            )
        })
    };
    case(
        super::runbooks::AUTOSCALER_NOT_ACTIVE.alert,
        "20m",
        [
            condition("blind", "ScalingActive", ["0x30", "1x30", "0x30"]),
            condition("active", "ScalingActive", ["1x30", "0x30", "0x30"]),
            // Another condition False is not this alert's: AbleToScale is backing off.
            condition("backing-off", "AbleToScale", ["0x30", "1x30", "0x30"]),
        ]
        .concat(),
        vec![l(&[
            ("namespace", &ns),
            ("horizontalpodautoscaler", "blind"),
        ])],
    );
    let container = |pod: &str| l(&[("namespace", &ns), ("pod", pod), ("container", "server")]);
    let with = |mut labels: Vec<(&'static str, String)>, k: &'static str, v: &str| {
        labels.push((k, v.to_owned()));
        labels
    };
    case(
        super::runbooks::MEMORY.alert,
        "20m",
        vec![
            (
                series(
                    "container_memory_working_set_bytes",
                    &with(container("full-0"), "image", "app"),
                ),
                "950x30",
            ),
            (
                series(
                    "kube_pod_container_resource_limits",
                    &with(container("full-0"), "resource", "memory"),
                ),
                "1000x30",
            ),
            (
                series(
                    "container_memory_working_set_bytes",
                    &with(container("roomy-0"), "image", "app"),
                ),
                "800x30",
            ),
            (
                series(
                    "kube_pod_container_resource_limits",
                    &with(container("roomy-0"), "resource", "memory"),
                ),
                "1000x30",
            ),
        ],
        vec![container("full-0")],
    );
    case(
        super::runbooks::NODE_PRESSURE.alert,
        "10m",
        vec![
            (
                series(
                    "kube_node_status_condition",
                    &l(&[
                        ("node", "node-a"),
                        ("condition", "MemoryPressure"),
                        ("status", "true"),
                    ]),
                ),
                "1x15",
            ),
            (
                series(
                    "kube_node_status_condition",
                    &l(&[
                        ("node", "node-b"),
                        ("condition", "MemoryPressure"),
                        ("status", "true"),
                    ]),
                ),
                "0x15",
            ),
        ],
        vec![l(&[("node", "node-a"), ("condition", "MemoryPressure")])],
    );
    // The gateways' certificates: the first one's series, as Prometheus stores them (the
    // Certificate's own `namespace`, kept by the monitor's `honorLabels`, and the target's).
    let Some(gateway) = platform
        .mesh
        .iter()
        .flat_map(|mesh| &mesh.gateways)
        .find(|gateway| gateway.terminates_tls())
    else {
        return rules_file(&["platform.yaml".to_owned()], &tests);
    };
    let (home, name) = (gateway_namespace(), credential_name(gateway));
    let of = |metric: &str, namespace: &str, more: &[(&'static str, &str)]| {
        let mut labels = l(&[
            ("namespace", namespace),
            ("name", &name),
            ("issuer_name", "letsencrypt"),
            ("issuer_kind", "ClusterIssuer"),
            ("issuer_group", "cert-manager.io"),
            ("job", "cert-manager"),
            ("pod", "cert-manager-5d4f8b7c9-x2x7q"),
            ("instance", "10.0.1.17:9402"),
        ]);
        labels.extend(l(more));
        series(metric, &labels)
    };
    let ready = |namespace: &str, [t, f, u]: [&'static str; 3]| {
        [("True", t), ("False", f), ("Unknown", u)].map(|(condition, value)| {
            (
                of(
                    "certmanager_certificate_ready_status",
                    namespace,
                    &[("condition", condition)],
                ),
                value.to_owned(),
            )
        })
    };
    let ends = |namespace: &str, at: u64| {
        (
            of(
                "certmanager_certificate_expiration_timestamp_seconds",
                namespace,
                &[],
            ),
            format!("{at}x150"),
        )
    };
    let fired = l(&[("namespace", home), ("name", &name)]);
    let overdue = u64::from(CERTIFICATE_OVERDUE_DAYS) * 86_400;
    let urgent = u64::from(CERTIFICATE_URGENT_DAYS) * 86_400;
    let (critical, warning): (&[Severity], &[Severity]) =
        (&[Severity::Critical], &[Severity::Warning]);
    let alerts = [
        &super::runbooks::CERTIFICATE_NOT_READY,
        &super::runbooks::CERTIFICATE_EXPIRING,
        &super::runbooks::CERTIFICATE_UNMEASURED,
    ];
    let cases: Vec<CertificateCase> = vec![
        (
            0,
            "fires on Ready False, not on another namespace's certificate",
            "40m",
            [
                ready(home, ["0x60", "1x60", "0x60"]),
                ready("elsewhere", ["0x60", "1x60", "0x60"]),
            ]
            .concat(),
            critical,
        ),
        (
            0,
            "fires on Ready Unknown",
            "40m",
            ready(home, ["0x60", "0x60", "1x60"]).to_vec(),
            critical,
        ),
        (
            0,
            "is silent on Ready True",
            "40m",
            ready(home, ["1x60", "0x60", "0x60"]).to_vec(),
            &[],
        ),
        // promtool's clock starts at 0: a certificate ending `overdue` from then is within the
        // threshold from the first minute, and fires at 2h, its `for` (1h) run; one ending an
        // hour later than the threshold at 2h is not.
        (
            1,
            "fires past the threshold, not on another namespace's certificate",
            "2h",
            vec![ends(home, overdue), ends("elsewhere", 3_600)],
            warning,
        ),
        (
            1,
            "is silent an hour before the threshold",
            "2h",
            vec![ends(home, overdue + 3 * 3_600)],
            &[],
        ),
        (
            1,
            "pages in the certificate's last week",
            "2h",
            vec![ends(home, urgent)],
            &[Severity::Critical, Severity::Warning],
        ),
        (
            1,
            "does not page an hour before the last week",
            "2h",
            vec![ends(home, urgent + 3 * 3_600)],
            warning,
        ),
        // cert-manager reports 0 for a certificate not issued yet.
        (
            1,
            "is silent before the first issuance",
            "2h",
            vec![ends(home, 0)],
            &[],
        ),
        (
            2,
            "fires when no series of the certificate has come for an hour",
            "70m",
            vec![ends("elsewhere", overdue * 2)],
            warning,
        ),
        (
            2,
            "is silent while the certificate is measured",
            "70m",
            vec![ends(home, 0)],
            &[],
        ),
    ];
    for (alert, what, eval, inputs, fires) in cases {
        let alert = alerts[alert].alert;
        if find(groups, alert, None).is_none() {
            continue;
        }
        let expected: Vec<Value> = fires
            .iter()
            .map(|&severity| {
                let rule = find(groups, alert, Some(severity))
                    .unwrap_or_else(|| panic!("no {alert} of severity {}", severity.as_str()));
                expected(rule, &fired)
            })
            .collect();
        tests.push(json!({
            "name": format!("{alert} {what}"),
            "interval": "1m",
            "input_series": inputs.into_iter().map(|(s, v)| json!({"series": s, "values": v})).collect::<Vec<_>>(),
            "alert_rule_test": [{
                "eval_time": eval,
                "alertname": alert,
                "exp_alerts": expected,
            }],
        }));
    }
    rules_file(&["platform.yaml".to_owned()], &tests)
}
