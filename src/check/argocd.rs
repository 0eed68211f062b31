//! What the Argo CD Applications need of the platform's names: each part of the platform has
//! an Application, `<platform>-<part>`, and the plugin's `part` parameter names it, where the
//! part is `platform` (the platform-wide objects), `edge` (the gateways' certificates and
//! their issuer) or a service. A service named `platform` or `edge` would share both with
//! that part (`platc::duplicate-name`).

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::emit::conventions::cmp::SHARED_PARTS;
use crate::model::Platform;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    let Some(argocd) = &platform.delivery.argocd else {
        return;
    };
    for (part, holds) in SHARED_PARTS {
        if let Some(service) = platform.service(part) {
            d.push(
                Diagnostic::new(
                    ErrorKind::DuplicateName {
                        kind: "Argo CD application",
                        name: part.into(),
                    },
                    service.name.span,
                )
                .with_label(argocd.span, format!("here `{part}` is the part of {holds}")),
            );
        }
    }
}
