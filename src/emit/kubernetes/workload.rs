//! The Deployment of a service (a `StatefulSet` for a stateful one): image, ports, env with the
//! computed address of every callee and the coordinates of every data store it uses, probes,
//! resources, the hardened security context, writable emptyDirs and persistent volumes.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, RollingUpdateStatefulSetStrategy, StatefulSet,
    StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapKeySelector, ConfigMapVolumeSource, Container, ContainerPort,
    EmptyDirVolumeSource, EnvVar, EnvVarSource, ExecAction, GRPCAction, HTTPGetAction, HTTPHeader,
    Lifecycle, LifecycleHandler, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec, PodTemplateSpec,
    Probe as K8sProbe, ResourceRequirements, SeccompProfile, SecretKeySelector, SecurityContext,
    SleepAction, Sysctl, TCPSocketAction, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::emit::conventions::{
    CONFIG_CHECKSUM_ANNOTATION, CONFIG_VOLUME, EBS_STORAGE_CLASS, ROLLOUT_ANNOTATION,
    STABLE_VERSION, VERSION_LABEL, call_address, common_labels, config_checksum, config_data,
    config_map, external_address, headless_service, is_label_value, labels, meshed, meta,
    metrics_port, migration_job, migration_pod_labels, origin_annotation, rolled_out, slo,
    version_workload, waiver_annotations,
};
use crate::model::aws::stores_config_map;
use crate::model::security::Seccomp;
use crate::model::service::StoreKind;
use crate::model::service::{
    Container as Extra, EnvVar as Var, Port, Probe, ProbeKind, ProbeUse, Resources, Service,
    Stateful, Version,
};
use crate::model::value::Quantity as Amount;
use crate::model::{Platform, StoreValue};
use crate::span::Spanned;

/// The Deployment of a service. With a canary it is the template of an Argo Rollout
/// (`workloadRef`): it holds the canary's image (or the stable one while the canary is only
/// armed), states no replica count (the Rollout scales it down as its own pods come up, and
/// keeps it at zero), and labels its pods `version: stable`, as without a canary; the Rollout
/// labels a canary's pods with the canary's version.
pub fn deployment(platform: &Platform, service: &Service) -> Deployment {
    workload(platform, service, None)
}

/// The Deployment of one `version` of a service: the service's pods under the name
/// `<service>-<version>`, labelled `version: <version>` (its `DestinationRule` subset), running
/// the version's image.
pub fn version_deployment(platform: &Platform, service: &Service, version: &Version) -> Deployment {
    workload(platform, service, Some(version))
}

