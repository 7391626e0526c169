#include "cs/streaming/gst_ref.hpp"

#include "cs/log.hpp"

namespace cs::streaming {

ElementRef make_element(const char* factory, const char* name) {
  GstElement* element = gst_element_factory_make(factory, name);
  if (!element) log::error("GStreamer element '", factory, "' is not available (plugin missing?)");
  return ElementRef::ref_sink(element);
}

void for_each_element(GstBin* bin, const std::function<void(GstElement*)>& fn) {
  GstIterator* it = gst_bin_iterate_recurse(bin);
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    fn(GST_ELEMENT(g_value_get_object(&item)));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

bool made_by(GstElement* element, const char* factory) {
  GstElementFactory* f = gst_element_get_factory(element);
  return f && g_strcmp0(GST_OBJECT_NAME(f), factory) == 0;
}

GstClockTime running_time_at(GstPad* pad, GstBuffer* buffer) {
  if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer)) return GST_CLOCK_TIME_NONE;
  GstEvent* event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
  if (!event) return GST_CLOCK_TIME_NONE;
  const GstSegment* segment = nullptr;
  gst_event_parse_segment(event, &segment);
  const GstClockTime running =
      gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
  gst_event_unref(event);
  return running;
}

}  // namespace cs::streaming
