#include <doctest/doctest.h>

#include <string>

#include "cs/signaling/http_route.hpp"

using cs::signaling::HttpRoute;
using cs::signaling::HttpRouteTable;
using cs::signaling::route_http;

namespace {

const unsigned char kIndex[] = "<html>";
const unsigned char kJs[] = "js";
const cs::EmbeddedFile kFiles[] = {
    {"index.html", kIndex, sizeof kIndex - 1},
    {"viewer.js", kJs, sizeof kJs - 1},
};
const cs::EmbeddedFiles kFileTable{kFiles, 2};
const HttpRouteTable kTable{&kFileTable,
                            {{"GET", "/stats"},
                             {"GET", "/healthz"},
                             {"POST", "/whep"},
                             {"PATCH", "/whep/resource"},
                             {"DELETE", "/whep/resource"}}};

HttpRoute::Kind kind(std::string_view path, std::string_view method = "GET") {
  return route_http(method, path, kTable).kind;
}

}  // namespace

TEST_CASE("http route: the page, its files, the endpoints and /ws") {
  auto root = route_http("GET", "/", kTable);
  CHECK(root.kind == HttpRoute::Kind::file);
  REQUIRE(root.file);
  CHECK(std::string_view(root.file->name) == "index.html");
  auto js = route_http("GET", "/viewer.js", kTable);
  REQUIRE(js.file);
  CHECK(std::string_view(js.file->name) == "viewer.js");
  CHECK(kind("/index.html") == HttpRoute::Kind::file);
  const auto stats = route_http("GET", "/stats", kTable);
  CHECK(stats.kind == HttpRoute::Kind::endpoint);
  CHECK(stats.endpoint == 0);
  CHECK(stats.file == nullptr);
  CHECK(route_http("GET", "/healthz", kTable).endpoint == 1);
  CHECK(route_http("POST", "/whep", kTable).endpoint == 2);
  CHECK(route_http("PATCH", "/whep/resource", kTable).endpoint == 3);
  CHECK(route_http("DELETE", "/whep/resource", kTable).endpoint == 4);
  CHECK(kind("/ws") == HttpRoute::Kind::websocket);
}

TEST_CASE("http route: a known path with another method is 405 with what it allows") {
  auto post_stats = route_http("POST", "/stats", kTable);
  CHECK(post_stats.kind == HttpRoute::Kind::method_not_allowed);
  CHECK(post_stats.allow == "GET");
  CHECK(route_http("DELETE", "/", kTable).allow == "GET");
  CHECK(route_http("PUT", "/index.html", kTable).kind == HttpRoute::Kind::method_not_allowed);
  CHECK(route_http("HEAD", "/viewer.js", kTable).allow == "GET");
  CHECK(route_http("POST", "/ws", kTable).allow == "GET");
  CHECK(route_http("GET", "/whep", kTable).allow == "POST");
  CHECK(route_http("POST", "/whep/resource", kTable).allow == "PATCH, DELETE");
  CHECK(route_http("get", "/stats", kTable).kind == HttpRoute::Kind::method_not_allowed);
  // The same path registered for GET twice is named once.
  const HttpRouteTable twice{nullptr, {{"GET", "/x"}, {"GET", "/x"}, {"POST", "/x"}}};
  CHECK(route_http("PUT", "/x", twice).allow == "GET, POST");
  CHECK(route_http("GET", "/x", twice).endpoint == 0);
}

TEST_CASE("http route: an unknown path is not found whatever the method") {
  CHECK(kind("/nope") == HttpRoute::Kind::not_found);
  CHECK(kind("/nope", "POST") == HttpRoute::Kind::not_found);
  CHECK(kind("/whep/", "POST") == HttpRoute::Kind::not_found);
  CHECK(kind("/whep/resource/x", "PATCH") == HttpRoute::Kind::not_found);
  CHECK(route_http("POST", "/nope", kTable).allow.empty());
}

