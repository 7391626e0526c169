#!/usr/bin/env bash
# The render thread loses its EGL context (CS_TEST_FAULTS=gl-context-lost@N:
# frame N fails as a lost context would) and rebuilds it: the server logs the
# loss and the rebuild, and a viewer watching across it keeps receiving the
# cube (no gap of 1 s or more, frame numbers still increasing, not black).
# Usage: gl_context_lost.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup gllost "${1:-/work/main/build}"
# Frame 150: 5 s after rendering starts (the first viewer), well inside the
# viewer's 12 s.
cs_start_server CS_TEST_FAULTS=gl-context-lost@150
server_log="$CS_TMP/server.err"

cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 12
viewer=$CS_LAST_PID
cs_wait_log "$CS_TMP/viewer.err" 'receiving' 20 || cs_fail "viewer never received media"
cs_wait_log "$server_log" 'renderer: frame failed \(EGL_CONTEXT_LOST' 10 ||
  cs_fail "no log line for the lost context"
cs_wait_log "$server_log" 'renderer: rebuilt in [0-9]+ ms' 5 || cs_fail "no log line for the rebuild"
cs_log "server: $(grep -E 'renderer: (frame failed|rebuilt)' "$server_log" | tr '\n' '|')"
lost_ms=$(cs_now_ms)
cs_await_viewer "$viewer" viewer
cs_server_alive || cs_fail "server died after the rebuild"

out="$CS_TMP/viewer.out"
cs_json "$out" 'd["first_frame_number"] < 150 < d["last_frame_number"]' \
  "watched across the lost frame 150 (timecode frame numbers)"
cs_json "$out" 'd["fps"] >= 20' "at least 20 fps over the viewer's span"
cs_json "$out" "d['last_frame_wall_ms'] >= $lost_ms + 3000" "frames for 3 s and more after the rebuild"
cs_json "$out" 'd["max_gap_ms"] < 1000' "no gap of 1 s or more across the rebuild"
cs_json "$out" 'd["frame_numbers_increasing"]' "frame numbers increasing across the rebuild"
cs_json "$out" 'd["center_saturated_fraction"] >= 0.8' "the cube, not black, after the rebuild"
cs_json "$out" 'd["timecode_failures"] <= d["frames"] // 20' "timecode readable"
cs_log "viewer: $(head -n1 "$out")"
cs_stop_server
cs_pass "a lost GL context is rebuilt and the stream goes on"
