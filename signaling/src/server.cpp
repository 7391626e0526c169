#include "cs/signaling/server.hpp"

#include <libwebsockets.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cs/log.hpp"
#include "cs/signaling/protocol.hpp"

namespace cs::signaling {

struct Connection {
  ConnectionId id;
  std::string incoming;  // reassembled fragments of the current message
  bool oversized = false;
  bool binary = false;
};

namespace {

// Raw per-connection memory from lws (zeroed): holds plain pointers only.
struct PerSession {
  Connection* connection;   // WebSocket sessions
  const char* body;         // HTTP response being written
  std::string* owned_body;  // when the body is made per request
  std::size_t body_size;
  std::size_t body_sent;
};

void release_body(PerSession* pss) {
  delete pss->owned_body;
  pss->owned_body = nullptr;
  pss->body = nullptr;
}

const char* mime_type(std::string_view name) {
  auto ends = [&](std::string_view s) {
    return name.size() >= s.size() && name.substr(name.size() - s.size()) == s;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

void lws_log_line(int level, const char* line) {
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  log::at(level == LLL_ERR ? log::Level::error : log::Level::warn, "lws: ", text);
}

}  // namespace

// Messages waiting for a connection's next writeable callback.
struct Outgoing {
  std::deque<std::string> messages;
  bool close_after = false;
};

struct Server::Impl {
  ServerSettings settings;
  std::function<void(Inbound)> deliver;
  lws_context* context = nullptr;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<bool> context_alive{false};

  // Shared with other threads.
  std::mutex outbox_mutex;
  std::unordered_map<ConnectionId, Outgoing> outbox;

  // Service thread only.
  std::unordered_map<ConnectionId, lws*> sockets;
  ConnectionId next_id = 1;

  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  int on_http(lws* wsi, PerSession* pss, const char* uri);
  int on_http_writeable(lws* wsi, PerSession* pss);
  int on_receive(lws* wsi, Connection& c, const void* in, size_t len);
  int on_writeable(lws* wsi, Connection& c);
  void on_wake();
  void queue_local(ConnectionId id, std::string text, bool close_after);
};

namespace {
const lws_protocols* protocol_table() {
  static const lws_protocols protocols[] = {
      {"cube-streamer", Server::Impl::callback, sizeof(PerSession), 0, 0, nullptr, 0},
      {nullptr, nullptr, 0, 0, 0, nullptr, 0},
  };
  return protocols;
}
}  // namespace

int Server::Impl::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                           size_t len) {
  auto* self = static_cast<Impl*>(lws_context_user(lws_get_context(wsi)));
  auto* pss = static_cast<PerSession*>(user);
  switch (reason) {
    case LWS_CALLBACK_HTTP:
      return self->on_http(wsi, pss, static_cast<const char*>(in));
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return self->on_http_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      if (pss) release_body(pss);
      return lws_callback_http_dummy(wsi, reason, user, in, len);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      // Only /ws upgrades. Origin is not restricted: the server keeps no
      // cookies or credentials, so a cross-site page gains nothing a direct
      // client would not have.
      char uri[64] = {};
      if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || std::strcmp(uri, "/ws") != 0)
        return 1;
      return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
      pss->connection = new Connection{self->next_id++, {}, false, false};
      self->sockets[pss->connection->id] = wsi;
      self->deliver({Inbound::Kind::opened, pss->connection->id, {}});
      return 0;
    }
    case LWS_CALLBACK_RECEIVE:
      return pss->connection ? self->on_receive(wsi, *pss->connection, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return pss->connection ? self->on_writeable(wsi, *pss->connection) : 0;
    case LWS_CALLBACK_CLOSED: {
      if (!pss->connection) return 0;
      const ConnectionId id = pss->connection->id;
      self->sockets.erase(id);
      {
        std::lock_guard lock(self->outbox_mutex);
        self->outbox.erase(id);
      }
      delete pss->connection;
      pss->connection = nullptr;
      self->deliver({Inbound::Kind::closed, id, {}});
      return 0;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      self->on_wake();
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

int Server::Impl::on_http(lws* wsi, PerSession* pss, const char* uri) {
  std::string_view path = uri ? uri : "/";
  if (path == "/" || path.empty()) path = "/index.html";
  std::string name(path.substr(1));
  std::optional<std::string_view> body;
  if (name == "stats" && settings.stats_json) {
    release_body(pss);
    pss->owned_body = new std::string(settings.stats_json());
    body = *pss->owned_body;
    name = "stats.json";
  } else if (settings.web_files) {
    body = settings.web_files->find(name);
  }
  if (!body || name.find("..") != std::string::npos) {
    if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, nullptr)) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }
  unsigned char headers[LWS_PRE + 1024];
  unsigned char* start = headers + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = headers + sizeof headers - 1;
  if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, mime_type(name), body->size(), &p, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                   reinterpret_cast<const unsigned char*>("no-cache"), 8, &p,
                                   end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return 1;
  pss->body = body->data();
  pss->body_size = body->size();
  pss->body_sent = 0;
  lws_callback_on_writable(wsi);
  return 0;
}

int Server::Impl::on_http_writeable(lws* wsi, PerSession* pss) {
  if (!pss->body) return 0;
  constexpr std::size_t kChunk = 16 * 1024;
  std::vector<unsigned char> buffer(LWS_PRE + kChunk);
  const std::size_t n = std::min(kChunk, pss->body_size - pss->body_sent);
  std::memcpy(buffer.data() + LWS_PRE, pss->body + pss->body_sent, n);
  pss->body_sent += n;
  const bool last = pss->body_sent >= pss->body_size;
  if (lws_write(wsi, buffer.data() + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
      static_cast<int>(n))
    return -1;
  if (!last) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  release_body(pss);
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int Server::Impl::on_receive(lws* wsi, Connection& c, const void* in, size_t len) {
  if (lws_is_first_fragment(wsi)) {
    c.incoming.clear();
    c.oversized = false;
    c.binary = lws_frame_is_binary(wsi) != 0;
  }
  if (!c.oversized) {
    if (c.incoming.size() + len > kMaxMessageBytes) {
      c.oversized = true;
      c.incoming.clear();
    } else {
      c.incoming.append(static_cast<const char*>(in), len);
    }
  }
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0) return 0;
  if (c.oversized) {
    queue_local(c.id,
                error_json("message larger than " + std::to_string(kMaxMessageBytes) + " bytes"),
                false);
    c.oversized = false;
    return 0;
  }
  if (c.binary) {
    // SPEC.md's protocol is JSON text messages.
    queue_local(c.id, error_json("binary frames are not accepted: send JSON text"), false);
    c.incoming.clear();
    return 0;
  }
  deliver({Inbound::Kind::message, c.id, std::move(c.incoming)});
  c.incoming.clear();
  return 0;
}

int Server::Impl::on_writeable(lws* wsi, Connection& c) {
  std::string message;
  bool more = false, close_now = false;
  {
    std::lock_guard lock(outbox_mutex);
    auto it = outbox.find(c.id);
    if (it == outbox.end()) return 0;
    if (!it->second.messages.empty()) {
      message = std::move(it->second.messages.front());
      it->second.messages.pop_front();
    }
    more = !it->second.messages.empty();
    close_now = !more && it->second.close_after;
  }
  if (!message.empty()) {
    std::vector<unsigned char> buffer(LWS_PRE + message.size());
    std::memcpy(buffer.data() + LWS_PRE, message.data(), message.size());
    if (lws_write(wsi, buffer.data() + LWS_PRE, message.size(), LWS_WRITE_TEXT) <
        static_cast<int>(message.size())) {
      log::warn("signaling: write to connection ", c.id, " failed; closing it");
      return -1;
    }
  }
  if (close_now) {
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, nullptr, 0);
    return -1;
  }
  if (more) lws_callback_on_writable(wsi);
  return 0;
}

void Server::Impl::on_wake() {
  std::vector<ConnectionId> pending;
  {
    std::lock_guard lock(outbox_mutex);
    for (auto it = outbox.begin(); it != outbox.end();) {
      // Ids are made on this thread at ESTABLISHED, so one not in `sockets`
      // has closed: what was queued for it has nowhere to go.
      if (!sockets.count(it->first)) {
        it = outbox.erase(it);
        continue;
      }
      if (!it->second.messages.empty() || it->second.close_after) pending.push_back(it->first);
      ++it;
    }
  }
  for (ConnectionId id : pending)
    if (auto it = sockets.find(id); it != sockets.end()) lws_callback_on_writable(it->second);
}

void Server::Impl::queue_local(ConnectionId id, std::string text, bool close_after) {
  {
    std::lock_guard lock(outbox_mutex);
    auto& out = outbox[id];
    if (!text.empty()) out.messages.push_back(std::move(text));
    out.close_after = out.close_after || close_after;
  }
  if (auto it = sockets.find(id); it != sockets.end()) lws_callback_on_writable(it->second);
}

Server::Result Server::start(const ServerSettings& settings, std::function<void(Inbound)> deliver) {
  auto impl = std::make_unique<Impl>();
  impl->settings = settings;
  impl->deliver = std::move(deliver);
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);

