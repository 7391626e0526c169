#include "cs/streaming/viewer_hub.hpp"

#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <sstream>

#include "cs/control/control_protocol.hpp"
#include "cs/faults.hpp"
#include "cs/log.hpp"
#include "cs/streaming/control_channel.hpp"
#include "cs/streaming/peer_liveness.hpp"
#include "cs/timecode.hpp"
#include "cs/token_bucket.hpp"

namespace cs::streaming {

struct ViewerHub::Viewer {
  Negotiation negotiation;
  std::unique_ptr<ViewerMedia> media;
  std::unique_ptr<PeerLiveness> liveness;  // from connected on; before media goes
  guint timeout_source = 0;
  guint host_candidates_check = 0;  // after the answer: were any gathered?
  std::vector<gulong> signal_handlers;
  std::uint64_t number = 0;    // 1 for the first viewer that sent an offer
  std::string remote;          // the client's address, for log lines
  int sender_polls = 0;        // waits for sender_ready() before answering
  bool gathered_host = false;  // local candidates seen, by type
  bool gathered_relay = false;
  // The control data channel, once the viewer opened one; its messages'
  // rate, and when the last "too many" error went out.
  std::shared_ptr<ControlChannel> control;
  std::optional<TokenBucket> control_rate;
  std::int64_t control_refused_ns = 0;

  ~Viewer() {
    control.reset();
    liveness.reset();
    if (timeout_source) g_source_remove(timeout_source);
    if (host_candidates_check) g_source_remove(host_candidates_check);
    if (media)
      for (gulong h : signal_handlers) g_signal_handler_disconnect(media->webrtcbin(), h);
  }
};

namespace {

// How long an answer waits for the payloader's caps (sender_ready), polled.
constexpr guint kSenderPollMs = 20;
constexpr int kSenderPolls = 125;  // 2.5 s: beyond one keyframe interval
// From the answer to the first host candidate: milliseconds when a port is
// free; generous for a loaded machine.
constexpr guint kHostCandidatesDueS = 3;
// Control messages a viewer may send: a drag sends one per animation frame
// (60 a second, 120 on fast screens); a burst covers a stalled tab catching up.
constexpr double kControlPerSecond = 120;
constexpr double kControlBurst = 240;
constexpr std::int64_t kControlRefusalEveryNs = 1'000'000'000;

// Carries (hub, viewer id) from another thread to the main loop.
struct Ticket {
  ViewerHub* hub;
  ViewerId id;
};

void delete_ticket(gpointer data, GClosure*) {
  delete static_cast<Ticket*>(data);
}

// Runs `fn` on the default main context, always deferred.
void post_to_main(std::function<void()> fn) {
  auto* heap = new std::function<void()>(std::move(fn));
  GSource* source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        (*static_cast<std::function<void()>*>(data))();
        return G_SOURCE_REMOVE;
      },
      heap, [](gpointer data) { delete static_cast<std::function<void()>*>(data); });
  g_source_attach(source, nullptr);
  g_source_unref(source);
}

const char* connection_state_name(int state) {
  switch (state) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_NEW:
      return "new";
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTING:
      return "connecting";
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
      return "connected";
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
      return "disconnected";
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
      return "failed";
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
      return "closed";
  }
  return "?";
}

}  // namespace

ViewerHub::ViewerHub(const HubSettings& settings, MediaSource& media, ViewerOutbox& outbox,
                     std::function<void(bool)> on_activity)
    : settings_(settings),
      media_(media),
      outbox_(outbox),
      on_activity_(std::move(on_activity)),
      steering_(settings.control) {
  liveness_timer_ = g_timeout_add(
      500,
      [](gpointer hub) -> gboolean {
        static_cast<ViewerHub*>(hub)->remove_silent_viewers();
        return G_SOURCE_CONTINUE;
      },
      this);
}

ViewerHub::~ViewerHub() {
  if (liveness_timer_) g_source_remove(liveness_timer_);
  close_all();
}

