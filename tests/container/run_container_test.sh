#!/usr/bin/env bash
# The image end to end: builds it with Debian's podman from a base image made
# here with debootstrap (nothing is pulled from a registry), checks
# compose.yaml's wiring, runs the server container as its non-root user inside
# a private network namespace (tests/e2e/netns.sh: no traffic leaves the
# machine), and a native viewer there receives frames from it. Exercises the
# CS_ variables (/stats shows what was set), the ICE port range the image
# EXPOSEs, the HEALTHCHECK, and a clean stop on SIGTERM (exit 0).
# Needs root (exit 77 = skipped otherwise). CS_KEEP_IMAGE=1 keeps the image.
# Usage: run_container_test.sh [BUILD_DIR]   (BUILD_DIR: host build with the viewer)
set -u
[[ $EUID -eq 0 ]] || { echo "container: must run as root (podman, ip netns); skipped" >&2; exit 77; }
for tool in podman debootstrap runc; do
  command -v "$tool" >/dev/null || { echo "container: $tool missing (scripts/setup.sh --tests)" >&2; exit 1; }
done
repo="$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)"
image="localhost/cube-streamer:test"
name="cs-container-$$"
project="cs-container-$$"
# podman's default limits are refused on this machine (../shared/TRAPS.md);
# crun refuses its cgroup mode, runc works.
podman_limits=(--runtime runc --ulimit nofile=16384:16384 --ulimit nproc=8192:8192)
# A port other than the image's 8080, so the test sees CS_ variables win.
export CS_PORT=9000
source "$repo/tests/e2e/netns.sh"
cs_setup container "${1:-$repo/build}"

ct_cleanup() {
  local rc=$?
  podman rm -f -t 0 "$name" >/dev/null 2>&1
  podman network rm -f "${project}_default" >/dev/null 2>&1
  [[ "${CS_KEEP_IMAGE:-0}" == 1 ]] || podman rmi -f "$image" >/dev/null 2>&1
  (exit "$rc")
  cs_cleanup
}
trap ct_cleanup EXIT

ct_elapsed() { echo "$(( ($(cs_now_ms) - $1) / 1000 )) s"; }

# --- base image: debian:bookworm (and -slim) made locally -----------------
if ! podman image exists debian:bookworm; then
  t0=$(cs_now_ms)
  mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)"
  rootfs="$CS_TMP/rootfs"
  cs_log "making debian:bookworm with debootstrap from ${mirror:=http://deb.debian.org/debian}"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CS_TMP/debootstrap.log" 2>&1 ||
    cs_fail "debootstrap failed"
  # The host's sources (same mirror, plus updates and security); no caches.
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/" && rm -f "$rootfs/etc/apt/sources.list"
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import - debian:bookworm >"$CS_TMP/import.log" 2>&1 ||
    cs_fail "podman import failed"
  rm -rf "$rootfs"
  cs_log "base image made in $(ct_elapsed "$t0")"
fi
podman image exists debian:bookworm-slim || podman tag debian:bookworm debian:bookworm-slim ||
  cs_fail "could not tag debian:bookworm-slim"

# --- the image ------------------------------------------------------------
# --format docker: OCI images drop HEALTHCHECK. --network host: RUN apt-get
# reaches the archive. Layers are cached: a rebuild after a source change
# recompiles but reinstalls no packages.
t0=$(cs_now_ms)
podman build --format docker --pull=never --network host "${podman_limits[@]}" \
  -t "$image" "$repo" >"$CS_TMP/build.log" 2>&1 || cs_fail "podman build failed"
cs_log "image built in $(ct_elapsed "$t0") ($(podman image inspect "$image" --format '{{.Size}}' | awk '{printf "%d MB", $1/1e6}'))"
# One JSON line (cs_json reads the first line that starts with "{").
podman image inspect "$image" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]))' \
  >"$CS_TMP/image.json" || cs_fail "podman image inspect failed"
