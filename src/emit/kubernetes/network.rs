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

use crate::emit::conventions::{
    EGRESS_GATEWAY_OBJECT, common_labels, egress_port, egress_workload, exposed_ports,
    headless_service as headless_service_name, meshed, meta, metrics_port, migration_job,
    migration_pod_labels, origin_annotation, peer_ports, via_egress,
};
use crate::model::Platform;
use crate::model::addons::{self, Addon, Workload};
use crate::model::service::{Port, Protocol, Service, Stateful, StoreKind};
use crate::model::value::Cidr;
use crate::span::Span;

/// A peer of a `NetworkPolicy` rule: the pods of an add-on's workload, as the add-on table pins
/// their namespace and labels.
fn addon_peer(addon: &Addon, workload: &Workload) -> NetworkPolicyPeer {
    peer(&addon.namespace, workload.labels)
}

/// The container port named `name` of an add-on's workload.
fn addon_port(workload: &Workload, name: &str) -> i32 {
    workload
        .ports
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0, |(_, p)| i32::from(*p))
}

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

/// The ports of a service's Services, named for Istio's protocol detection.
fn service_ports(service: &Service) -> Vec<ServicePort> {
    service
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
        .collect()
}

/// The selector of a service's Services: its pods, whichever workload runs them.
fn pod_selector(service: &Service) -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_owned(), service.name.value.clone())])
}

/// The headless Service a stateful service's `StatefulSet` names (`serviceName`): no virtual
/// IP, one DNS record per ready pod (`<name>-0.<name>-headless.<namespace>.svc.cluster.local`)
/// for clients and replicas that must reach one pod. Callers dial the service's normal
/// Service as any other; the mesh applies the same policies to both. With `peers`, the names of
/// pods not ready yet are published too.
pub fn headless_service(platform: &Platform, service: &Service, stateful: &Stateful) -> K8sService {
    K8sService {
        metadata: meta(
            platform,
            service,
            &headless_service_name(service),
            stateful.span,
        ),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some("None".into()),
            selector: Some(pod_selector(service)),
            ports: Some(service_ports(service)).filter(|p| !p.is_empty()),
            // Peers find each other by these names while they start: a member of a quorum is
            // ready only once it has joined the others.
            publish_not_ready_addresses: stateful.peers.as_ref().map(|_| true),
            ..ServiceSpec::default()
        }),
        ..K8sService::default()
    }
}

