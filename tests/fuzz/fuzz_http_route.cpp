// Fuzzes the HTTP request path (route_http_path) against the page's real
// embedded files. Beyond "no crash": a route to a file only ever names an
// entry of the embedded set, the one the path spells exactly ("/" being
// index.html), so no input reaches anything else (no "..", no escapes, no
// second slash); only the file kind carries a file.
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
  using Kind = cs::signaling::HttpRoute::Kind;
  const std::string_view path(reinterpret_cast<const char*>(data), size);
  const cs::EmbeddedFiles& files = cs::web::files();
  const cs::signaling::HttpRoute route = cs::signaling::route_http_path(path, files);

  if (route.kind != Kind::file) {
    require(route.file == nullptr);
    return 0;
  }
  // One of the table's own entries, not a look-alike.
  require(route.file != nullptr && route.file >= files.begin() && route.file < files.end());
  // The path (query dropped) is exactly "/" + that name, or "/" for the page.
  std::string_view p = path.substr(0, path.find('?'));
  const std::string_view name(route.file->name);
  require((p == "/" && name == "index.html") ||
          (p.size() == name.size() + 1 && p[0] == '/' && p.substr(1) == name));
  require(p.find("..") == std::string_view::npos && p.find('%') == std::string_view::npos &&
          p.find('\\') == std::string_view::npos && p.find("//") == std::string_view::npos);
  return 0;
}
