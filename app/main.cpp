// cube-streamer: wires the modules together. Threads: this one runs the GLib
// main loop (all GStreamer control); the render thread (renderer/) pushes
// frames into appsrc; the lws thread (signaling/) serves HTTP and WebSocket
// and hands messages here through a MainLoopInbox.
#include <glib-unix.h>
#include <gst/gst.h>

#include <malloc.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include "cs/config.hpp"
#include "cs/log.hpp"
#include "cs/render/render_loop.hpp"
#include "cs/signaling/protocol.hpp"
#include "cs/signaling/server.hpp"
#include "cs/streaming/baseline.hpp"
#include "cs/streaming/encoder.hpp"
#include "cs/streaming/encoder_supervisor.hpp"
#include "cs/streaming/shared_media.hpp"
#include "cs/streaming/video_pipeline.hpp"
#include "cs/streaming/viewer_hub.hpp"
#include "main_loop_inbox.hpp"
#include "stats_report.hpp"

namespace cs::web {
const cs::EmbeddedFiles& files();
}

namespace cs::app {
namespace {

constexpr int kExitConfig = 2;
constexpr int kExitFailure = 1;

// The hub's replies, as SPEC.md messages on the viewer's socket.
class SocketOutbox final : public streaming::ViewerOutbox {
 public:
  void attach(signaling::Server* server) { server_ = server; }
  void send_answer(streaming::ViewerId id, const std::string& sdp) override {
    send(id, signaling::answer_json(sdp));
  }
  void send_candidate(streaming::ViewerId id, unsigned mline, const std::string& c) override {
    send(id, signaling::ice_json(c, mline));
  }
  void send_error(streaming::ViewerId id, const std::string& message) override {
    send(id, signaling::error_json(message));
  }
  void close(streaming::ViewerId id) override {
    if (server_) server_->close(id);
  }

 private:
  void send(streaming::ViewerId id, std::string text) {
    if (server_) server_->send(id, std::move(text));
  }
  signaling::Server* server_ = nullptr;
};

void dispatch(streaming::ViewerHub& hub, SocketOutbox& outbox, signaling::Inbound& in) {
  using Kind = signaling::Inbound::Kind;
  switch (in.kind) {
    case Kind::opened:
      hub.on_connected(in.id);
      return;
    case Kind::closed:
      hub.on_disconnected(in.id);
      return;
    case Kind::message:
      break;
  }
  auto parsed = signaling::parse_client_message(in.text);
  if (!parsed.message) {
    log::debug("viewer ", in.id, ": refused message: ", parsed.error);
    outbox.send_error(in.id, parsed.error);
    return;
  }
  if (auto* offer = std::get_if<signaling::OfferMessage>(&*parsed.message))
    hub.on_offer(in.id, offer->sdp);
  else if (auto* ice = std::get_if<signaling::IceMessage>(&*parsed.message))
    hub.on_candidate(in.id, ice->sdp_mline_index, ice->candidate);
}

struct BusContext {
  streaming::ViewerHub* hub;
  streaming::EncoderSupervisor* encoder;  // shared design only
  GMainLoop* loop;
  int* exit_code;
};

gboolean on_bus_message(GstBus*, GstMessage* message, gpointer data) {
  auto* ctx = static_cast<BusContext*>(data);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(message, &error, &debug);
    const std::string text = error ? error->message : "unknown error";
    log::debug("pipeline error detail: ", debug ? debug : "");
    if (!ctx->hub->on_element_error(GST_MESSAGE_SRC(message), text) &&
        !(ctx->encoder && ctx->encoder->on_error(GST_MESSAGE_SRC(message), text))) {
      log::error("pipeline: ", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), ": ", text);
      *ctx->exit_code = kExitFailure;
      g_main_loop_quit(ctx->loop);
    }
    if (error) g_error_free(error);
    g_free(debug);
  } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
    GError* error = nullptr;
    gst_message_parse_warning(message, &error, nullptr);
    log::warn("pipeline: ", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), ": ",
              error ? error->message : "warning");
    if (error) g_error_free(error);
  }
  return G_SOURCE_CONTINUE;
}

gboolean on_stop_signal(gpointer loop) {
  log::info("stop signal: shutting down");
  g_main_loop_quit(static_cast<GMainLoop*>(loop));
  return G_SOURCE_REMOVE;
}

