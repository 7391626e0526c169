#!/usr/bin/env python3
"""Checks compose.yaml's wiring against the Dockerfile and the image.

Usage: check_compose.py COMPOSE_YAML DOCKERFILE IMAGE_JSON [DRY_RUN_OUTPUT]

IMAGE_JSON is the built image's `podman image inspect` (its one object); DRY_RUN_OUTPUT is what `podman-compose --dry-run up` printed with
PUBLIC_IP=203.0.113.7 and TURN_SECRET=compose-test-secret (the podman commands
compose would run, variables substituted). Prints one line per failed check
and exits 1 if any failed.
"""
import json
import re
import sys

import yaml

PUBLIC_IP = "203.0.113.7"
SECRET = "compose-test-secret"
failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def as_dict(env):
    if isinstance(env, list):
        return dict(e.split("=", 1) for e in env)
    return {k: str(v) for k, v in (env or {}).items()}


def option(args, name):
    for a in args:
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def main():
    compose = yaml.safe_load(open(sys.argv[1]))
    dockerfile = open(sys.argv[2]).read()
    image = json.load(open(sys.argv[3]))["Config"]
    dry_run = open(sys.argv[4]).read() if len(sys.argv) > 4 else None

    services = compose.get("services", {})
    server, turn = services.get("cube-streamer"), services.get("coturn")
    check(server is not None and turn is not None, "services cube-streamer and coturn")
    if server is None or turn is None:
        return
    for svc, stage in ((server, "runtime"), (turn, "coturn")):
        target = (svc.get("build") or {}).get("target")
        check(target == stage and re.search(rf"^FROM \S+ AS {stage}$", dockerfile, re.M),
              f"build target {stage} is a Dockerfile stage")

    env = as_dict(server.get("environment"))
    image_env = as_dict(image.get("Env", []))
    exposed = set(image.get("ExposedPorts", {}))
    ice_range = env.get("CS_ICE_PORT_RANGE")
    check(ice_range is not None and ice_range == image_env.get("CS_ICE_PORT_RANGE"),
          f"CS_ICE_PORT_RANGE {ice_range} is the image's {image_env.get('CS_ICE_PORT_RANGE')}")
    check(f"{ice_range}/udp" in exposed, f"the image EXPOSEs {ice_range}/udp ({sorted(exposed)})")
    check(f"{ice_range}:{ice_range}/udp" in server.get("ports", []),
          f"compose publishes {ice_range}/udp")
    port = env.get("CS_PORT", image_env.get("CS_PORT"))
    check(f"{port}/tcp" in exposed and f"{port}:{port}" in server.get("ports", []),
          f"CS_PORT {port} is EXPOSEd and published")
    check("${PUBLIC_IP:?" in env.get("CS_ICE_PUBLIC_IP", ""), "CS_ICE_PUBLIC_IP is ${PUBLIC_IP:?...}")
    check("${TURN_SECRET:?" in env.get("CS_TURN_SECRET", ""), "CS_TURN_SECRET is ${TURN_SECRET:?...}")

    args = [str(a) for a in turn.get("command", [])]
    listen = option(args, "--listening-port")
    check(env.get("CS_TURN_SERVER") ==
          f"turn://${{PUBLIC_IP}}:{listen},turn://${{PUBLIC_IP}}:{listen}?transport=tcp",
          f"CS_TURN_SERVER {env.get('CS_TURN_SERVER')} is PUBLIC_IP at coturn's port {listen}")
    check("--use-auth-secret" in args and "${TURN_SECRET" in (option(args, "--static-auth-secret") or ""),
          "coturn: --use-auth-secret with --static-auth-secret=${TURN_SECRET}")
    check("${PUBLIC_IP" in (option(args, "--external-ip") or ""), "coturn: --external-ip=${PUBLIC_IP}")
    check(option(args, "--denied-peer-ip") is not None, "coturn: private peers denied")
    relay = f"{option(args, '--min-port')}-{option(args, '--max-port')}"
    turn_ports = turn.get("ports", [])
    for p in (f"{listen}:{listen}/tcp", f"{listen}:{listen}/udp", f"{relay}:{relay}/udp"):
        check(p in turn_ports, f"coturn publishes {p}")

    if dry_run is None:
        print("podman-compose not available: substituted commands not checked")
        return
    runs = [l for l in dry_run.splitlines() if l.startswith("podman run ")]
    server_run = next((l for l in runs if "com.docker.compose.service=cube-streamer" in l), "")
    turn_run = next((l for l in runs if "com.docker.compose.service=coturn" in l), "")
    for piece in (f"-e CS_ICE_PUBLIC_IP={PUBLIC_IP}", f"-e CS_TURN_SECRET={SECRET}",
                  f"-e CS_TURN_SERVER=turn://{PUBLIC_IP}:{listen},turn://{PUBLIC_IP}:{listen}?transport=tcp",
                  f"-e CS_ICE_PORT_RANGE={ice_range}",
                  f"-p {ice_range}:{ice_range}/udp"):
        check(piece in server_run, f"podman-compose runs the server with {piece}")
    for piece in (f"--static-auth-secret={SECRET}", f"--external-ip={PUBLIC_IP}"):
        check(piece in turn_run, f"podman-compose runs coturn with {piece}")


if __name__ == "__main__":
    main()
    sys.exit(1 if failures else 0)
