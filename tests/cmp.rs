//! The Argo CD config management plugin: `platc cmp generate` run as argocd-cmp-server runs it
//! (in the source path, with nothing but Argo CD's environment), against `platc render` with
//! the same settings as flags; and the files of `deploy/argocd/` against the names of
//! `conventions::cmp`, which the command and the Applications read too.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

#[path = "support/cases.rs"]
mod support;

use platc::emit::Scope;
use platc::emit::conventions::cmp::{
    DISCOVER_FILE, PARAM_ENV, PARAM_PART, PARAM_STABLE, PART_EDGE, PART_PLATFORM, PLUGIN_NAME,
};
use platc::output::{Body, Owner, Part};
use serde_yaml::Value;

/// The root platform of the repository: services, canaries and an environment `staging`.
const ROOT_PLATFORM: &str = include_str!("../platform.kdl");

/// A directory under the system's temporary directory holding one `platform.kdl`, removed
/// when dropped.
struct SourcePath(PathBuf);

impl SourcePath {
    fn new(platform: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "platc-cmp-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(DISCOVER_FILE), platform).unwrap();
        Self(dir)
    }
}

impl Drop for SourcePath {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run printed.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs platc in `dir` with `args` and only the variables `vars` (as argocd-cmp-server
/// passes its own environment and Argo CD's, nothing of the test's).
fn platc(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_platc"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .expect("platc runs");
    Run {
        status: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// `platc cmp generate` with Argo CD's variables for an Application `shop` and `parameters`.
fn generate(dir: &Path, parameters: &str, more: &[(&str, &str)]) -> Run {
    let mut vars = vec![
        ("ARGOCD_APP_NAME", "shop"),
        ("ARGOCD_APP_NAMESPACE", "argocd"),
        ("ARGOCD_APP_PARAMETERS", parameters),
    ];
    vars.extend_from_slice(more);
    platc(dir, &["cmp", "generate"], &vars)
}

/// A run that succeeded with a non-empty stream.
#[track_caller]
fn ok(run: Run) -> String {
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert!(run.stdout.starts_with("---\n"), "{}", run.stdout);
    run.stdout
}

/// A run that failed with `status`, printing nothing to stdout and `expected` on stderr.
#[track_caller]
fn fails(run: &Run, status: i32, expected: &str) {
    assert_eq!(run.status, Some(status), "{}", run.stderr);
    assert_eq!(run.stdout, "", "a failed run printed objects");
    assert!(run.stderr.contains(expected), "{}", run.stderr);
}

#[test]
fn generate_prints_what_render_prints_for_the_same_settings() {
    let dir = SourcePath::new(ROOT_PLATFORM);
    let cases: [(&str, &[&str]); 5] = [
        ("null", &[]),
        ("[]", &[]),
        (
            r#"[{"name":"env","string":"staging"},{"name":"part","string":"frontend"}]"#,
            &["--env", "staging", "--part", "frontend"],
        ),
        (
            r#"[{"name":"part","string":"platform"},{"name":"stable","string":"true"}]"#,
            &["--part", "platform", "--stable"],
        ),
        (
            r#"[{"name":"stable","string":"true"},{"name":"part","string":"checkoutservice"}]"#,
            &["--stable", "--part", "checkoutservice"],
        ),
    ];
    for (parameters, flags) in cases {
        let mut args = vec!["render"];
        args.extend_from_slice(flags);
        let rendered = ok(platc(&dir.0, &args, &[]));
        let generated = ok(generate(&dir.0, parameters, &[]));
        assert!(generated == rendered, "{parameters} differs from {flags:?}");
    }
    // The settings do change the stream.
    let base = ok(generate(&dir.0, "null", &[]));
    let staging = ok(generate(
        &dir.0,
        r#"[{"name":"env","string":"staging"}]"#,
        &[],
    ));
    assert_ne!(base, staging);
    // The Application's plugin.env, and PARAM_* for a run by hand, say the same.
    let by_env = ok(platc(
        &dir.0,
        &["cmp", "generate"],
        &[("ARGOCD_ENV_PLATC_ENV", "staging")],
    ));
    assert!(by_env == staging);
    let by_hand = ok(platc(
        &dir.0,
        &["cmp", "generate"],
        &[("PARAM_ENV", "staging")],
    ));
    assert!(by_hand == staging);
}

#[test]
fn generate_logs_the_application_and_its_settings_in_one_line() {
    let dir = SourcePath::new(ROOT_PLATFORM);
    let run = generate(&dir.0, r#"[{"name":"env","string":"staging"}]"#, &[]);
    assert_eq!(
        run.stderr,
        "platc cmp generate: application `shop`, destination namespace `argocd`; env \
         `staging`, part (every object), stable false\n"
    );
    // One line, whatever the variables hold.
    let run = generate(&dir.0, "null", &[("ARGOCD_APP_NAME", "a\nb")]);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("application `a\\u{a}b`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_broken_platform_prints_nothing_and_fails_with_its_diagnostic() {
    let broken = ROOT_PLATFORM.replacen(
        "calls productcatalogservice env=PRODUCT_CATALOG_SERVICE_ADDR",
        "calls productcatalogservce env=PRODUCT_CATALOG_SERVICE_ADDR",
        1,
    );
    assert_ne!(broken, ROOT_PLATFORM);
    let dir = SourcePath::new(&broken);
    let run = generate(&dir.0, "null", &[]);
    fails(&run, 1, "platc::unknown-service");
    assert!(run.stderr.contains("platform.kdl"), "{}", run.stderr);
    // No platform.kdl at all: an I/O error.
    let empty = SourcePath::new("");
    std::fs::remove_file(empty.0.join(DISCOVER_FILE)).unwrap();
    fails(
        &generate(&empty.0, "null", &[]),
        2,
        "cannot read `platform.kdl`",
    );
    // An environment the platform does not declare: the compile's diagnostic.
    fails(
        &generate(&dir.0, r#"[{"name":"env","string":"prod"}]"#, &[]),
        1,
        "unknown environment `prod`",
    );
}

#[test]
fn bad_parameters_print_nothing_and_say_what_is_wrong() {
    let dir = SourcePath::new(ROOT_PLATFORM);
    let cases = [
        (
            "[{",
            "`ARGOCD_APP_PARAMETERS` is not the JSON array of parameters",
        ),
        (
            r#"{"env":"staging"}"#,
            "is not the JSON array of parameters",
        ),
        (
            r#"[{"name":"environment","string":"staging"}]"#,
            "unknown parameter `environment`",
        ),
        (
            r#"[{"name":"env","array":["staging"]}]"#,
            "the parameter `env` is an array",
        ),
        (r#"[{"name":"stable","string":"yes"}]"#, "`true` or `false`"),
    ];
    for (parameters, expected) in cases {
        fails(&generate(&dir.0, parameters, &[]), 2, expected);
    }
    fails(
        &generate(
            &dir.0,
            r#"[{"name":"env","string":"staging"}]"#,
            &[("ARGOCD_ENV_PLATC_ENV", "prod")],
        ),
        2,
        "`env` is set twice",
    );
    fails(
        &generate(&dir.0, "null", &[("ARGOCD_ENV_PLATC_PRAT", "frontend")]),
        2,
        "Did you mean `ARGOCD_ENV_PLATC_PART`?",
    );
}

#[test]
fn an_unknown_part_gets_a_did_you_mean() {
    let dir = SourcePath::new(ROOT_PLATFORM);
    let expected = "unknown part `frontnd`: a part is `platform`, `edge`, a service's name, or \
                    empty for every object. Did you mean `frontend`?";
    fails(
        &generate(&dir.0, r#"[{"name":"part","string":"frontnd"}]"#, &[]),
        2,
        expected,
    );
    fails(
        &platc(&dir.0, &["render", "--part", "frontnd"], &[]),
        2,
        expected,
    );
    fails(
        &platc(&dir.0, &["render", "--part", "platfrom"], &[]),
        2,
        "Did you mean `platform`?",
    );
    fails(
        &platc(&dir.0, &["render", "--part", "egde"], &[]),
        2,
        "Did you mean `edge`?",
    );
}

/// The documents of a stream, sorted: a multiset to compare.
fn documents(stream: &str) -> Vec<&str> {
    let mut documents: Vec<&str> = stream.split("---\n").filter(|d| !d.is_empty()).collect();
    documents.sort_unstable();
    documents
}

/// The services of the root platform, as `platform.kdl` declares them.
fn services(platform: &str) -> Vec<&str> {
    platform
        .lines()
        .filter_map(|line| line.strip_prefix("    service "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect()
}

#[test]
fn the_parts_split_the_stream_every_object_once() {
    let dir = SourcePath::new(ROOT_PLATFORM);
    let services = services(ROOT_PLATFORM);
    assert!(services.len() > 10, "{services:?}");
    for env in [None, Some("staging")] {
        let env_args: Vec<&str> = env.map(|e| vec!["--env", e]).unwrap_or_default();
        let all = ok(platc(&dir.0, &[&["render"], &env_args[..]].concat(), &[]));
        let mut parts = String::new();
        for part in [PART_PLATFORM, PART_EDGE]
            .into_iter()
            .chain(services.iter().copied())
        {
            let args = [&["render", "--part", part], &env_args[..]].concat();
            let stream = ok(platc(&dir.0, &args, &[]));
            // A part is a stream in apply order too: its namespaces first.
            if part == PART_PLATFORM {
                assert!(stream.starts_with("---\napiVersion: v1\nkind: Namespace\n"));
            }
            // The edge: the gateway's certificate and its issuer, nothing else.
            if part == PART_EDGE {
                let kinds: Vec<&str> = documents(&stream)
                    .into_iter()
                    .map(|d| d.lines().take(2).collect::<Vec<_>>().join(" "))
                    .map(|head| match head.as_str() {
                        "apiVersion: cert-manager.io/v1 kind: Certificate" => "Certificate",
                        "apiVersion: cert-manager.io/v1 kind: ClusterIssuer" => "ClusterIssuer",
                        _ => panic!("the edge holds {head}"),
                    })
                    .collect();
                assert_eq!(kinds, ["Certificate", "ClusterIssuer"], "env {env:?}");
            }
            parts.push_str(&stream);
        }
        assert_eq!(documents(&parts), documents(&all), "env {env:?}");
    }
}

/// An object of a rendered set: its owner, API version, path and document.
type Rendered = (Owner, &'static str, String, String);

/// The objects of a rendered set in stream order.
fn rendered(set: platc::output::Output) -> Vec<Rendered> {
    set.into_cluster_objects()
        .into_iter()
        .map(|item| match item.body {
            Body::Rendered { id, yaml } => (item.owner, id.api_version, item.path, yaml),
            _ => panic!("{}: not rendered as it entered", item.path),
        })
        .collect()
}

/// A part is made alone: the targets skip the other parts' items (`Output::select`). What
/// they make must still be exactly the whole stream's objects of that part, byte for byte
/// and in the same order, for every part of every case that builds (each environment's too).
#[test]
fn a_part_made_alone_is_exactly_its_share_of_the_whole_stream() {
    let mut platforms = 0;
    for (name, platform, _) in support::cases() {
        let whole = rendered(platc::output(&platform, Scope::Stream).expect("valid"));
        let parts = [Part::Platform, Part::Edge].into_iter().chain(
            platform
                .services
                .iter()
                .map(|s| Part::Service(s.name.value.clone())),
        );
        let mut objects = 0;
        for part in parts {
            let alone =
                rendered(platc::output_part(&platform, Scope::Stream, &part).expect("valid"));
            let share: Vec<_> = whole
                .iter()
                .filter(|(owner, api_version, ..)| part.holds(owner, api_version))
                .cloned()
                .collect();
            if alone != share {
                let paths = |objects: &[Rendered]| -> Vec<String> {
                    objects.iter().map(|(_, _, path, _)| path.clone()).collect()
                };
                let (alone_paths, share_paths) = (paths(&alone), paths(&share));
                let changed: Vec<&String> = alone
                    .iter()
                    .filter(|object| share.iter().any(|o| o.2 == object.2 && o != *object))
                    .map(|(_, _, path, _)| path)
                    .collect();
                panic!(
                    "{name}: part {part:?} made alone differs from its share of the whole \
                     stream\n  made alone only: {:?}\n  in the share only: {:?}\n  \
                     different bytes: {changed:?}",
                    alone_paths
                        .iter()
                        .filter(|p| !share_paths.contains(p))
                        .collect::<Vec<_>>(),
                    share_paths
                        .iter()
                        .filter(|p| !alone_paths.contains(p))
                        .collect::<Vec<_>>(),
                );
            }
            objects += alone.len();
        }
        // The parts split the whole: every object is in exactly one.
        assert_eq!(objects, whole.len(), "{name}");
        platforms += 1;
    }
    assert!(platforms > 20, "only {platforms} platforms");
}

/// A build makes a few namespaces, then a few services, at a time (`emit::emit_in_batches`):
/// each batch's objects with their Helm charts (and templates of the umbrella chart) and
/// pipelines; the platform's batch, which reads the namespaces' as kept; then the Argo CD
/// Applications from what the set kept of every batch. In batches of any size it must make
/// exactly the files of one batch of everything (the committed tree), each once, for every
/// case that builds.
#[test]
fn a_build_in_batches_of_any_size_makes_the_same_files() {
    for (name, platform, committed) in support::cases() {
        let files = |batch: usize| {
            let mut files = std::collections::BTreeMap::new();
            let made = platc::emit::emit_in_batches(&platform, batch, None, |items| {
                items
                    .into_iter()
                    .map(|item| {
                        (
                            item.path.clone(),
                            platc::encode::file(&item, &platform.origin),
                        )
                    })
                    .collect::<Vec<_>>()
            });
            for (path, text) in made.handed.into_iter().flatten() {
                assert!(
                    files.insert(path.clone(), text).is_none(),
                    "{name}: {path} made twice in batches of {batch}"
                );
            }
            files
        };
        // One batch of every service: the committed tree, but for its manifest.
        let mut whole = committed;
        whole.remove(platc::write::MANIFEST);
        assert!(whole.keys().any(|p| p.starts_with("helm/")), "{name}");
        for batch in [1, 2, 5, usize::MAX] {
            let batched = files(batch);
            let differ: Vec<&String> = whole
                .keys()
                .chain(batched.keys())
                .filter(|path| whole.get(*path) != batched.get(*path))
                .collect();
            assert!(differ.is_empty(), "{name}: batches of {batch}: {differ:?}");
        }
    }
}

#[test]
fn two_runs_at_once_print_the_same_bytes() {
    let dir = SourcePath::new(ROOT_PLATFORM);
    let parameters = r#"[{"name":"env","string":"staging"}]"#;
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| generate(&dir.0, parameters, &[])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let first = &runs[0];
    assert_eq!(first.status, Some(0), "{}", first.stderr);
    for run in &runs[1..] {
        assert!(run == first, "two runs at once differ");
    }
    // And nothing was written beside platform.kdl.
    let entries: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, [DISCOVER_FILE]);
}

// ------------------------------------------------------------------------------------------
// deploy/argocd/

fn deploy_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/argocd")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("valid YAML")
}

/// The YAML documents of a file.
fn yaml_documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).expect("valid YAML"))
        .collect()
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("not a list: {value:?}"))
        .iter()
        .map(|v| v.as_str().expect("a string"))
        .collect()
}

#[test]
fn the_plugin_names_what_the_command_and_the_applications_read() {
    let plugin = yaml(&deploy_file("plugin.yaml"));
    assert_eq!(plugin["apiVersion"].as_str(), Some("argoproj.io/v1alpha1"));
    assert_eq!(plugin["kind"].as_str(), Some("ConfigManagementPlugin"));
    assert_eq!(plugin["metadata"]["name"].as_str(), Some(PLUGIN_NAME));
    let spec = &plugin["spec"];
    // No version: an Application names the plugin `platc`, not `platc-<version>`.
    assert!(spec.get("version").is_none());
    assert_eq!(spec["discover"]["fileName"].as_str(), Some(DISCOVER_FILE));
    assert_eq!(
        strings(&spec["generate"]["command"]),
        ["platc", "cmp", "generate"]
    );
    let parameters = spec["parameters"]["static"].as_sequence().unwrap();
    let names: Vec<&str> = parameters
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [PARAM_ENV, PARAM_PART, PARAM_STABLE]);
    for parameter in parameters {
        // Argo CD sends no default: each announced one must be what the command assumes.
        assert_eq!(
            parameter["string"].as_str(),
            Some(if parameter["name"] == PARAM_STABLE {
                "false"
            } else {
                ""
            }),
            "{parameter:?}"
        );
        for key in ["title", "tooltip"] {
            assert!(
                parameter[key].as_str().is_some_and(|t| !t.is_empty()),
                "{parameter:?} has no {key}"
            );
        }
    }
}

/// The sidecar container and the pod's volumes of one install method.
fn sidecar(containers: &Value, volumes: &Value) -> (Value, Vec<Value>) {
    let containers = containers.as_sequence().unwrap();
    let container = containers
        .iter()
        .find(|c| c["name"] == PLUGIN_NAME)
        .unwrap_or_else(|| panic!("no container `{PLUGIN_NAME}`: {containers:?}"))
        .clone();
    (container, volumes.as_sequence().unwrap().clone())
}

#[test]
fn the_patch_and_the_helm_values_install_the_same_plugin_and_sidecar() {
    let plugin = yaml(&deploy_file("plugin.yaml"));
    let key = format!("{PLUGIN_NAME}.yaml");

    // kustomize: the ConfigMap made from plugin.yaml itself, and the Deployment's patch.
    let kustomization = yaml(&deploy_file("kustomization.yaml"));
    assert_eq!(kustomization["kind"].as_str(), Some("Component"));
    let generator = &kustomization["configMapGenerator"][0];
    assert_eq!(generator["name"].as_str(), Some("argocd-cmp-cm"));
    assert_eq!(strings(&generator["files"]), [format!("{key}=plugin.yaml")]);
    assert_eq!(
        kustomization["patches"][0]["path"].as_str(),
        Some("repo-server-patch.yaml")
    );
    let patch = yaml_documents(&deploy_file("repo-server-patch.yaml"));
    assert_eq!(patch.len(), 1, "the patch is one document");
    let deployment = &patch[0];
    assert_eq!(deployment["kind"].as_str(), Some("Deployment"));
    assert_eq!(
        deployment["metadata"]["name"].as_str(),
        Some("argocd-repo-server")
    );
    let pod = &deployment["spec"]["template"]["spec"];
    let (patch_container, patch_volumes) = sidecar(&pod["containers"], &pod["volumes"]);

    // The Helm values: the chart makes argocd-cmp-cm from `configs.cmp.plugins`, as
    // `<name>.yaml` holding the plugin of that name with the given spec.
    let values = yaml(&deploy_file("values.yaml"));
    let cmp = &values["configs"]["cmp"];
    assert_eq!(cmp["create"].as_bool(), Some(true));
    assert_eq!(cmp["plugins"][PLUGIN_NAME], plugin["spec"]);
    let (values_container, values_volumes) = sidecar(
        &values["repoServer"]["extraContainers"],
        &values["repoServer"]["volumes"],
    );
    assert_eq!(values_container, patch_container);
    assert_eq!(values_volumes, patch_volumes);

    // The image is the Dockerfile's, tagged with this version of platc.
    let image = patch_container["image"].as_str().unwrap();
    assert!(
        image.ends_with(&format!("/platc-cmp:{}", env!("CARGO_PKG_VERSION"))),
        "{image}"
    );
    // The sidecar as Argo CD's documentation requires it.
    let c = &patch_container;
    assert_eq!(
        strings(&c["command"]),
        ["/var/run/argocd/argocd-cmp-server"]
    );
    let security = &c["securityContext"];
    assert_eq!(security["runAsUser"].as_u64(), Some(999));
    assert_eq!(security["runAsNonRoot"].as_bool(), Some(true));
    assert_eq!(security["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(security["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(strings(&security["capabilities"]["drop"]), ["ALL"]);
    assert_eq!(
        security["seccompProfile"]["type"].as_str(),
        Some("RuntimeDefault")
    );
    for quantity in ["requests", "limits"] {
        assert!(
            c["resources"][quantity].as_mapping().is_some(),
            "no resource {quantity}"
        );
    }
    let mounts: Vec<(&str, &str, Option<&str>)> = c["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["mountPath"].as_str().unwrap(),
                m["name"].as_str().unwrap(),
                m.get("subPath").and_then(Value::as_str),
            )
        })
        .collect();
    // var-files and plugins are the repo-server's own volumes; the config and /tmp are the
    // sidecar's, /tmp apart from the repo-server's.
    assert_eq!(
        mounts,
        [
            ("/var/run/argocd", "var-files", None),
            ("/home/argocd/cmp-server/plugins", "plugins", None),
            (
                "/home/argocd/cmp-server/config/plugin.yaml",
                "argocd-cmp-cm",
                Some(key.as_str())
            ),
            ("/tmp", "platc-tmp", None),
        ]
    );
    let volumes: Vec<&str> = patch_volumes
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(volumes, ["argocd-cmp-cm", "platc-tmp"]);
    assert_eq!(
        patch_volumes[0]["configMap"]["name"].as_str(),
        Some("argocd-cmp-cm")
    );
}

#[test]
fn the_image_builds_with_a_toolchain_platc_supports_and_runs_as_999() {
    let dockerfile = deploy_file("Dockerfile");
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let wanted = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    let version = |v: &str| -> Vec<u32> { v.split('.').map(|n| n.parse().unwrap()).collect() };
    let from: Vec<&str> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("FROM "))
        .collect();
    let builder = from
        .iter()
        .find_map(|f| f.strip_prefix("docker.io/library/rust:"))
        .expect("the builder is the official rust image");
    let tag = builder.split_whitespace().next().unwrap();
    let rust = tag.split('-').next().unwrap();
    assert!(
        version(rust) >= version(wanted),
        "rust {rust} is older than rust-version {wanted}"
    );
    // Every base is pinned by a tag, never `latest` nor none.
    for base in &from {
        let image = base.split_whitespace().next().unwrap();
        assert!(
            image.contains(':') && !image.ends_with(":latest"),
            "{image} is not pinned"
        );
    }
    assert!(dockerfile.contains("cargo build --locked --release"));
    let last_user = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("USER "))
        .next_back();
    assert_eq!(last_user, Some("999"));
    let ignore = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.dockerignore"))
        .expect("a .dockerignore");
    for dir in ["target", "out"] {
        assert!(
            ignore.lines().any(|l| l.trim_matches('/') == dir),
            "{dir}/ is sent"
        );
    }
}

#[test]
fn generate_reads_config_files_beside_platform_kdl() {
    let dir = SourcePath::new(
        "platform shop {\n    service web {\n        image \"nginx\" tag=\"1.27\"\n        port http 8080 protocol=http\n        config site path=\"/etc/nginx/conf.d/default.conf\" file=\"conf/site.conf\"\n    }\n}\n",
    );
    std::fs::create_dir_all(dir.0.join("conf")).unwrap();
    std::fs::write(dir.0.join("conf/site.conf"), "server { listen 8080; }\n").unwrap();
    let stream = ok(generate(&dir.0, "null", &[]));
    assert!(stream.contains("server { listen 8080; }"), "{stream}");
    assert!(stream.contains("platc.dev/config-checksum"), "{stream}");
    // The same run without the file: its diagnostic, nothing printed.
    std::fs::remove_file(dir.0.join("conf/site.conf")).unwrap();
    fails(&generate(&dir.0, "null", &[]), 1, "platc::invalid-file");
}
