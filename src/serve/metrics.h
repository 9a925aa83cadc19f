// The dashboard's GET /metrics (Prometheus text exposition format 0.0.4), so that an existing
// Prometheus and Grafana scrape the twin's view of the site (docs/dashboard.md, "Metrics"):
//   firstwall_plans{state}                    gauge: plans in each state (ops::StateName)
//   firstwall_audit_entries                   gauge: entries of the audit log
//   firstwall_audit_chain_ok                  gauge: 1 when the hash chain verifies, else 0
//   firstwall_dashboard_sessions              gauge: logged-in sessions not idle past their limit
//   firstwall_quality_score{entity,id,dimension}  gauge 0..1: the quality score of each entity per
//                                             dimension, and dimension="overall", from `quality`
//                                             (the dashboard's, as /api/quality gives it)
// With the twin (serve --scenario; `twin` is twin_view.h's TwinView of the last hour):
//   firstwall_twin_predicted{signal,unit}     gauge: the twin's newest prediction of each measured
//                                             signal (facility power, ...), in `unit`
//   firstwall_twin_measured{signal,unit}      gauge: the meter's newest value beside it
//   firstwall_twin_cv_rmse_ratio{signal}      gauge: CV(RMSE) of the twin against the meter over
//                                             the hour (ASHRAE Guideline 14), a fraction
//   firstwall_twin_nmbe_ratio{signal}         gauge: NMBE likewise, a signed fraction
//   firstwall_wall_utilization_ratio{resource}  gauge: each rated resource a meter shows (power
//                                             stages, grid import, cooling plant): its peak over
//                                             the hour over its rating times its units
//   firstwall_wall_headroom_watts{resource}   gauge: rating times units less that peak, W
//   firstwall_first_wall{resource}            gauge: 1 for the resource nearest its rating (the
//                                             first wall), one series
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "live/quality.h"
#include "ops/ops.h"

namespace firstwall::serve {

std::string MetricsText(const live::QualityReport& quality, ops::Operations& operations,
                        size_t sessions, const nlohmann::json* twin = nullptr);

// The twin's families above alone, from a TwinView (signals without a finite value, and a view
// without loads, write no rows; a family without rows is left out).
std::string TwinMetricsText(const nlohmann::json& twin);

// A label value as the exposition format writes it: backslash, double quote and newline escaped.
std::string LabelValue(const std::string& v);

}  // namespace firstwall::serve
