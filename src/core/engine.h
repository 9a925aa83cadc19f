// The time-advance contract shared by every model, and the loop that drives it.
//
// Discrete events (a job starts, a link fails) live in the EventQueue. Continuous models (power,
// thermal, the phase timelines of jobs) are integrated over windows, and each model is asked to
// advance over [from, to) in registration order. How windows are cut (WindowCut):
//  - kEvents (the default): at every physics tick and at every event. A window never straddles an
//    event, so models see state changes exactly when they happen, and the observers (time series,
//    meters) can integrate energy exactly.
//  - kTicks: at ticks only. The events inside a window run at their own times before the models
//    advance over it, so the books (starts, ends, GPU-hours) stay exact; a model integrates what
//    each part of the window held from the times the events left in its state (a job's timeline
//    starts and stops at them), and reads the other models' state as of the window's start. A run
//    whose events outnumber its ticks (a year's queue of a million jobs) costs per tick instead of
//    per event.
//
// Idle stretches are skipped: when every model reports that it is quiescent (its outputs per second
// cannot change before the next discrete event), the engine advances them over the whole stretch up
// to the tick boundary before the next event in one window. Observers are told how many ticks the
// window covers, so a per-tick time series still gets its rows.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/event_queue.h"
#include "core/sim_time.h"

namespace firstwall {

class Model {
 public:
  virtual ~Model() = default;
  // Integrate state over [from, to). Windows arrive in order and tile the run without gaps.
  virtual void Advance(SimTime from, SimTime to) = 0;
  // True when, absent discrete events, every later window gives the same outputs per second.
  virtual bool Quiescent() const { return false; }
};

class Observer {
 public:
  virtual ~Observer() = default;
  // Called after every model has advanced over [from, to).
  virtual void OnWindow(SimTime from, SimTime to) = 0;
};

struct EngineStats {
  int64_t windows = 0;        // calls to Advance per model
  int64_t skipped_ticks = 0;  // ticks covered by idle-skip windows beyond the first
  int64_t events = 0;
};

enum class WindowCut { kEvents, kTicks };

class Engine {
 public:
  Engine(SimTime tick, SimTime end, WindowCut cut = WindowCut::kEvents);

  void AddModel(Model* model) { models_.push_back(model); }
  void AddObserver(Observer* observer) { observers_.push_back(observer); }
  EventQueue& events() { return events_; }
  SimTime tick() const { return tick_; }
  SimTime end() const { return end_; }

  // Windows also end at every multiple of `every` (0: none), so that a run stopped there
  // (RunUntil) and one that went straight on cut the same windows: a forecast's twin stops at
  // each hour's origin (report/stepped_run.h). Call before running.
  void CutEvery(SimTime every) { cut_every_ = every; }

  // Runs to the end. `progress`, when given, is called after each window with the current time.
  void Run(const std::function<void(SimTime)>& progress = {});
  // Runs the windows up to `stop` (at most the end; not before now()), and stops there: the
  // events at `stop` run when the run goes on. Run() is RunUntil(end()) then Finish().
  void RunUntil(SimTime stop, const std::function<void(SimTime)>& progress = {});
  // The run ends at now(): the events at now() run.
  void Finish();
  SimTime now() const { return now_; }
  const EngineStats& stats() const { return stats_; }

 private:
  SimTime NextTickAfter(SimTime t) const;
  bool AllQuiescent() const;

  SimTime tick_;
  SimTime end_;
  WindowCut cut_;
  SimTime cut_every_;
  SimTime now_;
  EventQueue events_;
  std::vector<Model*> models_;
  std::vector<Observer*> observers_;
  EngineStats stats_;
};

}  // namespace firstwall
