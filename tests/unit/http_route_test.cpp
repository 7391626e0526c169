#include <doctest/doctest.h>

#include <string>

#include "cs/signaling/http_route.hpp"

using cs::signaling::HttpRoute;
using cs::signaling::route_http_path;

namespace {

const unsigned char kIndex[] = "<html>";
const unsigned char kJs[] = "js";
const cs::EmbeddedFile kFiles[] = {
    {"index.html", kIndex, sizeof kIndex - 1},
    {"viewer.js", kJs, sizeof kJs - 1},
};
const cs::EmbeddedFiles kTable{kFiles, 2};

HttpRoute::Kind kind(std::string_view path) {
  return route_http_path(path, kTable).kind;
}

}  // namespace

TEST_CASE("http route: the page, its files, /stats and /ws") {
  auto root = route_http_path("/", kTable);
  CHECK(root.kind == HttpRoute::Kind::file);
  REQUIRE(root.file);
  CHECK(std::string_view(root.file->name) == "index.html");
  auto js = route_http_path("/viewer.js", kTable);
  REQUIRE(js.file);
  CHECK(std::string_view(js.file->name) == "viewer.js");
  CHECK(kind("/index.html") == HttpRoute::Kind::file);
  CHECK(kind("/stats") == HttpRoute::Kind::stats);
  CHECK(kind("/ws") == HttpRoute::Kind::websocket);
}

TEST_CASE("http route: a query is allowed and ignored") {
  CHECK(kind("/stats?x") == HttpRoute::Kind::stats);
  CHECK(kind("/stats?") == HttpRoute::Kind::stats);
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
    CAPTURE(path);
    const auto r = route_http_path(path, kTable);
    CHECK(r.kind == HttpRoute::Kind::not_found);
    CHECK(r.file == nullptr);
  }
}

TEST_CASE("http route: an empty file table serves only /stats and /ws") {
  const cs::EmbeddedFiles none{nullptr, 0};
  CHECK(route_http_path("/", none).kind == HttpRoute::Kind::not_found);
  CHECK(route_http_path("/stats", none).kind == HttpRoute::Kind::stats);
}
