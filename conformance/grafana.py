"""The Grafana dashboards platc writes, checked against Grafana's own schemas and with real
tools. For every tree given (a build's out/, a golden tree, an environment's tree), every
monitoring/grafana/*.json:

  - validates against grafana-foundation-sdk's dashboard schema (the classic dashboard JSON,
    `schemaVersion` 41, not the v2 "kind" shape: SOURCE_COMMIT in the schema directory), and
    every panel query against its Prometheus dataquery schema;
  - has a uid Grafana accepts (at most 40 of [a-zA-Z0-9_-]), unique in the tree, a title
    unique in its folder, and every dashboard link `/d/<uid>` names a dashboard of the tree;
  - has unique panel ids, grid positions inside the 24 columns that never overlap, a
    non-empty `expr` in every query, and no variable used (`$x`, `${x}`, `[[x]]`) that
    `templating.list` does not define or Grafana does not provide (`$__…`);
  - has only expressions Prometheus parses: each, with the variables replaced by sample
    values, becomes a recording rule of a temporary rules file that `promtool check rules`
    must accept;

and the dashboard's ConfigMap (monitoring/services/*/configmap-dashboard.yaml,
monitoring/platform/configmap-dashboard-*.yaml) holds exactly the file's bytes, carries the
label and folder annotation the stack's Grafana sidecar is pinned to (read from the tree's
helm/addons/kube-prometheus-stack.values.yaml), and stays below the 256 KiB that
`kubectl apply` can keep in its last-applied annotation.

    python conformance/grafana.py TREE...

Environment: GRAFANA_SCHEMAS (default ../shared/schemas/grafana), PROMTOOL (default promtool).
Exit 0 when every tree passes.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Iterator

import jsonschema
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = os.environ.get("GRAFANA_SCHEMAS", os.path.join(ROOT, "..", "shared", "schemas", "grafana"))
PROMTOOL = os.environ.get("PROMTOOL", "promtool")
GRID_COLUMNS = 24
MAX_UID = 40
UID = re.compile(r"^[a-zA-Z0-9_-]+$")
# kubectl's client-side apply copies the object into an annotation; all annotations of an
# object together may not pass 256 KiB. Leave room for the rest of the object's metadata.
MAX_CONFIGMAP_BYTES = 250 * 1024
# `$x`, `${x}`, `${x:fmt}`, `${x.path}`, `[[x]]`, `[[x:fmt]]`, as Grafana's template service reads them.
VARIABLE = re.compile(r"\$\{([A-Za-z0-9_.]+)(?:[:.][^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_.]+)(?::[^\]]*)?\]\]")
# Sample values for Grafana's own variables inside an expression.
BUILT_IN_SAMPLES = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
}

# The two places where the generated schema narrows Grafana's CUE: `DynamicConfigValue.value`
# and `MatcherConfig.options` are `_` (any value) in Grafana's dashboard kind, and the
# generator wrote "any object"; Grafana's own panels write strings, numbers, booleans and
# arrays there (`"unit": "reqps"`, `byName` matchers). Only these two are widened.
WIDENED = (("DynamicConfigValue", "value"), ("MatcherConfig", "options"))


def load_schemas() -> tuple[Any, Any]:
    with open(os.path.join(SCHEMAS, "dashboard.jsonschema.json"), encoding="utf-8") as f:
        dashboard = json.load(f)
    with open(os.path.join(SCHEMAS, "prometheus.jsonschema.json"), encoding="utf-8") as f:
        prometheus = json.load(f)
    for definition, prop in WIDENED:
        node = dashboard["definitions"][definition]["properties"][prop]
        if node.get("type") != "object":
            sys.exit(f"grafana: the schema's {definition}.{prop} is no longer 'object': review WIDENED")
        description = node.get("description", "")
        dashboard["definitions"][definition]["properties"][prop] = {"description": description}
    cls = jsonschema.validators.validator_for(dashboard)
    cls.check_schema(dashboard)
    pcls = jsonschema.validators.validator_for(prometheus)
    pcls.check_schema(prometheus)
    return cls(dashboard), pcls(prometheus)


def panels(dashboard: dict) -> Iterator[dict]:
    """Every panel, rows' panels included."""
    for panel in dashboard.get("panels") or []:
        yield panel
        yield from panel.get("panels") or []


