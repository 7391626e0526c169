#!/usr/bin/env bash
# Churn and leaks (issue 11). 500 complete viewers, 10 at a time, each
# connecting, negotiating, receiving a second of video (counted in frames)
# and leaving, while 60 early leavers (close right after the offer, after the
# answer, or drop TCP: the case that deadlocks webrtcbin 1.22.0) come and go
# beside them and one steady viewer watches throughout. Then the server must
# be back where it was after a warm-up (the same mix, 150 viewers): /stats
# counts 0 viewers, the same open file descriptors and threads, RSS within
# 5 MB, and a new viewer is served. Every wait polls with a deadline.
#
# CS_MAX_VIEWERS is small (lanes + watcher + early leaver + 2 for sockets
# whose close is still on its way to the main loop): a server that never
# removed a churned viewer would refuse the run after a dozen viewers,
# instead of passing because 32 slots were enough.
#
# Found with it (streaming/src/viewer_branch.cpp): each NiceAgent's UPnP
# thread and sockets outlived viewers that left early; a viewer closed while
# webrtcbin still ran its set-local-description leaked that transport; a
# viewer's first frames referred to frames dropped before it was sending
# (the old "frame numbers increasing" failures).
#
# Usage: churn.sh [BUILD_DIR]. CS_CHURN_TOTAL, CS_CHURN_CONCURRENT and
# CS_CHURN_WARMUP override 500, 10 and 150 (for trying things out).
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup churn "${1:-/work/main/build}"

total="${CS_CHURN_TOTAL:-500}"
lanes="${CS_CHURN_CONCURRENT:-10}"
warmup="${CS_CHURN_WARMUP:-150}"
max_viewers=$((lanes + 4))
rss_slack_kb=$((5 * 1024))
started_ms=$(cs_now_ms)

# CS_MAX_PER_IP=0: every viewer here comes from the one namespace address.
# 640x360 keeps the 2-core machine's time for signaling and DTLS, not x264.
cs_start_server CS_MAX_VIEWERS="$max_viewers" CS_MAX_PER_IP=0 CS_WIDTH=640 CS_HEIGHT=360
pid=$CS_SERVER_PID
[[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == cube-streamer ]] ||
  cs_fail "pid $pid is not the server ($(cat "/proc/$pid/comm" 2>/dev/null))"

# soft_json FILE EXPR DESCRIPTION: like cs_json, but a failure is collected
# in SOFT_FAILURES and the test goes on, so that one run reports the leak
# figures as well as every viewer problem; cs_fail at the end lists them.
SOFT_FAILURES=()
soft_json() {
  if python3 - "$1" "$2" <<'PY' >/dev/null 2>&1; then
import json, sys
d = json.loads(next(l for l in open(sys.argv[1]) if l.strip().startswith("{")))
sys.exit(0 if eval(sys.argv[2], {}, {"d": d}) else 1)
PY
    cs_log "ok: $3"
  else
    cs_log "NOT OK: $3 ($2)"
    SOFT_FAILURES+=("$3")
  fi
}

