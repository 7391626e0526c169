#pragma once
// A viewer of a Janus Streaming-plugin mountpoint through the Janus HTTP API
// (--janus URL): create a session, attach janus.plugin.streaming, "watch"
// the mountpoint, take Janus' offer from the long-poll, answer with "start",
// trickle the candidates, keep the session alive. One Peer in answerer mode
// receives; the report has the WebSocket viewer's figures (FrameStats).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client.hpp"
#include "frame_stats.hpp"
#include "http_client.hpp"
#include "options.hpp"
#include "peer.hpp"
#include "raii.hpp"

namespace cstest {

class JanusViewer : public Client {
 public:
  JanusViewer(int id, const Options& options);
  ~JanusViewer() override;
  void start() override;
  void shutdown() override;
  bool done() const override { return failed_; }
  bool closed() const override { return closed_; }
  bool connected() const override { return session_ != 0; }
  nlohmann::json report() const override;

 private:
  void post(const std::string& url, nlohmann::json body,
            std::function<void(const nlohmann::json&)> on_json);
  void fail(const std::string& why);
  void on_session(std::uint64_t session);
  void on_handle(std::uint64_t handle);
  void poll();
  void on_event(const nlohmann::json& event);
  void on_offer(const std::string& sdp);
  void on_answer(const std::string& sdp);
  void on_local_candidate(guint mline, const std::string& candidate);
  void flush_candidates();
  std::string session_url() const;
  std::string handle_url() const;

  int id_;
  const Options& options_;
  FrameStats stats_;
  HttpClient http_{0};  // no timeout: the long poll waits up to 30 s
  std::unique_ptr<Peer> peer_;
  std::uint64_t session_ = 0;
  std::uint64_t handle_ = 0;
  std::uint64_t transactions_ = 0;
  bool failed_ = false;
  bool closed_ = true;
  bool offered_ = false;
  bool started_ = false;   // "start" acknowledged: trickles may follow
  bool gathered_ = false;  // end of local candidates seen
  bool completed_sent_ = false;
  bool stopping_ = false;
  std::vector<nlohmann::json> held_candidates_;
  int local_candidates_ = 0;
  int remote_candidates_ = 0;
  int polls_ = 0;
  std::int64_t start_ms_ = 0;
  std::int64_t offer_ms_ = -1;  // since start: Janus' offer arrived
  std::string mountpoint_status_;
  SourceId keepalive_;
};

}  // namespace cstest
