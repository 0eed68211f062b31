//! The add-ons platc installs on the cluster, and its contract with each: what the add-on
//! creates that platc's own objects point at (`ServiceAccount`s, pod labels, Services and their
//! ports), and the chart values that pin each of those, so that nothing depends on a chart's
//! default.
//!
//! This table is the one source of every such reference: the principals of
//! `AuthorizationPolicy`s, the selectors of `NetworkPolicy` peers and of the ingress `Gateway`,
//! the addresses of Prometheus and Grafana, the `ServiceAccount`s of Pod Identity associations,
//! and the values of the Helm releases that install the add-ons all read it. The closure test
//! (`tests/closure.rs`) resolves every reference of every built tree against it, and checks that
//! each pin below is in the values of the emitted release.
//!
//! Chart facts (names, labels, value paths) were read from each chart's templates at the
//! pinned version; the comment on each entry says where.

use std::borrow::Cow;

use crate::model::Platform;

/// Requests of a container, in millicores and MiB: the capacity check counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requests {
    pub cpu_millis: u32,
    pub memory_mib: u32,
}

impl Requests {
    pub const fn new(cpu_millis: u32, memory_mib: u32) -> Self {
        Self {
            cpu_millis,
            memory_mib,
        }
    }

    /// `{"requests": {"cpu": "100m", "memory": "128Mi"}}`, as charts take `resources`.
    pub fn resources(self) -> serde_json::Value {
        serde_json::json!({"requests": {
            "cpu": format!("{}m", self.cpu_millis),
            "memory": format!("{}Mi", self.memory_mib),
        }})
    }
}

/// How an add-on is installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A Helm chart, installed by the Terraform cluster stage.
    Helm {
        repository: &'static str,
        chart: &'static str,
        version: &'static str,
    },
    /// An EKS managed add-on, installed with the cluster.
    Eks { name: &'static str },
    /// Part of every Kubernetes cluster, or of the mesh itself (the sidecar).
    Builtin,
}

/// Whether a workload runs a set number of pods or one per node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Replicas(u32),
    PerNode,
}

/// A workload of an add-on that platc's objects point at or that takes capacity.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    pub name: &'static str,
    pub service_account: &'static str,
    /// Labels its pods carry (those platc selects on; charts add more).
    pub labels: &'static [(&'static str, &'static str)],
    /// `(name, containerPort)` platc's objects connect to.
    pub ports: &'static [(&'static str, u16)],
    pub scale: Scale,
    /// What its pods request, pinned in the values (the capacity check counts it).
    pub requests: Requests,
}

/// A Service of an add-on: `(name, port, targetPort)` for each port platc uses.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    pub name: &'static str,
    pub selector: &'static [(&'static str, &'static str)],
    pub ports: &'static [(&'static str, u16, u16)],
}

impl Endpoint {
    /// The port numbered `name`.
    pub fn port(&self, name: &str) -> u16 {
        self.ports
            .iter()
            .find(|(n, _, _)| *n == name)
            .map_or(0, |(_, p, _)| *p)
    }
}

