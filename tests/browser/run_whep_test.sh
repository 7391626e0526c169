#!/usr/bin/env bash
# Chromium plays the stream through the npm `whip-whep` package's WHEP client
# (whep_test.mjs) from a page on another origin (the viewers' address, port
# 9000) than the server's, in a test namespace: >= 25 fps, a selected
# candidate pair, the cube in the screenshot, and client.stop()'s DELETE
# makes the server drop the viewer at once (its log, /stats back at 0).
#
#   run_whep_test.sh BUILD_DIR [whep_test.mjs args, e.g. --min-fps 28]
#
# Needs root (ip netns), node/npm and /usr/bin/chromium.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../e2e/netns.sh"
[[ -x "${CS_CHROMIUM:-/usr/bin/chromium}" ]] || { echo "run_whep_test: no chromium" >&2; exit 1; }
[[ -d "$HERE/node_modules/whip-whep" ]] || (cd "$HERE" && npm ci --no-audit --no-fund >&2)

cs_setup browser_whep "${1:?usage: run_whep_test.sh BUILD_DIR [args]}"
shift
page="http://$CS_CLIENT_IP:9000"
cs_start_server CS_WIDTH=640 CS_HEIGHT=360 CS_ALLOWED_ORIGINS="$page" CS_LOG_LEVEL=debug ${CS_SERVER_ENV:-}
cs_ns node "$HERE/whep_test.mjs" --whep "http://$CS_SERVER_IP:$CS_PORT/whep" --page "$page" "$@" \
  "$CS_TMP/whep.png" >"$CS_TMP/whep_test.out" 2>"$CS_TMP/whep_test.err" || cs_fail "whep_test.mjs failed"
stopped_ms=$(cs_now_ms)
cs_log "whep_test: $(cat "$CS_TMP/whep_test.out")"
cs_wait_stats 0 2 || cs_fail "/stats still counts the viewer 2 s after client.stop()'s DELETE: $(cs_stats_viewers)"
cs_log "ok: /stats at 0 within $(($(cs_now_ms) - stopped_ms)) ms of the DELETE"
cs_wait_log "$CS_TMP/server.err" 'removed \(.*\), 0 left' 2 || cs_fail "the server's log does not show the viewer leaving on DELETE"
cs_log "ok: server: $(grep -E 'removed \(.*\), 0 left' "$CS_TMP/server.err" | tail -n1)"
cs_server_alive || cs_fail "server died"
cs_stop_server
cs_pass "Chromium plays through the whip-whep client, DELETE ends the viewer"
