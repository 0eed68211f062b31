//! `platc build`: compile, render every artefact in memory, then write `out/` atomically, or
//! with `--check` compare it.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use crate::cli::BuildArgs;
use crate::commands::{Output, Report, compile_source_keeping, read_source};
use crate::diff::{Tree, diff_trees, read_tree};
use crate::model::Checked;
use crate::source::Source;
use crate::stamps::{self, Input, Wrote};
use crate::write::{
    MANIFEST, Old, Protected, Streamed, UserFiles, WriteError, Written, protected,
    write_changed_then, write_listed_then,
};
use crate::{BuildError, Built, build_full_tree_reusing, build_tree_listed, env_dir};

pub fn run(args: &BuildArgs, color: bool) -> Output {
    let mut timings = Timings::new();
    let report = Report {
        format: args.message_format,
        color,
        json_to_stdout: true,
    };
    let source = match read_source(&args.file, report) {
        Ok(source) => source,
        Err(output) => return output,
    };
    let out = out_dir(args.out.as_deref(), args.env.as_deref());
    // `--check` of the very input a build wrote out/ from, over that tree unchanged since
    // (`stamps`): nothing to compile, read or make.
    if args.check && args.env.is_none() && stamps::fresh(&out, &source) {
        let mut output = Output::default();
        timings.lap("stamps");
        timings.report(&mut output.stderr);
        return output;
    }
    // A whole build keeps each environment's platform for its tree, not compiled again. A
    // whole build over out/, or its `--check`, reads the record and the manifest beside the
    // compile (23 MB at 1,000 services); a stale read is harmless: the write takes the
    // manifest only with the stamp it was read at.
    let recorded = args.env.is_none() && (args.check || !args.force);
    // A build that may write out/ in part reads the stamps' file it notes its changes into
    // here too (`stamps::Prior`, 10 MB at 1,000 services), not after the write.
    // The thread of the pool the compile ran on (`home`): a first build compiles each
    // environment again there.
    let (((mut output, platform, mut envs), home), (mut read, prior)) = rayon::join(
        || {
            let compiled =
                compile_source_keeping(&source, args.env.as_deref(), args.env.is_none(), report);
            (compiled, rayon::current_thread_index())
        },
        || {
            if !recorded {
                return (None, None);
            }
            rayon::join(
                || crate::rebuild::read(&out),
                || (!args.check).then(|| stamps::Prior::read(&out)).flatten(),
            )
        },
    );
    timings.lap("compile");
    let Some(mut platform) = platform else {
        return output;
    };
    // Only a compile without a word may leave stamps: `fresh` says nothing.
    let quiet = output.stdout.is_empty() && output.stderr.is_empty();
    // `--check` over a tree a build wrote from this very input (its record's fingerprints
    // are the input's) compares out/ with that build's manifest, making nothing; any doubt,
    // and the tree is made and compared below, which words the differences. Found the same,
    // its stamps are noted for the next `--check`.
    if args.check
        && args.env.is_none()
        && let Some(read) = read.take()
        && let (Some(record), Some(listing)) = rayon::join(
            || read.record(),
            || crate::write::Listing::parse(&read.manifest),
        )
        && let Some(configs) = crate::unchanged(&source, &platform, &envs, &record)
    {
        timings.lap("fingerprints");
        let found = stamps::read(&out, &read.manifest, &listing);
        timings.lap("compare with the manifest");
        if let Some(found) = found {
            let input = Input::new(&source, configs).filter(|_| quiet);
            stamps::keep(&out, input.as_ref(), &found);
            timings.lap("stamps noted");
            timings.report(&mut output.stderr);
            return output;
        }
    }
    // A whole build into a missing out/ stages each file as soon as it is made
    // (`write::stream`): the tree is never held whole.
    if args.env.is_none() && !args.check && out.symlink_metadata().is_err() {
        if let Some(refusal) = refuse(&out, &args.file) {
            fail(&mut output, report, &refusal);
            return output;
        }
        let stages = Stages {
            source: &source,
            home,
            quiet,
            report,
        };
        // Each environment's platform is compiled again for its tree, once the base tree is
        // made and its platform freed: the compile's are not kept.
        drop(std::mem::take(&mut envs));
        match streamed(&out, &stages, platform, &mut output, &mut timings) {
            None => return output,
            Some(given_back) => platform = given_back,
        }
    }
    // A whole build over a tree it wrote makes again only what changed (`rebuild`). Without
    // a record that holds for the tree (a fresh clone, another platc's build), it makes
    // everything, and compares each file with the manifest's hash as it is made: the texts
    // of those that did not change are not held (at 1,000 services, 540 MB of heap when
    // every file's text was).
    let whole = args.env.is_none() && !args.check && !args.force;
    let mut rebuilt = None;
    if whole
        && let Some(read) = read.take()
        && let (record, Some(listing)) = rayon::join(
            || read.record(),
            || crate::write::Listing::parse(&read.manifest),
        )
    {
        timings.lap(if record.is_some() {
            "load"
        } else {
            "manifest read"
        });
        let reusing = Some((record.unwrap_or_default(), &listing));
        let envs = std::mem::take(&mut envs);
        let Some(built) = emit_whole(&source, &platform, envs, reusing, &mut output, report) else {
            return output;
        };
        timings.lap("emit+validate");
        if let Some(refusal) = refuse(&out, &args.file) {
            fail(&mut output, report, &refusal);
            return output;
        }
        let noted_before = read.nested();
        let old = Old {
            text: &read.manifest,
            listing: &listing,
            stamp: &read.stamp,
            noted: &noted_before,
            patched: built.patched.as_ref(),
        };
        // The record's text is made while the tree is written; the stamps are noted under
        // the write's lock.
        let input = Input::new(&source, built.configs.clone()).filter(|_| quiet);
        // The manifest's stamp, under the lock, once written: the record holds for it. And
        // the nested trees' manifests', which the next rebuild takes as written, unread.
        let mut noted = None;
        let mut nested = Vec::new();
        let mut note = |beside: &Path, written: &Written| {
            let wrote = Wrote::Part {
                before: &read.stamp,
                old: &listing,
                made: &built.tree,
                updated: *written != Written::Unchanged,
                removed: matches!(written, Written::Updated { removed, .. } if *removed > 0),
                prior: prior.as_ref(),
            };
            stamps::save(&out, beside, input.as_ref(), &built.manifest, &wrote);
            noted = crate::write::Stamp::of(&out.join(MANIFEST));
            nested = crate::rebuild::nested(&out, beside, &built.manifest);
        };
        // The record's text is put in the cache beside the write too, encoded into the file
        // as it is made (7.7 MB at 1,000 services, never held); its header, once the
        // manifest is written (`rebuild::Begun`).
        let (written, begun) = rayon::join(
            || write_changed_then(&out, &built.tree, &built.manifest, &old, &mut note),
            || {
                built
                    .record
                    .as_ref()
                    .and_then(|record| crate::rebuild::begin_encoding(&out, record))
            },
        );
        match written {
            Ok(Some(written)) => {
                let held = crate::rebuild::Held::Noted(noted, nested);
                crate::rebuild::finish(&out, begun, held);
                timings.lap("write");
                timings.report(&mut output.stderr);
                let files = built.manifest.files.len() + 1;
                let (message, status) = outcome(&out, files, Ok(written));
                output.stderr.push_str(&message);
                output.status = status;
                // The process ends after printing: as `render`'s, the memory is the OS's
                // again at exit, not freed a value at a time (the manifest's 80,000 entries,
                // the record's, the old listing and the platform at 1,000 services: some 4
                // ms on one core, after the write). The files of the cache a tree's record
                // was spilled to are removed.
                let mut built = built;
                if let Some(record) = built.record.take() {
                    record.forget_but_files();
                }
                std::mem::forget(built);
                std::mem::forget(listing);
                std::mem::forget(read);
                std::mem::forget(platform);
                return output;
            }
            // Something only the whole tree can write: written below, made whole first
            // unless it is already.
            Ok(None) => {
                // The whole-tree write below keeps the record after it: the text begun here
                // is dropped, its temporary file removed.
                drop(begun);
                if built.complete {
                    let record = built
                        .record
                        .as_ref()
                        .and_then(crate::rebuild::Record::encode);
                    let mut built = built;
                    if let Some(Cow::Owned(text)) = built.manifest_text(&read.manifest) {
                        built.tree.insert(MANIFEST.to_owned(), text);
                    }
                    built.patched = None;
                    rebuilt = Some((built, record));
                }
            }
            Err(error) => {
                let (message, _) = outcome(&out, built.tree.len(), Err(error));
                fail(&mut output, report, &message);
                return output;
            }
        }
    }
    // `--check` reads out/ on the pool while the tree is emitted.
    let (built, on_disk, encoded) = if let Some((built, record)) = rebuilt {
        (Some(built), None, Some(record))
    } else {
        // A whole `--check` reads out/ stamped: found the same, its stamps are noted.
        let read = || match (out.exists(), args.env.is_some()) {
            (true, false) => stamps::read_tree(&out).map(|(tree, found)| (tree, Some(found))),
            _ => read_tree(&out).map(|tree| (tree, None)),
        };
        let envs = std::mem::take(&mut envs);
        let (built, on_disk) = rayon::join(
            || {
                emit_tree(
                    &source,
                    &platform,
                    args.env.is_some(),
                    envs,
                    &mut output,
                    report,
                )
            },
            || args.check.then(read),
        );
        (built, on_disk, None)
    };
    let Some(Built {
        tree,
        manifest,
        record,
        configs,
        ..
    }) = built
    else {
        return output;
    };
    timings.lap("emit+validate");
    if let Some(on_disk) = on_disk {
        let (on_disk, found) = match on_disk {
            Ok((tree, found)) => (Ok(tree), found),
            Err(error) => (Err(error), None),
        };
        let mut output = check(&out, on_disk, &tree, output);
        timings.lap("compare");
        if output.status == 0
            && let Some(found) = found
        {
            let input = Input::new(&source, configs).filter(|_| quiet);
            stamps::keep(&out, input.as_ref(), &found);
            timings.lap("stamps noted");
        }
        timings.report(&mut output.stderr);
        return output;
    }
    if let Some(refusal) = refuse(&out, &args.file) {
        fail(&mut output, report, &refusal);
        return output;
    }
    // A whole build notes the stamps of a tree it swapped in, under the write's lock. A tree
    // written in part here, with no manifest read before, has nothing to tell the files
    // written from those kept: no stamps (the next `--check` notes them).
    let input = Input::new(&source, configs).filter(|_| quiet && args.env.is_none());
    let mut note = |beside: &Path, written: &Written| match written {
        Written::Replaced { .. } if input.is_some() => {
            stamps::save(&out, beside, input.as_ref(), &manifest, &Wrote::Whole);
        }
        _ => stamps::forget(&out),
    };
    let (written, record) = rayon::join(
        || write_listed_then(&out, &tree, &manifest, args.force, &mut note),
        || encoded.unwrap_or_else(|| record.as_ref().and_then(crate::rebuild::Record::encode)),
    );
    if args.env.is_none() {
        let record = record.filter(|_| written.is_ok());
        crate::rebuild::save(&out, record, crate::rebuild::Held::Text(&tree[MANIFEST]));
    }
    timings.lap("write");
    timings.report(&mut output.stderr);
    let (message, status) = outcome(&out, tree.len(), written);
    if status == 2 {
        fail(&mut output, report, &message);
    } else {
        output.stderr.push_str(&message);
        output.status = status;
    }
    output
}