fn workload(platform: &Platform, service: &Service, version: Option<&Version>) -> Deployment {
    let rolled_out = rolled_out(platform, service);
    let (name, origin) = match version {
        Some(v) => (version_workload(service, v), v.span),
        None => (service.name.value.clone(), service.span),
    };
    let name = &name;
    // One selector whether or not a canary rolls the pods: a Deployment's selector is
    // immutable, and one that changed with the canary made the API server refuse the update
    // that adds a service's first canary or removes its last (`spec.selector: field is
    // immutable`). Under a Rollout the pods of the template are `version: stable` until the
    // Rollout's canary metadata labels a canary's pods with its version.
    let label = version.map_or(STABLE_VERSION, |v| v.name.value.as_str());
    let selector = BTreeMap::from([
        ("app".to_owned(), service.name.value.clone()),
        ("version".to_owned(), label.to_owned()),
    ]);
    let mut pod_labels = labels(platform, service);
    pod_labels.insert("version".into(), label.into());
    if service.sidecar_off.is_some() {
        pod_labels.insert("sidecar.istio.io/inject".into(), "false".into());
    }
    let image = match version {
        Some(v) => Some(v.image.clone()),
        None => service.canary_image().filter(|_| rolled_out),
    };
    let mut metadata = meta(platform, service, name, origin);
    if let Some(tag) = image.as_ref().and_then(|i| i.tag.as_ref()) {
        // A tag that is no label value (over 63 characters, or ending in `-`: the API server
        // refuses the object) labels no version, rather than the service's own.
        let value = is_label_value(&tag.value).then(|| tag.value.clone());
        let label = |labels: &mut BTreeMap<String, String>| match &value {
            Some(value) => {
                labels.insert(VERSION_LABEL.into(), value.clone());
            }
            None => {
                labels.remove(VERSION_LABEL);
            }
        };
        label(&mut pod_labels);
        if version.is_some() {
            label(metadata.labels.get_or_insert_default());
        }
    }
    let mut annotations = waiver_annotations(service);
    annotations.extend(origin_annotation(platform, origin));
    // Every weakened default carries its reason where the engineer reading the object sees it.
    for (key, reason) in [
        ("platc.dev/security-reason", &service.security.reason),
        ("platc.dev/sidecar-reason", &service.sidecar_off),
        ("platc.dev/automount-token-reason", &service.automount_token),
    ] {
        if let Some(reason) = reason {
            annotations.insert(key.into(), reason.value.clone());
        }
    }
    metadata.annotations = Some(annotations.clone());
    let mut pod_annotations = annotations;
    // Every latency a gate or an SLO compares with is a bound of the sidecar's histogram.
    if meshed(platform, service)
        && let Some(bounds) = slo::histogram_annotation(service)
    {
        pod_annotations.insert(slo::BUCKETS_ANNOTATION.into(), bounds);
    }
    // The sidecar scrapes the application's own metrics and serves them with its own on the
    // status port, which the sidecar monitor reads (istiod's `enablePrometheusMerge`).
    if meshed(platform, service)
        && let Some((port, path)) = metrics_port(service)
    {
        pod_annotations.insert("prometheus.io/scrape".into(), "true".into());
        pod_annotations.insert(
            "prometheus.io/port".into(),
            port.container_port().to_string(),
        );
        pod_annotations.insert("prometheus.io/path".into(), path.to_owned());
    }
    // A change of a `config` file changes the template, which rolls the pods: their files are
    // `subPath` mounts, which the kubelet never updates in a running pod.
    if !service.configs.is_empty() {
        pod_annotations.insert(
            CONFIG_CHECKSUM_ANNOTATION.into(),
            config_checksum(&config_data(service)),
        );
    }
    // Istio's native sidecar (an init container that keeps running) starts before the pod's
    // own init containers, so they reach their callees through the mesh; a classic sidecar
    // starts after them, while the CNI agent already redirects their traffic to it.
    if meshed(platform, service) && !service.inits.is_empty() {
        pod_annotations.insert("sidecar.istio.io/nativeSidecar".into(), "true".into());
    }
    if rolled_out {
        metadata.annotations.get_or_insert_default().insert(
            ROLLOUT_ANNOTATION.into(),
            format!("the Argo Rollout {name} runs these pods; this Deployment keeps none"),
        );
    }
    // The canary's image, when the Rollout runs one, for every container that runs the
    // service's own image.
    let app_image = platform.image_reference(image.as_ref().unwrap_or(&service.image));
    let pod_spec = pod_spec(platform, service, &app_image);
    Deployment {
        metadata,
        spec: Some(DeploymentSpec {
            // With an autoscaler the HPA owns the replica count; setting it here would fight
            // it on every sync. A Rollout's template states none: the Rollout scales it down
            // (`scaleDown: progressively`) as its own pods come up.
            replicas: if rolled_out {
                None
            } else {
                service
                    .autoscale
                    .is_none()
                    .then(|| i32::try_from(service.replicas.value).unwrap_or(1))
            },
            selector: LabelSelector {
                match_labels: Some(selector),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: Some(pod_annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod_spec),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// The `StatefulSet` of a stateful service: the pods of its Deployment, started one at a time
/// in order (all at once when its replicas are `peers`), each with its own claim per `volume` (kept when the set is deleted or scaled
/// down), named through the headless Service.
pub fn stateful_set(platform: &Platform, service: &Service, stateful: &Stateful) -> StatefulSet {
    let deployment = deployment(platform, service);
    let spec = deployment.spec.unwrap_or_default();
    let mut template = spec.template;
    if let Some(pod) = template.spec.as_mut() {
        // Only the files whose group is not the pod's yet: a large volume is not walked on
        // every start.
        if let Some(context) = pod.security_context.as_mut() {
            context.fs_group_change_policy = Some("OnRootMismatch".into());
        }
    }
    let claims = stateful
        .volumes
        .iter()
        .map(|volume| PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some(volume.name.value.clone()),
                labels: Some(common_labels(platform)),
                ..ObjectMeta::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: Some(EBS_STORAGE_CLASS.into()),
                // The API server's default, written out: with `apiVersion` and `kind` (which
                // k8s-openapi writes) the template is what the cluster returns, and Argo CD
                // sees no drift.
                volume_mode: Some("Filesystem".into()),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([(
                        "storage".to_owned(),
                        Quantity(volume.size.value.text.clone()),
                    )])),
                    ..VolumeResourceRequirements::default()
                }),
                ..PersistentVolumeClaimSpec::default()
            }),
            ..PersistentVolumeClaim::default()
        })
        .collect();
    StatefulSet {
        metadata: deployment.metadata,
        spec: Some(StatefulSetSpec {
            service_name: Some(headless_service(service)),
            replicas: Some(i32::try_from(service.replicas.value).unwrap_or(1)),
            // Replicas that form a quorum become ready only together: started one at a time,
            // the first would wait for peers that are never started.
            pod_management_policy: Some(
                if stateful.peers.is_some() {
                    "Parallel"
                } else {
                    "OrderedReady"
                }
                .into(),
            ),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateStatefulSetStrategy {
                    partition: Some(0),
                    ..RollingUpdateStatefulSetStrategy::default()
                }),
            }),
            // Data outlives the set: deleting the service or lowering `replicas` keeps every
            // claim (and its EBS volume) for a later set of the same name to mount again.
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some("Retain".into()),
                    when_scaled: Some("Retain".into()),
                },
            ),
            selector: spec.selector,
            template,
            volume_claim_templates: Some(claims),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

