//! `domain.tf.json`: the Route53 hosted zone (looked up, not created: a registrar delegates to
//! it), an ACM certificate with DNS validation records, and the validation itself, which waits
//! until ACM has issued the certificate.
//!
//! The certificate names the domain and every host the platform serves under it (gateway and
//! `expose` hosts) rather than a wildcard: a wildcard would cover hosts nobody declared, and
//! checkov's `CKV2_AWS_71` rejects it.

use std::collections::BTreeSet;

use serde_json::json;

use crate::emit::terraform::{Context, Module, r};
use crate::model::aws::Domain;

/// The hosts under the domain the platform serves, other than the domain itself.
fn hosts(cx: &Context, domain: &str) -> BTreeSet<String> {
    let suffix = format!(".{domain}");
    let gateways = cx
        .platform
        .mesh
        .iter()
        .flat_map(|mesh| &mesh.gateways)
        .flat_map(|g| &g.hosts);
    let exposed = cx
        .platform
        .services
        .iter()
        .filter_map(|s| s.expose.as_ref())
        .filter_map(|e| e.host.as_ref());
    gateways
        .chain(exposed)
        .map(|h| h.value.to_ascii_lowercase())
        .filter(|h| h.ends_with(&suffix))
        .collect()
}

pub fn module(cx: &Context, domain: &Domain) -> Module {
    let mut m = Module::new(&cx.platform.origin.locate(domain.span));
    let name = domain.name.value.to_ascii_lowercase();
    let zone = domain
        .zone
        .as_ref()
        .map_or_else(|| name.clone(), |z| z.value.to_ascii_lowercase());
    m.data(
        "aws_route53_zone",
        "main",
        json!({"name": zone, "private_zone": false}),
    );
    let mut certificate = json!({
        "domain_name": name,
        "validation_method": "DNS",
        "key_algorithm": "EC_prime256v1",
        "options": {"certificate_transparency_logging_preference": "ENABLED"},
        // A renewed or changed certificate is issued before the old one goes.
        "lifecycle": {"create_before_destroy": true},
    });
    let hosts = hosts(cx, &name);
    if !hosts.is_empty() {
        certificate["subject_alternative_names"] = json!(hosts);
    }
    m.resource("aws_acm_certificate", "main", certificate);
    m.resource(
        "aws_route53_record",
        "acm_validation",
        json!({
            "for_each": "${ { for dvo in aws_acm_certificate.main.domain_validation_options : dvo.domain_name => { name = dvo.resource_record_name, record = dvo.resource_record_value, type = dvo.resource_record_type } } }",
            "zone_id": r("data.aws_route53_zone.main.zone_id"),
            "name": r("each.value.name"),
            "type": r("each.value.type"),
            "records": [r("each.value.record")],
            "ttl": 60,
            // The names of several validation records may coincide.
            "allow_overwrite": true,
        }),
    );
    m.resource(
        "aws_acm_certificate_validation",
        "main",
        json!({
            "certificate_arn": r("aws_acm_certificate.main.arn"),
            "validation_record_fqdns": "${ [for record in aws_route53_record.acm_validation : record.fqdn] }",
        }),
    );
    m
}