/// What a streamed build is of, and how it reports.
struct Stages<'a> {
    source: &'a Source,
    /// The thread of the pool the platform was compiled on (`build_full_tree_staged`).
    home: Option<usize>,
    /// The compile said nothing: stamps may be noted.
    quiet: bool,
    report: Report,
}

/// A whole build into the missing `out` (`write::write_streamed_then`) of `platform`, which
/// it frees once the base tree is made; its outcome in `output`. The platform given back
/// when `out` is there after all (another build wrote it meanwhile), with nothing
/// made: the caller builds as usual.
fn streamed(
    out: &Path,
    stages: &Stages,
    platform: Checked,
    output: &mut Output,
    timings: &mut Timings,
) -> Option<Checked> {
    let Stages {
        source,
        home,
        quiet,
        report,
    } = *stages;
    let mut given = Some(platform);
    let written = crate::write::write_streamed_then(
        out,
        |staging| {
            let platform = given.take()?;
            let built = crate::build_full_tree_staged(source, platform, home, staging);
            built_or_report(source, built, output, report)
        },
        // Under the lock: the record, for the manifest's own stamp, encoded as it is written
        // (its text is never held whole: 75 MB at 10,000 services) and dropped before the
        // stamps of the tree swapped in are noted (800,000 at 10,000 services).
        |beside, built| {
            let noted = crate::write::Stamp::of(&out.join(MANIFEST));
            let nested = crate::rebuild::nested_listed(out, beside, built.paths.iter());
            crate::rebuild::save_record(
                out,
                built.record.take().as_ref(),
                crate::rebuild::Held::Noted(noted, nested),
            );
            let input = Input::new(source, std::mem::take(&mut built.configs)).filter(|_| quiet);
            stamps::save_listed(out, beside, input.as_ref(), built.paths.iter());
        },
    );
    let built = match written {
        // `make` was not called: the platform is still here.
        Ok(Streamed::NotFresh) => return given,
        Ok(Streamed::Written(built)) => built,
        Ok(Streamed::Failed { left }) => {
            for dir in left {
                let _ = writeln!(
                    output.stderr,
                    "warning: cannot remove {}, the files staged before the error; the next \
                     build removes them",
                    dir.display()
                );
            }
            return None;
        }
        Err(error) => {
            let (message, _) = outcome(out, 0, Err(error));
            fail(output, report, &message);
            return None;
        }
    };
    timings.lap("emit+write");
    timings.report(&mut output.stderr);
    let files = built.paths.len() + 1;
    let (message, status) = outcome(out, files, Ok(crate::write::REPLACED));
    output.stderr.push_str(&message);
    output.status = status;
    None
}

