//! The command line, through the real binary: exit statuses, what goes to stdout and stderr,
//! and the JSON message format.
//!
//! Each test is one `Test`: files written to a fresh temporary directory, `platc` run there
//! with `NO_COLOR=1`, and its status and output checked.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A clean platform: one service calling another, no warnings.
const CLEAN: &str = r#"platform shop {
    service frontend {
        image "frontend" tag="v1.0.0"
        port http 80 target=8080 protocol=http
        calls checkoutservice env=CHECKOUT_SERVICE_ADDR
    }
    service checkoutservice {
        image "checkoutservice" tag="v1.0.0"
        port grpc 5050 protocol=grpc
    }
}
"#;

/// One error: a call to a service that is not declared (one letter off), on line 5.
const UNKNOWN_SERVICE: &str = r#"platform shop {
    service checkoutservice {
        image "checkoutservice" tag="v1.0.0"
        port grpc 5050 protocol=grpc
        calls paymnetservice env=PAYMENT_SERVICE_ADDR
    }
    service paymentservice {
        image "paymentservice" tag="v1.0.0"
        port grpc 50051 protocol=grpc
    }
}
"#;

/// One warning and nothing else: the moving tag `latest`.
const WARNING_ONLY: &str = r#"platform shop {
    service redis-cart {
        image "redis" tag="latest"
        port tcp-redis 6379 protocol=tcp
    }
}
"#;

/// Clean, with one environment `staging` that overrides the replicas.
const WITH_STAGING: &str = r#"platform shop {
    service checkoutservice {
        image "checkoutservice" tag="v1.0.0"
        port grpc 5050 protocol=grpc
        replicas 3
    }
    env staging {
        service checkoutservice { replicas 1 }
    }
}
"#;

/// The root platform of the repository.
const ROOT_PLATFORM: &str = include_str!("../platform.kdl");

/// One run of `platc`: the files to write, the arguments, and what to expect.
struct Test {
    files: Vec<(String, String)>,
    args: Vec<String>,
    status: i32,
    stdout: Option<String>,
    stderr: Option<String>,
    stdout_contains: Vec<String>,
    stderr_contains: Vec<String>,
    stderr_lacks: Vec<String>,
}

/// What a run printed, for checks the builder does not cover.
struct Output {
    stdout: String,
    stderr: String,
}

impl Test {
    fn new() -> Self {
        Self {
            files: Vec::new(),
            args: Vec::new(),
            status: 0,
            stdout: None,
            stderr: None,
            stdout_contains: Vec::new(),
            stderr_contains: Vec::new(),
            stderr_lacks: Vec::new(),
        }
    }

    /// Writes `text` to `path` (relative to the test's directory) before the run.
    fn file(mut self, path: &str, text: &str) -> Self {
        self.files.push((path.to_owned(), text.to_owned()));
        self
    }

    fn args<const N: usize>(mut self, args: [&str; N]) -> Self {
        self.args.extend(args.iter().map(|&a| a.to_owned()));
        self
    }

