#!/usr/bin/env bash
# A server behind 1:1 NAT (netns.sh cs_setup_nat one_to_one: the viewer
# reaches it only at CS_PUBLIC_IP, mapped by the router, which lets the
# server's packets out only on flows the viewer opened), with a port range:
#  1. without CS_ICE_PUBLIC_IP the server announces its private address and
#     the viewer gets no media (the model is a real NAT);
#  2. with CS_ICE_PUBLIC_IP every candidate the viewer is given carries the
#     public address, and with CS_ICE_PORT_RANGE=50000-50001 two viewers
#     stream, every UDP socket of the server's media is in the range;
#  3. the range is full: a third viewer gets a clear error and is closed;
#     once one leaves, a new viewer streams again.
source "$(dirname "$0")/netns.sh"
cs_setup_nat ice_nat "${1:-/work/main/build}" one_to_one

cs_log "1. no public address announced: no media through the NAT"
cs_start_server
cs_viewer_bg hidden "$CS_VIEWER" --url "$CS_URL" --duration 6
cs_await_viewer "$CS_LAST_PID" hidden
cs_json "$CS_TMP/hidden.out" 'd["frames"] == 0 and "'"$CS_PUBLIC_IP"'" not in d["remote_candidate_addresses"]' \
  "without CS_ICE_PUBLIC_IP the viewer behind the NAT gets nothing"
cs_stop_server

cs_log "2. CS_ICE_PUBLIC_IP and a two-port range: two viewers"
cs_start_server CS_ICE_PUBLIC_IP="$CS_PUBLIC_IP" CS_ICE_PORT_RANGE=50000-50001
cs_viewer_bg first "$CS_VIEWER" --url "$CS_URL" --duration 16
first=$CS_LAST_PID
cs_viewer_bg second "$CS_VIEWER" --url "$CS_URL" --duration 16
second=$CS_LAST_PID
cs_wait_stats 2 20 || cs_fail "two viewers did not join"
sleep 1  # both are streaming now; sample the server's sockets meanwhile
cs_ns ss -Hanup | grep "pid=$CS_SERVER_PID," >"$CS_TMP/udp.txt"
python3 - "$CS_TMP/udp.txt" "$CS_SERVER_IP" <<'PY' || cs_fail "media sockets outside CS_ICE_PORT_RANGE: $(cat "$CS_TMP/udp.txt")"
import sys
rows = [l.split() for l in open(sys.argv[1]) if sys.argv[2] + ":" in l]
ports = [int(r[3].rsplit(":", 1)[1]) for r in rows]
print("server media UDP ports:", ports)
sys.exit(0 if len(ports) == 2 and all(50000 <= p <= 50001 for p in ports) else 1)
PY
cs_log "ok: the server's UDP media sockets are 50000 and 50001"

cs_log "3. the range is full"
cs_viewer_bg third "$CS_VIEWER" --url "$CS_URL" --duration 8
third=$CS_LAST_PID
cs_wait_log "$CS_TMP/server.err" "no free ICE port: all of CS_ICE_PORT_RANGE=50000-50001 are in use" 10 ||
  cs_fail "the third viewer was not refused"
for v in first second; do
  cs_await_viewer "${!v}" "$v"
  cs_json "$CS_TMP/$v.out" 'd["frames"] >= 150 and d["remote_candidate_addresses"] == ["'"$CS_PUBLIC_IP"'"]' \
    "$v streamed, every server candidate it saw carries the public address"
done
cs_wait_pid "$third" 20
grep -q "server error: server cannot take another viewer now: no free ICE port" "$CS_TMP/third.out" ||
  cs_fail "the third viewer got no clear error"
cs_json "$CS_TMP/third.out" 'd["frames"] == 0' "the third viewer got no media"
cs_wait_stats 0 10 || cs_fail "viewers still counted"
cs_viewer_bg again "$CS_VIEWER" --url "$CS_URL" --duration 5
cs_await_viewer "$CS_LAST_PID" again
cs_json "$CS_TMP/again.out" 'd["frames"] >= 60' "the freed ports take a new viewer"
cs_pass "1:1 NAT with CS_ICE_PUBLIC_IP, CS_ICE_PORT_RANGE honoured and refused when full"
