//! The names, addresses and identities that more than one target uses: where a target names
//! something another target (or an add-on) creates, it reads it here, so the two cannot drift.
//! The add-ons' own names come from the add-on table (`model::addons`).

use crate::model::Platform;
use crate::model::addons;
use crate::model::mesh::Gateway;
use crate::model::service::{
    AddressFormat, AddressShape, Call, Expose, ExternalCall, Port, Service, Version,
};
use crate::model::value::Duration;

/// Istio's root namespace (`meshConfig.rootNamespace`, pinned in istiod's values): mesh-wide
/// policy lives there.
pub const ROOT_NAMESPACE: &str = addons::ISTIO_NAMESPACE;

/// The namespace of the ingress gateway's pods: the `Gateway` objects and the Secrets their
/// `credentialName`s name live there, since Istio reads a gateway's certificate from the
/// namespace its pods run in.
pub fn gateway_namespace() -> &'static str {
    addons::GATEWAY_NAMESPACE
}

/// The Secret holding a gateway's certificate, in the gateway's namespace, and the name of the
/// cert-manager `Certificate` that writes it: `<gateway>-tls`.
pub fn credential_name(gateway: &Gateway) -> String {
    format!("{}-tls", gateway.name.value)
}

/// How many days before its end cert-manager renews a gateway's certificate (Let's Encrypt
/// issues for 90): the `Certificate`'s `renewBefore`, and what the alert on a renewal that
/// keeps failing counts from.
pub const RENEW_BEFORE_DAYS: u32 = 30;

/// The ingress gateway's pods, as the add-on table pins them.
pub fn gateway_workload() -> &'static addons::Workload {
    &addons::INGRESS_GATEWAY.workloads[0]
}

/// The SPIFFE principal of the ingress gateway's `ServiceAccount`.
pub fn gateway_principal() -> String {
    addons::INGRESS_GATEWAY.principal(gateway_workload())
}

/// The SPIFFE principal of a service's workload: platc runs each under the `ServiceAccount` of
/// its own name, in its namespace.
pub fn principal(service: &Service) -> String {
    format!(
        "cluster.local/ns/{}/sa/{}",
        service.namespace, service.name.value
    )
}

/// The fully qualified host of a service's Kubernetes Service.
pub fn host(service: &Service) -> String {
    format!(
        "{}.{}.svc.cluster.local",
        service.name.value, service.namespace
    )
}

/// The port a call dials: the named one, else the callee's first.
pub fn called_port<'a>(callee: &'a Service, call: &Call) -> Option<&'a Port> {
    call.port
        .as_ref()
        .and_then(|p| callee.port(&p.value))
        .or_else(|| callee.ports.first())
}

/// The address a `calls … env=` variable holds: the callee's host, with its port (the named
/// one, else its first) as `format=` asks.
pub fn call_address(callee: &Service, call: &Call) -> String {
    let number = called_port(callee, call).map_or(0, |p| p.number.value);
    address_text(&call.address, &host(callee), number, "http")
}

/// The address a `calls-external … env=` variable holds.
pub fn external_address(external: &ExternalCall) -> String {
    address_text(
        &external.address,
        &external.host.value,
        external.port.value,
        external.protocol.value.default_scheme().unwrap_or("tcp"),
    )
}

/// An address as `format=` asks: `host`, `host:port`, or `scheme://host[:port][path]` for a
/// URL or URI (`scheme=`, else `default_scheme`). A URL leaves out the port its scheme
/// implies (443 for `https`, 80 for `http`): a client then sends the bare host in `Host` and
/// SNI, which is what a virtual host behind a CDN answers to. The text is what the application
/// reads; the Deployment escapes it for the kubelet.
pub fn address_text(shape: &AddressShape, host: &str, port: u16, default_scheme: &str) -> String {
    match shape.format() {
        AddressFormat::Host => host.to_owned(),
        AddressFormat::HostPort => format!("{host}:{port}"),
        AddressFormat::Url | AddressFormat::Uri => {
            let scheme = shape
                .scheme
                .as_ref()
                .map_or(default_scheme, |s| s.value.as_str());
            let implied = matches!(
                (scheme.to_ascii_lowercase().as_str(), port),
                ("https" | "wss", 443) | ("http" | "ws", 80)
            );
            let authority = if implied {
                host.to_owned()
            } else {
                format!("{host}:{port}")
            };
            let path = shape.path.as_ref().map_or("", |p| p.value.as_str());
            format!("{scheme}://{authority}{path}")
        }
    }
}

