// `firstwall emulate ... --listen 127.0.0.1:0 --modbus 127.0.0.1:0` as a child process, for the
// CLI tests that need a site on loopback: its ports read from its two start-up lines.
#pragma once

#include <cstdio>
#include <string>

#include "tests/cli_support.h"

namespace firstwall::testing_cli {

struct EmulatorProcess {
  FILE* out = nullptr;  // its stdout and stderr; nullptr when it did not start
  int http_port = 0, modbus_port = 0;
  std::string head;  // the start-up lines

  // Starts `firstwall emulate ARGS --listen 127.0.0.1:0 --modbus 127.0.0.1:0`; ports stay 0 when
  // the lines do not name them.
  explicit EmulatorProcess(const std::string& args) {
    const std::string cmd = std::string(FIRSTWALL_BIN) + " emulate " + args +
                            " --listen 127.0.0.1:0 --modbus 127.0.0.1:0 2>&1";
    out = popen(cmd.c_str(), "r");
    if (!out) return;
    char line[512] = {};
    for (int i = 0; i < 2 && fgets(line, sizeof line, out); ++i) head += line;
    const size_t http = head.find("http://127.0.0.1:");
    const size_t modbus = head.find("serving modbus-tcp://127.0.0.1:");
    if (http != std::string::npos) http_port = std::stoi(head.substr(http + 17));
    if (modbus != std::string::npos) modbus_port = std::stoi(head.substr(modbus + 31));
  }
  // Waits for it to end: its exit status (-1 when killed), the rest of its output in `rest`.
  int Wait(std::string& rest) {
    char line[512] = {};
    while (fgets(line, sizeof line, out)) rest += line;
    const int st = pclose(out);
    out = nullptr;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  ~EmulatorProcess() {
    if (out) pclose(out);
  }
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;
};

}  // namespace firstwall::testing_cli
