#include "cs/whep/whep_sdp.hpp"

#include <sys/random.h>

#include <array>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace cs::whep {

namespace {

// The lines of an SDP text, without their CR LF (a bare LF is accepted).
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool printable_line(std::string_view line) {
  for (const char c : line)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

// RFC 8288 / RFC 7230 quoted-string.
std::string quoted(std::string_view value) {
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

OfferIce offer_ice(std::string_view sdp) {
  OfferIce ice;
  std::string media_ufrag, media_pwd;
  bool in_media = false;
  for (const std::string_view line : lines_of(sdp)) {
    if (starts_with(line, "m=")) {
      in_media = true;
      ice.mids.emplace_back();
    } else if (starts_with(line, "a=mid:") && in_media) {
      ice.mids.back() = std::string(line.substr(6));
    } else if (starts_with(line, "a=ice-ufrag:")) {
      std::string& target = in_media ? media_ufrag : ice.ufrag;
      if (target.empty()) target = std::string(line.substr(12));
    } else if (starts_with(line, "a=ice-pwd:")) {
      std::string& target = in_media ? media_pwd : ice.pwd;
      if (target.empty()) target = std::string(line.substr(10));
    }
  }
  if (ice.ufrag.empty()) ice.ufrag = media_ufrag;
  if (ice.pwd.empty()) ice.pwd = media_pwd;
  return ice;
}

FragmentParse parse_trickle_fragment(std::string_view body) {
  FragmentParse out;
  const auto lines = lines_of(body);
  if (lines.size() > kMaxFragmentLines) {
    out.error = "fragment of more than " + std::to_string(kMaxFragmentLines) + " lines";
    return out;
  }
  TrickleFragment fragment;
  std::string mid;
  for (const std::string_view line : lines) {
    if (line.empty()) continue;
    if (!printable_line(line)) {
      out.error = "control characters in the fragment";
      return out;
    }
    if (starts_with(line, "a=ice-ufrag:")) {
      fragment.ufrag = std::string(line.substr(12));
    } else if (starts_with(line, "a=ice-pwd:")) {
      fragment.pwd = std::string(line.substr(10));
    } else if (starts_with(line, "m=")) {
      mid.clear();
    } else if (starts_with(line, "a=mid:")) {
      mid = std::string(line.substr(6));
    } else if (starts_with(line, "a=candidate:")) {
      fragment.candidates.push_back({mid, std::string(line.substr(2))});
    } else if (line == "a=end-of-candidates") {
      fragment.candidates.push_back({mid, {}});
    } else if (!starts_with(line, "a=") || line.size() < 3) {
      // RFC 8840 fragments hold attribute lines and m= lines only.
      out.error = "not a trickle-ice-sdpfrag line: " + std::string(line.substr(0, 40));
      return out;
    }
    // Other attributes (a=ice-options, a=group, ...) say nothing we use.
  }
  out.fragment = std::move(fragment);
  return out;
}

std::string answer_with_candidates(std::string_view answer,
                                   const std::vector<std::pair<unsigned, std::string>>& candidates,
                                   bool complete) {
  std::string out;
  out.reserve(answer.size() + 128 * candidates.size());
  int section = -1;  // the media section being copied
  auto close_section = [&] {
    if (section < 0) return;
    for (const auto& [index, candidate] : candidates)
      if (index == static_cast<unsigned>(section)) out += "a=" + candidate + "\r\n";
    if (complete) out += "a=end-of-candidates\r\n";
  };
  for (const std::string_view line : lines_of(answer)) {
    if (line.empty()) continue;
    if (starts_with(line, "m=")) {
      close_section();
      ++section;
    }
    out.append(line);
    out += "\r\n";
  }
  close_section();
  return out;
}

std::vector<std::string> ice_server_links(const signaling::IceServerList& servers) {
  std::vector<std::string> links;
  if (!servers.stun_url.empty()) links.push_back("<" + servers.stun_url + ">; rel=\"ice-server\"");
  for (const auto& url : servers.turn_urls)
    links.push_back("<" + url + ">; rel=\"ice-server\"; username=" + quoted(servers.username) +
                    "; credential=" + quoted(servers.credential) +
                    "; credential-type=\"password\"");
  return links;
}

std::string media_type(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  std::string_view type = content_type.substr(0, semicolon);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  std::string out(type);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string new_session_name() {
  std::array<unsigned char, 16> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) throw std::runtime_error("getrandom failed");
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name;
  for (const unsigned char b : bytes) {
    name += kHex[b >> 4];
    name += kHex[b & 15];
  }
  return name;
}

namespace {

// The value of the first `name=value` argument of a query ("a=1&rung=2").
std::optional<std::string_view> query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view arg = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (arg.size() > name.size() && starts_with(arg, name) && arg[name.size()] == '=')
      return arg.substr(name.size() + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<int> rung_in_query(std::string_view query, std::string& error) {
  const auto value = query_value(query, "rung");
  if (!value) return std::nullopt;
  int rung = -1;
  const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), rung);
  if (ec != std::errc() || end != value->data() + value->size() || rung < 0 || rung > 15) {
    error = "rung must be a number 0-15 (0 = top)";
    return std::nullopt;
  }
  return rung;
}

bool lip_sync_in_query(std::string_view query, std::string& error) {
  const auto value = query_value(query, "sync");
  if (!value || *value == "0") return false;
  if (*value == "1") return true;
  error = "sync must be 0 or 1 (1: the picture waits for the sound)";
  return false;
}

}  // namespace cs::whep
