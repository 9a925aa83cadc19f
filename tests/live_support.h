// What the tests against real third-party peers (label `live`) share: finding a program, a free
// loopback port, starting a program in the background, and polling with a limit so that a peer
// that never answers fails the test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "tests/cli_support.h"

namespace firstwall::testing_cli {

// The program's path, or "" when it is not on PATH.
inline std::string Which(const std::string& program) {
  std::string path;
  FILE* p = popen(("command -v " + program + " 2>/dev/null").c_str(), "r");
  char buf[512];
  while (fgets(buf, sizeof buf, p)) path += buf;
  pclose(p);
  while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
  return path;
}

// A port nothing listens on at this moment (the kernel's pick for port 0).
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// Whether something accepts TCP connections on 127.0.0.1:port.
inline bool Listening(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// Starts `command` in the background with its output in `log`; returns its pid.
inline int Spawn(const std::string& command, const fs::path& log) {
  FILE* p = popen((command + " >" + log.string() + " 2>&1 & echo $!").c_str(), "r");
  char buf[64] = {};
  const bool got = fgets(buf, sizeof buf, p) != nullptr;
  pclose(p);
  return got ? std::atoi(buf) : -1;
}

// Polls `ready` every 100 ms for at most `limit`.
template <class F>
bool WaitFor(F ready, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return ready();
}

}  // namespace firstwall::testing_cli
