//! `platc init [DIR] [--example minimal|online-boutique]`: writes a starting `platform.kdl`,
//! never over an existing one.
//!
//! Both examples are embedded from the repository's own files, so what `init` writes is what
//! the tests compile: the minimal one from `examples/minimal.kdl`, Online Boutique from the
//! reference `platform.kdl` that `out/` is built from.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::{Example, InitArgs};
use crate::commands::Output;

/// The platform `--example` names: its file name in messages and its text.
pub fn example(example: Example) -> (&'static str, &'static str) {
    match example {
        Example::Minimal => ("minimal", include_str!("../../examples/minimal.kdl")),
        Example::OnlineBoutique => ("online-boutique", include_str!("../../platform.kdl")),
    }
}

pub fn run(args: &InitArgs) -> Output {
    let (name, text) = example(args.example);
    let path = target(&args.dir);
    if let Err(error) = std::fs::create_dir_all(&args.dir) {
        return Output::failure(format!(
            "error: cannot make the directory `{}`: {error}\n",
            args.dir.display()
        ));
    }
    // `create_new`: the check and the creation are one step, so a file that appears between
    // them is not overwritten either.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    let written = file.and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()));
    match written {
        Ok(()) => Output {
            stderr: format!(
                "wrote {} (the {name} example); `platc build` compiles it into out/\n",
                path.display()
            ),
            ..Output::default()
        },
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Output {
            stderr: format!(
                "error: `{}` already exists; platc init never overwrites a platform file\n",
                path.display()
            ),
            status: 1,
            ..Output::default()
        },
        Err(error) => Output::failure(format!(
            "error: cannot write `{}`: {error}\n",
            path.display()
        )),
    }
}

/// `DIR/platform.kdl`, shown without a leading `./` for the current directory.
fn target(dir: &Path) -> PathBuf {
    if dir == Path::new(".") || dir.as_os_str().is_empty() {
        PathBuf::from("platform.kdl")
    } else {
        dir.join("platform.kdl")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;
    use crate::{Options, compile};

    #[test]
    fn every_example_compiles_without_errors_or_warnings() {
        for choice in [Example::Minimal, Example::OnlineBoutique] {
            let (name, text) = example(choice);
            let result = compile(&Source::new("platform.kdl", text), &Options::default());
            assert!(
                result.platform.is_some() && result.diagnostics.is_empty(),
                "the {name} example: {:?}",
                result.diagnostics
            );
        }
    }

    #[test]
    fn the_minimal_example_has_no_aws_and_two_services_one_calling_the_other() {
        let (_, text) = example(Example::Minimal);
        let result = compile(&Source::new("platform.kdl", text), &Options::default());
        let platform = result.platform.expect("compiles");
        assert!(platform.aws.is_none());
        assert!(platform.mesh.is_some());
        let calls: Vec<(&str, &str)> = platform
            .services
            .iter()
            .flat_map(|s| {
                s.calls
                    .iter()
                    .map(|c| (s.name.value.as_str(), c.service.value.as_str()))
            })
            .collect();
        assert_eq!(platform.services.len(), 2);
        assert_eq!(calls, [("frontend", "cart")]);
    }

    #[test]
    fn the_target_is_named_without_a_leading_dot() {
        assert_eq!(target(Path::new(".")), PathBuf::from("platform.kdl"));
        assert_eq!(
            target(Path::new("shop")),
            PathBuf::from("shop/platform.kdl")
        );
    }
}
