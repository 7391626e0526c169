// The real signaling server on loopback, driven by raw HTTP/1.1: the one
// routing table (404, 405 with Allow, endpoints, the token), request bodies
// and their cap, and replies given later from another thread, also to a
// connection that has gone or by a server that has gone.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "cs/signaling/server.hpp"

using cs::signaling::HttpReply;
using cs::signaling::HttpRequest;
using cs::signaling::HttpResponse;
using cs::signaling::Server;
using cs::signaling::ServerSettings;

namespace {

// A reply kept by a handler for later.
struct Parked {
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<HttpReply> reply;
  void park(HttpReply r) {
    std::lock_guard lock(mutex);
    reply = std::move(r);
    changed.notify_all();
  }
  HttpReply wait() {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, std::chrono::seconds(5), [&] { return reply.has_value(); });
    REQUIRE(reply.has_value());
    HttpReply r = std::move(*reply);
    reply.reset();
    return r;
  }
};

struct Fixture {
  std::unique_ptr<Server> server;
  int port = 0;
  Parked parked;

  explicit Fixture(std::string token = {}) {
    ServerSettings s;
    s.host = "127.0.0.1";
    s.auth_token = std::move(token);
    s.max_body_bytes = 1000;
    s.reply_timeout_s = 1;
    s.endpoints = {
        {"GET", "/sync", cs::signaling::answer_with([](const HttpRequest& r) {
           return HttpResponse{200, "text/plain", "query=" + r.query, {{"X-Test", "1"}}};
         })},
        {"POST", "/echo", cs::signaling::answer_with([](const HttpRequest& r) {
           return HttpResponse{200, r.content_type, r.body, {}};
         })},
        {"DELETE", "/echo", cs::signaling::answer_with([](const HttpRequest&) {
           return HttpResponse{204, "text/plain", "", {}};
         })},
        {"GET", "/open", cs::signaling::answer_with([](const HttpRequest&) {
           return HttpResponse{200, "text/plain", "open", {}};
         }),
         false},
        {"POST", "/later",
         [this](const HttpRequest&, HttpReply reply) { parked.park(std::move(reply)); }},
        {"GET", "/never", [](const HttpRequest&, HttpReply) {}},
        {"GET", "/throws",
         [](const HttpRequest&, HttpReply) -> void { throw std::runtime_error("boom"); }},
        {"PATCH", "/res/*", cs::signaling::answer_with([](const HttpRequest& r) {
           return HttpResponse{200, "text/plain", r.resource + " " + r.if_match, {}};
         }),
         true, true},
        {"OPTIONS", "/res/*", cs::signaling::answer_with([](const HttpRequest& r) {
           return HttpResponse{204, "text/plain", "", {{"X-Origin", r.origin}}};
         }),
         false, true},
    };
    s.allowed_origins = {"http://player.test"};
    std::mt19937 random(std::random_device{}());
    for (int attempt = 0; attempt < 20 && !server; ++attempt) {
      s.port = 20000 + static_cast<int>(random() % 30000);
      auto started = Server::start(s, [](cs::signaling::Inbound) {});
      if (started.server) {
        server = std::move(started.server);
        port = s.port;
      }
    }
    REQUIRE(server);
  }
};

int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

void send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close early (413)
    sent += static_cast<std::size_t>(n);
  }
}

// Everything the server sends until it closes (or 5 s pass).
std::string read_all(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

std::string round_trip(int port, const std::string& request) {
  const int fd = connect_to(port);
  send_all(fd, request);
  std::string reply = read_all(fd);
  close(fd);
  return reply;
}

std::string request(const std::string& method, const std::string& path,
                    const std::string& body = {}, const std::string& extra = {}) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra;
  if (!body.empty() || method == "POST")
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

int status_of(const std::string& reply) {
  if (reply.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::stoi(reply.substr(9, 3));
}

std::string body_of(const std::string& reply) {
  const auto at = reply.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : reply.substr(at + 4);
}

bool has_header(const std::string& reply, const std::string& line) {
  std::string head = reply.substr(0, reply.find("\r\n\r\n"));
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string wanted = line;
  for (auto& c : wanted) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return (head + "\r\n").find("\r\n" + wanted + "\r\n") != std::string::npos;
}

}  // namespace

TEST_CASE("http server: endpoints by method and path; 404; 405 with Allow") {
  Fixture f;
  auto answered = round_trip(f.port, request("GET", "/sync?a=1&b=2"));
  CHECK(status_of(answered) == 200);
  CHECK(body_of(answered) == "query=a=1&b=2");
  CHECK(has_header(answered, "x-test: 1"));
  CHECK(has_header(answered, "cache-control: no-store"));

  auto nope = round_trip(f.port, request("GET", "/nope"));
  CHECK(status_of(nope) == 404);
  auto wrong = round_trip(f.port, request("PUT", "/echo", "x"));
  CHECK(status_of(wrong) == 405);
  CHECK(has_header(wrong, "allow: POST, DELETE"));
  auto get_later = round_trip(f.port, request("GET", "/later"));
  CHECK(status_of(get_later) == 405);
  CHECK(has_header(get_later, "allow: POST"));
  auto deleted = round_trip(f.port, request("DELETE", "/echo"));
  CHECK(status_of(deleted) == 204);
}

TEST_CASE("http server: a request body arrives whole; over the cap is 413") {
  Fixture f;
  const std::string offer(900, 'v');
  auto echo =
      round_trip(f.port, request("POST", "/echo", offer, "Content-Type: application/sdp\r\n"));
  CHECK(status_of(echo) == 200);
  CHECK(body_of(echo) == offer);
  CHECK(has_header(echo, "content-type: application/sdp"));
  auto empty = round_trip(f.port, request("POST", "/echo"));
  CHECK(status_of(empty) == 200);
  CHECK(body_of(empty).empty());
  auto big = round_trip(f.port, request("POST", "/echo", std::string(5000, 'x')));
  CHECK(status_of(big) == 413);
  // The server still serves afterwards.
  CHECK(status_of(round_trip(f.port, request("GET", "/sync"))) == 200);
}

TEST_CASE("http server: a reply given later from another thread") {
  Fixture f;
  const int fd = connect_to(f.port);
  const auto asked = std::chrono::steady_clock::now();
  send_all(fd, request("POST", "/later", "offer"));
  HttpReply reply = f.parked.wait();
  std::thread([reply] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reply(HttpResponse{201, "application/sdp", "answer", {{"Location", "/later/1"}}});
    reply(HttpResponse{500, "text/plain", "second reply: dropped", {}});
  }).join();
  const std::string got = read_all(fd);
  close(fd);
  // Written when it is given, not at the next timer (reply_timeout_s = 1).
  CHECK(std::chrono::steady_clock::now() - asked < std::chrono::milliseconds(800));
  CHECK(status_of(got) == 201);
  CHECK(body_of(got) == "answer");
  CHECK(has_header(got, "location: /later/1"));
}

