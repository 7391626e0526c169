#!/usr/bin/env bash
# WHEP playback (draft-ietf-wish-whep) against the real server, in a test
# namespace, 640x360 to spare the CPU. Usage: whep.sh [BUILD_DIR]
#  1. The native viewer with --whep (POST the offer, PATCH its candidates with
#     If-Match, DELETE at the end) and a WebSocket viewer at once: both
#     >= 25 fps; the WHEP viewer's trickle got 204s and its DELETE 200.
#  2. With curl: wrong content type 415, garbage 400, an offer with only AV1
#     400 naming what the server sends, a real offer 201 (Location, ETag, the
#     answer with candidates and end-of-candidates, CORS headers for an allowed
#     Origin, 403 for a foreign one), PATCH with a wrong If-Match 412, an ICE
#     restart 422, a good one 204, PATCH/DELETE of an unknown id 404, OPTIONS
#     204 with the CORS headers.
#  3. A WHEP viewer that vanishes (SIGSTOP) is removed by the server.
#  4. CS_MAX_VIEWERS=1 and CS_AUTH_TOKEN: no or a wrong token 401, the right
#     one 201; a second POST 503 with Retry-After; DELETE frees the slot
#     (/stats back at 0, the next POST is taken).
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup whep "${1:-/work/main/build}"
base="http://${CS_SERVER_IP}:${CS_PORT}"
whep="$base/whep"
page_origin="http://${CS_CLIENT_IP}:9000"
size=(CS_WIDTH=640 CS_HEIGHT=360)

# A recvonly video offer as a browser makes it, with the given rtpmap lines
# ("PT NAME"); CRLF line ends.
offer() {
  local pts="" line
  for line in "$@"; do pts+=" ${line%% *}"; done
  {
    printf '%s\n' v=0 'o=- 4611731400430051336 2 IN IP4 127.0.0.1' s=- 't=0 0' 'a=group:BUNDLE 0' \
      'a=msid-semantic: WMS' "m=video 9 UDP/TLS/RTP/SAVPF${pts}" 'c=IN IP4 0.0.0.0' \
      'a=rtcp:9 IN IP4 0.0.0.0' 'a=ice-ufrag:Wh3p' 'a=ice-pwd:whepTestPasswordOf24Chars' \
      'a=ice-options:trickle' \
      'a=fingerprint:sha-256 8A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9' \
      a=setup:actpass a=mid:0 a=recvonly a=rtcp-mux a=rtcp-rsize
    for line in "$@"; do
      printf 'a=rtpmap:%s %s/90000\n' "${line%% *}" "${line#* }"
      printf 'a=rtcp-fb:%s nack\na=rtcp-fb:%s nack pli\n' "${line%% *}" "${line%% *}"
      [[ "${line#* }" == H264 ]] &&
        printf 'a=fmtp:%s level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\n' "${line%% *}"
    done
  } | sed 's/$/\r/'
}
offer "96 H264" "97 VP8" >"$CS_TMP/offer.sdp"
offer "45 AV1" >"$CS_TMP/av1.sdp"
printf 'this is not SDP\r\n' >"$CS_TMP/garbage.sdp"

# http NAME CURL_ARGS...: one request from the viewers' address; headers in
# $CS_TMP/NAME.h, body in $CS_TMP/NAME.b, prints the status.
http() {
  local name="$1"
  shift
  cs_ns curl -s --max-time 15 --interface "$CS_CLIENT_IP" -D "$CS_TMP/$name.h" \
    -o "$CS_TMP/$name.b" -w '%{http_code}' "$@"
}
# expect NAME STATUS WHAT CURL_ARGS...
expect() {
  local name="$1" want="$2" what="$3" got
  shift 3
  got=$(http "$name" "$@")
  [[ "$got" == "$want" ]] ||
    cs_fail "$what: expected HTTP $want, got $got: $(tr -d '\r' <"$CS_TMP/$name.h" | head -n1) $(head -c 300 "$CS_TMP/$name.b")"
  cs_log "ok: $what -> $got $(head -n1 "$CS_TMP/$name.b" | tr -d '\r' | head -c 120)"
}
# header NAME HEADER: the value of HEADER in $CS_TMP/NAME.h (first one).
header() {
  tr -d '\r' <"$CS_TMP/$1.h" | awk -v h="$2" 'BEGIN{IGNORECASE=1} tolower($0) ~ "^" tolower(h) ":" {sub(/^[^:]*: */, ""); print; exit}'
}
has_header() { # NAME REGEX WHAT
  tr -d '\r' <"$CS_TMP/$1.h" | grep -qiE "$2" || cs_fail "$3: no header matching '$2' in: $(tr -d '\r' <"$CS_TMP/$1.h" | tr '\n' '|')"
}
post_sdp() { # NAME STATUS WHAT FILE [CURL_ARGS...]; QUERY=... appended to the URL
  local name="$1" want="$2" what="$3" file="$4"
  shift 4
  expect "$name" "$want" "$what" -X POST -H 'Content-Type: application/sdp' --data-binary "@$file" "$@" \
    "$whep${QUERY:+?$QUERY}"
}