void ViewerHub::remove_silent_viewers() {
  const std::int64_t floor_ns = std::int64_t{settings_.peer_silence_timeout_s} * 1000000000;
  std::vector<std::pair<ViewerId, double>> silent;
  for (const auto& [id, viewer] : viewers_) {
    if (!viewer->liveness) continue;
    const std::int64_t limit_ns = std::max(floor_ns, 2 * viewer->liveness->longest_gap_ns());
    const std::int64_t silent_ns = viewer->liveness->silent_ns();
    if (silent_ns > limit_ns) silent.emplace_back(id, static_cast<double>(silent_ns) / 1e9);
  }
  for (const auto& [id, seconds] : silent) {
    std::ostringstream why;
    why.precision(1);
    why << std::fixed << "nothing from the viewer's media transport (no RTCP) for " << seconds
        << " s";
    refuse(id, Refusal::connection_failed, "no RTCP from you: your stream was stopped", why.str());
  }
}

log::Viewer ViewerHub::who(ViewerId id) const {
  auto it = viewers_.find(id);
  return {id, it == viewers_.end() ? std::string_view() : std::string_view(it->second->remote)};
}

ViewerHub::Viewer* ViewerHub::find(ViewerId id) {
  auto it = viewers_.find(id);
  return it == viewers_.end() ? nullptr : it->second.get();
}

std::size_t ViewerHub::connected_count() const {
  std::size_t n = 0;
  for (const auto& [id, v] : viewers_)
    if (v->negotiation.state() == Negotiation::State::connected) ++n;
  return n;
}

// Called after every viewer added or removed, whatever removed it.
void ViewerHub::update_activity() {
  const std::size_t viewers = viewer_count();
  published_count_.store(static_cast<int>(viewers));
  const bool active = viewers > 0;
  if (active == active_) return;
  active_ = active;
  log::info(active ? "first viewer: rendering starts" : "no viewer left: rendering stops");
  if (on_activity_) on_activity_(active);
}

namespace {

// A socket becomes a viewer, and takes a slot, with its first offer.
bool holds_slot(const Negotiation& n) {
  return n.state() != Negotiation::State::awaiting_offer;
}

}  // namespace

std::size_t ViewerHub::viewer_count() const {
  std::size_t n = 0;
  for (const auto& [id, v] : viewers_)
    if (holds_slot(v->negotiation)) ++n;
  return n;
}

void ViewerHub::on_connected(ViewerId id, const std::string& remote) {
  const std::size_t waiting = viewers_.size() - viewer_count();
  if (waiting >= static_cast<std::size_t>(settings_.max_waiting_sockets)) {
    log::warn(log::Viewer{id, remote}, "refused, already ", waiting, " sockets waiting to offer");
    if (settings_.refusals) settings_.refusals->add(Refusal::too_many_waiting);
    outbox_.send_refusal(id, Refusal::too_many_waiting,
                         "server busy: too many connections waiting to offer");
    outbox_.close(id);
    return;
  }
  auto viewer = std::make_unique<Viewer>();
  viewer->remote = remote;
  auto* ticket = new Ticket{this, id};
  viewer->timeout_source = g_timeout_add_seconds_full(
      G_PRIORITY_DEFAULT, static_cast<guint>(settings_.negotiation_timeout_s),
      [](gpointer data) -> gboolean {
        auto* t = static_cast<Ticket*>(data);
        t->hub->on_negotiation_timeout(t->id);
        return G_SOURCE_REMOVE;
      },
      ticket, [](gpointer data) { delete static_cast<Ticket*>(data); });
  viewers_.emplace(id, std::move(viewer));
  log::debug(who(id), "socket open, waiting for its offer");
}

