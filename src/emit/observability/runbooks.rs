//! The runbook of every alert platc generates, written beside the rules
//! (`monitoring/runbooks/<slug>.md`), and the `runbook_url` each alert carries: the runbook in
//! the repository Argo CD syncs `out/` from, as its web page (`<repo>/blob/<revision>/<path>/…`,
//! the form GitHub, Gitea and Forgejo serve), or without `argocd` its path under `out/`.

use std::collections::BTreeSet;

use crate::encode::generated;
use crate::model::Platform;
use crate::output::{Item, Owner};
use crate::span::Span;

/// An alert's runbook.
pub struct Runbook {
    pub alert: &'static str,
    pub slug: &'static str,
    pub title: &'static str,
    /// Markdown: what the alert means, what to look at, what to do.
    pub body: &'static str,
}

pub const AVAILABILITY: Runbook = Runbook {
    alert: "AvailabilityErrorBudgetBurn",
    slug: "availability-error-budget-burn",
    title: "A service is burning its availability error budget",
    body: "\
The share of the service's failed requests (HTTP 5xx, or a gRPC status that means the server
failed: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS), measured
by its own sidecars, has been above what its SLO allows over both a long and a short window.
`critical` pages: at this pace the 30-day budget is gone within days. `warning` opens a ticket:
it will be gone before the 30 days are.

1. Open the service's dashboard (Grafana, folder of the platform): which revision fails
   (stable or canary), since when, and which status codes.
2. A canary running? Abort it: `kubectl argo rollouts abort <service> -n <namespace>`.
3. Recent change? Compare with the last good commit of `platform.kdl` and roll back through Git.
4. Failing dependency? The service's own calls fail first: check the dashboards of the
   services it calls, and Kiali's graph.
5. Pods restarting or not ready? See the PodCrashLooping and PodNotReady runbooks.
",
};

pub const LATENCY: Runbook = Runbook {
    alert: "LatencyErrorBudgetBurn",
    slug: "latency-error-budget-burn",
    title: "A service is burning its latency error budget",
    body: "\
More of the service's requests than its SLO allows have taken longer than its latency
threshold, over both a long and a short window, as its own sidecars measure them.

1. Open the service's dashboard: p50/p95/p99 by revision, CPU against its limit (throttling
   shows as CPU flat at the limit), replicas against the autoscaler's maximum.
2. At its CPU limit or its autoscaler's maximum? Raise `resources` or `autoscale max=` in
   `platform.kdl`.
3. Slow dependency? Check the latency of the services it calls.
4. A canary running? Compare the canary's latency with the stable's; abort it if it is the
   slow one.
",
};

