//! `delivery`: what the Jenkins pipelines need to build and deploy, and that Jenkins and Argo
//! CD never both own a service's objects.

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::model::Platform;
use crate::model::mesh::{ArgoSource, Deploy};

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    for service in &platform.services {
        if let Some(build) = &service.build
            && !service.image.ecr
        {
            d.push(
                Diagnostic::new(
                    ErrorKind::BuildWithoutRepository {
                        service: service.name.value.clone(),
                    },
                    build.span,
                )
                .with_label(service.image.span, "the image comes from elsewhere"),
            );
        }
    }
    // The Argo CD platc installs (with a cluster) runs the plugin's sidecar: it needs its image.
    if let Some(argocd) = &platform.delivery.argocd
        && argocd.source.value == ArgoSource::Plugin
        && argocd.plugin_image.is_none()
        && platform.aws.as_ref().is_some_and(|a| a.cluster.is_some())
    {
        d.error(
            ErrorKind::MissingProperty {
                node: "argocd".into(),
                property: "plugin-image",
            },
            argocd.source.span,
        );
    }
    let Some(jenkins) = &platform.delivery.jenkins else {
        return;
    };
    let argocd = platform.delivery.argocd.as_ref();
    // The jobs check out the repository Argo CD reads, unless the pipelines name their own.
    if jenkins.repo.is_none() && argocd.is_none() {
        d.error(
            ErrorKind::MissingProperty {
                node: "jenkins".into(),
                property: "repo",
            },
            jenkins.name_span,
        );
    }
    // Waiting on Argo CD needs the Applications `argocd` makes.
    if let Some(deploy) = &jenkins.deploy
        && deploy.value == Deploy::ArgoCd
        && argocd.is_none()
    {
        d.error(
            ErrorKind::MissingNode {
                parent: "delivery".into(),
                node: "argocd",
            },
            deploy.span,
        );
    }
    if let (Some(deploy), Some(argocd)) = (&jenkins.deploy, argocd)
        && deploy.value == Deploy::Helm
    {
        d.push(
            Diagnostic::new(ErrorKind::DeployConflict, deploy.span)
                .with_label(argocd.span, "Argo CD syncs every service from here"),
        );
    }
}
