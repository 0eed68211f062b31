//! One module per subcommand. Each returns an `Output`; `run` prints it.

pub mod build;
pub mod check;
pub mod explain;
pub mod graph;
pub mod render;

/// What a command prints and its exit status.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// 0 success; 1 the input has errors; 2 usage, I/O or internal error.
    pub status: u8,
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

    pub fn failure(message: String) -> Self {
        Self {
            stdout: String::new(),
            stderr: message,
            status: 2,
        }
    }
}

/// Reads and compiles one platform file for a command: the output so far (diagnostics on
/// stderr; status 1 on errors, 2 when the file cannot be read) and the checked platform when
/// the compile succeeded.
pub fn compile_file(
    path: &std::path::Path,
    env: Option<&str>,
    format: crate::cli::MessageFormat,
    color: bool,
) -> (Output, Option<crate::model::Checked>) {
    match read_source(path) {
        Ok(source) => compile_source(&source, env, format, color),
        Err(output) => (output, None),
    }
}

/// Reads one platform file, or the output that says why it cannot be read (status 2).
pub fn read_source(path: &std::path::Path) -> Result<crate::source::Source, Output> {
    crate::source::Source::read(path).map_err(|error| {
        Output::failure(format!(
            "error: cannot read `{}`: {error}\n",
            path.display()
        ))
    })
}

/// Compiles a platform file that was read: as `compile_file`.
pub fn compile_source(
    source: &crate::source::Source,
    env: Option<&str>,
    format: crate::cli::MessageFormat,
    color: bool,
) -> (Output, Option<crate::model::Checked>) {
    let result = crate::compile(
        source,
        &crate::Options {
            env: env.map(str::to_owned),
        },
    );
    let mut output = Output {
        stderr: Output::diagnostics(source, &result.diagnostics, format, color),
        ..Output::default()
    };
    if result.platform.is_none() {
        output.status = 1;
    }
    (output, result.platform)
}