    /// The expected exit status (0 unless told).
    fn status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }

    /// The whole of stdout.
    fn stdout(mut self, text: &str) -> Self {
        self.stdout = Some(text.to_owned());
        self
    }

    /// The whole of stderr.
    fn stderr(mut self, text: &str) -> Self {
        self.stderr = Some(text.to_owned());
        self
    }

    fn stdout_contains(mut self, text: &str) -> Self {
        self.stdout_contains.push(text.to_owned());
        self
    }

    fn stderr_contains(mut self, text: &str) -> Self {
        self.stderr_contains.push(text.to_owned());
        self
    }

    fn stderr_lacks(mut self, text: &str) -> Self {
        self.stderr_lacks.push(text.to_owned());
        self
    }

    /// Runs `platc` in a fresh directory, checks every expectation, and returns the output.
    /// Every failed expectation is reported at once, with the whole output.
    #[track_caller]
    fn run(self) -> Output {
        let dir = TempDir::new();
        for (path, text) in &self.files {
            let path = dir.0.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(&path, text).unwrap();
        }
        let output = Command::new(env!("CARGO_BIN_EXE_platc"))
            .args(&self.args)
            .current_dir(&dir.0)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .output()
            .expect("platc runs");
        let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
        let stderr = String::from_utf8(output.stderr).expect("stderr is UTF-8");
        let mut failures = Vec::new();
        if output.status.code() != Some(self.status) {
            failures.push(format!(
                "exit status {:?}, expected {}",
                output.status.code(),
                self.status
            ));
        }
        for (name, actual, exact, contains) in [
            ("stdout", &stdout, &self.stdout, &self.stdout_contains),
            ("stderr", &stderr, &self.stderr, &self.stderr_contains),
        ] {
            if exact.as_ref().is_some_and(|e| e != actual) {
                failures.push(format!("{name} is not {exact:?}"));
            }
            for text in contains {
                if !actual.contains(text.as_str()) {
                    failures.push(format!("{name} lacks {text:?}"));
                }
            }
        }
        for text in &self.stderr_lacks {
            if stderr.contains(text.as_str()) {
                failures.push(format!("stderr has {text:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "platc {}:\n  {}\n--- stdout\n{stdout}--- stderr\n{stderr}---",
            self.args.join(" "),
            failures.join("\n  ")
        );
        Output { stdout, stderr }
    }
}

/// A directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "platc-cli-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn clean_file_exits_0_and_prints_nothing() {
    Test::new()
        .file("platform.kdl", CLEAN)
        .args(["check"])
        .stdout("")
        .stderr("")
        .run();
}

#[test]
fn check_reads_platform_kdl_by_default_and_takes_a_path() {
    Test::new()
        .file("sub/dir/platform.kdl", UNKNOWN_SERVICE)
        .file("platform.kdl", CLEAN)
        .args(["check"])
        .run();
    Test::new()
        .file("sub/dir/platform.kdl", UNKNOWN_SERVICE)
        .args(["check", "sub/dir/platform.kdl"])
        .status(1)
        .stderr_contains("sub/dir/platform.kdl")
        .run();
}

#[test]
fn error_exits_1_with_code_location_and_help() {
    Test::new()
        .file("platform.kdl", UNKNOWN_SERVICE)
        .args(["check"])
        .status(1)
        .stdout("")
        .stderr_contains("platc::unknown-service")
        .stderr_contains("unknown service `paymnetservice`")
        .stderr_contains("[platform.kdl:5:15]")
        .stderr_contains("Did you mean `paymentservice`?")
        .stderr_contains("platform.kdl: 1 error")
        .run();
}

#[test]
fn human_output_has_no_colour_with_no_color() {
    let output = Test::new()
        .file("platform.kdl", UNKNOWN_SERVICE)
        .args(["check"])
        .status(1)
        .run();
    assert!(!output.stderr.contains('\u{1b}'), "{}", output.stderr);
}

#[test]
fn warning_only_exits_0_unless_warnings_are_denied() {
    Test::new()
        .file("platform.kdl", WARNING_ONLY)
        .args(["check"])
        .stderr_contains("platc::image-latest")
        .stderr_contains("platform.kdl: 1 warning")
        .run();
    Test::new()
        .file("platform.kdl", WARNING_ONLY)
        .args(["check", "--deny-warnings"])
        .status(1)
        .stderr_contains("platc::image-latest")
        .run();
}

#[test]
fn deny_warnings_on_a_clean_file_exits_0() {
    Test::new()
        .file("platform.kdl", CLEAN)
        .args(["check", "--deny-warnings"])
        .stderr("")
        .run();
}

#[test]
fn json_is_one_object_per_line() {
    let output = Test::new()
        .file("a.kdl", UNKNOWN_SERVICE)
        .file("b.kdl", WARNING_ONLY)
        .args(["check", "--message-format", "json", "a.kdl", "b.kdl"])
        .status(1)
        .stderr("")
        .run();
    // On stdout, as cargo's JSON messages are.
    let records: Vec<serde_json::Value> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    assert_eq!(records.len(), 2, "{}", output.stdout);
    for record in &records {
        let object = record.as_object().expect("a JSON object");
        for key in ["code", "severity", "message", "file", "help"] {
            assert!(object[key].is_string(), "{key} is not a string in {record}");
        }
        for key in ["line", "column"] {
            assert!(
                object[key].as_u64().is_some_and(|n| n >= 1),
                "{key} in {record}"
            );
        }
    }
    let error = &records[0];
    assert_eq!(error["code"], "platc::unknown-service");
    assert_eq!(error["severity"], "error");
    assert_eq!(error["message"], "unknown service `paymnetservice`");
    assert_eq!(error["file"], "a.kdl");
    assert_eq!((&error["line"], &error["column"]), (&5.into(), &15.into()));
    assert_eq!(error["help"], "Did you mean `paymentservice`?");
    let warning = &records[1];
    assert_eq!(warning["code"], "platc::image-latest");
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["file"], "b.kdl");
    assert_eq!(
        (&warning["line"], &warning["column"]),
        (&3.into(), &27.into())
    );
}

