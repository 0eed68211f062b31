#!/usr/bin/env bash
# The table of issue 15's targets, measured side by side in one run (the machine is shared and
# noisy: each run of each input times every command back to back, and the table gives
# medians). Not a test, and not run in CI.
#
#   bench/targets.sh                    # 10, 100 and 1,000 services, 5 runs each
#   SIZES="10 100 1000 10000" RUNS=3 bench/targets.sh
#   CARGO_TARGET_DIR=/elsewhere/target NO_BUILD=1 bench/targets.sh   # time a built platc as is
#   SETTLE=5 bench/targets.sh           # seconds to wait after each run removes its trees (2)
#
# For each generated platform (examples/gen_platform.rs): `platc check`, `platc render`, a
# fresh `platc build` into an empty directory, a rebuild after one service's image tag changed
# (out/ present; written incrementally, only the changed files; it makes again only what the
# change reaches, from the record the fresh build kept in $PLATC_CACHE_DIR, here the run's own
# directory), `build --check` right after it (what the pre-commit hook pays after a build:
# decided by the stamps the rebuild kept), the same change undone without a record ("rebuild, no record": everything made
# again, as a build in another checkout does), and the file-system floor:
# examples/floor.rs creating the same files (same paths and sizes) as plainly as a program
# can. Beside them: `render` of the same platform without `grafana` (the cost of the
# dashboards, the only one of Helm, dashboards and pipelines that render prints: the charts
# and the Jenkins pipelines are files of `build`), and the fresh build's peak RSS (GNU time,
# Debian package `time`, where installed). For the repository's platform.kdl: `render` and
# `build --check`, what the pre-commit hook and the Argo CD plugin pay on every run.
#
# The peers, where installed, on the same services (bench/peers/services.py turns the
# generated platform into the values a hand-written setup keeps), whole process, output to
# /dev/null, in the same run loop:
#   jrsonnet   bench/peers/platform.jsonnet, 8 objects per service as one YAML stream. Found as
#              $JRSONNET, else `jrsonnet` on PATH. Install (a few minutes; crates.io has only
#              pre-releases, so name one):
#                cargo install jrsonnet --version 0.5.0-pre98 --locked -j 1 --root /work/tools/jrsonnet
#                JRSONNET=/work/tools/jrsonnet/bin/jrsonnet bench/targets.sh
#   helm       bench/peers/chart, the same 8 objects as a Helm chart, rendered by Helm v4's
#              engine as `helm template` does (bench/peers/helm_template.py; there is no helm
#              binary here: helm-python-sdk bundles Helm's Go SDK). Found as $HELM_PYTHON, a
#              Python that imports helm_python, else `python3` on PATH if it does. Install:
#                python3 -m venv /tmp/helm-venv && /tmp/helm-venv/bin/pip install helm-python-sdk
#                HELM_PYTHON=/tmp/helm-venv/bin/python bench/targets.sh
#              (conformance's venv has it: HELM_PYTHON=$CONFORMANCE_VENV/bin/python.)
# A peer that is not installed is skipped, and the run says so. Before timing, each peer's
# output is checked once per size to hold N x 8 objects, so a broken template cannot look fast.
# The ratios `jrsonnet / render` and `helm / render` are the peer's median over platc render's.
# They favour the peers: render prints every cluster object of the platform (at 1,000 services
# 15,081 objects, 46 MB), the peers 8 per service (8,000 objects, about 8 MB).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sizes=${SIZES:-"10 100 1000"}
runs=${RUNS:-5}
cd "$repo"
if [[ -z ${NO_BUILD:-} ]]; then
    echo "building release…" >&2
    cargo build --release --quiet --bin platc --example gen_platform --example floor
