#!/usr/bin/env bash
# Hostile signaling while a viewer watches: each bad message gets an `error`
# at once (and the sockets that cannot go on are closed), candidates are
# checked before any offer, offers the server cannot answer say what the
# server sends and what the offer had, a second offer is refused; and the
# viewer that was already watching keeps its frames with no gap over 200 ms.
# (Flood, size, origin, per-address and auth refusals: access_control.sh and
# protocol_errors.sh; the slot limit: max_viewers.sh.)
# Usage: hostile_signaling.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup hostile "${1:-/work/main/build}"
cs_start_server CS_LOG_LEVEL=debug
probe() { cs_ns python3 "$here/wsprobe.py" ws "$CS_URL" "$@"; }
# error within 2 s, nothing else in between
is_error='d["ok"] and d["msg"]["type"] == "error" and d["msg"]["message"] and d["elapsed_ms"] < 2000 and "skipped" not in d'

# It watches until every hostile client is done (SIGTERM then: it reports),
# however long that takes on a loaded machine.
cs_start_bg watcher "$CS_VIEWER" --url "$CS_URL" --duration 240
watcher=$CS_LAST_PID
watcher_start_ms=$(cs_now_ms)
cs_wait_log "$CS_TMP/server.err" 'viewer=[0-9]+( remote=[^ ]+)? peer connection connected' 20 ||
  cs_fail "the watching viewer did not connect"
sleep 1  # let its stream settle

# --- wrong shapes: error each, the socket stays open ----------------------
out="$CS_TMP/shapes.out"
probe 'text={}' expect=error:2 \
  'text={"type":5}' expect=error:2 \
  'text={"type":"offer","sdp":5}' expect=error:2 \
  'text={"type":"offer","sdp":["v=0"]}' expect=error:2 \
  'text={"type":"ice","candidate":5,"sdpMLineIndex":0}' expect=error:2 \
  'text={"type":"ice","candidate":"","sdpMLineIndex":"0"}' expect=error:2 \
  'text=null' expect=error:2 \
  'text="offer"' expect=error:2 \
  'text={"type":"answer","sdp":"v=0"}' expect=error:2 \
  open:0.5 >"$out"
n=1
for what in "no type" "numeric type" "numeric sdp" "array sdp" "numeric candidate" \
  "string sdpMLineIndex" "null" "a JSON string" "an answer"; do
  n=$((n + 2))
  cs_json "$out:$n" "$is_error" "error at once for: $what"
done
cs_json "$out:$((n + 1))" 'd["ok"]' "socket still open after nine wrong shapes"

# --- candidates that do not parse, before any offer: error at once --------
out="$CS_TMP/early_bad.out"
probe 'text={"type":"ice","candidate":"candidate:garbage","sdpMLineIndex":0}' expect=error:2 \
  'text={"type":"ice","candidate":"candidate:1 1 udp 1 10.0.0.1 99999 typ host","sdpMLineIndex":0}' expect=error:2 \
  'text={"type":"ice","candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host raddr","sdpMLineIndex":0}' expect=error:2 \
  open:0.3 >"$out"
cs_json "$out:3" "$is_error and 'candidate' in d['msg']['message']" \
  "'candidate:garbage' before any offer: error at once"
cs_json "$out:5" "$is_error and 'port' in d['msg']['message']" "port 99999: error names the port"
cs_json "$out:7" "$is_error" "raddr without a value: error"

# --- offers the server cannot answer: error naming why, then closed ------
sdp_head='v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n'
out="$CS_TMP/audio_only.out"
probe "text={\"type\":\"offer\",\"sdp\":\"${sdp_head}m=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\na=rtpmap:111 opus/48000/2\\r\\n\"}" \
  expect=error:2 closed:3 >"$out"
cs_json "$out:3" "$is_error and 'no video' in d['msg']['message'] and 'audio' in d['msg']['message']" \
  "audio-only offer: error says it has no video"
cs_json "$out:4" 'd["ok"] and d["closed"]' "audio-only offer: socket closed"
out="$CS_TMP/av1_vp9_only.out"
probe "text={\"type\":\"offer\",\"sdp\":\"${sdp_head}m=video 9 UDP/TLS/RTP/SAVPF 96 97\\r\\na=recvonly\\r\\na=rtpmap:96 AV1/90000\\r\\na=rtpmap:97 VP9/90000\\r\\n\"}" \
  expect=error:2 closed:3 >"$out"
