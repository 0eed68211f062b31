//! platc: a compiler for cloud-native platforms.
//!
//! One typed `platform.kdl` in; Terraform, Kubernetes, Istio, Helm, observability and delivery
//! files out. The pipeline is parse → lower → check → emit → validate → write; `compile` runs
//! the front half and is what the CLI, the golden tests and the benches call.

pub mod check;
mod cli;
mod commands;
pub mod diagnostic;
pub mod diff;
pub mod emit;
pub mod lower;
pub mod model;
pub mod parse;
mod run;
pub mod source;
pub mod span;
pub mod syntax;
pub mod validate;
pub mod write;

pub use run::run;

use crate::diagnostic::Diagnostics;
use crate::model::Checked;
use crate::source::Source;

/// What a compile is asked to do.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Apply this environment's overlay. Without it, `compile` checks the base platform and
    /// every declared environment.
    pub env: Option<String>,
}

/// The result of a compile: the checked platform when there were no errors, and every
/// diagnostic (warnings included), sorted by position.
#[derive(Debug)]
pub struct Compilation {
    pub platform: Option<Checked>,
    pub diagnostics: Diagnostics,
}

/// Every file of `out/` for a checked platform, the manifest included; emitted objects are
/// validated against `schemas/` before anything is returned (an error is a bug in platc).
pub fn build_tree(platform: &Checked) -> Result<diff::Tree, validate::Invalid> {
    let artifacts = emit::emit(platform)?;
    let manifest = write::manifest(artifacts.iter().map(|(path, a)| {
        (
            path.as_str(),
            a.text.as_str(),
            platform.origin.locate(a.origin),
        )
    }));
    let mut tree: diff::Tree = artifacts
        .into_iter()
        .map(|(path, a)| (path, a.text))
        .collect();
    tree.insert(write::MANIFEST.to_owned(), write::manifest_text(&manifest));
    Ok(tree)
}

/// Parses, lowers and checks one source.
pub fn compile(source: &Source, options: &Options) -> Compilation {
    let mut diagnostics = Diagnostics::default();
    let platform = compile_inner(source, options, &mut diagnostics);
    diagnostics.sort();
    let platform = if diagnostics.has_errors() {
        None
    } else {
        platform
    };
    Compilation {
        platform,
        diagnostics,
    }
}

fn compile_inner(source: &Source, options: &Options, d: &mut Diagnostics) -> Option<Checked> {
    if let Some(offset) = source.invalid_utf8() {
        d.error(
            diagnostic::ErrorKind::InvalidUtf8 { offset },
            span::Span::new(
                offset,
                offset
                    + source
                        .text()
                        .get(offset..)
                        .and_then(|rest| rest.chars().next())
                        .map_or(0, char::len_utf8),
            ),
        );
        return None;
    }
    let document = parse::parse(source, d)?;
    lower::repeated_properties(&document, d);
    lower::sizes(&document, d);
    let mut lowering = Diagnostics::default();
    let lowered = lower::lower(&document, options.env.as_deref(), &mut lowering);
    let lowering_failed = lowering.has_errors();
    d.extend(lowering.clone());
    let mut platform = lowered?;
    platform.origin = model::Origin::new(source.name(), source.text());
    // Each environment is a platform of its own: check them all, so that `platc check`
    // catches a mistake that only one overlay makes. Their diagnostics join the base's after
    // the base is checked, so an error in an overlay hides none in the base.
    let mut env_diagnostics = Diagnostics::default();
    if options.env.is_none() {
        // Where each environment keeps its Terraform state: no two may share a key.
        let mut states: Vec<(String, String, span::Span)> = Vec::new();
        let mut remember = |p: &model::Platform, d: &mut Diagnostics| {
            let Some(state) = p.aws.as_ref().and_then(|a| a.state.as_ref()) else {
                return;
            };
            let key = format!(
                "s3://{}/{}",
                state.bucket.value,
                model::aws::state_prefix(p, state)
            );
            let span = state.prefix.as_ref().map_or(state.span, |p| p.span);
            if let Some((_, _, first)) = states.iter().find(|(k, _, _)| *k == key) {
                d.push(
                    diagnostic::Diagnostic::new(
                        diagnostic::ErrorKind::SharedStateKey { key: key.clone() },
                        span,
                    )
                    .with_label(*first, "the same state"),
                );
            } else {
                states.push((key, p.env.clone().unwrap_or_default(), span));
            }
        };
        remember(&platform, d);
        for env in lower::env_names(&document) {
            let mut one = Diagnostics::default();
            if let Some(env_platform) = lower::lower(&document, Some(&env), &mut one) {
                if one.has_errors() {
                    let partial = check_partial(env_platform, &document, &one);
                    one.extend(partial);
                } else {
                    remember(&env_platform, &mut one);
                    check::check(env_platform, &mut one);
                }
            }
            env_diagnostics.extend(one);
        }
    }
    let checked = if lowering_failed {
        let partial = check_partial(platform, &document, &lowering);
        d.extend(partial);
        None
    } else if d.has_errors() {
        // An error before lowering (a repeated property) leaves the model whole: check it.
        check::check(platform, d);
        None
    } else {
        check::check(platform, d)
    };
    d.extend(env_diagnostics);
    checked
}

/// The findings of the rules over a platform whose lowering reported `lowering`, with a note
/// of how many wait for those errors' fix.
fn check_partial(
    platform: model::Platform,
    document: &syntax::Document,
    lowering: &Diagnostics,
) -> Diagnostics {
    let Some(node) = document
        .nodes()
        .iter()
        .find(|n| n.name().value() == "platform")
    else {
        return Diagnostics::default();
    };
    let partial = check::partial::check(platform, node, lowering);
    let mut kept = partial.kept;
    kept.hold_back(partial.held_back);
    kept
}
