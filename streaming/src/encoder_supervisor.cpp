#include "cs/streaming/encoder_supervisor.hpp"

#include <sstream>

#include "cs/faults.hpp"
#include "cs/log.hpp"
#include "cs/render/render_loop.hpp"

namespace cs::streaming {
namespace {

using render::monotonic_ns;

constexpr guint kCheckIntervalMs = 250;
// Fewer frames than this going in during a stall is a pause, not a stall.
constexpr std::uint64_t kMinFramesInStall = 3;

}  // namespace

EncoderSupervisor::EncoderSupervisor(VideoPipeline& pipeline, EncoderFallback fallback,
                                     EncoderProbe probe,
                                     std::function<void(const std::string&)> on_fatal)
    : pipeline_(pipeline),
      fallback_(std::move(fallback)),
      probe_(std::move(probe)),
      on_fatal_(std::move(on_fatal)),
      last_output_at_ns_(monotonic_ns()) {
  timer_ = g_timeout_add(
      kCheckIntervalMs,
      [](gpointer self) -> gboolean {
        static_cast<EncoderSupervisor*>(self)->check_output();
        return G_SOURCE_CONTINUE;
      },
      this);
}

EncoderSupervisor::~EncoderSupervisor() {
  if (timer_) g_source_remove(timer_);
}

bool EncoderSupervisor::on_error(GstObject* source, const std::string& message) {
  if (!pipeline_.owns_encoder_stage(source)) return false;
  // One failure shows up as several errors (the encoder's, then appsrc's
  // "streaming stopped"): the ones that follow a replacement are its echo.
  if (replaced_at_ns_ != 0 && monotonic_ns() - replaced_at_ns_ < kEchoNs) {
    log::debug("encoder: ignoring ", GST_OBJECT_NAME(source), ": ", message,
               " (after replacement)");
    return true;
  }
  replace(std::string(GST_OBJECT_NAME(source)) + ": " + message);
  return true;
}

void EncoderSupervisor::check_output() {
  // CS_TEST_FAULTS=encoder-unsupervised: a stall nobody repairs (with
  // encoder-stall@N), so that /healthz has one to report.
  if (failed_for_good_ || faults::armed("encoder-unsupervised")) return;
  // What went into the primary encoder's queue: idle, it takes nothing.
  const std::uint64_t in = pipeline_.primary().frames_in();
  const std::uint64_t out = pipeline_.primary().frames_encoded();
  const std::int64_t now = monotonic_ns();
  if (out != last_output_count_ || in < input_at_last_output_) {
    last_output_count_ = out;
    input_at_last_output_ = in;
    last_output_at_ns_ = now;
    if (replaced_at_ns_ != 0 && now - replaced_at_ns_ > kHealthyNs) fallback_.on_healthy();
    return;
  }
  const std::uint64_t waiting = in - input_at_last_output_;
  if (now - last_output_at_ns_ >= kStallNs && waiting >= kMinFramesInStall) {
    std::ostringstream why;
    why << "no output for " << (now - last_output_at_ns_) / 1000000 << " ms while " << waiting
        << " frames went in";
    replace(why.str());
  }
}

void EncoderSupervisor::replace(const std::string& why) {
  std::string failed = pipeline_.encoder_factory();
  for (;;) {
    const auto next = fallback_.next(failed, probe_);
    if (!next) {
      failed_for_good_ = true;
      on_fatal_("encoder " + failed + " failed (" + why + ") and no replacement is left");
      return;
    }
    log::warn("encoder: ", failed, " failed (", why, "); replacing it with ", *next);
    const std::string error = pipeline_.replace_encoder(*next);
    replaced_at_ns_ = last_output_at_ns_ = monotonic_ns();
    input_at_last_output_ = pipeline_.primary().frames_in();
    last_output_count_ = pipeline_.primary().frames_encoded();
    if (error.empty()) {
      log::info("encoder: ", *next, " is encoding; viewers continue from its first keyframe");
      return;
    }
    log::error("encoder: replacement ", *next, " failed: ", error);
    failed = *next;
  }
}

}  // namespace cs::streaming
