// firstwall ops advise --findings FILE --scenario SCENARIO [--json] [--no-what-if]
//                      [--lifetime DURATION] [--effect-uncertainty FRACTION]
//                      [--propose --store STORE --user NAME]
// Each finding routed to its expert (docs/operations.md, "Experts"), with the expert's advice, the
// plan it would propose and the twin's what-if of that plan; with --propose, each plan is proposed
// by NAME (an operator) for people to approve, audited as any proposal.
#include "apps/firstwall/ops_commands.h"

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "apps/firstwall/duration_option.h"
#include "core/text_input.h"
#include "live/store.h"
#include "ops/finding_json.h"
#include "ops/sql.h"
#include "scenario/loader.h"

namespace firstwall::cli {
namespace {

struct AdviseArgs {
  std::string findings, scenario, lifetime = "2 h", store, user;
  double relative_uncertainty = 0.15;
  bool json = false, no_what_if = false, propose = false;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void PrintText(const ops::Recommendation& r) {
  std::cout << fmt::format("{} {} on {}: expert {}, rule {}\n  {}\n", r.finding.kind,
                           r.finding.cause.empty() ? "(no cause)" : r.finding.cause,
                           r.finding.target, ops::ExpertName(r.expert), r.rule, r.advice);
  if (r.plan) {
    const ops::PlanRequest& p = *r.plan;
    std::cout << fmt::format("  plan: {} {} to {:g} {}; effect {:+.3f} {} +- {:.3f} {}\n",
                             p.plan_class, p.target, p.value.value, p.value.unit, p.effect.value,
                             p.effect.unit, p.effect_uncertainty, p.effect.unit);
  }
  if (!r.unchecked.empty()) std::cout << "  what-if: none, " << r.unchecked << "\n";
  for (const ops::ConstraintCheck& c : r.checks) {
    std::cout << fmt::format("  {} {}: {:.3f} -> {:.3f} {}\n", c.ok ? "ok  " : "WORSE", c.name,
                             c.baseline, c.changed, c.unit);
  }
}

int Advise(const AdviseArgs& a) {
  if (!(a.relative_uncertainty >= 0 && a.relative_uncertainty <= 10)) {
    throw InputError({"--effect-uncertainty", 0, 0},
                     fmt::format("{} is not a relative uncertainty", a.relative_uncertainty),
                     "a fraction from 0 to 10 (0.15: +-15 %)");
  }
  const double lifetime_s = DurationOption("--lifetime", a.lifetime);
  if (a.propose != !a.store.empty() || a.propose != !a.user.empty()) {
    throw InputError({"--propose", 0, 0}, "--propose, --store and --user go together",
                     "--propose --store STORE --user NAME (an operator), or none of them");
  }
  const std::vector<ops::Finding> findings =
      ops::ParseFindings(text::ReadFile(a.findings, "findings file"), a.findings);
  const scenario::Scenario sc = scenario::LoadScenarioFile(a.scenario, {});
  const ops::SiteFacts facts = ops::FactsOf(sc.site);
  ops::ExpertOptions o;
  o.scenario_path = a.scenario;
  o.now_ms = NowMs();
  o.plan_lifetime_ms = static_cast<int64_t>(lifetime_s * 1000);
  o.effect_relative_uncertainty = a.relative_uncertainty;
  o.run_what_if = !a.no_what_if;
  // One baseline run for every finding of the cycle.
  if (o.run_what_if) o.baseline = ops::SimulateFigures(a.scenario, {});
  // The proposer logs in before any what-if runs, so a wrong password costs nothing.
  std::optional<ops::Operations> store;
  std::optional<ops::User> by;
  if (a.propose) {
    live::OpenExistingStore(a.store);
    store.emplace(ops::OpenSqlDb(a.store), NowMs);
    by = store->Login(a.user, Secret("FIRSTWALL_PASSWORD", a.user));
  }
  // Plans still open (proposed or approved, not expired): a cycle that finds the same fault again
  // points at the plan already waiting for a decision instead of proposing it twice. The same
  // plan is the same class, target, value and reason: a rule's reason says what the plan means
  // beyond its value (a cap on every GPU at all times, or on the flexible jobs' GPUs while the
  // price is high), and the same findings give the same reasons.
  std::vector<ops::Plan> open;
  if (store) {
    for (const ops::Plan& p : store->Plans()) {
      if (p.state == ops::PlanState::kProposed || p.state == ops::PlanState::kApproved)
        open.push_back(p);
    }
  }
  auto already = [&](const ops::PlanRequest& r) -> int64_t {
    for (const ops::Plan& p : open) {
      if (p.request.plan_class == r.plan_class && p.request.target == r.target &&
          p.request.value.value == r.value.value && p.request.value.unit == r.value.unit &&
          p.request.reason == r.reason)
        return p.id;
    }
    return 0;
  };
  nlohmann::json all = nlohmann::json::array();
  for (const ops::Finding& f : findings) {
    const ops::Recommendation r = ops::Advise(f, facts, o);
    int64_t id = 0, same = 0;
    if (store && r.plan) {
      same = already(*r.plan);
      if (same == 0) {
        id = store->Propose(*by, *r.plan);
        ops::Plan proposed;  // enough of it for `already`: no second read of the store
        proposed.id = id;
        proposed.request = *r.plan;
        open.push_back(std::move(proposed));
      }
    }
    if (a.json) {
      all.push_back(ops::RecommendationJson(r));
      if (id != 0) all.back()["proposed_plan"] = id;
      if (same != 0) all.back()["open_plan"] = same;
    } else {
      PrintText(r);
      if (id != 0) std::cout << fmt::format("  proposed as plan {} by {}\n", id, by->name);
      if (same != 0) {
        std::cout << fmt::format("  not proposed again: plan {} (the same change) is still open\n",
                                 same);
      }
    }
  }
  if (a.json) std::cout << all.dump(2) << "\n";
  if (!a.json && findings.empty()) std::cout << "no findings\n";
  return kOk;
}

}  // namespace

OpsCommand AddOpsAdvise(CLI::App& ops) {
  auto a = std::make_shared<AdviseArgs>();
  CLI::App* c = ops.add_subcommand(
      "advise",
      "Route findings (firstwall anomalies --json, forecasts) to the experts and show each "
      "one's advice, plan and what-if; with --propose, propose the plans for approval");
  c->add_option("--findings", a->findings, "JSON array of findings (docs/operations.md)")
      ->required();
  c->add_option("--scenario", a->scenario, "The site's scenario, for facts and what-ifs")
      ->required();
  c->add_option("--lifetime", a->lifetime, "How long a plan may be approved and applied")
      ->capture_default_str();
  c->add_option("--effect-uncertainty", a->relative_uncertainty,
                "A plan's +- as a fraction of its what-if effect (your calibrated CV(RMSE))")
      ->capture_default_str();
  c->add_flag("--no-what-if", a->no_what_if, "Skip the what-if runs (effects unchecked)");
  c->add_flag("--json", a->json, "JSON instead of text");
  c->add_flag("--propose", a->propose,
              "Propose each plan (as --user, an operator, in --store) for people to approve");
  c->add_option("--store", a->store,
                "With --propose: the live store (SQLite file or postgresql:// URL)");
  c->add_option("--user", a->user,
                "With --propose: who proposes; the password is FIRSTWALL_PASSWORD or a line on "
                "standard input");
  return {c, [a] { return Advise(*a); }};
}

}  // namespace firstwall::cli
