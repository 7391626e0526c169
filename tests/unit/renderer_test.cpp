// The renderer, headless for real: EGL + GLES on Mesa, read back and checked.
// CS_RENDER_DEVICE picks the EGL device the tests render on (default auto:
// a GPU where there is one), so the same checks run on every path.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
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
// CS_RENDER_DEVICE of the environment, as the server reads it.
cs::RenderDevice device_under_test() {
  const char* text = std::getenv("CS_RENDER_DEVICE");
  if (text == nullptr) return {};
  auto device = cs::parse_render_device(text);
  REQUIRE_MESSAGE(device, "CS_RENDER_DEVICE=", text, " is not a device");
  return *device;
}

EglContext::Result make_context() {
  auto made = EglContext::create(device_under_test());
  if (made.context) MESSAGE("rendering on: ", made.context->description());
  return made;
}

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
  REQUIRE(r.draw({.spin = t}, stamp));
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
  auto egl = make_context();
  REQUIRE_MESSAGE(egl.context, egl.error);
  const int w = 1280, h = 720;
  auto made = CubeRenderer::create({w, h, true, PixelFormat::rgba});
  REQUIRE_MESSAGE(made.renderer, made.error);

  auto a = render_frame(*made.renderer, 1.0, {123456789u, 42u, 0u});
  auto b = render_frame(*made.renderer, 1.1, {123456889u, 43u, 0u});
  // Scene time 1.0 again, with another stamp: the scene depends on the
  // scene time only.
  auto again = render_frame(*made.renderer, 1.0, {987654321u, 44u, 0u});
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
  auto egl = make_context();
  REQUIRE_MESSAGE(egl.context, egl.error);
  const int w = 640, h = 360;
  auto made = CubeRenderer::create({w, h, true, PixelFormat::nv12});
  REQUIRE_MESSAGE(made.renderer, made.error);
  auto a = render_frame(*made.renderer, 3.0, {1000u, 1u, 0u});
  auto b = render_frame(*made.renderer, 3.25, {1250u, 2u, 0u});
  auto again = render_frame(*made.renderer, 3.0, {5000u, 3u, 0u});
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

TEST_CASE("a viewer's rotation turns the cube: the same spin with yaw or pitch differs") {
  auto egl = make_context();
  REQUIRE_MESSAGE(egl.context, egl.error);
  const int w = 320, h = 240;
  auto made = CubeRenderer::create({w, h, true, PixelFormat::rgba});
  REQUIRE_MESSAGE(made.renderer, made.error);
  std::vector<std::uint8_t> base(frame_bytes(made.renderer->settings())), turned(base.size());
  REQUIRE(made.renderer->draw({.spin = 1.0}, {1u, 1u, 0u}));
  REQUIRE(made.renderer->read_back(base.data()));
  for (const ScenePose pose :
       {ScenePose{.spin = 1.0, .yaw = 0.5f}, ScenePose{.spin = 1.0, .pitch = 0.5f}}) {
    REQUIRE(made.renderer->draw(pose, {1u, 1u, 0u}));
    REQUIRE(made.renderer->read_back(turned.data()));
    std::size_t differing = 0;
    const std::size_t strip = static_cast<std::size_t>(h / 24 * 3) * w * 4;
    for (std::size_t i = strip; i < base.size(); i += 4) differing += base[i] != turned[i];
    CHECK(differing > 500);
  }
}

