#!/usr/bin/env bash
# Whole-process benchmark of `platc check` and `platc build` on generated platforms.
#
# Builds release, generates platforms of 10, 100, 1,000 and 10,000 services with
# `examples/gen_platform.rs`, checks that each one checks clean (exit 0, no warnings), then
# measures the wall time of `platc check FILE` (best and median of several runs) and its peak
# RSS, for each generated file and for the repository's own platform.kdl. Prints a table.
#
#   bench/run.sh                     # all sizes, default runs
#   SIZES="10 100" RUNS=20 bench/run.sh
#   BENCH_TIMER=loop bench/run.sh    # time with the date loop even when hyperfine is there
#
# Timing uses hyperfine when it is installed, else a loop that reads bash's own clock
# (`$EPOCHREALTIME`). Peak RSS uses GNU time (`/usr/bin/time`, Debian package `time`) when
# present. Runs are for notes, not CI: numbers depend on the machine and on what else runs
# on it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sizes=${SIZES:-"10 100 1000 10000"}
# Runs per input; an input whose first check takes over two seconds gets SLOW_RUNS instead.
runs=${RUNS:-10}
slow_runs=${SLOW_RUNS:-3}

cd "$repo"
echo "building release…" >&2
cargo build --release --quiet --bin platc --example gen_platform
target=${CARGO_TARGET_DIR:-$repo/target}
platc=$target/release/platc
gen=$target/release/examples/gen_platform

