#pragma once
// Encoder choice: which H.264 encoders to try, in what order, how each is
// set up for low latency. Adding an encoder is one entry in encoder.cpp.
// Main-loop thread (element creation); the order logic is pure.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cs/config.hpp"
#include "cs/streaming/gst_ref.hpp"

namespace cs::streaming {

// The least time between two keyframes an encoder makes on request
// (min-force-key-unit-interval): a storm of PLIs costs one keyframe. An
// encoder's first frame counts as one.
inline constexpr GstClockTime kMinKeyUnitIntervalNs = 250 * GST_MSECOND;

struct EncoderSettings {
  int width = 1280;
  int height = 720;
  int fps = 30;
  int bitrate_kbps = 2500;
  int keyframe_interval = 30;  // frames
};

// The encoder settings the configuration asks for (CS_WIDTH, CS_HEIGHT,
// CS_FPS, CS_BITRATE_KBPS, CS_KEYFRAME_INTERVAL; 0 = one a second).
EncoderSettings encoder_settings(const Config& config);

// GStreamer factory names to try for a CS_ENCODER choice, best first.
std::vector<std::string> encoder_candidates(EncoderChoice choice);

// Creates and configures the encoder for low latency: no B-frames,
// zero-latency tuning, a keyframe about every second.
ElementRef make_encoder(const std::string& factory, const EncoderSettings& settings);

// The caps to pin after the encoder: H.264 every browser decodes.
std::string encoder_output_caps(const std::string& factory);

// Encodes a few frames in a throw-away pipeline: proves the encoder works
// here (a plugin can exist and still fail, e.g. VA-API with no GPU).
// Returns empty on success, else the reason.
std::string probe_encoder(const std::string& factory, const EncoderSettings& settings);

struct EncoderSelection {
  std::string factory;               // empty: none works
  std::vector<std::string> reasons;  // why each earlier candidate was skipped
};

using EncoderProbe = std::function<std::string(const std::string& factory)>;
EncoderSelection select_encoder(EncoderChoice choice, const EncoderProbe& probe);

// Which encoder replaces one that failed mid-stream: the next candidate of
// the auto order (after the one that failed) that works here, else the same
// one once more; nothing when that retry has been used since the last
// on_healthy(). Pure: any thread.
class EncoderFallback {
 public:
  explicit EncoderFallback(std::vector<std::string> order) : order_(std::move(order)) {}
  std::optional<std::string> next(const std::string& failed, const EncoderProbe& probe);
  // The encoder in use has worked for a while: a later failure may retry it.
  void on_healthy() { retried_same_ = false; }

 private:
  std::vector<std::string> order_;
  bool retried_same_ = false;
};

}  // namespace cs::streaming
