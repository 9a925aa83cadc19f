// What a plan may set, checked when it is proposed (ops.h, CheckPlanRequest; docs/operations.md,
// "Plans": the table of what each class may set and why the bounds are what they are).
#include <cmath>

#include <fmt/format.h>

#include "live/vocabulary.h"
#include "ops/ops.h"

namespace firstwall::ops {

const std::vector<PlanValueRule>& PlanValueRules() {
  static const std::vector<PlanValueRule> rules = {
      // ASHRAE TC 9.9, "Liquid Cooling Guidelines for Datacom Equipment Centers" (2nd ed.),
      // classes W17 to W45: facility water supplied at up to 17 ... 45 C; below 2 C water
      // nears freezing in the pipes.
      {"setpoint", "cdu", "temperature", 2, 45, false},
      {"setpoint", "chiller", "temperature", 2, 45, false},
      {"setpoint", "facility", "temperature", 2, 45, false},
      // The catalog's largest GPU board power: GB300, 1.4 kW (catalog/gpus/gb300.yaml); a cap
      // above its TDP caps nothing.
      {"power_cap", "gpu", "power", 0, 1400, true},
      // NVIDIA DGX B200 datasheet: about 14.3 kW system power maximum; 15 kW bounds a node.
      {"power_cap", "node", "power", 0, 15000, true},
      // Every GPU of the site capped at the value (the power expert's peak rule, experts.h).
      {"power_cap", "facility", "power", 0, 1400, true},
      // The share of the node's (rack's) load kept or capacity left in service.
      {"job_move", "node", "utilization", 0, 100, false},
      // Flexible jobs' first starts held while grid import is at or above this share of the
      // grid limit (the power expert's rule power.hold_flexible, experts.h).
      {"job_move", "facility", "utilization", 0, 100, false},
      {"drain", "node", "utilization", 0, 100, false},
      {"drain", "rack", "utilization", 0, 100, false},
      // A NIC's port taken out of the fabric (the subnet manager disables it; NCCL leaves it out).
      {"drain", "nic", "utilization", 0, 100, false},
      // The gap between restarts that begin at one instant (scheduler.restart_stagger's range).
      {"stagger", "facility", "duration", 0, 3600, false},
  };
  return rules;
}

void CheckPlanRequest(const PlanRequest& r, int64_t now_ms) {
  if (!FindPlanClass(r.plan_class)) {
    throw InputError({"--class", 0, 0}, fmt::format("'{}' is not a plan class", r.plan_class),
                     "expected setpoint, power_cap, job_move, drain or stagger");
  }
  const size_t slash = r.target.find('/');
  if (slash == std::string::npos || slash + 1 == r.target.size() ||
      !live::IsEntityKind(r.target.substr(0, slash))) {
    throw InputError({"--target", 0, 0}, fmt::format("'{}' is not ENTITY/ID", r.target),
                     "for example cdu/cdu-1 or gpu/node0/gpu3; entities: " + live::EntityChoices());
  }
  // The class must be able to set this entity, in this quantity, within its bounds.
  const std::string entity = r.target.substr(0, slash);
  std::string entities;
  const PlanValueRule* rule = nullptr;
  for (const PlanValueRule& v : PlanValueRules()) {
    if (r.plan_class != v.plan_class) continue;
    entities += fmt::format("{}{}", entities.empty() ? "" : ", ", v.entity);
    if (entity == v.entity) rule = &v;
  }
  if (!rule) {
    throw InputError({"--target", 0, 0},
                     fmt::format("a {} plan cannot set a {}", r.plan_class, entity),
                     fmt::format("a {} plan sets a {}", r.plan_class, entities));
  }
  const live::UnitKind* unit = live::FindUnit(r.value.unit);
  if (!unit || unit->quantity != rule->quantity) {
    throw InputError(
        {"--value", 0, 0},
        fmt::format("'{:g} {}' is no {}: a {} plan on a {} sets its {}", r.value.value,
                    r.value.unit, rule->quantity, r.plan_class, entity, rule->quantity),
        fmt::format("give a {} with its unit", rule->quantity));
  }
  const double base = r.value.value * unit->to_base;
  const std::string base_unit(live::FindQuantity(rule->quantity)->base_unit);
  if (!std::isfinite(base) || base > rule->max || base < rule->min ||
      (rule->min_open && base <= rule->min)) {
    throw InputError(
        {"--value", 0, 0},
        fmt::format("{:g} {} is outside what a {} plan may set on a {}", r.value.value,
                    r.value.unit, r.plan_class, entity),
        fmt::format("expected {} {:g} and at most {:g} {} (docs/operations.md, \"Plans\")",
                    rule->min_open ? "more than" : "at least", rule->min, rule->max, base_unit));
  }
  if (!(r.effect_uncertainty >= 0) || !std::isfinite(r.effect_uncertainty)) {
    throw InputError({"--uncertainty", 0, 0}, "expected a finite amount of at least 0");
  }
  if (r.expires_ms <= now_ms) {
    throw InputError({"--expires", 0, 0}, "the plan would expire before it is proposed");
  }
}

}  // namespace firstwall::ops
