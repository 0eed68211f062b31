//! `platc render`: every cluster object as one YAML stream on stdout, in apply order. The
//! Argo CD config management plugin's `generate` command.

use crate::cli::RenderArgs;
use crate::commands::{Output, Report, compile_with};
use crate::emit::cluster_objects;

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
    let objects = cluster_objects(&platform);
    // A bug in platc, not in the platform: exit 2 and print no object.
    if let Err(invalid) = crate::validate::objects(&objects) {
        output.stderr = format!("{}{invalid}\n", output.stderr);
        output.status = 2;
        return output;
    }
    for object in &objects {
        output.stdout.push_str("---\n");
        output.stdout.push_str(&object.yaml);
    }
    output
}
