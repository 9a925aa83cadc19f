#include "live/listen_address.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::live {

ListenAddress ParseListenAddress(const std::string& text, const std::string& option,
                                 std::string_view example) {
  const auto bad = [&] {
    return InputError({option, 0, 0}, fmt::format("'{}' is not HOST:PORT", text),
                      fmt::format("for example {} ([::1]:PORT for IPv6); port 0 takes any free "
                                  "port",
                                  example));
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
      text.size() - colon - 1 > 5 ||
      text.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    throw bad();
  }
  ListenAddress a;
  a.host = text.substr(0, colon);
  a.port = std::stoi(text.substr(colon + 1));
  if (a.host.front() == '[' || a.host.back() == ']') {
    if (a.host.size() < 3 || a.host.front() != '[' || a.host.back() != ']' ||
        a.host.find(':') == std::string::npos) {
      throw bad();
    }
    a.host = a.host.substr(1, a.host.size() - 2);
  } else if (a.host.find(':') != std::string::npos) {
    // "::1:9400" could be ::1 port 9400 or ::1:9400 with no port; "::1" read as ":" port 1.
    throw InputError({option, 0, 0},
                     fmt::format("'{}': an IPv6 address goes in brackets, [::1]:PORT", text),
                     fmt::format("for example [::1]:{}", a.port));
  }
  if (a.port > 65535) throw bad();
  return a;
}

std::string HostPort(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

std::string CannotListenWhy(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return fmt::format("the host does not resolve ({})", gai_strerror(rc));
  }
  int error = 0;
  for (const addrinfo* ai = found; ai; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    const bool bound = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    error = bound ? 0 : errno;
    close(fd);
    if (bound) break;
  }
  freeaddrinfo(found);
  switch (error) {
    case 0:
      return "";
    case EADDRINUSE:
      return "the port is in use";
    case EADDRNOTAVAIL:
      return fmt::format("{} is not an address of this machine", host);
    case EACCES:
      return "ports below 1024 need privileges";
    default:
      return std::strerror(error);
  }
}

void ThrowCannotListen(const std::string& option, const std::string& what, const std::string& host,
                       int port) {
  const std::string why = CannotListenWhy(host, port);
  const std::string where = HostPort(host, port);
  std::string hint = "port 0 takes any free port";
  if (why.find("not an address") != std::string::npos || why.starts_with("the host")) {
    hint =
        "listen on 127.0.0.1 (loopback, the default) or an address of one of this machine's "
        "interfaces";
  }
  throw InputError(
      {option, 0, 0},
      fmt::format("{}cannot listen on {}{}{}", what, where, why.empty() ? "" : ": ", why), hint);
}

}  // namespace firstwall::live
