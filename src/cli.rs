//! The command line, as clap derives. Nothing here runs anything.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// platc compiles one typed description of a microservices platform, `platform.kdl`, into
/// the files that run it: Terraform for AWS, Kubernetes manifests, Istio resources, Argo
/// Rollouts canaries, Helm charts, and Prometheus rules and Grafana dashboards.
#[derive(Debug, Parser)]
#[command(name = "platc", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile platform.kdl into out/: Terraform, Kubernetes, Istio, Helm, monitoring.
    ///
    /// out/ holds the base platform's files and, for each environment the file declares
    /// (`env NAME { … }`), that environment's whole tree under out/env/NAME/. With --env NAME,
    /// only that environment is built, by default to out/env/NAME.
    ///
    /// The whole tree is rendered in memory. A rebuild writes only the files whose sha256
    /// differs from out/.platc/manifest.json's, each renamed in whole, and deletes the files
    /// no longer produced; a build killed half-way is finished by the next one. It makes
    /// again only the services and namespaces whose inputs changed, from a record the last
    /// build kept in platc's cache directory, outside the repository (~/.cache/platc, or the
    /// one the environment names: see the README); without one, it makes everything. A first
    /// build, a change of more than a quarter of the files, or --force swaps the whole tree
    /// in atomically. One that finds out/ up to date touches nothing. platc never deletes or
    /// overwrites a file it did not write or one edited by hand: it refuses, or with --force
    /// moves them to a backup directory beside out/ (out.platc-backup). A rebuild reads only
    /// the files it changes: a hand edit elsewhere is seen by --check, and --force restores
    /// it. It never writes to the platform file's directory, an ancestor of
    /// it, or a repository. With --check, nothing is written to out/: the command fails
    /// when out/ differs or is missing, and shows the differences. Of the very input the last
    /// build was made from, over out/ with the stamps that build noted (size, inode and
    /// times of each file and directory), --check compiles and reads nothing; when only the
    /// record says the input is the one out/ was built from, it reads out/ against that
    /// build's manifest (every file and its hash), makes nothing, and notes the stamps.
    Build(BuildArgs),
    /// Check platform files and report every problem; writes nothing.
    ///
    /// Exits 0 when clean, 1 when there are errors (or warnings, with --deny-warnings),
    /// and 2 on a usage or I/O error. Without --env, the base platform and every declared
    /// environment are checked.
    Check(CheckArgs),
    /// Run as an Argo CD config management plugin (`cmp generate`).
    ///
    /// deploy/argocd/plugin.yaml declares the plugin; argocd-cmp-server runs its commands in
    /// the Application's source path.
    #[command(subcommand)]
    Cmp(CmpCommand),
    /// Show what a build would change in out/, object by object, and the line behind each.
    ///
    /// Compiles exactly as `platc build` does (the same -f, -o and --env), writes nothing, and
    /// lists each file a build would add, remove or change. YAML and JSON files are compared
    /// field by field (`~ spec.replicas: 3 → 2`, `+` added, `-` removed), other files line by
    /// line. Each file names the line of platform.kdl it comes from, as the new manifest
    /// records it (for a removed file, the manifest in out/). Coloured when stdout is a
    /// terminal and `NO_COLOR` is unset. Exits 0 whether or not anything differs, as
    /// `git diff` does; with --exit-code, 1 when something does. Errors in the platform exit
    /// 1, and usage or I/O errors 2.
    Diff(DiffArgs),
    /// Print the shell completion script of bash, zsh, fish, elvish or powershell.
    ///
    /// For bash: `platc completions bash > /etc/bash_completion.d/platc`. For zsh, write it
    /// as `_platc` into a directory of `$fpath`; for fish, as
    /// `~/.config/fish/completions/platc.fish`.
    Completions(CompletionsArgs),
    /// Print the page of a diagnostic code (`unknown-service`), or with none, list them all.
    Explain(ExplainArgs),
    /// Rewrite platform files in their canonical layout, keeping every comment and value.
    ///
    /// Each file (by default platform.kdl) whose layout is not the canonical one is replaced
    /// atomically, and its name printed. The layout: four spaces per level, one node per line,
    /// one space between entries, `{` on the node's line and `}` on a line of its own, at most
    /// one blank line in a row; comments stay where they are, values as they are written.
    /// With --check, nothing is written: each file that is not formatted gets a unified diff
    /// and the command exits 1. A file that does not parse as KDL v2 gets its diagnostics,
    /// exits 1 and is left as it is; usage and I/O errors exit 2.
    Fmt(FmtArgs),
    /// Print the declared call graph: services, protocols, ports, canaries and gateways.
    Graph(GraphArgs),
    /// Write a starting platform.kdl into DIR (default: the current directory).
    ///
    /// `minimal` is two services in an Istio mesh, commented line by line; `online-boutique`
    /// is platc's reference platform, Online Boutique on EKS, which uses most of the language.
    /// Both check clean, and `platc build` builds them as they are. An existing platform.kdl
    /// is never overwritten: the command fails (exit 1) and leaves it as it was.
    Init(InitArgs),
    /// Print a manual page as roff: platc(1), or a command's, platc-COMMAND(1).
    ///
    /// `platc man > platc.1; man ./platc.1`, `platc man build > platc-build.1`.
    Man(ManArgs),
    /// Print every cluster object as one YAML stream, in apply order (namespaces first).
    ///
    /// Prints nothing unless the whole compile succeeds, and exits non-zero on any error:
    /// an empty stream would make Argo CD prune everything.
    Render(RenderArgs),
    /// Print the language as a JSON Schema (draft 2020-12), for editors.
    ///
    /// The schema describes platform.kdl as the KDL data model writes it in JSON: a document is
    /// an array of nodes, a node an object with `name`, `arguments` (an array of values),
    /// `properties` (an object of values) and `children` (an array of nodes). It is made from
    /// the table `platc check` reads by, so it names every node and property the compiler
    /// accepts, where it accepts it, with each keyword, range and an example.
    Schema,
    /// Show the lines of platform.kdl that made a file or object of out/.
    ///
    /// TARGET is a path under out/ (`kubernetes/services/frontend/hpa.yaml`, with or without
    /// `out/`; under out/env/NAME/ it reads that environment), optionally with `#KIND/NAME`, or
    /// an object as kubectl names it (`hpa/frontend`, `Deployment/frontend`). For each object:
    /// the node it came from, by its path and line, and the values that came from elsewhere
    /// (`defaults`, an `env` overlay). Exits 1 when the build has no such file or object.
    Why(WhyArgs),
}