work=$(mktemp -d "${TMPDIR:-/tmp}/platc-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

gnu_time=
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M true >/dev/null 2>&1; then
    gnu_time=/usr/bin/time
fi
hyperfine=$(command -v hyperfine || true)
if [[ ${BENCH_TIMER:-} == loop ]]; then
    hyperfine=
fi

# The wall clock, in nanoseconds, as bash reads it itself (`$EPOCHREALTIME`, to the
# microsecond): `$(date +%s%N)` added a process start, about a millisecond, to each figure.
# Assigned with `start=${EPOCHREALTIME/[.,]/}000`, without a subshell.

# Prints nanoseconds as milliseconds with two decimals.
ms() { awk -v ns="$1" 'BEGIN { printf "%.2f", ns / 1e6 }'; }

# check_clean FILE: fails the script unless `platc check --deny-warnings FILE` exits 0.
# Prints the wall time of that run in nanoseconds.
check_clean() {
    local file=$1 start end status=0
    start=${EPOCHREALTIME/[.,]/}000
    "$platc" check --deny-warnings "$file" >"$work/out" 2>"$work/err" || status=$?
    end=${EPOCHREALTIME/[.,]/}000
    if [[ $status -ne 0 ]]; then
        echo "error: $file does not check clean (exit $status):" >&2
        head -n 40 "$work/err" >&2
        exit 1
    fi
    echo $((end - start))
}

# measure FILE RUNS: prints "BEST_NS MEDIAN_NS".
measure() {
    if [[ -n $hyperfine ]] && measure_hyperfine "$@"; then
        return
    fi
    measure_loop "$@"
}

# With hyperfine (1.13 or later, for --shell=none: no shell start-up in the numbers).
measure_hyperfine() {
    local file=$1 n=$2
    "$hyperfine" --shell=none --runs "$n" --warmup 1 --style none --export-csv "$work/h.csv" \
        "$(printf '%q check %q' "$platc" "$file")" >/dev/null 2>"$work/h.err" || return 1
    # command,mean,stddev,median,user,system,min,max (seconds)
    awk -F, 'NR == 2 { printf "%.0f %.0f\n", $7 * 1e9, $4 * 1e9 }' "$work/h.csv"
}

# Without: a loop that reads bash's own clock around each run.
measure_loop() {
    local file=$1 n=$2 times=() i start end
    for ((i = 0; i < n; i++)); do
        start=${EPOCHREALTIME/[.,]/}000
        if ! "$platc" check "$file" >/dev/null 2>&1; then
            echo "error: platc check $file failed on run $((i + 1))" >&2
            exit 1
        fi
        end=${EPOCHREALTIME/[.,]/}000
        times+=($((end - start)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '
        { t[NR] = $1 }
        END {
            median = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
            printf "%.0f %.0f\n", t[1], median
        }'
}

# peak_rss FILE: prints the peak resident set size of one check, in KiB, or "n/a".
peak_rss() {
    if [[ -z $gnu_time ]]; then
        echo n/a
        return
    fi
    "$gnu_time" -f %M -o "$work/rss" "$platc" check "$1" >/dev/null 2>&1
    tail -n 1 "$work/rss"
}

inputs=()
labels=()
for n in $sizes; do
    file=$work/platform-$n.kdl
    "$gen" "$n" >"$file"
    inputs+=("$file")
    labels+=("generated, $n services")
done
inputs+=("$repo/platform.kdl")
labels+=("platform.kdl (repository)")

timer=${hyperfine:+hyperfine}
timer=${timer:-date loop}
echo "timing with $timer; peak RSS with ${gnu_time:-nothing (install the \`time\` package)}" >&2

# One table row: input, bytes, runs, best, median, peak RSS.
row() { printf '| %-26s | %9s | %4s | %9s | %11s | %14s |\n' "$@"; }

rows=()
for i in "${!inputs[@]}"; do
    file=${inputs[$i]}
    first=$(check_clean "$file")
    n=$runs
    if ((first > 2000000000)); then
        n=$slow_runs
    fi
    echo "measuring ${labels[$i]} ($n runs)…" >&2
    timing=$(measure "$file" "$n")
    read -r best median <<<"$timing"
    rss=$(peak_rss "$file")
    size=$(wc -c <"$file")
    rows+=("$(row "${labels[$i]}" "$size" "$n" "$(ms "$best")" "$(ms "$median")" "$rss")")
done

row input bytes runs "best (ms)" "median (ms)" "peak RSS (KiB)"
row "" "" "" "" "" "" | tr ' ' '-'
printf '%s\n' "${rows[@]}"

# `platc build` of every target: a fresh build into an empty directory, and a rebuild when
# out/ is already up to date (the pre-commit case), with the peak RSS of a fresh build.
# PLATC_TIMINGS splits one fresh build into stages (compile, emit, write).
echo >&2
echo "measuring platc build…" >&2
build_row() { printf '| %-26s | %4s | %11s | %11s | %13s | %14s | %s\n' "$@"; }
build_rows=()
for i in "${!inputs[@]}"; do
    file=${inputs[$i]}
    out=$work/out-$i
    n=$runs
    if (($(wc -c <"$file") > 2000000)); then
        n=$slow_runs
    fi
    fresh=() again=()
    for ((r = 0; r < n; r++)); do
        rm -rf "$out"
        start=${EPOCHREALTIME/[.,]/}000
        "$platc" build -f "$file" -o "$out" >/dev/null 2>&1 || { echo "error: build of $file failed" >&2; exit 1; }
        end=${EPOCHREALTIME/[.,]/}000
        fresh+=($((end - start)))
        start=${EPOCHREALTIME/[.,]/}000
        "$platc" build -f "$file" -o "$out" >/dev/null 2>&1
        end=${EPOCHREALTIME/[.,]/}000
        again+=($((end - start)))
    done
    best_fresh=$(printf '%s\n' "${fresh[@]}" | sort -n | head -n 1)
    best_again=$(printf '%s\n' "${again[@]}" | sort -n | head -n 1)
    files=$(find "$out" -type f | wc -l)
    rm -rf "$out"
    rss=n/a
    if [[ -n $gnu_time ]]; then
        "$gnu_time" -f %M -o "$work/rss" "$platc" build -f "$file" -o "$out" >/dev/null 2>&1
        rss=$(tail -n 1 "$work/rss")
    fi
    rm -rf "$out"
    stages=$(PLATC_TIMINGS=1 "$platc" build -f "$file" -o "$out" 2>&1 >/dev/null | awk '/^timing/ { printf "%s %.1f  ", $2, $3 }')
    build_rows+=("$(build_row "${labels[$i]}" "$n" "$(ms "$best_fresh")" "$(ms "$best_again")" "$files" "$rss" "$stages")")
done
echo
build_row input runs "fresh (ms)" "again (ms)" "files written" "peak RSS (KiB)" "stages of one fresh build (ms)"
build_row "" "" "" "" "" "" "" | tr ' ' '-'
printf '%s\n' "${build_rows[@]}"