def strings(value: Any, at: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, f"{at}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings(v, f"{at}/{i}")
    elif isinstance(value, str):
        yield at, value


def used_variables(text: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in VARIABLE.finditer(text)]


def defined_variables(dashboard: dict) -> dict[str, dict]:
    return {v.get("name"): v for v in (dashboard.get("templating") or {}).get("list") or []}


def sample_value(variable: dict) -> str:
    """What Grafana puts in an expression for a variable, in a form promtool parses."""
    kind = variable.get("type")
    if kind in ("query", "custom"):
        return ".+" if variable.get("multi") or variable.get("includeAll") else "sample"
    if kind == "interval":
        return "5m"
    if kind == "constant":
        return str(variable.get("query", ""))
    if kind == "datasource":
        return variable.get("query") or "prometheus"
    current = variable.get("current") or {}
    value = current.get("value")
    return value if isinstance(value, str) else "sample"


def substitute(expr: str, defined: dict[str, dict]) -> str:
    def repl(m: re.Match) -> str:
        name = next(g for g in m.groups() if g)
        if name in BUILT_IN_SAMPLES:
            return BUILT_IN_SAMPLES[name]
        if name in defined:
            return sample_value(defined[name])
        return m.group(0)

    return VARIABLE.sub(repl, expr)


def overlaps(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def check_dashboard(path: str, board: dict, validators: tuple[Any, Any], problems: list[str], rules: list[dict]) -> None:
    dashboard_validator, query_validator = validators
    for error in sorted(dashboard_validator.iter_errors(board), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"{path}: schema: at /{where}: {error.message[:300]}")
    if board.get("schemaVersion") != 41:
        problems.append(f"{path}: schemaVersion {board.get('schemaVersion')}, want 41 (Grafana 12.1)")
    defined = defined_variables(board)
    for at, text in strings(board):
        for name in used_variables(text):
            if name not in defined and not name.startswith("__"):
                problems.append(f"{path}: {at} uses ${name}, which templating.list does not define")
    ids: dict[int, str] = {}
    placed: list[tuple[str, dict]] = []
    for panel in panels(board):
        label = f"panel {panel.get('id')} ({panel.get('title')!r})"
        pid = panel.get("id")
        if pid in ids:
            problems.append(f"{path}: {label}: id {pid} is also {ids[pid]}'s")
        ids[pid] = label
        pos = panel.get("gridPos")
        if pos is None:
            problems.append(f"{path}: {label}: no gridPos")
        else:
            if pos["x"] + pos["w"] > GRID_COLUMNS:
                problems.append(f"{path}: {label}: x {pos['x']} + w {pos['w']} passes the {GRID_COLUMNS} columns")
            for other, opos in placed:
                if overlaps(pos, opos):
                    problems.append(f"{path}: {label} overlaps {other}")
            placed.append((label, pos))
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{path}: {label}: no query")
        for target in targets:
            ref = target.get("refId")
            for error in query_validator.iter_errors(target):
                problems.append(f"{path}: {label} query {ref}: prometheus schema: {error.message[:300]}")
            expr = target.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                problems.append(f"{path}: {label} query {ref}: empty expr")
                continue
            rules.append({
                "record": f"grafana_check:{len(rules)}",
                "expr": substitute(expr, defined),
                "_where": f"{path}: {label} query {ref}",
            })


def expected_sidecar(tree: str) -> tuple[str, str, str] | None:
    """(label, value, folder annotation) the tree pins the stack's Grafana sidecar to."""
    path = os.path.join(tree, "helm", "addons", "kube-prometheus-stack.values.yaml")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        values = yaml.safe_load(f) or {}
    dashboards = (((values.get("grafana") or {}).get("sidecar") or {}).get("dashboards")) or {}
    try:
        return str(dashboards["label"]), str(dashboards["labelValue"]), str(dashboards["folderAnnotation"])
    except KeyError:
        return None


def config_maps(tree: str) -> Iterator[tuple[str, dict, int]]:
    patterns = ("monitoring/services/*/configmap-dashboard.yaml", "monitoring/platform/configmap-dashboard-*.yaml")
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(tree, pattern))):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            yield path, yaml.safe_load(text), len(text.encode("utf-8"))


