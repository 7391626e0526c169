#include "cs/signaling/http_route.hpp"

namespace cs::signaling {

namespace {

bool allowed_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/';
}

void add_allowed(std::string& allow, std::string_view method) {
  // Each method once, in the order the table names them.
  std::string_view rest = allow;
  while (!rest.empty()) {
    const auto comma = rest.find(", ");
    if (rest.substr(0, comma) == method) return;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 2);
  }
  if (!allow.empty()) allow += ", ";
  allow += method;
}

bool resource_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

bool path_matches(std::string_view pattern, std::string_view path, std::string* resource) {
  if (pattern.size() < 2 || pattern.substr(pattern.size() - 2) != "/*") return pattern == path;
  const std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // keeps the '/'
  if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  const std::string_view name = path.substr(prefix.size());
  if (name.size() > kMaxResourceName) return false;
  for (const char c : name)
    if (!resource_char(c)) return false;
  if (resource) *resource = std::string(name);
  return true;
}

bool well_formed_path(std::string_view path) {
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

HttpRoute route_http(std::string_view method, std::string_view path, const HttpRouteTable& table) {
  HttpRoute out;
  if (path.find('\0') != std::string_view::npos) return out;
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  if (!well_formed_path(path)) return out;

  // What the path names, whatever the method: the first match of each kind.
  std::string allow;
  for (std::size_t i = 0; i < table.endpoints.size(); ++i) {
    const auto& [endpoint_method, endpoint_path] = table.endpoints[i];
    std::string resource;
    if (!path_matches(endpoint_path, path, &resource)) continue;
    if (endpoint_method == method) {
      out.kind = HttpRoute::Kind::endpoint;
      out.endpoint = i;
      out.resource = std::move(resource);
      return out;
    }
    add_allowed(allow, endpoint_method);
  }
  const EmbeddedFile* file = nullptr;
  const bool websocket = path == kWebSocketPath;
  if (!websocket && table.files) {
    const std::string_view name = path == "/" ? std::string_view("index.html") : path.substr(1);
    for (const auto& f : *table.files)
      if (f.name && name == f.name) {
        file = &f;
        break;
      }
  }
  if (websocket || file) {
    if (method == "GET") {
      out.kind = websocket ? HttpRoute::Kind::websocket : HttpRoute::Kind::file;
      out.file = file;
      return out;
    }
    add_allowed(allow, "GET");
  }
  if (!allow.empty()) {
    out.kind = HttpRoute::Kind::method_not_allowed;
    out.allow = std::move(allow);
  }
  return out;
}

}  // namespace cs::signaling
