#pragma once
// --whep URL: a viewer that negotiates over WHEP (draft-ietf-wish-whep)
// instead of the WebSocket: POST the offer (application/sdp), take the
// answer (201, Location, ETag), trickle its own candidates with PATCH
// (application/trickle-ice-sdpfrag, If-Match: the ETag), end with DELETE on
// shutdown. Media and the report are the WebSocket viewer's (Peer,
// FrameStats); the report adds a "whep" object with every request's status.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client.hpp"
#include "frame_stats.hpp"
#include "http_client.hpp"
#include "options.hpp"
#include "peer.hpp"

namespace cstest {

class WhepViewer : public Client {
 public:
  WhepViewer(int id, const Options& options);
  void start() override;
  void shutdown() override;
  bool done() const override { return failed_; }
  bool closed() const override { return !delete_in_flight_; }
  bool connected() const override { return created_; }
  nlohmann::json report() const override;

 private:
  void on_offer(const std::string& sdp);
  void on_created(HttpReply reply);
  void on_local_candidate(const std::string& candidate);
  void on_gathering_complete();
  void flush_trickle();
  void send_delete();
  void fail(const std::string& what);
  std::vector<std::pair<std::string, std::string>> auth_headers() const;

  int id_;
  const Options& options_;
  FrameStats stats_;
  HttpClient http_;
  std::unique_ptr<Peer> peer_;
  std::string post_url_;
  bool failed_ = false;
  bool shutting_down_ = false;
  // The offer's ICE credentials and media id, for the PATCH fragments.
  std::string ufrag_, pwd_, mid_;
  std::vector<std::string> offered_;
  // POST
  bool created_ = false;
  int post_status_ = -1;
  std::string post_error_;
  std::string resource_url_;
  std::string location_, etag_;
  std::vector<std::string> links_;
  std::map<std::string, int> remote_candidate_types_;
  int remote_candidates_ = 0;
  bool answer_end_of_candidates_ = false;
  // PATCH (trickle), one at a time, in order
  std::vector<std::string> queued_candidates_;
  bool gathered_ = false;
  bool end_sent_ = false;
  bool patch_in_flight_ = false;
  int local_candidates_ = 0;
  std::map<std::string, int> local_candidate_types_;
  std::vector<int> patch_statuses_;
  // DELETE
  bool delete_in_flight_ = false;
  int delete_status_ = -1;
};

}  // namespace cstest
