#include "ops/attest.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace firstwall::ops {
namespace {

// The plan id of "plan:ID"; 0 when not one.
int64_t PlanOf(const std::string& subject) {
  if (!subject.starts_with("plan:")) return 0;
  try {
    size_t used = 0;
    const int64_t id = std::stoll(subject.substr(5), &used);
    return used + 5 == subject.size() && id > 0 ? id : 0;
  } catch (const std::exception&) {  // NOLINT: not a plan subject
    return 0;
  }
}

// The request of a plan_proposed entry's detail (ops.cc writes it).
PlanRequest Proposal(const nlohmann::json& d) {
  PlanRequest r;
  r.plan_class = d.at("class").get<std::string>();
  r.target = d.at("target").get<std::string>();
  r.value = {d.at("value").get<double>(), d.at("unit").get<std::string>()};
  r.reason = d.at("reason").get<std::string>();
  r.effect = {d.at("effect").get<double>(), d.at("effect_unit").get<std::string>()};
  r.effect_uncertainty = d.at("uncertainty").get<double>();
  r.expires_ms = d.at("expires_ms").get<int64_t>();
  return r;
}

}  // namespace

std::string FoldName(const std::string& name) {
  std::string out = name;
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

const AttestedUser* Attested::FindUser(const std::string& name) const {
  const auto it = users.find(FoldName(name));
  return it == users.end() ? nullptr : &it->second;
}

Attested Attest(const std::vector<AuditEntry>& log) {
  Attested a;
  a.verdict = VerifyAudit(log);
  auto role_of = [&](const std::string& name) {
    const AttestedUser* u = a.FindUser(name);
    return u ? std::optional<Role>(u->role) : std::nullopt;
  };
  for (const AuditEntry& e : log) {
    if (!a.verdict.ok && e.seq >= a.verdict.first_bad) break;
    const nlohmann::json d = nlohmann::json::parse(e.detail, nullptr, false);
    if (!d.is_object()) continue;
    try {
      if (e.action == "user_created" && e.subject.starts_with("user:")) {
        const std::string name = e.subject.substr(5);
        const bool first = a.users.empty() && d.value("first_user", false) && e.actor == name;
        const std::optional<Role> by = role_of(e.actor);
        if ((!first && (!by || *by != Role::kAdmin)) || a.FindUser(name)) continue;
        a.users[FoldName(name)] = {name, ParseRole(d.at("role").get<std::string>(), "audit"),
                                   d.at("password_sha256").get<std::string>()};
        continue;
      }
      const int64_t id = PlanOf(e.subject);
      if (id == 0) continue;
      const std::optional<Role> by = role_of(e.actor);
      if (e.action == "plan_proposed") {
        if (a.plans.count(id) || !by || *by < Role::kOperator) continue;
        AttestedPlan p;
        p.request = Proposal(d);
        p.proposer = e.actor;
        a.plans[id] = std::move(p);
        continue;
      }
      const auto it = a.plans.find(id);
      if (it == a.plans.end()) continue;
      AttestedPlan& p = it->second;
      if (e.action == "plan_approved") {
        const bool again =
            std::any_of(p.approvers.begin(), p.approvers.end(),
                        [&](const std::string& n) { return FoldName(n) == FoldName(e.actor); });
        if (p.state != PlanState::kProposed || !by || *by < Role::kApprover || again ||
            FoldName(e.actor) == FoldName(p.proposer)) {
          continue;
        }
        p.approvers.push_back(e.actor);
        const PlanClass* c = FindPlanClass(p.request.plan_class);
        if (p.approvers.size() >= (c && c->risky ? 2u : 1u)) p.state = PlanState::kApproved;
      } else if (e.action == "plan_rejected" && by && *by >= Role::kApprover &&
                 LegalTransition(p.state, PlanState::kRejected)) {
        p.state = PlanState::kRejected;
      } else if (e.action == "plan_expired" && e.t_ms >= p.request.expires_ms &&
                 LegalTransition(p.state, PlanState::kExpired)) {
        p.state = PlanState::kExpired;
      } else if (e.action == "plan_applied" && by && *by >= Role::kOperator &&
                 p.state == PlanState::kApproved) {
        p.state = PlanState::kApplied;
        p.applied_ms = e.t_ms;
      } else if (e.action == "plan_verified" && by && *by >= Role::kOperator &&
                 p.state == PlanState::kApplied) {
        p.state = PlanState::kVerified;
      }
    } catch (const std::exception&) {  // NOLINT: a detail without its keys attests nothing
    }
  }
  return a;
}

}  // namespace firstwall::ops