cs_json "$out:3" "$is_error and 'H264 (packetization-mode=1), VP8;' in d['msg']['message'] and 'AV1' in d['msg']['message'] and 'VP9' in d['msg']['message']" \
  "AV1/VP9-only offer: error names the codecs the server sends and those offered"
cs_json "$out:4" 'd["ok"] and d["closed"]' "AV1/VP9-only offer: socket closed"
out="$CS_TMP/unparsable.out"
probe 'text={"type":"offer","sdp":"v=0\r\nm=video x\r\n\u0000"}' expect=error:2 closed:3 >"$out"
cs_json "$out:3" "$is_error" "SDP that does not parse: error"
cs_json "$out:4" 'd["ok"] and d["closed"]' "SDP that does not parse: socket closed"

# --- a second offer on the same connection ---------------------------------
out="$CS_TMP/second_offer.out"
probe offer expect=answer:10 offer expect=error:2 open:0.3 >"$out"
cs_json "$out:3" 'd["ok"] and d["msg"]["sdp"].startswith("v=0")' "first offer answered"
cs_json "$out:5" "d['ok'] and d['msg']['type'] == 'error' and 'already' in d['msg']['message']" \
  "second offer: error"

# --- sockets that upgrade, then send nothing or one byte a second ---------
# Neither can answer the server's pings (3 s), so both are closed when the
# pong is 8 s late, whatever CS_NEGOTIATION_TIMEOUT says.
cat >"$CS_TMP/slow_ws.py" <<'PY'
import base64, json, os, socket, sys, threading, time
host, port = sys.argv[1], int(sys.argv[2])
def upgrade():
    s = socket.create_connection((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    return s, head.split(b"\r\n", 1)[0].decode()
results = {}
def run(name):
    s, status = upgrade()
    t0 = time.monotonic()
    payload = json.dumps({"type": "ice", "candidate": "", "sdpMLineIndex": 0}).encode()
    frame = bytes([0x81, 0x80 | len(payload)]) + b"\0\0\0\0" + payload  # zero mask
    s.setblocking(False)
    closed_after = None
    sent = 0
    while time.monotonic() - t0 < 30:
        if name == "trickle" and sent < len(frame):
            try: s.send(frame[sent:sent + 1]); sent += 1
            except OSError: pass
        try:
            if s.recv(65536) == b"":
                closed_after = time.monotonic() - t0
                break
        except BlockingIOError:
            pass
        except OSError:
            closed_after = time.monotonic() - t0
            break
        time.sleep(1.0)
    results[name] = {"status": status, "closed_after_s": closed_after, "bytes_sent": sent}
threads = [threading.Thread(target=run, args=(n,)) for n in ("silent", "trickle")]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results), flush=True)
PY
cs_ns python3 "$CS_TMP/slow_ws.py" "$CS_SERVER_IP" "$CS_PORT" >"$CS_TMP/slow_ws.out"
for c in silent trickle; do
  cs_json "$CS_TMP/slow_ws.out" "'101' in d['$c']['status'] and d['$c']['closed_after_s'] is not None and d['$c']['closed_after_s'] <= 12" \
    "WebSocket that is $c after its upgrade: closed within 12 s"
done
cs_log "slow sockets: $(cat "$CS_TMP/slow_ws.out")"
grep -qE 'no pong for [0-9.]+ s, closing its socket' "$CS_TMP/server.err" ||
  cs_fail "no log line for the closed slow sockets"

hostile_end_ms=$(cs_now_ms)
cs_server_alive || cs_fail "server died"
# At least 1 s more, and 26 s in all (600 frames at 30 fps take 20 s).
sleep 1
while (($(cs_now_ms) < watcher_start_ms + 26000)); do sleep 0.2; done
kill -TERM "$watcher" 2>/dev/null || true
cs_await_viewer "$watcher" watcher
cs_json "$CS_TMP/watcher.out" "d['frames'] >= 600 and d['last_frame_wall_ms'] >= $hostile_end_ms" \
  "the watching viewer kept receiving frames until every hostile client was done"
cs_json "$CS_TMP/watcher.out" 'd["max_gap_ms"] <= 200' \
  "the watching viewer's longest gap between frames stayed within 200 ms"
cs_log "watcher: $(head -c 400 "$CS_TMP/watcher.out")"
cs_pass "hostile signaling"
