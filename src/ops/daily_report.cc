#include "ops/daily_report.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace firstwall::ops {
namespace {

using nlohmann::json;

std::string Iso(int64_t t_ms) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(static_cast<std::time_t>(t_ms / 1000)));
}

bool InDay(int64_t t, const DailyReportInput& in) { return t >= in.from_ms && t < in.to_ms; }

// "plan:12" -> 12; 0 otherwise.
int64_t PlanOf(const std::string& subject) {
  if (subject.rfind("plan:", 0) != 0) return 0;
  try {
    return std::stoll(subject.substr(5));
  } catch (const std::exception&) {
    return 0;
  }
}

// Mean of each quality dimension over the entities, and the entities by overall score, worst
// first.
struct QualitySummary {
  double mean[live::kDimensionCount] = {};
  double overall = 1;
  std::vector<const live::EntityQuality*> worst;
};
QualitySummary Summarize(const live::QualityReport& q) {
  QualitySummary s;
  if (q.entities.empty()) return s;
  double overall = 0;
  for (const live::EntityQuality& e : q.entities) {
    for (int d = 0; d < live::kDimensionCount; ++d) s.mean[d] += e.dims[d].score;
    overall += e.overall;
    s.worst.push_back(&e);
  }
  const double n = static_cast<double>(q.entities.size());
  for (double& m : s.mean) m /= n;
  s.overall = overall / n;
  std::stable_sort(s.worst.begin(), s.worst.end(),
                   [](const auto* a, const auto* b) { return a->overall < b->overall; });
  if (s.worst.size() > 5) s.worst.resize(5);
  return s;
}

}  // namespace

bool EffectCheck::within() const { return std::abs(error()) <= uncertainty + 1e-12; }

DailyReport BuildDailyReport(const DailyReportInput& in) {
  DailyReport r;
  r.from_ms = in.from_ms;
  r.to_ms = in.to_ms;
  r.chain = VerifyAudit(in.audit);
  for (const Finding& f : in.findings) {
    if (InDay(f.detected_ms, in)) r.findings.push_back(f);
  }
  std::set<int64_t> touched;
  std::map<int64_t, int64_t> verified_at;
  for (const AuditEntry& e : in.audit) {
    if (!InDay(e.t_ms, in)) continue;
    r.decisions.push_back(e);
    if (const int64_t p = PlanOf(e.subject); p != 0) {
      touched.insert(p);
      if (e.action == "plan_verified") verified_at[p] = e.t_ms;
    }
  }
  for (const Plan& p : in.plans) {
    if (!InDay(p.created_ms, in) && !touched.count(p.id)) continue;
    r.plans.push_back(p);
    if (p.realized && verified_at.count(p.id)) {
      r.effects.push_back({p.id, p.request.effect.unit, p.request.effect.value,
                           p.request.effect_uncertainty, p.realized->value});
    }
  }
  r.quality = in.quality;
  for (const live::DriftRecord& d : in.drift) {
    if (d.window_end_ms > in.from_ms && d.window_start_ms < in.to_ms) r.drift.push_back(d);
  }
  r.forecast = in.forecast;
  return r;
}

json DailyReportJson(const DailyReport& r) {
  json j = {{"schema", "firstwall.ops_daily_report/1"},
            {"from", Iso(r.from_ms)},
            {"to", Iso(r.to_ms)},
            {"findings", json::array()},
            {"plans", json::array()},
            {"decisions", json::array()},
            {"audit_chain",
             {{"ok", r.chain.ok},
              {"entries", r.chain.entries},
              {"first_bad", r.chain.first_bad},
              {"problem", r.chain.problem},
              {"head", r.chain.head}}},
            {"effects", json::array()},
            {"data_quality", nullptr},
            {"drift", json::array()},
            {"forecast", r.forecast ? *r.forecast : json(nullptr)}};
  for (const Finding& f : r.findings) {
    j["findings"].push_back({{"kind", f.kind},
                             {"target", f.target},
                             {"cause", f.cause},
                             {"detector", f.detector},
                             {"detected", Iso(f.detected_ms)},
                             {"residual", f.residual},
                             {"score_sigma", f.score_sigma},
                             {"detail", f.detail}});
  }
  for (const Plan& p : r.plans) {
    j["plans"].push_back({{"id", p.id},
                          {"class", p.request.plan_class},
                          {"target", p.request.target},
                          {"value", p.request.value.value},
                          {"value_unit", p.request.value.unit},
                          {"state", StateName(p.state)},
                          {"proposer", p.proposer},
                          {"approvers", p.approvers},
                          {"created", Iso(p.created_ms)},
                          {"reason", p.request.reason}});
  }
  for (const AuditEntry& e : r.decisions) {
    j["decisions"].push_back({{"seq", e.seq},
                              {"t", Iso(e.t_ms)},
                              {"actor", e.actor},
                              {"action", e.action},
                              {"subject", e.subject}});
  }
  for (const EffectCheck& c : r.effects) {
    j["effects"].push_back({{"plan", c.plan},
                            {"unit", c.unit},
                            {"predicted", c.predicted},
                            {"uncertainty", c.uncertainty},
                            {"realized", c.realized},
                            {"error", c.error()},
                            {"within", c.within()}});
  }
  if (r.quality) {
    const QualitySummary s = Summarize(*r.quality);
    json dims = json::object();
    for (int d = 0; d < live::kDimensionCount; ++d) dims[live::kDimensions[d]] = s.mean[d];
    json worst = json::array();
    for (const live::EntityQuality* e : s.worst) {
      json reasons = json::array();
      for (const live::Score& sc : e->dims) {
        for (const std::string& why : sc.reasons) reasons.push_back(why);
      }
      worst.push_back({{"entity", e->entity + "/" + e->entity_id},
                       {"overall", e->overall},
                       {"reasons", reasons}});
    }
    j["data_quality"] = {{"entities", r.quality->entities.size()},
                         {"overall", s.overall},
                         {"dimensions", dims},
                         {"worst", worst}};
  }
  for (const live::DriftRecord& d : r.drift) {
    j["drift"].push_back({{"signal", d.signal},
                          {"from", Iso(d.window_start_ms)},
                          {"to", Iso(d.window_end_ms)},
                          {"cv_rmse", d.cv_rmse},
                          {"nmbe", d.nmbe},
                          {"drift", d.drift},
                          {"reason", d.reason}});
  }
  return j;
}

