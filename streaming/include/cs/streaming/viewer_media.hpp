#pragma once
// The sending side of one viewer, as the negotiation sees it: a webrtcbin
// that is already wired to the video. Two designs provide it: the shared
// encoder's tee branch (the product) and a whole pipeline per viewer (the
// seed design, kept as the benchmark's baseline). Main loop only.
#include <gst/gst.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cs/streaming/offer.hpp"
#include "cs/streaming/rendition.hpp"

namespace cs::streaming {

class ViewerMedia {
 public:
  virtual ~ViewerMedia() = default;  // unlinks and stops everything it made
  virtual GstElement* webrtcbin() const = 0;
  // A bus message's source belongs to this viewer.
  virtual bool owns(GstObject* object) const = 0;
  // The payloader has negotiated its caps, SSRC included, with webrtcbin:
  // an answer made before that names no media SSRC (webrtcbin takes it from
  // the sink pad's caps), and with RTX signalled Chromium then decodes the
  // stream but never shows it.
  virtual bool sender_ready() const;
  // ICE and DTLS are up: the first keyframe can now arrive.
  virtual void on_connected() = 0;
  // What the viewer receives now (codec, rung), where the design has renditions.
  virtual std::optional<RenditionInfo> rendition() const { return std::nullopt; }
  // The viewer asked (control channel) for a keyframe of what it receives.
  virtual void request_keyframe() {}
  // The viewer asked to move `step` rungs (-1: higher quality, +1: lower) and
  // stay there. Empty when it moves; else why not.
  virtual std::string step_rung(int /*step*/) { return "this server has one quality only"; }
};

// What the viewer asked for beside its SDP, and where its media reports back.
struct ViewerOptions {
  std::optional<int> rung;  // pinned to this rung of the ladder (no adaptation)
  // The viewer moved to another rendition (main loop).
  std::function<void(const RenditionInfo&)> on_rendition;
};

class MediaSource {
 public:
  virtual ~MediaSource() = default;
  virtual std::unique_ptr<ViewerMedia> add_viewer(const std::string& name,
                                                  const OfferSummary& offer,
                                                  const ViewerOptions& options,
                                                  std::string& error) = 0;
};

}  // namespace cs::streaming