void ViewerHub::on_negotiation_timeout(ViewerId id) {
  Viewer* viewer = find(id);
  if (!viewer) return;
  viewer->timeout_source = 0;
  if (viewer->negotiation.state() == Negotiation::State::connected) return;
  const std::string limit = std::to_string(settings_.negotiation_timeout_s) + " s";
  if (viewer->negotiation.state() == Negotiation::State::awaiting_offer) {
    log::warn(who(id), "no offer within ", limit, " (CS_NEGOTIATION_TIMEOUT); closing");
    refuse(id, Refusal::negotiation_timeout, "negotiation timed out: no offer within " + limit,
           "no offer within " + limit);
  } else
    refuse(id, Refusal::negotiation_timeout,
           "negotiation timed out: media not connected within " + limit,
           std::string("negotiation timed out (") + to_string(viewer->negotiation.state()) +
               " after " + limit + ")");
}

void ViewerHub::refuse(ViewerId id, Refusal reason, const std::string& message,
                       const std::string& why) {
  if (settings_.refusals) settings_.refusals->add(reason);
  outbox_.send_refusal(id, reason, message);
  remove(id, why);
  outbox_.close(id);
}

void ViewerHub::on_offer(ViewerId id, const std::string& sdp, const OfferChoices& choices) {
  const std::optional<int> rung = choices.rung;
  Viewer* viewer = find(id);
  if (!viewer) return;
  if (!holds_slot(viewer->negotiation)) {
    const std::size_t viewers = viewer_count();
    if (viewers >= static_cast<std::size_t>(settings_.max_viewers)) {
      log::warn(who(id), "refused, already ", viewers, " viewers (CS_MAX_VIEWERS)");
      refuse(id, Refusal::server_full,
             "server full: " + std::to_string(settings_.max_viewers) + " viewers", "server full");
      return;
    }
  }
  if (auto refused = viewer->negotiation.on_offer()) {
    outbox_.send_error(id, *refused);
    return;
  }
  log::info(who(id), "offer received (", viewer_count(), " viewers now)");
  update_activity();
  OfferAnalysis offer = analyse_offer(sdp, settings_.codecs);
  if (!offer.summary) {
    log::warn(who(id), offer.error);
    refuse(id, Refusal::bad_offer, offer.error, "unusable offer");
    return;
  }
  if (rung && (*rung < 0 || *rung >= settings_.rungs)) {
    const std::string message = "offer asks for rung " + std::to_string(*rung) +
                                ": the ladder has " + std::to_string(settings_.rungs) +
                                " (0 = top, up to " + std::to_string(settings_.rungs - 1) + ")";
    log::warn(who(id), message);
    refuse(id, Refusal::bad_offer, message, "no such rung");
    return;
  }
  if (choices.lip_sync) {
    offer.summary->playout_delay_ext_id = -1;
    log::info(who(id), "lip sync: the video goes without the zero playout delay");
  }
  std::string error;
  viewer->number = next_name_ + 1;
  ViewerOptions options;
  options.rung = rung;
  options.on_rendition = [this, id](const RenditionInfo& info) {
    log::info(who(id), "now receives ", to_string(info.codec), " rung ", info.rung, " (", info.kbps,
              " kbit/s, ", info.width, "x", info.height, ")");
    outbox_.send_rendition(id, info);
  };
  viewer->media =
      media_.add_viewer("viewer-" + std::to_string(next_name_++), *offer.summary, options, error);
  if (!viewer->media) {
    log::error(who(id), error.empty() ? "branch failed to start" : error);
    refuse(id, Refusal::stream_failed, "server could not set up the stream", "branch failed");
    return;
  }
  connect_signals(id, *viewer);
  log::debug(who(id), "offer uses ", to_string(offer.summary->codec), " pt ",
             offer.summary->payload_type, " (", offer.summary->profile_level_id, ")",
             offer.summary->opus_payload_type >= 0
                 ? ", Opus pt " + std::to_string(offer.summary->opus_payload_type)
                 : std::string(", no Opus"));

  GstWebRTCSessionDescription* description = nullptr;
  GstSDPMessage* message = nullptr;
  gst_sdp_message_new_from_text(sdp.c_str(), &message);  // analyse_offer proved it parses
  description = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, message);
  GstPromise* promise = gst_promise_new_with_change_func(
      [](GstPromise* p, gpointer data) {
        auto* t = static_cast<Ticket*>(data);
        const bool ok = gst_promise_get_reply(p) == nullptr ||
                        !gst_structure_has_field(gst_promise_get_reply(p), "error");
        ViewerHub* hub = t->hub;
        ViewerId vid = t->id;
        post_to_main([hub, vid, ok] {
          if (!ok) {
            hub->refuse(vid, Refusal::bad_offer, "the offer was not accepted",
                        "set-remote-description failed");
            return;
          }
          hub->on_remote_description_set(vid);
        });
      },
      new Ticket{this, id}, [](gpointer data) { delete static_cast<Ticket*>(data); });
  g_signal_emit_by_name(viewer->media->webrtcbin(), "set-remote-description", description, promise);
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(description);
}

