//! `platc render`: every cluster object as one YAML stream on stdout, in apply order. The
//! Argo CD config management plugin's `generate` command.

use crate::cli::RenderArgs;
use crate::commands::Output;
use crate::emit::cluster_objects;
use crate::source::Source;
use crate::{Options, compile};

pub fn run(args: &RenderArgs, color: bool) -> Output {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(text) => text,
        Err(error) => {
            return Output::failure(format!(
                "error: cannot read `{}`: {error}\n",
                args.file.display()
            ));
        }
    };
    let source = Source::new(args.file.display().to_string(), text);
    let result = compile(
        &source,
        &Options {
            env: args.env.clone(),
        },
    );
    let mut output = Output {
        stderr: Output::diagnostics(&source, &result.diagnostics, args.message_format, color),
        ..Output::default()
    };
    match result.platform {
        // Nothing on stdout unless everything compiled: an empty stream prunes everything.
        None => output.status = 1,
        Some(platform) => {
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
        }
    }
    output
}
