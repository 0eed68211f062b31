//! `platc cmp generate`: the `generate` command of the Argo CD config management plugin
//! (`deploy/argocd/plugin.yaml`). argocd-cmp-server runs it in the Application's source path,
//! with no arguments, and passes everything in the environment; it prints exactly what
//! `platc render` prints for the same settings (`render::stream`), so a user reproduces what
//! Argo CD applies with `platc render --env E --part P [--stable]`.
//!
//! The settings (`conventions::cmp`: `env`, `part`, `stable`) come from, in order:
//! 1. the plugin parameters: `ARGOCD_APP_PARAMETERS`, the JSON array Argo CD builds from the
//!    Application's `spec.source.plugin.parameters` (`[{"name":"env","string":"staging"}]`;
//!    `null` when there are none). Argo CD also copies each string parameter into `PARAM_<NAME>`;
//!    those are read only when `ARGOCD_APP_PARAMETERS` is unset (a run by hand), since Argo CD
//!    sets both from the same list and only the JSON keeps names and types exact;
//! 2. the Application's `spec.source.plugin.env`, which Argo CD prefixes with `ARGOCD_ENV_`:
//!    `PLATC_ENV`, `PLATC_PART`, `PLATC_STABLE` (`ARGOCD_ENV_PLATC_ENV`). A setting given both
//!    ways with two values is an error, never a silent choice;
//! 3. the defaults the plugin announces: the base platform, every object, `stable` false (Argo
//!    CD sends only the parameters an Application sets, not the announced defaults).
//!
//! A parameter platc does not know, a `PLATC_*` plugin variable it does not know, a parameter
//! that is not a string, or one without a value is an error: a typo must not deploy the base
//! platform. Argo CD sends only the parameters the Application sets, so an unknown name is
//! always the Application's. `ARGOCD_APP_NAME` and `ARGOCD_APP_NAMESPACE` (the Application's
//! destination namespace) are logged and nothing else: every object names its own namespace,
//! and the output must not depend on what the Application is called.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::Path;

use serde::Deserialize;

use crate::cli::{CmpCommand, MessageFormat};
use crate::commands::render::{Selection, stream};
use crate::commands::{Output, Report};
use crate::emit::conventions::cmp::{DISCOVER_FILE, PARAM_ENV, PARAM_PART, PARAM_STABLE};
use crate::encode::comment_safe;

/// The process environment, as the command reads it.
pub type Environment = BTreeMap<OsString, OsString>;

/// The parameters, by name.
const PARAMETERS: [&str; 3] = [PARAM_ENV, PARAM_PART, PARAM_STABLE];

/// The JSON array of the Application's parameters.
const APP_PARAMETERS: &str = "ARGOCD_APP_PARAMETERS";

/// Argo CD's prefix of its copy of each string parameter (`PARAM_ENV`).
const PARAM_PREFIX: &str = "PARAM_";

/// The prefix of the plugin variables of an Application's `plugin.env` (`PLATC_ENV`), as
/// Argo CD passes them (`ARGOCD_ENV_` + the name).
const PLUGIN_ENV_PREFIX: &str = "ARGOCD_ENV_PLATC_";

pub fn run(command: &CmpCommand, color: bool) -> Output {
    match command {
        CmpCommand::Generate => generate(&std::env::vars_os().collect(), color),
    }
}

/// Compiles `platform.kdl` of the current directory with the settings of `environment`.
pub fn generate(environment: &Environment, color: bool) -> Output {
    let report = Report::beside_product(MessageFormat::Human, color);
    // One line: which Application, then what it asked for. Argo CD shows stderr in its log.
    let application = format!(
        "platc cmp generate: application {}, destination namespace {}",
        shown(environment.get(OsStr::new("ARGOCD_APP_NAME"))),
        shown(environment.get(OsStr::new("ARGOCD_APP_NAMESPACE"))),
    );
    let selection = match settings(environment) {
        Ok(selection) => selection,
        Err(message) => {
            let mut output = Output {
                stderr: comment_safe(&application) + "\n",
                ..Output::default()
            };
            output.report_error(report, "platc::usage", &message, None);
            return output;
        }
    };
    let env = selection
        .env
        .as_deref()
        .map_or_else(|| "(base)".to_owned(), |e| format!("`{e}`"));
    let part = if selection.part.is_empty() {
        "(every object)".to_owned()
    } else {
        format!("`{}`", selection.part)
    };
    let log = format!(
        "{application}; env {env}, part {part}, stable {}",
        selection.stable
    );
    let mut output = stream(Path::new(DISCOVER_FILE), &selection, report);
    // Control characters escaped: the line stays one line whatever the variables hold.
    output.stderr.insert_str(0, &(comment_safe(&log) + "\n"));
    output
}

/// A variable's value for the log: quoted, or `(unset)`.
fn shown(value: Option<&OsString>) -> String {
    value.map_or_else(
        || "(unset)".to_owned(),
        |v| format!("`{}`", v.to_string_lossy()),
    )
}

