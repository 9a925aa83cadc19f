// What a live store holds, as JSON, for the twin's readers: MCP's tools (mcp_tools.h) and the
// dashboard's API (serve/dashboard.h) answer with the same objects, documented in
// docs/operations.md ("MCP") and docs/openapi.yaml.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "live/quality.h"
#include "live/store.h"
#include "ops/ops.h"

namespace firstwall::ops {

// "18 C", "-12 kW": the value as %g, a space, the unit.
std::string AmountText(const Amount& a);

// A plan: id, state, class, target, value, reason, predicted_effect, uncertainty (texts with
// units), proposer, created_ms, expires_ms (ms since the Unix epoch), approvers, realized_effect
// (null before verify).
nlohmann::json PlanSummary(const Plan& p);

// {overall, DIMENSION: {score, reasons}} for the five quality dimensions (live/quality.h).
nlohmann::json ScoresJson(const live::Score (&dims)[live::kDimensionCount], double overall);

// The store's quality scores (live::AssessQuality over the whole store): streams and entities,
// filtered to `args`' entity and id when given, with a note on how to read them.
nlohmann::json DataQuality(live::Store& store, const nlohmann::json& args);
// The same answer for a report already computed (as from stored windows, live::MergeWindows);
// `with_streams` false leaves the streams out (an empty list).
nlohmann::json QualityJson(const live::QualityReport& r, const nlohmann::json& args,
                           bool with_streams);

// The samples of the series of `args`' entity (required), id and quantity (optional), within
// from_ms..to_ms or the last last_s seconds of each series, at most max_points (default 1000,
// the newest kept) each: {series: [{series_id, entity, id, quantity, unit, source, metric,
// samples_in_window, truncated, samples: [[t_ms, value], ...]}], note}.
nlohmann::json ReadTelemetry(live::Store& store, const nlohmann::json& args);

}  // namespace firstwall::ops
