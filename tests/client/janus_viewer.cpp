#include "janus_viewer.hpp"

#include "log.hpp"

namespace cstest {

using nlohmann::json;

namespace {
// Janus ends a session after 60 s without a request (session_timeout).
constexpr guint kKeepaliveS = 25;

// GStreamer's DTLS elements make one certificate per process, the first time
// one is created: hundreds of ms of RSA key generation (734 ms seen here
// under load) that would otherwise sit between Janus' offer and our answer.
// A browser has its certificate before anyone clicks play, so it is made
// here, before the viewer's clock starts.
void make_dtls_certificate_once() {
  static const bool made = [] {
    if (GstElement* dtls = gst_element_factory_make("dtlsdec", nullptr)) {
      gst_object_unref(gst_object_ref_sink(dtls));
      return true;
    }
    return false;
  }();
  (void)made;
}
}  // namespace

JanusViewer::JanusViewer(int id, const Options& options) : id_(id), options_(options) {
  make_dtls_certificate_once();
}

JanusViewer::~JanusViewer() {
  http_.cancel();
}

std::string JanusViewer::session_url() const {
  return options_.janus_url + "/" + std::to_string(session_);
}

std::string JanusViewer::handle_url() const {
  return session_url() + "/" + std::to_string(handle_);
}

void JanusViewer::fail(const std::string& why) {
  if (stopping_) return;
  log_info(id_, "janus: " + why);
  stats_.add_error("janus: " + why);
  failed_ = true;
}

// A Janus API request: a JSON body with a fresh transaction; `on_json` gets
// the reply (an "error" reply, or no reply, fails the viewer).
void JanusViewer::post(const std::string& url, json body,
                       std::function<void(const json&)> on_json) {
  // Appended, not "t" + ...: g++ 12 -O3 warns (-Wrestrict) on that operator+.
  std::string transaction = "t";
  transaction += std::to_string(++transactions_);
  body["transaction"] = transaction;
  const std::string what = body.value("janus", std::string("?"));
  http_.request(
      "POST", url, "application/json", body.dump(),
      [this, what, on_json = std::move(on_json)](const HttpReply& reply) {
        if (reply.status != 200) {
          fail(what + ": " + (reply.status ? "HTTP " + std::to_string(reply.status) : reply.error));
          return;
        }
        json doc = json::parse(reply.body, nullptr, false);
        if (!doc.is_object() || doc.value("janus", std::string()) == "error") {
          fail(what + ": " + reply.body.substr(0, 300));
          return;
        }
        if (on_json) on_json(doc);
      });
}

void JanusViewer::start() {
  start_ms_ = steady_ms();
  stats_.mark_start();
  closed_ = false;
  log_info(id_, "janus: creating a session at " + options_.janus_url);
  post(options_.janus_url, {{"janus", "create"}}, [this](const json& doc) {
    const auto data = doc.find("data");
    if (data == doc.end() || !data->is_object() || !data->contains("id") ||
        !(*data)["id"].is_number_unsigned()) {
      fail("create: no session id in " + doc.dump());
      return;
    }
    on_session((*data)["id"].get<std::uint64_t>());
  });
}

void JanusViewer::on_session(std::uint64_t session) {
  session_ = session;
  poll();
  keepalive_.reset(g_timeout_add_seconds(
      kKeepaliveS,
      [](gpointer self) -> gboolean {
        auto* v = static_cast<JanusViewer*>(self);
        v->post(v->session_url(), {{"janus", "keepalive"}}, nullptr);
        return G_SOURCE_CONTINUE;
      },
      this));
  post(session_url(), {{"janus", "attach"}, {"plugin", "janus.plugin.streaming"}},
       [this](const json& doc) {
         const auto data = doc.find("data");
         if (data == doc.end() || !data->is_object() || !data->contains("id") ||
             !(*data)["id"].is_number_unsigned()) {
           fail("attach: no handle id in " + doc.dump());
           return;
         }
         on_handle((*data)["id"].get<std::uint64_t>());
       });
}

void JanusViewer::on_handle(std::uint64_t handle) {
  handle_ = handle;
  auto mode = options_.decode ? PeerMode::Decode : PeerMode::NoDecode;
  peer_ = std::make_unique<Peer>(
      id_, mode, stats_,
      Peer::Callbacks{
          .on_offer = nullptr,
          .on_candidate = [this](guint m, const std::string& c) { on_local_candidate(m, c); }},
      PeerIce{options_.stun_server, options_.turn_servers, options_.relay_only});
  peer_->set_answerer();
  peer_->set_on_answer([this](const std::string& sdp) { on_answer(sdp); });
  if (!peer_->start()) {
    fail("the peer did not start");
    return;
  }
  log_info(id_, "janus: watching mountpoint " + std::to_string(options_.janus_mountpoint));
  post(handle_url(),
       {{"janus", "message"}, {"body", {{"request", "watch"}, {"id", options_.janus_mountpoint}}}},
       nullptr);
}

// One long-poll at a time: Janus answers with the next event, or a
// keepalive after 30 s.
void JanusViewer::poll() {
  if (stopping_ || failed_) return;
  ++polls_;
  http_.request("GET", session_url() + "?maxev=1", "", "", [this](const HttpReply& reply) {
    if (reply.status != 200) {
      fail("long-poll: " + (reply.status ? "HTTP " + std::to_string(reply.status) : reply.error));
      return;
    }
    json doc = json::parse(reply.body, nullptr, false);
    if (doc.is_array()) {
      for (const auto& event : doc) on_event(event);
    } else if (doc.is_object()) {
      on_event(doc);
    } else {
      fail("long-poll: not JSON: " + reply.body.substr(0, 200));
      return;
    }
    poll();
  });
}

void JanusViewer::on_event(const json& event) {
  if (!event.is_object()) return;
  const std::string kind = event.value("janus", std::string());
  if (kind == "keepalive" || kind == "ack" || kind == "media" || kind == "webrtcup") {
    if (kind == "webrtcup") log_info(id_, "janus: webrtcup");
    return;
  }
  if (kind == "hangup" || kind == "detached") {
    if (!stopping_) stats_.add_error("janus: " + kind + " " + event.value("reason", std::string()));
    return;
  }
  if (kind == "trickle") {
    const auto candidate = event.find("candidate");
    if (candidate == event.end() || !candidate->is_object() || !peer_) return;
    const std::string text = candidate->value("candidate", std::string());
    if (text.empty()) return;  // {"completed": true}
    ++remote_candidates_;
    peer_->add_candidate(candidate->value("sdpMLineIndex", 0u), text);
    return;
  }
  if (kind != "event") return;
  const auto plugindata = event.find("plugindata");
  if (plugindata != event.end() && plugindata->is_object()) {
    const json data = plugindata->value("data", json::object());
    if (data.contains("error")) {
      fail("streaming plugin: " + data.dump());
      return;
    }
    const json result = data.value("result", json::object());
    if (result.is_object() && result.contains("status") && result["status"].is_string()) {
      mountpoint_status_ = result["status"].get<std::string>();
      log_info(id_, "janus: " + mountpoint_status_);
    }
  }
  const auto jsep = event.find("jsep");
  if (jsep == event.end() || !jsep->is_object()) return;
  if (jsep->value("type", std::string()) != "offer" || !(*jsep)["sdp"].is_string()) {
    fail("unexpected jsep " + jsep->dump().substr(0, 200));
    return;
  }
  on_offer((*jsep)["sdp"].get<std::string>());
}

void JanusViewer::on_offer(const std::string& sdp) {
  if (offered_ || !peer_) return;
  offered_ = true;
  offer_ms_ = steady_ms() - start_ms_;
  log_info(id_, "janus: got the offer");
  peer_->set_remote_offer(sdp);
}

void JanusViewer::on_answer(const std::string& sdp) {
  log_info(id_, "janus: answering with start");
  post(handle_url(),
       {{"janus", "message"},
        {"body", {{"request", "start"}}},
        {"jsep", {{"type", "answer"}, {"sdp", sdp}}}},
       [this](const json&) {
         started_ = true;
         flush_candidates();
       });
}

void JanusViewer::on_local_candidate(guint mline, const std::string& candidate) {
  if (candidate.empty()) {
    gathered_ = true;
  } else {
    ++local_candidates_;
    held_candidates_.push_back({{"candidate", candidate}, {"sdpMLineIndex", mline}});
  }
  flush_candidates();
}

// Candidates go after Janus has the answer (the requests could overtake each
// other otherwise); then each as it comes, and "completed" at the end.
void JanusViewer::flush_candidates() {
  if (!started_ || stopping_) return;
  if (!held_candidates_.empty()) {
    post(handle_url(), {{"janus", "trickle"}, {"candidates", held_candidates_}}, nullptr);
    held_candidates_.clear();
  }
  if (gathered_ && !completed_sent_) {
    completed_sent_ = true;
    post(handle_url(), {{"janus", "trickle"}, {"candidate", {{"completed", true}}}}, nullptr);
  }
}

void JanusViewer::shutdown() {
  stopping_ = true;
  keepalive_.reset();
  if (peer_) peer_->stop();
  http_.cancel();
  if (session_ == 0) {
    closed_ = true;
    return;
  }
  // Janus frees the viewer's port at once rather than at the session timeout.
  json body{{"janus", "destroy"}, {"transaction", "bye"}};
  http_.request("POST", session_url(), "application/json", body.dump(),
                [this](const HttpReply&) { closed_ = true; });
}

json JanusViewer::report() const {
  json out{{"viewer", id_},
           {"mode", "janus"},
           {"decode", options_.decode},
           {"connected", session_ != 0},
           {"answered", started_},
           {"ice_connected", peer_ && peer_->ice_connected()},
           {"connection_state", peer_ ? peer_->connection_state() : "none"},
           {"local_candidates", local_candidates_},
           {"remote_candidates", remote_candidates_},
           {"janus",
            {{"session", session_},
             {"handle", handle_},
             {"mountpoint", options_.janus_mountpoint},
             {"status", mountpoint_status_},
             {"offer_ms", offer_ms_},
             // ICE and DTLS up, since start; first_frame_ms - connected_ms is
             // what the forward and Janus decide (PLI, keyframe, relay).
             {"connected_ms",
              peer_ && peer_->connected_at_ms() >= 0 ? peer_->connected_at_ms() - start_ms_ : -1},
             {"polls", polls_}}}};
  stats_.fill_json(out);
  return out;
}

}  // namespace cstest
