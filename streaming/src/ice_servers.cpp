#include "cs/streaming/ice_servers.hpp"

#include <glib.h>

#include <memory>

namespace cs::streaming {

TurnCredentials IceServers::credentials_for(std::string_view name, std::int64_t now_unix_s) const {
  if (turn_secret.empty()) return {turn_user, turn_pass};
  std::string user = std::to_string(now_unix_s + credential_ttl_s) + ":" + std::string(name);
  std::string password = turn_rest_password(turn_secret, user);
  return {std::move(user), std::move(password)};
}

std::string turn_rest_password(std::string_view secret, std::string_view user) {
  std::unique_ptr<GHmac, void (*)(GHmac*)> hmac(
      g_hmac_new(G_CHECKSUM_SHA1, reinterpret_cast<const guchar*>(secret.data()), secret.size()),
      g_hmac_unref);
  g_hmac_update(hmac.get(), reinterpret_cast<const guchar*>(user.data()),
                static_cast<gssize>(user.size()));
  guint8 digest[20];
  gsize length = sizeof digest;
  g_hmac_get_digest(hmac.get(), digest, &length);
  std::unique_ptr<gchar, void (*)(gpointer)> text(g_base64_encode(digest, length), g_free);
  return text.get();
}

namespace {
std::string escaped(const std::string& text) {
  std::unique_ptr<char, void (*)(gpointer)> out(g_uri_escape_string(text.c_str(), nullptr, FALSE),
                                                g_free);
  return out.get();
}

std::string_view after_scheme(const std::string& server) {
  const auto end = server.find("://");
  return end == std::string::npos ? std::string_view(server)
                                  : std::string_view(server).substr(end + 3);
}
}  // namespace

std::string webrtcbin_turn_uri(const std::string& server, const TurnCredentials& credentials) {
  const auto scheme_end = server.find("://");
  if (scheme_end == std::string::npos || credentials.user.empty()) return server;
  return server.substr(0, scheme_end + 3) + escaped(credentials.user) + ":" +
         escaped(credentials.password) + "@" + std::string(after_scheme(server));
}

std::string browser_ice_url(const std::string& server) {
  const auto scheme_end = server.find("://");
  if (scheme_end == std::string::npos) return server;
  return server.substr(0, scheme_end) + ":" + std::string(after_scheme(server));
}

std::string ice_server_display(const std::string& server) {
  const std::string_view rest = after_scheme(server);
  return std::string(rest.substr(0, rest.find('?')));
}

}  // namespace cs::streaming
