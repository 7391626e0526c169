#pragma once
// A tiny HTTP/1.1 client for the WHEP mode (libsoup 3 on the GLib main loop):
// one request at a time per call, the reply (status, reason, headers, body)
// handed to a callback on the main loop thread. Destroying the client
// cancels what is in flight; its callbacks then never run.
#include <libsoup/soup.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "raii.hpp"

namespace cstest {

struct WhepHttpRequest {
  std::string method;  // "POST", "PATCH", "DELETE", ...
  std::string url;
  std::string content_type;  // with a body; empty: no body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct WhepHttpReply {
  guint status = 0;                                          // 0: no HTTP reply at all (see error)
  std::string reason;                                        // the status line's reason phrase
  std::string error;                                         // transport error, when status is 0
  std::vector<std::pair<std::string, std::string>> headers;  // in order, as received
  std::string body;
  // The first header of that name (case-insensitive), or "".
  std::string header(const std::string& name) const;
  // Every header of that name, in order.
  std::vector<std::string> all(const std::string& name) const;
  // "HTTP 503 Service Unavailable: server full" (the body's first line), or
  // the transport error.
  std::string describe() const;
};

class WhepHttp {
 public:
  using Done = std::function<void(WhepHttpReply reply)>;
  WhepHttp();
  ~WhepHttp();
  WhepHttp(const WhepHttp&) = delete;
  WhepHttp& operator=(const WhepHttp&) = delete;
  // Sends the request; `done` runs on the main loop (also for a bad URL).
  void request(const WhepHttpRequest& request, Done done);

 private:
  static void on_reply(GObject* source, GAsyncResult* result, gpointer data);
  GObjPtr<SoupSession> session_;
  GObjPtr<GCancellable> cancellable_;
};

// `location` (absolute or relative, e.g. "/whep/abc") against `base`.
std::string resolve_url(const std::string& base, const std::string& location);

}  // namespace cstest
