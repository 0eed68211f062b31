//! What a service mounts, and the secrets it reads: every volume of the pod (its `volume`s,
//! the file systems and the secrets it `uses`) has a name and a mount path of its own, and a
//! secret read from env says why (it is weaker than files: it cannot follow a rotation without
//! a restart, and child processes and crash dumps see it).

use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::model::Platform;
use crate::model::service::{Service, StoreKind};
use crate::span::Span;

pub fn check(platform: &Platform, d: &mut Diagnostics) {
    for service in &platform.services {
        secret_env(service, d);
        secret_keys(service, d);
        volumes(service, d);
    }
}

/// `uses secret … env=` needs `reason=`.
fn secret_env(service: &Service, d: &mut Diagnostics) {
    for used in &service.uses {
        if let Some(env) = used.secret_env()
            && used.reason.is_none()
        {
            let what = if used.kind.value == StoreKind::Database {
                format!(
                    "the password of database `{}` read from env",
                    used.name.value
                )
            } else {
                format!("secret `{}` read from env", used.name.value)
            };
            d.error(ErrorKind::MissingReason { what }, env.span);
        }
    }
}

/// A key file must not take the name of the file of the whole value.
fn secret_keys(service: &Service, d: &mut Diagnostics) {
    for used in &service.uses {
        if let Some(key) = &used.key
            && key.value == used.name.value
        {
            d.error(
                ErrorKind::InvalidValue {
                    value: key.value.clone(),
                    expected: vec![
                        "a key other than the secret's own name, whose file holds the whole value",
                    ],
                    suggestion: None,
                },
                key.span,
            );
        }
    }
}

/// Each volume of the pod has its own name and mount path; a secret's lines share one.
fn volumes(service: &Service, d: &mut Diagnostics) {
    // (name, mount path, span of the name, span of the path)
    let mut seen: Vec<(String, String, Span, Span)> = Vec::new();
    let mut push =
        |name: &str, path: String, name_span: Span, path_span: Span, d: &mut Diagnostics| {
            if let Some(first) = seen.iter().find(|s| s.0 == name) {
                // The lines of one secret are one volume: only their paths must agree.
                if first.1 != path {
                    d.push(
                        Diagnostic::new(
                            ErrorKind::DuplicateName {
                                kind: "mount path of one volume",
                                name: name.to_owned(),
                            },
                            path_span,
                        )
                        .with_label(first.3, "first mounted here"),
                    );
                }
                return;
            }
            if let Some(first) = seen.iter().find(|s| s.1 == path) {
                d.push(
                    Diagnostic::new(
                        ErrorKind::DuplicateName {
                            kind: "mount path",
                            name: path.clone(),
                        },
                        path_span,
                    )
                    .with_label(first.3, "first mounted here"),
                );
                return;
            }
            seen.push((name.to_owned(), path, name_span, path_span));
        };
    for volume in &service.volumes {
        push(
            &volume.name.value,
            volume.path.value.clone(),
            volume.name.span,
            volume.path.span,
            d,
        );
    }
    // A database's password is a secret volume of its own, `<database>-password`.
    for used in service.uses.iter().filter(|u| u.password_auth()) {
        let name = crate::model::aws::password_volume(&used.name.value);
        if service.volumes.iter().any(|v| v.name.value == name)
            || service.uses.iter().any(|u| {
                matches!(u.kind.value, StoreKind::Filesystem | StoreKind::Secret)
                    && u.name.value == name
            })
        {
            d.error(
                ErrorKind::DuplicateName {
                    kind: "volume",
                    name: name.clone(),
                },
                used.name.span,
            );
            continue;
        }
        push(
            &name,
            crate::model::aws::password_mount(&used.name.value),
            used.name.span,
            used.span,
            d,
        );
    }
    let mut kinds: Vec<(&str, StoreKind)> = Vec::new();
    for used in &service.uses {
        if !matches!(used.kind.value, StoreKind::Filesystem | StoreKind::Secret) {
            continue;
        }
        // A file system and a secret of one name would be two volumes of one name, and so
        // would a file system used twice; the lines of one secret are one volume.
        let earlier = kinds
            .iter()
            .find(|(n, _)| *n == used.name.value)
            .map(|k| k.1);
        let clash = match earlier {
            Some(kind) => kind != used.kind.value || kind == StoreKind::Filesystem,
            None => service
                .volumes
                .iter()
                .any(|v| v.name.value == used.name.value),
        };
        if clash {
            d.error(
                ErrorKind::DuplicateName {
                    kind: "volume",
                    name: used.name.value.clone(),
                },
                used.name.span,
            );
            continue;
        }
        kinds.push((&used.name.value, used.kind.value));
        // A secret's line without `path=` takes the path of its other lines, or the default.
        if used.kind.value == StoreKind::Secret
            && used.path.is_none()
            && service.uses.iter().any(|u| {
                u.kind.value == StoreKind::Secret
                    && u.name.value == used.name.value
                    && u.path.is_some()
            })
        {
            continue;
        }
        let path_span = used.path.as_ref().map_or(used.name.span, |p| p.span);
        push(
            &used.name.value,
            used.mount_path(),
            used.name.span,
            path_span,
            d,
        );
    }
}