/// The Job of a service's `migrate`: one container with the service's env (its own `env`
/// after), image (unless given), `ServiceAccount` (so its Pod Identity role, and the
/// database user it may connect as), security context, mounts and the resources it gives.
/// It is an Argo CD `Sync` hook, created anew at each sync (the old one deleted first: a
/// Job's template cannot be changed) in the wave before the workloads, which Argo CD applies
/// only once it has completed. In the mesh its proxy is a native sidecar, which does not keep
/// the Job from completing.
pub fn migration(platform: &Platform, service: &Service, migrate: &Extra) -> Job {
    let name = migration_job(service, migrate);
    let mut metadata = meta(platform, service, &name, migrate.span);
    let mut annotations = waiver_annotations(service);
    annotations.extend(origin_annotation(platform, migrate.span));
    let mut pod_annotations = annotations.clone();
    for (key, value) in [ARGOCD_HOOK, ARGOCD_HOOK_DELETE, HELM_HOOK, HELM_HOOK_DELETE] {
        annotations.insert(key.into(), value.into());
    }
    metadata.annotations = Some(annotations);
    let mut pod_labels = migration_pod_labels(platform, service);
    if service.sidecar_off.is_some() {
        pod_labels.insert("sidecar.istio.io/inject".into(), "false".into());
    }
    if meshed(platform, service) {
        pod_annotations.insert("sidecar.istio.io/nativeSidecar".into(), "true".into());
    }
    let app_image = platform.image_reference(&service.image);
    let mut spec = pod_spec(platform, service, &app_image);
    let (_, mounts) = volumes(platform, service);
    let mut container = extra(platform, service, migrate, &app_image, mounts);
    let mut vars = env(platform, service);
    vars.extend(literal_env(&migrate.env));
    container.env = (!vars.is_empty()).then_some(vars);
    spec.containers = vec![container];
    spec.init_containers = None;
    spec.restart_policy = Some("Never".into());
    Job {
        metadata,
        spec: Some(JobSpec {
            // A failed migration is retried twice, then fails the sync: the workload keeps
            // its previous version.
            backoff_limit: Some(2),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: Some(pod_annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(spec),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}

/// Argo CD runs a migration Job as a `Sync` hook: in its sync wave, before the workloads.
pub const ARGOCD_HOOK: (&str, &str) = ("argocd.argoproj.io/hook", "Sync");
/// The previous run's Job is deleted when the next sync creates it again (it stays until
/// then, with its logs).
pub const ARGOCD_HOOK_DELETE: (&str, &str) = (
    "argocd.argoproj.io/hook-delete-policy",
    "BeforeHookCreation",
);
/// Installed with the Helm chart, the Job is a hook: Helm creates a release's objects after
/// its `pre-install` hooks, so on the first install it runs once they exist (its
/// `ServiceAccount` and `NetworkPolicy` among them), and before the upgraded workload on each
/// upgrade. Argo CD reads these only on an object without its own hook annotation: the two
/// above win.
pub const HELM_HOOK: (&str, &str) = ("helm.sh/hook", "post-install,pre-upgrade");
/// The previous run's Job is deleted when Helm creates the next (a Job's template cannot be
/// changed).
pub const HELM_HOOK_DELETE: (&str, &str) = ("helm.sh/hook-delete-policy", "before-hook-creation");

/// How long, in seconds, a container that serves a port goes on running once its pod is told
/// to stop, before it gets its `SIGTERM`: the endpoint's removal takes that long to reach the
/// callers' proxies (istiod's push) and the nodes (kube-proxy), and requests still arrive
/// meanwhile; an application that exits at once would drop them, and those in flight. Istio's
/// sidecar drains for the same 5 s (its default `terminationDrainDuration`). The kubelet's
/// `sleep` action needs nothing in the image (distroless ones have no `sleep`).
const STOP_DELAY_SECONDS: i64 = 5;

/// The `sleep` action is served from Kubernetes 1.30 (`PodLifecycleSleepAction`, beta and on;
/// alpha and off in 1.29, where the API server drops the field and Argo CD would show the
/// Deployment out of sync forever). Without a known cluster version platc leaves it out.
const SLEEP_ACTION_MINOR: u32 = 30;

/// The pre-stop delay of a container that serves a port, where the cluster runs it.
fn stop_delay(platform: &Platform) -> Option<Lifecycle> {
    platform
        .cluster_minor()
        .is_some_and(|minor| minor >= SLEEP_ACTION_MINOR)
        .then(|| Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction {
                    seconds: STOP_DELAY_SECONDS,
                }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        })
}

fn pod_spec(platform: &Platform, service: &Service, app_image: &str) -> PodSpec {
    let security = &service.security;
    let (volumes, mounts) = volumes(platform, service);
    let mut containers = vec![container(platform, service, app_image, mounts.clone())];
    containers.extend(
        service
            .containers
            .iter()
            .map(|c| extra(platform, service, c, app_image, mounts.clone())),
    );
    if let Some(lifecycle) = stop_delay(platform) {
        for c in containers.iter_mut().filter(|c| c.ports.is_some()) {
            c.lifecycle = Some(lifecycle.clone());
        }
    }
    // An init container (a migration, a wait) gets the application's env first, its own
    // after: the addresses of the callees, the stores' coordinates.
    let shared = env(platform, service);
    let inits: Vec<Container> = service
        .inits
        .iter()
        .map(|c| {
            let mut init = extra(platform, service, c, app_image, mounts.clone());
            let mut vars = shared.clone();
            vars.extend(literal_env(&c.env));
            init.env = (!vars.is_empty()).then_some(vars);
            init
        })
        .collect();
    PodSpec {
        service_account_name: Some(service.name.value.clone()),
        automount_service_account_token: Some(service.automount_token.is_some()),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(security.run_as_non_root),
            run_as_user: Some(i64::from(security.run_as_user)),
            run_as_group: Some(i64::from(security.run_as_group)),
            fs_group: Some(i64::from(security.fs_group)),
            seccomp_profile: Some(seccomp(security.seccomp)),
            sysctls: low_ports(service),
            ..PodSecurityContext::default()
        }),
        init_containers: (!inits.is_empty()).then_some(inits),
        containers,
        volumes: (!volumes.is_empty()).then_some(volumes),
        ..PodSpec::default()
    }
}

/// A container port below 1024: the pod's network namespace lets unprivileged processes bind
/// from the lowest such port on (`net.ipv4.ip_unprivileged_port_start`, a namespaced sysctl
/// the Pod Security Standards allow at every level). Adding `NET_BIND_SERVICE` would not do:
/// for a non-root user Kubernetes puts a capability in the bounding and permitted sets only,
/// and `allowPrivilegeEscalation: false` keeps file capabilities from raising it on `exec`.
fn low_ports(service: &Service) -> Option<Vec<Sysctl>> {
    let lowest = service
        .ports
        .iter()
        .map(Port::container_port)
        .filter(|&p| p < 1024)
        .min()?;
    Some(vec![Sysctl {
        name: UNPRIVILEGED_PORT_START.into(),
        value: lowest.to_string(),
    }])
}

/// The sysctl that sets the lowest port an unprivileged process may bind.
pub const UNPRIVILEGED_PORT_START: &str = "net.ipv4.ip_unprivileged_port_start";

/// An extra or init container: its own image (or the service's), command, args, env, ports
/// (an extra container's) and resources; the hardened security context and the mounts of the
/// application's.
fn extra(
    platform: &Platform,
    service: &Service,
    c: &Extra,
    app_image: &str,
    mounts: Vec<VolumeMount>,
) -> Container {
    let ports = container_ports(service, Some(&c.name.value));
    let env = literal_env(&c.env);
    let first = service
        .ports
        .iter()
        .find(|p| p.container.as_deref() == Some(c.name.value.as_str()));
    Container {
        name: c.name.value.clone(),
        image: Some(
            c.image
                .as_ref()
                .map_or_else(|| app_image.to_owned(), |i| platform.image_reference(i)),
        ),
        image_pull_policy: Some("Always".into()),
        command: kubelet_strings(&c.command),
        args: kubelet_strings(&c.args),
        ports: (!ports.is_empty()).then_some(ports),
        env: (!env.is_empty()).then_some(env),
        resources: Some(requirements(&c.resources)),
        readiness_probe: probe(service, &c.probes, first, |u| {
            matches!(u, ProbeUse::Both | ProbeUse::Readiness)
        }),
        liveness_probe: probe(service, &c.probes, first, |u| {
            matches!(u, ProbeUse::Both | ProbeUse::Liveness)
        }),
        startup_probe: probe(service, &c.probes, first, |u| u == ProbeUse::Startup),
        security_context: Some(hardened(service)),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ..Container::default()
    }
}

/// The ports of the application (`None`) or of one extra container.
fn container_ports(service: &Service, owner: Option<&str>) -> Vec<ContainerPort> {
    service
        .ports
        .iter()
        .filter(|p| p.container.as_deref() == owner)
        .map(|p| ContainerPort {
            name: Some(p.name.value.clone()),
            container_port: i32::from(p.container_port()),
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        })
        .collect()
}

/// A command or its arguments as the kubelet reads them: it expands `$(NAME)` there as in env
/// values, so every `$` doubled is the text as written.
fn kubelet_strings(strings: &[Spanned<String>]) -> Option<Vec<String>> {
    (!strings.is_empty()).then(|| strings.iter().map(|s| s.value.replace('$', "$$")).collect())
}

/// Declared env values, each `$` doubled (the kubelet expands `$(NAME)` and reduces `$$`).
fn literal_env(vars: &[Var]) -> Vec<EnvVar> {
    vars.iter()
        .map(|v| EnvVar {
            name: v.name.value.clone(),
            value: Some(v.value.value.replace('$', "$$")),
            ..EnvVar::default()
        })
        .collect()
}

fn requirements(resources: &Resources) -> ResourceRequirements {
    let quantity = |q: &Spanned<Amount>| Quantity(q.text.clone());
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_owned(), quantity(&resources.cpu)),
            ("memory".to_owned(), quantity(&resources.memory)),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_owned(), quantity(&resources.cpu_limit)),
            ("memory".to_owned(), quantity(&resources.memory_limit)),
        ])),
        ..ResourceRequirements::default()
    }
}

