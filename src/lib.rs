//! platc: a compiler for cloud-native platforms.
//!
//! One typed `platform.kdl` in; Terraform, Kubernetes, Istio, Helm, observability and delivery
//! files out. The pipeline is parse → lower → check → emit → validate → write; `compile` runs
//! the front half and is what the CLI, the golden tests and the benches call.

pub mod check;
mod cli;
mod commands;
pub mod diagnostic;
pub mod diff;
pub mod emit;
pub mod encode;
pub mod format;
mod intern;
pub mod lower;
pub mod model;
pub mod output;
pub mod parse;
pub mod rebuild;
mod run;
pub mod schema;
pub mod source;
pub mod span;
mod stamps;
pub mod syntax;
pub mod validate;
pub mod write;

pub use run::run;

use rayon::iter::{IndexedParallelIterator, IntoParallelRefIterator, ParallelIterator};

use std::borrow::Cow;

use crate::diagnostic::Diagnostics;
use crate::model::Checked;
use crate::source::Source;

/// What a compile is asked to do.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Apply this environment's overlay. Without it, `compile` checks the base platform and
    /// every declared environment.
    pub env: Option<String>,
    /// Without `env`, give each environment's checked platform too (`Compilation::envs`):
    /// a whole build makes their trees from them rather than compiling each again.
    pub keep_envs: bool,
}

/// The result of a compile: the checked platform when there were no errors, and every
/// diagnostic (warnings included), sorted by position.
#[derive(Debug)]
pub struct Compilation {
    pub platform: Option<Checked>,
    pub diagnostics: Diagnostics,
    /// With `Options::keep_envs` and a platform, each environment's checked platform.
    pub envs: Envs,
}

/// Environments' checked platforms, by name: what a whole build's compile gives
/// (`Options::keep_envs`). One missing is compiled again where it is needed.
pub type Envs = Vec<(String, Checked)>;

/// Every file of `out/` for a checked platform, the manifest included; emitted objects are
/// validated against `schemas/` before anything is returned (an error is a bug in platc).
pub fn build_tree(platform: &Checked) -> Result<diff::Tree, validate::Invalid> {
    build_tree_listed(platform).map(|built| built.tree)
}

/// `build_tree`, with the manifest it holds as a value: what `platc build --env NAME` writes
/// (`write::write_listed` compares its hashes with the old manifest's instead of reading files).
pub fn build_tree_listed(platform: &Checked) -> Result<Built, validate::Invalid> {
    let made = tree_files(platform, None, None, None)?;
    Ok(with_manifest(
        vec![made.files],
        Vec::new(),
        Vec::new(),
        None,
        None,
    ))
}

/// A tree of `out/` and its manifest (`tree[write::MANIFEST]`, or a rebuild's `patched`) as
/// a value, each file hashed once.
#[derive(Debug, Default)]
pub struct Built {
    /// Every file, or with `complete` false (a rebuild, `build_full_tree_reusing`) the files
    /// it made whose hashes the old manifest does not list, and the manifest (none when
    /// `patched`): the manifest lists the others with the hashes they have on disk. Staged
    /// as it was made (`build_full_tree_staged`), empty (and `complete` is false: the
    /// manifest lists every file, all of them on disk, itself among them).
    pub tree: diff::Tree,
    pub manifest: write::Manifest,
    /// A rebuild's manifest that lists the paths of the old one (the text it read from
    /// `out/`) in its order, with the same origins: its text is the old one with these
    /// hashes changed, and `tree` holds none (`write::write_changed` writes them in place).
    pub patched: Option<write::Patched>,
    pub complete: bool,
    /// What a later rebuild of the tree may reuse (`rebuild::read`), for a whole build.
    pub record: Option<rebuild::Record>,
    /// The files the `config … file=` of every tree read, with the contents read
    /// (`stamps::Input`), for a whole build.
    pub configs: Vec<(String, String)>,
    /// A build's into a missing `out/` (`build_full_tree_staged`): the paths its top
    /// manifest lists, in order, which `manifest` does not hold (it lists none).
    pub paths: write::Paths,
}

impl Built {
    /// The manifest's text: the tree's, or the old one's (`old`, the text a rebuild read)
    /// with the hashes `patched` changes.
    pub fn manifest_text<'a>(&'a self, old: &str) -> Option<std::borrow::Cow<'a, str>> {
        match (&self.patched, self.tree.get(write::MANIFEST)) {
            (_, Some(text)) => Some(std::borrow::Cow::Borrowed(text)),
            (Some(patched), None) => Some(std::borrow::Cow::Owned(patched.apply(old))),
            (None, None) => None,
        }
    }
}

/// The directory of `out/` that holds the environments' trees.
pub const ENV_DIR: &str = "env";

/// Where a whole build puts environment `name`'s tree inside `out/`: `env/NAME`. Below
/// `out/`, it is also where `platc build --env NAME` writes by default.
pub fn env_dir(name: &str) -> String {
    format!("{ENV_DIR}/{name}")
}

/// Why a whole tree could not be built from a platform that compiled.
#[derive(Debug)]
pub enum BuildError {
    /// An emitted object does not satisfy its schema: a bug in platc.
    Invalid(validate::Invalid),
    /// An environment that the compile without `--env` checked does not compile on its own:
    /// a bug in platc. Its diagnostics.
    Env {
        env: String,
        diagnostics: Diagnostics,
    },
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(invalid) => invalid.fmt(f),
            Self::Env { env, diagnostics } => write!(
                f,
                "internal error: environment `{env}` passed its check but does not compile \
                 on its own ({} diagnostics; this is a bug in platc, not in your platform; \
                 nothing was written)",
                diagnostics.len()
            ),
        }
    }
}

impl From<validate::Invalid> for BuildError {
    fn from(invalid: validate::Invalid) -> Self {
        Self::Invalid(invalid)
    }
}

/// Every file of `out/` for a whole `platc build` of `source`, whose compile without `--env`
/// gave `base`: the base platform's files, and under `env/NAME/` each declared environment's
/// tree exactly as `build_tree` gives it for that environment, its own manifest included (so
/// `platc build --env NAME` can replace that directory alone). The top manifest lists every
/// file, the environments' too. The CLI and the golden tests both call this.
pub fn build_full_tree(source: &Source, base: &Checked) -> Result<diff::Tree, BuildError> {
    build_full_tree_listed(source, base).map(|built| built.tree)
}

/// `build_full_tree`, with the top manifest as a value: what `platc build` writes.
pub fn build_full_tree_listed(source: &Source, base: &Checked) -> Result<Built, BuildError> {
    build_full_tree_reusing(source, base, Vec::new(), None)
}

