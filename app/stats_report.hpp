#pragma once
// GET /stats: what the server measures of itself, as JSON. Reads only
// atomics and sample windows, so the lws thread may call it.
#include <atomic>
#include <string>

#include "cs/render/frame_target.hpp"
#include "cs/streaming/video_pipeline.hpp"

namespace cs::app {

struct StatsSources {
  const char* mode;  // "shared" or "baseline"
  std::string encoder;
  int width, height, fps;
  const render::StageTimes* render;
  const streaming::PipelineTimes* pipeline;
  const std::atomic<int>* viewers;
};

std::string stats_json(const StatsSources& sources);

}  // namespace cs::app
