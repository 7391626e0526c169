#pragma once
// The RTP header extension
// http://www.webrtc.org/experiments/rtp-hdrext/playout-delay with
// min = max = 0: tells Chrome to render each frame as soon as it is decoded
// instead of adding its own playout delay. GStreamer 1.22 has no element for
// it, hence this small GstRTPHeaderExtension subclass.
#include <gst/gst.h>

namespace cs::streaming {

// A new extension with the given id (1..14, the offer's extmap id), or
// nullptr. The caller owns the reference.
GstElement* make_playout_delay_extension(int id);

}  // namespace cs::streaming
