#include "cs/streaming/viewer_media.hpp"

namespace cs::streaming {

bool ViewerMedia::sender_ready() const {
  bool ready = false;
  GstIterator* it = gst_element_iterate_sink_pads(webrtcbin());
  GValue item = G_VALUE_INIT;
  while (!ready && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* pad = GST_PAD(g_value_get_object(&item));
    if (GstCaps* caps = gst_pad_get_current_caps(pad)) {
      guint ssrc = 0;
      ready = gst_caps_get_size(caps) > 0 &&
              gst_structure_get_uint(gst_caps_get_structure(caps, 0), "ssrc", &ssrc);
      gst_caps_unref(caps);
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return ready;
}

}  // namespace cs::streaming
