#include "ops/mcp_tools.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "core/error.h"
#include "live/quality.h"
#include "live/vocabulary.h"
#include "ops/anomaly.h"
#include "ops/finding_json.h"
#include "ops/store_queries.h"

namespace firstwall::ops {

using nlohmann::json;

namespace {

json Choices(std::span<const std::string_view> words) {
  json out = json::array();
  for (std::string_view w : words) out.push_back(std::string(w));
  return out;
}

json QuantityNames() {
  json out = json::array();
  for (const live::QuantityKind& q : live::kQuantities) out.push_back(std::string(q.name));
  return out;
}

json DescribeSchema() {
  return {{"type", "object"}, {"properties", json::object()}, {"additionalProperties", false}};
}

json WhatIfSchema() {
  return json::parse(R"J({
    "type": "object",
    "properties": {
      "overrides": {
        "type": "object",
        "description": "Scenario keys to change (paths as in `firstwall schema --markdown`; list items by index or name) and their new values as written in a scenario, with units: {\"facility.cooling.liquid_supply\": \"27 C\", \"cluster.gpu_power_cap\": \"600 W\", \"workloads[0].gpus\": \"512\"}. Empty: the scenario as written.",
        "additionalProperties": {"type": "string"}
      }
    },
    "required": ["overrides"],
    "additionalProperties": false
  })J");
}

json TelemetrySchema() {
  json s = json::parse(R"J({
    "type": "object",
    "properties": {
      "entity": {"type": "string", "description": "Entity kind of the live vocabulary (docs/live.md)"},
      "id": {"type": "string", "description": "Entity id (\"cdu-1\", \"node0/gpu3\"); all of the kind when left out"},
      "quantity": {"type": "string", "description": "Quantity; all when left out. Values are in its base unit (power W, energy J, temperature C, utilization %, pue ratio), named in each series' unit"},
      "from_ms": {"type": "integer", "minimum": 0, "maximum": 1e15, "description": "Window start, ms since the Unix epoch (inclusive)"},
      "to_ms": {"type": "integer", "minimum": 0, "maximum": 1e15, "description": "Window end, ms since the Unix epoch (inclusive)"},
      "last_s": {"type": "number", "minimum": 0, "maximum": 1e9, "description": "Window of the last last_s seconds before each series' newest sample (instead of from_ms)"},
      "max_points": {"type": "integer", "minimum": 1, "maximum": 10000, "description": "Most samples per series (the newest kept); default 1000"}
    },
    "required": ["entity"],
    "additionalProperties": false
  })J");
  s["properties"]["entity"]["enum"] = Choices(live::kEntityKinds);
  s["properties"]["quantity"]["enum"] = QuantityNames();
  return s;
}

json QualitySchema() {
  json s = json::parse(R"J({
    "type": "object",
    "properties": {
      "entity": {"type": "string", "description": "Only streams and entities of this kind"},
      "id": {"type": "string", "description": "Only this entity id"}
    },
    "additionalProperties": false
  })J");
  s["properties"]["entity"]["enum"] = Choices(live::kEntityKinds);
  return s;
}

json PlansSchema() {
  return json::parse(R"J({
    "type": "object",
    "properties": {
      "state": {"type": "string", "enum": ["proposed", "approved", "rejected", "applied", "verified", "expired"],
                "description": "Only plans in this state"}
    },
    "additionalProperties": false
  })J");
}

json AnomaliesSchema() {
  return json::parse(R"J({
    "type": "object",
    "properties": {
      "since_ms": {"type": "integer", "minimum": 0, "maximum": 1e15, "description": "Only anomalies detected at or after this time, ms since the Unix epoch"},
      "calibrate_s": {"type": "number", "minimum": 60, "maximum": 604800, "description": "Seconds from the store's first step the thresholds are learned on (default 3600)"}
    },
    "additionalProperties": false
  })J");
}

json ProposeSchema() {
  return json::parse(R"J({
    "type": "object",
    "properties": {
      "class": {"type": "string", "enum": ["setpoint", "power_cap", "job_move", "drain", "stagger"],
                "description": "Plan class (docs/operations.md): setpoint and drain need two approvers"},
      "target": {"type": "string", "minLength": 3, "description": "ENTITY/ID of the live vocabulary whose telemetry shows the change: cdu/cdu-1, gpu/node0/gpu3, facility/site"},
      "value": {"type": "string", "description": "What the target is set to: a number, a space, a live vocabulary unit (\"27 C\", \"600 W\", \"0 %\")"},
      "reason": {"type": "string", "minLength": 1, "description": "Why, for the person who approves"},
      "effect": {"type": "string", "description": "Your predicted effect, signed, with a unit: on facility power (\"-12 kW\") or PUE (\"-0.01 ratio\") the twin checks it"},
      "uncertainty": {"type": "string", "description": "+- of the effect, in the effect's unit (\"3 kW\")"},
      "expires_s": {"type": "number", "minimum": 60, "maximum": 604800, "description": "Seconds from now after which the plan can no longer be approved or applied; default 3600"},
      "what_if": {"type": "object", "additionalProperties": {"type": "string"},
                  "description": "Scenario keys that model the change in the twin, when the server's own mapping (setpoint in C on a cdu -> facility.cooling.liquid_supply; power_cap in W on gpu/node/facility -> cluster.gpu_power_cap) does not fit: {\"facility.cooling.liquid_supply\": \"27 C\"}"}
    },
    "required": ["class", "target", "value", "reason", "effect", "uncertainty"],
    "additionalProperties": false
  })J");
}

