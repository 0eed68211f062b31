//! Requests within limits; autoscaling bounds in order.

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::model::Platform;
use crate::model::value::Quantity;
use crate::span::Spanned;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    for service in &platform.services {
        let r = &service.resources;
        above_limit("cpu", &r.cpu, &r.cpu_limit, d);
        above_limit("memory", &r.memory, &r.memory_limit, d);
        if let Some(autoscale) = &service.autoscale
            && autoscale.min.value > autoscale.max.value
        {
            d.push(
                Diagnostic::new(
                    ErrorKind::AutoscaleRange {
                        min: u64::from(autoscale.min.value),
                        max: u64::from(autoscale.max.value),
                    },
                    autoscale.min.span,
                )
                .with_label(autoscale.max.span, "maximum"),
            );
        }
    }
}

fn above_limit(
    resource: &'static str,
    request: &Spanned<Quantity>,
    limit: &Spanned<Quantity>,
    d: &mut Diagnostics,
) {
    if request.amount > limit.amount {
        let mut diagnostic = Diagnostic::new(
            ErrorKind::RequestsAboveLimits {
                resource,
                request: request.text.clone(),
                limit: limit.text.clone(),
            },
            request.span,
        );
        if limit.span != request.span {
            diagnostic = diagnostic.with_label(limit.span, "limit");
        }
        d.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use crate::source::Source;
    use crate::{Options, compile};

    #[test]
    fn request_above_limit_points_at_the_request() {
        let text = r#"platform p {
    service a {
        image "a" tag="v1"
        port grpc 5050
        resources cpu="300m" cpu-limit="200m"
    }
}"#;
        let source = Source::new("p.kdl", text);
        let result = compile(&source, &Options::default());
        let found: Vec<_> = result
            .diagnostics
            .iter()
            .map(|d| (d.kind.code(), source.slice(d.span)))
            .collect();
        assert_eq!(found, [("platc::requests-above-limits", "\"300m\"")]);
    }
}
