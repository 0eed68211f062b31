"""Alertmanager conformance of the trees platc builds, with Alertmanager's own tools.

For every tree given whose kube-prometheus-stack values (helm/addons/kube-prometheus-stack.values.yaml)
configure Alertmanager (`observability { alerts … }`):

1. `amtool check-config` on the configuration file the chart writes from `alertmanager.config`
   (the whole file: platc replaces the chart's default, so nothing else merges into it);
2. every notification template of a receiver (a string holding `{{`) rendered by
   `amtool template render` with Alertmanager's default templates, which it names;
3. the chart's extra manifests (the receivers' SecretProviderClass) validated against their
   CRD schema by conformance/crds.py, as every other custom resource of the trees is.

    python conformance/alertmanager.py SCHEMA_DIR NODE_DIR TREE...

Exit 0 only when every check passes, and fails when no tree configures Alertmanager (the
golden cases must).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile

import yaml

AMTOOL = os.environ.get("AMTOOL", "amtool")
# Alertmanager's default templates (`slack.default.title`, …), as Debian's package installs
# them; Alertmanager itself loads them before the configured ones (template.FromGlobs).
DEFAULT_TEMPLATES = os.environ.get(
    "ALERTMANAGER_TEMPLATES", "/usr/share/prometheus/alertmanager/default.tmpl"
)


def templates(value):
    """Every string of the value that is a Go template."""
    if isinstance(value, dict):
        for v in value.values():
            yield from templates(v)
    elif isinstance(value, list):
        for v in value:
            yield from templates(v)
    elif isinstance(value, str) and "{{" in value:
        yield value


def check(tree: pathlib.Path, scratch: pathlib.Path, schemas: str, node: str) -> tuple[bool, list[str]]:
    values_file = tree / "helm/addons/kube-prometheus-stack.values.yaml"
    if not values_file.is_file():
        return False, []
    values = yaml.safe_load(values_file.read_text(encoding="utf-8")) or {}
    config = (values.get("alertmanager") or {}).get("config")
    if config is None:
        return False, []
    problems = []
    name = str(tree).replace("/", "_")
    config_file = scratch / f"{name}.alertmanager.yaml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    run = subprocess.run([AMTOOL, "check-config", str(config_file)], capture_output=True, text=True)
    if run.returncode != 0:
        problems.append(f"{values_file}: amtool check-config:\n{run.stdout}{run.stderr}")
    for text in templates(config.get("receivers", [])):
        run = subprocess.run(
            [AMTOOL, "template", "render", f"--template.glob={DEFAULT_TEMPLATES}",
             f"--template.text={text}"],
            capture_output=True, text=True)
        if run.returncode != 0:
            problems.append(f"{values_file}: the template {text!r} does not render:\n{run.stderr}")
    extra = values.get("extraManifests") or {}
    objects = list(extra.values()) if isinstance(extra, dict) else list(extra)
    if objects:
        manifest = scratch / f"{name}.extra-manifests.yaml"
        manifest.write_text(yaml.safe_dump_all(objects, sort_keys=False), encoding="utf-8")
        run = subprocess.run(
            [sys.executable, str(pathlib.Path(__file__).with_name("crds.py")), schemas, node,
             str(manifest)],
            capture_output=True, text=True)
        if run.returncode != 0:
            problems.append(f"{values_file}: extraManifests against their CRDs:\n{run.stdout}{run.stderr}")
    return True, problems


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    schemas, node, trees = argv[1], argv[2], [pathlib.Path(t) for t in argv[3:]]
    if not pathlib.Path(DEFAULT_TEMPLATES).is_file():
        print(f"alertmanager: no default templates at {DEFAULT_TEMPLATES}", file=sys.stderr)
        return 1
    checked = 0
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for tree in trees:
            configured, found = check(tree, pathlib.Path(scratch), schemas, node)
            checked += configured
            problems.extend(found)
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    if checked == 0:
        print("alertmanager: no tree configures Alertmanager; nothing was checked", file=sys.stderr)
        return 1
    print(f"alertmanager: {checked} configurations checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
