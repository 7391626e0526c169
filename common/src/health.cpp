#include "cs/health.hpp"

#include <algorithm>
#include <cstdio>

namespace cs {

namespace {
std::string seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", s);
  return text;
}
double seconds_between(std::int64_t from_ns, std::int64_t to_ns) {
  return static_cast<double>(to_ns - from_ns) / 1e9;
}
}  // namespace

void HealthTracker::sample(const HealthSample& s) {
  std::lock_guard lock(mutex_);
  if (!sampled_) {
    rendered_at_ns_ = encoded_at_ns_ = s.now_ns;
    in_at_encoded_ = s.frames_in;
  }
  if (s.rendering_expected && (!sampled_ || !last_.rendering_expected))
    expected_since_ns_ = s.now_ns;
  if (sampled_ && s.frames_rendered != last_.frames_rendered) rendered_at_ns_ = s.now_ns;
  if (sampled_ && s.frames_encoded != last_.frames_encoded) {
    encoded_at_ns_ = s.now_ns;
    in_at_encoded_ = s.frames_in;
  }
  // A counter that went back (a restarted part) starts a new reference.
  if (s.frames_in < in_at_encoded_) in_at_encoded_ = s.frames_in;
  recent_.push_back({s.now_ns, s.frames_rendered});
  const auto window_ns = static_cast<std::int64_t>(limits_.fps_window_s * 1e9);
  // Keep one point at or beyond the window's start, so the rate spans it.
  while (recent_.size() > 2 && s.now_ns - recent_[1].at_ns >= window_ns) recent_.pop_front();
  last_ = s;
  sampled_ = true;
}

HealthReport HealthTracker::report(std::int64_t now_ns) const {
  std::lock_guard lock(mutex_);
  HealthReport r;
  if (!sampled_) return r;  // starting: nothing to judge yet
  r.viewers = last_.viewers;
  const Point& first = recent_.front();
  const Point& newest = recent_.back();
  if (newest.at_ns > first.at_ns && newest.frames >= first.frames)
    r.fps = static_cast<double>(newest.frames - first.frames) /
            seconds_between(first.at_ns, newest.at_ns);
  if (const double age = seconds_between(last_.now_ns, now_ns); age > limits_.sample_stale_s) {
    r.healthy = false;
    r.reason = "main loop stuck: frame counters not sampled for " + seconds(age) + " s";
    r.fps = 0;
    return r;
  }
  if (!last_.rendering_expected) {
    r.fps = 0;  // paused: whatever the window still holds is history
    return r;
  }
  const std::int64_t rendered = std::max(rendered_at_ns_, expected_since_ns_);
  if (const double quiet = seconds_between(rendered, now_ns); quiet > limits_.render_stall_s) {
    r.healthy = false;
    r.reason = "render thread stuck: no frame for " + seconds(quiet) + " s";
    return r;
  }
  const std::int64_t encoded = std::max(encoded_at_ns_, expected_since_ns_);
  const double silent = seconds_between(encoded, now_ns);
  if (last_.viewers > 0 && last_.frames_in > in_at_encoded_ && silent > limits_.encoder_stall_s) {
    r.healthy = false;
    r.reason = "encoder produced nothing for " + seconds(silent) + " s while " +
               std::to_string(last_.viewers) +
               (last_.viewers == 1 ? " viewer waits" : " viewers wait");
  }
  return r;
}

}  // namespace cs
