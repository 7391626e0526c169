#pragma once
// Who may use the server: the pure decisions behind CS_AUTH_TOKEN,
// CS_ALLOWED_ORIGINS and the per-socket message rate, apart from lws so that
// they can be unit-tested. The message rate is a cs::TokenBucket.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cs::signaling {

// Equal contents, in a time that depends only on the length of `given` (the
// untrusted side), never on where the first difference is.
bool constant_time_equal(std::string_view given, std::string_view secret);

// The token of an `Authorization: Bearer <token>` header value (scheme
// case-insensitive), or nullopt for any other form.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// Whether a page from `origin` may open /ws. `host` is the request's Host
// header, `tls` whether this server speaks TLS. The server's own origin
// (scheme http or https as `tls` says, host:port equal to Host, default ports
// filled in, case-insensitive) is always allowed; so is any origin listed in
// `allowed` (exact, case-insensitive), or every origin when it holds "*".
// "null" (sandboxed frames, file: pages) is allowed only by "*".
bool origin_allowed(std::string_view origin, std::string_view host, bool tls,
                    const std::vector<std::string>& allowed);

}  // namespace cs::signaling
