#pragma once
// The STUN and TURN servers of the configuration, for both ends of a viewer:
// the server's own webrtcbin and the viewer's page (GET /ice-servers), so
// that both can use the relay. With a TURN REST secret every viewer gets
// credentials of its own that expire (coturn's static-auth-secret scheme:
// user "EXPIRY:NAME", password base64(HMAC-SHA1(secret, user))), and no page
// ever holds a lasting password. Pure: no GStreamer, any thread.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cs::streaming {

struct TurnCredentials {
  std::string user;
  std::string password;
};

struct IceServers {
  std::string stun;               // stun://host[:port], or empty
  std::vector<std::string> turn;  // turn(s)://host[:port][?transport=udp|tcp]
  std::string turn_user;          // static credentials ...
  std::string turn_pass;
  std::string turn_secret;  // ... or REST ones minted from this
  int credential_ttl_s = 86400;

  // The static credentials, or REST ones for `name` valid until
  // now_unix_s + credential_ttl_s.
  TurnCredentials credentials_for(std::string_view name, std::int64_t now_unix_s) const;
};

// coturn's REST password for `user`: base64(HMAC-SHA1(secret, user)).
std::string turn_rest_password(std::string_view secret, std::string_view user);

// webrtcbin's form, turn://USER:PASS@host:port[?transport=tcp]. USER and
// PASS are percent-escaped: REST credentials hold ':' and '/', which the URI
// parser refuses raw (webrtcbin unescapes them).
std::string webrtcbin_turn_uri(const std::string& server, const TurnCredentials& credentials);

// The RTCIceServer URL of a configured server: stun://h:p → "stun:h:p",
// turn://h:p?transport=tcp → "turn:h:p?transport=tcp".
std::string browser_ice_url(const std::string& server);

// "host:port" of a server, for log lines (never credentials).
std::string ice_server_display(const std::string& server);

}  // namespace cs::streaming
