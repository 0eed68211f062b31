//! The entry of the binary: parse the command line, run a command, print its output.
//!
//! The only module besides the diagnostic renderer that writes to stdout or stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands::{self, Output};

/// Runs `platc` with the process's arguments and returns its exit status: 0, 1 or 2, even
/// when platc has a bug. A panic is reported as an internal error (status 2, as other
/// failures that are not the input's), with the panic's message and where to report it.
pub fn run() -> ExitCode {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!(
            "error: internal error in platc {}: this is a bug, please report it with the input that caused it",
            env!("CARGO_PKG_VERSION")
        );
        default_hook(info);
    }));
    std::panic::catch_unwind(run_command).unwrap_or_else(|_| ExitCode::from(2))
}

fn run_command() -> ExitCode {
    // A seam for the test of the panic path, in debug builds only: no input panics platc.
    #[cfg(debug_assertions)]
    assert!(
        std::env::var_os("PLATC_PANIC_FOR_TEST").is_none(),
        "PLATC_PANIC_FOR_TEST is set"
    );
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if error.use_stderr() && asks_for_json(std::env::args_os()) => {
            // A usage error of a run that asked for JSON: one record, where JSON goes.
            let text = error.render().to_string();
            let message = text.trim().trim_start_matches("error: ");
            let json_to_stdout = !std::env::args_os().nth(1).is_some_and(|c| {
                ["render", "graph", "why", "diff", "cmp"]
                    .iter()
                    .any(|product| c == *product)
            });
            let mut output = Output::default();
            output.report_error(
                commands::Report {
                    format: crate::cli::MessageFormat::Json,
                    color: false,
                    json_to_stdout,
                },
                "platc::usage",
                message,
                None,
            );
            return print(&output);
        }
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    // Diagnostics go to stderr; `diff`'s report, coloured on its own terms, to stdout.
    let color = std::io::stderr().is_terminal() && !no_color;
    let stdout_color = std::io::stdout().is_terminal() && !no_color;
    let output = match cli.command {
        Command::Build(args) => commands::build::run(&args, color),
        Command::Check(args) => commands::check::run(&args, color),
        Command::Cmp(command) => commands::cmp::run(&command, color),
        Command::Diff(args) => commands::diff::run(&args, color, stdout_color),
        Command::Render(args) => commands::render::run(&args, color),
        Command::Explain(args) => commands::explain::run(&args),
        Command::Fmt(args) => commands::fmt::run(&args, color),
        Command::Completions(args) => commands::shell::completions(args.shell),
        Command::Man(args) => commands::shell::man(args.command.as_deref()),
        Command::Schema => commands::schema::run(),
        Command::Graph(args) => commands::graph::run(&args, color),
        Command::Init(args) => commands::init::run(&args),
        Command::Why(args) => commands::why::run(&args, color),
    };
    print(&output)
}

/// Whether the arguments ask for `--message-format json`, read without clap (whose parse
/// failed).
fn asks_for_json(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<std::ffi::OsString> = args.collect();
    args.iter().any(|a| a == "--message-format=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--message-format" && w[1] == "json")
}

fn print(output: &Output) -> ExitCode {
    if !output.stderr.is_empty() {
        let _ = std::io::stderr().write_all(output.stderr.as_bytes());
    }
    if !output.stdout.is_empty() || !output.pieces.is_empty() {
        // Large writes: render's stream comes in thousands of pieces.
        let mut stdout = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        let pieces = std::iter::once(&output.stdout).chain(&output.pieces);
        // A closed pipe (`platc explain x | head`) is not a failure.
        if let Err(error) = pieces
            .into_iter()
            .try_for_each(|piece| stdout.write_all(piece.as_bytes()))
            .and_then(|()| stdout.flush())
            && error.kind() != std::io::ErrorKind::BrokenPipe
        {
            eprintln!("error: cannot write to stdout: {error}");
            return ExitCode::from(2);
        }
    }
    ExitCode::from(output.status)
}