void ViewerHub::on_remote_description_set(ViewerId id) {
  Viewer* viewer = find(id);
  if (!viewer || !viewer->media) return;
  if (!viewer->media->sender_ready() && viewer->sender_polls < kSenderPolls) {
    // A running encoder's next periodic keyframe brings the
    // payloader its SPS/PPS and caps within a frame or two.
    ++viewer->sender_polls;
    auto* ticket = new Ticket{this, id};
    g_timeout_add_full(
        G_PRIORITY_DEFAULT, kSenderPollMs,
        [](gpointer data) -> gboolean {
          auto* t = static_cast<Ticket*>(data);
          t->hub->on_remote_description_set(t->id);
          return G_SOURCE_REMOVE;
        },
        ticket, [](gpointer data) { delete static_cast<Ticket*>(data); });
    return;
  }
  if (viewer->sender_polls >= kSenderPolls)
    log::warn(who(id), "no media caps after ", kSenderPolls * kSenderPollMs,
              " ms; answering without the media SSRC");
  GstPromise* promise = gst_promise_new_with_change_func(
      [](GstPromise* p, gpointer data) {
        auto* t = static_cast<Ticket*>(data);
        GstWebRTCSessionDescription* answer = nullptr;
        const GstStructure* reply = gst_promise_get_reply(p);
        if (reply)
          gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
        ViewerHub* hub = t->hub;
        ViewerId vid = t->id;
        post_to_main([hub, vid, answer] { hub->on_answer_created(vid, answer); });
      },
      new Ticket{this, id}, [](gpointer data) { delete static_cast<Ticket*>(data); });
  g_signal_emit_by_name(viewer->media->webrtcbin(), "create-answer", nullptr, promise);
  gst_promise_unref(promise);
}

void ViewerHub::on_answer_created(ViewerId id, GstWebRTCSessionDescription* answer) {
  std::unique_ptr<GstWebRTCSessionDescription, void (*)(GstWebRTCSessionDescription*)> owned(
      answer, gst_webrtc_session_description_free);
  Viewer* viewer = find(id);
  if (!viewer || !viewer->media) return;
  if (!answer) {
    log::warn(who(id), "webrtcbin made no answer (codecs do not match?)");
    refuse(id, Refusal::bad_offer, "no answer could be made for this offer", "no answer");
    return;
  }
  g_signal_emit_by_name(viewer->media->webrtcbin(), "set-local-description", answer, nullptr);
  gchar* local = gst_sdp_message_as_text(answer->sdp);
  const std::string text = announce_host_addresses_in_sdp(local, settings_.public_ip);
  g_free(local);
  log::debug(who(id), "answer\n", text);
  outbox_.send_answer(id, text);
  if (auto rendition = viewer->media->rendition()) outbox_.send_rendition(id, *rendition);
  // libnice binds its host sockets when the answer is set, at once; with
  // every port of CS_ICE_PORT_RANGE taken it gathers nothing and its
  // gathering never completes, so the check is a deadline.
  viewer->host_candidates_check = g_timeout_add_seconds_full(
      G_PRIORITY_DEFAULT, kHostCandidatesDueS,
      [](gpointer data) -> gboolean {
        auto* t = static_cast<Ticket*>(data);
        t->hub->on_host_candidates_due(t->id);
        return G_SOURCE_REMOVE;
      },
      new Ticket{this, id}, [](gpointer data) { delete static_cast<Ticket*>(data); });
  for (const auto& held : viewer->negotiation.on_answer_sent()) apply_candidate(*viewer, held);
}

