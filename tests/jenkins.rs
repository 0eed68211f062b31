//! The Jenkins outputs resolve: in `out/` and every golden tree (environments included), every
//! job of the Job DSL seed reads a Jenkinsfile that exists, every view names jobs the seed
//! makes, and every name a pipeline hands to a tool (the chart, the namespace, the image, the
//! Rollout, the Argo CD Application, the ECR repository, the platform's object files) is the one
//! the object it points at carries in the same tree.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

#[path = "support/built.rs"]
mod built;

/// Every tree with a `jenkins/seed.groovy`.
fn trees() -> Vec<PathBuf> {
    built::trees_with("jenkins/seed.groovy")
}

/// The value of a single-quoted Groovy string literal, or `None` if `text` is not exactly one.
fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                _ => return None,
            },
            '\'' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// The `environment { KEY = '…' }` of a pipeline.
fn environment(text: &str) -> BTreeMap<String, String> {
    let block = text
        .split_once("    environment {\n")
        .and_then(|(_, rest)| rest.split_once("\n    }\n"))
        .map(|(block, _)| block)
        .expect("a pipeline has an environment block");
    block
        .lines()
        .map(|line| {
            let (key, value) = line.trim().split_once(" = ").expect("KEY = 'value'");
            // The one interpolation of the templates, of a path the agent chooses: no text of
            // platform.kdl is in it.
            let value = if value == "\"${env.WORKSPACE_TMP}/kubeconfig\"" {
                "$WORKSPACE_TMP/kubeconfig".to_owned()
            } else {
                unquote(value).unwrap_or_else(|| panic!("{key} is not one Groovy literal: {value}"))
            };
            (key.to_owned(), value)
        })
        .collect()
}

/// The calls `name('literal')` of a Job DSL script, in order.
fn calls(text: &str, name: &str) -> Vec<String> {
    let open = format!("{name}(");
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix(&open)?;
            let arg = rest
                .strip_suffix(") {")
                .or_else(|| rest.strip_suffix(')'))?;
            // `name()` is also a view's column, with no argument.
            if arg.is_empty() {
                return None;
            }
            Some(unquote(arg).unwrap_or_else(|| panic!("{line}: not one Groovy literal")))
        })
        .collect()
}

fn yaml(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn field<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(value, |v, key| &v[*key])
}

fn text_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// The prefix of the tree in the repository, from a job's script path.
fn tree_prefix(script: &str) -> &str {
    script
        .split_once("/jenkins/")
        .map(|(prefix, _)| prefix)
        .expect("a script path under jenkins/")
}

/// A repository path of the tree as a file of the tree on disk.
fn in_tree(tree: &Path, prefix: &str, path: &str) -> PathBuf {
    let rest = path
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or_else(|| panic!("{path} is not under the tree's path {prefix}"));
    tree.join(rest)
}

