#!/usr/bin/env bash
# The hooks of .pre-commit-hooks.yaml, run by the real pre-commit (PyPI, pinned in
# conformance/precommit-requirements.txt) as a user's repository runs them: `pre-commit
# try-repo THIS_REPOSITORY HOOK --all-files` in a scratch git repository holding the platform
# `platc init` writes, built by `platc build` and committed.
#
#   1. clean: platc-check-system and platc-build-check-system pass;
#   2. broken (a call to a service that is not declared): platc-check-system fails, and its
#      output names the diagnostic, platc::unknown-service;
#   3. stale (platform.kdl changed, out/ not rebuilt): platc-build-check-system fails and shows
#      the difference, while platc-check-system passes;
#   4. when this platc has `platc fmt`: the platform init writes is formatted already; an
#      unformatted one fails platc-fmt-system, which rewrites it, and the next run passes;
#   5. `language: rust`: platc-check, once, with pre-commit building platc itself
#      (`cargo install --bins --path .` of this repository into the hook's environment), timed.
#
# The -system hooks run this repository's release platc (target/release/platc, built when
# missing), put on PATH.
#
# try-repo reads the hooks of this repository's HEAD commit, plus the changes to its tracked
# files and its staged files (pre-commit makes a temporary commit of them); a file git does not
# track yet, such as a new .pre-commit-hooks.yaml before `git add`, is not seen. CI's clone is
# clean, so there it runs exactly what is committed.
#
#   bash conformance/precommit.sh
#
# Environment (all optional):
#   PYTHON=python3               interpreter for the virtualenv (3.11 or newer, for pre-commit 4.7)
#   PRECOMMIT_VENV=DIR           virtualenv location (default: .venv-precommit at the repo root)
#   PRECOMMIT_RUST=0             skip step 5 (the build of platc by pre-commit, minutes)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PY="${PYTHON:-python3}"
VENV="${PRECOMMIT_VENV:-$ROOT/.venv-precommit}"
REQ="conformance/precommit-requirements.txt"
STAMP="$VENV/.precommit-stamp"

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nprecommit: FAIL: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/precommit.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# ------------------------------------------------------------------------------------------------
step "pre-commit (virtualenv $VENV)"
command -v "$PY" >/dev/null 2>&1 || die "no $PY on PATH (set PYTHON=...)"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "$("$PY" --version 2>&1) is too old: pre-commit 4.7 needs Python 3.11 or newer"
want_stamp="$({ cat "$REQ"; "$PY" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
if [[ -f $STAMP && "$(cat "$STAMP")" == "$want_stamp" && -x $VENV/bin/pre-commit ]]; then
    echo "reusing the virtualenv: $REQ unchanged"
else
    echo "creating the virtualenv and installing $REQ"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV" || die "$PY -m venv $VENV failed (Debian: apt-get install python3-venv)"
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        "$VENV/bin/python" -m pip install --quiet --requirement "$REQ" \
        || die "pip install -r $REQ failed"
    echo "$want_stamp" >"$STAMP"
fi
PRE_COMMIT="$VENV/bin/pre-commit"
"$PRE_COMMIT" --version

PLATC="$ROOT/target/release/platc"
if [[ ! -x $PLATC ]]; then
    cargo build --locked --release
fi
mkdir -p "$WORK/bin"
ln -s "$PLATC" "$WORK/bin/platc"
SYSTEM_PATH="$WORK/bin:$PATH"

# A scratch repository of a user: the minimal platform, built, committed.
SCRATCH="$WORK/shop"
git init -q "$SCRATCH"
git -C "$SCRATCH" config user.email ci@example.com
git -C "$SCRATCH" config user.name CI
git -C "$SCRATCH" config commit.gpgsign false
(cd "$SCRATCH" && "$PLATC" init && "$PLATC" build) || die "platc init && platc build failed"
commit() { git -C "$SCRATCH" add -A && git -C "$SCRATCH" commit -q -m "$1"; }
commit "a platform"

