#!/usr/bin/env bash
# A viewer whose process is frozen (SIGSTOP: its TCP socket stays open and
# nothing answers) is gone within 10 s: the server logs its removal, /stats
# counts it out, and the viewer still watching keeps receiving frames. A
# signaling-only client frozen the same way (no media, so only the
# WebSocket ping/pong can notice) is closed with a "no pong" line.
# Usage: frozen_viewer.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup frozen "${1:-/work/main/build}"
cs_start_server
server_log="$CS_TMP/server.err"
probe_py="$(dirname "$(readlink -f "$0")")/wsprobe.py"

# Server-side id of the viewer that offered last.
last_id() { grep -oE 'viewer=[0-9]+( remote=[^ ]+)? offer received' "$server_log" | tail -n1 | grep -oE '^viewer=[0-9]+' | grep -oE '[0-9]+'; }
frozen=()
thaw() { local p; for p in "${frozen[@]}"; do kill -CONT "$p" 2>/dev/null; done; }
# Stopped processes would sit out cs_cleanup's SIGTERM; keep its exit status.
trap 'rc=$?; thaw; (exit $rc); cs_cleanup' EXIT

cs_start_bg watcher "$CS_VIEWER" --url "$CS_URL" --duration 28
watcher=$CS_LAST_PID
cs_wait_log "$CS_TMP/watcher.err" 'receiving' 20 || cs_fail "watcher never received media"

cs_start_bg frozen "$CS_VIEWER" --url "$CS_URL" --duration 60
victim=$CS_LAST_PID
cs_wait_log "$CS_TMP/frozen.err" 'receiving' 20 || cs_fail "second viewer never received media"
victim_id=$(last_id)

# It offers (a socket that has not is no viewer) with fake ICE credentials:
# its media never connects, so only ping/pong can tell it is gone.
cs_start_bg probe python3 "$probe_py" ws "$CS_URL" offer expect=answer:10 open:60
probe=$CS_LAST_PID
cs_wait_log "$CS_TMP/probe.out" '"handshake"' 10 || cs_fail "probe did not connect"
cs_wait_log "$server_log" "viewer=$((victim_id + 1))( remote=[^ ]+)? offer received" 5 || cs_fail "probe not seen"
probe_id=$((victim_id + 1))
cs_wait_stats 3 5 || cs_fail "/stats does not count 3 viewers (has $(cs_stats_viewers))"
cs_log "viewers: watcher, frozen (id $victim_id), probe (id $probe_id); /stats counts 3"

# Both answered pings so far: they have been connected for more than the
# 3 s after which the server pings.
sleep 4
grep -qE "viewer=($victim_id|$probe_id)( remote=[^ ]+)? (removed|no pong)" "$server_log" &&
  cs_fail "a live viewer was removed before it was frozen"

kill -STOP "$victim" "$probe"
frozen=("$victim" "$probe")
t0=$(cs_now_ms)
cs_log "froze viewer $victim_id (pid $victim) and probe $probe_id (pid $probe)"
cs_wait_log "$server_log" "viewer=$victim_id( remote=[^ ]+)? removed" 10 ||
  cs_fail "frozen viewer $victim_id not removed within 10 s"
t_victim=$(( $(cs_now_ms) - t0 ))
cs_wait_log "$server_log" "viewer=$probe_id( remote=[^ ]+)? no pong for [0-9.]+ s" 10 ||
  cs_fail "frozen probe $probe_id: no 'no pong' line within 10 s"
cs_wait_log "$server_log" "viewer=$probe_id( remote=[^ ]+)? removed" 2 || cs_fail "probe $probe_id not removed"
t_probe=$(( $(cs_now_ms) - t0 ))
cs_log "removed after freezing: viewer $victim_id in $t_victim ms, probe $probe_id in $t_probe ms"
cs_log "server: $(grep -E "viewer=($victim_id|$probe_id)( remote=[^ ]+)? (no pong|removed)" "$server_log" | tr '\n' '|')"
(( t_probe <= 10000 )) || cs_fail "probe removed after $t_probe ms (> 10 s)"
cs_wait_stats 1 3 || cs_fail "/stats still counts $(cs_stats_viewers) viewers, not 1"
cs_log "ok: /stats counts 1 viewer"
t_removed=$(cs_now_ms)

cs_await_viewer "$watcher" watcher
cs_server_alive || cs_fail "server died"
out="$CS_TMP/watcher.out"
cs_json "$out" 'd["frames"] >= 28 * 30 * 0.7' "watcher: frames all along (>= 70 % of 28 s at 30 fps)"
cs_json "$out" "d['last_frame_wall_ms'] >= $t_removed + 3000" "watcher: frames after the removals"
cs_json "$out" 'd["max_gap_ms"] < 1000' "watcher: no gap of 1 s or more"
cs_json "$out" 'd["frame_numbers_increasing"]' "watcher: frame numbers increasing"
cs_log "watcher: $(head -n1 "$out")"
cs_pass "frozen viewers are gone within 10 s and cost the others nothing"