#[test]
fn the_jobs_views_and_pipelines_resolve_in_every_tree() {
    let trees = trees();
    assert!(
        trees.iter().any(|t| t == Path::new("out")),
        "out/ has Jenkins outputs"
    );
    let mut problems = Vec::new();
    let mut pipelines = 0;
    for tree in &trees {
        let seed = fs::read_to_string(tree.join("jenkins/seed.groovy")).unwrap();
        let jobs = calls(&seed, "pipelineJob");
        let scripts = calls(&seed, "scriptPath");
        assert_eq!(
            jobs.len(),
            scripts.len(),
            "{}: a script per job",
            tree.display()
        );
        let prefix = tree_prefix(&scripts[0]).to_owned();
        let job_set: BTreeSet<&String> = jobs.iter().collect();
        for view_job in calls(&seed, "name") {
            if !job_set.contains(&view_job) {
                problems.push(format!(
                    "{}: a view names job {view_job}, which the seed does not make",
                    tree.display()
                ));
            }
        }
        // Every service with a chart has a job, and every job's Jenkinsfile exists.
        let charts: BTreeSet<String> = fs::read_dir(tree.join("kubernetes/services"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        for service in &charts {
            let script = format!("{prefix}/jenkins/services/{service}/Jenkinsfile");
            if !scripts.contains(&script) {
                problems.push(format!("{}: no job runs {script}", tree.display()));
            }
        }
        for script in &scripts {
            let file = in_tree(tree, &prefix, script);
            let Ok(text) = fs::read_to_string(&file) else {
                problems.push(format!(
                    "{}: the seed's {script} does not exist",
                    tree.display()
                ));
                continue;
            };
            pipelines += 1;
            let env = environment(&text);
            let mut check = |what: &str, ok: bool| {
                if !ok {
                    problems.push(format!("{}: {what}", file.display()));
                }
            };
            if let Some(chart) = env.get("CHART") {
                let service = &env["SERVICE"];
                let chart_dir = in_tree(tree, &prefix, chart);
                check("CHART is a chart", chart_dir.join("Chart.yaml").is_file());
                let values = yaml(&chart_dir.join("values.yaml"));
                // The workload the chart installs: a Deployment, under a Rollout for a canary.
                let deployment =
                    yaml(&tree.join(format!("kubernetes/services/{service}/deployment.yaml")));
                check(
                    "NAMESPACE is the Deployment's",
                    text_of(field(&deployment, &["metadata", "namespace"])) == env["NAMESPACE"],
                );
                let image = text_of(
                    &field(&deployment, &["spec", "template", "spec", "containers"])[0]["image"],
                )
                .to_owned();
                let tag = env
                    .get("IMAGE_TAG")
                    .map_or(String::new(), |t| format!(":{t}"));
                check(
                    &format!("IMAGE_REPOSITORY:IMAGE_TAG is the Deployment's image {image}"),
                    image.starts_with(&format!("{}{tag}", env["IMAGE_REPOSITORY"])),
                );
                if let Some(tag) = env.get("IMAGE_TAG") {
                    check(
                        "IMAGE_TAG is the chart's image.tag",
                        text_of(field(&values, &["image", "tag"])) == tag,
                    );
                }
                if let Some(rollout) = env.get("ROLLOUT") {
                    let object = yaml(&tree.join(format!("rollouts/{service}/rollout.yaml")));
                    check(
                        "ROLLOUT names the service's Rollout in NAMESPACE",
                        text_of(field(&object, &["metadata", "name"])) == rollout
                            && text_of(field(&object, &["metadata", "namespace"]))
                                == env["NAMESPACE"],
                    );
                    check(
                        "a canary has its stable tag",
                        env.contains_key("STABLE_TAG"),
                    );
                }
                if let Some(repository) = env.get("ECR_REPOSITORY") {
                    let stage = fs::read_to_string(tree.join("terraform/aws/storage.tf.json"))
                        .unwrap_or_default();
                    check(
                        "ECR_REPOSITORY is a repository of the Terraform tree",
                        stage.contains(&format!("\"name\": \"{repository}\"")),
                    );
                    check(
                        "REGISTRY is the host of IMAGE_REPOSITORY",
                        env["IMAGE_REPOSITORY"].starts_with(&format!("{}/", env["REGISTRY"])),
                    );
                    check(
                        "the build context is one of the paths that trigger the build",
                        release_paths(&text).contains(&"\"$BUILD_CONTEXT\""),
                    );
                }
                check(
                    "the chart is a path that triggers the pipeline",
                    release_paths(&text).contains(&"\"$CHART\""),
                );
            }
            // The cluster its kubectl and helm reach: the tree's own EKS cluster, through a
            // kubeconfig of the build's, written before the first call that reaches it.
            check_cluster(tree, &text, &env, &mut check);
            // The Applications it waits on: the pipeline's, and a stage's of its own.
            let waited: Vec<String> = text
                .lines()
                .filter_map(|line| line.trim().strip_prefix("APPLICATION = "))
                .map(|value| unquote(value).expect("APPLICATION is one literal"))
                .collect();
            for application in &waited {
                let object = yaml(&tree.join(format!("argocd/applications/{application}.yaml")));
                check(
                    &format!("APPLICATION {application} names an Application in ARGOCD_NAMESPACE"),
                    text_of(field(&object, &["kind"])) == "Application"
                        && text_of(field(&object, &["metadata", "name"])) == application
                        && text_of(field(&object, &["metadata", "namespace"]))
                            == env["ARGOCD_NAMESPACE"],
                );
                check(
                    "a pipeline that waits on Argo CD does not run helm upgrade",
                    !text.contains("helm upgrade"),
                );
            }
            // The root Application that makes them, which the wait names while they do not
            // exist yet.
            if let Some(root) = env.get("ROOT_APPLICATION") {
                let object = yaml(&tree.join("argocd/root.yaml"));
                check(
                    &format!("ROOT_APPLICATION {root} names the root Application"),
                    text_of(field(&object, &["kind"])) == "Application"
                        && text_of(field(&object, &["metadata", "name"])) == root
                        && text_of(field(&object, &["metadata", "namespace"]))
                            == env["ARGOCD_NAMESPACE"],
                );
            }
            check(
                "a pipeline that waits on Argo CD names the root Application",
                waited.is_empty() != env.contains_key("ROOT_APPLICATION"),
            );
            // The platform's pipeline waits on the edge's Application too (the gateways'
            // certificates), on whose health no wave of the root waits.
            if let Some(base) = env
                .get("APPLICATION")
                .and_then(|a| a.strip_suffix("-platform"))
            {
                let edge = format!("{base}-edge");
                let exists = tree
                    .join(format!("argocd/applications/{edge}.yaml"))
                    .is_file();
                check(
                    &format!("the platform's pipeline waits on {edge}, its tree's"),
                    exists == waited.contains(&edge),
                );
            }
            // The platform pipeline with Helm applies the platform's own object files.
            if let Some(list) = text.split_once("objectFiles = [\n") {
                let (list, _) = list.1.split_once("\n]").unwrap();
                for entry in list.lines() {
                    let path = unquote(entry.trim().trim_end_matches(',')).expect("a literal");
                    let file = in_tree(tree, &prefix, &path);
                    let object = yaml(&file);
                    check(
                        &format!("{path} is a cluster object"),
                        object["kind"].as_str().is_some(),
                    );
                    let relative = file
                        .strip_prefix(tree)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    check(
                        &format!("{path} belongs to the platform, not a service's chart"),
                        !relative.contains("/services/") && !relative.starts_with("rollouts/"),
                    );
                }
            }
        }
    }
    assert!(pipelines > 20, "only {pipelines} pipelines read");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The EKS cluster of a tree's Terraform, and its region: `None` without one.
fn tree_cluster(tree: &Path) -> Option<(String, String)> {
    let json = |path: &str| -> Option<serde_json::Value> {
        let text = fs::read_to_string(tree.join(path)).ok()?;
        Some(serde_json::from_str(&text).unwrap())
    };
    let clusters = json("terraform/aws/cluster.tf.json")?;
    let clusters = clusters["resource"]["aws_eks_cluster"].as_object()?;
    assert_eq!(clusters.len(), 1, "{}: one EKS cluster", tree.display());
    let name = clusters.values().next()?["name"].as_str()?.to_owned();
    let providers = json("terraform/aws/providers.tf.json")?;
    let region = providers["provider"]["aws"]["region"].as_str()?.to_owned();
    Some((name, region))
}

/// A pipeline of a tree with an EKS cluster reaches that cluster, by its name and region, in a
/// kubeconfig of its own that it writes before any kubectl or helm call that needs one (not
/// `helm lint`); a pipeline of a tree without one leaves the agent's kubeconfig alone.
fn check_cluster(
    tree: &Path,
    text: &str,
    env: &BTreeMap<String, String>,
    check: &mut impl FnMut(&str, bool),
) {
    const WRITE: &str = concat!(
        "sh 'aws eks update-kubeconfig --name \"$CLUSTER\" --region \"$AWS_REGION\"",
        " --kubeconfig \"$KUBECONFIG\"'"
    );
    let Some((name, region)) = tree_cluster(tree) else {
        check(
            "no cluster in the tree: the agent's kubeconfig",
            !env.contains_key("CLUSTER") && !env.contains_key("KUBECONFIG"),
        );
        return;
    };
    check(
        &format!("CLUSTER is the tree's EKS cluster {name}"),
        env.get("CLUSTER") == Some(&name),
    );
    check(
        &format!("AWS_REGION is the tree's region {region}"),
        env.get("AWS_REGION") == Some(&region),
    );
    check(
        "KUBECONFIG is the build's own file",
        env.get("KUBECONFIG").map(String::as_str) == Some("$WORKSPACE_TMP/kubeconfig"),
    );
    let written = text.find(WRITE);
    check("the pipeline writes its kubeconfig", written.is_some());
    let first_call = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//") && !line.trim_start().starts_with('#'))
        .filter(|line| {
            line.contains("kubectl ") || (line.contains("helm ") && !line.contains("helm lint"))
        })
        .filter_map(|line| text.find(line))
        .min();
    if let (Some(written), Some(first_call)) = (written, first_call) {
        check(
            "the kubeconfig is written before the first call that reaches the cluster",
            written < first_call,
        );
    }
}

/// The paths whose change since the last successful build makes the Release stage run: the
/// pathspecs of its `git diff` against `RELEASE_BASE`, the commit of that build.
fn release_paths(jenkinsfile: &str) -> Vec<&str> {
    let Some((_, diff)) = jenkinsfile.split_once("git diff --quiet \"$RELEASE_BASE\" HEAD -- ")
    else {
        return Vec::new();
    };
    diff.split('\'')
        .next()
        .unwrap_or_default()
        .split(' ')
        .collect()
}

/// The Release stage's condition, run as Jenkins runs it in the workspace: a first build (no
/// successful build before it), a base the clone lacks, and a change of the chart or of the
/// source since the last successful build release; a commit that changes neither does not.
#[test]
fn a_release_follows_the_changes_since_the_last_successful_build() {
    let text = fs::read_to_string("out/jenkins/services/reviewservice/Jenkinsfile").unwrap();
    let env = environment(&text);
    let script = text
        .split_once("sh(returnStatus: true, script: '")
        .and_then(|(_, rest)| rest.split_once("') != 0"))
        .map(|(script, _)| script)
        .expect("the Release stage's condition");
    assert!(!script.contains('\\') && !script.contains('\''), "{script}");
    let repo = std::env::temp_dir().join(format!("platc-jenkins-release-{}", std::process::id()));
    let _ = fs::remove_dir_all(&repo);
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let commit = |path: &str, text: &str| {
        let file = repo.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, text).unwrap();
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", path]);
        git(&["rev-parse", "HEAD"])
    };
    fs::create_dir_all(&repo).unwrap();
    git(&["init", "-q"]);
    let chart = format!("{}/Chart.yaml", env["CHART"]);
    let source = format!("{}/app.py", env["BUILD_CONTEXT"]);
    let first = commit(&chart, "version: 1");
    let unrelated = commit("README.md", "other");
    let source_changed = commit(&source, "print(1)");
    let chart_changed = commit(&chart, "version: 2");
    let releases = |base: &str| {
        std::process::Command::new("sh")
            .args(["-e", "-c", script])
            .envs(&env)
            .env("RELEASE_BASE", base)
            .current_dir(&repo)
            .output()
            .unwrap()
            .status
            .code()
            != Some(0)
    };
    let cases = [
        ("a first build", "", true),
        (
            "a base the clone lacks",
            "0123456789abcdef0123456789abcdef01234567",
            true,
        ),
        ("the source changed since", unrelated.as_str(), true),
        (
            "the chart and the source changed since",
            first.as_str(),
            true,
        ),
        ("the chart changed since", source_changed.as_str(), true),
        (
            "nothing of the service changed since",
            chart_changed.as_str(),
            false,
        ),
    ];
    let _ = commit("docs.md", "more");
    let wrong: Vec<&str> = cases
        .iter()
        .filter(|(_, base, wanted)| releases(base) != *wanted)
        .map(|(what, _, _)| *what)
        .collect();
    let _ = fs::remove_dir_all(&repo);
    assert!(wrong.is_empty(), "wrong release decision for: {wrong:?}");
}

#[test]
fn unquote_reads_what_the_templates_write() {
    assert_eq!(
        unquote(r"'it\'s \\ ${x}\n'").as_deref(),
        Some("it's \\ ${x}\n")
    );
    assert_eq!(unquote("'a'b'"), None);
    assert_eq!(unquote("a"), None);
}

/// The shell script of a pipeline's `Deploy` stage: the `sh '''…'''` block after
/// `stage('Deploy')`.
fn deploy_script(jenkinsfile: &str) -> String {
    stage_script(jenkinsfile, "Deploy")
}

/// The first `sh '''…'''` block after `stage('<name>')`.
fn stage_script(jenkinsfile: &str, name: &str) -> String {
    let header = format!("stage('{name}')");
    let stage = &jenkinsfile[jenkinsfile.find(&header).expect("the stage")..];
    let start = stage.find("sh '''").expect("a shell step") + "sh '''".len();
    let script = &stage[start..];
    let script = &script[..script.find("'''").expect("the step's end")];
    // A Groovy ''' string would read a backslash as an escape: the script has none.
    assert!(!script.contains('\\'), "a backslash in the {name} script");
    script.to_owned()
}

/// Runs a Deploy stage's wait with `sh` against a `kubectl` that replays `states`, one per
/// poll (`sync health refreshing [phase pending attempted]`, the last one repeated: the phase
/// of the last operation, whether one is pending, and whether it attempted the target
/// revision, `same`, or an `old` one), a `sleep` that returns at once and
/// a `date` 10 s on at each reading; gives whether it succeeded and what it printed.
fn run_wait(script: &str, states: &[&str], timeout_seconds: u32) -> (bool, String) {
    run_wait_on(script, states, timeout_seconds, None, 0, &[])
}

/// `run_wait`, where `kubectl get` also gives `application`'s sync options and retry (as
/// kubectl's `jsonpath` output prints a list or a map: compact JSON), `kubectl patch` prints
/// `PATCH <patch>`, and the Application is not found by its first `absent` lookups; `env` is
/// more of the fake's settings (`FAKE_PENDING_BEFORE`: an operation is pending for the first
/// that many lookups before the first poll).
fn run_wait_on(
    script: &str,
    states: &[&str],
    timeout_seconds: u32,
    application: Option<&Value>,
    absent: u32,
    env: &[(&str, &str)],
) -> (bool, String) {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "platc-jenkins-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir).unwrap();
    let kubectl = r#"#!/bin/bash
dir=$(dirname "$0")
case "$*" in
    *'{.status.sync.status}'*)
        n=$(( $(cat "$dir/polls") + 1 )); echo "$n" > "$dir/polls"
        line=$(sed -n "${n}p" "$dir/states"); [ -n "$line" ] || line=$(tail -n 1 "$dir/states")
        echo "$line" > "$dir/now"
        if [ "$line" = unreachable ]; then
            echo "Unable to connect to the server: net/http: TLS handshake timeout" >&2
            exit 1
        fi
        set -- $line; printf '%s' "$1" ;;
    *'{.status.health.status}'*) set -- $(cat "$dir/now"); printf '%s' "$2" ;;
    *'{.metadata.annotations}'*)
        set -- $(cat "$dir/now")
        if [ "$3" = 1 ]; then printf '{"argocd.argoproj.io/refresh":"x"}'; else printf '{}'; fi ;;
    *'{.status.operationState.phase}'*) set -- $(cat "$dir/now") - 0 same; printf '%s' "${4#-}" ;;
    *'{.operation}'*)
        n=$(( $(cat "$dir/opreads") + 1 )); echo "$n" > "$dir/opreads"
        if [ "$n" -le "${FAKE_OPERATION_FAILS:-0}" ]; then
            echo "Unable to connect to the server: net/http: TLS handshake timeout" >&2
            exit 1
        fi
        if [ -n "$FAKE_PENDING_BEFORE" ] && [ "$(cat "$dir/polls")" = 0 ]; then
            # Before the first poll: pending for the first FAKE_PENDING_BEFORE lookups.
            n=$(( $(cat "$dir/operations") + 1 )); echo "$n" > "$dir/operations"
            if [ "$n" -le "$FAKE_PENDING_BEFORE" ]; then printf '{"sync":{}}'; fi
            exit 0
        fi
        set -- $(cat "$dir/now") - 0 same
        if [ "$5" = 1 ]; then printf '{"sync":{}}'; fi ;;
    *'{.status.sync.revision}'*) printf 'c0ffee' ;;
    *'{.status.operationState.syncResult.revision}'*)
        set -- $(cat "$dir/now") - 0 same
        if [ "$6" = same ]; then printf 'c0ffee'; else printf 'decade'; fi ;;
    *'{.status.operationState.message}'*) printf 'one or more objects failed to apply' ;;
    *'{.spec.syncPolicy.syncOptions}'*) printf '%s' "$FAKE_SYNC_OPTIONS" ;;
    *'{.spec.syncPolicy.retry}'*) printf '%s' "$FAKE_RETRY" ;;
    'patch '*) shift $(( $# - 1 )); echo "PATCH $1" ;;
    'get application '*'--output name'*)
        n=$(( $(cat "$dir/lookups") + 1 )); echo "$n" > "$dir/lookups"
        if [ "$n" -le "${FAKE_UNREACHABLE:-0}" ]; then
            echo "Unable to connect to the server: dial tcp 10.0.0.1:443: i/o timeout" >&2
            exit 1
        fi
        if [ "$n" -le "$FAKE_ABSENT" ]; then
            echo "Error from server (NotFound): applications.argoproj.io \"$3\" not found" >&2
            exit 1
        fi
        echo "application.argoproj.io/$3" ;;
    'get application '*|'annotate application '*) ;;
    *) echo "unexpected kubectl $*" >&2; exit 1 ;;
