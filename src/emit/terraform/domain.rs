//! `domain.tf.json`: the domain's public Route53 hosted zone, looked up (a registrar delegates to
//! it, so platc never creates it). external-dns writes the gateway hosts' records into it, and
//! cert-manager answers its ACME DNS-01 challenges there; both get roles scoped to this zone
//! (`identity.tf.json`).
//!
//! No ACM certificate: TLS ends at the Istio gateway with the certificate cert-manager keeps in
//! a Secret (ACM never hands out a private key, so its certificate could only end TLS at the
//! load balancer, which forwards TCP to the gateway).

use serde_json::json;

use crate::emit::terraform::{Context, Module};
use crate::model::aws::Domain;

pub fn module(cx: &Context, domain: &Domain) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(domain.span));
    let zone = domain.zone.as_ref().map_or_else(
        || domain.name.value.to_ascii_lowercase(),
        |z| z.value.to_ascii_lowercase(),
    );
    m.data(
        "aws_route53_zone",
        "main",
        json!({"name": zone, "private_zone": false}),
    );
    m
}
