#!/usr/bin/env bash
# SPEC.md's protocol edges on /ws: every message the server cannot accept
# gets {"type":"error","message":...} within 2 s, the server stays healthy
# (a normal viewer still gets >= 50 frames afterwards), and the HTTP side
# answers GET / (200 text/html), GET /nope (404) and refuses a WebSocket
# upgrade on any path but /ws. Usage: protocol_errors.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup proto "${1:-/work/main/build}"
cs_start_server CS_LOG_LEVEL=debug
probe() { cs_ns python3 "$here/wsprobe.py" "$@"; }
base="http://${CS_SERVER_IP}:${CS_PORT}"

# --- HTTP ---------------------------------------------------------------
probe http "$base/" >"$CS_TMP/get_root.out"
cs_json "$CS_TMP/get_root.out" 'd["status"] == 200 and d["content_type"].startswith("text/html") and d["length"] > 0' \
  "GET / is 200 text/html"
probe http "$base/nope" >"$CS_TMP/get_nope.out"
cs_json "$CS_TMP/get_nope.out" 'd["status"] == 404' "GET /nope is 404"
# The server drops an upgrade on another path without a 101 (today it closes
# the TCP connection with no reply at all; any non-101 outcome is accepted).
probe ws "ws://${CS_SERVER_IP}:${CS_PORT}/other" >"$CS_TMP/upgrade_other.out"
cs_json "$CS_TMP/upgrade_other.out" 'd["status"] != 101' "WebSocket upgrade on /other refused"
probe ws "ws://${CS_SERVER_IP}:${CS_PORT}/" >"$CS_TMP/upgrade_root.out"
cs_json "$CS_TMP/upgrade_root.out" 'd["status"] != 101' "WebSocket upgrade on / refused"

# --- socket 1: malformed messages, ending with an unusable offer ----------
# Behaviour asserted: the first four only get an error and the socket stays
# open; after {"type":"offer","sdp":"garbage"} the server replies with an
# error ("offer has no video m-line") and then closes the socket (close code
# 1000) -- an unusable offer ends that viewer.
out="$CS_TMP/socket1.out"
probe ws "$CS_URL" \
  'text={"type":' expect=error:2 \
  'text=[{"type":"offer","sdp":"x"}]' expect=error:2 \
  'text={"type":"bogus"}' expect=error:2 \
  'text={"type":"offer"}' expect=error:2 \
  'text={"type":"offer","sdp":"garbage"}' expect=error:2 \
  closed:3 >"$out"
cs_json "$out:1" 'd["ok"]' "socket 1 opened"
n=0
for what in "invalid JSON" "JSON array" "unknown type 'bogus'" "offer without sdp" "garbage offer"; do
  n=$((n + 2))
  cs_json "$out:$((n + 1))" \
    'd["ok"] and d["msg"]["type"] == "error" and isinstance(d["msg"].get("message"), str) and d["msg"]["message"] and d["elapsed_ms"] < 2000 and "skipped" not in d' \
    "error reply within 2 s to: $what"
done
cs_json "$out:7" '"bogus" in d["msg"]["message"]' "error for the bogus type names it"
cs_json "$out:9" 'not d["closed"]' "socket still open after four refused messages"
cs_json "$out:12" 'd["ok"] and d["closed"]' "server closes the socket after the garbage offer"

# --- socket 2: bad candidates, binary, fragmented ---------------------------
out="$CS_TMP/socket2.out"
probe ws "$CS_URL" \
  'text={"type":"ice","candidate":"x","sdpMLineIndex":0}' expect=error:2 \
  'text={"type":"ice","candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host","sdpMLineIndex":-3}' expect=error:2 \
  hexbinary=00ff10fe0a expect=error:2 \
  'frag=5:{"type":"frobnicate","padding":"0123456789abcdefghijklmnopqrstuvwxyz"}' expect=error:2 \
  open:1 >"$out"
cs_json "$out:1" 'd["ok"]' "socket 2 opened"
n=0
for what in "candidate 'x'" "sdpMLineIndex -3" "binary frame" "fragmented unknown type"; do
  n=$((n + 2))
  cs_json "$out:$((n + 1))" \
    'd["ok"] and d["msg"]["type"] == "error" and isinstance(d["msg"].get("message"), str) and d["msg"]["message"] and d["elapsed_ms"] < 2000 and "skipped" not in d' \
    "error reply within 2 s to: $what"
done
cs_json "$out:9" '"unknown" in d["msg"]["message"] and "frobnicate" in d["msg"]["message"]' \
  "fragmented message reassembled (error names its type)"
cs_json "$out:10" 'd["ok"]' "socket 2 still open after all of them"

# --- oversized messages: an error naming the limit, then the socket closes --
# (the rest of such a message is not read). Just under the limit is no
# such error. A 200 KB message and one of 64 KiB + 1 byte.
for size in 204800 65537; do
  out="$CS_TMP/oversized_$size.out"
  probe ws "$CS_URL" big=$size expect=error:2 closed:3 >"$out"
  cs_json "$out:3" 'd["ok"] and "larger than 65536" in d["msg"]["message"]' \
    "$size-byte message: error naming the 64 KiB limit"
  cs_json "$out:4" 'd["ok"] and d["closed"]' "$size-byte message: then the socket is closed"
done
probe ws "$CS_URL" big=65536 sleep=1 >"$CS_TMP/limit.out"
cs_json "$CS_TMP/limit.out:3" 'not d["closed"] and not any("larger than" in str(m) for m in d.get("messages", []))' \
  "a message of exactly 64 KiB is read (no size error, socket open)"
cs_wait_log "$CS_TMP/server.err" "WARN.*message larger than 65536 bytes; closing its socket" 2 ||
  cs_fail "no warn line for the oversized message"

# SPEC.md's messages are JSON text: a binary frame is refused even when it
# holds an otherwise valid message.
probe ws "$CS_URL" 'binary={"type":"ice","candidate":"","sdpMLineIndex":0}' expect=error:2 \
  >"$CS_TMP/binary_valid.out"
cs_json "$CS_TMP/binary_valid.out:3" '"binary" in d["msg"]["message"]' \
  "binary frame with valid JSON refused"

cs_server_alive || cs_fail "server died during the protocol checks"

# --- the server is still healthy --------------------------------------------
cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 6
viewer=$CS_LAST_PID
cs_await_viewer "$viewer" viewer
cs_server_alive || cs_fail "server died"
cs_json "$CS_TMP/viewer.out" 'd["connected"] and d["answered"]' "viewer signaling completed"
cs_json "$CS_TMP/viewer.out" 'd["frames"] >= 50' "viewer after the errors: at least 50 frames"
cs_log "viewer: $(head -n1 "$CS_TMP/viewer.out")"
cs_pass "protocol errors"
