#include "control_script.hpp"

#include <algorithm>

#include "log.hpp"

namespace cstest {

ControlScript::~ControlScript() {
  tick_.reset();
  if (channel_) g_signal_handlers_disconnect_by_data(channel_.get(), this);
}

void ControlScript::attach(GstWebRTCDataChannel* channel) {
  channel_.reset(GST_WEBRTC_DATA_CHANNEL(g_object_ref(channel)));
  g_signal_connect(channel, "on-open", G_CALLBACK(&on_open), this);
  g_signal_connect(channel, "on-message-string", G_CALLBACK(&on_message), this);
  g_signal_connect(channel, "on-close", G_CALLBACK(&on_close), this);
  tick_.reset(g_timeout_add(kTickMs, &on_tick, this));
}

void ControlScript::on_open(GstWebRTCDataChannel*, gpointer data) {
  auto* self = static_cast<ControlScript*>(data);
  std::lock_guard lock(self->mutex_);
  self->open_ = true;
  self->opened_wall_ms_ = epoch_ms();
}

void ControlScript::on_close(GstWebRTCDataChannel*, gpointer data) {
  auto* self = static_cast<ControlScript*>(data);
  std::lock_guard lock(self->mutex_);
  self->closed_ = true;
}

void ControlScript::on_message(GstWebRTCDataChannel*, gchar* text, gpointer data) {
  auto* self = static_cast<ControlScript*>(data);
  const auto msg = nlohmann::json::parse(text ? text : "", nullptr, false);
  std::lock_guard lock(self->mutex_);
  if (!msg.is_object()) {
    self->errors_.push_back(std::string("the server sent no JSON: ") + (text ? text : ""));
    return;
  }
  const std::string type = msg.value("type", "");
  if (type == "control") {
    const bool steer = msg.value("steer", false);
    self->policy_ = msg.value("policy", "");
    if (!self->steer_ || *self->steer_ != steer)
      self->steer_changes_.emplace_back(epoch_ms(), steer);
    self->steer_ = steer;
  } else if (type == "error") {
    ++self->error_count_;
    if (self->errors_.size() < kMaxErrors) self->errors_.push_back(msg.value("message", ""));
  }
}

void ControlScript::send(const std::string& text) {
  g_signal_emit_by_name(channel_.get(), "send-string", text.c_str());
}

gboolean ControlScript::on_tick(gpointer data) {
  auto* self = static_cast<ControlScript*>(data);
  bool steer = false;
  {
    std::lock_guard lock(self->mutex_);
    if (!self->open_ || self->closed_) return G_SOURCE_CONTINUE;
    steer = self->steer_.value_or(false);
    if (self->sent_.size() >= kMaxSent) return G_SOURCE_CONTINUE;
  }
  const int tick = ++self->ticks_;
  if (tick == 1) {
    self->send("{not json");
  } else if (tick == 2) {
    self->send(R"({"type":"warp"})");
  } else if (self->quality_steps_) {
    if (tick % kQualityEveryTicks != 0) return G_SOURCE_CONTINUE;
    const bool lower = self->quality_sent_++ % 2 == 0;
    self->send(lower ? R"({"type":"quality","step":"lower"})"
                     : R"({"type":"quality","step":"higher"})");
  } else {
    // The page's stamp: the wall clock in ms, mod 2^32; a tick apart, so
    // each rotate's stamp is its own.
    const auto stamp = static_cast<std::uint32_t>(epoch_ms());
    const Sent sent{stamp, epoch_ms(), self->stats_.frames(), steer};
    self->send(nlohmann::json{{"type", "rotate"}, {"yaw", 5}, {"pitch", 1}, {"t", stamp}}.dump());
    std::lock_guard lock(self->mutex_);
    self->sent_.push_back(sent);
  }
  return G_SOURCE_CONTINUE;
}

void ControlScript::fill_json(nlohmann::json& out) const {
  const auto shown = stats_.input_arrivals();  // (wall ms, row 2, frame index)
  std::lock_guard lock(mutex_);
  nlohmann::json c;
  c["opened"] = opened_wall_ms_ != 0;
  c["policy"] = policy_;
  c["steer"] = steer_ ? nlohmann::json(*steer_) : nlohmann::json(nullptr);
  auto changes = nlohmann::json::array();
  for (const auto& [at, steer] : steer_changes_)
    changes.push_back({{"wall_ms", at}, {"steer", steer}});
  c["steer_changes"] = changes;
  c["errors"] = errors_;
  c["error_count"] = error_count_;
  auto inputs = nlohmann::json::array();
  std::vector<double> latencies;
  int applied = 0;
  for (const Sent& s : sent_) {
    const auto it = std::find_if(shown.begin(), shown.end(),
                                 [&s](const auto& frame) { return std::get<1>(frame) == s.stamp; });
    nlohmann::json input{
        {"wall_ms", s.wall_ms}, {"steer", s.steer}, {"applied", it != shown.end()}};
    if (it != shown.end()) {
      ++applied;
      const double latency = static_cast<double>(std::get<0>(*it) - s.wall_ms);
      latencies.push_back(latency);
      input["frames"] = std::get<2>(*it) + 1 - s.frames_before;
      input["input_to_photon_ms"] = latency;
    }
    inputs.push_back(input);
  }
  c["inputs"] = inputs;
  c["sent"] = sent_.size();
  c["quality_steps_sent"] = quality_sent_;
  c["applied"] = applied;
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    c["input_to_photon_p50_ms"] = latencies[(latencies.size() - 1) / 2];
  }
  out["control"] = c;
}

}  // namespace cstest
