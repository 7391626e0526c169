#include "http_client.hpp"

#include <cctype>

namespace cstest {
namespace {

struct Pending {
  GObjPtr<SoupMessage> message;
  HttpClient::Done done;
};

std::string lower(std::string text) {
  for (auto& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return text;
}

void on_reply(GObject* source, GAsyncResult* result, gpointer data) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(data));
  GError* raw = nullptr;
  GBytes* bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &raw);
  ErrorPtr error(raw);
  if (error && g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    if (bytes) g_bytes_unref(bytes);
    return;  // cancel(): the owner may be gone
  }
  HttpReply reply;
  if (!bytes) {
    reply.error = error ? error->message : "no reply";
  } else {
    gsize size = 0;
    const auto* text = static_cast<const char*>(g_bytes_get_data(bytes, &size));
    reply.body.assign(text ? text : "", size);
    g_bytes_unref(bytes);
    reply.status = static_cast<int>(soup_message_get_status(pending->message.get()));
    SoupMessageHeadersIter iter;
    soup_message_headers_iter_init(&iter,
                                   soup_message_get_response_headers(pending->message.get()));
    const char* name = nullptr;
    const char* value = nullptr;
    while (soup_message_headers_iter_next(&iter, &name, &value))
      reply.headers[lower(name)] = value ? value : "";
  }
  if (pending->done) pending->done(reply);
}

}  // namespace

HttpClient::HttpClient()
    : session_(soup_session_new_with_options("max-conns-per-host", 8, "timeout", 0u, nullptr)),
      cancellable_(g_cancellable_new()) {}

HttpClient::~HttpClient() {
  cancel();
}

void HttpClient::cancel() {
  g_cancellable_cancel(cancellable_.get());
  cancellable_.reset(g_cancellable_new());
}

void HttpClient::request(const std::string& method, const std::string& url,
                         const std::string& content_type, const std::string& body, Done done) {
  auto pending = std::make_unique<Pending>();
  pending->message.reset(soup_message_new(method.c_str(), url.c_str()));
  pending->done = std::move(done);
  if (!pending->message) {
    HttpReply reply;
    reply.error = "not a URL: " + url;
    if (pending->done) pending->done(reply);
    return;
  }
  if (!content_type.empty()) {
    GBytes* bytes = g_bytes_new(body.data(), body.size());
    soup_message_set_request_body_from_bytes(pending->message.get(), content_type.c_str(), bytes);
    g_bytes_unref(bytes);
  }
  SoupMessage* message = pending->message.get();
  soup_session_send_and_read_async(session_.get(), message, G_PRIORITY_DEFAULT, cancellable_.get(),
                                   &on_reply, pending.release());
}

}  // namespace cstest
