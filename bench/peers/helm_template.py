"""`helm template CHART -f VALUES` through Helm's own engine, for the benchmark: loads the
chart, renders it offline with the values file (release `bench`, namespace `default`), and
prints the manifests as `helm template` does, each document under a `# Source:` line.

    /work/main/.venv-conformance/bin/python bench/peers/helm_template.py bench/peers/chart VALUES

There is no helm binary here: helm-python-sdk (conformance's venv) bundles Helm v4's Go SDK as
libhelm_c, called the way `helm template` calls it (chart load, values merge and schema check,
engine render). The values file is JSON, which is YAML.
"""

import json
import sys

import helm_python as helm

chart_dir, values_file = sys.argv[1:]
with open(values_file, encoding="utf-8") as f:
    values = json.load(f)
with helm.Chart.load(chart_dir) as chart:
    rendered = chart.render(values, name="bench", namespace="default")
write = sys.stdout.write
for path in sorted(rendered):
    for doc in rendered[path].split("\n---\n"):
        if doc.strip():
            write(f"---\n# Source: {path}\n{doc.strip(chr(10))}\n")
