#!/usr/bin/env bash
# The page in Chromium against CS_AUTH_TOKEN and TLS, server and browser in a
# private network namespace:
#  1. a wrong token: the page answers 401 and says "not authorised";
#  2. the right token (?token= in the page's URL): video plays;
#  3. the server restarts with another token while the page plays: the page
#     shows "not authorised" and stops reconnecting;
#  4. TLS with a self-signed certificate made here, trusted by Chromium by its
#     key alone (--ignore-certificate-errors-spki-list): https:// page, frames
#     over WSS; and without that trust the page does not load.
#
#   run_access_test.sh BUILD_DIR
#
# Needs root (ip netns), node/npm, chromium and openssl.
set -euo pipefail

BUILD_DIR=${1:?usage: run_access_test.sh BUILD_DIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVER="$BUILD_DIR/cube-streamer"
NS="csaccess$$"
ADDR=10.78.0.1
PEER=10.78.0.2
PORT=${CS_PORT:-8080}
TMP=$(mktemp -d /tmp/cs-access-test.XXXXXX)
SERVER_PID=""

die() {
  echo "run_access_test: $*" >&2
  exit 1
}

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

cleanup() {
  local rc=$?
  stop_server
  if ip netns list | grep -qw "$NS"; then
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$NS" || true
  fi
  if [[ $rc -ne 0 ]]; then
    echo "run_access_test: FAILED (exit $rc); logs in $TMP; last server log:" >&2
    tail -n 30 "$(ls -t "$TMP"/server*.log 2>/dev/null | head -1)" >&2 2>/dev/null || true
  else
    rm -rf "$TMP"
  fi
  exit $rc
}

# start_server NAME VAR=VALUE...
start_server() {
  local name=$1
  shift
  stop_server
  ip netns exec "$NS" env "$@" CS_HOST="$ADDR" CS_PORT="$PORT" CS_ICE_ADDRESSES="$ADDR" \
    "$SERVER" >"$TMP/server-$name.log" 2>&1 &
  SERVER_PID=$!
  local deadline=$((SECONDS + 30))
  until ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/$ADDR/$PORT" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || die "server ($name) exited before listening"
    ((SECONDS < deadline)) || die "server ($name) did not listen within 30 s"
    sleep 0.2
  done
}

page() { ip netns exec "$NS" node "$HERE/access_test.mjs" "$@"; }

[[ -x "$SERVER" ]] || die "no server binary at $SERVER"
[[ $(id -u) -eq 0 ]] || die "needs root for ip netns"
command -v node >/dev/null || die "node not found"
command -v openssl >/dev/null || die "openssl not found"
[[ -x "${CS_CHROMIUM:-/usr/bin/chromium}" ]] || die "chromium not found"
[[ -d "$HERE/node_modules/playwright-core" ]] || (cd "$HERE" && npm ci --no-audit --no-fund >&2)
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add csv0 type veth peer name csv1
ip -n "$NS" addr add "$ADDR/24" dev csv0
ip -n "$NS" addr add "$PEER/24" dev csv1
ip -n "$NS" link set csv0 up
ip -n "$NS" link set csv1 up

token="tok$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 29)"
other="new$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 29)"
url="http://$ADDR:$PORT/"

start_server token CS_AUTH_TOKEN="$token"
echo "run_access_test: 1. wrong token" >&2
page "$url?token=${token}x" refused
echo "run_access_test: 2. right token" >&2
page "$url?token=$token" playing
echo "run_access_test: 3. token changed while playing" >&2
marker="$TMP/playing"
page "$url?token=$token" revoked "$marker" &
page_pid=$!
deadline=$((SECONDS + 60))
until [[ -e "$marker" ]]; do
  kill -0 "$page_pid" 2>/dev/null || { wait "$page_pid"; die "the page stopped before it played"; }
  ((SECONDS < deadline)) || die "the page did not play within 60 s"
  sleep 0.2
done
start_server other_token CS_AUTH_TOKEN="$other"
wait "$page_pid" || die "the page did not show 'not authorised' after the token changed"
grep -q "no or wrong token (CS_AUTH_TOKEN) -> 401" "$TMP/server-other_token.log" ||
  die "no 401 in the log of the restarted server"

echo "run_access_test: 4. TLS" >&2
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj "/CN=cube-streamer test" -addext "subjectAltName=IP:$ADDR" \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>"$TMP/openssl.log"
spki=$(openssl x509 -in "$TMP/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)
start_server tls CS_TLS_CERT="$TMP/cert.pem" CS_TLS_KEY="$TMP/key.pem"
page "https://$ADDR:$PORT/" playing --spki "$spki"
# Without that trust Chromium refuses the page: the certificate is what it trusted.
if page "https://$ADDR:$PORT/" playing >"$TMP/untrusted.out" 2>&1; then
  die "the page loaded without trusting the certificate"
fi
grep -q "ERR_CERT" "$TMP/untrusted.out" || die "untrusted run failed for another reason: $(tail -3 "$TMP/untrusted.out")"
echo "run_access_test: PASS" >&2
