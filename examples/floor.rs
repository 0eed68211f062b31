//! The file-system floor of a build, for `bench/targets.sh`: creates the files of an existing
//! tree again under a new directory, with the same paths and sizes, as plainly as a program
//! can (one `create_dir_all` per directory, one `write` per file, on one thread), and prints
//! how long that took in milliseconds.
//!
//! ```text
//! cargo run --release --example floor -- TREE NEW_DIR
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::Instant;

/// Every file below `root`, as (path relative to `root`, size in bytes), in a stable order.
fn files(root: &Path) -> Vec<(PathBuf, usize)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if let Ok(meta) = entry.metadata() {
                let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                out.push((relative, usize::try_from(meta.len()).unwrap_or(0)));
            }
        }
    }
    out.sort();
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(tree), Some(target)) = (args.next(), args.next()) else {
        eprintln!("usage: floor TREE NEW_DIR");
        std::process::exit(2);
    };
    let files = files(Path::new(&tree));
    let largest = files.iter().map(|(_, size)| *size).max().unwrap_or(0);
    // The bytes are ready before the clock starts, as a build's are once encoded.
    let bytes = vec![b'x'; largest];
    let target = PathBuf::from(target);
    let start = Instant::now();
    let mut made = std::collections::BTreeSet::new();
    for (path, size) in &files {
        let path = target.join(path);
        if let Some(parent) = path.parent()
            && made.insert(parent.to_path_buf())
        {
            std::fs::create_dir_all(parent).expect("directory");
        }
        std::fs::write(&path, &bytes[..*size]).expect("file");
    }
    let elapsed = start.elapsed();
    println!("{:.3}", elapsed.as_secs_f64() * 1000.0);
}
