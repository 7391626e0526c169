#pragma once
// Small RAII owners for GLib / GStreamer handles used by the test viewer.
#include <glib-object.h>
#include <glib.h>
#include <gst/gst.h>

#include <memory>

namespace cstest {

template <auto Fn>
struct FnDeleter {
  template <typename T>
  void operator()(T* p) const {
    if (p) Fn(p);
  }
};

// A GObject (or GstObject) whose reference we own.
template <typename T>
using GObjPtr = std::unique_ptr<T, FnDeleter<g_object_unref>>;
template <typename T>
using GstObjPtr = std::unique_ptr<T, FnDeleter<gst_object_unref>>;

using CapsPtr = std::unique_ptr<GstCaps, FnDeleter<gst_caps_unref>>;
using SamplePtr = std::unique_ptr<GstSample, FnDeleter<gst_sample_unref>>;
using PromisePtr = std::unique_ptr<GstPromise, FnDeleter<gst_promise_unref>>;
using MainLoopPtr = std::unique_ptr<GMainLoop, FnDeleter<g_main_loop_unref>>;
using ErrorPtr = std::unique_ptr<GError, FnDeleter<g_error_free>>;
using CharPtr = std::unique_ptr<gchar, FnDeleter<g_free>>;

// Keeps a GSource id and removes it on destruction.
class SourceId {
 public:
  SourceId() = default;
  explicit SourceId(guint id) : id_(id) {}
  SourceId(const SourceId&) = delete;
  SourceId& operator=(const SourceId&) = delete;
  SourceId(SourceId&& o) noexcept : id_(o.id_) { o.id_ = 0; }
  SourceId& operator=(SourceId&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      o.id_ = 0;
    }
    return *this;
  }
  ~SourceId() { reset(); }
  void reset(guint id = 0) {
    if (id_) g_source_remove(id_);
    id_ = id;
  }
  // The source ended by returning G_SOURCE_REMOVE: forget it without removing.
  void release() { id_ = 0; }

 private:
  guint id_ = 0;
};

// Runs `fn` once, later, on the default main context (callable from any
// thread; never runs `fn` re-entrantly inside the caller).
template <typename Fn>
void run_on_main(Fn fn) {
  auto* heap = new Fn(std::move(fn));
  g_idle_add_full(
      G_PRIORITY_DEFAULT,
      [](gpointer d) -> gboolean {
        (*static_cast<Fn*>(d))();
        return G_SOURCE_REMOVE;
      },
      heap, [](gpointer d) { delete static_cast<Fn*>(d); });
}

}  // namespace cstest