std::map<std::string, std::string> StringMap(const json& object) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : object.items()) out[k] = v.get<std::string>();
  return out;
}

// A plan request from propose_plan's arguments (checked as `ops plan propose` checks its options).
PlanRequest RequestOf(const json& args, int64_t now_ms) {
  PlanRequest r;
  r.plan_class = args["class"].get<std::string>();
  r.target = args["target"].get<std::string>();
  r.value = ParseAmount(args["value"].get<std::string>(), "value");
  r.reason = args["reason"].get<std::string>();
  r.effect = ParseAmount(args["effect"].get<std::string>(), "effect");
  const Amount u = ParseAmount(args["uncertainty"].get<std::string>(), "uncertainty");
  if (u.unit != r.effect.unit) {
    throw InputError({"uncertainty", 0, 0},
                     fmt::format("in {}, the effect in {}", u.unit, r.effect.unit),
                     "give both in the same unit");
  }
  r.effect_uncertainty = u.value;
  r.expires_ms = now_ms + static_cast<int64_t>(std::llround(args.value("expires_s", 3600.0) * 1e3));
  CheckPlanRequest(r, now_ms);
  return r;
}

// The twin's check of the effect claimed for `r`: {check, what_if}.
json CheckPlan(McpTwin& twin, const PlanRequest& r, const json& args) {
  json check = {{"claimed", AmountText(r.effect)},
                {"uncertainty", AmountText({r.effect_uncertainty, r.effect.unit})},
                {"status", "unchecked"}};
  if (!twin.what_if) {
    check["why"] =
        "this server serves no scenario (firstwall mcp SCENARIO --store ...), so the twin "
        "cannot run the plan's change";
    return {{"check", check}};
  }
  const std::map<std::string, std::string> change =
      args.contains("what_if") ? StringMap(args["what_if"]) : ScenarioChangeOf(r);
  if (change.empty()) {
    check["why"] = fmt::format(
        "no scenario key models a {} plan on {} in {}; give what_if (the scenario keys and values "
        "that model it)",
        r.plan_class, r.target, r.value.unit);
    return {{"check", check}};
  }
  json run;
  try {
    run = twin.what_if->Run(change);
  } catch (const InputError& e) {
    check["why"] =
        fmt::format("the twin could not run the change: {}: {}", e.where().ToString(), e.message());
    return {{"check", check}};
  }
  check = CheckEffect(r.effect, r.effect_uncertainty, run["difference"]);
  return {{"check", check},
          {"what_if", {{"overrides", run["overrides"]}, {"difference", run["difference"]}}}};
}

json ProposePlan(McpTwin& twin, const json& args) {
  if (!twin.agent) throw InputError({"propose_plan", 0, 0}, twin.no_agent_why);
  const int64_t now = twin.now_ms();
  PlanRequest r = RequestOf(args, now);
  json answer = CheckPlan(twin, r, args);
  const json& check = answer["check"];
  // The check goes into the plan's reason, so whoever approves sees it and the audit log keeps it.
  r.reason += fmt::format(" [twin check: {}: {}]", check["status"].get<std::string>(),
                          check["why"].get<std::string>());
  const int64_t id = twin.operations->Propose(*twin.agent, r);
  answer["plan"] = PlanSummary(twin.operations->Get(id));
  answer["note"] = fmt::format(
      "proposed by {} (an agent): only a person with the approver role can approve it "
      "(firstwall ops plan approve), {} for a {} plan; agents cannot approve, reject or apply",
      twin.agent->name, FindPlanClass(r.plan_class)->risky ? "two approvers" : "one approver",
      r.plan_class);
  return answer;
}

void FoundJson(json& out, const std::vector<Finding>& findings, int64_t since, size_t residuals,
               size_t steps, double step_s, size_t calibration_steps) {
  for (const Finding& f : findings) {
    if (f.detected_ms >= since) out["anomalies"].push_back(FindingJson(f));
  }
  out["note"] = fmt::format(
      "{} residual series over {} steps of {:g} s, thresholds learned on the first {} steps "
      "(docs/operations.md, \"Anomalies\")",
      residuals, steps, step_s, calibration_steps);
}

