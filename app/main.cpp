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
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "check.hpp"
#include "cs/audio/scene_sound.hpp"
#include "cs/build_info.hpp"
#include "cs/config.hpp"
#include "cs/log.hpp"
#include "cs/render/render_loop.hpp"
#include "cs/signaling/protocol.hpp"
#include "cs/signaling/server.hpp"
#include "cs/streaming/baseline.hpp"
#include "cs/streaming/encoder.hpp"
#include "cs/streaming/encoder_supervisor.hpp"
#include "cs/streaming/host_check.hpp"
#include "cs/streaming/recorder.hpp"
#include "cs/streaming/rtp_forward.hpp"
#include "cs/streaming/shared_media.hpp"
#include "cs/streaming/sound_track.hpp"
#include "cs/streaming/video_pipeline.hpp"
#include "cs/streaming/viewer_hub.hpp"
#include "cs/whep/whep_sessions.hpp"
#include "main_loop_inbox.hpp"
#include "observability.hpp"
#include "stats_report.hpp"

namespace cs::web {
const cs::EmbeddedFiles& files();
}

namespace cs::app {
namespace {

constexpr int kExitConfig = 2;
constexpr int kExitFailure = 1;

// The hub's replies, to each viewer over its transport: SPEC.md messages on
// its WebSocket, or the WHEP session's HTTP replies.
class TransportOutbox final : public streaming::ViewerOutbox {
 public:
  explicit TransportOutbox(whep::WhepSessions& whep) : whep_(whep) {}
  void attach(signaling::Server* server) { server_ = server; }
  void send_answer(streaming::ViewerId id, const std::string& sdp) override {
    if (whep_.owns(id)) return whep_.send_answer(id, sdp);
    send(id, signaling::answer_json(sdp));
  }
  void send_candidate(streaming::ViewerId id, unsigned mline, const std::string& c) override {
    if (whep_.owns(id)) return whep_.send_candidate(id, mline, c);
    send(id, signaling::ice_json(c, mline));
  }
  void send_error(streaming::ViewerId id, const std::string& message) override {
    if (whep_.owns(id)) return whep_.send_error(id, message);
    send(id, signaling::error_json(message));
  }
  void send_refusal(streaming::ViewerId id, Refusal reason, const std::string& message) override {
    if (whep_.owns(id)) return whep_.send_refusal(id, reason, message);
    send(id, signaling::error_json(message));
  }
  void send_rendition(streaming::ViewerId id, const streaming::RenditionInfo& r) override {
    if (whep_.owns(id)) return;
    send(id, signaling::rendition_json({std::string(to_string(r.codec)), r.rung, r.rungs, r.kbps,
                                        r.width, r.height, r.fps}));
  }
  void gathering_done(streaming::ViewerId id) override {
    if (whep_.owns(id)) whep_.gathering_done(id);
  }
  void close(streaming::ViewerId id) override {
    if (whep_.owns(id)) return whep_.close(id);
    if (server_) server_->close(id);
  }

