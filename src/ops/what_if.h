// What-if runs of a scenario for operations and agents (the MCP tools, mcp_tools.h): the scenario
// with some keys changed (scenario/overrides.h), simulated in this process, its key figures and
// their difference from the scenario as written (the baseline, simulated once and kept). And the
// twin's check of a predicted effect: the effect of a plan's change in the twin against the
// effect someone claimed, within the uncertainty they stated.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ops/ops.h"
#include "report/meter.h"
#include "site/site_config.h"

namespace firstwall::ops {

// Key figures of a run, keys with their units: duration_s, it_energy_kwh, facility_energy_kwh,
// mean_it_power_kw, mean_facility_power_kw, peak_it_power_kw, peak_facility_power_kw, pue,
// energy_cost_usd, carbon_kg, water_l, throttled_gpu_hours, busiest_resource,
// busiest_resource_load (fraction of its rating), jobs[] (name, gpus, step_time_s, as run under
// the GPUs' power limit; mfu, at the nominal step; tokens_per_s, average over the run) and
// services[] (name, output_tokens_per_s, slo_met_fraction).
nlohmann::json KeyFigures(const report::Summary& s);

// `what_if` minus `baseline` for every number of KeyFigures (jobs and services matched by name).
nlohmann::json FiguresDifference(const nlohmann::json& what_if, const nlohmann::json& baseline);

class WhatIf {
 public:
  // `scenario`: a scenario file, or "" for the built-in default. Loaded (and checked) here:
  // InputError when it is not a scenario.
  explicit WhatIf(std::string scenario);
  const std::string& scenario() const { return scenario_; }
  // The scenario as written, loaded again (what the anomaly detector reads the topology from).
  site::SiteConfig Site() const;
  // The scenario's description: file, site, GPUs, nodes, racks, duration, tick, jobs, services,
  // and the keys an override may name (the schema's), with the values of a few common ones.
  nlohmann::json Describe() const;
  // The key figures of the scenario as written (simulated on first use, then kept).
  const nlohmann::json& Baseline();
  // The scenario with `overrides` (key path -> value text as written in a scenario, "18 C"):
  // {overrides, figures, baseline, difference}. InputError naming the key for a bad key or value,
  // or when the what-if would simulate more than kMaxTickFactor times the scenario's own ticks
  // (duration / tick), so that one call cannot hold a server far longer than the scenario's run.
  nlohmann::json Run(const std::map<std::string, std::string>& overrides);

  static constexpr int64_t kMaxTickFactor = 4;

 private:
  std::string scenario_;
  int64_t ticks_ = 0;  // the scenario's own
  std::string text_, file_, base_dir_;
  std::optional<nlohmann::json> baseline_;
};

// The scenario keys that model a plan's change, when this server knows them: a setpoint plan in C
// on a cdu or the facility -> facility.cooling.liquid_supply; a power_cap plan in W/kW on the
// facility -> cluster.gpu_power_cap (every GPU capped at the value); a job_move plan in % on the
// facility -> scheduler.flexibility.grid_margin = 100 % less it, and defer (flexible jobs' first
// starts held while grid import is at or above the value's share of the limit). Empty otherwise
// (a cap on one GPU or node is no scenario key: its check would price the whole site's).
std::map<std::string, std::string> ScenarioChangeOf(const PlanRequest& r);

// The twin's check of a claimed effect. `difference` is FiguresDifference of the plan's what-if.
// A power effect (W, kW, MW) is compared with the change of mean facility power; a "ratio" effect
// with the change of PUE. {status: "agree" | "disagree" | "unchecked", claimed, twin (in the
// claim's unit), uncertainty, why}.
nlohmann::json CheckEffect(const Amount& claimed, double uncertainty,
                           const nlohmann::json& difference);

}  // namespace firstwall::ops
