#include "serve/client_address.h"

#include <gtest/gtest.h>

#include <random>

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
  // Ports are dropped, so that each connection is not a client of its own.
  EXPECT_EQ(ClientAddress("127.0.0.1", "203.0.113.53:4000", proxy), "203.0.113.53");
  EXPECT_EQ(ClientAddress("127.0.0.1", "[2001:db8::53]:4000", proxy), "2001:db8::53");
  EXPECT_EQ(ClientAddress("127.0.0.1", "2001:db8::53", proxy), "2001:db8::53");
  EXPECT_EQ(ClientAddress("127.0.0.1", "203.0.113.53, 127.0.0.1:9000", proxy), "203.0.113.53");
}

// A server on [::] sees an IPv4 peer as ::ffff:a.b.c.d: the same proxy, the same client.
TEST(ClientAddress, IPv4MappedAddressesAreTheirIPv4Address) {
  const std::vector<std::string> proxy = {TrustedProxy("127.0.0.1", "--trusted-proxy")};
  EXPECT_EQ(ClientAddress("::ffff:127.0.0.1", "203.0.113.7", proxy), "203.0.113.7");
  EXPECT_EQ(ClientAddress("::ffff:127.0.0.1", "for=203.0.113.7", proxy, ProxyHeader::kForwarded),
            "203.0.113.7");
  EXPECT_EQ(ClientAddress("::ffff:198.51.100.9", "203.0.113.7", proxy), "198.51.100.9");
  EXPECT_EQ(ClientAddress("127.0.0.1", "::ffff:203.0.113.7", proxy), "203.0.113.7");
  EXPECT_EQ(TrustedProxy("::ffff:127.0.0.1", "--trusted-proxy"), "127.0.0.1");
  EXPECT_EQ(ClientAddress("127.0.0.1", "203.0.113.7", {TrustedProxy("::ffff:127.0.0.1", "x")}),
            "203.0.113.7");
  // Not mapped: IPv6 as it is.
  EXPECT_EQ(ClientAddress("::1", "", {}), "::1");
  EXPECT_EQ(ClientAddress("2001:db8::ffff:1.2.3.4", "", {}), "2001:db8::ffff:102:304");
}

