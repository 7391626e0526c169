#pragma once
// Which resource an HTTP request names, by method and path, in one table:
// the embedded page and its files (GET), the signaling WebSocket /ws (GET
// upgrade) and the endpoints the app registers (any method). Pure (no lws,
// no I/O), so it can be unit-tested and fuzzed on its own.
//
// Nothing but what the table names is ever served, so routing is an exact
// match on a whitelist and never a path computation: a path is refused
// (not_found) unless, after dropping an optional query (`?...`), it is "/"
// (index.html), "/ws", an endpoint's path or "/" + the exact name of an
// embedded file. Before the match the path must also look like one we could
// have made: it starts with '/', holds only [A-Za-z0-9._-/], no empty
// segment ("//"), no segment that starts with '.' (so no "." or ".."), no '%'
// (our names never need encoding, so any escape, single or double, is
// refused rather than decoded), no backslash, NUL, '#' or other control
// bytes. The query may hold anything but NUL; it is ignored for routing.
//
// A path in the table asked with a method it does not take is
// method_not_allowed, with the methods it takes (the `Allow` header).
//
// An endpoint path ending in "/*" names a family of resources, one per
// session (e.g. "/whep/*"): it matches its prefix plus exactly one more
// segment of 1-64 characters from [A-Za-z0-9_-], which the route hands back
// as `resource`. The server never makes such a name from a path; the
// endpoint looks it up in its own table.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cs/embedded.hpp"

namespace cs::signaling {

inline constexpr std::string_view kWebSocketPath = "/ws";

struct HttpRouteTable {
  const EmbeddedFiles* files = nullptr;  // served at GET "/" + name, index.html also at "/"
  // (method, exact path) of each endpoint, in registration order.
  std::vector<std::pair<std::string, std::string>> endpoints;
};

struct HttpRoute {
  enum class Kind { file, websocket, endpoint, method_not_allowed, not_found };
  Kind kind = Kind::not_found;
  const EmbeddedFile* file = nullptr;  // Kind::file only; points into the table's files
  std::size_t endpoint = 0;            // Kind::endpoint only; index into endpoints
  std::string allow;                   // Kind::method_not_allowed: "GET, POST"
  std::string resource;                // Kind::endpoint of a "/*" path: the last segment
};

inline constexpr std::size_t kMaxResourceName = 64;

// `path` (no query) is `pattern`, or `pattern` is "PREFIX/*" and `path` is
// PREFIX/ + one resource name; then `resource` is that name.
bool path_matches(std::string_view pattern, std::string_view path, std::string* resource = nullptr);

// The path part (no query) passes every rule of the header's list.
bool well_formed_path(std::string_view path);

HttpRoute route_http(std::string_view method, std::string_view path, const HttpRouteTable& table);

}  // namespace cs::signaling
