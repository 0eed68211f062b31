//! What Prometheus records and alerts on: for every measured service (an `slo`, or a canary
//! `gate`) the recording rules of `conventions::slo` and, with an `slo`, its multi-window,
//! multi-burn-rate alerts; for the platform, alerts on its workloads and nodes. Each group
//! comes out twice: in a `PrometheusRule` that the stack's Prometheus selects, and in a plain
//! rules file (`monitoring/prometheus/rules/`) beside a `promtool test rules` file that proves
//! each alert fires on a burn above its threshold and stays silent within budget.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::runbooks::{self, Runbook};
use crate::emit::conventions::slo::{self, Severity, Tier};
use crate::emit::conventions::{
    RENEW_BEFORE_DAYS, common_labels, credential_name, gateway_namespace, meshed, meta, namespaces,
    origin_annotation,
};
use crate::model::addons::{self, MONITOR_LABELS};
use crate::model::service::Service;
use crate::model::value::Percent;
use crate::model::{Checked, Platform};
use crate::output::{Item, Output, Owner, Resource};
use crate::span::Span;

/// Rule groups, as a `PrometheusRule`'s spec and a rules file both hold them.
#[derive(Clone, Serialize)]
pub struct Groups {
    pub groups: Vec<Group>,
}

#[derive(Clone, Serialize)]
pub struct Group {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// A recording rule (`record`) or an alerting rule (`alert`).
#[derive(Clone, Serialize)]
pub struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    pub expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<&'static str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Rule {
    fn record(name: String, expr: String) -> Self {
        Self {
            record: Some(name),
            alert: None,
            expr,
            for_: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
        }
    }
}

/// What an alert says, beside its expression.
struct Alert<'a> {
    name: &'static str,
    expr: String,
    for_: Option<&'static str>,
    severity: Severity,
    labels: Vec<(&'static str, String)>,
    summary: String,
    description: String,
    runbook: &'a Runbook,
}

impl Alert<'_> {
    fn rule(self, platform: &Platform) -> Rule {
        let mut labels: BTreeMap<String, String> = self
            .labels
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        labels.insert("severity".into(), self.severity.as_str().into());
        Rule {
            record: None,
            alert: Some(self.name.to_owned()),
            expr: self.expr,
            for_: self.for_,
            labels,
            annotations: BTreeMap::from([
                ("summary".to_owned(), self.summary),
                ("description".to_owned(), self.description),
                (
                    "runbook_url".to_owned(),
                    runbooks::url(platform, self.runbook),
                ),
            ]),
        }
    }
}

/// Adds the rules of every measured service and of the platform; none without `prometheus`.
pub fn emit(platform: &Checked, out: &mut Output) {
    let Some(prometheus) = &platform.observability.prometheus else {
        return;
    };
    let files = out.wants_files();
    out.extend_mapped(&out.services(platform), |service| {
        service_items(platform, service, files)
    });
    if !out.wants_shared() {
        return;
    }
    let platform_rules = platform_alerts(platform);
    // A runbook for every alert some rules file holds.
    let mut alerts: BTreeSet<String> = platform_rules
        .iter()
        .filter_map(|r| r.alert.clone())
        .collect();
    for service in platform.services.iter().filter(|s| meshed(platform, s)) {
        if let Some(objective) = &service.slo {
            if objective.availability.is_some() {
                alerts.insert(runbooks::AVAILABILITY.alert.to_owned());
            }
            if objective.latency.is_some() {
                alerts.insert(runbooks::LATENCY.alert.to_owned());
            }
        }
    }
    out.extend(platform_items(
        platform,
        prometheus.span,
        platform_rules,
        files,
    ));
    if files {
        out.extend(runbooks::items(platform, prometheus.span, &alerts));
    }
}

// ------------------------------------------------------------------------------------------------
// Services

/// The name of a service's `PrometheusRule` and of its group.
fn service_rule_name(service: &Service) -> String {
    format!("{}-slo", service.name.value)
}

