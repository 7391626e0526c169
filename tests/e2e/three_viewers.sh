#!/usr/bin/env bash
# Three decoding viewers (separate processes); one leaves after ~4 s. The two
# that stay must see no gap over 200 ms and keep receiving frames after the
# leave. Usage: three_viewers.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup three "${1:-/work/main/build}"
cs_start_server

cs_start_bg stay0 "$CS_VIEWER" --url "$CS_URL" --duration 14
stay0=$CS_LAST_PID
cs_start_bg stay1 "$CS_VIEWER" --url "$CS_URL" --duration 14
stay1=$CS_LAST_PID
cs_start_bg leaver "$CS_VIEWER" --url "$CS_URL" --duration 4
leaver=$CS_LAST_PID

cs_wait_pid "$leaver" 30 || cs_fail "leaving viewer did not stop"
leave_ms=$(cs_now_ms)
cs_exit_code "$leaver" || cs_fail "leaving viewer could not connect"
cs_log "viewer left at $leave_ms"
cs_json "$CS_TMP/leaver.out" 'd["frames"] > 0' "leaving viewer saw frames before leaving"

for v in stay0 stay1; do
  cs_await_viewer "${!v}" "$v"
done
cs_server_alive || cs_fail "server died"

for v in stay0 stay1; do
  out="$CS_TMP/$v.out"
  cs_json "$out" 'd["frames"] >= 100' "$v: at least 100 frames"
  cs_json "$out" 'd["max_gap_ms"] <= 200' "$v: no gap over 200 ms"
  cs_json "$out" "d['last_frame_wall_ms'] >= $leave_ms + 5000" "$v: frames long after the leave"
  cs_json "$out" 'd["frame_numbers_increasing"]' "$v: frame numbers increasing"
  cs_log "$v: $(head -n1 "$out")"
done
cs_pass "three viewers, one leaving"