/// Whether a whole build of `source`, whose compile without `--env` gave `base`, would make
/// exactly the tree `record` describes (`rebuild::Record::unchanged`: every tree's services
/// and namespaces have the fingerprints recorded). Then its manifest is the one the record
/// holds for, and `platc build --check` compares `out/` with that manifest without making
/// anything. Each environment's platform is `compiled`'s, or compiled for its fingerprints
/// as a build compiles it. `Some` when it would, with the files the `config … file=` of
/// every tree read (path and contents).
pub fn unchanged(
    source: &Source,
    base: &Checked,
    compiled: &Envs,
    record: &rebuild::Record,
) -> Option<Vec<(String, String)>> {
    type Env = (String, rebuild::Fingerprints, Vec<(String, String)>);
    let envs: Option<Vec<Env>> = base
        .envs
        .par_iter()
        .map(|env| {
            let again;
            let kept = compiled.iter().find(|(name, _)| *name == env.value);
            let platform = if let Some((_, platform)) = kept {
                platform
            } else {
                again = compile(source, &env_options(&env.value)).platform?;
                &again
            };
            let prints = rebuild::fingerprints(source, platform)?;
            let configs = stamps::configs(platform).collect();
            Some((format!("{}/", env_dir(&env.value)), prints, configs))
        })
        .collect();
    let (Some(envs), Some(prints)) = (envs, rebuild::fingerprints(source, base)) else {
        return None;
    };
    let mut configs: Vec<(String, String)> = stamps::configs(base).collect();
    let mut trees = Vec::with_capacity(envs.len() + 1);
    for (dir, prints, read) in envs {
        trees.push((dir, prints));
        configs.extend(read);
    }
    trees.push((String::new(), prints));
    record.unchanged(&trees).then_some(configs)
}

/// `build_full_tree_listed` as a rebuild of the tree `prior` describes (its record, and the
/// old manifest's listing): the services and namespaces whose fingerprint
/// (`rebuild::fingerprints`) is the one recorded are not made, and their
/// files are not in the tree (it is not `complete`): the manifest lists them with their old
/// hashes. Without `prior`, the whole tree is made. The record is taken: what it holds of the
/// parts kept moves to the new one.
pub fn build_full_tree_reusing(
    source: &Source,
    base: &Checked,
    envs: Envs,
    prior: Option<(rebuild::Record, &write::Listing)>,
) -> Result<Built, BuildError> {
    full_tree(source, Cow::Borrowed(base), envs, prior, None)
}

/// The options of the compile of environment `name` alone.
fn env_options(name: &str) -> Options {
    Options {
        env: Some(name.to_owned()),
        keep_envs: false,
    }
}

/// `build_full_tree_listed`, each file (the manifests too) put in `staging` as soon as it is
/// encoded, and dropped (the top manifest as it is encoded): the tree returned is empty
/// (`write::write_streamed_then`, a build into a missing `out/`). The base platform is freed
/// once its tree is made, and each environment's compiled then, on the pool's thread `home`
/// when given (the one the base was compiled on).
pub fn build_full_tree_staged(
    source: &Source,
    base: Checked,
    home: Option<usize>,
    staging: &write::Staging,
) -> Result<Built, BuildError> {
    full_tree(
        source,
        Cow::Owned(base),
        Vec::new(),
        None,
        Some((staging, home)),
    )
}

