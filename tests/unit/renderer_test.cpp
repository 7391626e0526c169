// The renderer, headless for real: EGL + GLES on Mesa, read back and checked.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cs/render/cube_renderer.hpp"
#include "cs/render/egl_context.hpp"
#include "cs/render/render_loop.hpp"

using namespace cs::render;

namespace {
struct Rgb {
  int r, g, b;
};

Rgb rgba_at(const std::vector<std::uint8_t>& img, int w, int x, int y) {
  const auto* p = &img[(static_cast<size_t>(y) * w + x) * 4];
  return {p[0], p[1], p[2]};
}

bool saturated(Rgb c) {
  const int hi = std::max({c.r, c.g, c.b}), lo = std::min({c.r, c.g, c.b});
  return hi >= 80 && hi - lo >= 50;
}

// Renders one frame in the given format on this thread.
std::vector<std::uint8_t> render_frame(CubeRenderer& r, double t, cs::timecode::Stamp stamp) {
  std::vector<std::uint8_t> out(frame_bytes(r.settings()));
  REQUIRE(r.draw(t, stamp));
  REQUIRE(r.read_back(out.data()));
  return out;
}
}  // namespace

// Pixels of the scene below the timecode strip that differ between two
// frames (every pixel, every byte of it): the strip itself is left out, so
// differing stamps alone never count.
size_t scene_pixels_changed(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b,
                            int w, int h, int pixel_bytes) {
  const size_t row_bytes = static_cast<size_t>(w) * pixel_bytes;
  const int strip_rows = cs::timecode::kRows * cs::timecode::Geometry::for_frame(w, h).row_height;
  size_t changed = 0;
  for (int y = strip_rows; y < h; ++y)
    for (size_t i = 0; i < row_bytes; i += pixel_bytes)
      if (std::memcmp(&a[y * row_bytes + i], &b[y * row_bytes + i], pixel_bytes) != 0) ++changed;
  return changed;
}

TEST_CASE(
    "RGBA: the cube is in the centre, upright strip decodes, the cube turns with scene time") {
  auto egl = EglContext::create();
  REQUIRE_MESSAGE(egl.context, egl.error);
  const int w = 1280, h = 720;
  auto made = CubeRenderer::create({w, h, true, PixelFormat::rgba});
  REQUIRE_MESSAGE(made.renderer, made.error);

  auto a = render_frame(*made.renderer, 1.0, {123456789u, 42u});
  auto b = render_frame(*made.renderer, 1.1, {123456889u, 43u});
  // Scene time 1.0 again, with another stamp: the scene depends on the
  // scene time only.
  auto again = render_frame(*made.renderer, 1.0, {987654321u, 44u});
  CHECK(saturated(rgba_at(a, w, w / 2, h / 2)));
  // The background is dark, not one of the faces.
  CHECK_FALSE(saturated(rgba_at(a, w, 20, h - 20)));

  auto stamp = cs::timecode::decode(a.data(), w, h, w * 4, 4);
  REQUIRE(stamp);
  CHECK(stamp->render_ms == 123456789u);
  CHECK(stamp->frame_number == 42u);
  auto stamp_again = cs::timecode::decode(again.data(), w, h, w * 4, 4);
  REQUIRE(stamp_again);
  CHECK(stamp_again->render_ms == 987654321u);

  // 100 ms of scene time later the cube has turned: thousands of its pixels
  // below the strip differ (edges and shading move).
  CHECK(scene_pixels_changed(a, b, w, h, 4) > 5000);
  // The same scene time gives the same picture below the strip.
  CHECK(scene_pixels_changed(a, again, w, h, 4) == 0);
}

TEST_CASE("NV12: the cube turns with scene time, and only with it") {
  auto egl = EglContext::create();
  REQUIRE_MESSAGE(egl.context, egl.error);
  const int w = 640, h = 360;
  auto made = CubeRenderer::create({w, h, true, PixelFormat::nv12});
  REQUIRE_MESSAGE(made.renderer, made.error);
  auto a = render_frame(*made.renderer, 3.0, {1000u, 1u});
  auto b = render_frame(*made.renderer, 3.25, {1250u, 2u});
  auto again = render_frame(*made.renderer, 3.0, {5000u, 3u});
  // The luma plane below the strip.
  CHECK(scene_pixels_changed(a, b, w, h, 1) > 1000);
  CHECK(scene_pixels_changed(a, again, w, h, 1) == 0);
  // And the chroma plane (the whole of it: the strip's rows are neutral).
  const auto uv = [&](const std::vector<std::uint8_t>& f) {
    return std::vector<std::uint8_t>(f.begin() + static_cast<long>(w) * h, f.end());
  };
  CHECK(uv(a) != uv(b));
  CHECK(uv(a) == uv(again));
}

