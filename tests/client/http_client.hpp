#pragma once
// The test viewer's HTTP client for its HTTP signaling modes (WHEP; the
// Janus API): libsoup 3 on the GLib main loop, the reply (status, reason,
// headers, body) handed to a callback on the main loop thread. Destroying the
// client or cancel() drops what is in flight; those callbacks never run.
#include <libsoup/soup.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "raii.hpp"

namespace cstest {

struct HttpRequest {
  std::string method;  // "POST", "PATCH", "DELETE", ...
  std::string url;
  std::string content_type;  // with a body; empty: no body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpReply {
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

class HttpClient {
 public:
  using Done = std::function<void(HttpReply reply)>;
  // `timeout_s`: a request with no reply for that long fails; 0 waits for
  // ever (a Janus long poll holds its request up to 30 s).
  explicit HttpClient(unsigned timeout_s = 20);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  // Sends the request; `done` (may be empty) runs on the main loop, also for
  // a bad URL.
  void request(const HttpRequest& request, Done done);
  void request(const std::string& method, const std::string& url, const std::string& content_type,
               const std::string& body, Done done) {
    request(HttpRequest{.method = method,
                        .url = url,
                        .content_type = content_type,
                        .body = body,
                        .headers = {}},
            std::move(done));
  }
  // Drops every request in flight; their callbacks never run.
  void cancel();

 private:
  static void on_reply(GObject* source, GAsyncResult* result, gpointer data);
  GObjPtr<SoupSession> session_;
  GObjPtr<GCancellable> cancellable_;
};

// `location` (absolute or relative, e.g. "/whep/abc") against `base`.
std::string resolve_url(const std::string& base, const std::string& location);

}  // namespace cstest
