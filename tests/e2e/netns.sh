# shellcheck shell=bash
# Sourced library for cube-streamer end-to-end tests.
#
# cs_setup creates a private network namespace (name: prefix + $$) holding a
# veth pair with BOTH ends inside it (10.77.N.1/24 server side, 10.77.N.2/24
# viewer side) and `lo`. Nothing in it routes anywhere else, so no test
# traffic can leave the machine. An EXIT trap stops every process the test
# started and deletes the namespace. Must run as root.
#
#   source "$(dirname "$0")/netns.sh"
#   cs_setup one_viewer "${1:-/work/main/build}"
#   cs_start_server                  # background, waits for the port
#   cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 10
#   cs_wait_pid "$CS_LAST_PID" 60 || cs_fail "viewer did not finish"
#   cs_json "$CS_TMP/viewer.out" 'd["frames"] >= 50' "enough frames"

CS_PIDS=()
CS_SERVER_PIDS=()
CS_NS=""
CS_EXTRA_NS=()  # more namespaces of this test (cs_setup_nat)
CS_TMP=""
CS_KEEP_LOGS="${CS_KEEP_LOGS:-0}"
CS_E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

cs_log() { printf '[e2e %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }

# Prints the tail of every log of this test, then exits 1.
cs_fail() {
  cs_log "FAIL: $*"
  local f
  for f in "$CS_TMP"/*.out "$CS_TMP"/*.err "$CS_TMP"/*.log; do
    [[ -s "$f" ]] || continue
    printf -- '----- %s (last 25 lines) -----\n' "$(basename "$f")" >&2
    tail -n 25 "$f" >&2
  done
  exit 1
}

cs_pass() { cs_log "PASS: $*"; exit 0; }

cs_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${CS_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  # A sanitized server checks for leaks as it exits, which takes a while.
  local wait_s killed=()
  for pid in "${CS_PIDS[@]}"; do
    wait_s=5
    [[ "${CS_SANITIZER_LOGS:-0}" == 1 && " ${CS_SERVER_PIDS[*]} " == *" $pid "* ]] && wait_s=30
    cs_wait_pid "$pid" "$wait_s" || { kill -KILL "$pid" 2>/dev/null; killed+=("$pid"); }
  done
  if [[ "${CS_SANITIZER_LOGS:-0}" == 1 && -n "$CS_TMP" ]]; then
    for pid in "${killed[@]}"; do
      [[ " ${CS_SERVER_PIDS[*]} " == *" $pid "* ]] || continue
      cs_log "FAIL: sanitized server $pid needed SIGKILL: it never ran its leak check"
      rc=1
    done
    # The verdict on what the sanitizers wrote (tests/sanitizers/check_reports.py).
    local reports=("$CS_TMP"/sanitizer.*)
    if [[ -e "${reports[0]}" ]] &&
      ! python3 "$CS_E2E_DIR/../sanitizers/check_reports.py" "${reports[@]}" >&2; then
      cs_log "FAIL: sanitizer reports (above)"
      rc=1
    fi
  fi
  local ns
  for ns in "$CS_NS" "${CS_EXTRA_NS[@]}"; do
    [[ -n "$ns" ]] || continue
    # Anything else still living in the namespace (started by a helper).
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns delete "$ns" 2>/dev/null
  done
  if [[ -n "$CS_TMP" && -d "$CS_TMP" ]]; then
    if [[ $rc -ne 0 || "$CS_KEEP_LOGS" == 1 ]]; then
      cs_log "logs kept in $CS_TMP"
    else
      rm -rf "$CS_TMP"
    fi
  fi
  exit "$rc"
}

# cs_setup PREFIX BUILD_DIR
cs_setup() {
  local prefix="$1"
  CS_BUILD="$(cd "${2:-/work/main/build}" 2>/dev/null && pwd)" || {
    echo "build dir '${2:-/work/main/build}' not found" >&2
    exit 1
  }
  # 77 = skipped (ctest SKIP_RETURN_CODE): namespaces need root.
  [[ $EUID -eq 0 ]] || { echo "$prefix: must run as root (ip netns); skipped" >&2; exit 77; }
  # Both may be overridden from the environment (e.g. to try a stand-in).
  CS_SERVER_BIN="${CS_SERVER_BIN:-$CS_BUILD/cube-streamer}"
  CS_VIEWER="${CS_VIEWER:-$CS_BUILD/tests/client/cs-test-viewer}"
  [[ -x "$CS_SERVER_BIN" ]] || { echo "no server binary at $CS_SERVER_BIN" >&2; exit 1; }
  [[ -x "$CS_VIEWER" ]] || { echo "no viewer binary at $CS_VIEWER" >&2; exit 1; }

  CS_NET="$(( $$ % 250 + 1 ))"
  CS_NS="cs-${prefix}-$$"
  CS_SERVER_IP="10.77.${CS_NET}.1"
  CS_CLIENT_IP="10.77.${CS_NET}.2"
  CS_PORT="${CS_PORT:-8080}"
  CS_URL="ws://${CS_SERVER_IP}:${CS_PORT}/ws"
  CS_TMP="$(mktemp -d "/tmp/cs-e2e-${prefix}.XXXXXX")"
  trap cs_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  # Build the GStreamer registry before anything is timed.
  gst-inspect-1.0 >/dev/null 2>&1 || true
  ip netns add "$CS_NS" || { echo "ip netns add $CS_NS failed" >&2; exit 1; }
  [[ "${CS_SETUP_TOPOLOGY:-single}" == single ]] || return 0
  ip -n "$CS_NS" link add csv0 type veth peer name csv1 || exit 1
  ip -n "$CS_NS" addr add "$CS_SERVER_IP/24" dev csv0 || exit 1
  ip -n "$CS_NS" addr add "$CS_CLIENT_IP/24" dev csv1 || exit 1
  ip -n "$CS_NS" link set lo up || exit 1
  ip -n "$CS_NS" link set csv0 up || exit 1
  ip -n "$CS_NS" link set csv1 up || exit 1
  cs_log "namespace $CS_NS: server $CS_SERVER_IP:$CS_PORT, viewers $CS_CLIENT_IP, logs $CS_TMP"
}

# cs_setup_loopback PREFIX BUILD_DIR: for tests that run the binary on
# loopback only (no namespace, no root): CS_BUILD, CS_SERVER_BIN, CS_TMP and
# the EXIT trap that cleans up.
cs_setup_loopback() {
  local prefix="$1"
  CS_BUILD="$(cd "${2:-/work/main/build}" 2>/dev/null && pwd)" || {
    echo "build dir '${2:-/work/main/build}' not found" >&2
    exit 1
  }
  CS_SERVER_BIN="${CS_SERVER_BIN:-$CS_BUILD/cube-streamer}"
  [[ -x "$CS_SERVER_BIN" ]] || { echo "no server binary at $CS_SERVER_BIN" >&2; exit 1; }
  CS_TMP="$(mktemp -d "/tmp/cs-e2e-${prefix}.XXXXXX")"
  trap cs_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Runs a command inside the namespace (foreground).
cs_ns() { ip netns exec "$CS_NS" "$@"; }

# cs_start_sound_sink: a private PulseAudio daemon with one null sink, so
# that a browser's sound output runs (Firefox's Web Audio stays suspended
# without an output device, and this machine has no sound card); exports
# PULSE_SERVER for the browsers the test starts. Stopped with the test.
cs_start_sound_sink() {
  command -v pulseaudio >/dev/null || cs_fail "no pulseaudio (scripts/setup.sh's test packages)"
  local dir="$CS_TMP/pulse" i
  mkdir -p "$dir"
  HOME="$dir" XDG_RUNTIME_DIR="$dir" pulseaudio --daemonize=no --exit-idle-time=-1 -n \
    --use-pid-file=no --disable-shm=yes -L "module-null-sink sink_name=cs_null" \
    -L "module-native-protocol-unix socket=$dir/native auth-anonymous=1" \
    >"$CS_TMP/pulseaudio.out" 2>"$CS_TMP/pulseaudio.err" &
  CS_PIDS+=("$!")
  for ((i = 0; i < 50; i++)); do
    [[ -S "$dir/native" ]] && break
    sleep 0.1
  done
  [[ -S "$dir/native" ]] || cs_fail "PulseAudio did not start: $(tail -2 "$CS_TMP/pulseaudio.err")"
  export PULSE_SERVER="unix:$dir/native"
}

# cs_start_bg NAME CMD...: runs CMD in the namespace in the background with
# stdout in $CS_TMP/NAME.out and stderr in $CS_TMP/NAME.err; pid in CS_LAST_PID.
cs_start_bg() { cs_start_bg_in "$CS_NS" "$@"; }

# cs_start_bg_in NAMESPACE NAME CMD...: the same in another of the test's namespaces.
cs_start_bg_in() {
  local ns="$1" name="$2"
  shift 2
  ip netns exec "$ns" "$@" >"$CS_TMP/$name.out" 2>"$CS_TMP/$name.err" &
  CS_LAST_PID=$!
  CS_PIDS+=("$CS_LAST_PID")
}

# cs_wait_pid PID SECONDS: waits for PID to exit; 0 if it did in time.
cs_wait_pid() {
  local pid="$1" deadline=$(( $(date +%s%N) / 1000000 + $2 * 1000 ))
  while kill -0 "$pid" 2>/dev/null; do
    (( $(date +%s%N) / 1000000 < deadline )) || return 1
    sleep 0.05
  done
  return 0
}

# cs_exit_code PID: exit status of a finished background job.
cs_exit_code() { wait "$1"; }

# Waits (up to 40 s) for a viewer started with cs_start_bg and fails the
# test if it hangs or exits nonzero (it could not even connect).
cs_await_viewer() {
  local pid="$1" name="$2"
  cs_wait_pid "$pid" 40 || cs_fail "$name did not stop within 40 s"
  cs_exit_code "$pid" || cs_fail "$name exited with status $? (could not connect?)"
}

# cs_wait_port HOST PORT SECONDS [PID]: polls until a TCP connect to HOST:PORT
# inside the namespace succeeds; fails early if PID dies.
cs_wait_port() {
  local host="$1" port="$2" pid="${4:-}"
  local deadline=$(( $(date +%s%N) / 1000000 + $3 * 1000 ))
  while ! ip netns exec "$CS_NS" bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 2; fi
    (( $(date +%s%N) / 1000000 < deadline )) || return 1
    sleep 0.05
  done
  return 0
}

# cs_start_server [VAR=VALUE...]: starts cube-streamer in the namespace, bound
# to the server address with ICE limited to it, and waits for its port.
# With CS_SANITIZER_LOGS=1 (scripts/test.sh, sanitized server) its ASan, LSan
# and UBSan reports go to $CS_TMP/sanitizer.PID, judged at the test's end.
cs_start_server() {
  local sanitizer=()
  [[ "${CS_SANITIZER_LOGS:-0}" == 1 ]] &&
    sanitizer=("ASAN_OPTIONS=${ASAN_OPTIONS:-}:log_path=$CS_TMP/sanitizer"
      "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}:log_path=$CS_TMP/sanitizer")
  cs_start_bg server env "${sanitizer[@]}" CS_HOST="$CS_SERVER_IP" CS_PORT="$CS_PORT" \
    CS_ICE_ADDRESSES="$CS_SERVER_IP" "$@" "$CS_SERVER_BIN"
  CS_SERVER_PID=$CS_LAST_PID
  CS_SERVER_PIDS+=("$CS_SERVER_PID")
  local waited=0
  cs_wait_port "$CS_SERVER_IP" "$CS_PORT" 30 "$CS_SERVER_PID" || waited=$?
  ((waited != 2)) || cs_fail "server exited at start: $(tail -n 5 "$CS_TMP/server.err")"
  ((waited == 0)) || cs_fail "server did not open $CS_SERVER_IP:$CS_PORT within 30 s"
  cs_log "server up (pid $CS_SERVER_PID)"
}

cs_server_alive() { kill -0 "$CS_SERVER_PID" 2>/dev/null; }

# cs_wait_log FILE PATTERN SECONDS: polls until FILE contains PATTERN (grep -E).
# cs_plugins_without LIB: a directory ($CS_TMP/plugins-LIB) of links to every
# system GStreamer plugin but LIB (libgstopus.so), for a host that lacks it:
# GST_PLUGIN_SYSTEM_PATH_1_0 there, and a registry of its own.
cs_plugins_without() {
  local lib="$1" dir="$CS_TMP/plugins-$1" system
  system=$(pkg-config --variable=pluginsdir gstreamer-1.0 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/gstreamer-1.0)
  mkdir -p "$dir"
  for plugin in "$system"/*.so; do
    [[ "$(basename "$plugin")" == "$lib" ]] || ln -sf "$plugin" "$dir/"
  done
  CS_PLUGINS_ENV=(GST_PLUGIN_SYSTEM_PATH_1_0="$dir" GST_REGISTRY_1_0="$dir.registry")
}

cs_wait_log() {
  local file="$1" pattern="$2" deadline=$(( $(date +%s%N) / 1000000 + $3 * 1000 ))
  until grep -qE "$pattern" "$file" 2>/dev/null; do
    (( $(date +%s%N) / 1000000 < deadline )) || return 1
    sleep 0.05
  done
}

# cs_stop_server: SIGTERM, then logs how the server ended (SPEC: exit 0).
cs_stop_server() {
  kill -TERM "$CS_SERVER_PID" 2>/dev/null
  if cs_wait_pid "$CS_SERVER_PID" 10; then
    wait "$CS_SERVER_PID"
    cs_log "server exited with status $? after SIGTERM"
  else
    cs_log "server still running 10 s after SIGTERM"
  fi
}

# cs_json FILE EXPR DESCRIPTION: evaluates a Python expression on the JSON
# line `d` of FILE (its first line unless FILE is FILE:N); fails the test
# (with the line printed) when it is false.
cs_json() {
  local file="$1" expr="$2" what="$3" line=1
  if [[ "$file" == *:* ]]; then line="${file##*:}"; file="${file%:*}"; fi
  local out
  out="$(python3 - "$file" "$line" "$expr" <<'PY'
import json, sys
path, line, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = [l for l in open(path) if l.strip().startswith("{")]
if len(lines) < line:
    print(f"no JSON line {line} in {path}"); sys.exit(1)
d = json.loads(lines[line - 1])
ok = eval(expr, {}, {"d": d})
print(json.dumps(d))
sys.exit(0 if ok else 1)
PY
)" || cs_fail "$what: expected $expr; got: $out"
  cs_log "ok: $what"
}

# cs_now_ms: wall clock in milliseconds (matches *_wall_ms in viewer JSON).
cs_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# cs_stats_viewers: the viewer count /stats reports now (nonzero status when
# /stats does not answer within 2 s).
cs_stats_viewers() {
  cs_ns curl -s --max-time 2 "http://$CS_SERVER_IP:$CS_PORT/stats" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["viewers"])'
}

# cs_wait_stats N SECONDS: polls /stats until it counts N viewers.
cs_wait_stats() {
  local deadline=$(($(cs_now_ms) + $2 * 1000))
  until [[ "$(cs_stats_viewers 2>/dev/null)" == "$1" ]]; do
    (($(cs_now_ms) < deadline)) || return 1
    sleep 0.2
  done
}

# cs_guard_route [DEV]: a default route in the test's namespace (via DEV,
# default csv1, the viewers' end), for browsers that gather no ICE candidate
# without one: Firefox always, Chromium with two peers in one page (TRAPS.md).
# First an output rule that drops every packet not addressed to the
# namespace's own /24 or 127.0.0.0/8, and all IPv6, so that nothing can leave
# by that route; cs_guard_dropped tells what it stopped.
cs_guard_route() {
  local dev="${1:-csv1}"
  ip netns exec "$CS_NS" nft -f - <<NFT || cs_fail "nft refused the guard rule"
table inet cs_guard {
  set outside {
    type ipv4_addr . inet_proto . inet_service; flags dynamic; counter;
  }
  chain out {
    type filter hook output priority -10; policy accept;
    meta nfproto ipv6 counter drop comment "ipv6"
    ip daddr != { 10.77.${CS_NET}.0/24, 127.0.0.0/8 } add @outside { ip daddr . meta l4proto . th dport } counter drop comment "outside"
  }
}
NFT
  ip -n "$CS_NS" route add default dev "$dev" || cs_fail "no default route via $dev"
}

# cs_guard_dropped WHICH: packets cs_guard_route's rule dropped, WHICH =
# outside (IPv4 not addressed to the namespace) or ipv6; cs_guard_outside
# lists where the outside ones were going (address . protocol . port).
cs_guard_dropped() {
  ip netns exec "$CS_NS" nft -j list chain inet cs_guard out | python3 -c '
import json, sys
which = sys.argv[1]
for item in json.load(sys.stdin)["nftables"]:
    rule = item.get("rule")
    if rule and rule.get("comment") == which:
        print(next(e["counter"]["packets"] for e in rule["expr"] if "counter" in e))
' "$1"
}

cs_guard_outside() {
  ip netns exec "$CS_NS" nft list set inet cs_guard outside | tr -s ' \t\n' ' ' | sed 's/.*elements = //; s/ }.*/ }/'
}