# ---- 1. native WHEP viewer beside a WebSocket viewer ------------------------
cs_start_server "${size[@]}" CS_LOG_LEVEL=debug CS_ALLOWED_ORIGINS="$page_origin"
cs_start_bg ws "$CS_VIEWER" --url "$CS_URL" --duration 8
ws_pid=$CS_LAST_PID
cs_start_bg whepv "$CS_VIEWER" --whep "$whep" --duration 8
whep_pid=$CS_LAST_PID
cs_await_viewer "$whep_pid" "WHEP viewer"
cs_await_viewer "$ws_pid" "WebSocket viewer"
cs_log "whep viewer: $(head -c 600 "$CS_TMP/whepv.out")"
cs_json "$CS_TMP/whepv.out" 'd["whep"]["post_status"] == 201 and d["ice_connected"]' "WHEP viewer: 201 and ICE connected"
cs_json "$CS_TMP/whepv.out" 'd["fps"] >= 25 and d["frames"] >= 100' "WHEP viewer: >= 25 fps"
cs_json "$CS_TMP/whepv.out" 'd["width"] == 640 and d["height"] == 360 and d["center_saturated_fraction"] >= 0.8' \
  "WHEP viewer: 640x360 frames of the cube"
cs_json "$CS_TMP/whepv.out" 'd["whep"]["location"].startswith("/whep/") and len(d["whep"]["location"]) == 6 + 32' \
  "WHEP viewer: Location /whep/<32 hex>"
cs_json "$CS_TMP/whepv.out" 'd["whep"]["etag"] != "" and d["remote_candidates"] >= 1 and d["whep"]["answer_end_of_candidates"]' \
  "WHEP viewer: ETag, and the answer holds the server's candidates and end-of-candidates"
cs_json "$CS_TMP/whepv.out" 'd["whep"]["patch_statuses"] and all(s == 204 for s in d["whep"]["patch_statuses"]) and d["whep"]["end_of_candidates_sent"]' \
  "WHEP viewer: its trickle PATCHes got 204"
cs_json "$CS_TMP/whepv.out" 'd["whep"]["delete_status"] == 200 and not any(w in e for e in d["errors"] for w in ("POST", "PATCH", "DELETE"))' \
  "WHEP viewer: DELETE 200, no HTTP errors"
cs_json "$CS_TMP/ws.out" 'd["fps"] >= 25 and d["frames"] >= 100' "WebSocket viewer beside it: >= 25 fps"
cs_wait_stats 0 5 || cs_fail "/stats does not return to 0 viewers after both left: $(cs_stats_viewers)"

# ---- 2. the resource, with curl ---------------------------------------------
expect ctype 415 "POST with Content-Type text/plain" -X POST -H 'Content-Type: text/plain' \
  --data-binary "@$CS_TMP/offer.sdp" "$whep"
post_sdp garbage 400 "POST of garbage SDP" "$CS_TMP/garbage.sdp"
post_sdp empty 400 "POST with no body" /dev/null
post_sdp av1 400 "POST of an AV1-only offer" "$CS_TMP/av1.sdp"
grep -qiE 'h264|vp8' "$CS_TMP/av1.b" || cs_fail "the AV1 refusal does not name what the server sends: $(cat "$CS_TMP/av1.b")"
grep -qi 'text/plain' <(header av1 Content-Type) || cs_fail "the refusal's reason is not text/plain"
QUERY=rung=99 post_sdp badrung 400 "POST ?rung=99" "$CS_TMP/offer.sdp"
post_sdp foreign 403 "POST from a foreign Origin" "$CS_TMP/offer.sdp" -H 'Origin: http://evil.example'

