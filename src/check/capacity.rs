//! Whether the node groups can hold every service at its autoscaling maximum (a warning: the
//! cluster autoscaler and spare headroom make it a judgement call, not an error).
//!
//! What counts: each service's requests per replica, plus the Istio sidecar's requests when it
//! runs in the mesh (`model::addons::SIDECAR_REQUESTS`, pinned in istiod's values); a canary's
//! extra copy; the add-ons' own pods (their requests are pinned in their values); and on every
//! node the per-node agents (CNI, kube-proxy, CSI drivers, the Istio CNI agent, node exporter),
//! which take their share of each node before any service is scheduled.

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::model::Platform;
use crate::model::addons::{self, Scale};
use crate::model::value::InstanceType;

/// vCPUs and memory (MiB) of an instance type, for the families platc knows.
pub fn instance_size(instance: &InstanceType) -> Option<(u64, u64)> {
    // Burstable families have their own table.
    let burstable = match (instance.family.as_str(), instance.size.as_str()) {
        (f, s) if f.starts_with('t') => Some(match s {
            "nano" => (2, 512),
            "micro" => (2, 1024),
            "small" => (2, 2048),
            "medium" => (2, 4096),
            "large" => (2, 8192),
            "xlarge" => (4, 16_384),
            "2xlarge" => (8, 32_768),
            _ => return None,
        }),
        _ => None,
    };
    if burstable.is_some() {
        return burstable;
    }
    let vcpus: u64 = match instance.size.as_str() {
        "medium" => 1,
        "large" => 2,
        "xlarge" => 4,
        size => size.strip_suffix("xlarge")?.parse::<u64>().ok()? * 4,
    };
    // MiB of memory per vCPU by family class.
    let per_vcpu = match instance.family.chars().next()? {
        'c' => 2048,
        'm' => 4096,
        'r' => 8192,
        'x' => 16_384,
        _ => return None,
    };
    Some((vcpus, vcpus * per_vcpu))
}

const MIB: u128 = 1 << 20;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    let Some(cluster) = platform.aws.as_ref().and_then(|aws| aws.cluster.as_ref()) else {
        return;
    };
    let installed = addons::installed(platform);
    let workloads = || installed.iter().flat_map(|a| a.workloads.iter());
    // What every node gives its per-node agents before anything else is scheduled.
    let (agent_cpu, agent_memory) =
        workloads()
            .filter(|w| w.scale == Scale::PerNode)
            .fold((0u128, 0u128), |(c, m), w| {
                (
                    c + u128::from(w.requests.cpu_millis),
                    m + u128::from(w.requests.memory_mib) * MIB,
                )
            });
    let mut cpu_available: u128 = 0;
    let mut memory_available: u128 = 0;
    for group in &cluster.node_groups {
        // A family platc does not know: no claim either way.
        let Some((vcpus, mib)) = instance_size(&group.instance) else {
            return;
        };
        let nodes = u128::from(group.max.value);
        // Leave what the kubelet and the system daemons reserve: about 10% of CPU and 20% of
        // memory, then the per-node agents' requests.
        cpu_available += nodes * (u128::from(vcpus) * 900).saturating_sub(agent_cpu);
        memory_available += nodes * (u128::from(mib) * MIB * 8 / 10).saturating_sub(agent_memory);
    }
    let mut cpu_needed: u128 = 0;
    let mut memory_needed: u128 = 0;
    let sidecar = addons::SIDECAR_REQUESTS;
    for service in &platform.services {
        let replicas = u128::from(
            service
                .autoscale
                .as_ref()
                .map_or(service.replicas.value, |a| a.max.value),
        );
        let copies = replicas + u128::from(service.canary.is_some());
        cpu_needed += copies * service.resources.cpu.amount;
        memory_needed += copies * service.resources.memory.amount;
        if platform.mesh.is_some() && service.sidecar_off.is_none() {
            cpu_needed += copies * u128::from(sidecar.cpu_millis);
            memory_needed += copies * u128::from(sidecar.memory_mib) * MIB;
        }
    }
    for workload in workloads() {
        if let Scale::Replicas(n) = workload.scale {
            cpu_needed += u128::from(n) * u128::from(workload.requests.cpu_millis);
            memory_needed += u128::from(n) * u128::from(workload.requests.memory_mib) * MIB;
        }
    }
    let span = cluster.node_groups.first().map_or(cluster.span, |g| g.span);
    if cpu_needed > cpu_available {
        d.push(Diagnostic::new(
            ErrorKind::Capacity {
                resource: "cpu",
                needed: format!("{cpu_needed}m"),
                available: format!("{cpu_available}m"),
            },
            span,
        ));
    }
    if memory_needed > memory_available {
        d.push(Diagnostic::new(
            ErrorKind::Capacity {
                resource: "memory",
                needed: format!("{}Mi", memory_needed >> 20),
                available: format!("{}Mi", memory_available >> 20),
            },
            span,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::instance_size;
    use crate::lower::value::instance_type;

    #[test]
    fn sizes_of_common_types() {
        let size = |t| instance_size(&instance_type(t, "").unwrap());
        assert_eq!(size("m6i.large"), Some((2, 8192)));
        assert_eq!(size("c6i.4xlarge"), Some((16, 32_768)));
        assert_eq!(size("t3.medium"), Some((2, 4096)));
        assert_eq!(size("p4d.24xlarge"), None);
    }
}
