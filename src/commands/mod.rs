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
