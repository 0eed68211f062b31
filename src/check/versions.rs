//! Whether the cluster's Kubernetes version suits what platc puts on it.
//!
//! The API versions platc emits (`apps/v1`, `autoscaling/v2`, `policy/v1`,
//! `networking.k8s.io/v1`) are served by every version from 1.25 on, and lowering accepts only
//! 1.28 and newer, so they need no rule here. The add-ons do: the pinned Istio release supports
//! a window of Kubernetes versions, and a cluster outside it is refused before anything is
//! emitted.

use crate::diagnostic::{Diagnostics, ErrorKind};
use crate::model::Platform;

/// The Kubernetes minor versions Istio 1.27 (the release `emit::terraform` installs) supports.
const ISTIO: (&str, u32, u32) = ("Istio 1.27", 29, 33);

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    let Some(cluster) = platform.aws.as_ref().and_then(|aws| aws.cluster.as_ref()) else {
        return;
    };
    if platform.mesh.is_none() {
        return;
    }
    // Lowering guarantees the form `1.MINOR`.
    let Some(minor) = cluster
        .version
        .value
        .split_once('.')
        .and_then(|(_, m)| m.parse::<u32>().ok())
    else {
        return;
    };
    let (addon, min, max) = ISTIO;
    if !(min..=max).contains(&minor) {
        d.error(
            ErrorKind::UnsupportedClusterVersion {
                version: cluster.version.value.clone(),
                addon,
                min: "1.29",
                max: "1.33",
            },
            cluster.version.span,
        );
    }
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
