// One run of a site that stops where it is told and goes on from there: report::Simulate's run
// (straight to the end), and the twin a forecast keeps at its last origin (ops/forecast.h), which
// stops at each hour's origin, changes its weather there and goes on.
//
// It holds the site, the engine, the queue (with a scheduler) with its restart ramps, and the tick
// series; its owner sees every tick row through `on_tick` (after the ramps have). Neither copied
// nor moved: the engine and the queue hold pointers into it.
#pragma once

#include <functional>
#include <memory>

#include "core/engine.h"
#include "report/restart_ramps.h"
#include "report/tick_series.h"
#include "site/life.h"
#include "site/site.h"
#include "site/site_config.h"

namespace firstwall::report {

class SteppedRun {
 public:
  using OnTick = std::function<void(const TickRow& row, int64_t n)>;
  // `config` (with its duration: the furthest the run may go) must outlive this: the queue keeps
  // it. `cut_every`: windows also end at its multiples (Engine::CutEvery; zero: none), so that a
  // run stopped at them gives the tick rows of one that was not.
  SteppedRun(const site::SiteConfig& config, OnTick on_tick, SimTime cut_every = SimTime());
  SteppedRun(const SteppedRun&) = delete;
  SteppedRun& operator=(const SteppedRun&) = delete;

  // Runs to `t` (not past the config's duration; not before now()). `progress` as Engine::Run's.
  void AdvanceTo(SimTime t, const std::function<void(SimTime)>& progress = {});
  // Ends the run at now(): the events there run, the queue's books are closed and the last
  // partial tick row is sent. Nothing may run after it.
  void Finish();
  SimTime now() const { return engine_.now(); }

  site::Site& site() { return site_; }
  const Engine& engine() const { return engine_; }
  site::LifeHost* host() { return host_.get(); }
  // With a scheduler: the restart ramps watched so far (ends the watch: after Finish).
  RestartRampWatch* ramps() { return ramps_.get(); }

 private:
  site::Site site_;
  Engine engine_;
  std::unique_ptr<site::LifeHost> host_;
  std::unique_ptr<RestartRampWatch> ramps_;
  OnTick on_tick_;
  TickSeries ticks_;
};

}  // namespace firstwall::report
