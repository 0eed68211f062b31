#!/usr/bin/env python3
"""The services of a generated platform (examples/gen_platform.rs) as the values a peer
setup would keep by hand: one JSON document that the Jsonnet program takes as a top-level
argument and the Helm chart as its values file.

    python3 bench/peers/services.py platform-1000.kdl > services-1000.json

Reads only the line shapes gen_platform writes (one property line per line, `service NAME {`
blocks at four spaces, the `env staging` overrides ignored); not a KDL parser. Per service:
image and tag, ports (name, port, container port, protocol), env, the services it calls (with
the address variable, the port dialled and the container port behind it), the services that call it (the inverse, which a
hand-written setup lists beside each service for its AuthorizationPolicy and NetworkPolicy),
probes, resources and autoscaling.
"""

from __future__ import annotations

import json
import shlex
import sys


def props(words: list[str]) -> dict[str, str]:
    return dict(w.split("=", 1) for w in words if "=" in w)


def seconds(text: str) -> int:
    assert text.endswith("s"), text
    return int(text[:-1])


def parse(lines: list[str]) -> list[dict]:
    services: list[dict] = []
    current: dict | None = None
    for line in lines:
        if line.startswith("    service ") and line.rstrip().endswith("{"):
            current = {
                "name": line.split()[1],
                "ports": [],
                "env": {},
                "calls": [],
                "callers": [],
                "probes": {},
            }
            services.append(current)
            continue
        if current is None:
            continue
        if line.startswith("    }"):
            current = None
            continue
        if not line.startswith("        ") or line.startswith("         "):
            continue  # a canary's children
        words = shlex.split(line)
        head, rest = words[0], words[1:]
        p = props(rest)
        if head == "image":
            current["image"] = rest[0]
            current["tag"] = p["tag"]
        elif head == "port":
            number = int(rest[1])
            current["ports"].append({
                "name": rest[0],
                "port": number,
                "targetPort": int(p.get("target", number)),
                "protocol": p["protocol"],
            })
        elif head == "env":
            current["env"][rest[0]] = rest[1]
        elif head == "calls":
            current["calls"].append({"service": rest[0], "env": p["env"], "port": p.get("port")})
        elif head == "probe":
            probe: dict = {"type": rest[0], "port": p["port"]}
            if "path" in p:
                probe["path"] = p["path"]
            if "initial-delay" in p:
                probe["initialDelaySeconds"] = seconds(p["initial-delay"])
            if "period" in p:
                probe["periodSeconds"] = seconds(p["period"])
            for kind in [p["for"]] if "for" in p else ["readiness", "liveness"]:
                current["probes"][kind] = dict(probe)
        elif head == "resources":
            current["resources"] = {
                "requests": {"cpu": p["cpu"], "memory": p["memory"]},
                "limits": {"cpu": p["cpu-limit"], "memory": p["memory-limit"]},
            }
        elif head == "autoscale":
            current["autoscaling"] = {
                "minReplicas": int(p["min"]),
                "maxReplicas": int(p["max"]),
                "targetCPUUtilizationPercentage": int(p["cpu"]),
            }
    return services


def resolve(services: list[dict]) -> None:
    """Each call's port number (the named port, else the callee's first), and the callers."""
    by_name = {s["name"]: s for s in services}
    for s in services:
        for call in s["calls"]:
            callee = by_name[call["service"]]
            ports = callee["ports"]
            port = next((q for q in ports if q["name"] == call["port"]), ports[0])
            call["port"] = port["port"]
            call["targetPort"] = port["targetPort"]
            callee["callers"].append({"service": s["name"], "port": port["targetPort"]})
        for probe in s["probes"].values():
            probe["port"] = next(q["targetPort"] for q in s["ports"] if q["name"] == probe["port"])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: services.py PLATFORM.kdl  (a platform written by gen_platform)", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        lines = f.read().splitlines()
    platform = next((ln.split()[1] for ln in lines if ln.startswith("platform ")), "platform")
    services = parse(lines)
    if not services:
        print(f"{argv[0]}: no services found", file=sys.stderr)
        return 1
    resolve(services)
    json.dump({"platform": platform, "services": services}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