/// The security context of every container of the pod: the service's `security`.
fn hardened(service: &Service) -> SecurityContext {
    let security = &service.security;
    SecurityContext {
        allow_privilege_escalation: Some(security.privilege_escalation),
        privileged: Some(false),
        read_only_root_filesystem: Some(security.read_only_root),
        run_as_non_root: Some(security.run_as_non_root),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: Some(
                security
                    .add_capabilities
                    .iter()
                    .map(|c| c.value.clone())
                    .collect(),
            )
            .filter(|a: &Vec<String>| !a.is_empty()),
        }),
        ..SecurityContext::default()
    }
}

fn seccomp(profile: Seccomp) -> SeccompProfile {
    let kind = match profile {
        Seccomp::RuntimeDefault => "RuntimeDefault",
        Seccomp::Unconfined => "Unconfined",
    };
    SeccompProfile {
        type_: kind.to_owned(),
        ..SeccompProfile::default()
    }
}

fn container(
    platform: &Platform,
    service: &Service,
    app_image: &str,
    mounts: Vec<VolumeMount>,
) -> Container {
    let ports = container_ports(service, None);
    let first = service.ports.iter().find(|p| p.container.is_none());
    Container {
        name: service.name.value.clone(),
        image: Some(app_image.to_owned()),
        // Tags can be moved; pulling every time makes the registry the source of truth.
        image_pull_policy: Some("Always".into()),
        command: kubelet_strings(&service.command),
        args: kubelet_strings(&service.args),
        ports: (!ports.is_empty()).then_some(ports),
        env: Some(env(platform, service)).filter(|e| !e.is_empty()),
        resources: Some(requirements(&service.resources)),
        readiness_probe: probe(service, &service.probes, first, |u| {
            matches!(u, ProbeUse::Both | ProbeUse::Readiness)
        }),
        liveness_probe: probe(service, &service.probes, first, |u| {
            matches!(u, ProbeUse::Both | ProbeUse::Liveness)
        }),
        startup_probe: probe(service, &service.probes, first, |u| u == ProbeUse::Startup),
        security_context: Some(hardened(service)),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ..Container::default()
    }
}

