#include <doctest/doctest.h>

#include <vector>

#include "cs/timecode.hpp"

using namespace cs::timecode;

TEST_CASE("timecode encodes and decodes at common sizes") {
  for (auto [w, h] : {std::pair{1280, 720}, {1920, 1080}, {640, 360}, {1366, 768}}) {
    CAPTURE(w);
    std::vector<std::uint8_t> image(static_cast<size_t>(w) * h * 4, 77);
    const Stamp stamp{0xDEADBEEFu, 123456u};
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
  encode_rgba({0xFFFFFFFFu, 0xFFFFFFFFu}, image.data(), 1366, 768, 1366 * 4);
  // Right of 32 * (W/32) is black.
  CHECK(image[(10 * 1366 + 1365) * 4] == 0);
  CHECK(image[(10 * 1366 + 32 * 42 - 1) * 4] == 255);
  // Below the two rows the image is untouched.
  CHECK(image[(64 * 1366 + 5) * 4] == 200);
}

TEST_CASE("most significant bit is leftmost") {
  CHECK(bit_at(0x80000000u, 0));
  CHECK_FALSE(bit_at(0x80000000u, 31));
  CHECK(bit_at(1u, 31));
}

TEST_CASE("decode reads a luma plane too") {
  const int w = 1280, h = 720;
  std::vector<std::uint8_t> rgba(static_cast<size_t>(w) * h * 4);
  encode_rgba({42u, 7u}, rgba.data(), w, h, w * 4);
  std::vector<std::uint8_t> luma(static_cast<size_t>(w) * h);
  for (size_t i = 0; i < luma.size(); ++i) luma[i] = rgba[i * 4];
  auto decoded = decode(luma.data(), w, h, w, 1);
  REQUIRE(decoded);
  CHECK(decoded->render_ms == 42u);
  CHECK(decoded->frame_number == 7u);
}

TEST_CASE("wall clock ms moves forward") {
  const auto a = wall_clock_ms();
  const auto b = wall_clock_ms();
  CHECK(static_cast<std::uint32_t>(b - a) < 1000u);
}

TEST_CASE("NV12 strip: limited-range luma, neutral chroma, nothing else touched") {
  for (auto [w, h] : {std::pair{1280, 720}, {1920, 1080}, {1366, 768}}) {
    CAPTURE(w);
    std::vector<std::uint8_t> frame(static_cast<size_t>(w) * h * 3 / 2, 77);
    std::uint8_t* y = frame.data();
    std::uint8_t* uv = y + static_cast<size_t>(w) * h;
    const Stamp stamp{0xDEADBEEFu, 123456u};
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
