#!/usr/bin/env python3
"""Helpers for conformance/run.sh; they run inside the conformance virtualenv.

Subcommands (each prints a summary and exits non-zero on any failure):

  k8s-validate FILE...             kubernetes-validate (strict) on every object of every file
  checkov-parse WORK NTREES        every file parses with checkov's own Kubernetes parser
  checkov-report TREE JSON OBJECTS NFILES RC   read checkov's -o json report for one tree
  yamllint-report OUTPUT RC N      read yamllint's parsable output

Anything unexpected (a missing report, an unknown report shape, an import error) is a failure,
never a pass.
"""

from __future__ import annotations

import collections
import functools
import json
import os
import re
import sys
from typing import Any

import yaml

# ---------------------------------------------------------------------------------------------
# Documents


class Doc:
    def __init__(self, path: str, index: int, data: Any):
        self.path = path
        self.index = index
        self.data = data

    @property
    def where(self) -> str:
        return self.path if self.index == 0 else f"{self.path} (document {self.index + 1})"

    @property
    def ident(self) -> str:
        d = self.data if isinstance(self.data, dict) else {}
        meta = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
        ns = meta.get("namespace")
        name = meta.get("name", "?")
        obj = f"{d.get('kind', '?')} {ns}/{name}" if ns else f"{d.get('kind', '?')} {name}"
        return f"{obj} [{d.get('apiVersion', '?')}]"


