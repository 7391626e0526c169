#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cs/channel.hpp"

TEST_CASE("channel keeps order and loses nothing across threads") {
  std::atomic<int> notified{0};
  cs::Channel<int> channel([&] { notified.fetch_add(1); });
  constexpr int kPerThread = 10000;
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t)
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) channel.push(t * kPerThread + i);
    });
  std::vector<int> last(4, -1);
  int received = 0;
  while (received < 4 * kPerThread) {
    for (int value : channel.drain()) {
      const int t = value / kPerThread;
      CHECK(value > last[t]);  // per-producer order kept
      last[t] = value;
      ++received;
    }
  }
  for (auto& p : producers) p.join();
  CHECK(received == 4 * kPerThread);
  CHECK(notified.load() == 4 * kPerThread);
  CHECK_FALSE(channel.try_pop());
}

TEST_CASE("try_pop takes the oldest") {
  cs::Channel<std::string> channel;
  channel.push("a");
  channel.push("b");
  CHECK(channel.size() == 2);
  CHECK(*channel.try_pop() == "a");
  CHECK(*channel.try_pop() == "b");
  CHECK_FALSE(channel.try_pop());
}
