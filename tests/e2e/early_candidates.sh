#!/usr/bin/env bash
# SPEC: "Candidates may arrive before the answer is sent; the server keeps
# them until it can use them." Proven with a real client and a real offer:
# cs-test-viewer --candidates-first gathers its ICE candidates and sends them
# all, and end-of-candidates, BEFORE its offer (which carries no
# a=candidate), and then uses none of the server's candidates (the answer's
# a=candidate lines are stripped, trickled ones ignored). The only way ICE
# can then connect is the server's connectivity checks to the candidates it
# held from before the offer (the client learns the server's address as a
# peer-reflexive candidate from those checks): a server that drops or
# forgets held candidates gets no frames to this viewer.
# (Malformed candidates before the offer are protocol_errors' business.)
# Usage: early_candidates.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup early "${1:-/work/main/build}"
cs_start_server CS_LOG_LEVEL=debug

cs_start_bg early "$CS_VIEWER" --url "$CS_URL" --candidates-first --duration 10
early=$CS_LAST_PID
cs_await_viewer "$early" "candidates-first viewer"
cs_server_alive || cs_fail "server died"
out="$CS_TMP/early.out"
cs_log "viewer: $(head -n1 "$out")"
grep -q 'ICE gathering complete' "$CS_TMP/early.err" || cs_fail "the viewer never finished gathering"
cs_json "$out" 'd["candidates_first"]["offer_sent"] and d["answered"]' "offer sent, answer came"
cs_json "$out" 'd["candidates_first"]["candidates_before_offer"] >= 1' \
  "the viewer sent its candidates before the offer"
cs_json "$out" 'd["candidates_first"]["candidates_after_offer"] == 0' \
  "and none after it (every candidate had to be held)"
cs_json "$out" 'd["candidates_first"]["ignored_remote_candidates"] + d["candidates_first"]["stripped_answer_candidates"] >= 1' \
  "the server offered candidates, and the viewer used none of them"
cs_json "$out" 'not any("server error" in e for e in d["errors"])' "no error from the server"
cs_json "$out" 'd["ice_connected"]' "ICE connected through the held candidates"
cs_json "$out" 'd["frames"] >= 50' "at least 50 decoded frames"
cs_server_alive || cs_fail "server died"
cs_pass "candidates sent before the offer are held and applied"
