// The daily operations report (issue #14, docs/operations.md "Daily report"): for one day of a
// site, the findings, the plans and every decision on them, predicted against realized effects,
// the forecast for the next day, and the data quality, as text and JSON. Built from what the
// store holds (plans, the audit log, quality windows, drift) and what the caller adds (findings,
// a forecast), so every figure in it can be traced to a row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "live/quality.h"
#include "live/store.h"
#include "ops/audit.h"
#include "ops/finding.h"
#include "ops/ops.h"

namespace firstwall::ops {

struct DailyReportInput {
  int64_t from_ms = 0, to_ms = 0;  // the day: [from, to)
  std::vector<Plan> plans;         // every plan of the store
  std::vector<AuditEntry> audit;   // the whole chain (verified here)
  std::vector<Finding> findings;   // raised during the day (others are dropped)
  // The day's quality windows merged (live::MergeWindows); nullopt when the store has none.
  std::optional<live::QualityReport> quality;
  std::vector<live::DriftRecord> drift;  // twin runs' drift rows; those of the day are kept
  // The next day's forecast as `firstwall forecast --json` writes it, when given.
  std::optional<nlohmann::json> forecast;
};

// One plan against its prediction: realized minus predicted, and whether that is within the
// predicted uncertainty.
struct EffectCheck {
  int64_t plan = 0;
  std::string unit;
  double predicted = 0, uncertainty = 0, realized = 0;
  double error() const { return realized - predicted; }
  bool within() const;
};

struct DailyReport {
  int64_t from_ms = 0, to_ms = 0;
  std::vector<Finding> findings;
  // Plans created, or acted on, during the day, oldest first.
  std::vector<Plan> plans;
  // The day's audit entries (decisions, refusals, failed logins).
  std::vector<AuditEntry> decisions;
  AuditVerdict chain;
  std::vector<EffectCheck> effects;  // of plans verified during the day
  std::optional<live::QualityReport> quality;
  std::vector<live::DriftRecord> drift;
  std::optional<nlohmann::json> forecast;
};

DailyReport BuildDailyReport(const DailyReportInput& in);
nlohmann::json DailyReportJson(const DailyReport& r);
std::string DailyReportText(const DailyReport& r);

}  // namespace firstwall::ops