post_sdp created 201 "POST of a real offer (allowed Origin)" "$CS_TMP/offer.sdp" -H "Origin: $page_origin"
location=$(header created Location)
etag=$(header created ETag)
[[ "$location" =~ ^/whep/[0-9a-f]{32}$ ]] || cs_fail "Location is '$location', not /whep/<32 hex>"
[[ "$etag" =~ ^\"[0-9a-fA-F]+\"$ ]] || cs_fail "ETag is '$etag', not a quoted hex string"
[[ "$(header created Content-Type)" == application/sdp* ]] || cs_fail "the answer is not application/sdp"
[[ "$(header created Access-Control-Allow-Origin)" == "$page_origin" ]] ||
  cs_fail "no Access-Control-Allow-Origin: $page_origin on the 201"
has_header created '^access-control-expose-headers:.*location' "201 exposes Location"
has_header created '^access-control-expose-headers:.*etag' "201 exposes ETag"
grep -q '^a=candidate:' "$CS_TMP/created.b" || cs_fail "the answer holds no a=candidate line"
grep -q '^a=end-of-candidates' "$CS_TMP/created.b" || cs_fail "the answer has no a=end-of-candidates"
grep -q 'H264/90000' "$CS_TMP/created.b" || cs_fail "the answer does not choose H264 (first of CS_CODECS)"
cs_log "ok: 201 Location $location ETag $etag"
resource="$base$location"
frag() { # UFRAG PWD: a trickle fragment with one host candidate
  printf 'a=ice-ufrag:%s\r\na=ice-pwd:%s\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 UDP 2122252543 %s 50000 typ host\r\na=end-of-candidates\r\n' \
    "$1" "$2" "$CS_CLIENT_IP"
}
frag Wh3p whepTestPasswordOf24Chars >"$CS_TMP/frag.txt"
frag Other otherPasswordOf24Chars0 >"$CS_TMP/restart.txt"
patch() { # NAME STATUS WHAT URL FILE [CURL_ARGS...]; PATCH_TYPE=... for another type
  local name="$1" want="$2" what="$3" url="$4" file="$5"
  shift 5
  expect "$name" "$want" "$what" -X PATCH -H "Content-Type: ${PATCH_TYPE:-application/trickle-ice-sdpfrag}" \
    --data-binary "@$file" "$@" "$url"
}
patch p412 412 "PATCH with a wrong If-Match" "$resource" "$CS_TMP/frag.txt" -H 'If-Match: "0badbad0"'
PATCH_TYPE=application/sdp patch p415 415 "PATCH with Content-Type application/sdp" "$resource" \
  "$CS_TMP/frag.txt" -H "If-Match: $etag"
patch p422 422 "PATCH with an ICE restart" "$resource" "$CS_TMP/restart.txt" -H "If-Match: $etag"
patch p204 204 "PATCH with the ETag" "$resource" "$CS_TMP/frag.txt" -H "If-Match: $etag"
# The draft sends If-Match: * for an ICE restart only; the server has none.
patch pstar 422 "PATCH with If-Match: * (an ICE restart)" "$resource" "$CS_TMP/frag.txt" -H 'If-Match: *'
unknown="$whep/0123456789abcdef0123456789abcdef"
patch p404 404 "PATCH of an unknown id" "$unknown" "$CS_TMP/frag.txt"
expect d404 404 "DELETE of an unknown id" -X DELETE "$unknown"
expect opt 204 "OPTIONS /whep (preflight)" -X OPTIONS -H "Origin: $page_origin" \
  -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type' "$whep"
has_header opt '^accept-post:.*application/sdp' "OPTIONS /whep: Accept-Post"
has_header opt "^access-control-allow-origin: $page_origin\$" "OPTIONS /whep: Allow-Origin"
has_header opt '^access-control-allow-methods:.*POST' "OPTIONS /whep: Allow-Methods"
has_header opt '^access-control-allow-headers:.*authorization' "OPTIONS /whep: Allow-Headers Authorization"
has_header opt '^access-control-allow-headers:.*content-type' "OPTIONS /whep: Allow-Headers Content-Type"
has_header opt '^access-control-allow-headers:.*if-match' "OPTIONS /whep: Allow-Headers If-Match"
expect optr 204 "OPTIONS on the resource (preflight)" -X OPTIONS -H "Origin: $page_origin" \
  -H 'Access-Control-Request-Method: PATCH' "$resource"
has_header optr '^access-control-allow-methods:.*PATCH' "OPTIONS resource: Allow-Methods PATCH"
has_header optr '^access-control-allow-methods:.*DELETE' "OPTIONS resource: Allow-Methods DELETE"
expect del 200 "DELETE of the resource" -X DELETE "$resource"
expect del2 404 "DELETE of it again" -X DELETE "$resource"
cs_wait_stats 0 5 || cs_fail "/stats still counts the deleted viewer: $(cs_stats_viewers)"

# ---- 3. a WHEP viewer that vanishes -----------------------------------------
cs_start_bg vanish "$CS_VIEWER" --whep "$whep" --duration 60
vanish_pid=$CS_LAST_PID
cs_wait_log "$CS_TMP/vanish.err" 'media pad added, receiving' 20 || cs_fail "the vanishing viewer never received"
cs_wait_stats 1 5 || cs_fail "/stats does not count the WHEP viewer: $(cs_stats_viewers)"
sleep 2
gone='removed \(nothing from the viewer.s media transport'
removed_before=$(grep -cE "$gone" "$CS_TMP/server.err")
kill -STOP "$vanish_pid"
stop_ms=$(cs_now_ms)
cs_log "SIGSTOP to the WHEP viewer"
deadline=$((stop_ms + 15000))
until (($(grep -cE "$gone" "$CS_TMP/server.err") > removed_before)); do
  (($(cs_now_ms) < deadline)) || { kill -CONT "$vanish_pid"; cs_fail "the stopped WHEP viewer was not removed within 15 s"; }
  sleep 0.2
done
cs_log "ok: removed $(($(cs_now_ms) - stop_ms)) ms after SIGSTOP: $(grep -E "$gone" "$CS_TMP/server.err" | tail -n1)"
cs_wait_stats 0 5 || cs_fail "/stats still counts the vanished viewer: $(cs_stats_viewers)"
kill -KILL "$vanish_pid" 2>/dev/null
kill -CONT "$vanish_pid" 2>/dev/null
cs_server_alive || cs_fail "server died"
cs_stop_server

# ---- 4. CS_MAX_VIEWERS=1, CS_AUTH_TOKEN -------------------------------------
token="whep-token-$$-abcdefghij"  # 16 characters at least, whatever the PID
# STUN and TURN (REST secret) that nothing answers, inside the namespace: the
# player is handed them in Link headers, the server answers at its deadline.
cs_start_server "${size[@]}" CS_LOG_LEVEL=debug CS_MAX_VIEWERS=1 CS_AUTH_TOKEN="$token" \
  CS_STUN_SERVER="stun://$CS_SERVER_IP:3478" CS_TURN_SERVER="turn://$CS_SERVER_IP:3478" \
  CS_TURN_SECRET="whep-secret-$$"
post_sdp noauth 401 "POST without the token" "$CS_TMP/offer.sdp"
post_sdp badauth 401 "POST with a wrong token" "$CS_TMP/offer.sdp" -H 'Authorization: Bearer wrong'
expect optauth 204 "OPTIONS needs no token" -X OPTIONS -H "Origin: $base" -H 'Access-Control-Request-Method: POST' "$whep"
post_sdp first 201 "POST with the right token (CS_MAX_VIEWERS=1)" "$CS_TMP/offer.sdp" -H "Authorization: Bearer $token"
first="$base$(header first Location)"
grep -qiE "^link: <stun:$CS_SERVER_IP:3478>; rel=\"ice-server\"" "$CS_TMP/first.h" ||
  cs_fail "no STUN Link header: $(tr -d '\r' <"$CS_TMP/first.h" | tr '\n' '|')"
grep -qiE "^link: <turn:$CS_SERVER_IP:3478[^>]*>; rel=\"ice-server\"; username=\"[0-9]+:[^\"]+\"; credential=\"[^\"]+\"; credential-type=\"password\"" "$CS_TMP/first.h" ||
  cs_fail "no TURN Link header with REST credentials: $(tr -d '\r' <"$CS_TMP/first.h" | tr '\n' '|')"
grep -qi "whep-secret-$$" "$CS_TMP/first.h" && cs_fail "the TURN secret itself went out in a header"
cs_log "ok: Link headers hand the player STUN and TURN with minted credentials"
post_sdp full 503 "a second POST while the one slot is taken" "$CS_TMP/offer.sdp" -H "Authorization: Bearer $token"
[[ "$(header full Retry-After)" =~ ^[0-9]+$ ]] || cs_fail "503 without a Retry-After: $(tr -d '\r' <"$CS_TMP/full.h" | tr '\n' '|')"
expect delnoauth 401 "DELETE without the token" -X DELETE "$first"
expect delfirst 200 "DELETE of the first" -X DELETE -H "Authorization: Bearer $token" "$first"
stats_now() { cs_ns curl -s --max-time 2 -H "Authorization: Bearer $token" "$base/stats" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["viewers"])'; }
deadline=$(($(cs_now_ms) + 3000))
until [[ "$(stats_now 2>/dev/null)" == 0 ]]; do
  (($(cs_now_ms) < deadline)) || cs_fail "/stats does not count 0 viewers after DELETE: $(stats_now)"
  sleep 0.1
done
cs_log "ok: /stats back at 0 after DELETE"
QUERY="token=$token" post_sdp second 201 "the next POST takes the freed slot (?token=)" "$CS_TMP/offer.sdp"
expect delsecond 200 "DELETE of it (?token=)" -X DELETE "$base$(header second Location)?token=$token"
cs_server_alive || cs_fail "server died"
cs_pass "WHEP"
