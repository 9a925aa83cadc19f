#include "serve/origins.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace firstwall::serve {
namespace {

TEST(Origins, OnLoopbackOnlyLoopbackNamesAndAllowedHostsReachTheServer) {
  const OriginPolicy p("127.0.0.1", {"https://dash.example.com"});
  EXPECT_EQ(p.HostRefusal("127.0.0.1:8080"), "");
  EXPECT_EQ(p.HostRefusal("localhost:8080"), "");
  EXPECT_EQ(p.HostRefusal("[::1]:8080"), "");
  EXPECT_EQ(p.HostRefusal("dash.example.com"), "");  // a proxy that keeps the Host
  EXPECT_EQ(p.HostRefusal(""), "");
  EXPECT_NE(p.HostRefusal("attacker.example:8080").find("DNS rebinding"), std::string::npos);
  // Names that merely look like loopback addresses can be pointed here by anyone.
  EXPECT_NE(p.HostRefusal("127.attacker.example:8080"), "");
  EXPECT_NE(p.HostRefusal("127.0.0.1.nip.io:8080"), "");
  EXPECT_EQ(p.HostRefusal("127.0.0.2:8080"), "");
  // A page is its own origin; another port of localhost is another site.
  EXPECT_TRUE(p.OriginAllowed("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(p.OriginAllowed("HTTP://LOCALHOST:8080", "localhost:8080"));
  EXPECT_FALSE(p.OriginAllowed("http://localhost:3000", "localhost:8080"));
  EXPECT_TRUE(p.OriginAllowed("https://dash.example.com", "127.0.0.1:8080"));
  EXPECT_FALSE(p.OriginAllowed("https://dash.example.com/x", "127.0.0.1:8080"));  // no path
  EXPECT_FALSE(p.OriginAllowed("http://dash.example.com", "127.0.0.1:8080"));
  EXPECT_FALSE(p.OriginAllowed("null", "127.0.0.1:8080"));
  EXPECT_FALSE(p.OriginAllowed("http://localhost:80@evil.com", "localhost:80@evil.com"));
  EXPECT_FALSE(p.OriginAllowed("http://localhost.evil.com:8080", "localhost:8080"));
}

TEST(Origins, BeyondLoopbackThePageItselfIsAllowed) {
  const OriginPolicy open("0.0.0.0", {});
  EXPECT_EQ(open.HostRefusal("192.0.2.2:45017"), "");
  EXPECT_TRUE(open.OriginAllowed("http://192.0.2.2:45017", "192.0.2.2:45017"));
  EXPECT_FALSE(open.OriginAllowed("http://evil.example", "192.0.2.2:45017"));
  // With origins named, only those hosts (and loopback, and the listen address) are served.
  const OriginPolicy named("192.0.2.2", {"https://dash.example.com"});
  EXPECT_EQ(named.HostRefusal("192.0.2.2:8080"), "");
  EXPECT_NE(named.HostRefusal("other.example"), "");
  EXPECT_THROW(OriginPolicy("127.0.0.1", {"dash.example.com"}), InputError);
  EXPECT_THROW(OriginPolicy("127.0.0.1", {"https://dash.example.com/path"}), InputError);
  for (const char* bad :
       {"https://a.com:99999", "https://a.com:abc", "https://a.com:", "https://"}) {
    EXPECT_THROW(OriginPolicy("127.0.0.1", {bad}), InputError) << bad;
  }
  EXPECT_NO_THROW(OriginPolicy("127.0.0.1", {"https://a.com:8443", "http://[::1]:8080"}));
}

}  // namespace
}  // namespace firstwall::serve