/// `build_full_tree_reusing`, into `staging` when given (`build_full_tree_staged`). Each
/// environment's tree is made from its platform in `envs` (the compile's, `Options::
/// keep_envs`), or, missing there, from a compile of its own.
fn full_tree(
    source: &Source,
    base: Cow<'_, Checked>,
    mut envs: Envs,
    prior: Option<(rebuild::Record, &write::Listing)>,
    staged: Option<(&write::Staging, Option<usize>)>,
) -> Result<Built, BuildError> {
    let (staging, home) = staged.map_or((None, None), |(staging, home)| (Some(staging), home));
    // Each environment's platform, in `base.envs`' order.
    let kept: Vec<Option<Checked>> = base
        .envs
        .iter()
        .map(|env| {
            let at = envs.iter().position(|(name, _)| *name == env.value)?;
            Some(envs.swap_remove(at).1)
        })
        .collect();
    drop(envs);
    // The environments, and where the manifest says each one's own manifest came from: the
    // base platform is not needed for them, and a staged build frees it before making them.
    let declared = base.envs.clone();
    let origins: Vec<write::Origin> = declared
        .iter()
        .map(|env| manifest_origin(&base.origin, env.span))
        .collect();
    // Each tree's record, taken by the tree that rebuilds it.
    let (prior, listing) = match prior {
        Some((record, listing)) => (Some(std::sync::Mutex::new(record)), Some(listing)),
        None => (None, None),
    };
    // Makes the tree at `dir` of `platform`: its files, the entries of those it reuses, and
    // its record.
    let make_tree = |platform: &Checked, dir: &str| -> Result<TreeMade, validate::Invalid> {
        let fingerprints = rebuild::fingerprints(source, platform);
        let mut before = prior.as_ref().map(|record| {
            record
                .lock()
                .map_or_else(|_| rebuild::TreeRecord::default(), |mut r| r.take(dir))
        });
        let reuse = match (&mut before, listing, &fingerprints) {
            (Some(before), Some(listing), Some(fingerprints)) => {
                Some(before.reuse(listing, dir, fingerprints))
            }
            _ => None,
        };
        // A rebuild that keeps nothing of the tree (no record held for it, or every part of
        // it changed) makes all of it.
        let keeps_nothing = reuse
            .as_ref()
            .is_some_and(|reuse| reuse.reuse.kept.is_empty());
        let (reuse, reused, walked, places) = match reuse {
            Some(reuse) => (
                Some(reuse.reuse),
                reuse.entries,
                reuse.walked,
                reuse.walked.then_some(reuse.places),
            ),
            None => (None, Vec::new(), false, None),
        };
        let stage = staging.map(|staging| (staging, dir));
        let Made {
            files,
            packed,
            parts,
            kept,
        } = tree_files(
            platform,
            reuse,
            stage,
            listing.map(|listing| (listing, dir)),
        )?;
        let record = fingerprints.map(|fingerprints| {
            let record = rebuild::TreeRecord::new(&fingerprints, parts, kept, before, walked);
            // A first build keeps it as text, made now, in a file of the cache, not as values
            // (`rebuild::KeptTree`), and so does a rebuild that made the whole tree: at
            // 10,000 services, 67 MB of values a tree.
            if staging.is_some() || keeps_nothing {
                record.spilled()
            } else {
                record.into()
            }
        });
        Ok(TreeMade {
            files,
            packed,
            dir: dir.to_owned(),
            reused,
            places,
            record,
            configs: stamps::configs(platform).collect(),
        })
    };
    // An environment's tree, as `build_tree` makes it, with its manifest, paths in `out/`.
    let make_env = |env: &span::Spanned<String>, origin: write::Origin, kept: Option<Checked>| {
        let platform = if let Some(platform) = kept {
            platform
        } else {
            // On the thread the base platform was compiled on (`home`), whose heap holds the
            // pages that platform and its document were in, freed: on another, the compile
            // takes fresh pages (at 10,000 services, 120 MB at its height, which put 30–85 MB
            // over the build's peak of RSS then, as the thread it ran on had).
            let compiled = on_thread(home, || compile(source, &env_options(&env.value)));
            let Some(platform) = compiled.platform else {
                return Err(BuildError::Env {
                    env: env.value.clone(),
                    diagnostics: compiled.diagnostics,
                });
            };
            platform
        };
        let dir = format!("{}/", env_dir(&env.value));
        let mut tree = make_tree(&platform, &dir)?;
        drop(platform);
        // Staged, written and hashed as it is encoded (75 MB at 10,000 services), from a
        // merge of its runs (the made files, each batch's packed entries, the reused ones),
        // each in its paths' order: no list of its 400,000 entries at 10,000 services (32 MB
        // unpacked, and their sort's), made at the tree's end, the build's peak.
        let (text, sha256) = if let Some(staging) = staging {
            // Not written (the staging failed before, and so does the build): no hash.
            let mut sha256 = write::FileHash::from_hex("");
            staging.put_with(&dir, write::MANIFEST, |file| {
                let mut hashed = write::Hashed::new(file);
                let mut writer = write::EntriesWriter::new(&mut hashed);
                let made = made_entries(&tree.files);
                let mut runs: Vec<Box<dyn Iterator<Item = (&str, write::Entry)>>> = vec![
                    Box::new(made.into_iter().map(|(path, entry)| (path, entry.clone()))),
                    Box::new(tree.reused.iter().map(|(path, entry)| {
                        (path.strip_prefix(&dir).unwrap_or(path), entry.clone())
                    })),
                ];
                for batch in &tree.packed {
                    runs.push(Box::new(batch.entries()?));
                }
                push_merged(&mut writer, runs, |_| {})?;
                writer.finish(write::GENERATOR)?;
                sha256 = hashed.hash();
                Ok(())
            });
            (String::new(), sha256)
        } else {
            let whole = || {
                write::entries_text(
                    env_manifest_entries(&tree.files, &tree.reused, &dir),
                    write::GENERATOR,
                )
            };
            // A rebuild's kept entries, found in one walk down the old top manifest, copied
            // from its text (`write::nested_text_reusing`); the made ones written.
            let reusing = listing
                .and_then(write::Listing::ordered)
                .zip(tree.places.as_deref())
                .and_then(|(old, places)| {
                    write::nested_text_reusing(
                        &made_entries(&tree.files),
                        &tree.reused,
                        places,
                        &old,
                        &dir,
                        write::GENERATOR,
                    )
                });
            debug_assert!(
                reusing.as_ref().is_none_or(|text| *text == whole()),
                "the copied entries are the written ones"
            );
            let text = reusing.unwrap_or_else(whole);
            // Hashed beside the top manifest's text (`with_manifest`), not here: the base
            // tree's core, done, would wait for it.
            (text, write::FileHash::PENDING)
        };
        tree.files.push(TreeFile {
            path: write::MANIFEST.to_owned(),
            text,
            entry: write::Entry { origin, sha256 },
            unchanged: None,
        });
        // Each path made again at its size: `insert_str` would double each one's room
        // (heaptrack, a first build of 3,000 services: 5.6 MB of heap at its peak). The
        // packed ones are given `dir` as they are read (`with_manifest`).
        for file in &mut tree.files {
            file.path = in_dir(&dir, &file.path);
        }
        Ok(tree)
    };
    // The base tree and the environments' on both cores: a rebuild makes little of each. A
    // first build (staged) makes much of each, each tree's batches on both cores already,
    // one tree at a time, each platform freed once its tree is made: the base tree first, its
    // platform given (`build_full_tree_staged`), then each environment's, compiled again
    // there (the compile's are not kept). At 10,000 services a platform is some 60 MB, which
    // the next tree's compile takes again; held, the base one and the environment's were
    // both live at the environment's tree's end, the build's peak (10,000 services, GNU
    // `time`: 393–398 MB of RSS before, 281–300 after, with the spill below and `home`).
    let (base_made, envs_made) = if staging.is_some() {
        let mut base_made = make_tree(&base, "");
        drop(base);
        // The base tree's packed entries wait in a file of the cache while the environments'
        // trees are made (at 10,000 services, 34 MB at the build's peak); the top manifest
        // reads them back.
        if let (Ok(made), false, Some(dir)) =
            (&mut base_made, declared.is_empty(), rebuild::cache_dir())
        {
            let _ = write::Packed::spill(&mut made.packed, &dir);
        }
        let envs_made: Vec<Result<TreeMade, BuildError>> = declared
            .iter()
            .zip(origins)
            .zip(kept)
            .map(|((env, origin), kept)| make_env(env, origin, kept))
            .collect();
        (base_made, envs_made)
    } else {
        rayon::join(
            || make_tree(&base, ""),
            || {
                declared
                    .par_iter()
                    .zip(origins)
                    .zip(kept)
                    .map(|((env, origin), kept)| make_env(env, origin, kept))
                    .collect::<Vec<Result<TreeMade, BuildError>>>()
            },
        )
    };
    let base_made = base_made?;
    let envs_made = envs_made
        .into_iter()
        .collect::<Result<Vec<TreeMade>, BuildError>>()?;
    let mut records = std::collections::BTreeMap::new();
    records.extend(base_made.record.map(|r| (String::new(), r)));
    // Each tree's files handed on as they are (joined, 400,000 files a tree at 10,000
    // services would be 77 MB more at the build's peak); the reused entries joined into one
    // list sized once.
    let mut files = Vec::with_capacity(1 + envs_made.len());
    let mut packed = Vec::with_capacity(1 + envs_made.len());
    // Each tree's reused entries, and each one's place in the old manifest when the tree
    // found them in one walk down it.
    let mut runs = Vec::with_capacity(1 + envs_made.len());
    files.push(base_made.files);
    packed.push((base_made.dir, base_made.packed));
    runs.push((base_made.reused, base_made.places));
    let mut configs = base_made.configs;
    for tree in envs_made {
        records.extend(tree.record.map(|r| (tree.dir.clone(), r)));
        files.push(tree.files);
        packed.push((tree.dir, tree.packed));
        runs.push((tree.reused, tree.places));
        configs.extend(tree.configs);
    }
    // With room for the made files' entries, which a rebuild puts among them.
    let (reused, places) = reused_in_place_order(runs, files.iter().map(Vec::len).sum());
    // With the places, the reused entries are in the old manifest's order, which is by path
    // (`Listing::ordered`): the new manifest's text copies their runs from the old one's, and
    // its list takes them as they are.
    let old = listing.and_then(write::Listing::ordered).zip(places);
    let mut built = with_manifest(files, packed, reused, staging, old);
    built.record = (!records.is_empty()).then(|| rebuild::Record::new(records));
    built.configs = configs;
    Ok(built)
}

/// One tree of a whole build: the files made, the entries of the files reused, the record.
struct TreeMade {
    files: Vec<TreeFile>,
    /// A staged build's entries of the files it staged, a buffer a batch (`Made::packed`),
    /// paths inside the tree.
    packed: Vec<write::Packed>,
    /// The tree's directory in `out/` (`""`, or `env/NAME/`), ahead of the packed paths.
    dir: String,
    reused: Vec<(String, write::Entry)>,
    /// Each reused entry's place in the old manifest, when they were found in one walk down
    /// it (`rebuild::TreeReuse::places`).
    places: Option<Vec<u32>>,
    record: Option<rebuild::KeptTree>,
    /// The files its `config … file=` read, with the contents read.
    configs: Vec<(String, String)>,
}

/// One file of a tree, with the place in `platform.kdl` it came from.
struct TreeFile {
    path: String,
    /// Empty when `unchanged`.
    text: String,
    /// Its entry in the manifest: `platform.kdl:LINE`, and `write::FileHash::of(text)`,
    /// computed once, beside the encoding, on every core.
    entry: write::Entry,
    /// A rebuild's file that the old manifest lists with this very hash, on disk as made, its
    /// text dropped as soon as it was hashed (`tree_files`): its place in the old manifest.
    unchanged: Option<u32>,
}

