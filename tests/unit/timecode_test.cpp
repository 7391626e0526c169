#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "cs/timecode.hpp"

using namespace cs::timecode;

TEST_CASE("timecode encodes and decodes at common sizes") {
  for (auto [w, h] : {std::pair{1280, 720}, {1920, 1080}, {640, 360}, {1366, 768}}) {
    CAPTURE(w);
    std::vector<std::uint8_t> image(static_cast<size_t>(w) * h * 4, 77);
    const Stamp stamp{0xDEADBEEFu, 123456u, 0x12345678u};
    encode_rgba(stamp, image.data(), w, h, w * 4);
    auto decoded = decode(image.data(), w, h, w * 4, 4);
    REQUIRE(decoded);
    CHECK(*decoded == stamp);
  }
}

TEST_CASE("strip geometry follows SPEC.md") {
  auto g = Geometry::for_frame(1366, 768);
  CHECK(g.block_width == 42);
  CHECK(g.row_height == 32);
  std::vector<std::uint8_t> image(1366 * 768 * 4, 200);
  encode_rgba({0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, image.data(), 1366, 768,
              1366 * 4);
  // Right of 32 * (W/32) is black.
  CHECK(image[(10 * 1366 + 1365) * 4] == 0);
  CHECK(image[(10 * 1366 + 32 * 42 - 1) * 4] == 255);
  // Rows 2 (input stamp) and 3 (full turns) are there, below them the image
  // is untouched.
  CHECK(image[(80 * 1366 + 5) * 4] == 255);
  CHECK(image[(112 * 1366 + 5) * 4] == 255);
  CHECK(image[(128 * 1366 + 5) * 4] == 200);
}

TEST_CASE("most significant bit is leftmost") {
  CHECK(bit_at(0x80000000u, 0));
  CHECK_FALSE(bit_at(0x80000000u, 31));
  CHECK(bit_at(1u, 31));
}

TEST_CASE("decode reads a luma plane too") {
  const int w = 1280, h = 720;
  std::vector<std::uint8_t> rgba(static_cast<size_t>(w) * h * 4);
  encode_rgba({42u, 7u, 99u, 3u}, rgba.data(), w, h, w * 4);
  std::vector<std::uint8_t> luma(static_cast<size_t>(w) * h);
  for (size_t i = 0; i < luma.size(); ++i) luma[i] = rgba[i * 4];
  auto decoded = decode(luma.data(), w, h, w, 1);
  REQUIRE(decoded);
  CHECK(decoded->render_ms == 42u);
  CHECK(decoded->frame_number == 7u);
  CHECK(decoded->input_ms == 99u);
  CHECK(decoded->turns == 3u);
}

namespace {
// CLOCK_REALTIME (std::chrono::system_clock) in ms modulo 2^32, taken
// independently of the code under test.
std::uint32_t realtime_ms() {
  using namespace std::chrono;
  return static_cast<std::uint32_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}
}  // namespace

TEST_CASE("wall clock ms is CLOCK_REALTIME ms modulo 2^32 and follows that clock") {
  // The stamp lies between two readings of the real clock taken around it
  // (unsigned differences: the wrap at 2^32 does not matter).
  for (int i = 0; i < 3; ++i) {
    const std::uint32_t before = realtime_ms();
    const std::uint32_t stamp = wall_clock_ms();
    const std::uint32_t after = realtime_ms();
    CAPTURE(before);
    CAPTURE(stamp);
    CAPTURE(after);
    CHECK(static_cast<std::uint32_t>(stamp - before) <= static_cast<std::uint32_t>(after - before));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  // And it advances as time passes: 150 ms of sleep is at least 150 ms.
  const std::uint32_t a = wall_clock_ms();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  const std::uint32_t b = wall_clock_ms();
  CHECK(static_cast<std::uint32_t>(b - a) >= 150u);
  CHECK(static_cast<std::uint32_t>(b - a) < 5000u);
}

TEST_CASE("NV12 strip: limited-range luma, neutral chroma, nothing else touched") {
  for (auto [w, h] : {std::pair{1280, 720}, {1920, 1080}, {1366, 768}}) {
    CAPTURE(w);
    std::vector<std::uint8_t> frame(static_cast<size_t>(w) * h * 3 / 2, 77);
    std::uint8_t* y = frame.data();
    std::uint8_t* uv = y + static_cast<size_t>(w) * h;
    const Stamp stamp{0xDEADBEEFu, 123456u, 4242u};
    encode_nv12(stamp, y, w, uv, w, w, h);
    auto decoded = decode(y, w, h, w, 1);
    REQUIRE(decoded);
    CHECK(*decoded == stamp);

    const auto g = Geometry::for_frame(w, h);
    const int strip = g.row_height * kRows;
    // Bit 0 of 0xDEADBEEF (leftmost block) is 1: white; the right margin is black.
    CHECK(y[g.row_height / 2 * w + g.block_width / 2] == 235);
    CHECK(y[g.row_height / 2 * w + w - 1] == (w % kBits ? 16 : 235));
    CHECK(y[strip * w] == 77);
    CHECK(uv[0] == 128);
    CHECK(uv[static_cast<size_t>((strip + 1) / 2 - 1) * w + w - 1] == 128);
    CHECK(uv[static_cast<size_t>((strip + 1) / 2) * w] == 77);
  }
}