cs_json "$CS_TMP/image.json" \
  'd["Config"].get("User", "").split(":")[0] not in ("", "0", "root") and d["Config"]["Entrypoint"] == ["cube-streamer"] and d["Config"]["StopSignal"] == "SIGTERM"' \
  "image: non-root USER, ENTRYPOINT cube-streamer, STOPSIGNAL SIGTERM"
cs_json "$CS_TMP/image.json" \
  'd["Healthcheck"]["Test"][0] == "CMD-SHELL" and "/healthz" in d["Healthcheck"]["Test"][1]' \
  "image: HEALTHCHECK asks /healthz"
# Every setting through CS_ variables: the image passes the server no flags.
cs_json "$CS_TMP/image.json" 'not d["Config"].get("Cmd")' "image: no CMD (no flags)"

# --- compose.yaml ---------------------------------------------------------
dry_run=()
if command -v podman-compose >/dev/null; then
  # Without PUBLIC_IP compose must refuse to start (not announce nothing).
  (cd "$CS_TMP" && TURN_SECRET=x podman-compose --dry-run -p "$project" -f "$repo/compose.yaml" up -d \
    >"$CS_TMP/compose-nopublic.log" 2>&1) && cs_fail "podman-compose accepted compose.yaml without PUBLIC_IP"
  grep -q "set PUBLIC_IP" "$CS_TMP/compose-nopublic.log" ||
    cs_fail "podman-compose without PUBLIC_IP did not say to set it (compose-nopublic.log)"
  (cd "$CS_TMP" && PUBLIC_IP=203.0.113.7 TURN_SECRET=compose-test-secret \
    podman-compose --dry-run -p "$project" -f "$repo/compose.yaml" up -d >"$CS_TMP/compose-dry-run.log" 2>&1) ||
    cs_fail "podman-compose --dry-run up failed"
  dry_run=("$CS_TMP/compose-dry-run.log")
fi
/usr/bin/python3 "$repo/tests/container/check_compose.py" "$repo/compose.yaml" "$repo/Dockerfile" \
  "$CS_TMP/image.json" "${dry_run[@]}" >"$CS_TMP/compose-check.log" 2>&1 ||
  cs_fail "compose.yaml wiring (compose-check.log)"
cs_log "ok: compose.yaml wiring ($(grep -c '^ok' "$CS_TMP/compose-check.log") checks)"

# --- run it in the namespace ----------------------------------------------
ice_range="$(python3 -c 'import json,sys; print(dict(e.split("=",1) for e in json.load(open(sys.argv[1]))["Config"]["Env"])["CS_ICE_PORT_RANGE"])' "$CS_TMP/image.json")"
podman run -d --name "$name" "${podman_limits[@]}" --network "ns:/var/run/netns/$CS_NS" \
  -e CS_PORT="$CS_PORT" -e CS_ICE_ADDRESSES="$CS_SERVER_IP" -e CS_FPS=15 \
  -e CS_WIDTH=640 -e CS_HEIGHT=360 -e CS_MAX_VIEWERS=2 -e CS_LOG_LEVEL=info \
  "$image" >"$CS_TMP/run.log" 2>&1 || cs_fail "podman run failed"
ct_logs() { podman logs "$name" >"$CS_TMP/container.log" 2>&1; }
# From here a failure shows the container's log too.
eval "$(declare -f cs_fail | sed '1s/^cs_fail/cs_fail_without_container/')"
cs_fail() { ct_logs; cs_fail_without_container "$@"; }
cs_wait_port "$CS_SERVER_IP" "$CS_PORT" 60 ||
  cs_fail "the container did not open $CS_SERVER_IP:$CS_PORT within 60 s"
cs_log "container $name up"

pid="$(podman inspect "$name" --format '{{.State.Pid}}')"
uid="$(stat -c %u "/proc/$pid")"
[[ "$(cat "/proc/$pid/comm")" == cube-streamer ]] || cs_fail "container's process is $(cat "/proc/$pid/comm")"
[[ "$uid" != 0 && "$uid" == "$(podman exec "$name" id -u)" ]] ||
  cs_fail "the server runs as uid $uid (exec: $(podman exec "$name" id -u))"
