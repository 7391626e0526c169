#include "cs/signaling/http_route.hpp"

namespace cs::signaling {

namespace {

bool allowed_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/';
}

// The path part (no query) passes every rule of the header's list.
bool well_formed(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  bool segment_start = true;  // just after a '/'
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (!allowed_path_char(c)) return false;
    if (c == '/') {
      if (i > 0 && segment_start) return false;  // "//"
      segment_start = true;
      continue;
    }
    if (segment_start && c == '.') return false;  // ".", "..", ".hidden"
    segment_start = false;
  }
  return true;
}

}  // namespace

HttpRoute route_http_path(std::string_view path, const cs::EmbeddedFiles& files) {
  const HttpRoute not_found{};
  if (path.find('\0') != std::string_view::npos) return not_found;
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  if (!well_formed(path)) return not_found;
  if (path == "/stats") return {HttpRoute::Kind::stats, nullptr};
  if (path == "/ws") return {HttpRoute::Kind::websocket, nullptr};
  const std::string_view name = path == "/" ? std::string_view("index.html") : path.substr(1);
  for (const auto& f : files)
    if (f.name && name == f.name) return {HttpRoute::Kind::file, &f};
  return not_found;
}

}  // namespace cs::signaling
