#pragma once
// What --check asks of the streaming module: whether the GStreamer elements
// the server uses are installed, and what the shared encoder made of the
// first frame pushed into a VideoPipeline (without any viewer).
//
// Threads: gstreamer_version() from any thread; required_elements() and
// missing_elements() from any thread after gst_init. EncodedFrameWatch: construct, wait() and
// destroy on the thread that controls the pipeline; its probe runs on the streaming thread.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cs/config.hpp"
#include "cs/streaming/video_pipeline.hpp"

namespace cs::streaming {

// The GStreamer library in use at run time, "1.22.0" (not the headers').
std::string gstreamer_version();

struct RequiredElement {
  const char* factory;  // "webrtcbin"
  const char* why;      // "one per viewer", shown when it is missing
  // Needed only with this setting ("CS_AUDIO=1"); nullptr: always.
  const char* setting = nullptr;
  bool (*needed)(const Config&) = nullptr;
  bool needed_by(const Config& config) const { return !needed || needed(config); }
};

// Every element factory the server creates itself or webrtcbin creates for
// it (ICE, DTLS, SRTP, RTX/FEC, SCTP), the x264enc fallback encoder, and
// those of optional features (VP8, sound, recording).
const std::vector<RequiredElement>& required_elements();
// Those of required_elements() that this host lacks.
std::vector<RequiredElement> missing_elements();

// Watches the encoder's output (the tee's sink pad) for the first buffer.
class EncodedFrameWatch {
 public:
  struct Frame {
    std::size_t bytes = 0;
    bool keyframe = false;
  };
  struct Outcome {
    std::optional<Frame> frame;
    std::string error;  // when no frame came: the pipeline's error, or a time-out
  };
  explicit EncodedFrameWatch(VideoPipeline& pipeline);
  ~EncodedFrameWatch();
  EncodedFrameWatch(const EncodedFrameWatch&) = delete;
  EncodedFrameWatch& operator=(const EncodedFrameWatch&) = delete;

  // Waits up to `timeout` for the first encoded frame; an error message on
  // the pipeline's bus ends the wait early with its text.
  Outcome wait(std::chrono::milliseconds timeout);

 private:
  VideoPipeline& pipeline_;
  PadRef pad_;
  gulong probe_id_ = 0;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::optional<Frame> frame_;  // guarded by mutex_
};

}  // namespace cs::streaming
