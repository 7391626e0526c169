#!/usr/bin/env bash
# Behind NAT through a TURN relay (Debian's coturn on the router between the
# server and the viewer, which drops every packet between the two ends but
# the signaling TCP: netns.sh cs_setup_nat relay), with the native viewer:
#  1. the viewer learns the relay from GET /ice-servers (REST credentials
#     minted from CS_TURN_SECRET) and, relay-only, gets frames;
#  2. the server's allocations at the relay are released when the viewer
#     leaves (coturn closes every session of the server's, within 5 s; left
#     alone they would live for their 600 s lifetime);
#  3. TURN over TCP (?transport=tcp) works the same;
#  4. a secret the relay does not know, and a relay that never answers: the
#     viewer gets an error naming both within 15 s, the server logs it once,
#     and the secret is nowhere;
#  5. nothing is sent that was not asked for: no UPnP (SSDP, port 1900)
#     socket unless CS_ICE_UPNP=1.
source "$(dirname "$0")/netns.sh"
command -v turnserver >/dev/null || { echo "coturn (turnserver) not installed" >&2; exit 1; }
cs_setup_nat turn_relay "${1:-/work/main/build}" relay
secret="relay-secret-$$-$RANDOM"
cs_start_turn "$secret"
ice_url="http://$CS_SERVER_IP:$CS_PORT/ice-servers"

# Sessions coturn opened and closed for the server (its users are
# "EXPIRY:viewer-N"; the viewer's are "EXPIRY:viewer@ADDRESS").
server_sessions() { grep -cE "new, realm=<cube-streamer>, username=<[0-9]+:viewer-[0-9]+>" "$CS_TMP/turn.out"; }
server_sessions_closed() { grep -cE "closed \(2nd stage\), user <[0-9]+:viewer-[0-9]+>" "$CS_TMP/turn.out"; }

# The server's TCP connections to the relay (TURN over TCP) now.
server_tcp_to_relay() {
  ip netns exec "$CS_ROUTER_NS" ss -Htn state established "( sport = :3478 )" | grep -c "$CS_SERVER_IP:" || true
}

watch_through_relay() {  # NAME: a relay-only viewer for 10 s
  cs_viewer_bg "$1" "$CS_VIEWER" --url "$CS_URL" --ice-servers "$ice_url" --relay --duration 10
  local pid=$CS_LAST_PID
  max_server_tcp=0
  while kill -0 "$pid" 2>/dev/null; do
    local n
    n=$(server_tcp_to_relay)
    ((n > max_server_tcp)) && max_server_tcp=$n
    sleep 0.5
  done
  cs_await_viewer "$pid" "$1"
  cs_json "$CS_TMP/$1.out" 'd["frames"] >= 60 and list(d["local_candidate_types"]) == ["relay"] and not d["errors"]' \
    "$1: frames through the relay, relay candidates only"
}

cs_log "1. UDP relay, credentials from /ice-servers"
cs_start_server CS_TURN_SERVER="turn://$CS_TURN_IP:3478" CS_TURN_SECRET="$secret"
ip netns exec "$CS_VIEWER_NS" curl -sf "$ice_url" >"$CS_TMP/ice-servers.json" || cs_fail "GET /ice-servers"
cs_json "$CS_TMP/ice-servers.json" \
  'd["iceServers"][0]["urls"] == ["turn:'"$CS_TURN_IP"':3478"] and d["iceServers"][0]["username"].endswith(":viewer@'"$CS_CLIENT_IP"'")' \
  "/ice-servers names the relay with REST credentials for this client"
watch_through_relay udp_viewer

cs_log "2. the server's allocations are released when the viewer leaves"
opened=$(server_sessions)
((opened > 0)) || cs_fail "the server made no allocation at the relay"
deadline=$(($(cs_now_ms) + 5000))
until (($(server_sessions_closed) >= opened)); do
  (($(cs_now_ms) < deadline)) || cs_fail "coturn still holds $((opened - $(server_sessions_closed))) of the server's $opened sessions 5 s after the viewer left"
  sleep 0.2