/// Where the manifest says a file made at `span` came from: its line of the platform's file.
fn manifest_origin(origin: &model::Origin, span: span::Span) -> write::Origin {
    write::Origin::at(&origin.file, origin.line(span.start))
}

/// The output set of one platform, every cluster object validated: what `build`, `render`
/// and `why` all start from. An invalid object is a bug in platc.
pub fn output(platform: &Checked, scope: emit::Scope) -> Result<output::Output, validate::Invalid> {
    output_part(platform, scope, &output::Part::All)
}

/// `output` of one part's cluster objects alone (`platc render --part`): the set of
/// `output(platform, scope)` without the other parts' items, which are never made.
/// `scope` is `Cluster` or `Stream` unless `part` is `Part::All`.
pub fn output_part(
    platform: &Checked,
    scope: emit::Scope,
    part: &output::Part,
) -> Result<output::Output, validate::Invalid> {
    let mut output = emit::emit_part(platform, scope, part);
    if let Some(invalid) = output.take_invalid() {
        return Err(invalid);
    }
    validate::output(&output)?;
    Ok(output)
}

/// The emitted files of one platform, without the manifest, and the summaries of the
/// items of the services, namespaces and platform's batch made (`emit::Batches::parts`).
struct Made {
    files: Vec<TreeFile>,
    /// Staged, the files' manifest entries alone, packed: a buffer a batch, each in its
    /// paths' order (`write::Packed`).
    packed: Vec<write::Packed>,
    parts: [Vec<output::Summary>; 3],
    /// The summaries of the parts reused, handed back (`emit::Batches::kept`).
    kept: [Vec<output::Summary>; 2],
}

/// How many of a batch's items a staged build encodes before it writes them (`tree_files`):
/// a few megabytes of text. The reference platform's batch of services is 385 items, so the
/// first build of `tests/write.rs` writes chunks and the seam between two.
const STAGED_CHUNK: usize = 256;

/// The emitted files of one platform, without the manifest: the set, encoded. With `reuse`,
/// only the services it names are made.
/// The items are validated and encoded a batch at a time (`emit::emit_in_batches`), so the
/// typed objects of the whole platform are never held at once. With `stage`, each file is put
/// in the staging at its directory of `out/` as soon as it is encoded, and its text dropped.
/// With `listed` (a rebuild's: the old manifest and the tree's directory in `out/`), each
/// file the old manifest lists with the hash it has now is `unchanged`, its text dropped as
/// soon as it is hashed: a rebuild holds the texts of the files it writes.
fn tree_files(
    platform: &Checked,
    reuse: Option<emit::Reuse>,
    stage: Option<(&write::Staging, &str)>,
    listed: Option<(&write::Listing, &str)>,
) -> Result<Made, validate::Invalid> {
    let batches = emit::emit_in_batches(platform, emit::BATCH, reuse, |mut items| {
        validate::items(&items)?;
        let encoded = |mut item: output::Item| {
            let text = encode::take_file(&mut item, &platform.origin);
            TreeFile {
                entry: write::Entry {
                    origin: manifest_origin(&platform.origin, item.origin),
                    sha256: write::FileHash::of(&text),
                },
                text,
                path: item.path,
                unchanged: None,
            }
        };
        let Some((staging, dir)) = stage else {
            let files = emit::parallel::map_owned(items, |item| {
                let mut file = encoded(item);
                if let Some((old, dir)) = listed
                    && let Some((_, sha256, place)) = old.placed(&in_dir(dir, &file.path))
                    && file.entry.sha256 == *sha256
                {
                    file.text = String::new();
                    file.unchanged = Some(place);
                }
                file
            });
            return Ok(BatchFiles::Files(files));
        };
        // A batch's files are written by the thread that made the batch, in the order of
        // their paths (a directory's files one after another), while the other core makes
        // and writes another batch. They are encoded a chunk at a time, on every core, and
        // each chunk's texts dropped once written: the platform's batch of a build of 10,000
        // services, when it made every namespace's files, was 80 MB of text held at once.
        // What is kept of each, its manifest entry, is packed (`write::Packed`).
        items.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        let mut packed = write::Packed::for_paths(items.iter().map(|item| item.path.as_str()));
        let mut items = items.into_iter();
        loop {
            let chunk: Vec<output::Item> = items.by_ref().take(STAGED_CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            for file in emit::parallel::map_owned(chunk, encoded) {
                staging.put(dir, &file.path, &file.text);
                packed.push(&file.path, &file.entry);
            }
        }
        Ok(BatchFiles::Packed(packed))
    });
    let batches_made = batches
        .handed
        .into_iter()
        .collect::<Result<Vec<BatchFiles>, validate::Invalid>>()?;
    // Room for one more: an environment's tree adds its manifest (`full_tree`), and a full
    // list grown by one doubles (heaptrack, a first build of 3,000 services: 13.5 MB more
    // heap at its peak, though the doubled tail is never touched).
    let files_in = |batch: &BatchFiles| match batch {
        BatchFiles::Files(files) => files.len(),
        BatchFiles::Packed(_) => 0,
    };
    let mut files = Vec::with_capacity(batches_made.iter().map(files_in).sum::<usize>() + 1);
    let mut packed = Vec::new();
    for batch in batches_made {
        match batch {
            BatchFiles::Files(batch) => files.extend(batch),
            BatchFiles::Packed(batch) => packed.push(batch),
        }
    }
    Ok(Made {
        files,
        packed,
        parts: batches.parts,
        kept: batches.kept,
    })
}

/// The files of one batch of a tree: encoded, or staged (written) with their manifest entries
/// packed.
enum BatchFiles {
    Files(Vec<TreeFile>),
    Packed(write::Packed),
}

/// Runs of entries, each in its keys' order (paths), merged: handed to `each` in order, one
/// at a time (a run out of order hands its entries out of order).
fn merge_runs<'a, K: Ord, T>(
    mut runs: Vec<Box<dyn Iterator<Item = (K, T)> + 'a>>,
    mut each: impl FnMut(K, T),
) {
    use std::cmp::Reverse;
    // Each run's next key in a heap, its entry beside it.
    let mut heads: Vec<Option<T>> = Vec::with_capacity(runs.len());
    let mut heap = std::collections::BinaryHeap::with_capacity(runs.len());
    for (at, run) in runs.iter_mut().enumerate() {
        let next = run.next().map(|(key, entry)| {
            heap.push(Reverse((key, at)));
            entry
        });
        heads.push(next);
    }
    while let Some(Reverse((key, at))) = heap.pop() {
        let Some(entry) = heads[at].take() else {
            continue;
        };
        heads[at] = runs[at].next().map(|(next, entry)| {
            heap.push(Reverse((next, at)));
            entry
        });
        each(key, entry);
    }
}

/// A manifest's entries, by path.
type Entries = Vec<(String, write::Entry)>;

