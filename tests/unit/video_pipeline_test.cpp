// The shared pipeline (streaming/video_pipeline.hpp) built for real, with
// settings that its own checks must refuse and with a broken encoder.
#include <doctest/doctest.h>
#include <gst/gst.h>

#include <string>

#include "cs/streaming/video_pipeline.hpp"

using namespace cs::streaming;

TEST_CASE("pipeline: frame caps that describe no video frame are refused with a clear error") {
  gst_init(nullptr, nullptr);
  // 65536 x 65536 NV12 links (the caps are well-formed and within x264enc's
  // template) but gst_video_info_from_caps refuses it: the frame would be
  // larger than GStreamer can size. Without the check the buffer pool was
  // sized from an uninitialised GstVideoInfo.
  PipelineSettings settings;
  settings.encoder.width = 65536;
  settings.encoder.height = 65536;
  auto made = VideoPipeline::create(settings);
  CHECK_FALSE(made.pipeline);
  CAPTURE(made.error);
  CHECK(made.error.find("frame caps") != std::string::npos);
}

// The force-key-unit event is ours until gst_pad_send_event takes it: with no
// pad to send it to, it must be freed. Checked for real by LeakSanitizer
// (build with -DCS_SANITIZE=ON, run with G_SLICE=always-malloc so that the
// event's memory comes from malloc; ASAN_OPTIONS=detect_leaks=1).
TEST_CASE("pipeline: a keyframe request with no encoder src pad is refused and frees its event") {
  gst_init(nullptr, nullptr);
  PipelineSettings settings;
  settings.encoder.width = 320;
  settings.encoder.height = 240;
  auto made = VideoPipeline::create(settings);
  REQUIRE_MESSAGE(made.pipeline, made.error);
  GstElement* encoder = made.pipeline->encoder();
  GstPad* src = gst_element_get_static_pad(encoder, "src");
  REQUIRE(src);
  GstPad* peer = gst_pad_get_peer(src);
  if (peer) {
    CHECK(gst_pad_unlink(src, peer));
    gst_object_unref(peer);
  }
  REQUIRE(gst_element_remove_pad(encoder, src));
  gst_object_unref(src);
  // Many, so that a leak is unmistakable.
  for (int i = 0; i < 100; ++i) made.pipeline->request_keyframe();
  CHECK(gst_element_get_static_pad(encoder, "src") == nullptr);
}
