// The files of one run, moved into the output directory together. A run writes every file into a
// hidden staging directory inside DIR (DIR/.firstwall-staging-<pid>); Commit() removes the outputs
// an earlier run left in DIR (summary.json, timeseries.csv, swings.csv, links.csv, jobs.csv,
// events.csv, report.html), including
// those this run does not write, and renames the new ones into place. So DIR holds the complete
// outputs of exactly one run: never a new time series beside an old summary, never a partial file.
//
// A failed run (an exception) removes the staging directory in the destructor; SIGINT, SIGTERM,
// SIGHUP, SIGPIPE and SIGQUIT remove it from the signal handler (unlink and rmdir only, which are
// async-signal-safe), then end the process with the signal's default action. Earlier outputs in
// DIR stay as they were. A run killed where no handler runs (SIGKILL) leaves its staging
// directory; the next run into DIR removes those whose process is gone.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace firstwall::report {

class OutputSet {
 public:
  // Creates DIR (and parents) and the staging directory. Throws InputError when it cannot.
  // `names`: the files this kind of output set holds (a run's by default; `walls` and `sweep`
  // have their own), at most 8.
  explicit OutputSet(std::filesystem::path dir, std::vector<std::string> names = Outputs());
  ~OutputSet();
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  // Where to write the output named `name` ("summary.json"). Only the set's names are
  // taken, so that the signal handler knows every file the staging directory can hold.
  std::string Stage(const std::string& name);
  // Replaces DIR's earlier outputs with the staged ones. Throws InputError, DIR unchanged, when an
  // output's name in DIR is taken by something other than a regular file. Two runs committing into
  // one DIR at the same moment may interleave: give concurrent runs their own directories.
  void Commit();

  // The file names a run may write into DIR.
  static const std::vector<std::string>& Outputs();

 private:
  std::filesystem::path dir_, staging_;
  std::vector<std::string> names_;
  std::vector<std::string> staged_;
  bool committed_ = false;
};

}  // namespace firstwall::report
