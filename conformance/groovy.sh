#!/usr/bin/env bash
# Groovy's own parser on every Jenkinsfile and Job DSL script platc wrote (jenkins/ of out/ and of
# every golden tree, environments included): npm-groovy-lint 16 (pinned by
# conformance/groovy/package-lock.json) hands each file to Groovy's compiler (CodeNarc on the
# system's Java 17, Debian's openjdk-17-jre-headless). A file that does not parse fails the step;
# style findings (line length, nesting) are reported by the linter's own rules and do not.
# First, a broken copy of a pipeline must fail, so a parser that never runs cannot pass.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
die() { printf 'groovy: FAIL: %s\n' "$*" >&2; exit 1; }

if ! command -v java >/dev/null 2>&1; then
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
        || die "no java, and apt-get could not install openjdk-17-jre-headless"
fi
java -version 2>&1 | head -1
if ! cmp -s conformance/groovy/package-lock.json conformance/groovy/node_modules/.package-lock.json 2>/dev/null; then
    npm ci --prefix conformance/groovy --no-audit --no-fund --loglevel=error || die "npm ci in conformance/groovy failed"
fi
LINT="$ROOT/conformance/groovy/node_modules/.bin/npm-groovy-lint"

mapfile -t FILES < <(find out golden -path '*/jenkins/*' \( -name Jenkinsfile -o -name '*.groovy' \) -type f | sort)
(( ${#FILES[@]} > 0 )) || die "no Jenkinsfile or Job DSL script under out/ or golden/"
echo "${#FILES[@]} files"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/groovy.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

lint() { # lint JSON_OUT FILE... ; prints "<errors> <files linted>"
    local out=$1; shift
    (cd "$WORK" && "$LINT" --noserver --parse --loglevel error --failon none -o json "$@") > "$out" 2>"$out.err" \
        || die "npm-groovy-lint did not run: $(tail -5 "$out.err")"
    python3 - "$out" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
errors = 0
for name, result in sorted(report["files"].items()):
    for e in result["errors"]:
        if e["severity"] == "error":
            errors += 1
            print(f"  {name}:{e.get('line', '?')}: {e['rule']}: {e['msg'].strip()}", file=sys.stderr)
print(errors, report["summary"]["totalFilesLinted"])
PY
}

# The control: a pipeline with one brace missing must not parse.
head -n -1 "${FILES[0]}" > "$WORK/Broken.groovy"
read -r errors linted < <(lint "$WORK/control.json" "$WORK/Broken.groovy" 2>/dev/null)
[[ $errors -ge 1 ]] || die "a Jenkinsfile with a brace missing parsed: the parser did not run"
echo "control: a broken copy of ${FILES[0]} is refused"

read -r errors linted < <(lint "$WORK/report.json" "${FILES[@]/#/$ROOT/}")
[[ $linted -eq ${#FILES[@]} ]] || die "linted $linted of ${#FILES[@]} files"
[[ $errors -eq 0 ]] || die "$errors errors in the Groovy platc wrote"
echo "groovy: PASS: ${#FILES[@]} files parse"
