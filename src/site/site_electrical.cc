// The site's electrical side: the power chain as a tree over the racks, its protection (cap_gpus
// limits, trips that darken racks and stop the jobs on them), and battery and generation dispatch
// at the grid connection. Loads come from the current placement (site.cc).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "site/site.h"

namespace firstwall::site {
using namespace units;

power::ChainFlow Site::TreeFlow() {
  const auto& stages = chain_.stages();
  if (!tree_ && power_events_.tripped_units == 0) {
    // One unit per stage and none open: the chain at the site's IT load.
    const power::ChainFlow flow = chain_.Flow(sample_.it);
    for (size_t i = 0; i < stages.size(); ++i) {
      unit_out_w_[i][0] = ToWatts(i == 0 ? sample_.it : flow.input[i - 1]);
    }
    return flow;
  }
  power::ChainFlow f;
  std::vector<double>& level = tree_level_;  // loads per element of the level inside
  std::vector<double>& next = tree_next_;
  level.assign(rack_w_.begin(), rack_w_.end());
  const size_t racks = placement_.rack_count();
  size_t group = 1;  // racks per element of `level`
  for (size_t i = 0; i < stages.size(); ++i) {
    const size_t per_unit = RacksPerUnit(i);
    // Elements per unit (levels nest: checked at load); a unit of the whole site takes them all.
    const size_t k = per_unit >= racks ? std::max<size_t>(1, level.size()) : per_unit / group;
    FW_CHECK(k >= 1, "power chain levels do not nest: '" + stages[i].name + "'");
    next.assign((level.size() + k - 1) / k, 0.0);
    std::vector<double>& outs = unit_out_w_[i];
    outs.assign(next.size(), 0.0);
    double in_sum = 0, out_sum = 0;
    for (size_t u = 0; u < next.size(); ++u) {
      for (size_t e = u * k; e < std::min(level.size(), (u + 1) * k); ++e) outs[u] += level[e];
      // A tripped unit is open: no load, no losses.
      next[u] = unit_tripped_[i][u] ? 0.0 : ToWatts(chain_.StageInput(i, Watts(outs[u])));
      in_sum += next[u];
      out_sum += outs[u];
    }
    f.input.push_back(Watts(in_sum));
    f.loss.push_back(Watts(in_sum - out_sum));
    f.total_loss += Watts(in_sum - out_sum);
    level.swap(next);
    group = per_unit;
  }
  double grid = 0;
  for (double v : level) grid += v;
  f.grid = Watts(grid);
  return f;
}

double Site::StageUnitPeakWatts(size_t stage) const {
  double peak = 0;
  for (double v : unit_out_w_[stage]) peak = std::max(peak, v);
  return peak;
}

size_t Site::RacksPerUnit(size_t stage) const {
  const int g = chain_.stages()[stage].racks_per_unit;
  const size_t racks = placement_.rack_count();
  return g > 0 ? std::min(static_cast<size_t>(g), racks) : racks;
}

void Site::FeedDcBuses(SimTime from, double dt, power::ChainFlow& flow) {
  if (dc_buses_.empty()) return;
  WindowSample& s = sample_;
  const FacilityConfig& f = config_.facility;
  const auto& stages = chain_.stages();
  // Bus stages serve the whole site (checked at load): one unit each, and so every stage outward.
  double out = unit_out_w_[dc_buses_.front()][0];
  for (size_t i = dc_buses_.front(); i < stages.size(); ++i) {
    if (std::binary_search(dc_buses_.begin(), dc_buses_.end(), i)) {
      double supply = 0;
      for (const power::RenewableSource& r : f.renewables) {
        if (r.bus_stage != static_cast<int>(i)) continue;
        const double w = r.OutputWatts(from);
        s.renewable_usd_per_s += w * r.usd_per_joule;
        supply += w * r.converter_efficiency;
      }
      s.renewable += Watts(supply);
      double left = out - supply;
      if (f.battery && f.battery->bus_stage == static_cast<int>(i)) {
        // Grid energy reaches the bus only through this stage and those outward of it: none
        // while one of them is open, else within the stage's rating.
        bool open = false;
        for (size_t k = i; k < stages.size(); ++k) open = open || unit_tripped_[k][0];
        const double rating = ToWatts(stages[i].rating);
        left -= RunBattery(left, open ? std::optional<double>(0.0) : ChargeCap(rating), from, dt);
      }
      // Nothing flows back out through the stage: what the bus cannot take is curtailed.
      if (left < 0) s.curtailed += Watts(-left);
      left = std::max(0.0, left);
      s.dc_bus_supply += Watts(out - left);
      out = left;
    }
    unit_out_w_[i][0] = out;
    const double in = unit_tripped_[i][0] ? 0.0 : ToWatts(chain_.StageInput(i, Watts(out)));
    flow.total_loss += Watts(in - out) - flow.loss[i];
    flow.loss[i] = Watts(in - out);
    flow.input[i] = Watts(in);
    out = in;
  }
  flow.grid = Watts(out);
}

std::optional<double> Site::ChargeCap(double limit_w) {
  return limit_w > 0 ? std::optional<double>(kChargeHeadroom * limit_w) : std::nullopt;
}

double Site::RunBattery(double demand, std::optional<double> grid_cap_w, SimTime from, double dt) {
  WindowSample& s = sample_;
  const SiteBattery& b = *config_.facility.battery;
  const double capacity = ToJoules(b.energy);
  double want = BatteryWants(b, demand, from);
  // What the plants leave over always charges it; grid energy only within the cap (so charging
  // never runs the generator, nor makes a wall of the limit it charges up to).
  if (want < 0 && grid_cap_w) {
    const double surplus = std::max(0.0, -demand);
    const double room = std::max(0.0, *grid_cap_w - std::max(0.0, demand));
    want = std::max(want, -(surplus + room));
  }
  const double out = power::BatteryExchange(want, ToWatts(b.power), capacity,
                                            b.round_trip_efficiency, dt, &battery_j_);
  s.battery = Watts(out);
  s.battery_soc = capacity > 0 ? battery_j_ / capacity : 0.0;
  return out;
}

void Site::Dispatch(SimTime from, double dt) {
  WindowSample& s = sample_;
  const FacilityConfig& f = config_.facility;
  // The plants and battery on DC buses have supplied their share already (FeedDcBuses).
  double demand = ToWatts(s.facility - s.dc_bus_supply);
  // Solar and wind first: they cost the same whether used or not.
  Power ac_renewable;
  for (const power::RenewableSource& r : f.renewables) {
    if (r.bus_stage >= 0) continue;
    const double w = r.OutputWatts(from);
    ac_renewable += Watts(w);
    s.renewable_usd_per_s += w * r.usd_per_joule;
  }
  s.renewable += ac_renewable;
  demand -= ToWatts(ac_renewable);
  // Then the battery (its energy is paid for), then fuel: generation covers only what the battery
  // leaves above the grid import limit, so a discharge rule displaces fuel, not grid energy alone.
  if (f.battery && f.battery->bus_stage < 0) {
    demand -= RunBattery(demand, ChargeCap(ToWatts(f.grid_import_limit)), from, dt);
  }
  if (f.generation) {
    const double cap = ToWatts(f.generation->capacity);
    const double target = f.grid_import_limit > Watts(0)
                              ? std::clamp(demand - ToWatts(f.grid_import_limit), 0.0, cap)
                              : 0.0;
    const double step = cap / ToSeconds(f.generation->ramp_time) * dt;
    generation_w_ = std::clamp(target, generation_w_ - step, generation_w_ + step);
    // Held to its ramp rate it may deliver more than is left to cover: the surplus is curtailed.
    s.generation = Watts(generation_w_);
    demand -= generation_w_;
  }
  // What is left over is curtailed: the site exports nothing.
  s.curtailed += Watts(std::max(0.0, -demand));
  s.grid = Watts(std::max(0.0, demand));
}

double Site::BatteryWants(const SiteBattery& b, double demand, SimTime at) const {
  if (demand < 0) return demand;  // surplus renewable output: store what it can
  const double price = config_.tariff.UsdPerJoule(at);
  const double carbon = config_.tariff.CarbonGramsPerJoule(at);
  // Discharge rules, the largest request wins; then, if none fired, charge rules.
  double want = 0;
  if (b.discharge_above && demand > ToWatts(*b.discharge_above)) {
    want = demand - ToWatts(*b.discharge_above);
  }
  const bool dear = b.discharge_price_above_usd_per_j &&
                    units::AboveBeyondRounding(price, *b.discharge_price_above_usd_per_j);
  const bool dirty = b.discharge_carbon_above_g_per_j &&
                     units::AboveBeyondRounding(carbon, *b.discharge_carbon_above_g_per_j);
  if (dear || dirty) want = demand;  // cover the whole demand
  if (want > 0) return want;
  if (b.charge_below && demand < ToWatts(*b.charge_below)) want = demand - ToWatts(*b.charge_below);
  const bool cheap = b.charge_price_below_usd_per_j &&
                     units::BelowBeyondRounding(price, *b.charge_price_below_usd_per_j);
  const bool clean = b.charge_carbon_below_g_per_j &&
                     units::BelowBeyondRounding(carbon, *b.charge_carbon_below_g_per_j);
  if (cheap || clean) want = -ToWatts(b.power);
  return want;
}

bool Site::StaticCapBinds(const PlacedJob& pj) const {
  const hardware::GpuSpec& g = config_.cluster.gpu;
  if (limit_ >= g.tdp) return false;
  // The demand is the uncapped board power of the phase's activity (GpuPowerModel::At clips it).
  for (const workload::Phase& ph : pj.current.phases) {
    const Power demand = g.idle_power + (g.tdp - g.idle_power) * ph.activity;
    if (demand > limit_ + Watts(1e-6)) return true;
  }
  return false;
}

void Site::ProtectChain(SimTime at) {
  const auto& stages = chain_.stages();
  const ClusterConfig& c = config_.cluster;
  const double idle = idle_gpu_w_, top = ToWatts(gpu_power_.limit());
  for (size_t i = 0; i < stages.size(); ++i) {
    const power::ConversionStage& st = stages[i];
    if (st.on_overload == power::OverloadPolicy::kReport || st.rating <= Watts(0)) continue;
    const std::vector<double>& outs = unit_out_w_[i];
    const double rating = ToWatts(st.rating);
    const size_t per = RacksPerUnit(i);
    for (size_t u = 0; u < outs.size(); ++u) {
      if (unit_tripped_[i][u]) continue;
      if (st.on_overload == power::OverloadPolicy::kTrip) {
        if (outs[u] > rating * (1 + 1e-9)) Trip(at, i, u);
        continue;
      }
      // cap_gpus: a limit for the GPUs behind this unit, from its IT load and running GPUs.
      const size_t first = u * per, last = std::min(placement_.rack_count(), first + per);
      double it_w = 0, gpus = 0;
      for (size_t k = first; k < last; ++k) {
        it_w += rack_w_[k];
        for (const Placement::Run& run : placement_.Runs(k)) {
          if (run.tenant.kind == TenantRef::Kind::kJob &&
              jobs_[static_cast<size_t>(run.tenant.id)]->timeline.RunningSeconds(
                  at, at + SimTime::FromNanoseconds(1)) > 0) {
            gpus += run.nodes * c.gpus_per_node;
          }
        }
      }
      double& limit = unit_limit_w_[i][u];
      SimTime& quiet = unit_quiet_since_[i][u];
      const double now = std::isfinite(limit) ? limit : top;
      double next = limit;
      const double ratio = outs[u] / rating;
      if (ratio > 1 + 1e-9 && gpus > 0) {
        // Take the excess (to 98% of the rating) off the running GPUs' headroom; the unit's output
        // moves with its IT load nearly in proportion, so a window or two bring it within rating.
        const double cut_it = (outs[u] - 0.98 * rating) * it_w / outs[u];
        next = std::max(idle, now - cut_it / gpus);
        if (power_events_.limiting_stage.empty()) power_events_.limiting_stage = st.name;
      } else if (ratio < 0.9 && std::isfinite(limit)) {
        // Give power back slowly, and only after a minute below 90% of the rating: a window of
        // communication inside a step is not headroom.
        if (quiet == SimTime::Never()) quiet = at;
        if (at - quiet >= SimTime::From(kReleaseAfter)) {
          next = now + 0.05 * (top - idle);
          if (next >= top) next = std::numeric_limits<double>::infinity();
          quiet = at;
        }
      }
      if (ratio >= 0.9) quiet = SimTime::Never();
      const bool changed = std::isinf(next) != std::isinf(limit) ||
                           (std::isfinite(next) && std::abs(next - limit) >= 0.5);
      if (!changed) continue;
      limit = next;
      ++power_events_.limit_changes;
      if (std::isfinite(next)) {
        power_events_.limit_min_w = std::min(power_events_.limit_min_w, next);
      }
      // Resume the jobs with nodes behind the unit under their new limit.
      ReapplyLimits(first, last, at);
    }
  }
}

void Site::ReapplyLimits(size_t first, size_t last, SimTime at) {
  for (JobId j : active_) {
    PlacedJob& pj = *jobs_[j];
    if (pj.stopped || pj.paused() || at < pj.config.start || at >= pj.config.end) continue;
    if (!HasRackIn(pj, first, last)) continue;
    const units::Duration step = Resume(pj, at);
    Record(j, {at, at, pj.history.back().network_factor, step});
  }
}

bool Site::HasRackIn(const PlacedJob& pj, size_t first, size_t last) {
  const auto it = std::lower_bound(pj.racks.begin(), pj.racks.end(), first);
  return it != pj.racks.end() && *it < last;
}

double Site::ChainLimitWatts(const PlacedJob& pj) const {
  double limit = pj.job_limit_w;
  for (size_t r : pj.racks) limit = std::min(limit, rack_limit_w_[r]);
  for (size_t i = 0; i < unit_limit_w_.size(); ++i) {
    const size_t per = RacksPerUnit(i);
    for (size_t r : pj.racks) {
      const size_t u = r / per;
      if (u < unit_limit_w_[i].size()) limit = std::min(limit, unit_limit_w_[i][u]);
    }
  }
  return limit;
}

void Site::Trip(SimTime at, size_t stage, size_t unit) {
  if (power_events_.tripped_stage.empty()) {
    power_events_.tripped_stage = chain_.stages()[stage].name;
    power_events_.tripped_at = at;
  }
  ++power_events_.tripped_units;
  unit_tripped_[stage][unit] = 1;
  // Everything behind the unit goes dark, and so does every unit inside it.
  const size_t per = RacksPerUnit(stage);
  const size_t first = unit * per, last = std::min(placement_.rack_count(), first + per);
  for (size_t k = first; k < last; ++k) rack_dark_[k] = 1;
  if (on_dark_) on_dark_(first, last, at, stage, unit);
  // The jobs on those racks stop (placed ones too: they will not start); their nodes free up.
  std::vector<size_t>& stopped = active_scratch_;
  stopped.clear();
  for (JobId j : active_) {
    PlacedJob& pj = *jobs_[j];
    if (pj.stopped || at >= pj.config.end) continue;
    if (!HasRackIn(pj, first, last)) continue;        // none of its nodes lost power
    if (at >= pj.config.start) running_.Add(-1, at);  // started, not over: it counted as running
    pj.stopped = true;
    pj.on_fabric = false;
    pj.checkpointing = false;
    pj.timeline.Stop(at);
    stopped.push_back(j);
  }
  if (stopped.empty()) return;
  RecomputeNetwork(at, {}, stopped, false);
  const std::vector<size_t> gone = stopped;  // callbacks may reuse the scratch
  for (JobId j : gone) StopByItself(j, at, JobStopCause::kPowerTrip);
}

}  // namespace firstwall::site