esac
"#;
    // The clock moves 10 s a reading: the stage's deadline comes after a few polls.
    let date = r#"#!/bin/sh
clock="$(dirname "$0")/clock"
t=$(( $(cat "$clock") + 10 ))
echo "$t" > "$clock"
echo "$t"
"#;
    fs::write(dir.join("clock"), "0").unwrap();
    for (name, text) in [
        ("kubectl", kubectl),
        ("sleep", "#!/bin/sh\n"),
        ("date", date),
    ] {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        let mut permissions = fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        fs::set_permissions(&path, permissions).unwrap();
    }
    fs::write(dir.join("states"), states.join("\n") + "\n").unwrap();
    fs::write(dir.join("polls"), "0").unwrap();
    fs::write(dir.join("lookups"), "0").unwrap();
    fs::write(dir.join("operations"), "0").unwrap();
    fs::write(dir.join("opreads"), "0").unwrap();
    // The state before the first poll: the first one's.
    fs::write(dir.join("now"), states[0]).unwrap();
    let policy_json = |field: &str| {
        application.map_or_else(String::new, |a| {
            serde_json::to_string(&a["spec"]["syncPolicy"][field]).unwrap()
        })
    };
    // As Jenkins runs a `sh` step: `sh -xe`.
    let output = std::process::Command::new("sh")
        .args(["-xe", "-c", script])
        .env(
            "PATH",
            format!("{}:{}", dir.display(), std::env::var("PATH").unwrap()),
        )
        .env("APPLICATION", "shop-payments")
        .env("ARGOCD_NAMESPACE", "argocd")
        .env("SYNC_TIMEOUT_SECONDS", timeout_seconds.to_string())
        .env("FAKE_SYNC_OPTIONS", policy_json("syncOptions"))
        .env("FAKE_RETRY", policy_json("retry"))
        .env("FAKE_ABSENT", absent.to_string())
        .envs(env.iter().copied())
        .env("ROOT_APPLICATION", "shop")
        .output()
        .unwrap();
    let _ = fs::remove_dir_all(&dir);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

