//! `platc explain CODE`: the long page of a diagnostic code, from `docs/codes/`; with no code,
//! every code with its one-line summary.

use std::fmt::Write as _;

use crate::cli::ExplainArgs;
use crate::commands::Output;
use crate::diagnostic::{ErrorKind, suggest};

include!(concat!(env!("OUT_DIR"), "/code_pages.rs"));

pub fn run(args: &ExplainArgs) -> Output {
    let Some(code) = &args.code else {
        return Output {
            stdout: list(),
            ..Output::default()
        };
    };
    let code = code.trim_start_matches("platc::");
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
        None => " `platc explain` lists every code.".to_owned(),
    };
    Output::failure(format!("error: no diagnostic code `{code}`.{hint}\n"))
}

/// Every code, its severity and when it is reported, aligned in columns.
fn list() -> String {
    let width = SUMMARIES
        .iter()
        .map(|(code, _, _)| code.len() + "platc::".len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (code, severity, when) in SUMMARIES {
        let when = when.replace('`', "");
        let code = format!("platc::{code}");
        let _ = writeln!(out, "{code:<width$}  {severity:<7}  {when}");
    }
    out.push_str("\n`platc explain CODE` prints the whole page of one.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_summary_and_a_page() {
        let summarised: Vec<String> = SUMMARIES
            .iter()
            .map(|(code, _, _)| format!("platc::{code}"))
            .collect();
        let mut sorted = summarised.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            ErrorKind::CODES,
            "the table of codes in docs/language.md"
        );
        for (code, severity, _) in SUMMARIES {
            assert!(
                PAGES.iter().any(|(name, _)| name == code),
                "{code} has no page"
            );
            assert!(
                matches!(*severity, "error" | "warning"),
                "{code}: {severity}"
            );
        }
    }
}
