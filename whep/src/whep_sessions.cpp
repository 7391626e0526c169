#include "cs/whep/whep_sessions.hpp"

#include "cs/log.hpp"

namespace cs::whep {

namespace {

using signaling::HttpReply;
using signaling::HttpRequest;
using signaling::HttpResponse;
using streaming::ViewerId;

constexpr const char* kText = "text/plain; charset=utf-8";
constexpr const char* kSdp = "application/sdp";
constexpr const char* kSdpFrag = "application/trickle-ice-sdpfrag";

HttpResponse text_response(int status, const std::string& message) {
  return {status, kText, message + "\n", {}};
}

// The status a refusal from the hub gives a POST still waiting for its answer.
int status_for(Refusal reason) {
  switch (reason) {
    case Refusal::bad_offer:
      return 400;
    case Refusal::server_full:
    case Refusal::too_many_waiting:
    case Refusal::no_ice_port:
    case Refusal::stopping:
    case Refusal::negotiation_timeout:
      return 503;
    default:
      return 500;
  }
}

struct DeadlineTicket {
  WhepSessions* sessions;
  ViewerId id;
  std::function<void(WhepSessions*, ViewerId)> fire;
};

}  // namespace

WhepSessions::WhepSessions(WhepSettings settings) : settings_(std::move(settings)) {}

WhepSessions::~WhepSessions() {
  for (auto& [id, session] : sessions_)
    if (session.deadline) g_source_remove(session.deadline);
}

std::vector<signaling::HttpEndpoint> WhepSessions::endpoints(ToMainLoop post) {
  auto handler = [this, post](const HttpRequest& request, HttpReply reply) {
    post([this, request, reply = std::move(reply)] { handle(request, reply); });
  };
  std::vector<signaling::HttpEndpoint> list;
  for (const char* method : {"POST", "OPTIONS"})
    list.push_back({method, kWhepPath, handler, std::string_view(method) != "OPTIONS", true});
  for (const char* method : {"PATCH", "DELETE", "OPTIONS"})
    list.push_back(
        {method, kWhepResourcePath, handler, std::string_view(method) != "OPTIONS", true});
  return list;
}

void WhepSessions::handle(const HttpRequest& request, const HttpReply& reply) {
  if (request.method == "OPTIONS") {
    const bool resource = !request.resource.empty();
    HttpResponse response{204, kText, {}, {}};
    response.headers = {
        {"Access-Control-Allow-Methods", resource ? "PATCH, DELETE, OPTIONS" : "POST, OPTIONS"},
        {"Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match"},
        {"Access-Control-Max-Age", "600"}};
    if (resource)
      response.headers.emplace_back("Accept-Patch", kSdpFrag);
    else
      response.headers.emplace_back("Accept-Post", kSdp);
    reply(std::move(response));
  } else if (request.method == "POST") {
    on_post(request, reply);
  } else if (request.method == "PATCH") {
    on_patch(request, reply);
  } else if (request.method == "DELETE") {
    on_delete(request, reply);
  } else {
    reply(text_response(405, "method not allowed"));
  }
}

void WhepSessions::refuse_post(const HttpReply& reply, int status, Refusal reason,
                               const std::string& why) const {
  log::warn("whep: refused an offer: ", why, " -> ", status);
  if (settings_.refusals) settings_.refusals->add(reason);
  reply(text_response(status, why));
}

void WhepSessions::on_post(const HttpRequest& request, const HttpReply& reply) {
  if (!hub_) return reply(text_response(503, "the server is starting"));
  if (media_type(request.content_type) != kSdp)
    return refuse_post(
        reply, 415, Refusal::bad_request,
        "Content-Type must be application/sdp (got '" + request.content_type.substr(0, 60) + "')");
  if (request.body.empty())
    return refuse_post(reply, 400, Refusal::bad_offer, "no SDP offer in the request body");
  if (request.body.rfind("v=0", 0) != 0)
    return refuse_post(reply, 400, Refusal::bad_offer, "the body is not an SDP offer (no v=0)");
  std::string rung_error;
  const std::optional<int> rung = rung_in_query(request.query, rung_error);
  if (!rung_error.empty()) return refuse_post(reply, 400, Refusal::bad_offer, rung_error);
  std::string sync_error;
  const bool lip_sync = lip_sync_in_query(request.query, sync_error);
  if (!sync_error.empty()) return refuse_post(reply, 400, Refusal::bad_offer, sync_error);

  const ViewerId id = settings_.new_viewer_id();
  Session& session = sessions_[id];
  session.name = new_session_name();
  // Appended, not "\"" + ...: g++ 12 -O3 warns (-Wrestrict) on that operator+.
  session.etag = "\"";
  session.etag += new_session_name().substr(0, 16);
  session.etag += '"';
  session.peer = request.peer;
  session.offer = offer_ice(request.body);
  session.pending = reply;
  names_[session.name] = id;
  log::info(log::Viewer{id, request.peer}, "WHEP offer, session ", session.name.substr(0, 8));
  // The hub may refuse at once: then send_refusal and close() have already
  // answered and forgotten the session when these return.
  hub_->on_connected(id, request.peer);
  if (!find(id)) return;
  hub_->on_offer(id, request.body, {rung, lip_sync});
  Session* still = find(id);
  if (!still || !still->pending) return;
  auto* ticket = new DeadlineTicket{this, id, [](WhepSessions* s, ViewerId vid) {
                                      if (Session* x = s->find(vid)) x->deadline = 0;
                                      s->answer_if_ready(vid, true);
                                    }};
  still->deadline = g_timeout_add_full(
      G_PRIORITY_DEFAULT, static_cast<guint>(settings_.answer_deadline_ms),
      [](gpointer data) -> gboolean {
        auto* t = static_cast<DeadlineTicket*>(data);
        t->fire(t->sessions, t->id);
        return G_SOURCE_REMOVE;
      },
      ticket, [](gpointer data) { delete static_cast<DeadlineTicket*>(data); });
}

HttpResponse WhepSessions::created(const Session& session, bool complete) const {
  HttpResponse response{
      201, kSdp, answer_with_candidates(session.answer, session.candidates, complete), {}};
  response.headers.emplace_back("Location", std::string(kWhepPath) + "/" + session.name);
  response.headers.emplace_back("ETag", session.etag);
  response.headers.emplace_back("Accept-Patch", kSdpFrag);
  if (settings_.ice_servers)
    for (auto& link : ice_server_links(settings_.ice_servers(session.peer)))
      response.headers.emplace_back("Link", std::move(link));
  return response;
}

void WhepSessions::answer_if_ready(ViewerId id, bool deadline_passed) {
  Session* session = find(id);
  if (!session || !session->pending) return;
  const bool ready = !session->answer.empty() && (session->gathered || deadline_passed);
  if (!ready) {
    if (!deadline_passed) return;
    // No answer within the deadline: the hub is still negotiating (it has
    // its own limits); the player is told to come back.
    log::warn(log::Viewer{id, session->peer}, "WHEP: no answer within ",
              settings_.answer_deadline_ms, " ms; ending the session");
    HttpResponse busy = text_response(503, "no answer could be made in time");
    busy.headers.emplace_back("Retry-After", std::to_string(settings_.retry_after_s));
    (*session->pending)(std::move(busy));
    forget(id);
    if (hub_) hub_->on_disconnected(id, "WHEP answer not ready in time");
    return;
  }
  if (!session->gathered)
    log::info(log::Viewer{id, session->peer}, "WHEP: answering before ICE gathering completed (",
              session->candidates.size(), " candidates so far)");
  if (session->deadline) {
    g_source_remove(session->deadline);
    session->deadline = 0;
  }
  (*session->pending)(created(*session, session->gathered));
  session->pending.reset();
}

void WhepSessions::on_patch(const HttpRequest& request, const HttpReply& reply) {
  const auto id = by_name(request.resource);
  Session* session = id ? find(*id) : nullptr;
  if (!session || session->pending) return reply(text_response(404, "no such WHEP session"));
  if (media_type(request.content_type) != kSdpFrag)
    return reply(text_response(415, "Content-Type must be application/trickle-ice-sdpfrag"));
  if (request.if_match == "*")
    return reply(text_response(422, "ICE restart is not supported: start a new session"));
  if (!request.if_match.empty() && request.if_match != session->etag)
    return reply(text_response(412, "If-Match does not match the session's ETag"));
  const FragmentParse parsed = parse_trickle_fragment(request.body);
  if (!parsed.fragment) return reply(text_response(400, parsed.error));
  const TrickleFragment& fragment = *parsed.fragment;
  if ((!fragment.ufrag.empty() && fragment.ufrag != session->offer.ufrag) ||
      (!fragment.pwd.empty() && fragment.pwd != session->offer.pwd))
    return reply(text_response(422, "ICE restart is not supported: start a new session"));
  std::vector<std::string> errors;
  for (const auto& candidate : fragment.candidates) {
    unsigned mline = 0;
    if (!candidate.mid.empty()) {
      const auto& mids = session->offer.mids;
      std::size_t i = 0;
      while (i < mids.size() && mids[i] != candidate.mid) ++i;
      if (i == mids.size()) {
        errors.push_back("no media section with mid " + candidate.mid.substr(0, 32));
        continue;
      }
      mline = static_cast<unsigned>(i);
    }
    session->patch_errors = &errors;
    hub_->on_candidate(*id, mline, candidate.candidate);
    session = find(*id);
    if (!session) return reply(text_response(404, "the WHEP session ended"));
    session->patch_errors = nullptr;
  }
  if (!errors.empty()) return reply(text_response(400, errors.front()));
  reply({204, kText, {}, {{"ETag", session->etag}}});
}

void WhepSessions::on_delete(const HttpRequest& request, const HttpReply& reply) {
  const auto id = by_name(request.resource);
  if (!id) return reply(text_response(404, "no such WHEP session"));
  log::info(log::Viewer{*id, find(*id)->peer}, "WHEP session deleted by the player");
  forget(*id);
  if (hub_) hub_->on_disconnected(*id, "WHEP session deleted");
  reply(text_response(200, "session ended"));
}

void WhepSessions::close_all() {
  std::vector<ViewerId> ids;
  for (const auto& [id, session] : sessions_) ids.push_back(id);
  for (const ViewerId id : ids) close(id);
}

WhepSessions::Session* WhepSessions::find(ViewerId id) {
  const auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

std::optional<ViewerId> WhepSessions::by_name(const std::string& name) const {
  const auto it = names_.find(name);
  if (it == names_.end()) return std::nullopt;
  return it->second;
}

void WhepSessions::forget(ViewerId id) {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (it->second.deadline) g_source_remove(it->second.deadline);
  names_.erase(it->second.name);
  sessions_.erase(it);
}

void WhepSessions::send_answer(ViewerId id, const std::string& sdp) {
  Session* session = find(id);
  if (!session) return;
  session->answer = sdp;
  answer_if_ready(id, false);
}

void WhepSessions::send_candidate(ViewerId id, unsigned mline, const std::string& candidate) {
  Session* session = find(id);
  if (!session) return;
  if (!session->pending) {
    // WHEP cannot trickle the server's candidates; the answer had the others.
    log::debug(log::Viewer{id, session->peer},
               "WHEP: candidate after the answer not sent: ", candidate);
    return;
  }
  session->candidates.emplace_back(mline, candidate);
}

void WhepSessions::gathering_done(ViewerId id) {
  Session* session = find(id);
  if (!session) return;
  session->gathered = true;
  answer_if_ready(id, false);
}

void WhepSessions::send_error(ViewerId id, const std::string& message) {
  Session* session = find(id);
  if (!session) return;
  if (session->patch_errors) {
    session->patch_errors->push_back(message);
    return;
  }
  // No channel back to a WHEP player besides the replies: the hub has
  // logged it; a refusal (send_refusal) ends the session.
  log::debug(log::Viewer{id, session->peer}, "WHEP: not sent to the player: ", message);
}

void WhepSessions::send_refusal(ViewerId id, Refusal reason, const std::string& message) {
  Session* session = find(id);
  if (!session || !session->pending) return;
  HttpResponse response = text_response(status_for(reason), message);
  if (response.status == 503)
    response.headers.emplace_back("Retry-After", std::to_string(settings_.retry_after_s));
  (*session->pending)(std::move(response));
  session->pending.reset();
}

void WhepSessions::close(ViewerId id) {
  Session* session = find(id);
  if (!session) return;
  if (session->pending) (*session->pending)(text_response(503, "the session ended"));
  forget(id);
}

}  // namespace cs::whep
