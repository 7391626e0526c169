#pragma once
// GET /healthz's judgement: is the server rendering and encoding when it
// should? Pure: fed periodic samples of the frame counters (sample(), on the
// thread that polls them) and asked for a verdict at any time (report(),
// e.g. on the HTTP thread); a mutex joins the two.
//
// Healthy while idle (no viewers: the renderer is paused, nothing flows).
// Unhealthy when rendering should run but no frame came for
// `render_stall_s`, when frames went into the encoder and none came out for
// `encoder_stall_s` while viewers wait, or when the samples themselves stop
// (the sampling thread is stuck).
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace cs {

struct HealthSample {
  std::int64_t now_ns = 0;          // monotonic
  bool rendering_expected = false;  // the renderer should be running (viewers)
  int viewers = 0;
  std::uint64_t frames_rendered = 0;
  std::uint64_t frames_in = 0;  // handed to the encoder
  std::uint64_t frames_encoded = 0;
};

struct HealthLimits {
  double render_stall_s = 3.0;
  double encoder_stall_s = 3.0;
  double sample_stale_s = 3.0;
  double fps_window_s = 2.0;
};

struct HealthReport {
  bool healthy = true;
  std::string reason;  // why not, for people: "render thread stuck: no frame for 3.2 s"
  double fps = 0;      // frames rendered per second over the last fps_window_s
  int viewers = 0;
};

class HealthTracker {
 public:
  explicit HealthTracker(HealthLimits limits = {}) : limits_(limits) {}
  void sample(const HealthSample& s);
  HealthReport report(std::int64_t now_ns) const;

 private:
  struct Point {
    std::int64_t at_ns;
    std::uint64_t frames;
  };
  HealthLimits limits_;
  mutable std::mutex mutex_;
  bool sampled_ = false;
  HealthSample last_;
  std::int64_t expected_since_ns_ = 0;  // rendering_expected became true
  std::int64_t rendered_at_ns_ = 0;     // frames_rendered last changed
  std::int64_t encoded_at_ns_ = 0;      // frames_encoded last changed
  std::uint64_t in_at_encoded_ = 0;     // frames_in then
  std::deque<Point> recent_;            // frames_rendered over the fps window
};

}  // namespace cs