/// The declared env, then the address of every callee under its `env=` name.
fn env(platform: &Platform, service: &Service) -> Vec<EnvVar> {
    let mut vars = literal_env(&service.env);
    for call in &service.calls {
        let (Some(env), Some(callee)) = (&call.env, platform.service(&call.service.value)) else {
            continue;
        };
        vars.push(EnvVar {
            name: env.value.clone(),
            // A `path=` is the user's text: its `$` doubled like any env value's.
            value: Some(call_address(callee, call).replace('$', "$$")),
            ..EnvVar::default()
        });
    }
    for external in &service.externals {
        let Some(env) = &external.env else { continue };
        vars.push(EnvVar {
            name: env.value.clone(),
            value: Some(external_address(external).replace('$', "$$")),
            ..EnvVar::default()
        });
    }
    // Where the stores it `uses` are: bucket and table names as platc names them, and what
    // only AWS knows (a database's address) from the ConfigMap the Terraform cluster stage
    // writes.
    let config_map = stores_config_map(&service.name.value);
    vars.extend(
        platform
            .store_env(service)
            .into_iter()
            .map(|v| match v.value {
                // platc's own `$(VAR)` references, to variables set before it.
                StoreValue::Literal(value) | StoreValue::Composed(value) => EnvVar {
                    name: v.name,
                    value: Some(value),
                    ..EnvVar::default()
                },
                StoreValue::Secret { name, key } => EnvVar {
                    name: v.name,
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name,
                            key,
                            optional: Some(false),
                        }),
                        ..EnvVarSource::default()
                    }),
                    ..EnvVar::default()
                },
                StoreValue::Endpoint(_) => EnvVar {
                    value_from: Some(EnvVarSource {
                        config_map_key_ref: Some(ConfigMapKeySelector {
                            name: config_map.clone(),
                            key: v.name.clone(),
                            optional: Some(false),
                        }),
                        ..EnvVarSource::default()
                    }),
                    name: v.name,
                    ..EnvVar::default()
                },
            }),
    );
    vars
}