/// One setting and where it was read, for the messages.
struct Setting {
    value: String,
    from: String,
}

/// The selection the environment asks for, or why it cannot be read.
pub fn settings(environment: &Environment) -> Result<Selection, String> {
    let mut found: BTreeMap<&'static str, Setting> = BTreeMap::new();
    if let Some(json) = var(environment, APP_PARAMETERS)? {
        for (name, value) in parameters(&json)? {
            let from = format!("the parameter `{name}`");
            found.insert(name, Setting { value, from });
        }
    } else {
        for name in PARAMETERS {
            let key = format!("{PARAM_PREFIX}{}", name.to_uppercase());
            if let Some(value) = var(environment, &key)? {
                found.insert(name, Setting { value, from: key });
            }
        }
    }
    for key in environment.keys() {
        let Some(rest) = key.to_str().and_then(|k| k.strip_prefix(PLUGIN_ENV_PREFIX)) else {
            continue;
        };
        let key = key.to_string_lossy();
        let Some(name) = PARAMETERS.into_iter().find(|n| n.to_uppercase() == rest) else {
            let known = PARAMETERS.map(|n| format!("{PLUGIN_ENV_PREFIX}{}", n.to_uppercase()));
            let hint = crate::diagnostic::suggest(&key, known.iter().map(String::as_str))
                .map_or_else(String::new, |s| format!(" Did you mean `{s}`?"));
            return Err(format!(
                "unknown plugin variable `{key}` (`plugin.env` `{}`): platc reads {}.{hint}",
                key.trim_start_matches("ARGOCD_ENV_"),
                one_of(&known),
            ));
        };
        let value = var(environment, &key)?.unwrap_or_default();
        match found.get(name) {
            Some(other) if other.value != value => {
                return Err(format!(
                    "`{name}` is set twice: `{}` by {} and `{value}` by `{key}`; set it once",
                    other.value, other.from
                ));
            }
            Some(_) => {}
            None => {
                found.insert(
                    name,
                    Setting {
                        value,
                        from: key.into_owned(),
                    },
                );
            }
        }
    }
    let value = |name: &str| found.get(name).map(|s| s.value.clone()).unwrap_or_default();
    let stable = match found.get(PARAM_STABLE) {
        None => false,
        Some(setting) => match setting.value.as_str() {
            "" | "false" => false,
            "true" => true,
            other => {
                return Err(format!(
                    "{} is `{other}`: `{PARAM_STABLE}` is `true` or `false`",
                    setting.from
                ));
            }
        },
    };
    let env = value(PARAM_ENV);
    Ok(Selection {
        env: (!env.is_empty()).then_some(env),
        part: value(PARAM_PART),
        stable,
    })
}

/// A variable as text: `None` when unset, an error when it is not UTF-8.
fn var(environment: &Environment, key: &str) -> Result<Option<String>, String> {
    environment
        .get(OsStr::new(key))
        .map(|value| {
            value
                .to_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("`{key}` is not UTF-8"))
        })
        .transpose()
}

/// One element of `ARGOCD_APP_PARAMETERS`, as Argo CD writes it
/// (`ApplicationSourcePluginParameter`): a name and a string, an array or a map.
#[derive(Deserialize)]
struct Parameter {
    name: String,
    string: Option<String>,
    array: Option<serde_json::Value>,
    map: Option<serde_json::Value>,
}

/// The parameters of `ARGOCD_APP_PARAMETERS`, by name, each a string.
fn parameters(json: &str) -> Result<Vec<(&'static str, String)>, String> {
    // Argo CD writes `null` for an Application with a `plugin` but no parameters.
    let list: Option<Vec<Parameter>> = if json.trim().is_empty() {
        None
    } else {
        serde_json::from_str(json).map_err(|error| {
            format!(
                "`{APP_PARAMETERS}` is not the JSON array of parameters Argo CD passes \
                 (`[{{\"name\":\"{PARAM_ENV}\",\"string\":\"staging\"}}]`): {error}"
            )
        })?
    };
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for parameter in list.unwrap_or_default() {
        let Some(name) = PARAMETERS.into_iter().find(|n| *n == parameter.name) else {
            let hint = crate::diagnostic::suggest(&parameter.name, PARAMETERS)
                .map_or_else(String::new, |s| format!(" Did you mean `{s}`?"));
            return Err(format!(
                "unknown parameter `{}`: the plugin's parameters are {}.{hint}",
                parameter.name,
                one_of(&PARAMETERS.map(|n| format!("`{n}`"))),
            ));
        };
        if out.iter().any(|(n, _)| *n == name) {
            return Err(format!("the parameter `{name}` is given twice"));
        }
        let kind = match (&parameter.array, &parameter.map) {
            (Some(_), _) => Some("an array"),
            (None, Some(_)) => Some("a map"),
            (None, None) => None,
        };
        match (parameter.string, kind) {
            (_, Some(kind)) => {
                return Err(format!(
                    "the parameter `{name}` is {kind}: it takes a string (`string: …`)"
                ));
            }
            (None, None) => {
                return Err(format!(
                    "the parameter `{name}` has no value: give it one with `string: …`"
                ));
            }
            (Some(value), None) => out.push((name, value)),
        }
    }
    Ok(out)
}