 private:
  void send(streaming::ViewerId id, std::string text) {
    if (server_) server_->send(id, std::move(text));
  }
  whep::WhepSessions& whep_;
  signaling::Server* server_ = nullptr;
};

void dispatch(streaming::ViewerHub& hub, TransportOutbox& outbox, signaling::Inbound& in) {
  using Kind = signaling::Inbound::Kind;
  switch (in.kind) {
    case Kind::opened:
      hub.on_connected(in.id, in.remote);
      return;
    case Kind::closed:
      hub.on_disconnected(in.id);
      return;
    case Kind::message:
      break;
  }
  auto parsed = signaling::parse_client_message(in.text);
  if (!parsed.message) {
    log::debug(hub.who(in.id), "refused message: ", parsed.error);
    outbox.send_error(in.id, parsed.error);
    return;
  }
  if (auto* offer = std::get_if<signaling::OfferMessage>(&*parsed.message))
    hub.on_offer(in.id, offer->sdp, {offer->rung, offer->lip_sync});
  else if (auto* ice = std::get_if<signaling::IceMessage>(&*parsed.message))
    hub.on_candidate(in.id, ice->sdp_mline_index, ice->candidate);
}

struct BusContext {
  streaming::ViewerHub* hub;
  streaming::EncoderSupervisor* encoder;                          // shared design only
  streaming::Recorder* recorder;                                  // when CS_RECORD_PATH is set
  std::vector<std::unique_ptr<streaming::RtpForward>>* forwards;  // CS_FORWARD_RTP
  std::function<void()> forward_stopped;                          // rendering may stop with it
  streaming::SoundTrack* sound;                                   // CS_AUDIO
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
        !(ctx->encoder && ctx->encoder->on_error(GST_MESSAGE_SRC(message), text)) &&
        !(ctx->recorder && ctx->recorder->on_error(GST_MESSAGE_SRC(message), text)) &&
        !std::any_of(ctx->forwards->begin(), ctx->forwards->end(), [&](auto& forward) {
          if (!forward->on_error(GST_MESSAGE_SRC(message), text)) return false;
          ctx->forward_stopped();
          return true;
        })) {
      if (ctx->sound && ctx->sound->owns(GST_MESSAGE_SRC(message))) {
        // Video matters more: the viewers keep it, without sound from now on.
        log::error("sound: ", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), ": ", text,
                   "; the stream goes on without sound");
        ctx->sound->stop();
      } else if (streaming::is_rendition_element(GST_MESSAGE_SRC(message))) {
        // Its viewers were dropped with its first error; the rest is echo.
        log::warn("pipeline: ", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), ": ", text,
                  " (a rendition no viewer uses)");
      } else {
        log::error("pipeline: ", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), ": ", text);
        *ctx->exit_code = kExitFailure;
        g_main_loop_quit(ctx->loop);
      }
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

streaming::IceServers ice_servers(const Config& config) {
  streaming::IceServers servers;
  servers.stun = config.stun_server;
  servers.turn = config.turn_servers;
  servers.turn_user = config.turn_user;
  servers.turn_pass = config.turn_pass;
  servers.turn_secret = config.turn_secret;
  servers.credential_ttl_s = config.turn_credential_ttl_s;
  return servers;
}

// The page's (and a WHEP player's) half of the ICE servers: the same
// relays, and with a REST secret credentials minted for this request that
// expire.
signaling::IceServerList browser_ice_servers(const streaming::IceServers& servers,
                                             const std::string& peer) {
  signaling::IceServerList list;
  if (!servers.stun.empty()) list.stun_url = streaming::browser_ice_url(servers.stun);
  for (const auto& turn : servers.turn) list.turn_urls.push_back(streaming::browser_ice_url(turn));
  if (!servers.turn.empty()) {
    const auto credentials =
        servers.credentials_for("viewer@" + peer, g_get_real_time() / G_USEC_PER_SEC);
    list.username = credentials.user;
    list.credential = credentials.password;
  }
  return list;
}

streaming::IceSettings ice_settings(const Config& config) {
  streaming::IceSettings ice;
  ice.servers = ice_servers(config);
  ice.ice_addresses = config.ice_addresses;
  ice.port_min = config.ice_port_min;
  ice.port_max = config.ice_port_max;
  ice.upnp = config.ice_upnp;
  return ice;
}

enum class Design { shared_encoder, baseline_per_viewer };

// Everything that makes and carries frames, in one of the two designs.
struct Media {
  std::unique_ptr<streaming::VideoPipeline> pipeline;  // shared design
  std::unique_ptr<streaming::BaselineFanout> fanout;   // baseline design
  std::unique_ptr<streaming::MediaSource> source;
  // CS_AUDIO (shared design): the render thread tells `sound` of each
  // frame; `sound_track` paces, encodes and hands it to the viewers.
  std::unique_ptr<audio::SceneSound> sound;
  std::unique_ptr<streaming::SoundTrack> sound_track;
  const streaming::PipelineTimes* times = nullptr;
  render::FrameTarget* target = nullptr;
  render::PixelFormat format = render::PixelFormat::nv12;
};

