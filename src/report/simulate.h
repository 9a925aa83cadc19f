// One run of a site: the engine, the site model and the observers that record it. Shared by the
// CLI, the tests and the benchmarks.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "report/meter.h"
#include "site/site_config.h"

namespace firstwall::report {

struct SimulateOptions {
  std::string timeseries_csv;  // "" for none
  std::function<void(SimTime)> progress;
  // When set, receives links.csv: time_s,link,capacity_bytes_per_s,utilization, one row per change.
  std::string* link_table = nullptr;
  // Columns of timeseries.csv for the most loaded scale-out links (link_util_<name>).
  int hot_link_columns = 3;
  // When set and the scenario records power swings, receives swings.csv (report/swings.h).
  std::string* swing_table = nullptr;
  // With a scheduler, when set: jobs.csv and events.csv (report/life_report.h).
  std::string* jobs_table = nullptr;
  std::string* events_table = nullptr;
  // Rows of timeseries.csv: a whole number of physics ticks; zero for one row per tick.
  SimTime output_interval = SimTime();
  // When set, sees every row of the tick series (`n`: the row stands for n ticks), as the meter
  // does: what `firstwall walls --in-time` reads hour by hour.
  std::function<void(const TickRow& row, int64_t n)> on_tick = nullptr;
  // With a scheduler, when set: each queued job's first start (Never: never started).
  std::vector<SimTime>* first_starts = nullptr;
};

// With scheduler.flexibility the scenario is simulated a second time without it, as the baseline
// of Summary::flexibility (same seed; only the summary of that run is kept).
Summary Simulate(const site::SiteConfig& config, const std::string& scenario_file,
                 const SimulateOptions& options = {});

}  // namespace firstwall::report
