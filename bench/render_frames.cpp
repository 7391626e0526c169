// Writes the real renderer's frames (the cube and its timecode strip, NV12, as
// the server feeds its encoders) to a raw file, so that encoders can be timed
// and compared on the same input without a clock (bench/encoder_realtime.py).
// Usage: build/bench/cs-render-frames WIDTH HEIGHT FPS FRAMES OUT.nv12
// Frame i is drawn at scene time i/FPS; its strip holds render time
// i*1000/FPS ms and frame number i.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cs/render/cube_renderer.hpp"
#include "cs/render/egl_context.hpp"

using namespace cs::render;

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s WIDTH HEIGHT FPS FRAMES OUT.nv12\n", argv[0]);
    return 2;
  }
  const int width = std::atoi(argv[1]);
  const int height = std::atoi(argv[2]);
  const int fps = std::atoi(argv[3]);
  const int frames = std::atoi(argv[4]);
  if (width <= 0 || height <= 0 || fps <= 0 || frames <= 0) {
    std::fprintf(stderr, "WIDTH, HEIGHT, FPS and FRAMES must be positive\n");
    return 2;
  }
  auto egl = EglContext::create();
  if (!egl.context) {
    std::fprintf(stderr, "EGL: %s\n", egl.error.c_str());
    return 1;
  }
  auto made = CubeRenderer::create({width, height, true, PixelFormat::nv12});
  if (!made.renderer) {
    std::fprintf(stderr, "renderer: %s\n", made.error.c_str());
    return 1;
  }
  std::FILE* out = std::fopen(argv[5], "wb");
  if (!out) {
    std::perror(argv[5]);
    return 1;
  }
  std::vector<std::uint8_t> frame(frame_bytes(made.renderer->settings()));
  for (int i = 0; i < frames; ++i) {
    const auto n = static_cast<std::uint32_t>(i);
    if (!made.renderer->draw(
            {.spin = static_cast<double>(i) / fps},
            {static_cast<std::uint32_t>(static_cast<long long>(i) * 1000 / fps), n, 0u}) ||
        !made.renderer->read_back(frame.data())) {
      std::fprintf(stderr, "frame %d: %s\n", i, made.renderer->failure().c_str());
      std::fclose(out);
      return 1;
    }
    if (std::fwrite(frame.data(), 1, frame.size(), out) != frame.size()) {
      std::perror(argv[5]);
      std::fclose(out);
      return 1;
    }
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
