//! The cluster and its nodes: node conditions and pod phases from kube-state-metrics, CPU,
//! memory and root file system of each node from node-exporter (both installed by
//! kube-prometheus-stack), and how much of the nodes' allocatable resources pods request.

use crate::model::Checked;

use super::model::{Dashboard, GRAPH, Grid, STAT, Spec, Step, Variable};
use super::{Board, namespace_regex};

/// The variable of the nodes the per-node panels show (node-exporter's `instance`).
const INSTANCE: &str = "instance";
/// The window of the graphs' rates.
const RATE: &str = "$__rate_interval";

/// The cluster dashboard.
pub fn dashboard(platform: &Checked) -> Dashboard {
    let ns = namespace_regex(platform);
    let node = format!("{INSTANCE}=~\"${INSTANCE}\"");
    let alarm = |color| {
        vec![Step {
            value: Some(1.0),
            color,
        }]
    };
    let mut grid = Grid::default();
    grid.row("Cluster");
    for (title, expr, steps) in [
        (
            "Nodes ready",
            "sum(kube_node_status_condition{condition=\"Ready\",status=\"true\"})".to_owned(),
            Vec::new(),
        ),
        (
            "Nodes not ready",
            "sum(kube_node_status_condition{condition=\"Ready\",status!=\"true\"})".to_owned(),
            alarm("red"),
        ),
        (
            "Nodes under pressure",
            "sum(kube_node_status_condition{condition=~\"MemoryPressure|DiskPressure|PIDPressure\",status=\"true\"})"
                .to_owned(),
            alarm("red"),
        ),
        (
            "Pods pending",
            "sum(kube_pod_status_phase{phase=\"Pending\"})".to_owned(),
            alarm("orange"),
        ),
        (
            "Pods failed",
            "sum(kube_pod_status_phase{phase=\"Failed\"})".to_owned(),
            alarm("red"),
        ),
        (
            "CPU in use",
            format!("1 - avg(rate(node_cpu_seconds_total{{mode=\"idle\"}}[{RATE}]))"),
            Vec::new(),
        ),
    ] {
        let unit = if title == "CPU in use" {
            "percentunit"
        } else {
            "short"
        };
        grid.add(Spec::new(STAT, title, unit).query(expr, "").thresholds(steps));
    }
    grid.add(
        Spec::new(GRAPH, "Requested share of allocatable", "percentunit")
            .describe("What the pods' containers request, over what the nodes can allocate.")
            .min(0.0)
            .query(
                "sum(kube_pod_container_resource_requests{resource=\"cpu\"}) / sum(kube_node_status_allocatable{resource=\"cpu\"})",
                "cpu",
            )
            .query(
                "sum(kube_pod_container_resource_requests{resource=\"memory\"}) / sum(kube_node_status_allocatable{resource=\"memory\"})",
                "memory",
            ),
    );
    grid.add(
        Spec::new(GRAPH, "Node conditions", "short")
            .describe("Nodes in each condition other than Ready.")
            .min(0.0)
            .by("sum by (condition) (kube_node_status_condition{condition!=\"Ready\",status=\"true\"})", "condition"),
    );
    grid.row("Nodes");
    grid.add(
        Spec::new(GRAPH, "CPU in use by node", "percentunit")
            .min(0.0)
            .max(1.0)
            .by(format!(
                    "1 - avg by ({INSTANCE}) (rate(node_cpu_seconds_total{{mode=\"idle\",{node}}}[{RATE}]))"
                ), INSTANCE),
    );
    grid.add(
        Spec::new(GRAPH, "Memory in use by node", "percentunit")
            .min(0.0)
            .max(1.0)
            .by(format!(
                    "1 - node_memory_MemAvailable_bytes{{{node}}} / node_memory_MemTotal_bytes{{{node}}}"
                ), INSTANCE),
    );
    let root = format!("{node},mountpoint=\"/\",fstype!~\"tmpfs|overlay|squashfs\"");
    grid.add(
        Spec::new(GRAPH, "Root file system available by node", "percentunit")
            .min(0.0)
            .max(1.0)
            .by(format!(
                    "min by ({INSTANCE}) (node_filesystem_avail_bytes{{{root}}} / node_filesystem_size_bytes{{{root}}})"
                ), INSTANCE),
    );
    grid.add(
        Spec::new(GRAPH, "Memory available by node", "bytes")
            .min(0.0)
            .by(
                format!("node_memory_MemAvailable_bytes{{{node}}}"),
                INSTANCE,
            ),
    );
    grid.row("Pods");
    grid.add(
        Spec::new(GRAPH, "Pods by phase", "short")
            .min(0.0)
            .by("sum by (phase) (kube_pod_status_phase)", "phase"),
    );
    grid.add(
        Spec::new(
            GRAPH,
            format!("Pods of {} by phase", platform.name.value),
            "short",
        )
        .min(0.0)
        .by(
            format!("sum by (phase) (kube_pod_status_phase{{namespace=~\"{ns}\"}})"),
            "phase",
        ),
    );
    let mut dashboard = Board::Cluster.dashboard(
        platform,
        format!(
            "The cluster {} runs on and its nodes, from kube-state-metrics and node-exporter. \
             Generated by platc.",
            platform.name.value
        ),
    );
    dashboard.templating.list.push(Variable::values(
        INSTANCE,
        "Node",
        "label_values(node_uname_info, instance)".to_owned(),
    ));
    dashboard.panels = grid.finish();
    dashboard
}
