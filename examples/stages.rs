//! Per-stage timings of one compile: `cargo run --release --example stages -- FILE [RUNS]`.
//! Prints the best time of each stage over RUNS runs (default 20), for the benchmark notes.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use platc::diagnostic::Diagnostics;
use platc::source::Source;
use platc::{Options, build_tree, compile, lower, parse};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed());
        last = Some(value);
    }
    (best, last.expect("at least one run"))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: stages FILE [RUNS]");
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(20);
    let text = std::fs::read_to_string(&path).expect("readable file");
    let source = Source::new(path, text);
    let (t_parse, document) = best(runs, || {
        parse::parse(&source, &mut Diagnostics::default()).expect("parses")
    });
    let (t_lower, _) = best(runs, || {
        lower::lower(&document, None, &mut Diagnostics::default()).expect("lowers")
    });
    let (t_compile, compiled) = best(runs, || compile(&source, &Options::default()));
    let platform = compiled.platform.expect("a clean platform");
    let (t_emit, tree) = best(runs, || build_tree(&platform).expect("valid objects"));
    let (t_set, set) = best(runs, || {
        platc::emit::emit(&platform, platc::emit::Scope::All)
    });
    let (t_cluster, _) = best(runs, || {
        platc::emit::emit(&platform, platc::emit::Scope::Cluster)
    });
    let (t_stream, stream) = best(runs, || {
        platc::encode::stream(platc::emit::emit(&platform, platc::emit::Scope::Cluster)).0
    });
    let checked = platc::validate::checked(&set);
    let (t_validate, ()) = best(runs, || {
        platc::validate::output(&set).expect("valid objects");
    });
    let stream_bytes: usize = stream.iter().map(String::len).sum();
    let bytes: usize = tree.values().map(String::len).sum();
    println!("services      {}", platform.services.len());
    println!("parse         {:>9.3} ms", t_parse.as_secs_f64() * 1e3);
    println!("lower         {:>9.3} ms", t_lower.as_secs_f64() * 1e3);
    println!(
        "compile       {:>9.3} ms  (parse + lower + check, every env)",
        t_compile.as_secs_f64() * 1e3
    );
    println!(
        "emit+validate {:>9.3} ms  ({} files, {} bytes)",
        t_emit.as_secs_f64() * 1e3,
        tree.len(),
        bytes
    );
    println!(
        "  emit (set)  {:>9.3} ms  ({} items, typed, not yet encoded)",
        t_set.as_secs_f64() * 1e3,
        set.items().len()
    );
    println!(
        "  cluster     {:>9.3} ms  (the cluster objects alone, typed: what render emits)",
        t_cluster.as_secs_f64() * 1e3
    );
    println!(
        "  + encode    {:>9.3} ms  (the same, emitted and encoded: {stream_bytes} bytes)",
        t_stream.as_secs_f64() * 1e3
    );
    println!(
        "  validate    {:>9.3} ms  ({checked} objects against schemas/)",
        t_validate.as_secs_f64() * 1e3
    );
}
