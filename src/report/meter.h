// Totals, peaks and per-job results of a run, and the "busiest resource" ranking: each rated
// resource's peak (tick-average) load against its rating.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/engine.h"
#include "report/flexibility_report.h"
#include "report/life_report.h"
#include "report/swings.h"
#include "report/tick_series.h"
#include "site/life_services.h"
#include "site/site.h"

namespace firstwall::report {

struct ResourceUse {
  std::string name;   // "UPS", "rack", "cooling plant", "grid connection", "GPUs"
  std::string kind;   // "power stage", "rack", "cooling", "grid", "compute"
  double peak = 0;    // in `unit`
  double rating = 0;  // in `unit`; 0 when unrated
  std::string unit;   // "kW" or "activity"
  double utilization() const { return rating > 0 ? peak / rating : 0.0; }
};

struct JobSummary {
  std::string name, model;
  int gpus = 0, tp = 0, pp = 0, cp = 0, ep = 0, dp = 0, global_batch = 0, sequence_length = 0;
  workload::StepEstimate estimate;
  int64_t steps_completed = 0;
  double tokens = 0;
  double running_s = 0;
  double tokens_per_s = 0;
  double it_energy_j = 0;
  double network_factor_min = 1;  // lowest share of nominal scale-out bandwidth during the run
  double step_time_max_s = 0;
  double average_tokens_per_s = 0;  // tokens trained / running time, faults included
  double exposed_comm_share = 0;    // exposed communication / step time, at the start
  double running_step_s = 0;        // at the start, as run under the GPUs' power limit
  double throttled_gpu_hours = 0, chip_peak_c = 0;
  bool thermal_shutdown = false;
  int checkpoints = 0, checkpoints_skipped = 0;
  double checkpoint_time_s = 0;  // stalled while writing checkpoints
};

// An inference service: what its serving simulation gave over the run.
struct ServiceSummary {
  std::string name, model, router;
  int gpus = 0, replicas = 0, tp = 0, pp = 0, ep = 0;
  workload::ServiceSetup setup;
  workload::ServingResult result;
};

struct HotLink {
  std::string name;
  double utilization = 0;
  double at_s = 0;
};

// A fault and the jobs whose steps it changed.
struct FaultImpact {
  std::string target;
  double at_s = 0, end_s = 0;  // end_s: the simulation's end if never repaired
  double bandwidth = 0;        // fraction kept
  struct Job {
    std::string name;
    double step_time_before_s = 0, step_time_during_s = 0;
  };
  std::vector<Job> jobs;
};

struct Summary {
  std::string site, scenario_file, gpu;
  int gpu_count = 0, nodes = 0, racks = 0;
  double sim_time_s = 0, tick_s = 0;
  uint64_t seed = 0;
  double gpu_energy_j = 0, node_base_energy_j = 0, it_energy_j = 0, loss_energy_j = 0,
         cooling_energy_j = 0, facility_energy_j = 0;
  std::vector<std::string> stage_names;
  std::vector<double> stage_loss_energy_j;
  double peak_it_w = 0, peak_facility_w = 0, peak_rack_w = 0;
  // The cooling chain.
  double chillers_energy_j = 0, pumps_energy_j = 0, crah_fans_energy_j = 0, sink_fans_energy_j = 0,
         heat_rejected_j = 0, loop_stored_j = 0, water_l = 0;
  double economizer_hours = 0, partial_economizer_hours = 0, mechanical_hours = 0;
  double liquid_loop_economizer_hours = 0, air_loop_economizer_hours = 0;
  double unmet_cooling_hours = 0, peak_unmet_cooling_w = 0;
  double unmet_cooling_j = 0;  // heat the plant could not remove
  // Rated CDUs (site::CduLoads): how many, and the hours and heat above a CDU's capacity.
  size_t cdus = 0;
  double cdu_over_capacity_hours = 0, cdu_over_capacity_j = 0;
  // Server inlet air against ASHRAE class A1: recommended 18-27 C, allowable 15-32 C.
  double inlet_outside_recommended_hours = 0, inlet_outside_allowable_hours = 0;
  double throttled_gpu_hours = 0;
  double mean_gpu_activity = 0;
  double energy_cost_usd = 0;  // of grid energy
  double grid_energy_j = 0, peak_grid_w = 0, generation_energy_j = 0, peak_generation_w = 0;
  double battery_discharge_j = 0, battery_charge_j = 0, battery_soc_min = 1, battery_soc_max = 0;
  double grid_limit_exceeded_hours = 0;
  bool has_storage = false;  // a battery, generation or renewables are configured
  // facility.renewables: contracted output, the part neither used nor stored, and its PPA cost.
  double renewable_energy_j = 0, curtailed_energy_j = 0, renewable_cost_usd = 0;
  // facility.generation's fuel (zero when its heat rate is not given).
  double generation_fuel_j = 0, generation_fuel_cost_usd = 0, generation_carbon_kg = 0;
  double carbon_kg = 0;
  std::vector<ResourceUse> resources;  // busiest first
  std::vector<JobSummary> jobs;
  std::vector<ServiceSummary> services;
  std::vector<FaultImpact> faults;
  std::optional<SwingReport> swings;
  std::optional<LifeSummary> life;  // with a scheduler (report/life_report.h)
  // With scheduler.flexibility, against the same run without it (report/flexibility_report.h).
  std::optional<FlexibilitySummary> flexibility;
  // With a scheduler, per service (same order): what the pool gave it (site/life_services.h).
  std::vector<site::ServicePoolStats> service_pools;
  site::PowerEvents power_events;
  std::vector<HotLink> hottest_links;  // scale-out
  double nvlink_peak_utilization = 0;
  // cluster.fabric.kind torus: the slice and its nominal figures (hardware/torus.h), bytes/s.
  struct Torus {
    std::vector<int> dims;
    int links_per_chip = 0;
    double link_bytes_per_s = 0;             // one direction of one link
    double allreduce_busbw_bytes_per_s = 0;  // whole slice, large messages, efficiency 1
    double bisection_bytes_per_s = 0;        // one direction
    bool twisted = false;
  };
  std::optional<Torus> torus;
  // cluster.fabric.technology: the fabric's switches, optics and their draw (in the IT load).
  std::optional<network::FabricEquipment> fabric_equipment;
  std::vector<site::Site::FabricTierUse> fabric_tiers;  // each tier the fabric has, in order
  EngineStats engine;
  int64_t ticks = 0;
  std::vector<std::string> warnings;  // the scenario's (site::SiteConfig::warnings)

