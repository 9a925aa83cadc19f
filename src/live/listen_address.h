// Where the live twin's servers listen (`emulate --listen/--redfish`, ingest's remote-write
// source) and why one could not: the same words for every server.
#pragma once

#include <string>
#include <string_view>

namespace firstwall::live {

struct ListenAddress {
  std::string host;  // an IPv4 or IPv6 address or a host name, without brackets
  int port = 0;      // 0..65535; 0: any free port
};

// "HOST:PORT" or "[IPV6]:PORT" (an unbracketed IPv6 address splits at its last colon).
// InputError at `option` when it is neither; `example` goes in the hint.
ListenAddress ParseListenAddress(const std::string& text, const std::string& option,
                                 std::string_view example);

// HOST:PORT as a URL writes it: an IPv6 address in brackets.
std::string HostPort(const std::string& host, int port);

// Why a listener on host:port did not start, found by trying the same bind: "the port is in
// use", "HOST is not an address of this machine", "the host does not resolve (...)", "ports below
// 1024 need privileges", or the system's words; "" when the bind works now.
std::string CannotListenWhy(const std::string& host, int port);

// Throws InputError at `option`: "cannot listen on HOST:PORT: WHY", with a hint fitting WHY.
[[noreturn]] void ThrowCannotListen(const std::string& option, const std::string& what,
                                    const std::string& host, int port);

}  // namespace firstwall::live
