//! `platc render`: every cluster object as one YAML stream on stdout, in apply order. The
//! Argo CD config management plugin's `generate` command.

use crate::cli::RenderArgs;
use crate::commands::{Output, Report, compile_with};

pub fn run(args: &RenderArgs, color: bool) -> Output {
    let (mut output, platform) = compile_with(
        &args.file,
        args.env.as_deref(),
        Report::beside_product(args.message_format, color),
    );
    // Nothing on stdout unless everything compiled: an empty stream prunes everything.
    let Some(platform) = platform else {
        return output;
    };
    let platform = if args.stable {
        platform.with_canaries_armed()
    } else {
        platform
    };
    // A bug in platc, not in the platform: exit 2 and print no object.
    match crate::output(&platform, crate::emit::Scope::Cluster) {
        Ok(set) => output.stdout = crate::encode::stream(set),
        Err(invalid) => {
            output.stderr = format!("{}{invalid}\n", output.stderr);
            output.status = 2;
        }
    }
    output
}
