// What the tests against real peers (labelled `live`) share: finding a program, a free loopback
// port, background processes, polling with a limit, and the emulator on a free port.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "src/live/temp_path_test_util.h"
#include "tests/cli_support.h"

namespace firstwall::testing_cli {

// The path of `program` on PATH or in /usr/sbin (where Debian puts servers such as snmpd and
// mosquitto, often not on a user's PATH), "" when absent.
inline std::string Which(const std::string& program) {
  std::string path;
  FILE* p = popen(("PATH=\"$PATH:/usr/sbin\" command -v " + program + " 2>/dev/null").c_str(), "r");
  char buf[512];
  while (fgets(buf, sizeof buf, p)) path += buf;
  pclose(p);
  while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
  return path.starts_with("/") ? path : "";
}

// A loopback port nothing is bound to at this moment: the live unit tests' helper.
using live::FreePort;

// Starts `command` in the background with its output in `log`; returns its pid.
inline int Spawn(const std::string& command, const fs::path& log) {
  FILE* p = popen((command + " >" + log.string() + " 2>&1 & echo $!").c_str(), "r");
  char buf[64] = {};
  const bool got = fgets(buf, sizeof buf, p) != nullptr;
  pclose(p);
  return got ? std::atoi(buf) : -1;
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

// Polls `ready` every 200 ms for at most `limit`.
template <class F>
bool WaitFor(F ready, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// A background process (Spawn's pid) stopped with SIGTERM when destroyed.
struct Process {
  int pid = -1;
  ~Process() {
    if (pid > 0) kill(pid, SIGTERM);
  }
};

// `firstwall emulate tests/inputs/live-emulate.yaml` at `speed` on a free loopback port (0 when it
// did not say one within a minute); stopped with SIGTERM when destroyed.
struct Emulator {
  int pid = -1, port = 0;
  Emulator(const fs::path& dir, int speed) {
    const fs::path log = dir / "emulate.log";
    pid = Spawn(std::string(FIRSTWALL_BIN) + " emulate tests/inputs/live-emulate.yaml --speed " +
                    std::to_string(speed) + " --listen 127.0.0.1:0",
                log);
    WaitFor(
        [&] {
          const std::string out = Slurp(log);
          const size_t at = out.find("http://127.0.0.1:");
          if (at == std::string::npos) return false;
          port = std::atoi(out.c_str() + at + 17);
          return port > 0;
        },
        std::chrono::seconds(60));
  }
  ~Emulator() {
    if (pid > 0) kill(pid, SIGTERM);
  }
};

}  // namespace firstwall::testing_cli
