#include "cs/streaming/gst_ref.hpp"

#include "cs/log.hpp"

namespace cs::streaming {

ElementRef make_element(const char* factory, const char* name) {
  GstElement* element = gst_element_factory_make(factory, name);
  if (!element) log::error("GStreamer element '", factory, "' is not available (plugin missing?)");
  return ElementRef::ref_sink(element);
}

}  // namespace cs::streaming
