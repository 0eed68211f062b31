"""Prometheus conformance of the trees platc builds, with promtool as users run it.

For every tree given (out/, golden/*/expected/, their env/*/):

1. `promtool check rules` on every plain rules file (monitoring/prometheus/rules/*.yaml);
2. `promtool test rules` on every rule test file (monitoring/prometheus/tests/*.yaml): the
   burn-rate alerts fire and stay silent as the SLO says, and the canary gates' queries
   measure what they should;
3. the groups of every PrometheusRule object, written out as a rules file, through
   `promtool check rules`, and each equal to its plain rules file (one definition);
4. every Argo Rollouts AnalysisTemplate query, as a recording rule, through `promtool check
   rules` (it parses, and its metric names are valid);
5. the rule tests pin the alerts: in the first tree with an SLO, each page tier's and the
   3d/6h tier's threshold of one service, scaled by 1.5 and by 0.6, must fail its tests (the
   1d/2h tier fires only where 3d/6h does too, so no test can pin it alone);
6. where platc installs the stack (helm/addons/kube-prometheus-stack.values.yaml), every
   PrometheusRule, ServiceMonitor and PodMonitor carries the labels its Prometheus selects
   (the pinned `*Selector.matchLabels`).

    python conformance/prometheus.py TREE...

Exit 0 only when every check passes.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

PROMTOOL = os.environ.get("PROMTOOL", "promtool")
# Rule test runs already made, by the content of the test file and its tree's rules files.
SEEN: set[str] = set()


def documents(path: pathlib.Path):
    with path.open(encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if isinstance(doc, dict):
                yield doc


def promtool(*args: str) -> tuple[int, str]:
    run = subprocess.run([PROMTOOL, *args], capture_output=True, text=True)
    return run.returncode, (run.stdout + run.stderr).strip()


def manifests(tree: pathlib.Path, trees: list[pathlib.Path]):
    """Every YAML file of the tree that is a cluster object: not under helm/ (chart input),
    monitoring/prometheus/ (plain rules), or a nested tree."""
    nested = [t for t in trees if t != tree and tree in t.parents]
    for path in sorted(tree.rglob("*.yaml")):
        rel = path.relative_to(tree)
        # Chart templates and plain rules files, here or in an environment's tree inside.
        if "helm" in rel.parts or "prometheus" in rel.parts[:-1]:
            continue
        if any(n in path.parents for n in nested):
            continue
        if path.name == ".checkov.yaml":
            continue
        yield path


def selectors(tree: pathlib.Path) -> dict[str, dict]:
    values = tree / "helm" / "addons" / "kube-prometheus-stack.values.yaml"
    if not values.exists():
        return {}
    spec = (yaml.safe_load(values.read_text()) or {}).get("prometheus", {}).get("prometheusSpec", {})
    return {
        kind: (spec.get(key) or {}).get("matchLabels", {})
        for kind, key in (
            ("ServiceMonitor", "serviceMonitorSelector"),
            ("PodMonitor", "podMonitorSelector"),
            ("PrometheusRule", "ruleSelector"),
        )
    }


def check_tree(tree: pathlib.Path, trees: list[pathlib.Path], work: pathlib.Path) -> list[str]:
    problems: list[str] = []
    counts = {"rules files": 0, "test files": 0, "PrometheusRules": 0, "queries": 0, "monitors": 0}
    base = tree / "monitoring" / "prometheus"
    for rules in sorted((base / "rules").glob("*.yaml")):
        counts["rules files"] += 1
        rc, out = promtool("check", "rules", str(rules))
        if rc != 0:
            problems.append(f"{rules}: promtool check rules failed:\n{out}")
    # Rule tests run in parallel; a test file whose rules and test are byte for byte those of
    # one already run (an environment's copy of its base's) is run once.
    pending = []
    for tests in sorted((base / "tests").glob("*.yaml")):
        counts["test files"] += 1
        key = hashlib.sha256(tests.read_bytes())
        for rules in sorted((base / "rules").glob("*.yaml")):
            key.update(rules.read_bytes())
        if key.hexdigest() not in SEEN:
            SEEN.add(key.hexdigest())
            pending.append(tests)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for tests, (rc, out) in zip(pending, pool.map(lambda t: promtool("test", "rules", str(t)), pending)):
            if rc != 0:
                problems.append(f"{tests}: promtool test rules failed:\n{out}")
    wanted = selectors(tree)
    queries: list[str] = []
    for path in manifests(tree, trees):
        for doc in documents(path):
            kind = doc.get("kind")
            meta = doc.get("metadata") or {}
            where = f"{path.relative_to(tree)}: {kind} {meta.get('namespace', '')}/{meta.get('name', '')}"
            if kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule"):
                counts["monitors" if kind != "PrometheusRule" else "PrometheusRules"] += 1
                labels = meta.get("labels") or {}
                # Without helm/addons/ (no `aws` cluster) platc installs no stack: nothing to
                # compare with.
                for key, value in (wanted.get(kind) or {}).items():
                    if labels.get(key) != value:
                        problems.append(f"{where}: label {key}={labels.get(key)!r}, but Prometheus selects {key}={value!r}")
            if kind == "PrometheusRule":
                groups = (doc.get("spec") or {}).get("groups") or []
                if not groups:
                    problems.append(f"{where}: no rule groups")
                out_file = work / f"rule-{counts['PrometheusRules']}.yaml"
                out_file.write_text(yaml.safe_dump({"groups": groups}))
                rc, out = promtool("check", "rules", str(out_file))
                if rc != 0:
                    problems.append(f"{where}: promtool check rules on its groups failed:\n{out}")
                # A service's object and its plain rules file hold the same groups.
                if path.parent.parent.name == "services":
                    plain = base / "rules" / f"{path.parent.name}.yaml"
                elif path.parent.name == "platform":
                    plain = base / "rules" / "platform.yaml"
                else:
                    plain = None
                if plain is None or not plain.exists():
                    problems.append(f"{where}: no plain rules file beside it ({plain})")
                elif yaml.safe_load(plain.read_text()) != {"groups": groups}:
                    problems.append(f"{where}: its groups differ from {plain.relative_to(tree)}")
            if kind == "AnalysisTemplate":
                for metric in (doc.get("spec") or {}).get("metrics") or []:
                    query = ((metric.get("provider") or {}).get("prometheus") or {}).get("query")
                    if query:
                        queries.append(query)
    if queries:
        counts["queries"] = len(queries)
        rules = {"groups": [{"name": "analysis-queries", "rules": [
            {"record": f"platc:analysis_query_{i}", "expr": q} for i, q in enumerate(queries)
        ]}]}
        out_file = work / "analysis-queries.yaml"
        out_file.write_text(yaml.safe_dump(rules))
        rc, out = promtool("check", "rules", str(out_file))
        if rc != 0:
            problems.append(f"{tree}: an AnalysisTemplate query does not parse:\n{out}")
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    print(f"  {str(tree):40} {summary}")
    return problems


TIER = re.compile(r"\(([^()]*?:rate(\w+)\{[^}]*\} > ([0-9.]+) and [^()]*?:rate(\w+)\{[^}]*\} > [0-9.]+)\)")


def mutations(trees: list[pathlib.Path], work: pathlib.Path) -> list[str]:
    """Scale each pinned tier's threshold of one service; every mutant must fail its tests."""
    for tree in trees:
        base = tree / "monitoring" / "prometheus"
        # The service with the most alerts (availability and latency, where one has both).
        candidates = []
        for tests in sorted((base / "tests").glob("*.yaml")):
            rules_path = base / "rules" / tests.name
            if tests.name == "platform.yaml" or not rules_path.exists():
                continue
            rules = yaml.safe_load(rules_path.read_text())
            alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
            if alerts:
                candidates.append((-len(alerts), tests.name, tests, rules_path, alerts))
        for _, _, tests, rules_path, alerts in sorted(candidates, key=lambda c: c[:2])[:1]:
            copy = work / "mutants"
            shutil.copytree(base, copy)
            jobs = []
            for rule in alerts:
                for text, long, threshold, short in TIER.findall(rule["expr"]):
                    if (long, short) == ("1d", "2h"):
                        continue
                    for scale in (1.5, 0.6):
                        mutant = text.replace(f"> {threshold}", f"> {float(threshold) * scale:g}")
                        jobs.append((rule, rule["expr"].replace(text, mutant), f"{rule['alert']} {rule['labels']['severity']} {long}/{short} x{scale}"))
            problems = []

            def run(job, i):
                rule, expr, what = job
                d = work / f"mutant-{i}"
                shutil.copytree(copy, d)
                mutated = yaml.safe_load(rules_path.read_text())
                for g in mutated["groups"]:
                    for r in g["rules"]:
                        if r.get("alert") == rule["alert"] and r.get("labels") == rule["labels"]:
                            r["expr"] = expr
                (d / "rules" / tests.name).write_text(yaml.safe_dump(mutated))
                rc, _ = promtool("test", "rules", str(d / "tests" / tests.name))
                return what, rc

            with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
                for what, rc in pool.map(lambda a: run(*a), [(j, i) for i, j in enumerate(jobs)]):
                    if rc == 0:
                        problems.append(f"{rules_path}: {what}: the rule tests still pass")
            print(f"  mutants of {rules_path}: {len(jobs)}, {len(jobs) - len(problems)} caught")
            if not jobs:
                problems.append(f"{rules_path}: no tier to mutate")
            return problems
    return []


def main(argv: list[str]) -> int:
    if shutil.which(PROMTOOL) is None:
        print(f"prometheus: FAIL: no {PROMTOOL} on PATH (Debian package `prometheus`)")
        return 1
    rc, version = promtool("--version")
    print(f"  {version.splitlines()[0] if version else 'promtool'}")
    trees = [pathlib.Path(t) for t in argv]
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, tree in enumerate(trees):
            work = pathlib.Path(tmp) / str(i)
            work.mkdir()
            problems += check_tree(tree, trees, work)
        mutants = pathlib.Path(tmp) / "mutants"
        mutants.mkdir()
        problems += mutations(trees, mutants)
    for p in problems:
        print(f"  FAIL: {p}")
    print("prometheus: " + ("PASS" if not problems else f"FAIL ({len(problems)} problems)"))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
