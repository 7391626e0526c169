#!/usr/bin/env bash
# The viewer's media path is cut (all UDP dropped in the namespace) while its
# WebSocket stays up and answers pings: only the silence of its media
# transport (no RTCP) tells the server it is gone. It must be removed within
# 10 s with one log line saying so, and /stats must count it out.
# Usage: media_cut.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup mediacut "${1:-/work/main/build}"
cs_start_server

cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 30
cs_wait_log "$CS_TMP/viewer.err" 'media pad added, receiving' 20 || cs_fail "viewer never received"
sleep 2  # a few seconds of normal RTCP first, so the server has seen its pace
cs_ns nft add table inet cut
cs_ns nft 'add chain inet cut out { type filter hook output priority 0 ; }'
cs_ns nft add rule inet cut out meta l4proto udp drop
cut_ms=$(cs_now_ms)
cs_log "UDP cut at $cut_ms"
cs_wait_log "$CS_TMP/server.err" 'removed \(nothing from the viewer.s media transport \(no RTCP\)' 12 ||
  cs_fail "viewer not removed within 12 s of the cut"
removed_ms=$(cs_now_ms)
cs_log "removed $((removed_ms - cut_ms)) ms after the cut"
((removed_ms - cut_ms <= 10500)) || cs_fail "removal took $((removed_ms - cut_ms)) ms (limit 10 s)"
stats=$(cs_ns curl -sf --max-time 3 "http://$CS_SERVER_IP:$CS_PORT/stats") || cs_fail "no /stats"
echo "$stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["viewers"] == 0 else 1)' ||
  cs_fail "/stats still counts the viewer: $stats"
cs_wait_log "$CS_TMP/viewer.err" 'websocket closed' 5 || cs_fail "the viewer's socket was not closed"
cs_server_alive || cs_fail "server died"
cs_pass "a viewer whose media path is cut is removed by RTCP silence"
