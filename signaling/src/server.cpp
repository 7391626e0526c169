#include "cs/signaling/server.hpp"

#include <libwebsockets.h>

#include <strings.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cs/faults.hpp"
#include "cs/log.hpp"
#include "cs/signaling/access.hpp"
#include "cs/signaling/http_route.hpp"
#include "cs/signaling/protocol.hpp"
#include "cs/token_bucket.hpp"

namespace cs::signaling {

struct Connection {
  ConnectionId id = 0;
  std::string peer;      // the client's address, for log lines
  std::string incoming;  // reassembled fragments of the current message
  bool binary = false;
  std::int64_t valid_ns = 0;  // the upgrade or the last pong
  bool ping_due = false;      // to be written at the next writeable
  bool ping_unanswered = false;
  bool peer_closed = false;     // the peer sent a close frame
  bool we_closed = false;       // we closed it (asked for, or no pong)
  bool refused = false;         // flooded or oversized: its further input is ignored
  TokenBucket bucket{0, 0, 0};  // messages it may still send
};

namespace {

// lws's header space per request (its default is 4096): a request whose
// headers do not fit is dropped by lws.
constexpr int kMaxHeaderBytes = 8192;

// Bytes of a refused oversized body read and thrown away before the
// connection is closed (so the client reads the 413, not a reset).
constexpr std::size_t kMaxDiscardBytes = 1024 * 1024;

// One HTTP request on its way through: the body being collected, the
// handler's reply awaited, then the response body being written.
struct HttpExchange {
  std::uint64_t id = 0;
  std::size_t endpoint = 0;
  HttpRequest request;
  bool collecting = false;  // body callbacks append to request.body
  bool discarding = false;  // answered 413: the rest of the body is dropped, then close
  std::size_t discarded = 0;
  bool awaiting_reply = false;
  const char* body = nullptr;  // being written: a file's bytes or owned_body
  std::string owned_body;
  std::size_t body_size = 0;
  std::size_t body_sent = 0;
};

// Raw per-connection memory from lws (zeroed): holds plain pointers only.
struct PerSession {
  Connection* connection;  // WebSocket sessions
  HttpExchange* exchange;  // HTTP requests
  bool counted;            // WebSocket counted in per_ip under `peer` until CLOSED
  char peer[64];           // its client address
};

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

std::int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// An lws timer (service thread only) whose firing only marks it and makes
// lws_service return, so that the loop looks at its state again.
struct LoopTimer {
  lws_sorted_usec_list_t sul;  // first: the callback casts back from it
  bool fired;
};

void mark_fired(lws_sorted_usec_list_t* sul) {
  reinterpret_cast<LoopTimer*>(sul)->fired = true;
}

void lws_log_line(int level, const char* line) {
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  // Said when our callback refuses an upgrade, which has logged why.
  if (text.find("User code denied connection") != std::string::npos) return;
  // lws drops such a request without a reply; say so in our terms.
  if (text.find("Ran out of header data space") != std::string::npos) {
    log::warn("signaling: refused an HTTP request whose headers exceed ", kMaxHeaderBytes,
              " bytes: connection dropped");
    return;
  }
  if (text.find("client did not send a valid tls hello") != std::string::npos) {
    log::warn(
        "signaling: refused a connection that did not start with a TLS handshake (plain "
        "HTTP to the TLS port?): connection dropped");
    return;
  }
  // Notices are lws's chatter (versions, TLS modes); only the one above is ours.
  if (level == LLL_NOTICE) return;
  log::at(level == LLL_ERR ? log::Level::error : log::Level::warn, "lws: ", text);
}

// A request's path for a log line: short and printable whatever was sent.
std::string printable(std::string_view text) {
  constexpr std::size_t kMax = 80;
  std::string out;
  for (char ch : text.substr(0, kMax))
    out += (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') ? ch : '?';
  if (text.size() > kMax) out += "...";
  return out;
}

std::string header(lws* wsi, lws_token_indexes token) {
  const int n = lws_hdr_total_length(wsi, token);
  if (n <= 0) return {};
  std::string value(static_cast<std::size_t>(n) + 1, '\0');
  const int copied = lws_hdr_copy(wsi, value.data(), n + 1, token);
  if (copied < 0) return {};
  value.resize(static_cast<std::size_t>(copied));
  return value;
}

std::string peer_of(lws* wsi) {
  char peer[64] = {};
  if (!lws_get_peer_simple(wsi, peer, sizeof peer)) return "?";
  // A dual-stack socket names IPv4 peers ::ffff:a.b.c.d: one client, one key.
  std::string_view text = peer;
  if (text.substr(0, 7) == "::ffff:" && text.find('.') != std::string_view::npos)
    text.remove_prefix(7);
  return std::string(text);
}

const char* reason_phrase(int code) {
  static const std::pair<int, const char*> kPhrases[] = {
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {204, "No Content"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {406, "Not Acceptable"},
      {409, "Conflict"},
      {412, "Precondition Failed"},
      {413, "Payload Too Large"},
      {415, "Unsupported Media Type"},
      {422, "Unprocessable Content"},
      {429, "Too Many Requests"},
      {500, "Internal Server Error"},
      {503, "Service Unavailable"},
  };
  for (const auto& [known, phrase] : kPhrases)
    if (known == code) return phrase;
  return code < 400 ? "OK" : "Error";
}

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A header name or value we write: printable, no CR/LF (a handler's values
// are never allowed to split the response).
bool safe_header_text(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return !text.empty();
}

// A complete HTTP/1.1 reply with a small body; 0 when written. HTTP/2 is
// not offered (ALPN http/1.1 only), so the status line is ours to write.
int respond(lws* wsi, int code, const char* reason, std::string_view content_type,
            std::string_view body, bool ask_for_token = false, const HeaderList& extra = {}) {
  std::size_t extra_size = 0;
  for (const auto& [name, value] : extra) extra_size += name.size() + value.size() + 4;
  std::vector<unsigned char> buffer(LWS_PRE + 1024 + extra_size + body.size());
  unsigned char* start = buffer.data() + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = buffer.data() + buffer.size() - 1;
  const std::string status = "HTTP/1.1 " + std::to_string(code) + " " + reason;
  const std::string length = std::to_string(body.size());
  auto text = [](std::string_view v) { return reinterpret_cast<const unsigned char*>(v.data()); };
  auto size = [](std::string_view v) { return static_cast<int>(v.size()); };
  if (lws_add_http_header_by_name(wsi, nullptr, text(status), size(status), &p, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, text(content_type),
                                   size(content_type), &p, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, text(length), size(length),
                                   &p, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, text("no-store"), 8, &p,
                                   end) ||
      (ask_for_token && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE,
                                                     text("Bearer"), 6, &p, end)))
    return 1;
  for (const auto& [name, value] : extra) {
    const std::string with_colon = name + ":";
    if (lws_add_http_header_by_name(wsi, text(with_colon), text(value), size(value), &p, end))
      return 1;
  }
  if (lws_finalize_http_header(wsi, &p, end)) return 1;
  std::memcpy(p, body.data(), body.size());
  p += body.size();
  const int n = static_cast<int>(p - start);
  return lws_write(wsi, start, static_cast<size_t>(n), LWS_WRITE_HTTP) == n ? 0 : 1;
}

// A refusal's reply, then the transaction ends (keep-alive stays possible).
// The callback's return value: -1 closes the socket.
int refuse(lws* wsi, int code, const char* reason, bool ask_for_token = false,
           const HeaderList& extra = {}) {
  std::string body = "<!doctype html><title>" + std::to_string(code) + "</title><p>" +
                     std::to_string(code) + " " + reason + "</p>\n";
  if (code == 401) body = "<!doctype html><title>not authorised</title><p>not authorised</p>\n";
  if (respond(wsi, code, reason, "text/html; charset=utf-8", body, ask_for_token, extra)) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

// The request's method, as lws tells it (by which URI token it filled).
const char* method_of(lws* wsi) {
  static const std::pair<lws_token_indexes, const char*> kMethods[] = {
      {WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
      {WSI_TOKEN_PATCH_URI, "PATCH"},   {WSI_TOKEN_PUT_URI, "PUT"},
      {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
      {WSI_TOKEN_HEAD_URI, "HEAD"},
  };
  for (const auto& [token, name] : kMethods)
    if (lws_hdr_total_length(wsi, token) > 0) return name;
  return nullptr;
}

bool has_body(std::string_view method) {
  return method == "POST" || method == "PATCH" || method == "PUT";
}

// Replies handed over from any thread to the service thread. Shared with
// every HttpReply, which may outlive the server: once the context is gone
// replies are dropped.
struct ReplyQueue {
  std::mutex mutex;
  lws_context* context = nullptr;
  std::unordered_map<std::uint64_t, bool> open;  // exchanges waiting for their one reply
  std::unordered_map<std::uint64_t, HttpResponse> ready;

  void put(std::uint64_t id, HttpResponse response) {
    std::lock_guard lock(mutex);
    if (!open.erase(id)) return;  // answered already, or its connection closed
    ready.emplace(id, std::move(response));
    if (context) lws_cancel_service(context);
  }
  std::optional<HttpResponse> take(std::uint64_t id) {
    std::lock_guard lock(mutex);
    auto it = ready.find(id);
    if (it == ready.end()) return std::nullopt;
    HttpResponse r = std::move(it->second);
    ready.erase(it);
    return r;
  }
  void forget(std::uint64_t id) {
    std::lock_guard lock(mutex);
    open.erase(id);
    ready.erase(id);
  }
};

}  // namespace

// Messages waiting for a connection's next writeable callback.
struct Outgoing {
  std::deque<std::string> messages;
  bool close_after = false;
};

struct Server::Impl {
  ServerSettings settings;
  std::function<void(Inbound)> deliver;
  std::thread thread;
  std::atomic<bool> stopping{false};

  // Other threads wake the loop with lws_cancel_service; this mutex keeps
  // the service thread from destroying the context under such a call.
  std::mutex context_mutex;
  lws_context* context = nullptr;  // null once destroyed

  // Shared with other threads.
  std::mutex outbox_mutex;
  std::unordered_map<ConnectionId, Outgoing> outbox;
  std::shared_ptr<ReplyQueue> replies = std::make_shared<ReplyQueue>();

  // Service thread only.
  std::unordered_map<ConnectionId, lws*> sockets;
  std::atomic<ConnectionId> next_id{1};         // also taken by reserve_id(), any thread
  int open_websockets = 0;                      // ESTABLISHED minus CLOSED: lws still holds them
  std::unordered_map<std::string, int> per_ip;  // the same, by client address
  bool going_away = false;                      // closing everything because the server stops
  std::string failure;                          // why the loop must end on its own
  HttpRouteTable routes;                        // files, /ws and settings.endpoints
  std::uint64_t next_exchange = 1;
  std::unordered_map<std::uint64_t, lws*> awaiting;  // exchanges waiting for a reply

  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  int dispatch(lws* wsi, lws_callback_reasons reason, PerSession* pss, void* in, size_t len);
  int on_http(lws* wsi, PerSession* pss, std::string_view path);
  int on_http_body(lws* wsi, PerSession* pss, const void* in, size_t len);
  int on_http_body_done(lws* wsi, PerSession* pss);
  int call_handler(lws* wsi, PerSession* pss);
  int start_response(lws* wsi, PerSession* pss, const HttpResponse& response);
  int finish_exchange(lws* wsi, PerSession* pss);
  void end_exchange(PerSession* pss);
  bool exempt_from_token(const HttpRoute& route, std::string_view path) const;
  void count(Refusal r) const {
    if (settings.refusals) settings.refusals->add(r);
  }
  int on_confirm_upgrade(lws* wsi, const char* upgrade);
  bool tls() const { return !settings.tls_cert.empty(); }
  void refuse_input(Connection& c, Refusal reason, const std::string& why);
  bool authorised(lws* wsi) const;
  int on_http_writeable(lws* wsi, PerSession* pss);
  int on_receive(lws* wsi, Connection& c, const void* in, size_t len);
  int on_writeable(lws* wsi, Connection& c);
  int on_timer(lws* wsi, PerSession* pss);
  void on_wake();
  void queue_local(ConnectionId id, std::string text, bool close_after);
  void forget(PerSession* pss);
  void serve();
  void drain_and_close();
  void wake();
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
  // An exception must not unwind through lws's C frames; it ends the
  // server (the loop stops after this callback), never silently.
  try {
    return self->dispatch(wsi, reason, static_cast<PerSession*>(user), in, len);
  } catch (const std::exception& e) {
    if (self->failure.empty()) self->failure = std::string("exception in callback: ") + e.what();
  } catch (...) {
    if (self->failure.empty()) self->failure = "unknown exception in callback";
  }
  return -1;
}

int Server::Impl::dispatch(lws* wsi, lws_callback_reasons reason, PerSession* pss, void* in,
                           size_t len) {
  switch (reason) {
    case LWS_CALLBACK_HTTP:
      // `len` too: a decoded %00 would end the C string early.
      return on_http(wsi, pss, in ? std::string_view(static_cast<const char*>(in), len) : "");
    case LWS_CALLBACK_HTTP_BODY:
      return pss && pss->exchange ? on_http_body(wsi, pss, in, len) : -1;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      return pss && pss->exchange ? on_http_body_done(wsi, pss) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return on_http_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      end_exchange(pss);
      return lws_callback_http_dummy(wsi, reason, pss, in, len);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      return on_confirm_upgrade(wsi, static_cast<const char*>(in));
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      // Checked already in on_confirm_upgrade, which can still answer with
      // an HTTP status; this is the last guard before the 101.
      char uri[64] = {};
      if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || std::strcmp(uri, "/ws") != 0)
        return 1;
      return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
      if (going_away) return -1;
      ++open_websockets;
      std::snprintf(pss->peer, sizeof pss->peer, "%s", peer_of(wsi).c_str());
      pss->counted = true;
      ++per_ip[pss->peer];
      pss->connection = new Connection();
      pss->connection->id = next_id++;
      pss->connection->peer = pss->peer;
      pss->connection->valid_ns = monotonic_ns();
      pss->connection->bucket =
          TokenBucket(settings.messages_per_s, settings.message_burst, pss->connection->valid_ns);
      lws_set_timer_usecs(wsi, settings.ping_after_s * LWS_US_PER_SEC);
      sockets[pss->connection->id] = wsi;
      deliver({Inbound::Kind::opened, pss->connection->id, {}, pss->peer});
      return 0;
    }
    case LWS_CALLBACK_RECEIVE:
      return pss->connection ? on_receive(wsi, *pss->connection, in, len) : -1;
    case LWS_CALLBACK_RECEIVE_PONG:
      if (!pss->connection) return 0;
      pss->connection->valid_ns = monotonic_ns();
      pss->connection->ping_unanswered = false;
      lws_set_timer_usecs(wsi, settings.ping_after_s * LWS_US_PER_SEC);
      return 0;
    case LWS_CALLBACK_TIMER:
      if (pss && pss->exchange && pss->exchange->awaiting_reply) {
        log::warn("signaling: no reply within ", settings.reply_timeout_s, " s to ",
                  pss->exchange->request.method, " ", pss->exchange->request.path, " from ",
                  pss->exchange->request.peer, " -> 503");
        replies->put(pss->exchange->id,
                     {503, "text/plain; charset=utf-8", "no reply in time\n", {}});
        lws_callback_on_writable(wsi);
        return 0;
      }
      return pss->connection ? on_timer(wsi, pss) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (pss->connection) pss->connection->peer_closed = true;
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return pss->connection ? on_writeable(wsi, *pss->connection) : 0;
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
      // The first callback of every close. CLOSED itself can come seconds
      // later: lws waits (timeout_secs) for a silent peer to end its side.
      forget(pss);
      return 0;
    case LWS_CALLBACK_CLOSED:
      --open_websockets;
      if (pss && pss->counted) {
        pss->counted = false;
        if (auto it = per_ip.find(pss->peer); it != per_ip.end() && --it->second <= 0)
          per_ip.erase(it);
      }
      forget(pss);
      return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      on_wake();
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, pss, in, len);
  }
}

// Pings a WebSocket ping_after_s after the upgrade or its last pong, and
// closes it hang_up_after_s after that without one. lws 4.1's own idle
// policy (retry_and_idle_policy) would do the same, but its pings are empty
// and an empty pong never reaches this callback, so that close could not
// say why it happened.
int Server::Impl::on_timer(lws* wsi, PerSession* pss) {
  Connection& c = *pss->connection;
  const std::int64_t silent_ns = monotonic_ns() - c.valid_ns;
  const std::int64_t hang_up_ns = std::int64_t{settings.hang_up_after_s} * 1000000000;
  if (silent_ns >= hang_up_ns) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", static_cast<double>(silent_ns) / 1e9);
    log::warn(log::Viewer{c.id, c.peer}, "no pong for ", seconds, " s, closing its socket");
    c.we_closed = true;
    forget(pss);
    return -1;  // no close frame: nobody there reads it
  }
  if (!c.ping_unanswered) {
    c.ping_unanswered = true;
    c.ping_due = true;
    lws_callback_on_writable(wsi);
  }
  lws_set_timer_usecs(wsi, (hang_up_ns - silent_ns) / 1000);
  return 0;
}

// The viewer is gone for the rest of the program as soon as lws starts to
// close its socket (which may take lws seconds more).
void Server::Impl::forget(PerSession* pss) {
  if (!pss || !pss->connection) return;
  Connection* c = pss->connection;
  pss->connection = nullptr;
  const ConnectionId id = c->id;
  log::debug(log::Viewer{id, c->peer}, "socket closed by ",
             c->peer_closed ? "the viewer"
             : c->we_closed ? "the server"
                            : "the network or a protocol error (no close frame)");
  delete c;
  sockets.erase(id);
  {
    std::lock_guard lock(outbox_mutex);
    outbox.erase(id);
  }
  deliver({Inbound::Kind::closed, id, {}, {}});
}

// CS_AUTH_TOKEN: the bearer header or the `token` query parameter (lws has
// percent-decoded it), compared in constant time.
bool Server::Impl::authorised(lws* wsi) const {
  if (settings.auth_token.empty()) return true;
  if (const std::string value = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION); !value.empty())
    if (const auto token = bearer_token(value);
        token && constant_time_equal(*token, settings.auth_token))
      return true;
  // Each argument is one fragment; the buffer holds any of them (they all
  // fit in lws's header space), so a long one cannot hide the token.
  std::vector<char> arg(static_cast<std::size_t>(kMaxHeaderBytes) + 1);
  for (int i = 0; lws_hdr_copy_fragment(wsi, arg.data(), static_cast<int>(arg.size()),
                                        WSI_TOKEN_HTTP_URI_ARGS, i) >= 0;
       ++i) {
    const std::string_view a(arg.data());
    if (a.substr(0, 6) == "token=" && constant_time_equal(a.substr(6), settings.auth_token))
      return true;
  }
  return false;
}

// Every WebSocket upgrade passes here while it can still get an HTTP
// status: a path other than /ws (404), no token (401), a foreign Origin
// (403), too many sockets from its address (429). >0: we answered.
int Server::Impl::on_confirm_upgrade(lws* wsi, const char* upgrade) {
  const std::string peer = peer_of(wsi);
  const std::string uri = header(wsi, WSI_TOKEN_GET_URI);
  auto refused = [&](int code, const char* reason, std::string_view why) {
    log::warn("signaling: refused WebSocket upgrade from ", peer, " (", printable(uri), "): ", why,
              " -> ", code);
    count(code == 401   ? Refusal::unauthorised
          : code == 403 ? Refusal::origin
          : code == 429 ? Refusal::per_ip
          : code == 503 ? Refusal::stopping
                        : Refusal::bad_request);
    if (respond(wsi, code, reason, "text/plain; charset=utf-8", std::string(reason) + "\n",
                code == 401))
      return -1;
    return 1;  // lws completes the transaction
  };
  if (!upgrade || strcasecmp(upgrade, "websocket") != 0)  // e.g. h2c
    return refused(400, "Bad Request", "not a WebSocket upgrade");
  if (uri.empty() || route_http("GET", uri, HttpRouteTable{}).kind != HttpRoute::Kind::websocket)
    return refused(404, "Not Found", "only /ws is a WebSocket");
  if (!authorised(wsi)) return refused(401, "Unauthorized", "no or wrong token (CS_AUTH_TOKEN)");
  if (const std::string origin = header(wsi, WSI_TOKEN_ORIGIN); !origin.empty()) {
    if (!origin_allowed(origin, header(wsi, WSI_TOKEN_HOST), tls(), settings.allowed_origins))
      return refused(403, "Forbidden",
                     "Origin " + printable(origin) + " not allowed (CS_ALLOWED_ORIGINS)");
  }
  if (settings.max_per_ip > 0) {
    const auto it = per_ip.find(peer);
    if (it != per_ip.end() && it->second >= settings.max_per_ip)
      return refused(429, "Too Many Requests",
                     std::to_string(it->second) +
                         " WebSockets already open from this address (CS_MAX_PER_IP=" +
                         std::to_string(settings.max_per_ip) + ")");
  }
  if (going_away) return refused(503, "Service Unavailable", "the server is stopping");
  return 0;
}

bool Server::Impl::exempt_from_token(const HttpRoute& route, std::string_view path) const {
  if (route.kind == HttpRoute::Kind::endpoint)
    return !settings.endpoints[route.endpoint].needs_token;
  bool any = false;
  for (const auto& e : settings.endpoints) {
    if (!path_matches(e.path, path)) continue;
    if (e.needs_token) return false;
    any = true;
  }
  return any;
}

namespace {
// The CORS headers of a cross-origin endpoint's responses to `origin`.
HeaderList cors_headers(const std::string& origin) {
  if (origin.empty()) return {};
  return {{"Access-Control-Allow-Origin", origin},
          {"Vary", "Origin"},
          {"Access-Control-Expose-Headers", "Location, ETag, Link, Accept-Patch, Retry-After"}};
}
}  // namespace

int Server::Impl::on_http(lws* wsi, PerSession* pss, std::string_view path) {
  const std::string peer = peer_of(wsi);
  auto refused = [&](int code, std::string_view why, const HeaderList& extra = {}) {
    log::warn("signaling: refused HTTP request from ", peer, " (", printable(path), "): ", why,
              " -> ", code);
    return refuse(wsi, code, reason_phrase(code), code == 401, extra);
  };
  const char* method = method_of(wsi);
  if (!method) return refused(405, "unknown method", {{"Allow", "GET"}});
  // lws hands over the path without its query, already percent-decoded and
  // with "." and ".." segments resolved; route_http checks it again on its
  // own terms (exact names only), so what lws did is not relied upon. lws
  // has taken the query off already, so a '?' here was sent as %3F.
  const HttpRoute route =
      path.find('?') != std::string_view::npos ? HttpRoute{} : route_http(method, path, routes);
  // The token comes first, so that without it nothing tells which paths
  // exist; only /healthz (needs_token = false) is asked without one.
  const bool exempt = route.kind != HttpRoute::Kind::not_found && exempt_from_token(route, path);
  // A cross-origin endpoint answers allowed foreign pages, refusals too (so
  // that a player can read why), and refuses the others.
  std::string cors_origin;
  if (route.kind == HttpRoute::Kind::endpoint && settings.endpoints[route.endpoint].cross_origin) {
    if (std::string origin = header(wsi, WSI_TOKEN_ORIGIN); !origin.empty()) {
      if (!origin_allowed(origin, header(wsi, WSI_TOKEN_HOST), tls(), settings.allowed_origins)) {
        count(Refusal::origin);
        return refused(403, "Origin " + printable(origin) + " not allowed (CS_ALLOWED_ORIGINS)");
      }
      cors_origin = std::move(origin);
    }
  }
  if (!exempt && !authorised(wsi))
    return refused(401, "no or wrong token (CS_AUTH_TOKEN)", cors_headers(cors_origin));
  switch (route.kind) {
    case HttpRoute::Kind::not_found:
    case HttpRoute::Kind::websocket:  // a GET /ws without its upgrade
      return refused(404, "no such file");
    case HttpRoute::Kind::method_not_allowed:
      return refused(405,
                     std::string("method ") + method + " not allowed (Allow: " + route.allow + ")",
                     {{"Allow", route.allow}});
    case HttpRoute::Kind::file:
      break;
    case HttpRoute::Kind::endpoint: {
      end_exchange(pss);
      auto* x = pss->exchange = new HttpExchange();
      x->id = next_exchange++;
      x->endpoint = route.endpoint;
      x->request.method = method;
      x->request.path = std::string(path);
      x->request.resource = route.resource;
      x->request.peer = peer;
      x->request.content_type = header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
      x->request.if_match = header(wsi, WSI_TOKEN_HTTP_IF_MATCH);
      x->request.origin = cors_origin;
      std::vector<char> arg(static_cast<std::size_t>(kMaxHeaderBytes) + 1);
      for (int i = 0; lws_hdr_copy_fragment(wsi, arg.data(), static_cast<int>(arg.size()),
                                            WSI_TOKEN_HTTP_URI_ARGS, i) >= 0;
           ++i) {
        if (i > 0) x->request.query += '&';
        x->request.query += arg.data();
      }
      if (!has_body(method)) return call_handler(wsi, pss);
      const std::string length = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
      if (length.empty() || length == "0") return call_handler(wsi, pss);  // no body
      const unsigned long long declared = std::strtoull(length.c_str(), nullptr, 10);
      if (declared > settings.max_body_bytes) {
        // Answered now; the body is read and dropped, then the socket closes.
        x->discarding = true;
        log::warn("signaling: refused HTTP request from ", peer, " (", printable(path),
                  "): body of ", length, " bytes over ", settings.max_body_bytes, " -> 413");
        if (respond(
                wsi, 413, reason_phrase(413), "text/plain; charset=utf-8",
                "request body larger than " + std::to_string(settings.max_body_bytes) + " bytes\n"))
          return -1;
        return 0;
      }
      x->collecting = true;
      x->request.body.reserve(static_cast<std::size_t>(declared));
      return 0;  // the body arrives in LWS_CALLBACK_HTTP_BODY
    }
  }
  // An embedded file: its bytes live as long as the program.
  end_exchange(pss);
  auto* x = pss->exchange = new HttpExchange();
  const std::string_view body = route.file->view();
  unsigned char headers[LWS_PRE + 1024];
  unsigned char* start = headers + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = headers + sizeof headers - 1;
  if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, mime_type(route.file->name), body.size(), &p,
                                  end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                   reinterpret_cast<const unsigned char*>("no-cache"), 8, &p,
                                   end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return 1;
  x->body = body.data();
  x->body_size = body.size();
  x->body_sent = 0;
  lws_callback_on_writable(wsi);
  return 0;
}

int Server::Impl::on_http_body(lws* wsi, PerSession* pss, const void* in, size_t len) {
  HttpExchange& x = *pss->exchange;
  if (x.discarding) {
    x.discarded += len;
    return x.discarded > kMaxDiscardBytes ? -1 : 0;
  }
  if (!x.collecting) return 0;
  if (x.request.body.size() + len > settings.max_body_bytes) {
    // Sent without (or with a false) Content-Length.
    log::warn("signaling: refused HTTP request from ", x.request.peer, " (",
              printable(x.request.path), "): body over ", settings.max_body_bytes, " bytes -> 413");
    x.collecting = false;
    x.discarding = true;
    x.request.body.clear();
    if (respond(wsi, 413, reason_phrase(413), "text/plain; charset=utf-8",
                "request body larger than " + std::to_string(settings.max_body_bytes) + " bytes\n"))
      return -1;
    return 0;
  }
  x.request.body.append(static_cast<const char*>(in), len);
  return 0;
}

int Server::Impl::on_http_body_done(lws* wsi, PerSession* pss) {
  HttpExchange& x = *pss->exchange;
  if (x.discarding) return -1;  // the 413 is out; nothing more on this socket
  if (!x.collecting) return 0;
  x.collecting = false;
  return call_handler(wsi, pss);
}

// Runs the endpoint's handler; its reply, if given at once, is written now,
// else when it arrives (on_wake, then on_http_writeable).
int Server::Impl::call_handler(lws* wsi, PerSession* pss) {
  HttpExchange& x = *pss->exchange;
  {
    std::lock_guard lock(replies->mutex);
    replies->open[x.id] = true;
  }
  HttpReply reply = [queue = std::weak_ptr<ReplyQueue>(replies), id = x.id](HttpResponse r) {
    if (auto q = queue.lock()) q->put(id, std::move(r));
  };
  try {
    settings.endpoints[x.endpoint].handler(x.request, std::move(reply));
  } catch (const std::exception& e) {
    log::error("signaling: handler of ", x.request.method, " ", x.request.path,
               " failed: ", e.what(), " -> 500");
    replies->put(x.id, {500, "text/plain; charset=utf-8", "internal error\n", {}});
  }
  if (auto now = replies->take(x.id)) return start_response(wsi, pss, *now);
  x.awaiting_reply = true;
  awaiting[x.id] = wsi;
  // Our own deadline (then 503); lws's request timeout no longer applies.
  lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
  lws_set_timer_usecs(wsi, static_cast<lws_usec_t>(settings.reply_timeout_s) * LWS_US_PER_SEC);
  return 0;
}

int Server::Impl::start_response(lws* wsi, PerSession* pss, const HttpResponse& response) {
  HttpExchange& x = *pss->exchange;
  if (x.awaiting_reply) {
    x.awaiting_reply = false;
    awaiting.erase(x.id);
    lws_set_timer_usecs(wsi, -1);
  }
  HeaderList extra = cors_headers(x.request.origin);
  for (const auto& [name, value] : response.headers) {
    if (!safe_header_text(name) || name.find(':') != std::string::npos ||
        (!value.empty() && !safe_header_text(value))) {
      log::error("signaling: ", x.request.method, " ", x.request.path,
                 ": dropped a response header with control characters");
      continue;
    }
    extra.emplace_back(name, value);
  }
  std::size_t extra_size = 0;
  for (const auto& [name, value] : extra) extra_size += name.size() + value.size() + 4;
  std::vector<unsigned char> headers(LWS_PRE + 1024 + extra_size + response.content_type.size());
  unsigned char* start = headers.data() + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = headers.data() + headers.size() - 1;
  auto text = [](std::string_view v) { return reinterpret_cast<const unsigned char*>(v.data()); };
  if (lws_add_http_common_headers(wsi, static_cast<unsigned>(response.status),
                                  response.content_type.c_str(), response.body.size(), &p, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, text("no-store"), 8, &p, end))
    return -1;
  for (const auto& [name, value] : extra) {
    const std::string with_colon = name + ":";
    if (lws_add_http_header_by_name(wsi, text(with_colon), text(value),
                                    static_cast<int>(value.size()), &p, end))
      return -1;
  }
  if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
  if (response.body.empty()) return finish_exchange(wsi, pss);
  x.owned_body = response.body;
  x.body = x.owned_body.data();
  x.body_size = x.owned_body.size();
  x.body_sent = 0;
  lws_callback_on_writable(wsi);
  return 0;
}

int Server::Impl::finish_exchange(lws* wsi, PerSession* pss) {
  end_exchange(pss);
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

// The exchange is over (written, or its connection closed): a reply that
// comes later is dropped.
void Server::Impl::end_exchange(PerSession* pss) {
  if (!pss || !pss->exchange) return;
  HttpExchange* x = pss->exchange;
  pss->exchange = nullptr;
  if (x->id) {
    replies->forget(x->id);
    awaiting.erase(x->id);
  }
  delete x;
}

int Server::Impl::on_http_writeable(lws* wsi, PerSession* pss) {
  if (!pss || !pss->exchange) return 0;
  HttpExchange& x = *pss->exchange;
  if (x.awaiting_reply) {
    auto response = replies->take(x.id);
    return response ? start_response(wsi, pss, *response) : 0;
  }
  if (!x.body) return 0;
  constexpr std::size_t kChunk = 16 * 1024;
  std::vector<unsigned char> buffer(LWS_PRE + kChunk);
  const std::size_t n = std::min(kChunk, x.body_size - x.body_sent);
  std::memcpy(buffer.data() + LWS_PRE, x.body + x.body_sent, n);
  x.body_sent += n;
  const bool last = x.body_sent >= x.body_size;
  if (lws_write(wsi, buffer.data() + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
      static_cast<int>(n))
    return -1;
  if (!last) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  return finish_exchange(wsi, pss);
}

// An error naming the cause, then the socket is closed; whatever else the
// peer sends meanwhile is dropped unread.
void Server::Impl::refuse_input(Connection& c, Refusal reason, const std::string& why) {
  log::warn(log::Viewer{c.id, c.peer}, why, "; closing its socket");
  count(reason);
  c.refused = true;
  c.incoming.clear();
  c.incoming.shrink_to_fit();
  queue_local(c.id, error_json(why), true);
}

int Server::Impl::on_receive(lws* wsi, Connection& c, const void* in, size_t len) {
  if (c.refused) return 0;
  if (lws_is_first_fragment(wsi)) {
    c.incoming.clear();
    c.binary = lws_frame_is_binary(wsi) != 0;
  }
  if (c.incoming.size() + len > kMaxMessageBytes) {
    // Not read to its end: a client that sends one has nothing to say.
    refuse_input(c, Refusal::oversized,
                 "message larger than " + std::to_string(kMaxMessageBytes) + " bytes");
    return 0;
  }
  c.incoming.append(static_cast<const char*>(in), len);
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0) return 0;
  // Every complete message takes a token, refused ones too: an honest page
  // sends an offer and a few dozen candidates, mostly at once.
  if (!c.bucket.take(monotonic_ns())) {
    refuse_input(c, Refusal::rate_limited,
                 "too many messages (more than " + std::to_string(settings.message_burst) +
                     " at once or " + std::to_string(static_cast<int>(settings.messages_per_s)) +
                     " a second)");
    return 0;
  }
  if (c.binary) {
    // SPEC.md's protocol is JSON text messages.
    queue_local(c.id, error_json("binary frames are not accepted: send JSON text"), false);
    c.incoming.clear();
    return 0;
  }
  deliver({Inbound::Kind::message, c.id, std::move(c.incoming), {}});
  c.incoming.clear();
  return 0;
}

int Server::Impl::on_writeable(lws* wsi, Connection& c) {
  if (c.ping_due) {
    c.ping_due = false;
    unsigned char ping[LWS_PRE + 8];
    std::memcpy(ping + LWS_PRE, "cs-alive", 8);  // a pong with a payload reaches us
    if (lws_write(wsi, ping + LWS_PRE, 8, LWS_WRITE_PING) < 8) {
      log::warn(log::Viewer{c.id, c.peer}, "signaling: ping failed; closing the socket");
      return -1;
    }
    lws_callback_on_writable(wsi);  // for what was queued meanwhile
    return 0;
  }
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
      log::warn(log::Viewer{c.id, c.peer}, "signaling: write failed; closing the socket");
      return -1;
    }
  }
  if (close_now) {
    c.we_closed = true;
    lws_close_reason(wsi, going_away ? LWS_CLOSE_STATUS_GOINGAWAY : LWS_CLOSE_STATUS_NORMAL,
                     nullptr, 0);
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
  std::vector<lws*> answered;
  {
    std::lock_guard lock(replies->mutex);
    for (const auto& [id, response] : replies->ready)
      if (auto it = awaiting.find(id); it != awaiting.end()) answered.push_back(it->second);
  }
  for (lws* wsi : answered) lws_callback_on_writable(wsi);
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

// The service thread's life after the context exists: serve until told to
// stop (then close every WebSocket politely) or until serving fails.
void Server::Impl::serve() {
  LoopTimer fault{};
  const auto fail_after_s = faults::armed("lws-service-fail");
  if (fail_after_s)
    lws_sul_schedule(context, 0, &fault.sul, mark_fired, *fail_after_s * LWS_US_PER_SEC);
  while (!stopping.load()) {
    int n = lws_service(context, 0);
    if (fault.fired && faults::fire_once("lws-service-fail", *fail_after_s)) n = -1;
    if (n < 0 && failure.empty()) failure = "lws_service returned " + std::to_string(n);
    if (!failure.empty()) break;
  }
  lws_sul_cancel(&fault.sul);
  if (failure.empty()) drain_and_close();
}

// Asks every WebSocket to close (1001, after what is queued for it) and
// serves until lws has closed them all, for at most a second: a peer that
// never answers costs no more than that.
void Server::Impl::drain_and_close() {
  going_away = true;
  {
    std::lock_guard lock(outbox_mutex);
    for (const auto& [id, wsi] : sockets) outbox[id].close_after = true;
  }
  for (const auto& [id, wsi] : sockets) lws_callback_on_writable(wsi);
  LoopTimer deadline{};
  lws_sul_schedule(context, 0, &deadline.sul, mark_fired, LWS_US_PER_SEC);
  while (open_websockets > 0 && !deadline.fired && failure.empty()) {
    if (lws_service(context, 0) < 0) break;
  }
  lws_sul_cancel(&deadline.sul);
  if (open_websockets > 0)
    log::warn("signaling: ", open_websockets, " socket(s) did not finish closing within 1 s");
}

void Server::Impl::wake() {
  std::lock_guard lock(context_mutex);
  if (context) lws_cancel_service(context);
}

Server::Result Server::start(const ServerSettings& settings, std::function<void(Inbound)> deliver) {
  auto impl = std::make_unique<Impl>();
  impl->settings = settings;
  impl->deliver = std::move(deliver);
  impl->routes.files = settings.web_files;
  for (const auto& e : settings.endpoints) {
    const bool family = e.path.size() > 2 && e.path.substr(e.path.size() - 2) == "/*";
    const std::string plain = family ? e.path.substr(0, e.path.size() - 1) : e.path;
    if (!well_formed_path(plain) || e.path == kWebSocketPath || !e.handler)
      return {nullptr, "endpoint " + e.method + " " + e.path +
                           " cannot be served (a path http_route.hpp allows, not /ws, a handler)"};
    for (const auto& [method, path] : impl->routes.endpoints)
      if (method == e.method && path == e.path)
        return {nullptr, "endpoint " + e.method + " " + e.path + " registered twice"};
    impl->routes.endpoints.emplace_back(e.method, e.path);
  }
  // NOTICE for the refused clear-text connection on a TLS port (see lws_log_line).
  lws_set_log_level(LLL_ERR | LLL_WARN | LLL_NOTICE, lws_log_line);

  // Created on the service thread, which alone may touch it; this thread
  // only learns whether that worked.
  std::mutex ready_mutex;
  std::condition_variable ready;
  bool done = false;
  std::string error;
  Impl* raw = impl.get();
  impl->thread = std::thread([raw, &ready_mutex, &ready, &done, &error] {
    auto report_ready = [&](std::string why) {
      // Notify under the lock: start() returns as soon as it sees `done`,
      // and with it `ready` goes out of scope (ThreadSanitizer caught
      // pthread_cond_destroy racing this notify when it came after unlock).
      std::lock_guard lock(ready_mutex);
      error = std::move(why);
      done = true;
      ready.notify_all();
    };
    bool started = false;
    try {
      const ServerSettings& s = raw->settings;
      lws_context_creation_info info{};
      info.port = s.port;
      info.iface = (s.host == "0.0.0.0" || s.host == "::") ? nullptr : s.host.c_str();
      info.protocols = protocol_table();
      info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
      info.max_http_header_data = kMaxHeaderBytes;
      if (raw->tls()) {
        // The same port then speaks TLS only; a plain-HTTP client fails its
        // handshake and is dropped. HTTP/1.1 only: the replies are written
        // as HTTP/1.1 and the viewer needs nothing from h2.
        // ALLOW_NON_SSL_ON_SSL_PORT without a redirect or fallback option
        // still fails a clear-text client, but lws first looks at its bytes
        // and says so (a notice), which becomes our warn line.
        info.options |=
            LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT;
        info.ssl_cert_filepath = s.tls_cert.c_str();
        info.ssl_private_key_filepath = s.tls_key.c_str();
        info.alpn = "http/1.1";
      }
      info.user = raw;
      info.gid = -1;
      info.uid = -1;
      // An accepted socket has idle_request_s for its request headers (the
      // page and /ws alike send them at once), and as long again between
      // keep-alive requests.
      info.timeout_secs = static_cast<unsigned>(s.idle_request_s);
      info.timeout_secs_ah_idle = s.idle_request_s;
      info.keepalive_timeout = s.idle_request_s;
      lws_context* context = lws_create_context(&info);
      if (!context) {
        report_ready("cannot listen on " + s.host + ":" + std::to_string(s.port) +
                     (raw->tls() ? " (address in use or not available, or the TLS certificate "
                                   "or key does not load?)"
                                 : " (address in use or not available?)"));
        return;
      }
      {
        std::lock_guard lock(raw->context_mutex);
        raw->context = context;
      }
      {
        std::lock_guard lock(raw->replies->mutex);
        raw->replies->context = context;
      }
      started = true;
      report_ready({});
      raw->serve();
    } catch (const std::exception& e) {
      if (raw->failure.empty()) raw->failure = std::string("exception: ") + e.what();
    } catch (...) {
      if (raw->failure.empty()) raw->failure = "unknown exception";
    }
    if (!started) {
      report_ready("service thread failed before listening: " + raw->failure);
    }
    {
      std::lock_guard lock(raw->replies->mutex);
      raw->replies->context = nullptr;  // late replies are dropped from now on
    }
    {
      std::lock_guard lock(raw->context_mutex);
      if (raw->context) lws_context_destroy(raw->context);
      raw->context = nullptr;
    }
    if (started && !raw->failure.empty()) {
      const std::string why =
          "service loop failed (" + raw->failure + "): no more HTTP or WebSocket service";
      if (raw->settings.on_failure)
        raw->settings.on_failure(why);  // which logs it
      else
        log::error("signaling: ", why);
    }
  });
  std::unique_lock lock(ready_mutex);
  ready.wait(lock, [&] { return done; });
  if (!error.empty()) {
    lock.unlock();
    impl->thread.join();
    return {nullptr, error};
  }
  log::info("signaling: serving ", settings.tls_cert.empty() ? "http://" : "https://",
            settings.host, ":", settings.port, "/ and /ws");
  return {std::unique_ptr<Server>(new Server(std::move(impl))), {}};
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  impl_->stopping.store(true);
  impl_->wake();
  impl_->thread.join();
}

void Server::send(ConnectionId id, std::string text) {
  {
    std::lock_guard lock(impl_->outbox_mutex);
    impl_->outbox[id].messages.push_back(std::move(text));
  }
  impl_->wake();
}

ConnectionId Server::reserve_id() {
  return impl_->next_id++;
}

void Server::close(ConnectionId id) {
  {
    std::lock_guard lock(impl_->outbox_mutex);
    impl_->outbox[id].close_after = true;
  }
  impl_->wake();
}

}  // namespace cs::signaling