  // Created on the service thread, which alone may touch it; this thread
  // only learns whether that worked.
  std::mutex ready_mutex;
  std::condition_variable ready;
  bool done = false;
  std::string error;
  Impl* raw = impl.get();
  impl->thread = std::thread([raw, &ready_mutex, &ready, &done, &error] {
    lws_context_creation_info info{};
    info.port = raw->settings.port;
    const std::string& host = raw->settings.host;
    info.iface = (host == "0.0.0.0" || host == "::") ? nullptr : host.c_str();
    info.protocols = protocol_table();
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.user = raw;
    info.gid = -1;
    info.uid = -1;
    raw->context = lws_create_context(&info);
    {
      std::lock_guard lock(ready_mutex);
      if (!raw->context)
        error = "cannot listen on " + host + ":" + std::to_string(raw->settings.port) +
                " (address in use or not available?)";
      else
        raw->context_alive = true;
      done = true;
    }
    ready.notify_all();
    if (!raw->context) return;
    while (!raw->stopping.load()) {
      if (lws_service(raw->context, 0) < 0) break;
    }
    raw->context_alive = false;
    lws_context_destroy(raw->context);
    raw->context = nullptr;
  });
  std::unique_lock lock(ready_mutex);
  ready.wait(lock, [&] { return done; });
  if (!error.empty()) {
    lock.unlock();
    impl->thread.join();
    return {nullptr, error};
  }
  log::info("signaling: serving http://", settings.host, ":", settings.port, "/ and /ws");
  return {std::unique_ptr<Server>(new Server(std::move(impl))), {}};
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  impl_->stopping.store(true);
  if (impl_->context_alive.load()) lws_cancel_service(impl_->context);
  impl_->thread.join();
}

void Server::send(ConnectionId id, std::string text) {
  {
    std::lock_guard lock(impl_->outbox_mutex);
    impl_->outbox[id].messages.push_back(std::move(text));
  }
  lws_cancel_service(impl_->context);
}

void Server::close(ConnectionId id) {
  {
    std::lock_guard lock(impl_->outbox_mutex);
    impl_->outbox[id].close_after = true;
  }
  lws_cancel_service(impl_->context);
}

}  // namespace cs::signaling
