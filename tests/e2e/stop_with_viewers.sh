#!/usr/bin/env bash
# SIGTERM and SIGINT with viewers connected (SPEC.md: stops cleanly): every
# viewer's socket is closed by the server (the probe sees a close frame,
# 1000 or 1001, not just the connection dropping), and the server exits 0
# within 2 s of the signal. Usage: stop_with_viewers.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup stopping "${1:-/work/main/build}"
probe_py="$(dirname "$(readlink -f "$0")")/wsprobe.py"
server_log="$CS_TMP/server.err"

# run_case SIGNAL
run_case() {
  local sig="$1" v1 v2 probe t0 elapsed rc
  cs_log "--- $sig with two viewers and a probe connected"
  cs_start_server
  cs_start_bg "$sig-viewer1" "$CS_VIEWER" --url "$CS_URL" --duration 30
  v1=$CS_LAST_PID
  cs_start_bg "$sig-viewer2" "$CS_VIEWER" --url "$CS_URL" --duration 30
  v2=$CS_LAST_PID
  cs_start_bg "$sig-probe" python3 "$probe_py" ws "$CS_URL" closed:40
  probe=$CS_LAST_PID
  cs_wait_log "$CS_TMP/$sig-viewer1.err" 'receiving' 20 || cs_fail "$sig: viewer 1 never received media"
  cs_wait_log "$CS_TMP/$sig-viewer2.err" 'receiving' 20 || cs_fail "$sig: viewer 2 never received media"
  cs_wait_log "$CS_TMP/$sig-probe.out" '"handshake"' 5 || cs_fail "$sig: probe did not connect"

  t0=$(cs_now_ms)
  kill "-$sig" "$CS_SERVER_PID"
  cs_wait_pid "$CS_SERVER_PID" 2 || cs_fail "$sig: server still running 2 s after the signal"
  elapsed=$(( $(cs_now_ms) - t0 ))
  wait "$CS_SERVER_PID"
  rc=$?
  cs_log "$sig: server exited with status $rc after $elapsed ms"
  (( rc == 0 )) || cs_fail "$sig: exit status $rc, not 0"
  cs_wait_pid "$probe" 2 || cs_fail "$sig: probe's socket not closed"
  cs_json "$CS_TMP/$sig-probe.out:2" 'd["ok"] and d["close_code"] in (1000, 1001)' \
    "$sig: probe got a close frame"
  local v
  for v in viewer1 viewer2; do
    cs_wait_log "$CS_TMP/$sig-$v.err" 'websocket closed' 1 || cs_fail "$sig: $v's socket not closed"
  done
  cs_log "ok: $sig: both viewers' sockets closed"
  grep -q 'did not finish closing' "$server_log" && cs_fail "$sig: some sockets did not close in time"
  kill -TERM "$v1" "$v2" 2>/dev/null
  cs_wait_pid "$v1" 10 && cs_wait_pid "$v2" 10 || cs_fail "$sig: viewers hang after the server left"
  mv "$server_log" "$CS_TMP/server-$sig.log"
}

run_case TERM
run_case INT
cs_pass "SIGTERM and SIGINT close every viewer's socket and exit 0 within 2 s"
