#include <doctest/doctest.h>

#include "cs/health.hpp"

namespace {
constexpr std::int64_t kMs = 1000000;

// Feeds `tracker` every 250 ms from `from_ms` to `to_ms`, the counters
// advancing by the given frames per sample.
struct Feed {
  cs::HealthTracker& tracker;
  cs::HealthSample s;
  void run(std::int64_t to_ms, int rendered, int in, int encoded) {
    while (s.now_ns < to_ms * kMs) {
      s.now_ns += 250 * kMs;
      s.frames_rendered += static_cast<std::uint64_t>(rendered);
      s.frames_in += static_cast<std::uint64_t>(in);
      s.frames_encoded += static_cast<std::uint64_t>(encoded);
      tracker.sample(s);
    }
  }
};
}  // namespace

TEST_CASE("health: idle (no viewers, renderer paused) is healthy at 0 fps") {
  cs::HealthTracker t;
  Feed f{t, {}};
  f.s.now_ns = 1000 * kMs;
  t.sample(f.s);
  f.run(20000, 0, 0, 0);
  const auto r = t.report(20000 * kMs);
  CHECK(r.healthy);
  CHECK(r.reason.empty());
  CHECK(r.fps == 0);
}

TEST_CASE("health: streaming at 30 fps is healthy and measures the rate") {
  cs::HealthTracker t;
  Feed f{t, {}};
  f.s.rendering_expected = true;
  f.s.viewers = 2;
  t.sample(f.s);
  f.run(5000, 8, 8, 8);  // 8 frames per 250 ms: 32 fps
  const auto r = t.report(5000 * kMs);
  CHECK(r.healthy);
  CHECK(r.viewers == 2);
  CHECK(r.fps == doctest::Approx(32.0));
}

TEST_CASE("health: the render thread stuck while viewers watch") {
  cs::HealthTracker t;
  Feed f{t, {}};
  f.s.rendering_expected = true;
  f.s.viewers = 1;
  t.sample(f.s);
  f.run(2000, 8, 8, 8);
  f.run(4000, 0, 0, 0);  // 2 s without a frame: not yet
  CHECK(t.report(4000 * kMs).healthy);
  f.run(5250, 0, 0, 0);
  const auto r = t.report(5250 * kMs);
  CHECK_FALSE(r.healthy);
  CHECK(r.reason == "render thread stuck: no frame for 3.2 s");
  CHECK(r.fps == 0);
}

TEST_CASE("health: the encoder silent while frames go in and viewers wait") {
  cs::HealthTracker t;
  Feed f{t, {}};
  f.s.rendering_expected = true;
  f.s.viewers = 2;
  t.sample(f.s);
  f.run(2000, 8, 8, 8);
  f.run(5000, 8, 8, 0);
  CHECK(t.report(5000 * kMs).healthy);  // 3.0 s: the limit, not beyond it
  f.run(5250, 8, 8, 0);
  const auto r = t.report(5250 * kMs);
  CHECK_FALSE(r.healthy);
  CHECK(r.reason == "encoder produced nothing for 3.2 s while 2 viewers wait");
}

TEST_CASE("health: one viewer is named in the singular; no viewer, no encoder blame") {
  cs::HealthTracker t;
  Feed f{t, {}};
  f.s.rendering_expected = true;
  f.s.viewers = 1;
  t.sample(f.s);
  f.run(1000, 8, 8, 8);
  f.run(5000, 8, 8, 0);
  CHECK(t.report(5000 * kMs).reason == "encoder produced nothing for 4.0 s while 1 viewer waits");
  f.s.viewers = 0;
  f.run(5250, 8, 8, 0);
  CHECK(t.report(5250 * kMs).healthy);
}

TEST_CASE("health: a renderer just resumed gets its grace period") {
  cs::HealthTracker t;
  Feed f{t, {}};
  f.s.now_ns = 0;
  t.sample(f.s);
  f.run(60000, 0, 0, 0);  // a minute idle, no frames at all
  f.s.rendering_expected = true;
  f.s.viewers = 1;
  f.run(62000, 0, 0, 0);  // 2 s into the resume with nothing yet
  CHECK(t.report(62000 * kMs).healthy);
  f.run(64000, 0, 0, 0);
  CHECK_FALSE(t.report(64000 * kMs).healthy);
}

TEST_CASE("health: samples that stop mean the sampling thread is stuck") {
  cs::HealthTracker t;
  Feed f{t, {}};
  t.sample(f.s);
  f.run(1000, 0, 0, 0);
  CHECK(t.report(3000 * kMs).healthy);
  const auto r = t.report(5000 * kMs);
  CHECK_FALSE(r.healthy);
  CHECK(r.reason == "main loop stuck: frame counters not sampled for 4.0 s");
}

TEST_CASE("health: nothing sampled yet is healthy (starting)") {
  cs::HealthTracker t;
  CHECK(t.report(123 * kMs).healthy);
}
