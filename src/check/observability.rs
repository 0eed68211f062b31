//! Service level objectives and canary gates that can be measured as written: a service with
//! an `slo` has requests its own sidecar reports to a Prometheus, every objective leaves a
//! budget the burn-rate alerts can watch (`emit::conventions::slo`), and every latency a gate
//! compares with is a bound its sidecar's histogram can have. And `alerts` has what it sends:
//! Prometheus, a cluster to run Alertmanager on, and the secrets its receivers read.

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind, Inexpressible, Unmeasured, suggest};
use crate::emit::conventions::slo;
use crate::model::Platform;
use crate::model::service::Latency;
use crate::model::service::StoreKind;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    alerts(platform, d);
    for service in &platform.services {
        // Prometheus scrapes one metrics endpoint per pod (the sidecar merges it into its own).
        for extra in service
            .ports
            .iter()
            .filter_map(|p| p.metrics.as_ref())
            .skip(1)
        {
            d.error(
                ErrorKind::InvalidValue {
                    value: extra.value.clone(),
                    expected: vec!["`metrics=` on one port of a service"],
                    suggestion: None,
                },
                extra.span,
            );
        }
        if let Some(objective) = &service.slo {
            let why = if !service.ports.iter().any(|p| p.protocol.value.is_http()) {
                Some(Unmeasured::NoHttpPort)
            } else if platform.mesh.is_none() || service.sidecar_off.is_some() {
                Some(Unmeasured::NoSidecar)
            } else if platform.observability.prometheus.is_none() {
                Some(Unmeasured::NoPrometheus)
            } else {
                None
            };
            if let Some(why) = why {
                d.error(
                    ErrorKind::SloUnmeasured {
                        service: service.name.value.clone(),
                        why,
                    },
                    objective.span,
                );
            }
            if let Some(availability) = &objective.availability
                && !slo::expressible(availability.value)
            {
                let budget = slo::budget(availability.value);
                d.error(
                    ErrorKind::SloNotExpressible {
                        what: format!(
                            "an availability of {}%",
                            slo::decimal(u64::from(availability.value.thousandths), 3)
                        ),
                        why: if budget == 0 {
                            Inexpressible::NoBudget
                        } else {
                            Inexpressible::WideBudget
                        },
                    },
                    availability.span,
                );
            }
            if let Some(latency) = &objective.latency
                && !slo::expressible(slo::percentile_objective(latency))
            {
                d.error(
                    ErrorKind::SloNotExpressible {
                        what: format!("an SLO on p{} latency", latency.percentile),
                        why: Inexpressible::LowPercentile,
                    },
                    latency.span,
                );
            }
            if let Some(latency) = &objective.latency {
                threshold(latency, "an SLO", d);
            }
        }
        if let Some(canary) = &service.canary
            && let Some(gate) = &canary.gate
        {
            if let Some(latency) = &gate.latency {
                threshold(latency, "a gate", d);
            }
            if let Some(interval) = canary
                .interval
                .as_ref()
                .filter(|i| i.value.millis < slo::GATE_MIN_INTERVAL_MS)
            {
                d.error(
                    ErrorKind::SloNotExpressible {
                        what: format!("a gate on steps every {}", interval.value.text),
                        why: Inexpressible::ShortInterval,
                    },
                    interval.span,
                );
            }
        }
    }
}

/// A threshold is a bound of the sidecar's latency histogram: a whole number of milliseconds,
/// at least one.
fn threshold(latency: &Latency, of: &str, d: &mut Diagnostics) {
    if latency.threshold.millis == 0 {
        d.error(
            ErrorKind::SloNotExpressible {
                what: format!("{of} latency of 0ms"),
                why: Inexpressible::ZeroLatency,
            },
            latency.span,
        );
    }
}

/// `alerts`: Alertmanager sends what Prometheus fires, so it needs `prometheus`; platc
/// configures the Alertmanager its cluster stage installs, so it needs an `aws` cluster; and
/// each receiver reads its URL or key from a secret `aws` declares.
fn alerts(platform: &Platform, d: &mut Diagnostics) {
    let Some(alerts) = &platform.observability.alerts else {
        return;
    };
    if platform.observability.prometheus.is_none() {
        d.push(
            Diagnostic::new(
                ErrorKind::MissingNode {
                    parent: "observability".into(),
                    node: "prometheus",
                },
                platform.observability.name_span,
            )
            .with_label(alerts.span, "Alertmanager sends what Prometheus fires"),
        );
    }
    // Where the cluster is missing: in `aws`, or `aws` itself in the platform.
    let missing = match &platform.aws {
        Some(aws) if aws.cluster.is_none() => Some(("aws", "cluster", aws.name_span)),
        None => Some(("platform", "aws", platform.name.span)),
        Some(_) => None,
    };
    if let Some((parent, node, span)) = missing {
        d.push(
            Diagnostic::new(
                ErrorKind::MissingNode {
                    parent: parent.into(),
                    node,
                },
                span,
            )
            .with_label(
                alerts.span,
                "Alertmanager runs on the cluster platc installs it on",
            ),
        );
    }
    let secrets = super::references::store_names(platform, StoreKind::Secret);
    for receiver in &alerts.receivers {
        if !secrets.contains(&receiver.secret.value.as_str()) {
            d.error(
                ErrorKind::UnknownStore {
                    kind: "secret",
                    name: receiver.secret.value.clone(),
                    suggestion: suggest(&receiver.secret.value, secrets.iter().copied()),
                },
                receiver.secret.span,
            );
        }
    }
}
