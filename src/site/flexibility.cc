#include "site/flexibility.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "scheduler/cluster_life.h"
#include "site/site.h"

namespace firstwall::site {
namespace {
double Sec(SimTime t) { return static_cast<double>(t.ns()) / 1e9; }

// `h` hours of the gate as `g` read it.
void AddClosed(FlexStats& s, const GateReading& g, double h) {
  if (g.closed()) s.closed_h += h;
  if (g.price) s.closed_price_h += h;
  if (g.carbon) s.closed_carbon_h += h;
  if (g.grid) s.closed_grid_h += h;
  if (g.stage) s.closed_stage_h += h;
}
}  // namespace

GateReading ReadGate(const FlexibilityConfig& flex, const SiteConfig& config, const Site& site,
                     SimTime now) {
  GateReading g;
  if (flex.price_above) {
    g.price = units::AboveBeyondRounding(config.tariff.UsdPerJoule(now), flex.price_above->base());
  }
  if (flex.carbon_above) {
    g.carbon = units::AboveBeyondRounding(config.tariff.CarbonGramsPerJoule(now),
                                          flex.carbon_above->base());
  }
  const WindowSample& w = site.sample();
  if (flex.grid_margin && config.facility.grid_import_limit > units::Watts(0)) {
    g.grid = units::ToWatts(w.grid) >=
             (1 - *flex.grid_margin) * units::ToWatts(config.facility.grid_import_limit);
  }
  if (flex.stage_margin) {
    const auto& stages = config.facility.power_chain;
    for (size_t i = 0; i < stages.size() && i < w.stage_unit_peak.size(); ++i) {
      const double rating = units::ToWatts(stages[i].rating);
      if (rating > 0 && units::ToWatts(w.stage_unit_peak[i]) >= (1 - *flex.stage_margin) * rating) {
        g.stage = true;
      }
    }
  }
  return g;
}

FlexSite::FlexSite(const FlexibilityConfig& flex, const SiteConfig& config, Site& site,
                   EventQueue& events)
    : flex_(flex), config_(config), site_(site), events_(events) {
  FW_CHECK(flex_.check_every > SimTime(), "the gate's check period must be positive");
  events_.Schedule(SimTime(), "flexibility check", [this] { Check(SimTime()); });
}

bool FlexSite::MayStart(SimTime now) const {
  return !ReadGate(flex_, config_, site_, now).closed();
}

void FlexSite::Check(SimTime at) {
  const GateReading g = ReadGate(flex_, config_, site_, at);
  if (last_check_ != SimTime::Never())
    AddClosed(stats_, last_reading_, Sec(at - last_check_) / 3600);
  last_check_ = at;
  last_reading_ = g;
  if (flex_.cap_gpu_power && g.closed() != capping_) {
    capping_ = g.closed();
    for (auto& [job, r] : running_) {
      if (capping_) {
        Cap(job, r, at);
      } else {
        Uncap(job, r, at);
      }
    }
  }
  if (at.ns() > SimTime::Never().ns() - flex_.check_every.ns()) return;
  const SimTime next = at + flex_.check_every;
  if (next >= config_.duration) return;  // the last period runs to the end (Stats)
  events_.Schedule(next, "flexibility check", [this, next] { Check(next); });
}

void FlexSite::Cap(int32_t job, Running& r, SimTime now) {
  r.capped_since = now;
  r.slowdown_at_cap = life_ ? life_->SlowdownSecondsAt(job, now) : 0;
  if (ever_capped_.size() <= static_cast<size_t>(job)) {
    ever_capped_.resize(static_cast<size_t>(job) + 1, 0);
  }
  if (!ever_capped_[static_cast<size_t>(job)]) {
    ever_capped_[static_cast<size_t>(job)] = 1;
    ++stats_.capped_jobs;
  }
  site_.SetJobGpuLimit(r.site_job, *flex_.cap_gpu_power, now);
}

void FlexSite::CloseBooks(int32_t job, Running& r, SimTime now) {
  stats_.capped_gpu_h += r.gpus * Sec(now - r.capped_since) / 3600;
  if (life_) {
    stats_.cap_slowdown_gpu_h +=
        r.gpus * (life_->SlowdownSecondsAt(job, now) - r.slowdown_at_cap) / 3600;
  }
  r.capped_since = SimTime::Never();
}

void FlexSite::Uncap(int32_t job, Running& r, SimTime now) {
  CloseBooks(job, r, now);
  site_.SetJobGpuLimit(r.site_job, units::Watts(std::numeric_limits<double>::infinity()), now);
}

void FlexSite::OnStart(int32_t job, size_t site_job, int gpus, SimTime now) {
  Running& r = running_[job];
  r = Running{site_job, gpus, SimTime::Never(), 0};
  if (capping_) Cap(job, r, now);
}

void FlexSite::OnStop(int32_t job, SimTime now) {
  const auto it = running_.find(job);
  if (it == running_.end()) return;
  Running& r = it->second;
  // Its site job has stopped: only the books close (lifting the limit would touch nothing).
  if (r.capped_since != SimTime::Never()) CloseBooks(job, r, now);
  running_.erase(it);
}

FlexStats FlexSite::Stats(SimTime end) const {
  FlexStats s = stats_;
  if (last_check_ != SimTime::Never() && end > last_check_) {
    AddClosed(s, last_reading_, Sec(end - last_check_) / 3600);
  }
  return s;
}

}  // namespace firstwall::site
