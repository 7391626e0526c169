#pragma once
// Command line of cs-test-viewer.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cstest {

enum class Mode { Normal, Stall, Churn, Cycle };

// A video codec the viewer can offer (and depayload and decode).
enum class Codec { H264, VP8, VP9 };

struct Options {
  std::string url;
  double duration_s = 10.0;
  int viewers = 1;
  bool decode = true;
  bool candidates_first = false;  // all ICE candidates before the offer; none of the server's
  Mode mode = Mode::Normal;
  int churn_count = 30;
  int concurrent = 10;   // cycle: viewers at once
  double watch_s = 1.0;  // cycle: seconds of video each viewer waits for
  // --ice-servers URL: fetched (GET) before connecting, as the page does.
  std::string ice_servers_url;
  bool relay_only = false;     // --relay: iceTransportPolicy "relay"
  bool audio = false;          // --audio: offer Opus too, count the clicks, match them to turns
  bool control = false;        // --control: steer over the control channel (control_script.hpp)
  bool quality_steps = false;  // --quality-steps: the control script steps rungs instead
  // Filled from the fetched configuration, in webrtcbin's URI form.
  std::string stun_server;
  std::vector<std::string> turn_servers;
  // --codecs: what the offer carries, best first (as a browser lists them).
  std::vector<Codec> codecs{Codec::H264, Codec::VP8};
  // --rung N: the offer message carries "rung": N (pins this viewer there).
  std::optional<int> rung;
  // --whep URL: negotiate by WHEP (POST the offer to URL) instead of --url's
  // WebSocket; --whep-token T: its "Authorization: Bearer T".
  std::string whep_url;
  std::string whep_token;
  // --janus http://HOST:PORT/janus: watch a Janus Streaming mountpoint
  // through the Janus HTTP API instead of the server's WebSocket (--url).
  std::string janus_url;
  int janus_mountpoint = 1;  // --mountpoint ID
};

// Parses argv; on error prints usage/the problem to stderr and returns nullopt.
std::optional<Options> parse_options(int argc, char** argv);

const char* mode_name(Mode mode);
// "h264", "vp8", "vp9" (the --codecs spelling).
const char* codec_name(Codec codec);
// The offer message: {"type":"offer","sdp":...}, plus "rung" with --rung.
nlohmann::json offer_message(const std::string& sdp, const Options& options);

}  // namespace cstest
