#!/usr/bin/env bash
# The shared encoder fails mid-stream (injected with CS_TEST_FAULTS): once
# with an error (encoder-error@N: its Nth frame fails as an encoder error
# does), once by going silent (encoder-stall@N: from its Nth frame nothing
# comes out). Each time the server replaces the encoder while the viewer's
# connection stays up, and the viewer keeps receiving frames on the same
# connection: no renegotiation, no reconnect. Usage: encoder_failure.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup encfail "${1:-/work/main/build}"

# check_recovery FAULT MAX_GAP_MS LOG_PATTERN
check_recovery() {
  local fault="$1" max_gap="$2" pattern="$3"
  cs_log "--- $fault"
  cs_start_server CS_TEST_FAULTS="$fault@90"
  cs_start_bg "viewer-$fault" "$CS_VIEWER" --url "$CS_URL" --duration 12
  local viewer=$CS_LAST_PID
  cs_wait_log "$CS_TMP/server.err" "$pattern" 20 || cs_fail "$fault: the server did not notice"
  cs_wait_log "$CS_TMP/server.err" 'encoder: x264enc is encoding' 10 ||
    cs_fail "$fault: the encoder was not replaced"
  local replaced_ms
  replaced_ms=$(cs_now_ms)
  cs_await_viewer "$viewer" "viewer ($fault)"
  cs_server_alive || cs_fail "$fault: server died"
  local out="$CS_TMP/viewer-$fault.out"
  cs_json "$out" 'd["frames"] >= 150' "$fault: at least 150 frames"
  cs_json "$out" "d['last_frame_wall_ms'] >= $replaced_ms + 4000" "$fault: frames long after the replacement"
  cs_json "$out" "d['max_gap_ms'] <= $max_gap" "$fault: no gap over $max_gap ms"
  cs_json "$out" 'd["frame_numbers_increasing"]' "$fault: frame numbers increasing"
  grep -v 'socket closed' "$CS_TMP/server.err" | grep -q 'removed (' && cs_fail "$fault: the viewer was removed"
  cs_stop_server
  mv "$CS_TMP/server.err" "$CS_TMP/server-$fault.log"
}

check_recovery encoder-error 1000 'encoder: x264enc failed \(encoder: injected encoder failure\)'
# Detection takes 1 s of silence, then the new encoder's first IDR.
check_recovery encoder-stall 2000 'encoder: x264enc failed \(no output for [0-9]+ ms'

# Every encoder fails (encoder-broken@N): after the one retry the server
# gives up with one line and a non-zero exit instead of streaming nothing.
cs_log "--- encoder-broken"
cs_start_server CS_TEST_FAULTS=encoder-broken@60
cs_start_bg viewer-broken "$CS_VIEWER" --url "$CS_URL" --duration 15
cs_wait_pid "$CS_SERVER_PID" 20 || cs_fail "encoder-broken: the server did not give up"
wait "$CS_SERVER_PID"
status=$?
[[ $status -ne 0 ]] || cs_fail "encoder-broken: the server exited 0"
grep -q 'no replacement is left' "$CS_TMP/server.err" || cs_fail "encoder-broken: no clear log line"
cs_log "encoder-broken: server exited $status: $(grep 'no replacement' "$CS_TMP/server.err")"
cs_pass "the encoder is replaced and the viewer goes on; a broken one stops the server"
