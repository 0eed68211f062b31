//! What the Argo CD Applications need of the platform's names: each part of the platform has
//! an Application, `<platform>-<part>`, and the plugin's `part` parameter names it, where the
//! part is `platform` (the platform-wide and per-namespace objects) or a service. A service
//! named `platform` would share both with the platform's part (`platc::duplicate-name`).

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::emit::conventions::cmp::PART_PLATFORM;
use crate::model::Platform;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    let Some(argocd) = &platform.delivery.argocd else {
        return;
    };
    if let Some(service) = platform.service(PART_PLATFORM) {
        d.push(
            Diagnostic::new(
                ErrorKind::DuplicateName {
                    kind: "Argo CD application",
                    name: PART_PLATFORM.into(),
                },
                service.name.span,
            )
            .with_label(
                argocd.span,
                "here `platform` is the part of the platform-wide objects",
            ),
        );
    }
}
