#pragma once
// Viewers refused or cut off by the server, counted by a small fixed set of
// reasons (the label values of /metrics' cs_viewers_refused_total). The
// signaling server counts the refusals at the door (HTTP upgrade, socket
// limits), the viewer hub those of negotiation and streaming. Any thread.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace cs {

enum class Refusal {
  server_full,          // CS_MAX_VIEWERS reached
  too_many_waiting,     // sockets waiting to offer
  negotiation_timeout,  // CS_NEGOTIATION_TIMEOUT
  bad_offer,            // an offer the server cannot answer
  stream_failed,        // its branch or stream failed on the server's side
  connection_failed,    // ICE/DTLS failed, or the peer stopped sending RTCP
  rate_limited,         // too many messages
  oversized,            // a message over the size cap
  unauthorised,         // no or wrong CS_AUTH_TOKEN (401)
  origin,               // a foreign Origin (403)
  per_ip,               // CS_MAX_PER_IP (429)
  bad_request,          // not a WebSocket upgrade, or not /ws
  no_ice_port,          // every port of CS_ICE_PORT_RANGE in use
  stopping,             // the server is shutting down
};
constexpr std::size_t kRefusalCount = static_cast<std::size_t>(Refusal::stopping) + 1;

constexpr const char* refusal_name(Refusal r) {
  constexpr const char* kNames[kRefusalCount] = {
      "server_full",  "too_many_waiting", "negotiation_timeout",
      "bad_offer",    "stream_failed",    "connection_failed",
      "rate_limited", "oversized",        "unauthorised",
      "origin",       "per_ip",           "bad_request",
      "no_ice_port",  "stopping"};
  return kNames[static_cast<std::size_t>(r)];
}

class RefusalCounts {
 public:
  void add(Refusal r) {
    counts_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t get(Refusal r) const {
    return counts_[static_cast<std::size_t>(r)].load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<std::uint64_t>, kRefusalCount> counts_{};
};

}  // namespace cs
