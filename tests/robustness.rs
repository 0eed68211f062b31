//! Robustness: `compile` (and `render_json` of its diagnostics) never panics on a damaged input,
//! and every span it reports lies inside the text it was given, on char boundaries.
//!
//! Inputs are the root `platform.kdl` and every `golden/*/platform.kdl`, found when the test
//! runs. Each is damaged three ways, one mutation per compile: truncated at every char
//! boundary, each line deleted, each line duplicated. Every failure is collected, and each test
//! reports them all at once, naming the input and the mutation so that it can be replayed.
//!
//! The root file is large (about 10 KB), so its truncations are sampled: every boundary in the
//! first `DENSE_PREFIX` bytes, then every `SPARSE_STEP`th. Set `PLATC_ROBUSTNESS_FULL=1` to
//! truncate it at every boundary too.
//!
//! The inputs of a test are compiled on both cores (`run`). About a minute of CPU in all in a
//! debug build whose dependencies are optimised (`[profile.dev.package."*"] opt-level = 2`):
//! 35 s on two cores, most of it the golden inputs' truncations.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;

use rayon::iter::{IntoParallelRefIterator, ParallelIterator};

use platc::diagnostic::render_json;
use platc::source::Source;
use platc::span::Span;
use platc::{Options, compile};

/// Truncations of the root file: every char boundary below this byte offset…
const DENSE_PREFIX: usize = 2048;
/// …and every this-many-th boundary after it.
const SPARSE_STEP: usize = 7;
/// At most this many failures are printed per test; the rest are counted.
const SHOWN_FAILURES: usize = 100;

/// One input file: where it came from and its text.
#[derive(Clone)]
struct Input {
    /// The path relative to the crate root.
    name: String,
    text: String,
    /// Whether truncation may skip boundaries (the root file, unless `PLATC_ROBUSTNESS_FULL`).
    sampled: bool,
}

/// The root `platform.kdl` (first) and every `golden/*/platform.kdl`, in path order.
fn inputs() -> Vec<Input> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let full = std::env::var_os("PLATC_ROBUSTNESS_FULL").is_some_and(|v| v == "1");
    let mut paths = vec![(root.join("platform.kdl"), !full)];
    let mut golden: Vec<PathBuf> = std::fs::read_dir(root.join("golden"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("platform.kdl"))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    golden.sort();
    paths.extend(golden.into_iter().map(|p| (p, false)));
    paths
        .into_iter()
        .map(|(path, sampled)| {
            // A case that is not UTF-8 on purpose is mutated as the text platc shows of it.
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            Input {
                name,
                text,
                sampled,
            }
        })
        .collect()
}

/// The byte offsets at which to truncate `text`, `text.len()` included.
fn truncation_points(text: &str, sampled: bool) -> Vec<usize> {
    let boundaries = (0..=text.len()).filter(|&i| text.is_char_boundary(i));
    if !sampled {
        return boundaries.collect();
    }
    let mut sparse = 0;
    boundaries
        .filter(|&i| {
            if i < DENSE_PREFIX || i == text.len() {
                return true;
            }
            sparse += 1;
            sparse % SPARSE_STEP == 1
        })
        .collect()
}

/// The lines of `text`, each with its line terminator, so that joining them gives the text back.
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// A short, one-line preview of a line for failure messages.
fn preview(line: &str) -> String {
    let line = line.trim();
    let mut shown: String = line.chars().take(60).collect();
    if shown.len() < line.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

thread_local! {
    /// Set while `compile` runs under `catch_unwind`: the panic hook then stays quiet and
    /// records the message here instead of printing it.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.get() {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
                    .unwrap_or_default();
                let message = payload_message(info.payload());
                LAST_PANIC.set(Some(format!("{message}{location}")));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into its message (and location), without printing it.
///
/// The message comes from the panic's payload, which rayon carries back from a job that
/// panicked on another of its threads (`compile` runs on the pool); the location only the
/// hook saw, on the thread that panicked, so it is added when that was this one.
fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    LAST_PANIC.set(None);
    CATCHING.set(true);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.set(false);
    result.map_err(|payload| {
        let message = payload_message(payload.as_ref());
        match LAST_PANIC.take() {
            Some(seen) if seen.starts_with(&message) => seen,
            _ => format!("{message} (on another thread)"),
        }
    })
}

/// A panic's message: its `&str` or `String` payload.
fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".to_owned())
}

