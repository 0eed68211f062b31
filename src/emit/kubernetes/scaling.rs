//! `HorizontalPodAutoscaler` (autoscaling/v2) and `PodDisruptionBudget` (policy/v1).

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::emit::conventions::{meta, scale_target, version_workload};
use crate::model::Platform;
use crate::model::service::{Autoscale, Service, Version};
use crate::model::value::Percent;

/// The autoscaler of a service's workload, or of one of its versions' Deployments.
pub fn autoscaler(
    platform: &Platform,
    service: &Service,
    autoscale: &Autoscale,
    version: Option<&Version>,
) -> HorizontalPodAutoscaler {
    let metric = |resource: &str, target: Percent| MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: resource.into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                // Utilization is a whole percentage of the request.
                average_utilization: Some(
                    i32::try_from(target.thousandths.div_ceil(1000)).unwrap_or(100),
                ),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    };
    let mut metrics = Vec::new();
    if let Some(cpu) = &autoscale.cpu {
        metrics.push(metric("cpu", cpu.value));
    }
    if let Some(memory) = &autoscale.memory {
        metrics.push(metric("memory", memory.value));
    }
    // The workload that owns the pods and their count: the Rollout, with a canary.
    let (api_version, kind) = scale_target(platform, service);
    let name = version.map_or_else(
        || service.name.value.clone(),
        |v| version_workload(service, v),
    );
    HorizontalPodAutoscaler {
        metadata: meta(platform, service, &name, autoscale.span),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some(api_version.into()),
                kind: kind.into(),
                name,
            },
            min_replicas: Some(i32::try_from(autoscale.min.value).unwrap_or(1)),
            max_replicas: i32::try_from(autoscale.max.value).unwrap_or(1),
            metrics: Some(metrics),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    }
}

/// A budget of one pod down at a time over all the service's pods (every version's: the
/// disruption controller sums the scale of each Deployment that owns a selected pod), for
/// services that run two or more pods, and for every stateful service: a drain then evicts its pods one at a time, each after the previous
/// one is back. With one replica the budget still lets a drain evict the pod (a budget that
/// forbids it would block every node upgrade); the data waits on its volume.
pub fn disruption_budget(platform: &Platform, service: &Service) -> Option<PodDisruptionBudget> {
    let per_workload = service
        .autoscale
        .as_ref()
        .map_or(service.replicas.value, |a| a.min.value);
    let workloads = u32::try_from(service.versions.len() + 1).unwrap_or(u32::MAX);
    let replicas = per_workload.saturating_mul(workloads);
    if replicas < 2 && service.stateful.is_none() {
        return None;
    }
    Some(PodDisruptionBudget {
        metadata: meta(platform, service, &service.name.value, service.span),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some([("app".to_owned(), service.name.value.clone())].into()),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    })
}
