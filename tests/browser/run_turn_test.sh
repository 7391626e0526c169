#!/usr/bin/env bash
# The page in Chromium behind NAT, through coturn (Debian's) on the router
# between the server and the browser, which forwards only the signaling TCP
# and drops every other packet between the two ends (tests/e2e/netns.sh,
# cs_setup_nat relay):
#  1. CS_TURN_SECRET shared with coturn: the page learns the relay from GET
#     /ice-servers, plays with ?relay=1, and getStats' selected pair is relay;
#  2. a secret coturn does not know: the page reports the relay's 401 within
#     10 s and the server logs one line naming the relay (not the secret).
#
#   run_turn_test.sh BUILD_DIR
#
# Needs root (ip netns), node/npm, chromium, coturn.
# netns.sh is written for plain bash (no -e): its cleanup tolerates failing kills.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../e2e/netns.sh"
command -v turnserver >/dev/null || { echo "run_turn_test: coturn not installed" >&2; exit 1; }
[[ -x "${CS_CHROMIUM:-/usr/bin/chromium}" ]] || { echo "run_turn_test: no chromium" >&2; exit 1; }
[[ -d "$HERE/node_modules/playwright-core" ]] || (cd "$HERE" && npm ci --no-audit --no-fund >&2)

cs_setup_nat browser_turn "${1:?usage: run_turn_test.sh BUILD_DIR}" relay
secret="turn-secret-$$-$RANDOM"
cs_start_turn "$secret"
page() { ip netns exec "$CS_VIEWER_NS" node "$HERE/turn_test.mjs" "$@"; }
url="http://$CS_SERVER_IP:$CS_PORT/"

cs_log "1. the relay's own secret: the page plays through it"
cs_start_server CS_TURN_SERVER="turn://$CS_TURN_IP:3478" CS_TURN_SECRET="$secret"
page "${url}?relay=1" relay >"$CS_TMP/relay.json" || cs_fail "the page did not play through the relay"
cs_json "$CS_TMP/relay.json" 'd["pair"]["local"]["type"] == "relay" and d["fps"] > 5' \
  "selected pair is a relay pair and video plays"
cs_stop_server

cs_log "2. a secret the relay does not know: refused fast and clearly"
cs_start_server CS_TURN_SERVER="turn://$CS_TURN_IP:3478" CS_TURN_SECRET="not-$secret"
page "${url}?relay=1" refused >"$CS_TMP/refused.json" || cs_fail "the page did not report the 401"
cs_json "$CS_TMP/refused.json" 'd["afterMs"] < 10000' "the page said 401 within 10 s"
cs_wait_log "$CS_TMP/server.err" "TURN relay $CS_TURN_IP:3478 gave no relay candidate" 10 ||
  cs_fail "the server did not log the relay's failure"
! grep -q -- "not-$secret" "$CS_TMP/server.err" || cs_fail "the secret is in the server's log"
cs_pass "the page plays through TURN and reports a refused relay"
