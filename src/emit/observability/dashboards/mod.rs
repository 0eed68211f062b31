//! Grafana dashboards: one per service, the platform's overview, the cluster and its nodes,
//! and the mesh. Each is written twice: as plain JSON (`monitoring/grafana/<name>.json`, to
//! import by hand) and as a `ConfigMap` that the stack's Grafana sidecar loads
//! (`addons::DASHBOARD_LABEL`), into a folder named after the platform
//! (`addons::DASHBOARD_FOLDER_ANNOTATION`). A service's `ConfigMap` lives in its namespace and
//! belongs to it (so its Helm chart carries it); the platform's live beside Grafana.
//!
//! Input: a checked platform with `observability { grafana }` (nothing without it). Every
//! dashboard has a stable uid (`uid`), a `$datasource` variable defaulting to the stack's
//! Prometheus, and queries over Istio's standard metrics, the stack's exporters and the SLO
//! recording rules, by the names `conventions::slo` gives. Adding a service to
//! `platform.kdl` adds its dashboard and its row of the overview.

mod cluster;
mod mesh;
mod model;
mod overview;
mod service;

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::emit::conventions::{meta, namespaces, platform_meta};
use crate::model::Checked;
use crate::model::addons::{DASHBOARD_FOLDER_ANNOTATION, DASHBOARD_LABEL, MONITORING_NAMESPACE};
use crate::model::service::Service;
use crate::output::{Item, JsonConfigMap, Output, Owner};
use crate::span::Span;
use model::{Dashboard, Link};

/// Grafana's longest dashboard uid.
const MAX_UID: usize = 40;
/// Hex digits of the hash that ends a uid.
const UID_HASH: usize = 8;

/// One dashboard of the platform.
#[derive(Clone, Copy)]
enum Board<'a> {
    Service(&'a Service),
    Overview,
    Cluster,
    Mesh,
}

impl Board<'_> {
    /// What it is about: the service's name, or the platform dashboard's.
    fn key(&self) -> &str {
        match self {
            Self::Service(service) => &service.name.value,
            Self::Overview => "overview",
            Self::Cluster => "cluster",
            Self::Mesh => "mesh",
        }
    }

    /// Its file name, without `.json`: `service-<name>` or `platform-<name>`, never the same
    /// for two dashboards of a platform.
    fn name(&self) -> String {
        match self {
            Self::Service(_) => format!("service-{}", self.key()),
            _ => format!("platform-{}", self.key()),
        }
    }

    /// Its uid: the key, cut to fit, and a hash of the platform's name and the dashboard's,
    /// so that two platforms in one Grafana never share one. At most 40 of `[a-z0-9-]`.
    fn uid(&self, platform: &Checked) -> String {
        let digest = Sha256::digest(format!("{}/{}", platform.name.value, self.name()));
        let mut hash = String::with_capacity(UID_HASH);
        for byte in digest.iter().take(UID_HASH / 2) {
            let _ = write!(hash, "{byte:02x}");
        }
        let readable: String = self.key().chars().take(MAX_UID - UID_HASH - 1).collect();
        format!("{}-{hash}", readable.trim_end_matches('-'))
    }

    /// Its title; titles are unique in the platform's folder, as Grafana requires.
    fn title(&self, platform: &Checked) -> String {
        let platform = &platform.name.value;
        match self {
            Self::Service(service) => format!("{platform}: service {}", service.name.value),
            Self::Overview => format!("{platform}: overview"),
            Self::Cluster => format!("{platform}: cluster and nodes"),
            Self::Mesh => format!("{platform}: mesh"),
        }
    }

    /// A dashboard for it with the platform's tag, a link back to the overview (or, on the
    /// overview, to the cluster and the mesh) and a menu of the platform's dashboards.
    fn dashboard(&self, platform: &Checked, description: String) -> Dashboard {
        let tag = platform.name.value.clone();
        let mut dashboard = Dashboard::new(
            self.uid(platform),
            self.title(platform),
            description,
            vec![tag.clone(), "platc".into()],
        );
        let mut links = Vec::new();
        if let Self::Overview = self {
            links.push(Link::dashboard(
                "Cluster and nodes",
                &Self::Cluster.uid(platform),
            ));
            if platform.mesh.is_some() {
                links.push(Link::dashboard("Mesh", &Self::Mesh.uid(platform)));
            }
        } else {
            links.push(Link::dashboard("Overview", &Self::Overview.uid(platform)));
        }
        links.push(Link::tagged(&format!("{tag} dashboards"), &tag));
        dashboard.links = links;
        dashboard
    }
}

/// The platform's namespaces as one regex alternation, to select its series alone.
fn namespace_regex(platform: &Checked) -> String {
    namespaces(platform)
        .into_keys()
        .collect::<Vec<_>>()
        .join("|")
}

/// Adds every dashboard of the platform, as `ConfigMap`s and, when the set wants files, JSON
/// files.
pub fn emit(platform: &Checked, out: &mut Output) {
    let Some(grafana) = &platform.observability.grafana else {
        return;
    };
    let origin = grafana.span;
    let mut boards: Vec<Board> = out
        .services(platform)
        .into_iter()
        .map(Board::Service)
        .collect();
    if out.wants_shared() {
        boards.push(Board::Overview);
        boards.push(Board::Cluster);
        if platform.mesh.is_some() {
            boards.push(Board::Mesh);
        }
    }
    let files = out.wants_files();
    // Each dashboard is built and encoded once, on every core: the JSON file and the
    // ConfigMap hold the same text, and no value tree outlives it.
    out.extend_mapped(&boards, |&board| items(platform, board, files, origin));
}

