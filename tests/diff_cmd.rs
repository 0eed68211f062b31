//! `platc diff` through the real binary, in a scratch directory: what a build would change in
//! `out/`, with the fields, their values and the line of `platform.kdl` behind each change;
//! its exit status; `--env`; and that it never writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Two services and a `staging` overlay. The line numbers matter: the tests name them.
const PLATFORM: &str = r#"platform shop {
    service frontend {
        image "frontend" tag="v1.0.0"
        port http 80 target=8080 protocol=http
        calls checkout env=CHECKOUT_ADDR
        autoscale min=2 max=10 cpu=70
    }
    service checkout {
        image "checkout" tag="v1.0.0"
        port grpc 5050 protocol=grpc
        replicas 3
    }
    env staging {
        service checkout { replicas 1 }
    }
}
"#;

#[test]
fn diff_names_the_changed_field_its_values_and_the_line_behind_it() {
    let dir = Scratch::new(PLATFORM);
    dir.platc(&["build"]).status(0);
    dir.platc(&["diff"])
        .status(0)
        .stdout_is("out is up to date (")
        .lacks("changed");
    dir.platc(&["diff", "--exit-code"]).status(0);

    dir.edit("max=10", "max=5"); // line 6
    dir.edit(r#""checkout" tag="v1.0.0""#, r#""checkout" tag="v1.1.0""#); // line 9
    let before = dir.snapshot();
    let run = dir.platc(&["diff"]).status(0);
    let hpa = run.block("changed kubernetes/services/frontend/hpa.yaml");
    assert_eq!(
        hpa,
        "changed kubernetes/services/frontend/hpa.yaml (HorizontalPodAutoscaler frontend/frontend)\n\
         \x20 from platform.kdl:6: autoscale min=2 max=5 cpu=70\n\
         \x20   ~ spec.maxReplicas: 10 → 5\n",
        "{}",
        run.stdout
    );
    // A file's line is that of the node that makes its object: the service, for the image.
    let deployment = run.block("changed kubernetes/services/checkout/deployment.yaml");
    for expected in [
        "(Deployment checkout/checkout)",
        "  from platform.kdl:8: service checkout {\n",
        r#"    ~ spec.template.spec.containers[0].image: "checkout:v1.0.0" → "checkout:v1.1.0""#,
    ] {
        assert!(
            deployment.contains(expected),
            "{expected:?} in\n{deployment}"
        );
    }
    // The staging tree has the same changes; nothing is added or removed.
    run.has("changed env/staging/kubernetes/services/frontend/hpa.yaml")
        .lacks("\nadded ")
        .lacks("\nremoved ");
    let changed = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("changed "))
        .count();
    assert!(changed >= 4, "{}", run.stdout);
    run.has(&format!(
        "\n0 objects added, {changed} changed, 0 removed\n"
    ));
    dir.platc(&["diff", "--exit-code"]).status(1);
    assert!(dir.snapshot() == before, "platc diff wrote to out/");

    dir.platc(&["build"]).status(0);
    dir.platc(&["diff", "--exit-code"])
        .status(0)
        .stdout_is("out is up to date (");
}

#[test]
fn a_line_that_moved_changes_only_the_manifest_and_diff_says_so() {
    let dir = Scratch::new(PLATFORM);
    dir.platc(&["build"]).status(0);
    dir.edit("platform shop {", "// The shop.\nplatform shop {");
    dir.platc(&["diff"])
        .status(0)
        .stdout_is("no object changes, but a build would rewrite 2 .platc/manifest.json file(s)");
    dir.platc(&["diff", "--exit-code"]).status(1);
    dir.platc(&["build", "--check"]).status(1);
}