/// A failure to write `out` (`error: …`, with any lines after it): on stderr, or with
/// `--message-format json` one `platc::io` record whose help holds the lines after the first.
fn fail(output: &mut Output, report: Report, message: &str) {
    if report.format == crate::cli::MessageFormat::Json {
        output.report_error(
            report,
            "platc::io",
            message.trim_start_matches("error: "),
            None,
        );
    } else {
        output.stderr.push_str(message);
        output.status = 2;
    }
}

/// The tree a build writes for a platform that compiled: with `--env` (`env`), that
/// environment's alone, else the whole tree, with its manifest as a value. `None` when it
/// cannot be built (a bug in platc), with the error in `output` and status 2. `platc diff`
/// compares the same tree. The environments' trees are made from `envs` (`emit_whole`).
pub(super) fn emit_tree(
    source: &Source,
    platform: &Checked,
    env: bool,
    envs: crate::Envs,
    output: &mut Output,
    report: Report,
) -> Option<Built> {
    if env {
        let built = build_tree_listed(platform).map_err(BuildError::from);
        return built_or_report(source, built, output, report);
    }
    emit_whole(source, platform, envs, None, output, report)
}

/// The whole tree (`build_full_tree_reusing`), as a rebuild of `prior`'s when given.
fn emit_whole(
    source: &Source,
    platform: &Checked,
    envs: crate::Envs,
    prior: Option<(crate::rebuild::Record, &crate::write::Listing)>,
    output: &mut Output,
    report: Report,
) -> Option<Built> {
    let built = build_full_tree_reusing(source, platform, envs, prior);
    built_or_report(source, built, output, report)
}

