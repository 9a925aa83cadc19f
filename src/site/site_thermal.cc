// The site's thermal side at the racks and chips: rated CDUs' heat and their racks' coolant, each
// running job's GPU temperature on its coolant, and the throttling or shutdown it causes. The
// plant itself is thermal/cooling_plant.h.
#include <algorithm>
#include <cmath>
#include <limits>

#include "site/site.h"

namespace firstwall::site {
using namespace units;

void Site::LoadCdus(double dt, units::Temperature liquid_supply) {
  const thermal::CoolingConfig& cc = config_.facility.cooling;
  const size_t per = static_cast<size_t>(cc.racks_per_cdu), racks = rack_w_.size();
  const double cap = ToWatts(cc.cdu_capacity);
  // At fixed flows and effectiveness eps the secondary supply sits (1 - eps) / eps x the secondary
  // rise above the facility water, the rise in proportion to the CDU's heat (cdu_secondary_delta_t
  // at its capacity): cooling_plant.h's approach at this CDU's own load, without a ceiling.
  const double kelvin_per_w = ToKelvinDifference(cc.cdu_secondary_delta_t) *
                              (1.0 - cc.cdu_effectiveness) / cc.cdu_effectiveness / cap;
  double peak = 0, over = 0;
  for (size_t u = 0; u < cdu_w_.size(); ++u) {
    double it_w = 0;
    for (size_t k = u * per; k < std::min(racks, (u + 1) * per); ++k) it_w += rack_w_[k];
    const double w = cc.liquid_share * it_w;
    cdu_w_[u] = w;
    cdu_coolant_c_[u] =
        ToCelsius(thermal::ChipCoolant(cc, liquid_supply + KelvinDifference(kelvin_per_w * w)));
    peak = std::max(peak, w);
    over += std::max(0.0, w - cap);
  }
  sample_.peak_cdu = Watts(peak);
  cdu_loads_.peak_w = std::max(cdu_loads_.peak_w, peak);
  if (over > 0) {
    cdu_loads_.over_s += dt;
    cdu_loads_.over_j += over * dt;
  }
}

double Site::CoolantFor(const PlacedJob& pj, double plant_c) const {
  if (cdu_loads_.units == 0 || config_.facility.cooling.liquid_share <= 0 || pj.racks.empty()) {
    return plant_c;
  }
  const size_t per = static_cast<size_t>(config_.facility.cooling.racks_per_cdu);
  double c = -std::numeric_limits<double>::infinity();
  for (size_t r : pj.racks) c = std::max(c, cdu_coolant_c_[r / per]);
  return c;
}

void Site::HeatGpus(SimTime from, SimTime to, units::Temperature coolant) {
  const thermal::CoolingConfig& cc = config_.facility.cooling;
  const hardware::ThermalLimits& th = config_.cluster.gpu.thermal;
  const double r = ToKelvinPerWatt(cc.chip_to_coolant), tau = ToSeconds(cc.chip_time_constant);
  const double plant_c = ToCelsius(coolant), slow = ToCelsius(th.slowdown),
               stop = ToCelsius(th.shutdown);
  if (slow <= -273) return;  // no thresholds in the card
  // The decay over a whole window, shared by every job that ran all of it (the same number each
  // would compute).
  const double window_s = (to - from).seconds();
  const double window_decay = std::exp(-window_s / tau);
  const double idle_w = ToWatts(gpu_power_.idle());
  // The job's chips after the run_s seconds it ran in the window on coolant tc, at the GPU energy
  // Advance integrated (NaN before: its first window); returns where they started.
  const auto heat = [&](JobId j, double run_s, double tc) {
    PlacedJob& pj = *jobs_[j];
    const double steady = tc + r * (job_gpu_j_[j] / run_s / pj.gpus);
    // Before its first window a job's GPUs idled on this coolant: its chips start at their idle
    // temperature and heat from there with the package's time constant, as in any later window.
    // (A card idling above its shutdown threshold would have cut its power already: no hotter
    // than that.)
    const double before = std::isnan(pj.chip_c) ? std::min(tc + r * idle_w, stop) : pj.chip_c;
    pj.chip_c =
        steady + (before - steady) * (run_s == window_s ? window_decay : std::exp(-run_s / tau));
    return before;
  };
  // Jobs that left inside the window (one cut per tick) ran its first part: their chips follow
  // that part too; the job is over, nothing to throttle or stop.
  for (JobId j : leaving_) {
    heat(j, job_run_s_[j], CoolantFor(*jobs_[j], plant_c));
    jobs_[j]->chip_peak_c = std::max(jobs_[j]->chip_peak_c, jobs_[j]->chip_c);
  }
  // A shutdown retires its job from active_: walk a copy.
  std::vector<JobId>& jobs = active_scratch_;
  jobs.assign(active_.begin(), active_.end());
  for (size_t n = 0; n < jobs.size(); ++n) {
    const JobId j = jobs[n];
    PlacedJob& pj = *jobs_[j];
    const double run_s = job_run_s_[j];  // from Advance, over the same window
    if (pj.stopped || run_s <= 0) continue;
    const double gpus = pj.gpus;
    const double tc = CoolantFor(pj, plant_c);
    const double before = heat(j, run_s, tc);
    // The card cuts its power when it reaches the shutdown threshold, so it gets no hotter than
    // that (or than it already was): without this a hot hall read as the steady temperature of
    // full power, hundreds of degrees past the threshold.
    if (pj.chip_c >= stop && to < pj.config.end) {
      pj.chip_c = std::max(before, stop);
    }
    pj.chip_peak_c = std::max(pj.chip_peak_c, pj.chip_c);
    if (std::isfinite(pj.thermal_limit_w)) pj.throttled_gpu_s += gpus * run_s;
    if (to >= pj.config.end) continue;
    if (pj.chip_c >= stop) {
      // Shutdown: the job's GPUs stop; its flows leave the fabric.
      pj.thermal_shutdown = pj.stopped = true;
      running_.Add(-1, to);
      pj.on_fabric = false;
      pj.checkpointing = false;
      pj.timeline.Stop(to);
      if (!pj.config.model_less()) RecomputeNetwork(to, {}, {j}, false);
      StopByItself(j, to, JobStopCause::kThermalShutdown);
      continue;
    }
    double next = pj.thermal_limit_w;
    if (pj.chip_c >= slow - 0.5) {
      next = std::max(ToWatts(gpu_power_.idle()), (slow - 1.0 - tc) / r);  // just below slowdown
    } else if (std::isfinite(next)) {
      double top = 0;  // what it would draw at its busiest without the thermal limit
      const units::Power other = std::min(limit_, Watts(ChainLimitWatts(pj)));
      for (const workload::Phase& ph : pj.current.phases) {
        top = std::max(top, ToWatts(std::min(gpu_power_.At(ph.activity), other)));
      }
      // Cool enough again, with hysteresis.
      if (tc + r * top <= slow - 3.0) next = std::numeric_limits<double>::infinity();
    }
    const bool changed = std::isinf(next) != std::isinf(pj.thermal_limit_w) ||
                         (std::isfinite(next) && std::abs(next - pj.thermal_limit_w) > 1.0);
    if (!changed || pj.paused()) continue;
    pj.thermal_limit_w = next;
    const units::Duration step = Resume(pj, to);
    Record(j, {to, to, pj.history.back().network_factor, step});
  }
}

}  // namespace firstwall::site
