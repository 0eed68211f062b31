//! Requests within limits; autoscaling bounds in order.

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::model::Platform;
use crate::model::value::Quantity;
use crate::span::{Span, Spanned};

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    for service in &platform.services {
        let r = &service.resources;
        let implicit = service.name.span;
        above_limit("cpu", &r.cpu, &r.cpu_limit, implicit, d);
        above_limit("memory", &r.memory, &r.memory_limit, implicit, d);
        if let Some(autoscale) = &service.autoscale
            && autoscale.min.value > autoscale.max.value
        {
            d.push(
                Diagnostic::new(
                    ErrorKind::AutoscaleRange {
                        what: "autoscale",
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

/// Reports a request above its limit. A value nobody wrote (a built-in default) carries the
/// span `implicit`; it is named as a default and not underlined.
fn above_limit(
    resource: &'static str,
    request: &Spanned<Quantity>,
    limit: &Spanned<Quantity>,
    implicit: Span,
    d: &mut Diagnostics,
) {
    if request.amount <= limit.amount {
        return;
    }
    let describe = |q: &Spanned<Quantity>| {
        if q.span == implicit {
            format!("{} (the default)", q.text)
        } else {
            q.text.clone()
        }
    };
    let kind = ErrorKind::RequestsAboveLimits {
        resource,
        request: describe(request),
        limit: describe(limit),
    };
    let diagnostic = match (request.span == implicit, limit.span == implicit) {
        (false, false) if request.span != limit.span => {
            Diagnostic::new(kind, request.span).with_label(limit.span, "limit")
        }
        (true, false) => Diagnostic::new(kind, limit.span),
        _ => Diagnostic::new(kind, request.span),
    };
    d.push(diagnostic);
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
