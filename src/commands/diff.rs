//! `platc diff`: what a build would change in the output directory, file by file (one
//! object each, or one Terraform file): added, removed, or changed with the fields that
//! change, and the line of `platform.kdl` each comes from. It compiles exactly as
//! `platc build` does and writes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use crate::cli::DiffArgs;
use crate::commands::build::{emit_tree, out_dir};
use crate::commands::{Output, Report, compile_source_keeping, read_source};
use crate::diagnostic::escape;
use crate::diff::fields::changes;
use crate::diff::{Tree, read_tree};
use crate::source::Source;
use crate::write::{Entry, FileHash, MANIFEST, Manifest};

/// The most characters of a value a changed field shows.
const VALUE_WIDTH: usize = 60;
/// The most lines of a unified diff shown for a file that is not compared field by field;
/// past that, the number of lines added and removed.
const DIFF_LINES: usize = 20;

const GREEN: &str = "32";
const RED: &str = "31";
const YELLOW: &str = "33";

pub fn run(args: &DiffArgs, color: bool, stdout_color: bool) -> Output {
    // stdout is the listing, so JSON diagnostics go to stderr, as `render`'s do.
    let report = Report::beside_product(args.message_format, color);
    let source = match read_source(&args.file, report) {
        Ok(source) => source,
        Err(output) => return output,
    };
    let (mut output, platform, envs) =
        compile_source_keeping(&source, args.env.as_deref(), args.env.is_none(), report);
    let Some(platform) = platform else {
        return output;
    };
    let Some(new) = emit_tree(
        &source,
        &platform,
        args.env.is_some(),
        envs,
        &mut output,
        report,
    )
    .map(|built| built.tree) else {
        return output;
    };
    let out = out_dir(args.out.as_deref(), args.env.as_deref());
    let old = match read_tree(&out) {
        Ok(tree) => tree,
        Err(error) => {
            let message = format!("cannot read {}: {error}", out.display());
            output.report_error(report, "platc::io", &message, Some(&out));
            return output;
        }
    };
    let name = escape(&out.display().to_string());
    let (listing, counts) = compare(&old, &new, &source, Paint(stdout_color));
    if counts.added + counts.changed + counts.removed == 0 {
        if counts.manifests == 0 {
            let _ = writeln!(output.stdout, "{name} is up to date ({} files)", new.len());
            return output;
        }
        // Lines added above a node move its line in the manifest and nowhere else.
        let _ = writeln!(
            output.stdout,
            "no object changes, but a build would rewrite {} {MANIFEST} file(s): the lines of \
             platform.kdl or the hashes they record differ",
            counts.manifests
        );
        output.status = u8::from(args.exit_code);
        return output;
    }
    if !out.exists() {
        let _ = writeln!(
            output.stdout,
            "{name} does not exist: a build adds every file"
        );
    }
    output.stdout.push_str(&listing);
    let objects = if counts.added == 1 {
        "object"
    } else {
        "objects"
    };
    let _ = writeln!(
        output.stdout,
        "{} {objects} added, {} changed, {} removed",
        counts.added, counts.changed, counts.removed
    );
    output.status = u8::from(args.exit_code);
    output
}

/// How many files a build would add, change and remove, and apart from those how many
/// manifests it would change.
#[derive(Debug, Default)]
struct Counts {
    added: usize,
    changed: usize,
    removed: usize,
    manifests: usize,
}

/// The listing of every file that differs between `old` (on disk) and `new` (a build of
/// `source`), by path; the manifests themselves are only counted.
fn compare(old: &Tree, new: &Tree, source: &Source, paint: Paint) -> (String, Counts) {
    let (old_entries, new_entries) = (entries(old), entries(new));
    let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut text = String::new();
    let mut counts = Counts::default();
    for path in paths {
        if is_manifest(path) {
            counts.manifests += usize::from(old.get(path) != new.get(path));
            continue;
        }
        match (old.get(path), new.get(path)) {
            (None, Some(new_text)) => {
                counts.added += 1;
                let object = document(path, new_text);
                header(&mut text, &paint.on(GREEN, "added"), path, object.as_ref());
                cause(&mut text, new_entries.get(path), Some(source));
            }
            (Some(old_text), None) => {
                counts.removed += 1;
                let object = document(path, old_text);
                header(&mut text, &paint.on(RED, "removed"), path, object.as_ref());
                cause(&mut text, old_entries.get(path), None);
                ownership(&mut text, old_entries.get(path), old_text);
            }
            (Some(old_text), Some(new_text)) if old_text != new_text => {
                counts.changed += 1;
                let (old_doc, new_doc) = (document(path, old_text), document(path, new_text));
                header(
                    &mut text,
                    &paint.on(YELLOW, "changed"),
                    path,
                    new_doc.as_ref(),
                );
                cause(&mut text, new_entries.get(path), Some(source));
                ownership(&mut text, old_entries.get(path), old_text);
                let fields = match (&old_doc, &new_doc) {
                    (Some(old_doc), Some(new_doc)) => changes(old_doc, new_doc),
                    _ => Vec::new(),
                };
                for change in &fields {
                    let line = escape(&change.line(VALUE_WIDTH));
                    let _ = writeln!(text, "    {}", paint.line(&line));
                }
                if fields.is_empty() {
                    if old_doc.is_some() && new_doc.is_some() {
                        let _ = writeln!(text, "    (no field changes: comments or layout only)");
                    }
                    text_diff(&mut text, paint, old_text, new_text);
                }
            }
            _ => {}
        }
    }
    (text, counts)
}