/// The Deploy stage waits for the commit, not for what runs before it: an Application that is
/// Degraded while the commit that fixes it is not yet synced waits, and fails only once that
/// commit is synced and still Degraded a minute on (a controller's Degraded of a moment
/// passes); a canary paused between its steps (Argo CD's
/// `Suspended`, `resource_customizations/argoproj.io/Rollout/health.lua`) hands over to the
/// Canary stage, where a service without a canary keeps waiting.
#[test]
fn the_deploy_wait_judges_the_synced_commit() {
    let canary = deploy_script(
        &fs::read_to_string("out/jenkins/services/paymentservice/Jenkinsfile").unwrap(),
    );
    let plain =
        deploy_script(&fs::read_to_string("out/jenkins/services/adservice/Jenkinsfile").unwrap());
    let fix_forward = [
        "Synced Degraded 1",
        "OutOfSync Degraded 0",
        "OutOfSync Degraded 0",
        "Synced Progressing 0",
    ];
    for (script, has_canary) in [(&canary, true), (&plain, false)] {
        let (ok, log) = run_wait(script, &fix_forward, 600);
        let wanted = if has_canary {
            ok
        } else {
            // Progressing is not healthy for a plain Deployment: it keeps waiting, to the end.
            !ok && log.contains("is not synced and healthy after")
        };
        assert!(wanted, "fix forward:\n{log}");
        let (ok, log) = run_wait(script, &["OutOfSync Degraded 0", "Synced Degraded 0"], 600);
        assert!(
            !ok && log.contains("is Degraded, for 60 seconds"),
            "a synced, Degraded commit:\n{log}"
        );
        let (ok, log) = run_wait(script, &["Synced Healthy 1", "Synced Healthy 0"], 600);
        assert!(ok, "a healthy commit:\n{log}");
        let (ok, log) = run_wait(
            script,
            &[
                "Synced Progressing 0",
                "Synced Degraded 0",
                "Synced Degraded 0",
                "Synced Degraded 0",
                "Synced Degraded 0",
                "Synced Degraded 0",
                "Synced Degraded 0",
                "Synced Healthy 0",
            ],
            600,
        );
        assert!(ok, "a Degraded of less than a minute:\n{log}");
    }
    let (ok, log) = run_wait(
        &canary,
        &["OutOfSync Progressing 0", "Synced Suspended 0"],
        600,
    );
    assert!(ok, "a canary paused at a step:\n{log}");
    let (ok, log) = run_wait(&plain, &["Synced Suspended 0"], 600);
    assert!(
        !ok && log.contains("is not synced and healthy after"),
        "a suspended service without a canary:\n{log}"
    );
}

