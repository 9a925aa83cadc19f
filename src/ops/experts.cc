#include "ops/experts.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

#include "units/quantity.h"

namespace firstwall::ops {
namespace {

// ASHRAE TC 9.9 liquid cooling classes (Liquid Cooling Guidelines for Datacom Equipment
// Centers, 2nd ed., 2014; W-classes updated in the 2021 white paper): W45 allows facility water
// up to 45 C, the highest class short of W+. Below 5 C is the scenario's own lower bound of
// facility.cooling.liquid_supply (docs/scenario.md).
constexpr double kLiquidSupplyMaxC = 45;
constexpr double kLiquidSupplyMinC = 5;
// A chiller stuck at one stage: raise the facility water by this much, so the plant needs less
// lift and the economizer carries more (docs/operations.md, rule cooling.chiller_stuck).
constexpr double kStuckChillerRaiseK = 2;
// A power cap below half the TDP starves a training job rather than trims a peak.
constexpr double kMinCapOfTdp = 0.5;
// The cap the price-peak rule puts on flexible jobs' GPUs where the site's gate has none: the
// rule's choice, between the floor above and the TDP, priced by the what-if (energy cost saved
// against useful work lost), not a figure of a source.
constexpr double kPricePeakCapOfTdp = 0.6;

struct Draft {
  std::string rule, advice;
  std::optional<PlanRequest> plan;
  std::vector<scenario::Override> change;
  // What the plan's what-if must show for it to be proposed: empty when it does, else why not.
  // A plan that fails it is withdrawn and the next draft, if any, weighed. None: always kept.
  std::function<std::string(const WhatIfRun&)> keep;
  // What the advice adds from the what-if of a kept plan. None: LessWork's sentence.
  std::function<std::string(const WhatIfRun&)> told;
};

std::string EntityOf(const std::string& target) { return target.substr(0, target.find('/')); }
std::string IdOf(const std::string& target) {
  const auto slash = target.find('/');
  return slash == std::string::npos ? "" : target.substr(slash + 1);
}

// A plan on the whole site: the finding's facility, else the site by name.
std::string FacilityTarget(const Finding& f, const SiteFacts& s) {
  return EntityOf(f.target) == "facility" ? f.target : "facility/" + s.site;
}

// Facility power per watt of IT at the baseline's peak: what a draw of the GPUs costs at the meter
// (losses and cooling included).
double MeterPerItWatt(const WhatIfFigures& baseline) {
  return baseline.peak_it_w > 0 ? baseline.peak_facility_w / baseline.peak_it_w : 1;
}

// Less useful work in a what-if is the change's price, and part of its saving: said, when any.
double LessUsefulGpuH(const WhatIfRun& w) {
  return w.baseline.useful_gpu_h - w.changed.useful_gpu_h;
}
std::string LessWork(const WhatIfRun& w) {
  const double less = LessUsefulGpuH(w);
  if (!(less > 1e-9)) return "";
  return fmt::format(
      " The what-if does {:.1f} GPU-h less useful work over its run: part of its saving is work "
      "not done.",
      less);
}

scenario::Override Set(const std::string& key, const std::string& value) {
  return scenario::Override{key, value, SourceLocation{"what-if of " + key}, false};
}

PlanRequest Plan(const char* cls, const std::string& target, double value, const char* unit,
                 const std::string& reason) {
  PlanRequest r;
  r.plan_class = cls;
  r.target = target;
  r.value = Amount{value, unit};
  r.reason = reason;
  return r;
}

Draft FouledCdu(const Finding& f, const SiteFacts& s) {
  Draft d;
  d.rule = "cooling.fouled_cdu";
  // The GPUs' coolant runs `residual` K warm: lower the supply by that much (at least 0.5 K, at
  // most 5 K, in 0.5 K steps) so the cold plates see their design temperature again.
  // (0.01 K over a step stays on it: a residual of 3.00x K is 3 K, not 3.5.)
  const double rise = std::clamp(std::ceil(std::max(f.residual, 0.0) * 2 - 0.02) / 2, 0.5, 5.0);
  const double to = s.liquid_supply_c - rise;
  if (!(f.residual > 0)) {
    d.advice = fmt::format(
        "{}'s coolant is not warmer than the twin expects (residual {:+.1f} K): a fouled heat "
        "exchanger warms it, so this finding is not one; no plan. Check the detector's input.",
        f.target, f.residual);
    return d;
  }
  d.advice = fmt::format(
      "{}'s coolant runs {:.1f} K warmer than the twin expects: its heat exchanger is likely "
      "fouled; schedule cleaning. Meanwhile lower its supply setpoint by {:.1f} K.",
      f.target, f.residual, rise);
  if (to < kLiquidSupplyMinC) {
    d.advice += fmt::format(" (Not proposed: {:.1f} C is below {} C.)", to, kLiquidSupplyMinC);
    return d;
  }
  d.plan = Plan("setpoint", f.target, to, "C",
                fmt::format("fouled CDU: coolant {:.1f} K above the twin; supply {} C -> {} C",
                            f.residual, s.liquid_supply_c, to));
  // The twin has one facility-water setpoint: lowering it for every CDU overstates the cost of
  // lowering one CDU's, so the predicted effect is conservative.
  d.change = {Set("facility.cooling.liquid_supply", fmt::format("{} C", to))};
  return d;
}

Draft StuckChiller(const Finding& f, const SiteFacts& s) {
  Draft d;
  d.rule = "cooling.chiller_stuck";
  const double to = s.liquid_supply_c + kStuckChillerRaiseK;
  d.advice = fmt::format(
      "{} holds one stage whatever the load: dispatch a technician and stage it by hand. "
      "Raising the facility water by {} K lowers the lift it must give.",
      f.target, kStuckChillerRaiseK);
  if (to > kLiquidSupplyMaxC) {
    d.advice +=
        fmt::format(" (Not proposed: {} C is above ASHRAE W45's {} C.)", to, kLiquidSupplyMaxC);
    return d;
  }
  d.plan = Plan("setpoint", f.target, to, "C",
                fmt::format("chiller stuck at one stage: supply {} C -> {} C while it is repaired",
                            s.liquid_supply_c, to));
  d.change = {Set("facility.cooling.liquid_supply", fmt::format("{} C", to))};
  return d;
}

Draft PeakOverLimit(const Finding& f, const SiteFacts& s, const WhatIfFigures& baseline) {
  Draft d;
  d.rule = "power.peak_over_limit";
  // The excess (residual, W over the limit) taken out of the GPUs alone, spread evenly, below
  // what each GPU draws at the IT peak (a cap above that draw changes nothing): the losses' and
  // the cooling's share of the saving is ignored, so the cap is deeper than needed, not shallower.
  const double excess = std::max(f.residual, 0.0);
  if (!(f.residual > 0)) {
    d.advice = fmt::format(
        "The forecast peak is {:.1f} kW under the limit (residual {:+.0f} W): nothing to cap.",
        -f.residual / 1e3, f.residual);
    return d;
  }
  const double at_peak = s.gpus > 0 ? (baseline.peak_it_w - s.nodes * s.node_base_w) / s.gpus : 0;
  const double cap = std::min(s.gpu_power_cap_w, at_peak) - (s.gpus > 0 ? excess / s.gpus : 0);
  d.advice = fmt::format(
      "The facility is forecast {:.1f} kW over its limit: cap the GPUs, or delay flexible jobs.",
      excess / 1e3);
  if (s.gpus <= 0 || cap < kMinCapOfTdp * s.gpu_tdp_w) {
    d.advice += fmt::format(" (No cap proposed: it would be below {:.0f} % of the TDP.)",
                            kMinCapOfTdp * 100);
    return d;
  }
  const double cap_w = std::floor(cap);
  const std::string target = FacilityTarget(f, s);
  d.plan = Plan("power_cap", target, cap_w, "W",
                fmt::format("forecast peak {:.1f} kW over the limit: every GPU capped at {:.0f} W "
                            "(drawing {:.0f} W at the peak)",
                            excess / 1e3, cap_w, at_peak));
  d.change = {Set("cluster.gpu_power_cap", fmt::format("{} W", cap_w))};
  return d;
}

// Flexible jobs wait rather than every GPU being capped: the queue's own power-aware gate
// (scheduler.flexibility.grid_margin, docs/models.md) holds their first starts while grid import
// is near the limit, at most max_delay (24 h by default) and never past a job's latest start for
// its deadline. The gate must close before one more flexible job would carry the import over
// the limit, so the margin is the largest flexible job's draw at the meter (its GPUs at their
// cap, times the baseline peak's facility-to-IT ratio) over the limit: rounded up to 1 %, at
// least 5 % and at most 50 %.
// A gate already closing at that margin or wider, and deferring, leaves this rule nothing to add.
double HoldMarginPercent(const SiteFacts& s, const WhatIfFigures& baseline) {
  const double job_w = s.largest_flexible_gpus * s.gpu_power_cap_w * MeterPerItWatt(baseline);
  return std::clamp(std::ceil(100 * job_w / s.grid_limit_w - 1e-9), 5.0, 50.0);
}

Draft HoldFlexibleJobs(const Finding& f, const SiteFacts& s, double margin) {
  Draft d;
  d.rule = "power.hold_flexible";
  // The finding is answered when the twin shows no hour over the limit left, not fewer.
  d.keep = [](const WhatIfRun& w) -> std::string {
    const double before = w.baseline.grid_limit_exceeded_h;
    const double after = w.changed.grid_limit_exceeded_h;
    if (after < 1e-9 && before > 1e-9) return "";
    return fmt::format(
        "Not proposed: the twin's what-if leaves {:.2f} h over the grid limit (against {:.2f} h).",
        after, before);
  };
  d.told = [](const WhatIfRun& w) -> std::string {
    const double less = LessUsefulGpuH(w);
    if (!(less > 1e-9)) return "";
    return fmt::format(
        " The what-if defers {:.1f} GPU-h of flexible work past its horizon: that energy is "
        "moved, not saved.",
        less);
  };
  // A wider margin already set stays (the plan then only turns deferral on).
  margin = std::max(margin, std::round(100 * s.flexibility_grid_margin));
  const double gate = 100 - margin;
  const double max_delay_h = s.flexibility_max_delay_s / 3600;
  d.advice = fmt::format(
      "The facility is forecast {:.1f} kW over its grid limit and {} of the queue's jobs {} "
      "flexible: hold their first starts while grid import is at or above {:.0f} % of the limit "
      "(each at most {:g} h, scheduler.flexibility.max_delay, and never past its latest start for "
      "a deadline).",
      f.residual / 1e3, s.flexible_jobs, s.flexible_jobs == 1 ? "is" : "are", gate, max_delay_h);
  if (!s.flexibility_defers && !s.flexibility_other_signals.empty()) {
    d.advice += fmt::format(
        " The gate does not defer starts today: turning deferral on also holds them while its "
        "other signals ({}) close it.",
        s.flexibility_other_signals);
  }
  const std::string target = FacilityTarget(f, s);
  d.plan = Plan("job_move", target, gate, "%",
                fmt::format("forecast peak {:.1f} kW over the grid limit: flexible jobs' starts "
                            "held while import is at or above {:.0f} % of the limit",
                            f.residual / 1e3, gate));
  d.change = {Set("scheduler.flexibility.grid_margin", fmt::format("{} %", margin))};
  if (!s.flexibility_defers) d.change.push_back(Set("scheduler.flexibility.defer", "true"));
  return d;
}

// Jobs restarting together after a failure go from idle to work at one instant, so the rise at
// the meter is the sum of their ramps (report/restart_ramps.h measures it). Spread apart by a gap
// (scheduler.restart_stagger), each job's ramp falls in a minute of its own and the rise within
// one minute is about one job's. The gap: two minutes, twice the one-minute window, so no two
// ramps share a window; or twice the stagger in force when that is longer. Kept only when the
// what-if's steepest burst rises no faster than the limit: one job's own ramp may be over it.
Draft StaggerRestarts(const Finding& f, const SiteFacts& s) {
  Draft d;
  d.rule = "power.stagger_restarts";
  const double gap = std::max(120.0, 2 * s.restart_stagger_s);
  d.advice = fmt::format(
      "Jobs restarting together after a failure raise the facility's draw {:.1f} kW within a "
      "minute more than the grid connection allows: stagger their restarts {:g} s apart so that "
      "each job's ramp falls in a minute of its own.",
      std::max(f.residual, 0.0) / 1e3, gap);
  if (!(f.residual > 0) || !s.scheduler || s.grid_ramp_limit_w <= 0 || gap > 3600) {
    d.advice += !(f.residual > 0) ? " (Not proposed: the finding shows no rise over the limit.)"
                : !s.scheduler    ? " (Not proposed: the twin has no scheduler to restart jobs.)"
                : s.grid_ramp_limit_w <= 0
                    ? " (Not proposed: the site gives no site.grid_ramp_limit.)"
                    : " (Not proposed: a gap over an hour.)";
    return d;
  }
  const std::string target = FacilityTarget(f, s);
  d.plan =
      Plan("stagger", target, gap, "s",
           fmt::format("restarts rise {:.1f} kW/min over the ramp limit: restarts {:g} s apart",
                       f.residual / 1e3, gap));
  d.change = {Set("scheduler.restart_stagger", fmt::format("{:g} s", gap))};
  const double limit = s.grid_ramp_limit_w;
  d.keep = [limit](const WhatIfRun& w) -> std::string {
    if (!w.baseline.ramps_measured) {
      return "Not proposed: the twin measures no ramp at this scenario's tick (over 60 s).";
    }
    // The what-if runs the scenario's own span, which may not hold the forecast's burst.
    if (w.baseline.restart_rise_1min_w <= limit) {
      return fmt::format(
          "Not proposed: the twin's run of the scenario shows no restart burst over the limit "
          "(its steepest rises {:.1f} kW within a minute): nothing to check the stagger against.",
          w.baseline.restart_rise_1min_w / 1e3);
    }
    if (w.changed.restart_rise_1min_w <= limit) return "";
    return fmt::format(
        "Not proposed: with restarts staggered the twin's steepest burst still rises {:.1f} kW "
        "within a minute against the limit of {:.1f} kW (one job's own ramp is over it: slow "
        "the GPUs' ramp, power_swings.gpu_ramp_time, or add storage).",
        w.changed.restart_rise_1min_w / 1e3, limit / 1e3);
  };
  d.told = [](const WhatIfRun& w) {
    return fmt::format(
               " In the what-if the steepest restart burst rises {:.1f} kW within a minute "
               "({:.1f} kW with the restarts together).",
               w.changed.restart_rise_1min_w / 1e3, w.baseline.restart_rise_1min_w / 1e3) +
           LessWork(w);
  };
  return d;
}

Draft DrainNode(const Finding& f, const SiteFacts& s, const char* rule, const char* why) {
  Draft d;
  d.rule = rule;
  // gpu/node3/gpu5, nic/node3/mlx5_2 and node/node3 all name node3.
  const std::string id = IdOf(f.target);
  const std::string entity = EntityOf(f.target);
  const std::string node = entity == "gpu" || entity == "nic" ? id.substr(0, id.find('/')) : id;
  // Only a node of this site is drained: a finding about another (a typo, another site's
  // telemetry) gets advice, never a plan.
  int index = -1, used = 0;
  if (std::sscanf(node.c_str(), "node%d%n", &index, &used) != 1 ||
      static_cast<size_t>(used) != node.size() || index < 0 || index >= s.nodes ||
      std::count(id.begin(), id.end(), '/') != (entity == "gpu" || entity == "nic" ? 1 : 0)) {
    d.advice = fmt::format(
        "{}: {}, but '{}' names no node of this site (node0 to node{}): inspect the finding's "
        "source; no plan.",
        f.target, why, id, s.nodes - 1);
    return d;
  }
  d.advice = fmt::format(
      "{}: {}. A synchronous job steps at its slowest member's pace, so drain node {} and let the "
      "scheduler restart its jobs from their checkpoints elsewhere.{}",
      f.target, why, node,
      entity == "nic" ? " Then reseat or replace the port's cable and transceiver, and return the "
                        "node once the port trains at its full rate again."
                      : "");
  d.plan = Plan("drain", "node/" + node, 0, "%",
                fmt::format("{} on {}: drain node {}", why, f.target, node));
  if (s.nodes > 1) d.change = {Set("cluster.nodes", std::to_string(s.nodes - 1))};
  return d;
}

// Hours priced above a limit (a forecast's price_peak finding, `limit` USD/MWh): the flexible
// jobs' GPUs are capped while the tariff's price is above it, through the queue's own gate
// (scheduler.flexibility.price_above with cap_gpu_power, docs/models.md), so the cap holds during
// the peak only and only on work the site marked as able to wait. The cap is the gate's own
// cap_gpu_power when it has one, else 60 % of the TDP. Kept only when the what-if's energy cost
// falls; its advice says what useful work that costs.
Draft CapAtPricePeak(const Finding& f, const SiteFacts& s) {
  Draft d;
  d.rule = "power.cap_at_price_peak";
  const double limit = f.limit;
  // What the finding says, in its words or from its figures.
  const std::string said = !f.detail.empty()
                               ? f.detail
                               : fmt::format("{}: a price up to {} USD/MWh over {} USD/MWh",
                                             f.target, f.residual, limit);
  const char* why_not = !(limit > 0) ? "the finding gives no price limit (its limit, USD/MWh)"
                        : !(f.residual > 0)
                            ? "no price is above the limit (its residual is not above 0)"
                        : !s.hourly_tariff ? "the site's price is flat (no site.tariff_file)"
                                           : nullptr;
  if (why_not) {
    d.advice = fmt::format("{}. This is no price peak: {}; no plan.", said, why_not);
    return d;
  }
  if (!s.scheduler || s.flexible_jobs == 0) {
    d.advice = fmt::format(
        "{}. No job of the queue is flexible, so no cap can be bound to the peak's hours alone: "
        "mark jobs that may slow down (workloads[].flexible) and give the queue a gate "
        "(scheduler.flexibility), or cap every GPU for the peak by hand; no plan.",
        said);
    return d;
  }
  const double cap_w =
      s.flexibility_cap_w > 0 ? s.flexibility_cap_w : std::round(kPricePeakCapOfTdp * s.gpu_tdp_w);
  if (s.flexibility_price_above_usd_per_mwh &&
      !units::AboveBeyondRounding(*s.flexibility_price_above_usd_per_mwh, limit) &&
      s.flexibility_cap_w > 0) {
    d.advice = fmt::format(
        "{}. The queue's gate already caps the flexible jobs' GPUs at {:.0f} W while the price is "
        "above {} USD/MWh (scheduler.flexibility): nothing to add.",
        said, s.flexibility_cap_w, *s.flexibility_price_above_usd_per_mwh);
    return d;
  }
  // A gate already closing at a lower price keeps it (raising it would change what it holds).
  const double price = std::min(limit, s.flexibility_price_above_usd_per_mwh.value_or(limit));
  d.advice = fmt::format(
      "{}. Cap the {} flexible jobs' GPUs ({} GPUs) at {:.0f} W while the price is above {:g} "
      "USD/MWh: they run slower in the hours priced above it and at full power in the others.",
      said, s.flexible_jobs, s.flexible_gpus, cap_w, price);
  if (s.flexibility_defers) {
    d.advice += " The gate defers starts, so the price then also holds their first starts.";
  }
  d.keep = [](const WhatIfRun& w) -> std::string {
    if (w.changed.energy_cost_usd < w.baseline.energy_cost_usd - 1e-6) return "";
    return fmt::format(
        "Not proposed: the twin's what-if costs {:.2f} USD against {:.2f} USD without the cap: "
        "no flexible job runs in an hour priced above the limit, or no hour is.",
        w.changed.energy_cost_usd, w.baseline.energy_cost_usd);
  };
  d.told = [](const WhatIfRun& w) -> std::string {
    return fmt::format(" The what-if saves {:.2f} USD of energy over its run{}",
                       w.baseline.energy_cost_usd - w.changed.energy_cost_usd,
                       LessUsefulGpuH(w) > 1e-9
                           ? fmt::format(" for {:.1f} GPU-h less useful work.", LessUsefulGpuH(w))
                           : ", with no less useful work.");
  };
  d.plan = Plan("power_cap", FacilityTarget(f, s), cap_w, "W",
                fmt::format("only while the grid price is above {} USD/MWh, and only the "
                            "flexible jobs' GPUs: capped at {:.0f} W (the queue's gate)",
                            price, cap_w));
  d.change = {Set("scheduler.flexibility.price_above", fmt::format("{} USD/MWh", price)),
              Set("scheduler.flexibility.cap_gpu_power", fmt::format("{:g} W", cap_w))};
  return d;
}

Draft AdviceOnly(const Finding& f, const char* rule, const std::string& advice) {
  Draft d;
  d.rule = rule;
  d.advice = advice.empty() ? f.detail : advice;
  return d;
}

std::vector<Draft> Draw(const Finding& f, Expert e, const SiteFacts& s,
                        const std::function<const WhatIfFigures&()>& baseline) {
  if (e == Expert::kDataQuality) {
    return {AdviceOnly(f, "data_quality.distrust",
                       fmt::format("{}'s readings are not to be trusted ({}): recalibrate or "
                                   "replace the meter; no plan acts on them meanwhile.",
                                   f.target, f.cause.empty() ? f.detail : f.cause))};
  }
  if (f.cause == "fouled_cdu") return {FouledCdu(f, s)};
  if (f.cause == "chiller_stuck") return {StuckChiller(f, s)};
  if (f.kind == "forecast_peak" && f.cause == "price_peak") return {CapAtPricePeak(f, s)};
  if (f.kind == "forecast_peak") {
    std::vector<Draft> drafts;
    std::string note;  // why the flexible jobs are not held, told before the cap
    if (f.cause == "peak_over_grid_limit" && f.residual > 0 && s.grid_limit_w > 0 && s.scheduler &&
        s.flexible_jobs > 0) {
      const WhatIfFigures& b = baseline();
      const double margin = HoldMarginPercent(s, b);
      // All the flexible jobs' draw at the meter: what holding every one of them could remove.
      const double flexible_w = s.flexible_gpus * s.gpu_power_cap_w * MeterPerItWatt(b);
      if (f.residual > flexible_w) {
        note = fmt::format(
            "Holding the flexible jobs cannot answer this: they draw at most {:.1f} kW at the "
            "meter against {:.1f} kW over the limit. ",
            flexible_w / 1e3, f.residual / 1e3);
      } else if (s.flexibility_defers && 100 * s.flexibility_grid_margin >= margin - 1e-9) {
        note = fmt::format(
            "Flexible jobs are already held while grid import is within {:g} % of the limit "
            "(scheduler.flexibility.grid_margin): the peak comes from other load. ",
            100 * s.flexibility_grid_margin);
      } else {
        drafts.push_back(HoldFlexibleJobs(f, s, margin));
      }
    }
    drafts.push_back(PeakOverLimit(f, s, baseline()));
    drafts.back().advice = note + drafts.back().advice;
    return drafts;
  }
  if (f.kind == "forecast_ramp") return {StaggerRestarts(f, s)};
  if (f.cause == "degraded_nic") return {DrainNode(f, s, "fabric.degraded_nic", "a degraded NIC")};
  if (f.cause == "slow_gpu") return {DrainNode(f, s, "workload.slow_gpu", "a slow GPU")};
  return {AdviceOnly(f, "inspect",
                     fmt::format("{} ({}): no rule proposes a change; inspect {}.", f.detail,
                                 f.cause.empty() ? "cause unknown" : f.cause, f.target))};
}

bool Match(const char* pattern, const std::string& value) {
  return std::string_view(pattern) == "*" || value == pattern;
}

}  // namespace

std::string ExpertName(Expert e) {
  switch (e) {
    case Expert::kCooling:
      return "cooling";
    case Expert::kPower:
      return "power";
    case Expert::kFabric:
      return "fabric";
    case Expert::kWorkload:
      return "workload";
    case Expert::kDataQuality:
      return "data_quality";
  }
  return "?";
}

std::vector<ConstraintCheck> ConstraintChecks(const WhatIfRun& w) {
  const WhatIfFigures& b = w.baseline;
  const WhatIfFigures& c = w.changed;
  std::vector<ConstraintCheck> checks;
  auto add = [&](const char* name, double before, double after, const char* unit) {
    checks.push_back({name, before, after, unit, after <= before + 1e-9});
  };
  add("server inlet outside ASHRAE A1 allowable (15-32 C)", b.inlet_outside_allowable_h,
      c.inlet_outside_allowable_h, "h");
  add("heat the cooling plant could not remove", b.unmet_cooling_h, c.unmet_cooling_h, "h");
  add("CDUs above their rated capacity", b.cdu_over_capacity_h, c.cdu_over_capacity_h, "h");
  add("grid import above site.grid_import_limit", b.grid_limit_exceeded_h, c.grid_limit_exceeded_h,
      "h");
  add("GPUs throttled by temperature", b.throttled_gpu_h, c.throttled_gpu_h, "GPU-h");
  // Where the site serves requests: the share meeting their SLO must not fall (a cap that slows
  // the replicas' steps lengthens TTFT and TPOT). Of every request that arrived, so that requests
  // left unfinished count as missed.
  if (b.service_requests > 0 && c.service_requests > 0) {
    const double before = 100 * b.slo_met / b.service_requests;
    const double after = 100 * c.slo_met / c.service_requests;
    checks.push_back({"requests meeting their SLO (services[].slo: TTFT and TPOT)", before, after,
                      "%", after >= before - 1e-9});
  }
  // Where jobs have deadlines: no more of them may be missed (a held or capped job ends later).
  if (b.jobs_with_deadline > 0) {
    add("jobs missing their deadline (workloads[].deadline)", b.deadlines_missed,
        c.deadlines_missed, "jobs");
  }
  return checks;
}

const std::vector<Route>& RoutingTable() {
  static const std::vector<Route> table = {
      {"data_quality", "*", "*", Expert::kDataQuality},
      {"anomaly", "pdu_drift", "*", Expert::kDataQuality},
      {"anomaly", "fouled_cdu", "*", Expert::kCooling},
      {"anomaly", "chiller_stuck", "*", Expert::kCooling},
      {"anomaly", "degraded_nic", "*", Expert::kFabric},
      {"anomaly", "slow_gpu", "*", Expert::kWorkload},
      {"forecast_peak", "*", "*", Expert::kPower},
      {"forecast_ramp", "*", "*", Expert::kPower},
      {"*", "*", "cdu", Expert::kCooling},
      {"*", "*", "chiller", Expert::kCooling},
      {"*", "*", "tower", Expert::kCooling},
      {"*", "*", "pdu", Expert::kPower},
      {"*", "*", "ups", Expert::kPower},
      {"*", "*", "transformer", Expert::kPower},
      {"*", "*", "meter", Expert::kPower},
      {"*", "*", "facility", Expert::kPower},
      {"*", "*", "gpu", Expert::kWorkload},
      {"*", "*", "node", Expert::kWorkload},
      {"*", "*", "rack", Expert::kWorkload},
      // Whatever no one else reads: someone must still look at it.
      {"*", "*", "*", Expert::kDataQuality},
  };
  return table;
}

const Route& RouteOf(const Finding& f) {
  const std::string entity = EntityOf(f.target);
  for (const Route& r : RoutingTable()) {
    if (Match(r.kind, f.kind) && Match(r.cause, f.cause) && Match(r.entity, entity)) return r;
  }
  return RoutingTable().back();
}

SiteFacts FactsOf(const site::SiteConfig& config) {
  SiteFacts s;
  s.site = config.name;
  s.liquid_supply_c = units::ToCelsius(config.facility.cooling.liquid_supply);
  s.gpu_tdp_w = config.cluster.gpu.tdp.base();
  const double cap = config.cluster.gpu_power_cap.base();
  s.gpu_power_cap_w = cap > 0 && cap < s.gpu_tdp_w ? cap : s.gpu_tdp_w;
  s.node_base_w = site::NodeFixedWatts(config);
  s.gpus = config.cluster.gpu_count();
  s.nodes = config.cluster.nodes;
  s.grid_limit_w = config.facility.grid_import_limit.base();
  s.grid_ramp_limit_w = config.facility.grid_ramp_limit.base();
  s.hourly_tariff = config.tariff.Hourly();
  if (config.life) {
    s.scheduler = true;
    s.restart_stagger_s = config.life->options.restart_stagger.seconds();
    if (const auto& flex = config.life->flexibility) {
      s.flexibility_grid_margin = flex->grid_margin.value_or(0);
      s.flexibility_defers = flex->defer;
      s.flexibility_max_delay_s = flex->max_delay.seconds();
      if (flex->price_above) {
        s.flexibility_price_above_usd_per_mwh =
            units::ToUsdPerKilowattHour(*flex->price_above) * 1e3;
      }
      if (flex->cap_gpu_power) s.flexibility_cap_w = flex->cap_gpu_power->base();
      for (const auto& [on, name] : {std::pair{flex->price_above.has_value(), "price"},
                                     std::pair{flex->carbon_above.has_value(), "carbon"},
                                     std::pair{flex->stage_margin.has_value(), "stage load"}}) {
        if (!on) continue;
        if (!s.flexibility_other_signals.empty()) s.flexibility_other_signals += ", ";
        s.flexibility_other_signals += name;
      }
    }
    for (const scheduler::JobSpec& j : config.life->jobs) {
      if (!j.flexible) continue;
      ++s.flexible_jobs;
      s.flexible_gpus += j.gpus;
      s.largest_flexible_gpus = std::max(s.largest_flexible_gpus, j.gpus);
    }
  }
  return s;
}

namespace {

// One draft weighed: its what-if run, its effect filled in, its constraints checked; the plan
// kept when they hold.
Recommendation Weigh(const Draft& d, Recommendation r, const ExpertOptions& o,
                     const std::function<const WhatIfFigures&()>& base) {
  r.rule = d.rule;
  r.advice = d.advice;
  r.change = d.change;
  if (!d.plan) return r;
  PlanRequest plan = *d.plan;
  plan.expires_ms = o.now_ms + o.plan_lifetime_ms;
  plan.effect = Amount{0, "kW"};
  if (!o.run_what_if) {
    r.unchecked = "what-ifs were not asked for";
  } else if (d.change.empty()) {
    r.unchecked = "the twin has no change that models this plan";
  } else {
    try {
      std::vector<scenario::Override> changes = o.base;
      changes.insert(changes.end(), d.change.begin(), d.change.end());
      r.what_if = RunWhatIf(o.scenario_path, changes, &base());
    } catch (const InputError& e) {
      r.unchecked = std::string("the twin cannot run this change: ") + e.what();
    }
  }
  if (r.what_if && std::abs(r.what_if->facility_power_change_w()) < 1e-6) {
    // No change at all is the model saying it cannot see this change here, not a free action:
    // the chiller curves (thermal/chiller.h) are clamped to their fitted leaving-water range, so
    // a setpoint change among warm-water temperatures moves no chiller power in the twin.
    r.unchecked = d.plan->plan_class == "setpoint"
                      ? "the twin's what-if shows no change of facility power at all (for a "
                        "setpoint among warm-water temperatures: outside the chiller curves' "
                        "fitted range, where the twin holds them constant)"
                      : "the twin's what-if shows no change of facility power at all";
  }
  if (r.what_if) {
    if (r.unchecked.empty()) {
      const double kw = r.what_if->facility_power_change_w() / 1e3;
      plan.effect = Amount{kw, "kW"};
      plan.effect_uncertainty = o.effect_relative_uncertainty * std::abs(kw);
    }
    r.checks = ConstraintChecks(*r.what_if);
    for (const ConstraintCheck& c : r.checks) {
      if (c.ok) continue;
      r.advice +=
          fmt::format(" Plan withdrawn: the what-if makes '{}' worse ({:.2f} -> {:.2f} {}).",
                      c.name, c.baseline, c.changed, c.unit);
      return r;
    }
  }
  plan.reason +=
      r.unchecked.empty()
          ? fmt::format(" [rule {}; twin what-if: {:+.1f} kW facility]", r.rule, plan.effect.value)
          : fmt::format(" [rule {}; effect unchecked: {}]", r.rule,
                        // The stored reason keeps one line: a loader's error adds a hint line.
                        r.unchecked.substr(0, r.unchecked.find('\n')));
  r.plan = plan;
  return r;
}

// Why a draft's plan is not proposed ("" when it is): withdrawn on a constraint (the advice says
// which), or its what-if does not show what Draft::keep asks.
std::string NotKept(const Draft& d, const Recommendation& c) {
  if (!c.plan) return d.plan ? "Not proposed." : "";
  if (!d.keep) return "";
  if (!c.what_if) return "Not proposed: without the twin's what-if nothing shows that it works.";
  return d.keep(*c.what_if);
}

}  // namespace

Recommendation Advise(const Finding& f, const SiteFacts& facts, const ExpertOptions& o) {
  Recommendation r;
  r.finding = f;
  r.expert = RouteOf(f).expert;
  std::optional<WhatIfFigures> baseline = o.baseline;
  std::function<const WhatIfFigures&()> base = [&]() -> const WhatIfFigures& {
    if (!baseline) baseline = SimulateFigures(o.scenario_path, o.base);
    return *baseline;
  };
  const std::vector<Draft> drafts = Draw(f, r.expert, facts, base);
  std::string passed;  // the advice of the drafts passed over, and why
  for (size_t i = 0; i < drafts.size(); ++i) {
    Recommendation c = Weigh(drafts[i], r, o, base);
    const bool last = i + 1 == drafts.size();
    const std::string why = NotKept(drafts[i], c);
    if (!why.empty() && !last) {
      passed += c.advice + (c.plan ? " " + why : "") + " ";
      continue;
    }
    if (!why.empty() && c.plan) {
      c.plan.reset();
      c.advice += " " + why;
    }
    if (c.plan && c.what_if) {
      c.advice += drafts[i].told ? drafts[i].told(*c.what_if) : LessWork(*c.what_if);
    }
    c.advice = passed + c.advice;
    return c;
  }
  return r;  // unreachable: Draw gives at least one draft
}

}  // namespace firstwall::ops
