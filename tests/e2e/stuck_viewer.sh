#!/usr/bin/env bash
# Stuck viewers, both kinds. Usage: stuck_viewer.sh [BUILD_DIR]
#
# (a) Back-pressure: a client (deaf_ws.py) offers and then stops reading its
# WebSocket while it keeps sending messages the server answers (under the
# flood limit). Its receive buffer and the server's send buffer for it fill
# (both made small in this namespace: tcp_wmem/tcp_rmem, and SO_RCVBUF), so
# the server's writes to it cannot complete. The server must not block: a
# watching viewer keeps its frames, /stats answers, a viewer joining then
# streams; the deaf socket is closed (no pong) within ~10 s and its slot
# freed.
# (b) CS_NEGOTIATION_TIMEOUT: with it at 4 s, a socket that offers and never
# connects media, and one that never offers, each get an `error` saying the
# negotiation timed out and are closed; the viewer slot they took is free
# again (CS_MAX_VIEWERS=1: a real viewer then streams).
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup stuck "${1:-/work/main/build}"
probe_py="$here/wsprobe.py"

# Bytes the server has queued but not sent to the client on port $1, from
# its socket's Send-Q (0 when there is no such socket). By port alone: both
# ends are in this namespace, so the kernel may pick either address.
server_send_q() {
  cs_ns ss -tnH state established "( sport = :$CS_PORT and dport = :$1 )" |
    awk '{q += $2} END {print q + 0}'
}

# ---- (a) a viewer that stops reading its socket ------------------------
# Small TCP buffers in this namespace (the server's send buffer among them):
# a few kilobytes of answers are enough to fill them.
cs_ns sysctl -q -w net.ipv4.tcp_wmem="4096 4096 4096" net.ipv4.tcp_rmem="4096 4096 4096" ||
  cs_fail "cannot shrink the namespace's TCP buffers"
cs_start_server
server_log="$CS_TMP/server.err"

cs_start_bg watcher "$CS_VIEWER" --url "$CS_URL" --duration 26
watcher=$CS_LAST_PID
cs_wait_log "$CS_TMP/watcher.err" 'receiving' 20 || cs_fail "watcher never received media"

cs_start_bg deaf python3 "$here/deaf_ws.py" "$CS_URL" 16 15
deaf=$CS_LAST_PID
cs_wait_log "$CS_TMP/deaf.out" '"deaf"' 10 || cs_fail "deaf client did not connect"
deaf_port=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$CS_TMP/deaf.out")
cs_log "deaf client on port $deaf_port"

# Its answers pile up in the server's send buffer, seen there as Send-Q: with
# a 4 KB buffer, a kilobyte of small messages (and their overhead) is about
# all it holds, and the server's writes to it cannot complete. Half a
# kilobyte is asserted: on a loaded machine the ping deadline (8 s) can
# close the socket when about 750 bytes were queued (seen in CI's own run).
deadline=$(($(cs_now_ms) + 8000))
max_q=0
while (($(cs_now_ms) < deadline)); do
  q=$(server_send_q "$deaf_port")
  ((q > max_q)) && max_q=$q
  ((max_q >= 512)) && break
  sleep 0.1
done
cs_log "server's Send-Q to the deaf client: $max_q bytes ($(cs_ns ss -tnmH "( sport = :$CS_PORT and dport = :$deaf_port )" | tr -s ' \n\t' ' '))"
((max_q >= 512)) || cs_fail "the server's send buffer to the deaf client never filled (Send-Q $max_q)"

# Meanwhile the server serves: /stats answers at once, and a viewer joining
# now streams.
t0=$(cs_now_ms)
n=$(cs_stats_viewers) || cs_fail "/stats did not answer while a socket was blocked"
cs_log "ok: /stats answered in $(($(cs_now_ms) - t0)) ms while blocked ($n viewers)"
cs_start_bg joiner "$CS_VIEWER" --url "$CS_URL" --duration 5
joiner=$CS_LAST_PID
cs_await_viewer "$joiner" "viewer joining while a socket is blocked"
cs_json "$CS_TMP/joiner.out" 'd["frames"] >= 30' "a viewer joining meanwhile gets frames"

# The deaf socket is closed: no pong (its pings sit unread behind the rest).
cs_wait_log "$server_log" 'viewer=[0-9]+( remote=[^ ]+)? no pong for [0-9.]+ s' 15 ||
  cs_fail "the deaf socket was never closed"
