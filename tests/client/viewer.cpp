#include "viewer.hpp"

#include "log.hpp"

namespace cstest {

using nlohmann::json;

Viewer::Viewer(int id, const Options& options)
    : id_(id),
      options_(options),
      stall_(options.mode == Mode::Stall),
      ws_({.on_open = [this] { on_open(); },
           .on_fail =
               [this](const std::string& e) {
                 failed_ = true;
                 stats_.add_error("websocket connect failed: " + e);
                 log_info(id_, "connect failed: " + e);
               },
           .on_message = [this](const std::string& t) { on_message(t); },
           .on_closed =
               [this] {
                 if (!shutting_down_) stats_.add_error("server closed the websocket");
                 log_info(id_, "websocket closed");
               }}) {}

void Viewer::start() {
  stats_.mark_start();
  log_info(id_,
           std::string("connecting to ") + options_.url + " (" + mode_name(options_.mode) + ")");
  ws_.connect(options_.url);
}

void Viewer::on_open() {
  ws_opened_ = true;
  log_info(id_, "websocket open");
  auto mode = options_.decode ? PeerMode::Decode : PeerMode::NoDecode;
  peer_ = std::make_unique<Peer>(
      id_, mode, stats_,
      Peer::Callbacks{
          .on_offer = [this](const std::string& sdp) { on_offer(sdp); },
          .on_candidate = [this](guint m, const std::string& c) { on_local_candidate(m, c); }});
  if (!peer_->start()) failed_ = true;
}

void Viewer::on_offer(const std::string& sdp) {
  log_info(id_, "sending offer");
  ws_.send(json{{"type", "offer"}, {"sdp", sdp}}.dump());
}

void Viewer::on_local_candidate(guint mline, const std::string& candidate) {
  if (stall_ || candidate.empty()) return;
  ++local_candidates_;
  ws_.send(json{{"type", "ice"}, {"candidate", candidate}, {"sdpMLineIndex", mline}}.dump());
}

void Viewer::on_message(const std::string& text) {
  if (stall_ || !peer_) return;  // a stuck viewer reads nothing
  json msg = json::parse(text, nullptr, false);
  if (msg.is_discarded() || !msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) {
    stats_.add_error("unparseable message from server");
    return;
  }
  const std::string type = msg["type"];
  if (type == "answer" && msg.contains("sdp") && msg["sdp"].is_string()) {
    log_info(id_, "got answer");
    answered_ = true;
    peer_->set_answer(msg["sdp"].get<std::string>());
  } else if (type == "ice") {
    on_remote_candidate(msg);
  } else if (type == "error") {
    std::string m = msg.value("message", std::string("?"));
    log_info(id_, "server error: " + m);
    stats_.add_error("server error: " + m);
  } else {
    stats_.add_error("unexpected message type " + type);
  }
}

void Viewer::on_remote_candidate(const json& msg) {
  auto c = msg.find("candidate");
  auto m = msg.find("sdpMLineIndex");
  if (c == msg.end() || !c->is_string()) {
    stats_.add_error("ice message without candidate string");
    return;
  }
  const std::string candidate = c->get<std::string>();
  if (candidate.empty()) return;  // end of candidates
  if (candidate.rfind("candidate:", 0) != 0) {
    stats_.add_error("ice candidate not starting with 'candidate:'");
    return;
  }
  guint mline = (m != msg.end() && m->is_number_unsigned()) ? m->get<guint>() : 0;
  ++remote_candidates_;
  peer_->add_candidate(mline, candidate);
}

void Viewer::shutdown() {
  shutting_down_ = true;
  if (peer_) peer_->stop();
  ws_.close();
}

json Viewer::report() const {
  json out{{"viewer", id_},
           {"mode", mode_name(options_.mode)},
           {"decode", options_.decode},
           {"connected", ws_opened_},
           {"answered", answered_},
           {"ice_connected", peer_ && peer_->ice_connected()},
           {"connection_state", peer_ ? peer_->connection_state() : "none"},
           {"local_candidates", local_candidates_},
           {"remote_candidates", remote_candidates_}};
  stats_.fill_json(out);
  return out;
}

}  // namespace cstest
