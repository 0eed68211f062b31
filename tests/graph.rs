//! `platc graph`, through the real binary: both formats on a small platform with a gateway and a
//! canary, the default file, and the exit status on an input with errors.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const PLATFORM: &str = r#"platform shop {
    mesh istio {
        gateway public host="shop.example.com"
    }
    service web {
        image "web" tag="v1.0.0"
        port http 80 target=8080 protocol=http
        calls api env=API_ADDR
        calls redis-cart
        expose gateway=public path="/"
    }
    service api {
        image "api" tag="v1.0.0"
        port grpc 9090 protocol=grpc
        canary v2 tag="v2.0.0" weight=20
    }
    service redis-cart {
        image "redis" tag="7.2"
        port tcp-redis 6379 protocol=tcp
    }
}
"#;

/// Runs `platc` with `args` in a fresh directory holding `platform.kdl`.
fn platc(text: &str, args: &[&str]) -> (i32, String, String) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "platc-graph-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("platform.kdl"), text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_platc"))
        .args(args)
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn mermaid_is_the_default() {
    let (status, stdout, stderr) = platc(PLATFORM, &["graph"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        stdout,
        r#"flowchart LR
    gateway_public(["gateway public<br/>shop.example.com"])
    svc_web["web<br/>http 80→8080"]
    svc_api["api<br/>grpc 9090<br/>canary v2 20%"]
    svc_redis_cart["redis-cart<br/>tcp 6379"]
    svc_web -->|"grpc :9090"| svc_api
    svc_web -->|"tcp :6379"| svc_redis_cart
    gateway_public -->|"/"| svc_web
    classDef canary stroke-dasharray: 5 5
    class svc_api canary
"#
    );
}

#[test]
fn dot_names_every_service_and_edge() {
    let (status, stdout, stderr) = platc(
        PLATFORM,
        &["graph", "--format", "dot", "-f", "platform.kdl"],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.starts_with("digraph \"shop\" {\n"), "{stdout}");
    assert!(
        stdout.contains("svc_api [label=\"api\\ngrpc 9090\\ncanary v2 20%\", style=dashed];"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("gateway_public [label=\"gateway public\\nshop.example.com\", shape=oval];"),
        "{stdout}"
    );
    assert!(
        stdout.contains("svc_web -> svc_redis_cart [label=\"tcp :6379\"];"),
        "{stdout}"
    );
    assert!(stdout.ends_with("}\n"), "{stdout}");
}

#[test]
fn errors_print_no_graph_and_exit_1() {
    let broken = PLATFORM.replace("calls api", "calls apj");
    let (status, stdout, stderr) = platc(&broken, &["graph"]);
    assert_eq!(status, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("platc::unknown-service"), "{stderr}");
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    let (status, _, stderr) = platc(PLATFORM, &["graph", "--format", "png"]);
    assert_eq!(status, 2, "{stderr}");
}
