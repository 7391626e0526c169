#!/usr/bin/env bash
# Who may connect: CS_MAX_PER_IP (the next WebSocket from that address gets
# HTTP 429, other addresses are unaffected, a closed socket frees its place),
# the Origin check (own origin and no Origin let in; a foreign origin, "null"
# or the wrong scheme get 403; CS_ALLOWED_ORIGINS and "*" widen it) and
# CS_AUTH_TOKEN (401 for the page, its files, /stats and the upgrade without
# the right token; the right one by header or query is served; a viewer with
# it streams). Each refusal leaves one warn line naming its cause.
# Usage: access_control.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup access "${1:-/work/main/build}"
probe() { cs_ns python3 "$here/wsprobe.py" "$@"; }
other_ip="10.77.${CS_NET}.3"
ip -n "$CS_NS" addr add "$other_ip/24" dev csv1 || cs_fail "cannot add $other_ip"
base="http://${CS_SERVER_IP}:${CS_PORT}"
own_origin="http://${CS_SERVER_IP}:${CS_PORT}"

# restart NAME VAR=VALUE...: a fresh server whose log is $CS_TMP/NAME.err.
restart() {
  local name="$1"
  shift
  if [[ -n "${CS_SERVER_PID:-}" ]]; then cs_stop_server; fi
  cs_start_bg "$name" env CS_HOST="$CS_SERVER_IP" CS_PORT="$CS_PORT" \
    CS_ICE_ADDRESSES="$CS_SERVER_IP" CS_LOG_LEVEL=debug "$@" "$CS_SERVER_BIN"
  CS_SERVER_PID=$CS_LAST_PID
  log="$CS_TMP/$name.err"
  cs_wait_port "$CS_SERVER_IP" "$CS_PORT" 30 "$CS_SERVER_PID" || cs_fail "$name did not start"
}

# ---- CS_MAX_PER_IP=3 -------------------------------------------------------
restart perip CS_MAX_PER_IP=3
holders=()
for i in 1 2 3; do
  cs_start_bg "hold$i" python3 "$here/wsprobe.py" --source "$CS_CLIENT_IP" ws "$CS_URL" open:40
  holders+=("$CS_LAST_PID")
  cs_wait_log "$CS_TMP/hold$i.out" '"status": 101' 5 || cs_fail "holder $i not accepted"
done
cs_log "three sockets open from $CS_CLIENT_IP"
probe --source "$CS_CLIENT_IP" ws "$CS_URL" open:0.1 >"$CS_TMP/fourth.out"
cs_json "$CS_TMP/fourth.out" 'd["status"] == 429' "4th WebSocket from one address: HTTP 429"
cs_wait_log "$log" "WARN .*refused WebSocket upgrade from ${CS_CLIENT_IP//./\\.} .*3 WebSockets already open from this address \(CS_MAX_PER_IP=3\) -> 429" 2 ||
  cs_fail "no warn line for the 429"
[[ $(grep -c "refused WebSocket upgrade" "$log") == 1 ]] || cs_fail "not exactly one log line for one refusal"
probe --source "$other_ip" ws "$CS_URL" offer expect=answer:10 close >"$CS_TMP/other_ip.out"
cs_json "$CS_TMP/other_ip.out:1" 'd["status"] == 101' "another address is let in meanwhile"
cs_json "$CS_TMP/other_ip.out:3" 'd["ok"]' "... and its offer is answered"
# A socket that has closed frees its place (polled: lws takes a moment).
kill -KILL "${holders[0]}"
deadline=$(( $(cs_now_ms) + 10000 ))
until probe --source "$CS_CLIENT_IP" ws "$CS_URL" open:0.1 >"$CS_TMP/after_close.out"; do
  (( $(cs_now_ms) < deadline )) || cs_fail "no place freed 10 s after a holder died: $(head -c 300 "$CS_TMP/after_close.out")"
  sleep 0.2
done
cs_log "ok: a closed socket frees its place"
probe --source "$CS_CLIENT_IP" http "$base/" >"$CS_TMP/perip_http.out"
cs_json "$CS_TMP/perip_http.out" 'd["status"] == 200' "the limit is on WebSockets: GET / still served"
for p in "${holders[@]:1}"; do kill -TERM "$p" 2>/dev/null; done

