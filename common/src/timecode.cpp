#include "cs/timecode.hpp"

#include <cstring>
#include <ctime>

namespace cs::timecode {

std::uint32_t wall_clock_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const auto ms = static_cast<std::uint64_t>(ts.tv_sec) * 1000u +
                  static_cast<std::uint64_t>(ts.tv_nsec) / 1000000u;
  return static_cast<std::uint32_t>(ms);
}

std::optional<Stamp> decode(const std::uint8_t* pixels, int width, int height, int stride,
                            int pixel_bytes) {
  const auto g = Geometry::for_frame(width, height);
  if (g.block_width < 1 || g.row_height < 1 || pixels == nullptr) return std::nullopt;
  std::uint32_t rows[kRows] = {0, 0};
  for (int row = 0; row < kRows; ++row) {
    const int y = row * g.row_height + g.row_height / 2;
    const std::uint8_t* line = pixels + static_cast<std::ptrdiff_t>(y) * stride;
    for (int i = 0; i < kBits; ++i) {
      const int x = i * g.block_width + g.block_width / 2;
      const bool one = line[x * pixel_bytes] >= 128;
      rows[row] = (rows[row] << 1) | (one ? 1u : 0u);
    }
  }
  return Stamp{rows[0], rows[1]};
}

void encode_rgba(Stamp stamp, std::uint8_t* rgba, int width, int height, int stride) {
  const auto g = Geometry::for_frame(width, height);
  const std::uint32_t rows[kRows] = {stamp.render_ms, stamp.frame_number};
  for (int row = 0; row < kRows; ++row) {
    for (int y = row * g.row_height; y < (row + 1) * g.row_height && y < height; ++y) {
      std::uint8_t* line = rgba + static_cast<std::ptrdiff_t>(y) * stride;
      std::memset(line, 0, static_cast<std::size_t>(width) * 4);
      for (int x = 0; x < kBits * g.block_width; ++x) {
        const std::uint8_t v = bit_at(rows[row], x / g.block_width) ? 255 : 0;
        line[x * 4 + 0] = line[x * 4 + 1] = line[x * 4 + 2] = v;
        line[x * 4 + 3] = 255;
      }
    }
  }
}

}  // namespace cs::timecode
