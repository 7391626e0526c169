#include "ice_config.hpp"

#include <glib.h>
#include <libsoup/soup.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "raii.hpp"

namespace cstest {
namespace {

std::string escaped(const std::string& text) {
  std::unique_ptr<char, void (*)(gpointer)> out(g_uri_escape_string(text.c_str(), nullptr, FALSE),
                                                g_free);
  return out.get();
}

// "turn:h:p?transport=tcp" + credentials → "turn://u:p@h:p?transport=tcp".
std::string webrtcbin_uri(const std::string& url, const std::string& user,
                          const std::string& credential) {
  const auto colon = url.find(':');
  if (colon == std::string::npos) return {};
  const std::string scheme = url.substr(0, colon);
  const std::string rest = url.substr(colon + 1);
  if (scheme == "stun") return "stun://" + rest;
  if (user.empty()) return scheme + "://" + rest;
  return scheme + "://" + escaped(user) + ":" + escaped(credential) + "@" + rest;
}

}  // namespace

std::string fetch_ice_servers(Options& options) {
  GObjPtr<SoupSession> session(soup_session_new());
  GObjPtr<SoupMessage> msg(soup_message_new(SOUP_METHOD_GET, options.ice_servers_url.c_str()));
  if (!msg) return "--ice-servers: not a URL: " + options.ice_servers_url;
  GError* error = nullptr;
  GBytes* body = soup_session_send_and_read(session.get(), msg.get(), nullptr, &error);
  if (!body) {
    std::string why = error ? error->message : "no reply";
    if (error) g_error_free(error);
    return "--ice-servers: " + why;
  }
  gsize size = 0;
  const auto* data = static_cast<const char*>(g_bytes_get_data(body, &size));
  const std::string text(data ? data : "", size);
  g_bytes_unref(body);
  const auto status = soup_message_get_status(msg.get());
  if (status != SOUP_STATUS_OK) return "--ice-servers: HTTP " + std::to_string(status);
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("iceServers") || !doc["iceServers"].is_array())
    return "--ice-servers: no iceServers array in " + text.substr(0, 200);
  for (const auto& server : doc["iceServers"]) {
    const std::string user = server.value("username", std::string());
    const std::string credential = server.value("credential", std::string());
    nlohmann::json urls = server.value("urls", nlohmann::json::array());
    if (urls.is_string()) urls = nlohmann::json::array({urls});
    for (const auto& url : urls) {
      if (!url.is_string()) continue;
      const std::string uri = webrtcbin_uri(url.get<std::string>(), user, credential);
      if (uri.rfind("stun://", 0) == 0)
        options.stun_server = uri;
      else if (!uri.empty())
        options.turn_servers.push_back(uri);
    }
  }
  return {};
}

}  // namespace cstest