# A socket the server is closing still counts until lws has closed it: with
# CS_MAX_PER_IP=1, a client floods (the server answers with an error and a
# close frame) and then never acknowledges the close nor reads; meanwhile a
# second socket from its address is refused, and let in once lws gives up.
restart perip_closing CS_MAX_PER_IP=1
cat >"$CS_TMP/no_ack.py" <<'PY'
import base64, os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), source_address=(sys.argv[3], 0))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /ws HTTP/1.1\r\nHost: {sys.argv[1]}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
assert b" 101 " in s.recv(4096)
frame = bytes([0x81, 0x80 | 16]) + b"\0\0\0\0" + b'{"type":"bogus"}'
s.sendall(frame * 80)  # past the burst of 50: error, then a close frame we never answer
print("flooded", flush=True)
time.sleep(30)
PY
cs_start_bg no_ack python3 "$CS_TMP/no_ack.py" "$CS_SERVER_IP" "$CS_PORT" "$CS_CLIENT_IP"
cs_wait_log "$log" "too many messages" 5 || cs_fail "the flood was not refused"
probe --source "$CS_CLIENT_IP" ws "$CS_URL" open:0.1 >"$CS_TMP/while_closing.out"
cs_json "$CS_TMP/while_closing.out" 'd["status"] == 429' "a socket still closing counts: the next one gets 429"
deadline=$(( $(cs_now_ms) + 20000 ))
until probe --source "$CS_CLIENT_IP" ws "$CS_URL" open:0.1 >"$CS_TMP/after_closing.out"; do
  (( $(cs_now_ms) < deadline )) || cs_fail "the closing socket was never let go"
  sleep 0.5
done
cs_log "ok: once lws has closed it, its place is free"

# ---- Origin ------------------------------------------------------------------
ws_with_origin() {  # ORIGIN EXPECTED_STATUS WHAT
  probe --header "Origin: $1" ws "$CS_URL" open:0.1 >"$CS_TMP/origin.out"
  cs_json "$CS_TMP/origin.out" "d['status'] == $2" "$3"
}
ws_with_origin "$own_origin" 101 "own origin: let in"
ws_with_origin "HTTP://${CS_SERVER_IP}:${CS_PORT}" 101 "own origin, other case: let in"
ws_with_origin "http://evil.example" 403 "foreign origin: 403"
ws_with_origin "http://${CS_SERVER_IP}:9999" 403 "own host, other port: 403"
ws_with_origin "https://${CS_SERVER_IP}:${CS_PORT}" 403 "own host:port, https on a plain server: 403"
ws_with_origin "null" 403 "Origin null: 403"
cs_wait_log "$log" 'WARN .*refused WebSocket upgrade .*Origin null not allowed \(CS_ALLOWED_ORIGINS\) -> 403' 2 ||
  cs_fail "no warn line naming the refused origin"
restart origins CS_ALLOWED_ORIGINS=http://app.example:9000,https://other.example
ws_with_origin "http://app.example:9000" 101 "listed origin: let in"
ws_with_origin "$own_origin" 101 "own origin still let in beside a list"
ws_with_origin "http://evil.example" 403 "unlisted origin: 403"
restart any_origin 'CS_ALLOWED_ORIGINS=*'
ws_with_origin "http://evil.example" 101 "CS_ALLOWED_ORIGINS=*: any origin let in"
ws_with_origin "null" 101 "CS_ALLOWED_ORIGINS=*: even null"

# ---- CS_AUTH_TOKEN -----------------------------------------------------------
token="t0ken-$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)"
# The last character changed: to X, or to Y when it was X (then the "wrong"
# token was the right one, 1 run in 62, and the server rightly let it in).
if [[ ${token: -1} == X ]]; then wrong="${token%?}Y"; else wrong="${token%?}X"; fi
[[ $wrong != "$token" ]] || cs_fail "the wrong token equals the right one"
restart auth CS_AUTH_TOKEN="$token"
for path in / /index.html /viewer.js /viewer.css /stats /nope; do
  probe http "$base$path" >"$CS_TMP/noauth.out"
  cs_json "$CS_TMP/noauth.out" 'd["status"] == 401 and d["www_authenticate"] == "Bearer"' "GET $path without token: 401"