/// The name of the `ServiceEntry` of a host outside the cluster, in each caller's namespace:
/// the host itself, a DNS subdomain name as Kubernetes names allow.
pub fn external_entry(host: &str) -> String {
    host.to_ascii_lowercase()
}

/// The entry of a `Sidecar`'s egress hosts that lets the namespace's sidecars reach an outside
/// host: its `ServiceEntry`, exported to that namespace alone.
pub fn external_egress_host(namespace: &str, host: &str) -> String {
    format!("{namespace}/{}", host.to_ascii_lowercase())
}

/// A duration as Istio and Argo Rollouts read it (a Go duration: `90s`, `250ms`).
pub fn duration(d: &Duration) -> String {
    if d.millis.is_multiple_of(1000) {
        format!("{}s", d.millis / 1000)
    } else {
        format!("{}ms", d.millis)
    }
}

/// The port a service serves its own Prometheus metrics on, and the path (`metrics=`).
pub fn metrics_port(service: &Service) -> Option<(&Port, &str)> {
    service
        .ports
        .iter()
        .find_map(|p| p.metrics.as_ref().map(|path| (p, path.value.as_str())))
}

/// Whether a service's pods run an Istio sidecar.
pub fn meshed(platform: &Platform, service: &Service) -> bool {
    platform.mesh.is_some() && service.sidecar_off.is_none()
}

/// The `version` label of the stable pods, and the `DestinationRule` subset that selects
/// them: a plain Deployment's pods, and a Rollout's stable pods (`stableMetadata`).
pub const STABLE_VERSION: &str = "stable";
/// The Deployment of a service's `version`, and its Istio workload name: `<service>-<version>`.
pub fn version_workload(service: &Service, version: &Version) -> String {
    format!("{}-{}", service.name.value, version.name.value)
}

/// Every workload that runs a service's pods: its own, then one per `version`.
pub fn workloads(service: &Service) -> Vec<String> {
    std::iter::once(service.name.value.clone())
        .chain(
            service
                .versions
                .iter()
                .map(|v| version_workload(service, v)),
        )
        .collect()
}

/// The subset of a canary's pods.
pub const CANARY_SUBSET: &str = "canary";
/// The name of a service's weighted route (with `-<port>` when it has several ports).
pub const PRIMARY_ROUTE: &str = "primary";
/// The label Istio reads a workload's revision from.
pub const REVISION_LABEL: &str = "service.istio.io/canonical-revision";
/// The annotation that marks a Deployment as the template of an Argo Rollout. The canary
/// guard reads it on the Deployment as the cluster has it.
pub const ROLLOUT_ANNOTATION: &str = "platc.dev/rollout";

/// Whether an Argo Rollout runs the service's pods: it has a canary, and a mesh to split it.
pub fn rolled_out(platform: &Platform, service: &Service) -> bool {
    platform.rolled_out(service)
}

/// The `StorageClass` of every stateful volume: encrypted gp3 EBS volumes through the EBS CSI
/// driver (an EKS add-on of the cluster stage), bound where the pod is scheduled.
pub const EBS_STORAGE_CLASS: &str = "platc-gp3";
/// The provisioner of [`EBS_STORAGE_CLASS`].
pub const EBS_PROVISIONER: &str = "ebs.csi.aws.com";
/// The longest name of a stateful service: its pods carry `controller-revision-hash:
/// <name>-<10 characters>`, and a label value holds 63 characters.
pub const STATEFUL_NAME_MAX: usize = 52;

/// The Job that runs a service's `migrate NAME`, and the `NetworkPolicy` of its pods:
/// `<service>-<NAME>`.
pub fn migration_job(service: &Service, migrate: &crate::model::service::Container) -> String {
    format!("{}-{}", service.name.value, migrate.name.value)
}
/// The longest name of a migration Job: its pods carry `job-name: <name>` (and
/// `batch.kubernetes.io/job-name`), and a label value holds 63 characters.
pub const MIGRATION_NAME_MAX: usize = 63;
/// The `app.kubernetes.io/component` of a migration Job's pods, which its `NetworkPolicy`
/// selects on.
pub const MIGRATION_COMPONENT: &str = "migration";