FAILED=0
# hook EXPECTED NAME [PATH]: runs one hook of this repository on every file of the scratch
# repository; its output is in $WORK/out.
hook() {
    local expected="$1" id="$2" path="${3:-$SYSTEM_PATH}" rc=0
    (cd "$SCRATCH" && PATH="$path" "$PRE_COMMIT" try-repo "$ROOT" "$id" --all-files --color never) \
        >"$WORK/out" 2>&1 || rc=$?
    # What the hook printed, after pre-commit's banner of the configuration it made.
    sed -n '/^\[INFO\]/,$p' "$WORK/out" | grep -v '^\[INFO\]' >"$WORK/shown" || true
    head -n 30 "$WORK/shown" | sed -e 's/^/  | /'
    local more=$(($(wc -l <"$WORK/shown") - 30))
    [[ $more -le 0 ]] || echo "  | … $more more lines"
    if [[ $expected == pass && $rc -ne 0 ]] || [[ $expected == fail && $rc -eq 0 ]]; then
        sed -e 's/^/  ! /' "$WORK/out" | tail -n 40
        echo "  FAIL: $id should $expected, and exits $rc"
        FAILED=1
    else
        echo "  ok: $id should $expected, and exits $rc"
    fi
}
# shows TEXT: the last hook's output holds TEXT.
shows() {
    if grep -qF -- "$1" "$WORK/out"; then
        echo "  ok: the output shows $1"
    else
        echo "  FAIL: the output does not show $1"
        FAILED=1
    fi
}

# ------------------------------------------------------------------------------------------------
step "1. a clean platform passes"
hook pass platc-check-system
hook pass platc-build-check-system

step "2. a call to an undeclared service fails platc-check with its code"
cp "$SCRATCH/platform.kdl" "$WORK/clean.kdl"
sed -i 's/calls cart env=/calls carts env=/' "$SCRATCH/platform.kdl"
grep -q 'calls carts' "$SCRATCH/platform.kdl" || die "the minimal platform has no \`calls cart\` to break"
commit "a broken platform"
hook fail platc-check-system
shows "platc::unknown-service"
shows "Did you mean \`cart\`?"

step "3. a stale out/ fails platc-build-check"
cp "$WORK/clean.kdl" "$SCRATCH/platform.kdl"
sed -i 's|image "ghcr.io/acme/cart" tag="v1.0.0"|image "ghcr.io/acme/cart" tag="v1.0.1"|' "$SCRATCH/platform.kdl"
grep -q 'tag="v1.0.1"' "$SCRATCH/platform.kdl" || die "the minimal platform has no cart image to change"
commit "a new cart image, out/ not rebuilt"
hook pass platc-check-system
hook fail platc-build-check-system
shows "out is stale"
shows '+        - image: "ghcr.io/acme/cart:v1.0.1"'
(cd "$SCRATCH" && "$PLATC" build >/dev/null 2>&1) || die "platc build failed"
commit "out/ rebuilt"
hook pass platc-build-check-system

step "4. platc-fmt"
if "$PLATC" fmt --help >/dev/null 2>&1; then
    (cd "$SCRATCH" && "$PLATC" fmt --check platform.kdl) \
        || { echo "  FAIL: the platform platc init writes is not formatted"; FAILED=1; }
    # Unformatted: a service's line indented too far, two spaces inside a line.
    sed -i -e 's/^    service cart {/            service cart {/' -e 's/ tag="v1.0.1"/  tag="v1.0.1"/' \
        "$SCRATCH/platform.kdl"
    cp "$SCRATCH/platform.kdl" "$WORK/unformatted.kdl"
    commit "an unformatted platform"
    hook fail platc-fmt-system
    if cmp -s "$SCRATCH/platform.kdl" "$WORK/unformatted.kdl"; then
        echo "  FAIL: platc-fmt did not rewrite platform.kdl"
        FAILED=1
    else
        echo "  ok: platc-fmt rewrote platform.kdl"
    fi
    commit "formatted"
    hook pass platc-fmt-system
    hook pass platc-check-system
    hook pass platc-build-check-system
else
    echo "  skipped: this platc has no \`platc fmt\`"
fi

step "5. language: rust (pre-commit builds platc itself)"
if [[ ${PRECOMMIT_RUST:-1} == 0 ]]; then
    echo "  skipped (PRECOMMIT_RUST=0)"
else
    t=$(now)
    # Without the release platc on PATH: the hook runs the one pre-commit built.
    hook pass platc-check "$PATH"
    echo "  (language: rust, with its build: $(($(now) - t))s)"
fi

step "summary"
if [[ $FAILED -ne 0 ]]; then
    die "a hook did not do what it should (see above)"
fi
echo "precommit: PASS"