/// Compiles `text` and returns what is wrong: a panic (in `compile`, or in rendering its
/// diagnostics as JSON, which looks up the line and column of every span), or spans outside
/// the text.
fn problems(text: &str) -> Vec<String> {
    let source = Source::new("platform.kdl", text);
    let compilation = match catching(|| compile(&source, &Options::default())) {
        Ok(compilation) => compilation,
        Err(message) => return vec![format!("compile panicked: {message}")],
    };
    if let Err(message) = catching(|| render_json(&source, &compilation.diagnostics)) {
        return vec![format!("render_json panicked: {message}")];
    }
    let mut found = Vec::new();
    for diagnostic in &compilation.diagnostics {
        let spans = std::iter::once(("span", diagnostic.span))
            .chain(diagnostic.labels.iter().map(|l| ("label span", l.span)));
        for (what, span) in spans {
            if let Some(reason) = span_problem(text, span) {
                found.push(format!(
                    "{} {what} {}..{} {reason}",
                    diagnostic.kind.code(),
                    span.start,
                    span.end
                ));
            }
        }
    }
    found
}

fn span_problem(text: &str, span: Span) -> Option<String> {
    if span.start > span.end {
        Some("starts after it ends".to_owned())
    } else if span.end > text.len() {
        Some(format!("ends past the text ({} bytes)", text.len()))
    } else if !text.is_char_boundary(span.start) || !text.is_char_boundary(span.end) {
        Some("is not on char boundaries".to_owned())
    } else {
        None
    }
}

/// Runs every mutation of the given inputs and panics with all failures at once.
///
/// `mutate` calls its callback once per mutation with a description and the mutated text.
fn run(kind: &str, inputs: &[Input], mutate: impl Fn(&Input, &mut dyn FnMut(String, &str)) + Sync) {
    install_panic_hook();
    // The inputs on both cores; failures come back in input order.
    let results: Vec<(usize, Vec<String>)> = inputs
        .par_iter()
        .map(|input| {
            let mut failures = Vec::new();
            let mut compiles = 0usize;
            mutate(input, &mut |mutation, text| {
                compiles += 1;
                for problem in problems(text) {
                    failures.push(format!("{}, {mutation}: {problem}", input.name));
                }
            });
            (compiles, failures)
        })
        .collect();
    let compiles: usize = results.iter().map(|(n, _)| n).sum();
    let failures: Vec<String> = results.into_iter().flat_map(|(_, f)| f).collect();
    if failures.is_empty() {
        return;
    }
    let mut report = format!(
        "{} problem(s) in {compiles} {kind} compiles:\n",
        failures.len()
    );
    for failure in failures.iter().take(SHOWN_FAILURES) {
        writeln!(report, "  {failure}").unwrap();
    }
    if failures.len() > SHOWN_FAILURES {
        writeln!(report, "  … and {} more", failures.len() - SHOWN_FAILURES).unwrap();
    }
    panic!("{report}");
}

fn truncate(input: &Input, each: &mut dyn FnMut(String, &str)) {
    for at in truncation_points(&input.text, input.sampled) {
        each(format!("truncated at byte {at}"), &input.text[..at]);
    }
}

#[test]
fn the_inputs_are_found() {
    let inputs = inputs();
    assert_eq!(inputs[0].name, "platform.kdl");
    assert!(inputs.iter().all(|i| !i.text.is_empty()));
}

// The root file, truncated in a test of its own, runs beside the golden inputs' test.
#[test]
fn root_truncated_at_char_boundaries() {
    run("truncation", &inputs()[..1], truncate);
}

// The golden inputs, the most compiles of all (`run` spreads them over both cores).
#[test]
fn golden_truncated_at_every_char_boundary() {
    run("truncation", &inputs()[1..], truncate);
}

#[test]
fn each_line_deleted() {
    run("line deletion", &inputs(), |input, each| {
        let lines = lines(&input.text);
        for (i, deleted) in lines.iter().enumerate() {
            let mut text = String::with_capacity(input.text.len());
            for (j, line) in lines.iter().enumerate() {
                if j != i {
                    text.push_str(line);
                }
            }
            each(
                format!("line {} {} deleted", i + 1, preview(deleted)),
                &text,
            );
        }
    });
}