/// The first of `probes` that serves as `wanted`; one without `port=` checks `first`, the
/// first port of its container.
fn probe(
    service: &Service,
    probes: &[Probe],
    first: Option<&Port>,
    wanted: impl Fn(ProbeUse) -> bool,
) -> Option<K8sProbe> {
    let probe = probes.iter().find(|p| wanted(p.used_for.value))?;
    Some(k8s_probe(service, probe, first))
}

fn k8s_probe(service: &Service, probe: &Probe, first: Option<&Port>) -> K8sProbe {
    let port = probe
        .port
        .as_ref()
        .and_then(|p| service.port(&p.value))
        .or(first)
        .map_or(0, |p| i32::from(p.container_port()));
    let seconds = |d: &Option<crate::span::Spanned<crate::model::value::Duration>>| {
        d.as_ref()
            .map(|d| i32::try_from(d.seconds()).unwrap_or(i32::MAX))
    };
    let mut out = K8sProbe {
        initial_delay_seconds: seconds(&probe.initial_delay),
        period_seconds: seconds(&probe.period),
        timeout_seconds: seconds(&probe.timeout),
        failure_threshold: probe
            .failure_threshold
            .as_ref()
            .map(|n| i32::try_from(n.value).unwrap_or(i32::MAX)),
        ..K8sProbe::default()
    };
    match probe.kind.value {
        ProbeKind::Grpc => {
            out.grpc = Some(GRPCAction {
                port,
                service: None,
            });
        }
        ProbeKind::Http => {
            let headers: Vec<HTTPHeader> = probe
                .headers
                .iter()
                .map(|(name, value)| HTTPHeader {
                    name: name.value.clone(),
                    value: value.value.clone(),
                })
                .collect();
            out.http_get = Some(HTTPGetAction {
                path: Some(
                    probe
                        .path
                        .as_ref()
                        .map_or_else(|| "/".to_owned(), |p| p.value.clone()),
                ),
                port: IntOrString::Int(port),
                http_headers: (!headers.is_empty()).then_some(headers),
                ..HTTPGetAction::default()
            });
        }
        ProbeKind::Tcp => {
            out.tcp_socket = Some(TCPSocketAction {
                port: IntOrString::Int(port),
                ..TCPSocketAction::default()
            });
        }
        ProbeKind::Exec => {
            out.exec = Some(ExecAction {
                command: Some(probe.command.iter().map(|c| c.value.clone()).collect()),
            });
        }
    }
    out
}