/// `a, b or c`.
fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(vars: &[(&str, &str)]) -> Environment {
        vars.iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    fn read(vars: &[(&str, &str)]) -> Result<Selection, String> {
        settings(&environment(vars))
    }

    #[test]
    fn parameters_come_as_argo_cd_writes_them() {
        let selection = read(&[(
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"env","string":"staging"},{"name":"part","string":"frontend"},{"name":"stable","string":"true"}]"#,
        )])
        .unwrap();
        assert_eq!(
            selection,
            Selection {
                env: Some("staging".into()),
                part: "frontend".into(),
                stable: true
            }
        );
        // No parameters: Argo CD writes `null`; the defaults apply.
        assert_eq!(
            read(&[("ARGOCD_APP_PARAMETERS", "null")]),
            Ok(Selection::default())
        );
        assert_eq!(read(&[]), Ok(Selection::default()));
        assert_eq!(
            read(&[("ARGOCD_APP_PARAMETERS", r#"[{"name":"env","string":""}]"#)]),
            Ok(Selection::default())
        );
    }

    #[test]
    fn the_json_wins_over_its_param_copies_which_serve_runs_by_hand() {
        let both = read(&[
            ("ARGOCD_APP_PARAMETERS", r#"[{"name":"env","string":"a"}]"#),
            ("PARAM_ENV", "b"),
        ]);
        assert_eq!(both.unwrap().env.as_deref(), Some("a"));
        let by_hand = read(&[("PARAM_ENV", "b"), ("PARAM_PART", "platform")]).unwrap();
        assert_eq!(by_hand.env.as_deref(), Some("b"));
        assert_eq!(by_hand.part, "platform");
    }

    #[test]
    fn plugin_env_is_another_way_and_two_values_are_an_error() {
        let selection = read(&[
            ("ARGOCD_ENV_PLATC_ENV", "staging"),
            ("ARGOCD_ENV_OTHER", "ignored"),
        ])
        .unwrap();
        assert_eq!(selection.env.as_deref(), Some("staging"));
        let same = read(&[
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"env","string":"staging"}]"#,
            ),
            ("ARGOCD_ENV_PLATC_ENV", "staging"),
        ]);
        assert_eq!(same.unwrap().env.as_deref(), Some("staging"));
        let error = read(&[
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"env","string":"staging"}]"#,
            ),
            ("ARGOCD_ENV_PLATC_ENV", "prod"),
        ])
        .unwrap_err();
        assert_eq!(
            error,
            "`env` is set twice: `staging` by the parameter `env` and `prod` by \
             `ARGOCD_ENV_PLATC_ENV`; set it once"
        );
        let typo = read(&[("ARGOCD_ENV_PLATC_ENVV", "staging")]).unwrap_err();
        assert!(
            typo.starts_with("unknown plugin variable `ARGOCD_ENV_PLATC_ENVV`"),
            "{typo}"
        );
        assert!(
            typo.ends_with("Did you mean `ARGOCD_ENV_PLATC_ENV`?"),
            "{typo}"
        );
    }

    #[test]
    fn a_wrong_parameter_is_an_error_never_the_base_platform() {
        let cases = [
            (
                r#"[{"name":"enviroment","string":"staging"}]"#,
                "unknown parameter `enviroment`: the plugin's parameters are `env`, `part` or \
                 `stable`.",
            ),
            (
                r#"[{"name":"evn","string":"staging"}]"#,
                "Did you mean `env`?",
            ),
            (
                r#"[{"name":"env","array":["staging"]}]"#,
                "the parameter `env` is an array: it takes a string (`string: …`)",
            ),
            (
                r#"[{"name":"part","map":{"a":"b"}}]"#,
                "the parameter `part` is a map",
            ),
            (r#"[{"name":"env"}]"#, "the parameter `env` has no value"),
            (
                r#"[{"name":"env","string":"a"},{"name":"env","string":"b"}]"#,
                "the parameter `env` is given twice",
            ),
            (
                r#"[{"name":"stable","string":"yes"}]"#,
                "the parameter `stable` is `yes`: `stable` is `true` or `false`",
            ),
            (
                r#"{"env":"staging"}"#,
                "is not the JSON array of parameters",
            ),
            ("[{", "is not the JSON array of parameters"),
        ];
        for (json, expected) in cases {
            let error = read(&[("ARGOCD_APP_PARAMETERS", json)]).unwrap_err();
            assert!(error.contains(expected), "{json}: {error}");
        }
    }
}
