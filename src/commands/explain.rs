//! `platc explain CODE`: the long page of a diagnostic code, from `docs/codes/`.

use crate::cli::ExplainArgs;
use crate::commands::Output;
use crate::diagnostic::{ErrorKind, suggest};

include!(concat!(env!("OUT_DIR"), "/code_pages.rs"));

pub fn run(args: &ExplainArgs) -> Output {
    let code = args.code.trim_start_matches("platc::");
    if let Some((_, page)) = PAGES.iter().find(|(name, _)| *name == code) {
        return Output {
            stdout: (*page).to_owned(),
            ..Output::default()
        };
    }
    let names = ErrorKind::CODES
        .iter()
        .map(|c| c.trim_start_matches("platc::"));
    let hint = match suggest(code, names) {
        Some(name) => format!(" Did you mean `{name}`?"),
        None => " `platc explain --help` says where the list of codes is.".to_owned(),
    };
    Output::failure(format!("error: no diagnostic code `{code}`.{hint}\n"))
}