  // Grid energy, contracted renewable energy and generation fuel together.
  double total_energy_cost_usd() const {
    return energy_cost_usd + renewable_cost_usd + generation_fuel_cost_usd;
  }

  double it_input_energy_j = 0;  // at the IT equipment's input
  double pue() const { return it_input_energy_j > 0 ? facility_energy_j / it_input_energy_j : 0.0; }
  // Facility energy per unit of IT load energy, to charge jobs their share of the facility.
  double facility_per_it() const { return it_energy_j > 0 ? facility_energy_j / it_energy_j : 0.0; }
  // Water Usage Effectiveness (The Green Grid): site water per IT kWh.
  double wue_l_per_kwh() const {
    return it_input_energy_j > 0 ? water_l / (it_input_energy_j / 3.6e6) : 0.0;
  }
};

class Meter {
 public:
  explicit Meter(const site::Site& site);
  void OnTick(const TickRow& row, int64_t repeat);
  Summary Finish(const std::string& scenario_file, const EngineStats& engine) const;

 private:
  const site::Site& site_;
  Summary s_;
  std::vector<double> stage_peak_out_w_;
  std::vector<double> job_energy_j_;
  double peak_heat_w_ = 0, peak_activity_ = 0, activity_s_ = 0, peak_fabric_ = 0;
};

}  // namespace firstwall::report