/// A kubectl read that fails for a moment (the API server, the network) is tried again: Jenkins
/// runs the step with `sh -e`, where a failed `$(kubectl …)` assignment would end the wait at
/// once. Six failures in a row fail it with kubectl's error, and a cluster out of reach is
/// never reported as an Application that does not exist yet (a state `unreachable` fails the
/// poll's first read; `FAKE_UNREACHABLE` fails the first lookups).
#[test]
fn the_deploy_wait_outlasts_a_failed_read_and_names_a_lasting_one() {
    let script =
        deploy_script(&fs::read_to_string("out/jenkins/services/adservice/Jenkinsfile").unwrap());
    let (ok, log) = run_wait(
        &script,
        &["Synced Progressing 0", "unreachable", "Synced Healthy 0"],
        600,
    );
    assert!(ok && log.contains("trying again"), "a failed poll:\n{log}");
    let (ok, log) = run_wait(&script, &["Synced Progressing 0", "unreachable"], 6000);
    assert!(
        !ok && log.contains("kubectl failed 6 times in a row"),
        "a cluster out of reach:\n{log}"
    );
    let (ok, log) = run_wait_on(
        &script,
        &["Synced Healthy 0"],
        600,
        None,
        0,
        &[("FAKE_UNREACHABLE", "2")],
    );
    assert!(
        ok && log.contains("kubectl failed, Unable to connect to the server"),
        "a failed lookup:\n{log}"
    );
    let (ok, log) = run_wait_on(
        &script,
        &["Synced Healthy 0"],
        600,
        None,
        0,
        &[("FAKE_UNREACHABLE", "100")],
    );
    assert!(
        !ok && log.contains("kubectl failed 6 times in a row") && !log.contains("does not exist"),
        "a lookup that never reaches the cluster:\n{log}"
    );
}