/// The trees' reused entries (`runs`, each with its entries' places in the old manifest
/// when it found them in one walk down it, so in rising order) in one list: in the order of
/// their places, with those places, when every tree has them; else one tree's after
/// another's, without places. A merge of the runs by their places, not by their paths: the
/// stable sort of the 80,000 paths (each tree's a run) was 3.5 ms of a rebuild of 1,000
/// services on one core, most of it comparing paths. The list has `room` for more.
fn reused_in_place_order(
    runs: Vec<(Entries, Option<Vec<u32>>)>,
    room: usize,
) -> (Entries, Option<Vec<u32>>) {
    let len = runs.iter().map(|(entries, _)| entries.len()).sum();
    let mut entries = Vec::with_capacity(len + room);
    let placed = runs.iter().all(|(run, at)| {
        at.as_ref()
            .is_some_and(|at| at.len() == run.len() && at.is_sorted())
    });
    if !placed {
        entries.extend(runs.into_iter().flat_map(|(run, _)| run));
        return (entries, None);
    }
    let mut merged_places = Vec::with_capacity(len);
    let mut heads: Vec<_> = runs
        .into_iter()
        .map(|(run, at)| {
            let at = at.unwrap_or_default();
            (at.into_iter().peekable(), run.into_iter())
        })
        .collect();
    // A few trees (the base's and each environment's): the least place of their heads.
    while let Some(next) = heads
        .iter_mut()
        .filter_map(|(at, run)| Some((*at.peek()?, at, run)))
        .min_by_key(|(place, ..)| *place)
    {
        let (place, at, run) = next;
        at.next();
        entries.extend(run.next());
        merged_places.push(place);
    }
    (entries, Some(merged_places))
}

/// `reused` entries (in order by path) and `made` ones (in any order), merged in order by
/// path, in `reused`'s room: each made one's place found by a binary search among the
/// reused, and the runs between them moved up once each, never compared one by one (the
/// stable sort of the 80,000 entries of a rebuild of 1,000 services compared them all, and
/// a merge into a new list put them in 6 MB of fresh pages). When a path is both made and
/// reused, or made twice: `Err` of every entry, out of order.
fn merged_in_place(mut reused: Entries, mut made: Entries) -> Result<Entries, Entries> {
    made.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let places: Vec<usize> = made
        .iter()
        .map(|(path, _)| reused.partition_point(|(kept, _)| kept < path))
        .collect();
    let twice = made.windows(2).any(|pair| pair[0].0 == pair[1].0);
    let both = made
        .iter()
        .zip(&places)
        .any(|((path, _), &at)| reused.get(at).is_some_and(|(kept, _)| kept == path));
    let (kept, count) = (reused.len(), made.len());
    reused.extend(made);
    if twice || both {
        return Err(reused);
    }
    // From the last made entry back: the reused ones after its place, up to the next made
    // one's, each moved up past the made ones not yet placed (`ahead`, then just behind
    // them) by one swap, in order from the last, and those made ones, shifted round as
    // they were swapped down, put back in order: the last of them is in its place.
    // (`rotate_right` of each such run and the made ones behind it took as long as the
    // sort: for more than a few elements of this size it moves them in strides.)
    for (at, &place) in places.iter().enumerate().rev() {
        let ahead = at + 1;
        let end = places.get(ahead).copied().unwrap_or(kept);
        for from in (place..end).rev() {
            reused.swap(from, from + ahead);
        }
        reused[place..place + ahead].rotate_left((end - place) % ahead);
    }
    debug_assert_eq!(reused.len(), kept + count);
    Ok(reused)
}

/// A path of a tree at `dir` (`""`, or ending in `/`) as a path of `out/`, made at its size:
/// `insert_str` would double its room.
fn in_dir(dir: &str, path: &str) -> String {
    let mut full = String::with_capacity(dir.len() + path.len());
    full.push_str(dir);
    full.push_str(path);
    full
}

/// A tree of `files` (each tree's, paths in `out/`) and the manifest listing them and the
/// `reused` files (on disk, not in the tree; in order by path when `old` is given: a
/// rebuild's, `reused_in_place_order`). Files already `staged` are not in the tree; the
/// manifest is staged too. A file whose hash is `FileHash::PENDING` (an environment's
/// manifest, `full_tree`) is hashed beside the manifest's text.
fn with_manifest(
    files: Vec<Vec<TreeFile>>,
    packed: Vec<(String, Vec<write::Packed>)>,
    reused: Vec<(String, write::Entry)>,
    staged: Option<&write::Staging>,
    old: Option<(write::Ordered, Vec<u32>)>,
) -> Built {
    if let Some(staging) = staged {
        return Built {
            paths: write_staged_manifest(files, packed, reused, staging),
            ..Built::default()
        };
    }
    debug_assert!(
        packed.iter().all(|(_, batches)| batches.is_empty()),
        "packed entries are a staged build's"
    );
    let mut complete = reused.is_empty();
    let mut tree = diff::Tree::new();
    // The places in the old manifest of the made files whose texts were dropped
    // (`TreeFile::unchanged`): made all the same, as the manifest's text takes them.
    let mut unchanged: Vec<u32> = Vec::new();
    // The manifest takes each file's hash and origin, the tree its text, into one list sized
    // once, each tree's files taken (and their list freed) in turn. Without `old`, each
    // tree's files, sorted here, and the `reused` ones (each tree's sorted too) are runs the
    // manifest's stable sort finds and merges (`write::Files`).
    let mut pending = Vec::new();
    // Each made file's entry; its text into the tree.
    let mut made = |f: TreeFile| {
        if f.entry.sha256 == write::FileHash::PENDING {
            pending.push(f.path.clone());
        }
        if let Some(place) = f.unchanged {
            unchanged.push(place);
        } else {
            tree.insert(f.path.clone(), f.text);
        }
        (f.path, f.entry)
    };
    // A rebuild's pending files' hashes (its environments' manifests, 7.5 MB at 1,000
    // services), made on one core while the other merges the list.
    let mut digests = None;
    let mut manifest = if old.is_some() {
        // A rebuild's, whose reused entries are in order (`reused_in_place_order`): the few
        // made ones put in their places.
        let made: Vec<(String, write::Entry)> = files.into_iter().flatten().map(made).collect();
        let (hashed, manifest) = rayon::join(
            || {
                pending
                    .iter()
                    .map(|path| tree.get(path).map(|text| write::FileHash::of(text)))
                    .collect::<Vec<_>>()
            },
            || match merged_in_place(reused, made) {
                Ok(merged) => {
                    debug_assert!(merged.is_sorted_by(|a, b| a.0 < b.0), "merged in order");
                    write::listing_in_order(merged)
                }
                // Never so (each file is one part's, made or reused): the list sorted, each
                // path once, as a whole build's.
                Err(entries) => write::listing(entries),
            },
        );
        digests = Some(hashed);
        manifest
    } else {
        let mut entries: Vec<(String, write::Entry)> =
            Vec::with_capacity(files.iter().map(Vec::len).sum::<usize>() + reused.len());
        for mut tree_files in files {
            tree_files.sort_unstable_by(|a, b| a.path.cmp(&b.path));
            entries.extend(tree_files.into_iter().map(&mut made));
        }
        entries.extend(reused);
        write::listing(entries)
    };
    // Each in the order `digests` has them.
    let pending_paths: Vec<&str> = pending.iter().map(String::as_str).collect();
    let pending: Vec<(&str, &str)> = pending
        .iter()
        .filter_map(|path| Some((path.as_str(), tree.get(path)?.as_str())))
        .collect();
    // A rebuild's kept entries, found in one walk down the old manifest, are copied from
    // its text in runs; the made ones (`tree`'s paths and the unchanged, sorted) written.
    // (Read only with `old`, whose paths the unchanged ones' places are in: a path of
    // each kept would be 72 MB at 10,000 services, where every file is made.)
    complete &= unchanged.is_empty();
    unchanged.sort_unstable();
    let made: Vec<&str> = match &old {
        Some((old, _)) => merged(
            tree.keys().map(|path| (path.as_str(), ())),
            unchanged.iter().map(|&at| (old.path(at as usize), ())),
        )
        .map(|(path, ())| path)
        .collect(),
        None => Vec::new(),
    };
    // One that lists the old one's paths and origins is the old text with hashes
    // changed (`Built::patched`): no text is made.
    let patched = old.as_ref().zip(digests).and_then(|((old, _), digests)| {
        write::manifest_patched(&mut manifest, &pending_paths, digests, old, &made)
    });
    debug_assert!(
        patched
            .as_ref()
            .zip(old.as_ref())
            .is_none_or(|(patched, (old, _))| {
                patched.apply(old.text()) == write::manifest_text(&manifest)
            }),
        "the patched text is the text written whole"
    );
    if patched.is_none() {
        let text = old
            .and_then(|(old, places)| {
                write::manifest_text_reusing(&mut manifest, &pending, old, &made, &places)
            })
            .unwrap_or_else(|| write::manifest_text_hashing(&mut manifest, &pending));
        tree.insert(write::MANIFEST.to_owned(), text);
    }
    Built {
        tree,
        manifest,
        patched,
        complete,
        record: None,
        configs: Vec::new(),
        paths: write::Paths::default(),
    }
}

