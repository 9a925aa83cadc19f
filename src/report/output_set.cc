#include "report/output_set.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
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
// The signals that end a process by default and can be caught: interrupted from the terminal,
// asked to stop, the terminal gone, a closed pipe, quit.
constexpr std::array<int, 5> kSignals = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT};
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

// Staging directories of runs whose process is gone (killed by SIGKILL, or a crash): their pid no
// longer names a process.
void RemoveStaleStaging(const std::filesystem::path& dir) {
  constexpr std::string_view kPrefix = ".firstwall-staging-";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(kPrefix, 0) != 0) continue;
    const std::string digits = name.substr(kPrefix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(digits.c_str(), nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::filesystem::remove_all(e.path(), ec);
    }
  }
}

// What could stop the swap is checked before anything in DIR changes: an output name taken by
// something other than a regular file (a directory, say) would fail its rename.
void CheckReplaceable(const std::filesystem::path& dir, const std::vector<std::string>& names) {
  std::error_code ec;
  for (const std::string& name : names) {
    const auto st = std::filesystem::symlink_status(dir / name, ec);
    if (!ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st)) {
      throw InputError({(dir / name).string(), 0, 0},
                       "is not a regular file, so this run's outputs cannot replace it",
                       "remove it, or choose another --out directory");
    }
  }
}

}  // namespace

const std::vector<std::string>& OutputSet::Outputs() {
  static const std::vector<std::string> names = {"summary.json", "timeseries.csv", "swings.csv",
                                                 "links.csv",    "jobs.csv",       "events.csv",
                                                 "report.html"};
  return names;
}

OutputSet::OutputSet(std::filesystem::path dir, std::vector<std::string> names)
    : dir_(std::move(dir)), names_(std::move(names)) {
  FW_CHECK(names_.size() * kSuffixes.size() <= kMaxFiles, "an output set names at most 8 files");
  if (dir_.empty()) throw InputError({"--out", 0, 0}, "the output directory must not be empty");
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec || !std::filesystem::is_directory(dir_)) {
    throw InputError({dir_.string(), 0, 0},
                     "cannot create the output directory" + (ec ? ": " + ec.message() : ""));
  }
  CheckReplaceable(dir_, names_);  // before the run, not after it
  RemoveStaleStaging(dir_);
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
  for (const std::string& name : names_) {
    for (const char* suffix : kSuffixes) {
      if (k < kMaxFiles) CopyPath(g_files[k++], (staging_ / (name + suffix)).string());
    }
  }
  g_active = 1;
  for (int sig : kSignals) std::signal(sig, OnSignal);
}

OutputSet::~OutputSet() {
  g_active = 0;
  for (int sig : kSignals) std::signal(sig, SIG_DFL);
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove_all(staging_, ec);
  }
}

std::string OutputSet::Stage(const std::string& name) {
  FW_CHECK(std::find(names_.begin(), names_.end(), name) != names_.end(),
           "an output must be one of the set's names: " + name);
  if (std::find(staged_.begin(), staged_.end(), name) == staged_.end()) staged_.push_back(name);
  return (staging_ / name).string();
}

void OutputSet::Commit() {
  std::error_code ec;
  CheckReplaceable(dir_, names_);  // again: DIR may have changed while the run ran
  for (const std::string& name : names_) {
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