std::string DailyReportText(const DailyReport& r) {
  std::ostringstream o;
  o << fmt::format("Operations report {} to {}\n", Iso(r.from_ms), Iso(r.to_ms));
  o << fmt::format("\nFindings: {}\n", r.findings.size());
  for (const Finding& f : r.findings) {
    o << fmt::format("  {}  {} {} on {} ({}): {}\n", Iso(f.detected_ms), f.kind,
                     f.cause.empty() ? "-" : f.cause, f.target, f.detector, f.detail);
  }
  o << fmt::format("\nPlans: {}\n", r.plans.size());
  for (const Plan& p : r.plans) {
    o << fmt::format("  {:>4}  {:<9} {:<9} {} to {:g} {}  by {}{}\n", p.id, StateName(p.state),
                     p.request.plan_class, p.request.target, p.request.value.value,
                     p.request.value.unit, p.proposer,
                     p.approvers.empty()
                         ? ""
                         : ", approved by " + fmt::format("{}", fmt::join(p.approvers, ",")));
  }
  o << fmt::format("\nDecisions: {} audit entries; chain {}\n", r.decisions.size(),
                   r.chain.ok
                       ? fmt::format("verified ({} entries, head {})", r.chain.entries,
                                     r.chain.head.substr(0, 16))
                       : fmt::format("BROKEN at entry {}: {}", r.chain.first_bad, r.chain.problem));
  for (const AuditEntry& e : r.decisions) {
    o << fmt::format("  {:>5}  {}  {:<14} {:<16} {}\n", e.seq, Iso(e.t_ms), e.actor, e.action,
                     e.subject);
  }
  o << fmt::format("\nPredicted against realized: {} verified\n", r.effects.size());
  int within = 0;
  for (const EffectCheck& c : r.effects) {
    within += c.within() ? 1 : 0;
    o << fmt::format(
        "  plan {}: predicted {:+.3f} +- {:.3f} {}, realized {:+.3f}, error {:+.3f} "
        "({})\n",
        c.plan, c.predicted, c.uncertainty, c.unit, c.realized, c.error(),
        c.within() ? "within" : "outside");
  }
  if (!r.effects.empty()) {
    o << fmt::format("  {} of {} within the predicted interval\n", within, r.effects.size());
  }
  o << "\nData quality: ";
  if (!r.quality) {
    o << "no quality windows in the store for this day\n";
  } else {
    const QualitySummary s = Summarize(*r.quality);
    o << fmt::format("{} entities, overall {:.3f}\n", r.quality->entities.size(), s.overall);
    for (int d = 0; d < live::kDimensionCount; ++d) {
      o << fmt::format("  {:<13} {:.3f}\n", live::kDimensions[d], s.mean[d]);
    }
    for (const live::EntityQuality* e : s.worst) {
      if (e->overall >= 1) break;
      o << fmt::format("  worst: {}/{} {:.3f}\n", e->entity, e->entity_id, e->overall);
    }
  }
  o << fmt::format("\nTwin drift: {} rows", r.drift.size());
  int drifted = 0;
  for (const live::DriftRecord& d : r.drift) drifted += d.drift ? 1 : 0;
  o << fmt::format(", {} past their thresholds\n", drifted);
  for (const live::DriftRecord& d : r.drift) {
    if (d.drift) o << fmt::format("  {}: {}\n", d.signal, d.reason);
  }
  o << "\nForecast for tomorrow: "
    << (r.forecast ? "given (see the JSON's \"forecast\")" : "none given") << "\n";
  return o.str();
}

}  // namespace firstwall::ops