TEST_CASE("NV12: luma plane carries the strip; chroma of the centre is coloured") {
  auto egl = EglContext::create();
  REQUIRE_MESSAGE(egl.context, egl.error);
  const int w = 1280, h = 720;
  auto made = CubeRenderer::create({w, h, true, PixelFormat::nv12});
  REQUIRE_MESSAGE(made.renderer, made.error);
  auto frame = render_frame(*made.renderer, 2.0, {0xA5A5F00Fu, 7u});
  REQUIRE(frame.size() == static_cast<size_t>(w) * h * 3 / 2);
  auto stamp = cs::timecode::decode(frame.data(), w, h, w, 1);
  REQUIRE(stamp);
  CHECK(stamp->render_ms == 0xA5A5F00Fu);
  CHECK(stamp->frame_number == 7u);
  // White strip blocks are near 235 (limited range), black near 16.
  const auto g = cs::timecode::Geometry::for_frame(w, h);
  CHECK(frame[static_cast<size_t>(g.row_height / 2) * w + g.block_width / 2] > 200);
  // Interleaved UV at half resolution: (u, v) of chroma pixel (x, y) at
  // row y * w + 2 * x.
  const std::uint8_t* uv = frame.data() + static_cast<size_t>(w) * h;
  auto chroma_at = [&](int x, int y) {
    const std::uint8_t* p = uv + static_cast<size_t>(y) * w + 2 * x;
    return std::abs(p[0] - 128) + std::abs(p[1] - 128);
  };
  CHECK(chroma_at(w / 4, h / 4) > 20);  // the cube
  CHECK(chroma_at(4, h / 2 - 4) < 20);  // background: near neutral
  CHECK(chroma_at(w / 4, 2) < 4);       // the strip: neutral
  // Luma of the centre is the cube's, not the background's (about 26).
  CHECK(frame[static_cast<size_t>(h / 2) * w + w / 2] > 50);
}

namespace {
// CLOCK_REALTIME ms modulo 2^32, read independently of the renderer.
std::uint32_t realtime_ms() {
  using namespace std::chrono;
  return static_cast<std::uint32_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// Keeps each frame's info, the stamp decoded from its pixels (NV12 luma) and
// the real time at which it was handed over.
struct CollectingTarget final : FrameTarget {
  explicit CollectingTarget(int width, int height) : width(width), height(height) {}
  struct Seen {
    FrameInfo info;
    std::optional<cs::timecode::Stamp> decoded;
    std::uint32_t submitted_ms;
  };
  const int width, height;
  std::mutex mutex;
  std::vector<FrameInfo> frames;
  std::vector<Seen> seen;
  std::vector<std::uint8_t> buffer;
  FrameSlot acquire(std::size_t bytes) override {
    buffer.resize(bytes);
    return {buffer.data(), bytes, nullptr};
  }
  void submit(FrameSlot slot, const FrameInfo& info, bool ok) override {
    const std::uint32_t now = realtime_ms();
    std::lock_guard lock(mutex);
    if (!ok) return;
    frames.push_back(info);
    seen.push_back({info, cs::timecode::decode(slot.data, width, height, width, 1), now});
  }
  size_t count() {
    std::lock_guard lock(mutex);
    return frames.size();
  }
};
}  // namespace

TEST_CASE("render loop: runs only when resumed, numbers frames from 0, paces by the clock") {
  CollectingTarget target(320, 240);
  const std::uint32_t started_ms = realtime_ms();
  RenderLoop loop({{320, 240, true, PixelFormat::nv12}, 30}, target);
  REQUIRE(loop.wait_ready().empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  CHECK(target.count() == 0);  // paused: nothing rendered
  loop.resume();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (target.count() < 15 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  loop.pause();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const size_t after_pause = target.count();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(target.count() == after_pause);
  std::lock_guard lock(target.mutex);
  REQUIRE(target.frames.size() >= 15);
  CHECK(target.frames[0].frame_number == 0);
  for (size_t i = 1; i < target.frames.size(); ++i) {
    CHECK(target.frames[i].frame_number == target.frames[i - 1].frame_number + 1);
    CHECK(target.frames[i].capture_mono_ns > target.frames[i - 1].capture_mono_ns);
  }
  // 30 fps: 14 intervals take about 467 ms.
  const double span_ms =
      (target.frames[14].capture_mono_ns - target.frames[0].capture_mono_ns) / 1e6;
  CHECK(span_ms > 400);
  CHECK(span_ms < 700);

  // The strip in the pixels carries the frame's own stamp, and that stamp is
  // the real time of the frame: after the test began, before the frame was
  // handed over, and advancing from frame to frame with the clock.
  for (size_t i = 0; i < target.seen.size(); ++i) {
    const auto& f = target.seen[i];
    CAPTURE(i);
    REQUIRE(f.decoded);
    CHECK(f.decoded->frame_number == f.info.frame_number);
    CHECK(f.decoded->render_ms == f.info.render_ms);
    CHECK(static_cast<std::uint32_t>(f.decoded->render_ms - started_ms) <=
          static_cast<std::uint32_t>(f.submitted_ms - started_ms));
    if (i > 0) {
      const auto step =
          static_cast<std::uint32_t>(f.decoded->render_ms - target.seen[i - 1].decoded->render_ms);
      CHECK(step >= 1u);  // 30 fps: about 33 ms a frame
      CHECK(step < 1000u);
    }
  }
  const double stamp_span_ms = static_cast<std::uint32_t>(target.seen[14].decoded->render_ms -
                                                          target.seen[0].decoded->render_ms);
  CHECK(stamp_span_ms > 400);
  CHECK(stamp_span_ms < 700);
}
