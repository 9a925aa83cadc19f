// Synchronised restarts are power ramps (issue #11): what the jobs that restart together after one
// failure do to the site's power at the meter.
//
// A burst is the restarts (ClusterLife kRestart events) within kBurstWindow of its first one: a
// leaf, PDU or rack failure stops every job on it, they are detected together and the next
// scheduling pass starts them at one instant. Their GPUs stay at idle through the stagger wait,
// reload and warm-up, then go to work at once (or `restart_stagger` apart): that is the ramp.
// Each burst is watched from its first restart until kRampWindow after the last of its jobs went
// back to computing (Attempt::computing_from; a member that never computes again does not extend
// it), on the physics ticks the timeseries is made of (report/tick_series.h), for two signals:
// facility power (the building's draw at the meter: IT chain + cooling, timeseries
// facility_power_kw) and IT power (GPUs and node base power, it_power_kw):
//   rise within 1 minute  the largest P(t2) - P(t1) over ticks t1 <= t2 <= t1 + 60 s with t2 in the
//                         watch (t1 may lie before the burst: the level before the restart is the
//                         baseline). MW in one minute, so also a ramp rate in MW/min.
//   step                  the largest P(t) - P(t - tick) with t in the watch: MW in one tick; as a
//                         rate, step / tick x 60 s in MW/min.
// `at` is the start of the tick holding the higher value (its timeseries row when the output
// interval is the tick). The rises include everything else that moved meanwhile (other jobs
// starting or ending, the cooling plant's lag, the weather); a quiet site shows the restart alone.
// Cost: O(1) amortised per tick (a monotonic queue for the trailing minimum) plus the open bursts.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/sim_time.h"
#include "report/tick_series.h"
#include "scheduler/cluster_life.h"

namespace firstwall::report {

// Restarts closer than this to a burst's first restart belong to it.
inline constexpr SimTime kBurstWindow = SimTime::FromNanoseconds(60'000'000'000);
// The span of a "rise within 1 minute", and how long a burst is watched after its last job
// computes again.
inline constexpr SimTime kRampWindow = SimTime::FromNanoseconds(60'000'000'000);

// The largest rise of one signal, in MW, and the start of the tick holding its higher value.
struct Rise {
  double mw = 0;
  double at_s = 0;
};

struct RestartBurst {
  double at_s = 0;  // its first restart
  int jobs = 0;     // restarts in it
  int64_t gpus = 0;
  // When its first and last job computed again; negative: none did within the run.
  double computing_first_s = -1, computing_last_s = -1;
  Rise facility_1min, it_1min;  // MW within one minute (= MW/min)
  Rise facility_tick, it_tick;  // MW in one tick
};

struct RestartRamps {
  double tick_s = 0;
  double stagger_s = 0;              // scheduler.restart_stagger
  int restarts = 0;                  // job restarts in the run
  std::vector<RestartBurst> bursts;  // every burst (single restarts too), in time order
  // Whether the rises mean anything: a tick longer than the minute they are measured over
  // averages them away (their figures are then 0, not measured).
  bool measured() const { return tick_s > 0 && tick_s <= kRampWindow.seconds(); }
};

// Fed every tick row of the run (TickSeries' sink) with the queue whose restarts it watches; the
// queue's events up to the row's end have run when the row arrives (core/engine.h).
class RestartRampWatch {
 public:
  RestartRampWatch(const scheduler::ClusterLife& life, SimTime tick, SimTime stagger);
  void OnTick(const TickRow& row, int64_t repeat);
  // After the last tick: closes the bursts still watched.
  RestartRamps Finish();

 private:
  struct Open {
    size_t burst;  // index into ramps_.bursts
    SimTime at;
    SimTime close = SimTime::Never();  // known once every member computed again or ended
  };
  // The trailing minimum of one signal over the last kRampWindow.
  struct Trail {
    std::deque<std::pair<SimTime, double>> min;  // (last tick at the value, value), ascending
    double last = 0;
    bool any = false;
    // Largest rise within the window up to `v` at `t` (0 with no history), and the step from
    // the previous tick; then `v` (standing for ticks t .. last) joins the history.
    std::pair<double, double> Push(SimTime t, SimTime last_tick, double v);
  };

  void PullRestarts();
  void Resolve(Open& o) const;

  const scheduler::ClusterLife& life_;
  SimTime tick_;
  size_t next_event_ = 0;
  RestartRamps ramps_;
  std::vector<std::vector<size_t>> members_;  // per burst: its restarts' attempts
  std::vector<Open> open_;
  Trail facility_, it_;
};

// summary.json `restarts`: restarts, bursts (of several jobs), the largest rises over all bursts
// and the list of multi-job bursts (at most kListedBursts, the largest by facility rise within a
// minute, in time order).
inline constexpr size_t kListedBursts = 20;
nlohmann::ordered_json RestartRampsJson(const RestartRamps& r);
// The printed summary's line; empty without restarts.
std::string RestartRampsText(const RestartRamps& r);

}  // namespace firstwall::report