/// A note when a file on disk is not platc's to replace, which `platc build` refuses to do
/// without `--force`: one no manifest lists (`entry` is `None`), or one edited by hand since.
fn ownership(text: &mut String, entry: Option<&Entry>, on_disk: &str) {
    let why = match entry {
        None => "not written by platc (no manifest lists it)",
        Some(entry) if entry.sha256 != FileHash::of(on_disk) => {
            "edited by hand since platc wrote it"
        }
        Some(_) => return,
    };
    let _ = writeln!(
        text,
        "  note: {why}: a build refuses to replace it without --force, which moves it aside"
    );
}

/// `added PATH (Kind namespace/name)`.
fn header(text: &mut String, what: &str, path: &str, object: Option<&Value>) {
    let _ = write!(text, "{what} {}", escape(path));
    if let Some(name) = object.and_then(object_name) {
        let _ = write!(text, " ({})", escape(&name));
    }
    text.push('\n');
}

/// The line of `platform.kdl` a file comes from, `platform.kdl:LINE` (none when no manifest
/// lists it), and with `source` (the platform it was built from) the text of that line.
fn cause(text: &mut String, entry: Option<&Entry>, source: Option<&Source>) {
    let Some(origin) = entry.map(|entry| entry.origin.to_string()) else {
        return;
    };
    let origin = origin.as_str();
    let line = origin
        .rsplit_once(':')
        .and_then(|(_, line)| line.parse::<usize>().ok())
        .and_then(|line| source?.text().lines().nth(line.checked_sub(1)?));
    match (source, line) {
        (Some(_), Some(line)) => {
            let _ = writeln!(text, "  from {}: {}", escape(origin), escape(line.trim()));
        }
        (Some(_), None) => {
            let _ = writeln!(text, "  from {}", escape(origin));
        }
        (None, _) => {
            let _ = writeln!(text, "  from {} (as of the last build)", escape(origin));
        }
    }
}

/// `Kind namespace/name` (`Kind name` without a namespace) of a Kubernetes object.
fn object_name(object: &Value) -> Option<String> {
    let kind = object.get("kind")?.as_str()?;
    let metadata = object.get("metadata")?;
    let name = metadata.get("name")?.as_str()?;
    Some(match metadata.get("namespace").and_then(Value::as_str) {
        Some(namespace) => format!("{kind} {namespace}/{name}"),
        None => format!("{kind} {name}"),
    })
}

/// A YAML or JSON file's value; `None` for other files and for ones that do not parse.
fn document(path: &str, text: &str) -> Option<Value> {
    let extension = std::path::Path::new(path).extension()?.to_str()?;
    match extension.to_ascii_lowercase().as_str() {
        "json" => serde_json::from_str(text).ok(),
        "yaml" | "yml" => serde_yaml::from_str(text).ok(),
        _ => None,
    }
}

/// A small unified diff of two texts, or past `DIFF_LINES` lines how many lines differ.
fn text_diff(text: &mut String, paint: Paint, old: &str, new: &str) {
    let diff = similar::TextDiff::from_lines(old, new);
    let unified = diff.unified_diff().context_radius(1).to_string();
    if unified.lines().count() <= DIFF_LINES {
        for line in unified.lines() {
            let _ = writeln!(text, "    {}", paint.line(&escape(line)));
        }
        return;
    }
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let _ = writeln!(text, "    {added} line(s) added, {removed} removed");
}

/// Whether a path is a manifest: `.platc/manifest.json`, or one of a tree below
/// (`env/NAME/.platc/manifest.json`).
fn is_manifest(path: &str) -> bool {
    path.strip_suffix(MANIFEST)
        .is_some_and(|dir| dir.is_empty() || dir.ends_with('/'))
}

/// The manifest entry (origin and sha256) of every file the manifests of a tree list, by
/// path in the tree. A file below `env/NAME/` is listed by the top manifest and by its own,
/// alike.
fn entries(tree: &Tree) -> BTreeMap<String, Entry> {
    let mut entries = BTreeMap::new();
    for (path, text) in tree {
        let Some(dir) = path.strip_suffix(MANIFEST).filter(|_| is_manifest(path)) else {
            continue;
        };
        let Ok(manifest) = serde_json::from_str::<Manifest>(text) else {
            continue;
        };
        for (file, entry) in manifest.files {
            entries.entry(format!("{dir}{file}")).or_insert(entry);
        }
    }
    entries
}

/// ANSI colour for a terminal, or none.
#[derive(Clone, Copy, Debug)]
struct Paint(bool);

impl Paint {
    /// `text` in the colour of an SGR code.
    fn on(self, sgr: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// A line of a diff, coloured by its sign: `+` green, `-` red, `~` yellow.
    fn line(self, line: &str) -> String {
        match line.chars().next() {
            Some('+') => self.on(GREEN, line),
            Some('-') => self.on(RED, line),
            Some('~') => self.on(YELLOW, line),
            _ => line.to_owned(),
        }
    }
}
