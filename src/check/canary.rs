//! Canary steps: weights from 1 to 100, strictly increasing, and the initial weight is the
//! first step. An initial weight outside 1–100 is `out-of-range` (a canary at 0 gets no
//! traffic, so nothing is measured or promoted).

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
        let weight_out_of_range =
            canary.weight.value.thousandths == 0 || canary.weight.value.thousandths > 100_000;
        if !weight_from_steps && weight_out_of_range {
            d.error(
                ErrorKind::OutOfRange {
                    what: "canary weight",
                    value: canary.weight.value.to_string(),
                    min: 1,
                    max: 100,
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
            // A weight outside 1–100 is reported above; its step would only repeat it.
            if first.value != canary.weight.value
                && first.span != canary.weight.span
                && !weight_out_of_range
            {
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