deaf_id=$(grep -oE 'viewer=[0-9]+( remote=[^ ]+)? no pong' "$server_log" | head -n1 | grep -oE '^viewer=[0-9]+' | grep -oE '[0-9]+')
cs_wait_log "$server_log" "viewer=$deaf_id( remote=[^ ]+)? removed" 5 || cs_fail "deaf viewer $deaf_id not removed"
cs_log "server: $(grep -E "viewer=$deaf_id( remote=[^ ]+)? (no pong|removed)" "$server_log" | tr '\n' '|')"
t_removed=$(cs_now_ms)
cs_wait_stats 1 5 || cs_fail "/stats counts $(cs_stats_viewers) viewers, not 1 (the watcher)"
cs_log "ok: /stats counts the watcher only"
cs_wait_pid "$deaf" 30 || cs_fail "deaf client did not finish"
cs_json "$CS_TMP/deaf.out:2" 'd["closed_by_server"]' "the deaf client finds its connection closed"
# Enough messages for their answers to fill both 4 KB buffers (each small
# segment counts ~700 bytes there). The client may then block: a server that
# cannot write to a socket may stop reading it too (back-pressure reaching
# the sender; two CI runs saw 27 sent, then the client's send timed out),
# or read on until the ping deadline (~120 sent here).
cs_json "$CS_TMP/deaf.out:2" 'd["sent"] >= 20 and (d["send_error"] is None or "timed out" in d["send_error"] or "reset" in d["send_error"] or "Broken pipe" in d["send_error"])' \
  "it kept sending while deaf, until the server closed or stopped reading"

cs_await_viewer "$watcher" watcher
cs_server_alive || cs_fail "server died"
out="$CS_TMP/watcher.out"
cs_json "$out" 'd["frames"] >= 26 * 30 * 0.7' "watcher: frames all along (>= 70 % of 26 s at 30 fps)"
cs_json "$out" 'd["max_gap_ms"] < 1000' "watcher: no gap of 1 s or more"
cs_json "$out" "d['last_frame_wall_ms'] >= $t_removed + 2000" "watcher: frames after the removal"
cs_log "watcher: $(head -n1 "$out")"
cs_stop_server

# ---- (b) the negotiation timeout ---------------------------------------
cs_ns sysctl -q -w net.ipv4.tcp_wmem="4096 16384 4194304" net.ipv4.tcp_rmem="4096 131072 6291456"
cs_start_server CS_NEGOTIATION_TIMEOUT=4 CS_MAX_VIEWERS=1
server_log="$CS_TMP/server.err"
# Offers (a fake one: its media can never connect), so it takes the only
# viewer slot; then waits for the verdict.
cs_start_bg offered python3 "$probe_py" ws "$CS_URL" offer expect=answer:5 expect=error:10 closed:3
offered=$CS_LAST_PID
# Never offers.
cs_start_bg silent python3 "$probe_py" ws "$CS_URL" expect=error:10 closed:3
silent=$CS_LAST_PID
cs_wait_log "$CS_TMP/offered.out" '"answer"' 10 || cs_fail "the offering probe got no answer"
n=$(cs_stats_viewers)
[[ "$n" == 1 ]] || cs_fail "/stats counts $n viewers while one negotiates, not 1"
cs_wait_pid "$offered" 20 || cs_fail "offering probe did not finish"
cs_wait_pid "$silent" 20 || cs_fail "silent probe did not finish"
cs_json "$CS_TMP/offered.out:4" 'd["ok"] and "negotiation timed out" in d["msg"]["message"] and d["t_ms"] + d["elapsed_ms"] >= 3000' \
  "offered, never connected: an error says the negotiation timed out"
cs_json "$CS_TMP/offered.out:5" 'd["ok"]' "and its socket is closed"
cs_json "$CS_TMP/silent.out:2" 'd["ok"] and "negotiation timed out" in d["msg"]["message"] and d["elapsed_ms"] >= 3000' \
  "never offered: an error says the negotiation timed out, after about 4 s"
cs_json "$CS_TMP/silent.out:3" 'd["ok"]' "and its socket is closed"
grep -qE 'viewer=[0-9]+( remote=[^ ]+)? removed \(negotiation timed out' "$server_log" ||
  cs_fail "the server does not log the timed-out viewer's removal"
cs_wait_stats 0 3 || cs_fail "/stats still counts $(cs_stats_viewers) viewers after the timeouts"
cs_log "ok: /stats counts 0 viewers: the slot is free"
# CS_MAX_VIEWERS=1: only a freed slot lets this one in.
cs_start_bg after "$CS_VIEWER" --url "$CS_URL" --duration 6
after=$CS_LAST_PID
cs_await_viewer "$after" "viewer after the timeouts"
cs_json "$CS_TMP/after.out" 'd["frames"] >= 50 and not any("server" in e for e in d["errors"])' \
  "a real viewer takes the freed slot and streams"
cs_server_alive || cs_fail "server died"
cs_pass "stuck viewers: back-pressure costs the others nothing; the negotiation timeout fires"