/// One dashboard's items: its `ConfigMap` and, with `files`, its JSON file.
fn items(platform: &Checked, board: Board, files: bool, origin: Span) -> Vec<Item> {
    let dashboard = match board {
        Board::Service(s) => service::dashboard(platform, s),
        Board::Overview => overview::dashboard(platform),
        Board::Cluster => cluster::dashboard(platform),
        Board::Mesh => mesh::dashboard(platform),
    };
    let name = board.name();
    let owner = match board {
        Board::Service(service) => Owner::Service(service.name.value.clone()),
        _ => Owner::Platform,
    };
    let mut out = Vec::with_capacity(2);
    if files {
        out.push(Item::text(
            format!("monitoring/grafana/{name}.json"),
            owner.clone(),
            origin,
            crate::encode::json_in_field_order(&dashboard),
        ));
    }
    let path = match board {
        Board::Service(_) => format!(
            "monitoring/services/{}/configmap-dashboard.yaml",
            board.key()
        ),
        _ => format!(
            "monitoring/platform/configmap-dashboard-{}.yaml",
            board.key()
        ),
    };
    out.push(Item::json_config_map(
        path,
        owner,
        origin,
        config_map(platform, board, &name, dashboard, origin),
    ));
    out
}

/// The `ConfigMap` the Grafana sidecar loads a dashboard from: `<service>-dashboard` in the
/// service's namespace, or `<platform>-dashboard-<name>` in the monitoring namespace.
fn config_map(
    platform: &Checked,
    board: Board,
    name: &str,
    dashboard: Dashboard,
    origin: Span,
) -> JsonConfigMap<Dashboard> {
    let mut metadata = match board {
        Board::Service(service) => meta(
            platform,
            service,
            &format!("{}-dashboard", service.name.value),
            origin,
        ),
        _ => platform_meta(
            platform,
            &format!("{}-dashboard-{}", platform.name.value, board.key()),
            MONITORING_NAMESPACE,
            origin,
        ),
    };
    metadata
        .labels
        .get_or_insert_default()
        .insert(DASHBOARD_LABEL.0.to_owned(), DASHBOARD_LABEL.1.to_owned());
    metadata.annotations.get_or_insert_default().insert(
        DASHBOARD_FOLDER_ANNOTATION.to_owned(),
        platform.name.value.clone(),
    );
    JsonConfigMap {
        metadata,
        key: format!("{name}.json"),
        document: dashboard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    fn platform(services: &[&str]) -> Checked {
        let mut text = String::from("platform shop {\n    observability { grafana }\n");
        for name in services {
            let _ = write!(
                text,
                "    service {name} {{\n        image \"nginx\" tag=\"1.27\"\n        port http 8080\n    }}\n"
            );
        }
        text.push_str("}\n");
        let result = crate::compile(
            &Source::new("platform.kdl", text),
            &crate::Options::default(),
        );
        result
            .platform
            .unwrap_or_else(|| panic!("{:?}", result.diagnostics))
    }

    #[test]
    fn uids_fit_grafana_and_never_collide() {
        let long = "a".repeat(53);
        let p = platform(&["overview", &long, "web"]);
        let boards = [
            Board::Service(p.service("overview").unwrap()),
            Board::Service(p.service(&long).unwrap()),
            Board::Service(p.service("web").unwrap()),
            Board::Overview,
            Board::Cluster,
            Board::Mesh,
        ];
        let uids: Vec<String> = boards.iter().map(|b| b.uid(&p)).collect();
        for uid in &uids {
            assert!(uid.len() <= MAX_UID, "{uid}");
            assert!(
                uid.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{uid}"
            );
        }
        let mut distinct = uids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), uids.len(), "{uids:?}");
        // Stable: the same names give the same uid.
        assert_eq!(Board::Overview.uid(&p), Board::Overview.uid(&platform(&[])));
        assert!(uids[2].starts_with("web-"), "{}", uids[2]);
    }

    #[test]
    fn dashboards_declare_their_fields_in_key_order() {
        // `items` encodes them without sorting: the declared order must be the sorted one.
        let text = include_str!("../../../../platform.kdl");
        let result = crate::compile(
            &Source::new("platform.kdl", text.to_owned()),
            &crate::Options::default(),
        );
        let p = result.platform.expect("the reference platform compiles");
        let mut boards: Vec<Board> = p.services.iter().map(Board::Service).collect();
        boards.extend([Board::Overview, Board::Cluster, Board::Mesh]);
        for board in boards {
            let dashboard = match board {
                Board::Service(s) => service::dashboard(&p, s),
                Board::Overview => overview::dashboard(&p),
                Board::Cluster => cluster::dashboard(&p),
                Board::Mesh => mesh::dashboard(&p),
            };
            assert_eq!(
                crate::encode::json_in_field_order(&dashboard),
                crate::encode::json(&dashboard),
                "{}",
                board.name()
            );
        }
    }

    #[test]
    fn no_grafana_no_dashboards() {
        let text = "platform shop {\n    service web {\n        image \"nginx\" tag=\"1.27\"\n        port http 8080\n    }\n}\n";
        let result = crate::compile(
            &Source::new("platform.kdl", text.to_owned()),
            &crate::Options::default(),
        );
        let mut out = Output::for_scope(crate::emit::Scope::All);
        emit(&result.platform.unwrap(), &mut out);
        assert!(out.items().is_empty());
    }
}
