//! `platc fmt [FILE…] [--check]`: rewrite platform files in their canonical form
//! (`format::format`), or with `--check` show how they differ from it.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::FmtArgs;
use crate::commands::Output;
use crate::format::{Error, format};
use crate::source::Source;

pub fn run(args: &FmtArgs, color: bool) -> Output {
    let mut output = Output::default();
    let default = [PathBuf::from("platform.kdl")];
    let files = if args.files.is_empty() && args.file.is_empty() {
        &default[..]
    } else {
        &[&args.file[..], &args.files[..]].concat()[..]
    };
    let mut status = 0;
    for path in files {
        status = status.max(one(path, args.check, color, &mut output));
    }
    output.status = status;
    output
}

/// Formats (or checks) one file, adding to `output` what to print; its exit status.
fn one(path: &Path, check: bool, color: bool, output: &mut Output) -> u8 {
    let name = path.display();
    let source = match std::fs::read(path) {
        Ok(bytes) => Source::from_bytes(name.to_string(), bytes),
        Err(error) => {
            let _ = writeln!(output.stderr, "error: cannot read `{name}`: {error}");
            return 2;
        }
    };
    let formatted = match format(&source) {
        Ok(formatted) => formatted,
        Err(Error::Invalid(diagnostics)) => {
            output.stderr.push_str(&crate::diagnostic::render_human(
                &source,
                &diagnostics,
                color,
            ));
            return 1;
        }
        Err(Error::Internal(why)) => {
            let _ = writeln!(
                output.stderr,
                "error: internal error: cannot format `{name}`: {why}; this is a bug in platc, \
                 please report it with the file; the file is unchanged"
            );
            return 2;
        }
    };
    if formatted == source.text() {
        return 0;
    }
    if check {
        output.stdout.push_str(&crate::diff::unified(
            source.text(),
            &formatted,
            &name.to_string(),
            &format!("{name} (formatted)"),
        ));
        let _ = writeln!(
            output.stderr,
            "error: `{name}` is not formatted; run `platc fmt {name}`"
        );
        return 1;
    }
    match replace(path, &formatted) {
        Ok(()) => {
            let _ = writeln!(output.stdout, "{name}");
            0
        }
        Err(error) => {
            let _ = writeln!(
                output.stderr,
                "error: cannot write `{name}`: {error}; the file is unchanged"
            );
            2
        }
    }
}

/// Replaces the file at `path` with `text` atomically: a new file beside it, with its
/// permissions, renamed over it. A symbolic link is followed: its target is replaced, the
/// link stays.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let permissions = std::fs::metadata(&target)?.permissions();
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let file_name = target
        .file_name()
        .map_or_else(|| "platform.kdl".into(), |n| n.to_string_lossy());
    let temporary = dir.join(format!(".{file_name}.platc-fmt-{}", std::process::id()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.set_permissions(permissions)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}