TEST_CASE("http server: a reply for a closed connection, or after the server, is dropped") {
  HttpReply late;
  {
    Fixture f;
    const int fd = connect_to(f.port);
    send_all(fd, request("POST", "/later", "offer"));
    late = f.parked.wait();
    close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    late(HttpResponse{200, "text/plain", "nobody reads this", {}});
    // The next one is answered as usual.
    const int fd2 = connect_to(f.port);
    send_all(fd2, request("POST", "/later", "offer"));
    HttpReply next = f.parked.wait();
    next(HttpResponse{200, "text/plain", "second", {}});
    const std::string got = read_all(fd2);
    close(fd2);
    CHECK(body_of(got) == "second");
    late = std::move(next);
  }
  late(HttpResponse{200, "text/plain", "server gone", {}});  // no crash, nothing
}

TEST_CASE("http server: no reply in time is 503; a throwing handler is 500") {
  Fixture f;
  CHECK(status_of(round_trip(f.port, request("GET", "/never"))) == 503);
  CHECK(status_of(round_trip(f.port, request("GET", "/throws"))) == 500);
  CHECK(status_of(round_trip(f.port, request("GET", "/sync"))) == 200);
}

TEST_CASE("http server: the token guards every endpoint but the exempt one") {
  Fixture f("sesame");
  CHECK(status_of(round_trip(f.port, request("GET", "/sync"))) == 401);
  CHECK(status_of(round_trip(f.port, request("GET", "/nope"))) == 401);
  CHECK(status_of(round_trip(f.port, request("GET", "/sync?token=sesame"))) == 200);
  CHECK(status_of(round_trip(
            f.port, request("GET", "/sync", {}, "Authorization: Bearer sesame\r\n"))) == 200);
  CHECK(status_of(round_trip(f.port, request("GET", "/open"))) == 200);
  auto post_open = round_trip(f.port, request("POST", "/open"));
  CHECK(status_of(post_open) == 405);
  CHECK(has_header(post_open, "allow: GET"));
}

TEST_CASE("http server: a resource family hands its name; cross-origin endpoints do CORS") {
  Fixture f("sesame");
  const std::string bearer = "Authorization: Bearer sesame\r\n";
  auto patched =
      round_trip(f.port, request("PATCH", "/res/abc123", "x", bearer + "If-Match: \"e1\"\r\n"));
  CHECK(status_of(patched) == 200);
  CHECK(body_of(patched) == "abc123 \"e1\"");
  CHECK_FALSE(has_header(patched, "access-control-allow-origin: http://player.test"));
  CHECK(status_of(round_trip(f.port, request("PATCH", "/res/a.b", "x", bearer))) == 404);
  // An allowed foreign page: CORS headers, also on a refusal it must read.
  const std::string player = "Origin: http://player.test\r\n";
  auto cors = round_trip(f.port, request("PATCH", "/res/abc", "x", bearer + player));
  CHECK(status_of(cors) == 200);
  CHECK(has_header(cors, "access-control-allow-origin: http://player.test"));
  CHECK(has_header(
      cors, "access-control-expose-headers: Location, ETag, Link, Accept-Patch, Retry-After"));
  auto no_token = round_trip(f.port, request("PATCH", "/res/abc", "x", player));
  CHECK(status_of(no_token) == 401);
  CHECK(has_header(no_token, "access-control-allow-origin: http://player.test"));
  // The preflight needs no token; another origin is refused.
  auto preflight = round_trip(f.port, request("OPTIONS", "/res/abc", {}, player));
  CHECK(status_of(preflight) == 204);
  CHECK(has_header(preflight, "x-origin: http://player.test"));
  auto foreign = round_trip(
      f.port, request("PATCH", "/res/abc", "x", bearer + "Origin: http://evil.test\r\n"));
  CHECK(status_of(foreign) == 403);
  CHECK_FALSE(has_header(foreign, "access-control-allow-origin: http://evil.test"));
  // The page's own origin (Host) is allowed too.
  auto own = round_trip(f.port, request("OPTIONS", "/res/abc", {}, "Origin: http://x\r\n"));
  CHECK(status_of(own) == 204);
}