stats_viewers() { cs_stats_viewers 2>/dev/null || echo "?"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
# VmRSS = anonymous (heap, stacks) + file-backed (libraries: the renderer
# pages libLLVM's code out after its warm-up) + shared memory.
mem_breakdown() { awk '/^Rss(Anon|File|Shmem):/ {printf "%s%s %s kB", sep, $1, $2; sep=", "}' "/proc/$pid/status"; }
fd_count() { find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
thread_count() { find "/proc/$pid/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# What the server holds, for the logs when a count did not come back: each
# fd's target, each thread's name, the namespace's sockets.
describe_server() {
  {
    echo "== fds"
    find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 -printf '%f %l\n' 2>/dev/null | sort -n
    echo "== fds by kind"
    find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null |
      sed 's/\[[0-9]*\]$//' | sort | uniq -c
    echo "== threads"
    cat "/proc/$pid/task"/*/comm 2>/dev/null | sort | uniq -c
    echo "== resident memory by mapping (malloc arenas show as [heap] and unnamed)"
    awk '/^[0-9a-f]+-[0-9a-f]+ / {name = NF >= 6 ? $6 : "(anonymous)"}
         /^Rss:/ {rss[name] += $2} END {for (n in rss) if (rss[n] >= 1024) print rss[n], "kB", n}' \
      "/proc/$pid/smaps" 2>/dev/null | sort -rn
    echo "== sockets (ss -anp in the namespace)"
    cs_ns ss -anp 2>/dev/null
  } >"$CS_TMP/server-$1.log"
  cs_log "what the server holds $1: $CS_TMP/server-$1.log"
}

# wait_idle SECONDS [FDS THREADS]: polls until /stats counts 0 viewers and
# the fd and thread counts have held still for $IDLE_STILL_MS (default 2 s;
# and, when given, equal
# FDS and THREADS). Leaves IDLE_FDS, IDLE_THREADS, IDLE_RSS_KB, IDLE_VIEWERS
# and IDLE_WAIT_MS; 1 if the deadline passed first.
wait_idle() {
  local deadline=$(($(cs_now_ms) + $1 * 1000)) want_fds="${2:-}" want_threads="${3:-}"
  local begin last="" same_since=0 now sample
  begin=$(cs_now_ms)
  while :; do
    cs_server_alive || cs_fail "server died"
    IDLE_VIEWERS=$(stats_viewers)
    IDLE_FDS=$(fd_count)
    IDLE_THREADS=$(thread_count)
    now=$(cs_now_ms)
    sample="$IDLE_VIEWERS $IDLE_FDS $IDLE_THREADS"
    if [[ "$sample" != "$last" ]]; then
      last=$sample
      same_since=$now
    fi
    if [[ "$IDLE_VIEWERS" == 0 ]] && ((now - same_since >= ${IDLE_STILL_MS:-2000})) &&
      [[ -z "$want_fds" || ("$IDLE_FDS" == "$want_fds" && "$IDLE_THREADS" == "$want_threads") ]]; then
      IDLE_RSS_KB=$(rss_kb)
      IDLE_WAIT_MS=$((now - begin))
      return 0
    fi
    if ((now >= deadline)); then
      IDLE_RSS_KB=$(rss_kb)
      IDLE_WAIT_MS=$((now - begin))
      return 1
    fi
    sleep 0.25
  done
}

# The server's figures every 2 s, for the logs kept when the test fails.
(
  while kill -0 "$pid" 2>/dev/null; do
    echo "$(date +%T) rss $(rss_kb) kB, $(fd_count) fds, $(thread_count) threads"
    sleep 2
  done
) >"$CS_TMP/server-proc.log" 2>&1 &
CS_PIDS+=($!)

cs_log "server at start: rss $(rss_kb) kB, $(fd_count) fds, $(thread_count) threads"

# churn_round NAME VIEWERS EARLY: one steady viewer watches while VIEWERS
# complete viewers come and go on $lanes lanes and EARLY early leavers
# beside them; then the watcher leaves. Checks what the viewers saw.
churn_round() {
  local name="$1" count="$2" early_count="$3" watcher cycle early begin end
  cs_start_bg "$name-watcher" "$CS_VIEWER" --url "$CS_URL" --duration 170
  watcher=$CS_LAST_PID
  cs_wait_log "$CS_TMP/$name-watcher.err" 'media pad added' 20 || cs_fail "$name: watcher got no media"
  begin=$(cs_now_ms)
  cs_start_bg "$name-early" "$CS_VIEWER" --url "$CS_URL" --mode churn \
    --churn-count "$early_count" --duration 150
  early=$CS_LAST_PID
  cs_start_bg "$name" "$CS_VIEWER" --url "$CS_URL" --mode cycle --churn-count "$count" \
    --concurrent "$lanes" --watch 1 --duration 150
  cycle=$CS_LAST_PID
  cs_wait_pid "$cycle" 160 || cs_fail "$name: $count viewers did not finish within 160 s"
  cs_wait_pid "$early" 30 || cs_fail "$name: early leavers did not finish"
  end=$(cs_now_ms)
  kill -TERM "$watcher"
  cs_wait_pid "$watcher" 15 || cs_fail "$name: watcher did not stop on SIGTERM"
  cs_server_alive || cs_fail "server died during $name"
  cs_log "$name took $(((end - begin) / 1000)) s: $(head -n1 "$CS_TMP/$name.out")"
  local out="$CS_TMP/$name.out"
  cs_json "$out" "d['finished'] == $count" "$name: all $count viewers came and went"
  # Open defect, not a leak: about 1 viewer in 650-1300 connects (ICE and
  # DTLS on both sides) and then no RTP reaches it nor RTCP the server; the
  # server removes it at its media-silence limit (9 s). Seen before this
  # test's fixes too; not diagnosed yet. Up to 1 % of a round may be such
  # viewers (logged); the errors they see are theirs alone, and any other
  # error (a refusal, say) fails the test.
  local allowed=$((count / 100 > 1 ? count / 100 : 1))
  soft_json "$out" "d['finished'] - d['with_frames'] <= $allowed" \
    "$name: at most $allowed of them (1 %) without video"
  soft_json "$out" "d['watched'] >= d['with_frames']" "$name: each that got frames got 1 s of video"
  cs_log "$name: $(python3 -c 'import json, sys; d = json.loads(open(sys.argv[1]).readline()); print(d["finished"] - d["with_frames"])' "$out") viewer(s) without video"
  soft_json "$out" \
    "not [e for e in d['errors'] if not any(k in e for k in ('s of video within', 'no RTCP from you', 'server closed the websocket'))] and d['error_count'] <= 3 * (d['finished'] - d['with_frames'])" \
    "$name: no viewer saw an error but those without video (none refused)"
  # Order from the first frame on (streaming/src/viewer_branch.cpp: a
  # viewer's start is clean); the first few out-of-order viewers are shown.
  soft_json "$out" "d['not_increasing'] == 0" "$name: every viewer's frame numbers increasing"
  soft_json "$out" "d['not_increasing_after_start'] == 0" \
    "$name: ... and from its 10th frame on"
  soft_json "$CS_TMP/$name-early.out" \
    "d['iterations'] == $early_count and d['opened'] == $early_count and not d['errors']" \
    "$name: $early_count early leavers, none refused"
  soft_json "$CS_TMP/$name-watcher.out" "d['last_frame_wall_ms'] >= $end - 1000" \
    "$name: watcher still receiving at the end"
  soft_json "$CS_TMP/$name-watcher.out" 'd["frame_numbers_increasing"]' \
    "$name: watcher's frame numbers increasing"
}

# Warm-up: the same mix, smaller. What a first batch of viewers creates
# once (GStreamer's task pool threads, GLib's slice magazines and malloc's
# arenas grown to the peak of 12 viewers at once, OpenSSL and libnice
# singletons, the encoder's pools) is not a leak.
churn_round warmup "$warmup" 20
# Still for 16 s: GLib ends a pooled thread (GStreamer's task pool) after
# 15 s unused, so a baseline taken sooner counts threads that then go away.
IDLE_STILL_MS=16000 wait_idle 45 || cs_fail "not idle 45 s after the warm-up: viewers $IDLE_VIEWERS," \
  "fds $IDLE_FDS, threads $IDLE_THREADS still changing"
before_rss=$IDLE_RSS_KB before_fds=$IDLE_FDS before_threads=$IDLE_THREADS
before_mem=$(mem_breakdown)
describe_server before
cs_log "idle after warm-up (${IDLE_WAIT_MS} ms): rss $before_rss kB ($before_mem)," \
  "$before_fds fds, $before_threads threads"

churn_round churn "$total" 60

wait_idle 20 || cs_fail "/stats counts $IDLE_VIEWERS viewers 20 s after the churn (want 0)"
cs_log "0 viewers after ${IDLE_WAIT_MS} ms: rss $IDLE_RSS_KB kB, $IDLE_FDS fds, $IDLE_THREADS threads"
# Pooled threads that outlive their work end after GLib's 15 s idle time.
wait_idle 30 "$before_fds" "$before_threads" || describe_server after
[[ "$IDLE_FDS" == "$before_fds" && "$IDLE_THREADS" == "$before_threads" ]] ||
  cs_fail "fds $IDLE_FDS (before: $before_fds), threads $IDLE_THREADS (before:" \
    "$before_threads) 30 s after the churn"
after_rss=$IDLE_RSS_KB
cs_log "back to idle (${IDLE_WAIT_MS} ms): rss $after_rss kB ($((after_rss - before_rss)) kB;" \
  "$(mem_breakdown)), $IDLE_FDS fds, $IDLE_THREADS threads"
if ((after_rss <= before_rss + rss_slack_kb)); then
  cs_log "ok: RSS within $rss_slack_kb kB of the warmed-up server"
else
  cs_log "NOT OK: RSS grew by $((after_rss - before_rss)) kB (limit $rss_slack_kb kB)"
  SOFT_FAILURES+=("RSS grew by $((after_rss - before_rss)) kB over $total viewers")
fi

cs_start_bg after "$CS_VIEWER" --url "$CS_URL" --duration 4
cs_await_viewer "$CS_LAST_PID" "post-churn viewer"
cs_json "$CS_TMP/after.out" 'd["frames"] >= 30 and not d["errors"]' \
  "post-churn viewer: at least 30 frames, no error"
cs_server_alive || cs_fail "server died after the churn"

cs_log "summary: before rss=${before_rss}kB fds=$before_fds threads=$before_threads;" \
  "after rss=${after_rss}kB fds=$IDLE_FDS threads=$IDLE_THREADS;" \
  "run $((($(cs_now_ms) - started_ms) / 1000)) s"
((${#SOFT_FAILURES[@]} == 0)) || cs_fail "$(printf '%s; ' "${SOFT_FAILURES[@]}")"
cs_pass "churn"
