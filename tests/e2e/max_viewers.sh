#!/usr/bin/env bash
# CS_MAX_VIEWERS=2: two decoding viewers stream; a third WebSocket connection
# made while they run gets {"type":"error"} and is then closed by the server;
# the two keep receiving frames (>= 50 each, some after the refusal).
# Usage: max_viewers.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup maxv "${1:-/work/main/build}"
cs_start_server CS_MAX_VIEWERS=2

declare -A pid
for v in view0 view1; do
  cs_start_bg "$v" "$CS_VIEWER" --url "$CS_URL" --duration 10
  pid[$v]=$CS_LAST_PID
done
# Both viewers hold a slot once their sockets are open; wait until both are
# streaming so the refusal happens mid-stream.
for v in view0 view1; do
  cs_wait_log "$CS_TMP/$v.err" "connection state connected" 15 ||
    cs_fail "$v did not connect within 15 s"
done
cs_log "both viewers connected"

out="$CS_TMP/third.out"
cs_ns python3 "$here/wsprobe.py" ws "$CS_URL" expect=error:2 closed:3 >"$out"
refused_ms=$(cs_now_ms)
cs_json "$out:1" 'd["ok"]' "third socket: WebSocket handshake accepted"
cs_json "$out:2" 'd["ok"] and d["msg"]["type"] == "error" and d["msg"]["message"] and "skipped" not in d' \
  "third socket gets an error"
cs_json "$out:3" 'd["ok"] and d["closed"]' "third socket closed by the server"
cs_log "third socket: $(sed -n 2p "$out")"

for v in view0 view1; do
  cs_await_viewer "${pid[$v]}" "$v"
done
cs_server_alive || cs_fail "server died"

for v in view0 view1; do
  out="$CS_TMP/$v.out"
  cs_json "$out" 'd["answered"] and d["ice_connected"]' "$v: connected"
  cs_json "$out" 'd["frames"] >= 50' "$v: at least 50 frames"
  cs_json "$out" "d['last_frame_wall_ms'] >= $refused_ms + 2000" "$v: frames after the refusal"
  cs_json "$out" 'not any("server" in e for e in d["errors"])' "$v: no error from the server"
  cs_log "$v: $(head -n1 "$out")"
done
grep -q "refused, already 2 viewers" "$CS_TMP/server.err" ||
  cs_fail "server log does not show the refusal"
cs_pass "max viewers"