std::string make_media(Design design, const Config& config,
                       const streaming::EncoderSettings& settings, const std::string& encoder,
                       std::function<void(GstObject*, const std::string&)> on_error, Media& media) {
  const streaming::IceSettings ice = ice_settings(config);
  if (design == Design::baseline_per_viewer) {
    media.format = render::PixelFormat::rgba;
    media.fanout = std::make_unique<streaming::BaselineFanout>();
    auto source = std::make_unique<streaming::BaselineMediaSource>(settings, ice, *media.fanout,
                                                                   std::move(on_error));
    media.times = &source->times();
    media.source = std::move(source);
    media.target = media.fanout.get();
    if (config.audio) log::warn("sound: CS_AUDIO is not part of the --baseline design; no sound");
    return {};
  }
  auto built = streaming::VideoPipeline::create({settings, encoder, config.ladder, media.format});
  if (!built.pipeline) return built.error;
  media.pipeline = std::move(built.pipeline);
  media.times = &media.pipeline->times();
  media.target = media.pipeline.get();
  const streaming::RecoverySettings recovery{
      .nack = config.nack,
      .rtx_copies = static_cast<unsigned>(config.rtx_copies),
      .fec_percent = static_cast<unsigned>(config.fec_percent)};
  if (config.audio) {
    media.sound = std::make_unique<audio::SceneSound>();
    auto track = streaming::SoundTrack::create(
        media.pipeline->pipeline(),
        [sound = media.sound.get()](std::int64_t start_ns, std::span<std::int16_t> samples) {
          sound->synthesize(start_ns, samples);
        });
    // Without its sound the stream is still worth watching: video only.
    if (track.track) {
      media.sound_track = std::move(track.track);
    } else {
      log::warn("sound (CS_AUDIO=1) off: ", track.error, "; viewers get video only");
      media.sound.reset();
    }
  }
  media.source = std::make_unique<streaming::SharedMediaSource>(*media.pipeline, ice, recovery,
                                                                media.sound_track.get());
  return {};
}

