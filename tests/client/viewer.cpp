#include "viewer.hpp"

#include <chrono>

#include <sstream>

#include "log.hpp"

namespace cstest {

using nlohmann::json;

namespace {
// The value after `key` in a candidate line ("typ" → "host"), or with an
// empty key the connection address (the fifth field).
std::string candidate_field(const std::string& candidate, const std::string& key) {
  std::vector<std::string> fields;
  std::string::size_type pos = 0;
  while (pos <= candidate.size()) {
    auto end = candidate.find(' ', pos);
    if (end == std::string::npos) end = candidate.size();
    fields.push_back(candidate.substr(pos, end - pos));
    pos = end + 1;
  }
  if (key.empty()) return fields.size() > 4 ? fields[4] : "";
  for (std::size_t i = 0; i + 1 < fields.size(); ++i)
    if (fields[i] == key) return fields[i + 1];
  return "";
}
}  // namespace

namespace {
// Drops every "a=candidate:" and "a=end-of-candidates" line of an SDP;
// returns how many candidates went.
int strip_candidates(std::string& sdp) {
  std::istringstream in(sdp);
  std::string out, line;
  int stripped = 0;
  while (std::getline(in, line)) {
    if (line.rfind("a=candidate:", 0) == 0) {
      ++stripped;
      continue;
    }
    if (line.rfind("a=end-of-candidates", 0) == 0) continue;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out += line + "\r\n";
  }
  sdp = std::move(out);
  return stripped;
}

// "a=rtpmap:97 VP8/90000" lines → {"VP8", ...} in the SDP's order.
std::vector<std::string> rtpmap_names(const std::string& sdp) {
  std::istringstream in(sdp);
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("a=rtpmap:", 0) != 0) continue;
    auto space = line.find(' ');
    if (space == std::string::npos) continue;
    names.push_back(line.substr(space + 1, line.find('/', space) - space - 1));
  }
  return names;
}
}  // namespace

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
               }}),
      candidates_first_(options.candidates_first) {}

void Viewer::start() {
  start_ms_ = steady_ms();
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
          .on_candidate = [this](guint m, const std::string& c) { on_local_candidate(m, c); }},
      PeerIce{options_.stun_server, options_.turn_servers, options_.relay_only}, options_.codecs,
      options_.audio ? &sound_ : nullptr);
  peer_->set_on_gathering_complete([this] { on_gathering_complete(); });
  if (options_.control) peer_->set_control(&control_);
  if (!peer_->start()) failed_ = true;
}

void Viewer::on_offer(const std::string& sdp) {
  offered_ = rtpmap_names(sdp);
  if (candidates_first_) {
    held_offer_ = sdp;
    strip_candidates(held_offer_);  // webrtcbin's offer has none yet; make sure
    log_info(id_, "offer made; holding it until ICE gathering completes");
    if (gathered_) send_held_offer();
    return;
  }
  log_info(id_, "sending offer");
  ws_.send(offer_message(sdp, options_).dump());
}

void Viewer::on_local_candidate(guint mline, const std::string& candidate) {
  if (stall_ || candidate.empty()) return;
  ++local_candidates_;
  ++local_candidate_types_[candidate_field(candidate, "typ")];
  if (candidates_first_) ++(offer_sent_ ? candidates_after_offer_ : candidates_before_offer_);
  ws_.send(json{{"type", "ice"}, {"candidate", candidate}, {"sdpMLineIndex", mline}}.dump());
}

void Viewer::on_gathering_complete() {
  if (!candidates_first_ || gathered_) return;
  gathered_ = true;
  if (!held_offer_.empty()) send_held_offer();
}

// End of candidates, then the offer: everything ICE needs from this side
// reached the server before it had an offer to answer.
void Viewer::send_held_offer() {
  if (offer_sent_) return;
  log_info(id_, "sending end-of-candidates after " + std::to_string(candidates_before_offer_) +
                    " candidates, then the offer");
  ws_.send(json{{"type", "ice"}, {"candidate", ""}, {"sdpMLineIndex", 0}}.dump());
  log_info(id_, "sending offer");
  ws_.send(offer_message(held_offer_, options_).dump());
  offer_sent_ = true;
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
    std::string sdp = msg["sdp"].get<std::string>();
    if (candidates_first_) stripped_answer_candidates_ += strip_candidates(sdp);
    peer_->set_answer(sdp);
  } else if (type == "ice") {
    on_remote_candidate(msg);
  } else if (type == "error") {
    std::string m = msg.value("message", std::string("?"));
    log_info(id_, "server error: " + m);
    stats_.add_error("server error: " + m);
  } else if (type == "rendition") {
    on_rendition(std::move(msg));
  } else {
    // A newer server may send more: what this viewer does not know, it skips.
    if (ignored_messages_[type]++ == 0) log_info(id_, "ignoring message type " + type);
  }
}

// {"type":"rendition","codec":"VP8","rung":N,...}: kept as received, with
// the time it came; frames from now on count for its rung.
void Viewer::on_rendition(json msg) {
  msg["at_ms"] = steady_ms() - start_ms_;
  msg["wall_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto rung = msg.find("rung");
  if (rung != msg.end() && rung->is_number_integer()) stats_.set_rung(rung->get<int>());
  log_info(id_, "rendition " + msg.dump());
  renditions_.push_back(std::move(msg));
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
  ++remote_candidate_types_[candidate_field(candidate, "typ")];
  remote_addresses_.insert(candidate_field(candidate, ""));
  if (candidates_first_) {
    ++ignored_remote_candidates_;  // ICE must connect without them
    return;
  }
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
           {"remote_candidates", remote_candidates_},
           {"local_candidate_types", local_candidate_types_},
           {"remote_candidate_types", remote_candidate_types_},
           {"remote_candidate_addresses", remote_addresses_},
           {"offered", offered_},
           {"rung_requested", options_.rung ? json(*options_.rung) : json(nullptr)},
           {"renditions", renditions_},
           {"ignored_messages", ignored_messages_}};
  if (candidates_first_)
    out["candidates_first"] = {{"candidates_before_offer", candidates_before_offer_},
                               {"candidates_after_offer", candidates_after_offer_},
                               {"offer_sent", offer_sent_},
                               {"ignored_remote_candidates", ignored_remote_candidates_},
                               {"stripped_answer_candidates", stripped_answer_candidates_}};
  stats_.fill_json(out);
  if (options_.audio) sound_.fill_json(out, stats_.turn_arrivals());
  if (options_.control) control_.fill_json(out);
  return out;
}

}  // namespace cstest
