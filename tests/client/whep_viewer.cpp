#include "whep_viewer.hpp"

#include <sstream>

#include "log.hpp"

namespace cstest {

using nlohmann::json;

namespace {

std::vector<std::string> sdp_lines(const std::string& sdp) {
  std::istringstream in(sdp);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

// The value of the first "a=<name>:" line, or "".
std::string attribute(const std::vector<std::string>& lines, const std::string& name) {
  const std::string prefix = "a=" + name + ":";
  for (const auto& line : lines)
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  return {};
}

// The word after "typ" in a candidate line.
std::string candidate_type(const std::string& candidate) {
  std::istringstream in(candidate);
  std::string word, previous;
  while (in >> word) {
    if (previous == "typ") return word;
    previous = word;
  }
  return "?";
}

}  // namespace

WhepViewer::WhepViewer(int id, const Options& options) : id_(id), options_(options) {
  post_url_ = options.whep_url;
  if (options.rung)
    post_url_ += (post_url_.find('?') == std::string::npos ? "?rung=" : "&rung=") +
                 std::to_string(*options.rung);
}

std::vector<std::pair<std::string, std::string>> WhepViewer::auth_headers() const {
  if (options_.whep_token.empty()) return {};
  return {{"Authorization", "Bearer " + options_.whep_token}};
}

void WhepViewer::fail(const std::string& what) {
  log_info(id_, what);
  stats_.add_error(what);
  failed_ = true;
}

void WhepViewer::start() {
  stats_.mark_start();
  log_info(id_, "WHEP viewer for " + post_url_);
  auto mode = options_.decode ? PeerMode::Decode : PeerMode::NoDecode;
  peer_ = std::make_unique<Peer>(
      id_, mode, stats_,
      Peer::Callbacks{
          .on_offer = [this](const std::string& sdp) { on_offer(sdp); },
          .on_candidate = [this](guint, const std::string& c) { on_local_candidate(c); }},
      PeerIce{options_.stun_server, options_.turn_servers, options_.relay_only}, options_.codecs);
  peer_->set_on_gathering_complete([this] { on_gathering_complete(); });
  if (!peer_->start()) failed_ = true;
}

void WhepViewer::on_offer(const std::string& sdp) {
  if (shutting_down_) return;
  const auto lines = sdp_lines(sdp);
  ufrag_ = attribute(lines, "ice-ufrag");
  pwd_ = attribute(lines, "ice-pwd");
  mid_ = attribute(lines, "mid");
  for (const auto& line : lines) {
    if (line.rfind("a=rtpmap:", 0) != 0) continue;
    auto space = line.find(' ');
    if (space != std::string::npos)
      offered_.push_back(line.substr(space + 1, line.find('/', space) - space - 1));
  }
  log_info(id_, "POST " + post_url_ + " (the offer)");
  HttpRequest request{.method = "POST",
                      .url = post_url_,
                      .content_type = "application/sdp",
                      .body = sdp,
                      .headers = auth_headers()};
  http_.request(request, [this](HttpReply reply) { on_created(std::move(reply)); });
}

void WhepViewer::on_created(HttpReply reply) {
  post_status_ = static_cast<int>(reply.status);
  if (reply.status != SOUP_STATUS_CREATED) {
    post_error_ = reply.describe();
    fail("POST " + post_url_ + ": " + post_error_);
    return;
  }
  location_ = reply.header("Location");
  etag_ = reply.header("ETag");
  links_ = reply.all("Link");
  if (location_.empty()) {
    fail("POST " + post_url_ + ": 201 without a Location header");
    return;
  }
  resource_url_ = resolve_url(post_url_, location_);
  if (resource_url_.empty()) {
    fail("POST " + post_url_ + ": Location '" + location_ + "' does not resolve");
    return;
  }
  created_ = true;
  for (const auto& line : sdp_lines(reply.body)) {
    if (line.rfind("a=candidate:", 0) == 0) {
      ++remote_candidates_;
      ++remote_candidate_types_[candidate_type(line)];
    } else if (line == "a=end-of-candidates") {
      answer_end_of_candidates_ = true;
    }
  }
  log_info(id_, "201 Created, resource " + resource_url_ + ", ETag " + etag_ + ", " +
                    std::to_string(remote_candidates_) + " candidates in the answer");
  if (shutting_down_) {  // the run ended while the POST was out: free the slot
    send_delete();
    return;
  }
  peer_->set_answer(reply.body);
  flush_trickle();
}

void WhepViewer::on_local_candidate(const std::string& candidate) {
  if (candidate.empty()) return;
  ++local_candidates_;
  ++local_candidate_types_[candidate_type(candidate)];
  queued_candidates_.push_back(candidate);
  flush_trickle();
}

void WhepViewer::on_gathering_complete() {
  gathered_ = true;
  flush_trickle();
}

// One PATCH in flight at a time: the candidates queued so far, and
// end-of-candidates once gathering completed (RFC 8840 fragment).
void WhepViewer::flush_trickle() {
  if (!created_ || shutting_down_ || patch_in_flight_ || failed_) return;
  const bool send_end = gathered_ && !end_sent_;
  if (queued_candidates_.empty() && !send_end) return;
  std::string fragment = "a=ice-ufrag:" + ufrag_ + "\r\na=ice-pwd:" + pwd_ +
                         "\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:" + mid_ + "\r\n";
  for (const auto& c : queued_candidates_) fragment += "a=" + c + "\r\n";
  if (send_end) fragment += "a=end-of-candidates\r\n";
  const auto sent = queued_candidates_.size();
  queued_candidates_.clear();
  end_sent_ = end_sent_ || send_end;
  auto headers = auth_headers();
  if (!etag_.empty()) headers.emplace_back("If-Match", etag_);
  patch_in_flight_ = true;
  HttpRequest request{.method = "PATCH",
                      .url = resource_url_,
                      .content_type = "application/trickle-ice-sdpfrag",
                      .body = fragment,
                      .headers = std::move(headers)};
  http_.request(request, [this, sent, send_end](HttpReply reply) {
    patch_in_flight_ = false;
    patch_statuses_.push_back(static_cast<int>(reply.status));
    if (reply.status != SOUP_STATUS_NO_CONTENT) {
      const std::string what = "PATCH " + resource_url_ + ": " + reply.describe();
      log_info(id_, what);
      stats_.add_error(what);
    } else {
      log_info(id_, "PATCH: " + std::to_string(sent) + " candidates" +
                        (send_end ? " and end-of-candidates" : "") + " -> 204");
    }
    flush_trickle();
  });
}

void WhepViewer::shutdown() {
  shutting_down_ = true;
  if (peer_) peer_->stop();
  send_delete();
}

void WhepViewer::send_delete() {
  if (!created_ || delete_in_flight_ || delete_status_ >= 0) return;
  delete_in_flight_ = true;
  log_info(id_, "DELETE " + resource_url_);
  HttpRequest request{.method = "DELETE",
                      .url = resource_url_,
                      .content_type = {},
                      .body = {},
                      .headers = auth_headers()};
  http_.request(request, [this](HttpReply reply) {
    delete_in_flight_ = false;
    delete_status_ = static_cast<int>(reply.status);
    if (reply.status != SOUP_STATUS_OK && reply.status != SOUP_STATUS_NO_CONTENT) {
      const std::string what = "DELETE " + resource_url_ + ": " + reply.describe();
      log_info(id_, what);
      stats_.add_error(what);
    } else {
      log_info(id_, "DELETE -> " + std::to_string(reply.status));
    }
  });
}

json WhepViewer::report() const {
  json out{{"viewer", id_},
           {"mode", "whep"},
           {"decode", options_.decode},
           {"connected", created_},
           {"answered", created_},
           {"ice_connected", peer_ && peer_->ice_connected()},
           {"connection_state", peer_ ? peer_->connection_state() : "none"},
           {"local_candidates", local_candidates_},
           {"remote_candidates", remote_candidates_},
           {"local_candidate_types", local_candidate_types_},
           {"remote_candidate_types", remote_candidate_types_},
           {"offered", offered_},
           {"rung_requested", options_.rung ? json(*options_.rung) : json(nullptr)},
           {"whep",
            {{"url", post_url_},
             {"post_status", post_status_},
             {"post_error", post_error_},
             {"location", location_},
             {"resource", resource_url_},
             {"etag", etag_},
             {"links", links_},
             {"answer_end_of_candidates", answer_end_of_candidates_},
             {"patch_statuses", patch_statuses_},
             {"end_of_candidates_sent", end_sent_},
             {"delete_status", delete_status_}}}};
  stats_.fill_json(out);
  return out;
}

}  // namespace cstest
