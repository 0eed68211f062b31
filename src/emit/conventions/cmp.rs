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
/// platform-wide and per-namespace objects), a service's name (that service's objects), or
/// empty for every cluster object.
pub const PARAM_PART: &str = "part";

/// The value of [`PARAM_PART`] for the platform-wide and per-namespace objects.
pub const PART_PLATFORM: &str = "platform";

/// The parameter that renders every canary armed (`platc render --stable`): `"true"` or
/// `"false"`.
pub const PARAM_STABLE: &str = "stable";
