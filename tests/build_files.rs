//! `platc build`'s handling of files, through the binary in scratch directories: where it
//! refuses to write, what `--force` moves aside, hand edits, and `build --check` on a missing
//! tree. The writer's own steps are tested at library level in `tests/write.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A scratch directory, removed when dropped (also when the test fails).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

fn scratch(name: &str) -> Scratch {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "platc-build-files-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// A small platform; `tag` changes every Deployment, so two tags build two different trees.
fn platform(tag: &str) -> String {
    format!(
        r#"platform hello {{
    service hello {{
        image "ghcr.io/acme/hello" tag="{tag}"
        port http 8080 protocol=http
        probe http port=http path="/healthz"
        waive CKV_K8S_43 reason="fixture images are pinned by tag"
    }}
}}
"#
    )
}

/// Runs `platc ARGS` in `dir`.
fn platc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_platc"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("PLATC_TIMINGS")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit status, showing stderr when it differs.
fn status(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "stderr:\n{}",
        stderr(output)
    );
}

#[test]
fn check_on_a_missing_directory_says_it_is_missing() {
    let dir = scratch("check-missing");
    std::fs::write(dir.join("platform.kdl"), platform("v1")).unwrap();
    let output = platc(&dir, &["build", "--check"]);
    status(&output, 1);
    let text = stderr(&output);
    assert!(text.contains("error: out is missing"), "{text}");
    assert!(text.contains("run `platc build`"), "{text}");
    assert!(!text.contains("stale"), "{text}");
    assert!(!dir.join("out").exists());
}