/// The platform pipeline's wait for the gateways' certificates passes over the Degraded that
/// Argo CD reports for a moment while cert-manager starts on a new Certificate (Ready=False
/// before Issuing=True: `resource_customizations/cert-manager.io/Certificate/health.lua`),
/// and fails on one that lasts (a failed ACME order, retried an hour later).
#[test]
fn the_certificates_wait_outlasts_a_starting_certificate() {
    let platform = fs::read_to_string("out/jenkins/platform/Jenkinsfile").unwrap();
    let script = stage_script(&platform, "Certificates");
    let starting = [
        "OutOfSync Progressing 0",
        "Synced Degraded 0",
        "Synced Progressing 0",
        "Synced Healthy 0",
    ];
    let (ok, log) = run_wait(&script, &starting, 1200);
    assert!(ok, "a starting certificate:\n{log}");
    let (ok, log) = run_wait(
        &script,
        &["Synced Progressing 0", "Synced Degraded 0"],
        1200,
    );
    assert!(
        !ok && log.contains("is Degraded, for 60 seconds"),
        "a failed order:\n{log}"
    );
}

/// With `argocd sync=manual` a pipeline starts each sync by writing its Application's
/// `operation`, which Argo CD's controller runs as written (`controller/sync.go` reads
/// `operation.sync` alone; it is `argocd app sync`, on the API server, that copies the
/// Application's sync options and retry in): the operation each stage writes is JSON, carries
/// the sync options and retry of the Application it syncs (`ApplyOutOfSyncOnly` for a canary,
/// so that a sync never resets its weights), and prunes as the Application's finalizer says
/// `argocd prune` is.
#[test]
fn a_manual_sync_carries_the_applications_policy() {
    let base = Path::new("golden/argocd-plugin/expected");
    let mut pruned = BTreeSet::new();
    for (tree, prefix) in [
        (base.to_path_buf(), "shop"),
        (base.join("env/staging"), "shop-staging"),
    ] {
        for part in ["platform", "web", "api"] {
            let jenkinsfile = if part == "platform" {
                tree.join("jenkins/platform/Jenkinsfile")
            } else {
                tree.join(format!("jenkins/services/{part}/Jenkinsfile"))
            };
            let application = yaml(&tree.join(format!("argocd/applications/{prefix}-{part}.yaml")));
            let script = deploy_script(&fs::read_to_string(&jenkinsfile).unwrap());
            let (ok, log) = run_wait_on(
                &script,
                &["Synced Healthy 0"],
                600,
                Some(&application),
                0,
                &[],
            );
            let context = format!("{}:\n{log}", jenkinsfile.display());
            assert!(ok, "{context}");
            let patch = log
                .lines()
                .find_map(|line| line.strip_prefix("PATCH "))
                .unwrap_or_else(|| panic!("no sync started: {context}"));
            let patch: serde_json::Value = serde_json::from_str(patch)
                .unwrap_or_else(|e| panic!("the operation is not JSON ({e}): {context}"));
            let policy = serde_json::to_value(&application["spec"]["syncPolicy"]).unwrap();
            let operation = &patch["operation"];
            let options = policy["syncOptions"].as_array().expect("sync options");
            assert!(!options.is_empty(), "{context}");
            assert_eq!(
                operation["sync"]["syncOptions"], policy["syncOptions"],
                "{context}"
            );
            assert_eq!(
                part == "api",
                options.iter().any(|o| o == "ApplyOutOfSyncOnly=true"),
                "{context}"
            );
            assert!(policy["retry"]["limit"].as_u64().unwrap() > 0, "{context}");
            assert_eq!(operation["retry"], policy["retry"], "{context}");
            let finalized = application["metadata"]["finalizers"]
                .as_sequence()
                .is_some_and(|f| {
                    f.iter()
                        .any(|f| f == "resources-finalizer.argocd.argoproj.io")
                });
            assert_eq!(operation["sync"]["prune"], finalized, "{context}");
            pruned.insert(finalized);
            // A sync under way: the stage waits for it to end, then starts its own (one
            // written while it runs would be lost when it ends).
            let (ok, log) = run_wait_on(
                &script,
                &["Synced Healthy 0"],
                600,
                Some(&application),
                0,
                &[("FAKE_PENDING_BEFORE", "2")],
            );
            let waited = log.find("a sync is under way; waiting for it to end");
            assert!(
                ok && waited.is_some() && waited < log.find("PATCH "),
                "a sync under way:\n{log}"
            );
        }
    }
    assert_eq!(pruned.len(), 2, "both prune settings are read");
}

