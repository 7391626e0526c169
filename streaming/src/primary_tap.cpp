#include "cs/streaming/primary_tap.hpp"

namespace cs::streaming {

std::string PrimaryTap::attach(ElementRef bin, const char* what) {
  bin_ = std::move(bin);
  if (!gst_bin_add(GST_BIN(pipeline_.pipeline()), bin_.get()))
    return std::string("cannot add ") + what;
  attached_ = true;
  if (!gst_element_sync_state_with_parent(bin_.get()))
    return std::string(what) + " failed to start";
  std::string unused;
  holds_primary_ = pipeline_.acquire(pipeline_.primary().key(), unused) != nullptr;
  tee_pad_ = PadRef::adopt(gst_element_request_pad_simple(pipeline_.tee(), "src_%u"));
  auto sink = PadRef::adopt(gst_element_get_static_pad(bin_.get(), "sink"));
  if (!tee_pad_ || !sink || gst_pad_link(tee_pad_.get(), sink.get()) != GST_PAD_LINK_OK)
    return std::string("cannot link ") + what + " to the tee";
  return {};
}

void PrimaryTap::unlink() {
  // Releasing the tee's pad unlinks it under the tee's lock; a buffer in
  // flight on it finishes first.
  if (tee_pad_) gst_element_release_request_pad(pipeline_.tee(), tee_pad_.get());
  tee_pad_.reset();
}

void PrimaryTap::detach() {
  if (!attached_) return;
  attached_ = false;
  unlink();
  if (holds_primary_) pipeline_.release(pipeline_.primary().key());
  holds_primary_ = false;
  gst_element_set_locked_state(bin_.get(), TRUE);
  gst_element_set_state(bin_.get(), GST_STATE_NULL);
  gst_bin_remove(GST_BIN(pipeline_.pipeline()), bin_.get());
}

bool PrimaryTap::owns(GstObject* object) const {
  return object && bin_ &&
         (object == GST_OBJECT(bin_.get()) ||
          gst_object_has_as_ancestor(object, GST_OBJECT(bin_.get())));
}

}  // namespace cs::streaming
