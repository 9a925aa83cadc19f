// Experts: the rules that turn a finding (finding.h) into a recommendation a person can act on,
// and the routing table that says which expert reads which finding (docs/operations.md,
// "Experts"). An expert writes a plan (ops.h's PlanRequest: what to change, why, when it expires),
// the scenario change that models it, and the twin's what-if of that change (what_if_run.h) fills
// the predicted effect and checks the constraints; a plan whose what-if breaks a constraint the
// baseline kept is withdrawn, its advice kept. No expert approves or applies anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ops/finding.h"
#include "ops/ops.h"
#include "ops/what_if_run.h"
#include "scenario/overrides.h"
#include "site/site_config.h"

namespace firstwall::ops {

enum class Expert { kCooling, kPower, kFabric, kWorkload, kDataQuality };
std::string ExpertName(Expert e);

// One row of the routing table: a finding goes to the expert of the first row whose kind, cause
// and entity kind (the target's ENTITY) all match; "*" matches anything.
struct Route {
  const char* kind;
  const char* cause;
  const char* entity;
  Expert expert;
};
const std::vector<Route>& RoutingTable();
const Route& RouteOf(const Finding& f);

// What the experts read of the site (from its scenario): SI units, temperatures in C.
struct SiteFacts {
  std::string site;
  double liquid_supply_c = 32;
  double gpu_tdp_w = 0;
  double gpu_power_cap_w = 0;  // the cap in force: the TDP when uncapped
  double node_base_w = 0;      // each node's non-GPU power (site::NodeFixedWatts)
  int gpus = 0, nodes = 0;
  double grid_limit_w = 0;       // site.grid_import_limit; 0: unrated
  double grid_ramp_limit_w = 0;  // site.grid_ramp_limit (a rise within one minute); 0: unrated
  // The queue: whether there is a scheduler, its flexible jobs (workloads[].flexible,
  // job_traces[].flexible) and the largest's GPUs, and the power-aware gate they already have
  // (scheduler.flexibility): its grid margin (0..1, 0: none) and whether it defers starts.
  bool scheduler = false;
  int flexible_jobs = 0, largest_flexible_gpus = 0;
  int flexible_gpus = 0;  // summed over the flexible jobs
  double flexibility_grid_margin = 0;
  bool flexibility_defers = false;
  double flexibility_max_delay_s = 0;
  std::string flexibility_other_signals;  // "price, carbon": the gate's signals besides the grid
  double restart_stagger_s = 0;           // scheduler.restart_stagger
  bool hourly_tariff = false;             // site.tariff_file: prices that change by the hour
  // The gate's price signal (scheduler.flexibility.price_above, USD/MWh) and its cap on running
  // flexible jobs' GPUs (cap_gpu_power, W; 0 when not set).
  std::optional<double> flexibility_price_above_usd_per_mwh;
  double flexibility_cap_w = 0;
};
SiteFacts FactsOf(const site::SiteConfig& config);

// A limit compared between the baseline and the changed run; ok when the change does not make
// it worse (hours over the limit do not grow; the share of requests meeting their SLO does not
// fall).
struct ConstraintCheck {
  std::string name;  // "inlet outside ASHRAE A1 allowable (15-32 C)"
  double baseline = 0, changed = 0;
  std::string unit;  // "h", "GPU-h", "%"
  bool ok = true;
};

// The limits a what-if must not make worse, baseline against changed: five limit hours, and the
// share of requests meeting their SLO where the site serves any.
std::vector<ConstraintCheck> ConstraintChecks(const WhatIfRun& w);

struct Recommendation {
  Finding finding;
  Expert expert = Expert::kDataQuality;
  std::string rule;    // the rule that fired, as docs/operations.md names it
  std::string advice;  // what a person should know or do, always present
  // The plan, when the rule proposes one and its constraints hold; its effect and uncertainty
  // are the what-if's when one ran.
  std::optional<PlanRequest> plan;
  std::vector<scenario::Override> change;  // the scenario change that models the plan
  std::optional<WhatIfRun> what_if;
  std::string unchecked;  // why no what-if ran, when none did
  std::vector<ConstraintCheck> checks;
};

struct ExpertOptions {
  std::string scenario_path;  // the site's scenario: facts and what-ifs; required
  int64_t now_ms = 0;
  int64_t plan_lifetime_ms = 2 * 3600 * 1000;
  // Relative uncertainty of a what-if's effect: the plan's +- is this times |effect|. 0.15 by
  // default, half of ASHRAE Guideline 14's hourly CV(RMSE) limit for a calibrated model (30 %);
  // a site calibrated better (firstwall compare) may pass its own CV(RMSE).
  double effect_relative_uncertainty = 0.15;
  bool run_what_if = true;  // false: plans without a what-if (their effect says unchecked)
  // Changes every run of this advice makes, baseline included: the what-if's horizon
  // (simulation.duration) or today's state of the site. Empty: the scenario as written.
  std::vector<scenario::Override> base;
  // The scenario's own run (with `base`), when the caller has it (one per decision cycle, not one
  // per finding); else Advise simulates it when a rule or a what-if needs it.
  std::optional<WhatIfFigures> baseline;
};

// The routed expert's recommendation for `f`. InputError when the scenario cannot be read.
Recommendation Advise(const Finding& f, const SiteFacts& facts, const ExpertOptions& o);

}  // namespace firstwall::ops