#[test]
fn each_line_duplicated() {
    run("line duplication", &inputs(), |input, each| {
        let lines = lines(&input.text);
        for (i, duplicated) in lines.iter().enumerate() {
            let mut text = String::with_capacity(input.text.len() + duplicated.len() + 1);
            for (j, line) in lines.iter().enumerate() {
                text.push_str(line);
                if j == i {
                    // A last line without a newline still gets a line of its own.
                    if !line.ends_with('\n') {
                        text.push('\n');
                    }
                    text.push_str(line);
                }
            }
            each(
                format!("line {} {} duplicated", i + 1, preview(duplicated)),
                &text,
            );
        }
    });
}

#[test]
fn a_panic_is_caught_with_its_message() {
    install_panic_hook();
    let caught = catching(|| -> () { panic!("boom {}", 42) });
    let message = caught.unwrap_err();
    assert!(message.starts_with("boom 42 at "), "{message}");
    assert!(message.contains("robustness.rs"), "{message}");
    assert_eq!(catching(|| 7), Ok(7));
}

#[test]
fn a_panic_on_the_pool_is_caught_with_its_message() {
    install_panic_hook();
    // From a thread outside the pool, both halves of a join run on the pool's threads.
    let caught =
        std::thread::spawn(|| catching(|| rayon::join(|| 1, || -> i32 { panic!("pooled {}", 7) })))
            .join()
            .expect("the thread returns");
    let message = caught.unwrap_err();
    assert!(message.starts_with("pooled 7"), "{message}");
}

#[test]
fn spans_outside_the_text_are_found() {
    let text = "aé";
    assert_eq!(span_problem(text, Span::new(0, 3)), None);
    assert_eq!(span_problem(text, Span::new(3, 3)), None);
    assert!(span_problem(text, Span::new(2, 1)).is_some());
    assert!(span_problem(text, Span::new(0, 4)).is_some());
    assert!(span_problem(text, Span::new(2, 3)).is_some());
}

#[test]
fn sampling_keeps_the_prefix_and_the_end() {
    let text = "é".repeat(3000);
    let points = truncation_points(&text, true);
    assert!(points.starts_with(&[0, 2, 4]));
    assert_eq!(points.last(), Some(&text.len()));
    assert!(points.iter().all(|&i| text.is_char_boundary(i)));
    assert_eq!(truncation_points(&text, false).len(), 3001);
}

/// A value an adversary might write into any string of `platform.kdl`: a Terraform
/// interpolation and template directive, and a kubelet variable reference.
const HOSTILE: &str = r#"x${file(\"/etc/hostname\")}%{ if true }y$(SECRET)$$z{{ .Release.Name }}"#;