/// The Application of a service whose Argo CD syncs by hand (`argocd sync=manual`), and its
/// pipeline's `Deploy` script.
fn manual_web() -> (Value, String) {
    let tree = Path::new("golden/argocd-plugin/expected");
    let application = yaml(&tree.join("argocd/applications/shop-web.yaml"));
    let script =
        deploy_script(&fs::read_to_string(tree.join("jenkins/services/web/Jenkinsfile")).unwrap());
    (application, script)
}

/// With `argocd sync=manual`, a failed read of the Application's operation is tried again, never
/// taken for "no sync under way" (an operation written while another runs is lost).
#[test]
fn a_manual_sync_waits_out_a_failed_read_of_the_sync_under_way() {
    let (application, script) = manual_web();
    let (ok, log) = run_wait_on(
        &script,
        &["Synced Healthy 0"],
        600,
        Some(&application),
        0,
        &[("FAKE_OPERATION_FAILS", "1"), ("FAKE_PENDING_BEFORE", "1")],
    );
    let retried = log.find("reading its operation, its error above; trying again");
    let waited = log.find("a sync is under way; waiting for it to end");
    assert!(
        ok && retried.is_some()
            && waited.is_some()
            && retried < waited
            && waited < log.find("PATCH "),
        "a failed read of the operation:\n{log}"
    );
}

/// With `argocd sync=manual`, a sync under way that never ends fails the stage at its deadline,
/// saying so, and starts none of its own.
#[test]
fn a_manual_sync_behind_one_that_never_ends_fails_at_the_deadline() {
    let (application, script) = manual_web();
    let (ok, log) = run_wait_on(
        &script,
        &["Synced Healthy 0"],
        600,
        Some(&application),
        0,
        &[("FAKE_PENDING_BEFORE", "1000")],
    );
    assert!(
        !ok && log.contains("a sync under way did not end within 600 seconds")
            && !log.contains("PATCH "),
        "a sync that never ends:\n{log}"
    );
}

