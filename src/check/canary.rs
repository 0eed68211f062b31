//! Canary steps: weights from 1 to 100, strictly increasing, and the initial weight is the
//! first step.

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::model::Platform;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    for service in &platform.services {
        let Some(canary) = &service.canary else {
            continue;
        };
        // A weight taken from the first step is reported with the steps below.
        let weight_from_steps = canary
            .steps
            .first()
            .is_some_and(|s| s.span == canary.weight.span);
        if !weight_from_steps
            && (canary.weight.value.thousandths == 0 || canary.weight.value.thousandths > 100_000)
        {
            d.error(
                ErrorKind::CanarySteps {
                    detail: "the initial weight must be from 1 to 100".into(),
                },
                canary.weight.span,
            );
        }
        for pair in canary.steps.windows(2) {
            if pair[1].value <= pair[0].value {
                d.push(
                    Diagnostic::new(
                        ErrorKind::CanarySteps {
                            detail: format!(
                                "step {} does not come after {}",
                                pair[1].value, pair[0].value
                            ),
                        },
                        pair[1].span,
                    )
                    .with_label(pair[0].span, "previous step"),
                );
            }
        }
        if let Some(first) = canary.steps.first() {
            if first.value.thousandths == 0 {
                d.error(
                    ErrorKind::CanarySteps {
                        detail: "a step of 0 sends no traffic".into(),
                    },
                    first.span,
                );
            }
            if first.value != canary.weight.value && first.span != canary.weight.span {
                d.push(
                    Diagnostic::new(
                        ErrorKind::CanarySteps {
                            detail: format!(
                                "the first step is {} but the canary starts at weight {}",
                                first.value, canary.weight.value
                            ),
                        },
                        first.span,
                    )
                    .with_label(canary.weight.span, "initial weight"),
                );
            }
        }
    }
}
