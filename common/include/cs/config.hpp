#pragma once
// Configuration: every CS_ variable of SPEC.md, parsed and validated here and
// nowhere else. Immutable after start-up; any thread may read it.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cs/log.hpp"

namespace cs {

enum class EncoderChoice { auto_select, x264, vaapi, nvenc };

// A video codec the server can send (CS_CODECS), in its RTP encoding name's order.
enum class VideoCodec { h264, vp8, vp9 };

// One step of the quality ladder (CS_LADDER): a bitrate and, when set, a
// smaller frame size (0 = the frame's own).
struct LadderRung {
  int kbps = 0;
  int width = 0;
  int height = 0;
  bool operator==(const LadderRung&) const = default;
};

// One CS_FORWARD_RTP address: RTP goes to port, RTCP to and from port + 1.
struct RtpTarget {
  std::string host;  // an IP literal (IPv6 without brackets) or a name
  int port = 0;      // 1 to 65534
  bool operator==(const RtpTarget&) const = default;
};

// CS_RENDER_DEVICE: which EGL device renders (see renderer/egl_context.hpp).
struct RenderDevice {
  enum class Kind {
    auto_select,  // a hardware EGL device if one initialises, else Mesa's software one or
                  // surfaceless
    surfaceless,  // EGL_PLATFORM_SURFACELESS_MESA, no device
    index,        // the index-th device of eglQueryDevicesEXT
    render_node,  // the device whose DRM render node is `path`
  };
  Kind kind = Kind::auto_select;
  int index = 0;
  std::string path;
  bool operator==(const RenderDevice&) const = default;
};
// "auto", "surfaceless", "0".."63", or "/dev/dri/renderD128"; nullopt otherwise.
std::optional<RenderDevice> parse_render_device(std::string_view text);
std::string to_string(const RenderDevice& device);

// CS_READBACK: how the frame leaves the GPU.
enum class ReadBackMode {
  sync,  // glReadPixels into the frame each frame: the frame leaves in its own period
  ring,  // a ring of pixel-pack buffers: frame N is read while N+1 draws, one frame later
};

// CS_CONTROL: who may steer the cube over the control data channel.
enum class ControlPolicy {
  all,    // every viewer
  none,   // view-only: control messages get an error
  first,  // the viewer that has been connected longest, until it leaves
};
std::string to_string(ControlPolicy policy);

// The fastest spin, either way round, as a multiple of the default: for
// CS_SPIN_SPEED and the control channel's speed message alike.
inline constexpr double kMaxSpinSpeed = 8;

struct Config {
  std::string host = "0.0.0.0";
  int port = 8080;
  int width = 1280;
  int height = 720;
  int fps = 30;
  int bitrate_kbps = 2500;
  // Codecs offered to viewers, best first: each viewer gets the first one its
  // offer has.
  std::vector<VideoCodec> codecs = {VideoCodec::h264, VideoCodec::vp8};
  // Top rung first. Empty until parse_config fills the default from
  // CS_BITRATE_KBPS and the frame size (see default_ladder).
  std::vector<LadderRung> ladder;
  EncoderChoice encoder = EncoderChoice::auto_select;
  RenderDevice render_device;
  ReadBackMode read_back = ReadBackMode::sync;
  std::string stun_server;  // empty: none
  // turn(s)://host[:port][?transport=udp|tcp], no credentials in them.
  std::vector<std::string> turn_servers;
  std::string turn_user;  // static credentials, or
  std::string turn_pass;
  std::string turn_secret;  // coturn's static-auth-secret: REST credentials per viewer
  int turn_credential_ttl_s = 86400;
  std::vector<std::string> ice_addresses;  // empty: all interfaces
  int ice_port_min = 0;                    // 0: any port (the OS picks)
  int ice_port_max = 0;
  std::string ice_public_ip;  // announced in host candidates instead of the local address
  bool ice_upnp = false;      // libnice's UPnP port mapping (SSDP on the LAN)
  bool timecode = true;
  float spin_speed = 1;  // CS_SPIN_SPEED: the cube's spin at the start and after a reset
  bool audio = false;    // CS_AUDIO: the scene's sound, Opus, to viewers that offer audio
  int max_viewers = 32;
  bool nack = true;                  // answer NACKs with retransmissions (RTX)
  int rtx_copies = 2;                // copies of each retransmission
  int fec_percent = 0;               // ULPFEC redundancy; 0 = off
  int keyframe_interval_frames = 0;  // 0: one a second (CS_FPS)
  int max_per_ip = 8;                // WebSockets open at once from one address; 0 = no limit
  int negotiation_timeout_s = 30;    // socket open → media connected, or closed
  // Origins allowed to open /ws ("https://host:port"); empty: the server's
  // own origin only; "*": any. Clients that send no Origin are let in.
  std::vector<std::string> allowed_origins;
  std::string auth_token;  // empty: no authentication
  std::string tls_cert;    // PEM paths; both or neither
  std::string tls_key;
  log::Level log_level = log::Level::info;
  log::Format log_format = log::Format::text;
  std::string record_path;   // empty: no recording; .mp4 or .mkv, its directory writable
  int record_segment_s = 0;  // 0: one file; else a new timestamped file every N s
  // CS_FORWARD_RTP: the top H.264 rung also sent as plain RTP to each (e.g.
  // a Janus Streaming mountpoint), viewers or not.
  std::vector<RtpTarget> forward_rtp;
  ControlPolicy control = ControlPolicy::all;
};

// One row of SPEC.md's table; drives parsing, --help and env.example.
struct ConfigVariable {
  const char* name;           // CS_PORT
  const char* default_value;  // "8080", or "" for none
  const char* meaning;
  bool secret = false;  // its value is never printed (errors, --help, logs)
};

const std::vector<ConfigVariable>& config_variables();

struct ConfigResult {
  std::optional<Config> config;
  std::string error;  // one line: variable, value given, what is allowed
};

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Parses every variable through `lookup` (the process environment in
// production, a map in tests).
ConfigResult parse_config(const EnvLookup& lookup);

// The process environment, overlaid with command-line flags: `--port 9000`
// or `--port=9000` stands for CS_PORT=9000. Unknown flags are an error.
struct CommandLine {
  std::vector<std::pair<std::string, std::string>> overrides;  // CS_ name, value
  bool help = false;
  std::vector<std::string> other_flags;  // flags the caller handles (e.g. --baseline)
  std::string error;
};
CommandLine parse_command_line(int argc, char** argv, const std::vector<std::string>& app_flags);
EnvLookup environment_with(const CommandLine& command_line);

std::string config_help();

std::string_view to_string(EncoderChoice choice);
// "H264", "VP8", "VP9": the RTP encoding name.
std::string_view to_string(VideoCodec codec);
// CS_LADDER's default: CS_BITRATE_KBPS at full size, then 1000 and 400
// kbit/s at half the size (below the top bitrate only).
std::vector<LadderRung> default_ladder(int bitrate_kbps, int width, int height);

}  // namespace cs