TEST_CASE("http route: a query is allowed and ignored") {
  CHECK(kind("/stats?x") == HttpRoute::Kind::endpoint);
  CHECK(kind("/stats?") == HttpRoute::Kind::endpoint);
  CHECK(kind("/?token=abc") == HttpRoute::Kind::file);
  CHECK(kind("/ws?token=a%2Fb&x=../../etc") == HttpRoute::Kind::websocket);
  CHECK(kind("/viewer.js?v=1?2") == HttpRoute::Kind::file);
  CHECK(kind("/nope?index.html") == HttpRoute::Kind::not_found);
  CHECK(kind("?/index.html") == HttpRoute::Kind::not_found);
}

TEST_CASE("http route: anything else is not found") {
  const std::string nul_inside = std::string("/index.html\0.js", 15);
  const std::string nul_in_query = std::string("/stats?\0", 8);
  const std::string bad[] = {
      "",
      "index.html",
      "//",
      "//index.html",
      "/index.html/",
      "/./index.html",
      "/../index.html",
      "/../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/%2E%2E/etc/passwd",
      "/..%2fetc/passwd",
      "/..%2Fetc/passwd",
      "/..%5cetc/passwd",
      "/%252e%252e/etc/passwd",
      "/index%2ehtml",
      "/index.html/../../x",
      "/index.html/../viewer.js",
      "/\\..\\etc\\passwd",
      "/index.html\\",
      "/.index.html",
      "/.",
      "/..",
      "/stats/",
      "/stats/..",
      "/%73tats",
      "/ws/",
      "/WS",
      "/Index.html",
      "/index.html ",
      "/index.html#x",
      "/index.html\r\n",
      "/nope",
      "/etc/passwd",
      "http://host/index.html",
      nul_inside,
      nul_in_query,
      std::string(100000, '/'),
      // append, not "/" + std::string: GCC 12 under ASan warns (-Wrestrict, bug 105329).
      std::string("/").append(100000, 'a'),
  };
  for (const auto& path : bad) {
    for (const char* method : {"GET", "POST", "DELETE"}) {
      CAPTURE(path);
      CAPTURE(method);
      const auto r = route_http(method, path, kTable);
      CHECK(r.kind == HttpRoute::Kind::not_found);
      CHECK(r.file == nullptr);
      CHECK(r.allow.empty());
    }
  }
}

TEST_CASE("http route: no files table serves only the endpoints and /ws") {
  const HttpRouteTable none{nullptr, {{"GET", "/stats"}}};
  CHECK(route_http("GET", "/", none).kind == HttpRoute::Kind::not_found);
  CHECK(route_http("GET", "/stats", none).kind == HttpRoute::Kind::endpoint);
  CHECK(route_http("GET", "/ws", none).kind == HttpRoute::Kind::websocket);
  const cs::EmbeddedFiles empty{nullptr, 0};
  const HttpRouteTable no_files{&empty, {}};
  CHECK(route_http("GET", "/", no_files).kind == HttpRoute::Kind::not_found);
}

TEST_CASE("http route: a '/*' endpoint takes one resource name after its prefix") {
  const HttpRouteTable table{nullptr,
                             {{"POST", "/whep"}, {"PATCH", "/whep/*"}, {"DELETE", "/whep/*"}}};
  const std::string id(32, 'a');
  const auto patch = route_http("PATCH", "/whep/" + id, table);
  CHECK(patch.kind == HttpRoute::Kind::endpoint);
  CHECK(patch.endpoint == 1);
  CHECK(patch.resource == id);
  CHECK(route_http("DELETE", "/whep/Ab_-9?x=1", table).resource == "Ab_-9");
  CHECK(route_http("POST", "/whep", table).resource.empty());
  CHECK(route_http("GET", "/whep/x", table).allow == "PATCH, DELETE");
  const std::string not_resources[] = {"/whep/",    "/whep/a/b", "/whep/a.b", "/whep/..",
                                       "/whep/%41", "/whep//a",  "/whepx/a",  "/whep*",
                                       "/whep/*",   "/whep/a b", "/whe/a",    "/whep/a/"};
  for (const auto& path : not_resources) {
    CAPTURE(path);
    CHECK(route_http("PATCH", path, table).kind == HttpRoute::Kind::not_found);
  }
  CHECK(route_http("PATCH", "/whep/" + std::string(64, 'z'), table).kind ==
        HttpRoute::Kind::endpoint);
  CHECK(route_http("PATCH", "/whep/" + std::string(65, 'z'), table).kind ==
        HttpRoute::Kind::not_found);
}
