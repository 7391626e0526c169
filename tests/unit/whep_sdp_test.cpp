#include <doctest/doctest.h>

#include <set>
#include <string>

#include "cs/whep/whep_sdp.hpp"

using namespace cs::whep;

namespace {

const char* kOffer =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:vF3k\r\n"
    "a=ice-pwd:pw0123456789abcdef01234\r\na=mid:0\r\na=recvonly\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:data\r\n";

}  // namespace

TEST_CASE("whep: the offer's ICE credentials and mids") {
  const OfferIce ice = offer_ice(kOffer);
  CHECK(ice.ufrag == "vF3k");
  CHECK(ice.pwd == "pw0123456789abcdef01234");
  REQUIRE(ice.mids.size() == 2);
  CHECK(ice.mids[0] == "0");
  CHECK(ice.mids[1] == "data");
  // Session-level credentials win over a section's.
  const OfferIce session = offer_ice(
      "v=0\na=ice-ufrag:top\na=ice-pwd:toppw\nm=video 9 X 96\n"
      "a=ice-ufrag:low\na=ice-pwd:lowpw\n");
  CHECK(session.ufrag == "top");
  CHECK(session.pwd == "toppw");
  CHECK(offer_ice("").mids.empty());
}

TEST_CASE("whep: a trickle fragment (RFC 8840) as whip-whep sends it") {
  const std::string body =
      "a=ice-ufrag:vF3k\r\na=ice-pwd:pw\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
      "a=candidate:1 1 udp 2113937151 10.0.0.2 50000 typ host\r\na=end-of-candidates\r\n";
  const FragmentParse parsed = parse_trickle_fragment(body);
  REQUIRE(parsed.fragment);
  CHECK(parsed.fragment->ufrag == "vF3k");
  CHECK(parsed.fragment->pwd == "pw");
  REQUIRE(parsed.fragment->candidates.size() == 2);
  CHECK(parsed.fragment->candidates[0].mid == "0");
  CHECK(parsed.fragment->candidates[0].candidate ==
        "candidate:1 1 udp 2113937151 10.0.0.2 50000 typ host");
  CHECK(parsed.fragment->candidates[1].candidate.empty());  // end of candidates
  // Before any m= line a candidate belongs to the first section.
  const auto bare = parse_trickle_fragment("a=candidate:2 1 udp 1 10.0.0.3 9 typ host\n");
  REQUIRE(bare.fragment);
  CHECK(bare.fragment->candidates.at(0).mid.empty());
  CHECK(parse_trickle_fragment("").fragment);
}

TEST_CASE("whep: a fragment that is not one is refused with a reason") {
  CHECK_FALSE(parse_trickle_fragment("hello\r\n").error.empty());
  CHECK_FALSE(parse_trickle_fragment("v=0\r\n").fragment);
  CHECK_FALSE(parse_trickle_fragment(std::string("a=candidate:1\x01 x\r\n")).fragment);
  std::string many;
  for (std::size_t i = 0; i <= kMaxFragmentLines; ++i) many += "a=x\r\n";
  CHECK_FALSE(parse_trickle_fragment(many).fragment);
}

TEST_CASE("whep: the answer carries the gathered candidates in their sections") {
  const std::string answer =
      "v=0\r\ns=-\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\nm=application 9 X\r\na=mid:1\r\n";
  const std::string out =
      answer_with_candidates(answer, {{0, "candidate:1 1 UDP 1 10.0.0.1 4000 typ host"}}, true);
  CHECK(out ==
        "v=0\r\ns=-\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n"
        "a=candidate:1 1 UDP 1 10.0.0.1 4000 typ host\r\na=end-of-candidates\r\n"
        "m=application 9 X\r\na=mid:1\r\na=end-of-candidates\r\n");
  const std::string partial = answer_with_candidates(answer, {{1, "candidate:x"}}, false);
  CHECK(partial.find("end-of-candidates") == std::string::npos);
  CHECK(partial.find("a=mid:1\r\na=candidate:x\r\n") != std::string::npos);
}

TEST_CASE("whep: Link headers name each ICE server, quoting the credentials") {
  cs::signaling::IceServerList servers;
  CHECK(ice_server_links(servers).empty());
  servers.stun_url = "stun:10.0.0.1:3478";
  servers.turn_urls = {"turn:10.0.0.1:3478?transport=udp"};
  servers.username = "1700000000:viewer";
  servers.credential = "a/b+c=\"q\\";
  const auto links = ice_server_links(servers);
  REQUIRE(links.size() == 2);
  CHECK(links[0] == "<stun:10.0.0.1:3478>; rel=\"ice-server\"");
  CHECK(links[1] ==
        "<turn:10.0.0.1:3478?transport=udp>; rel=\"ice-server\"; username=\"1700000000:viewer\"; "
        "credential=\"a/b+c=\\\"q\\\\\"; credential-type=\"password\"");
}

TEST_CASE("whep: the lip-sync query") {
  std::string error;
  CHECK_FALSE(lip_sync_in_query("", error));
  CHECK(lip_sync_in_query("rung=1&sync=1", error));
  CHECK_FALSE(lip_sync_in_query("sync=0", error));
  CHECK_FALSE(lip_sync_in_query("async=1&syncx=1", error));
  CHECK(error.empty());
  CHECK_FALSE(lip_sync_in_query("sync=yes", error));
  CHECK_FALSE(error.empty());
}

TEST_CASE("whep: media types, session names and the rung query") {
  CHECK(media_type("Application/SDP; charset=utf-8") == "application/sdp");
  CHECK(media_type(" application/trickle-ice-sdpfrag ") == "application/trickle-ice-sdpfrag");
  CHECK(media_type("").empty());
  std::set<std::string> names;
  for (int i = 0; i < 100; ++i) {
    const std::string name = new_session_name();
    CHECK(name.size() == 32);
    CHECK(name.find_first_not_of("0123456789abcdef") == std::string::npos);
    names.insert(name);
  }
  CHECK(names.size() == 100);
  std::string error;
  CHECK_FALSE(rung_in_query("", error));
  CHECK(rung_in_query("token=x&rung=2", error) == 2);
  CHECK(error.empty());
  CHECK_FALSE(rung_in_query("rung=16", error));
  CHECK_FALSE(error.empty());
  error.clear();
  CHECK_FALSE(rung_in_query("rung=1x", error));
  CHECK_FALSE(error.empty());
}
