# shellcheck shell=bash
# Sourced library for cube-streamer end-to-end tests.
#
# cs_setup creates a private network namespace (name: prefix + $$) holding a
# veth pair with BOTH ends inside it (10.77.N.1/24 server side, 10.77.N.2/24
# viewer side) and `lo`. Nothing in it routes anywhere else, so no test
# traffic can leave the machine. An EXIT trap stops every process the test
# started and deletes the namespace. Must run as root.
#
#   source "$(dirname "$0")/netns.sh"
#   cs_setup one_viewer "${1:-/work/main/build}"
#   cs_start_server                  # background, waits for the port
#   cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 10
#   cs_wait_pid "$CS_LAST_PID" 60 || cs_fail "viewer did not finish"
#   cs_json "$CS_TMP/viewer.out" 'd["frames"] >= 50' "enough frames"

CS_PIDS=()
CS_SERVER_PIDS=()
CS_NS=""
CS_TMP=""
CS_KEEP_LOGS="${CS_KEEP_LOGS:-0}"
CS_E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

cs_log() { printf '[e2e %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }

# Prints the tail of every log of this test, then exits 1.
cs_fail() {
  cs_log "FAIL: $*"
  local f
  for f in "$CS_TMP"/*.out "$CS_TMP"/*.err "$CS_TMP"/*.log; do
    [[ -s "$f" ]] || continue
    printf -- '----- %s (last 25 lines) -----\n' "$(basename "$f")" >&2
    tail -n 25 "$f" >&2
  done
  exit 1
}

cs_pass() { cs_log "PASS: $*"; exit 0; }

cs_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${CS_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  # A sanitized server checks for leaks as it exits, which takes a while.
  local wait_s killed=()
  for pid in "${CS_PIDS[@]}"; do
    wait_s=5
    [[ "${CS_SANITIZER_LOGS:-0}" == 1 && " ${CS_SERVER_PIDS[*]} " == *" $pid "* ]] && wait_s=30
    cs_wait_pid "$pid" "$wait_s" || { kill -KILL "$pid" 2>/dev/null; killed+=("$pid"); }
  done
  if [[ "${CS_SANITIZER_LOGS:-0}" == 1 && -n "$CS_TMP" ]]; then
    for pid in "${killed[@]}"; do
      [[ " ${CS_SERVER_PIDS[*]} " == *" $pid "* ]] || continue
      cs_log "FAIL: sanitized server $pid needed SIGKILL: it never ran its leak check"
      rc=1
    done
    # The verdict on what the sanitizers wrote (tests/sanitizers/check_reports.py).
    local reports=("$CS_TMP"/sanitizer.*)
    if [[ -e "${reports[0]}" ]] &&
      ! python3 "$CS_E2E_DIR/../sanitizers/check_reports.py" "${reports[@]}" >&2; then
      cs_log "FAIL: sanitizer reports (above)"
      rc=1
    fi
  fi
  if [[ -n "$CS_NS" ]]; then
    # Anything else still living in the namespace (started by a helper).
    for pid in $(ip netns pids "$CS_NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns delete "$CS_NS" 2>/dev/null
  fi
  if [[ -n "$CS_TMP" && -d "$CS_TMP" ]]; then
    if [[ $rc -ne 0 || "$CS_KEEP_LOGS" == 1 ]]; then
      cs_log "logs kept in $CS_TMP"
    else
      rm -rf "$CS_TMP"
    fi
  fi
  exit "$rc"
}

# cs_setup PREFIX BUILD_DIR
cs_setup() {
  local prefix="$1"
  CS_BUILD="$(cd "${2:-/work/main/build}" 2>/dev/null && pwd)" || {
    echo "build dir '${2:-/work/main/build}' not found" >&2
    exit 1
  }
  # 77 = skipped (ctest SKIP_RETURN_CODE): namespaces need root.
  [[ $EUID -eq 0 ]] || { echo "$prefix: must run as root (ip netns); skipped" >&2; exit 77; }
  # Both may be overridden from the environment (e.g. to try a stand-in).
  CS_SERVER_BIN="${CS_SERVER_BIN:-$CS_BUILD/cube-streamer}"
  CS_VIEWER="${CS_VIEWER:-$CS_BUILD/tests/client/cs-test-viewer}"
  [[ -x "$CS_SERVER_BIN" ]] || { echo "no server binary at $CS_SERVER_BIN" >&2; exit 1; }
  [[ -x "$CS_VIEWER" ]] || { echo "no viewer binary at $CS_VIEWER" >&2; exit 1; }

  CS_NET="$(( $$ % 250 + 1 ))"
  CS_NS="cs-${prefix}-$$"
  CS_SERVER_IP="10.77.${CS_NET}.1"
  CS_CLIENT_IP="10.77.${CS_NET}.2"
  CS_PORT="${CS_PORT:-8080}"
  CS_URL="ws://${CS_SERVER_IP}:${CS_PORT}/ws"
  CS_TMP="$(mktemp -d "/tmp/cs-e2e-${prefix}.XXXXXX")"
  trap cs_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  ip netns add "$CS_NS" || { echo "ip netns add $CS_NS failed" >&2; exit 1; }
  ip -n "$CS_NS" link add csv0 type veth peer name csv1 || exit 1
  ip -n "$CS_NS" addr add "$CS_SERVER_IP/24" dev csv0 || exit 1
  ip -n "$CS_NS" addr add "$CS_CLIENT_IP/24" dev csv1 || exit 1
  ip -n "$CS_NS" link set lo up || exit 1
  ip -n "$CS_NS" link set csv0 up || exit 1
  ip -n "$CS_NS" link set csv1 up || exit 1
  # Build the GStreamer registry before anything is timed.
  gst-inspect-1.0 >/dev/null 2>&1 || true
  cs_log "namespace $CS_NS: server $CS_SERVER_IP:$CS_PORT, viewers $CS_CLIENT_IP, logs $CS_TMP"
}

# Runs a command inside the namespace (foreground).
cs_ns() { ip netns exec "$CS_NS" "$@"; }

# cs_start_bg NAME CMD...: runs CMD in the namespace in the background with
# stdout in $CS_TMP/NAME.out and stderr in $CS_TMP/NAME.err; pid in CS_LAST_PID.
cs_start_bg() {
  local name="$1"
  shift
  ip netns exec "$CS_NS" "$@" >"$CS_TMP/$name.out" 2>"$CS_TMP/$name.err" &
  CS_LAST_PID=$!
  CS_PIDS+=("$CS_LAST_PID")
}

# cs_wait_pid PID SECONDS: waits for PID to exit; 0 if it did in time.
cs_wait_pid() {
  local pid="$1" deadline=$(( $(date +%s%N) / 1000000 + $2 * 1000 ))
  while kill -0 "$pid" 2>/dev/null; do
    (( $(date +%s%N) / 1000000 < deadline )) || return 1
    sleep 0.05
  done
  return 0
}

# cs_exit_code PID: exit status of a finished background job.
cs_exit_code() { wait "$1"; }

# Waits (up to 40 s) for a viewer started with cs_start_bg and fails the
# test if it hangs or exits nonzero (it could not even connect).
cs_await_viewer() {
  local pid="$1" name="$2"
  cs_wait_pid "$pid" 40 || cs_fail "$name did not stop within 40 s"
  cs_exit_code "$pid" || cs_fail "$name exited with status $? (could not connect?)"
}

# cs_wait_port HOST PORT SECONDS [PID]: polls until a TCP connect to HOST:PORT
# inside the namespace succeeds; fails early if PID dies.
cs_wait_port() {
  local host="$1" port="$2" pid="${4:-}"
  local deadline=$(( $(date +%s%N) / 1000000 + $3 * 1000 ))
  while ! ip netns exec "$CS_NS" bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 2; fi
    (( $(date +%s%N) / 1000000 < deadline )) || return 1
    sleep 0.05
  done
  return 0
}

# cs_start_server [VAR=VALUE...]: starts cube-streamer in the namespace, bound
# to the server address with ICE limited to it, and waits for its port.
# With CS_SANITIZER_LOGS=1 (scripts/test.sh, sanitized server) its ASan, LSan
# and UBSan reports go to $CS_TMP/sanitizer.PID, judged at the test's end.
cs_start_server() {
  local sanitizer=()
  [[ "${CS_SANITIZER_LOGS:-0}" == 1 ]] &&
    sanitizer=("ASAN_OPTIONS=${ASAN_OPTIONS:-}:log_path=$CS_TMP/sanitizer"
      "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}:log_path=$CS_TMP/sanitizer")
  cs_start_bg server env "${sanitizer[@]}" CS_HOST="$CS_SERVER_IP" CS_PORT="$CS_PORT" \
    CS_ICE_ADDRESSES="$CS_SERVER_IP" "$@" "$CS_SERVER_BIN"
  CS_SERVER_PID=$CS_LAST_PID
  CS_SERVER_PIDS+=("$CS_SERVER_PID")
  cs_wait_port "$CS_SERVER_IP" "$CS_PORT" 30 "$CS_SERVER_PID" ||
    cs_fail "server did not open $CS_SERVER_IP:$CS_PORT within 30 s"
  cs_log "server up (pid $CS_SERVER_PID)"
}

cs_server_alive() { kill -0 "$CS_SERVER_PID" 2>/dev/null; }

# cs_wait_log FILE PATTERN SECONDS: polls until FILE contains PATTERN (grep -E).
cs_wait_log() {
  local file="$1" pattern="$2" deadline=$(( $(date +%s%N) / 1000000 + $3 * 1000 ))
  until grep -qE "$pattern" "$file" 2>/dev/null; do
    (( $(date +%s%N) / 1000000 < deadline )) || return 1
    sleep 0.05
  done
}

# cs_stop_server: SIGTERM, then logs how the server ended (SPEC: exit 0).
cs_stop_server() {
  kill -TERM "$CS_SERVER_PID" 2>/dev/null
  if cs_wait_pid "$CS_SERVER_PID" 10; then
    wait "$CS_SERVER_PID"
    cs_log "server exited with status $? after SIGTERM"
  else
    cs_log "server still running 10 s after SIGTERM"
  fi
}

# cs_json FILE EXPR DESCRIPTION: evaluates a Python expression on the JSON
# line `d` of FILE (its first line unless FILE is FILE:N); fails the test
# (with the line printed) when it is false.
cs_json() {
  local file="$1" expr="$2" what="$3" line=1
  if [[ "$file" == *:* ]]; then line="${file##*:}"; file="${file%:*}"; fi
  local out
  out="$(python3 - "$file" "$line" "$expr" <<'PY'
import json, sys
path, line, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = [l for l in open(path) if l.strip().startswith("{")]
if len(lines) < line:
    print(f"no JSON line {line} in {path}"); sys.exit(1)
d = json.loads(lines[line - 1])
ok = eval(expr, {}, {"d": d})
print(json.dumps(d))
sys.exit(0 if ok else 1)
PY
)" || cs_fail "$what: expected $expr; got: $out"
  cs_log "ok: $what"
}

# cs_now_ms: wall clock in milliseconds (matches *_wall_ms in viewer JSON).
cs_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# cs_stats_viewers: the viewer count /stats reports now (nonzero status when
# /stats does not answer within 2 s).
cs_stats_viewers() {
  cs_ns curl -s --max-time 2 "http://$CS_SERVER_IP:$CS_PORT/stats" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["viewers"])'
}

# cs_wait_stats N SECONDS: polls /stats until it counts N viewers.
cs_wait_stats() {
  local deadline=$(($(cs_now_ms) + $2 * 1000))
  until [[ "$(cs_stats_viewers 2>/dev/null)" == "$1" ]]; do
    (($(cs_now_ms) < deadline)) || return 1
    sleep 0.2
  done
}