# cs_setup_nat PREFIX BUILD_DIR MODE: three namespaces, a server behind NAT
# and a viewer on another network, with a router between them:
#
#   CS_NS: server CS_SERVER_IP=10.77.N.1 ─ router CS_ROUTER_NS: 10.77.N.254 | 10.78.N.254
#                                            ─ CS_VIEWER_NS: viewer CS_CLIENT_IP=10.78.N.1
#
# MODE relay: the router forwards TCP to the server's port (signaling) and
#   drops every other packet between the two ends, UDP and TCP alike, so
#   media can only flow through a relay on the router (cs_start_turn; it
#   listens on CS_TURN_IP=10.78.N.254, which both ends reach). CS_URL is the
#   server's own address.
# MODE one_to_one: 1:1 NAT. The viewer has no route to the server's network;
#   the router maps CS_PUBLIC_IP=10.78.N.100 to the server (DNAT in, SNAT
#   out) and lets packets from the server out only on flows the viewer
#   opened (a port-restricted NAT), so the viewer reaches the server's media
#   only at the announced public address. CS_URL uses CS_PUBLIC_IP.
# No namespace has a default route: only these two subnets exist, nothing
# can leave the machine. Run viewers with cs_viewer_bg.
cs_setup_nat() {
  local prefix="$1" build="$2" mode="$3"
  CS_SETUP_TOPOLOGY=nat cs_setup "$prefix" "$build"
  CS_ROUTER_NS="cs-${prefix}-r-$$"
  CS_VIEWER_NS="cs-${prefix}-v-$$"
  CS_EXTRA_NS=("$CS_ROUTER_NS" "$CS_VIEWER_NS")
  CS_CLIENT_IP="10.78.${CS_NET}.1"
  CS_ROUTER_INNER_IP="10.77.${CS_NET}.254"
  CS_TURN_IP="10.78.${CS_NET}.254"
  CS_PUBLIC_IP="10.78.${CS_NET}.100"
  ip netns add "$CS_ROUTER_NS" && ip netns add "$CS_VIEWER_NS" || exit 1
  ip link add csn0 netns "$CS_NS" type veth peer name csr0 netns "$CS_ROUTER_NS" || exit 1
  ip link add csv0 netns "$CS_VIEWER_NS" type veth peer name csr1 netns "$CS_ROUTER_NS" || exit 1
  ip -n "$CS_NS" addr add "$CS_SERVER_IP/24" dev csn0 || exit 1
  ip -n "$CS_ROUTER_NS" addr add "$CS_ROUTER_INNER_IP/24" dev csr0 || exit 1
  ip -n "$CS_ROUTER_NS" addr add "$CS_TURN_IP/24" dev csr1 || exit 1
  ip -n "$CS_VIEWER_NS" addr add "$CS_CLIENT_IP/24" dev csv0 || exit 1
  local ns dev
  for ns in "$CS_NS" "$CS_ROUTER_NS" "$CS_VIEWER_NS"; do ip -n "$ns" link set lo up || exit 1; done
  ip -n "$CS_NS" link set csn0 up && ip -n "$CS_ROUTER_NS" link set csr0 up &&
    ip -n "$CS_ROUTER_NS" link set csr1 up && ip -n "$CS_VIEWER_NS" link set csv0 up || exit 1
  ip netns exec "$CS_ROUTER_NS" sysctl -qw net.ipv4.ip_forward=1 || exit 1
  ip -n "$CS_NS" route add "10.78.${CS_NET}.0/24" via "$CS_ROUTER_INNER_IP" || exit 1
  case "$mode" in
    relay)
      ip -n "$CS_VIEWER_NS" route add "10.77.${CS_NET}.0/24" via "$CS_TURN_IP" || exit 1
      ip netns exec "$CS_ROUTER_NS" nft -f - <<NFT || exit 1
