#pragma once
// WHEP viewers (draft-ietf-wish-whep): a thin transport over the same viewer
// sessions the WebSocket drives (ViewerHub), so limits, codecs, rungs,
// metrics and removal are one code. The resources:
//   POST   /whep        offer (application/sdp) → 201, the answer with all of
//                       the server's candidates, Location, ETag, Link ICE servers
//   PATCH  /whep/NAME   trickle-ice-sdpfrag from the player → 204
//   DELETE /whep/NAME   the viewer leaves → 200
//   OPTIONS            CORS preflight → 204
// The answer waits for ICE gathering (WHEP has no way to trickle the
// server's candidates) up to `answer_deadline_ms`, then goes with what has
// been gathered.
//
// Threads: every method on the GLib main loop; the HTTP handlers (lws
// thread) hand requests over through the app's main-loop inbox, and replies
// go back through HttpReply, which is thread-safe.
#include <glib.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cs/refusals.hpp"
#include "cs/signaling/protocol.hpp"
#include "cs/signaling/server.hpp"
#include "cs/streaming/viewer_hub.hpp"
#include "cs/whep/whep_sdp.hpp"

namespace cs::whep {

inline constexpr const char* kWhepPath = "/whep";
inline constexpr const char* kWhepResourcePath = "/whep/*";

struct WhepSettings {
  // A fresh viewer id, unique with the WebSocket viewers' ones.
  std::function<streaming::ViewerId()> new_viewer_id;
  // The ICE servers handed to the player at `peer` (TURN credentials minted
  // per viewer with a REST secret).
  std::function<signaling::IceServerList(const std::string& peer)> ice_servers;
  int answer_deadline_ms = 4000;
  int retry_after_s = 5;              // with a 503
  RefusalCounts* refusals = nullptr;  // refusals before the hub sees the offer
};

class WhepSessions final : public streaming::ViewerOutbox {
 public:
  explicit WhepSessions(WhepSettings settings);
  ~WhepSessions() override;
  WhepSessions(const WhepSessions&) = delete;
  WhepSessions& operator=(const WhepSessions&) = delete;

  void attach(streaming::ViewerHub* hub) { hub_ = hub; }

  // The endpoints to register; each handler hands its request to `post`
  // (which must run the call on the main loop).
  using ToMainLoop = std::function<void(std::function<void()>)>;
  std::vector<signaling::HttpEndpoint> endpoints(ToMainLoop post);

  // One request, on the main loop.
  void handle(const signaling::HttpRequest& request, const signaling::HttpReply& reply);

  bool owns(streaming::ViewerId id) const { return sessions_.count(id) != 0; }
  std::size_t size() const { return sessions_.size(); }
  // Every session ends (the server is stopping): pending POSTs get 503.
  void close_all();

  // streaming::ViewerOutbox, for the ids this owns.
  void send_answer(streaming::ViewerId id, const std::string& sdp) override;
  void send_candidate(streaming::ViewerId id, unsigned mline, const std::string& c) override;
  void send_error(streaming::ViewerId id, const std::string& message) override;
  void send_refusal(streaming::ViewerId id, Refusal reason, const std::string& message) override;
  void send_rendition(streaming::ViewerId, const streaming::RenditionInfo&) override {}
  void gathering_done(streaming::ViewerId id) override;
  void close(streaming::ViewerId id) override;

 private:
  struct Session {
    std::string name;  // the resource: /whep/NAME
    std::string etag;  // quoted
    std::string peer;
    OfferIce offer;
    std::string answer;
    std::vector<std::pair<unsigned, std::string>> candidates;
    bool gathered = false;
    std::optional<signaling::HttpReply> pending;  // the POST, until answered
    guint deadline = 0;
    // Set while a PATCH feeds the hub: the errors it sends back.
    std::vector<std::string>* patch_errors = nullptr;
  };

  void on_post(const signaling::HttpRequest& request, const signaling::HttpReply& reply);
  void on_patch(const signaling::HttpRequest& request, const signaling::HttpReply& reply);
  void on_delete(const signaling::HttpRequest& request, const signaling::HttpReply& reply);
  Session* find(streaming::ViewerId id);
  std::optional<streaming::ViewerId> by_name(const std::string& name) const;
  void answer_if_ready(streaming::ViewerId id, bool deadline_passed);
  void forget(streaming::ViewerId id);
  signaling::HttpResponse created(const Session& session, bool complete) const;
  void refuse_post(const signaling::HttpReply& reply, int status, Refusal reason,
                   const std::string& why) const;

  WhepSettings settings_;
  streaming::ViewerHub* hub_ = nullptr;
  std::map<streaming::ViewerId, Session> sessions_;
  std::map<std::string, streaming::ViewerId> names_;
};

}  // namespace cs::whep
