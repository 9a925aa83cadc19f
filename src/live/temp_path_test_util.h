// Scratch files and ports of the live tests: one folder per test process.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace firstwall::live {

// A path `name` in the temporary folder of this test process, with nothing there yet.
inline std::string TempPath(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("fw_live_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::filesystem::remove(p);
  return p.string();
}

// A loopback port nothing is bound to at this moment (the kernel's pick for port 0): TCP, or UDP
// with SOCK_DGRAM; with `keep`, the socket stays bound there (a peer that never answers).
inline int FreePort(int type = SOCK_STREAM, int* keep = nullptr) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  if (keep) {
    *keep = fd;
  } else {
    close(fd);
  }
  return ntohs(a.sin_port);
}

}  // namespace firstwall::live
