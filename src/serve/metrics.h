// The dashboard's GET /metrics (Prometheus text exposition format 0.0.4), so that an existing
// Prometheus and Grafana scrape the twin's view of the site (docs/dashboard.md, "Metrics"):
//   firstwall_plans{state}                    gauge: plans in each state (ops::StateName)
//   firstwall_audit_entries                   gauge: entries of the audit log
//   firstwall_audit_chain_ok                  gauge: 1 when the hash chain verifies, else 0
//   firstwall_dashboard_sessions              gauge: logged-in sessions not idle past their limit
//   firstwall_quality_score{entity,id,dimension}  gauge 0..1: the quality score of each entity per
//                                             dimension, and dimension="overall", from `quality`
//                                             (the dashboard's, as /api/quality gives it)
#pragma once

#include <cstddef>
#include <string>

#include "live/quality.h"
#include "ops/ops.h"

namespace firstwall::serve {

std::string MetricsText(const live::QualityReport& quality, ops::Operations& operations,
                        size_t sessions);

// A label value as the exposition format writes it: backslash, double quote and newline escaped.
std::string LabelValue(const std::string& v);

}  // namespace firstwall::serve
