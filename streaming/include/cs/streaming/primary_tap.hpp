#pragma once
// A bin fed from the shared pipeline's primary tee (the top H.264 rendition):
// the recorder's and each RTP forward's. Attaching makes it a user of the
// primary rendition, so that rendition encodes whether or not anyone
// watches; detaching undoes both. The bin is kept after detaching: errors its
// elements posted before then still name it, and owns() must recognise them.
//
// Threads: every call on the GLib main loop.
#include <gst/gst.h>

#include <string>

#include "cs/streaming/gst_ref.hpp"
#include "cs/streaming/video_pipeline.hpp"

namespace cs::streaming {

class PrimaryTap {
 public:
  explicit PrimaryTap(VideoPipeline& pipeline) : pipeline_(pipeline) {}
  ~PrimaryTap() { detach(); }
  PrimaryTap(const PrimaryTap&) = delete;
  PrimaryTap& operator=(const PrimaryTap&) = delete;

  // `bin` has a "sink" ghost pad. Adds it to the pipeline, plays it, then
  // links the tee to it (playing before the first buffer, as a viewer's
  // branch). The error names `what` ("the recorder"); after an error,
  // detach() undoes whatever was done.
  std::string attach(ElementRef bin, const char* what);
  // No more buffers from the tee; the bin stays in the pipeline (to drain an
  // EOS through it, say).
  void unlink();
  // Unlinks, stops the bin and takes it out of the pipeline.
  void detach();

  bool attached() const { return attached_; }
  GstElement* bin() const { return bin_.get(); }
  // True for the bin and anything inside it.
  bool owns(GstObject* object) const;

 private:
  VideoPipeline& pipeline_;
  ElementRef bin_;
  PadRef tee_pad_;
  bool holds_primary_ = false;
  bool attached_ = false;
};

}  // namespace cs::streaming
