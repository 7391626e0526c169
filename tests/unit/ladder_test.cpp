// CS_CODECS and CS_LADDER parsing, codec choice in offers, and the rung
// controller's decisions over simulated receiver reports.
#include <doctest/doctest.h>

#include <map>

#include "cs/config.hpp"
#include "cs/streaming/offer.hpp"
#include "cs/streaming/rung_controller.hpp"

using namespace cs;
using namespace cs::streaming;

namespace {

ConfigResult parse(std::map<std::string, std::string> env) {
  return parse_config([&](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

// Firefox ESR without OpenH264: VP8, VP9 and their rtx; Chromium adds H.264.
const char* kFirefoxVideo =
    "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 120 124 121 "
    "125\r\n"
    "a=rtpmap:120 VP8/90000\r\na=rtpmap:124 rtx/90000\r\na=fmtp:124 apt=120\r\n"
    "a=rtpmap:121 VP9/90000\r\na=fmtp:121 max-fs=12288;max-fr=60\r\n"
    "a=rtpmap:125 rtx/90000\r\na=fmtp:125 apt=121\r\n";
const char* kBothVideo =
    "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 106\r\n"
    "a=rtpmap:96 VP8/90000\r\na=rtpmap:106 H264/90000\r\n"
    "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n";

}  // namespace

TEST_CASE("CS_CODECS: a list of distinct known codecs, best first") {
  auto d = parse({});
  REQUIRE(d.config);
  CHECK(d.config->codecs == std::vector<VideoCodec>{VideoCodec::h264, VideoCodec::vp8});
  auto vp8 = parse({{"CS_CODECS", "vp8,h264"}});
  REQUIRE(vp8.config);
  CHECK(vp8.config->codecs == std::vector<VideoCodec>{VideoCodec::vp8, VideoCodec::h264});
  for (const char* bad : {"h265", "h264,h264", "vp8,,h264", "H264"}) {
    auto r = parse({{"CS_CODECS", bad}});
    CHECK_FALSE(r.config);
    CHECK(r.error.find("CS_CODECS") != std::string::npos);
  }
}

TEST_CASE("CS_LADDER: falling bitrates with optional sizes; the default halves the size") {
  auto d = parse({{"CS_BITRATE_KBPS", "3000"}});
  REQUIRE(d.config);
  CHECK(d.config->ladder ==
        std::vector<LadderRung>{{3000, 0, 0}, {1000, 640, 360}, {400, 640, 360}});
  auto low = parse({{"CS_BITRATE_KBPS", "800"}});
  REQUIRE(low.config);
  CHECK(low.config->ladder == std::vector<LadderRung>{{800, 0, 0}, {400, 640, 360}});
  auto one = parse({{"CS_LADDER", "2000"}});
  REQUIRE(one.config);
  CHECK(one.config->ladder == std::vector<LadderRung>{{2000, 0, 0}});
  auto sized = parse({{"CS_LADDER", "2500,1200@960x540,300@320x180"}});
  REQUIRE(sized.config);
  CHECK(sized.config->ladder[1] == LadderRung{1200, 960, 540});
  for (const char* bad : {"1000,2000", "1000,1000", "2500,400@641x360", "2500,400@640", "2500,x",
                          "50", "2500,400@1920x1080", "6,5,4,3,2,1,0"}) {
    auto r = parse({{"CS_LADDER", bad}});
    CHECK_MESSAGE(!r.config, bad);
    CHECK(r.error.find("CS_LADDER") != std::string::npos);
  }
}

TEST_CASE("each viewer gets the first of CS_CODECS its offer has") {
  const std::vector<VideoCodec> h264_vp8{VideoCodec::h264, VideoCodec::vp8};
  auto firefox = analyse_offer(kFirefoxVideo, h264_vp8);
  REQUIRE(firefox.summary);
  CHECK(firefox.summary->codec == VideoCodec::vp8);
  CHECK(firefox.summary->payload_type == 120);
  auto both = analyse_offer(kBothVideo, h264_vp8);
  REQUIRE(both.summary);
  CHECK(both.summary->codec == VideoCodec::h264);
  CHECK(both.summary->payload_type == 106);
  auto vp8_first = analyse_offer(kBothVideo, {VideoCodec::vp8, VideoCodec::h264});
  REQUIRE(vp8_first.summary);
  CHECK(vp8_first.summary->codec == VideoCodec::vp8);
  auto vp9 = analyse_offer(kFirefoxVideo, {VideoCodec::vp9});
  REQUIRE(vp9.summary);
  CHECK(vp9.summary->payload_type == 121);
  // Neither: the error names what the server sends and what the offer had.
  auto h264_only = analyse_offer(kFirefoxVideo, {VideoCodec::h264});
  CHECK_FALSE(h264_only.summary);
  CHECK(h264_only.error.find("the server sends H264 (packetization-mode=1)") != std::string::npos);
  CHECK(h264_only.error.find("the offer has VP8, VP9") != std::string::npos);
  CHECK(sendable_codecs(h264_vp8) == "H264 (packetization-mode=1), VP8");
}

TEST_CASE("rung controller: down on loss to the rung the throughput fits, up after a clean spell") {
  RungController c({2500, 1000, 400});
  std::int64_t t = 0;
  c.on_moved(t, 0);
  // Clean reports: stays on top.
  for (int i = 0; i < 5; ++i) c.on_report(t += 1000, 0.0, 2);
  CHECK(c.wanted() == 0);
  // An 800 kbit/s link under 2500: ~68 % lost. 2500 x 0.32 = 800 -> 400 fits, 1000 not.
  c.on_report(t += 1000, 0.68, 2);
  CHECK(c.wanted() == 2);
  c.on_moved(t += 300, 2);
  // Reports right after the move describe the old rung: ignored.
  c.on_report(t += 500, 0.5, 2);
  CHECK(c.wanted() == 2);
  // Clean for the hold (4 s): a probe one rung up.
  for (int i = 0; i < 4; ++i) c.on_report(t += 1000, 0.0, 2);
  c.on_tick(t += 1000);
  CHECK(c.wanted() == 1);
  c.on_moved(t, 1);
  // The probe overloads (RTT from the bottleneck's queue, two reports in a
  // row): back, and the next probe waits twice as long.
  c.on_report(t += 1200, 0.0, 250);
  CHECK(c.wanted() == 1);
  c.on_report(t += 500, 0.0, 250);
  CHECK(c.wanted() == 2);
  CHECK(c.up_hold_ms(1) == 8000);
  c.on_moved(t, 2);
  for (int i = 0; i < 6; ++i) {
    c.on_report(t += 1000, 0.0, 2);
    c.on_tick(t);
  }
  CHECK(c.wanted() == 2);  // 6 s clean < 8 s
  for (int i = 0; i < 3; ++i) {
    c.on_report(t += 1000, 0.0, 2);
    c.on_tick(t);
  }
  CHECK(c.wanted() == 1);
  c.on_moved(t, 1);
  // The link widened: the probe holds, then the top.
  for (int i = 0; i < 6; ++i) {
    c.on_report(t += 1000, 0.0, 2);
    c.on_tick(t);
  }
  CHECK(c.wanted() == 0);
}

TEST_CASE("rung controller: NACKs fail a probe at once, and only a probe") {
  RungController c({2500, 1000, 400});
  std::int64_t t = 0;
  c.on_moved(t, 1);
  c.on_nacks(t += 500, 10);  // not probing: receiver reports decide
  CHECK(c.wanted() == 1);
  for (int i = 0; i < 5; ++i) {
    c.on_report(t += 1000, 0.0, 2);
    c.on_tick(t);
  }
  REQUIRE(c.wanted() == 0);
  c.on_moved(t, 0);
  c.on_nacks(t += 300, 2);
  CHECK(c.wanted() == 0);
  c.on_nacks(t += 200, 1);  // three within the probe window
  CHECK(c.wanted() == 1);
  CHECK(c.up_hold_ms(0) == 8000);
  // One slow report alone is a scheduling hiccup, not a queue.
  RungController d({2500, 1000});
  d.on_moved(0, 0);
  d.on_report(1000, 0.0, 1);
  d.on_report(2000, 0.0, 300);
  CHECK(d.wanted() == 0);
  d.on_report(3000, 0.0, 1);
  d.on_report(4000, 0.0, 300);
  CHECK(d.wanted() == 0);
  d.on_report(5000, 0.0, 300);
  CHECK(d.wanted() == 1);
}

TEST_CASE("rung controller: hysteresis") {
  RungController c({2500, 1000, 400});
  std::int64_t t = 0;
  c.on_moved(t, 0);
  // One mildly lossy report is not enough; two in a row are.
  c.on_report(t += 1000, 0.05, 2);
  CHECK(c.wanted() == 0);
  c.on_report(t += 1000, 0.01, 2);
  c.on_report(t += 1000, 0.05, 2);
  CHECK(c.wanted() == 0);
  c.on_report(t += 1000, 0.06, 2);
  CHECK(c.wanted() == 1);
  c.on_moved(t, 1);
  // A little loss keeps it from climbing (no clean spell).
  for (int i = 0; i < 10; ++i) {
    c.on_report(t += 1000, i % 2 ? 0.03 : 0.0, 2);
    c.on_tick(t);
  }
  CHECK(c.wanted() == 1);
  // The bottom rung has nowhere to go.
  RungController one({2500});
  one.on_moved(0, 0);
  one.on_report(1000, 0.9, 2);
  CHECK(one.wanted() == 0);
}