/// The entries of the manifest of an environment's tree (`dir`, ending in `/`): the `files`
/// made (paths inside the tree), and the `reused` ones (paths in `out/`, `dir` ahead, sorted,
/// as `with_manifest` takes them), merged by path.
fn env_manifest_entries<'a>(
    files: &'a [TreeFile],
    reused: &'a [(String, write::Entry)],
    dir: &'a str,
) -> impl Iterator<Item = (&'a str, &'a write::Entry)> + Clone {
    let made = made_entries(files);
    let reused = reused
        .iter()
        .map(move |(path, entry)| (path.strip_prefix(dir).unwrap_or(path), entry));
    merged(made.into_iter(), reused)
}

/// `op`'s result, run on the pool's thread `home` when there is one (`rayon::broadcast`,
/// which runs nothing on the others), else on any of the pool's.
fn on_thread<R: Send>(home: Option<usize>, op: impl Fn() -> R + Sync) -> R {
    if let Some(home) = home.filter(|&home| home < rayon::current_num_threads()) {
        let ran = rayon::broadcast(|context| (context.index() == home).then(&op));
        if let Some(result) = ran.into_iter().flatten().next() {
            return result;
        }
    }
    rayon::scope(|_| op())
}

/// The top manifest of a build into a missing `out/`, written into `staging` as it is merged
/// from its runs, each in its paths' order (each tree's `files`, each batch's `packed`
/// entries, the `reused` ones, which a staged build has none of): no list of its entries is
/// made (at 10,000 services, 800,000 and 110 MB at the build's end, in fresh pages), and each
/// batch's packed entries are freed a piece at a time as the merge takes them. Gives the
/// paths it wrote, in order, for the stamps noted after the write.
fn write_staged_manifest(
    files: Vec<Vec<TreeFile>>,
    packed: Vec<(String, Vec<write::Packed>)>,
    reused: Vec<(String, write::Entry)>,
    staging: &write::Staging,
) -> write::Paths {
    debug_assert!(reused.is_empty(), "a staged build reuses nothing");
    let mut count = reused.len();
    let mut bytes = reused.iter().map(|(path, _)| path.len()).sum();
    let mut runs: Vec<Box<dyn Iterator<Item = (String, write::Entry)>>> = Vec::new();
    for mut tree_files in files {
        tree_files.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        count += tree_files.len();
        bytes += tree_files.iter().map(|f| f.path.len()).sum::<usize>();
        runs.push(Box::new(tree_files.into_iter().map(|f| (f.path, f.entry))));
    }
    let mut spills = Vec::new();
    for (dir, batches) in packed {
        for batch in batches {
            spills.extend(batch.spill_file().cloned());
            count += batch.len();
            bytes += batch.path_bytes() + batch.len() * dir.len();
            let dir = dir.clone();
            runs.push(Box::new(batch.into_entries(move |path| in_dir(&dir, path))));
        }
    }
    runs.push(Box::new(reused.into_iter()));
    let mut paths = write::Paths::with_capacity(count, bytes);
    staging.put_with("", write::MANIFEST, |file| {
        let mut writer = write::EntriesWriter::new(file);
        push_merged(&mut writer, runs, |path| {
            debug_assert!(paths.last().is_none_or(|last| last < path), "in order");
            paths.push(path);
        })?;
        // A spilled piece that could not be read back: the entries merged are not all.
        if spills.iter().any(|spill| spill.failed()) {
            return Err(std::io::Error::other(
                "the manifest entries put in the cache could not be read back",
            ));
        }
        writer.finish(write::GENERATOR)
    });
    paths
}

/// Runs of entries, each in its paths' order, merged (`merge_runs`) into `writer`, each path
/// handed to `each` once written; the first error ends the writing.
fn push_merged<'a, K: Ord + AsRef<str>, W: std::io::Write>(
    writer: &mut write::EntriesWriter<'_, W>,
    runs: Vec<Box<dyn Iterator<Item = (K, write::Entry)> + 'a>>,
    mut each: impl FnMut(&str),
) -> std::io::Result<()> {
    let mut written = Ok(());
    merge_runs(runs, |path, entry| {
        if written.is_ok() {
            written = writer.push(path.as_ref(), &entry);
            if written.is_ok() {
                each(path.as_ref());
            }
        }
    });
    written
}

/// The entries of the `files` made, by path.
fn made_entries(files: &[TreeFile]) -> Vec<(&str, &write::Entry)> {
    let mut made: Vec<(&str, &write::Entry)> =
        files.iter().map(|f| (f.path.as_str(), &f.entry)).collect();
    made.sort_unstable_by(|a, b| a.0.cmp(b.0));
    made
}

