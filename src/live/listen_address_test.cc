#include "live/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "live/http_server.h"

namespace firstwall::live {
namespace {

TEST(ListenAddress, HostAndPortIncludingBracketedIpv6) {
  ListenAddress a = ParseListenAddress("127.0.0.1:9400", "--listen", "127.0.0.1:9400");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 9400);
  a = ParseListenAddress("[::1]:0", "--listen", "127.0.0.1:9400");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 0);
  try {
    ParseListenAddress("::1", "--listen", "127.0.0.1:9400");  // once read as host ':' port 1
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.message(), "'::1': an IPv6 address goes in brackets, [::1]:PORT");
  }
  for (const char* bad : {"9400", ":9400", "host:", "host:65536", "host:123456", "[::1:80", "[]:80",
                          "host:80a", "[127.0.0.1]:0"}) {
    try {
      ParseListenAddress(bad, "--redfish", "127.0.0.1:8000");
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_EQ(e.where().file, "--redfish");
      EXPECT_EQ(e.message(), fmt::format("'{}' is not HOST:PORT", bad));
    }
  }
}

TEST(ListenAddress, SaysWhyABindFails) {
  // A port in use: hold one on loopback.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof sa;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  const int port = ntohs(sa.sin_port);
  EXPECT_EQ(CannotListenWhy("127.0.0.1", port), "the port is in use");
  try {
    ThrowCannotListen("--listen", "", "127.0.0.1", port);
  } catch (const InputError& e) {
    EXPECT_EQ(e.message(), fmt::format("cannot listen on 127.0.0.1:{}: the port is in use", port));
    EXPECT_EQ(e.hint(), "port 0 takes any free port");
  }
  close(fd);
  EXPECT_EQ(CannotListenWhy("127.0.0.1", port), "");
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): no machine's own address.
  EXPECT_EQ(CannotListenWhy("192.0.2.1", 0), "192.0.2.1 is not an address of this machine");
  try {
    ThrowCannotListen("src", "remote_write source 'src': ", "192.0.2.1", 9201);
  } catch (const InputError& e) {
    EXPECT_EQ(e.message(),
              "remote_write source 'src': cannot listen on 192.0.2.1:9201: 192.0.2.1 is not an "
              "address of this machine");
    EXPECT_NE(e.hint().find("127.0.0.1"), std::string::npos);
  }
}

// httplib's default socket options include SO_REUSEPORT, under which this bind succeeded and two
// emulators shared one port; the live twin's servers must refuse it.
TEST(ListenAddress, ASecondHttpServerOnAPortInUseIsRefused) {
  httplib::Server first, second;
  SetUpHttpServer(first);
  SetUpHttpServer(second);
  const int port = first.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  EXPECT_FALSE(second.bind_to_port("127.0.0.1", port));
  EXPECT_EQ(HostPort("::1", port), fmt::format("[::1]:{}", port));
}

}  // namespace
}  // namespace firstwall::live
