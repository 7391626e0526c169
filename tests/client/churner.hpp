#pragma once
// Churn: many short-lived viewers, one after another, that leave before
// negotiation completes. Iteration i: connect, send the offer, then
//   i%3 == 0: close the socket at once (close frame),
//   i%3 == 1: close as soon as the answer arrives (or after 5 s),
//   i%3 == 2: drop the TCP connection at once (no close frame).
#include <memory>
#include <string>
#include <vector>

#include "client.hpp"
#include "frame_stats.hpp"
#include "options.hpp"
#include "peer.hpp"
#include "raii.hpp"
#include "ws_client.hpp"

namespace cstest {

class Churner : public Client {
 public:
  Churner(int id, const Options& options);
  void start() override;
  void shutdown() override;
  bool done() const override { return finished_; }
  bool closed() const override;
  bool connected() const override { return opened_ > 0; }
  nlohmann::json report() const override;

 private:
  void begin_iteration();
  void on_open(WsClient* ws, int iteration);
  void on_message(WsClient* ws, const std::string& text);
  void on_iteration_end(int iteration);
  void schedule_next();

  int id_;
  const Options& options_;
  FrameStats stats_;  // only its error list is used
  std::unique_ptr<Peer> offer_maker_;
  std::string offer_;
  std::vector<std::unique_ptr<WsClient>> sockets_;  // kept until the end
  SourceId next_timer_;
  SourceId answer_timer_;
  int iteration_ = 0;
  int ended_ = -1;  // last iteration whose end was handled
  int opened_ = 0;
  int answers_ = 0;
  int failures_ = 0;
  bool finished_ = false;
  bool stopping_ = false;
};

}  // namespace cstest
