//! The settings platc gives each add-on it installs, beside the pins of the add-on table:
//! one definition for the Terraform cluster stage (which installs them) and for
//! `out/helm/addons/` (for users who install them with Helm or Argo CD).

use serde_json::{Value, json};

use crate::model::Platform;
use crate::model::addons::{self, Addon};
use crate::model::mesh::ArgoSource;

/// What the settings need beyond the platform: the values only the first Terraform stage
/// knows, as the caller can give them.
pub struct AddonInputs<'a> {
    pub platform: &'a Platform,
    /// The add-ons the platform installs.
    pub addons: &'a [Addon],
    /// The EKS cluster's name (a Terraform reference, or the name itself).
    pub cluster_name: Value,
    /// The VPC's id: a Terraform reference, or `None` where it is not known yet (the key is
    /// then left out, and the caller says so).
    pub vpc_id: Option<Value>,
}

/// pilot-agent's setting (an env var of the proxy, from `proxyMetadata`) that ends a stopping
/// proxy's drain once no connection is open, after its minimum of 5 s.
pub const EXIT_ON_ZERO_ACTIVE_CONNECTIONS: &str = "EXIT_ON_ZERO_ACTIVE_CONNECTIONS";

/// A gateway's `PodDisruptionBudget` (the chart makes none by default): a node drain (the
/// Cluster Autoscaler's scale-down, a node group's update) evicts its pods one at a time, and
/// never the last one; both of its two pods on one node would otherwise go at once.
fn gateway_disruption_budget() -> Value {
    json!({"minAvailable": 1})
}