/// A chart value platc sets so that a name above does not depend on the chart's default: a
/// path into the values (dotted, or a JSON Pointer where a key holds dots), and what it holds.
#[derive(Clone, Copy, Debug)]
pub enum Pin {
    Text(&'static str, &'static str),
    Number(&'static str, i64),
    Flag(&'static str, bool),
    Labels(&'static str, &'static [(&'static str, &'static str)]),
    Requests(&'static str, Requests),
    /// A Service's port list: `(name, port, targetPort)`, all TCP.
    Ports(&'static str, &'static [(&'static str, u16, u16)]),
}

impl Pin {
    pub fn path(&self) -> &'static str {
        match self {
            Self::Text(p, _)
            | Self::Number(p, _)
            | Self::Flag(p, _)
            | Self::Labels(p, _)
            | Self::Requests(p, _)
            | Self::Ports(p, _) => p,
        }
    }

    /// The value as JSON.
    pub fn value(&self) -> serde_json::Value {
        match self {
            Self::Text(_, v) => serde_json::Value::from(*v),
            Self::Number(_, v) => serde_json::Value::from(*v),
            Self::Flag(_, v) => serde_json::Value::from(*v),
            Self::Labels(_, labels) => serde_json::Value::Object(
                labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
                    .collect(),
            ),
            Self::Requests(_, r) => r.resources(),
            Self::Ports(_, ports) => serde_json::Value::Array(
                ports
                    .iter()
                    .map(|(name, port, target)| {
                        serde_json::json!({
                            "name": name, "port": port, "protocol": "TCP", "targetPort": target,
                        })
                    })
                    .collect(),
            ),
        }
    }
}

/// One add-on: how it is installed, where, and what platc relies on it creating.
#[derive(Clone, Debug)]
pub struct Addon {
    /// Its Terraform name (`helm_release.<id>`, `aws_eks_addon.<id>`).
    pub id: &'static str,
    pub source: Source,
    /// The Helm release (or EKS add-on) name.
    pub release: &'static str,
    pub namespace: Cow<'static, str>,
    pub workloads: &'static [Workload],
    pub services: &'static [Endpoint],
    pub pins: &'static [Pin],
}

impl Addon {
    /// The workload of this name.
    pub fn workload(&self, name: &str) -> &'static Workload {
        self.workloads
            .iter()
            .find(|w| w.name == name)
            .unwrap_or(&self.workloads[0])
    }

    /// The SPIFFE principal of a workload's `ServiceAccount`.
    pub fn principal(&self, workload: &Workload) -> String {
        format!(
            "cluster.local/ns/{}/sa/{}",
            self.namespace, workload.service_account
        )
    }

    /// `http://<service>.<namespace>.svc.cluster.local:<port>` of a Service port.
    pub fn url(&self, service: &Endpoint, port: &str) -> String {
        format!(
            "http://{}.{}.svc.cluster.local:{}",
            service.name,
            self.namespace,
            service.port(port)
        )
    }

    /// `values` with every pin set on top: the Helm values of the release.
    pub fn values(&self, mut values: serde_json::Value) -> serde_json::Value {
        for pin in self.pins {
            set(&mut values, pin.path(), pin.value());
        }
        values
    }
}

/// The keys of a path into the values: a JSON Pointer (`/configs/cm/a.b`, `~1` for `/` and
/// `~0` for `~` in a key) when it starts with `/`, else a dotted path (`server.resources`).
fn keys(path: &str) -> Vec<String> {
    match path.strip_prefix('/') {
        Some(pointer) => pointer
            .split('/')
            .map(|key| key.replace("~1", "/").replace("~0", "~"))
            .collect(),
        None => path.split('.').map(str::to_owned).collect(),
    }
}

/// Sets a path (`keys`) in a JSON object, creating objects on the way.
pub fn set(root: &mut serde_json::Value, path: &str, value: serde_json::Value) {
    let mut here = root;
    for key in keys(path) {
        if !here.is_object() {
            *here = serde_json::Value::Object(serde_json::Map::new());
        }
        here = here
            .as_object_mut()
            .expect("made an object above")
            .entry(key)
            .or_insert(serde_json::Value::Null);
    }
    *here = value;
}

/// The value at a path (`keys`), if any.
pub fn get<'a>(root: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    keys(path)
        .iter()
        .try_fold(root, |here, key| here.get(key.as_str()))
}

// ------------------------------------------------------------------------------------------------
// The cluster itself

/// `CoreDNS`, as EKS runs it (`kube-dns` in `kube-system`, pods labelled `k8s-app: kube-dns`):
/// every pod's DNS.
pub const COREDNS: Addon = Addon {
    id: "coredns",
    source: Source::Eks { name: "coredns" },
    release: "coredns",
    namespace: Cow::Borrowed("kube-system"),
    workloads: &[Workload {
        name: "coredns",
        service_account: "coredns",
        labels: &[("k8s-app", "kube-dns")],
        ports: &[("dns", 53), ("dns-tcp", 53)],
        scale: Scale::Replicas(2),
        requests: Requests::new(100, 70),
    }],
    services: &[Endpoint {
        name: "kube-dns",
        selector: &[("k8s-app", "kube-dns")],
        ports: &[("dns", 53, 53), ("dns-tcp", 53, 53)],
    }],
    pins: &[],
};

/// The EKS Pod Identity agent: a host-network `DaemonSet` that answers pods at a link-local
/// address (`AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials`).
pub const POD_IDENTITY_AGENT: Addon = Addon {
    id: "eks_pod_identity_agent",
    source: Source::Eks {
        name: "eks-pod-identity-agent",
    },
    release: "eks-pod-identity-agent",
    namespace: Cow::Borrowed("kube-system"),
    workloads: &[],
    services: &[],
    pins: &[],
};

/// Where pods reach the Pod Identity agent (EKS user guide, "EKS Pod Identity" considerations).
pub const POD_IDENTITY_ADDRESS: (&str, u16) = ("169.254.170.23", 80);

// ------------------------------------------------------------------------------------------------
// Istio 1.27.1 (istio/istio at tag 1.27.1, manifests/charts/{base,istio-cni,istio-control/
// istio-discovery,gateway}). Istio 1.27 supports Kubernetes 1.29 to 1.33 (`check::versions`).

/// The Istio release every chart of the mesh is pinned to.
pub const ISTIO_VERSION: &str = "1.27.1";
const ISTIO_CHARTS: &str = "https://istio-release.storage.googleapis.com/charts";
/// Istio's root namespace: the control plane, the ingress gateway and mesh-wide policy.
pub const ISTIO_NAMESPACE: &str = "istio-system";

/// Istio's CRDs and cluster roles.
pub const ISTIO_BASE: Addon = Addon {
    id: "istio_base",
    source: Source::Helm {
        repository: ISTIO_CHARTS,
        chart: "base",
        version: ISTIO_VERSION,
    },
    release: "istio-base",
    namespace: Cow::Borrowed(ISTIO_NAMESPACE),
    workloads: &[],
    services: &[],
    pins: &[],
};

/// The CNI node agent (`DaemonSet istio-cni-node`, `ServiceAccount istio-cni`): it sets up each
/// pod's traffic redirection, so sidecar injection needs no privileged init container and the
/// service namespaces can enforce the `restricted` Pod Security Standard.
pub const ISTIO_CNI: Addon = Addon {
    id: "istio_cni",
    source: Source::Helm {
        repository: ISTIO_CHARTS,
        chart: "cni",
        version: ISTIO_VERSION,
    },
    release: "istio-cni",
    namespace: Cow::Borrowed(ISTIO_NAMESPACE),
    workloads: &[Workload {
        name: "istio-cni-node",
        service_account: "istio-cni",
        labels: &[("k8s-app", "istio-cni-node")],
        ports: &[],
        scale: Scale::PerNode,
        requests: Requests::new(100, 100),
    }],
    services: &[],
    pins: &[Pin::Requests("resources", Requests::new(100, 100))],
};

const ISTIOD_LABELS: &[(&str, &str)] = &[("app", "istiod"), ("istio", "pilot")];
/// What every injected sidecar requests (`global.proxy.resources`): the capacity check adds
/// it to each meshed pod.
pub const SIDECAR_REQUESTS: Requests = Requests::new(100, 128);
/// The sidecar's merged Prometheus endpoint (`global.proxy.statusPort`), which Prometheus
/// scrapes on every meshed pod.
pub const SIDECAR_METRICS_PORT: u16 = 15020;

/// The control plane (`Deployment`, `ServiceAccount` and Service `istiod`; pods labelled
/// `app: istiod, istio: pilot`). Sidecars fetch their configuration and certificates from it on
/// 15012.
pub const ISTIOD: Addon = Addon {
    id: "istiod",
    source: Source::Helm {
        repository: ISTIO_CHARTS,
        chart: "istiod",
        version: ISTIO_VERSION,
    },
    release: "istiod",
    namespace: Cow::Borrowed(ISTIO_NAMESPACE),
    workloads: &[Workload {
        name: "istiod",
        service_account: "istiod",
        labels: ISTIOD_LABELS,
        ports: &[
            ("grpc-xds", 15010),
            ("tls-xds", 15012),
            ("https-webhooks", 15017),
        ],
        scale: Scale::Replicas(3),
        requests: Requests::new(500, 2048),
    }],
    services: &[Endpoint {
        name: "istiod",
        selector: ISTIOD_LABELS,
        ports: &[
            ("grpc-xds", 15010, 15010),
            ("https-dns", 15012, 15012),
            ("https-webhook", 443, 15017),
            // The control plane's own metrics (`--monitoringAddr=:15014`).
            ("http-monitoring", 15014, 15014),
        ],
    }],
    pins: &[
        // The CNI agent redirects traffic: no istio-init container with NET_ADMIN, so pods
        // meet the `restricted` Pod Security Standard. The chart copies `pilot.*` to the top
        // level, and the injector reads `cni`: both are set.
        Pin::Flag("pilot.cni.enabled", true),
        Pin::Flag("cni.enabled", true),
        // An application starts once its sidecar can carry its first calls.
        Pin::Flag(
            "meshConfig.defaultConfig.holdApplicationUntilProxyStarts",
            true,
        ),
        Pin::Text("meshConfig.rootNamespace", ISTIO_NAMESPACE),
        // The sidecar serves an application's own metrics (`prometheus.io/*` annotations)
        // with its own on the status port: one target per pod, through no mTLS port.
        Pin::Flag("meshConfig.enablePrometheusMerge", true),
        Pin::Number("autoscaleMin", 2),
        Pin::Number("autoscaleMax", 3),
        Pin::Requests("resources", Requests::new(500, 2048)),
        Pin::Requests("global.proxy.resources", SIDECAR_REQUESTS),
        Pin::Number("global.proxy.statusPort", SIDECAR_METRICS_PORT as i64),
    ],
};

const GATEWAY_NAME: &str = "istio-ingressgateway";
/// Where the ingress gateway runs: its `Gateway` objects and the Secrets of their certificates
/// live there too.
pub const GATEWAY_NAMESPACE: &str = ISTIO_NAMESPACE;
const GATEWAY_LABELS: &[(&str, &str)] = &[("app", GATEWAY_NAME), ("istio", "ingressgateway")];
/// The gateway Service's ports: HTTP and HTTPS only. The chart's default also exposes the
/// status port (15021) on the load balancer, to the internet.
const GATEWAY_PORTS: &[(&str, u16, u16)] = &[("http2", 80, 80), ("https", 443, 443)];

/// The namespace label that has the AWS Load Balancer Controller's pod webhook
/// (`mpod.elbv2.k8s.aws`, its chart's `templates/webhook.yaml` at v3.5.0) give each new pod a
/// readiness gate per IP target group it is in: the pod is ready once the NLB reports its
/// target healthy, so a rolling update keeps the old pods until the new ones take traffic.
/// Without it a rollout of the ingress gateway ends with every target still `initial` in the
/// NLB (registration takes minutes) and the old ones draining: an outage.
pub const READINESS_GATE_LABEL: (&str, &str) =
    ("elbv2.k8s.aws/pod-readiness-gate-inject", "enabled");

/// How long, in seconds, an ingress gateway pod behind the NLB keeps taking new connections
/// once it is told to stop (its proxy's `drainDuration` and `terminationDrainDuration`; Istio's
/// are 45 and 5). An NLB goes on opening connections to a deregistered IP target for about two
/// minutes whatever its deregistration delay (aws-load-balancer-controller#2366 and #3270),
/// and up to three (istio#35964), and the proxy closes its listeners at the end of its drain:
/// after 5 s clients' new connections would be refused.
pub const GATEWAY_DRAIN_SECONDS: u32 = 180;

/// The ingress gateway pods' `terminationGracePeriodSeconds`: the drain, and time for the
/// proxy's last requests, before the kubelet kills it.
pub const GATEWAY_GRACE_SECONDS: u32 = GATEWAY_DRAIN_SECONDS + 30;

/// The ingress gateway (chart `gateway` as release `istio-ingressgateway`: `Deployment`,
/// `ServiceAccount` and Service of that name, pods labelled `app: istio-ingressgateway,
/// istio: ingressgateway`). It binds 80 and 443 itself (the chart sets
/// `net.ipv4.ip_unprivileged_port_start=0`).
pub const INGRESS_GATEWAY: Addon = Addon {
    id: "istio_ingressgateway",
    source: Source::Helm {
        repository: ISTIO_CHARTS,
        chart: "gateway",
        version: ISTIO_VERSION,
    },
    release: GATEWAY_NAME,
    namespace: Cow::Borrowed(GATEWAY_NAMESPACE),
    workloads: &[Workload {
        name: GATEWAY_NAME,
        service_account: GATEWAY_NAME,
        labels: GATEWAY_LABELS,
        ports: &[("http2", 80), ("https", 443), ("status-port", 15021)],
        scale: Scale::Replicas(5),
        requests: Requests::new(100, 128),
    }],
    services: &[Endpoint {
        name: GATEWAY_NAME,
        selector: GATEWAY_LABELS,
        ports: GATEWAY_PORTS,
    }],
    pins: &[
        Pin::Text("name", GATEWAY_NAME),
        Pin::Flag("serviceAccount.create", true),
        Pin::Text("serviceAccount.name", GATEWAY_NAME),
        Pin::Labels("labels", GATEWAY_LABELS),
        Pin::Text("service.type", "LoadBalancer"),
        Pin::Ports("service.ports", GATEWAY_PORTS),
        Pin::Flag("autoscaling.enabled", true),
        Pin::Number("autoscaling.minReplicas", 2),
        Pin::Number("autoscaling.maxReplicas", 5),
        Pin::Requests("resources", Requests::new(100, 128)),
    ],
};

const EGRESS_GATEWAY_NAME: &str = "istio-egressgateway";
const EGRESS_GATEWAY_LABELS: &[(&str, &str)] =
    &[("app", EGRESS_GATEWAY_NAME), ("istio", "egressgateway")];
/// The egress gateway Service's ports, inside the cluster only: TLS streams (and HTTP, each in
/// the mesh's mTLS) from the sidecars. `(name, port, targetPort)`.
pub const EGRESS_GATEWAY_PORTS: &[(&str, u16, u16)] = &[("http2", 80, 80), ("https", 443, 443)];

/// The egress gateway (`mesh { egress-gateway }`): the same chart as the ingress gateway, as
/// release `istio-egressgateway` behind a `ClusterIP` Service: `Deployment`, `ServiceAccount`
/// and Service of that name, pods labelled `app: istio-egressgateway, istio: egressgateway`,
/// in the gateways' namespace.
pub const EGRESS_GATEWAY: Addon = Addon {
    id: "istio_egressgateway",
    source: Source::Helm {
        repository: ISTIO_CHARTS,
        chart: "gateway",
        version: ISTIO_VERSION,
    },
    release: EGRESS_GATEWAY_NAME,
    namespace: Cow::Borrowed(GATEWAY_NAMESPACE),
    workloads: &[Workload {
        name: EGRESS_GATEWAY_NAME,
        service_account: EGRESS_GATEWAY_NAME,
        labels: EGRESS_GATEWAY_LABELS,
        ports: &[("http2", 80), ("https", 443), ("status-port", 15021)],
        scale: Scale::Replicas(3),
        requests: Requests::new(100, 128),
    }],
    services: &[Endpoint {
        name: EGRESS_GATEWAY_NAME,
        selector: EGRESS_GATEWAY_LABELS,
        ports: EGRESS_GATEWAY_PORTS,
    }],
    pins: &[
        Pin::Text("name", EGRESS_GATEWAY_NAME),
        Pin::Flag("serviceAccount.create", true),
        Pin::Text("serviceAccount.name", EGRESS_GATEWAY_NAME),
        Pin::Labels("labels", EGRESS_GATEWAY_LABELS),
        Pin::Text("service.type", "ClusterIP"),
        Pin::Ports("service.ports", EGRESS_GATEWAY_PORTS),
        Pin::Flag("autoscaling.enabled", true),
        Pin::Number("autoscaling.minReplicas", 2),
        Pin::Number("autoscaling.maxReplicas", 3),
        Pin::Requests("resources", Requests::new(100, 128)),
    ],
};

// ------------------------------------------------------------------------------------------------
// cert-manager v1.19.6 (cert-manager/cert-manager deploy/charts/cert-manager): the controller's
// `ServiceAccount` is the release name unless `serviceAccount.name` says otherwise; its
// container serves its metrics on `http-metrics` (9402, plain HTTP, templates/deployment.yaml),
// whatever `prometheus.*` says.

/// cert-manager 1.19 at its June 2026 patch, which fixes GHSA-8rvj-mm4h-c258. The chart's
/// versions carry the `v`.
pub const CERT_MANAGER_VERSION: &str = "v1.19.6";
/// The controller's metrics port, by name: the certificates' readiness and expiry.
pub const CERT_MANAGER_METRICS_PORT: &str = "http-metrics";
const CERT_MANAGER_LABELS: &[(&str, &str)] = &[
    ("app.kubernetes.io/name", "cert-manager"),
    ("app.kubernetes.io/component", "controller"),
];

/// cert-manager: issues the gateways' certificates; its controller answers ACME DNS-01
/// challenges with the AWS role bound to its `ServiceAccount`.
pub const CERT_MANAGER: Addon = Addon {
    id: "cert_manager",
    source: Source::Helm {
        repository: "https://charts.jetstack.io",
        chart: "cert-manager",
        version: CERT_MANAGER_VERSION,
    },
    release: "cert-manager",
    namespace: Cow::Borrowed("cert-manager"),
    workloads: &[Workload {
        name: "cert-manager",
        service_account: "cert-manager",
        labels: CERT_MANAGER_LABELS,
        ports: &[(CERT_MANAGER_METRICS_PORT, 9402)],
        scale: Scale::Replicas(1),
        requests: Requests::new(50, 128),
    }],
    services: &[],
    pins: &[
        Pin::Flag("crds.enabled", true),
        Pin::Flag("serviceAccount.create", true),
        Pin::Text("serviceAccount.name", "cert-manager"),
        Pin::Requests("resources", Requests::new(50, 128)),
    ],
};

// ------------------------------------------------------------------------------------------------
// kube-prometheus-stack 77.6.2 (prometheus-community/helm-charts, tag kube-prometheus-stack-77.6.2;
// the Prometheus pods' labels are set by prometheus-operator v0.85.0, pkg/prometheus/server).

const PROMETHEUS_STACK_NAME: &str = "kube-prometheus-stack";
/// The namespace of Prometheus and Grafana.
pub const MONITORING_NAMESPACE: &str = "monitoring";
const PROMETHEUS_LABELS: &[(&str, &str)] = &[
    ("app.kubernetes.io/name", "prometheus"),
    (
        "operator.prometheus.io/name",
        "kube-prometheus-stack-prometheus",
    ),
];
const GRAFANA_LABELS: &[(&str, &str)] = &[
    ("app.kubernetes.io/name", "grafana"),
    ("app.kubernetes.io/instance", PROMETHEUS_STACK_NAME),
];

/// The labels that make the stack's Prometheus read a `ServiceMonitor`, `PodMonitor` or
/// `PrometheusRule`: its selectors are pinned to them (below), in every namespace. They are
/// the chart's own default (`release: <release name>`, on its own monitors and rules too),
/// written out so that nothing depends on it.
pub const MONITOR_LABELS: &[(&str, &str)] = &[("release", PROMETHEUS_STACK_NAME)];

/// The label the Grafana sidecar of the stack loads dashboards from: a `ConfigMap` carrying
/// it, in any namespace, is provisioned into Grafana.
pub const DASHBOARD_LABEL: (&str, &str) = ("grafana_dashboard", "1");

/// The annotation whose value names the Grafana folder of a dashboard's `ConfigMap` (the
/// sidecar writes the file into that subdirectory, and the provider makes one folder per
/// subdirectory).
pub const DASHBOARD_FOLDER_ANNOTATION: &str = "grafana_folder";

/// The uid of the Prometheus datasource the stack provisions in Grafana.
pub const PROMETHEUS_DATASOURCE_UID: &str = "prometheus";

/// The `StorageClass` of Prometheus' volume: encrypted gp3 EBS volumes through the EBS CSI
/// driver (an EKS add-on of the first stage), made by the Terraform cluster stage before the
/// stack. Without a volume the operator gives Prometheus an `emptyDir` (prometheus-operator
/// `pkg/prometheus/server/statefulset.go`): every reschedule would lose the history the SLO
/// alerts' 1d and 3d windows read, and the node's own disk would hold it.
pub const MONITORING_STORAGE_CLASS: &str = "platc-monitoring";
/// The size of Prometheus' volume.
pub const PROMETHEUS_VOLUME: &str = "50Gi";
/// The most Prometheus' blocks, WAL included, may take of its volume (`retentionSize`, in
/// units of 1024): past it the oldest blocks go before `retention` says, rather than the
/// volume filling up, which stops ingestion.
pub const PROMETHEUS_RETENTION_SIZE: &str = "40GB";

/// Prometheus (the operator's `Prometheus` named `kube-prometheus-stack-prometheus`, its Service
/// of that name on 9090) and Grafana (Service `kube-prometheus-stack-grafana` on 80 → 3000).
/// `fullnameOverride` pins every `<fullname>-…` name whatever the release is called.
pub const PROMETHEUS_STACK: Addon = Addon {
    id: "kube_prometheus_stack",
    source: Source::Helm {
        repository: "https://prometheus-community.github.io/helm-charts",
        chart: PROMETHEUS_STACK_NAME,
        version: "77.6.2",
    },
    release: PROMETHEUS_STACK_NAME,
    namespace: Cow::Borrowed(MONITORING_NAMESPACE),
    workloads: &[
        Workload {
            name: "prometheus",
            service_account: "kube-prometheus-stack-prometheus",
            labels: PROMETHEUS_LABELS,
            ports: &[("http-web", 9090)],
            scale: Scale::Replicas(1),
            requests: Requests::new(200, 1024),
        },
        Workload {
            name: "grafana",
            service_account: "kube-prometheus-stack-grafana",
            labels: GRAFANA_LABELS,
            ports: &[("grafana", 3000)],
            scale: Scale::Replicas(1),
            requests: Requests::new(100, 256),
        },
        Workload {
            name: "operator",
            service_account: "kube-prometheus-stack-operator",
            labels: &[("app", "kube-prometheus-stack-operator")],
            ports: &[],
            scale: Scale::Replicas(1),
            requests: Requests::new(50, 128),
        },
        // Alertmanager (the operator's `Alertmanager` named `kube-prometheus-stack-alertmanager`):
        // with `alerts`, its own Pod Identity role reads the receivers' secrets through the
        // Secrets Store CSI driver. Its container is pinned to 20m and 64 MiB; the operator's
        // config-reloader sidecar asks 10m and 50 MiB by default.
        Workload {
            name: "alertmanager",
            service_account: ALERTMANAGER_SERVICE_ACCOUNT,
            labels: &[("app.kubernetes.io/name", "alertmanager")],
            ports: &[],
            scale: Scale::Replicas(1),
            requests: Requests::new(30, 114),
        },
        Workload {
            name: "node-exporter",
            service_account: "kube-prometheus-stack-prometheus-node-exporter",
            labels: &[("app.kubernetes.io/name", "prometheus-node-exporter")],
            ports: &[],
            scale: Scale::PerNode,
            requests: Requests::new(20, 32),
        },
    ],
    services: &[
        Endpoint {
            name: "kube-prometheus-stack-prometheus",
            selector: PROMETHEUS_LABELS,
            ports: &[("http-web", 9090, 9090)],
        },
        Endpoint {
            name: "kube-prometheus-stack-grafana",
            selector: GRAFANA_LABELS,
            ports: &[("http-web", 80, 3000)],
        },
    ],
    pins: &[
        Pin::Text("fullnameOverride", PROMETHEUS_STACK_NAME),
        Pin::Number("prometheus.service.port", 9090),
        // A selector set in the values is rendered as it is, whatever
        // `*SelectorNilUsesHelmValues` says (templates/prometheus/prometheus.yaml); an empty
        // namespace selector is every namespace.
        Pin::Labels(
            "prometheus.prometheusSpec.serviceMonitorSelector.matchLabels",
            MONITOR_LABELS,
        ),
        Pin::Labels(
            "prometheus.prometheusSpec.podMonitorSelector.matchLabels",
            MONITOR_LABELS,
        ),
        Pin::Labels(
            "prometheus.prometheusSpec.ruleSelector.matchLabels",
            MONITOR_LABELS,
        ),
        Pin::Labels(
            "prometheus.prometheusSpec.serviceMonitorNamespaceSelector",
            &[],
        ),
        Pin::Labels("prometheus.prometheusSpec.podMonitorNamespaceSelector", &[]),
        Pin::Labels("prometheus.prometheusSpec.ruleNamespaceSelector", &[]),
        // Grafana's sidecar loads every dashboard ConfigMap so labelled, from any namespace,
        // into the folder its annotation names (grafana chart 9.4.5: `folderAnnotation`,
        // `provider.foldersFromFilesStructure`).
        Pin::Flag("grafana.sidecar.dashboards.enabled", true),
        Pin::Text("grafana.sidecar.dashboards.label", DASHBOARD_LABEL.0),
        Pin::Text("grafana.sidecar.dashboards.labelValue", DASHBOARD_LABEL.1),
        Pin::Text("grafana.sidecar.dashboards.searchNamespace", "ALL"),
        Pin::Text(
            "grafana.sidecar.dashboards.folderAnnotation",
            DASHBOARD_FOLDER_ANNOTATION,
        ),
        Pin::Flag(
            "grafana.sidecar.dashboards.provider.foldersFromFilesStructure",
            true,
        ),
        Pin::Text("grafana.sidecar.datasources.uid", PROMETHEUS_DATASOURCE_UID),
        Pin::Requests(
            "prometheus.prometheusSpec.resources",
            Requests::new(200, 1024),
        ),
        Pin::Text("grafana.fullnameOverride", "kube-prometheus-stack-grafana"),
        Pin::Number("grafana.service.port", 80),
        Pin::Requests("grafana.resources", Requests::new(100, 256)),
        Pin::Requests("prometheusOperator.resources", Requests::new(50, 128)),
        Pin::Requests("prometheus-node-exporter.resources", Requests::new(20, 32)),
        Pin::Text(
            "alertmanager.serviceAccount.name",
            ALERTMANAGER_SERVICE_ACCOUNT,
        ),
        Pin::Requests(
            "alertmanager.alertmanagerSpec.resources",
            Requests::new(20, 64),
        ),
    ],
};

/// The `ServiceAccount` of the stack's Alertmanager (the chart's `<fullname>-alertmanager`,
/// pinned): its Pod Identity role reads the receivers' secrets.
pub const ALERTMANAGER_SERVICE_ACCOUNT: &str = "kube-prometheus-stack-alertmanager";

/// The `SecretProviderClass` (in the monitoring namespace) through which Alertmanager reads
/// the receivers' secrets: `<reader>.<what>`, as a service's are (`aws::secret_class`).
pub const ALERTMANAGER_SECRET_CLASS: &str = "alertmanager.receivers";

/// The volume of Alertmanager's pod that the driver fills from that class.
pub const ALERTMANAGER_SECRETS_VOLUME: &str = "receiver-secrets";

/// The annotation of Alertmanager's pod that names the secrets of that class: a changed set
/// of secrets changes the pod, and the new pod mounts them all.
pub const ALERTMANAGER_SECRETS_ANNOTATION: &str = "platc.dev/receiver-secrets";

/// Where Alertmanager's container mounts that volume: each secret is the file named after
/// the `aws` secret, which its receiver's `*_file` setting names.
pub const ALERTMANAGER_SECRETS_DIR: &str = "/etc/alertmanager/platc";

/// The Prometheus Service of the stack.
pub fn prometheus() -> (&'static Addon, &'static Endpoint) {
    (&PROMETHEUS_STACK, &PROMETHEUS_STACK.services[0])
}

/// The Grafana Service of the stack.
pub fn grafana() -> (&'static Addon, &'static Endpoint) {
    (&PROMETHEUS_STACK, &PROMETHEUS_STACK.services[1])
}

// ------------------------------------------------------------------------------------------------
// Kiali: chart kiali-server 2.13.0 (kiali/helm-charts at v2.13.0): every object is named after
// `deployment.instance_name` and lives in the release namespace. Kiali's own defaults point at
// `prometheus.istio-system:9090` and `grafana.istio-system:3000`, which platc never creates, so
// both are set from the stack above.

/// The mesh console.
pub const KIALI: Addon = Addon {
    id: "kiali",
    source: Source::Helm {
        repository: "https://kiali.org/helm-charts",
        chart: "kiali-server",
        version: "2.13.0",
    },
    release: "kiali-server",
    namespace: Cow::Borrowed(ISTIO_NAMESPACE),
    workloads: &[Workload {
        name: "kiali",
        service_account: "kiali",
        labels: &[
            ("app.kubernetes.io/name", "kiali"),
            ("app.kubernetes.io/instance", "kiali"),
        ],
        ports: &[("api-port", 20001)],
        scale: Scale::Replicas(1),
        requests: Requests::new(10, 64),
    }],
    services: &[Endpoint {
        name: "kiali",
        selector: &[
            ("app.kubernetes.io/name", "kiali"),
            ("app.kubernetes.io/instance", "kiali"),
        ],
        ports: &[("http", 20001, 20001)],
    }],
    pins: &[
        Pin::Text("deployment.instance_name", "kiali"),
        Pin::Text("auth.strategy", "token"),
        Pin::Requests("deployment.resources", Requests::new(10, 64)),
    ],
};

// ------------------------------------------------------------------------------------------------
// Argo (argoproj/argo-helm): argo-cd 8.3.7 names everything `<fullname>-<component>`, where the
// fullname is `<release>-argocd` unless the release contains `argocd` or `fullnameOverride` is
// set; argo-rollouts 2.40.5 names its controller and `ServiceAccount` after the release.

const ARGO_CHARTS: &str = "https://argoproj.github.io/argo-helm";

const ARGO_CD_WORKLOADS: &[Workload] = &[
    Workload {
        name: "argocd-repo-server",
        service_account: "argocd-repo-server",
        labels: &[("app.kubernetes.io/name", "argocd-repo-server")],
        ports: &[("repo-server", 8081)],
        scale: Scale::Replicas(1),
        requests: Requests::new(100, 256),
    },
    Workload {
        name: "argocd-application-controller",
        service_account: "argocd-application-controller",
        labels: &[("app.kubernetes.io/name", "argocd-application-controller")],
        ports: &[],
        scale: Scale::Replicas(1),
        requests: Requests::new(250, 512),
    },
    Workload {
        name: "argocd-server",
        service_account: "argocd-server",
        labels: &[("app.kubernetes.io/name", "argocd-server")],
        ports: &[("server", 8080)],
        scale: Scale::Replicas(1),
        requests: Requests::new(50, 128),
    },
];

/// The health of an Argo CD `Application`, as Argo CD assessed it before 1.8: its own
/// `status.health`, and `Progressing` until it has one. Argo CD no longer assesses it by
/// default, so a wave of Applications in an app of apps (platc's root: the platform's
/// Application before the services') would not wait for the previous wave to be healthy. The
/// Lua is the one Argo CD's documentation gives for this (operator-manual/health.md, "Argocd
/// App"), set as `argocd-cm`'s `resource.customizations.health.argoproj.io_Application`
/// through the chart's `configs.cm`; but an Application annotated
/// `HOLDS_WAVES_ANNOTATION: "false"` (the edge's, whose health waits on Let's Encrypt) is
/// Healthy to its parent, so that no wave of the root, nor its prune after the last wave
/// (`PruneLast`), waits on it; its message names its own health, which its page and
/// `kubectl get` show unchanged: this Lua assesses it only as a resource of the root.
pub const ARGO_CD_APPLICATION_HEALTH: &str = r#"hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.metadata.annotations ~= nil and obj.metadata.annotations["platc.dev/holds-waves"] == "false" then
  hs.status = "Healthy"
  hs.message = "holds back no sync wave (platc.dev/holds-waves)"
  if obj.status ~= nil and obj.status.health ~= nil and obj.status.health.status ~= nil then
    hs.message = "its own health is " .. obj.status.health.status .. ", which holds back no sync wave (platc.dev/holds-waves)"
  end
  return hs
end
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
"#;

/// The annotation by which an Application's health holds back no sync wave of its parent
/// (`ARGO_CD_APPLICATION_HEALTH`), with the value `"false"`.
pub const HOLDS_WAVES_ANNOTATION: &str = "platc.dev/holds-waves";

const ARGO_CD_PINS: &[Pin] = &[
    Pin::Text("fullnameOverride", "argocd"),
    Pin::Text(
        "/configs/cm/resource.customizations.health.argoproj.io_Application",
        ARGO_CD_APPLICATION_HEALTH,
    ),
    Pin::Flag("dex.enabled", false),
    Pin::Flag("crds.install", true),
    Pin::Text("repoServer.serviceAccount.name", "argocd-repo-server"),
    Pin::Requests("repoServer.resources", Requests::new(100, 256)),
    Pin::Requests("controller.resources", Requests::new(250, 512)),
    Pin::Requests("server.resources", Requests::new(50, 128)),
];

/// Argo CD in `namespace`.
pub fn argo_cd(namespace: &str) -> Addon {
    Addon {
        id: "argo_cd",
        source: Source::Helm {
            repository: ARGO_CHARTS,
            chart: "argo-cd",
            version: "8.3.7",
        },
        release: "argo-cd",
        namespace: Cow::Owned(namespace.to_owned()),
        workloads: ARGO_CD_WORKLOADS,
        services: &[],
        pins: ARGO_CD_PINS,
    }
}

/// Argo Rollouts: the controller that runs canaries.
pub const ARGO_ROLLOUTS: Addon = Addon {
    id: "argo_rollouts",
    source: Source::Helm {
        repository: ARGO_CHARTS,
        chart: "argo-rollouts",
        version: "2.40.5",
    },
    release: "argo-rollouts",
    namespace: Cow::Borrowed("argo-rollouts"),
    workloads: &[Workload {
        name: "argo-rollouts",
        service_account: "argo-rollouts",
        labels: &[
            ("app.kubernetes.io/name", "argo-rollouts"),
            ("app.kubernetes.io/component", "rollouts-controller"),
        ],
        ports: &[("metrics", 8090)],
        scale: Scale::Replicas(2),
        requests: Requests::new(50, 128),
    }],
    services: &[],
    pins: &[
        Pin::Text("fullnameOverride", "argo-rollouts"),
        Pin::Flag("installCRDs", true),
        Pin::Text("serviceAccount.name", "argo-rollouts"),
        Pin::Number("controller.replicas", 2),
        Pin::Requests("controller.resources", Requests::new(50, 128)),
    ],
};

// ------------------------------------------------------------------------------------------------
// metrics-server 3.13.1 (kubernetes-sigs/metrics-server, tag metrics-server-helm-chart-3.13.1):
// the resource metrics API that `HorizontalPodAutoscaler`s read.

/// metrics-server: without it no HPA ever scales.
pub const METRICS_SERVER: Addon = Addon {
    id: "metrics_server",
    source: Source::Helm {
        repository: "https://kubernetes-sigs.github.io/metrics-server/",
        chart: "metrics-server",
        version: "3.13.1",
    },
    release: "metrics-server",
    namespace: Cow::Borrowed("kube-system"),
    workloads: &[Workload {
        name: "metrics-server",
        service_account: "metrics-server",
        labels: &[("app.kubernetes.io/name", "metrics-server")],
        ports: &[("https", 10250)],
        scale: Scale::Replicas(2),
        requests: Requests::new(100, 200),
    }],
    services: &[],
    pins: &[
        Pin::Text("fullnameOverride", "metrics-server"),
        Pin::Text("serviceAccount.name", "metrics-server"),
        Pin::Number("replicas", 2),
        Pin::Requests("resources", Requests::new(100, 200)),
    ],
};

// ------------------------------------------------------------------------------------------------
// AWS: the EKS add-ons that need an AWS role (their controllers' `ServiceAccount`s are fixed by
// EKS), and the Helm charts that make the cluster's edges work: the load balancer, DNS for the
// gateway hosts, node autoscaling.

/// The EBS CSI driver (EKS add-on; controller `ServiceAccount` `ebs-csi-controller-sa`).
pub const EBS_CSI: Addon = Addon {
    id: "aws_ebs_csi_driver",
    source: Source::Eks {
        name: "aws-ebs-csi-driver",
    },
    release: "aws-ebs-csi-driver",
    namespace: Cow::Borrowed("kube-system"),
    workloads: &[
        Workload {
            name: "ebs-csi-controller",
            service_account: "ebs-csi-controller-sa",
            labels: &[("app", "ebs-csi-controller")],
            ports: &[],
            scale: Scale::Replicas(2),
            requests: Requests::new(10, 40),
        },
        Workload {
            name: "ebs-csi-node",
            service_account: "ebs-csi-node-sa",
            labels: &[("app", "ebs-csi-node")],
            ports: &[],
            scale: Scale::PerNode,
            requests: Requests::new(10, 40),
        },
    ],
    services: &[],
    pins: &[],
};

/// The EFS CSI driver (EKS add-on `aws-efs-csi-driver`, Pod Identity from v2.0.5; controller
/// `ServiceAccount` `efs-csi-controller-sa`): mounts the platform's file systems.
pub const EFS_CSI: Addon = Addon {
    id: "aws_efs_csi_driver",
    source: Source::Eks {
        name: "aws-efs-csi-driver",
    },
    release: "aws-efs-csi-driver",
    namespace: Cow::Borrowed("kube-system"),
    workloads: &[
        Workload {
            name: "efs-csi-controller",
            service_account: "efs-csi-controller-sa",
            labels: &[("app", "efs-csi-controller")],
            ports: &[],
            scale: Scale::Replicas(2),
            requests: Requests::new(10, 40),
        },
        Workload {
            name: "efs-csi-node",
            service_account: "efs-csi-node-sa",
            labels: &[("app", "efs-csi-node")],
            ports: &[],
            scale: Scale::PerNode,
            requests: Requests::new(10, 40),
        },
    ],
    services: &[],
    pins: &[],
};

/// The VPC CNI (EKS add-on `vpc-cni`, `DaemonSet aws-node`), with its network policy agent on:
/// without it the API server accepts `NetworkPolicies` and nothing enforces them.
pub const VPC_CNI: Addon = Addon {
    id: "vpc_cni",
    source: Source::Eks { name: "vpc-cni" },
    release: "vpc-cni",
    namespace: Cow::Borrowed("kube-system"),
    workloads: &[Workload {
        name: "aws-node",
        service_account: "aws-node",
        labels: &[("k8s-app", "aws-node")],
        ports: &[],
        scale: Scale::PerNode,
        requests: Requests::new(50, 0),
    }],
    services: &[],
    pins: &[],
};

/// kube-proxy (EKS add-on).
pub const KUBE_PROXY: Addon = Addon {
    id: "kube_proxy",
    source: Source::Eks { name: "kube-proxy" },
    release: "kube-proxy",
    namespace: Cow::Borrowed("kube-system"),
    workloads: &[Workload {
        name: "kube-proxy",
        service_account: "kube-proxy",
        labels: &[("k8s-app", "kube-proxy")],
        ports: &[],
        scale: Scale::PerNode,
        requests: Requests::new(100, 0),
    }],
    services: &[],
    pins: &[],
};

/// The AWS Load Balancer Controller 3.5.0 (aws/eks-charts `stable/aws-load-balancer-controller`;
/// the chart names the `ServiceAccount` after the release unless `serviceAccount.name` is set).
/// It turns the ingress gateway's `LoadBalancer` Service into an internet-facing NLB that sends
/// to the gateway pods' IPs. Its mutating webhook (failure policy `Fail`) must run before that
/// Service is created.
pub const LOAD_BALANCER_CONTROLLER: Addon = Addon {
    id: "aws_load_balancer_controller",
    source: Source::Helm {
        repository: "https://aws.github.io/eks-charts",
        chart: "aws-load-balancer-controller",
        version: "3.5.0",
    },
    release: "aws-load-balancer-controller",
    namespace: Cow::Borrowed("kube-system"),
    workloads: &[Workload {
        name: "aws-load-balancer-controller",
        service_account: "aws-load-balancer-controller",
        labels: &[("app.kubernetes.io/name", "aws-load-balancer-controller")],
        ports: &[("webhook-server", 9443)],
        scale: Scale::Replicas(2),
        requests: Requests::new(50, 128),
    }],
    services: &[],
    pins: &[
        Pin::Text("fullnameOverride", "aws-load-balancer-controller"),
        Pin::Flag("serviceAccount.create", true),
        Pin::Text("serviceAccount.name", "aws-load-balancer-controller"),
        Pin::Number("replicaCount", 2),
        Pin::Requests("resources", Requests::new(50, 128)),
    ],
};

/// external-dns 1.21.1 (kubernetes-sigs/external-dns `charts/external-dns`, app 0.21.0): writes an
/// ALIAS record for every host of the Istio `Gateway`s, pointing at the load balancer of the
/// Service whose selector the `Gateway`'s selector matches.
pub const EXTERNAL_DNS: Addon = Addon {
    id: "external_dns",
    source: Source::Helm {
        repository: "https://kubernetes-sigs.github.io/external-dns/",
        chart: "external-dns",
        version: "1.21.1",
    },
    release: "external-dns",
    namespace: Cow::Borrowed("external-dns"),
    workloads: &[Workload {
        name: "external-dns",
        service_account: "external-dns",
        labels: &[("app.kubernetes.io/name", "external-dns")],
        ports: &[],
        scale: Scale::Replicas(1),
        requests: Requests::new(50, 64),
    }],
    services: &[],
    pins: &[
        Pin::Text("fullnameOverride", "external-dns"),
        Pin::Flag("serviceAccount.create", true),
        Pin::Text("serviceAccount.name", "external-dns"),
        Pin::Requests("resources", Requests::new(50, 64)),
    ],
};

/// The Cluster Autoscaler (chart 9.59.0 from kubernetes/autoscaler, image pinned to the
/// cluster's minor version): grows and shrinks the managed node groups, which EKS tags for its
/// auto-discovery, between their `min` and `max`.
pub const CLUSTER_AUTOSCALER: Addon = Addon {
    id: "cluster_autoscaler",
    source: Source::Helm {
        repository: "https://kubernetes.github.io/autoscaler",
        chart: "cluster-autoscaler",
        version: "9.59.0",
    },
    release: "cluster-autoscaler",
    namespace: Cow::Borrowed("kube-system"),
    workloads: &[Workload {
        name: "cluster-autoscaler",
        service_account: "cluster-autoscaler",
        labels: &[("app.kubernetes.io/name", "aws-cluster-autoscaler")],
        ports: &[],
        scale: Scale::Replicas(1),
        requests: Requests::new(100, 300),
    }],
    services: &[],
    pins: &[
        Pin::Text("fullnameOverride", "cluster-autoscaler"),
        Pin::Flag("rbac.serviceAccount.create", true),
        Pin::Text("rbac.serviceAccount.name", "cluster-autoscaler"),
        Pin::Requests("resources", Requests::new(100, 300)),
    ],
};

/// The CSI driver name of the Secrets Store CSI driver: a pod's `csi` volume names it.
pub const SECRETS_STORE_DRIVER: &str = "secrets-store.csi.k8s.io";
/// The provider of the AWS Secrets and Configuration Provider (ASCP), as a
/// `SecretProviderClass` names it.
pub const SECRETS_STORE_PROVIDER: &str = "aws";

/// The Secrets Store CSI driver 1.6.0 with the AWS provider (ASCP), from the ASCP's chart
/// 3.1.1 (aws/secrets-store-csi-driver-provider-aws `charts/`, whose dependency installs
/// kubernetes-sigs/secrets-store-csi-driver `charts/secrets-store-csi-driver` 1.6.0 under the
/// `secrets-store-csi-driver` key). Both run as `DaemonSet`s in `kube-system`: the driver
/// mounts each pod's `csi` volume and asks the provider, which reads the secrets with the
/// *pod's* `ServiceAccount` through EKS Pod Identity (`usePodIdentity: "true"`, the driver's
/// token request for the `pods.eks.amazonaws.com` audience): each service's own role, which
/// may read only its own secrets. The driver's `ServiceAccount` is fixed by its chart; the
/// provider's is its full name.
pub const SECRETS_STORE_CSI: Addon = Addon {
    id: "secrets_store_csi_driver",
    source: Source::Helm {
        repository: "https://aws.github.io/secrets-store-csi-driver-provider-aws",
        chart: "secrets-store-csi-driver-provider-aws",
        version: "3.1.1",
    },
    release: "secrets-store-csi-driver-provider-aws",
    namespace: Cow::Borrowed("kube-system"),
    workloads: &[
        Workload {
            name: "secrets-store-csi-driver-provider-aws",
            service_account: "secrets-store-csi-driver-provider-aws",
            labels: &[("app", "secrets-store-csi-driver-provider-aws")],
            ports: &[],
            scale: Scale::PerNode,
            requests: Requests::new(50, 100),
        },
        Workload {
            name: "secrets-store-csi-driver",
            service_account: "secrets-store-csi-driver",
            labels: &[("app", "secrets-store-csi-driver")],
            ports: &[],
            scale: Scale::PerNode,
            // The driver, its registrar and its liveness probe.
            requests: Requests::new(70, 140),
        },
    ],
    services: &[],
    pins: &[
        Pin::Text("fullnameOverride", "secrets-store-csi-driver-provider-aws"),
        Pin::Text("nameOverride", "secrets-store-csi-driver-provider-aws"),
        Pin::Flag("secrets-store-csi-driver.install", true),
        Pin::Text(
            "secrets-store-csi-driver.fullnameOverride",
            "secrets-store-csi-driver",
        ),
        // `uses secret … env=`: the driver keeps a `Secret` in step with the mounted files
        // (`secretObjects`), which needs its RBAC on Secrets.
        Pin::Flag("secrets-store-csi-driver.syncSecret.enabled", true),
        // Files follow a rotation within the hour (an env var only with a restart).
        Pin::Flag("secrets-store-csi-driver.enableSecretRotation", true),
        Pin::Text("secrets-store-csi-driver.rotationPollInterval", "3600s"),
        Pin::Requests("resources", Requests::new(50, 100)),
        Pin::Requests(
            "secrets-store-csi-driver.linux.driver.resources",
            Requests::new(50, 100),
        ),
    ],
};

/// Whether any service or receiver of `alerts` reads a secret (and the platform has a cluster
/// to install the driver).
pub fn wants_secrets_store(platform: &Platform) -> bool {
    platform
        .services
        .iter()
        .flat_map(|s| &s.uses)
        .any(|u| u.kind.value == crate::model::service::StoreKind::Secret)
        || alert_secrets(platform).next().is_some()
}

/// The secrets the receivers of `alerts` read, each once, in the order `aws` declares them.
pub fn alert_secrets(platform: &Platform) -> impl Iterator<Item = &crate::model::aws::Secret> {
    let receivers = platform
        .observability
        .alerts
        .as_ref()
        .map_or(&[][..], |a| a.receivers.as_slice());
    platform
        .aws
        .iter()
        .flat_map(|aws| &aws.secrets)
        .filter(move |s| receivers.iter().any(|r| r.secret.value == s.name.value))
}

/// The image tag of the Cluster Autoscaler for a Kubernetes minor version: its releases follow
/// Kubernetes' minors, and each cluster must run its own (kubernetes/autoscaler README,
/// "Releases"). The newest patch of each minor, from the repository's `cluster-autoscaler-1.N.P`
/// tags.
pub fn cluster_autoscaler_image(version: &str) -> Option<&'static str> {
    Some(match version {
        "1.28" => "v1.28.7",
        "1.29" => "v1.29.5",
        "1.30" => "v1.30.7",
        "1.31" => "v1.31.5",
        "1.32" => "v1.32.7",
        "1.33" => "v1.33.6",
        "1.34" => "v1.34.5",
        "1.35" => "v1.35.2",
        "1.36" => "v1.36.1",
        _ => return None,
    })
}

// ------------------------------------------------------------------------------------------------

/// Whether the mesh has a gateway that ends TLS with a certificate from cert-manager.
pub fn wants_cert_manager(platform: &Platform) -> bool {
    platform.mesh.as_ref().is_some_and(|mesh| {
        mesh.gateways
            .iter()
            .any(crate::model::mesh::Gateway::terminates_tls)
    })
}

/// Whether any service runs under an Argo Rollout (a canary, and a mesh to split it).
pub fn wants_rollouts(platform: &Platform) -> bool {
    platform.services.iter().any(|s| platform.rolled_out(s))
}

/// Every add-on the platform relies on, in install order: those platc installs (with an `aws`
/// cluster, the Terraform tree installs each of them), and those every cluster has (`CoreDNS`).
pub fn installed(platform: &Platform) -> Vec<Addon> {
    let aws = platform.aws.as_ref().filter(|a| a.cluster.is_some());
    let mesh = platform.mesh.as_ref();
    let gateways = mesh.is_some_and(|m| !m.gateways.is_empty());
    let observability = &platform.observability;
    let mut out = Vec::new();
    if aws.is_some() {
        out.extend([VPC_CNI, KUBE_PROXY]);
    }
    out.push(COREDNS);
    if let Some(aws) = aws {
        out.extend([POD_IDENTITY_AGENT, EBS_CSI]);
        if platform
            .services
            .iter()
            .flat_map(|s| &s.uses)
            .any(|u| u.kind.value == crate::model::service::StoreKind::Filesystem)
            && !aws.filesystems.is_empty()
        {
            out.push(EFS_CSI);
        }
        if wants_secrets_store(platform) {
            out.push(SECRETS_STORE_CSI);
        }
        out.push(CLUSTER_AUTOSCALER);
        if gateways || platform.services.iter().any(|s| s.load_balancer.is_some()) {
            out.push(LOAD_BALANCER_CONTROLLER);
        }
    }
    if platform.services.iter().any(|s| s.autoscale.is_some()) {
        out.push(METRICS_SERVER);
    }
    if mesh.is_some() {
        out.extend([ISTIO_BASE, ISTIO_CNI, ISTIOD]);
        if gateways {
            out.push(INGRESS_GATEWAY);
        }
        if mesh.is_some_and(|m| m.egress_gateway.is_some()) {
            out.push(EGRESS_GATEWAY);
        }
    }
    if wants_cert_manager(platform) {
        out.push(CERT_MANAGER);
    }
    if aws.is_some_and(|a| a.domain.is_some()) && gateways {
        out.push(EXTERNAL_DNS);
    }
    if observability.prometheus.is_some() || observability.grafana.is_some() {
        out.push(PROMETHEUS_STACK);
    }
    if observability.kiali.is_some() {
        out.push(KIALI);
    }
    if let Some(argocd) = &platform.delivery.argocd {
        out.push(argo_cd(&argocd.namespace.value));
    }
    if wants_rollouts(platform) {
        out.push(ARGO_ROLLOUTS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{ARGO_CD_APPLICATION_HEALTH, Addon, HOLDS_WAVES_ANNOTATION, Pin, get, set};

    /// The health Lua reads the annotation the edge's Application carries, by its name, and
    /// reports Healthy for it before it reads any status.
    #[test]
    fn the_application_health_lets_the_annotated_hold_no_wave() {
        let test = format!(
            "obj.metadata.annotations[\"{HOLDS_WAVES_ANNOTATION}\"] == \"false\" then\n  \
             hs.status = \"Healthy\""
        );
        let at = ARGO_CD_APPLICATION_HEALTH
            .find(&test)
            .expect("the Lua tests the annotation");
        assert!(at < ARGO_CD_APPLICATION_HEALTH.find("obj.status").unwrap());
    }

    #[test]
    fn pins_set_nested_paths_over_settings() {
        let addon = Addon {
            pins: &[
                Pin::Text("serviceAccount.name", "x"),
                Pin::Labels("labels", &[("app", "x")]),
            ],
            ..super::INGRESS_GATEWAY
        };
        let values = addon.values(serde_json::json!({"serviceAccount": {"create": true}}));
        assert_eq!(
            values,
            serde_json::json!({"serviceAccount": {"create": true, "name": "x"}, "labels": {"app": "x"}})
        );
        assert_eq!(get(&values, "serviceAccount.name"), Some(&"x".into()));
        assert_eq!(get(&values, "serviceAccount.missing"), None);
        // A key with dots (a ConfigMap's data key), by JSON Pointer.
        let mut values = serde_json::json!({"configs": {"cm": {"create": true}}});
        set(&mut values, "/configs/cm/a.b~1c", serde_json::json!("x"));
        assert_eq!(
            values,
            serde_json::json!({"configs": {"cm": {"create": true, "a.b/c": "x"}}})
        );
        assert_eq!(get(&values, "/configs/cm/a.b~1c"), Some(&"x".into()));
        assert_eq!(get(&values, "configs.cm.a.b/c"), None);
        let mut scalar = serde_json::json!(1);
        set(&mut scalar, "a.b", serde_json::json!(2));
        assert_eq!(scalar, serde_json::json!({"a": {"b": 2}}));
    }

    #[test]
    fn every_pinned_name_is_the_one_the_table_states() {
        // A pin that names a ServiceAccount must name the one the workloads list.
        for addon in [
            super::INGRESS_GATEWAY,
            super::EGRESS_GATEWAY,
            super::CERT_MANAGER,
            super::ARGO_ROLLOUTS,
            super::METRICS_SERVER,
            super::LOAD_BALANCER_CONTROLLER,
            super::EXTERNAL_DNS,
            super::CLUSTER_AUTOSCALER,
            super::SECRETS_STORE_CSI,
            super::argo_cd("argocd"),
        ] {
            for pin in addon.pins {
                if let Pin::Text(path, value) = pin
                    && path.ends_with("serviceAccount.name")
                {
                    assert!(
                        addon.workloads.iter().any(|w| w.service_account == *value),
                        "{}: {path} = {value} is no workload's account",
                        addon.release
                    );
                }
            }
        }
    }
}
