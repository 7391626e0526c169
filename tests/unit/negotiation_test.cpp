#include <doctest/doctest.h>

#include "cs/streaming/negotiation.hpp"
#include "cs/streaming/offer.hpp"

using namespace cs::streaming;
using Action = Negotiation::CandidateDecision::Action;

TEST_CASE("candidates before the answer are held, then released with it") {
  Negotiation n;
  CHECK(n.on_remote_candidate({0, "candidate:1 1 udp 2122260223 10.77.0.2 5000 typ host"}).action ==
        Action::hold);
  CHECK_FALSE(n.on_offer());
  CHECK(n.state() == Negotiation::State::answering);
  CHECK(n.on_remote_candidate({0, ""}).action == Action::hold);
  auto held = n.on_answer_sent();
  CHECK(held.size() == 2);
  CHECK(held[1].candidate.empty());
  CHECK(n.state() == Negotiation::State::answered);
  CHECK(n.on_remote_candidate({0, "candidate:2 1 udp 1 10.77.0.2 5001 typ host"}).action ==
        Action::apply);
  n.on_connected();
  CHECK(n.state() == Negotiation::State::connected);
}

TEST_CASE("a second offer is refused") {
  Negotiation n;
  CHECK_FALSE(n.on_offer());
  CHECK(n.on_offer().has_value());
}

TEST_CASE("bad candidates are rejected, mDNS ones dropped, and their number capped") {
  Negotiation n;
  n.on_offer();
  n.on_answer_sent();
  CHECK(n.on_remote_candidate({0, "a=candidate:1"}).action == Action::reject);
  CHECK(n.on_remote_candidate({0, "candidate:1 1 udp 1 x\r\ny 1 typ host"}).action ==
        Action::reject);
  CHECK(n.on_remote_candidate({99, "candidate:1 1 udp 1 10.0.0.1 1 typ host"}).action ==
        Action::reject);
  CHECK(n.on_remote_candidate({0, "candidate:1 1 udp 1 3f1a-22.local 5000 typ host"}).action ==
        Action::drop);
  int applied = 0;
  for (int i = 0; i < 100; ++i)
    if (n.on_remote_candidate({0, "candidate:1 1 udp 1 10.0.0.1 1 typ host"}).action ==
        Action::apply)
      ++applied;
  CHECK(applied == static_cast<int>(Negotiation::kMaxCandidates));
}

namespace {
const char* kChromeLikeOffer =
    "v=0\r\n"
    "o=- 1 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 102 103 106 127\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\n"
    "a=recvonly\r\n"
    "a=extmap:12 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f\r\n"
    "a=rtpmap:103 H264/90000\r\n"
    "a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:106 H264/90000\r\n"
    "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:127 H264/90000\r\n"
    "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n";
}

TEST_CASE("offer analysis picks constrained baseline with packetization-mode=1") {
  auto r = analyse_offer(kChromeLikeOffer);
  REQUIRE(r.summary);
  CHECK(r.summary->video_mline == 0);
  CHECK(r.summary->payload_type == 106);
  CHECK(r.summary->profile_level_id == "42e01f");
  CHECK(r.summary->playout_delay_ext_id == 12);
}

TEST_CASE("offers without usable H.264 are refused with a reason") {
  CHECK_FALSE(analyse_offer("garbage").summary);
  auto no_video =
      analyse_offer("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n");
  CHECK_FALSE(no_video.summary);
  CHECK(no_video.error.find("video") != std::string::npos);
  auto vp8_only = analyse_offer(
      "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 "
      "VP8/90000\r\n");
  CHECK_FALSE(vp8_only.summary);
  // The error names what the server sends and what the offer had.
  CHECK(vp8_only.error.find("H264 (packetization-mode=1)") != std::string::npos);
  CHECK(vp8_only.error.find("VP8") != std::string::npos);
  CHECK(no_video.error.find("audio") != std::string::npos);
  auto mode0 = analyse_offer(
      "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96 97\r\na=rtpmap:96 "
      "H264/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n");
  CHECK_FALSE(mode0.summary);
  CHECK(mode0.error.find("H264 (packetization-mode=0)") != std::string::npos);
  CHECK(mode0.error.find("rtx") == std::string::npos);
  auto sendonly = analyse_offer(
      "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=sendonly\r\n"
      "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n");
  CHECK_FALSE(sendonly.summary);
  CHECK(sendonly.error.find("sendonly") != std::string::npos);
}

