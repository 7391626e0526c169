#include "observability.hpp"

#include <gst/gst.h>
#include <nlohmann/json.hpp>

#include "cs/metrics_text.hpp"
#include "cs/render/render_loop.hpp"

#ifndef CS_VERSION
#define CS_VERSION "unknown"
#endif

namespace cs::app {
namespace {
constexpr guint kSampleIntervalMs = 250;

double seconds_since(std::int64_t start_ns) {
  return static_cast<double>(render::monotonic_ns() - start_ns) / 1e9;
}
}  // namespace

Observability::Observability(ObservedParts parts)
    : parts_(std::move(parts)), started_ns_(render::monotonic_ns()) {
  sample();
  timer_ = g_timeout_add(
      kSampleIntervalMs,
      [](gpointer self) -> gboolean {
        static_cast<Observability*>(self)->sample();
        return G_SOURCE_CONTINUE;
      },
      this);
}

Observability::~Observability() {
  if (timer_) g_source_remove(timer_);
}

void Observability::sample() {
  HealthSample s;
  s.now_ns = render::monotonic_ns();
  s.rendering_expected = parts_.rendering_expected->load();
  s.viewers = parts_.viewers->load();
  s.frames_rendered = parts_.render->frames.load(std::memory_order_relaxed);
  s.frames_in = parts_.pipeline->frames_in.load(std::memory_order_relaxed);
  s.frames_encoded = parts_.pipeline->frames_encoded.load(std::memory_order_relaxed);
  health_.sample(s);
}

std::vector<signaling::HttpEndpoint> Observability::endpoints() {
  using signaling::answer_with;
  using signaling::HttpRequest;
  using signaling::HttpResponse;
  return {
      // Load balancers and container health checks send no token; the
      // answer holds nothing secret.
      {"GET", "/healthz", answer_with([this](const HttpRequest&) { return healthz(); }), false},
      {"GET", "/metrics", answer_with([this](const HttpRequest&) {
         return HttpResponse{200, MetricsText::kContentType, metrics(), {}};
       })},
  };
}

signaling::HttpResponse Observability::healthz() const {
  const HealthReport r = health_.report(render::monotonic_ns());
  nlohmann::json doc = {
      {"status", r.healthy ? "ok" : "unhealthy"},
      {"uptime_s", seconds_since(started_ns_)},
      {"viewers", parts_.viewers->load()},
      {"encoder", parts_.encoder()},
      {"fps", r.fps},
  };
  if (!r.healthy) doc["reason"] = r.reason;
  return {r.healthy ? 200 : 503, "application/json", doc.dump() + "\n", {}};
}

std::string Observability::metrics() const {
  const render::StageTimes& rt = *parts_.render;
  const streaming::PipelineTimes& pt = *parts_.pipeline;
  auto n = [](const std::atomic<std::uint64_t>& v) {
    return static_cast<double>(v.load(std::memory_order_relaxed));
  };
  MetricsText m;
  m.counter("cs_frames_rendered_total", "Frames the render thread drew and read back.",
            n(rt.frames));
  m.counter("cs_frames_encoded_total", "Frames the shared encoder put out.", n(pt.frames_encoded));
  m.counter("cs_frames_dropped_total",
            "Frames never encoded: render deadlines missed (frames skipped) plus frames the "
            "pipeline refused.",
            n(rt.late_frames) + n(pt.frames_refused));
  m.histogram("cs_render_draw_seconds", "Time to draw one frame (render thread).",
              rt.draw_ms.histogram());
  m.histogram("cs_render_read_back_seconds", "Time to read one frame back from the GPU.",
              rt.read_back_ms.histogram());
  m.histogram("cs_encode_seconds", "Time the shared encoder takes for one frame.",
              pt.encode_ms.histogram());
  m.histogram("cs_render_to_sent_seconds",
              "From a frame's capture time to its packets reaching the network (per viewer).",
              pt.render_to_send_ms.histogram());
  m.gauge("cs_viewers", "Viewers that have offered and hold a slot.", parts_.viewers->load());
  m.counter("cs_sent_bytes_total", "RTP and RTCP bytes sent to viewers (all viewers, ever).",
            n(pt.bytes_sent));
  m.counter("cs_sent_packets_total", "RTP and RTCP packets sent to viewers.", n(pt.packets_sent));
  m.counter("cs_nacks_received_total", "RTCP generic NACK messages received from viewers.",
            n(pt.nacks_received));
  m.counter("cs_plis_received_total", "RTCP PLI and FIR messages received from viewers.",
            n(pt.plis_received));
  m.counter("cs_retransmissions_total", "RTX packets sent in answer to NACKs.",
            n(pt.retransmissions));
  const streaming::ForwardCounters& fc = *parts_.forward;
  m.counter("cs_forwarded_packets_total",
            "RTP packets sent to the CS_FORWARD_RTP addresses (all of them, ever).", n(fc.packets));
  m.counter("cs_forwarded_bytes_total", "Bytes of those RTP packets.", n(fc.bytes));
  m.counter("cs_forward_rtcp_received_total",
            "RTCP packets received back from the CS_FORWARD_RTP addresses (port+1).",
            n(fc.rtcp_received));
  m.counter("cs_forward_plis_received_total",
            "RTCP PLI and FIR messages received from the CS_FORWARD_RTP addresses (e.g. Janus "
            "asking for a keyframe for a joining viewer).",
            n(fc.plis_received));
  if (const streaming::SoundTimes* st = parts_.sound) {
    m.counter("cs_sound_frames_total", "Opus frames (10 ms) the shared sound encoder put out.",
              n(st->frames));
    m.counter("cs_sound_bytes_total", "Bytes of those Opus frames (before RTP).", n(st->bytes));
    m.counter("cs_sound_blocks_skipped_total",
              "10 ms blocks of sound never made: its pacing thread fell behind by > 200 ms.",
              n(st->skipped));
    m.histogram("cs_sound_encode_seconds", "Time the Opus encoder takes for one 10 ms frame.",
                st->encode_ms.histogram());
  }
  m.counter("cs_keyframes_forced_total",
            "Keyframe requests that reached the shared encoder (viewers joining or catching up, "
            "PLI/FIR); the encoder throttles them.",
            n(pt.keyframes_forced));
  m.family("cs_viewers_refused_total", "counter",
           "Viewers refused or cut off by the server, by reason.");
  for (std::size_t i = 0; i < kRefusalCount; ++i) {
    const auto reason = static_cast<Refusal>(i);
    m.sample("cs_viewers_refused_total", {{"reason", refusal_name(reason)}},
             static_cast<double>(parts_.refusals->get(reason)));
  }
  m.family("cs_encoder_info", "gauge", "The encoder in use (it can change at run time).");
  m.sample("cs_encoder_info", {{"encoder", parts_.encoder()}}, 1);
  guint major = 0, minor = 0, micro = 0, nano = 0;
  gst_version(&major, &minor, &micro, &nano);
  m.family("cs_build_info", "gauge", "The build: its version and the GStreamer it runs on.");
  m.sample("cs_build_info",
           {{"version", CS_VERSION},
            {"gstreamer",
             std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro)}},
           1);
  m.gauge("cs_uptime_seconds", "Seconds since the server started.", seconds_since(started_ns_));
  return m.text();
}

}  // namespace cs::app
