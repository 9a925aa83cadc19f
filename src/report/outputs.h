// What a run leaves behind: summary.json, timeseries.csv and the printed summary. Files are written
// under a temporary name and renamed only when the run completes, so a failed run leaves none.
#pragma once

#include <cstdio>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/error.h"
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

// Streams timeseries.csv rows; one line per output interval (a whole number of physics ticks),
// columns with units in their names. Each row is the time-weighted mean over its interval (so
// energies integrate exactly), except the peak columns (highest tick) and battery_soc (at the
// interval's end). The hottest links are known only at the end, so their columns are added in a
// second pass over the rows.
class TimeSeriesCsv {
 public:
  // `ticks_per_row` >= 1 physics ticks of length `tick` make one row.
  TimeSeriesCsv(std::string path, SimTime tick, int64_t ticks_per_row = 1);
  void OnTick(const TickRow& row, int64_t repeat);
  // `links`: one column each, link_util_<name>, the link's highest load over each row's interval.
  void Commit(const std::vector<LinkSeries>& links, double row_s);

 private:
  void Add(const TickRow& row, int64_t ticks, SimTime start);
  void Emit(const TickRow& row, SimTime start);
  void Flush();

  std::string path_;
  AtomicFile base_;
  std::string buf_;
  SimTime tick_;
  int64_t ticks_per_row_;
  // The open row: time integrals of the averaged columns, peaks, and how many ticks it holds.
  TickRow acc_;
  int64_t acc_ticks_ = 0;
  double acc_seconds_ = 0;
};

// What timeseries.csv will take on disk: rows x bytes per row (header and every column at their
// printed widths, `hot_links` link columns), to refuse a run that would fill a disk before it
// starts.
double EstimateTimeSeriesBytes(double duration_s, double row_s, int hot_links);
// Throws InputError at `where` when the estimate exceeds `max_bytes`, with the estimate and the two
// ways out (a longer output interval, a higher limit).
void CheckTimeSeriesSize(double duration_s, double row_s, int hot_links, double max_bytes,
                         const SourceLocation& where);

nlohmann::ordered_json BreakdownJson(const workload::StepBreakdown& b);
nlohmann::ordered_json SummaryJson(const Summary& s);
std::string SummaryText(const Summary& s);
// A duration for people: "24 h", "10 min", "366 d", "1.5 s", "10 ms" (at most two decimals).
std::string ReadableDuration(double seconds);

}  // namespace firstwall::report
