#pragma once
// The HTTP + WebSocket server (libwebsockets) on its own service thread:
// serves the embedded viewer page at GET / and the signaling socket at /ws.
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
#include <vector>

#include "cs/embedded.hpp"

namespace cs::signaling {

using ConnectionId = std::uint64_t;

struct Inbound {
  enum class Kind { opened, message, closed } kind;
  ConnectionId id;
  std::string text;  // message only
};

struct ServerSettings {
  std::string host = "0.0.0.0";
  int port = 8080;
  const EmbeddedFiles* web_files = nullptr;  // "index.html", ...
  // GET /stats: JSON made on the service thread; must be thread-safe.
  std::function<std::string()> stats_json;
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
  // `?token=<token>`, else HTTP 401 (the page, /stats and the upgrade).
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

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cs::signaling
