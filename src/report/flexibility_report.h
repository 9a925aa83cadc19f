// What power- and carbon-aware scheduling did (scenario `scheduler.flexibility`), measured
// against the same scenario run without it: summary.json `flexibility` and the printed
// summary's flexibility lines. The baseline is the same scenario, seed and jobs with
// scheduler.flexibility removed (no holds, no caps); cost and carbon are the Meter's
// (report/meter.h: grid energy x the tariff at each tick), so saved = baseline - run.
//
// Honest reading: a run that defers work past the end of the simulation also saves the energy of
// that work. The section therefore gives the useful GPU-hours and completed jobs of both runs
// beside the cost, and the cost per useful GPU-hour.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/sim_time.h"
#include "scheduler/cluster_life.h"
#include "site/flexibility.h"

namespace firstwall::report {

// One run's figures.
struct FlexRun {
  double energy_cost_usd = 0, carbon_kg = 0, facility_energy_j = 0, grid_energy_j = 0;
  double peak_facility_w = 0, peak_grid_w = 0;
  double useful_gpu_h = 0;
  int jobs_completed = 0;
  std::vector<SimTime> first_start;  // per queue job; Never: never started
};

// "price > 100 USD/MWh or carbon > 400 g/kWh": the signals that close the gate.
std::string DescribeSignals(const site::FlexibilityConfig& config);

// Per queue job's first start, from a finished life.
std::vector<SimTime> FirstStarts(const scheduler::ClusterLife& life);

struct FlexibilitySummary {
  std::string signals;  // DescribeSignals
  bool defer = true;
  double cap_gpu_w = 0;  // 0: no cap
  double max_delay_h = 0;
  int flexible_jobs = 0;          // submitted in the run
  int held_jobs = 0;              // held at least once
  int released_by_max_delay = 0;  // with the gate still closed
  int released_for_deadline = 0;  // at their latest start for their deadline, gate still closed
  double deferred_gpu_h = 0;      // GPUs x time held
  site::FlexStats gate;
  FlexRun run, baseline;
  // Added first-start delay (run - baseline) in hours, over the flexible jobs that started in
  // both runs (nearest-rank p95), and the mean over the other jobs that started in both (it can be
  // negative: held jobs leave nodes free).
  int delay_jobs = 0;
  // Flexible jobs that started in the baseline but never in the run (held or queued to the end):
  // their delay is at least the rest of the run, and the figures above leave them out.
  int not_started_in_run = 0;
  double start_delay_mean_h = 0, start_delay_p95_h = 0, start_delay_max_h = 0;
  double other_start_delay_mean_h = 0;
  double saved_cost_usd() const { return baseline.energy_cost_usd - run.energy_cost_usd; }
  double saved_carbon_kg() const { return baseline.carbon_kg - run.carbon_kg; }
};

// `life` finished; `stats` from site::FlexSite::Stats at the end.
FlexibilitySummary SummarizeFlexibility(const site::FlexibilityConfig& config,
                                        const scheduler::ClusterLife& life, SimTime end,
                                        const site::FlexStats& stats, FlexRun run,
                                        FlexRun baseline);
nlohmann::ordered_json FlexibilityJson(const FlexibilitySummary& s);
std::string FlexibilityText(const FlexibilitySummary& s);

}  // namespace firstwall::report
