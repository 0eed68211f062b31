//! What the Helm charts need of the platform's names:
//! - each service's chart installs as a release of its name, and the umbrella chart as one of
//!   the platform's: Helm refuses a release name over 53 characters (`platc::out-of-range`);
//! - the umbrella chart lives at `helm/<platform>/`, beside the service charts: the platform
//!   cannot share its name with a service, and neither may be `addons`, the directory of the
//!   add-ons' values (`platc::duplicate-name`).

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::model::Platform;

/// Helm's limit on a release name (`helm install` checks it; the API server's Secret names
/// leave room for `sh.helm.release.v1.<name>.v<N>`).
pub const MAX_RELEASE_NAME: usize = 53;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    let names = std::iter::once((&platform.name.value, platform.name.span)).chain(
        platform
            .services
            .iter()
            .map(|s| (&s.name.value, s.name.span)),
    );
    for (name, span) in names {
        if name.len() > MAX_RELEASE_NAME {
            d.push(Diagnostic::new(
                ErrorKind::OutOfRange {
                    what: "Helm release name length",
                    value: format!("{} (`{name}`)", name.len()),
                    min: 1,
                    max: i64::try_from(MAX_RELEASE_NAME).unwrap_or(i64::MAX),
                },
                span,
            ));
        }
    }
    // `helm/addons/` holds the add-ons' values.
    if platform.name.value == "addons" {
        d.push(Diagnostic::new(
            ErrorKind::DuplicateName {
                kind: "chart",
                name: "addons".into(),
            },
            platform.name.span,
        ));
    }
    if let Some(service) = platform.service("addons") {
        d.push(Diagnostic::new(
            ErrorKind::DuplicateName {
                kind: "chart",
                name: "addons".into(),
            },
            service.name.span,
        ));
    }
    if let Some(service) = platform.service(&platform.name.value) {
        d.push(
            Diagnostic::new(
                ErrorKind::DuplicateName {
                    kind: "chart",
                    name: platform.name.value.clone(),
                },
                service.name.span,
            )
            .with_label(platform.name.span, "the platform's umbrella chart"),
        );
    }
}
