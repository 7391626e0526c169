#pragma once
// Small asynchronous HTTP client on the GLib main loop (libsoup 3), for the
// test viewer's HTTP signaling modes (Janus API; WHEP). Callbacks run on
// the main loop thread; none runs after the client is destroyed or
// cancel() was called.
#include <libsoup/soup.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "raii.hpp"

namespace cstest {

struct HttpReply {
  int status = 0;     // 0: no reply (error says why)
  std::string error;  // transport failure
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

class HttpClient {
 public:
  using Done = std::function<void(const HttpReply& reply)>;

  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `content_type` empty: no body. `done` may be empty (fire and forget).
  void request(const std::string& method, const std::string& url, const std::string& content_type,
               const std::string& body, Done done);
  // Drops every request in flight; their callbacks never run.
  void cancel();

 private:
  GObjPtr<SoupSession> session_;
  GObjPtr<GCancellable> cancellable_;
};

}  // namespace cstest
