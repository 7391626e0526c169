#include <doctest/doctest.h>

#include <gst/gst.h>

#include "cs/streaming/encoder.hpp"

using namespace cs::streaming;
using cs::EncoderChoice;

TEST_CASE("auto tries nvenc, then vaapi, then x264") {
  CHECK(encoder_candidates(EncoderChoice::auto_select) ==
        std::vector<std::string>{"nvh264enc", "vaapih264enc", "x264enc"});
  CHECK(encoder_candidates(EncoderChoice::x264) == std::vector<std::string>{"x264enc"});
  CHECK(encoder_candidates(EncoderChoice::vaapi) == std::vector<std::string>{"vaapih264enc"});
  CHECK(encoder_candidates(EncoderChoice::nvenc) == std::vector<std::string>{"nvh264enc"});
}

TEST_CASE("selection falls back past encoders that fail, with reasons") {
  std::vector<std::string> tried;
  auto selection = select_encoder(EncoderChoice::auto_select, [&](const std::string& f) {
    tried.push_back(f);
    return f == "x264enc" ? std::string() : std::string("failed to start");
  });
  CHECK(selection.factory == "x264enc");
  CHECK(tried == std::vector<std::string>{"nvh264enc", "vaapih264enc", "x264enc"});
  REQUIRE(selection.reasons.size() == 2);
  CHECK(selection.reasons[0] == "nvh264enc: failed to start");

  auto first =
      select_encoder(EncoderChoice::auto_select, [](const std::string&) { return std::string(); });
  CHECK(first.factory == "nvh264enc");
  CHECK(first.reasons.empty());

  auto none = select_encoder(EncoderChoice::vaapi,
                             [](const std::string&) { return std::string("missing"); });
  CHECK(none.factory.empty());
  CHECK(none.reasons.size() == 1);
}

TEST_CASE("the real probe: x264 works here; a missing plugin is reported") {
  gst_init(nullptr, nullptr);
  EncoderSettings s{320, 240, 30, 500};
  CHECK(probe_encoder("x264enc", s).empty());
  CHECK(probe_encoder("no-such-encoder", s) == "plugin not installed");
  auto real = select_encoder(EncoderChoice::auto_select,
                             [&](const std::string& f) { return probe_encoder(f, s); });
  CHECK_FALSE(real.factory.empty());
}

TEST_CASE("x264 is configured for low latency") {
  gst_init(nullptr, nullptr);
  auto enc = make_encoder("x264enc", {1280, 720, 30, 2500});
  REQUIRE(enc);
  guint bframes = 99, key_int = 0, bitrate = 0;
  gboolean sliced = FALSE;
  guint64 min_fku = 0;
  g_object_get(enc.get(), "bframes", &bframes, "key-int-max", &key_int, "bitrate", &bitrate,
               "sliced-threads", &sliced, "min-force-key-unit-interval", &min_fku, nullptr);
  CHECK(bframes == 0);
  CHECK(key_int == 30);
  CHECK(bitrate == 2500);
  CHECK(sliced);
  CHECK(min_fku > 0);
}

TEST_CASE("a failed encoder is replaced by the next that works, else once by itself") {
  const auto works = [](const std::string& f) {
    return f == "vaapih264enc" ? std::string("no GPU") : std::string();
  };
  EncoderFallback fallback(encoder_candidates(EncoderChoice::auto_select));
  CHECK(fallback.next("nvh264enc", works) == std::optional<std::string>("x264enc"));
  // The last of the order has nothing after it: the same once more, then no more.
  CHECK(fallback.next("x264enc", works) == std::optional<std::string>("x264enc"));
  CHECK_FALSE(fallback.next("x264enc", works).has_value());
  // After a healthy spell the same encoder may be retried again.
  fallback.on_healthy();
  CHECK(fallback.next("x264enc", works) == std::optional<std::string>("x264enc"));
  // Candidates after the failed one are still offered when the retry is spent.
  CHECK(fallback.next("nvh264enc", works) == std::optional<std::string>("x264enc"));
}
