//! The Jenkins outputs resolve: in `out/` and every golden tree (environments included), every
//! job of the Job DSL seed reads a Jenkinsfile that exists, every view names jobs the seed
//! makes, and every name a pipeline hands to a tool (the chart, the namespace, the image, the
//! Rollout, the Argo CD Application, the ECR repository, the platform's object files) is the one
//! the object it points at carries in the same tree.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// Every tree with a `jenkins/seed.groovy`.
fn trees() -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from("out")];
    for entry in fs::read_dir("golden").unwrap() {
        roots.push(entry.unwrap().path().join("expected"));
    }
    let mut trees = Vec::new();
    for root in roots {
        let mut candidates = vec![root.clone()];
        if let Ok(envs) = fs::read_dir(root.join("env")) {
            candidates.extend(envs.map(|e| e.unwrap().path()));
        }
        trees.extend(
            candidates
                .into_iter()
                .filter(|t| t.join("jenkins/seed.groovy").is_file()),
        );
    }
    trees.sort();
    trees
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
            let value = unquote(value)
                .unwrap_or_else(|| panic!("{key} is not one Groovy literal: {value}"));
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
                        text.contains(&format!("changeset '{}/**'", env["BUILD_CONTEXT"])),
                    );
                }
                check(
                    "the chart is a path that triggers the pipeline",
                    text.contains(&format!("changeset '{chart}/**'")),
                );
            }
            if let Some(application) = env.get("APPLICATION") {
                let object = yaml(&tree.join(format!("argocd/applications/{application}.yaml")));
                check(
                    "APPLICATION names an Application in ARGOCD_NAMESPACE",
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

#[test]
fn unquote_reads_what_the_templates_write() {
    assert_eq!(
        unquote(r"'it\'s \\ ${x}\n'").as_deref(),
        Some("it's \\ ${x}\n")
    );
    assert_eq!(unquote("'a'b'"), None);
    assert_eq!(unquote("a"), None);
}