table inet cs_nat {
  chain forward_filter {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    ip daddr $CS_SERVER_IP tcp dport $CS_PORT accept
  }
}
NFT
      CS_URL="ws://${CS_SERVER_IP}:${CS_PORT}/ws"
      ;;
    one_to_one)
      ip -n "$CS_ROUTER_NS" addr add "$CS_PUBLIC_IP/24" dev csr1 || exit 1
      ip netns exec "$CS_ROUTER_NS" nft -f - <<NFT || exit 1
table ip cs_nat {
  chain prerouting {
    type nat hook prerouting priority dstnat;
    ip daddr $CS_PUBLIC_IP dnat to $CS_SERVER_IP
  }
  chain postrouting {
    type nat hook postrouting priority srcnat;
    ip saddr $CS_SERVER_IP oif csr1 snat to $CS_PUBLIC_IP
  }
  chain forward_filter {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iif csr1 ip daddr $CS_SERVER_IP accept
  }
}
NFT
      CS_URL="ws://${CS_PUBLIC_IP}:${CS_PORT}/ws"
      ;;
    *) echo "cs_setup_nat: mode relay or one_to_one, not '$mode'" >&2; exit 1 ;;
  esac
  cs_log "NAT ($mode): server $CS_SERVER_IP ($CS_NS), router $CS_ROUTER_NS, viewer $CS_CLIENT_IP ($CS_VIEWER_NS)"
}