/// A service's `PrometheusRule` and, with `files`, its rules file and their tests.
fn service_items(platform: &Platform, service: &Service, files: bool) -> Vec<Item> {
    if !slo::measured(service) || !meshed(platform, service) {
        return Vec::new();
    }
    let origin = service
        .slo
        .as_ref()
        .map(|s| s.span)
        .or_else(|| {
            service
                .canary
                .as_ref()
                .and_then(|c| c.gate.as_ref())
                .map(|g| g.span)
        })
        .unwrap_or(service.span);
    let owner = || Owner::Service(service.name.value.clone());
    let Some(groups) = service.slo.as_ref().map(|_| Groups {
        groups: vec![Group {
            name: format!("platc.{}.slo", service.name.value),
            rules: service_rules(platform, service),
        }],
    }) else {
        // A gate alone reads the platform's records: only its queries' test.
        if !files {
            return Vec::new();
        }
        return super::rule_tests::service(service, None)
            .map(|tests| {
                Item::yaml(
                    format!("monitoring/prometheus/tests/{}.yaml", service.name.value),
                    owner(),
                    origin,
                    tests,
                )
            })
            .into_iter()
            .collect();
    };
    let name = service_rule_name(service);
    let mut metadata = meta(platform, service, &name, origin);
    metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .extend(monitor_labels());
    let rules_file = files.then(|| {
        Item::yaml(
            format!("monitoring/prometheus/rules/{}.yaml", service.name.value),
            owner(),
            origin,
            serde_json::to_value(&groups).unwrap_or_default(),
        )
    });
    let tests = files
        .then(|| super::rule_tests::service(service, Some(&groups)))
        .flatten();
    let mut items = vec![Item::resource(
        format!(
            "monitoring/services/{}/prometheusrule.yaml",
            service.name.value
        ),
        owner(),
        origin,
        Resource {
            api_version: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata,
            spec: groups,
        },
    )];
    items.extend(rules_file);
    if let Some(tests) = tests {
        items.push(Item::yaml(
            format!("monitoring/prometheus/tests/{}.yaml", service.name.value),
            owner(),
            origin,
            tests,
        ));
    }
    items
}

fn monitor_labels() -> BTreeMap<String, String> {
    MONITOR_LABELS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The recording rules of `conventions::slo`, once for every workload the sidecars report:
/// requests, failures and latency buckets by revision, and the error ratio by service, over
/// every window. A failure is an HTTP 5xx, or a gRPC status that means the server failed
/// (never both for one series: the second selector excludes 5xx).
fn platform_records() -> Vec<Rule> {
    let sel = "reporter=\"destination\"";
    let by_revision = slo::REVISION_LABELS;
    let by_service = slo::SERVICE_LABELS;
    let server_errors = format!("{sel},response_code=~\"5..\"");
    let grpc_errors = format!(
        "{sel},response_code!~\"5..\",grpc_response_status=~\"{}\"",
        slo::GRPC_SERVER_ERRORS
    );
    let mut rules = Vec::new();
    for window in slo::WINDOWS {
        let requests = slo::requests_record(window);
        let errors = slo::errors_record(window);
        rules.push(Rule::record(
            requests.clone(),
            format!("sum by ({by_revision}) (rate(istio_requests_total{{{sel}}}[{window}]))"),
        ));
        // A revision that served requests and failed none records zero, not nothing.
        rules.push(Rule::record(
            errors.clone(),
            format!(
                "sum by ({by_revision}) (rate(istio_requests_total{{{server_errors}}}[{window}]) or rate(istio_requests_total{{{grpc_errors}}}[{window}])) or 0 * {requests}"
            ),
        ));
        rules.push(Rule::record(
            slo::buckets_record(window),
            format!(
                "sum by ({by_revision}, le) (rate(istio_request_duration_milliseconds_bucket{{{sel}}}[{window}]))"
            ),
        ));
        rules.push(Rule::record(
            slo::error_ratio_record(window),
            format!("sum by ({by_service}) ({errors}) / sum by ({by_service}) ({requests})"),
        ));
    }
    rules
}

/// A service's own rules: the share of its requests slower than its latency objective (a
/// threshold of its own), and its burn-rate alerts.
fn service_rules(platform: &Platform, service: &Service) -> Vec<Rule> {
    let recorded = slo::recorded(service);
    let by_service = slo::SERVICE_LABELS;
    let mut rules = Vec::new();
    if let Some(latency) = service.slo.as_ref().and_then(|s| s.latency.as_ref()) {
        for window in slo::WINDOWS {
            let buckets = slo::buckets_record(window);
            rules.push(Rule::record(
                slo::slow_ratio_record(window),
                format!(
                    "1 - sum by ({by_service}) ({buckets}{{{recorded},{}}}) / sum by ({by_service}) ({buckets}{{{recorded},le=\"+Inf\"}})",
                    slo::le_matcher(latency.threshold.millis)
                ),
            ));
        }
    }
    if let Some(objective) = &service.slo {
        if let Some(availability) = &objective.availability {
            rules.extend(burn_alerts(
                platform,
                service,
                Objective::Availability(availability.value),
            ));
        }
        if let Some(latency) = &objective.latency {
            rules.extend(burn_alerts(
                platform,
                service,
                Objective::Latency(slo::percentile_objective(latency), latency.threshold.millis),
            ));
        }
    }
    rules
}

/// An objective the burn-rate alerts watch.
#[derive(Clone, Copy)]
pub enum Objective {
    Availability(Percent),
    /// The share of requests at or under a threshold in milliseconds.
    Latency(Percent, u64),
}

impl Objective {
    pub fn target(self) -> Percent {
        match self {
            Self::Availability(p) | Self::Latency(p, _) => p,
        }
    }

    pub fn alert(self) -> &'static str {
        match self {
            Self::Availability(_) => runbooks::AVAILABILITY.alert,
            Self::Latency(..) => runbooks::LATENCY.alert,
        }
    }

    fn record(self, window: &str) -> String {
        match self {
            Self::Availability(_) => slo::error_ratio_record(window),
            Self::Latency(..) => slo::slow_ratio_record(window),
        }
    }

    fn slo_label(self) -> &'static str {
        match self {
            Self::Availability(_) => "availability",
            Self::Latency(..) => "latency",
        }
    }

    /// What the objective promises, in words.
    fn promise(self) -> String {
        match self {
            Self::Availability(p) => format!(
                "{}% of requests succeed",
                slo::decimal(u64::from(p.thousandths), 3)
            ),
            Self::Latency(p, millis) => format!(
                "{}% of requests complete within {millis}ms",
                slo::decimal(u64::from(p.thousandths), 3)
            ),
        }
    }
}

