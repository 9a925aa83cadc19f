// What a run leaves behind: summary.json, timeseries.csv and the printed summary. Files are written
// under a temporary name and renamed only when the run completes, so a failed run leaves none.
#pragma once

#include <cstdio>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "report/meter.h"

namespace firstwall::report {

// A file that appears under its name only on Commit(); otherwise it is removed.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void Write(std::string_view data);
  void Commit();

 private:
  std::string path_, partial_;
  std::FILE* f_ = nullptr;
};

// One link's load over the run: (time s, utilization) at every change, in time order.
struct LinkSeries {
  std::string name;
  std::vector<std::pair<double, double>> changes;
};

// Streams timeseries.csv rows; one line per tick, columns with units in their names. The hottest
// links are known only at the end, so their columns are added in a second pass over the rows.
class TimeSeriesCsv {
 public:
  explicit TimeSeriesCsv(std::string path);
  void OnTick(const TickRow& row, int64_t repeat);
  // `links`: one column each, link_util_<name>, the link's highest load over each tick.
  void Commit(const std::vector<LinkSeries>& links, double tick_s);

 private:
  std::string path_;
  AtomicFile base_;
  std::string buf_;
};

nlohmann::ordered_json BreakdownJson(const workload::StepBreakdown& b);
nlohmann::ordered_json SummaryJson(const Summary& s);
std::string SummaryText(const Summary& s);

}  // namespace firstwall::report