/// What the kubelet makes of an env value (`third_party/forked/golang/expansion`): `$$` is
/// `$`, `$(NAME)` is NAME's value (here every name has one), any other `$` stays.
fn kubelet_expand(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(close) = after.strip_prefix('(').and_then(|a| a.find(')')) {
            out.push_str("<expanded>");
            rest = &after[close + 2..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Every occurrence of `needle` in `text` that is not escaped by the character before it.
fn unescaped(text: &str, needle: &str, escape: char) -> usize {
    text.match_indices(needle)
        .filter(|(i, _)| !text[..*i].ends_with(escape))
        .count()
}

/// Removes every `"//"` comment property from a Terraform JSON document.
fn strip_comments(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("//");
            map.values_mut().for_each(strip_comments);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_comments),
        _ => {}
    }
}

#[test]
fn a_path_reaches_the_container_as_written() {
    let path = "/a$(SECRET)$$z";
    let text = format!(
        "platform shop {{\n    service web {{\n        image \"nginx\" tag=\"1.27\"\n        calls-external \"api.example.com\" port=443 env=API format=url path=\"{path}\"\n    }}\n}}\n"
    );
    let result = compile(&Source::new("platform.kdl", text), &Options::default());
    let platform = result.platform.expect("the platform compiles");
    let tree = platc::build_tree(&platform).expect("the tree builds");
    let deployment: serde_yaml::Value =
        serde_yaml::from_str(&tree["kubernetes/services/web/deployment.yaml"]).unwrap();
    let value = deployment["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        kubelet_expand(&value),
        format!("https://api.example.com{path}")
    );
}

#[test]
fn hostile_strings_reach_no_output_unescaped() {
    // Each line puts the hostile value into one string of the platform (`@`).
    let slots = [
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16"; state bucket="@" lock-table=t-lock }"#,
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16"; state bucket=b-state lock-table="@" }"#,
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16"; state bucket=b-state lock-table=t-lock prefix="@" }"#,
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16"; table carts hash-key="@" }"#,
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16"; table carts hash-key=id range-key="@" }"#,
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16" flow-logs=#false reason="@" }"#,
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16"; cluster c endpoint=public reason="@" { node-group g instance=m6i.large } }"#,
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16"; waive CKV_AWS_1 reason="@" }"#,
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16"; domain "@" }"#,
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16"; secret k source=ssm name="/k" kms-key="@" }"#,
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16"; cluster c { node-group g instance=m6i.large }; database ledger engine=postgres version="16" class=db.t4g.micro }; service ledger { image "nginx" tag="1.27"; port http 8080; uses database ledger auth=password reason="@" { env password=DB_PASSWORD uri=DB_URL; }; }"#,
        r#"aws region=us-east-1 account="123456789012" { vpc cidr="10.0.0.0/16"; cluster c { node-group g instance=m6i.large }; secret hook source=ssm name="/hook" }; observability { prometheus; alerts { slack oncall secret=hook channel="@" } }"#,
        r#"delivery { argocd repo="@" path="@" revision="@" }"#,
        r#"delivery { argocd repo="@" path="@" revision="@" source=plugin }"#,
    ];
    let service_slots = [
        r#"env GREETING "@""#,
        r#"probe http port=http path="@""#,
        r#"volume data path="@""#,
        r#"stateful { volume data path="/@" size="1Gi"; }"#,
        r#"security read-only-root=#false reason="@""#,
        r#"load-balancer reason="@""#,
        r#"waive CKV_K8S_8 reason="@""#,
        r#"uses secret token env=TOKEN reason="@""#,
        r#"uses secret token path="/run/@""#,
        r#"command "/bin/app" "@""#,
        r#"args "--greeting" "@""#,
        r#"config greeting path="/etc/greeting" text="@""#,
        r#"container side { command "@"; args "@"; env GREETING "@"; }"#,
        r#"init first { command "/bin/init" "@"; args "@"; env GREETING "@"; }"#,
        r#"migrate schema { command "/bin/migrate" "@"; args "@"; env GREETING "@"; }"#,
    ];
    // With a mesh: its reasons and the fields that reach Istio's objects.
    let mesh_slots = [
        r#"mesh istio mtls=permissive reason="@" { gateway public host="shop.example.com" tls=disabled reason="@" }"#,
        r#"mesh istio mtls=strict { gateway public host="shop.example.com" }"#,
        // An issuer or key set URL with spaces is refused; the audiences and claims are free.
        r#"mesh istio mtls=strict { gateway public host="shop.example.com"; jwt users issuer="https://auth.example.com/@" jwks="https://auth.example.com/@" }"#,
        r#"mesh istio mtls=strict { gateway public host="shop.example.com"; jwt users issuer="https://auth.example.com" jwks="https://auth.example.com/jwks.json" audiences="@" }"#,
    ];
    let mesh_service_slots = [
        r#"expose gateway=public path="/@""#,
        r#"expose gateway=public path="/@" match=exact rewrite="/@""#,
        r#"expose gateway=public path="/@" match=regex"#,
        r#"expose gateway=public path="/@" jwt=users claims="groups=@""#,
        r#"canary v2 tag="v2" { header x-canary="@" }"#,
        r#"version v2 tag="v2" { header x-version="@"; }"#,
        r#"version v2 tag="v2" { cookie user="@"; }"#,
        r#"probe http port=http path="/healthz" { header X-Probe "@" }"#,
        r#"probe exec "/bin/check" "@""#,
        r#"mtls-exception port=http reason="@""#,
        r#"sidecar #false reason="@""#,
        r#"calls-external "legacy.example.com" port=80 protocol=http reason="@""#,
        r#"calls-external "api.example.com" port=443 env=API format=url path="/@""#,
        r#"calls-external "api.example.com" port=443 env=API format=uri scheme="@""#,
    ];
    let hostile = HOSTILE;
    let mut built = 0;
    let mut failures = Vec::new();
    let platforms = slots
        .iter()
        .map(|slot| {
            format!(
                "platform shop {{\n    {}\n    service web {{\n        image \"nginx\" tag=\"1.27\"\n        port http 8080 protocol=http\n    }}\n}}\n",
                slot.replace('@', hostile)
            )
        })
        .chain(service_slots.iter().map(|slot| {
            format!(
                "platform shop {{\n    aws region=us-east-1 account=\"123456789012\" {{ vpc cidr=\"10.0.0.0/16\"; table carts hash-key=id; secret token source=ssm name=\"/shop/token\" }}\n    service web {{\n        image \"nginx\" tag=\"1.27\"\n        port http 8080 protocol=http\n        uses table carts\n        {}\n    }}\n}}\n",
                slot.replace('@', hostile)
            )
        }));
    let platforms = platforms.chain(mesh_slots.iter().flat_map(|mesh| {
        mesh_service_slots.iter().map(move |slot| {
            format!(
                "platform shop {{\n    {}\n    service web {{\n        image \"nginx\" tag=\"1.27\"\n        port http 8080 protocol=http\n        {}\n    }}\n}}\n",
                mesh.replace('@', hostile),
                slot.replace('@', hostile)
            )
        })
    }));
    for text in platforms {
        let result = compile(
            &Source::new("platform.kdl", text.clone()),
            &Options::default(),
        );
        let Some(platform) = result.platform else {
            continue; // refused: a coded diagnostic, nothing emitted
        };
        built += 1;
        let tree = platc::build_tree(&platform).expect("the tree builds");
        for (path, content) in &tree {
            let extension = Path::new(path.as_str()).extension();
            if extension.is_some_and(|e| e == "json" || e == "tf") && path.contains(".tf") {
                // Terraform ignores a `"//"` property of a block body (HCL's JSON comment), so a
                // reason may stand there as written; every other string is a template.
                let checked = if path.ends_with(".tf.json") {
                    let mut value: serde_json::Value = serde_json::from_str(content).unwrap();
                    strip_comments(&mut value);
                    value.to_string()
                } else {
                    content.clone()
                };
                for (needle, escape) in [("${file(", '$'), ("%{ if", '%')] {
                    if unescaped(&checked, needle, escape) > 0 {
                        failures.push(format!("{path}: unescaped `{needle}` from\n{text}"));
                    }
                }
            }
            let workload = path.ends_with("deployment.yaml")
                || path
                    .rsplit('/')
                    .next()
                    .is_some_and(|f| f.starts_with("job-"));
            if workload && !path.starts_with("helm/") {
                let value: serde_yaml::Value = serde_yaml::from_str(content).unwrap();
                let spec = &value["spec"]["template"]["spec"];
                let containers = spec["containers"].as_sequence().into_iter().flatten();
                let inits = spec["initContainers"].as_sequence().into_iter().flatten();
                // The value as KDL reads it (`\"` is a quote).
                let written = hostile.replace("\\\"", "\"");
                for container in containers.chain(inits) {
                    // The kubelet expands env values, commands and arguments alike.
                    let values = container["env"]
                        .as_sequence()
                        .into_iter()
                        .flatten()
                        .map(|env| &env["value"])
                        .chain(container["command"].as_sequence().into_iter().flatten())
                        .chain(container["args"].as_sequence().into_iter().flatten());
                    for v in values.filter_map(serde_yaml::Value::as_str) {
                        if v.contains("SECRET") && kubelet_expand(v) != written {
                            failures.push(format!(
                                "{path}: `{v}` reaches the container as `{}`",
                                kubelet_expand(v)
                            ));
                        }
                    }
                }
            }
            // A config file is data: the ConfigMap holds it as written.
            if path.ends_with("configmap.yaml") && path.starts_with("kubernetes/services/") {
                let value: serde_yaml::Value = serde_yaml::from_str(content).unwrap();
                let written = hostile.replace("\\\"", "\"");
                for v in value["data"]
                    .as_mapping()
                    .into_iter()
                    .flatten()
                    .filter_map(|(_, v)| v.as_str())
                {
                    if v != written {
                        failures.push(format!("{path}: the file `{v}` is not `{written}`"));
                    }
                }
            }
            // Helm evaluates a chart's templates: a `{{` from platform.kdl must stand inside a
            // Go string literal that prints it back (`{{ "…{{ .Release.Name }}…" | toJson }}`).
            if path.starts_with("helm/")
                && path.contains("/templates/")
                && extension.is_some_and(|e| e == "yaml")
            {
                for line in content
                    .lines()
                    .filter(|l| l.contains("{{ .Release.Name }}"))
                {
                    let literal = line.find("{{ \"").is_some_and(|start| {
                        line[start..].contains("{{ .Release.Name }}")
                            && line.ends_with("| toJson }}")
                    }) || line.starts_with('#')
                        && line.contains("{{ \"{{\" }} .Release.Name }}");
                    if !literal {
                        failures.push(format!("{path}: a template would evaluate `{line}`"));
                    }
                }
            }
            if content.lines().next().is_some_and(|l| l.contains('\n')) {
                failures.push(format!("{path}: a header line broke"));
            }
        }
    }
    assert!(built >= 19, "too few hostile platforms built ({built})");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The codes of the errors `compile` reports for `source`, after checking it does not panic.
fn codes(source: &Source) -> Vec<&'static str> {
    let compilation =
        catching(|| compile(source, &Options::default())).unwrap_or_else(|m| panic!("{m}"));
    catching(|| render_json(source, &compilation.diagnostics)).unwrap_or_else(|m| panic!("{m}"));
    compilation
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.kind.code())
        .collect()
}