cs_log "ok: the server (pid $pid) runs as uid $uid"

cs_ns curl -s --max-time 5 "http://$CS_SERVER_IP:$CS_PORT/stats" >"$CS_TMP/stats.json" || cs_fail "no /stats"
cs_json "$CS_TMP/stats.json" 'd["fps"] == 15 and d["width"] == 640 and d["height"] == 360' \
  "/stats shows CS_FPS, CS_WIDTH, CS_HEIGHT"
ct_logs
grep -q "up to 2 viewers" "$CS_TMP/container.log" || cs_fail "the start line does not say CS_MAX_VIEWERS=2"
cs_log "ok: the server took CS_MAX_VIEWERS=2"

# --- a viewer receives frames ---------------------------------------------
cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 10
viewer=$CS_LAST_PID
cs_wait_stats 1 20 || cs_fail "/stats never counted the viewer"
# The server's media sockets: on the image's ICE range (CS_ICE_PORT_RANGE).
lo="${ice_range%-*}" hi="${ice_range#*-}"
{
  # The viewer's offer is counted before the server has gathered: poll.
  deadline=$(($(cs_now_ms) + 10000)) ports=""
  while [[ -z "$ports" ]] && (($(cs_now_ms) < deadline)); do
    ports="$(cs_ns ss -Huanp | awk -v ip="$CS_SERVER_IP" -v pid="pid=$pid," \
      'index($0, pid) && index($4, ip ":") == 1 {sub(/.*:/, "", $4); print $4}' | sort -un | tr '\n' ' ')"
    [[ -n "$ports" ]] || sleep 0.1
  done
  [[ -n "$ports" ]] || cs_fail "no UDP socket of the server on $CS_SERVER_IP within 10 s"
  for p in $ports; do
    ((p >= lo && p <= hi)) || cs_fail "media port $p outside CS_ICE_PORT_RANGE $ice_range"
  done
  cs_log "ok: the server's UDP ports ($ports) are in $ice_range"
}
cs_await_viewer "$viewer" viewer
out="$CS_TMP/viewer.out"
cs_json "$out" 'd["connected"] and d["answered"] and d["ice_connected"]' "signaling and ICE completed"
cs_json "$out" 'd["frames"] >= 40' "at least 40 decoded frames in 10 s at 15 fps"
cs_json "$out" 'd["width"] == 640 and d["height"] == 360' "frames are 640x360"
cs_json "$out" 'd["frame_numbers_increasing"]' "frame numbers increasing"

# --- HEALTHCHECK ----------------------------------------------------------
# No systemd here to run it on its interval: run it now, as podman would.
podman healthcheck run "$name" >"$CS_TMP/healthcheck.log" 2>&1 ||
  { cs_ns curl -s -i --max-time 5 "http://$CS_SERVER_IP:$CS_PORT/healthz" >>"$CS_TMP/healthcheck.log" 2>&1
    cs_fail "podman healthcheck run: $(cat "$CS_TMP/healthcheck.log" | head -n1)"; }
health="$(podman inspect "$name" --format '{{.State.Health.Status}}' 2>/dev/null ||
  podman inspect "$name" --format '{{.State.Healthcheck.Status}}')"
[[ "$health" == healthy ]] || cs_fail "health status '$health'"
cs_log "ok: HEALTHCHECK healthy"

# --- SIGTERM: a clean stop ------------------------------------------------
podman stop -t 15 "$name" >/dev/null 2>&1 || cs_fail "podman stop failed"
ct_logs
code="$(podman inspect "$name" --format '{{.State.ExitCode}}')"
[[ "$code" == 0 ]] || cs_fail "exit code $code after SIGTERM"
grep -q "stopped" "$CS_TMP/container.log" || cs_fail "the log does not say stopped"
cs_log "ok: SIGTERM: exit 0, log says stopped"
cs_pass "container"