/// The values of an add-on's release other than its pins (`Addon::values` adds those): the
/// Terraform cluster stage and `out/helm/addons/` both write them. Empty without an `aws`
/// block with a cluster, where platc installs no add-on.
pub fn addon_settings(inputs: &AddonInputs, addon: &Addon) -> Value {
    let p = inputs.platform;
    let (Some(aws), Some(cluster)) = (
        p.aws.as_ref(),
        p.aws.as_ref().and_then(|a| a.cluster.as_ref()),
    ) else {
        return json!({});
    };
    let region = &aws.region.value;
    let installed = |id: &str| inputs.addons.iter().any(|a| a.id == id);
    match addon.id {
        "istio_ingressgateway" if installed(addons::LOAD_BALANCER_CONTROLLER.id) => {
            // An internet-facing NLB that sends to the gateway pods' IPs: TLS ends at the
            // gateway, with the certificate cert-manager keeps in its namespace. A stopping
            // pod drains for as long as the NLB may still send it new connections
            // (`addons::GATEWAY_DRAIN_SECONDS`); its namespace's readiness gates (the
            // Terraform stage labels it) keep the old pods of a rollout until the new ones'
            // targets are healthy.
            let drain = format!("{}s", addons::GATEWAY_DRAIN_SECONDS);
            // Its whole drain, not the mesh's exit once no connection is open: the NLB may
            // still open new ones.
            let proxy = json!({
                "drainDuration": drain,
                "terminationDrainDuration": drain,
                "proxyMetadata": {EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "false"},
            });
            let pods: serde_json::Map<String, Value> = addon
                .workloads
                .iter()
                .flat_map(|w| w.labels)
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect();
            let spread = |key: &str| {
                json!({
                    "maxSkew": 1,
                    "topologyKey": key,
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": pods},
                })
            };
            json!({
                "service": {"annotations": {
                    "service.beta.kubernetes.io/aws-load-balancer-type": "external",
                    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                    // Each zone's node of the NLB sends to every healthy pod, not only to
                    // those of its zone (off by default): a zone without a gateway pod, which
                    // two pods in three zones always leave, keeps serving.
                    "service.beta.kubernetes.io/aws-load-balancer-attributes":
                        "load_balancing.cross_zone.enabled=true",
                }},
                // Merged over the chart's own pod annotations (its `zzz_profile.yaml`).
                "podAnnotations": {"proxy.istio.io/config": proxy.to_string()},
                "terminationGracePeriodSeconds": addons::GATEWAY_GRACE_SECONDS,
                "podDisruptionBudget": gateway_disruption_budget(),
                // A rollout makes every new pod at once, so it waits for the NLB's health
                // checks once (a minute or more per wave, through the readiness gates), well
                // within the release's timeout, and removes no old pod before a new one
                // takes traffic.
                "strategy": {"rollingUpdate": {"maxSurge": "100%", "maxUnavailable": 0}},
                // On other nodes and zones where the scheduler can: a node's or a zone's loss
                // takes one pod. Soft, so a pod is never left pending for it.
                "topologySpreadConstraints": [
                    spread("topology.kubernetes.io/zone"),
                    spread("kubernetes.io/hostname"),
                ],
            })
        }
        // The ingress gateway is here only without the load balancer controller, which an
        // `aws` cluster with a gateway always installs: kept so that it never loses its budget.
        "istio_ingressgateway" | "istio_egressgateway" => {
            json!({"podDisruptionBudget": gateway_disruption_budget()})
        }
        "istiod" => {
            // A stopping pod's proxy drains for Istio's 5 s and then stays while a connection
            // is open (`EXIT_ON_ZERO_ACTIVE_CONNECTIONS`, pilot-agent's `terminate`): a sidecar
            // outlives the application it carries, which gets its `SIGTERM` after a 5 s
            // pre-stop delay of its own and may finish its requests and calls after that.
            let mut values = json!({"meshConfig": {"defaultConfig": {"proxyMetadata": {
                EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true",
            }}}});
            // The gateway's JWT rules match request paths; Istio's default normalization
            // keeps `//` (`/api//admin/x` would miss `/api/admin/*` and reach it through
            // `/api/`), so merge slashes first, as Istio's security guidance asks of
            // path-based policies.
            let jwt_routes = p.mesh.as_ref().is_some_and(|m| {
                !m.jwts.is_empty()
                    && p.services
                        .iter()
                        .any(|s| s.expose.iter().any(|e| e.jwt.is_some()))
            });
            if jwt_routes {
                values["meshConfig"]["pathNormalization"] =
                    json!({"normalization": "MERGE_SLASHES"});
            }
            values
        }
        "aws_load_balancer_controller" => {
            let mut values = json!({
                "clusterName": inputs.cluster_name.clone(),
                // Nodes allow one IMDS hop: the controller cannot look these up itself.
                "region": region,
                // Off in a private cluster (no endpoints for them), and unused by an NLB.
                "enableShield": false,
                "enableWaf": false,
                "enableWafv2": false,
            });
            if let Some(vpc_id) = &inputs.vpc_id {
                values["vpcId"] = vpc_id.clone();
            }
            values
        }
        "cluster_autoscaler" => json!({
            "autoDiscovery": {"clusterName": inputs.cluster_name.clone()},
            "awsRegion": region,
            "image": {"tag": addons::cluster_autoscaler_image(&cluster.version.value).unwrap_or_default()},
            "extraArgs": {
                // Node groups span the zones alike: keep them the same size.
                "balance-similar-node-groups": true,
                "expander": "least-waste",
            },
        }),
        "external_dns" => {
            let zone = aws.domain.as_ref().map_or_else(String::new, |d| {
                d.zone
                    .as_ref()
                    .map_or_else(|| d.name.value.clone(), |z| z.value.clone())
            });
            json!({
                "provider": {"name": "aws"},
                "sources": ["istio-gateway"],
                "domainFilters": [zone],
                "extraArgs": ["--aws-zone-type=public"],
                // Records it created and the Gateway no longer names are deleted; records of
                // others (other owners' TXT) are never touched.
                "policy": "sync",
                "registry": "txt",
                "txtOwnerId": p.aws_prefix(),
                "env": [{"name": "AWS_DEFAULT_REGION", "value": region}],
            })
        }
        "kube_prometheus_stack" => {
            // The selectors are pinned (`addons::MONITOR_LABELS`).
            let mut spec = json!({});
            if let Some(prometheus) = &p.observability.prometheus {
                spec["retention"] = json!(prometheus.retention.value.text);
                spec["scrapeInterval"] = json!(prometheus.scrape_interval.value.text);
            }
            // Its history on an EBS volume of its own (`addons::MONITORING_STORAGE_CLASS`).
            if installed(addons::EBS_CSI.id) {
                spec["retentionSize"] = json!(addons::PROMETHEUS_RETENTION_SIZE);
                spec["storageSpec"] = json!({"volumeClaimTemplate": {"spec": {
                    "storageClassName": addons::MONITORING_STORAGE_CLASS,
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": addons::PROMETHEUS_VOLUME}},
                }}});
            }
            // EKS runs the controller manager, the scheduler and etcd out of the cluster's
            // reach, and its kube-proxy serves metrics on the node's loopback alone
            // (127.0.0.1:10249): the chart's monitors of them find no target, and their
            // `Kube…Down` and `TargetDown` alerts would fire from the first minute. Off, the
            // chart also drops those components' rules (`templates/prometheus/rules-1.14/`).
            let unreachable = json!({"enabled": false});
            let mut values = json!({
                "prometheus": {"prometheusSpec": spec},
                "grafana": {"enabled": p.observability.grafana.is_some()},
                "kubeControllerManager": unreachable,
                "kubeScheduler": unreachable,
                "kubeEtcd": unreachable,
                "kubeProxy": unreachable,
            });
            if let Some(alerts) = &p.observability.alerts {
                super::alertmanager::settings(p, region, alerts, &mut values);
            }
            values
        }
        "kiali" => {
            // Kiali's built-in defaults name Services in istio-system that do not exist.
            let mut services = json!({"tracing": {"enabled": false}});
            if p.observability.prometheus.is_some() || p.observability.grafana.is_some() {
                let (stack, prometheus) = addons::prometheus();
                services["prometheus"] = json!({"url": stack.url(prometheus, "http-web")});
            }
            services["grafana"] = if p.observability.grafana.is_some() {
                let (stack, grafana) = addons::grafana();
                json!({
                    "enabled": true,
                    "internal_url": stack.url(grafana, "http-web"),
                    // The stack's Prometheus datasource, which platc's dashboards use too.
                    "datasource_uid": addons::PROMETHEUS_DATASOURCE_UID,
                })
            } else {
                json!({"enabled": false})
            };
            // The platform's namespaces, listed: Kiali shows these (and its own, istio-system).
            let namespaces: Vec<&str> = crate::emit::conventions::namespaces(p)
                .into_keys()
                .collect();
            json!({
                "external_services": services,
                "deployment": {"discovery_selectors": {"default": [{"matchExpressions": [{
                    "key": "kubernetes.io/metadata.name",
                    "operator": "In",
                    "values": namespaces,
                }]}]}},
            })
        }
        "argo_cd" => p.delivery.argocd.as_ref().map_or_else(
            || json!({}),
            |argocd| match (&argocd.source.value, &argocd.plugin_image) {
                (ArgoSource::Plugin, Some(image)) => plugin_values(&image.value),
                _ => json!({}),
            },
        ),
        _ => json!({}),
    }
}

/// The argo-cd chart's values that run platc's config management plugin beside the
/// repo-server: `deploy/argocd/values.yaml`, the one definition users of another Argo CD
/// install take too, with the sidecar's image.
fn plugin_values(image: &str) -> Value {
    // The file is part of the binary and tests/cmp.rs reads it as YAML: it always parses.
    let mut values: Value =
        serde_yaml::from_str(include_str!("../../../deploy/argocd/values.yaml"))
            .unwrap_or_default();
    if let Some(container) = values.pointer_mut("/repoServer/extraContainers/0") {
        container["image"] = json!(image);
    }
    values
}