#[test]
fn diff_lists_added_and_removed_files_and_writes_no_missing_out() {
    let dir = Scratch::new(PLATFORM);
    let run = dir.platc(&["diff", "--exit-code"]).status(1);
    run.has("out does not exist: a build adds every file\n")
        .has("added kubernetes/services/checkout/deployment.yaml (Deployment checkout/checkout)\n  from platform.kdl:8: service checkout {\n")
        .lacks("changed ");
    assert!(!dir.path("out").exists(), "platc diff created out/");

    dir.platc(&["build"]).status(0);
    dir.edit("        autoscale min=2 max=10 cpu=70\n", "");
    dir.edit(
        "    env staging {",
        "    service cart {\n        image \"cart\" tag=\"v1.0.0\"\n        port grpc 7070 protocol=grpc\n    }\n    env staging {",
    );
    let run = dir.platc(&["diff"]).status(0);
    let removed = run.block("removed kubernetes/services/frontend/hpa.yaml");
    assert_eq!(
        removed,
        "removed kubernetes/services/frontend/hpa.yaml (HorizontalPodAutoscaler frontend/frontend)\n\
         \x20 from platform.kdl:6 (as of the last build)\n",
        "{}",
        run.stdout
    );
    run.has("added kubernetes/services/cart/deployment.yaml (Deployment cart/cart)\n  from platform.kdl:12: service cart {\n");
}

#[test]
fn diff_says_which_files_a_build_would_refuse_to_replace() {
    let dir = Scratch::new(PLATFORM);
    dir.platc(&["build"]).status(0);
    let service = dir.path("out/kubernetes/services/checkout/service.yaml");
    let text = std::fs::read_to_string(&service).unwrap();
    std::fs::write(&service, text.replace("port: 5050", "port: 5051")).unwrap();
    dir.write("out/notes.txt", "mine\n");
    let run = dir.platc(&["diff"]).status(0);
    let edited = run.block("changed kubernetes/services/checkout/service.yaml");
    assert!(
        edited.contains("  note: edited by hand since platc wrote it")
            && edited.contains("    ~ spec.ports[0].port: 5051 → 5050\n"),
        "{edited}"
    );
    let foreign = run.block("removed notes.txt");
    assert!(
        foreign.contains("  note: not written by platc (no manifest lists it)")
            && !foreign.contains("from "),
        "{foreign}"
    );
}

#[test]
fn diff_of_a_platform_with_errors_exits_1_and_writes_nothing() {
    let dir = Scratch::new(PLATFORM);
    dir.edit("calls checkout", "calls checkuot");
    dir.platc(&["diff"])
        .status(1)
        .stdout_is("")
        .stderr_has("unknown service `checkuot`");
    let run = dir
        .platc(&["diff", "--message-format", "json"])
        .status(1)
        .stdout_is("");
    assert!(
        run.stderr
            .starts_with(r#"{"code":"platc::unknown-service""#),
        "{}",
        run.stderr
    );
    assert!(!dir.path("out").exists(), "platc diff created out/");
}

#[test]
fn diff_env_compares_that_environment_tree_alone() {
    let dir = Scratch::new(PLATFORM);
    dir.platc(&["build"]).status(0);
    dir.edit(
        "service checkout { replicas 1 }",
        "service checkout { replicas 2 }",
    ); // line 14
    let before = dir.snapshot();
    let run = dir.platc(&["diff", "--env", "staging"]).status(0);
    let deployment = run.block("changed kubernetes/services/checkout/deployment.yaml");
    assert!(
        deployment.contains("    ~ spec.replicas: 1 → 2\n"),
        "{}",
        run.stdout
    );
    // Two replicas get a PodDisruptionBudget. Paths are inside out/env/staging.
    run.has(
        "added kubernetes/services/checkout/pdb.yaml (PodDisruptionBudget checkout/checkout)\n",
    )
    .lacks("env/staging/")
    // The service's chart follows: its PDB template, and `replicaCount` in its values.
    .has("added helm/checkout/templates/kubernetes-pdb.yaml (PodDisruptionBudget checkout/checkout)\n")
    .has("changed helm/checkout/values.yaml\n  from platform.kdl:8: service checkout {\n    ~ replicaCount: 1 → 2\n")
    .has("\n2 objects added, 2 changed, 0 removed\n");
    // The whole tree has the same differences, under env/staging/, and no others.
    dir.platc(&["diff"])
        .status(0)
        .has("changed env/staging/kubernetes/services/checkout/deployment.yaml")
        .has("\n2 objects added, 2 changed, 0 removed\n");
    assert!(dir.snapshot() == before, "platc diff wrote to out/");
    dir.platc(&["build", "--env", "staging"]).status(0);
    dir.platc(&["diff", "--env", "staging", "--exit-code"])
        .status(0)
        .stdout_is("out/env/staging is up to date (");
    dir.platc(&["diff", "--env", "staging", "-o", "elsewhere"])
        .status(0)
        .has("elsewhere does not exist");
}

#[test]
fn diff_is_plain_text_when_stdout_is_not_a_terminal() {
    let dir = Scratch::new(PLATFORM);
    let output = Command::new(env!("CARGO_BIN_EXE_platc"))
        .arg("diff")
        .current_dir(&dir.0)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("added "), "{stdout}");
    assert!(!stdout.contains('\x1b'), "{stdout}");
}

