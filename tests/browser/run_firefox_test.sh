#!/usr/bin/env bash
# Firefox ESR and Chromium watch one server at once (firefox_test.mjs): Firefox
# gets VP8, Chromium H.264, both at full frame rate, the cube in both
# screenshots, the codec and rung in both overlays. Server and browsers share
# a private namespace (tests/e2e/netns.sh); Firefox gathers no candidate
# without a default route, so the namespace gets one behind the guard rule
# (cs_guard_route), and the test fails if the guard had to stop a packet for
# anywhere outside: neither browser may try to reach the world.
#
#   run_firefox_test.sh BUILD_DIR [firefox_test.mjs args...]
#
# The stream is 640x360 (CS_SERVER_ENV may say otherwise): two browsers
# decoding and compositing, the renderer and two encoders share the 2 cores,
# and full frame rate is what is tested, not the size. At 1280x720 under
# other work (load 7-9) Firefox presented 18-28 fps here, at 640x360 21-30.
# CS_SERVER_ENV="VAR=VALUE ..." adds settings to the server's environment;
# CS_FIREFOX_SCRIPT runs another script the same way (sound_test.mjs
# --browser firefox), CS_FIREFOX_PASS is then its pass line; CS_SOUND_SINK=1
# gives the browsers a sound output (tests/e2e/netns.sh cs_start_sound_sink).
# Needs root (ip netns), node/npm, chromium, firefox-esr.
# netns.sh is written for plain bash (no -e): its cleanup tolerates failing kills.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../e2e/netns.sh"
build="${1:?usage: run_firefox_test.sh BUILD_DIR [firefox_test args...]}"
shift
[[ -x "${CS_FIREFOX:-/usr/bin/firefox-esr}" ]] || { echo "run_firefox_test: no firefox-esr" >&2; exit 1; }
[[ -x "${CS_CHROMIUM:-/usr/bin/chromium}" ]] || { echo "run_firefox_test: no chromium" >&2; exit 1; }
[[ -d "$HERE/node_modules/puppeteer-core" ]] || (cd "$HERE" && npm ci --no-audit --no-fund >&2)

cs_setup browser_firefox "$build"
cs_guard_route csv1
# shellcheck disable=SC2086 # CS_SERVER_ENV is a list of VAR=VALUE words
cs_start_server CS_FPS=30 CS_WIDTH=640 CS_HEIGHT=360 ${CS_SERVER_ENV:-}
[[ "${CS_SOUND_SINK:-0}" == 1 ]] && cs_start_sound_sink
script="${CS_FIREFOX_SCRIPT:-firefox_test.mjs}"
cs_ns node "$HERE/$script" "http://$CS_SERVER_IP:$CS_PORT/${CS_PAGE_QUERY:-}" "$@" >"$CS_TMP/firefox_test.out" \
  2>"$CS_TMP/firefox_test.err" || cs_fail "$script failed"
cs_log "$script: $(cat "$CS_TMP/firefox_test.out")"
outside=$(cs_guard_dropped outside)
cs_log "guard: $outside packets for outside dropped, $(cs_guard_dropped ipv6) IPv6"
[[ "$outside" == 0 ]] ||
  cs_fail "a browser or the server sent $outside packets for outside the namespace: $(cs_guard_outside)"
cs_stop_server
cs_pass "${CS_FIREFOX_PASS:-Firefox receives VP8 and Chromium H.264 at once, both at full rate, the cube in both}"
