#include "report/tick_series.h"

#include <algorithm>

namespace firstwall::report {
using units::ToWatts;

TickSeries::TickSeries(const site::Site& site, SimTime tick, Sink sink)
    : site_(site), tick_(tick), sink_(std::move(sink)) {}

void TickSeries::Add(const site::WindowSample& s, double seconds) {
  if (!open_) {
    for (const auto& [j, w] : acc_.job_it_w) job_slot_[j] = -1;
    acc_ = TickRow{};
    acc_.start = s.from;
    acc_.stage_input_w.assign(s.stage_input.size(), 0.0);
    acc_.stage_loss_w.assign(s.stage_input.size(), 0.0);
    acc_.stage_unit_peak_w.assign(s.stage_input.size(), 0.0);
    open_ = true;
  }
  // Sums of value x seconds; divided by the tick length in Emit.
  acc_.seconds += seconds;
  acc_.gpu_w += ToWatts(s.gpu) * seconds;
  acc_.node_base_w += ToWatts(s.node_base) * seconds;
  acc_.it_w += ToWatts(s.it) * seconds;
  acc_.it_input_w += ToWatts(s.it_input) * seconds;
  acc_.loss_w += ToWatts(s.conversion_loss) * seconds;
  acc_.heat_w += ToWatts(s.heat) * seconds;
  acc_.cooling_w += ToWatts(s.cooling) * seconds;
  acc_.facility_w += ToWatts(s.facility) * seconds;
  acc_.gpu_activity += s.gpu_activity_sum / site_.config().cluster.gpu_count() * seconds;
  acc_.outdoor_c += units::ToCelsius(s.outdoor.dry_bulb) * seconds;
  acc_.running_jobs += (running_ ? running_(s.from, s.to) : s.running_jobs) * seconds;
  if (queued_) acc_.queued_jobs += queued_(s.from, s.to) * seconds;
  const thermal::CoolingState& p = s.plant;
  acc_.wet_bulb_c += units::ToCelsius(p.wet_bulb) * seconds;
  acc_.chillers_w += ToWatts(p.chillers) * seconds;
  acc_.pumps_w += ToWatts(p.pumps) * seconds;
  acc_.crah_fans_w += ToWatts(p.crah_fans) * seconds;
  acc_.sink_fans_w += ToWatts(p.sink_fans) * seconds;
  acc_.rejected_w += ToWatts(p.rejected) * seconds;
  acc_.unmet_w += ToWatts(p.unmet) * seconds;
  acc_.water_l_per_s += p.water_l_per_s * seconds;
  acc_.economizer_share += p.economizer_share * seconds;
  acc_.liquid_free_share += p.liquid_free_share * seconds;
  acc_.air_free_share += p.air_free_share * seconds;
  acc_.gpu_coolant_c += units::ToCelsius(p.gpu_coolant) * seconds;
  acc_.server_inlet_c += units::ToCelsius(p.server_inlet) * seconds;
  acc_.grid_w += ToWatts(s.grid) * seconds;
  acc_.generation_w += ToWatts(s.generation) * seconds;
  acc_.battery_w += ToWatts(s.battery) * seconds;
  acc_.renewable_w += ToWatts(s.renewable) * seconds;
  acc_.curtailed_w += ToWatts(s.curtailed) * seconds;
  acc_.renewable_usd_per_s += s.renewable_usd_per_s * seconds;
  acc_.battery_soc = s.battery_soc;
  acc_.peak_rack_w = std::max(acc_.peak_rack_w, ToWatts(s.peak_rack));
  acc_.peak_cdu_w = std::max(acc_.peak_cdu_w, ToWatts(s.peak_cdu));
  acc_.fabric_peak_utilization = std::max(acc_.fabric_peak_utilization, s.fabric_peak_utilization);
  for (size_t i = 0; i < s.stage_input.size(); ++i) {
    acc_.stage_unit_peak_w[i] = std::max(acc_.stage_unit_peak_w[i], ToWatts(s.stage_unit_peak[i]));
    acc_.stage_input_w[i] += ToWatts(s.stage_input[i]) * seconds;
    acc_.stage_loss_w[i] += ToWatts(s.stage_loss[i]) * seconds;
  }
  // Only the jobs holding nodes: the others' job_it is zero (site.h).
  for (size_t j : s.job_ids) {
    if (job_slot_.size() <= j) job_slot_.resize(j + 1, -1);
    int& slot = job_slot_[j];
    if (slot < 0) {
      slot = static_cast<int>(acc_.job_it_w.size());
      acc_.job_it_w.push_back({j, 0.0});
    }
    acc_.job_it_w[static_cast<size_t>(slot)].second += ToWatts(s.job_it[j]) * seconds;
  }
}

void TickSeries::Emit(int64_t repeat) {
  const double d = acc_.seconds;
  for (double* v : {&acc_.gpu_w,
                    &acc_.node_base_w,
                    &acc_.it_w,
                    &acc_.it_input_w,
                    &acc_.loss_w,
                    &acc_.heat_w,
                    &acc_.cooling_w,
                    &acc_.facility_w,
                    &acc_.gpu_activity,
                    &acc_.outdoor_c,
                    &acc_.running_jobs,
                    &acc_.queued_jobs,
                    &acc_.wet_bulb_c,
                    &acc_.chillers_w,
                    &acc_.pumps_w,
                    &acc_.crah_fans_w,
                    &acc_.sink_fans_w,
                    &acc_.rejected_w,
                    &acc_.unmet_w,
                    &acc_.water_l_per_s,
                    &acc_.economizer_share,
                    &acc_.liquid_free_share,
                    &acc_.air_free_share,
                    &acc_.gpu_coolant_c,
                    &acc_.server_inlet_c,
                    &acc_.grid_w,
                    &acc_.generation_w,
                    &acc_.battery_w,
                    &acc_.renewable_w,
                    &acc_.curtailed_w,
                    &acc_.renewable_usd_per_s}) {
    *v /= d;
  }
  for (double& v : acc_.stage_input_w) v /= d;
  for (double& v : acc_.stage_loss_w) v /= d;
  for (auto& [j, v] : acc_.job_it_w) v /= d;
  acc_.seconds = d / static_cast<double>(repeat);
  sink_(acc_, repeat);
  open_ = false;
}

void TickSeries::OnWindow(SimTime from, SimTime to) {
  const site::WindowSample& s = site_.sample();
  const int64_t tick_ns = tick_.ns();
  const bool starts_on_tick = from.ns() % tick_ns == 0;
  const int64_t ticks = (to - from).ns() / tick_ns;
  if (starts_on_tick && !open_ && ticks > 1 && (to - from).ns() % tick_ns == 0) {
    Add(s, (to - from).seconds());  // an idle-skip window: n identical ticks
    Emit(ticks);
    return;
  }
  Add(s, (to - from).seconds());
  if (to.ns() % tick_ns == 0) Emit(1);
}

void TickSeries::Finish() {
  if (open_) Emit(1);
}

}  // namespace firstwall::report
