#pragma once
// GET /healthz and GET /metrics: what the parts count and measure, judged
// (health) and exposed (Prometheus text). Reads atomics, histograms and the
// encoder's name, so its endpoints run on the lws thread; the health
// samples are taken on the GLib main loop (a timer made here), which is
// also what a stuck main loop stops.
#include <glib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cs/health.hpp"
#include "cs/refusals.hpp"
#include "cs/render/frame_target.hpp"
#include "cs/signaling/server.hpp"
#include "cs/streaming/rtp_forward.hpp"
#include "cs/streaming/sound_track.hpp"
#include "cs/streaming/video_pipeline.hpp"

namespace cs::app {

struct ObservedParts {
  const render::StageTimes* render;
  const streaming::PipelineTimes* pipeline;
  const std::atomic<int>* viewers;
  const std::atomic<bool>* rendering_expected;  // the renderer should be running
  std::function<std::string()> encoder;         // in use now; any thread
  const RefusalCounts* refusals;
  const streaming::ForwardCounters* forward;     // CS_FORWARD_RTP, every address together
  const streaming::SoundTimes* sound = nullptr;  // CS_AUDIO; null without sound
};

class Observability {
 public:
  explicit Observability(ObservedParts parts);  // on the main loop's thread
  ~Observability();
  Observability(const Observability&) = delete;
  Observability& operator=(const Observability&) = delete;

  // GET /healthz (no token) and GET /metrics.
  std::vector<signaling::HttpEndpoint> endpoints();

  signaling::HttpResponse healthz() const;
  std::string metrics() const;

 private:
  void sample();

  ObservedParts parts_;
  HealthTracker health_;
  std::int64_t started_ns_;
  guint timer_ = 0;
};

}  // namespace cs::app
