#include "serve/login_throttle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace firstwall::serve {
namespace {

constexpr int64_t kMin = 60'000;

// A wrong password: the attempt counted at Begin stays.
bool Fails(LoginThrottle& t, const std::string& user, const std::string& address) {
  return !t.Begin(user, address).wait_ms;
}

TEST(LoginThrottle, FiveFailuresOfAPairWaitUntilTheOldestIsAWindowOld) {
  int64_t now = 1'000'000;
  LoginThrottle t([&] { return now; });
  for (int i = 0; i < LoginThrottle::kPerUserAndAddress; ++i) {
    EXPECT_TRUE(Fails(t, "ada", "10.0.0.1")) << i;
    now += kMin;
  }
  // The first failure was at 1,000,000 ms, five minutes ago: ten minutes to wait.
  const LoginThrottle::Attempt refused = t.Begin("ada", "10.0.0.1");
  ASSERT_TRUE(refused.wait_ms);
  EXPECT_EQ(*refused.wait_ms, LoginThrottle::kWindowMs - 5 * kMin);
  EXPECT_FALSE(refused.by_address);
  // Refused attempts are not counted: the wait does not grow.
  EXPECT_EQ(*t.Begin("ada", "10.0.0.1").wait_ms, LoginThrottle::kWindowMs - 5 * kMin);
  // Another address, and another name from the same address, may still try.
  EXPECT_TRUE(Fails(t, "ada", "10.0.0.2"));
  EXPECT_TRUE(Fails(t, "bob", "10.0.0.1"));
  // Once the first failure leaves the window, one more try; a sixth failure waits again.
  now = 1'000'000 + LoginThrottle::kWindowMs;
  EXPECT_TRUE(Fails(t, "ada", "10.0.0.1"));
  ASSERT_TRUE(t.Begin("ada", "10.0.0.1").wait_ms);
  EXPECT_EQ(*t.Begin("ada", "10.0.0.1").wait_ms, kMin);  // until the second is a window old
}

TEST(LoginThrottle, AGoodPasswordClearsItsPairAndTakesItsAttemptBack) {
  int64_t now = 0;
  LoginThrottle t([&] { return now; });
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(Fails(t, "ada", "10.0.0.1"));
  const LoginThrottle::Attempt good = t.Begin("ada", "10.0.0.1");
  ASSERT_FALSE(good.wait_ms);
  t.Succeeded("ada", "10.0.0.1", good.at_ms);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(Fails(t, "ada", "10.0.0.1"));
  EXPECT_FALSE(t.Begin("ada", "10.0.0.1").wait_ms);  // counted: the fifth since the success
  ASSERT_TRUE(t.Begin("ada", "10.0.0.1").wait_ms);
  // The address's count kept the eight failures and the fifth, not the good one: eleven more
  // names pass, the twelfth waits.
  for (int i = 0; i < 11; ++i) EXPECT_TRUE(Fails(t, "n" + std::to_string(i), "10.0.0.1")) << i;
  const LoginThrottle::Attempt full = t.Begin("zed", "10.0.0.1");
  ASSERT_TRUE(full.wait_ms);
  EXPECT_TRUE(full.by_address);
}

TEST(LoginThrottle, AnAttemptTheStoreCouldNotAnswerIsTakenBack) {
  int64_t now = 0;
  LoginThrottle t([&] { return now; });
  for (int i = 0; i < 10; ++i) {
    const LoginThrottle::Attempt a = t.Begin("ada", "10.0.0.1");
    ASSERT_FALSE(a.wait_ms) << i;
    t.Cancel("ada", "10.0.0.1", a.at_ms);
  }
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Fails(t, "ada", "10.0.0.1")) << i;
  EXPECT_TRUE(t.Begin("ada", "10.0.0.1").wait_ms);
}

TEST(LoginThrottle, OneAddressTryingManyNamesWaits) {
  int64_t now = 0;
  LoginThrottle t([&] { return now; });
  for (int i = 0; i < LoginThrottle::kPerAddress; ++i) {
    EXPECT_TRUE(Fails(t, "user" + std::to_string(i), "10.0.0.9")) << i;
  }
  EXPECT_TRUE(t.Begin("anyone", "10.0.0.9").wait_ms);
  EXPECT_TRUE(t.Begin("anyone", "10.0.0.9").by_address);
  EXPECT_TRUE(Fails(t, "anyone", "10.0.0.8"));
  // A clock stepped back does not keep anyone waiting.
  now = -kMin;
  EXPECT_TRUE(Fails(t, "anyone", "10.0.0.9"));
}

// Requests that arrive together (the server checks passwords one at a time) are counted as they
// begin: only five of a pair's pass.
TEST(LoginThrottle, AttemptsBegunTogetherPassFiveAtMost) {
  int64_t now = 0;
  LoginThrottle t([&] { return now; });
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 64; ++i) {
    threads.emplace_back([&] { passed += Fails(t, "ada", "10.0.0.1") ? 1 : 0; });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(passed.load(), LoginThrottle::kPerUserAndAddress);
}

TEST(LoginThrottle, NoUserCountsForTheAddressAlone) {
  // Names no user can have come as "": they meet the address's limit of 20, not a pair's of 5.
  int64_t now = 0;
  LoginThrottle t([&] { return now; });
  for (int i = 0; i < LoginThrottle::kPerAddress; ++i) ASSERT_TRUE(Fails(t, "", "10.0.0.9")) << i;
  const LoginThrottle::Attempt refused = t.Begin("", "10.0.0.9");
  ASSERT_TRUE(refused.wait_ms);
  EXPECT_TRUE(refused.by_address);
}

TEST(LoginThrottle, AFloodOfNamesKeepsAtMostItsKeys) {
  int64_t now = 0;
  LoginThrottle t([&] { return now; });
  // Each failure makes a pair key; past the bound the oldest go, and the newest pair still counts.
  for (size_t i = 0; i < LoginThrottle::kMaxKeys + 10; ++i) {
    now = static_cast<int64_t>(i);
    Fails(t, "name" + std::to_string(i), "10.0.0." + std::to_string(i % 200));
  }
  for (int i = 0; i < LoginThrottle::kPerUserAndAddress; ++i) Fails(t, "last", "10.0.1.1");
  EXPECT_TRUE(t.Begin("last", "10.0.1.1").wait_ms);
  // A key with NUL in the name does not alias another pair.
  EXPECT_FALSE(t.Begin(std::string("last\0x", 6), "10.0.1.1").wait_ms);
}

}  // namespace
}  // namespace firstwall::serve
