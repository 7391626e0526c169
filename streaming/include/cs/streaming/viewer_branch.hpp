#pragma once
// One viewer's branch off the shared tee, in a bin of its own:
//   tee → queue (leaky, small) → rtph264pay (the viewer's pt) → webrtcbin
// Built and torn down on the GLib main loop only. webrtcbin's own signals
// fire on its threads; the owner (ViewerHub) marshals them back.
#include <string>
#include <vector>

#include "cs/streaming/gst_ref.hpp"
#include "cs/streaming/offer.hpp"

namespace cs::streaming {

struct IceSettings {
  std::string stun_server;                 // stun://host:port or empty
  std::string turn_uri;                    // turn://user:pass@host:port or empty
  std::vector<std::string> ice_addresses;  // empty: all interfaces
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

class ViewerBranch {
 public:
  // Builds the bin for this offer and configures the transceiver so that
  // webrtcbin answers with the offer's H.264 payload type.
  static std::unique_ptr<ViewerBranch> create(const std::string& name, const OfferSummary& offer,
                                              const IceSettings& ice,
                                              const RecoverySettings& recovery, std::string& error);
  ~ViewerBranch();
  ViewerBranch(const ViewerBranch&) = delete;
  ViewerBranch& operator=(const ViewerBranch&) = delete;

  // Adds the bin to the pipeline, brings it to the pipeline's state and
  // links it to a new tee pad, in that order, so the tee never pushes into
  // a branch that is not yet playing.
  bool attach(GstElement* pipeline, GstElement* tee);
  // Unlinks from the tee, takes the bin to NULL and out of the pipeline.
  void detach();

  GstElement* webrtcbin() const { return webrtcbin_.get(); }
  GstElement* bin() const { return bin_.get(); }
  // A bus message's source belongs to this branch.
  bool owns(GstObject* object) const;

 private:
  ViewerBranch() = default;
  bool build(const std::string& name, const OfferSummary& offer, const IceSettings& ice,
             const RecoverySettings& recovery, std::string& error);

  ElementRef bin_;
  ElementRef queue_;
  ElementRef webrtcbin_;
  GstElement* pipeline_ = nullptr;  // borrowed while attached
  GstElement* tee_ = nullptr;
  PadRef tee_pad_;
};

}  // namespace cs::streaming
