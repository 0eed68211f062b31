//! Alertmanager's configuration with `observability { alerts }`, in the kube-prometheus-stack
//! values: the whole file (the chart's default replaced, so nothing of it depends on the
//! chart), the volume of the receivers' secrets and the `SecretProviderClass` that fills it.
//!
//! Every alert goes to each receiver whose `severity` it reaches (`continue`); the chart's
//! `Watchdog` (which fires always, to prove the pipeline) and `InfoInhibitor` (which fires
//! while an info alert does) go to `null`, as does what no route takes. A critical alert
//! silences the warning of the same name and namespace, and a warning the info one (the
//! chart's inhibition rules, kept). Each receiver reads its URL or key from its file under the
//! volume the Secrets Store CSI driver fills from the `aws` secret, with Alertmanager's own Pod
//! Identity role: the value reaches no output.

use serde_json::{Value, json};

use crate::model::Platform;
use crate::model::addons;
use crate::model::mesh::{AlertSeverity, Alerts, NULL_RECEIVER, ReceiverKind};

/// Sets `alertmanager` (and, when a receiver reads a secret, `extraManifests`) in the stack's
/// values.
pub fn settings(platform: &Platform, region: &str, alerts: &Alerts, values: &mut Value) {
    values["alertmanager"] = json!({"config": config(platform, alerts)});
    // No receiver, no secret: no volume, no class (the driver is not installed for it).
    if addons::alert_secrets(platform).next().is_none() {
        return;
    }
    values["alertmanager"]["alertmanagerSpec"] = json!({
        "volumes": [{
            "name": addons::ALERTMANAGER_SECRETS_VOLUME,
            "csi": {
                "driver": addons::SECRETS_STORE_DRIVER,
                "readOnly": true,
                "volumeAttributes": {"secretProviderClass": addons::ALERTMANAGER_SECRET_CLASS},
            },
        }],
        "volumeMounts": [{
            "name": addons::ALERTMANAGER_SECRETS_VOLUME,
            "mountPath": addons::ALERTMANAGER_SECRETS_DIR,
            "readOnly": true,
        }],
        // The driver adds a file to a mounted volume only at its next rotation (within the
        // hour): a changed set of secrets changes the pod, which the operator rolls, and the
        // new pod mounts them all.
        "podMetadata": {"annotations": {
            addons::ALERTMANAGER_SECRETS_ANNOTATION: secrets_annotation(platform),
        }},
    });
    values["extraManifests"] = json!({
        addons::ALERTMANAGER_SECRET_CLASS: secret_class(platform, region, alerts),
    });
}

/// Alertmanager's configuration file.
fn config(platform: &Platform, alerts: &Alerts) -> Value {
    let source = platform.with_env(&platform.name.value);
    let file = |secret: &str| format!("{}/{secret}", addons::ALERTMANAGER_SECRETS_DIR);
    let mut routes = vec![
        json!({"receiver": NULL_RECEIVER, "matchers": ["alertname = \"Watchdog\""]}),
        json!({"receiver": NULL_RECEIVER, "matchers": ["alertname = \"InfoInhibitor\""]}),
    ];
    let mut receivers = vec![json!({"name": NULL_RECEIVER})];
    for receiver in &alerts.receivers {
        let name = &receiver.name.value;
        routes.push(json!({
            "receiver": name,
            "matchers": [severity_matcher(receiver.severity.value)],
            "continue": true,
        }));
        let secret = file(&receiver.secret.value);
        receivers.push(match receiver.kind {
            ReceiverKind::Slack => {
                let mut config = json!({
                    "api_url_file": secret,
                    "send_resolved": true,
                    // The platform and environment: several may share a channel.
                    "title": format!("{{{{ template \"slack.default.title\" . }}}} ({source})"),
                    "text": SLACK_TEXT,
                });
                if let Some(channel) = &receiver.channel {
                    config["channel"] = json!(channel.value);
                }
                json!({"name": name, "slack_configs": [config]})
            }
            ReceiverKind::PagerDuty => json!({"name": name, "pagerduty_configs": [{
                "routing_key_file": secret,
                "send_resolved": true,
                "client": format!("Alertmanager of {source}"),
                "severity": PAGERDUTY_SEVERITY,
            }]}),
        });
    }
    json!({
        "global": {"resolve_timeout": "5m"},
        "inhibit_rules": [
            {
                "source_matchers": ["severity = critical"],
                "target_matchers": ["severity =~ warning|info"],
                "equal": ["namespace", "alertname"],
            },
            {
                "source_matchers": ["severity = warning"],
                "target_matchers": ["severity = info"],
                "equal": ["namespace", "alertname"],
            },
            {
                "source_matchers": ["alertname = InfoInhibitor"],
                "target_matchers": ["severity = info"],
                "equal": ["namespace"],
            },
            {"target_matchers": ["alertname = InfoInhibitor"]},
        ],
        "route": {
            "receiver": NULL_RECEIVER,
            "group_by": ["namespace", "alertname"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "12h",
            "routes": routes,
        },
        "receivers": receivers,
        "templates": ["/etc/alertmanager/config/*.tmpl"],
    })
}

/// The route matcher of the alerts a receiver of this `severity` gets.
fn severity_matcher(severity: AlertSeverity) -> &'static str {
    match severity {
        AlertSeverity::Critical => "severity = \"critical\"",
        AlertSeverity::Warning => "severity =~ \"critical|warning\"",
    }
}

/// The Slack message: each alert's summary, description and runbook (every alert of platc's
/// and of the chart carries them as these annotations).
const SLACK_TEXT: &str = concat!(
    "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}",
    "{{ if .Annotations.runbook_url }}\nRunbook: {{ .Annotations.runbook_url }}{{ end }}\n",
    "{{ end }}"
);

/// The severity of a `PagerDuty` incident: the alert's own (`critical` or `warning`; the
/// default would be `error` for all).
const PAGERDUTY_SEVERITY: &str =
    "{{ if eq .CommonLabels.severity \"critical\" }}critical{{ else }}warning{{ end }}";

/// The `SecretProviderClass` of the receivers' secrets, in Alertmanager's namespace: the
/// chart installs it with the release (`extraManifests`), so it exists when the operator
/// starts Alertmanager's pod. Each secret's whole value is the file named after it.
fn secret_class(platform: &Platform, region: &str, alerts: &Alerts) -> Value {
    let objects: Vec<Value> = addons::alert_secrets(platform)
        .map(|secret| {
            json!({
                "objectName": secret.aws_name.value,
                "objectType": secret.source.value.object_type(),
                "objectAlias": secret.name.value,
            })
        })
        .collect();
    let meta = super::platform_meta(
        platform,
        addons::ALERTMANAGER_SECRET_CLASS,
        addons::MONITORING_NAMESPACE,
        alerts.span,
    );
    json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": meta,
        "spec": {
            "provider": addons::SECRETS_STORE_PROVIDER,
            "parameters": {
                "region": region,
                "usePodIdentity": "true",
                // A YAML document inside a string, as the provider reads it.
                "objects": crate::encode::yaml(&objects),
            },
        },
    })
}

/// The secrets Alertmanager's pod mounts, as its annotation names them:
/// `<file>=<source>:<name in AWS>`, comma-separated, in the class's order.
fn secrets_annotation(platform: &Platform) -> String {
    addons::alert_secrets(platform)
        .map(|s| {
            format!(
                "{}={}:{}",
                s.name.value,
                s.source.value.object_type(),
                s.aws_name.value
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}
