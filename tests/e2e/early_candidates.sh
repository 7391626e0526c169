#!/usr/bin/env bash
# SPEC: "Candidates may arrive before the answer is sent; the server keeps
# them until it can use them." A client (wsprobe.py) sends well-formed ICE
# candidates (and an end-of-candidates) BEFORE its offer: no error may come
# back, and the answer and the server's own candidates must still arrive.
# cs-test-viewer has no candidates-first mode, so the offer is a hand-made
# H.264 recvonly SDP (fake ICE credentials/fingerprint): this checks the
# signaling, not the media path. Afterwards a normal viewer must still
# stream. Usage: early_candidates.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup early "${1:-/work/main/build}"
cs_start_server CS_LOG_LEVEL=debug

cand="candidate:1 1 UDP 2122260223 ${CS_CLIENT_IP} 50000 typ host"
cand2="candidate:2 1 TCP 1518280447 ${CS_CLIENT_IP} 9 typ host tcptype active"
out="$CS_TMP/early.out"
cs_ns python3 "$here/wsprobe.py" ws "$CS_URL" \
  "text={\"type\":\"ice\",\"candidate\":\"$cand\",\"sdpMLineIndex\":0}" \
  "text={\"type\":\"ice\",\"candidate\":\"$cand2\",\"sdpMLineIndex\":0}" \
  silence=error:1 \
  'text={"type":"ice","candidate":"","sdpMLineIndex":0}' \
  silence=error:1 \
  offer expect=answer:5 \
  silence=error:2 \
  open:0.1 >"$out"
cs_json "$out:1" 'd["ok"]' "socket opened"
cs_json "$out:4" 'd["ok"] and "skipped" not in d' "no reply at all to two candidates before the offer"
cs_json "$out:6" 'd["ok"] and "skipped" not in d' "no reply to end-of-candidates before the offer"
cs_json "$out:8" 'd["ok"] and d["msg"]["sdp"].startswith("v=0") and "m=video" in d["msg"]["sdp"]' \
  "answer arrives after early candidates"
cs_json "$out:9" 'd["ok"]' "no error after the answer (held candidates applied)"
cs_json "$out:9" 'any(isinstance(m, dict) and m.get("type") == "ice" and m["candidate"].startswith("candidate:") and "'"$CS_SERVER_IP"'" in m["candidate"] for m in d.get("skipped", []))' \
  "server sends its own candidates (on $CS_SERVER_IP)"
cs_json "$out:10" 'd["ok"]' "socket still open"
grep -E "candidate dropped|bad candidate" "$CS_TMP/server.err" &&
  cs_fail "server dropped or refused an early candidate"
cs_log "answer: $(sed -n 8p "$out" | cut -c1-160)..."
cs_server_alive || cs_fail "server died"

cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 6
viewer=$CS_LAST_PID
cs_await_viewer "$viewer" viewer
cs_json "$CS_TMP/viewer.out" 'd["frames"] >= 50' "a normal viewer afterwards: at least 50 frames"
cs_server_alive || cs_fail "server died"
cs_pass "early candidates"
