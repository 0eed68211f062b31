//! The `platc` binary: everything happens in `platc::run`.

fn main() -> std::process::ExitCode {
    platc::run()
}
