#pragma once
// A signaling WebSocket client on the GLib main loop (libsoup 3). All
// callbacks run on the main loop thread.
#include <libsoup/soup.h>

#include <functional>
#include <string>

#include "raii.hpp"

namespace cstest {

class WsClient {
 public:
  struct Handlers {
    std::function<void()> on_open;
    std::function<void(const std::string& error)> on_fail;  // connect failed
    std::function<void(const std::string& text)> on_message;
    std::function<void()> on_closed;
  };

  explicit WsClient(Handlers handlers);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void connect(const std::string& url);
  bool is_open() const;
  void send(const std::string& text);
  // Polite close (close frame, then wait for the peer's close).
  void close();
  // Drops the TCP connection without a close frame (a killed tab).
  void abort();
  bool finished() const { return finished_; }  // closed, failed or never started

 private:
  static void on_connected(GObject* source, GAsyncResult* result, gpointer self);
  static void on_message_cb(SoupWebsocketConnection*, gint type, GBytes* bytes, gpointer self);
  static void on_closed_cb(SoupWebsocketConnection*, gpointer self);
  void disconnect_signals();

  Handlers handlers_;
  GObjPtr<SoupSession> session_;
  GObjPtr<GCancellable> cancellable_;
  GObjPtr<SoupWebsocketConnection> conn_;
  bool finished_ = true;
};

}  // namespace cstest
