#pragma once
// One viewer's branch off a rendition's tee, in a bin of its own:
//   rendition tee → input-selector → queue (leaky, small) → payloader (the
//   viewer's codec and pt) → webrtcbin
// A rung switch links a second rendition's tee to the selector and makes it
// the active input at its first keyframe: the payloader after the switch
// point keeps SSRC, sequence numbers and timestamps continuous, so the
// viewer sees no renegotiation.
// Built and torn down on the GLib main loop only. webrtcbin's own signals
// fire on its threads; the owner (ViewerHub) marshals them back.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cs/streaming/gst_ref.hpp"
#include "cs/streaming/ice_servers.hpp"
#include "cs/streaming/offer.hpp"

namespace cs::streaming {

struct IceSettings {
  IceServers servers;
  std::vector<std::string> ice_addresses;  // empty: all interfaces
  int port_min = 0;                        // UDP port range; 0: any
  int port_max = 0;
  bool upnp = false;  // libnice's UPnP (SSDP discovery on the LAN)
};

// How a viewer's sender repairs loss (TRAPS.md, "Loss, NACK and keyframes").
struct RecoverySettings {
  // NACK answered through RTX (rtprtxsend), when the offer has rtx.
  bool nack = true;
  // Sent packets kept for retransmission. rtprtxsend's default, 100 packets,
  // is ~0.3 s at 2.5 Mbit/s and less than one 720p keyframe.
  unsigned rtx_history_ms = 1000;
  // Copies of each retransmission (1 or 2): see duplicate_retransmission().
  unsigned rtx_copies = 2;
  // ULPFEC over RED, when the offer has both; 0 = off.
  unsigned fec_percent = 0;
};

// Fills `bin` with rtph264pay (the offer's payload type) → webrtcbin, with
// the transceiver set up so that webrtcbin answers with that payload.
// Returns the payloader and webrtcbin (owned by the bin), or sets `error`.
struct Sender {
  GstElement* payloader = nullptr;
  GstElement* webrtcbin = nullptr;
};
// The product's latency settings; the benchmark's seed baseline goes
// without them, as the seed design did.
enum class SenderTuning {
  low_latency,  // aggregate-mode=zero-latency, zero playout delay extension
  seed_defaults,
};
Sender build_sender(GstBin* bin, const OfferSummary& offer, const IceSettings& ice,
                    SenderTuning tuning, const RecoverySettings& recovery, std::string& error);

// A ghost "sink" pad onto `target` for a branch off the tee whose failures
// stay its own: the tee always hears OK from it (a fatal return would stop
// the tee for every branch). Floating: add it to the branch's bin.
GstPad* make_shielded_sink(GstPad* target);

class ViewerBranch {
 public:
  // Builds the bin for this offer and configures the transceiver so that
  // webrtcbin answers with the offer's H.264 payload type.
  // With a `sound_tee` (CS_AUDIO) and Opus in the offer, the branch also
  // sends the sound: sound tee → queue (leaky) → rtpopuspay → webrtcbin.
  static std::unique_ptr<ViewerBranch> create(const std::string& name, const OfferSummary& offer,
                                              const IceSettings& ice,
                                              const RecoverySettings& recovery,
                                              GstElement* sound_tee, std::string& error);
  ~ViewerBranch();
  ViewerBranch(const ViewerBranch&) = delete;
  ViewerBranch& operator=(const ViewerBranch&) = delete;

  // Adds the bin to the pipeline, brings it to the pipeline's state and
  // links it to a new tee pad, in that order, so the tee never pushes into
  // a branch that is not yet playing.
  bool attach(GstElement* pipeline, GstElement* tee);
  // Unlinks from the tee(s), takes the bin to NULL and out of the pipeline.
  void detach();

  // Links `tee` as a second input; it becomes the one sent at its first
  // keyframe after the frames already sent. Returns the switch point: the
  // running time the caller asks that rendition's keyframe for (NONE: the
  // next frame); the current input sends nothing from there on. Nothing if
  // a switch is already under way or the link fails.
  std::optional<GstClockTime> switch_to(GstElement* tee);
  // The switch has happened: the old input is released (main loop). True
  // once per switch.
  bool finish_switch();
  // Gives up a switch whose keyframe never came: the second input goes and
  // the first sends again (the caller asks its rendition for a keyframe: it
  // may have stopped at the switch point).
  void cancel_switch();
  bool switching() const { return next_ != nullptr; }
  // The SSRC its payloader sends with (0 before it has started).
  guint media_ssrc() const;

  GstElement* webrtcbin() const { return webrtcbin_.get(); }
  bool sends_sound() const { return sound_tee_ != nullptr; }
  GstElement* bin() const { return bin_.get(); }
  // A bus message's source belongs to this branch.
  bool owns(GstObject* object) const;

  // Where a rung switch stands, shared with the probes on the selector's
  // pads (its streaming threads write it).
  struct SwitchClock {
    // The running time of the newest frame out of the selector.
    std::atomic<GstClockTime> sent_running{GST_CLOCK_TIME_NONE};
    // During a switch: the running time it happens at, and whether the
    // outgoing input has dropped a frame (then it sends no more: the frames
    // after a dropped one refer to it).
    std::atomic<GstClockTime> switch_point{GST_CLOCK_TIME_NONE};
    std::atomic<bool> outgoing_stopped{false};
  };

 private:
  ViewerBranch() = default;
  bool build(const std::string& name, const OfferSummary& offer, const IceSettings& ice,
             const RecoverySettings& recovery, std::string& error);
  bool build_sound(const OfferSummary& offer, std::string& error);

  // One rendition's tee feeding the selector through a shielded ghost pad.
  struct Input;
  std::unique_ptr<Input> link_input(GstElement* tee);
  void release_input(std::unique_ptr<Input>& input);

  ElementRef bin_;
  ElementRef selector_;
  ElementRef queue_;
  ElementRef payloader_;
  ElementRef webrtcbin_;
  GstElement* pipeline_ = nullptr;  // borrowed while attached
  bool uses_turn_ = false;
  std::unique_ptr<Input> input_;  // the one sent
  std::unique_ptr<Input> next_;   // a switch under way
  SwitchClock clock_;
  // The switch point's lead on the newest frame sent: three frames at 30 fps,
  // so that both encoders are still to make the frame there (measured: the
  // keyframe of the incoming rendition came out after the outgoing one had
  // sent the same frame).
  static constexpr GstClockTime kSwitchLeadNs = 100 * GST_MSECOND;
  unsigned inputs_made_ = 0;
  // The sound (null tee: video only).
  GstElement* sound_tee_ = nullptr;  // borrowed: the sound track outlives its viewers
  std::unique_ptr<Input> sound_input_;
  GstPad* sound_door_ = nullptr;  // the bin's ghost pad onto the sound queue (the bin owns it)
};

}  // namespace cs::streaming