/// The labels of a migration Job's pods: the service's without `app`, which its Service, its
/// `NetworkPolicy`, its `PodDisruptionBudget` and the mesh's policies select on (a Job's pod
/// must never receive the service's traffic), with the component `migration`.
pub fn migration_pod_labels(
    platform: &Platform,
    service: &Service,
) -> std::collections::BTreeMap<String, String> {
    let mut labels = super::labels(platform, service);
    labels.remove("app");
    labels.insert(
        "app.kubernetes.io/component".into(),
        MIGRATION_COMPONENT.into(),
    );
    labels
}

/// The headless Service of a stateful service: it gives each pod its own DNS name,
/// `<name>-<ordinal>.<name>-headless.<namespace>.svc.cluster.local`.
pub fn headless_service(service: &Service) -> String {
    format!("{}-headless", service.name.value)
}

/// The DNS name of a stateful service's headless Service, under which each pod has its own
/// name (`<name>-0.<this>`): the host its replicas dial each other by.
pub fn headless_host(service: &Service) -> String {
    format!(
        "{}.{}.svc.cluster.local",
        headless_service(service),
        service.namespace
    )
}

/// The ports a stateful service's replicas call each other on (`stateful { peers … }`), in the
/// order written, each once; none when they do not.
pub fn peer_ports(service: &Service) -> Vec<&Port> {
    let mut ports: Vec<&Port> = Vec::new();
    let names = service
        .stateful
        .iter()
        .filter_map(|s| s.peers.as_ref())
        .flat_map(|p| &p.ports);
    for name in names {
        if let Some(port) = service.port(&name.value)
            && !ports.iter().any(|p| p.name.value == port.name.value)
        {
            ports.push(port);
        }
    }
    ports
}

/// The workload that owns a service's pods and their count, as a `scaleTargetRef` names it:
/// `(apiVersion, kind)`.
pub fn scale_target(platform: &Platform, service: &Service) -> (&'static str, &'static str) {
    if rolled_out(platform, service) {
        ("argoproj.io/v1alpha1", "Rollout")
    } else if service.stateful.is_some() {
        ("apps/v1", "StatefulSet")
    } else {
        ("apps/v1", "Deployment")
    }
}

/// The name of a canary's `AnalysisTemplate`.
pub fn analysis_template(service: &Service) -> String {
    format!("{}-canary", service.name.value)
}

/// The port one `expose` line routes to: the one its `port=` names, else the service's first
/// HTTP port (a second behind the same host and path would never be reached).
pub fn exposed_port<'a>(service: &'a Service, expose: &Expose) -> Option<&'a Port> {
    match &expose.port {
        Some(p) => service.port(&p.value),
        None => service.ports.iter().find(|p| p.protocol.value.is_http()),
    }
}

/// The host an `expose` line routes: its own `host=`, else its gateway's first host.
pub fn expose_host(platform: &Platform, expose: &Expose) -> Option<String> {
    expose.host.as_ref().map(|h| h.value.clone()).or_else(|| {
        platform
            .mesh
            .as_ref()?
            .gateways
            .iter()
            .find(|g| g.name.value == expose.gateway.value)?
            .hosts
            .first()
            .map(|h| h.value.clone())
    })
}

/// The one `VirtualService` of a host on a gateway (in the gateway's namespace), which holds
/// the routes of every service exposed there: `<gateway>-<host>`, the host's dots and `*` as
/// `-`. No dot, so Argo Rollouts reads `<name>.<namespace>` back unambiguously.
pub fn ingress_virtual_service(gateway: &str, host: &str) -> String {
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{gateway}-{}", host.trim_matches('-'))
}

/// The start of the names of one `expose` line's routes in its host's `VirtualService`:
/// `<service>-`, or `<service>-<n>-` for the n-th line of a service with several.
pub fn expose_route_prefix(service: &Service, index: usize) -> String {
    if service.expose.len() > 1 {
        format!("{}-{}-", service.name.value, index + 1)
    } else {
        format!("{}-", service.name.value)
    }
}

