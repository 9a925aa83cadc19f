#include "core/engine.h"

#include <algorithm>

#include "core/error.h"

namespace firstwall {

Engine::Engine(SimTime tick, SimTime end, WindowCut cut) : tick_(tick), end_(end), cut_(cut) {
  FW_CHECK(tick.ns() > 0, "the physics tick must be positive");
  FW_CHECK(end.ns() >= 0, "the end time must not be negative");
}

SimTime Engine::NextTickAfter(SimTime t) const {
  return SimTime::FromNanoseconds((t.ns() / tick_.ns() + 1) * tick_.ns());
}

bool Engine::AllQuiescent() const {
  return std::all_of(models_.begin(), models_.end(), [](const Model* m) { return m->Quiescent(); });
}

void Engine::Run(const std::function<void(SimTime)>& progress) {
  RunUntil(end_, progress);
  Finish();
}

void Engine::RunUntil(SimTime stop, const std::function<void(SimTime)>& progress) {
  FW_CHECK(stop >= now_, "a run goes forward");
  stop = std::min(stop, end_);
  while (now_ < stop) {
    const SimTime now = now_;
    events_.RunUntil(now);
    // Where this window must end at the latest: the stop, or the next cut.
    SimTime cap = stop;
    if (cut_every_.ns() > 0) {
      cap = std::min(cap,
                     SimTime::FromNanoseconds((now.ns() / cut_every_.ns() + 1) * cut_every_.ns()));
    }
    const bool by_events = cut_ == WindowCut::kEvents;
    SimTime to = std::min(NextTickAfter(now), cap);
    if (by_events) to = std::min(to, events_.NextTime());
    const bool on_tick = now.ns() % tick_.ns() == 0;
    if (on_tick && AllQuiescent()) {
      // Jump to the last tick boundary at or before the next event (or to the cap).
      const SimTime limit = std::min(events_.NextTime(), cap);
      const SimTime last_tick = SimTime::FromNanoseconds(limit.ns() / tick_.ns() * tick_.ns());
      if (last_tick > to) {
        stats_.skipped_ticks += (last_tick - now).ns() / tick_.ns() - 1;
        to = last_tick;
      }
    }
    // Per tick: the events inside the window first (those at `to` open the next one).
    if (!by_events) events_.RunUntil(SimTime::FromNanoseconds(to.ns() - 1));
    for (Model* m : models_) m->Advance(now, to);
    for (Observer* o : observers_) o->OnWindow(now, to);
    ++stats_.windows;
    now_ = to;
    if (progress) progress(now_);
  }
}

void Engine::Finish() {
  events_.RunUntil(now_);
  stats_.events = events_.executed();
}

}  // namespace firstwall