/// The commands of the Argo CD config management plugin.
#[derive(Debug, Subcommand)]
pub enum CmpCommand {
    /// Print what `platc render` prints, with the settings Argo CD passes in the environment.
    ///
    /// Compiles platform.kdl in the current directory (the Application's source path). The
    /// plugin parameters `env`, `part` and `stable` (`render --env`, `--part`, `--stable`) are
    /// read from `ARGOCD_APP_PARAMETERS` (or, when it is unset, `PARAM_ENV`, `PARAM_PART` and
    /// `PARAM_STABLE`), or from the Application's plugin.env `PLATC_ENV`, `PLATC_PART` and
    /// `PLATC_STABLE` (`ARGOCD_ENV_PLATC_ENV`, …). An unknown parameter or `PLATC_` variable,
    /// a parameter that is not a string, and a setting given both ways with two values are
    /// errors. `ARGOCD_APP_NAME` and `ARGOCD_APP_NAMESPACE` are logged on stderr and change
    /// nothing. Prints nothing unless everything succeeds; exits 1 when the platform has
    /// errors, 2 on a bad setting.
    Generate,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "platform.kdl")]
    pub file: PathBuf,
    /// The output directory [default: out, or out/env/NAME with --env NAME].
    #[arg(short = 'o', long = "out")]
    pub out: Option<PathBuf>,
    /// Build only this environment (`env NAME { … }`): its tree alone, by default to
    /// out/env/NAME, where a whole build puts it.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Write nothing; exit 1 and show the differences when out/ is not what a build would
    /// write (or is missing).
    #[arg(long)]
    pub check: bool,
    /// Write even when the output directory holds files platc did not write or that were
    /// edited by hand: they are moved to a new backup directory beside it (OUT.platc-backup),
    /// never deleted. Always replaces the whole tree, so it also restores files edited or
    /// deleted by hand that a rebuild would not change.
    #[arg(long)]
    pub force: bool,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "platform.kdl")]
    pub file: PathBuf,
    /// The output directory to compare [default: out, or out/env/NAME with --env NAME].
    #[arg(short = 'o', long = "out")]
    pub out: Option<PathBuf>,
    /// Compare only this environment's tree (`env NAME { … }`), by default with out/env/NAME,
    /// as `platc build --env NAME` would write it.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Exit 1 when a build would change anything, 0 when not (as `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "platform.kdl")]
    pub file: PathBuf,
    /// Apply this environment's overlay (`env NAME { … }`).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Print one part: `platform` (the platform-wide and per-namespace objects), `edge` (the
    /// gateways' certificates and their issuer) or a service's name (its objects); every
    /// object without it. The parts split the stream.
    #[arg(long, value_name = "PART")]
    pub part: Option<String>,
    /// Render every canary armed (its service's Rollout at the stable image): what a cluster
    /// where the services do not run yet takes first, since Argo Rollouts would promote a
    /// canary that is a Rollout's first revision to every user at once.
    #[arg(long)]
    pub stable: bool,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The files to check (default: platform.kdl).
    pub files: Vec<PathBuf>,
    /// A file to check, as the other commands take it; may be repeated.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Check only this environment's overlay (`env NAME { … }`).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
}

#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// The files to format (default: platform.kdl).
    pub files: Vec<PathBuf>,
    /// A file to format, as the other commands take it; may be repeated.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Write nothing; exit 1 and show the differences when a file is not formatted.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "platform.kdl")]
    pub file: PathBuf,
    /// The output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
    /// Apply this environment's overlay (`env NAME { … }`).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
}

/// The format of `platc graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart (renders on GitHub and in most Markdown viewers).
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
}

#[derive(Debug, clap::Args)]
pub struct WhyArgs {
    /// A path under out/ (optionally `#KIND/NAME`), or `KIND/NAME`.
    pub target: String,
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "platform.kdl")]
    pub file: PathBuf,
    /// Read this environment's build (`env NAME { … }`); implied by a path under out/env/NAME/.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The command whose page to print (platc-COMMAND(1)); without one, platc(1).
    pub command: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The directory to write platform.kdl into; made when missing.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The platform to start from.
    #[arg(long, value_enum, default_value_t = Example::Minimal)]
    pub example: Example,
}

/// The platforms `platc init` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Example {
    /// Two services in an Istio mesh, commented line by line; no AWS.
    Minimal,
    /// Online Boutique on a private EKS cluster behind Istio: platc's reference platform.
    OnlineBoutique,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The code, with or without the `platc::` prefix; without one, every code is listed.
    pub code: Option<String>,
}

/// The format of diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// miette reports on stderr, coloured on a terminal unless `NO_COLOR` is set.
    Human,
    /// One JSON object per line, on stdout (on stderr for `render`, `graph` and `diff`, whose
    /// stdout is their product): code, severity, message, file, positions, label, help and
    /// secondary labels. Usage and I/O errors are records too (`platc::usage`, `platc::io`).
    Json,
}