/// The tree, or `None` with the error in `output` and status 2.
fn built_or_report(
    source: &Source,
    built: Result<Built, BuildError>,
    output: &mut Output,
    report: Report,
) -> Option<Built> {
    match built {
        Ok(tree) => Some(tree),
        Err(error) => {
            let _ = writeln!(output.stderr, "{error}");
            if let BuildError::Env { diagnostics, .. } = &error {
                output.report_diagnostics(source, diagnostics, report);
            }
            output.status = 2;
            None
        }
    }
}

/// The output directory: `-o`, or by default `out`, and `out/env/NAME` with `--env NAME`.
pub(super) fn out_dir(out: Option<&Path>, env: Option<&str>) -> PathBuf {
    match (out, env) {
        (Some(out), _) => out.to_owned(),
        (None, Some(env)) => Path::new("out").join(env_dir(env)),
        (None, None) => PathBuf::from("out"),
    }
}

/// What a write did, as a message, and the exit status.
fn outcome(out: &Path, files: usize, written: Result<Written, WriteError>) -> (String, u8) {
    let out = out.display();
    match written {
        Ok(Written::Unchanged) => (format!("{out} is up to date ({files} files)\n"), 0),
        Ok(Written::Updated { written, removed }) => (
            format!(
                "updated {out} ({files} files): wrote {written} changed file(s) and the \
                 manifest, removed {removed}\n"
            ),
            0,
        ),
        Ok(Written::Replaced { backup, left }) => {
            let mut text = String::new();
            if let Some(backup) = backup {
                let _ = writeln!(
                    text,
                    "moved {} file(s) that platc did not write or that were edited by hand \
                     from {out} to {}",
                    backup.files.len(),
                    backup.dir.display()
                );
            }
            let _ = writeln!(text, "wrote {files} files to {out}");
            if let Some((previous, error)) = left {
                let _ = writeln!(
                    text,
                    "warning: cannot remove the previous tree, {}: {error}; the next build \
                     removes it",
                    previous.display()
                );
            }
            (text, 0)
        }
        Err(WriteError::UserFiles(user)) => (refusal(&out.to_string(), &user), 2),
        Err(WriteError::Io { error, left }) if left.is_empty() => (
            format!("error: cannot write {out}: {error}; nothing was changed\n"),
            2,
        ),
        Err(WriteError::Io { error, left }) => {
            let left: Vec<String> = left.iter().map(|p| p.display().to_string()).collect();
            (
                format!(
                    "error: cannot write {out}: {error}; {out} is unchanged, but cleaning up \
                     failed too and left {} (the next build removes it)\n",
                    left.join(" and ")
                ),
                2,
            )
        }
        Err(WriteError::Unfinished { error }) => (
            format!(
                "error: cannot write {out}: {error}; {out} holds part of the previous tree and \
                 part of the new one: the next build finishes it\n"
            ),
            2,
        ),
        Err(WriteError::OutMissing { error, previous }) => (
            format!(
                "error: cannot write {out}: {error}; {out} is missing: the previous tree is \
                 at {} (the next build puts it back)\n",
                previous.display()
            ),
            2,
        ),
    }
}

