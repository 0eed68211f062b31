//! The Argo CD config management plugin: the names the plugin's definition
//! (`deploy/argocd/plugin.yaml`, the repo-server sidecar), the `platc cmp generate` command and
//! the Applications that use the plugin share.

/// The plugin's name (`ConfigManagementPlugin` `metadata.name`, no `spec.version`), as an
/// Application's `spec.source.plugin.name` names it.
pub const PLUGIN_NAME: &str = "platc";

/// The file whose presence in an Application's source path selects the plugin (`discover`).
pub const DISCOVER_FILE: &str = "platform.kdl";

/// The parameter naming the environment whose overlay is applied (`env NAME { … }`); empty
/// for the base platform.
pub const PARAM_ENV: &str = "env";

/// The parameter naming the part of the platform an Application deploys: `platform` (the
/// platform-wide and per-namespace objects but the edge's), `edge` (the gateways'
/// certificates and their issuer), a service's name (that service's objects), or empty for
/// every cluster object.
pub const PARAM_PART: &str = "part";

/// The value of [`PARAM_PART`] for the platform-wide and per-namespace objects (but the
/// edge's).
pub const PART_PLATFORM: &str = "platform";

/// The value of [`PARAM_PART`] for the edge: the platform's objects whose health waits on
/// the world outside the cluster (`output::on_the_edge`).
pub const PART_EDGE: &str = "edge";

/// The parts that are not a service's, each with what it holds, as diagnostics say it: no
/// service may take one of these names.
pub const SHARED_PARTS: [(&str, &str); 2] = [
    (PART_PLATFORM, "the platform-wide objects"),
    (PART_EDGE, "the gateways' certificates and their issuer"),
];

/// What the part `name` holds, if it is one of `SHARED_PARTS`.
pub fn shared_part(name: &str) -> Option<&'static str> {
    SHARED_PARTS
        .iter()
        .find(|(part, _)| *part == name)
        .map(|(_, holds)| *holds)
}

/// The parameter that renders every canary armed (`platc render --stable`): `"true"` or
/// `"false"`.
pub const PARAM_STABLE: &str = "stable";
