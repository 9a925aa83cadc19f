// Turns the engine's windows into one row per physics tick. Windows are cut at events, so a tick
// may arrive in pieces; the row is the time-weighted average over the tick. An idle-skip window
// covering n ticks gives one row repeated n times (the values do not change inside it).
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "core/engine.h"
#include "site/site.h"

namespace firstwall::report {

struct TickRow {
  SimTime start;
  double seconds = 0;     // length of the tick (the last one may be short)
  double it_input_w = 0;  // PUE's IT: at the IT equipment's input
  double gpu_w = 0, node_base_w = 0, it_w = 0, loss_w = 0, heat_w = 0, cooling_w = 0,
         facility_w = 0;
  double peak_rack_w = 0;   // highest rack average over the tick's windows
  double peak_cdu_w = 0;    // highest busiest-CDU heat over the tick's windows (rated CDUs)
  double gpu_activity = 0;  // mean over all GPUs of the cluster
  double outdoor_c = 0;
  double running_jobs = 0;             // time-weighted; with a scheduler, jobs holding nodes
  double queued_jobs = 0;              // time-weighted; jobs waiting in the scheduler's queue
  double fabric_peak_utilization = 0;  // highest over the tick's windows
  // The cooling chain.
  double wet_bulb_c = 0, chillers_w = 0, pumps_w = 0, crah_fans_w = 0, sink_fans_w = 0,
         rejected_w = 0, unmet_w = 0, water_l_per_s = 0, economizer_share = 0;
  double liquid_free_share = 0, air_free_share = 0;
  double gpu_coolant_c = 0, server_inlet_c = 0;
  double grid_w = 0, generation_w = 0, battery_w = 0, battery_soc = 0;  // soc: at the tick's end
  double renewable_w = 0, curtailed_w = 0, renewable_usd_per_s = 0;     // facility.renewables
  std::vector<double> stage_input_w;
  std::vector<double> stage_loss_w;  // each stage's own losses (not input differences: a DC bus's
                                     // plants and battery supply some stages' output)
  std::vector<double> stage_unit_peak_w;  // highest over the tick's windows
  // (job id, average IT power of its nodes over the tick) for the jobs that held nodes in it.
  std::vector<std::pair<size_t, double>> job_it_w;
};

class TickSeries : public Observer {
 public:
  // `sink(row, n)`: the row stands for n consecutive ticks starting at row.start.
  using Sink = std::function<void(const TickRow&, int64_t)>;
  TickSeries(const site::Site& site, SimTime tick, Sink sink);
  // A count's mean over a window [from, to), asked once per window in order (core/timed_count.h).
  using MeanOver = std::function<double(SimTime from, SimTime to)>;
  // With a scheduler: how many jobs wait in its queue.
  void CountQueued(MeanOver queued) { queued_ = std::move(queued); }
  // With a scheduler: how many jobs hold nodes (ClusterLife::MeanRunning: a job stopped by a
  // failure holds its nodes, hung, until the failure is detected, though the site no longer runs
  // it); replaces the site's count of the jobs it runs.
  void CountRunning(MeanOver running) { running_ = std::move(running); }
  void OnWindow(SimTime from, SimTime to) override;
  // Emits a final partial tick, if any.
  void Finish();

 private:
  void Add(const site::WindowSample& s, double seconds);
  void Emit(int64_t repeat);

  const site::Site& site_;
  SimTime tick_;
  Sink sink_;
  MeanOver queued_;
  MeanOver running_;
  TickRow acc_;
  bool open_ = false;
  std::vector<int> job_slot_;  // per job id: its entry in acc_.job_it_w, -1: none this tick
};

}  // namespace firstwall::report
