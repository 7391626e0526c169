#include "churner.hpp"

#include "log.hpp"

namespace cstest {

using nlohmann::json;

namespace {
constexpr guint kAnswerTimeoutMs = 5000;
}

Churner::Churner(int id, const Options& options) : id_(id), options_(options) {}

void Churner::start() {
  // One offer, made once by a real webrtcbin, is reused for every iteration.
  offer_maker_ = std::make_unique<Peer>(id_, PeerMode::NoDecode, stats_,
                                        Peer::Callbacks{.on_offer =
                                                            [this](const std::string& sdp) {
                                                              if (!offer_.empty()) return;
                                                              offer_ = sdp;
                                                              offer_maker_->stop();
                                                              begin_iteration();
                                                            },
                                                        .on_candidate = nullptr},
                                        PeerIce{}, options_.codecs);
  if (!offer_maker_->start()) finished_ = true;
}

void Churner::begin_iteration() {
  if (stopping_ || iteration_ >= options_.churn_count) {
    finished_ = true;
    log_info(id_, "churn finished: " + std::to_string(iteration_) + " iterations");
    return;
  }
  int i = iteration_;
  std::size_t slot = sockets_.size();
  auto socket = [this, slot] { return sockets_[slot].get(); };
  sockets_.push_back(std::make_unique<WsClient>(WsClient::Handlers{
      .on_open = [this, socket, i] { on_open(socket(), i); },
      .on_fail =
          [this, i](const std::string& e) {
            ++failures_;
            stats_.add_error("iteration " + std::to_string(i) + ": connect failed: " + e);
            on_iteration_end(i);
          },
      .on_message = [this, socket](const std::string& t) { on_message(socket(), t); },
      .on_closed = [this, i] { on_iteration_end(i); }}));
  WsClient* raw = sockets_.back().get();
  raw->connect(options_.url);
}

void Churner::on_open(WsClient* ws, int iteration) {
  ++opened_;
  ws->send(offer_message(offer_, options_).dump());
  switch (iteration % 3) {
    case 0:
      ws->close();
      break;
    case 2:
      ws->abort();
      break;
    default:
      answer_timer_.reset(g_timeout_add(
          kAnswerTimeoutMs,
          [](gpointer d) -> gboolean {
            auto* self = static_cast<Churner*>(d);
            self->answer_timer_.release();
            self->stats_.add_error("no answer within 5 s");
            self->sockets_.back()->close();
            return G_SOURCE_REMOVE;
          },
          this));
  }
}

void Churner::on_message(WsClient* ws, const std::string& text) {
  json msg = json::parse(text, nullptr, false);
  if (msg.is_discarded() || !msg.is_object()) return;
  std::string type = msg.value("type", std::string());
  if (type == "error") stats_.add_error("server error: " + msg.value("message", std::string()));
  if (type != "answer") return;
  ++answers_;
  answer_timer_.reset();
  ws->close();
}

void Churner::on_iteration_end(int iteration) {
  if (iteration <= ended_) return;
  ended_ = iteration;
  answer_timer_.reset();
  ++iteration_;
  schedule_next();
}

// The next iteration starts from the main loop, never inside the callbacks
// of the one that just ended.
void Churner::schedule_next() {
  next_timer_.reset(g_timeout_add(
      0,
      [](gpointer d) -> gboolean {
        auto* self = static_cast<Churner*>(d);
        self->next_timer_.release();
        self->begin_iteration();
        return G_SOURCE_REMOVE;
      },
      this));
}

void Churner::shutdown() {
  stopping_ = true;
  next_timer_.reset();
  answer_timer_.reset();
  if (offer_maker_) offer_maker_->stop();
  for (auto& ws : sockets_) ws->close();
}

bool Churner::closed() const {
  for (const auto& ws : sockets_)
    if (!ws->finished()) return false;
  return true;
}

json Churner::report() const {
  json out{{"viewer", id_},
           {"mode", "churn"},
           {"connected", opened_ > 0},
           {"iterations", iteration_},
           {"requested", options_.churn_count},
           {"opened", opened_},
           {"answers", answers_},
           {"connect_failures", failures_},
           {"frames", 0},
           {"errors", stats_.errors()}};
  return out;
}

}  // namespace cstest
