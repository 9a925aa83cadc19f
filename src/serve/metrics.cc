#include "serve/metrics.h"

#include <cmath>
#include <map>
#include <optional>

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

namespace {

// The newest finite number of a JSON array (nulls where a bucket had none); nullopt when none.
std::optional<double> Newest(const nlohmann::json& values) {
  if (!values.is_array()) return std::nullopt;
  for (size_t i = values.size(); i-- > 0;) {
    if (values[i].is_number() && std::isfinite(values[i].get<double>()))
      return values[i].get<double>();
  }
  return std::nullopt;
}

}  // namespace

std::string TwinMetricsText(const nlohmann::json& twin) {
  std::string out;
  auto family = [&](const char* name, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  };
  const nlohmann::json empty = nlohmann::json::array();
  const nlohmann::json& signals = twin.contains("signals") ? twin["signals"] : empty;
  const nlohmann::json& loads = twin.contains("loads") ? twin["loads"] : empty;
  auto per_signal = [&](const char* name, const char* help, auto value_of, bool with_unit) {
    std::string rows;
    for (const nlohmann::json& s : signals) {
      const std::optional<double> v = value_of(s);
      if (!v) continue;
      const std::string signal = LabelValue(s.value("name", ""));
      rows += with_unit ? fmt::format("{}{{signal=\"{}\",unit=\"{}\"}} {:.9g}\n", name, signal,
                                      LabelValue(s.value("unit", "")), *v)
                        : fmt::format("{}{{signal=\"{}\"}} {:.9g}\n", name, signal, *v);
    }
    if (rows.empty()) return;
    family(name, help);
    out += rows;
  };
  auto number = [](const nlohmann::json& s, const char* key) -> std::optional<double> {
    if (!s.contains(key) || !s[key].is_number()) return std::nullopt;
    return s[key].get<double>();
  };
  per_signal(
      "firstwall_twin_predicted", "The twin's newest prediction of each measured signal.",
      [](const nlohmann::json& s) { return Newest(s.value("twin", nlohmann::json())); }, true);
  per_signal(
      "firstwall_twin_measured", "The meter's newest value of each signal the twin predicts.",
      [](const nlohmann::json& s) { return Newest(s.value("measured", nlohmann::json())); }, true);
  per_signal(
      "firstwall_twin_cv_rmse_ratio",
      "CV(RMSE) of the twin against the meter over the last hour (ASHRAE Guideline 14).",
      [&](const nlohmann::json& s) { return number(s, "cv_rmse"); }, false);
  per_signal(
      "firstwall_twin_nmbe_ratio",
      "NMBE of the twin against the meter over the last hour (ASHRAE Guideline 14).",
      [&](const nlohmann::json& s) { return number(s, "nmbe"); }, false);
  std::string utilization, headroom, first;
  double worst = -1;
  for (const nlohmann::json& l : loads) {
    const std::string resource = LabelValue(l.value("resource", ""));
    const double u = l.value("utilization", 0.0);
    const double capacity = l.value("rating_w", 0.0) * l.value("units", 1);
    utilization +=
        fmt::format("firstwall_wall_utilization_ratio{{resource=\"{}\"}} {:.9g}\n", resource, u);
    headroom += fmt::format("firstwall_wall_headroom_watts{{resource=\"{}\"}} {:.9g}\n", resource,
                            capacity - l.value("peak_w", 0.0));
    if (u > worst) {
      worst = u;
      first = fmt::format("firstwall_first_wall{{resource=\"{}\"}} 1\n", resource);
    }
  }
  if (!utilization.empty()) {
    family("firstwall_wall_utilization_ratio",
           "Each rated resource's peak over the last hour over its rating times its units.");
    out += utilization;
    family("firstwall_wall_headroom_watts",
           "Each rated resource's rating times its units less its peak over the last hour.");
    out += headroom;
    family("firstwall_first_wall", "1 for the rated resource nearest its rating.");
    out += first;
  }
  return out;
}

std::string MetricsText(const live::QualityReport& q, ops::Operations& operations, size_t sessions,
                        const nlohmann::json* twin) {
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
  if (twin) out += TwinMetricsText(*twin);
  return out;
}

}  // namespace firstwall::serve
