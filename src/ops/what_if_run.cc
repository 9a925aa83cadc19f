#include "ops/what_if_run.h"

#include <algorithm>

#include "report/simulate.h"

namespace firstwall::ops {

WhatIfFigures FiguresOf(const report::Summary& s) {
  WhatIfFigures f;
  f.sim_time_s = s.sim_time_s;
  const double t = s.sim_time_s > 0 ? s.sim_time_s : 1;
  f.facility_power_w = s.facility_energy_j / t;
  f.it_power_w = s.it_input_energy_j / t;
  f.cooling_power_w = s.cooling_energy_j / t;
  f.pue = s.pue();
  f.peak_facility_w = s.peak_facility_w;
  f.peak_it_w = s.peak_it_w;
  f.mean_gpu_activity = s.mean_gpu_activity;
  f.inlet_outside_allowable_h = s.inlet_outside_allowable_hours;
  f.unmet_cooling_h = s.unmet_cooling_hours;
  f.cdu_over_capacity_h = s.cdu_over_capacity_hours;
  f.grid_limit_exceeded_h = s.grid_limit_exceeded_hours;
  f.throttled_gpu_h = s.throttled_gpu_hours;
  f.energy_cost_usd = s.total_energy_cost_usd();
  for (const report::ServiceSummary& service : s.services) {
    f.service_requests += service.result.requests;
    f.slo_met += service.result.slo_met;
  }
  if (s.life) {
    f.jobs_with_deadline = s.life->stats.jobs_with_deadline;
    f.deadlines_missed = s.life->stats.deadlines_missed;
    f.useful_gpu_h = s.life->goodput.useful_gpu_h;
    f.ramps_measured = s.life->restarts.measured();
    for (const report::RestartBurst& b : s.life->restarts.bursts) {
      if (b.jobs > 1)
        f.restart_rise_1min_w = std::max(f.restart_rise_1min_w, b.facility_1min.mw * 1e6);
    }
  }
  return f;
}

WhatIfFigures SimulateFigures(const std::string& scenario_path,
                              const std::vector<scenario::Override>& changes) {
  const scenario::Scenario sc = scenario::LoadScenarioFile(scenario_path, changes);
  return FiguresOf(report::Simulate(sc.site, sc.file));
}

WhatIfRun RunWhatIf(const std::string& scenario_path,
                    const std::vector<scenario::Override>& changes, const WhatIfFigures* baseline) {
  WhatIfRun w;
  w.changes = changes;
  w.baseline = baseline ? *baseline : SimulateFigures(scenario_path, {});
  w.changed = SimulateFigures(scenario_path, changes);
  return w;
}

}  // namespace firstwall::ops
