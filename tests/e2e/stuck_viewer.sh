#!/usr/bin/env bash
# A viewer that sends its offer and then nothing (never a candidate, never
# reads) must not stall a normal viewer: that one still gets >= 50 frames in
# 10 s. Usage: stuck_viewer.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup stuck "${1:-/work/main/build}"
cs_start_server

cs_start_bg stuck "$CS_VIEWER" --url "$CS_URL" --mode stall --duration 16
stuck=$CS_LAST_PID
cs_wait_log "$CS_TMP/stuck.err" 'sending offer' 15 || cs_fail "stuck viewer never sent its offer"

cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 10
viewer=$CS_LAST_PID
cs_await_viewer "$viewer" "normal viewer"
cs_wait_pid "$stuck" 30 || cs_fail "stuck viewer did not stop"
cs_server_alive || cs_fail "server died"

cs_json "$CS_TMP/stuck.out" 'd["connected"] and d["frames"] == 0' "stuck viewer connected, got nothing"
out="$CS_TMP/viewer.out"
cs_json "$out" 'd["frames"] >= 50' "normal viewer: at least 50 frames"
cs_json "$out" 'd["frame_numbers_increasing"]' "normal viewer: frame numbers increasing"
cs_log "viewer: $(head -n1 "$out")"
cs_pass "stuck viewer does not block the others"
