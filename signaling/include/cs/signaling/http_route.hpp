#pragma once
// Which resource an HTTP request path names. Pure (no lws, no I/O), so it can
// be unit-tested and fuzzed on its own.
//
// Nothing but the embedded page, /stats and /ws is ever served, so routing is
// an exact match on a whitelist and never a path computation: a path is
// refused (not_found) unless, after dropping an optional query (`?...`), it is
// "/" , "/stats", "/ws" or "/" + the exact name of an embedded file. Before the
// match the path must also look like one we could have made: it starts with
// '/', holds only [A-Za-z0-9._-/], no empty segment ("//"), no segment that
// starts with '.' (so no "." or ".."), no '%' (our names never need
// encoding, so any escape, single or double, is refused rather than decoded),
// no backslash, NUL, '#' or other control bytes. The query may hold anything
// but NUL; it is ignored for routing.
#include <string_view>

#include "cs/embedded.hpp"

namespace cs::signaling {

struct HttpRoute {
  enum class Kind { file, stats, websocket, not_found };
  Kind kind = Kind::not_found;
  const EmbeddedFile* file = nullptr;  // Kind::file only; points into `files`
};

HttpRoute route_http_path(std::string_view path, const cs::EmbeddedFiles& files);

}  // namespace cs::signaling
