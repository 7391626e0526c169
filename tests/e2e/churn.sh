#!/usr/bin/env bash
# ~30 viewers that leave before negotiation completes (close right after the
# offer, after the answer, or drop TCP) while one viewer watches. The server
# must stay alive, the watcher keep receiving frames, and a new viewer after
# the churn must still get video. Usage: churn.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup churn "${1:-/work/main/build}"
cs_start_server

cs_start_bg watcher "$CS_VIEWER" --url "$CS_URL" --duration 90
watcher=$CS_LAST_PID
cs_wait_log "$CS_TMP/watcher.err" 'media pad added' 20 || cs_fail "watcher got no media"

cs_start_bg churn "$CS_VIEWER" --url "$CS_URL" --mode churn --churn-count 30 --duration 60
churn=$CS_LAST_PID
cs_wait_pid "$churn" 75 || cs_fail "churn did not finish within 75 s"
churn_end_ms=$(cs_now_ms)
cs_exit_code "$churn" || cs_fail "churn could not connect at all"
cs_json "$CS_TMP/churn.out" 'd["iterations"] == 30 and d["opened"] >= 28' "churn ran 30 iterations"
cs_server_alive || cs_fail "server died during churn"

# A fresh viewer after the churn must still get video (this also gives the
# watcher a few seconds to show it is still receiving).
cs_start_bg after "$CS_VIEWER" --url "$CS_URL" --duration 5
after=$CS_LAST_PID
cs_wait_pid "$after" 30 || cs_fail "post-churn viewer did not stop"
cs_exit_code "$after" || cs_fail "post-churn viewer could not connect"
kill -TERM "$watcher"
cs_wait_pid "$watcher" 15 || cs_fail "watcher did not stop on SIGTERM"
cs_server_alive || cs_fail "server died after churn"

cs_json "$CS_TMP/after.out" 'd["frames"] >= 30' "post-churn viewer: at least 30 frames"
cs_json "$CS_TMP/watcher.out" "d['last_frame_wall_ms'] >= $churn_end_ms + 2000" \
  "watcher still receiving after the churn"
cs_json "$CS_TMP/watcher.out" 'd["frame_numbers_increasing"]' "watcher: frame numbers increasing"
cs_log "churn: $(head -n1 "$CS_TMP/churn.out")"
cs_log "watcher: $(head -n1 "$CS_TMP/watcher.out")"
cs_pass "churn"
