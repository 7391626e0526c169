#pragma once
// A viewer: WebSocket signaling plus one Peer. In stall mode it sends its
// offer and then ignores everything (a stuck viewer). With
// --candidates-first it sends all its ICE candidates and end-of-candidates
// BEFORE an offer that carries none, and uses none of the server's (the
// answer's a=candidate lines are stripped, trickled ones ignored): ICE can
// then only connect through the server's checks to the candidates it held
// from before the offer.
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client.hpp"
#include "frame_stats.hpp"
#include "options.hpp"
#include "peer.hpp"
#include "ws_client.hpp"

namespace cstest {

class Viewer : public Client {
 public:
  Viewer(int id, const Options& options);
  void start() override;
  void shutdown() override;
  bool done() const override { return failed_; }
  bool closed() const override { return ws_.finished(); }
  bool connected() const override { return ws_opened_; }
  nlohmann::json report() const override;

 private:
  void on_open();
  void on_message(const std::string& text);
  void on_offer(const std::string& sdp);
  void on_local_candidate(guint mline, const std::string& candidate);
  void on_remote_candidate(const nlohmann::json& msg);
  void on_rendition(nlohmann::json msg);
  void on_gathering_complete();
  void send_held_offer();

  int id_;
  const Options& options_;
  bool stall_;
  FrameStats stats_;
  SoundStats sound_;  // --audio
  ControlScript control_{stats_,
                         options_.quality_steps};  // --control: before peer_, which borrows it
  WsClient ws_;
  std::unique_ptr<Peer> peer_;
  std::int64_t start_ms_ = 0;  // steady clock at start()
  bool ws_opened_ = false;
  bool failed_ = false;
  bool answered_ = false;
  bool shutting_down_ = false;
  int remote_candidates_ = 0;
  int local_candidates_ = 0;
  std::map<std::string, int> local_candidate_types_;
  std::map<std::string, int> remote_candidate_types_;
  std::set<std::string> remote_addresses_;
  // --candidates-first
  bool candidates_first_;
  std::string held_offer_;  // the offer, once made, until gathering completes
  bool gathered_ = false;
  bool offer_sent_ = false;
  int candidates_before_offer_ = 0;
  int candidates_after_offer_ = 0;
  int ignored_remote_candidates_ = 0;
  int stripped_answer_candidates_ = 0;
  std::vector<std::string> offered_;  // the offer's rtpmap encoding names, in order
  nlohmann::json renditions_ = nlohmann::json::array();  // as received, plus "at_ms"
  std::map<std::string, int> ignored_messages_;          // unknown types from the server
};

}  // namespace cstest
