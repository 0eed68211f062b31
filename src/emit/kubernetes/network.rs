//! The Service of a workload and the `NetworkPolicies` around it: deny by default in every
//! namespace, then ingress only from declared callers (and the ingress gateway for exposed
//! services) and egress only to declared callees, DNS and the mesh's control plane.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service as K8sService, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::emit::kubernetes::{common_labels, meta, origin_annotation};
use crate::model::Platform;
use crate::model::aws::Engine;
use crate::model::service::{Port, Protocol, Service, StoreKind};
use crate::span::Span;

/// Where Istio's control plane and ingress gateway run.
pub const ISTIO_NAMESPACE: &str = "istio-system";
/// Where the Prometheus of kube-prometheus-stack runs.
pub const MONITORING_NAMESPACE: &str = "monitoring";
/// Istio's merged Prometheus endpoint on every sidecar.
const ISTIO_METRICS_PORT: i32 = 15020;

/// The Service port name Istio reads the protocol from: `<protocol>` or `<protocol>-<name>`.
pub fn istio_port_name(port: &Port) -> String {
    let prefix = port.protocol.value.as_str();
    let name = &port.name.value;
    if name == prefix || name.starts_with(&format!("{prefix}-")) {
        name.clone()
    } else {
        format!("{prefix}-{name}")
    }
}

/// A `ClusterIP` Service (`LoadBalancer` only where the platform asks), or none for a service
/// without ports.
pub fn service(platform: &Platform, service: &Service) -> Option<K8sService> {
    if service.ports.is_empty() {
        return None;
    }
    let ports = service
        .ports
        .iter()
        .map(|p| ServicePort {
            name: Some(istio_port_name(p)),
            port: i32::from(p.number.value),
            target_port: Some(IntOrString::Int(i32::from(p.container_port()))),
            protocol: Some("TCP".into()),
            app_protocol: Some(
                match p.protocol.value {
                    Protocol::Grpc => "grpc",
                    Protocol::Http => "http",
                    Protocol::Http2 => "http2",
                    Protocol::Tcp => "tcp",
                }
                .into(),
            ),
            ..ServicePort::default()
        })
        .collect();
    let mut metadata = meta(platform, service, &service.name.value, service.span);
    if let Some(reason) = &service.load_balancer {
        let annotations = metadata.annotations.get_or_insert_with(BTreeMap::new);
        annotations.insert(
            "platc.dev/load-balancer-reason".into(),
            reason.value.clone(),
        );
    }
    Some(K8sService {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some(
                if service.load_balancer.is_some() {
                    "LoadBalancer"
                } else {
                    "ClusterIP"
                }
                .into(),
            ),
            selector: Some(BTreeMap::from([(
                "app".to_owned(),
                service.name.value.clone(),
            )])),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        ..K8sService::default()
    })
}

/// `default-deny` of a namespace: no traffic in or out unless another policy allows it.
pub fn default_deny(platform: &Platform, namespace: &str, origin: Span) -> NetworkPolicy {
    NetworkPolicy {
        metadata: ObjectMeta {
            name: Some("default-deny".into()),
            namespace: Some(namespace.to_owned()),
            labels: Some(common_labels(platform)),
            annotations: Some(origin_annotation(platform, origin)),
            ..ObjectMeta::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ..NetworkPolicySpec::default()
        }),
    }
}

fn selector(labels: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        ..LabelSelector::default()
    }
}

/// Pods labelled `app=<app>` in namespace `namespace`.
fn peer(namespace: &str, pods: &[(&str, &str)]) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(selector(&[("kubernetes.io/metadata.name", namespace)])),
        pod_selector: Some(selector(pods)),
        ..NetworkPolicyPeer::default()
    }
}

fn tcp(port: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(port)),
        protocol: Some("TCP".into()),
        ..NetworkPolicyPort::default()
    }
}

