#include "serve/metrics.h"

#include <map>

#include <fmt/format.h>

#include "live/quality.h"
#include "ops/audit.h"

namespace firstwall::serve {

std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string MetricsText(const live::QualityReport& q, ops::Operations& operations,
                        size_t sessions) {
  std::string out;
  auto family = [&](const char* name, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  };
  std::map<std::string, int> by_state;
  for (ops::PlanState s :
       {ops::PlanState::kProposed, ops::PlanState::kApproved, ops::PlanState::kRejected,
        ops::PlanState::kApplied, ops::PlanState::kVerified, ops::PlanState::kExpired}) {
    by_state[ops::StateName(s)] = 0;
  }
  for (const ops::Plan& p : operations.Plans()) ++by_state[ops::StateName(p.state)];
  family("firstwall_plans", "Plans in the store by state.");
  for (const auto& [state, n] : by_state) {
    out += fmt::format("firstwall_plans{{state=\"{}\"}} {}\n", state, n);
  }
  const std::vector<ops::AuditEntry> audit = ops::ReadAudit(operations.db());
  family("firstwall_audit_entries", "Entries of the hash-chained audit log.");
  out += fmt::format("firstwall_audit_entries {}\n", audit.size());
  family("firstwall_audit_chain_ok", "1 when the audit log's hash chain verifies, else 0.");
  out += fmt::format("firstwall_audit_chain_ok {}\n", ops::VerifyAudit(audit).ok ? 1 : 0);
  family("firstwall_dashboard_sessions", "Logged-in dashboard sessions.");
  out += fmt::format("firstwall_dashboard_sessions {}\n", sessions);
  family("firstwall_quality_score",
         "Data quality score of each entity, 0 to 1 (1 best), per dimension and overall.");
  for (const live::EntityQuality& e : q.entities) {
    const std::string labels =
        fmt::format("entity=\"{}\",id=\"{}\"", LabelValue(e.entity), LabelValue(e.entity_id));
    for (int d = 0; d < live::kDimensionCount; ++d) {
      out += fmt::format("firstwall_quality_score{{{},dimension=\"{}\"}} {:.6g}\n", labels,
                         live::kDimensions[d], e.dims[d].score);
    }
    out += fmt::format("firstwall_quality_score{{{},dimension=\"overall\"}} {:.6g}\n", labels,
                       e.overall);
  }
  return out;
}

}  // namespace firstwall::serve
