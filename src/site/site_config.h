// Everything a site simulation needs, in model types. The scenario layer builds it from YAML; tests
// and benchmarks may build it directly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/sim_time.h"
#include "hardware/gpu.h"
#include "network/fabric.h"
#include "network/fabric_power.h"
#include "power/conversion_chain.h"
#include "power/renewable.h"
#include "power/swing.h"
#include "power/tariff.h"
#include "site/life_config.h"
#include "thermal/cooling_plant.h"
#include "thermal/weather.h"
#include "units/quantity.h"
#include "workload/requests.h"
#include "workload/serving.h"
#include "workload/training_step.h"

namespace firstwall::site {

struct ClusterConfig {
  hardware::GpuSpec gpu;
  int nodes = 0;
  int gpus_per_node = 8;
  int nvlink_domain_gpus = 0;  // GPUs joined by NVLink; 0: one node
  // cluster.fabric.kind torus: chips along each dimension of the slice (hardware/torus.h), whose
  // product is every GPU of the cluster, one domain; empty: NVLink domains and the Clos.
  std::vector<int> torus_dims;
  bool torus_twisted = false;  // cluster.fabric.twisted (hardware/torus.h)
  int nodes_per_rack = 4;
  units::Power node_base_power;    // non-GPU power per node (CPUs, memory, NICs, fans), constant
  units::Power gpu_power_cap;      // per GPU; at or above TDP means uncapped
  units::Bandwidth nic_bandwidth;  // per GPU, one direction
  units::Duration link_latency;
  units::Power rack_power_limit;  // zero: unrated
  // Front-end network to storage (zero: none declared).
  units::Bandwidth frontend_per_node;
  units::Bandwidth storage_bandwidth;

