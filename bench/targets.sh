#!/usr/bin/env bash
# The table of issue 15's targets, measured side by side in one run (the machine is shared and
# noisy: each run of each input times every command back to back, and the table gives
# medians). Not a test, and not run in CI.
#
#   bench/targets.sh                    # 10, 100 and 1,000 services, 5 runs each
#   SIZES="10 100 1000 10000" RUNS=3 bench/targets.sh
#
# For each generated platform (examples/gen_platform.rs): `platc check`, `platc render`, a
# fresh `platc build` into an empty directory, a rebuild after one service's image tag changed
# (out/ present; written incrementally, only the changed files), and the file-system floor: examples/floor.rs creating the same files (same
# paths and sizes) as plainly as a program can. For the repository's platform.kdl: `render`
# and `build --check`, what the pre-commit hook and the Argo CD plugin pay on every run.
# Peers (jrsonnet, the Helm engine) are not timed yet.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sizes=${SIZES:-"10 100 1000"}
runs=${RUNS:-5}
cd "$repo"
echo "building release…" >&2
cargo build --release --quiet --bin platc --example gen_platform --example floor
target=${CARGO_TARGET_DIR:-$repo/target}
platc=$target/release/platc
gen=$target/release/examples/gen_platform
floor=$target/release/examples/floor
work=$(mktemp -d "${TMPDIR:-/tmp}/platc-targets.XXXXXX")
trap 'rm -rf "$work"' EXIT

now_ns() { date +%s%N; }
# elapsed_ms CMD…: runs CMD (its output discarded) and prints its wall time in milliseconds.
elapsed_ms() {
    local start end
    start=$(now_ns)
    "$@" >/dev/null 2>&1 || { echo "error: $* failed" >&2; exit 1; }
    end=$(now_ns)
    awk -v ns=$((end - start)) 'BEGIN { printf "%.1f\n", ns / 1e6 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
row() { printf '| %-22s | %9s | %9s | %9s | %9s | %9s | %14s |\n' "$@"; }

echo
row input "check" "render" "fresh" "rebuild" "floor" "fresh / floor"
row "" "" "" "" "" "" "" | tr ' ' '-'
for n in $sizes; do
    file=$work/platform-$n.kdl
    "$gen" "$n" >"$file"
    # The one-service change: the first image tag, bumped. Built from the same file name as
    # the fresh build (`rebuilt`): the name is in every file's header, so another name would
    # change every file.
    changed=$work/changed-$n.kdl
    awk '!done && /tag="/ { sub(/tag="/, "tag=\"bench-"); done = 1 } { print }' "$file" >"$changed"
    rebuilt=$work/rebuilt-$n/platform-$n.kdl
    mkdir -p "$(dirname "$rebuilt")"
    : >"$work/check" ; : >"$work/render"; : >"$work/fresh"; : >"$work/rebuild"; : >"$work/floor"
    for ((r = 0; r < runs; r++)); do
        out=$work/out-$n
        rm -rf "$out" "$work/floor-$n"
        elapsed_ms "$platc" check "$file" >>"$work/check"
        elapsed_ms "$platc" render -f "$file" >>"$work/render"
        cp "$file" "$rebuilt"
        elapsed_ms "$platc" build -f "$rebuilt" -o "$out" >>"$work/fresh"
        cp "$changed" "$rebuilt"
        elapsed_ms "$platc" build -f "$rebuilt" -o "$out" >>"$work/rebuild"
        "$floor" "$out" "$work/floor-$n" >>"$work/floor"
    done
    fresh=$(median <"$work/fresh")
    floor_ms=$(median <"$work/floor")
    row "$n services" "$(median <"$work/check")" "$(median <"$work/render")" "$fresh" \
        "$(median <"$work/rebuild")" "$floor_ms" \
        "$(awk -v a="$fresh" -v b="$floor_ms" 'BEGIN { printf "%.2f", a / b }')"
    rm -rf "$work/out-$n" "$work/floor-$n"
done

: >"$work/render"; : >"$work/buildcheck"
for ((r = 0; r < runs; r++)); do
    elapsed_ms "$platc" render -f platform.kdl >>"$work/render"
    elapsed_ms "$platc" build --check >>"$work/buildcheck"
done
echo
echo "platform.kdl (whole process, ms): render $(median <"$work/render"), build --check $(median <"$work/buildcheck")"
echo "times in ms, medians of $runs runs; the floor times file creation alone (bytes ready, one thread)"