done
probe http "$base/" >"$CS_TMP/noauth_root.out"
cs_json "$CS_TMP/noauth_root.out" '"not authorised" in d["body_start"] and d["content_type"].startswith("text/html")' \
  "GET / without token: a tiny page saying not authorised"
# (A decoded NUL in the query makes lws drop the request: no reply at all.)
for t in "$wrong" "${token:0:10}" "${token}x" "" "%00$token"; do
  probe http "$base/stats?token=$t" >"$CS_TMP/wrong.out"
  cs_json "$CS_TMP/wrong.out" 'd["status"] == 401 or (d["status"] is None and d["length"] == 0)' \
    "GET /stats?token=(wrong: ${#t} chars): 401"
  probe --header "Authorization: Bearer $t" http "$base/stats" >"$CS_TMP/wrong.out"
  cs_json "$CS_TMP/wrong.out" 'd["status"] == 401' "GET /stats with wrong bearer (${#t} chars): 401"
done
probe --header "Authorization: Basic $token" http "$base/stats" >"$CS_TMP/basic.out"
cs_json "$CS_TMP/basic.out" 'd["status"] == 401' "the token under another scheme: 401"
probe --header "Authorization: Bearer $token" http "$base/" >"$CS_TMP/right_header.out"
cs_json "$CS_TMP/right_header.out" 'd["status"] == 200 and d["content_type"].startswith("text/html")' "GET / with the bearer header: 200"
for path in "/?token=$token" "/viewer.js?token=$token" "/stats?x=1&token=$token" "/stats?token=$token&x=1"; do
  probe http "$base$path" >"$CS_TMP/right_query.out"
  cs_json "$CS_TMP/right_query.out" 'd["status"] == 200' "GET ${path%%\?*} with the token in the query: 200"
done
ws="ws://${CS_SERVER_IP}:${CS_PORT}/ws"
probe ws "$ws" open:0.1 >"$CS_TMP/ws_none.out"
cs_json "$CS_TMP/ws_none.out" 'd["status"] == 401' "/ws upgrade without token: 401"
probe ws "$ws?token=$wrong" open:0.1 >"$CS_TMP/ws_wrong.out"
cs_json "$CS_TMP/ws_wrong.out" 'd["status"] == 401' "/ws upgrade with a wrong token: 401"
probe --header "Authorization: Bearer $wrong" ws "$ws" open:0.1 >"$CS_TMP/ws_wrong_h.out"
cs_json "$CS_TMP/ws_wrong_h.out" 'd["status"] == 401' "/ws upgrade with a wrong bearer: 401"
probe --header "Authorization: Bearer $token" ws "$ws" offer expect=answer:10 close >"$CS_TMP/ws_right_h.out"
cs_json "$CS_TMP/ws_right_h.out:3" 'd["ok"]' "/ws with the bearer header: upgraded, offer answered"
probe ws "$ws?token=$token" offer expect=answer:10 close >"$CS_TMP/ws_right_q.out"
cs_json "$CS_TMP/ws_right_q.out:3" 'd["ok"]' "/ws?token=: upgraded, offer answered"
cs_wait_log "$log" 'WARN .*refused (HTTP request|WebSocket upgrade) .*no or wrong token \(CS_AUTH_TOKEN\) -> 401' 2 ||
  cs_fail "no warn line for a 401"
cs_start_bg viewer "$CS_VIEWER" --url "$ws?token=$token" --duration 6
cs_await_viewer "$CS_LAST_PID" viewer
cs_json "$CS_TMP/viewer.out" 'd["frames"] >= 50' "a viewer with the token streams (>= 50 frames)"
grep -qF "$token" "$log" && cs_fail "the token appears in the server log"
cs_server_alive || cs_fail "server died"
cs_pass "per-address limit, Origin check and token"