// RFC 7239's Forwarded, read the same way: its `for` nodes (section 6: IPv4, a bracketed and
// quoted IPv6, ports, "unknown", obfuscated "_" names), in any case and spacing, quoted or not.
TEST(ClientAddress, TheForwardedHeadersForNodes) {
  const std::vector<std::string> proxy = {"127.0.0.1"};
  const ProxyHeader fw = ProxyHeader::kForwarded;
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=192.0.2.43", proxy, fw), "192.0.2.43");
  // The examples of RFC 7239, section 4.
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=\"_gazonk\"", proxy, fw), "_gazonk");
  EXPECT_EQ(ClientAddress("127.0.0.1", "For=\"[2001:db8:cafe::17]:4711\"", proxy, fw),
            "2001:db8:cafe::17");
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=192.0.2.60;proto=http;by=203.0.113.43", proxy, fw),
            "192.0.2.60");
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=192.0.2.43, for=198.51.100.17", proxy, fw),
            "198.51.100.17");
  // A port on IPv4; the client's own element left of the proxy's cannot choose its address.
  EXPECT_EQ(
      ClientAddress("127.0.0.1", "for=10.9.9.9, for=\"203.0.113.7:5000\";proto=https", proxy, fw),
      "203.0.113.7");
  // Past trusted proxies to the client; a quoted comma is not an element's end.
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=203.0.113.7;host=\"a,b\", for=\"[::1]\"",
                          {"127.0.0.1", "::1"}, fw),
            "203.0.113.7");
  // An element without `for` and "unknown" are a client as written, never skipped past.
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=203.0.113.7, proto=https", proxy, fw), "unknown");
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=203.0.113.7, for=unknown", proxy, fw), "unknown");
  // An unclosed quote (the client's) does not swallow the element the proxy appended after it, in
  // the same line or the next: the proxy's is read, whatever the client wrote.
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=\"x1, for=203.0.113.9", proxy, fw), "203.0.113.9");
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=\"[198.51.100.7], for=203.0.113.66", proxy, fw),
            "203.0.113.66");
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=1.2.3.4;proto=\"q, for=203.0.113.9", proxy, fw),
            "203.0.113.9");
  // A proxy that quotes its node (RFC 7239 asks it to for IPv6 and ports): a client's stray quote
  // does not pair with the proxy's opening quote, so the client's text is never what is read,
  // whether the proxy appends to the client's line or writes a line of its own (joined with ", ").
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=\"x, for=\"203.0.113.200\"", proxy, fw),
            "203.0.113.200");
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=\"[2001:db8::1, for=\"[2001:db8::9]:4711\"", proxy, fw),
            "2001:db8::9");
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=203.0.113.5;x=\", for=\"198.51.100.1:80\"", proxy, fw),
            "198.51.100.1");
  // Escaped quotes inside a quoted string, read from the right.
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=\"a\\\"b\", for=\"[::2]\"", proxy, fw), "::2");
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=\"[::3]\";host=\"a\\\\\", for=\"[::1]\"",
                          {"127.0.0.1", "::1"}, fw),
            "::3");
  // Text that is not well-formed, reached past the trusted proxies: no one, never its text.
  EXPECT_EQ(ClientAddress("127.0.0.1", "evil\"\", for=127.0.0.1", proxy, fw), "unknown");
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=203.0.113.5\"", proxy, fw), "unknown");
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=203.0.113.5 x=1", proxy, fw), "unknown");
  EXPECT_EQ(ClientAddress("127.0.0.1", "=203.0.113.5", proxy, fw), "unknown");
  // An empty node is no one either, not an entry to skip past to the text left of it.
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=203.0.113.5, for=\"\", for=127.0.0.1", proxy, fw),
            "unknown");
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=203.0.113.5, for=", proxy, fw), "unknown");
  // Naming no one else, or from an untrusted peer: the peer.
  EXPECT_EQ(ClientAddress("127.0.0.1", "", proxy, fw), "127.0.0.1");
  EXPECT_EQ(ClientAddress("127.0.0.1", " , ", proxy, fw), "127.0.0.1");
  EXPECT_EQ(ClientAddress("198.51.100.9", "for=203.0.113.7", proxy, fw), "198.51.100.9");
  // Read as X-Forwarded-For, a Forwarded value is no address: the client as written.
  EXPECT_EQ(ClientAddress("127.0.0.1", "for=203.0.113.7", proxy), "for=203.0.113.7");
}

// Whatever a client sends (any mix of quotes, backslashes, commas, semicolons and equals signs),
// the element a trusted proxy appends after it is what is read: the client can neither escape
// the throttle nor name another address.
TEST(ClientAddress, NoClientTextChangesTheProxysElement) {
  const ProxyHeader fw = ProxyHeader::kForwarded;
  const std::string alphabet = "\"\\,;= \tfor[]:1.2_x";
  const std::vector<std::pair<std::string, std::string>> appended = {
      {"for=\"203.0.113.200\"", "203.0.113.200"},
      {"for=203.0.113.200", "203.0.113.200"},
      {"for=\"[2001:db8::9]:4711\";proto=https", "2001:db8::9"},
      {"proto=https;For=\"198.51.100.3:80\"", "198.51.100.3"},
      {"for=\"_node\\\"7\"", "_node\"7"}};
  std::mt19937 random(7);
  for (int trial = 0; trial < 20000; ++trial) {
    std::string client;
    const int length = static_cast<int>(random() % 24);
    for (int k = 0; k < length; ++k) client += alphabet[random() % alphabet.size()];
    const auto& [element, node] = appended[trial % appended.size()];
    ASSERT_EQ(ClientAddress("127.0.0.1", client + ", " + element, {"127.0.0.1"}, fw), node)
        << client;
    // Behind two trusted proxies, the nearest appending its own line.
    ASSERT_EQ(ClientAddress("10.0.0.2", client + ", " + element + ", for=10.0.0.2",
                            {"10.0.0.2", "127.0.0.1"}, fw),
              node)
        << client;
  }
}

TEST(ClientAddress, TheProxyHeaderIsOneOfTwo) {
  EXPECT_EQ(ParseProxyHeader("Forwarded", "--proxy-header"), ProxyHeader::kForwarded);
  EXPECT_EQ(ParseProxyHeader("x-forwarded-for", "--proxy-header"), ProxyHeader::kXForwardedFor);
  EXPECT_THROW(ParseProxyHeader("x-real-ip", "--proxy-header"), InputError);
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