void ViewerHub::apply_candidate(Viewer& viewer, const RemoteCandidate& c) {
  g_signal_emit_by_name(viewer.media->webrtcbin(), "add-ice-candidate", c.mline_index,
                        c.candidate.empty() ? nullptr : c.candidate.c_str());
}

void ViewerHub::on_candidate(ViewerId id, unsigned mline_index, const std::string& candidate) {
  Viewer* viewer = find(id);
  if (!viewer) return;
  const auto decision = viewer->negotiation.on_remote_candidate({mline_index, candidate});
  using Action = Negotiation::CandidateDecision::Action;
  switch (decision.action) {
    case Action::apply:
      apply_candidate(*viewer, {mline_index, candidate});
      break;
    case Action::hold:
      break;
    case Action::drop:
      log::debug(who(id), "candidate dropped: ", decision.reason);
      break;
    case Action::reject:
      outbox_.send_error(id, "bad candidate: " + decision.reason);
      break;
  }
}

void ViewerHub::connect_signals(ViewerId id, Viewer& viewer) {
  GstElement* webrtcbin = viewer.media->webrtcbin();
  auto on_ice = +[](GstElement*, guint mline, gchar* candidate, gpointer data) {
    auto* t = static_cast<Ticket*>(data);
    ViewerHub* hub = t->hub;
    ViewerId vid = t->id;
    std::string text = candidate ? candidate : "";
    post_to_main([hub, vid, mline, text] { hub->on_local_candidate(vid, mline, text); });
  };
  auto on_state = +[](GstElement* element, GParamSpec*, gpointer data) {
    auto* t = static_cast<Ticket*>(data);
    GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
    g_object_get(element, "connection-state", &state, nullptr);
    ViewerHub* hub = t->hub;
    ViewerId vid = t->id;
    post_to_main([hub, vid, state] { hub->on_connection_state(vid, state); });
  };
  auto on_gathering = +[](GstElement* element, GParamSpec*, gpointer data) {
    auto* t = static_cast<Ticket*>(data);
    GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
    g_object_get(element, "ice-gathering-state", &state, nullptr);
    if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
    ViewerHub* hub = t->hub;
    ViewerId vid = t->id;
    post_to_main([hub, vid] { hub->on_gathering_done(vid); });
  };
  // The viewer's data channel: attached here, on webrtcbin's thread, so
  // that its first message finds its handler.
  auto on_channel = +[](GstElement*, GstWebRTCDataChannel* channel, gpointer data) {
    auto* t = static_cast<Ticket*>(data);
    ViewerHub* hub = t->hub;
    ViewerId vid = t->id;
    gchar* label = nullptr;
    g_object_get(channel, "label", &label, nullptr);
    const bool is_control = label && control::kChannelLabel == label;
    g_free(label);
    if (!is_control) return;  // not ours: it stays unanswered
    std::shared_ptr<ControlChannel> owned = ControlChannel::make(channel);
    post_to_main([hub, vid, owned] { hub->on_control_channel(vid, owned); });
    owned->listen([hub, vid](std::string text, bool binary) {
      post_to_main([hub, vid, text = std::move(text), binary] {
        hub->on_control_message(vid, text, binary);
      });
    });
  };
  viewer.signal_handlers.push_back(
      g_signal_connect_data(webrtcbin, "on-data-channel", G_CALLBACK(on_channel),
                            new Ticket{this, id}, delete_ticket, GConnectFlags(0)));
  viewer.signal_handlers.push_back(
      g_signal_connect_data(webrtcbin, "notify::ice-gathering-state", G_CALLBACK(on_gathering),
                            new Ticket{this, id}, delete_ticket, GConnectFlags(0)));
  viewer.signal_handlers.push_back(g_signal_connect_data(webrtcbin, "on-ice-candidate",
                                                         G_CALLBACK(on_ice), new Ticket{this, id},
                                                         delete_ticket, GConnectFlags(0)));
  viewer.signal_handlers.push_back(g_signal_connect_data(webrtcbin, "notify::connection-state",
                                                         G_CALLBACK(on_state), new Ticket{this, id},
                                                         delete_ticket, GConnectFlags(0)));
}