pub const CRASH_LOOPING: Runbook = Runbook {
    alert: "PodCrashLooping",
    slug: "pod-crash-looping",
    title: "A container is crash-looping",
    body: "\
A container of the platform keeps exiting and Kubernetes keeps restarting it, with a growing
back-off.

1. `kubectl logs -n <namespace> <pod> -c <container> --previous`: why did it exit?
2. `kubectl describe pod -n <namespace> <pod>`: `OOMKilled` (raise `memory-limit`), a failed
   liveness probe (check the probe's port and path in `platform.kdl`), or an exit code.
3. A missing setting or secret? Compare the container's environment with `platform.kdl`.
",
};

pub const NOT_READY: Runbook = Runbook {
    alert: "PodNotReady",
    slug: "pod-not-ready",
    title: "A pod has not been ready for 15 minutes",
    body: "\
A pod of the platform has been pending, failing its readiness probe, or unable to start for
15 minutes: its Service sends it no traffic.

1. `kubectl describe pod -n <namespace> <pod>`: unschedulable (no node has the requested CPU or
   memory: the Cluster Autoscaler may be at its node group's `max`), an image that cannot be
   pulled, or a failing readiness probe.
2. A failing probe: check the probe's port and path in `platform.kdl` against the application.
",
};

pub const UNAVAILABLE: Runbook = Runbook {
    alert: "WorkloadUnavailable",
    slug: "workload-unavailable",
    title: "A service has no ready pod",
    body: "\
A Deployment, Argo Rollout or StatefulSet of the platform (`owner_name`, in `namespace`) has
wanted pods for 5 minutes and none of its pods is ready: its Service has no endpoint, every
call to it fails, and its own SLO alerts stay silent, since its sidecars see no request.

1. `kubectl get pods -n <namespace>`: pending (no node has room: the Cluster Autoscaler may
   be at its node group's `max`), an image that cannot be pulled, crash-looping, or failing
   its readiness probe. `kubectl describe pod -n <namespace> <pod>` says which.
2. A canary service? `kubectl argo rollouts get rollout <owner_name> -n <namespace>` shows
   each ReplicaSet's pods: its stable ones are down too, so aborting the canary restores
   nothing.
3. A recent change? Compare with the last good commit of `platform.kdl` and roll back
   through Git.
",
};

pub const AUTOSCALER_AT_MAX: Runbook = Runbook {
    alert: "AutoscalerAtMaximum",
    slug: "autoscaler-at-maximum",
    title: "An autoscaler has run at its maximum for 15 minutes",
    body: "\
A HorizontalPodAutoscaler has kept its workload at `autoscale max=` for 15 minutes: the load
may need more replicas than it may scale to, and latency is likely to rise.

1. Check the service's dashboard: CPU against requests, latency, error ratio.
2. Sustained load? Raise `autoscale max=` (and the node group's `max`, if nodes are short).
",
};

pub const AUTOSCALER_NOT_ACTIVE: Runbook = Runbook {
    alert: "AutoscalerNotActive",
    slug: "autoscaler-not-active",
    title: "An autoscaler cannot compute a replica count",
    body: "\
A HorizontalPodAutoscaler has reported `ScalingActive=False` for 15 minutes: it cannot compute
a replica count from its metrics, so it keeps its workload at its current size, whatever the
load, and neither scales out nor back in.

1. `kubectl describe hpa <name> -n <namespace>`: the condition's reason and message say why;
   `FailedGetResourceMetric` is no CPU metrics for the workload's pods.
2. The resource metrics API: `kubectl get apiservice v1beta1.metrics.k8s.io` must be
   `Available`, and `kubectl top pods -n <namespace>` must list the pods. metrics-server serves
   it (`kubectl get pods -n kube-system -l app.kubernetes.io/name=metrics-server`).
3. A utilization needs a CPU request on every container of the pod, the mesh's sidecar
   included: check the pod's containers (`kubectl get pod <pod> -n <namespace> -o yaml`).
",
};

pub const MEMORY: Runbook = Runbook {
    alert: "ContainerMemoryNearLimit",
    slug: "container-memory-near-limit",
    title: "A container is near its memory limit",
    body: "\
A container's working set has stayed above 90% of its memory limit for 15 minutes. Past the
limit the kernel kills it (`OOMKilled`).

1. Check the service's dashboard: memory against requests and limits, and whether it grows
   steadily (a leak) or with load.
2. Raise `memory-limit` (and `memory`) in the service's `resources`, or fix the leak.
",
};

pub const NODE_PRESSURE: Runbook = Runbook {
    alert: "NodeUnderPressure",
    slug: "node-under-pressure",
    title: "A node is under resource pressure",
    body: "\
The kubelet reports memory, disk or PID pressure on a node: it evicts pods and admits no new
ones until the pressure ends.

1. `kubectl describe node <node>`: which condition, and the pods using the most.
2. Memory: pods without limits, or limits summing above the node's memory. Disk: images and
   logs filling the root volume. PIDs: a process forking without bound.
3. The cluster dashboard shows the node's CPU, memory and disk over time.
",
};

pub const CERTIFICATE_NOT_READY: Runbook = Runbook {
    alert: "GatewayCertificateNotReady",
    slug: "gateway-certificate-not-ready",
    title: "A gateway's certificate is not ready",
    body: "\
cert-manager has had no valid, up-to-date certificate for a gateway's hosts for 30 minutes:
its first issuance, or the one after a change of the gateway's hosts, failed. Clients of the
hosts get no certificate, or one without the new hosts. In Argo CD, the platform's `edge`
Application is Degraded (or Progressing while cert-manager retries) for the same reason; no
other Application waits on it.

1. `kubectl describe certificate <name> -n <namespace>`: its `Ready` and `Issuing` conditions
   say why; `kubectl get certificaterequests,orders,challenges -n <namespace>` shows where
   the ACME order stopped, and `kubectl describe clusterissuer letsencrypt` whether the ACME
   account registered.
2. DNS-01 (a platform with `aws { domain … }`): the domain's registrar must delegate it to the
   Route53 zone, and cert-manager's role may change that zone's records. HTTP-01: each host
   must resolve to the gateway's load balancer, with port 80 open.
3. Let's Encrypt's rate limits (failed validations per host and hour, certificates per domain
   and week): the order's error names the limit. Fix the cause before retrying.
4. Once fixed, `cmctl renew <name> -n <namespace>` (cert-manager's CLI, also a kubectl
   plugin: `kubectl cert-manager renew`) retries at once, not after cert-manager's backoff.
",
};

pub const CERTIFICATE_EXPIRING: Runbook = Runbook {
    alert: "GatewayCertificateExpiring",
    slug: "gateway-certificate-expiring",
    title: "A gateway's certificate ends soon and has not been renewed",
    body: "\
cert-manager renews a gateway's certificate 30 days before it ends (`renewBefore`); this one
ends within 20 days, so its renewal has failed for 10 days. The gateway still serves the old
certificate; when it ends, clients refuse the gateway's hosts. The alert is a warning until
the certificate's last 7 days, and critical in them.

1. `kubectl describe certificate <name> -n <namespace>`: its `Issuing` condition says why the
   renewal failed; `kubectl get certificaterequests,orders,challenges -n <namespace>` shows
   where the ACME order stopped.
2. DNS-01 (a platform with `aws { domain … }`): the domain's registrar must still delegate it
   to the Route53 zone, and cert-manager's role may change that zone's records. HTTP-01: each
   host must resolve to the gateway's load balancer, with port 80 open.
3. Once fixed, `cmctl renew <name> -n <namespace>` (cert-manager's CLI, also a kubectl
   plugin: `kubectl cert-manager renew`) retries at once, not after cert-manager's backoff.
",
};

pub const CERTIFICATE_UNMEASURED: Runbook = Runbook {
    alert: "GatewayCertificateUnmeasured",
    slug: "gateway-certificate-unmeasured",
    title: "A gateway's certificate is not measured",
    body: "\
Prometheus has had no series of cert-manager's for a gateway's certificate for an hour, so
the alerts on the certificate's readiness and its end cannot fire.

1. `kubectl get certificate <name> -n <namespace>`: the `Certificate` must exist. With Argo
   CD, the platform's `edge` Application deploys it: is it synced?
2. `kubectl get pods -n cert-manager`: cert-manager's controller must run; it reports every
   `Certificate` on its `http-metrics` port (9402).
3. Prometheus's targets (Status, Targets, `podMonitor/monitoring/cert-manager/0`): the target
   must be up; `up{namespace=\"cert-manager\"}` says the same.
",
};

/// Every runbook, in the order the files are written.
pub const ALL: [&Runbook; 12] = [
    &AVAILABILITY,
    &LATENCY,
    &UNAVAILABLE,
    &CRASH_LOOPING,
    &NOT_READY,
    &AUTOSCALER_AT_MAX,
    &AUTOSCALER_NOT_ACTIVE,
    &MEMORY,
    &NODE_PRESSURE,
    &CERTIFICATE_NOT_READY,
    &CERTIFICATE_EXPIRING,
    &CERTIFICATE_UNMEASURED,
];

/// The path of a runbook under `out/`.
fn path(runbook: &Runbook) -> String {
    format!("monitoring/runbooks/{}.md", runbook.slug)
}

/// The web address of a Git repository's files: `https://host/owner/name` from an HTTPS URL
/// or an SSH one (`git@host:owner/name.git`), without `.git`.
fn web(repo: &str) -> Option<String> {
    let repo = repo.trim_end_matches('/').trim_end_matches(".git");
    if let Some(rest) = repo.strip_prefix("https://") {
        return Some(format!("https://{rest}"));
    }
    let rest = repo.strip_prefix("ssh://").unwrap_or(repo);
    let rest = rest.split_once('@').map_or(rest, |(_, host)| host);
    let (host, path) = rest.split_once([':', '/'])?;
    Some(format!("https://{host}/{}", path.trim_start_matches('/')))
}

/// The `runbook_url` of an alert.
pub fn url(platform: &Platform, runbook: &Runbook) -> String {
    let Some(argocd) = &platform.delivery.argocd else {
        return path(runbook);
    };
    let Some(base) = web(&argocd.repo.value) else {
        return path(runbook);
    };
    let dir = argocd.path.value.trim_matches('/');
    let dir = if dir.is_empty() || dir == "." {
        String::new()
    } else {
        format!("{dir}/")
    };
    format!(
        "{base}/blob/{}/{dir}{}",
        argocd.revision.value,
        path(runbook)
    )
}

/// The runbook files of the alerts the platform has.
pub fn items(platform: &Platform, origin: Span, alerts: &BTreeSet<String>) -> Vec<Item> {
    let from = platform.origin.path(origin);
    ALL.iter()
        .filter(|runbook| alerts.contains(runbook.alert))
        .map(|runbook| {
            Item::text(
                path(runbook),
                Owner::Platform,
                origin,
                format!(
                    "<!-- {} -->\n# {}: {}\n\n{}",
                    generated(&from),
                    runbook.alert,
                    runbook.title,
                    runbook.body
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::web;

    #[test]
    fn repositories_have_web_addresses() {
        assert_eq!(
            web("https://github.com/acme/shop.git").as_deref(),
            Some("https://github.com/acme/shop")
        );
        assert_eq!(
            web("git@github.com:acme/shop.git").as_deref(),
            Some("https://github.com/acme/shop")
        );
        assert_eq!(
            web("ssh://git@gitea.example.com/acme/shop.git").as_deref(),
            Some("https://gitea.example.com/acme/shop")
        );
        assert_eq!(web("not a url"), None);
    }
}
