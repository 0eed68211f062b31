//! `platc why`: the lines of `platform.kdl` behind a file or object of the reference build.

use std::process::Command;

fn why(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_platc"))
        .arg("why")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("platc runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The 1-based line of `platform.kdl` that holds `needle`, after `after`.
fn line_of(needle: &str, after: &str) -> usize {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/platform.kdl")).unwrap();
    let start = text.find(after).expect("anchor in platform.kdl");
    let at = start + text[start..].find(needle).expect("needle in platform.kdl");
    text[..at].matches('\n').count() + 1
}

#[test]
fn an_object_by_kind_and_name_names_its_node_and_line() {
    let (status, stdout, stderr) = why(&["hpa/frontend"]);
    assert_eq!(status, 0, "{stderr}");
    let line = line_of("autoscale", "service frontend {");
    assert!(
        stdout.starts_with(
            "out/kubernetes/services/frontend/hpa.yaml: HorizontalPodAutoscaler frontend/frontend\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "made by platform.kdl:{line} (service=frontend/autoscale)"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{line} |         autoscale min=")),
        "{stdout}"
    );
    // The base build takes nothing from an overlay.
    assert!(!stdout.contains("overlay"), "{stdout}");
}

#[test]
fn a_path_under_an_environment_shows_what_the_overlay_set() {
    let (status, stdout, stderr) = why(&["out/env/staging/kubernetes/services/frontend/hpa.yaml"]);
    assert_eq!(status, 0, "{stderr}");
    let line = line_of("autoscale", "env staging {");
    assert!(
        stdout.contains(&format!(
            "autoscale: platform.kdl:{line} (env=staging/service=frontend/autoscale), the `staging` overlay"
        )),
        "{stdout}"
    );
}

#[test]
fn values_from_defaults_are_named_as_defaults() {
    let (status, stdout, stderr) = why(&["kubernetes/services/cartservice/deployment.yaml"]);
    assert_eq!(status, 0, "{stderr}");
    let line = line_of("replicas", "defaults {");
    assert!(
        stdout.contains(&format!(
            "replicas: platform.kdl:{line} (defaults/replicas), a default for every service (`defaults`)"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("made by platform.kdl:"), "{stdout}");
}

#[test]
fn a_file_of_another_target_and_an_object_filter() {
    let (status, stdout, _) = why(&["terraform/aws/network.tf.json"]);
    assert_eq!(status, 0);
    assert!(stdout.contains("(aws/vpc)"), "{stdout}");
    let (status, stdout, _) =
        why(&["out/kubernetes/services/frontend/service.yaml#Service/frontend"]);
    assert_eq!(status, 0);
    assert!(stdout.contains(": Service frontend/frontend"), "{stdout}");
    let (status, _, _) =
        why(&["out/kubernetes/services/frontend/service.yaml#Deployment/frontend"]);
    assert_eq!(status, 1);
}

#[test]
fn nothing_found_is_an_error_with_a_suggestion() {
    let (status, stdout, stderr) = why(&["Deploymnt/frontend"]);
    assert_eq!(status, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("did you mean `Deployment/frontend`?"),
        "{stderr}"
    );
}

#[test]
fn a_platform_that_does_not_compile_explains_nothing() {
    let dir = std::env::temp_dir().join(format!("platc-why-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("platform.kdl");
    std::fs::write(
        &file,
        "platform shop {\n    service web { calls nowhere }\n}\n",
    )
    .unwrap();
    let (status, stdout, stderr) = why(&["-f", file.to_str().unwrap(), "deploy/web"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(status, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("platc::"), "{stderr}");
    let (status, _, stderr) = why(&["-f", "no/such/platform.kdl", "deploy/web"]);
    assert_eq!(status, 2, "{stderr}");
}
