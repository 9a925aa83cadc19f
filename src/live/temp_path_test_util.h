// Scratch files of the live tests: one folder per test process.
#pragma once

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

}  // namespace firstwall::live