std::string NotLookedAt(const InputError& e) {
  return std::string("the detector could not run on this store: ") + e.what() +
         "; this list is empty because nothing was looked at, not because the site is known to be "
         "healthy";
}

}  // namespace

json ListAnomalies(McpTwin& twin, const json& args) {
  json out = {{"anomalies", json::array()}};
  if (!twin.store || !twin.what_if) {
    out["note"] =
        "the detector compares the store's series with the twin: it needs both --store and a "
        "scenario; this list is empty because nothing was looked at, not because the site is "
        "known to be healthy";
    return out;
  }
  AnomalyOptions o;
  o.calibrate_s = args.value("calibrate_s", 3600.0);
  const int64_t since = args.value("since_ms", int64_t{0});
  try {
    const AnomalyReport r = DetectAnomalies(*twin.store, twin.what_if->Site(), o);
    FoundJson(out, r.findings, since, r.residuals.size(), r.steps.t_ms.size(), r.steps.step_s,
              r.calibration_steps);
  } catch (const InputError& e) {
    out["note"] = NotLookedAt(e);
  }
  return out;
}

json WatchedAnomalies(AnomalyWatch& watch, live::Store& store) {
  json out = {{"anomalies", json::array()}};
  try {
    const AnomalyWatch::Status s = watch.Update(store);
    FoundJson(out, s.findings, 0, s.residuals, s.steps, s.step_s, s.calibration_steps);
    if (!s.note.empty()) out["note"] = out["note"].get<std::string>() + "; " + s.note;
  } catch (const InputError& e) {
    // In the dashboard's words: it has no options to name, and a young store is no error.
    out["note"] = fmt::format(
        "nothing was looked at yet: {}{}; this list is empty because nothing was looked at, not "
        "because the site is known to be healthy",
        e.message(), e.hint().empty() ? "" : " (" + e.hint() + ")");
  }
  return out;
}

void AddTwinTools(McpServer& server, McpTwin& twin) {
  if (twin.what_if) {
    server.AddTool({"describe_scenario",
                    "The scenario this server simulates: its file, the values of the keys "
                    "what-ifs change most (with units), its jobs and services, and every key "
                    "run_what_if may override.",
                    DescribeSchema(), [&twin](const json&) { return twin.what_if->Describe(); }});
    server.AddTool(
        {"run_what_if",
         "Simulate the scenario with some keys changed (a cooling setpoint, a GPU power cap, "
         "more nodes) and return its key figures (energy in kWh, mean and peak IT and facility "
         "power in kW, PUE, cost in USD, carbon in kg, water in L, each job's step time in s, "
         "MFU and tokens/s, each service's output tokens/s) with the baseline (the scenario as "
         "written) and the difference (what-if minus baseline). A run takes as long as the "
         "scenario's simulation.",
         WhatIfSchema(),
         [&twin](const json& a) { return twin.what_if->Run(StringMap(a["overrides"])); }});
  }
  if (!twin.store) return;
  server.AddTool({"read_telemetry",
                  "Measured series of a live site's store by entity, id and quantity over a "
                  "window: samples [t_ms, value] in each series' base unit (W, J, C, %, ratio).",
                  TelemetrySchema(),
                  [&twin](const json& a) { return ReadTelemetry(*twin.store, a); }});
  server.AddTool({"data_quality",
                  "Data quality of the store's telemetry, 0-1 per stream and entity on "
                  "timeliness, completeness, consistency, accuracy and resolution, with the "
                  "reasons that lowered each score.",
                  QualitySchema(), [&twin](const json& a) { return DataQuality(*twin.store, a); }});
  server.AddTool({"list_plans",
                  "The store's operations plans (oldest first) with their state, predicted and "
                  "realized effects, proposer and approvers.",
                  PlansSchema(), [&twin](const json& a) {
                    json plans = json::array();
                    for (const Plan& p : twin.operations->Plans()) {
                      if (!a.contains("state") || a["state"] == StateName(p.state))
                        plans.push_back(PlanSummary(p));
                    }
                    return json{{"plans", plans}};
                  }});
  server.AddTool({"list_anomalies",
                  "Anomalies the twin's detector raised on the store's telemetry (residuals "
                  "against the twin, localized to an entity).",
                  AnomaliesSchema(), [&twin](const json& a) { return ListAnomalies(twin, a); }});
  server.AddTool({"propose_plan",
                  "Propose an operations plan as this server's agent user (an operator). The "
                  "twin checks the effect you predict: it runs the plan's change as a what-if "
                  "and returns its own effect beside yours, agree or disagree within your "
                  "uncertainty (or unchecked, and why). The plan then waits for a person to "
                  "approve it; no tool approves or applies plans.",
                  ProposeSchema(), [&twin](const json& a) { return ProposePlan(twin, a); }});
}

}  // namespace firstwall::ops
