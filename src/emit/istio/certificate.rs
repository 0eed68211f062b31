//! The certificates of the ingress gateways: a cert-manager `Certificate` per gateway that
//! terminates TLS, written to the Secret its `Gateway` names in `credentialName`, and the ACME
//! `ClusterIssuer` that signs them.
//!
//! Why cert-manager and not ACM at the load balancer: ACM never hands out a private key, so a
//! certificate from ACM can only end TLS at the AWS load balancer, and the Istio gateway behind it
//! would receive plain HTTP: no `SIMPLE` or `MUTUAL` TLS at the gateway, no client certificates,
//! and a hop in clear text inside the VPC. cert-manager keeps the key in a Secret that only the
//! gateway reads and renews it by itself. With an `aws { domain … }` the ACME challenge is
//! answered in the domain's Route53 zone (DNS-01, ambient credentials of the cert-manager
//! `ServiceAccount`, whose IAM role the Terraform tree binds through EKS Pod Identity, so the
//! solver names only the region); without one, over HTTP-01 through Istio's ingress class.
//!
//! These are the edge's objects (`output::on_the_edge`): their health waits on Let's Encrypt
//! and DNS, so with Argo CD an Application of their own deploys them, on which nothing waits.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::emit::conventions::{
    RENEW_BEFORE_DAYS, common_labels, credential_name, gateway_namespace, origin_annotation,
    platform_meta,
};
use crate::emit::istio::gateway::gateway_hosts;
use crate::model::mesh::{Gateway, Mesh, TlsMode};
use crate::model::{Checked, Platform};
use crate::output::{Item, Owner, Resource};

const API_VERSION: &str = "cert-manager.io/v1";
/// Where the certificates and their issuer are: the edge's objects (`output::on_the_edge`),
/// in a directory of their own, which the edge's Argo CD Application reads.
const EDGE_DIR: &str = "istio/edge";
/// The `ClusterIssuer` every gateway certificate comes from.
pub const ISSUER: &str = "letsencrypt";
const ACME_SERVER: &str = "https://acme-v02.api.letsencrypt.org/directory";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CertificateSpec {
    secret_name: String,
    dns_names: Vec<String>,
    issuer_ref: IssuerRef,
    private_key: PrivateKey,
    duration: &'static str,
    renew_before: String,
}

#[derive(Serialize)]
struct IssuerRef {
    name: &'static str,
    kind: &'static str,
    group: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PrivateKey {
    algorithm: &'static str,
    size: u32,
    rotation_policy: &'static str,
}

#[derive(Serialize)]
struct IssuerSpec {
    acme: Acme,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Acme {
    server: &'static str,
    private_key_secret_ref: SecretRef,
    solvers: Vec<Solver>,
}

#[derive(Serialize)]
struct SecretRef {
    name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Solver {
    #[serde(skip_serializing_if = "Option::is_none")]
    dns01: Option<Dns01>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http01: Option<Http01>,
    #[serde(skip_serializing_if = "Option::is_none")]
    selector: Option<SolverSelector>,
}

#[derive(Serialize)]
struct Dns01 {
    route53: Route53,
}

#[derive(Serialize)]
struct Route53 {
    region: String,
}

#[derive(Serialize)]
struct Http01 {
    ingress: Http01Ingress,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Http01Ingress {
    ingress_class_name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SolverSelector {
    dns_zones: Vec<String>,
}

pub fn objects(platform: &Checked, mesh: &Mesh) -> Vec<Item> {
    let gateways: Vec<&Gateway> = mesh
        .gateways
        .iter()
        .filter(|g| g.terminates_tls())
        .collect();
    let Some(first) = gateways.first() else {
        return Vec::new();
    };
    let mut out = vec![issuer(platform, first)];
    for gateway in gateways {
        let mut metadata = platform_meta(
            platform,
            &credential_name(gateway),
            gateway_namespace(),
            gateway.span,
        );
        if gateway.tls.value == TlsMode::Mutual {
            metadata.annotations.get_or_insert_default().insert(
                "platc.dev/client-ca".into(),
                format!(
                    "the Secret {}-cacert (key ca.crt) in {} must hold the CA that signs client certificates",
                    credential_name(gateway),
                    gateway_namespace()
                ),
            );
        }
        out.push(Item::resource(
            format!("{EDGE_DIR}/certificate-{}.yaml", gateway.name.value),
            Owner::Platform,
            gateway.span,
            Resource {
                api_version: API_VERSION,
                kind: "Certificate",
                metadata,
                spec: CertificateSpec {
                    secret_name: credential_name(gateway),
                    dns_names: gateway_hosts(platform, gateway),
                    issuer_ref: IssuerRef {
                        name: ISSUER,
                        kind: "ClusterIssuer",
                        group: "cert-manager.io",
                    },
                    private_key: PrivateKey {
                        algorithm: "ECDSA",
                        size: 256,
                        rotation_policy: "Always",
                    },
                    // Let's Encrypt issues for 90 days; renew with a month to spare.
                    duration: "2160h",
                    renew_before: format!("{}h", RENEW_BEFORE_DAYS * 24),
                },
            },
        ));
    }
    out
}

fn issuer(platform: &Platform, gateway: &Gateway) -> Item {
    let solver = match platform
        .aws
        .as_ref()
        .and_then(|a| a.domain.as_ref().map(|d| (a, d)))
    {
        Some((aws, domain)) => Solver {
            dns01: Some(Dns01 {
                route53: Route53 {
                    region: aws.region.value.clone(),
                },
            }),
            http01: None,
            selector: Some(SolverSelector {
                dns_zones: vec![
                    domain
                        .zone
                        .as_ref()
                        .map_or_else(|| domain.name.value.clone(), |z| z.value.clone()),
                ],
            }),
        },
        None => Solver {
            dns01: None,
            http01: Some(Http01 {
                ingress: Http01Ingress {
                    ingress_class_name: "istio",
                },
            }),
            selector: None,
        },
    };
    Item::resource(
        format!("{EDGE_DIR}/clusterissuer.yaml"),
        Owner::Platform,
        gateway.span,
        Resource {
            api_version: API_VERSION,
            kind: "ClusterIssuer",
            metadata: ObjectMeta {
                name: Some(ISSUER.into()),
                labels: Some(common_labels(platform)),
                annotations: Some(origin_annotation(platform, gateway.span)),
                ..ObjectMeta::default()
            },
            spec: IssuerSpec {
                acme: Acme {
                    server: ACME_SERVER,
                    private_key_secret_ref: SecretRef {
                        name: "letsencrypt-account-key",
                    },
                    solvers: vec![solver],
                },
            },
        },
    )
}
