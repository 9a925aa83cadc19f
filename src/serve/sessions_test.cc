#include "serve/sessions.h"

#include <gtest/gtest.h>

namespace firstwall::serve {
namespace {

TEST(Sessions, TokensAreRandomHexAndComparedWhole) {
  const std::string a = RandomToken(), b = RandomToken();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_NE(a, b);
  EXPECT_TRUE(SameSecret(a, a));
  EXPECT_FALSE(SameSecret(a, b));
  EXPECT_FALSE(SameSecret(a, a.substr(0, 63)));
  EXPECT_FALSE(SameSecret(a, ""));
}

TEST(Sessions, ACookieHeaderIsReadByName) {
  EXPECT_EQ(CookieValue("fw_session=abc", "fw_session"), "abc");
  EXPECT_EQ(CookieValue("a=1; fw_session=abc; b=2", "fw_session"), "abc");
  EXPECT_EQ(CookieValue("xfw_session=abc; fw_session=def", "fw_session"), "def");
  EXPECT_EQ(CookieValue("a=1", "fw_session"), "");
  EXPECT_EQ(CookieValue("", "fw_session"), "");
  EXPECT_EQ(CookieValue(";;; fw_session", "fw_session"), "");
}

TEST(Sessions, OneIdleLongerThanItsLimitMustLogInAgain) {
  int64_t now = 1'000'000;
  Sessions sessions(30 * 60'000, [&] { return now; });
  const Session s = sessions.Open({"ana", ops::Role::kApprover});
  EXPECT_NE(s.token, s.csrf);
  ASSERT_TRUE(sessions.Find(s.token));
  EXPECT_EQ(sessions.Find(s.token)->user.name, "ana");
  EXPECT_FALSE(sessions.Find(s.csrf));  // the CSRF token is no session
  EXPECT_FALSE(sessions.Find(""));
  now += 30 * 60'000;  // used just now: still within the limit
  ASSERT_TRUE(sessions.Find(s.token));
  now += 29 * 60'000;
  ASSERT_TRUE(sessions.Find(s.token));  // each use starts the limit again
  EXPECT_EQ(sessions.Count(), 1u);
  now += 30 * 60'000 + 1;
  EXPECT_FALSE(sessions.Find(s.token));
  EXPECT_EQ(sessions.Count(), 0u);
  const Session t = sessions.Open({"vic", ops::Role::kViewer});
  sessions.Close(t.token);
  EXPECT_FALSE(sessions.Find(t.token));
}

}  // namespace
}  // namespace firstwall::serve
