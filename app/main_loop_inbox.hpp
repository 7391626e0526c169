#pragma once
// Hands items from any thread to the GLib main loop: push() queues and, if
// no drain is pending, attaches one idle source to the default context
// (g_source_attach is thread-safe); the drain runs `handle` on the loop.
#include <glib.h>

#include <atomic>
#include <functional>
#include <utility>

#include "cs/channel.hpp"

namespace cs::app {

template <typename T>
class MainLoopInbox {
 public:
  explicit MainLoopInbox(std::function<void(T&)> handle) : handle_(std::move(handle)) {}
  ~MainLoopInbox() {
    if (source_id_) g_source_remove(source_id_);
  }

  void push(T item) {
    channel_.push(std::move(item));
    if (!scheduled_.exchange(true)) {
      GSource* source = g_idle_source_new();
      g_source_set_callback(source, &MainLoopInbox::drain, this, nullptr);
      source_id_ = g_source_attach(source, nullptr);
      g_source_unref(source);
    }
  }

 private:
  static gboolean drain(gpointer data) {
    auto* self = static_cast<MainLoopInbox*>(data);
    self->source_id_ = 0;
    self->scheduled_.store(false);
    for (auto& item : self->channel_.drain()) self->handle_(item);
    return G_SOURCE_REMOVE;
  }

  Channel<T> channel_;
  std::function<void(T&)> handle_;
  std::atomic<bool> scheduled_{false};
  std::atomic<guint> source_id_{0};
};

}  // namespace cs::app