fi
target=${CARGO_TARGET_DIR:-$repo/target}
platc=$target/release/platc
gen=$target/release/examples/gen_platform
floor=$target/release/examples/floor
work=$(mktemp -d "${TMPDIR:-/tmp}/platc-targets.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The rebuild's records (`platc::rebuild`): the run's own, not the user's.
export PLATC_CACHE_DIR=$work/cache

# The peers: a path, or empty when not installed.
jrsonnet=${JRSONNET:-$(command -v jrsonnet || true)}
if [[ -n $jrsonnet && ! -x $jrsonnet ]]; then
    echo "error: JRSONNET=$jrsonnet is not an executable" >&2
    exit 1
fi
[[ -n $jrsonnet ]] || echo "jrsonnet: not installed (set JRSONNET=, see this script's header): skipped" >&2
helm_python=${HELM_PYTHON:-}
if [[ -z $helm_python ]] && python3 -c 'import helm_python' 2>/dev/null; then
    helm_python=$(command -v python3)
fi
if [[ -n $helm_python ]] && ! "$helm_python" -c 'import helm_python' 2>/dev/null; then
    echo "error: HELM_PYTHON=$helm_python cannot import helm_python" >&2
    exit 1
fi
[[ -n $helm_python ]] || echo "helm: helm-python-sdk not installed (set HELM_PYTHON=, see this script's header): skipped" >&2
peers=$repo/bench/peers

# The wall clock, in nanoseconds, as bash reads it itself (`$EPOCHREALTIME`, to the
# microsecond): `$(date +%s%N)` added a process start, about a millisecond, to each figure.
# Assigned with `start=${EPOCHREALTIME/[.,]/}000`, without a subshell.
# elapsed_ms CMD…: runs CMD (its output discarded) and prints its wall time in milliseconds.
elapsed_ms() {
    local start end
    start=${EPOCHREALTIME/[.,]/}000
    "$@" >/dev/null 2>&1 || { echo "error: $* failed" >&2; exit 1; }
    end=${EPOCHREALTIME/[.,]/}000
    awk -v ns=$((end - start)) 'BEGIN { printf "%.1f\n", ns / 1e6 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() { printf '| %-14s | %7s | %7s | %11s | %16s | %7s | %8s | %7s | %13s | %18s | %7s | %13s | %8s | %7s | %17s | %13s |\n' "$@"; }
# The peak RSS of a command, where GNU time is installed.
gnu_time=
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M true >/dev/null 2>&1; then
    gnu_time=/usr/bin/time
fi
[[ -n $gnu_time ]] || echo "GNU time not installed (Debian package time): no peak RSS" >&2
# objects FILE: the documents of a YAML stream (a top-level `kind:` each).
objects() { grep -c '^kind:' "$1" || true; }
# peer_check NAME N CMD…: runs CMD once and fails unless it prints N x 8 objects.
peer_check() {
    local name=$1 n=$2 got
    shift 2
    "$@" >"$work/peer.yaml" || { echo "error: $name failed: $*" >&2; exit 1; }
    got=$(objects "$work/peer.yaml")
    if ((got != n * 8)); then
        echo "error: $name rendered $got objects for $n services, want $((n * 8)): $*" >&2
        exit 1
    fi
}

echo
row input "check" "render" "render cold" "render / no-dash" "fresh" "fresh MB" "rebuild" "build --check" "rebuild, no record" "floor" "fresh / floor" "jrsonnet" "helm" "jrsonnet / render" "helm / render"
row "" "" "" "" "" "" "" "" "" "" "" "" "" "" "" "" | tr ' ' '-'
for n in $sizes; do
    file=$work/platform-$n.kdl
    "$gen" "$n" >"$file"
    # The one-service change: the first image tag, bumped. Built from the same file name as
    # the fresh build (`rebuilt`): the name is in every file's header, so another name would
    # change every file.
    changed=$work/changed-$n.kdl
    awk '!done && /tag="/ { sub(/tag="/, "tag=\"bench-"); done = 1 } { print }' "$file" >"$changed"
    # The same platform without dashboards: its `grafana` line dropped.
    nodash=$work/nodash-$n.kdl
    grep -v '^ *grafana *$' "$file" >"$nodash"
    if cmp -s "$file" "$nodash"; then
        echo "error: no grafana line to drop in $file" >&2
        exit 1
    fi
    rebuilt=$work/rebuilt-$n/platform-$n.kdl
    mkdir -p "$(dirname "$rebuilt")"
    : >"$work/check" ; : >"$work/render"; : >"$work/fresh"; : >"$work/rebuild"; : >"$work/floor"
    : >"$work/unrecorded"; : >"$work/outcheck"
    : >"$work/nodash"; : >"$work/rss"; : >"$work/cold"
    : >"$work/jrsonnet"; : >"$work/helm"
    jrsonnet_cmd=() helm_cmd=()
    if [[ -n $jrsonnet || -n $helm_python ]]; then
        values=$work/services-$n.json
        python3 "$peers/services.py" "$file" >"$values"
        [[ -z $jrsonnet ]] ||
            jrsonnet_cmd=("$jrsonnet" -S --tla-code-file "values=$values" "$peers/platform.jsonnet")
        [[ -z $helm_python ]] ||
            helm_cmd=("$helm_python" "$peers/helm_template.py" "$peers/chart" "$values")
        ((${#jrsonnet_cmd[@]} == 0)) || peer_check jrsonnet "$n" "${jrsonnet_cmd[@]}"
        ((${#helm_cmd[@]} == 0)) || peer_check helm "$n" "${helm_cmd[@]}"
    fi
    out=$work/out-$n
    for ((r = 0; r < runs; r++)); do
        # The process-only steps first, the file system settled: the previous run removed its
        # trees, synced and waited, since the freeing of 80,000 deleted files and the
        # write-back of a build's would otherwise run on the CPUs during them. Then one render
        # timed apart ("cold"): on a virtual machine that reports free pages to its host
        # (virtio-balloon free page reporting, as here), memory freed a second or two ago is
        # the host's again, and the first process to touch it pays a host fault per page
        # (render of 1,000 services: 340 ms cold, 130 ms right after another run). The steps
        # after it reuse the pages it freed, as back-to-back runs do.
        elapsed_ms "$platc" render -f "$file" >>"$work/cold"
        elapsed_ms "$platc" check "$file" >>"$work/check"
        elapsed_ms "$platc" render -f "$file" >>"$work/render"
        ((${#jrsonnet_cmd[@]} == 0)) || elapsed_ms "${jrsonnet_cmd[@]}" >>"$work/jrsonnet"
        ((${#helm_cmd[@]} == 0)) || elapsed_ms "${helm_cmd[@]}" >>"$work/helm"
        # Then the file system's steps, each starting synced.
        cp "$file" "$rebuilt"
        sync
        if [[ -n $gnu_time ]]; then
            # GNU time's own start is about a millisecond, nothing beside a fresh build.
            elapsed_ms "$gnu_time" -f %M -o "$work/rss-run" "$platc" build -f "$rebuilt" -o "$out" >>"$work/fresh"
            cat "$work/rss-run" >>"$work/rss"
        else
            elapsed_ms "$platc" build -f "$rebuilt" -o "$out" >>"$work/fresh"
        fi
        cp "$changed" "$rebuilt"
        sync
        elapsed_ms "$platc" build -f "$rebuilt" -o "$out" >>"$work/rebuild"
        # The pre-commit hook after that build: out/ checked against the changed input.
        elapsed_ms "$platc" build --check -f "$rebuilt" -o "$out" >>"$work/outcheck"
        # The change undone, with no record to read (nor one written: /dev/null holds none).
        cp "$file" "$rebuilt"
        sync
        PLATC_CACHE_DIR=/dev/null elapsed_ms "$platc" build -f "$rebuilt" -o "$out" >>"$work/unrecorded"
        sync
        "$floor" "$out" "$work/floor-$n" >>"$work/floor"
        rm -rf "$out" "$work/floor-$n"
        sync
        sleep "${SETTLE:-2}"
    done
    # The dashboards' cost: render with and without them, back to back, away from the file
    # system's steps (whose background work, this close, skewed the pair by up to 1.6x).
    : >"$work/dash"
    for ((r = 0; r < runs * 2; r++)); do
        elapsed_ms "$platc" render -f "$file" >>"$work/dash"
        elapsed_ms "$platc" render -f "$nodash" >>"$work/nodash"
    done
    render=$(median <"$work/render")
    fresh=$(median <"$work/fresh")
    floor_ms=$(median <"$work/floor" | awk '{ printf "%.1f", $1 }')
    jrsonnet_ms=- helm_ms=- jrsonnet_ratio=- helm_ratio=-
    if [[ -s $work/jrsonnet ]]; then
        jrsonnet_ms=$(median <"$work/jrsonnet")
        jrsonnet_ratio=$(ratio "$jrsonnet_ms" "$render")
    fi
    if [[ -s $work/helm ]]; then
        helm_ms=$(median <"$work/helm")
        helm_ratio=$(ratio "$helm_ms" "$render")
    fi
    rss_mb=-
    [[ ! -s $work/rss ]] || rss_mb=$(median <"$work/rss" | awk '{ printf "%.0f", $1 / 1024 }')
    row "$n services" "$(median <"$work/check")" "$render" "$(median <"$work/cold")" "$(ratio "$(median <"$work/dash")" "$(median <"$work/nodash")")" \
        "$fresh" "$rss_mb" "$(median <"$work/rebuild")" "$(median <"$work/outcheck")" "$(median <"$work/unrecorded")" "$floor_ms" "$(ratio "$fresh" "$floor_ms")" \
        "$jrsonnet_ms" "$helm_ms" "$jrsonnet_ratio" "$helm_ratio"
done

: >"$work/render"; : >"$work/buildcheck"
# The hook runs after a build: out/ is committed up to date, so this build writes nothing in
# it, but keeps this platc's record (and, where it can, the stamps) in the cache.
"$platc" build >/dev/null 2>&1 || { echo "error: platc build of platform.kdl failed" >&2; exit 1; }
for ((r = 0; r < runs; r++)); do
    elapsed_ms "$platc" render -f platform.kdl >>"$work/render"
    elapsed_ms "$platc" build --check >>"$work/buildcheck"
done
echo
echo "platform.kdl (whole process, ms): render $(median <"$work/render"), build --check $(median <"$work/buildcheck")"
echo "times in ms, medians of $runs runs; the floor times file creation alone (bytes ready, one thread);"
echo "render cold: the first render after the previous run's trees were removed (see the loop's comment);"
echo "render / no-dash: render over render of the same platform without grafana, back to back ($((runs * 2)) runs each); fresh MB: the fresh build's peak RSS;"
echo "jrsonnet and helm: the peers' 8 objects per service, whole process (- where not installed)"
