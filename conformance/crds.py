#!/usr/bin/env python3
"""Validates every custom resource in the given YAML files against the real CRD schemas, as the
API server does with `kubectl --validate=strict`. Run by conformance/run.sh on the files that the
kubernetes-validate step lists as holding non-core kinds.

  crds.py SCHEMA_DIR NODE_DIR FILE...

- Istio, Argo CD, Prometheus Operator and Gateway API kinds: the OpenAPI schemas of their CRDs in
  SCHEMA_DIR (../shared/schemas/k8s-crds, one JSON Schema per group, version and kind), read with
  the API server's semantics: unknown fields rejected (an object schema with `properties` and no
  `additionalProperties` or `x-kubernetes-preserve-unknown-fields` takes no other key),
  `nullable: true` admits null, `x-kubernetes-int-or-string` admits an integer or a string, and
  `apiVersion`, `kind` and `metadata` are implicit at the root. Each object is validated against
  its own version and every other version the CRD serves for that kind.
- the Secrets Store CSI driver's SecretProviderClass (no CRD in SCHEMA_DIR): the repository's own
  copy of its CRD schema, schemas/ (same shape, source in schemas/README.md).
- Argo Rollouts and cert-manager kinds (no CRD in SCHEMA_DIR): the models of the npm packages
  @kubernetes-models/argo-rollouts and @kubernetes-models/cert-manager, through
  NODE_DIR/validate.mjs (their validator, plus a walk that rejects undeclared fields).

Any object of a non-core group that neither covers is a failure, never a pass.
"""

from __future__ import annotations

import collections
import copy
import glob
import json
import os
import subprocess
import sys

import jsonschema
import yaml

NODE_GROUPS = {"argoproj.io": {"Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate",
                               "AnalysisRun", "Experiment"},
               "cert-manager.io": None, "acme.cert-manager.io": None}


def api_server_semantics(node, root=False):
    """The schema as the API server applies it (see the module doc)."""
    if isinstance(node, list):
        return [api_server_semantics(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: api_server_semantics(v) for k, v in node.items()
           if k not in ("$schema", "x-source", "x-kubernetes-group-version-kind", "title")}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if root:
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", {"type": "object"})
    preserve = out.pop("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    # The remaining x- keys are annotations for the API server (CEL rules, list types).
    return {k: v for k, v in out.items() if not k.startswith("x-kubernetes")}


def load_schemas(schema_dir):
    """(group, kind) -> {version: validator}."""
    out = collections.defaultdict(dict)
    for path in sorted(glob.glob(os.path.join(schema_dir, "*.json"))):
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        for gvk in raw.get("x-kubernetes-group-version-kind", []):
            schema = api_server_semantics(copy.deepcopy(raw), root=True)
            out[(gvk["group"], gvk["kind"])][gvk["version"]] = jsonschema.Draft7Validator(schema)
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    schema_dir, node_dir, files = argv[0], argv[1], argv[2:]
    schemas = load_schemas(schema_dir)
    # Kinds SCHEMA_DIR lacks whose CRD schema the repository carries itself (schemas/, with
    # its source in schemas/README.md): the Secrets Store CSI driver's SecretProviderClass.
    repo_schemas = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas")
    for key, served in load_schemas(repo_schemas).items():
        schemas.setdefault(key, served)
    errors = []
    counts = collections.Counter()
    node_docs = []
    versions_checked = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for i, doc in enumerate(docs):
            where = path if len(docs) == 1 else f"{path} (document {i + 1})"
            api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
            group, _, version = api_version.rpartition("/")
            served = schemas.get((group, kind))
            if not served and ("." not in group or group.endswith(".k8s.io")):
                continue  # a core kind: kubernetes-validate checked it
            counts[f"{api_version} {kind}"] += 1
            if served:
                if version not in served:
                    errors.append(f"{where}: {group} serves no {kind} in version {version}")
                    continue
                for v, validator in sorted(served.items()):
                    versions_checked += 1
                    for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path))):
                        at = ".".join(map(str, e.path)) or "(root)"
                        errors.append(f"{where}: {kind} [{group}/{v}]: {at}: {e.message}")
            elif group in NODE_GROUPS and (NODE_GROUPS[group] is None or kind in NODE_GROUPS[group]):
                node_docs.append({"where": where, "doc": doc})
            else:
                errors.append(f"{where}: no schema for {api_version} {kind}")
    strict_fields = 0
    if node_docs:
        run = subprocess.run(["node", os.path.join(node_dir, "validate.mjs")],
                             input=json.dumps(node_docs), capture_output=True, text=True,
                             check=False)
        results = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
        if run.returncode != 0 or len(results) != len(node_docs):
            errors.append(f"validate.mjs failed (exit {run.returncode}): {run.stderr.strip()[:2000]}")
        for r in results:
            strict_fields += r["strictFields"]
            if r["strictFields"] == 0:
                errors.append(f"{r['where']}: {r['kind']}: no field was checked against a declared type")
            errors.extend(f"{r['where']}: {r['kind']} [{r.get('pkg')}]: {e}" for e in r["errors"])
    total = sum(counts.values())
    print(f"CRD schemas: {len(schemas)} kinds from {schema_dir}; npm models for"
          f" {', '.join(sorted(NODE_GROUPS))}")
    for k, n in sorted(counts.items()):
        print(f"    {n:4d} x {k}")
    print(f"  files: {len(files)}, custom resources: {total}, schema validations (all served"
          f" versions): {versions_checked}, through the npm models: {len(node_docs)}"
          f" ({strict_fields} fields checked for strictness)")
    for e in errors:
        print(f"  ERROR {e}")
    print(f"  errors: {len(errors)}")
    return 1 if errors or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