/// A `ClusterIP` Service (`LoadBalancer` only where the platform asks), or none for a service
/// without ports.
pub fn service(platform: &Platform, service: &Service) -> Option<K8sService> {
    if service.ports.is_empty() {
        return None;
    }
    let ports = service_ports(service);
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
            selector: Some(pod_selector(service)),
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
    let peers = peer_ports(service);
    if !peers.is_empty() {
        // The replicas of a clustered store, from each other, on the peer ports only.
        ingress.push(NetworkPolicyIngressRule {
            from: Some(vec![peer(&service.namespace, &[("app", name)])]),
            ports: Some(
                peers
                    .iter()
                    .map(|p| tcp(i32::from(p.container_port())))
                    .collect(),
            ),
        });
    }
    if !service.expose.is_empty() || service.load_balancer.is_some() {
        // The gateway reaches only the ports the `expose` lines route to.
        let exposed = exposed_ports(service);
        let ports: Vec<NetworkPolicyPort> = service
            .ports
            .iter()
            .filter(|p| {
                service.load_balancer.is_some()
                    || exposed.iter().any(|e| e.name.value == p.name.value)
            })
            .map(|p| tcp(i32::from(p.container_port())))
            .collect();
        let from = if service.load_balancer.is_some() {
            // A LoadBalancer Service brings traffic from outside the cluster.
            None
        } else {
            let gateway = &addons::INGRESS_GATEWAY;
            Some(vec![addon_peer(gateway, &gateway.workloads[0])])
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
        let (stack, _) = addons::prometheus();
        ingress.push(NetworkPolicyIngressRule {
            from: Some(vec![addon_peer(stack, stack.workload("prometheus"))]),
            ports: Some(vec![tcp(i32::from(addons::SIDECAR_METRICS_PORT))]),
        });
    }
    // Without a sidecar, Prometheus scrapes the application's metrics port itself.
    if platform.observability.prometheus.is_some()
        && !meshed(platform, service)
        && let Some((port, _)) = metrics_port(service)
    {
        let (stack, _) = addons::prometheus();
        ingress.push(NetworkPolicyIngressRule {
            from: Some(vec![addon_peer(stack, stack.workload("prometheus"))]),
            ports: Some(vec![tcp(i32::from(port.container_port()))]),
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

/// The `NetworkPolicy` of a migration Job's pods: nothing may reach them; they reach what the
/// service's pods reach (DNS, istiod, its callees, its stores, Pod Identity).
pub fn migration_policy(
    platform: &Platform,
    service: &Service,
    migrate: &crate::model::service::Container,
) -> NetworkPolicy {
    let name = migration_job(service, migrate);
    let labels = migration_pod_labels(platform, service);
    let select: Vec<(&str, &str)> = ["app.kubernetes.io/name", "app.kubernetes.io/component"]
        .iter()
        .filter_map(|k| labels.get(*k).map(|v| (*k, v.as_str())))
        .collect();
    NetworkPolicy {
        metadata: meta(platform, service, &name, migrate.span),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(&select)),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(Vec::new()),
            egress: Some(egress(platform, service)),
        }),
    }
}

fn egress(platform: &Platform, service: &Service) -> Vec<NetworkPolicyEgressRule> {
    // The VPC CNI's policy agent sees a connection to a Service's cluster IP before it is
    // translated, and admits it only where the rule's pod selector also selects the Service's
    // own selector: so each peer names an add-on workload by exactly the labels its Service
    // selects on.
    let dns = &addons::COREDNS;
    let dns_port = addon_port(&dns.workloads[0], "dns");
    let mut egress = vec![NetworkPolicyEgressRule {
        to: Some(vec![addon_peer(dns, &dns.workloads[0])]),
        ports: Some(vec![
            NetworkPolicyPort {
                port: Some(IntOrString::Int(dns_port)),
                protocol: Some("UDP".into()),
                ..NetworkPolicyPort::default()
            },
            tcp(addon_port(&dns.workloads[0], "dns-tcp")),
        ]),
    }];
    if platform.mesh.is_some() && service.sidecar_off.is_none() {
        // The sidecar fetches its configuration and certificates from istiod.
        let istiod = &addons::ISTIOD;
        egress.push(NetworkPolicyEgressRule {
            to: Some(vec![addon_peer(istiod, &istiod.workloads[0])]),
            ports: Some(vec![tcp(addon_port(&istiod.workloads[0], "tls-xds"))]),
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
    let peers = peer_ports(service);
    if !peers.is_empty() {
        egress.push(NetworkPolicyEgressRule {
            to: Some(vec![peer(
                &service.namespace,
                &[("app", &service.name.value)],
            )]),
            ports: Some(
                peers
                    .iter()
                    .map(|p| tcp(i32::from(p.container_port())))
                    .collect(),
            ),
        });
    }
    egress.extend(store_egress(platform, service));
    egress.extend(external_egress(platform, service));
    egress
}

/// The address ranges no outside host is in: private (RFC 1918), shared (RFC 6598, which EKS
/// custom networking uses for pods), link-local (the instance metadata service) and loopback.
const NOT_OUTSIDE: &[([u8; 4], u8)] = &[
    ([10, 0, 0, 0], 8),
    ([100, 64, 0, 0], 10),
    ([127, 0, 0, 0], 8),
    ([169, 254, 0, 0], 16),
    ([172, 16, 0, 0], 12),
    ([192, 168, 0, 0], 16),
];

/// `calls-external`: a `NetworkPolicy` matches addresses, never DNS names, so the rule admits
/// the ports of the outside hosts on every public address (the VPC and the private ranges
/// excepted); the mesh's `ServiceEntry` and `Sidecar` narrow the calls to the declared hosts.
fn external_egress(platform: &Platform, service: &Service) -> Vec<NetworkPolicyEgressRule> {
    if via_egress(platform, service) {
        // Through the egress gateway: the pod reaches the gateway's pods, never the outside.
        let mut ports: Vec<i32> = service
            .externals
            .iter()
            .map(|e| i32::from(egress_port(e)))
            .collect();
        if ports.is_empty() {
            return Vec::new();
        }
        ports.sort_unstable();
        ports.dedup();
        let gateway = &addons::EGRESS_GATEWAY;
        return vec![NetworkPolicyEgressRule {
            to: Some(vec![addon_peer(gateway, egress_workload())]),
            ports: Some(ports.into_iter().map(tcp).collect()),
        }];
    }
    let ports: Vec<i32> = service
        .externals
        .iter()
        .map(|e| i32::from(e.port.value))
        .collect();
    outside(platform, ports)
}

/// Egress to every public address on `ports`: a `NetworkPolicy` matches addresses, never DNS
/// names.
fn outside(platform: &Platform, mut ports: Vec<i32>) -> Vec<NetworkPolicyEgressRule> {
    if ports.is_empty() {
        return Vec::new();
    }
    ports.sort_unstable();
    ports.dedup();
    let mut except: Vec<Cidr> = NOT_OUTSIDE
        .iter()
        .map(|&(octets, prefix)| Cidr {
            address: u32::from_be_bytes(octets),
            prefix,
        })
        .collect();
    if let Some(aws) = &platform.aws {
        let vpc = aws.vpc.cidr.value;
        if !except.iter().any(|range| range.contains(vpc)) {
            except.push(vpc);
        }
    }
    let except = except.iter().map(ToString::to_string).collect();
    vec![NetworkPolicyEgressRule {
        to: Some(vec![NetworkPolicyPeer {
            ip_block: Some(IPBlock {
                cidr: "0.0.0.0/0".into(),
                except: Some(except),
            }),
            ..NetworkPolicyPeer::default()
        }]),
        ports: Some(ports.into_iter().map(tcp).collect()),
    }]
}

/// The egress gateway's pods (`mesh { egress-gateway }`): in from the declared callers of the
/// outside hosts on the gateway ports they use (and from Prometheus on the metrics port), out to DNS, istiod and every public address on
/// the hosts' ports. None when no call leaves through it.
pub fn egress_gateway_policy(platform: &Platform, origin: Span) -> Option<NetworkPolicy> {
    let gateway = &addons::EGRESS_GATEWAY;
    let mut ingress = Vec::new();
    let mut outside_ports = Vec::new();
    for service in platform.services.iter().filter(|s| via_egress(platform, s)) {
        let mut ports: Vec<i32> = service
            .externals
            .iter()
            .map(|e| i32::from(egress_port(e)))
            .collect();
        if ports.is_empty() {
            continue;
        }
        ports.sort_unstable();
        ports.dedup();
        outside_ports.extend(service.externals.iter().map(|e| i32::from(e.port.value)));
        ingress.push(NetworkPolicyIngressRule {
            from: Some(vec![peer(
                &service.namespace,
                &[("app", &service.name.value)],
            )]),
            ports: Some(ports.into_iter().map(tcp).collect()),
        });
    }
    if ingress.is_empty() {
        return None;
    }
    // Prometheus scrapes the gateway's Envoy (its `PodMonitor`).
    if platform.observability.prometheus.is_some() {
        let (stack, _) = addons::prometheus();
        ingress.push(NetworkPolicyIngressRule {
            from: Some(vec![addon_peer(stack, stack.workload("prometheus"))]),
            ports: Some(vec![tcp(i32::from(addons::SIDECAR_METRICS_PORT))]),
        });
    }
    let dns = &addons::COREDNS;
    let istiod = &addons::ISTIOD;
    let mut egress = vec![
        NetworkPolicyEgressRule {
            to: Some(vec![addon_peer(dns, &dns.workloads[0])]),
            ports: Some(vec![
                NetworkPolicyPort {
                    port: Some(IntOrString::Int(addon_port(&dns.workloads[0], "dns"))),
                    protocol: Some("UDP".into()),
                    ..NetworkPolicyPort::default()
                },
                tcp(addon_port(&dns.workloads[0], "dns-tcp")),
            ]),
        },
        NetworkPolicyEgressRule {
            to: Some(vec![addon_peer(istiod, &istiod.workloads[0])]),
            ports: Some(vec![tcp(addon_port(&istiod.workloads[0], "tls-xds"))]),
        },
    ];
    egress.extend(outside(platform, outside_ports));
    let labels = egress_workload();
    Some(NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(EGRESS_GATEWAY_OBJECT.into()),
            namespace: Some(gateway.namespace.to_string()),
            labels: Some(common_labels(platform)),
            annotations: Some(origin_annotation(platform, origin)),
            ..ObjectMeta::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(labels.labels)),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(ingress),
            egress: Some(egress),
        }),
    })
}

/// Data stores live outside the cluster: databases in the VPC's private subnets, S3 and
/// `DynamoDB` behind the interface endpoints there (a gateway endpoint would leave them on public
/// addresses no rule can name), and the credentials of the service's AWS role come from the
/// EKS Pod Identity agent on the node's link-local address. A file system is mounted by the
/// node's CSI driver, not by the pod.
fn store_egress(platform: &Platform, service: &Service) -> Vec<NetworkPolicyEgressRule> {
    let Some(aws) = &platform.aws else {
        return Vec::new();
    };
    let mut ports: Vec<i32> = Vec::new();
    let mut aws_api = false;
    for used in service
        .uses
        .iter()
        .filter(|u| u.kind.value.reached_by_pod())
    {
        match used.kind.value {
            StoreKind::Database => {
                if let Some(db) = aws
                    .databases
                    .iter()
                    .find(|d| d.name.value == used.name.value)
                {
                    ports.push(i32::from(db.engine.value.port()));
                    aws_api = true;
                }
            }
            StoreKind::Cache => {
                ports.push(i32::from(crate::model::aws::CACHE_PORT));
                aws_api = true;
            }
            // IAM authentication signs with the pod's Pod Identity credentials.
            StoreKind::Docdb => {
                ports.push(i32::from(crate::model::aws::DOCDB_PORT));
                aws_api = true;
            }
            // S3, DynamoDB, SQS and SNS through their interface endpoints.
            StoreKind::Bucket | StoreKind::Table | StoreKind::Queue | StoreKind::Topic => {
                ports.push(443);
                aws_api = true;
            }
            // The node's drivers mount file systems and fetch secrets: the pod calls no AWS API
            // (`StoreKind::reached_by_pod`, filtered out above).
            StoreKind::Filesystem | StoreKind::Secret => {}
        }
    }
    ports.sort_unstable();
    ports.dedup();
    let mut rules = Vec::new();
    if !ports.is_empty() {
        rules.push(NetworkPolicyEgressRule {
            to: Some(
                crate::model::aws::private_subnets(aws)
                    .into_iter()
                    .map(|cidr| NetworkPolicyPeer {
                        ip_block: Some(IPBlock {
                            cidr: cidr.to_string(),
                            except: None,
                        }),
                        ..NetworkPolicyPeer::default()
                    })
                    .collect(),
            ),
            ports: Some(ports.into_iter().map(tcp).collect()),
        });
    }
    if aws_api {
        let (address, port) = addons::POD_IDENTITY_ADDRESS;
        rules.push(NetworkPolicyEgressRule {
            to: Some(vec![NetworkPolicyPeer {
                ip_block: Some(IPBlock {
                    cidr: format!("{address}/32"),
                    except: None,
                }),
                ..NetworkPolicyPeer::default()
            }]),
            ports: Some(vec![tcp(i32::from(port))]),
        });
    }
    rules
}
