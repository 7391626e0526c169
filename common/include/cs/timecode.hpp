#pragma once
// The timecode strip of SPEC.md: four rows of 32 blocks at the top of the
// image; row 0 = render wall-clock ms mod 2^32, row 1 = frame number, row 2
// = the wall-clock ms stamp of the newest viewer input the frame applied
// (0 when none), row 3 = full turns of the cube since rendering started
// (the sound's click marks each: A/V sync is measured against it).
// Pure functions, callable from any thread.
#include <cstdint>
#include <optional>

namespace cs::timecode {

inline constexpr int kBits = 32;
inline constexpr int kRows = 4;

struct Geometry {
  int block_width;  // W/32
  int row_height;   // H/24
  static Geometry for_frame(int width, int height) { return {width / kBits, height / 24}; }
};

struct Stamp {
  std::uint32_t render_ms;
  std::uint32_t frame_number;
  std::uint32_t input_ms = 0;
  std::uint32_t turns = 0;
  bool operator==(const Stamp&) const = default;
};

// Bit `i` (0 = leftmost block) of `value`: most significant bit first.
constexpr bool bit_at(std::uint32_t value, int i) {
  return (value >> (kBits - 1 - i)) & 1u;
}

// Wall-clock milliseconds (CLOCK_REALTIME) modulo 2^32.
std::uint32_t wall_clock_ms();

// Reads the strip from a tightly or loosely packed image whose rows run top
// to bottom. `pixel_bytes` is 4 for RGBA (the first channel is read) or 1 for
// a luma plane. Samples the centre of each block; nullopt when the image is
// too small to hold a strip.
std::optional<Stamp> decode(const std::uint8_t* pixels, int width, int height, int stride,
                            int pixel_bytes);

// Writes the strip into an RGBA image (rows top to bottom).
void encode_rgba(Stamp stamp, std::uint8_t* rgba, int width, int height, int stride);

// Writes the strip into an NV12 image (rows top to bottom): luma 235/16 for
// white/black (BT.601 limited range, as the renderer's colours), and neutral
// chroma under the whole strip. `uv` is the interleaved half-height plane.
void encode_nv12(Stamp stamp, std::uint8_t* y, int y_stride, std::uint8_t* uv, int uv_stride,
                 int width, int height);

}  // namespace cs::timecode
