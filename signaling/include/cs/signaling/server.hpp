#pragma once
// The HTTP + WebSocket server (libwebsockets) on its own service thread:
// serves the embedded viewer page at GET / and the signaling socket at /ws.
//
// Thread rules: lws is touched by the service thread only. Inbound events
// go out through the `deliver` callback, called on the service thread (hand
// them to a queue). send() and close() may be called from any thread: they
// queue into a per-connection outbox and wake the service thread with
// lws_cancel_service, the one lws call that is thread-safe.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

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
};

class Server {
 public:
  struct Result {
    std::unique_ptr<Server> server;
    std::string error;
  };
  // Binds and starts the service thread.
  static Result start(const ServerSettings& settings, std::function<void(Inbound)> deliver);
  ~Server();  // stops the loop, then destroys the context on its own thread

  void send(ConnectionId id, std::string text);
  // Closes after the messages already queued for it are written.
  void close(ConnectionId id);

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cs::signaling
