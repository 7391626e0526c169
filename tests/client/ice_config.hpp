#pragma once
// --ice-servers: the server's ICE configuration for viewers (GET
// /ice-servers, the RTCConfiguration JSON the page uses), fetched once and
// turned into webrtcbin's URIs.
#include <string>

#include "options.hpp"

namespace cstest {

// Fills options.stun_server and options.turn_servers; returns an error text
// or "".
std::string fetch_ice_servers(Options& options);

}  // namespace cstest
