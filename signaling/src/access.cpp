#include "cs/signaling/access.hpp"

#include <algorithm>
#include <cctype>

namespace cs::signaling {

bool constant_time_equal(std::string_view given, std::string_view secret) {
  // Every byte of `given` is compared (against the secret repeated), and
  // the difference is folded with OR: no branch on the contents.
  unsigned diff = given.size() == secret.size() ? 0u : 1u;
  if (secret.empty()) return given.empty();
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i]) ^
            static_cast<unsigned char>(secret[i % secret.size()]);
  // Through a volatile so that the loop is not turned into an early exit.
  volatile unsigned result = diff;
  return result == 0;
}

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// "host[:port]" with the port made explicit, lower case; empty if malformed.
std::string host_with_port(std::string_view authority, int default_port) {
  if (authority.empty()) return {};
  std::string_view host = authority, port;
  if (authority.front() == '[') {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return {};
    host = authority.substr(0, close + 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return {};
      port = rest.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return {};
  }
  if (host.empty()) return {};
  if (port.empty()) return lower(host) + ":" + std::to_string(default_port);
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return {};
  return lower(host) + ":" + std::to_string(std::stoi(std::string(port)));
}

}  // namespace

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size() ||
      !iequal(authorization.substr(0, scheme.size()), scheme))
    return std::nullopt;
  std::string_view token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

bool origin_allowed(std::string_view origin, std::string_view host, bool tls,
                    const std::vector<std::string>& allowed) {
  for (const auto& a : allowed) {
    if (a == "*") return true;
    std::string_view entry = a;
    if (!entry.empty() && entry.back() == '/') entry.remove_suffix(1);
    if (iequal(origin, entry)) return true;
  }
  // The server's own origin: what the page it served sends.
  const std::string_view scheme = tls ? "https://" : "http://";
  if (origin.size() <= scheme.size() || !iequal(origin.substr(0, scheme.size()), scheme))
    return false;
  const int port = tls ? 443 : 80;
  const std::string own = host_with_port(host, port);
  return !own.empty() && own == host_with_port(origin.substr(scheme.size()), port);
}

}  // namespace cs::signaling
