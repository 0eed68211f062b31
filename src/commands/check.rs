//! `platc check [FILE…]`: parse, lower and check; diagnostics only.

use std::fmt::Write as _;

use crate::cli::{CheckArgs, MessageFormat};
use crate::commands::Output;
use crate::diagnostic::{render_human, render_json};
use crate::source::Source;
use crate::{Options, compile};

pub fn run(args: &CheckArgs, color: bool) -> Output {
    let mut output = Output::default();
    let options = Options {
        env: args.env.clone(),
    };
    for path in &args.files {
        let source = match Source::read(path) {
            Ok(source) => source,
            Err(error) => {
                let _ = writeln!(
                    output.stderr,
                    "error: cannot read `{}`: {error}",
                    path.display()
                );
                output.status = 2;
                continue;
            }
        };
        let result = compile(&source, &options);
        output.stderr.push_str(&match args.message_format {
            MessageFormat::Human => render_human(&source, &result.diagnostics, color),
            MessageFormat::Json => render_json(&source, &result.diagnostics),
        });
        let failed = result.diagnostics.has_errors()
            || (args.deny_warnings && result.diagnostics.has_warnings());
        if failed && output.status == 0 {
            output.status = 1;
        }
    }
    output
}