/// Every port the ingress gateway routes to on a service, over all its `expose` lines, in the
/// order of the service's ports.
pub fn exposed_ports(service: &Service) -> Vec<&Port> {
    service
        .ports
        .iter()
        .filter(|p| {
            service
                .expose
                .iter()
                .any(|e| exposed_port(service, e).is_some_and(|x| x.name.value == p.name.value))
        })
        .collect()
}

/// The HTTP ports a service's routes cover: `ports`, or with none given every HTTP port.
pub fn route_ports<'a>(service: &'a Service, ports: &[&'a Port]) -> Vec<&'a Port> {
    if ports.is_empty() {
        service
            .ports
            .iter()
            .filter(|p| p.protocol.value.is_http())
            .collect()
    } else {
        ports.to_vec()
    }
}

/// The suffix of a route's name for a port: `-<port>` where the service has several ports.
pub fn route_suffix(service: &Service, port: &Port) -> String {
    if service.ports.len() > 1 {
        format!("-{}", port.name.value)
    } else {
        String::new()
    }
}

/// The names of the weighted routes of a service's `VirtualService`s over `ports` (every
/// HTTP port when empty), which Argo Rollouts sets the weights of.
pub fn primary_routes(service: &Service, ports: &[&Port], prefix: &str) -> Vec<String> {
    route_ports(service, ports)
        .into_iter()
        .map(|port| format!("{prefix}{PRIMARY_ROUTE}{}", route_suffix(service, port)))
        .collect()
}

/// The name of the Argo CD Application that deploys one part of the platform: `part` is
/// `conventions::cmp::PART_PLATFORM` (the platform-wide and per-namespace objects) or a
/// service's name. `<platform>[-<env>]-<part>`, in Argo CD's namespace (`argocd namespace=`):
/// what `argocd app wait` and `argocd app sync` take.
pub fn argocd_application(platform: &Platform, part: &str) -> String {
    part_name(platform, part)
}

/// The name of what delivers one part of the platform (its Argo CD Application, its Jenkins
/// job): `<platform>[-<env>]-<part>`.
pub fn part_name(platform: &Platform, part: &str) -> String {
    format!("{}-{part}", argocd_root(platform))
}

/// The directory of a build's tree in the repository, given where `out/` is (`base`): `base`
/// itself, or for an environment's build its tree under it (`<base>/env/NAME`), where a whole
/// `platc build` writes it.
pub fn tree_in_repository(platform: &Platform, base: &str) -> String {
    match &platform.env {
        Some(env) => format!("{base}/{}", crate::env_dir(env)),
        None => base.to_owned(),
    }
}

/// The name of the root Application (the app of apps a user applies by hand) and of the
/// `AppProject` the platform's Applications belong to: the platform's name, with the
/// environment's when an `env` overlay is built.
pub fn argocd_root(platform: &Platform) -> String {
    platform.with_env(&platform.name.value)
}

/// The `ConfigMap` that holds a service's `config` files: `<service>-config`, one key per
/// `config` (its name).
pub fn config_map(service: &Service) -> String {
    format!("{}-config", service.name.value)
}

pub use crate::model::service::CONFIG_VOLUME;

/// The pod-template annotation whose change restarts the pods when a `config` changes.
pub const CONFIG_CHECKSUM_ANNOTATION: &str = "platc.dev/config-checksum";

/// The data of a service's `ConfigMap`: each `config`'s name and contents.
pub fn config_data(service: &Service) -> std::collections::BTreeMap<String, String> {
    service
        .configs
        .iter()
        .map(|c| (c.name.value.clone(), c.data.clone()))
        .collect()
}

/// The checksum of a `ConfigMap`'s data: the sha256, in hex, of each key (which holds no NUL
/// byte) and its value's length and value, in key order, so that no two different maps give
/// the same input.
pub fn config_checksum(data: &std::collections::BTreeMap<String, String>) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    let mut hasher = Sha256::new();
    for (key, value) in data {
        hasher.update(key.as_bytes());
        hasher.update([0]);
        hasher.update(value.len().to_string().as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}
