// Fuzzes the HTTP routing (route_http) against the page's real embedded
// files and a table of endpoints like the server's. The input is the path;
// each is routed with several methods. Beyond "no crash": a route to a file
// only ever names an entry of the embedded set, the one the path spells
// exactly ("/" being index.html), so no input reaches anything else (no
// "..", no escapes, no second slash); an endpoint route is one whose path
// and method match exactly (a "/*" family: its prefix and one plain name); a 405 names methods, a
// 404 none.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cs/embedded.hpp"
#include "cs/signaling/http_route.hpp"

namespace cs::web {
const cs::EmbeddedFiles& files();
}

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using cs::signaling::HttpRoute;
  using Kind = HttpRoute::Kind;
  const std::string_view path(reinterpret_cast<const char*>(data), size);
  static const cs::signaling::HttpRouteTable table{&cs::web::files(),
                                                   {{"GET", "/stats"},
                                                    {"GET", "/healthz"},
                                                    {"GET", "/metrics"},
                                                    {"POST", "/whep"},
                                                    {"PATCH", "/whep/*"},
                                                    {"DELETE", "/whep/*"}}};
  const cs::EmbeddedFiles& files = *table.files;
  const std::string_view p = path.substr(0, path.find('?'));
  const bool clean =
      p.find("..") == std::string_view::npos && p.find('%') == std::string_view::npos &&
      p.find('\\') == std::string_view::npos && p.find("//") == std::string_view::npos &&
      path.find('\0') == std::string_view::npos;

  for (std::string_view method : {"GET", "POST", "PATCH", "DELETE", "HEAD"}) {
    const HttpRoute route = cs::signaling::route_http(method, path, table);
    require((route.kind == Kind::file) == (route.file != nullptr));
    require((route.kind == Kind::method_not_allowed) == !route.allow.empty());
    if (route.kind == Kind::not_found) continue;
    require(clean);
    if (route.kind == Kind::endpoint) {
      require(route.endpoint < table.endpoints.size());
      const std::string& pattern = table.endpoints[route.endpoint].second;
      require(table.endpoints[route.endpoint].first == method);
      if (pattern.back() == '*') {
        // A resource family: the prefix, then one plain name, handed back.
        const std::string_view prefix(pattern.data(), pattern.size() - 1);
        require(p.substr(0, prefix.size()) == prefix && p.substr(prefix.size()) == route.resource);
        require(
            !route.resource.empty() && route.resource.size() <= cs::signaling::kMaxResourceName &&
            route.resource.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789_-") == std::string::npos);
      } else {
        require(pattern == p && route.resource.empty());
      }
    } else if (route.kind == Kind::websocket) {
      require(p == "/ws" && method == "GET");
    } else if (route.kind == Kind::file) {
      // One of the table's own entries, not a look-alike.
      require(route.file >= files.begin() && route.file < files.end() && method == "GET");
      // The path (query dropped) is exactly "/" + that name, or "/" for the page.
      const std::string_view name(route.file->name);
      require((p == "/" && name == "index.html") ||
              (p.size() == name.size() + 1 && p[0] == '/' && p.substr(1) == name));
    }
  }
  return 0;
}
