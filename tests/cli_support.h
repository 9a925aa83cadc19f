// What the end-to-end tests share: running the built firstwall binary, reading files, and a fresh
// directory per test process.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace firstwall::testing_cli {
namespace fs = std::filesystem;

struct Result {
  int status = -1;  // exit status; -1 when ended by a signal
  std::string out;  // stdout and stderr together
};

// Runs `command` through the shell: its exit status, stdout and stderr.
inline Result Shell(const std::string& command) {
  Result r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Runs `firstwall ARGS` through the shell.
inline Result Firstwall(const std::string& args) {
  return Shell(std::string(FIRSTWALL_BIN) + " " + args);
}

inline std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An absent path under the test temp dir, unique per process, so concurrent test runs (two
// checkouts, ctest -j) never share outputs.
inline fs::path Fresh(const std::string& name) {
  const fs::path d =
      fs::path(::testing::TempDir()) / ("fw_cli_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(d);
  return d;
}

// `text` with the first `from` replaced by `to`: a scenario edited for one case. A `from` that is
// not there fails the test (an edit that silently did nothing would test the unedited scenario).
inline std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "not in the scenario: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

}  // namespace firstwall::testing_cli