/// The labels of a service's alerts, besides `severity`.
fn alert_labels(service: &Service, objective: Objective) -> Vec<(&'static str, String)> {
    vec![
        ("namespace", service.namespace.clone()),
        ("service", service.name.value.clone()),
        ("slo", objective.slo_label().to_owned()),
    ]
}

/// The condition of one tier: the ratio over both windows above `factor × budget`.
/// `recorded` is the service's selector (`slo::recorded`).
fn tier_condition(recorded: &str, objective: Objective, tier: &Tier) -> String {
    let threshold = slo::burn_threshold(tier, objective.target());
    format!(
        "({long}{{{recorded}}} > {threshold} and {short}{{{recorded}}} > {threshold})",
        long = objective.record(tier.long),
        short = objective.record(tier.short),
    )
}

/// The two alerts of an objective: `critical` on the page tiers, `warning` on the ticket
/// tiers.
fn burn_alerts(platform: &Platform, service: &Service, objective: Objective) -> Vec<Rule> {
    let budget = slo::decimal(u64::from(slo::budget(objective.target())), 3);
    let recorded = slo::recorded(service);
    [Severity::Critical, Severity::Warning]
        .into_iter()
        .map(|severity| {
            let tiers: Vec<&Tier> = slo::TIERS
                .iter()
                .filter(|t| t.severity == severity)
                .collect();
            let expr = tiers
                .iter()
                .map(|t| tier_condition(&recorded, objective, t))
                .collect::<Vec<_>>()
                .join(" or ");
            let (pace, windows) = match severity {
                Severity::Critical => ("fast", "2% of the 30-day budget in an hour or 5% in six hours"),
                Severity::Warning => ("steadily", "10% of the 30-day budget in a day or all of it within 30 days"),
            };
            Alert {
                name: objective.alert(),
                expr,
                for_: None,
                severity,
                labels: alert_labels(service, objective),
                summary: format!(
                    "{} is burning its {} error budget {pace}",
                    service.name.value,
                    objective.slo_label()
                ),
                description: format!(
                    "The SLO of {} in {} promises that {} over 30 days (an error budget of {budget}%). At the current rate it spends {windows}.",
                    service.name.value,
                    service.namespace,
                    objective.promise(),
                ),
                runbook: match objective {
                    Objective::Availability(_) => &runbooks::AVAILABILITY,
                    Objective::Latency(..) => &runbooks::LATENCY,
                },
            }
            .rule(platform)
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// The platform

/// The platform's workload and node alerts, in the stack's namespace.
/// The platform's `PrometheusRule` and, with `files`, its rules file and their tests.
fn platform_items(platform: &Platform, origin: Span, rules: Vec<Rule>, files: bool) -> Vec<Item> {
    let groups = Groups {
        groups: vec![
            Group {
                name: format!("platc.{}.records", platform.name.value),
                rules: platform_records(),
            },
            Group {
                name: format!("platc.{}.workloads", platform.name.value),
                rules,
            },
        ],
    };
    let (stack, _) = addons::prometheus();
    let name = format!("{}-workloads", platform.name.value);
    let mut labels = common_labels(platform);
    labels.extend(monitor_labels());
    let mut items = Vec::new();
    if files {
        items.push(Item::yaml(
            "monitoring/prometheus/rules/platform.yaml".into(),
            Owner::Platform,
            origin,
            serde_json::to_value(&groups).unwrap_or_default(),
        ));
        items.push(Item::yaml(
            "monitoring/prometheus/tests/platform.yaml".into(),
            Owner::Platform,
            origin,
            super::rule_tests::platform(platform, &groups),
        ));
    }
    items.push(Item::resource(
        format!("monitoring/platform/prometheusrule-{name}.yaml"),
        Owner::Platform,
        origin,
        Resource {
            api_version: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(name),
                namespace: Some(stack.namespace.to_string()),
                labels: Some(labels),
                annotations: Some(origin_annotation(platform, origin)),
                ..Default::default()
            },
            spec: groups,
        },
    ));
    items
}

/// A regex of the platform's namespaces.
pub fn namespace_regex(platform: &Platform) -> String {
    namespaces(platform)
        .into_keys()
        .collect::<Vec<_>>()
        .join("|")
}

fn platform_alerts(platform: &Platform) -> Vec<Rule> {
    let ns = namespace_regex(platform);
    let name = &platform.name.value;
    // A workload's pods, by the ReplicaSets its Deployment or Argo Rollout owns: what it wants
    // and what is ready, summed over its ReplicaSets (a rollout's old and new).
    let owned = |metric: &str| {
        format!(
            "sum by (namespace, owner_name) ({metric}{{namespace=~\"{ns}\"}} * on (namespace, replicaset) group_left (owner_name) kube_replicaset_owner{{namespace=~\"{ns}\",owner_kind=~\"Deployment|Rollout\"}})"
        )
    };
    let mut alerts = vec![
        Alert {
            name: runbooks::UNAVAILABLE.alert,
            // A StatefulSet (a `stateful` service) owns its pods itself.
            expr: format!(
                "({} > 0 unless on (namespace, owner_name) {} > 0) or sum by (namespace, owner_name) (label_replace(kube_statefulset_replicas{{namespace=~\"{ns}\"}} > 0 unless on (namespace, statefulset) kube_statefulset_status_replicas_ready{{namespace=~\"{ns}\"}} > 0, \"owner_name\", \"$1\", \"statefulset\", \"(.+)\"))",
                owned("kube_replicaset_spec_replicas"),
                owned("kube_replicaset_status_ready_replicas"),
            ),
            for_: Some("5m"),
            severity: Severity::Critical,
            labels: Vec::new(),
            summary: format!("A service of {name} has no ready pod"),
            description: "A Deployment, Rollout or StatefulSet has wanted pods for 5 minutes and none is ready: its Service has no endpoint and every call to it fails, while its own SLO alerts see no request.".into(),
            runbook: &runbooks::UNAVAILABLE,
        },
        Alert {
            name: runbooks::CRASH_LOOPING.alert,
            expr: format!(
                "max_over_time(kube_pod_container_status_waiting_reason{{namespace=~\"{ns}\",reason=\"CrashLoopBackOff\"}}[5m]) >= 1"
            ),
            for_: Some("15m"),
            severity: Severity::Warning,
            labels: Vec::new(),
            summary: format!("A container of {name} is crash-looping"),
            description: "A container has been waiting in CrashLoopBackOff for 15 minutes: it starts and exits again.".into(),
            runbook: &runbooks::CRASH_LOOPING,
        },
        Alert {
            name: runbooks::NOT_READY.alert,
            expr: format!(
                "sum by (namespace, pod) (kube_pod_status_ready{{namespace=~\"{ns}\",condition=\"false\"}}) > 0 unless on (namespace, pod) (kube_pod_status_phase{{namespace=~\"{ns}\",phase=\"Succeeded\"}} == 1)"
            ),
            for_: Some("15m"),
            severity: Severity::Warning,
            labels: Vec::new(),
            summary: format!("A pod of {name} has not been ready for 15 minutes"),
            description: "A pod has been not ready for 15 minutes: its Service sends it no traffic, and the service runs below its intended capacity.".into(),
            runbook: &runbooks::NOT_READY,
        },
        Alert {
            name: runbooks::MEMORY.alert,
            expr: format!(
                "max by (namespace, pod, container) (container_memory_working_set_bytes{{namespace=~\"{ns}\",container!=\"\",image!=\"\"}}) / on (namespace, pod, container) max by (namespace, pod, container) (kube_pod_container_resource_limits{{namespace=~\"{ns}\",resource=\"memory\"}}) > 0.9"
            ),
            for_: Some("15m"),
            severity: Severity::Warning,
            labels: Vec::new(),
            summary: format!("A container of {name} is near its memory limit"),
            description: "A container's working set has been above 90% of its memory limit for 15 minutes: past the limit the kernel kills it (OOMKilled).".into(),
            runbook: &runbooks::MEMORY,
        },
        Alert {
            name: runbooks::NODE_PRESSURE.alert,
            expr: "max by (node, condition) (kube_node_status_condition{condition=~\"MemoryPressure|DiskPressure|PIDPressure\",status=\"true\"}) == 1".into(),
            for_: Some("5m"),
            severity: Severity::Warning,
            labels: Vec::new(),
            summary: "A node of the cluster is under resource pressure".into(),
            description: "The kubelet reports memory, disk or PID pressure on a node for 5 minutes: it evicts pods and admits no new ones.".into(),
            runbook: &runbooks::NODE_PRESSURE,
        },
    ];
    alerts.extend(certificate_alerts(platform));
    if platform.services.iter().any(|s| s.autoscale.is_some()) {
        // After the pods' alerts.
        let at = alerts
            .iter()
            .position(|a| a.name == runbooks::NOT_READY.alert)
            .map_or(alerts.len(), |i| i + 1);
        alerts.insert(
            at,
            Alert {
                name: runbooks::AUTOSCALER_AT_MAX.alert,
                expr: format!(
                    "kube_horizontalpodautoscaler_status_current_replicas{{namespace=~\"{ns}\"}} >= kube_horizontalpodautoscaler_spec_max_replicas{{namespace=~\"{ns}\"}} and kube_horizontalpodautoscaler_spec_max_replicas{{namespace=~\"{ns}\"}} > kube_horizontalpodautoscaler_spec_min_replicas{{namespace=~\"{ns}\"}}"
                ),
                for_: Some("15m"),
                severity: Severity::Warning,
                labels: Vec::new(),
                summary: format!("An autoscaler of {name} has run at its maximum for 15 minutes"),
                description: "A HorizontalPodAutoscaler has kept its workload at its maximum replica count for 15 minutes: the load may need more than it may scale to.".into(),
                runbook: &runbooks::AUTOSCALER_AT_MAX,
            },
        );
        alerts.insert(
            at + 1,
            Alert {
                name: runbooks::AUTOSCALER_NOT_ACTIVE.alert,
                expr: format!(
                    "max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_condition{{namespace=~\"{ns}\",condition=\"ScalingActive\",status=\"false\"}}) == 1"
                ),
                for_: Some("15m"),
                severity: Severity::Warning,
                labels: Vec::new(),
                summary: format!("An autoscaler of {name} cannot compute a replica count"),
                description: "A HorizontalPodAutoscaler has reported ScalingActive=False for 15 minutes, most often for want of its pods' CPU metrics: it keeps its workload at its current size, whatever the load.".into(),
                runbook: &runbooks::AUTOSCALER_NOT_ACTIVE,
            },
        );
    }
    alerts.into_iter().map(|a| a.rule(platform)).collect()
}

/// How many days before a gateway's certificate ends its renewal is overdue: cert-manager
/// renews `RENEW_BEFORE_DAYS` before, so this is 10 days of failed renewals.
pub const CERTIFICATE_OVERDUE_DAYS: u32 = RENEW_BEFORE_DAYS - 10;
/// How many days before a gateway's certificate ends its renewal pages a person: a week to
/// fix what three weeks of cert-manager's retries did not, before clients refuse the hosts.
pub const CERTIFICATE_URGENT_DAYS: u32 = 7;

/// The alerts on the gateways' certificates (cert-manager's metrics, which the platform's
/// `PodMonitor` scrapes, keeping each series' own `namespace`, the `Certificate`'s): one not
/// ready for 30 minutes, one whose renewal keeps failing (a warning, then a page in its last
/// week), and one not measured for an hour, without which the others could never fire.
fn certificate_alerts(platform: &Platform) -> Vec<Alert<'static>> {
    let names: Vec<String> = platform
        .mesh
        .iter()
        .flat_map(|mesh| &mesh.gateways)
        .filter(|gateway| gateway.terminates_tls())
        .map(credential_name)
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    let selector = format!(
        "namespace=\"{}\",name=~\"{}\"",
        gateway_namespace(),
        names.join("|")
    );
    let name = &platform.name.value;
    vec![
        Alert {
            name: runbooks::CERTIFICATE_NOT_READY.alert,
            expr: format!(
                "max by (namespace, name) (certmanager_certificate_ready_status{{{selector},condition!=\"True\"}}) == 1"
            ),
            for_: Some("30m"),
            severity: Severity::Critical,
            labels: Vec::new(),
            summary: format!("A gateway certificate of {name} is not ready"),
            description: "cert-manager has had no valid, up-to-date certificate for a gateway's hosts for 30 minutes: clients of the hosts get none, or one without the new hosts.".into(),
            runbook: &runbooks::CERTIFICATE_NOT_READY,
        },
        Alert {
            name: runbooks::CERTIFICATE_EXPIRING.alert,
            expr: format!(
                "min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds{{{selector}}} > 0) - time() < {CERTIFICATE_URGENT_DAYS} * 86400"
            ),
            for_: Some("1h"),
            severity: Severity::Critical,
            labels: Vec::new(),
            summary: format!("A gateway certificate of {name} ends within {CERTIFICATE_URGENT_DAYS} days"),
            description: format!(
                "cert-manager renews a gateway's certificate {RENEW_BEFORE_DAYS} days before it ends; this one ends within {CERTIFICATE_URGENT_DAYS} days, so its renewal has failed for {} days, and clients refuse the gateway's hosts when it ends.",
                RENEW_BEFORE_DAYS - CERTIFICATE_URGENT_DAYS
            ),
            runbook: &runbooks::CERTIFICATE_EXPIRING,
        },
        Alert {
            name: runbooks::CERTIFICATE_EXPIRING.alert,
            expr: format!(
                "min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds{{{selector}}} > 0) - time() < {CERTIFICATE_OVERDUE_DAYS} * 86400"
            ),
            for_: Some("1h"),
            severity: Severity::Warning,
            labels: Vec::new(),
            summary: format!("A gateway certificate of {name} ends within {CERTIFICATE_OVERDUE_DAYS} days"),
            description: format!(
                "cert-manager renews a gateway's certificate {RENEW_BEFORE_DAYS} days before it ends; this one ends within {CERTIFICATE_OVERDUE_DAYS} days, so its renewal has failed for {} days.",
                RENEW_BEFORE_DAYS - CERTIFICATE_OVERDUE_DAYS
            ),
            runbook: &runbooks::CERTIFICATE_EXPIRING,
        },
        Alert {
            name: runbooks::CERTIFICATE_UNMEASURED.alert,
            expr: names
                .iter()
                .map(|certificate| {
                    format!(
                        "absent(certmanager_certificate_expiration_timestamp_seconds{{namespace=\"{}\",name=\"{certificate}\"}})",
                        gateway_namespace()
                    )
                })
                .collect::<Vec<_>>()
                .join(" or "),
            for_: Some("1h"),
            severity: Severity::Warning,
            labels: Vec::new(),
            summary: format!("A gateway certificate of {name} is not measured"),
            description: "Prometheus has had no series of cert-manager's for a gateway's certificate for an hour: the alerts on its readiness and its end cannot fire.".into(),
            runbook: &runbooks::CERTIFICATE_UNMEASURED,
        },
    ]
}
