//! Whether the cluster's Kubernetes version suits what platc puts on it.
//!
//! The API versions platc emits (`apps/v1`, `autoscaling/v2`, `policy/v1`,
//! `networking.k8s.io/v1`) are served by every version from 1.25 on, and lowering accepts only
//! 1.28 and newer, so they need no rule here. The add-ons do: the pinned Istio release supports
//! a window of Kubernetes versions, and a cluster outside it is refused before anything is
//! emitted. The Secrets Store CSI driver's AWS provider (ASCP) needs EKS 1.17, and 1.24 to read
//! with Pod Identity (`usePodIdentity`): below the 1.28 lowering accepts, so no window either.

use crate::diagnostic::{Diagnostics, ErrorKind};
use crate::model::Platform;

/// `(add-on, lowest minor, highest minor)` of what platc installs that supports a window of
/// Kubernetes versions: Istio 1.27 supports 1.29 to 1.33; the Cluster Autoscaler has a release
/// per minor up to 1.36 (`model::addons::cluster_autoscaler_image`); the canary guard's
/// `ValidatingAdmissionPolicy` (admissionregistration.k8s.io/v1) is served from 1.30.
fn windows(platform: &Platform) -> Vec<(&'static str, u32, u32)> {
    let mut out = vec![("the Cluster Autoscaler", 28, 36)];
    if platform.mesh.is_some() {
        out.push(("Istio 1.27", 29, 33));
    }
    if crate::model::addons::wants_rollouts(platform)
        && platform.services.iter().any(|s| s.canary_image().is_some())
    {
        out.push(("the canary guard (ValidatingAdmissionPolicy v1)", 30, 40));
    }
    out
}

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    let Some(cluster) = platform.aws.as_ref().and_then(|aws| aws.cluster.as_ref()) else {
        return;
    };
    let Some(minor) = platform.cluster_minor() else {
        return;
    };
    // The narrowest window that excludes the version is the one to name.
    let failing = windows(platform)
        .into_iter()
        .filter(|&(_, min, max)| !(min..=max).contains(&minor))
        .min_by_key(|(_, min, max)| max - min);
    if let Some((addon, min, max)) = failing {
        d.error(
            ErrorKind::UnsupportedClusterVersion {
                version: cluster.version.value.clone(),
                addon,
                min: minor_name(min),
                max: minor_name(max),
            },
            cluster.version.span,
        );
    }
}

/// `1.N` of a minor the windows above name.
fn minor_name(minor: u32) -> &'static str {
    const NAMES: &[&str] = &[
        "1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37", "1.38",
        "1.39", "1.40",
    ];
    NAMES
        .get(usize::try_from(minor.saturating_sub(28)).unwrap_or(0))
        .copied()
        .unwrap_or("1.40")
}

#[cfg(test)]
mod tests {
    use crate::source::Source;

    fn codes(text: &str) -> Vec<&'static str> {
        let source = Source::new("platform.kdl", text.to_owned());
        let result = crate::compile(&source, &crate::Options::default());
        result.diagnostics.iter().map(|d| d.kind.code()).collect()
    }

    const PLATFORM: &str = r#"platform shop {
    aws region=us-east-1 {
        vpc cidr="10.0.0.0/16"
        cluster shop version="VERSION" {
            node-group general instance=m6i.large min=2 max=4
        }
    }
    mesh istio
    service web {
        image "nginx" tag="1.27"
        port http 8080
    }
}
"#;

    /// ASCP (with Pod Identity) needs EKS 1.24: the lowest version lowering accepts is fine.
    #[test]
    fn the_lowest_accepted_version_reads_secrets() {
        let text = r#"platform shop {
    aws region=us-east-1 {
        vpc cidr="10.0.0.0/16"
        cluster shop version="1.28" {
            node-group general instance=m6i.large min=2 max=4
        }
        secret token source=ssm name="/shop/token"
    }
    service web {
        image "nginx" tag="1.27"
        port http 8080
        uses secret token
    }
}
"#;
        assert_eq!(codes(text), Vec::<&str>::new());
        assert!(!codes(&text.replace("1.28", "1.27")).is_empty());
    }

    #[test]
    fn a_version_istio_supports_passes() {
        let codes = codes(&PLATFORM.replace("VERSION", "1.33"));
        assert!(!codes.contains(&"platc::unsupported-cluster-version"));
    }

    #[test]
    fn a_version_outside_the_window_fails() {
        for version in ["1.28", "1.34"] {
            let codes = codes(&PLATFORM.replace("VERSION", version));
            assert!(
                codes.contains(&"platc::unsupported-cluster-version"),
                "{version}"
            );
        }
    }
}