/// A new service's job may run before the root Application's sync has made the service's
/// Application (after the platform's wave): the wait waits for it to exist, then for its
/// sync; and fails at the stage's deadline, naming the root, if it never comes.
#[test]
fn the_wait_outlasts_an_application_not_made_yet() {
    let script =
        deploy_script(&fs::read_to_string("out/jenkins/services/adservice/Jenkinsfile").unwrap());
    let (ok, log) = run_wait_on(&script, &["Synced Healthy 0"], 600, None, 3, &[]);
    assert!(
        ok && log.contains("does not exist yet: its root Application shop makes it"),
        "an Application made late:\n{log}"
    );
    let (ok, log) = run_wait_on(&script, &["Synced Healthy 0"], 600, None, 1000, &[]);
    assert!(
        !ok && log.contains("does not exist after 600 seconds: its root Application shop"),
        "an Application never made:\n{log}"
    );
}

/// A sync of the target revision that failed with its retries spent fails the wait at once,
/// with Argo CD's message (Argo CD does not sync that revision again by itself); one that is
/// pending, running or retrying, or that failed on an older revision, is waited for.
#[test]
fn the_wait_stops_at_a_sync_that_failed() {
    let script =
        deploy_script(&fs::read_to_string("out/jenkins/services/adservice/Jenkinsfile").unwrap());
    let (ok, log) = run_wait(&script, &["OutOfSync Healthy 0 Failed 0 same"], 600);
    assert!(
        !ok && log.contains("the sync of c0ffee failed: one or more objects failed to apply")
            && !log.contains("is not synced and healthy after"),
        "a failed sync:\n{log}"
    );
    let (ok, log) = run_wait(&script, &["OutOfSync Healthy 0 Error 0 same"], 600);
    assert!(
        !ok && log.contains("the sync of c0ffee failed"),
        "an errored sync:\n{log}"
    );
    let waited = [
        "OutOfSync Healthy 1 Failed 0 same",
        "OutOfSync Healthy 0 Failed 1 same",
        "OutOfSync Progressing 0 Running 1 same",
        "OutOfSync Healthy 0 Failed 0 old",
        "Synced Healthy 0 Succeeded 0 same",
    ];
    let (ok, log) = run_wait(&script, &waited, 600);
    assert!(
        ok,
        "a sync refreshing, pending, running, or failed on an older revision:\n{log}"
    );
}

/// With `argocd sync=manual` the platform's pipeline first starts the root Application's sync,
/// which makes and updates the Applications (a new service's among them), with the root's own
/// sync options and retry, and leaves one still under way to end; with `sync=auto` Argo CD
/// syncs the root itself, and the pipeline has no such stage.
#[test]
fn a_manual_platform_starts_the_roots_sync() {
    let base = Path::new("golden/argocd-plugin/expected");
    let root = yaml(&base.join("argocd/root.yaml"));
    assert!(
        root["spec"]["syncPolicy"]["automated"].is_null(),
        "the root syncs by hand"
    );
    let platform = fs::read_to_string(base.join("jenkins/platform/Jenkinsfile")).unwrap();
    let script = stage_script(&platform, "Applications");
    assert!(
        platform.find("stage('Applications')") < platform.find("stage('Deploy')"),
        "the root's sync starts before the platform's"
    );
    let (ok, log) = run_wait_on(
        &script,
        &["OutOfSync Healthy 0 Succeeded 0 same"],
        600,
        Some(&root),
        0,
        &[],
    );
    assert!(ok, "{log}");
    let patch = log
        .lines()
        .find_map(|line| line.strip_prefix("PATCH "))
        .unwrap_or_else(|| panic!("no sync of the root started:\n{log}"));
    assert!(
        log.contains("kubectl get application shop "),
        "the root is looked up:\n{log}"
    );
    let patch: serde_json::Value = serde_json::from_str(patch).expect("the operation is JSON");
    let policy = serde_json::to_value(&root["spec"]["syncPolicy"]).unwrap();
    assert_eq!(
        patch["operation"]["sync"]["syncOptions"],
        policy["syncOptions"]
    );
    assert_eq!(patch["operation"]["retry"], policy["retry"]);
    assert_eq!(
        patch["operation"]["sync"]["prune"], false,
        "this platform does not prune"
    );
    let (ok, log) = run_wait_on(
        &script,
        &["OutOfSync Healthy 0 Running 1 same"],
        600,
        Some(&root),
        0,
        &[],
    );
    assert!(
        ok && !log.contains("PATCH") && log.contains("a sync is under way"),
        "a sync of the root under way:\n{log}"
    );
    // A failed read of the root's operation is tried again, then the sync starts.
    let (ok, log) = run_wait_on(
        &script,
        &["OutOfSync Healthy 0 Succeeded 0 same"],
        600,
        Some(&root),
        0,
        &[("FAKE_OPERATION_FAILS", "1")],
    );
    assert!(
        ok && log.contains("reading its operation, its error above; trying again")
            && log.contains("PATCH "),
        "a failed read of the root's operation:\n{log}"
    );
    let auto = fs::read_to_string("out/jenkins/platform/Jenkinsfile").unwrap();
    assert!(auto.contains("stage('Deploy')") && !auto.contains("stage('Applications')"));
}
