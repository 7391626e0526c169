#include "http_client.hpp"

#include <memory>

namespace cstest {
namespace {

struct Pending {
  GObjPtr<SoupMessage> msg;
  HttpClient::Done done;
};

bool same_name(const std::string& a, const std::string& b) {
  return g_ascii_strcasecmp(a.c_str(), b.c_str()) == 0;
}

}  // namespace

std::string HttpReply::header(const std::string& name) const {
  for (const auto& [key, value] : headers)
    if (same_name(key, name)) return value;
  return {};
}

std::vector<std::string> HttpReply::all(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : headers)
    if (same_name(key, name)) out.push_back(value);
  return out;
}

std::string HttpReply::describe() const {
  if (status == 0) return "no HTTP reply: " + error;
  std::string text = "HTTP " + std::to_string(status) + " " + reason;
  std::string first_line = body.substr(0, body.find_first_of("\r\n"));
  if (first_line.size() > 200) first_line = first_line.substr(0, 200) + "...";
  if (!first_line.empty()) text += ": " + first_line;
  return text;
}

// Up to 8 connections: a Janus long poll holds one while requests go on.
HttpClient::HttpClient(unsigned timeout_s)
    : session_(
          soup_session_new_with_options("max-conns-per-host", 8, "timeout", timeout_s, nullptr)),
      cancellable_(g_cancellable_new()) {}

HttpClient::~HttpClient() {
  g_cancellable_cancel(cancellable_.get());
}

void HttpClient::cancel() {
  g_cancellable_cancel(cancellable_.get());
  cancellable_.reset(g_cancellable_new());
}

void HttpClient::request(const HttpRequest& request, Done done) {
  GObjPtr<SoupMessage> msg(soup_message_new(request.method.c_str(), request.url.c_str()));
  if (!msg) {
    HttpReply reply;
    reply.error = "not a URL: " + request.url;
    if (done)
      run_on_main(
          [done = std::move(done), reply = std::move(reply)]() mutable { done(std::move(reply)); });
    return;
  }
  SoupMessageHeaders* headers = soup_message_get_request_headers(msg.get());
  for (const auto& [name, value] : request.headers)
    soup_message_headers_append(headers, name.c_str(), value.c_str());
  if (!request.content_type.empty()) {
    std::unique_ptr<GBytes, FnDeleter<g_bytes_unref>> body(
        g_bytes_new(request.body.data(), request.body.size()));
    soup_message_set_request_body_from_bytes(msg.get(), request.content_type.c_str(), body.get());
  }
  auto* pending = new Pending{std::move(msg), std::move(done)};
  soup_session_send_and_read_async(session_.get(), pending->msg.get(), G_PRIORITY_DEFAULT,
                                   cancellable_.get(), &HttpClient::on_reply, pending);
}

void HttpClient::on_reply(GObject* source, GAsyncResult* result, gpointer data) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(data));
  GError* raw_error = nullptr;
  std::unique_ptr<GBytes, FnDeleter<g_bytes_unref>> body(
      soup_session_send_and_read_finish(SOUP_SESSION(source), result, &raw_error));
  ErrorPtr error(raw_error);
  if (error && g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) return;
  HttpReply reply;
  if (!body) {
    reply.error = error ? error->message : "unknown error";
    if (pending->done) pending->done(std::move(reply));
    return;
  }
  reply.status = soup_message_get_status(pending->msg.get());
  const char* reason = soup_message_get_reason_phrase(pending->msg.get());
  reply.reason = reason ? reason : "";
  SoupMessageHeaders* headers = soup_message_get_response_headers(pending->msg.get());
  soup_message_headers_foreach(
      headers,
      [](const char* name, const char* value, gpointer out) {
        static_cast<HttpReply*>(out)->headers.emplace_back(name, value);
      },
      &reply);
  gsize size = 0;
  const auto* bytes = static_cast<const char*>(g_bytes_get_data(body.get(), &size));
  reply.body.assign(bytes ? bytes : "", size);
  if (pending->done) pending->done(std::move(reply));
}

std::string resolve_url(const std::string& base, const std::string& location) {
  GError* raw_error = nullptr;
  CharPtr resolved(
      g_uri_resolve_relative(base.c_str(), location.c_str(), G_URI_FLAGS_NONE, &raw_error));
  ErrorPtr error(raw_error);
  return resolved ? std::string(resolved.get()) : std::string();
}

}  // namespace cstest