TEST_CASE("NV12: luma plane carries the strip; chroma of the centre is coloured") {
  auto egl = make_context();
  REQUIRE_MESSAGE(egl.context, egl.error);
  const int w = 1280, h = 720;
  auto made = CubeRenderer::create({w, h, true, PixelFormat::nv12});
  REQUIRE_MESSAGE(made.renderer, made.error);
  auto frame = render_frame(*made.renderer, 2.0, {0xA5A5F00Fu, 7u, 0x0BADF00Du});
  REQUIRE(frame.size() == static_cast<size_t>(w) * h * 3 / 2);
  auto stamp = cs::timecode::decode(frame.data(), w, h, w, 1);
  REQUIRE(stamp);
  CHECK(stamp->render_ms == 0xA5A5F00Fu);
  CHECK(stamp->frame_number == 7u);
  CHECK(stamp->input_ms == 0x0BADF00Du);
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
  RenderLoop loop({{320, 240, true, PixelFormat::nv12}, 30, device_under_test()}, target);
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

TEST_CASE("EGL devices: listed with their strings; each way of choosing one works or says why") {
  const auto survey = survey_egl();
  REQUIRE_MESSAGE(survey.error.empty(), survey.error);
  // Mesa lists its software device (EGL_MESA_device_software) wherever it
  // is installed (here, CI); a GPU's driver lists the GPU. CS_TEST_NO_MESA=1:
  // a host with a GPU's EGL alone.
  REQUIRE(!survey.devices.empty());
  for (const auto& d : survey.devices) MESSAGE(d.summary());
  const auto software = std::find_if(survey.devices.begin(), survey.devices.end(),
                                     [](const EglDevice& d) { return d.software; });
  if (std::getenv("CS_TEST_NO_MESA") == nullptr) CHECK(software != survey.devices.end());

  auto render_centre = [](EglContext& egl) {
    auto made = CubeRenderer::create({320, 240, false, PixelFormat::rgba});
    REQUIRE_MESSAGE(made.renderer, made.error);
    auto frame = render_frame(*made.renderer, 1.0, {0, 0, 0u});
    MESSAGE(egl.description());
    CHECK(saturated(rgba_at(frame, 320, 160, 120)));
  };
  SUBCASE("surfaceless") {
    auto egl = EglContext::create({cs::RenderDevice::Kind::surfaceless, 0, {}});
    REQUIRE_MESSAGE(egl.context, egl.error);
    CHECK(egl.context->opened() == "surfaceless");
    CHECK_FALSE(egl.context->hardware());
    CHECK(egl.context->description().rfind("EGL surfaceless platform, GL: ", 0) == 0);
    render_centre(*egl.context);
  }
  SUBCASE("each device by its index") {
    for (const auto& d : survey.devices) {
      CAPTURE(d.summary());
      auto egl = EglContext::create({cs::RenderDevice::Kind::index, d.index, {}});
      REQUIRE_MESSAGE(egl.context, egl.error);
      CHECK(egl.context->opened() == "device " + std::to_string(d.index));
      CHECK(egl.context->hardware() == !d.software);
      CHECK(egl.context->description().rfind("EGL device " + std::to_string(d.index) + ": ", 0) ==
            0);
      render_centre(*egl.context);
    }
  }
  SUBCASE("Mesa's software device is llvmpipe") {
    if (software == survey.devices.end()) return;
    auto egl = EglContext::create({cs::RenderDevice::Kind::index, software->index, {}});
    REQUIRE_MESSAGE(egl.context, egl.error);
    CHECK(egl.context->gl().renderer.find("llvmpipe") != std::string::npos);
  }
  SUBCASE("auto: a hardware device when there is one") {
    auto egl = EglContext::create({});
    REQUIRE_MESSAGE(egl.context, egl.error);
    const bool any_hardware = std::any_of(survey.devices.begin(), survey.devices.end(),
                                          [](const EglDevice& d) { return !d.software; });
    CHECK(egl.context->hardware() == any_hardware);
    if (!any_hardware) CHECK(egl.context->opened() == "surfaceless");
  }
  SUBCASE("an index past the list: a clear error") {
    const int past = static_cast<int>(survey.devices.size());
    auto egl = EglContext::create({cs::RenderDevice::Kind::index, past, {}});
    REQUIRE_FALSE(egl.context);
    CHECK(egl.error.find("CS_RENDER_DEVICE=" + std::to_string(past) +
                         ": no such EGL device (EGL lists " + std::to_string(past) +
                         ": [device 0: ") == 0);
  }
  SUBCASE("a render node no device has: a clear error") {
    auto egl = EglContext::create({cs::RenderDevice::Kind::render_node, 0, "/dev/dri/renderD199"});
    REQUIRE_FALSE(egl.context);
    CHECK(egl.error.find("CS_RENDER_DEVICE=/dev/dri/renderD199: no EGL device has that node") == 0);
  }
}

TEST_CASE("read-back ring: each frame comes out one call later, the same as a sync read") {
  auto egl = make_context();
  REQUIRE_MESSAGE(egl.context, egl.error);
  for (auto format : {PixelFormat::nv12, PixelFormat::rgba}) {
    CAPTURE(static_cast<int>(format));
    const int w = 640, h = 360;
    auto sync = CubeRenderer::create({w, h, true, format, cs::ReadBackMode::sync});
    auto ring = CubeRenderer::create({w, h, true, format, cs::ReadBackMode::ring});
    REQUIRE_MESSAGE(sync.renderer, sync.error);
    REQUIRE_MESSAGE(ring.renderer, ring.error);
    const int pixel_bytes = format == PixelFormat::rgba ? 4 : 1;
    std::vector<std::uint8_t> out(frame_bytes(ring.renderer->settings()));
    std::vector<std::vector<std::uint8_t>> expected;
    for (std::uint32_t i = 0; i < 5; ++i) {
      const double t = 1.0 + 0.2 * i;
      const FrameInfo info{i, 1000u + i, 77 + i};
      expected.push_back(render_frame(*sync.renderer, t, {info.render_ms, info.frame_number, 0}));
      REQUIRE(ring.renderer->draw({.spin = t}, {info.render_ms, info.frame_number, 0}));
      FrameInfo delivered{};
      const auto got = ring.renderer->read_back_frame(out.data(), info, delivered);
      if (i == 0) {
        CHECK(got == CubeRenderer::ReadBack::none_yet);
        continue;
      }
      REQUIRE(got == CubeRenderer::ReadBack::frame);
      CHECK(delivered.frame_number == i - 1);
      CHECK(delivered.capture_mono_ns == 77 + i - 1);
      auto stamp = cs::timecode::decode(out.data(), w, h, w * pixel_bytes, pixel_bytes);
      REQUIRE(stamp);
      CHECK(stamp->frame_number == i - 1);
      CHECK(stamp->render_ms == 1000u + i - 1);
      CHECK(out == expected[i - 1]);
    }
    // After a discard the ring starts over.
    ring.renderer->discard_pending();
    REQUIRE(ring.renderer->draw({.spin = 9.0}, {9u, 9u, 0u}));
    FrameInfo delivered{};
    CHECK(ring.renderer->read_back_frame(out.data(), {9u, 9u, 9}, delivered) ==
          CubeRenderer::ReadBack::none_yet);
  }
}

TEST_CASE("render loop with the read-back ring: frames from 0 in order, each with its own stamp") {
  CollectingTarget target(320, 240);
  RenderLoop loop(
      {{320, 240, true, PixelFormat::nv12, cs::ReadBackMode::ring}, 30, device_under_test()},
      target);
  REQUIRE(loop.wait_ready().empty());
  for (int round = 0; round < 2; ++round) {
    const size_t before = target.count();
    loop.resume();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (target.count() < before + 10 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    loop.pause();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard lock(target.mutex);
    REQUIRE(target.seen.size() >= before + 10);
    // Each resume starts at frame 0 again: nothing from before the pause.
    CHECK(target.seen[before].info.frame_number == 0);
    for (size_t i = before; i < target.seen.size(); ++i) {
      CAPTURE(i);
      const auto& f = target.seen[i];
      REQUIRE(f.decoded);
      CHECK(f.decoded->frame_number == f.info.frame_number);
      CHECK(f.decoded->render_ms == f.info.render_ms);
      if (i > before) CHECK(f.info.frame_number == target.seen[i - 1].info.frame_number + 1);
    }
  }
}