  int gpu_count() const { return nodes * gpus_per_node; }
  int nvlink_domain() const { return nvlink_domain_gpus > 0 ? nvlink_domain_gpus : gpus_per_node; }
  int rack_count() const { return (nodes + nodes_per_rack - 1) / nodes_per_rack; }
};

// A job on the cluster: an LLM training job (its step from the training model, its collectives on
// the fabric), or a model-less job (gpu_activity set: `gpus` GPUs at that constant activity, no
// fabric traffic; jobs from traces without a model, issue #11).
struct JobConfig {
  std::string name;
  workload::TrainingSetup setup;       // training jobs only
  std::optional<double> gpu_activity;  // model-less: 0 (idle) .. 1 (TDP)
  int gpus = 0;                        // model-less jobs' GPU count
  bool model_less() const { return gpu_activity.has_value(); }
  SimTime start;
  SimTime end = SimTime::Never();
  SimTime checkpoint_every = SimTime::Never();  // Never: no checkpoints
  units::DataSize checkpoint_size;
};

// An inference service: replicas of one model on the cluster's GPUs, fed by its requests. Its
// replicas take whole nodes after the training jobs'; its GPU power comes from the serving model
// (workload/serving.h) and joins the site's racks, power chain and cooling.
struct ServiceConfig {
  workload::ServiceSetup setup;  // start_s/end_s: the service's lifetime in the simulation
  workload::RequestSet requests;
  // With a scheduler: the priority its replicas take in the scheduler's pool
  // (site/life_services.h). None: placed on fixed nodes after the jobs.
  std::optional<int> pool_priority;
  // Its serving simulation already run for this site (site.h, ServeOnce), which Site then takes
  // instead of running workload::Serve again. Set only by a caller that afterwards changes
  // nothing it reads (this service, the site's duration, tick and seed): ops::RunForecast's three
  // runs, which differ in their weather only, share one.
  std::shared_ptr<const workload::ServingResult> served;
  // The simulated time `served` was run for (ServeOnce: the site's duration then). The serving
  // simulation is causal, so a result run further holds the same bins up to any shorter duration:
  // ops::RunForecast reuses one that reaches its end (the dashboard serves a day ahead).
  double served_until_s = 0;
};

// A scheduled change of fabric links: at `at` the links drop to `health` of their bandwidth
// (0: down) until `end`.
struct FaultConfig {
  std::string target;  // as written: "nic:16", "leaf:3-spine:1", "spine:2", "leaf:5"
  std::vector<int> links;
  double health = 0.0;
  SimTime at;
  SimTime end = SimTime::Never();
};

// A battery at the grid connection. Each rule is optional (the loader asks for at least one):
// peak shaving discharges while the facility draws more than `discharge_above` and charges while
// it draws less than `charge_below`; price and carbon arbitrage discharge, covering the site's
// demand, while the tariff's price (carbon intensity) is above `discharge_price_above`
// (`discharge_carbon_above`) and charge at full power while it is below `charge_price_below`
// (`charge_carbon_below`). A discharge rule that fires wins over a charge rule. Surplus renewable
// output always charges it. All within its power and state of charge; each direction loses
// sqrt(round-trip efficiency).
struct SiteBattery {
  units::Power power;
  units::Energy energy;
  double round_trip_efficiency = 0.9;
  double initial_soc = 0.5;
  std::optional<units::Power> discharge_above;
  std::optional<units::Power> charge_below;
  std::optional<double> discharge_price_above_usd_per_j, charge_price_below_usd_per_j;
  std::optional<double> discharge_carbon_above_g_per_j, charge_carbon_below_g_per_j;
  // On a DC bus (the output of power-chain stage `bus_stage`) its rules read that bus's load
  // after the plants on it, and charging from the grid keeps the stage within its rating; -1:
  // at the grid connection, its rules reading the facility's demand.
  int bus_stage = -1;
};

// Dispatchable on-site generation (gas turbines, engines, a small modular reactor): it follows the
// facility's demand above the grid import limit, up to its capacity, changing its output no faster
// than full capacity per `ramp_time`. Its fuel: `heat_rate` joules of fuel per joule of
// electricity (0: fuel not counted), bought at `fuel_usd_per_j` per joule of fuel and emitting
// `fuel_co2_g_per_j` grams of CO2 per joule of fuel.
struct SiteGeneration {
  units::Power capacity;
  units::Duration ramp_time;
  double heat_rate = 0;
  double fuel_usd_per_j = 0;
  double fuel_co2_g_per_j = 0;
};

struct FacilityConfig {
  std::vector<power::ConversionStage> power_chain;  // from the load outward
  thermal::CoolingConfig cooling;
  units::Power grid_import_limit;  // zero: unrated
  // Largest rise of the site's draw within one minute (a rate per minute); zero: unrated.
  units::Power grid_ramp_limit;
  // On-site storage and generation between the facility and the grid (site/storage.h).
  std::optional<SiteBattery> battery;
  std::optional<SiteGeneration> generation;
  // Solar and wind behind the meter (power/renewable.h).
  std::vector<power::RenewableSource> renewables;
};

// A window of the run recorded at fine resolution to study power swings (power/swing.h), and the
// mitigations to compare on it.
struct SwingConfig {
  bool enabled = false;
  SimTime start;
  SimTime length;
  SimTime resolution;
  double band_low_hz = 0.1, band_high_hz = 20;
  std::optional<units::Power> gpu_power_floor;   // per GPU
  std::optional<units::Duration> gpu_ramp_time;  // idle to TDP at the limit
  std::optional<power::Battery> battery;
};

struct SiteConfig {
  std::string name;
  ClusterConfig cluster;
  std::vector<JobConfig> jobs;
  std::vector<ServiceConfig> services;
  FacilityConfig facility;
  // Scale-out fabric switches; nodes, GPUs per node and bandwidths come from the cluster
  // (FabricFor).
  network::FabricSpec fabric;
  std::vector<FaultConfig> faults;
  SwingConfig swings;
  bool adaptive_routing = false;  // least-loaded spine instead of the ECMP hash
  // cluster.fabric.technology: the switches and optics the fabric is built from and their draw,
  // shared evenly over the nodes; none: the fabric draws nothing.
  std::optional<network::FabricEquipment> fabric_equipment;
  thermal::Weather weather{thermal::OutdoorConditions{units::Celsius(20), 0.5}};
  power::Tariff tariff;  // price and carbon intensity of grid energy over time
  SimTime duration;
  SimTime tick;
  // Where the engine cuts physics windows (core/engine.h; scenario simulation.windows).
  WindowCut windows = WindowCut::kEvents;
  uint64_t seed = 1;
  // The queue, failures and restarts (scenario `scheduler:`); none: workloads on fixed nodes.
  std::optional<LifeConfig> life;
  // What the loader accepted but a user likely did not intend, each "file:line:col: what and why";
  // the run's summary repeats them (report::Summary::warnings).
  std::vector<std::string> warnings;
};

// A node's power besides its GPUs, watts: cluster.node_base_power and its even share of the
// fabric's switches and optics (fabric_equipment; network/fabric_power.h).
double NodeFixedWatts(const SiteConfig& config);

// GPUs a job runs on: the training layout's, or a model-less job's `gpus`.
int GpuCount(const JobConfig& job);
// Nodes a job needs: its GPUs packed onto whole nodes.
int NodesFor(const JobConfig& job, const ClusterConfig& cluster);
// Nodes a service needs: each replica on whole nodes (a replica may span nodes).
int NodesFor(const ServiceConfig& service, const ClusterConfig& cluster);
// Bytes/s a job on `nodes` nodes writes to (or reads from) storage alone: the slower of its nodes'
// front-end NICs together and the storage system.
double StorageBytesPerSecondAlone(const ClusterConfig& cluster, int nodes);

// The fabric of a site: the switch settings of `config.fabric` with the cluster's nodes, GPUs per
// node and bandwidths.
network::FabricSpec FabricFor(const SiteConfig& config);

}  // namespace firstwall::site
