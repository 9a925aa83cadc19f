// A what-if run of the twin for the experts (experts.h): the scenario as it is and with a few keys
// changed (scenario/overrides.h), both simulated, as the figures a plan is weighed by, the limit
// hours among them, so an expert fills a plan's predicted effect and checks its constraints.
// (what_if.h is the MCP tools' what-if: key figures as JSON, the baseline kept between calls.)
#pragma once

#include <string>
#include <vector>

#include "report/meter.h"
#include "scenario/overrides.h"

namespace firstwall::ops {

// Means over a run and the hours it broke a limit. Powers in W, temperatures in C.
struct WhatIfFigures {
  double facility_power_w = 0;  // facility energy over the simulated time
  double it_power_w = 0;        // at the IT equipment's input
  double cooling_power_w = 0;   // cooling plant electricity
  double pue = 0;
  double peak_facility_w = 0;
  double peak_it_w = 0;          // IT load (GPUs and node base power) at its peak
  double mean_gpu_activity = 0;  // 0..1
  // Limits (report/meter.h's Summary): ASHRAE A1 allowable inlet band (15-32 C), heat the plant
  // could not remove, CDUs above their capacity, grid import above site.grid_import_limit,
  // GPU-hours throttled by temperature.
  double inlet_outside_allowable_h = 0;
  double unmet_cooling_h = 0;
  double cdu_over_capacity_h = 0;
  double grid_limit_exceeded_h = 0;
  double throttled_gpu_h = 0;
  // The services' requests (all of them, arrived in the run) and those that met their SLO (TTFT
  // and TPOT, services[].slo): a plan must not make the share worse. Both 0 without services.
  double service_requests = 0, slo_met = 0;
  // With a scheduler: jobs with a deadline (workloads[].deadline) and those that missed it.
  int jobs_with_deadline = 0, deadlines_missed = 0;
  double useful_gpu_h = 0;  // the queue's useful work done (goodput), GPU-hours
  // What the site's energy costs over the run: grid energy at the tariff, renewable purchases
  // and generation fuel (report::Summary::total_energy_cost_usd), USD.
  double energy_cost_usd = 0;
  // The steepest rise of facility power within one minute of a restart burst of several jobs
  // (report/restart_ramps.h), W; 0 without one.
  double restart_rise_1min_w = 0;
  bool ramps_measured = false;  // with a scheduler at a tick of 60 s or less
  double sim_time_s = 0;
};
WhatIfFigures FiguresOf(const report::Summary& s);

struct WhatIfRun {
  std::vector<scenario::Override> changes;
  WhatIfFigures baseline, changed;
  double facility_power_change_w() const {
    return changed.facility_power_w - baseline.facility_power_w;
  }
};

// The figures of one run of the scenario at `scenario_path` with `changes`. InputError (from the
// loader, located at each override's `where`) when a change is not a valid scenario.
WhatIfFigures SimulateFigures(const std::string& scenario_path,
                              const std::vector<scenario::Override>& changes);
// The scenario as it is (`baseline`, when the caller has it already, saves that run) and with
// `changes`.
WhatIfRun RunWhatIf(const std::string& scenario_path,
                    const std::vector<scenario::Override>& changes,
                    const WhatIfFigures* baseline = nullptr);

}  // namespace firstwall::ops
