//! One module per subcommand. Each returns an `Output`; `run` prints it.

pub mod check;
pub mod explain;

/// What a command prints and its exit status.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// 0 success; 1 the input has errors; 2 usage, I/O or internal error.
    pub status: u8,
}

impl Output {
    pub fn failure(message: String) -> Self {
        Self {
            stdout: String::new(),
            stderr: message,
            status: 2,
        }
    }
}
