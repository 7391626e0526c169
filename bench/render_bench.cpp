// Renderer micro-benchmark: per frame, the median draw, read-back and total
// (draw + read-back) time, and the process CPU time (llvmpipe's rasterizer
// threads, or the GPU driver's, included), for each pixel format, size and
// read-back mode (sync glReadPixels, or the pixel-pack ring), on the EGL
// device CS_RENDER_DEVICE (or --device) names.
//
// Frames run back to back (no pacing): with the ring, the read of frame N
// overlaps the draw of N+1 and the copy of N-1; each frame comes out one
// call later (one frame period of latency in the server).
//
// Usage: build/bench/cs-render-bench [frames] [--device D] [--sizes 720,1080,2160]
//          [--modes sync,ring] [--formats rgba,nv12] [--json FILE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
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

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

std::string json_text(const std::string& text) {
  std::string out = "\"";
  for (char ch : text) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

struct Options {
  int frames = 120;
  cs::RenderDevice device;
  std::vector<int> heights{720, 1080, 2160};
  std::vector<cs::ReadBackMode> modes{cs::ReadBackMode::sync, cs::ReadBackMode::ring};
  std::vector<PixelFormat> formats{PixelFormat::rgba, PixelFormat::nv12};
  std::string json;
};

bool parse(int argc, char** argv, Options& o) {
  if (const char* env = std::getenv("CS_RENDER_DEVICE")) {
    auto device = cs::parse_render_device(env);
    if (!device) {
      std::fprintf(stderr, "CS_RENDER_DEVICE=%s is not a device\n", env);
      return false;
    }
    o.device = *device;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--device" && has_value) {
      auto device = cs::parse_render_device(argv[++i]);
      if (!device) {
        std::fprintf(stderr, "--device %s is not a device\n", argv[i]);
        return false;
      }
      o.device = *device;
    } else if (arg == "--sizes" && has_value) {
      o.heights.clear();
      for (const auto& h : split(argv[++i])) {
        if (h != "720" && h != "1080" && h != "2160") {
          std::fprintf(stderr, "--sizes: 720, 1080 or 2160, not %s\n", h.c_str());
          return false;
        }
        o.heights.push_back(std::atoi(h.c_str()));
      }
    } else if (arg == "--modes" && has_value) {
      o.modes.clear();
      for (const auto& m : split(argv[++i])) {
        if (m != "sync" && m != "ring") {
          std::fprintf(stderr, "--modes: sync or ring, not %s\n", m.c_str());
          return false;
        }
        o.modes.push_back(m == "sync" ? cs::ReadBackMode::sync : cs::ReadBackMode::ring);
      }
    } else if (arg == "--formats" && has_value) {
      o.formats.clear();
      for (const auto& f : split(argv[++i])) {
        if (f != "rgba" && f != "nv12") {
          std::fprintf(stderr, "--formats: rgba or nv12, not %s\n", f.c_str());
          return false;
        }
        o.formats.push_back(f == "rgba" ? PixelFormat::rgba : PixelFormat::nv12);
      }
    } else if (arg == "--json" && has_value) {
      o.json = argv[++i];
    } else if (!arg.empty() && arg[0] != '-') {
      o.frames = std::max(10, std::atoi(arg.c_str()));
    } else {
      std::fprintf(stderr,
                   "usage: cs-render-bench [frames] [--device D] [--sizes 720,1080,2160] "
                   "[--modes sync,ring] [--formats rgba,nv12] [--json FILE]\n");
      return false;
    }
  }
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) return 2;
  const auto survey = survey_egl();
  auto egl = EglContext::create(options.device);
  if (!egl.context) {
    std::fprintf(stderr, "EGL: %s\n", egl.error.c_str());
    return 1;
  }
  std::printf("rendering on %s\n", egl.context->description().c_str());
  std::ostringstream rows;
  for (auto format : options.formats) {
    for (int h : options.heights) {
      const int w = h * 16 / 9;
      for (auto mode : options.modes) {
        auto made = CubeRenderer::create({w, h, true, format, mode});
        if (!made.renderer) {
          std::fprintf(stderr, "renderer: %s\n", made.error.c_str());
          return 1;
        }
        std::vector<std::uint8_t> out(frame_bytes(made.renderer->settings()));
        std::vector<double> draw, read, total;
        // The first frames compile shader variants; keep them out of the CPU figure.
        const int warm_up = 10;
        double cpu_start = 0;
        for (int i = 0; i < options.frames + warm_up; ++i) {
          if (i == warm_up) {
            draw.clear();
            read.clear();
            total.clear();
            cpu_start = process_cpu_ms();
          }
          const auto t0 = std::chrono::steady_clock::now();
          const auto n = static_cast<std::uint32_t>(i);
          if (!made.renderer->draw({.spin = i / 30.0}, {n, n, 0u})) {
            std::fprintf(stderr, "draw failed: %s\n", made.renderer->failure().c_str());
            return 1;
          }
          const auto t1 = std::chrono::steady_clock::now();
          FrameInfo delivered{};
          if (made.renderer->read_back_frame(out.data(), {n, n, i}, delivered) ==
              CubeRenderer::ReadBack::failed) {
            std::fprintf(stderr, "read-back failed: %s\n", made.renderer->failure().c_str());
            return 1;
          }
          const auto t2 = std::chrono::steady_clock::now();
          draw.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
          read.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
          total.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
        }
        const double cpu_per_frame = (process_cpu_ms() - cpu_start) / options.frames;
        const char* format_name = format == PixelFormat::rgba ? "RGBA" : "NV12";
        const char* mode_name = mode == cs::ReadBackMode::ring ? "ring" : "sync";
        std::printf(
            "%s %dx%d %s: draw %.2f ms, read-back %.2f ms, total %.2f ms (medians of %d frames), "
            "CPU %.2f ms/frame (%.1f %% of a core at 30 fps)\n",
            format_name, w, h, mode_name, median(draw), median(read), median(total), options.frames,
            cpu_per_frame, cpu_per_frame * 30 / 10);
        std::fflush(stdout);
        char row[512];
        std::snprintf(row, sizeof row,
                      "%s    {\"format\": \"%s\", \"width\": %d, \"height\": %d, \"read_back\": "
                      "\"%s\", \"draw_ms\": %.3f, \"read_back_ms\": %.3f, \"total_ms\": %.3f, "
                      "\"cpu_ms_per_frame\": %.3f}",
                      rows.tellp() > 0 ? ",\n" : "", format_name, w, h, mode_name, median(draw),
                      median(read), median(total), cpu_per_frame);
        rows << row;
      }
    }
  }
  if (!options.json.empty()) {
    std::ofstream file(options.json);
    const auto& gl = egl.context->gl();
    file << "{\n  \"device\": {\"requested\": " << json_text(cs::to_string(options.device))
         << ", \"opened\": " << json_text(egl.context->opened())
         << ", \"hardware\": " << (egl.context->hardware() ? "true" : "false")
         << ", \"description\": " << json_text(egl.context->description())
         << ",\n    \"gl_vendor\": " << json_text(gl.vendor)
         << ", \"gl_renderer\": " << json_text(gl.renderer)
         << ", \"gl_version\": " << json_text(gl.version) << "},\n  \"egl_devices\": [";
    for (std::size_t i = 0; i < survey.devices.size(); ++i)
      file << (i ? ", " : "") << json_text(survey.devices[i].summary());
    file << "],\n  \"cpu_cores\": " << std::thread::hardware_concurrency()
         << ",\n  \"frames\": " << options.frames << ",\n  \"results\": [\n"
         << rows.str() << "\n  ]\n}\n";
    if (!file.good()) {
      std::fprintf(stderr, "cannot write %s\n", options.json.c_str());
      return 1;
    }
  }
  return 0;
}