std::string choose_encoder(const Config& config, const streaming::EncoderSettings& settings) {
  auto selection = streaming::select_encoder(config.encoder, [&](const std::string& factory) {
    return streaming::probe_encoder(factory, settings);
  });
  for (const auto& reason : selection.reasons) log::info("encoder: skipped ", reason);
  if (!selection.factory.empty())
    log::info("encoder: using ", selection.factory, " (CS_ENCODER=", to_string(config.encoder),
              ")");
  return selection.factory;
}

enum class Design { shared_encoder, baseline_per_viewer };

// Everything that makes and carries frames, in one of the two designs.
struct Media {
  std::unique_ptr<streaming::VideoPipeline> pipeline;  // shared design
  std::unique_ptr<streaming::BaselineFanout> fanout;   // baseline design
  std::unique_ptr<streaming::MediaSource> source;
  const streaming::PipelineTimes* times = nullptr;
  render::FrameTarget* target = nullptr;
  render::PixelFormat format = render::PixelFormat::nv12;
};

std::string make_media(Design design, const Config& config,
                       const streaming::EncoderSettings& settings, const std::string& encoder,
                       std::function<void(GstObject*, const std::string&)> on_error, Media& media) {
  const streaming::IceSettings ice{config.stun_server, config.turn_uri(), config.ice_addresses};
  if (design == Design::baseline_per_viewer) {
    media.format = render::PixelFormat::rgba;
    media.fanout = std::make_unique<streaming::BaselineFanout>();
    auto source = std::make_unique<streaming::BaselineMediaSource>(settings, ice, *media.fanout,
                                                                   std::move(on_error));
    media.times = &source->times();
    media.source = std::move(source);
    media.target = media.fanout.get();
    return {};
  }
  auto built = streaming::VideoPipeline::create({settings, encoder, media.format});
  if (!built.pipeline) return built.error;
  media.pipeline = std::move(built.pipeline);
  media.times = &media.pipeline->times();
  media.target = media.pipeline.get();
  const streaming::RecoverySettings recovery{
      .nack = config.nack,
      .rtx_copies = static_cast<unsigned>(config.rtx_copies),
      .fec_percent = static_cast<unsigned>(config.fec_percent)};
  media.source = std::make_unique<streaming::SharedMediaSource>(*media.pipeline, ice, recovery);
  return {};
}

