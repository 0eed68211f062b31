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
    let status = print(&output);
    // The process ends now, and its memory is the OS's again at exit: the output is not
    // freed (render's stream of 1,000 services is 15,000 texts, each made on another
    // thread, whose frees were some 1.5 ms on this one after the last byte was written).
    std::mem::forget(output);
    status
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
        // Render's stream comes in thousands of pieces: written as they are, a batch of them
        // per system call, never copied into one buffer.
        let pieces: Vec<&str> = std::iter::once(&output.stdout)
            .chain(&output.pieces)
            .map(String::as_str)
            .collect();
        // A closed pipe (`platc explain x | head`) is not a failure.
        if let Err(error) = write_pieces(&mut std::io::stdout().lock(), &pieces)
            && error.kind() != std::io::ErrorKind::BrokenPipe
        {
            eprintln!("error: cannot write to stdout: {error}");
            return ExitCode::from(2);
        }
    }
    ExitCode::from(output.status)
}

/// Writes `pieces` in order with vectored writes, at most `IOV_MAX` (1,024 on Linux) slices
/// per call, then flushes.
fn write_pieces(out: &mut impl Write, pieces: &[&str]) -> std::io::Result<()> {
    const IOV_MAX: usize = 1024;
    for batch in pieces.chunks(IOV_MAX) {
        let mut slices: Vec<std::io::IoSlice<'_>> = batch
            .iter()
            .filter(|piece| !piece.is_empty())
            .map(|piece| std::io::IoSlice::new(piece.as_bytes()))
            .collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match out.write_vectored(rest) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(written) => std::io::IoSlice::advance_slices(&mut rest, written),
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::write_pieces;

    /// A writer that takes at most `limit` bytes per call, vectored or not, and is
    /// interrupted every third call.
    struct Trickle {
        written: Vec<u8>,
        limit: usize,
        calls: usize,
    }

    impl std::io::Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.write_vectored(&[std::io::IoSlice::new(buf)])
        }
        fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(3) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let mut taken = 0;
            for buf in bufs {
                let n = buf.len().min(self.limit - taken);
                self.written.extend_from_slice(&buf[..n]);
                taken += n;
                if taken == self.limit {
                    break;
                }
            }
            Ok(taken)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn pieces_are_written_whole_and_in_order_through_short_writes() {
        let owned: Vec<String> = (0..3000).map(|i| format!("---\nn: {i}\n")).collect();
        let mut pieces: Vec<&str> = owned.iter().map(String::as_str).collect();
        pieces.insert(17, "");
        let mut out = Trickle {
            written: Vec::new(),
            limit: 7,
            calls: 0,
        };
        write_pieces(&mut out, &pieces).unwrap();
        assert_eq!(String::from_utf8(out.written).unwrap(), owned.concat());
    }
}
