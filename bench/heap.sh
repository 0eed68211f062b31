#!/usr/bin/env bash
# The live heap of a fresh build, counted (not a test, and not run in CI).
#
#   bench/heap.sh                        # 10,000 services
#   N=3000 PERIOD_MS=100 bench/heap.sh
#   HEAP_TARGET_DIR=/elsewhere/target bench/heap.sh   # a target directory kept between runs
#
# Builds a scratch copy of the working tree (its tracked files, edits included; REV=COMMIT for
# a commit's) whose allocator is mimalloc behind a counter of the bytes live (the copy alone:
# the crate forbids `unsafe`, which a `GlobalAlloc` needs), then runs a fresh `platc build` of
# a generated platform of N services in a directory of /dev/shm. It prints, every PERIOD_MS,
# the bytes live, the most live since the line before and the RSS, and at the end the peak of
# each. The count is of the allocator's requests: the same to the megabyte over five runs
# of two versions, where the RSS moves by +-25 MB with mimalloc's retention and the host's
# noise. heaptrack is no substitute: at 10,000 services its trace ended 12 s into the build,
# before either tree's end, and reported that part's peak (the compile's) as the build's.
set -euo pipefail

N=${N:-10000}
PERIOD_MS=${PERIOD_MS:-250}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/platc-heap.XXXXXX)
target=${HEAP_TARGET_DIR:-$work/target}
run=$(mktemp -d /dev/shm/platc-heap.XXXXXX)
trap 'rm -rf "$run"; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# Extracted with fresh times (`-m`): a target directory kept between runs (HEAP_TARGET_DIR)
# would otherwise take the copy for older than its last build, and not build it again.
rev=${REV:-$(git -C "$repo" stash create)}
git -C "$repo" archive "${rev:-HEAD}" | tar -x -m -C "$work"
sed -i 's/^unsafe_code = "forbid"/unsafe_code = "allow"/' "$work/Cargo.toml"
cat > "$work/src/main.rs" <<'EOF'
//! `platc` with its allocator's live bytes counted (bench/heap.sh).

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counted;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static HIGH: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Relaxed) + by;
    HIGH.fetch_max(live, Relaxed);
    PEAK.fetch_max(live, Relaxed);
}

unsafe impl GlobalAlloc for Counted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        if size > layout.size() {
            grew(size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - size, Relaxed);
        }
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counted = Counted;

fn rss_mb() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<usize>().ok()
        })
        .map_or(0, |kb| kb >> 10)
}

fn main() -> std::process::ExitCode {
    let period: u64 = std::env::var("PERIOD_MS").ok().and_then(|p| p.parse().ok()).unwrap_or(250);
    let start = std::time::Instant::now();
    let rss_peak = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = rss_peak.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(period));
        let rss = rss_mb();
        seen.fetch_max(rss, Relaxed);
        let high = HIGH.swap(LIVE.load(Relaxed), Relaxed);
        eprintln!(
            "{:7.2} s  live {:4} MB  highest since {:4} MB  rss {:4} MB",
            start.elapsed().as_secs_f64(),
            LIVE.load(Relaxed) >> 20,
            high >> 20,
            rss
        );
    });
    let code = platc::run();
    rss_peak.fetch_max(rss_mb(), Relaxed);
    eprintln!(
        "heap: peak live {} MB; RSS peak sampled {} MB ({:.1} s)",
        PEAK.load(Relaxed) >> 20,
        rss_peak.load(Relaxed),
        start.elapsed().as_secs_f64()
    );
    code
}
EOF

echo "building the counted copy in $target" >&2
(cd "$work" && CARGO_TARGET_DIR="$target" cargo build --release --quiet --bin platc --example gen_platform)
"$target/release/examples/gen_platform" "$N" > "$run/platform.kdl"
cd "$run"
PERIOD_MS=$PERIOD_MS PLATC_CACHE_DIR="$run/.cache" "$target/release/platc" build
