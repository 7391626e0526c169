// Renderer micro-benchmark: median draw and read-back time per frame, and the
// process CPU time per frame (llvmpipe's rasterizer threads included), for
// each pixel format at 720p and 1080p, on this machine's EGL (llvmpipe here).
// Usage: build/bench/cs-render-bench [frames]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <utility>
#include <vector>

#include "cs/render/cube_renderer.hpp"
#include "cs/render/egl_context.hpp"

using namespace cs::render;

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}
}  // namespace

int main(int argc, char** argv) {
  const int frames = argc > 1 ? std::max(10, std::atoi(argv[1])) : 120;
  auto egl = EglContext::create();
  if (!egl.context) {
    std::fprintf(stderr, "EGL: %s\n", egl.error.c_str());
    return 1;
  }
  for (auto format : {PixelFormat::rgba, PixelFormat::nv12}) {
    for (auto [w, h] : {std::pair{1280, 720}, std::pair{1920, 1080}}) {
      auto made = CubeRenderer::create({w, h, true, format});
      if (!made.renderer) {
        std::fprintf(stderr, "renderer: %s\n", made.error.c_str());
        return 1;
      }
      std::vector<std::uint8_t> out(frame_bytes(made.renderer->settings()));
      std::vector<double> draw, read;
      // The first frames compile shader variants; keep them out of the CPU figure.
      const int warm_up = 10;
      double cpu_start = 0;
      for (int i = 0; i < frames + warm_up; ++i) {
        if (i == warm_up) {
          draw.clear();
          read.clear();
          cpu_start = process_cpu_ms();
        }
        const auto t0 = std::chrono::steady_clock::now();
        made.renderer->draw(i / 30.0,
                            {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i)});
        const auto t1 = std::chrono::steady_clock::now();
        made.renderer->read_back(out.data());
        const auto t2 = std::chrono::steady_clock::now();
        draw.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        read.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
      }
      const double cpu_per_frame = (process_cpu_ms() - cpu_start) / frames;
      std::printf(
          "%s %dx%d: draw %.2f ms, read-back %.2f ms (medians of %d frames), CPU %.2f ms/frame "
          "(%.1f %% of a core at 30 fps)\n",
          format == PixelFormat::rgba ? "RGBA" : "NV12", w, h, median(draw), median(read), frames,
          cpu_per_frame, cpu_per_frame * 30 / 10);
    }
  }
  return 0;
}
