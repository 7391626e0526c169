#include "stats_report.hpp"

#include <nlohmann/json.hpp>

namespace cs::app {
namespace {
nlohmann::json summary(const DurationStat& stage) {
  const auto s = stage.summary();
  return {{"p50", s.p50}, {"p95", s.p95}, {"max", s.max}, {"count", s.count}};
}
}  // namespace

std::string stats_json(const StatsSources& s) {
  nlohmann::json stages = {
      {"draw", summary(s.render->draw_ms)},
      {"read_back", summary(s.render->read_back_ms)},
      {"convert", summary(s.pipeline->convert_ms)},
      {"encode", summary(s.pipeline->encode_ms)},
      {"render_to_encoded", summary(s.pipeline->render_to_encoded_ms)},
      {"render_to_send", summary(s.pipeline->render_to_send_ms)},
  };
  nlohmann::json doc = {
      {"mode", s.mode},
      {"encoder", s.encoder},
      {"width", s.width},
      {"height", s.height},
      {"fps", s.fps},
      {"viewers", s.viewers->load()},
      {"frames_rendered", s.render->frames.load()},
      {"frames_late", s.render->late_frames.load()},
      {"frames_encoded", s.pipeline->frames_encoded.load()},
      {"stages_ms", stages},
  };
  return doc.dump();
}

}  // namespace cs::app
