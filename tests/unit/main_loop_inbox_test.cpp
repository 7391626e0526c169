// MainLoopInbox (app/main_loop_inbox.hpp) against the real default GLib
// main context.
#include <doctest/doctest.h>
#include <glib.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "main_loop_inbox.hpp"

using cs::app::MainLoopInbox;

namespace {

// Counts GLib's own criticals and warnings ("Source ID N was not found when
// attempting to remove it" is one) while it lives.
class GLibComplaints {
 public:
  GLibComplaints()
      : handler_(g_log_set_handler(
            "GLib", static_cast<GLogLevelFlags>(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING),
            &GLibComplaints::count, this)) {}
  ~GLibComplaints() { g_log_remove_handler("GLib", handler_); }
  int count() const { return count_.load(); }
  std::string first() const {
    std::lock_guard lock(mutex_);
    return first_;
  }

 private:
  static void count(const gchar*, GLogLevelFlags, const gchar* message, gpointer self) {
    auto* me = static_cast<GLibComplaints*>(self);
    std::lock_guard lock(me->mutex_);
    if (me->count_.fetch_add(1) == 0) me->first_ = message ? message : "";
  }
  guint handler_;
  std::atomic<int> count_{0};
  mutable std::mutex mutex_;
  std::string first_;
};

// Runs the calling thread on one CPU only while it lives.
class PinnedToOneCpu {
 public:
  explicit PinnedToOneCpu(int cpu) {
    pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pinned_ = pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
  }
  ~PinnedToOneCpu() {
    if (pinned_) pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_);
  }
  bool pinned() const { return pinned_; }

 private:
  cpu_set_t saved_{};
  bool pinned_ = false;
};

int some_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (pthread_getaffinity_np(pthread_self(), sizeof set, &set) != 0) return 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) return cpu;
  return 0;
}

// Iterates the default context until `done` or ~5 s have passed.
bool iterate_until(const std::atomic<int>& done, int want) {
  const gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (done.load() < want) {
    if (g_get_monotonic_time() > deadline) return false;
    g_main_context_iteration(nullptr, FALSE);
    g_usleep(100);
  }
  return true;
}

}  // namespace

TEST_CASE("inbox: every item pushed from other threads is handled on the loop, in order") {
  std::atomic<int> handled{0};
  std::vector<int> last(4, -1);
  bool ordered = true;
  const GThread* loop_thread = g_thread_self();
  bool on_loop = true;
  {
    MainLoopInbox<int> inbox([&](int& v) {
      on_loop = on_loop && g_thread_self() == loop_thread;
      ordered = ordered && v > last[v / 10000];
      last[v / 10000] = v;
      handled.fetch_add(1);
    });
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t)
      producers.emplace_back([&, t] {
        for (int i = 0; i < 2000; ++i) inbox.push(t * 10000 + i);
      });
    REQUIRE(iterate_until(handled, 4 * 2000));
    for (auto& p : producers) p.join();
  }
  CHECK(handled.load() == 4 * 2000);
  CHECK(ordered);
  CHECK(on_loop);
}

TEST_CASE("inbox: destroyed with a drain pending, its handler never runs") {
  GLibComplaints complaints;
  std::atomic<int> handled{0};
  {
    MainLoopInbox<int> inbox([&](int&) { handled.fetch_add(1); });
    inbox.push(1);
  }
  // Were the idle source still attached, it would run now on a dead inbox.
  for (int i = 0; i < 20; ++i) g_main_context_iteration(nullptr, FALSE);
  CHECK(handled.load() == 0);
  CHECK_MESSAGE(complaints.count() == 0, complaints.first());
}

// The race of the review: the pusher attaches its idle source, the loop
// thread (woken by the attach) runs the drain at once, and only then does
// the pusher get back to remembering the source. With both threads on one
// CPU the woken loop thread usually preempts the pusher right inside that
// window. A design that remembers the source's id then keeps a stale id, and
// its destructor asks GLib to remove a source that no longer exists (GLib
// complains: "Source ID N was not found") -- or, had the id been reused,
// removes somebody else's source.
TEST_CASE("inbox: a drain that runs before push() returns leaves nothing stale behind") {
  GLibComplaints complaints;
  PinnedToOneCpu pin(some_allowed_cpu());
  REQUIRE(pin.pinned());
  const int cpu = some_allowed_cpu();
  constexpr int kRounds = 2000;
  int rounds_done = 0;
  for (int round = 0; round < kRounds && complaints.count() == 0; ++round) {
    std::atomic<int> handled{0};
    {
      MainLoopInbox<int> inbox([&](int&) { handled.fetch_add(1); });
      std::thread pusher([&] {
        PinnedToOneCpu same(cpu);
        inbox.push(round);
      });
      // Blocks in poll until the attach wakes the context.
      const gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
      while (handled.load() == 0 && g_get_monotonic_time() < deadline)
        g_main_context_iteration(nullptr, TRUE);
      pusher.join();
      REQUIRE(handled.load() == 1);
    }  // the destructor: must touch no source but its own pending one
    ++rounds_done;
  }
  CAPTURE(rounds_done);
  CHECK_MESSAGE(complaints.count() == 0, complaints.first());
}