/// How many files a refusal names; the rest are counted.
const LISTED: usize = 10;

/// The refusal to replace `out`, which holds files that are not platc's: which, and what
/// `--force` would do with them.
fn refusal(out: &str, files: &UserFiles) -> String {
    let mut text =
        format!("error: {out} holds files that a build would lose; nothing was changed\n");
    list(
        &mut text,
        &format!("not written by platc (no {MANIFEST} lists them)"),
        &files.foreign,
    );
    list(
        &mut text,
        "edited since platc wrote them (their sha256 is not the manifest's)",
        &files.edited,
    );
    let _ = writeln!(
        text,
        "Move them away, or pass --force: it moves them to {} and writes the new tree.",
        files.backup.display(),
    );
    text
}

/// Adds `files` under `heading` to a message, the first `LISTED` by name.
fn list(text: &mut String, heading: &str, files: &[String]) {
    if files.is_empty() {
        return;
    }
    let _ = writeln!(text, "  {} file(s) {heading}:", files.len());
    for file in files.iter().take(LISTED) {
        let _ = writeln!(text, "    {file}");
    }
    if files.len() > LISTED {
        let _ = writeln!(text, "    and {} more", files.len() - LISTED);
    }
}

/// Why `out` may not be written by a build of `input`, as a message; `None` when it may.
/// A build replaces its output directory whole, so it is never the platform file's directory,
/// one of its ancestors, or a repository (with or without `--force`).
fn refuse(out: &Path, input: &Path) -> Option<String> {
    let why = match protected(out, input) {
        Ok(None) => return None,
        Ok(Some(Protected::Input)) => {
            format!("it is or holds {}, the platform file", input.display())
        }
        Ok(Some(Protected::Repository)) => "it holds .git, a repository".to_owned(),
        Err(error) => format!("cannot tell where it is: {error}"),
    };
    Some(format!(
        "error: refusing to write to {}: {why}, and a build replaces its output directory \
         whole; choose another -o; nothing was changed\n",
        out.display()
    ))
}

/// Wall time per stage, printed to stderr when `PLATC_TIMINGS` is set (for the benchmark).
struct Timings {
    enabled: bool,
    last: std::time::Instant,
    laps: Vec<(&'static str, std::time::Duration)>,
}

impl Timings {
    fn new() -> Self {
        Self {
            enabled: std::env::var_os("PLATC_TIMINGS").is_some(),
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }

    fn lap(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        self.laps.push((stage, now - self.last));
        self.last = now;
    }

    fn report(&self, out: &mut String) {
        if self.enabled {
            for (stage, time) in &self.laps {
                let _ = writeln!(
                    out,
                    "timing {stage:<8} {:>9.3} ms",
                    time.as_secs_f64() * 1e3
                );
            }
        }
    }
}

/// `--check`: exit 1 and show the differences when `out` is not `tree`, or is missing.
fn check(out: &Path, on_disk: io::Result<Tree>, tree: &Tree, mut output: Output) -> Output {
    if !out.exists() {
        let _ = writeln!(
            output.stderr,
            "error: {} is missing: a build would write {} files there; run `platc build`",
            out.display(),
            tree.len()
        );
        output.status = 1;
        return output;
    }
    let on_disk = match on_disk {
        Ok(tree) => tree,
        Err(error) => {
            return Output::failure(format!("error: cannot read {}: {error}\n", out.display()));
        }
    };
    let name = out.display().to_string();
    let diff = diff_trees(&on_disk, tree, &name, "build");
    if diff.is_empty() {
        return output;
    }
    let count = diff.missing.len() + diff.extra.len() + diff.changed.len();
    output.stdout = diff.render(&name, "build");
    let _ = writeln!(
        output.stderr,
        "error: {name} is stale: {count} file(s) differ from a fresh build; run `platc build` \
         (it writes only what changed since {name}/{MANIFEST}: to restore a file edited or \
         deleted by hand that the build does not change, run `platc build --force`)"
    );
    output.status = 1;
    output
}
