#pragma once
// Encoder choice: which H.264 encoders to try, in what order, how each is
// set up for low latency. Adding an encoder is one entry in encoder.cpp.
// Main-loop thread (element creation); the order logic is pure.
#include <functional>
#include <string>
#include <vector>

#include "cs/config.hpp"
#include "cs/streaming/gst_ref.hpp"

namespace cs::streaming {

struct EncoderSettings {
  int width = 1280;
  int height = 720;
  int fps = 30;
  int bitrate_kbps = 2500;
  int keyframe_interval = 30;  // frames
};

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

}  // namespace cs::streaming
