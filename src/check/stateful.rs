//! Stateful services: what a `StatefulSet` cannot have, and replicas that cannot be one store
//! (several without `peers`, a warning). A canary needs an Argo Rollout, which
//! rolls Deployments only; an autoscaler would add a volume per replica and leave it behind
//! when it scales in. Its name leaves room for the pods' `controller-revision-hash` label
//! (`<name>-<10 characters>`, 63 at most) and the headless Service's suffix.

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::emit::conventions::STATEFUL_NAME_MAX;
use crate::model::Platform;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    for service in &platform.services {
        let Some(stateful) = &service.stateful else {
            continue;
        };
        let length = service.name.value.len();
        if length > STATEFUL_NAME_MAX {
            d.push(
                Diagnostic::new(
                    ErrorKind::OutOfRange {
                        what: "stateful service name length",
                        value: length.to_string(),
                        min: 1,
                        max: i64::try_from(STATEFUL_NAME_MAX).unwrap_or(i64::MAX),
                    },
                    service.name.span,
                )
                .with_label(stateful.span, "stateful here"),
            );
        }
        // Replicas that may not reach each other cannot replicate: each is a store of its own.
        if stateful.peers.is_none() && service.replicas.value > 1 {
            d.push(
                Diagnostic::new(
                    ErrorKind::UnpeeredReplicas {
                        service: service.name.value.clone(),
                        replicas: service.replicas.value,
                    },
                    service.replicas.span,
                )
                .with_label(stateful.span, "no `peers` here"),
            );
        }
        let conflicts = [
            ("a canary", service.canary.as_ref().map(|c| c.span)),
            ("an autoscaler", service.autoscale.as_ref().map(|a| a.span)),
        ];
        for (what, span) in conflicts {
            let Some(span) = span else { continue };
            d.push(
                Diagnostic::new(
                    ErrorKind::StatefulConflict {
                        service: service.name.value.clone(),
                        what,
                    },
                    span,
                )
                .with_label(stateful.span, "stateful here"),
            );
        }
    }
}
