"""The Helm charts platc writes, checked with Helm's own engine (helm-python-sdk bundles
Helm v4's Go SDK; no helm binary). For every tree given (a build's out/, a golden tree):

  - every service chart (helm/<service>/) lints with no error;
  - rendered with its default values, it gives exactly the plain objects of the tree with
    the same identities, field for field, one per template;
  - rendered with one value overridden, exactly the fields that value names change;
  - a value of the wrong type, or an unknown key, is refused by values.schema.json;
  - the umbrella chart (helm/<platform>/, the chart with dependencies), its dependencies
    fetched from file://, renders the tree's whole set of cluster objects, field for field.

    python conformance/helm.py TREE...

Exit 0 when every tree passes.
"""

from __future__ import annotations

import copy
import os
import shutil
import sys
import tempfile
from typing import Any

import helm_python as helm
import yaml


def key(obj: dict) -> tuple:
    meta = obj.get("metadata") or {}
    return (obj.get("apiVersion"), obj.get("kind"), meta.get("namespace") or "", meta.get("name"))


def plain_objects(tree: str) -> dict[tuple, dict]:
    """Every cluster object of the tree outside helm/ (and outside env/ for a whole build)."""
    out: dict[tuple, dict] = {}
    for top in ("kubernetes", "istio", "rollouts", "monitoring"):
        for dirpath, _, files in os.walk(os.path.join(tree, top)):
            for name in sorted(files):
                if not name.endswith(".yaml"):
                    continue
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    for doc in yaml.safe_load_all(f):
                        # monitoring/ also holds files that are no cluster object.
                        if isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind"):
                            out[key(doc)] = doc
    return out