/// The service's emptyDirs, file systems and secrets, plus one at `/tmp` when the root file system is read-only and
/// nothing else is mounted there: most runtimes need a writable temp directory.
fn volumes(platform: &Platform, service: &Service) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    for volume in &service.volumes {
        volumes.push(Volume {
            name: volume.name.value.clone(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: volume.size_limit.as_ref().map(|q| Quantity(q.text.clone())),
                ..EmptyDirVolumeSource::default()
            }),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name: volume.name.value.clone(),
            mount_path: volume.path.value.clone(),
            ..VolumeMount::default()
        });
    }
    // The file systems it mounts, each through its own claim on the file system's
    // StorageClass (every claim of it shares one directory).
    for used in service
        .uses
        .iter()
        .filter(|u| u.kind.value == StoreKind::Filesystem)
    {
        volumes.push(Volume {
            name: used.name.value.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: used.claim(&service.name.value),
                read_only: Some(false),
            }),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name: used.name.value.clone(),
            mount_path: used.mount_path(),
            ..VolumeMount::default()
        });
    }
    // The secrets it reads, each from the Secrets Store CSI driver.
    let (secret_volumes, secret_mounts) = super::secrets::volumes(platform, service);
    volumes.extend(secret_volumes);
    mounts.extend(secret_mounts);
    // The `config` files, each a key of the service's ConfigMap mounted as one file.
    if !service.configs.is_empty() {
        volumes.push(Volume {
            name: CONFIG_VOLUME.into(),
            config_map: Some(ConfigMapVolumeSource {
                name: config_map(service),
                optional: Some(false),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        });
        for config in &service.configs {
            mounts.push(VolumeMount {
                name: CONFIG_VOLUME.into(),
                mount_path: config.path.value.clone(),
                sub_path: Some(config.name.value.clone()),
                read_only: Some(true),
                ..VolumeMount::default()
            });
        }
    }
    // Each claim of a stateful service's pod, from the StatefulSet's claim templates.
    let claims = service.stateful.iter().flat_map(|s| &s.volumes);
    for claim in claims.clone() {
        mounts.push(VolumeMount {
            name: claim.name.value.clone(),
            mount_path: claim.path.value.clone(),
            ..VolumeMount::default()
        });
    }
    let tmp_mounted = service.volumes.iter().any(|v| v.path.value == "/tmp")
        || claims.clone().any(|c| c.path.value == "/tmp");
    let tmp_name_taken = service.volumes.iter().any(|v| v.name.value == "tmp")
        || claims.clone().any(|c| c.name.value == "tmp")
        || service.uses.iter().any(|u| {
            matches!(u.kind.value, StoreKind::Filesystem | StoreKind::Secret)
                && u.name.value == "tmp"
        });
    if service.security.read_only_root && !tmp_mounted && !tmp_name_taken {
        volumes.push(Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: Some(Quantity("64Mi".into())),
                ..EmptyDirVolumeSource::default()
            }),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name: "tmp".into(),
            mount_path: "/tmp".into(),
            ..VolumeMount::default()
        });
    }
    (volumes, mounts)
}