/// The allow-list of one service.
pub fn policy(platform: &Platform, service: &Service) -> NetworkPolicy {
    let name = service.name.value.as_str();
    let mut ingress = Vec::new();
    for (caller, call) in platform.callers(name) {
        {
            let port = call
                .port
                .as_ref()
                .and_then(|p| service.port(&p.value))
                .or_else(|| service.ports.first());
            let Some(port) = port else { continue };
            ingress.push(NetworkPolicyIngressRule {
                from: Some(vec![peer(
                    &caller.namespace,
                    &[("app", &caller.name.value)],
                )]),
                ports: Some(vec![tcp(i32::from(port.container_port()))]),
            });
        }
    }
    if service.expose.is_some() || service.load_balancer.is_some() {
        let ports: Vec<NetworkPolicyPort> = service
            .ports
            .iter()
            .filter(|p| p.protocol.value.is_http() || service.load_balancer.is_some())
            .map(|p| tcp(i32::from(p.container_port())))
            .collect();
        let from = if service.load_balancer.is_some() {
            // A LoadBalancer Service brings traffic from outside the cluster.
            None
        } else {
            Some(vec![peer(ISTIO_NAMESPACE, &[("istio", "ingressgateway")])])
        };
        ingress.push(NetworkPolicyIngressRule {
            from,
            ports: Some(ports),
        });
    }
    if platform.mesh.is_some()
        && platform.observability.prometheus.is_some()
        && service.sidecar_off.is_none()
    {
        ingress.push(NetworkPolicyIngressRule {
            from: Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(selector(&[(
                    "kubernetes.io/metadata.name",
                    MONITORING_NAMESPACE,
                )])),
                ..NetworkPolicyPeer::default()
            }]),
            ports: Some(vec![tcp(ISTIO_METRICS_PORT)]),
        });
    }
    let egress = egress(platform, service);
    NetworkPolicy {
        metadata: meta(platform, service, name, service.span),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(&[("app", name)])),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(ingress),
            egress: Some(egress),
        }),
    }
}

fn egress(platform: &Platform, service: &Service) -> Vec<NetworkPolicyEgressRule> {
    let mut egress = vec![NetworkPolicyEgressRule {
        to: Some(vec![peer("kube-system", &[("k8s-app", "kube-dns")])]),
        ports: Some(vec![
            NetworkPolicyPort {
                port: Some(IntOrString::Int(53)),
                protocol: Some("UDP".into()),
                ..NetworkPolicyPort::default()
            },
            tcp(53),
        ]),
    }];
    if platform.mesh.is_some() && service.sidecar_off.is_none() {
        // The sidecar fetches its configuration and certificates from istiod.
        egress.push(NetworkPolicyEgressRule {
            to: Some(vec![peer(ISTIO_NAMESPACE, &[("app", "istiod")])]),
            ports: Some(vec![tcp(15012)]),
        });
    }
    for call in &service.calls {
        let Some(callee) = platform.service(&call.service.value) else {
            continue;
        };
        let port = call
            .port
            .as_ref()
            .and_then(|p| callee.port(&p.value))
            .or_else(|| callee.ports.first());
        let Some(port) = port else { continue };
        egress.push(NetworkPolicyEgressRule {
            to: Some(vec![peer(
                &callee.namespace,
                &[("app", &callee.name.value)],
            )]),
            ports: Some(vec![tcp(i32::from(port.container_port()))]),
        });
    }
    egress.extend(store_egress(platform, service));
    egress
}

/// Data stores live outside the cluster: databases in the VPC's private subnets, buckets and
/// tables behind AWS's HTTPS endpoints.
fn store_egress(platform: &Platform, service: &Service) -> Vec<NetworkPolicyEgressRule> {
    let Some(aws) = &platform.aws else {
        return Vec::new();
    };
    let mut database_ports: Vec<i32> = Vec::new();
    let mut https = false;
    for used in &service.uses {
        match used.kind.value {
            StoreKind::Database => {
                if let Some(db) = aws
                    .databases
                    .iter()
                    .find(|d| d.name.value == used.name.value)
                {
                    database_ports.push(match db.engine.value {
                        Engine::Postgres => 5432,
                        Engine::Mysql => 3306,
                    });
                }
            }
            StoreKind::Filesystem => database_ports.push(2049),
            StoreKind::Bucket | StoreKind::Table => https = true,
        }
    }
    database_ports.sort_unstable();
    database_ports.dedup();
    let mut rules = Vec::new();
    if !database_ports.is_empty() {
        rules.push(NetworkPolicyEgressRule {
            to: Some(vec![NetworkPolicyPeer {
                ip_block: Some(IPBlock {
                    cidr: aws.vpc.cidr.value.to_string(),
                    except: None,
                }),
                ..NetworkPolicyPeer::default()
            }]),
            ports: Some(database_ports.into_iter().map(tcp).collect()),
        });
    }
    if https || !service.uses.is_empty() {
        // AWS APIs (S3, DynamoDB, STS for IRSA) answer on public HTTPS endpoints.
        rules.push(NetworkPolicyEgressRule {
            to: Some(vec![NetworkPolicyPeer {
                ip_block: Some(IPBlock {
                    cidr: "0.0.0.0/0".into(),
                    except: None,
                }),
                ..NetworkPolicyPeer::default()
            }]),
            ports: Some(vec![tcp(443)]),
        });
    }
    rules
}