TEST_CASE("candidate grammar (RFC 8839): browsers' candidates pass, malformed ones are refused") {
  const char* good[] = {
      "candidate:1 1 udp 2122260223 10.77.0.2 5000 typ host",
      "candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 10.77.0.2 rport "
      "61665 generation 0 ufrag hzsW network-cost 999",
      "candidate:2 1 TCP 1518280447 10.77.0.2 9 typ host tcptype active",
      "candidate:0 1 UDP 2122252543 3f1a-22ab.local 49203 typ host",
      "candidate:1 1 UDP 92217087 fd00::1 55000 typ relay raddr fd00::2 rport 3478",
      "candidate:a+b/c 2 udp 1 10.0.0.1 0 typ prflx",
  };
  for (const char* c : good) {
    CAPTURE(c);
    CHECK_FALSE(candidate_syntax_error(c));
  }
  const char* bad[] = {
      "x",
      "candidate:garbage",
      "candidate:1 1 udp 1 10.0.0.1 9",
      "candidate:1 1 udp 1 10.0.0.1 9 type host",
      "candidate:1 1 udp 1 10.0.0.1 70000 typ host",
      "candidate:1 0 udp 1 10.0.0.1 9 typ host",
      "candidate:1 1 udp 99999999999 10.0.0.1 9 typ host",
      "candidate:1 1 udp 1 10.0.0.1 9 typ host raddr",
      "candidate:1 1 udp 1 10.0.0.1 9 typ host rport x",
      "candidate:1 1 udp 1 10.0.0.1 9 typ host generation\t0",
      "candidate:1 1 udp 1 10.0.0.1;rm 9 typ host",
      "candidate:1  1 udp 1 10.0.0.1 9 typ host",
      "candidate:1 1 udp 1 10.0.0.1 9 typ host ",
  };
  for (const char* c : bad) {
    CAPTURE(c);
    CHECK(candidate_syntax_error(c));
  }
}

TEST_CASE("a malformed candidate is refused at once, also before any offer") {
  Negotiation n;
  const auto d = n.on_remote_candidate({0, "candidate:garbage"});
  CHECK(d.action == Action::reject);
  CHECK_FALSE(d.reason.empty());
  CHECK(n.on_answer_sent().empty());  // nothing of it was held
}

TEST_CASE("an offer's Opus audio is found after or before its video, and only if receivable") {
  const std::string video_then_audio = std::string(kChromeLikeOffer) +
                                       "m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\n"
                                       "c=IN IP4 0.0.0.0\r\n"
                                       "a=mid:1\r\n"
                                       "a=recvonly\r\n"
                                       "a=rtpmap:111 opus/48000/2\r\n"
                                       "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
                                       "a=rtpmap:63 red/48000/2\r\n";
  auto r = analyse_offer(video_then_audio);
  REQUIRE(r.summary);
  CHECK(r.summary->payload_type == 106);
  CHECK(r.summary->audio_mline == 1);
  CHECK(r.summary->opus_payload_type == 111);

  // Video only: no sound.
  auto video_only = analyse_offer(kChromeLikeOffer);
  REQUIRE(video_only.summary);
  CHECK(video_only.summary->audio_mline == -1);
  CHECK(video_only.summary->opus_payload_type == -1);

  // Audio first (as whip-whep offers), in capitals (as webrtcbin offers).
  const std::string audio_first =
      "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\na=rtpmap:96 OPUS/48000/2\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=recvonly\r\na=rtpmap:97 H264/90000\r\n"
      "a=fmtp:97 packetization-mode=1;profile-level-id=42e01f\r\n";
  auto first = analyse_offer(audio_first);
  REQUIRE(first.summary);
  CHECK(first.summary->video_mline == 1);
  CHECK(first.summary->audio_mline == 0);
  CHECK(first.summary->opus_payload_type == 96);

  // Port 0 with bundle-only (a max-bundle offerer, webrtcbin's own) is on.
  auto bundled = analyse_offer(std::string(kChromeLikeOffer) +
                               "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=bundle-only\r\na=recvonly\r\n"
                               "a=rtpmap:111 OPUS/48000/2\r\n");
  REQUIRE(bundled.summary);
  CHECK(bundled.summary->opus_payload_type == 111);

  // An audio m-line the viewer cannot receive on, or without Opus, is not sound.
  for (const char* audio :
       {"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n",
        "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n",
        // Opus on a static payload type rtpopuspay cannot send, or on a
        // format that is not a number (atoi made it 0).
        "m=audio 9 UDP/TLS/RTP/SAVPF 8\r\na=rtpmap:8 opus/48000/2\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF x\r\na=rtpmap:0 opus/48000/2\r\n"}) {
    auto none = analyse_offer(std::string(kChromeLikeOffer) + audio);
    REQUIRE(none.summary);
    CHECK(none.summary->opus_payload_type == -1);
  }
}
