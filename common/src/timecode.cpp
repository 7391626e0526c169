#include "cs/timecode.hpp"

#include <algorithm>
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
  std::uint32_t rows[kRows] = {};
  for (int row = 0; row < kRows; ++row) {
    const int y = row * g.row_height + g.row_height / 2;
    const std::uint8_t* line = pixels + static_cast<std::ptrdiff_t>(y) * stride;
    for (int i = 0; i < kBits; ++i) {
      const int x = i * g.block_width + g.block_width / 2;
      const bool one = line[x * pixel_bytes] >= 128;
      rows[row] = (rows[row] << 1) | (one ? 1u : 0u);
    }
  }
  return Stamp{rows[0], rows[1], rows[2], rows[3]};
}

namespace {
// Fills rows [0, strip height) of one plane: `black` everywhere, then `white`
// over the blocks of each set bit. `pixel_bytes` values per pixel.
void fill_strip(Stamp stamp, std::uint8_t* plane, int stride, int width, int height,
                const std::uint8_t* black, const std::uint8_t* white, int pixel_bytes) {
  const auto g = Geometry::for_frame(width, height);
  if (g.block_width < 1 || g.row_height < 1) return;
  const std::uint32_t rows[kRows] = {stamp.render_ms, stamp.frame_number, stamp.input_ms,
                                     stamp.turns};
  const auto bytes = [&](int pixels) { return static_cast<std::size_t>(pixels * pixel_bytes); };
  const std::size_t line_bytes = bytes(width);
  for (int row = 0; row < kRows; ++row) {
    const int first = row * g.row_height;
    if (first >= height) break;
    // Compose the row's first line, then copy it down: the renderer calls
    // this for every frame.
    std::uint8_t* line = plane + static_cast<std::ptrdiff_t>(first) * stride;
    for (int x = 0; x < width; ++x) std::memcpy(line + bytes(x), black, bytes(1));
    for (int i = 0; i < kBits; ++i) {
      if (!bit_at(rows[row], i)) continue;
      for (int x = i * g.block_width; x < (i + 1) * g.block_width; ++x)
        std::memcpy(line + bytes(x), white, bytes(1));
    }
    for (int y = first + 1; y < first + g.row_height && y < height; ++y)
      std::memcpy(plane + static_cast<std::ptrdiff_t>(y) * stride, line, line_bytes);
  }
}
}  // namespace

void encode_nv12(Stamp stamp, std::uint8_t* y, int y_stride, std::uint8_t* uv, int uv_stride,
                 int width, int height) {
  const std::uint8_t black = 16, white = 235;
  fill_strip(stamp, y, y_stride, width, height, &black, &white, 1);
  const auto g = Geometry::for_frame(width, height);
  const int chroma_rows = std::min((g.row_height * kRows + 1) / 2, height / 2);
  for (int row = 0; row < chroma_rows; ++row)
    std::memset(uv + static_cast<std::ptrdiff_t>(row) * uv_stride, 128,
                static_cast<std::size_t>(width / 2) * 2);
}

void encode_rgba(Stamp stamp, std::uint8_t* rgba, int width, int height, int stride) {
  const std::uint8_t black[4] = {0, 0, 0, 255}, white[4] = {255, 255, 255, 255};
  fill_strip(stamp, rgba, stride, width, height, black, white, 4);
}

}  // namespace cs::timecode
