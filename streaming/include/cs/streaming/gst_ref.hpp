#pragma once
// Owning references to GObjects (GstElement, GstPad, GstBus, ...): unref on
// destruction so that cleanup never depends on remembering.
#include <gst/gst.h>

#include <functional>
#include <memory>
#include <utility>

namespace cs::streaming {

template <typename T>
class GRef {
 public:
  GRef() = default;
  // Takes over a reference the caller owns (a "transfer full" return).
  static GRef adopt(T* object) { return GRef(object); }
  // Adds a reference of our own; sinks a floating one (fresh elements).
  static GRef ref_sink(T* object) {
    if (object) g_object_ref_sink(object);
    return GRef(object);
  }
  ~GRef() { reset(); }
  GRef(GRef&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
  GRef& operator=(GRef&& other) noexcept {
    if (this != &other) {
      reset();
      object_ = std::exchange(other.object_, nullptr);
    }
    return *this;
  }
  GRef(const GRef& other) : object_(other.object_) {
    if (object_) g_object_ref(object_);
  }
  GRef& operator=(const GRef& other) {
    if (this != &other) *this = GRef(other);
    return *this;
  }
  T* get() const { return object_; }
  explicit operator bool() const { return object_ != nullptr; }
  void reset() {
    if (object_) g_object_unref(object_);
    object_ = nullptr;
  }

 private:
  explicit GRef(T* object) : object_(object) {}
  T* object_ = nullptr;
};

using ElementRef = GRef<GstElement>;
using PadRef = GRef<GstPad>;

// Owns a GstCaps.
struct CapsDeleter {
  void operator()(GstCaps* caps) const { gst_caps_unref(caps); }
};

// gst_element_factory_make with a clear log line when the plugin is missing.
ElementRef make_element(const char* factory, const char* name = nullptr);

// Calls `fn` for every element inside `bin`, at any depth.
void for_each_element(GstBin* bin, const std::function<void(GstElement*)>& fn);

// Whether `element` was made by the factory named `factory`.
bool made_by(GstElement* element, const char* factory);

// The running time of `buffer`'s PTS in `pad`'s current segment, or
// GST_CLOCK_TIME_NONE. Encoders shift PTS and segment by an offset of their
// own, so across renditions only the running time names the same frame.
GstClockTime running_time_at(GstPad* pad, GstBuffer* buffer);

}  // namespace cs::streaming