# cs_viewer_bg NAME CMD...: like cs_start_bg, in the viewer's namespace.
cs_viewer_bg() { cs_start_bg_in "$CS_VIEWER_NS" "$@"; }

# cs_start_turn SECRET [ARGS...]: coturn on the router, listening on
# CS_TURN_IP:3478 (UDP and TCP), relaying from ports 49160-49200 there, with
# REST credentials for SECRET; its log in $CS_TMP/turn.log. CS_TURN_PID.
cs_start_turn() {
  local secret="$1"
  shift
  ip netns exec "$CS_ROUTER_NS" stdbuf -oL -eL turnserver --listening-ip="$CS_TURN_IP" --relay-ip="$CS_TURN_IP" \
    --listening-port=3478 --min-port=49160 --max-port=49200 --use-auth-secret \
    --static-auth-secret="$secret" --realm=cube-streamer --fingerprint --no-cli --no-tls \
    --no-dtls --no-multicast-peers --allow-loopback-peers --log-file=stdout --simple-log --verbose \
    --pidfile="$CS_TMP/turn.pid" "$@" >"$CS_TMP/turn.out" 2>&1 &
  CS_TURN_PID=$!
  CS_PIDS+=("$CS_TURN_PID")
  local deadline=$(($(cs_now_ms) + 10000))
  until ip netns exec "$CS_ROUTER_NS" ss -Hlun "sport = :3478" | grep -q 3478; do
    (($(cs_now_ms) < deadline)) || cs_fail "coturn did not listen on $CS_TURN_IP:3478 within 10 s"
    sleep 0.1
  done
}

# cs_turn_allocations: relay sockets coturn holds now (one per allocation).
cs_turn_allocations() {
  ip netns exec "$CS_ROUTER_NS" ss -Hanu "( sport >= :49160 and sport <= :49200 )" | wc -l
}
