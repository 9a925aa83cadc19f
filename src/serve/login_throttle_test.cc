#include "serve/login_throttle.h"

#include <gtest/gtest.h>

#include <string>

namespace firstwall::serve {
namespace {

constexpr int64_t kMin = 60'000;

TEST(LoginThrottle, FiveFailuresOfAPairWaitUntilTheOldestIsAWindowOld) {
  int64_t now = 1'000'000;
  LoginThrottle t([&] { return now; });
  for (int i = 0; i < LoginThrottle::kPerUserAndAddress; ++i) {
    EXPECT_FALSE(t.Wait("ada", "10.0.0.1")) << i;
    t.Failed("ada", "10.0.0.1");
    now += kMin;
  }
  // The first failure was at 1,000,000 ms, five minutes ago: ten minutes to wait.
  ASSERT_TRUE(t.Wait("ada", "10.0.0.1"));
  EXPECT_EQ(*t.Wait("ada", "10.0.0.1"), LoginThrottle::kWindowMs - 5 * kMin);
  // Another address, and another name from the same address, may still try.
  EXPECT_FALSE(t.Wait("ada", "10.0.0.2"));
  EXPECT_FALSE(t.Wait("bob", "10.0.0.1"));
  // Once the first failure leaves the window, one more try; a sixth failure waits again.
  now = 1'000'000 + LoginThrottle::kWindowMs;
  EXPECT_FALSE(t.Wait("ada", "10.0.0.1"));
  t.Failed("ada", "10.0.0.1");
  ASSERT_TRUE(t.Wait("ada", "10.0.0.1"));
  EXPECT_EQ(*t.Wait("ada", "10.0.0.1"), kMin);  // until the second failure is a window old
}

TEST(LoginThrottle, AGoodPasswordClearsItsPairOnly) {
  int64_t now = 0;
  LoginThrottle t([&] { return now; });
  for (int i = 0; i < 4; ++i) t.Failed("ada", "10.0.0.1");
  t.Succeeded("ada", "10.0.0.1");
  for (int i = 0; i < 4; ++i) t.Failed("ada", "10.0.0.1");
  EXPECT_FALSE(t.Wait("ada", "10.0.0.1"));  // four since the success, not eight
  t.Failed("ada", "10.0.0.1");
  EXPECT_TRUE(t.Wait("ada", "10.0.0.1"));
}

TEST(LoginThrottle, OneAddressTryingManyNamesWaits) {
  int64_t now = 0;
  LoginThrottle t([&] { return now; });
  for (int i = 0; i < LoginThrottle::kPerAddress; ++i) {
    EXPECT_FALSE(t.Wait("user" + std::to_string(i), "10.0.0.9")) << i;
    t.Failed("user" + std::to_string(i), "10.0.0.9");
  }
  EXPECT_TRUE(t.Wait("anyone", "10.0.0.9"));
  EXPECT_FALSE(t.Wait("anyone", "10.0.0.8"));
  // A clock stepped back does not keep anyone waiting.
  now = -kMin;
  EXPECT_FALSE(t.Wait("anyone", "10.0.0.9"));
}

TEST(LoginThrottle, AFloodOfNamesKeepsAtMostItsKeys) {
  int64_t now = 0;
  LoginThrottle t([&] { return now; });
  // Each failure makes a pair key; the address's key is one. Past the bound the oldest go, and the
  // newest pair still counts.
  for (size_t i = 0; i < LoginThrottle::kMaxKeys + 10; ++i) {
    now = static_cast<int64_t>(i);
    t.Failed("name" + std::to_string(i), "10.0.0." + std::to_string(i % 200));
  }
  for (int i = 0; i < LoginThrottle::kPerUserAndAddress; ++i) t.Failed("last", "10.0.1.1");
  EXPECT_TRUE(t.Wait("last", "10.0.1.1"));
  // A key with NUL in the name does not alias another pair.
  EXPECT_FALSE(t.Wait(std::string("last\0x", 6), "10.0.1.1"));
}

}  // namespace
}  // namespace firstwall::serve