def check_tree(tree: str, validators: tuple[Any, Any], sizes: list[tuple[int, str]]) -> tuple[list[str], list[dict], int]:
    problems: list[str] = []
    rules: list[dict] = []
    files = sorted(glob.glob(os.path.join(tree, "monitoring", "grafana", "*.json")))
    texts: dict[str, str] = {}
    boards: dict[str, dict] = {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        texts[os.path.basename(path)] = text
        sizes.append((len(text.encode("utf-8")), path))
        try:
            boards[path] = json.loads(text)
        except json.JSONDecodeError as e:
            problems.append(f"{path}: not JSON: {e}")
    uids: dict[str, str] = {}
    for path, board in boards.items():
        uid = board.get("uid", "")
        if not isinstance(uid, str) or not UID.match(uid) or len(uid) > MAX_UID:
            problems.append(f"{path}: uid {uid!r} is not 1 to {MAX_UID} of [a-zA-Z0-9_-]")
        if uid in uids:
            problems.append(f"{path}: uid {uid!r} is also {uids[uid]}'s")
        uids[uid] = path
        check_dashboard(path, board, validators, problems, rules)
    for path, board in boards.items():
        for link in board.get("links") or []:
            url = link.get("url") or ""
            if url.startswith("/d/") and url[3:].split("?")[0] not in uids:
                problems.append(f"{path}: link {link.get('title')!r} to {url}: no dashboard of the tree has that uid")
    # The ConfigMaps: one per dashboard, the same bytes, the sidecar's label and folder.
    sidecar = expected_sidecar(tree)
    if files and sidecar is None:
        problems.append(f"{tree}: no helm/addons/kube-prometheus-stack.values.yaml pins the Grafana sidecar")
    carried: dict[str, str] = {}
    titles: dict[tuple[str, str], str] = {}
    for path, obj, size in config_maps(tree):
        if size > MAX_CONFIGMAP_BYTES:
            problems.append(f"{path}: {size} bytes, above the {MAX_CONFIGMAP_BYTES} kubectl apply can annotate")
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        annotations = meta.get("annotations") or {}
        folder = ""
        if sidecar:
            label, value, annotation = sidecar
            if labels.get(label) != value:
                problems.append(f"{path}: label {label}={labels.get(label)!r}, the sidecar loads {label}={value!r}")
            folder = annotations.get(annotation, "")
            if not folder:
                problems.append(f"{path}: no {annotation} annotation: the dashboard would have no folder")
        data = obj.get("data") or {}
        if len(data) != 1:
            problems.append(f"{path}: {len(data)} data keys, want one dashboard")
        for key, text in data.items():
            if key in carried:
                problems.append(f"{path}: {key} is also in {carried[key]}")
            carried[key] = path
            if key not in texts:
                problems.append(f"{path}: {key} has no monitoring/grafana/{key}")
            elif texts[key] != text:
                problems.append(f"{path}: {key} differs from monitoring/grafana/{key}")
            else:
                title = json.loads(text).get("title", "")
                if (folder, title) in titles:
                    problems.append(f"{path}: title {title!r} is also {titles[(folder, title)]}'s in folder {folder!r}")
                titles[(folder, title)] = path
    for key in sorted(set(texts) - set(carried)):
        problems.append(f"{tree}/monitoring/grafana/{key}: no ConfigMap carries it")
    return problems, rules, len(files)


def promtool(rules: list[dict]) -> list[str]:
    """`promtool check rules` over every expression; the problems it reports."""
    if not rules:
        return []
    exe = shutil.which(PROMTOOL)
    if exe is None:
        return [f"no {PROMTOOL} on PATH (Debian package `prometheus`)"]
    where = {r["record"]: r["_where"] for r in rules}
    doc = {"groups": [{"name": "grafana-dashboards", "rules": [{"record": r["record"], "expr": r["expr"]} for r in rules]}]}
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "dashboards.rules.yaml")
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(doc, f, width=1 << 30)
        proc = subprocess.run([exe, "check", "rules", path], capture_output=True, text=True)
    if proc.returncode == 0:
        return []
    problems = []
    for line in (proc.stdout + proc.stderr).splitlines():
        m = re.search(r"grafana_check:\d+", line)
        if m:
            problems.append(f"{where.get(m.group(0), '?')}: promtool: {line.strip()}")
        elif line.strip() and not line.startswith(("Checking ", "  FAILED:", "FAILED:")):
            problems.append(f"promtool: {line.strip()}")
    return problems or [f"promtool exited {proc.returncode}"]


def main(argv: list[str]) -> int:
    validators = load_schemas()
    print(f"  schemas: {SCHEMAS} (dashboard: classic JSON; widened to any value, as Grafana's CUE has them: "
          + ", ".join(f"{d}.{p}" for d, p in WIDENED) + ")")
    problems: list[str] = []
    rules: list[dict] = []
    sizes: list[tuple[int, str]] = []
    total = 0
    for tree in argv:
        tree = tree.rstrip("/")
        tree_problems, tree_rules, count = check_tree(tree, validators, sizes)
        total += count
        if count:
            print(f"--- {tree}: {count} dashboards, {len(tree_rules)} queries, {len(tree_problems)} problems")
        problems.extend(tree_problems)
        rules.extend(tree_rules)
    problems.extend(promtool(rules))
    if sizes:
        size, path = max(sizes)
        print(f"  largest dashboard: {path}, {size} bytes")
    for p in problems:
        print(f"  ✗ {p}")
    print(f"grafana: {'PASS' if not problems else 'FAIL'} ({len(argv)} trees, {total} dashboards, "
          f"{len(rules)} expressions through promtool, {len(problems)} problems)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
