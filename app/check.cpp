// --check: wires the modules' own start-up paths (EGL context, encoder
// probe and choice, the shared pipeline, the render thread's frame path)
// together once, without the main loop or the server, and says what each
// found.
#include "check.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cs/build_info.hpp"
#include "cs/render/cube_renderer.hpp"
#include "cs/render/egl_context.hpp"
#include "cs/render/render_loop.hpp"
#include "cs/streaming/encoder.hpp"
#include "cs/streaming/host_check.hpp"
#include "cs/streaming/video_pipeline.hpp"

namespace cs::app {
namespace {

constexpr auto kEncodeTimeout = std::chrono::milliseconds(5000);

class Report {
 public:
  void section(const std::string& title) { line(title + ":"); }
  void line(const std::string& text) {
    std::fputs(text.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  void item(const std::string& text) { line("  " + text); }
  void problem(const std::string& why) {
    item("PROBLEM: " + why);
    problems_.push_back(why);
  }
  int finish() {
    if (problems_.empty()) {
      line("ready");
      return 0;
    }
    std::string text = "NOT ready: ";
    for (std::size_t i = 0; i < problems_.size(); ++i) {
      if (i) text += "; ";
      text += problems_[i];
    }
    line(text);
    return 1;
  }

 private:
  std::vector<std::string> problems_;
};

double ms_since(std::int64_t start_ns) {
  return static_cast<double>(render::monotonic_ns() - start_ns) / 1e6;
}

std::string ms_text(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", ms);
  return text;
}

// The EGL section; the context stays current on this thread for the frame.
std::unique_ptr<render::EglContext> check_egl(Report& report, const Config& config) {
  report.section("EGL");
  report.item("CS_RENDER_DEVICE=" + to_string(config.render_device));
  const auto survey = render::survey_egl();
  report.item("client extensions: " +
              (survey.client_extensions.empty() ? "(none)" : survey.client_extensions));
  if (!survey.error.empty()) {
    report.item("devices: not listed (" + survey.error + ")");
  } else {
    report.item("devices: " + std::to_string(survey.devices.size()));
    for (const auto& d : survey.devices) {
      report.item(d.summary());
      report.item("  extensions: " + (d.extensions.empty() ? "(none)" : d.extensions));
    }
  }
  auto made = render::EglContext::create(config.render_device);
  if (!made.context) {
    report.problem("EGL: " + made.error);
    return nullptr;
  }
  const auto& gl = made.context->gl();
  report.item("the server would render on " + made.context->opened() + " (" +
              (made.context->hardware() ? "hardware" : "software") + ")");
  report.item("context: " + made.context->description());
  report.item("GL_VENDOR: " + gl.vendor);
  report.item("GL_RENDERER: " + gl.renderer);
  report.item("GL_VERSION: " + gl.version);
  return std::move(made.context);
}

// The encoder section: every candidate probed, then the server's own choice.
std::string check_encoders(Report& report, const Config& config,
                           const streaming::EncoderSettings& settings) {
  report.section("encoders (CS_ENCODER=" + std::string(to_string(config.encoder)) + ")");
  std::map<std::string, std::string> probed;  // factory → reason, empty when it works
  for (const auto& factory : streaming::encoder_candidates(config.encoder)) {
    const std::int64_t start = render::monotonic_ns();
    const std::string reason = streaming::probe_encoder(factory, settings);
    probed[factory] = reason;
    report.item(factory + ": " + (reason.empty() ? "works" : "does not work: " + reason) + " (" +
                ms_text(ms_since(start)) + ")");
  }
  const auto selection =
      streaming::select_encoder(config.encoder, [&](const std::string& f) { return probed[f]; });
  if (selection.factory.empty()) {
    std::string why =
        "no encoder for CS_ENCODER=" + std::string(to_string(config.encoder)) + " works here";
    for (const auto& reason : selection.reasons) why += " (" + reason + ")";
    report.problem(why);
    return {};
  }
  report.item("the server would use " + selection.factory);
  return selection.factory;
}

void check_frame(Report& report, const Config& config, const streaming::EncoderSettings& settings,
                 const std::string& encoder, bool have_context) {
  report.section("one frame");
  if (!have_context || encoder.empty()) {
    report.problem(std::string("no frame made: ") +
                   (!have_context ? "no EGL context" : "no working encoder"));
    return;
  }
  // One frame: sync read-back (the ring hands a frame over one call later).
  const render::RenderSettings render_settings{config.width, config.height, config.timecode,
                                               render::PixelFormat::nv12};
  auto built = streaming::VideoPipeline::create({settings, encoder, {}, render_settings.format});
  if (!built.pipeline) {
    report.problem("shared pipeline: " + built.error);
    return;
  }
  auto& pipeline = *built.pipeline;
  streaming::EncodedFrameWatch watch(pipeline);
  if (auto error = pipeline.start(); !error.empty()) {
    report.problem("shared pipeline: " + error);
    return;
  }
  auto renderer = render::CubeRenderer::create(render_settings);
  if (!renderer.renderer) {
    report.problem("renderer: " + renderer.error);
    pipeline.stop();
    return;
  }
  const std::int64_t start = render::monotonic_ns();
  render::Scene scene;
  const bool rendered =
      render::render_frame(*renderer.renderer, pipeline, 0, scene, nullptr, nullptr);
  const double render_ms = ms_since(start);
  if (!rendered) {
    report.problem("renderer: the frame failed: " + renderer.renderer->failure());
    pipeline.stop();
    return;
  }
  report.item("rendered one " + std::to_string(config.width) + "x" + std::to_string(config.height) +
              " NV12 frame" + (config.timecode ? " with the timecode strip" : "") + " in " +
              ms_text(render_ms));
  const auto outcome = watch.wait(kEncodeTimeout);
  const double total_ms = ms_since(start);
  pipeline.stop();
  if (!outcome.frame) {
    report.problem("encoder " + encoder + ": " + outcome.error);
    return;
  }
  report.item("encoded one frame with " + encoder + ": " + std::to_string(outcome.frame->bytes) +
              " bytes, " + (outcome.frame->keyframe ? "keyframe" : "not a keyframe") + ", " +
              ms_text(total_ms) + " after rendering began");
  if (outcome.frame->bytes == 0) report.problem("encoder " + encoder + ": an empty frame");
  if (!outcome.frame->keyframe)
    report.problem("encoder " + encoder + ": the first frame is not a keyframe");
}

void check_plugins(Report& report, const Config& config) {
  report.section("GStreamer elements");
  const auto missing = streaming::missing_elements();
  const auto& required = streaming::required_elements();
  std::string present;
  for (const auto& element : required) {
    bool absent = false;
    for (const auto& m : missing) absent = absent || std::string(m.factory) == element.factory;
    if (absent) continue;
    if (!present.empty()) present += ' ';
    present += element.factory;
  }
  report.item(std::to_string(required.size() - missing.size()) + " of " +
              std::to_string(required.size()) + " present: " + present);
  for (const auto& m : missing) {
    if (m.needed_by(config))
      report.problem(std::string(m.factory) + " missing: " + m.why);
    else
      report.item(std::string(m.factory) + " absent: only " + m.setting + " needs it (" + m.why +
                  ")");
  }
}

}  // namespace

int run_check(const Config& config) {
  Report report;
  report.line(build::version_line(streaming::gstreamer_version()) + ": checking this host");
  report.line("settings: " + std::to_string(config.width) + "x" + std::to_string(config.height) +
              "@" + std::to_string(config.fps) + ", " + std::to_string(config.bitrate_kbps) +
              " kbit/s, CS_ENCODER=" + std::string(to_string(config.encoder)));
  const auto settings = streaming::encoder_settings(config);

  auto context = check_egl(report, config);
  const std::string encoder = check_encoders(report, config, settings);
  check_frame(report, config, settings, encoder, context != nullptr);
  context.reset();
  check_plugins(report, config);
  return report.finish();
}

}  // namespace cs::app
