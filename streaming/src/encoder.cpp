#include "cs/streaming/encoder.hpp"

#include <gst/gst.h>

#include <algorithm>

#include "cs/log.hpp"

namespace cs::streaming {
namespace {

bool has_property(GstElement* element, const char* name) {
  return g_object_class_find_property(G_OBJECT_GET_CLASS(element), name) != nullptr;
}

void configure_x264(GstElement* e, const EncoderSettings& s) {
  // sliced-threads splits each frame across threads instead of pipelining
  // frames: no frame of delay, which is what zero-latency needs.
  gst_util_set_object_arg(G_OBJECT(e), "tune", "zerolatency");
  gst_util_set_object_arg(G_OBJECT(e), "speed-preset", "ultrafast");
  g_object_set(e, "bitrate", static_cast<guint>(s.bitrate_kbps), "key-int-max",
               static_cast<guint>(s.keyframe_interval), "bframes", 0u, "sliced-threads", TRUE,
               "threads", 2u, "b-adapt", FALSE, "rc-lookahead", 0, "sync-lookahead", 0,
               "vbv-buf-capacity", 200u, nullptr);
}

void configure_vaapi(GstElement* e, const EncoderSettings& s) {
  gst_util_set_object_arg(G_OBJECT(e), "rate-control", "cbr");
  g_object_set(e, "bitrate", static_cast<guint>(s.bitrate_kbps), "keyframe-period",
               static_cast<guint>(s.keyframe_interval), "max-bframes", 0u, nullptr);
}

void configure_nvenc(GstElement* e, const EncoderSettings& s) {
  gst_util_set_object_arg(G_OBJECT(e), "preset", "low-latency-hq");
  gst_util_set_object_arg(G_OBJECT(e), "rc-mode", "cbr");
  g_object_set(e, "bitrate", static_cast<guint>(s.bitrate_kbps), "gop-size", s.keyframe_interval,
               "bframes", 0u, "zerolatency", TRUE, nullptr);
}

// libvpx in real time (TRAPS.md, Firefox): the "realtime" deadline, no
// look-ahead, CBR with a short buffer, error-resilient so a lost frame does
// not break the ones after it. One thread: on this 2-core machine under load
// (8-10), threads=2 took 60 ms of CPU and 120 ms of wall time per 720p frame
// against 16 and 29 ms with one (libvpx's workers spin while the other is
// descheduled); token-partitions needs no threads.
void configure_vpx(GstElement* e, const EncoderSettings& s) {
  gst_util_set_object_arg(G_OBJECT(e), "end-usage", "cbr");
  gst_util_set_object_arg(G_OBJECT(e), "error-resilient", "default");
  g_object_set(e, "deadline", static_cast<gint64>(1), "cpu-used", 8, "threads", 1, "lag-in-frames",
               0, "target-bitrate", s.bitrate_kbps * 1000, "keyframe-max-dist", s.keyframe_interval,
               "buffer-size", 300, "buffer-initial-size", 200, "buffer-optimal-size", 250,
               "undershoot", 95, nullptr);
  // A keyframe at most 3 frames' worth (libwebrtc's choice): a rung switch on a
  // narrow link must not burst far above the rung.
  if (has_property(e, "max-intra-bitrate")) g_object_set(e, "max-intra-bitrate", 300, nullptr);
  if (has_property(e, "row-mt")) g_object_set(e, "row-mt", TRUE, nullptr);  // vp9enc
  if (has_property(e, "token-partitions"))  // vp8enc: parallel entropy coding
    gst_util_set_object_arg(G_OBJECT(e), "token-partitions", "2");
}

struct EncoderEntry {
  const char* factory;
  void (*configure)(GstElement*, const EncoderSettings&);
  const char* output_caps;
};

const EncoderEntry kEncoders[] = {
    {"nvh264enc", configure_nvenc,
     "video/x-h264,profile=constrained-baseline,stream-format=byte-stream"},
    {"vaapih264enc", configure_vaapi,
     "video/x-h264,profile=constrained-baseline,stream-format=byte-stream"},
    {"x264enc", configure_x264,
     "video/x-h264,profile=constrained-baseline,stream-format=byte-stream,alignment=au"},
    {"vp8enc", configure_vpx, "video/x-vp8"},
    {"vp9enc", configure_vpx, "video/x-vp9"},
};

const EncoderEntry* find_entry(const std::string& factory) {
  for (const auto& e : kEncoders)
    if (factory == e.factory) return &e;
  return nullptr;
}

}  // namespace

EncoderSettings encoder_settings(const Config& config) {
  EncoderSettings settings{config.width, config.height, config.fps, config.bitrate_kbps};
  settings.keyframe_interval =
      config.keyframe_interval_frames > 0 ? config.keyframe_interval_frames : config.fps;
  return settings;
}

std::vector<std::string> encoder_candidates(EncoderChoice choice) {
  switch (choice) {
    case EncoderChoice::auto_select:
      return {"nvh264enc", "vaapih264enc", "x264enc"};
    case EncoderChoice::nvenc:
      return {"nvh264enc"};
    case EncoderChoice::vaapi:
      return {"vaapih264enc"};
    case EncoderChoice::x264:
      return {"x264enc"};
  }
  return {};
}

ElementRef make_encoder(const std::string& factory, const EncoderSettings& settings) {
  const EncoderEntry* entry = find_entry(factory);
  if (!entry) return {};
  GstElement* raw = gst_element_factory_make(factory.c_str(), "encoder");
  if (!raw) return {};
  auto encoder = ElementRef::ref_sink(raw);
  entry->configure(encoder.get(), settings);
  // Many viewers joining at once must not each cause an IDR.
  if (has_property(encoder.get(), "min-force-key-unit-interval"))
    g_object_set(encoder.get(), "min-force-key-unit-interval", kMinKeyUnitIntervalNs, nullptr);
  return encoder;
}

std::string encoder_output_caps(const std::string& factory) {
  const EncoderEntry* entry = find_entry(factory);
  return entry ? entry->output_caps : "video/x-h264";
}

std::string probe_encoder(const std::string& factory, const EncoderSettings& settings) {
  GstElementFactory* f = gst_element_factory_find(factory.c_str());
  if (!f) return "plugin not installed";
  gst_object_unref(f);
  const std::string description = "videotestsrc num-buffers=3 ! video/x-raw,format=I420,width=" +
                                  std::to_string(settings.width) +
                                  ",height=" + std::to_string(settings.height) +
                                  ",framerate=" + std::to_string(settings.fps) + "/1 ! " + factory +
                                  " name=enc ! " + encoder_output_caps(factory) + " ! fakesink";
  GError* error = nullptr;
  auto pipeline = ElementRef::ref_sink(gst_parse_launch(description.c_str(), &error));
  if (error) {
    std::string reason = error->message;
    g_error_free(error);
    return "cannot build: " + reason;
  }
  if (auto* enc = gst_bin_get_by_name(GST_BIN(pipeline.get()), "enc")) {
    auto configured = ElementRef::adopt(enc);
    find_entry(factory)->configure(enc, settings);
  }
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    return "failed to start";
  }
  auto bus = GRef<GstBus>::adopt(gst_element_get_bus(pipeline.get()));
  GstMessage* msg = gst_bus_timed_pop_filtered(
      bus.get(), 5 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string reason;
  if (!msg) {
    reason = "no output within 5 s";
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    reason = err ? err->message : "error";
    if (err) g_error_free(err);
  }
  if (msg) gst_message_unref(msg);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return reason;
}

EncoderSelection select_encoder(EncoderChoice choice, const EncoderProbe& probe) {
  EncoderSelection selection;
  for (const auto& factory : encoder_candidates(choice)) {
    std::string reason = probe(factory);
    if (reason.empty()) {
      selection.factory = factory;
      return selection;
    }
    selection.reasons.push_back(factory + ": " + reason);
  }
  return selection;
}

std::optional<std::string> EncoderFallback::next(const std::string& failed,
                                                 const EncoderProbe& probe) {
  auto it = std::find(order_.begin(), order_.end(), failed);
  for (it = it == order_.end() ? order_.begin() : it + 1; it != order_.end(); ++it)
    if (probe(*it).empty()) return *it;
  if (retried_same_) return std::nullopt;
  retried_same_ = true;
  return failed;
}

}  // namespace cs::streaming
