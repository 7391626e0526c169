#include "ws_client.hpp"

namespace cstest {

WsClient::WsClient(Handlers handlers)
    : handlers_(std::move(handlers)),
      session_(soup_session_new()),
      cancellable_(g_cancellable_new()) {}

WsClient::~WsClient() {
  g_cancellable_cancel(cancellable_.get());
  disconnect_signals();
  if (conn_ && soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
}

void WsClient::disconnect_signals() {
  if (conn_) g_signal_handlers_disconnect_by_data(conn_.get(), this);
}

void WsClient::connect(const std::string& url) {
  GObjPtr<SoupMessage> msg(soup_message_new(SOUP_METHOD_GET, url.c_str()));
  if (!msg) {
    finished_ = true;
    handlers_.on_fail("bad url: " + url);
    return;
  }
  finished_ = false;
  soup_session_websocket_connect_async(session_.get(), msg.get(), nullptr, nullptr,
                                       G_PRIORITY_DEFAULT, cancellable_.get(), &on_connected, this);
}

void WsClient::on_connected(GObject* source, GAsyncResult* result, gpointer data) {
  GError* raw_error = nullptr;
  auto* conn = soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &raw_error);
  ErrorPtr error(raw_error);
  if (error && g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) return;
  auto* self = static_cast<WsClient*>(data);
  if (!conn) {
    self->finished_ = true;
    self->handlers_.on_fail(error ? error->message : "unknown error");
    return;
  }
  self->conn_.reset(conn);
  soup_websocket_connection_set_max_incoming_payload_size(conn, 1 << 20);
  g_signal_connect(conn, "message", G_CALLBACK(&on_message_cb), self);
  g_signal_connect(conn, "closed", G_CALLBACK(&on_closed_cb), self);
  if (self->handlers_.on_open) self->handlers_.on_open();
}

void WsClient::on_message_cb(SoupWebsocketConnection*, gint type, GBytes* bytes, gpointer data) {
  auto* self = static_cast<WsClient*>(data);
  if (type != SOUP_WEBSOCKET_DATA_TEXT || !self->handlers_.on_message) return;
  gsize size = 0;
  auto* text = static_cast<const char*>(g_bytes_get_data(bytes, &size));
  self->handlers_.on_message(std::string(text ? text : "", size));
}

void WsClient::on_closed_cb(SoupWebsocketConnection*, gpointer data) {
  auto* self = static_cast<WsClient*>(data);
  self->finished_ = true;
  if (self->handlers_.on_closed) self->handlers_.on_closed();
}

bool WsClient::is_open() const {
  return conn_ && soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN;
}

void WsClient::send(const std::string& text) {
  if (is_open()) soup_websocket_connection_send_text(conn_.get(), text.c_str());
}

void WsClient::close() {
  if (is_open()) {
    soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
  } else if (!conn_) {
    g_cancellable_cancel(cancellable_.get());
    finished_ = true;
  }
}

void WsClient::abort() {
  if (!conn_) {
    close();
    return;
  }
  disconnect_signals();
  g_io_stream_close(soup_websocket_connection_get_io_stream(conn_.get()), nullptr, nullptr);
  conn_.reset();
  finished_ = true;
  if (handlers_.on_closed) handlers_.on_closed();
}

}  // namespace cstest
