// What the tests against real peers (ctest label `live`) share: finding a program, a free loopback
// port, a background process with its output in a file, and polling with a limit.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace firstwall::testing_cli {

// The program's path, or "" when it is not installed.
inline std::string Which(const std::string& program) {
  FILE* p = popen(("command -v " + program + " 2>/dev/null").c_str(), "r");
  std::string path;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) path += buf;
  pclose(p);
  while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
  return path;
}

// A port nothing listens on at this moment (the kernel's pick for port 0).
inline int FreeLoopbackPort() {
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

// Starts `command` in the background with its output in `log`; returns its pid.
inline int SpawnLogged(const std::string& command, const std::filesystem::path& log) {
  FILE* p = popen((command + " >" + log.string() + " 2>&1 & echo $!").c_str(), "r");
  char buf[64] = {};
  const bool got = fgets(buf, sizeof buf, p) != nullptr;
  pclose(p);
  return got ? std::atoi(buf) : -1;
}

// Polls `ready` every 200 ms for at most `limit`.
template <class F>
bool PollFor(F ready, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

}  // namespace firstwall::testing_cli
