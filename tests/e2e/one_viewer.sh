#!/usr/bin/env bash
# One decoding viewer for 10 s against the real server: at least 50 decoded
# 1280x720 frames, the centre pixel is the cube (a saturated colour), frame
# numbers increase. Usage: one_viewer.sh [BUILD_DIR]
# The viewer is pinned to the top rung: on a busy machine the ladder may move
# an unlimited viewer down (CI once did, beside a second CI run: 640x360 from
# 8 s on), and tests/e2e/ladder.sh judges that.
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup one "${1:-/work/main/build}"
cs_start_server

cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 10 --rung 0
viewer=$CS_LAST_PID
cs_await_viewer "$viewer" viewer
cs_server_alive || cs_fail "server died"

out="$CS_TMP/viewer.out"
cs_json "$out" 'd["connected"] and d["answered"]' "signaling completed"
cs_json "$out" 'd["frames"] >= 50' "at least 50 decoded frames"
cs_json "$out" 'd["width"] == 1280 and d["height"] == 720' "frames are 1280x720"
cs_json "$out" 'd["frame_numbers_increasing"] and d["last_frame_number"] is not None' \
  "frame numbers increasing"
cs_json "$out" 'd["timecode_failures"] <= d["frames"] // 20' "timecode readable"
cs_json "$out" 'd["center_saturated_fraction"] >= 0.8' "centre pixel is the cube's colour"
cs_json "$out" 'max(d["center_rgb"]) - min(d["center_rgb"]) >= 50 and max(d["center_rgb"]) >= 80' \
  "last centre pixel is saturated"
cs_log "viewer: $(head -n1 "$out")"
cs_pass "one viewer"
