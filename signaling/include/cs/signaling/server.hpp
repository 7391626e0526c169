#pragma once
// The HTTP + WebSocket server (libwebsockets) on its own service thread:
// serves the embedded viewer page at GET /, the signaling socket at /ws and
// the endpoints its owner registers, routed by method and path in one table
// (http_route.hpp): an unknown path is 404, a known one with another method
// 405 with `Allow`.
//
// Thread rules: lws is touched by the service thread only. Inbound events
// go out through the `deliver` callback, called on the service thread (hand
// them to a queue). send() and close() may be called from any thread: they
// queue into a per-connection outbox and wake the service thread with
// lws_cancel_service, the one lws call that is thread-safe.
//
// A viewer that stops answering (a frozen process whose TCP socket stays
// open) is pinged `ping_after_s` after its last pong and its socket closed
// `hang_up_after_s` after it, with one log line; it then arrives as `closed`
// at once, without waiting for lws to finish tearing the socket down. A socket
// that never completes its HTTP request or upgrade is dropped after
// `idle_request_s`; one that sends its request too slowly to finish within
// it is dropped too (a deadline from the accept, not an idle timer).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cs/embedded.hpp"
#include "cs/refusals.hpp"

namespace cs::signaling {

using ConnectionId = std::uint64_t;

struct Inbound {
  enum class Kind { opened, message, closed } kind;
  ConnectionId id;
  std::string text;    // message only
  std::string remote;  // opened only: the client's address
};

// One HTTP request to an endpoint, as the handler sees it.
struct HttpRequest {
  std::string method;    // "GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "HEAD"
  std::string path;      // the path asked for (no query)
  std::string resource;  // a "/*" endpoint's last segment (http_route.hpp), else ""
  std::string query;     // the arguments lws decoded, joined with '&' ("" when none)
  std::string peer;      // the client's address
  std::string content_type;
  std::string body;      // POST, PATCH and PUT: up to ServerSettings::max_body_bytes
  std::string if_match;  // the If-Match header, as sent
  std::string origin;    // cross_origin endpoints: the allowed Origin, else ""
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Further headers ("Location", "Allow", ...); names without the colon.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Answers one request, exactly once, from any thread (it queues the
// response and wakes the service thread). A reply for a connection that
// closed meanwhile, or after the server is gone, is dropped; so is a second.
using HttpReply = std::function<void(HttpResponse)>;
// Called on the service thread: answers at once through `reply`, or keeps
// it and answers later (e.g. from the GLib main loop). Must not block.
using HttpHandler = std::function<void(const HttpRequest&, HttpReply reply)>;

// An endpoint: a method and an exact path (the rules of http_route.hpp),
// one entry of the one routing table beside the page's files and /ws.
struct HttpEndpoint {
  std::string method;
  std::string path;
  HttpHandler handler;
  bool needs_token = true;  // CS_AUTH_TOKEN applies (off for /healthz and CORS preflights)
  // Pages of other origins may call it (WHEP players): a request whose
  // Origin is neither the server's own nor in allowed_origins gets 403, and
  // every response to an allowed one (refusals included) carries
  // Access-Control-Allow-Origin and exposes Location, ETag and Link.
  bool cross_origin = false;
};

// A handler that always answers at once.
inline HttpHandler answer_with(std::function<HttpResponse(const HttpRequest&)> make) {
  return [make = std::move(make)](const HttpRequest& request, const HttpReply& reply) {
    reply(make(request));
  };
}

struct ServerSettings {
  std::string host = "0.0.0.0";
  int port = 8080;
  const EmbeddedFiles* web_files = nullptr;  // "index.html", ...
  // Served beside the files and /ws (GET /stats, /healthz, /metrics, ...).
  // A path may take several methods; another method gets 405 with Allow.
  // Handlers run on the service thread and must be thread-safe.
  std::vector<HttpEndpoint> endpoints;
  // A request body longer than this gets 413 and the connection is closed.
  std::size_t max_body_bytes = 64 * 1024;
  // An asynchronous reply not given within this gets 503.
  int reply_timeout_s = 15;
  // Refusals at the door (upgrade, socket limits), counted by reason; may be null.
  RefusalCounts* refusals = nullptr;
  // Called at most once, on the service thread, when the service loop ends
  // on its own (lws_service failed, an exception), with the cause to log:
  // the server then serves nothing and its owner should stop. Must be
  // thread-safe. Without it the server logs the cause itself.
  std::function<void(const std::string& why)> on_failure;
  int ping_after_s = 3;     // since the last pong (or the upgrade)
  int hang_up_after_s = 8;  // since the last pong: closed
  int idle_request_s = 5;   // to send a complete HTTP request

  // Refusals, each with one warn line naming the cause:
  // WebSockets open at once from one client address, counted from the
  // upgrade until lws has closed the socket; the next upgrade gets HTTP 429.
  // 0: no limit.
  int max_per_ip = 8;
  // Origins whose pages may open /ws besides the server's own ("*": any);
  // another Origin gets HTTP 403. An upgrade without Origin is let in.
  std::vector<std::string> allowed_origins;
  // When set, every request needs `Authorization: Bearer <token>` or
  // `?token=<token>`, else HTTP 401 (the page, the upgrade and every
  // endpoint but those with needs_token = false).
  std::string auth_token;
  // PEM paths, both or neither: the same port then speaks only HTTPS/WSS.
  std::string tls_cert;
  std::string tls_key;
  // Messages a WebSocket may send: `message_burst` at once, refilled at
  // `messages_per_s`; beyond that an `error` and the socket is closed.
  double messages_per_s = 20;
  int message_burst = 50;
};

class Server {
 public:
  struct Result {
    std::unique_ptr<Server> server;
    std::string error;
  };
  // Binds and starts the service thread.
  static Result start(const ServerSettings& settings, std::function<void(Inbound)> deliver);
  // Closes every WebSocket (close frame 1001, up to 1 s for the peers to
  // answer), stops the loop, then destroys the context on its own thread.
  ~Server();

  void send(ConnectionId id, std::string text);
  // Closes after the messages already queued for it are written.
  void close(ConnectionId id);
  // An id no WebSocket will ever get, for a viewer of another transport
  // (WHEP), so that viewer ids stay unique across them. Any thread.
  ConnectionId reserve_id();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cs::signaling