int run(const Config& config, Design design) {
  streaming::EncoderSettings encoder_settings{config.width, config.height, config.fps,
                                              config.bitrate_kbps};
  encoder_settings.keyframe_interval =
      config.keyframe_interval_frames > 0 ? config.keyframe_interval_frames : config.fps;
  const std::string encoder = design == Design::baseline_per_viewer
                                  ? std::string("x264enc")
                                  : choose_encoder(config, encoder_settings);
  if (encoder.empty()) {
    log::error("encoder: none of the candidates for CS_ENCODER=", to_string(config.encoder),
               " works here");
    return kExitFailure;
  }

  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  std::unique_ptr<GMainLoop, void (*)(GMainLoop*)> loop_owner(loop, g_main_loop_unref);
  int exit_code = 0;
  streaming::ViewerHub* hub_for_errors = nullptr;

  Media media;
  if (auto error = make_media(
          design, config, encoder_settings, encoder,
          [&hub_for_errors](GstObject* source, const std::string& message) {
            if (hub_for_errors) hub_for_errors->on_element_error(source, message);
          },
          media);
      !error.empty()) {
    log::error("pipeline: ", error);
    return kExitFailure;
  }

  // A part that ends on its own thread (the renderer, the signaling server)
  // stops the program with a failure status, handed to the main loop.
  MainLoopInbox<std::string> fatal([loop, &exit_code](std::string& why) {
    log::error(why, ": stopping");
    exit_code = kExitFailure;
    g_main_loop_quit(loop);
  });
  render::RenderLoop renderer(
      {{config.width, config.height, config.timecode, media.format}, config.fps}, *media.target,
      [&fatal](const std::string& why) { fatal.push("renderer: " + why); });
  if (auto error = renderer.wait_ready(); !error.empty()) {
    log::error("renderer: ", error);
    return kExitFailure;
  }
  if (media.pipeline) {
    if (auto error = media.pipeline->start(); !error.empty()) {
      log::error("pipeline: ", error);
      return kExitFailure;
    }
  }

  SocketOutbox outbox;
  streaming::HubSettings hub_settings;
  hub_settings.max_viewers = config.max_viewers;
  hub_settings.negotiation_timeout_s = config.negotiation_timeout_s;
  hub_settings.max_waiting_sockets = std::max(64, 2 * config.max_viewers);
  streaming::ViewerHub hub(hub_settings, *media.source, outbox, [&renderer](bool active) {
    if (active)
      renderer.resume();
    else
      renderer.pause();
  });
  hub_for_errors = &hub;

  std::unique_ptr<streaming::EncoderSupervisor> encoder_supervisor;
  if (media.pipeline) {
    encoder_supervisor = std::make_unique<streaming::EncoderSupervisor>(
        *media.pipeline,
        streaming::EncoderFallback(streaming::encoder_candidates(EncoderChoice::auto_select)),
        [&encoder_settings](const std::string& factory) {
          return streaming::probe_encoder(factory, encoder_settings);
        },
        [&fatal](const std::string& why) { fatal.push(why); });
  }
  BusContext bus_context{&hub, encoder_supervisor.get(), loop, &exit_code};
  guint bus_watch = 0;
  streaming::GRef<GstBus> bus;
  if (media.pipeline) {
    bus = streaming::GRef<GstBus>::adopt(gst_element_get_bus(media.pipeline->pipeline()));
    bus_watch = gst_bus_add_watch(bus.get(), on_bus_message, &bus_context);
  }

  MainLoopInbox<signaling::Inbound> inbox(
      [&](signaling::Inbound& in) { dispatch(hub, outbox, in); });
  const StatsSources stats{design == Design::shared_encoder ? "shared" : "baseline",
                           encoder,
                           config.width,
                           config.height,
                           config.fps,
                           &renderer.stage_times(),
                           media.times,
                           &hub.published_viewer_count()};
  signaling::ServerSettings server_settings;
  server_settings.host = config.host;
  server_settings.port = config.port;
  server_settings.web_files = &cs::web::files();
  server_settings.stats_json = [&stats] { return stats_json(stats); };
  server_settings.on_failure = [&fatal](const std::string& why) {
    fatal.push("signaling: " + why);
  };
  server_settings.max_per_ip = config.max_per_ip;
  server_settings.allowed_origins = config.allowed_origins;
  server_settings.auth_token = config.auth_token;
  server_settings.tls_cert = config.tls_cert;
  server_settings.tls_key = config.tls_key;
  auto server = signaling::Server::start(
      server_settings, [&inbox](signaling::Inbound in) { inbox.push(std::move(in)); });
  if (!server.server) {
    log::error("signaling: ", server.error);
    if (bus_watch) g_source_remove(bus_watch);
    return kExitFailure;
  }
  outbox.attach(server.server.get());

  g_unix_signal_add(SIGINT, on_stop_signal, loop);
  g_unix_signal_add(SIGTERM, on_stop_signal, loop);
  log::info("cube-streamer ready: ", config.width, "x", config.height, "@", config.fps, " ",
            config.bitrate_kbps, " kbit/s, up to ", config.max_viewers, " viewers",
            design == Design::baseline_per_viewer ? " (baseline: one pipeline per viewer)" : "");
  g_main_loop_run(loop);

  hub.close_all();
  renderer.pause();
  server.server.reset();  // joins the lws thread
  outbox.attach(nullptr);
  if (bus_watch) g_source_remove(bus_watch);
  if (media.pipeline) media.pipeline->stop();
  log::info("stopped");
  return exit_code;
}

}  // namespace
}  // namespace cs::app

int main(int argc, char** argv) {
  using namespace cs;
  // Every GStreamer streaming thread would otherwise get a malloc arena of
  // its own; with many viewers that is resident memory nobody uses.
  mallopt(M_ARENA_MAX, 2);
  // With transparent huge pages on "always", every 1.4 MB frame buffer and
  // encoder plane can be backed by a whole 2 MB page (10 viewers at 720p:
  // 106.6 → 100.5 MB RSS measured here).
  prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
  const auto command_line = parse_command_line(argc, argv, {"--baseline"});
  if (command_line.help) {
    std::fputs(config_help().c_str(), stdout);
    return 0;
  }
  if (!command_line.error.empty()) {
    log::error("configuration: ", command_line.error);
    return app::kExitConfig;
  }
  const auto parsed = parse_config(environment_with(command_line));
  if (!parsed.config) {
    log::error("configuration: ", parsed.error);
    return app::kExitConfig;
  }
  log::set_level(parsed.config->log_level);
  gst_init(nullptr, nullptr);
  const bool baseline = std::find(command_line.other_flags.begin(), command_line.other_flags.end(),
                                  "--baseline") != command_line.other_flags.end();
  return app::run(*parsed.config,
                  baseline ? app::Design::baseline_per_viewer : app::Design::shared_encoder);
}
