//! `platc render`: every cluster object (or one part's) as one YAML stream on stdout, in apply
//! order. `platc cmp generate`, the Argo CD config management plugin's command, prints the same
//! stream through `stream`, with its settings read from Argo CD's environment instead of flags.

use std::path::Path;

use crate::cli::RenderArgs;
use crate::commands::{Output, Report, compile_with};
use crate::output::Part;

/// What to print: the settings `render` takes as flags and `cmp generate` from Argo CD.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// The environment whose overlay applies (`--env`); `None` for the base platform.
    pub env: Option<String>,
    /// The part (`--part`): empty for every object, `platform`, or a service's name.
    pub part: String,
    /// Every canary armed (`--stable`).
    pub stable: bool,
}

pub fn run(args: &RenderArgs, color: bool) -> Output {
    let selection = Selection {
        env: args.env.clone(),
        part: args.part.clone().unwrap_or_default(),
        stable: args.stable,
    };
    stream(
        &args.file,
        &selection,
        Report::beside_product(args.message_format, color),
    )
}

/// Compiles `file` and prints the selected objects. Nothing goes to stdout unless the compile
/// succeeded and the part exists: an empty stream would make Argo CD prune everything.
pub fn stream(file: &Path, selection: &Selection, report: Report) -> Output {
    let (mut output, platform) = compile_with(file, selection.env.as_deref(), report);
    let Some(platform) = platform else {
        return output;
    };
    let names = platform.services.iter().map(|s| s.name.value.as_str());
    let part = match Part::named(&selection.part, names) {
        Ok(part) => part,
        Err(error) => {
            output.report_error(report, "platc::usage", &error.to_string(), None);
            return output;
        }
    };
    let platform = if selection.stable {
        platform.with_canaries_armed()
    } else {
        platform
    };
    // A bug in platc, not in the platform: exit 2 and print no object.
    match crate::output_part(&platform, crate::emit::Scope::Stream, &part) {
        Ok(set) => {
            let (pieces, spent) = crate::encode::stream(set);
            output.pieces = pieces;
            // What is left of the set's items: freed here, on this one core, it was 1–2 ms
            // of render of 1,000 services (each item's strings made on another thread).
            std::mem::forget(spent);
        }
        Err(invalid) => {
            output.stderr = format!("{}{invalid}\n", output.stderr);
            output.status = 2;
        }
    }
    // The stream needs no platform, and the process ends after printing it: as `check`,
    // the memory is the OS's again at exit (freeing it was 1.5–2.8 ms, on one core, of
    // render of 1,000 services).
    std::mem::forget(platform);
    output
}
