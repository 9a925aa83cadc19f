// Findings and recommendations as JSON: what `firstwall anomalies --json` and forecasts write and
// `firstwall ops advise --findings FILE` reads (docs/operations.md, "Experts"), and what advise
// prints with --json.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ops/experts.h"
#include "ops/finding.h"

namespace firstwall::ops {

nlohmann::json FindingJson(const Finding& f);
// A JSON array of findings, or an object whose "findings" is one. InputError at file:line:col
// (`file` names the text) for malformed JSON, an unknown or mistyped key, a missing kind or
// target, or a target that is not ENTITY/ID of the live vocabulary.
std::vector<Finding> ParseFindings(const std::string& text, const std::string& file);

nlohmann::json RecommendationJson(const Recommendation& r);

}  // namespace firstwall::ops