def load_docs(path: str) -> list[Doc]:
    """All non-empty documents of a YAML file, with the SafeLoader kubernetes-validate uses."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [Doc(path, i, d) for i, d in enumerate(yaml.safe_load_all(text)) if d is not None]


def api_group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


# ---------------------------------------------------------------------------------------------
# kubernetes-validate


def k8s_validate(files: list[str]) -> int:
    import importlib.metadata

    import jsonschema
    import kubernetes_validate.utils as kv
    from packaging.version import Version
    from referencing import Registry, Resource

    # validate() reads the (large) schema files on every call: read each once
    kv.schema_contents = functools.lru_cache(maxsize=None)(kv.schema_contents)

    floor = os.environ.get("K8S_MIN_VERSION", "1.30")
    shipped = kv.all_versions()  # e.g. ['1.25.0', ..., '1.37.0'], sorted
    newest = shipped[-1]
    if Version(newest) < Version(floor):
        print(f"FATAL: kubernetes-validate ships schemas up to {newest}, older than {floor}")
        return 2
    if os.environ.get("K8S_VERSIONS"):
        wanted = os.environ["K8S_VERSIONS"].split()
    else:
        # the floor the project promises, and the newest Kubernetes the pinned package knows
        wanted = [floor, newest]
    versions: list[str] = []
    for w in wanted:
        match = [v for v in shipped if kv.major_minor(v) == kv.major_minor(w)]
        if not match:
            print(f"FATAL: kubernetes-validate {kv.__version__} has no schemas for Kubernetes {w}"
                  f" (it ships {', '.join(kv.major_minor(v) for v in shipped)})")
            return 2
        if match[-1] not in versions:
            versions.append(match[-1])

    # Core API groups = every group that has a kind in the Kubernetes OpenAPI of a version we
    # validate against. A group without a dot is always core: a CRD's group must contain one.
    core_gvk: dict[str, set[tuple[str, str, str]]] = {}
    core_groups: set[str] = set()
    for v in versions:
        defs = kv.schema_contents(f"kubernetes-json-schema/v{v}-local-strict/_definitions.json", v)
        gvks = set()
        for d in defs["$defs"].values():
            for g in d.get("x-kubernetes-group-version-kind", []):
                gvks.add((g["group"], g["version"], g["kind"]))
                core_groups.add(g["group"])
        core_gvk[v] = gvks

    def all_errors(data: dict, version: str) -> list[str]:
        """Every strict-schema error, not only the first (same schema files as kv.validate)."""
        api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", data["apiVersion"])
        base = f"kubernetes-json-schema/v{version}-local-strict"
        schema = kv.schema_contents(f"{base}/{data['kind'].lower()}-{api}.json", version)
        defs = kv.schema_contents(f"{base}/_definitions.json", version)
        registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
        validator = jsonschema.validators.Draft202012Validator(schema, registry=registry)
        out = []
        for e in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
            path = ".".join(str(p) for p in e.path) or "(root)"
            out.append(f"{path}: {e.message}")
        return out

    errors: list[str] = []
    validated = 0
    skipped: collections.Counter[str] = collections.Counter()
    crd_files: list[str] = []
    objects = 0
    for path in files:
        try:
            docs = load_docs(path)
        except (yaml.YAMLError, UnicodeDecodeError, OSError) as e:
            errors.append(f"{path}: cannot be read as YAML: {str(e).splitlines()[0]}")
            continue
        if not docs:
            errors.append(f"{path}: holds no Kubernetes object")
            continue
        for doc in docs:
            objects += 1
            d = doc.data
            if not isinstance(d, dict) or not isinstance(d.get("apiVersion"), str) \
                    or not isinstance(d.get("kind"), str):
                errors.append(f"{doc.where}: not a Kubernetes object (no string apiVersion/kind)")
                continue
            group = api_group(d["apiVersion"])
            if group not in core_groups and "." in group:
                # a CustomResource (Istio, Argo, Prometheus Operator, ...): a later CRD step
                skipped[f"{d['apiVersion']} {d['kind']}"] += 1
                if path not in crd_files:
                    crd_files.append(path)
                continue
            gv_version = d["apiVersion"].split("/")[-1]
            for v in versions:
                if (group, gv_version, d["kind"]) not in core_gvk[v]:
                    errors.append(f"{doc.where}: {doc.ident}: Kubernetes {kv.major_minor(v)} serves"
                                  f" no kind {d['kind']} in {d['apiVersion']}")
                    continue
                try:
                    kv.validate(d, v, strict=True)
                except kv.ValidationError:
                    for msg in all_errors(d, v) or ["(schema error)"]:
                        errors.append(f"{doc.where}: {doc.ident}: Kubernetes {kv.major_minor(v)}:"
                                      f" {msg}")
                except (kv.SchemaNotFoundError, kv.InvalidSchemaError,
                        kv.VersionNotSupportedError) as e:
                    errors.append(f"{doc.where}: {doc.ident}: {e.message}")
            validated += 1

    vstr = ", ".join(kv.major_minor(v) for v in versions)
    print(f"kubernetes-validate {importlib.metadata.version('kubernetes-validate')}, strict,"
          f" Kubernetes {vstr}")
    for e in errors:
        print(f"  ERROR {e}")
    print(f"  files: {len(files)}, objects: {objects}, validated (core API groups): {validated},"
          f" skipped (CRD kinds, left to the CRD step): {sum(skipped.values())}")
    for k, n in sorted(skipped.items()):
        print(f"    skipped {n} x {k}")
    print(f"  errors: {len(errors)}")
    # the files holding CRD kinds, for the CRD validation step
    if os.environ.get("CONFORMANCE_CRD_LIST"):
        with open(os.environ["CONFORMANCE_CRD_LIST"], "w", encoding="utf-8") as f:
            f.writelines(f"{p}\n" for p in crd_files)
    if objects == 0:
        print("  FAIL: no object was found")
        return 1
    return 1 if errors else 0


# ---------------------------------------------------------------------------------------------
# checkov


SKIP_ANNOTATIONS = ("checkov.io/skip", "bridgecrew.io/skip")


def checkov_parse(work: str, ntrees: int) -> int:
    """Checkov's Kubernetes runner drops a file it cannot parse (and any document it does not take
    for a Kubernetes template) without reporting a parsing error. Run its own parser on every file
    of every tree (WORK/files-I, NUL-separated) and write what it keeps to WORK/objects-I and its
    complaints to WORK/parse-I.out, so that run.sh can tell a silent drop."""
    from checkov.kubernetes.parser.parser import parse
    from checkov.kubernetes.parser.validatior import K8sValidator

    bad = False
    for i in range(ntrees):
        with open(os.path.join(work, f"files-{i}"), encoding="utf-8") as f:
            files = [p for p in f.read().split("\0") if p]
        problems = []
        waivers = []
        kept = 0
        for path in files:
            try:
                for doc in load_docs(path):
                    meta = doc.data.get("metadata") if isinstance(doc.data, dict) else None
                    notes = meta.get("annotations") if isinstance(meta, dict) else None
                    for k, v in sorted((notes or {}).items()) if isinstance(notes, dict) else []:
                        if k.startswith(SKIP_ANNOTATIONS):
                            waivers.append(f"{doc.ident}: {v}  ({k}, {doc.where})")
                            if not re.fullmatch(r"\s*CKV2?_[A-Z0-9_]+\s*=\s*\S.*", str(v), re.S):
                                problems.append(f"{doc.where}: {doc.ident}: waiver {k}: {v!r}"
                                                " is not `CHECK_ID=reason` with a reason")
            except Exception:
                pass  # reported below and by the other tools
            try:
                result = parse(path)
            except Exception as e:  # checkov itself would skip the file
                problems.append(f"{path}: checkov's parser raised {type(e).__name__}: {e}")
                continue
            if result is None:
                problems.append(f"{path}: checkov cannot parse this file (its scan skips it)")
                continue
            templates, _lines = result
            try:
                docs = load_docs(path)
            except Exception:
                docs = []
            kept += len(templates)
            if len(templates) < len(docs):
                reasons = []
                for doc in docs:
                    ok, reason = K8sValidator.is_valid_template(doc.data)
                    if not ok:
                        reasons.append(f"{doc.where}: {reason}")
                problems.append(f"{path}: checkov keeps {len(templates)} of {len(docs)} objects"
                                f" ({'; '.join(reasons) or 'no reason given'})")
        bad = bad or bool(problems)
        with open(os.path.join(work, f"parse-{i}.out"), "w", encoding="utf-8") as out:
            for p in problems:
                out.write(f"  ERROR {p}\n")
            # waived checks (checkov counts them as skipped): shown so that a reviewer sees them
            for w in waivers:
                out.write(f"  waived {w}\n")
        with open(os.path.join(work, f"objects-{i}"), "w", encoding="utf-8") as out:
            out.write(f"{kept}\n")
    return 1 if bad else 0


def _checkov_reports(raw: Any) -> list[dict]:
    """checkov -o json writes one report object, a list of them (one per framework), or, when it
    found nothing to scan, a bare summary."""
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f"unexpected item in checkov JSON: {type(item).__name__}")
        if "summary" in item:
            out.append(item)
        elif {"passed", "failed", "parsing_errors", "resource_count"} <= item.keys():
            out.append({"check_type": "(none)", "summary": item, "results": {}})
        else:
            raise ValueError(f"unexpected checkov JSON object with keys {sorted(item)}")
    return out


def checkov_report(tree: str, report_path: str, expected_objects: int, nfiles: int, rc: int) -> int:
    if not os.path.isfile(report_path):
        print(f"  FAIL: checkov wrote no JSON report ({report_path}); exit code {rc}")
        return 2
    try:
        with open(report_path, encoding="utf-8") as f:
            reports = _checkov_reports(json.load(f))
    except (ValueError, OSError) as e:
        print(f"  FAIL: checkov's JSON report cannot be read: {e}")
        return 2

    passed = failed = skipped = parsing = resources = 0
    failures = []
    frameworks: list[str] = []
    parse_files: list[str] = []
    for r in reports:
        s = r["summary"]
        passed += int(s.get("passed", 0))
        failed += int(s.get("failed", 0))
        skipped += int(s.get("skipped", 0))
        pe = s.get("parsing_errors", s.get("parsing_error_count", 0))
        parsing += len(pe) if isinstance(pe, list) else int(pe)
        # Every framework checkov runs by default counts (Kubernetes, Terraform JSON and HCL,
        # secrets, …); only the Kubernetes objects are compared with the tree's count.
        if r.get("check_type") in ("kubernetes", "(none)"):
            resources += int(s.get("resource_count", 0))
        res = r.get("results") or {}
        parse_files += list(res.get("parsing_errors") or [])
        for c in res.get("failed_checks") or []:
            failures.append(c)
        frameworks.append(f"{r.get('check_type')} {int(s.get('passed', 0))}/{int(s.get('failed', 0))}")

    bad = False
    print(f"  checks passed: {passed}, failed: {failed}, skipped: {skipped};"
          f" Kubernetes resources scanned: {resources}; parsing errors: {parsing}"
          f" (passed/failed by framework: {', '.join(frameworks) or 'none'})")
    # one line per failed check, for run.sh's tally (checkov's own CLI output is shown already)
    with open(os.environ["CONFORMANCE_FAILED_FILE"], "w", encoding="utf-8") as out:
        for c in sorted(failures, key=lambda c: (c["check_id"], c.get("file_path", ""))):
            lines = c.get("file_line_range") or ["?", "?"]
            out.write(f"{c['check_id']}\t{c['check_name']}\t{c['resource']}\t"
                      f"{c.get('file_path', '?').lstrip('/')}:{lines[0]}-{lines[1]}\n")
    if failed or failures:
        bad = True
    if parsing or parse_files:
        for p in parse_files:
            print(f"  PARSE ERROR (checkov) {p}")
        print(f"  FAIL: checkov could not parse {parsing} file(s)")
        bad = True
    if nfiles > 0 and resources == 0:
        print(f"  FAIL: checkov scanned 0 resources, but the tree has {nfiles} YAML files")
        bad = True
    elif resources < expected_objects:
        print(f"  FAIL: checkov scanned {resources} resources, fewer than the {expected_objects}"
              " objects in the tree")
        bad = True
    # checkov exits 1 for failed checks, 0 otherwise; anything else is a crash
    if rc not in (0, 1) or (rc == 1) != bool(failed):
        print(f"  FAIL: checkov exit code {rc} does not match its report (failed={failed})")
        bad = True
    return 1 if bad else 0


# ---------------------------------------------------------------------------------------------
# yamllint

PARSABLE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): \[(?P<level>error|warning)\] "
                      r"(?P<msg>.*?)(?: \((?P<rule>[a-z0-9-]+)\))?$")


def yamllint_report(output_path: str, rc: int, nfiles: int) -> int:
    with open(output_path, encoding="utf-8", errors="replace") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    problems = []
    other = []
    for line in lines:
        m = PARSABLE.match(line)
        (problems if m else other).append(m or line)
    by_rule = collections.Counter(m["rule"] or "syntax" for m in problems)
    levels = collections.Counter(m["level"] for m in problems)
    for m in problems:
        print(f"  {m['level'].upper()} {m['file']}:{m['line']}:{m['col']} {m['msg']}"
              f" ({m['rule'] or 'syntax'})")
    print(f"  files: {nfiles}, errors: {levels['error']}, warnings: {levels['warning']}")
    for rule, n in sorted(by_rule.items()):
        print(f"    {rule}: {n}")
    if other:
        print("  FAIL: yamllint printed something that is not a lint problem:")
        for line in other[:40]:
            print(f"    | {line}")
        return 2
    # yamllint -s: 0 clean, 1 errors, 2 warnings only
    expected_rc = 1 if levels["error"] else (2 if levels["warning"] else 0)
    if rc != expected_rc:
        print(f"  FAIL: yamllint exit code {rc} does not match its output")
        return 2
    return 1 if problems else 0


# ---------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "k8s-validate":
        return k8s_validate(args)
    if cmd == "checkov-parse":
        return checkov_parse(args[0], int(args[1]))
    if cmd == "checkov-report":
        return checkov_report(args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
    if cmd == "yamllint-report":
        return yamllint_report(args[0], int(args[1]), int(args[2]))
    print(f"unknown subcommand {cmd}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
