#!/usr/bin/env bash
# A viewer that cannot keep up (injected: CS_TEST_FAULTS=slow-branch@F makes
# its branch take 150 ms per frame for 3 s) loses frames at its own leaky
# queue; once it catches up the server asks for a keyframe, so its picture
# recovers at once instead of at the next periodic keyframe (set 10 s away
# here). The other viewer never notices. Usage: slow_viewer.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup slow "${1:-/work/main/build}"
cs_start_server CS_TEST_FAULTS=slow-branch@60 CS_KEYFRAME_INTERVAL=300

cs_start_bg slow "$CS_VIEWER" --url "$CS_URL" --duration 12
slow=$CS_LAST_PID
cs_wait_log "$CS_TMP/server.err" 'viewer=[0-9]+( remote=[^ ]+)? peer connection connected' 20 ||
  cs_fail "the slow viewer never connected"
cs_start_bg other "$CS_VIEWER" --url "$CS_URL" --duration 10
other=$CS_LAST_PID
cs_wait_log "$CS_TMP/server.err" 'faults: injecting .slow-branch' 20 || cs_fail "fault never fired"
cs_wait_log "$CS_TMP/server.err" 'caught up after dropping frames; asking for a keyframe' 10 ||
  cs_fail "no keyframe after the slow viewer caught up"
caught_up_ms=$(cs_now_ms)
cs_await_viewer "$slow" "slow viewer"
cs_await_viewer "$other" "other viewer"
cs_server_alive || cs_fail "server died"

cs_json "$CS_TMP/slow.out" "d['last_frame_wall_ms'] >= $caught_up_ms + 3000" \
  "slow viewer: decodes again after catching up"
requests=$(grep -c 'caught up after dropping frames' "$CS_TMP/server.err")
((requests <= 2)) || cs_fail "slow viewer asked for $requests keyframes (one per episode expected)"
cs_json "$CS_TMP/other.out" 'd["max_gap_ms"] <= 300' "other viewer: no gap over 300 ms"
cs_json "$CS_TMP/other.out" 'd["frames"] >= 200' "other viewer: at least 200 frames"
cs_pass "a slow viewer pays alone and recovers with a keyframe"