void ViewerHub::on_local_candidate(ViewerId id, unsigned mline_index,
                                   const std::string& candidate) {
  Viewer* viewer = find(id);
  if (!viewer) return;
  const std::string_view type = candidate_type(candidate);
  viewer->gathered_host |= type == "host";
  viewer->gathered_relay |= type == "relay";
  outbox_.send_candidate(id, mline_index, announce_host_address(candidate, settings_.public_ip));
}

// A port range with no port left gathers nothing, silently (TRAPS.md).
void ViewerHub::on_host_candidates_due(ViewerId id) {
  Viewer* viewer = find(id);
  if (!viewer) return;
  viewer->host_candidates_check = 0;
  if (viewer->gathered_host) return;
  const std::string why =
      settings_.port_range.empty()
          ? std::string("no ICE candidate could be gathered")
          : "no free ICE port: all of CS_ICE_PORT_RANGE=" + settings_.port_range + " are in use";
  log::warn(who(id), "refused, ", why);
  refuse(id, Refusal::no_ice_port, "server cannot take another viewer now: " + why, why);
}

// A TURN relay that refuses the credentials (401) or never answers gives
// no relay candidate, and libnice says so only at debug level (TRAPS.md).
void ViewerHub::on_gathering_done(ViewerId id) {
  Viewer* viewer = find(id);
  if (!viewer) return;
  outbox_.gathering_done(id);
  if (!settings_.turn_relays.empty() && !viewer->gathered_relay) {
    std::string relays;
    for (const auto& relay : settings_.turn_relays) relays += (relays.empty() ? "" : ", ") + relay;
    log::warn(who(id), "TURN relay ", relays,
              " gave no relay candidate (credentials refused, or relay unreachable)");
    outbox_.send_error(id, "the server's TURN relay " + relays +
                               " gave it no relay address (credentials refused, or relay "
                               "unreachable); only direct connections can work");
  }
}

void ViewerHub::on_connection_state(ViewerId id, int state) {
  Viewer* viewer = find(id);
  if (!viewer) return;
  log::info(who(id), "peer connection ", connection_state_name(state));
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    viewer->negotiation.on_connected();
    if (viewer->media && !viewer->liveness)
      viewer->liveness = std::make_unique<PeerLiveness>(viewer->media->webrtcbin());
    // Keyframes sent before DTLS is up are lost: ask for one now.
    if (viewer->media) viewer->media->on_connected();
    if (viewer->media &&
        faults::fire_once("branch-error", static_cast<std::int64_t>(viewer->number)))
      GST_ELEMENT_ERROR(viewer->media->webrtcbin(), STREAM, FAILED, ("injected branch error"),
                        ("CS_TEST_FAULTS=branch-error"));
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    viewer->negotiation.on_failed();
    refuse(id, Refusal::connection_failed, "peer connection failed", "peer connection failed");
  }
}

bool ViewerHub::on_element_error(GstObject* source, const std::string& message) {
  // Every viewer it concerns: its own branch, or a rendition it shares with
  // others (all of them go; the rendition with the last).
  std::vector<ViewerId> victims;
  for (auto& [id, viewer] : viewers_)
    if (viewer->media && viewer->media->owns(source)) victims.push_back(id);
  for (const ViewerId victim : victims)
    refuse(victim, Refusal::stream_failed, "stream error", "pipeline error: " + message);
  return !victims.empty();
}

void ViewerHub::on_disconnected(ViewerId id, const std::string& why) {
  remove(id, why);
}