/// A directory under the system's temporary directory holding `platform.kdl`, removed when
/// dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(platform: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "platc-diff-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let scratch = Self(dir);
        scratch.write("platform.kdl", platform);
        scratch
    }

    fn path(&self, path: &str) -> PathBuf {
        self.0.join(path)
    }

    fn write(&self, path: &str, text: &str) {
        std::fs::write(self.path(path), text).unwrap();
    }

    /// Replaces the one `from` of `platform.kdl` with `to`.
    fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.path("platform.kdl")).unwrap();
        assert_eq!(text.matches(from).count(), 1, "{from:?} in\n{text}");
        self.write("platform.kdl", &text.replacen(from, to, 1));
    }

    /// Every file under `out/`, bytes and all.
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, files);
                } else {
                    files.insert(path.clone(), std::fs::read(&path).unwrap());
                }
            }
        }
        let mut files = BTreeMap::new();
        walk(&self.path("out"), &mut files);
        assert!(!files.is_empty());
        files
    }

    fn platc(&self, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_platc"))
            .args(args)
            .current_dir(&self.0)
            .env("NO_COLOR", "1")
            .output()
            .expect("platc runs");
        Run {
            args: args.join(" "),
            status: output.status.code(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run of `platc` printed, with checks that show the whole output when they fail.
struct Run {
    args: String,
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn fail(&self, why: &str) -> ! {
        panic!(
            "platc {}: {why}\n--- stdout\n{}--- stderr\n{}---",
            self.args, self.stdout, self.stderr
        )
    }

    #[track_caller]
    fn status(self, status: i32) -> Self {
        if self.status != Some(status) {
            self.fail(&format!("exit status {:?}, expected {status}", self.status));
        }
        self
    }

    /// stdout is `start` and, unless it is empty, whatever follows on its line.
    #[track_caller]
    fn stdout_is(self, start: &str) -> Self {
        let whole = if start.is_empty() {
            self.stdout.is_empty()
        } else {
            self.stdout.starts_with(start) && self.stdout.lines().count() == 1
        };
        if !whole {
            self.fail(&format!("stdout is not {start:?}…"));
        }
        self
    }

    #[track_caller]
    fn has(&self, text: &str) -> &Self {
        if !self.stdout.contains(text) {
            self.fail(&format!("stdout lacks {text:?}"));
        }
        self
    }

    #[track_caller]
    fn lacks(&self, text: &str) -> &Self {
        if self.stdout.contains(text) {
            self.fail(&format!("stdout has {text:?}"));
        }
        self
    }

    #[track_caller]
    fn stderr_has(self, text: &str) -> Self {
        if !self.stderr.contains(text) {
            self.fail(&format!("stderr lacks {text:?}"));
        }
        self
    }

    /// The lines of stdout from the one starting with `header` to the next unindented one.
    #[track_caller]
    fn block(&self, header: &str) -> String {
        let mut lines = self.stdout.lines().skip_while(|l| !l.starts_with(header));
        let Some(first) = lines.next() else {
            self.fail(&format!("stdout has no line starting {header:?}"));
        };
        let mut block = format!("{first}\n");
        for line in lines.take_while(|l| l.starts_with(' ')) {
            block.push_str(line);
            block.push('\n');
        }
        block
    }
}