int run(const Config& config, Design design) {
  const streaming::EncoderSettings encoder_settings = streaming::encoder_settings(config);
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
      {{config.width, config.height, config.timecode, media.format, config.read_back},
       config.fps,
       config.render_device,
       config.spin_speed},
      *media.target, [&fatal](const std::string& why) { fatal.push("renderer: " + why); });
  if (auto error = renderer.wait_ready(); !error.empty()) {
    log::error("renderer: ", error);
    return kExitFailure;
  }
  renderer.listen(media.sound.get());
  if (media.pipeline) {
    if (auto error = media.pipeline->start(); !error.empty()) {
      log::error("pipeline: ", error);
      return kExitFailure;
    }
  }
  if (media.sound_track) {
    media.sound_track->start();
    log::info("sound: Opus ", streaming::SoundTrack::kBitrate / 1000, " kbit/s, ",
              streaming::SoundTrack::kFrameMs, " ms frames, to viewers whose offer has audio");
  }

  RefusalCounts refusals;                         // /metrics, by reason
  signaling::Server* signaling_server = nullptr;  // once started
  whep::WhepSettings whep_settings;
  whep_settings.new_viewer_id = [&signaling_server] { return signaling_server->reserve_id(); };
  whep_settings.ice_servers = [servers = ice_servers(config)](const std::string& peer) {
    return browser_ice_servers(servers, peer);
  };
  whep_settings.refusals = &refusals;
  whep::WhepSessions whep_sessions(whep_settings);
  TransportOutbox outbox(whep_sessions);
  std::atomic<bool> rendering_expected{false};  // /healthz
  streaming::HubSettings hub_settings;
  hub_settings.refusals = &refusals;
  hub_settings.max_viewers = config.max_viewers;
  // The seed baseline encodes H.264 only, at one bitrate.
  if (media.pipeline) {
    hub_settings.codecs = config.codecs;
    hub_settings.rungs = media.pipeline->rungs();
  }
  hub_settings.negotiation_timeout_s = config.negotiation_timeout_s;
  hub_settings.max_waiting_sockets = std::max(64, 2 * config.max_viewers);
  hub_settings.public_ip = config.ice_public_ip;
  for (const auto& server : config.turn_servers)
    hub_settings.turn_relays.push_back(streaming::ice_server_display(server));
  if (config.ice_port_min > 0)
    hub_settings.port_range =
        std::to_string(config.ice_port_min) + "-" + std::to_string(config.ice_port_max);
  hub_settings.control = config.control;
  hub_settings.steer = [&renderer](const render::SceneInput& input) { renderer.steer(input); };
  // Rendering runs while anyone watches, a recording is being written or a
  // forward sends the stream on: the server's own viewers are one user of
  // the frames among others.
  std::unique_ptr<streaming::Recorder> recorder;
  std::vector<std::unique_ptr<streaming::RtpForward>> forwards;
  streaming::ForwardCounters forward_counters;
  auto other_users = [&recorder, &forwards] {
    std::string users;
    if (recorder && recorder->recording()) users = "recording";
    if (std::any_of(forwards.begin(), forwards.end(), [](auto& f) { return f->forwarding(); }))
      users += users.empty() ? "forwarding" : " and forwarding";
    return users;
  };
  bool viewers_active = false;
  auto update_rendering = [&] {
    const std::string others = other_users();
    rendering_expected.store(viewers_active || !others.empty());
    if (media.sound_track) media.sound_track->set_active(viewers_active || !others.empty());
    if (viewers_active || !others.empty())
      renderer.resume();
    else
      renderer.pause();
  };
  streaming::ViewerHub hub(hub_settings, *media.source, outbox, [&](bool active) {
    viewers_active = active;
    if (!active && !other_users().empty())
      log::info(other_users(), ": rendering goes on without viewers");
    update_rendering();
  });
  hub_for_errors = &hub;
  whep_sessions.attach(&hub);
  if (media.pipeline && !config.record_path.empty()) {
    auto started =
        streaming::Recorder::start(*media.pipeline, {config.record_path, config.record_segment_s},
                                   [&update_rendering] {  // the recording stopped
                                     update_rendering();
                                   });
    if (started.recorder)
      recorder = std::move(started.recorder);
    else
      log::error("recording: not started (", started.error, "); streaming goes on");
  } else if (!config.record_path.empty()) {
    log::warn("recording: CS_RECORD_PATH is ignored by --baseline");
  }
  for (const auto& target : config.forward_rtp) {
    if (!media.pipeline) {
      log::warn("forward: CS_FORWARD_RTP is ignored by --baseline");
      break;
    }
    auto started = streaming::RtpForward::start(*media.pipeline, target, &forward_counters);
    if (started.forward)
      forwards.push_back(std::move(started.forward));
    else
      log::error("forward: to ", target.host, ":", target.port, " not started (", started.error,
                 "); streaming goes on");
  }
  update_rendering();

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
  BusContext bus_context{&hub,
                         encoder_supervisor.get(),
                         recorder.get(),
                         &forwards,
                         update_rendering,
                         media.sound_track.get(),
                         loop,
                         &exit_code};
  guint bus_watch = 0;
  streaming::GRef<GstBus> bus;
  if (media.pipeline) {
    bus = streaming::GRef<GstBus>::adopt(gst_element_get_bus(media.pipeline->pipeline()));
    bus_watch = gst_bus_add_watch(bus.get(), on_bus_message, &bus_context);
  }

  MainLoopInbox<signaling::Inbound> inbox(
      [&](signaling::Inbound& in) { dispatch(hub, outbox, in); });
  MainLoopInbox<std::function<void()>> whep_inbox([](std::function<void()>& call) { call(); });
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
  server_settings.refusals = &refusals;
  // Every HTTP endpoint, one line each (the page's files and /ws are the server's own).
  server_settings.endpoints.push_back(
      {"GET", "/stats", signaling::answer_with([&stats](const signaling::HttpRequest&) {
         return signaling::HttpResponse{200, "application/json", stats_json(stats), {}};
       })});
  Observability observability(
      {&renderer.stage_times(), media.times, &hub.published_viewer_count(), &rendering_expected,
       [&media, encoder] { return media.pipeline ? media.pipeline->encoder_in_use() : encoder; },
       &refusals, &forward_counters, media.sound_track ? &media.sound_track->times() : nullptr});
  for (auto& endpoint : observability.endpoints()) server_settings.endpoints.push_back(endpoint);
  server_settings.endpoints.push_back(
      {"GET", "/ice-servers",
       signaling::answer_with([servers = ice_servers(config)](const signaling::HttpRequest& r) {
         return signaling::HttpResponse{
             200,
             "application/json",
             signaling::ice_servers_json(browser_ice_servers(servers, r.peer)),
             {}};
       })});
  for (auto& endpoint : whep_sessions.endpoints(
           [&whep_inbox](std::function<void()> call) { whep_inbox.push(std::move(call)); }))
    server_settings.endpoints.push_back(std::move(endpoint));
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
  signaling_server = server.server.get();

  g_unix_signal_add(SIGINT, on_stop_signal, loop);
  g_unix_signal_add(SIGTERM, on_stop_signal, loop);
  log::info("cube-streamer ready: ", config.width, "x", config.height, "@", config.fps, " ",
            config.bitrate_kbps, " kbit/s, up to ", config.max_viewers, " viewers",
            design == Design::baseline_per_viewer ? " (baseline: one pipeline per viewer)" : "");
  g_main_loop_run(loop);

  // The file's last fragment and index, while the encoder still runs.
  if (recorder) recorder->stop("server stopping");
  for (auto& forward : forwards) forward->stop("server stopping");
  hub.close_all();
  whep_sessions.close_all();
  renderer.pause();
  server.server.reset();  // joins the lws thread
  outbox.attach(nullptr);
  if (bus_watch) g_source_remove(bus_watch);
  if (media.sound_track) media.sound_track->stop();
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
  const auto command_line = parse_command_line(argc, argv, {"--baseline", "--check", "--version"});
  auto has_flag = [&command_line](const char* flag) {
    return std::find(command_line.other_flags.begin(), command_line.other_flags.end(), flag) !=
           command_line.other_flags.end();
  };
  if (command_line.help) {
    std::fputs(config_help().c_str(), stdout);
    return 0;
  }
  if (has_flag("--version")) {
    std::printf("%s\n", build::version_line(streaming::gstreamer_version()).c_str());
    return 0;
  }
  const EnvLookup environment = environment_with(command_line);
  // A configuration error is logged in the format asked for, when it can be.
  if (environment("CS_LOG_FORMAT") == "json") log::set_format(log::Format::json);
  if (!command_line.error.empty()) {
    log::error("configuration: ", command_line.error);
    return app::kExitConfig;
  }
  const auto parsed = parse_config(environment);
  if (!parsed.config) {
    log::error("configuration: ", parsed.error);
    return app::kExitConfig;
  }
  log::set_level(parsed.config->log_level);
  log::set_format(parsed.config->log_format);
  // GST_DEBUG and the other GST_ variables are GStreamer's own: gst_init
  // reads them, and nothing here overrides them.
  gst_init(nullptr, nullptr);
  if (has_flag("--check")) return app::run_check(*parsed.config);
  return app::run(*parsed.config, has_flag("--baseline") ? app::Design::baseline_per_viewer
                                                         : app::Design::shared_encoder);
}