done
cs_log "ok: all $opened of the server's sessions at the relay closed"
cs_stop_server

cs_log "3. TURN over TCP"
cs_start_server CS_TURN_SERVER="turn://$CS_TURN_IP:3478?transport=tcp" CS_TURN_SECRET="$secret"
watch_through_relay tcp_viewer
((max_server_tcp > 0)) || cs_fail "the server held no TCP connection to the relay"
cs_log "ok: the server reached the relay over TCP ($max_server_tcp connections)"
cs_stop_server

cs_log "4. a secret the relay does not know, and a relay that never answers"
silent_relay="10.78.${CS_NET}.77:3478"  # routed, nobody there: every request times out
cs_start_server CS_TURN_SERVER="turn://$CS_TURN_IP:3478,turn://$silent_relay" CS_TURN_SECRET="wrong-$secret"
t0=$(cs_now_ms)
cs_viewer_bg refused "$CS_VIEWER" --url "$CS_URL" --ice-servers "$ice_url" --relay --duration 10
cs_wait_log "$CS_TMP/server.err" "TURN relay $CS_TURN_IP:3478, $silent_relay gave no relay candidate" 15 ||
  cs_fail "no log line naming the relays within 15 s"
cs_log "ok: the server logged the relay's refusal after $(($(cs_now_ms) - t0)) ms"
cs_wait_pid "$CS_LAST_PID" 30
grep -q "server error: the server's TURN relay $CS_TURN_IP:3478, $silent_relay gave it no relay address" "$CS_TMP/refused.out" ||
  cs_fail "the viewer got no error naming the relay"
(($(grep -c "gave no relay candidate" "$CS_TMP/server.err") == 1)) || cs_fail "not exactly one log line"
! grep -rq -- "$secret" "$CS_TMP"/server.* || cs_fail "the TURN secret is in the server's output"
cs_stop_server

cs_log "5. no UPnP unless CS_ICE_UPNP=1"
upnp_sockets() {  # the server's sockets on port 1900 while a viewer connects
  cs_start_server "$@"
  cs_start_bg plain "$CS_VIEWER" --url "ws://$CS_SERVER_IP:$CS_PORT/ws" --duration 8
  local pid=$CS_LAST_PID n=0 deadline=$(($(cs_now_ms) + 6000))
  while (($(cs_now_ms) < deadline)); do
    n=$(cs_ns ss -Hanup | grep "pid=$CS_SERVER_PID," | grep -c ':1900 ' || true)
    ((n == 0)) || break
    sleep 0.5
  done
  kill "$pid" 2>/dev/null
  cs_stop_server
  echo "$n"
}
ip -n "$CS_NS" route add 239.0.0.0/8 via "$CS_ROUTER_INNER_IP"  # where SSDP would go
[[ "$(upnp_sockets)" == 0 ]] || cs_fail "UPnP sockets (port 1900) opened by default"
# Opting in has a known cost that this check does not judge: the gupnp-igd
# thread of an agent that leaves while it is still discovering is never
# released (streaming/src/viewer_branch.cpp, configure_ice_agent), so a
# sanitized server's leak check is off for this one start (a CI run saw
# 16.5 KiB in 3 g_malloc blocks from it, and none from the others).
upnp_on=(CS_ICE_UPNP=1)
[[ "${CS_SANITIZER_LOGS:-0}" == 1 ]] &&
  upnp_on+=("ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0:log_path=$CS_TMP/sanitizer")
[[ "$(upnp_sockets "${upnp_on[@]}")" != 0 ]] || cs_fail "CS_ICE_UPNP=1 opened no UPnP socket: this check sees nothing"
cs_log "ok: no port-1900 socket by default; CS_ICE_UPNP=1 opens them"
cs_pass "TURN relay: UDP and TCP, released allocations, a refused secret reported, no UPnP"
