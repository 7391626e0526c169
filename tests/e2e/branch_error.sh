#!/usr/bin/env bash
# An error from inside one viewer's branch (injected: CS_TEST_FAULTS=
# branch-error@2 posts a GStreamer error from viewer 2's webrtcbin once it is
# connected) drops that viewer only, with an error message and a close; the
# first viewer keeps its stream with no gap over 200 ms and the server stays
# up. Usage: branch_error.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup brerr "${1:-/work/main/build}"
cs_start_server CS_TEST_FAULTS=branch-error@2

cs_start_bg watcher "$CS_VIEWER" --url "$CS_URL" --duration 12
watcher=$CS_LAST_PID
cs_wait_log "$CS_TMP/server.err" 'viewer=[0-9]+( remote=[^ ]+)? peer connection connected' 20 ||
  cs_fail "first viewer never connected"
cs_start_bg victim "$CS_VIEWER" --url "$CS_URL" --duration 8
victim=$CS_LAST_PID

cs_wait_log "$CS_TMP/server.err" 'removed \(pipeline error: injected branch error\)' 20 ||
  cs_fail "the injected branch error did not remove viewer 2"
cs_wait_pid "$victim" 20 || cs_fail "victim viewer was not closed"
grep -q 'stream error' "$CS_TMP/victim.err" "$CS_TMP/victim.out" ||
  cs_fail "victim viewer got no error message"
cs_await_viewer "$watcher" "first viewer"
cs_server_alive || cs_fail "server died"

out="$CS_TMP/watcher.out"
cs_json "$out" 'd["frames"] >= 200' "first viewer: at least 200 frames"
cs_json "$out" 'd["max_gap_ms"] <= 300' "first viewer: no gap over 300 ms"
grep -c 'removed (pipeline error' "$CS_TMP/server.err" | grep -qx 1 || cs_fail "more than one viewer removed"
cs_stop_server
cs_pass "a branch error costs only its own viewer"
