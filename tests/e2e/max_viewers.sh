#!/usr/bin/env bash
# CS_MAX_VIEWERS=2: a socket that never offers holds no slot and starts no
# rendering; two decoding viewers stream beside it; a third viewer's offer,
# made while they run, gets {"type":"error"} and its socket is closed by the
# server; the two keep receiving frames (>= 50 each, some after the refusal).
# Usage: max_viewers.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup maxv "${1:-/work/main/build}"
cs_start_server CS_MAX_VIEWERS=2 CS_LOG_LEVEL=debug

# An idle socket first: it must not start rendering nor count as a viewer.
cs_start_bg idle python3 "$here/wsprobe.py" ws "$CS_URL" silence=error:14 open:0.1
idle=$CS_LAST_PID
cs_wait_log "$CS_TMP/server.err" 'socket open, waiting for its offer' 5 ||
  cs_fail "the idle socket was not accepted"
cs_ns curl -s "http://${CS_SERVER_IP}:${CS_PORT}/stats" >"$CS_TMP/stats_idle.json"
cs_json "$CS_TMP/stats_idle.json" 'd["viewers"] == 0' "/stats: an idle socket is not a viewer"
grep -q "rendering starts" "$CS_TMP/server.err" && cs_fail "an idle socket started rendering"

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
cs_ns python3 "$here/wsprobe.py" ws "$CS_URL" silence=error:0.5 offer expect=error:2 closed:3 >"$out"
refused_ms=$(cs_now_ms)
cs_json "$out:1" 'd["ok"]' "third socket: WebSocket handshake accepted"
cs_json "$out:2" 'd["ok"]' "third socket: no error before its offer"
cs_json "$out:4" 'd["ok"] and d["msg"]["type"] == "error" and "server full" in d["msg"]["message"] and "skipped" not in d' \
  "third socket's offer gets 'server full'"
cs_json "$out:5" 'd["ok"] and d["closed"]' "third socket closed by the server"
cs_log "third socket: $(sed -n 4p "$out")"
cs_wait_pid "$idle" 20 || cs_fail "idle probe did not finish"
cs_json "$CS_TMP/idle.out:2" 'd["ok"]' "the idle socket got no error while two viewers streamed"

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
