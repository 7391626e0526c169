#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cs/signaling/access.hpp"
#include "cs/token_bucket.hpp"

using namespace cs::signaling;

TEST_CASE("constant_time_equal") {
  CHECK(constant_time_equal("abcdefghijklmnop", "abcdefghijklmnop"));
  CHECK_FALSE(constant_time_equal("abcdefghijklmnoq", "abcdefghijklmnop"));
  CHECK_FALSE(constant_time_equal("Xbcdefghijklmnop", "abcdefghijklmnop"));
  CHECK_FALSE(constant_time_equal("abcdefghijklmno", "abcdefghijklmnop"));
  CHECK_FALSE(constant_time_equal("abcdefghijklmnopabcdefghijklmnop", "abcdefghijklmnop"));
  CHECK_FALSE(constant_time_equal("", "abcdefghijklmnop"));
  CHECK_FALSE(constant_time_equal("a", ""));
}

TEST_CASE("bearer_token") {
  CHECK(bearer_token("Bearer abc") == std::optional<std::string_view>("abc"));
  CHECK(bearer_token("bearer  abc ") == std::optional<std::string_view>("abc"));
  CHECK_FALSE(bearer_token("Basic abc"));
  CHECK_FALSE(bearer_token("Bearer "));
  CHECK_FALSE(bearer_token("Bearer"));
  CHECK_FALSE(bearer_token("abc"));
}

TEST_CASE("origin_allowed: own origin by default") {
  const std::vector<std::string> none;
  CHECK(origin_allowed("http://10.0.0.1:8080", "10.0.0.1:8080", false, none));
  CHECK(origin_allowed("HTTP://Example.org:8080", "example.org:8080", false, none));
  CHECK(origin_allowed("http://example.org", "example.org:80", false, none));
  CHECK(origin_allowed("https://example.org", "example.org", true, none));
  CHECK(origin_allowed("http://[::1]:8080", "[::1]:8080", false, none));
  CHECK_FALSE(origin_allowed("https://10.0.0.1:8080", "10.0.0.1:8080", false, none));
  CHECK_FALSE(origin_allowed("http://10.0.0.1:8080", "10.0.0.1:8080", true, none));
  CHECK_FALSE(origin_allowed("http://evil.example:8080", "10.0.0.1:8080", false, none));
  CHECK_FALSE(origin_allowed("http://10.0.0.1:8081", "10.0.0.1:8080", false, none));
  CHECK_FALSE(origin_allowed("http://10.0.0.1", "10.0.0.1:8080", false, none));
  CHECK_FALSE(origin_allowed("http://10.0.0.1:8080.evil", "10.0.0.1:8080", false, none));
  CHECK_FALSE(origin_allowed("http://10.0.0.1:8080/x", "10.0.0.1:8080", false, none));
  CHECK_FALSE(origin_allowed("null", "10.0.0.1:8080", false, none));
  CHECK_FALSE(origin_allowed("", "10.0.0.1:8080", false, none));
  CHECK_FALSE(origin_allowed("http://", "", false, none));
  CHECK_FALSE(origin_allowed("http://a:99999999999", "a:99999999999", false, none));
}

TEST_CASE("origin_allowed: a list or *") {
  const std::vector<std::string> list{"https://app.example:8443", "http://other.example/"};
  CHECK(origin_allowed("https://app.example:8443", "10.0.0.1:8080", false, list));
  CHECK(origin_allowed("http://OTHER.example", "10.0.0.1:8080", false, list));
  CHECK(origin_allowed("http://10.0.0.1:8080", "10.0.0.1:8080", false, list));
  CHECK_FALSE(origin_allowed("https://app.example", "10.0.0.1:8080", false, list));
  CHECK_FALSE(origin_allowed("null", "10.0.0.1:8080", false, list));
  const std::vector<std::string> any{"*"};
  CHECK(origin_allowed("null", "10.0.0.1:8080", false, any));
  CHECK(origin_allowed("http://evil.example", "10.0.0.1:8080", false, any));
}

TEST_CASE("TokenBucket: burst, then the sustained rate") {
  const std::int64_t s = 1000000000;
  cs::TokenBucket bucket(20, 50, 0);
  int taken = 0;
  for (int i = 0; i < 100; ++i) taken += bucket.take(0);
  CHECK(taken == 50);
  CHECK_FALSE(bucket.take(s / 40));  // half a token
  CHECK(bucket.take(s / 20));
  taken = 0;
  for (int i = 0; i < 100; ++i) taken += bucket.take(s / 20 + s);  // one second on: 20 more
  CHECK(taken == 20);
  taken = 0;
  for (int i = 0; i < 100; ++i) taken += bucket.take(100 * s);  // refill caps at the burst
  CHECK(taken == 50);
}
