#include "serve/client_address.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace firstwall::serve {
namespace {

TEST(ClientAddress, OnlyATrustedProxysHeaderIsBelieved) {
  const std::vector<std::string> proxy = {"127.0.0.1"};
  // Straight from a client: its own address, whatever header it sends.
  EXPECT_EQ(ClientAddress("198.51.100.9", "203.0.113.7", proxy), "198.51.100.9");
  EXPECT_EQ(ClientAddress("198.51.100.9", "", {}), "198.51.100.9");
  // From the proxy: the client the proxy appended.
  EXPECT_EQ(ClientAddress("127.0.0.1", "203.0.113.7", proxy), "203.0.113.7");
  // A client that sends its own header cannot choose its address: the proxy appends the real one,
  // and the rightmost untrusted entry wins.
  EXPECT_EQ(ClientAddress("127.0.0.1", "10.9.9.9, 203.0.113.7", proxy), "203.0.113.7");
  // Two proxies, both trusted: past them to the client.
  EXPECT_EQ(ClientAddress("127.0.0.1", "203.0.113.7, 10.0.0.2", {"127.0.0.1", "10.0.0.2"}),
            "203.0.113.7");
  // Without the header, or naming only proxies: the proxy itself.
  EXPECT_EQ(ClientAddress("127.0.0.1", "", proxy), "127.0.0.1");
  EXPECT_EQ(ClientAddress("127.0.0.1", " , 127.0.0.1", proxy), "127.0.0.1");
  // IPv6 in any spelling is compared in its canonical form.
  EXPECT_EQ(ClientAddress("::1", "2001:DB8:0::1", {"::1"}), "2001:db8::1");
  // An entry that is not an address is the client as written, not skipped.
  EXPECT_EQ(ClientAddress("127.0.0.1", "unknown", proxy), "unknown");
}

TEST(ClientAddress, ATrustedProxyMustBeAnAddress) {
  EXPECT_EQ(TrustedProxy("127.0.0.1", "--trusted-proxy"), "127.0.0.1");
  EXPECT_EQ(TrustedProxy("0:0::1", "--trusted-proxy"), "::1");
  try {
    TrustedProxy("proxy.example.com", "--trusted-proxy");
    FAIL() << "a name was taken";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--trusted-proxy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("is not an IPv4 or IPv6 address"), std::string::npos);
  }
}

}  // namespace
}  // namespace firstwall::serve