def rendered(files: dict[str, str]) -> list[dict]:
    docs = []
    for path, text in sorted(files.items()):
        if path.endswith("NOTES.txt") or not text.strip():
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def leaves(value: Any, at: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(leaves(v, f"{at}/{k}"))
        return out or {at: {}}
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(leaves(v, f"{at}/{i}"))
        return out or {at: []}
    return {at: value}


def changed(before: list[dict], after: list[dict]) -> list[tuple[str, Any, Any]]:
    b = {key(d): leaves(d) for d in before}
    a = {key(d): leaves(d) for d in after}
    out = []
    for k in sorted(set(a) | set(b), key=str):
        lb, la = b.get(k, {}), a.get(k, {})
        for p in sorted(set(la) | set(lb)):
            if lb.get(p) != la.get(p):
                out.append((f"{k[1]}/{k[3]}{p}", lb.get(p), la.get(p)))
    return out


def overrides(values: dict) -> list[tuple[dict, Any]]:
    """A few single-value overrides the chart's values allow, each with the value it sets."""
    out: list[tuple[dict, Any]] = []
    if "image" in values and "tag" in values["image"]:
        out.append(({"image": {"tag": "platc-override"}}, "platc-override"))
    if "replicaCount" in values:
        out.append(({"replicaCount": values["replicaCount"] + 7}, values["replicaCount"] + 7))
    if "resources" in values and "cpu" in values["resources"].get("requests", {}):
        out.append(({"resources": {"requests": {"cpu": "333m"}}}, "333m"))
    if "autoscaling" in values:
        m = values["autoscaling"]["maxReplicas"] + 5
        out.append(({"autoscaling": {"maxReplicas": m}}, m))
    if values.get("env"):
        variable = sorted(values["env"])[0]
        out.append(({"env": {variable: "platc-override"}}, "platc-override"))
    if "canary" in values and values["canary"]["weights"]:
        weights = list(values["canary"]["weights"])
        weights[0] = 7
        out.append(({"canary": {"weights": weights}}, 7))
    return out


def merged(values: dict, override: dict) -> dict:
    out = copy.deepcopy(values)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merged(out[k], v)
        else:
            out[k] = v
    return out


def refused(chart: Any, values: dict) -> bool:
    try:
        chart.render(values)
    except helm.HelmValuesError:
        return True
    return False


def check_service_chart(path: str, plain: dict[tuple, dict], problems: list[str]) -> int:
    name = os.path.basename(path)
    report = helm.lint(path)
    for message in report.get("messages") or []:
        if message.get("severity") == 3:
            problems.append(f"{path}: lint: {message.get('error')}")
    templates = [
        f for f in os.listdir(os.path.join(path, "templates"))
        if f.endswith(".yaml")
    ]
    with open(os.path.join(path, "values.yaml"), encoding="utf-8") as f:
        values = yaml.safe_load(f) or {}
    with helm.Chart.load(path) as chart:
        default = rendered(chart.render())
        if len(default) != len(templates):
            problems.append(f"{path}: {len(templates)} templates rendered {len(default)} objects")
        for obj in default:
            want = plain.get(key(obj))
            if want is None:
                problems.append(f"{path}: renders {key(obj)}, which the plain manifests lack")
            elif want != obj:
                diff = changed([want], [obj])
                problems.append(f"{path}: {key(obj)} differs from the plain manifest: {diff[:3]}")
        for override, expected in overrides(values):
            after = rendered(chart.render(merged(values, override)))
            diff = changed(default, after)
            if not diff:
                problems.append(f"{path}: overriding {override} changed nothing")
            for field, _, new in diff:
                if not (new == expected or (isinstance(new, str) and new.endswith(f":{expected}"))):
                    problems.append(f"{path}: overriding {override} changed {field} to {new!r}")
        bad_type = merged(values, {"image": {"repository": 5}}) if "image" in values else {"bogus": 1}
        if not refused(chart, bad_type):
            problems.append(f"{path}: a value of the wrong type was accepted")
        if not refused(chart, merged(values, {"platcUnknownKey": 1})):
            problems.append(f"{path}: an unknown key was accepted")
        if "resources" in values and "cpu" in values["resources"].get("requests", {}):
            if not refused(chart, merged(values, {"resources": {"requests": {"cpu": "lots"}}})):
                problems.append(f"{path}: a cpu request that is no quantity was accepted")
        if values.get("env"):
            variable = sorted(values["env"])[0]
            if refused(chart, merged(values, {"env": {variable: ""}})):
                problems.append(f"{path}: an empty env value was refused")
    print(f"  {name}: lint, {len(default)} objects as plain, {len(overrides(values))} overrides, schema refusals")
    return len(default)


def check_umbrella(path: str, plain: dict[tuple, dict], problems: list[str]) -> None:
    with tempfile.TemporaryDirectory() as work:
        # dependency_update writes charts/ and Chart.lock: on a copy, never in the tree.
        helm_dir = os.path.join(work, "helm")
        shutil.copytree(os.path.dirname(path), helm_dir)
        umbrella = os.path.join(helm_dir, os.path.basename(path))
        helm.dependency_update(umbrella)
        missing = [d for d in helm.dependency_list(umbrella) if d.get("status") != "ok"]
        if missing:
            problems.append(f"{path}: dependencies not resolved: {missing}")
        with helm.Chart.load(umbrella) as chart:
            docs = rendered(chart.render())
    got = {key(d): d for d in docs}
    if len(got) != len(docs):
        problems.append(f"{path}: the umbrella renders an object twice")
    for k in sorted(set(plain) - set(got), key=str):
        problems.append(f"{path}: the umbrella lacks {k}")
    for k in sorted(set(got) - set(plain), key=str):
        problems.append(f"{path}: the umbrella renders {k}, which the plain manifests lack")
    for k in sorted(set(got) & set(plain), key=str):
        if got[k] != plain[k]:
            problems.append(f"{path}: {k} differs from the plain manifest")
    print(f"  {os.path.basename(path)} (umbrella): {len(docs)} objects, the whole tree's {len(plain)}")


def check_tree(tree: str) -> list[str]:
    problems: list[str] = []
    charts_dir = os.path.join(tree, "helm")
    if not os.path.isdir(charts_dir):
        print(f"--- {tree}: no charts")
        return problems
    plain = plain_objects(tree)
    print(f"--- {tree}")
    umbrellas = []
    for name in sorted(os.listdir(charts_dir)):
        path = os.path.join(charts_dir, name)
        if name == "addons":
            # The add-ons' values files: YAML mappings that Helm would take with -f.
            for values in sorted(os.listdir(path)):
                with open(os.path.join(path, values), encoding="utf-8") as f:
                    if not isinstance(yaml.safe_load(f), dict):
                        problems.append(f"{path}/{values}: not a mapping of values")
            print(f"  addons: {len(os.listdir(path))} values files")
            continue
        with open(os.path.join(path, "Chart.yaml"), encoding="utf-8") as f:
            meta = yaml.safe_load(f)
        if meta.get("dependencies"):
            umbrellas.append(path)
        else:
            check_service_chart(path, plain, problems)
    if len(umbrellas) != 1:
        problems.append(f"{tree}: {len(umbrellas)} umbrella charts, want 1")
    for path in umbrellas:
        check_umbrella(path, plain, problems)
    return problems


def main(argv: list[str]) -> int:
    problems: list[str] = []
    for tree in argv:
        problems.extend(check_tree(tree))
    for p in problems:
        print(f"  ✗ {p}")
    print(f"helm: {'PASS' if not problems else 'FAIL'} ({len(argv)} trees, {len(problems)} problems)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
