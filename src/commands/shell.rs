//! `platc completions SHELL` and `platc man`: the shell completion scripts and the manual page,
//! generated from the command line's one definition (`cli::Cli`), so they follow every
//! command and flag.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::commands::Output;

/// The completion script of a shell.
pub fn completions(shell: clap_complete::Shell) -> Output {
    let mut command = Cli::command();
    let mut bytes = Vec::new();
    clap_complete::generate(shell, &mut command, "platc", &mut bytes);
    Output {
        stdout: String::from_utf8_lossy(&bytes).into_owned(),
        ..Output::default()
    }
}

/// A manual page: platc(1), with every command and its summary, or a command's own,
/// platc-COMMAND(1), with its description and options (the pages platc(1) refers to).
pub fn man(command: Option<&str>) -> Output {
    let cli = Cli::command();
    let page = match command {
        None => cli,
        Some(name) => {
            let Some(sub) = cli.find_subcommand(name) else {
                let names = cli.get_subcommands().map(clap::Command::get_name);
                let hint = crate::diagnostic::suggest(name, names)
                    .map_or_else(String::new, |s| format!(" Did you mean `{s}`?"));
                return Output::failure(format!("error: no command `{name}`.{hint}\n"));
            };
            sub.clone()
                .name(format!("platc-{name}"))
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut bytes = Vec::new();
    match clap_mangen::Man::new(page).render(&mut bytes) {
        Ok(()) => Output {
            stdout: String::from_utf8_lossy(&bytes).into_owned(),
            ..Output::default()
        },
        Err(e) => Output::failure(format!("error: cannot render the manual page: {e}\n")),
    }
}