#[test]
fn json_of_a_clean_file_is_empty() {
    Test::new()
        .file("platform.kdl", CLEAN)
        .args(["check", "--message-format", "json"])
        .stdout("")
        .stderr("")
        .run();
}

/// The JSON records of a run's stdout.
fn records(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

#[test]
fn json_keeps_secondary_labels() {
    let output = Test::new()
        .file(
            "platform.kdl",
            "platform shop {\n    service web {\n        image \"web\" tag=\"v1\" tag=\"latest\"\n        port http 80 protocol=http\n    }\n}\n",
        )
        .args(["check", "--message-format", "json"])
        .status(1)
        .stderr("")
        .run();
    let found = records(&output.stdout);
    assert_eq!(found[0]["code"], "platc::duplicate-property");
    let labels = found[0]["labels"].as_array().expect("labels");
    assert_eq!(labels.len(), 1, "{}", found[0]);
    assert_eq!(labels[0]["text"], "first given here");
    assert_eq!(
        (&labels[0]["line"], &labels[0]["column"]),
        (&3.into(), &21.into())
    );
}

#[test]
fn json_reports_io_and_usage_errors_as_records() {
    let output = Test::new()
        .args(["check", "--message-format", "json", "nope.kdl"])
        .status(2)
        .stderr("")
        .run();
    let io = records(&output.stdout);
    assert_eq!(io.len(), 1);
    assert_eq!(io[0]["code"], "platc::io");
    assert_eq!(io[0]["file"], "nope.kdl");
    for args in [
        ["check", "--message-format", "json", "--bogus"],
        ["build", "--message-format=json", "--out", "--bogus"],
    ] {
        let output = Test::new().args(args).status(2).stderr("").run();
        let usage = records(&output.stdout);
        assert_eq!(usage.len(), 1, "{}", output.stdout);
        assert_eq!(usage[0]["code"], "platc::usage");
        assert!(usage[0]["message"].as_str().unwrap().contains("--bogus"));
    }
    // `render`'s stdout is its YAML stream: its records go to stderr.
    let output = Test::new()
        .args(["render", "--message-format", "json", "-f", "nope.kdl"])
        .status(2)
        .stdout("")
        .run();
    assert_eq!(records(&output.stderr)[0]["code"], "platc::io");
}

#[test]
fn check_takes_files_with_f_too() {
    Test::new()
        .file("a.kdl", UNKNOWN_SERVICE)
        .file("b.kdl", CLEAN)
        .args(["check", "-f", "a.kdl", "--file", "b.kdl"])
        .status(1)
        .stderr_contains("a.kdl: 1 error")
        .run();
    Test::new()
        .file("a.kdl", CLEAN)
        .file("b.kdl", UNKNOWN_SERVICE)
        .args(["check", "-f", "a.kdl", "b.kdl"])
        .status(1)
        .stderr_contains("b.kdl: 1 error")
        .run();
}

#[test]
fn explain_without_a_code_lists_every_code() {
    let output = Test::new().args(["explain"]).stderr("").run();
    for code in [
        "platc::unknown-service",
        "platc::invalid-utf8",
        "platc::too-large",
    ] {
        assert!(
            output
                .stdout
                .lines()
                .any(|l| l.starts_with(code) && l.len() > code.len() + 10),
            "{code} missing from:\n{}",
            output.stdout
        );
    }
}

#[test]
fn missing_file_exits_2() {
    Test::new()
        .args(["check", "nope.kdl"])
        .status(2)
        .stderr_contains("nope.kdl")
        .run();
    Test::new()
        .args(["check"])
        .status(2)
        .stderr_contains("platform.kdl")
        .run();
}

#[test]
fn missing_file_among_others_still_checks_the_others_and_exits_2() {
    Test::new()
        .file("a.kdl", UNKNOWN_SERVICE)
        .args(["check", "a.kdl", "nope.kdl"])
        .status(2)
        .stderr_contains("platc::unknown-service")
        .stderr_contains("nope.kdl")
        .run();
}

#[test]
fn check_of_two_files_reports_both() {
    Test::new()
        .file("a.kdl", UNKNOWN_SERVICE)
        .file("b.kdl", WARNING_ONLY)
        .args(["check", "a.kdl", "b.kdl"])
        .status(1)
        .stderr_contains("platc::unknown-service")
        .stderr_contains("[a.kdl:5:15]")
        .stderr_contains("a.kdl: 1 error")
        .stderr_contains("platc::image-latest")
        .stderr_contains("[b.kdl:3:27]")
        .stderr_contains("b.kdl: 1 warning")
        .run();
    // The error in the second file still fails the run.
    Test::new()
        .file("a.kdl", CLEAN)
        .file("b.kdl", UNKNOWN_SERVICE)
        .args(["check", "a.kdl", "b.kdl"])
        .status(1)
        .stderr_contains("b.kdl: 1 error")
        .stderr_lacks("a.kdl")
        .run();
}

#[test]
fn env_that_exists_is_checked() {
    Test::new()
        .file("platform.kdl", WITH_STAGING)
        .args(["check", "--env", "staging"])
        .stderr("")
        .run();
}

#[test]
fn unknown_env_is_an_error_with_the_declared_ones() {
    Test::new()
        .file("platform.kdl", WITH_STAGING)
        .args(["check", "--env", "nope"])
        .status(1)
        .stderr_contains("platc::unknown-env")
        .stderr_contains("unknown environment `nope`")
        .stderr_contains("staging")
        .run();
    Test::new()
        .file("platform.kdl", WITH_STAGING)
        .args(["check", "--env", "stagign"])
        .status(1)
        .stderr_contains("platc::unknown-env")
        .stderr_contains("Did you mean `staging`?")
        .run();
}

#[test]
fn unknown_env_on_a_platform_without_envs() {
    Test::new()
        .file("platform.kdl", CLEAN)
        .args(["check", "--env", "staging"])
        .status(1)
        .stderr_contains("platc::unknown-env")
        .run();
}

#[test]
fn explain_prints_the_page_of_a_code() {
    let output = Test::new()
        .args(["explain", "unknown-service"])
        .stderr("")
        .run();
    assert!(
        output.stdout.contains("unknown-service"),
        "{}",
        output.stdout
    );
    // The same page, with or without the prefix.
    Test::new()
        .args(["explain", "platc::unknown-service"])
        .stdout(&output.stdout)
        .stderr("")
        .run();
}

#[test]
fn explain_of_an_unknown_code_exits_2() {
    Test::new()
        .args(["explain", "nosuchcode"])
        .status(2)
        .stdout("")
        .stderr_contains("nosuchcode")
        .run();
    Test::new()
        .args(["explain", "unknown-servise"])
        .status(2)
        .stderr_contains("Did you mean `unknown-service`?")
        .run();
}

#[test]
fn help_of_every_subcommand_exits_0() {
    let output = Test::new()
        .args(["--help"])
        .stdout_contains("Commands:")
        .run();
    // The subcommands as `--help` lists them, so a new one is covered without editing this.
    let commands = help_commands(&output.stdout);
    for expected in ["check", "explain"] {
        assert!(commands.iter().any(|c| c == expected), "{commands:?}");
    }
    for command in &commands {
        Test::new()
            .args([command.as_str(), "--help"])
            .stdout_contains("Usage: platc")
            .stderr("")
            .run();
    }
    Test::new()
        .args(["help", "check"])
        .stdout_contains("--deny-warnings")
        .run();
}

#[test]
fn usage_errors_exit_2() {
    Test::new().status(2).stderr_contains("Usage").run();
    Test::new()
        .args(["check", "--message-format", "xml"])
        .status(2)
        .stderr_contains("xml")
        .run();
    Test::new()
        .args(["frobnicate"])
        .status(2)
        .stderr_contains("frobnicate")
        .run();
}

#[test]
fn version_exits_0() {
    Test::new()
        .args(["--version"])
        .stdout_contains(env!("CARGO_PKG_VERSION"))
        .run();
}

#[test]
fn root_platform_checks_clean() {
    Test::new()
        .file("platform.kdl", ROOT_PLATFORM)
        .args(["check", "--deny-warnings"])
        .stderr("")
        .run();
    Test::new()
        .file("platform.kdl", ROOT_PLATFORM)
        .args(["check", "--env", "staging", "--deny-warnings"])
        .stderr("")
        .run();
}

/// The subcommands `platc --help` lists, without `help`.
fn help_commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|&name| name != "help")
        .map(str::to_owned)
        .collect()
}

