#include "report/stepped_run.h"

#include <utility>

namespace firstwall::report {

SteppedRun::SteppedRun(const site::SiteConfig& config, OnTick on_tick, SimTime cut_every)
    // With a scheduler the workloads queue (site/life.h): the site starts without them.
    : site_(config.life ? site::SiteForLife(config) : config),
      engine_(config.tick, config.duration, config.windows),
      on_tick_(std::move(on_tick)),
      ticks_(site_, config.tick, [this](const TickRow& row, int64_t n) {
        if (ramps_) ramps_->OnTick(row, n);
        if (on_tick_) on_tick_(row, n);
      }) {
  engine_.CutEvery(cut_every);
  engine_.AddModel(&site_);
  site_.ScheduleEvents(engine_.events());
  if (config.life) {
    host_ = std::make_unique<site::LifeHost>(config, site_, engine_.events());
    ramps_ = std::make_unique<RestartRampWatch>(host_->life(), config.tick,
                                                config.life->options.restart_stagger);
    ticks_.CountQueued([this](SimTime a, SimTime b) { return host_->life().MeanQueued(a, b); });
    ticks_.CountRunning([this](SimTime a, SimTime b) { return host_->life().MeanRunning(a, b); });
  }
  engine_.AddObserver(&ticks_);
}

void SteppedRun::AdvanceTo(SimTime t, const std::function<void(SimTime)>& progress) {
  engine_.RunUntil(t, progress);
}

void SteppedRun::Finish() {
  engine_.Finish();
  if (host_) host_->life().Finish(engine_.now());
  ticks_.Finish();
}

}  // namespace firstwall::report
