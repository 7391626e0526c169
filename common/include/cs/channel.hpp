#pragma once
// A multi-producer, single-consumer queue: the only place where two threads
// hand each other data. `push` may be called from any thread; the owner of
// the receiving thread calls `drain`. An optional notifier runs after each
// push (e.g. to wake a GLib main context or lws_cancel_service).
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

namespace cs {

template <typename T>
class Channel {
 public:
  using Notifier = std::function<void()>;

  explicit Channel(Notifier notify = {}) : notify_(std::move(notify)) {}

  void push(T item) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(item));
    }
    if (notify_) notify_();
  }

  std::optional<T> try_pop() {
    std::lock_guard lock(mutex_);
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  // Takes everything queued so far in one lock.
  std::deque<T> drain() {
    std::lock_guard lock(mutex_);
    std::deque<T> out;
    out.swap(items_);
    return out;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::deque<T> items_;
  Notifier notify_;
};

}  // namespace cs
