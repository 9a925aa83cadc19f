// The twin's tools for MCP clients (LLM agents), on an McpServer (mcp.h); docs/operations.md,
// "MCP", lists them with their arguments and answers.
//  - of a scenario: describe_scenario, run_what_if (overrides of scenario keys; the key figures
//    and their difference from the scenario as written);
//  - of a live store: read_telemetry, data_quality, list_plans, list_anomalies, propose_plan.
// An agent may propose a plan, as an operator of the store's users; there is no tool to approve,
// reject, apply or verify one. Every effect an agent claims in propose_plan is checked by a
// what-if of the plan's change when a scenario is served, and the check is returned (and written
// into the plan's reason, so the audit log has it); else the answer says "unchecked" and why.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "live/store.h"
#include "ops/anomaly_watch.h"
#include "ops/mcp.h"
#include "ops/ops.h"
#include "ops/what_if.h"

namespace firstwall::ops {

struct McpTwin {
  std::unique_ptr<WhatIf> what_if;         // null: no scenario served
  std::unique_ptr<live::Store> store;      // null: no store served
  std::unique_ptr<Operations> operations;  // with the store
  // The agent's login (an operator of the store), or nullopt with the reason in `no_agent_why`.
  std::optional<User> agent;
  std::string no_agent_why;
  std::function<int64_t()> now_ms;
};

// Adds the scenario tools when twin.what_if is set, the store tools when twin.store is. `twin`
// must outlive `server`.
void AddTwinTools(McpServer& server, McpTwin& twin);

// The anomalies the detector (anomaly.h) finds in the store against the scenario's twin, as
// findings (finding_json.h), with a note saying what was looked at, or why nothing was (no
// scenario or store, too little data: an empty list is then not a clean bill of health).
nlohmann::json ListAnomalies(McpTwin& twin, const nlohmann::json& arguments);

// ListAnomalies' answer from a watch kept by a long-lived server (anomaly_watch.h: the store's
// new steps only), thresholds learned on the store's first hour as ListAnomalies' default.
nlohmann::json WatchedAnomalies(AnomalyWatch& watch, live::Store& store);

}  // namespace firstwall::ops
