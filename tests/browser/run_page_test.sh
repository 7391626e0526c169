#!/usr/bin/env bash
# Runs page_test.mjs against BUILD_DIR/cube-streamer with the server and
# Chromium both inside a private network namespace, so no packet can leave it.
#
#   run_page_test.sh BUILD_DIR [extra page_test.mjs args, e.g. --bench 20]
#
# CS_LOSS_PCT=N drops N % of UDP packets in the namespace (both ways: both
# ends are inside it, so each packet passes the hook once). The rule sits on
# the input hook (CS_LOSS_HOOK=output to change): on output a drop makes the
# sender's sendmsg() fail, and Chromium then simply sends the packet again,
# so its NACKs would hardly ever be lost (bench/README.md).
# CS_PAGE_RUNS=N opens the page N times in a row against the same server
# (each a fresh browser; every one must pass): a later viewer joins an
# encoder that is already running, which the first never does.
# CS_SERVER_ENV="VAR=VALUE ..." adds settings to the server's environment.
# CS_PAGE_QUERY="?transport=whep" opens the page with that query (WHEP signaling).
# CS_PAGE_SCRIPT=control_test.mjs runs that test instead of page_test.mjs.
#
# Needs root (ip netns), node/npm and /usr/bin/chromium.
set -euo pipefail

BUILD_DIR=${1:?usage: run_page_test.sh BUILD_DIR [page_test args...]}
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVER="$BUILD_DIR/cube-streamer"
NS="csbrowser$$"
SERVER_ADDR=10.78.0.1
PEER_ADDR=10.78.0.2
PORT=${CS_PORT:-8080}
SCREENSHOT=${CS_SCREENSHOT:-/tmp/cube-streamer-page.png}
# CS_SERVER_LOG=FILE keeps the server's log there.
KEEP_SERVER_LOG=${CS_SERVER_LOG:-}
SERVER_LOG=$(mktemp /tmp/cube-streamer-page-server.XXXXXX.log)
SERVER_PID=""

die() {
  echo "run_page_test: $*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  if ip netns list | grep -qw "$NS"; then
    # Anything still running in the namespace was started by this script.
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$NS" || true
  fi
  if [[ $rc -ne 0 ]]; then
    echo "run_page_test: FAILED (exit $rc); server log tail:" >&2
    tail -n 40 "$SERVER_LOG" >&2 || true
  fi
  if [[ -n "$KEEP_SERVER_LOG" ]]; then mv -f "$SERVER_LOG" "$KEEP_SERVER_LOG"; else rm -f "$SERVER_LOG"; fi
  exit $rc
}

check_prerequisites() {
  [[ -x "$SERVER" ]] || die "no server binary at $SERVER"
  [[ $(id -u) -eq 0 ]] || die "needs root for ip netns"
  command -v node >/dev/null || die "node not found"
  [[ -x "${CS_CHROMIUM:-/usr/bin/chromium}" ]] || die "chromium not found (apt-get install -y chromium)"
}

install_node_deps() {
  [[ -d "$HERE/node_modules/playwright-core" ]] && return
  echo "run_page_test: installing npm dependencies" >&2
  (cd "$HERE" && npm ci --no-audit --no-fund >&2)
}

make_namespace() {
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  ip -n "$NS" link add csv0 type veth peer name csv1
  ip -n "$NS" addr add "$SERVER_ADDR/24" dev csv0
  ip -n "$NS" addr add "$PEER_ADDR/24" dev csv1
  ip -n "$NS" link set csv0 up
  ip -n "$NS" link set csv1 up
}

add_loss() {
  local pct=${CS_LOSS_PCT:-0}
  [[ $pct =~ ^[0-9]+$ ]] || die "CS_LOSS_PCT must be a whole percentage, got '$pct'"
  ((pct > 0)) || return 0
  ip netns exec "$NS" nft add table inet loss
  local hook=${CS_LOSS_HOOK:-input}
  [[ $hook == input || $hook == output ]] || die "CS_LOSS_HOOK must be input or output"
  ip netns exec "$NS" nft "add chain inet loss lossy { type filter hook $hook priority 0 ; }"
  ip netns exec "$NS" nft add rule inet loss lossy meta l4proto udp numgen random mod 100 \< "$pct" drop
  echo "run_page_test: dropping $pct % of UDP packets ($hook hook)" >&2
}

start_server() {
  # shellcheck disable=SC2086 # CS_SERVER_ENV is a list of VAR=VALUE words
  ip netns exec "$NS" env ${CS_SERVER_ENV:-} CS_HOST="$SERVER_ADDR" CS_PORT="$PORT" CS_ICE_ADDRESSES="$SERVER_ADDR" \
    "$SERVER" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
}

wait_for_port() {
  local deadline=$((SECONDS + 30))
  until ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/$SERVER_ADDR/$PORT" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || die "server exited before listening"
    ((SECONDS < deadline)) || die "server did not listen on $SERVER_ADDR:$PORT within 30 s"
    sleep 0.2
  done
}

# Only reported: the e2e tests own the clean-shutdown contract.
stop_server() {
  local status=0
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || status=$?
  SERVER_PID=""
  echo "run_page_test: server exited with status $status after SIGTERM" >&2
}

main() {
  check_prerequisites
  install_node_deps
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  make_namespace
  add_loss
  start_server
  wait_for_port
  local run script=${CS_PAGE_SCRIPT:-page_test.mjs} shot=()
  [[ $script == page_test.mjs ]] && shot=("$SCREENSHOT")
  for ((run = 1; run <= ${CS_PAGE_RUNS:-1}; run++)); do
    ip netns exec "$NS" node "$HERE/$script" "http://$SERVER_ADDR:$PORT/${CS_PAGE_QUERY:-}" "$@" "${shot[@]}"
  done
  stop_server
}

main "$@"
