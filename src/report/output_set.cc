#include "report/output_set.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstring>
#include <system_error>

#include "core/error.h"

namespace firstwall::report {
namespace {

// Suffixes of the temporary files behind one output (AtomicFile's ".partial", the time series'
// first pass ".base").
constexpr std::array<const char*, 4> kSuffixes = {"", ".partial", ".base", ".base.partial"};

// What the signal handler removes: fixed-size C strings, written before the handler is installed
// and only read inside it.
constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxFiles = 32;
char g_staging[kMaxPath];
char g_files[kMaxFiles][kMaxPath];
volatile std::sig_atomic_t g_active = 0;

void RemoveStaging() {
  for (size_t i = 0; i < kMaxFiles; ++i) {
    if (g_files[i][0] != '\0') unlink(g_files[i]);
  }
  rmdir(g_staging);
}

extern "C" void OnSignal(int sig) {
  if (g_active) RemoveStaging();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void CopyPath(char* to, const std::string& from) {
  if (from.size() >= kMaxPath) {
    to[0] = '\0';
    return;
  }
  std::memcpy(to, from.c_str(), from.size() + 1);
}

}  // namespace

const std::vector<std::string>& OutputSet::Outputs() {
  static const std::vector<std::string> names = {"summary.json", "timeseries.csv", "swings.csv",
                                                 "links.csv"};
  return names;
}

OutputSet::OutputSet(std::filesystem::path dir) : dir_(std::move(dir)) {
  if (dir_.empty()) throw InputError({"--out", 0, 0}, "the output directory must not be empty");
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec || !std::filesystem::is_directory(dir_)) {
    throw InputError({dir_.string(), 0, 0},
                     "cannot create the output directory" + (ec ? ": " + ec.message() : ""));
  }
  staging_ = dir_ / (".firstwall-staging-" + std::to_string(getpid()));
  std::filesystem::remove_all(staging_, ec);
  if (!std::filesystem::create_directory(staging_, ec) || ec) {
    throw InputError({dir_.string(), 0, 0},
                     "cannot write into the output directory" + (ec ? ": " + ec.message() : ""));
  }
  // One run at a time per process: the handler cleans the latest set.
  std::memset(g_files, 0, sizeof g_files);
  CopyPath(g_staging, staging_.string());
  size_t k = 0;
  for (const std::string& name : Outputs()) {
    for (const char* suffix : kSuffixes) {
      if (k < kMaxFiles) CopyPath(g_files[k++], (staging_ / (name + suffix)).string());
    }
  }
  g_active = 1;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
}

OutputSet::~OutputSet() {
  g_active = 0;
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove_all(staging_, ec);
  }
}

std::string OutputSet::Stage(const std::string& name) {
  FW_CHECK(std::find(Outputs().begin(), Outputs().end(), name) != Outputs().end(),
           "an output must be one of OutputSet::Outputs(): " + name);
  if (std::find(staged_.begin(), staged_.end(), name) == staged_.end()) staged_.push_back(name);
  return (staging_ / name).string();
}

void OutputSet::Commit() {
  std::error_code ec;
  for (const std::string& name : Outputs()) {
    const bool ours = std::find(staged_.begin(), staged_.end(), name) != staged_.end();
    if (!ours || !std::filesystem::exists(staging_ / name))
      std::filesystem::remove(dir_ / name, ec);
  }
  for (const std::string& name : staged_) {
    if (!std::filesystem::exists(staging_ / name)) continue;
    std::filesystem::rename(staging_ / name, dir_ / name, ec);
    if (ec) {
      throw InputError({(dir_ / name).string(), 0, 0},
                       "could not move the output into place: " + ec.message());
    }
  }
  g_active = 0;
  std::filesystem::remove_all(staging_, ec);
  committed_ = true;
}

}  // namespace firstwall::report
