//! One module per subcommand. Each returns an `Output`; `run` prints it.

pub mod build;
pub mod check;
pub mod cmp;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod graph;
pub mod init;
pub mod render;
pub mod schema;
pub mod shell;
pub mod why;

/// What a command prints and its exit status.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: String,
    /// A large product, printed after `stdout` piece by piece (`render`'s stream: one string
    /// would copy it once more).
    pub pieces: Vec<String>,
    pub stderr: String,
    /// 0 success; 1 the input has errors; 2 usage, I/O or internal error.
    pub status: u8,
}

/// How a command reports: the message format and where it goes. JSON goes to stdout, as
/// cargo's does, unless stdout carries the command's product (`render`'s YAML, `graph`'s
/// chart); people's text always goes to stderr.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    pub format: crate::cli::MessageFormat,
    pub color: bool,
    pub json_to_stdout: bool,
}

impl Report {
    /// For a command whose stdout is its product (`render`, `graph`): JSON on stderr.
    pub fn beside_product(format: crate::cli::MessageFormat, color: bool) -> Self {
        Self {
            format,
            color,
            json_to_stdout: false,
        }
    }

    fn json(self) -> bool {
        self.format == crate::cli::MessageFormat::Json
    }
}

impl Output {
    /// Diagnostics in the asked format.
    pub fn diagnostics(
        source: &crate::source::Source,
        diagnostics: &crate::diagnostic::Diagnostics,
        format: crate::cli::MessageFormat,
        color: bool,
    ) -> String {
        match format {
            crate::cli::MessageFormat::Human => {
                crate::diagnostic::render_human(source, diagnostics, color)
            }
            crate::cli::MessageFormat::Json => crate::diagnostic::render_json(source, diagnostics),
        }
    }

    /// Adds the diagnostics of one source where `report` sends them.
    pub fn report_diagnostics(
        &mut self,
        source: &crate::source::Source,
        diagnostics: &crate::diagnostic::Diagnostics,
        report: Report,
    ) {
        let text = Self::diagnostics(source, diagnostics, report.format, report.color);
        if report.json() && report.json_to_stdout {
            self.stdout.push_str(&text);
        } else {
            self.stderr.push_str(&text);
        }
    }

    /// Adds an error that is not in a platform's text (`code` is `platc::io` or
    /// `platc::usage`), and sets status 2: `error: …` on stderr, or one JSON record.
    pub fn report_error(
        &mut self,
        report: Report,
        code: &str,
        message: &str,
        file: Option<&std::path::Path>,
    ) {
        if report.json() {
            let file = file.map(|f| f.display().to_string());
            let line = crate::diagnostic::render_json_error(code, message, file.as_deref());
            if report.json_to_stdout {
                self.stdout.push_str(&line);
            } else {
                self.stderr.push_str(&line);
            }
        } else {
            self.stderr.push_str("error: ");
            self.stderr.push_str(&crate::diagnostic::escape(message));
            self.stderr.push('\n');
        }
        self.status = 2;
    }

    pub fn failure(message: String) -> Self {
        Self {
            stderr: message,
            status: 2,
            ..Self::default()
        }
    }
}

/// Reads and compiles one platform file for a command: the output so far (diagnostics where
/// `report` sends them; status 1 on errors, 2 when the file cannot be read) and the checked
/// platform when the compile succeeded.
pub fn compile_with(
    path: &std::path::Path,
    env: Option<&str>,
    report: Report,
) -> (Output, Option<crate::model::Checked>) {
    match read_source(path, report) {
        Ok(source) => compile_source(&source, env, report),
        Err(output) => (output, None),
    }
}

/// Reads one platform file, or the output that says why it cannot be read (status 2).
pub fn read_source(
    path: &std::path::Path,
    report: Report,
) -> Result<crate::source::Source, Output> {
    crate::source::Source::read(path).map_err(|error| {
        let mut output = Output::default();
        let message = format!("cannot read `{}`: {error}", path.display());
        output.report_error(report, "platc::io", &message, Some(path));
        output
    })
}

/// Compiles a platform file that was read: as `compile_with`.
pub fn compile_source(
    source: &crate::source::Source,
    env: Option<&str>,
    report: Report,
) -> (Output, Option<crate::model::Checked>) {
    let (output, platform, _) = compile_source_keeping(source, env, false, report);
    (output, platform)
}

/// `compile_source`, with each environment's checked platform when `keep_envs` (and no
/// `env`): a whole build makes their trees from them (`Options::keep_envs`).
pub fn compile_source_keeping(
    source: &crate::source::Source,
    env: Option<&str>,
    keep_envs: bool,
    report: Report,
) -> (Output, Option<crate::model::Checked>, crate::Envs) {
    let mut output = Output::default();
    let result = crate::compile(
        source,
        &crate::Options {
            env: env.map(str::to_owned),
            keep_envs,
        },
    );
    output.report_diagnostics(source, &result.diagnostics, report);
    if result.platform.is_none() {
        output.status = 1;
    }
    (output, result.platform, result.envs)
}