void ViewerHub::remove(ViewerId id, const std::string& why) {
  auto it = viewers_.find(id);
  if (it == viewers_.end()) return;
  std::unique_ptr<Viewer> viewer = std::move(it->second);
  viewers_.erase(it);
  if (viewer->control) {
    viewer->control.reset();  // before its webrtcbin goes
    tell_steering(steering_.left(id));
  }
  viewer->liveness.reset();
  if (viewer->media) {
    for (gulong h : viewer->signal_handlers)
      g_signal_handler_disconnect(viewer->media->webrtcbin(), h);
    viewer->signal_handlers.clear();
    viewer->media.reset();
  }
  if (holds_slot(viewer->negotiation))
    log::info(log::Viewer{id, viewer->remote}, "removed (", why, "), ", viewer_count(), " left");
  else
    log::debug(log::Viewer{id, viewer->remote}, "socket gone before its offer (", why, ")");
  update_activity();
}

void ViewerHub::on_control_channel(ViewerId id, std::shared_ptr<ControlChannel> channel) {
  Viewer* viewer = find(id);
  if (!viewer || !viewer->media || viewer->control) return;
  viewer->control = std::move(channel);
  viewer->control_rate.emplace(kControlPerSecond, kControlBurst, g_get_monotonic_time() * 1000);
  log::debug(who(id), "control channel open");
  tell_steering(steering_.joined(id));
}

void ViewerHub::tell_steering(const std::vector<std::uint64_t>& changed) {
  for (const ViewerId id : changed)
    if (Viewer* viewer = find(id); viewer && viewer->control)
      send_control(id, *viewer,
                   control::control_state_json(steering_.may_steer(id), steering_.policy()));
}

void ViewerHub::send_control(ViewerId id, Viewer& viewer, const std::string& text) {
  std::string error;
  if (!viewer.control->send(text, error))
    log::debug(who(id), "control channel: cannot send (", error, ")");
}

// Bad input costs one error on the channel: the viewer's stream and every
// other viewer go on. A flood is dropped, with one error a second.
void ViewerHub::on_control_message(ViewerId id, const std::string& text, bool binary) {
  Viewer* viewer = find(id);
  if (!viewer || !viewer->control || !viewer->control_rate) return;
  const std::int64_t now_ns = g_get_monotonic_time() * 1000;
  if (!viewer->control_rate->take(now_ns)) {
    if (now_ns - viewer->control_refused_ns >= kControlRefusalEveryNs) {
      viewer->control_refused_ns = now_ns;
      log::warn(who(id), "control channel: too many messages, dropping");
      send_control(id, *viewer,
                   control::error_json("too many control messages (more than " +
                                       std::to_string(static_cast<int>(kControlPerSecond)) +
                                       " a second): dropped"));
    }
    return;
  }
  if (binary) {
    send_control(id, *viewer,
                 control::error_json("binary control messages are not accepted: send JSON text"));
    return;
  }
  control::Parsed parsed = control::parse_command(text);
  if (!parsed.command) {
    log::debug(who(id), "control channel: ", parsed.error);
    send_control(id, *viewer, control::error_json(parsed.error));
    return;
  }
  if (auto* steer = std::get_if<control::SteerCommand>(&*parsed.command)) {
    if (!steering_.may_steer(id) || !settings_.steer) {
      send_control(id, *viewer,
                   control::error_json(
                       settings_.control == ControlPolicy::first
                           ? "another viewer is steering (CS_CONTROL=first): you may when it leaves"
                           : "this server is view-only (CS_CONTROL=none)"));
      return;
    }
    if (!steer->stamped) steer->input.stamp_ms = timecode::wall_clock_ms();
    settings_.steer(steer->input);
  } else if (std::holds_alternative<control::KeyframeCommand>(*parsed.command)) {
    if (viewer->media) viewer->media->request_keyframe();
  } else if (auto* quality = std::get_if<control::QualityCommand>(&*parsed.command)) {
    const std::string refused = viewer->media ? viewer->media->step_rung(quality->step) : "";
    if (!refused.empty()) send_control(id, *viewer, control::error_json(refused));
  }
}

void ViewerHub::close_all() {
  while (!viewers_.empty()) {
    const ViewerId id = viewers_.begin()->first;
    remove(id, "server stopping");
    outbox_.close(id);
  }
}

}  // namespace cs::streaming
