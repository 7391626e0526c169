#include <doctest/doctest.h>

#include "cs/streaming/ice_servers.hpp"
#include "cs/streaming/negotiation.hpp"

using namespace cs::streaming;

TEST_CASE("TURN REST credentials follow coturn's static-auth-secret scheme") {
  // The password computed independently: base64(HMAC-SHA1("north", user)) in Python.
  CHECK(turn_rest_password("north", "1733000000:viewer-7") == "MnJwiQ/JW7N8quvDj8FYYbkxByY=");
  IceServers servers;
  servers.turn = {"turn://relay:3478"};
  servers.turn_secret = "north";
  servers.credential_ttl_s = 600;
  const auto c = servers.credentials_for("viewer-7", 1732999400);
  CHECK(c.user == "1733000000:viewer-7");
  CHECK(c.password == "MnJwiQ/JW7N8quvDj8FYYbkxByY=");
  // Without a secret: the static pair.
  const IceServers fixed{.stun = {},
                         .turn = {"turn://relay:3478"},
                         .turn_user = "u",
                         .turn_pass = "p",
                         .turn_secret = {},
                         .credential_ttl_s = 60};
  CHECK(fixed.credentials_for("x", 0).user == "u");
  CHECK(fixed.credentials_for("x", 0).password == "p");
}

TEST_CASE("webrtcbin's TURN URI carries credentials percent-escaped") {
  const TurnCredentials rest{"1733000000:viewer-7", "Mn/J+W=="};
  CHECK(webrtcbin_turn_uri("turn://relay:3478", rest) ==
        "turn://1733000000%3Aviewer-7:Mn%2FJ%2BW%3D%3D@relay:3478");
  CHECK(webrtcbin_turn_uri("turn://relay:3478?transport=tcp", {"u", "p"}) ==
        "turn://u:p@relay:3478?transport=tcp");
  CHECK(webrtcbin_turn_uri("turn://relay:3478", {}) == "turn://relay:3478");
}

TEST_CASE("the page's ICE server URLs and the log's relay names") {
  CHECK(browser_ice_url("stun://10.0.0.1:3478") == "stun:10.0.0.1:3478");
  CHECK(browser_ice_url("turn://relay:3478?transport=tcp") == "turn:relay:3478?transport=tcp");
  CHECK(browser_ice_url("turns://relay:5349") == "turns:relay:5349");
  CHECK(ice_server_display("turn://relay:3478?transport=tcp") == "relay:3478");
}

TEST_CASE("CS_ICE_PUBLIC_IP replaces the address of host candidates only") {
  const std::string host = "candidate:1 1 UDP 2015363327 10.0.0.5 50001 typ host";
  const std::string srflx =
      "candidate:2 1 UDP 1679155711 198.51.100.1 50001 typ srflx raddr 10.0.0.5 rport 50001";
  CHECK(announce_host_address(host, "203.0.113.7") ==
        "candidate:1 1 UDP 2015363327 203.0.113.7 50001 typ host");
  CHECK(announce_host_address(srflx, "203.0.113.7") == srflx);
  CHECK(announce_host_address(host, "") == host);
  CHECK(announce_host_address("", "203.0.113.7").empty());
  CHECK(candidate_type(host) == "host");
  CHECK(candidate_type(srflx) == "srflx");
  CHECK(candidate_type("").empty());
  const std::string sdp = "v=0\r\nc=IN IP4 10.0.0.5\r\na=candidate:" + host.substr(10) +
                          "\r\na=candidate:" + srflx.substr(10) + "\r\na=end-of-candidates\r\n";
  CHECK(announce_host_addresses_in_sdp(sdp, "203.0.113.7") ==
        "v=0\r\nc=IN IP4 203.0.113.7\r\na=candidate:1 1 UDP 2015363327 203.0.113.7 50001 typ "
        "host\r\na=candidate:" +
            srflx.substr(10) + "\r\na=end-of-candidates\r\n");
  CHECK(announce_host_addresses_in_sdp(sdp, "") == sdp);
}