/// The flags of one `--help` page: each option's short and long names (without `-h/--help`).
fn help_flags(help: &str) -> Vec<(Option<String>, String)> {
    help.lines()
        .skip_while(|line| !line.starts_with("Options:"))
        .filter_map(|line| {
            let line = line.trim_start();
            if !line.starts_with('-') {
                return None;
            }
            let mut short = None;
            let mut long = None;
            for word in line.split([' ', ',']).filter(|w| w.starts_with('-')) {
                if word.starts_with("--") {
                    long = Some(word.to_owned());
                } else {
                    short = Some(word.to_owned());
                }
            }
            long.filter(|l| l != "--help").map(|l| (short, l))
        })
        .collect()
}

#[test]
fn the_readme_usage_block_matches_the_cli() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("platc build "))
        .take_while(|l| l.starts_with("platc "))
        .collect();
    assert!(
        !block.is_empty(),
        "README has no usage block starting with `platc build`"
    );
    let documented: Vec<&str> = block
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    let commands = help_commands(&Test::new().args(["--help"]).run().stdout);
    let (mut documented, mut commands) = (documented, commands);
    documented.sort_unstable();
    commands.sort();
    assert_eq!(documented, commands, "the README's commands and --help's");
    let mut problems = Vec::new();
    for line in &block {
        let command = line.split_whitespace().nth(1).unwrap();
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || "[]|…".contains(c))
            .filter(|w| w.starts_with('-'))
            .collect();
        let help = Test::new().args([command, "--help"]).run().stdout;
        let flags = help_flags(&help);
        for (short, long) in &flags {
            if !words
                .iter()
                .any(|w| *w == long || Some(*w) == short.as_deref())
            {
                problems.push(format!(
                    "`platc {command}` takes {long}; the README does not say so"
                ));
            }
        }
        for word in &words {
            if !flags
                .iter()
                .any(|(s, l)| l == word || s.as_deref() == Some(word))
            {
                problems.push(format!(
                    "the README gives `platc {command}` {word}, which it does not take"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_bug_exits_2_as_an_internal_error_not_101() {
    let output = Command::new(env!("CARGO_BIN_EXE_platc"))
        .args(["check", "--help"])
        .env("PLATC_PANIC_FOR_TEST", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("internal error in platc"), "{stderr}");
    assert!(stderr.contains("PLATC_PANIC_FOR_TEST is set"), "{stderr}");
}

#[test]
fn json_reports_a_refused_write_as_a_record() {
    let output = Test::new()
        .file("proj/platform.kdl", CLEAN)
        .args([
            "build",
            "-f",
            "proj/platform.kdl",
            "-o",
            "proj",
            "--message-format",
            "json",
        ])
        .status(2)
        .stderr("")
        .run();
    let found = records(&output.stdout);
    assert_eq!(found.len(), 1, "{}", output.stdout);
    assert_eq!(found[0]["code"], "platc::io");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("refusing to write to proj")
    );
}

/// Every command of the CLI, as `--help` lists them.
const COMMANDS: [&str; 13] = [
    "build",
    "check",
    "cmp",
    "completions",
    "diff",
    "explain",
    "fmt",
    "graph",
    "init",
    "man",
    "render",
    "schema",
    "why",
];

#[test]
fn completion_scripts_parse_and_know_every_command() {
    let bash = Test::new().args(["completions", "bash"]).run().stdout;
    let zsh = Test::new().args(["completions", "zsh"]).run().stdout;
    let fish = Test::new().args(["completions", "fish"]).run().stdout;
    assert!(zsh.starts_with("#compdef platc"), "{zsh}");
    assert!(fish.contains("complete -c platc"), "{fish}");
    for command in COMMANDS {
        for (shell, script) in [("bash", &bash), ("zsh", &zsh), ("fish", &fish)] {
            assert!(script.contains(command), "{shell} completes no `{command}`");
        }
    }
    // The bash script is valid bash, as the shell reads it.
    let mut check = Command::new("bash")
        .arg("-n")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("bash runs");
    std::io::Write::write_all(&mut check.stdin.take().unwrap(), bash.as_bytes()).unwrap();
    assert!(
        check.wait().unwrap().success(),
        "bash -n refuses the script"
    );
    Test::new()
        .args(["completions", "tcsh"])
        .status(2)
        .stderr_contains("possible values: bash")
        .run();
}

#[test]
fn the_manual_page_is_roff_with_every_command() {
    let page = Test::new().args(["man"]).run().stdout;
    assert!(page.contains(".TH platc 1"), "{page}");
    assert!(page.contains(".SH SYNOPSIS"), "{page}");
    // Every command is listed as platc-COMMAND(1), and that page exists.
    for command in COMMANDS {
        assert!(
            page.contains(&format!("platc\\-{command}(1)")),
            "the page lacks `{command}`"
        );
        let sub = Test::new().args(["man", command]).run().stdout;
        assert!(sub.contains(&format!(".TH platc-{command} 1")), "{sub}");
    }
    Test::new()
        .args(["man", "bild"])
        .status(2)
        .stderr_contains("Did you mean `build`?")
        .run();
}

/// Runs `platc` in `dir`, as the tests above do, and returns its status, stdout and stderr.
fn platc_in(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_platc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("platc runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What the README promises: `mkdir shop && cd shop && platc init && platc build`, for both
/// examples, in an empty directory and in a git repository's root (`out/` beside
/// platform.kdl is neither the platform's directory nor a repository).
#[test]
fn init_then_build_works_in_an_empty_directory() {
    for example in ["minimal", "online-boutique"] {
        let dir = TempDir::new();
        let shop = dir.0.join("shop");
        std::fs::create_dir(&shop).unwrap();
        std::fs::create_dir(shop.join(".git")).unwrap();
        let (status, _, stderr) = platc_in(&shop, &["init", "--example", example]);
        assert_eq!(status, Some(0), "{stderr}");
        assert!(
            stderr.contains(&format!("wrote platform.kdl (the {example} example)")),
            "{stderr}"
        );
        let (status, _, stderr) = platc_in(&shop, &["check", "--deny-warnings"]);
        assert_eq!((status, stderr.as_str()), (Some(0), ""), "{example}");
        let (status, _, stderr) = platc_in(&shop, &["build"]);
        assert_eq!(status, Some(0), "{example}: {stderr}");
        assert!(shop.join("out/.platc/manifest.json").is_file(), "{stderr}");
        let (status, _, stderr) = platc_in(&shop, &["build", "--check"]);
        assert_eq!(status, Some(0), "{example}: {stderr}");
    }
}

#[test]
fn init_writes_into_a_directory_it_makes_and_embeds_the_reference_platform() {
    let dir = TempDir::new();
    let (status, _, stderr) = platc_in(&dir.0, &["init", "a/b", "--example", "online-boutique"]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.contains("wrote a/b/platform.kdl"), "{stderr}");
    let written = std::fs::read_to_string(dir.0.join("a/b/platform.kdl")).unwrap();
    assert_eq!(written, ROOT_PLATFORM);
    let (status, _, _) = platc_in(&dir.0, &["init", "c"]);
    assert_eq!(status, Some(0));
    let minimal = std::fs::read_to_string(dir.0.join("c/platform.kdl")).unwrap();
    assert_eq!(
        minimal,
        include_str!("../examples/minimal.kdl"),
        "the default is the minimal example"
    );
}

#[test]
fn init_never_overwrites_a_platform_file() {
    let dir = TempDir::new();
    let (status, _, _) = platc_in(&dir.0, &["init"]);
    assert_eq!(status, Some(0));
    let path = dir.0.join("platform.kdl");
    let before = std::fs::read(&path).unwrap();
    for example in ["minimal", "online-boutique"] {
        let (status, stdout, stderr) = platc_in(&dir.0, &["init", "--example", example]);
        assert_eq!(status, Some(1), "{stderr}");
        assert_eq!(stdout, "");
        assert_eq!(
            stderr,
            "error: `platform.kdl` already exists; platc init never overwrites a platform file\n"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before, "the file changed");
    }
    // Any file of that name, even an empty one, is kept.
    std::fs::write(&path, "").unwrap();
    let (status, _, stderr) = platc_in(&dir.0, &["init", "."]);
    assert_eq!(status, Some(1), "{stderr}");
    assert_eq!(std::fs::read(&path).unwrap(), b"");
    // A directory that cannot be made is an I/O error.
    std::fs::write(dir.0.join("file"), "").unwrap();
    let (status, _, stderr) = platc_in(&dir.0, &["init", "file"]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot make the directory `file`"),
        "{stderr}"
    );
}

#[test]
fn schema_prints_the_json_schema_and_nothing_else() {
    let output = Test::new().args(["schema"]).stderr("").run();
    assert_eq!(output.stdout, platc::schema::text());
    let schema: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}