/// Two runs sorted by their first field (with no key in both), merged into one.
fn merged<'a, T: Clone + 'a>(
    a: impl Iterator<Item = (&'a str, T)> + Clone,
    b: impl Iterator<Item = (&'a str, T)> + Clone,
) -> impl Iterator<Item = (&'a str, T)> + Clone {
    let mut a = a.peekable();
    let mut b = b.peekable();
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if y.0 < x.0 => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

/// Parses, lowers and checks one source.
pub fn compile(source: &Source, options: &Options) -> Compilation {
    let mut diagnostics = Diagnostics::default();
    let mut envs = Vec::new();
    let platform = compile_inner(source, options, &mut diagnostics, &mut envs);
    diagnostics.sort();
    let platform = if diagnostics.has_errors() {
        None
    } else {
        platform
    };
    if platform.is_none() {
        envs.clear();
    }
    Compilation {
        platform,
        diagnostics,
        envs,
    }
}

/// Reports the first byte of `source` that is not UTF-8, if there is one, and says whether it
/// did: such a file is not compiled (nor formatted).
pub(crate) fn invalid_utf8(source: &Source, d: &mut Diagnostics) -> bool {
    let Some(offset) = source.invalid_utf8() else {
        return false;
    };
    d.error(
        diagnostic::ErrorKind::InvalidUtf8 { offset },
        span::Span::new(
            offset,
            offset
                + source
                    .text()
                    .get(offset..)
                    .and_then(|rest| rest.chars().next())
                    .map_or(0, char::len_utf8),
        ),
    );
    true
}

/// `compile`, each environment's checked platform put in `kept` with `Options::keep_envs`.
fn compile_inner(
    source: &Source,
    options: &Options,
    d: &mut Diagnostics,
    kept: &mut Envs,
) -> Option<Checked> {
    if invalid_utf8(source, d) {
        return None;
    }
    // Kept (shared) for `model::Origin`, which reads its nodes' paths only when asked.
    let document = std::sync::Arc::new(parse::parse(source, d)?);
    // One origin for the base and every environment: their nodes are the document's, listed
    // once, when the first tree is made, and the document freed then (a first build of
    // 10,000 services made the environment's tree while the base's origin held the
    // document's 61 MB, and listed the nodes once for each tree).
    let origin = model::Origin::new(source.name(), source.text(), document.clone());
    // Each environment is a platform of its own: check them all, so that `platc check`
    // catches a mistake that only one overlay makes. Their diagnostics join the base's after
    // the base is checked, so an error in an overlay hides none in the base. The base and
    // each environment are lowered and checked on the pool at once; their diagnostics are
    // joined in the order a serial run gives. A platform without environments is compiled
    // on this thread: waking the pool for it costs more than it overlaps (`platc check` of
    // platform.kdl without its environment: 4.2 → 2.6 ms; bench/README.md, eighth pass).
    let names = if options.env.is_none() {
        lower::env_names(&document)
    } else {
        Vec::new()
    };
    let keep = options.keep_envs && options.env.is_none();
    // Every service lowered once: the base takes them as they are, each environment a copy,
    // made before they start.
    let services = lower::Services::lower(&document);
    let copies: Vec<lower::Services> = names.iter().map(|_| services.copy()).collect();
    // The document's own limits (repeated properties, sizes): with environments, a task of
    // its own on the pool beside the compiles (one walk of the whole document, a quarter of
    // `platc check` of 1,000 services when it ran first).
    let limits_of = || {
        let mut limits = Diagnostics::default();
        lower::limits(&document, &mut limits);
        limits
    };
    let (base, (envs, limits)) = if names.is_empty() {
        let limits = limits_of();
        (
            compile_one(source, &document, services, &origin, options.env.as_deref()),
            (Vec::new(), limits),
        )
    } else {
        rayon::join(
            || compile_one(source, &document, services, &origin, options.env.as_deref()),
            || {
                rayon::join(
                    || {
                        names
                            .par_iter()
                            .zip(copies)
                            .map(|(env, services)| {
                                let mut compiled =
                                    compile_one(source, &document, services, &origin, Some(env));
                                // Unless kept, only the base's platform is returned: an
                                // environment's is freed here, on the pool, not after the
                                // join.
                                if !keep && let Some((_, _, platform)) = &mut compiled.lowered {
                                    platform.take();
                                }
                                compiled
                            })
                            .collect::<Vec<_>>()
                    },
                    limits_of,
                )
            },
        )
    };
    d.extend(limits);
    // An error before lowering (a repeated property) leaves the model whole: it is checked,
    // but not returned.
    let failed_before = d.has_errors();
    d.extend(base.lowering);
    // No platform, no environments: the base's errors say why.
    let (base_state, checking, checked) = base.lowered?;
    // Where each environment keeps its Terraform state: no two may share a key.
    let mut states: Vec<StateKey> = base_state.into_iter().collect();
    let mut env_diagnostics = Diagnostics::default();
    for (env, name) in envs.into_iter().zip(names) {
        let mut one = env.lowering;
        let Some((state, checking, platform)) = env.lowered else {
            env_diagnostics.extend(one);
            continue;
        };
        kept.extend(platform.map(|platform| (name, platform)));
        // An environment that did not lower cleanly is not compared.
        if let Some((key, span)) = state.filter(|_| !one.has_errors()) {
            if let Some((_, first)) = states.iter().find(|(k, _)| *k == key) {
                one.push(
                    diagnostic::Diagnostic::new(
                        diagnostic::ErrorKind::SharedStateKey { key: key.clone() },
                        span,
                    )
                    .with_label(*first, "the same state"),
                );
            } else {
                states.push((key, span));
            }
        }
        one.extend(checking);
        env_diagnostics.extend(one);
    }
    d.extend(checking);
    d.extend(env_diagnostics);
    checked.filter(|_| !failed_before)
}

/// One platform of the file (the base, or an environment's), lowered and checked.
struct Compiled {
    lowering: Diagnostics,
    /// Its state key, the findings of the rules, and the platform when it passed them; `None`
    /// when lowering made no platform.
    lowered: Option<(Option<StateKey>, Diagnostics, Option<Checked>)>,
}

/// Where a platform keeps its Terraform state (`s3://bucket/prefix`), and the span that says
/// so.
type StateKey = (String, span::Span);

/// The platform's state key, when it declares a state.
fn state_key(p: &model::Platform) -> Option<StateKey> {
    let state = p.aws.as_ref().and_then(|a| a.state.as_ref())?;
    let key = format!(
        "s3://{}/{}",
        state.bucket.value,
        model::aws::state_prefix(p, state)
    );
    Some((key, state.prefix.as_ref().map_or(state.span, |p| p.span)))
}

fn compile_one(
    source: &Source,
    document: &syntax::Document,
    services: lower::Services,
    origin: &model::Origin,
    env: Option<&str>,
) -> Compiled {
    let mut lowering = Diagnostics::default();
    let mut lowered = lower::lower_reusing(document, env, services, &mut lowering);
    if let Some(platform) = &mut lowered {
        lower::files::read(platform, source.dir(), &mut lowering);
    }
    let Some(mut platform) = lowered else {
        return Compiled {
            lowering,
            lowered: None,
        };
    };
    platform.origin = origin.clone();
    let state = state_key(&platform);
    let mut checking = Diagnostics::default();
    let checked = if lowering.has_errors() {
        checking.extend(check_partial(platform, document, &lowering));
        None
    } else {
        check::check(platform, &mut checking)
    };
    Compiled {
        lowering,
        lowered: Some((state, checking, checked)),
    }
}

/// The findings of the rules over a platform whose lowering reported `lowering`, with a note
/// of how many wait for those errors' fix.
fn check_partial(
    platform: model::Platform,
    document: &syntax::Document,
    lowering: &Diagnostics,
) -> Diagnostics {
    let Some(node) = lower::platform_node(document) else {
        return Diagnostics::default();
    };
    let partial = check::partial::check(platform, node, lowering);
    let mut kept = partial.kept;
    kept.hold_back(partial.held_back);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    type Run<'a> = Box<dyn Iterator<Item = (String, write::Entry)> + 'a>;

    fn entry(line: usize) -> write::Entry {
        write::Entry {
            origin: write::Origin::at("platform.kdl", line),
            sha256: write::FileHash::of(&line.to_string()),
        }
    }

    /// Made entries merged in place among reused ones come out in order by path, each with
    /// its own entry: for every way of drawing a few made paths from a list (at its start,
    /// its end, side by side, one or none), the sorted list. A path both made and reused, or
    /// made twice, gives back every entry, for the manifest to sort.
    #[test]
    fn made_entries_merge_in_place_among_the_reused() {
        let all: Vec<String> = (0..12).map(|i| format!("p{i:02}")).collect();
        let mut cases = 0;
        for mask in 0u32..1 << all.len() {
            if mask.count_ones() > 5 {
                continue;
            }
            cases += 1;
            let (made, reused): (Vec<_>, Vec<_>) = all
                .iter()
                .enumerate()
                .map(|(at, path)| (path.clone(), entry(at)))
                .partition(|(path, _)| {
                    mask >> all.iter().position(|p| p == path).unwrap() & 1 == 1
                });
            // The made ones in any order: last first.
            let made: Vec<_> = made.into_iter().rev().collect();
            let merged = merged_in_place(reused, made).expect("no path twice");
            let expected: Vec<_> = all
                .iter()
                .enumerate()
                .map(|(at, path)| (path.clone(), entry(at)))
                .collect();
            assert_eq!(merged, expected, "made {mask:b}");
        }
        assert!(cases > 1000);
        let reused = vec![("a".to_owned(), entry(1)), ("c".to_owned(), entry(2))];
        let both = merged_in_place(reused.clone(), vec![("c".to_owned(), entry(3))]);
        assert_eq!(both.map_err(|all| all.len()), Err(3));
        let twice = merged_in_place(
            reused,
            vec![("b".to_owned(), entry(3)), ("b".to_owned(), entry(4))],
        );
        assert_eq!(twice.map_err(|all| all.len()), Err(4));
    }

    /// Trees' reused entries, each tree's with its places in the old manifest, come out in
    /// the order of their places, with them; when a tree has none (or not one a kept entry),
    /// one tree's after another's, without places.
    #[test]
    fn reused_entries_come_in_the_order_of_their_places() {
        let run = |paths: &[(&str, u32)]| {
            let entries = paths
                .iter()
                .map(|(path, place)| ((*path).to_owned(), entry(*place as usize)))
                .collect();
            let places = paths.iter().map(|(_, place)| *place).collect();
            (entries, Some(places))
        };
        let runs = vec![
            run(&[("a", 0), ("d", 3), ("e", 4)]),
            run(&[("env/b", 1), ("env/c", 2), ("env/f", 5)]),
        ];
        let (entries, places) = reused_in_place_order(runs.clone(), 2);
        let paths: Vec<&str> = entries.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["a", "env/b", "env/c", "d", "e", "env/f"]);
        assert_eq!(places, Some(vec![0, 1, 2, 3, 4, 5]));
        assert!(entries.capacity() >= 8, "room for the made ones");
        let mut unplaced = runs.clone();
        unplaced[1].1 = None;
        let (entries, places) = reused_in_place_order(unplaced, 0);
        let paths: Vec<&str> = entries.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["a", "d", "e", "env/b", "env/c", "env/f"]);
        assert_eq!(places, None);
        let mut short = runs;
        short[0].1 = Some(vec![0, 3]);
        assert_eq!(reused_in_place_order(short, 0).1, None);
    }

    /// Runs in their paths' order, an empty one among them, come out as one list in order,
    /// each entry once and with its own origin and hash: the list a first build's manifest
    /// takes without a sort (`write::Files`).
    #[test]
    fn runs_merge_into_one_list_in_order() {
        let runs: [&[&str]; 4] = [&["b", "d", "f"], &[], &["a", "e"], &["c", "g", "h"]];
        let boxed: Vec<Run> = runs
            .iter()
            .enumerate()
            .map(|(at, run)| {
                let run = run.iter().map(move |path| (path.to_string(), entry(at)));
                Box::new(run) as Run
            })
            .collect();
        let mut merged = Vec::new();
        merge_runs(boxed, |path, entry| merged.push((path, entry)));
        let paths: Vec<&str> = merged.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["a", "b", "c", "d", "e", "f", "g", "h"]);
        let lines: Vec<String> = merged.iter().map(|(_, e)| e.origin.to_string()).collect();
        let from = |at: usize| format!("platform.kdl:{at}");
        let expected = [2, 0, 3, 0, 2, 0, 3, 3].map(from);
        assert_eq!(lines, expected);
        assert_eq!(merged[0].1, entry(2));
    }

    /// A first build's top manifest takes the base tree's entries back from the cache's file
    /// they were put in: whole, the manifest lists every one of them, in order; cut short
    /// (a disk error, a file removed under the build), the write fails and leaves no `out/`,
    /// where a manifest listing too few files would be taken for the tree's.
    #[cfg(unix)]
    #[test]
    fn a_spill_cut_short_fails_the_staged_manifest() {
        let dir = std::env::temp_dir().join(format!("platc-staged-spill-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = dir.join("cache");
        let batches = || {
            let mut batches = Vec::new();
            for name in ["a", "b"] {
                let paths: Vec<String> = (0..500).map(|i| format!("{name}/{i:04}.yaml")).collect();
                let mut batch = write::Packed::for_paths(paths.iter().map(String::as_str));
                for (line, path) in paths.iter().enumerate() {
                    batch.push(path, &entry(line));
                }
                batches.push(batch);
            }
            write::Packed::spill(&mut batches, &cache).unwrap();
            assert!(batches.iter().all(|batch| batch.spill_file().is_some()));
            batches
        };
        let out = dir.join("out");
        let staged = |batches: Vec<write::Packed>| {
            write::write_streamed_then(
                &out,
                |staging| {
                    let packed = vec![("base/".to_owned(), batches)];
                    Some(write_staged_manifest(
                        Vec::new(),
                        packed,
                        Vec::new(),
                        staging,
                    ))
                },
                |_, _| {},
            )
        };
        let Ok(write::Streamed::Written(paths)) = staged(batches()) else {
            panic!("not written");
        };
        assert_eq!(paths.iter().count(), 1000);
        let manifest = std::fs::read_to_string(out.join(write::MANIFEST)).unwrap();
        let listed: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        let files = listed["files"].as_object().unwrap();
        assert_eq!(files.len(), 1000);
        assert!(files.keys().all(|path| path.starts_with("base/")));
        assert_eq!(files["base/b/0499.yaml"]["origin"], "platform.kdl:499");
        std::fs::remove_dir_all(&out).unwrap();
        assert_eq!(
            std::fs::read_dir(&cache).unwrap().count(),
            0,
            "the file removed"
        );
        // The file cut short once the batches are in it.
        let batches = batches();
        let spilled: Vec<std::path::PathBuf> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|file| file.unwrap().path())
            .collect();
        assert_eq!(spilled.len(), 1);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&spilled[0])
            .unwrap();
        file.set_len(100).unwrap();
        let failed = staged(batches);
        assert!(
            matches!(failed, Err(write::WriteError::Io { .. })),
            "{failed:?}"
        );
        assert!(!out.exists(), "no out/ with a manifest short of its files");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