const SMALL: &str = "platform shop {\n    service web {\n        image \"nginx\" tag=\"1.27\"\n        port http 8080 protocol=http\n        env GREETING \"@\"\n    }\n}\n";

#[test]
fn extreme_inputs_get_a_code_not_a_crash() {
    install_panic_hook();
    // Runs on a test thread (2 MiB of stack, a quarter of the main thread's): any recursion
    // that the depth limit does not stop overflows here first.
    let deep_open = format!("platform shop {}", "{ a ".repeat(100_000));
    assert_eq!(
        codes(&Source::new("p.kdl", deep_open)),
        ["platc::nesting-too-deep"]
    );
    let deep_closed = format!(
        "platform shop {{ {}{} }}",
        "a { ".repeat(50_000),
        "} ".repeat(50_000)
    );
    assert_eq!(
        codes(&Source::new("p.kdl", deep_closed)),
        ["platc::nesting-too-deep"]
    );
    let at_limit = format!(
        "platform shop {{ {}{} }}",
        "a { ".repeat(31),
        "} ".repeat(31)
    );
    assert!(!codes(&Source::new("p.kdl", at_limit)).contains(&"platc::nesting-too-deep"));

    // Braces inside strings and comments are text, not nesting.
    for braces in [
        format!("\"{}\"", "{".repeat(10_000)),
        format!("#\"{}\"#", "{\"".repeat(10_000)),
        format!("\"\"\"\n{}\n\"\"\"", "{\"".repeat(10_000)),
    ] {
        let text = SMALL.replace("\"@\"", &braces);
        assert_eq!(codes(&Source::new("p.kdl", text)), Vec::<&str>::new());
    }
    let commented = format!(
        "/* {} */\n// {}\n{SMALL}",
        "{".repeat(1000),
        "{".repeat(1000)
    );
    assert_eq!(codes(&Source::new("p.kdl", commented)), Vec::<&str>::new());

    // Size: a value the cluster could not store is refused, however large (50 MiB here).
    let big = SMALL.replace('@', &"x".repeat(50 << 20));
    assert_eq!(codes(&Source::new("p.kdl", big)), ["platc::too-large"]);

    // Encodings: a UTF-8 byte-order mark is allowed (KDL v2); UTF-16 and Latin-1 are refused.
    let bom = format!("\u{feff}{}", SMALL.replace('@', "hi"));
    assert_eq!(
        codes(&Source::from_bytes("p.kdl", bom.into_bytes())),
        Vec::<&str>::new()
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(SMALL.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(
        codes(&Source::from_bytes("p.kdl", utf16)),
        ["platc::invalid-utf8"]
    );
    let latin1: Vec<u8> = SMALL
        .replace('@', "caf\u{e9}")
        .chars()
        .map(|c| c as u8)
        .collect();
    assert_eq!(
        codes(&Source::from_bytes("p.kdl", latin1)),
        ["platc::invalid-utf8"]
    );
    assert_eq!(
        codes(&Source::from_bytes("p.kdl", Vec::new())),
        ["platc::missing-platform"]
    );
    assert_eq!(
        codes(&Source::from_bytes("p.kdl", vec![0; 1000])),
        ["platc::syntax"]
    );
}

/// The size of `value` as Go's `encoding/json` writes it (kubectl's `last-applied-configuration`):
/// `<`, `>`, `&` and control characters take six bytes.
fn go_json_size(value: &serde_json::Value) -> usize {
    let text = value.to_string();
    text.len()
        + 5 * text
            .chars()
            .filter(|c| matches!(c, '<' | '>' | '&'))
            .count()
}

#[test]
fn a_service_at_the_size_limits_fits_kubectl_apply() {
    // As much text as a service may hold (`MAX_SERVICE`), in the characters JSON escapes the
    // most, spread over env values each under `MAX_VALUE`, and reasons at `MAX_REASON`.
    let reason = "<".repeat((platc::lower::MAX_REASON - 2) / 6);
    let value = "<".repeat((platc::lower::MAX_VALUE / 4 - 2) / 6);
    let values = (platc::lower::MAX_SERVICE - 4 * platc::lower::MAX_REASON - 1024)
        / (platc::lower::MAX_VALUE / 4);
    let mut env = String::new();
    for i in 0..values {
        writeln!(env, "        env V{i} \"{value}\"").unwrap();
    }
    let text = format!(
        "platform shop {{\n    service web {{\n        image \"nginx\" tag=\"1.27\"\n        port http 8080 protocol=http\n{env}        security read-only-root=#false reason=\"{reason}\"\n        load-balancer reason=\"{reason}\"\n        waive CKV_K8S_8 reason=\"{reason}\"\n    }}\n}}\n"
    );
    let result = compile(&Source::new("platform.kdl", text), &Options::default());
    let codes: Vec<_> = result.diagnostics.iter().map(|d| d.kind.code()).collect();
    let platform = result
        .platform
        .unwrap_or_else(|| panic!("refused: {codes:?}"));
    let tree = platc::build_tree(&platform).expect("the tree builds");
    let mut largest = (0, String::new());
    // Chart templates are not YAML until Helm renders them, to these same objects.
    for (path, content) in tree.iter().filter(|(p, _)| {
        Path::new(p.as_str())
            .extension()
            .is_some_and(|e| e == "yaml")
            && !p.starts_with("helm/")
    }) {
        for document in serde_yaml::Deserializer::from_str(content) {
            let value = serde_json::to_value(
                <serde_yaml::Value as serde::Deserialize>::deserialize(document).unwrap(),
            )
            .unwrap();
            let size = go_json_size(&value);
            if size > largest.0 {
                largest = (size, path.clone());
            }
        }
    }
    assert!(
        largest.0 > 100_000,
        "the text did not reach the objects: {largest:?}"
    );
    assert!(
        largest.0 <= 256 * 1024,
        "{} is {} bytes as JSON: `kubectl apply` cannot store it in its annotation",
        largest.1,
        largest.0
    );
}

#[test]
fn every_repeated_property_is_reported_at_both() {
    install_panic_hook();
    // The issue's two examples, and a repeat three times over.
    for (line, count) in [
        ("image \"nginx\" tag=\"1.27\" tag=\"latest\"", 1),
        ("autoscale min=2 max=10 max=1 cpu=70", 1),
        (
            "resources cpu=\"100m\" cpu=\"200m\" cpu=\"300m\" memory=\"64Mi\"",
            2,
        ),
    ] {
        let text = format!(
            "platform shop {{\n    service web {{\n        {line}\n        port http 8080 protocol=http\n{}    }}\n}}\n",
            if line.starts_with("image") {
                ""
            } else {
                "        image \"nginx\" tag=\"1.27\"\n"
            }
        );
        let source = Source::new("p.kdl", text);
        let result = compile(&source, &Options::default());
        let repeats: Vec<_> = result
            .diagnostics
            .iter()
            .filter(|d| d.kind.code() == "platc::duplicate-property")
            .collect();
        assert_eq!(repeats.len(), count, "{line}");
        for d in repeats {
            assert_eq!(d.labels.len(), 1, "{line}: the first one is labelled");
            assert!(d.labels[0].span.start < d.span.start);
        }
        assert!(result.platform.is_none(), "{line}");
    }
}
