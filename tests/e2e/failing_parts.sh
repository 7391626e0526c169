#!/usr/bin/env bash
# A part that cannot go on ends the server with a failure status and a line
# that says why, never silently and never by streaming black:
#   gl-rebuild-fail@N  frame N loses the GL context and the rebuild fails too
#   lws-service-fail@N the HTTP/WebSocket service loop fails after N s
# Each run has a viewer watching; the server must exit non-zero within 5 s
# of the fault. Usage: failing_parts.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup failing "${1:-/work/main/build}"
server_log="$CS_TMP/server.err"

# run_case NAME FAULT FAULT_LINE CAUSE_LINE: FAULT_LINE (grep -E) marks the
# moment of the fault, CAUSE_LINE the server's own explanation.
run_case() {
  local name="$1" fault="$2" fault_line="$3" cause_line="$4"
  cs_log "--- $name: CS_TEST_FAULTS=$fault"
  cs_start_server CS_TEST_FAULTS="$fault"
  cs_start_bg "viewer-$name" "$CS_VIEWER" --url "$CS_URL" --duration 10
  local viewer=$CS_LAST_PID
  cs_wait_log "$server_log" "$fault_line" 30 || cs_fail "$name: the fault never fired"
  local t0 rc
  t0=$(cs_now_ms)
  cs_wait_pid "$CS_SERVER_PID" 5 || cs_fail "$name: server still running 5 s after the fault"
  wait "$CS_SERVER_PID"
  rc=$?
  cs_log "$name: server exited with status $rc, $(( $(cs_now_ms) - t0 )) ms after the fault"
  (( rc != 0 )) || cs_fail "$name: exit status 0 after a fatal fault"
  (( rc < 128 )) || cs_fail "$name: killed by signal $(( rc - 128 )), not a clean failure exit"
  grep -qE "$cause_line: stopping$" "$server_log" ||
    cs_fail "$name: no line '$cause_line: stopping'"
  cs_log "$name: $(grep -E ": stopping$" "$server_log" | tr '\n' '|')"
  cs_wait_pid "$viewer" 20 || cs_fail "$name: viewer hangs after the server died"
  mv "$server_log" "$CS_TMP/server-$name.log"
}

# Frame 60: 2 s after the viewer made rendering start.
run_case rebuild gl-rebuild-fail@60 'injecting .gl-rebuild-fail' \
  'renderer: cannot rebuild after a failed frame \(EGL_CONTEXT_LOST.*\): .+'
grep -q 'renderer: rebuilt' "$CS_TMP/server-rebuild.log" && cs_fail "rebuild: claims it rebuilt"

# 6 s: the viewer is watching by then.
run_case service lws-service-fail@6 'injecting .lws-service-fail' \
  'signaling: service loop failed \(lws_service returned -1\): .+'
cs_pass "a failing renderer or service loop ends the server with a failure status and its cause"
