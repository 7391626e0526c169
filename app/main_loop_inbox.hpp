#pragma once
// Hands items from any thread to the GLib main loop: push() queues and, if
// no drain is pending, attaches one idle source to the default context
// (g_source_attach is thread-safe); the drain runs `handle` on the loop.
//
// The pending source is kept as a GSource* with our own reference, never as
// an id: the idle can run (and its id be freed, even reused by another
// source) before g_source_attach has returned to push(). One mutex orders
// "attach and remember" against "forget" in the drain and the destructor, so
// the destructor destroys exactly the source still pending, if any.
//
// Thread rules: push() from any thread; construct and destroy on the thread
// that runs the default main context (or while nothing iterates it), after
// the last push() has returned.
#include <glib.h>

#include <functional>
#include <mutex>
#include <utility>

#include "cs/channel.hpp"

namespace cs::app {

template <typename T>
class MainLoopInbox {
 public:
  explicit MainLoopInbox(std::function<void(T&)> handle) : handle_(std::move(handle)) {}
  ~MainLoopInbox() {
    std::lock_guard lock(mutex_);
    if (pending_) {
      // A no-op when it has already been dispatched: our ref keeps it valid.
      g_source_destroy(pending_);
      g_source_unref(pending_);
      pending_ = nullptr;
    }
  }
  MainLoopInbox(const MainLoopInbox&) = delete;
  MainLoopInbox& operator=(const MainLoopInbox&) = delete;

  void push(T item) {
    channel_.push(std::move(item));
    std::lock_guard lock(mutex_);
    if (pending_) return;  // its drain has not taken the items yet
    GSource* source = g_idle_source_new();
    g_source_set_callback(source, &MainLoopInbox::drain, this, nullptr);
    g_source_attach(source, nullptr);
    pending_ = source;  // keeps the reference g_idle_source_new gave us
  }

 private:
  static gboolean drain(gpointer data) {
    auto* self = static_cast<MainLoopInbox*>(data);
    GSource* done = nullptr;
    {
      // Forgotten before the items are taken: a push() from now on attaches
      // a fresh source, so nothing pushed is left without a drain.
      std::lock_guard lock(self->mutex_);
      done = std::exchange(self->pending_, nullptr);
    }
    if (done) g_source_unref(done);  // GLib holds its own until we return
    for (auto& item : self->channel_.drain()) self->handle_(item);
    return G_SOURCE_REMOVE;
  }

  Channel<T> channel_;
  std::function<void(T&)> handle_;
  std::mutex mutex_;
  GSource* pending_ = nullptr;  // attached, not yet drained; guarded by mutex_
};

}  // namespace cs::app
