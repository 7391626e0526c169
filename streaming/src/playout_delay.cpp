#include "cs/streaming/playout_delay.hpp"

#include <gst/rtp/gstrtphdrext.h>

#include "cs/streaming/offer.hpp"

namespace cs::streaming {
namespace {

struct PlayoutDelayExt {
  GstRTPHeaderExtension parent;
};
struct PlayoutDelayExtClass {
  GstRTPHeaderExtensionClass parent_class;
};

GType playout_delay_ext_get_type();
G_DEFINE_TYPE(PlayoutDelayExt, playout_delay_ext, GST_TYPE_RTP_HEADER_EXTENSION)

constexpr gsize kSize = 3;  // 12 bits min, 12 bits max, in 10 ms units

GstRTPHeaderExtensionFlags supported_flags(GstRTPHeaderExtension*) {
  return static_cast<GstRTPHeaderExtensionFlags>(GST_RTP_HEADER_EXTENSION_ONE_BYTE |
                                                 GST_RTP_HEADER_EXTENSION_TWO_BYTE);
}

gsize max_size(GstRTPHeaderExtension*, const GstBuffer*) {
  return kSize;
}

gssize write(GstRTPHeaderExtension*, const GstBuffer*, GstRTPHeaderExtensionFlags, GstBuffer*,
             guint8* data, gsize size) {
  if (size < kSize) return -1;
  data[0] = data[1] = data[2] = 0;  // min = max = 0 ms
  return kSize;
}

gboolean read(GstRTPHeaderExtension*, GstRTPHeaderExtensionFlags, const guint8*, gsize,
              GstBuffer*) {
  return TRUE;
}

void playout_delay_ext_class_init(PlayoutDelayExtClass* klass) {
  auto* ext_class = GST_RTP_HEADER_EXTENSION_CLASS(klass);
  ext_class->get_supported_flags = supported_flags;
  ext_class->get_max_size = max_size;
  ext_class->write = write;
  ext_class->read = read;
  gst_element_class_set_static_metadata(
      GST_ELEMENT_CLASS(klass), "RTP playout delay (zero)", "Network/Extension/RTPHeader",
      "Asks the receiver for zero playout delay", "cube-streamer");
  gst_rtp_header_extension_class_set_uri(ext_class, kPlayoutDelayUri);
}

void playout_delay_ext_init(PlayoutDelayExt*) {}

}  // namespace

GstElement* make_playout_delay_extension(int id) {
  if (id < 1 || id > 14) return nullptr;
  auto* ext = GST_RTP_HEADER_EXTENSION(g_object_new(playout_delay_ext_get_type(), nullptr));
  gst_object_ref_sink(ext);
  gst_rtp_header_extension_set_id(ext, static_cast<guint>(id));
  return GST_ELEMENT(ext);
}

}  // namespace cs::streaming
