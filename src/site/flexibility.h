// Power- and carbon-aware scheduling, the site's side (scenario `scheduler.flexibility`): the gate
// that decides, hour by hour, whether flexible jobs may start (scheduler/flexibility.h holds them
// in the queue) and the power cap on running flexible jobs while it is closed.
//
// The gate is closed at `now` when any configured signal says so:
//   price   the tariff's price at `now` (power/tariff.h) > price_above
//   carbon  the tariff's carbon intensity at `now` > carbon_above
//   grid    the grid import of the last physics window >= (1 - grid_margin) x grid_import_limit
//   stage   some rated stage of the power chain: its most loaded unit's output in the last window
//           >= (1 - stage_margin) x its rating
// The tariff signals are exact functions of time, constant over each tariff hour; the grid and
// stage signals read the last window's averages (site/site.h WindowSample), so a held job
// released because load fell will itself add load: all held jobs go at once at an open check
// (the gate does not estimate their power).
//
// Caps: with cap_gpu_power, every running flexible job's GPUs are limited to it while the gate is
// closed (Site::SetJobGpuLimit, on top of every other limit: DVFS stretches its compute, its speed
// reaches the queue through ClusterLife::SetSpeed and the lost progress is slowdown badput).
// FlexSite evaluates the gate at every multiple of check_every from time zero (one event per
// period for the whole run; the tariff's hour edges for the default hour), turns caps on and off
// there, and caps a flexible job that starts while the gate is closed at once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/event_queue.h"
#include "core/sim_time.h"
#include "units/quantity.h"

namespace firstwall::scheduler {
class ClusterLife;
}

namespace firstwall::site {

class Site;
struct SiteConfig;

struct FlexibilityConfig {
  std::optional<units::EnergyPrice> price_above;
  std::optional<units::CarbonIntensity> carbon_above;
  std::optional<double> grid_margin;   // share of site.grid_import_limit, 0..1
  std::optional<double> stage_margin;  // share of each rated power-chain stage's rating, 0..1
  bool defer = true;                   // hold flexible first starts while closed
  std::optional<units::Power> cap_gpu_power;  // per GPU, on running flexible jobs while closed
  SimTime max_delay = SimTime::FromNanoseconds(24 * 3'600'000'000'000);  // longest hold of a job
  SimTime check_every = SimTime::FromNanoseconds(3'600'000'000'000);     // the gate's period
};

// Which signals close the gate at an instant.
struct GateReading {
  bool price = false, carbon = false, grid = false, stage = false;
  bool closed() const { return price || carbon || grid || stage; }
};
GateReading ReadGate(const FlexibilityConfig& flex, const SiteConfig& config, const Site& site,
                     SimTime now);

// What the gate and the caps did over a run.
struct FlexStats {
  // Check periods with the gate closed, in hours (each check holds its reading for a period),
  // in all and by signal (a period closed by two signals counts in both).
  double closed_h = 0, closed_price_h = 0, closed_carbon_h = 0, closed_grid_h = 0,
         closed_stage_h = 0;
  double capped_gpu_h = 0;        // GPUs of flexible jobs x time held under the cap
  double cap_slowdown_gpu_h = 0;  // their slowdown badput accrued while capped
  int capped_jobs = 0;            // distinct jobs capped at least once
};

class FlexSite {
 public:
  // All must outlive this; `site` has its config's facility and tariff. Schedules the checks.
  FlexSite(const FlexibilityConfig& flex, const SiteConfig& config, Site& site, EventQueue& events);
  // The queue, once built (for the slowdown accrued under caps).
  void SetLife(const scheduler::ClusterLife* life) { life_ = life; }

  // The gate now (Host::MayStartFlexible).
  bool MayStart(SimTime now) const;
  // A flexible queue job started as `site_job` on `gpus` GPUs / stopped (any reason, or the end).
  void OnStart(int32_t job, size_t site_job, int gpus, SimTime now);
  void OnStop(int32_t job, SimTime now);

  // Up to `end` (call after the queue's Finish: running jobs have stopped).
  FlexStats Stats(SimTime end) const;

 private:
  struct Running {
    size_t site_job = 0;
    int gpus = 0;
    SimTime capped_since = SimTime::Never();  // Never: not capped now
    double slowdown_at_cap = 0;
  };
  void Check(SimTime at);
  void Cap(int32_t job, Running& r, SimTime now);
  void Uncap(int32_t job, Running& r, SimTime now);
  // Capped GPU-hours and slowdown up to `now` into stats_; the job is no longer capped.
  void CloseBooks(int32_t job, Running& r, SimTime now);

  const FlexibilityConfig& flex_;
  const SiteConfig& config_;
  Site& site_;
  EventQueue& events_;
  const scheduler::ClusterLife* life_ = nullptr;
  bool capping_ = false;
  std::map<int32_t, Running> running_;  // flexible queue jobs holding nodes, by id
  std::vector<uint8_t> ever_capped_;    // per queue job
  FlexStats stats_;
  SimTime last_check_ = SimTime::Never();
  GateReading last_reading_;
};

}  // namespace firstwall::site
