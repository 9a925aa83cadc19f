// Operations with a human in the loop (docs/operations.md):
//   firstwall ops user add --store STORE [--user ADMIN] --name NAME --role ROLE
//   firstwall ops user list --store STORE
//   firstwall ops plan propose --store STORE --user NAME --class CLASS --target ENTITY/ID
//                              --value AMOUNT --reason TEXT --effect AMOUNT --uncertainty AMOUNT
//                              --expires DURATION
//   firstwall ops plan approve|reject|apply|verify --store STORE --user NAME --plan ID ...
//   firstwall ops plan apply ... [--write modbus://HOST:PORT[/UNIT]]
//   firstwall ops plan verify ... [--realized AMOUNT | --window DURATION --effect-on ENTITY/ID]
//   firstwall ops plan list --store STORE [--json]
//   firstwall ops audit verify|export --store STORE
//   firstwall ops advise --findings FILE --scenario SCENARIO (ops_advise.cc)
//   firstwall ops report --store STORE [--day YYYY-MM-DD] (ops_report.cc)
// Passwords come from FIRSTWALL_PASSWORD (the acting user's) and FIRSTWALL_NEW_PASSWORD (a new
// user's), else one line each from standard input, never from the command line.
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/duration_option.h"
#include "apps/firstwall/ops_commands.h"
#include "live/store.h"
#include "ops/audit.h"
#include "ops/measure.h"
#include "ops/ops.h"
#include "ops/site_write.h"

namespace firstwall::cli {

std::string Secret(const char* env, const std::string& whose) {
  if (const char* v = std::getenv(env); v && *v) return v;
  std::string line;
  if (!std::getline(std::cin, line)) {
    throw InputError({"password", 0, 0}, fmt::format("no password for {}", whose),
                     fmt::format("set {} or write it as a line on standard input", env));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

namespace {

struct OpsArgs {
  std::string store, user, name, role, plan_class, target, value, reason, effect, uncertainty,
      expires = "1 h", max_age = "5 min", realized, head, out, plan_text, write, window = "5 min",
      effect_on, settle = "0 s";
  int64_t plan = 0;
  bool json = false;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Iso(int64_t t_ms) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(static_cast<std::time_t>(t_ms / 1000)));
}

// The store's operations; the store must exist unless `create` (its live tables are made first,
// so an operations store is a firstwall store).
ops::Operations Open(const OpsArgs& a, bool create) {
  if (create) {
    live::OpenStore(a.store);
  } else {
    live::OpenExistingStore(a.store);
  }
  return ops::Operations(ops::OpenSqlDb(a.store), NowMs);
}

ops::User Login(ops::Operations& o, const OpsArgs& a) {
  return o.Login(a.user, Secret("FIRSTWALL_PASSWORD", a.user));
}

void PrintPlan(const ops::Plan& p) {
  const ops::PlanClass* c = ops::FindPlanClass(p.request.plan_class);
  std::string approvers;
  for (const std::string& n : p.approvers) approvers += (approvers.empty() ? "" : ",") + n;
  std::cout << fmt::format(
      "{:>4}  {:<9} {:<10} {:<18} {:>10}  effect {} +- {:g} {}  by {}  approved by {} of {}  "
      "expires {}\n      why: {}\n",
      p.id, ops::StateName(p.state), p.request.plan_class, p.request.target,
      fmt::format("{:g} {}", p.request.value.value, p.request.value.unit),
      fmt::format("{:g}", p.request.effect.value), p.request.effect_uncertainty,
      p.request.effect.unit, p.proposer, approvers.empty() ? "-" : approvers, c && c->risky ? 2 : 1,
      Iso(p.request.expires_ms), p.request.reason);
}

nlohmann::ordered_json PlanJson(const ops::Plan& p) {
  nlohmann::ordered_json j;
  j["id"] = p.id;
  j["state"] = ops::StateName(p.state);
  j["class"] = p.request.plan_class;
  j["target"] = p.request.target;
  j["value"] = p.request.value.value;
  j["unit"] = p.request.value.unit;
  j["reason"] = p.request.reason;
  j["effect"] = p.request.effect.value;
  j["effect_unit"] = p.request.effect.unit;
  j["effect_uncertainty"] = p.request.effect_uncertainty;
  j["proposer"] = p.proposer;
  j["created_ms"] = p.created_ms;
  j["expires_ms"] = p.request.expires_ms;
  j["approvers"] = p.approvers;
  j["realized"] = p.realized ? nlohmann::ordered_json(p.realized->value) : nullptr;
  return j;
}

// A plan id: a whole number from 1 to 2^63 - 1, never clamped (CLI11 would clamp 2^64 silently).
int64_t PlanId(const std::string& text) {
  int64_t id = 0;
  const char* end = text.data() + text.size();
  const auto [at, ec] = std::from_chars(text.data(), end, id);
  if (text.empty() || ec != std::errc() || at != end || id < 1) {
    throw InputError({"--plan", 0, 0}, fmt::format("'{}' is not a plan id", text),
                     ec == std::errc::result_out_of_range
                         ? "it is beyond 9223372036854775807, the largest id"
                         : "expected a whole number of at least 1 (ops plan list)");
  }
  return id;
}

int Run(const std::string& command, OpsArgs& a) {
  if (!a.plan_text.empty()) a.plan = PlanId(a.plan_text);
  if (command == "user add") {
    ops::Operations o = Open(a, true);
    std::optional<ops::User> admin;
    if (!a.user.empty()) admin = Login(o, a);
    const ops::Role role = ops::ParseRole(a.role, "--role");
    o.AddUser(admin, a.name, role, Secret("FIRSTWALL_NEW_PASSWORD", "the new user " + a.name));
    std::cout << fmt::format("user {} added as {}\n", a.name, a.role);
    return kOk;
  }
  ops::Operations o = Open(a, false);
  if (command == "audit export" || command == "plan list" || command == "user list") {
    // Reads go on with a broken chain (the export is how it is examined), but never silently.
    const ops::AuditVerdict v = ops::VerifyAudit(ops::ReadAudit(o.db()));
    if (!v.ok) {
      std::cerr << fmt::format(
          "warning: the audit chain is broken at entry {}: {}; only what comes before it counts "
          "(firstwall ops audit verify)\n",
          v.first_bad, v.problem);
    }
  }
  if (command == "user list") {
    for (const ops::User& u : o.Users()) std::cout << u.name << "  " << RoleName(u.role) << "\n";
    return kOk;
  }
  if (command == "audit verify") {
    const ops::AuditVerdict v = ops::VerifyAudit(ops::ReadAudit(o.db()), a.head);
    if (!v.ok) {
      std::cout << fmt::format("audit chain broken at entry {}: {}\n", v.first_bad, v.problem);
      return 1;
    }
    std::cout << fmt::format("audit chain ok: {} entries, head {}\n", v.entries, v.head);
    return kOk;
  }
  if (command == "audit export") {
    const std::vector<ops::AuditEntry> log = ops::ReadAudit(o.db());
    if (a.out.empty()) {
      ops::ExportAuditJsonLines(log, std::cout);
      return kOk;
    }
    std::ofstream f(a.out);
    if (!f) throw InputError({a.out, 0, 0}, "cannot write the export there");
    ops::ExportAuditJsonLines(log, f);
    if (!f.flush()) throw InputError({a.out, 0, 0}, "the export was not written");
    std::cout << fmt::format("{} entries to {}\n", log.size(), a.out);
    return kOk;
  }
  if (command == "plan list") {
    const std::vector<ops::Plan> plans = o.Plans();
    if (a.json) {
      nlohmann::ordered_json all = nlohmann::ordered_json::array();
      for (const ops::Plan& p : plans) all.push_back(PlanJson(p));
      std::cout << all.dump(2) << "\n";
    } else {
      for (const ops::Plan& p : plans) PrintPlan(p);
    }
    return kOk;
  }
  // Input is checked before the password is asked for.
  ops::PlanRequest r;
  if (command == "plan propose") {
    r.plan_class = a.plan_class;
    r.target = a.target;
    r.value = ops::ParseAmount(a.value, "--value");
    r.reason = a.reason;
    r.effect = ops::ParseAmount(a.effect, "--effect");
    const ops::Amount u = ops::ParseAmount(a.uncertainty, "--uncertainty");
    if (u.unit != r.effect.unit) {
      throw InputError({"--uncertainty", 0, 0},
                       fmt::format("in {}, the effect in {}", u.unit, r.effect.unit),
                       "give both in the same unit");
    }
    r.effect_uncertainty = u.value;
    r.expires_ms = NowMs() + static_cast<int64_t>(DurationOption("--expires", a.expires) * 1000);
    ops::CheckPlanRequest(r, NowMs());
  }
  const auto max_age_ms = static_cast<int64_t>(DurationOption("--max-age", a.max_age) * 1000);
  const std::optional<ops::Amount> realized =
      command == "plan verify" && !a.realized.empty()
          ? std::optional(ops::ParseAmount(a.realized, "--realized"))
          : std::nullopt;
  const auto window_ms = static_cast<int64_t>(DurationOption("--window", a.window) * 1000);
  const auto settle_ms = static_cast<int64_t>(DurationOption("--settle", a.settle, true) * 1000);
  if (!a.effect_on.empty()) {
    if (a.effect_on.find('/') == std::string::npos) {
      throw InputError({"--effect-on", 0, 0}, fmt::format("'{}' is not ENTITY/ID", a.effect_on));
    }
  }
  // The site the apply writes to, checked before the password too.
  ops::SiteWriter writer;
  if (command == "plan apply" && !a.write.empty()) {
    writer = ops::ModbusSetpointWriter(ops::ParseModbusUrl(a.write, "--write"));
  }
  const ops::User by = Login(o, a);
  if (command == "plan propose") {
    const int64_t id = o.Propose(by, r);
    PrintPlan(o.Get(id));
  } else if (command == "plan approve") {
    o.Approve(by, a.plan);
    PrintPlan(o.Get(a.plan));
  } else if (command == "plan reject") {
    o.Reject(by, a.plan, a.reason);
    PrintPlan(o.Get(a.plan));
  } else if (command == "plan apply") {
    o.Apply(by, a.plan, ops::StoreFreshness(a.store), max_age_ms, writer);
    PrintPlan(o.Get(a.plan));
    if (writer) {
      const ops::AuditEntry last = ops::ReadAudit(o.db()).back();
      const auto w = nlohmann::json::parse(last.detail)["write"];
      std::cout << fmt::format(
          "applied: wrote {:g} C to holding register {} at {}, read back "
          "{:g} C; audit entry {}\n",
          w["value_c"].get<double>(), w["address"].get<int>(), a.write,
          w["read_back_c"].get<double>(), last.seq);
    } else {
      std::cout << "applied: recorded in the audit log, not written to the site (no --write; "
                   "docs/operations.md)\n";
    }
  } else if (command == "plan verify" && realized) {
    o.Verify(by, a.plan, *realized);
    PrintPlan(o.Get(a.plan));
  } else if (command == "plan verify") {
    // Measured from the store: the effect's quantity on --effect-on (default the target) over
    // --window before the apply against the same after it.
    const ops::Plan p = o.Get(a.plan);
    if (p.applied_ms == 0) {
      o.Verify(by, a.plan, ops::Amount{0, p.request.effect.unit});  // refused: not applied
    }
    const ops::Measurement m = ops::MeasureEffect(
        a.store, a.effect_on.empty() ? p.request.target : a.effect_on, p.request.effect.unit,
        p.applied_ms, window_ms, NowMs(), "--window", settle_ms);
    o.Verify(by, a.plan, m.realized, &m);
    PrintPlan(o.Get(a.plan));
    const double miss = m.realized.value - p.request.effect.value;
    std::cout << fmt::format(
        "realized {:+.4g} {} on {} ({} mean {:.6g} after, {:.6g} before; {:g} s windows, the "
        "after one from {:g} s after the apply, {} and {} samples) against predicted {:+g} +- {:g} "
        "{}: {}\n",
        m.realized.value, m.realized.unit, m.entity, m.quantity, m.after, m.before,
        static_cast<double>(m.window_ms) / 1000.0, static_cast<double>(m.settle_ms) / 1000.0,
        m.n_after, m.n_before, p.request.effect.value, p.request.effect_uncertainty,
        p.request.effect.unit,
        std::abs(miss) <= p.request.effect_uncertainty ? "within the predicted interval"
                                                       : "outside the predicted interval");
  }
  return kOk;
}

}  // namespace

Action RegisterOps(CLI::App& app) {
  auto a = std::make_shared<OpsArgs>();
  CLI::App* ops = app.add_subcommand(
      "ops",
      "Operations with a human in the loop: users and roles, plans proposed, approved, applied "
      "and verified, and the hash-chained audit log, in a live store (docs/operations.md)");
  ops->require_subcommand(1);
  // Each option is declared here once and added to the commands that take it.
  auto store = [&](CLI::App* c) {
    c->add_option("--store", a->store,
                  "The live store: SQLite file or postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME")
        ->required();
  };
  auto user = [&](CLI::App* c, bool required) {
    CLI::Option* o =
        c->add_option("--user", a->user,
                      "Who acts; the password is FIRSTWALL_PASSWORD or a line on standard input");
    if (required) o->required();
  };
  auto plan = [&](CLI::App* c) {
    c->add_option("--plan", a->plan_text, "The plan's id (ops plan list)")->required();
  };
  auto reason = [&](CLI::App* c, bool required) {
    CLI::Option* o = c->add_option("--reason", a->reason, "Why, for the people who decide");
    if (required) o->required();
  };
  std::vector<std::pair<CLI::App*, std::string>> commands;
  auto command = [&](CLI::App* group, const std::string& name, const std::string& help) {
    CLI::App* c = group->add_subcommand(name, help);
    store(c);
    commands.emplace_back(c, group->get_name() + " " + name);
    return c;
  };

  CLI::App* users = ops->add_subcommand("user", "Users and their roles");
  users->require_subcommand(1);
  CLI::App* add = command(users, "add",
                          "Add a user (by an admin; the store's first user is an admin added "
                          "without --user); the new password is FIRSTWALL_NEW_PASSWORD or the "
                          "next line on standard input");
  user(add, false);
  add->add_option("--name", a->name, "The new user's name")->required();
  add->add_option("--role", a->role, "viewer, operator, approver or admin")->required();
  command(users, "list", "The users and their roles");

  CLI::App* plans = ops->add_subcommand("plan", "Plans: propose, approve, reject, apply, verify");
  plans->require_subcommand(1);
  CLI::App* propose = command(plans, "propose", "Propose a plan (operator or above)");
  user(propose, true);
  propose
      ->add_option("--class", a->plan_class,
                   "setpoint, power_cap, job_move, drain or stagger (setpoint and drain need two "
                   "approvers)")
      ->required();
  propose->add_option("--target", a->target, "ENTITY/ID changed: cdu/cdu-1, gpu/node0/gpu3")
      ->required();
  propose
      ->add_option("--value", a->value,
                   "What it is set to, with a unit of the live vocabulary: \"18 C\", \"600 W\"")
      ->required();
  reason(propose, true);
  propose->add_option("--effect", a->effect, "Predicted effect: \"-12 kW\"")->required();
  propose->add_option("--uncertainty", a->uncertainty, "+- of the effect, same unit: \"3 kW\"")
      ->required();
  propose->add_option("--expires", a->expires, "How long it may be approved and applied")
      ->capture_default_str();
  // The commands on one plan, by its id.
  auto on_plan = [&](const std::string& name, const std::string& help) {
    CLI::App* c = command(plans, name, help);
    user(c, true);
    plan(c);
    return c;
  };
  on_plan("approve", "Approve a plan (approver or above, never its proposer)");
  reason(on_plan("reject", "Reject a plan (approver or above)"), false);
  CLI::App* apply = on_plan("apply",
                            "Apply an approved plan (operator or above) when its target's "
                            "telemetry is fresh; with --write, write it to the site");
  apply->add_option("--max-age", a->max_age, "How old the target's newest sample may be")
      ->capture_default_str();
  apply->add_option("--write", a->write,
                    "modbus://HOST:PORT[/UNIT]: write a setpoint plan to the coolant supply "
                    "setpoint register (holding 200, 0.1 C) there and read it back");
  CLI::App* verify = on_plan("verify",
                             "Record the realized effect of an applied plan (operator or above): "
                             "measured from the store, or given with --realized");
  CLI::Option* realized =
      verify->add_option("--realized", a->realized,
                         "The effect measured elsewhere, in the effect's unit (else it is measured "
                         "from the store)");
  // The measurement's options mean nothing with a figure given: refused rather than ignored.
  realized->excludes(
      verify
          ->add_option("--window", a->window,
                       "Measure the mean over this long before the apply and after it")
          ->capture_default_str());
  realized->excludes(
      verify
          ->add_option("--settle", a->settle,
                       "Start the window after the apply this long after it (the loops' lag)")
          ->capture_default_str());
  realized->excludes(verify->add_option(
      "--effect-on", a->effect_on,
      "ENTITY/ID whose telemetry shows the effect (default: the plan's target)"));
  command(plans, "list", "Every plan and its state")
      ->add_flag("--json", a->json, "A JSON array instead of the table");

  CLI::App* audit = ops->add_subcommand("audit", "The hash-chained audit log");
  audit->require_subcommand(1);
  command(audit, "verify",
          "Walk the chain; exit status 1 and the first entry changed, deleted or reordered when "
          "it is broken")
      ->add_option("--head", a->head, "The hash the chain must end with (kept from before)")
      // A typo must not read as tampering, nor an empty variable skip the check.
      ->check(
          [](const std::string& h) {
            return h.size() == 64 && h.find_first_not_of("0123456789abcdef") == std::string::npos
                       ? std::string()
                       : "expected the 64 lower-case hex digits of a SHA-256 (as verify prints "
                         "the head)";
          },
          "HASH");
  command(audit, "export", "Every entry as a JSON line")
      ->add_option("--out", a->out, "Write to FILE instead of standard output");

  const OpsCommand more[] = {AddOpsAdvise(*ops), AddOpsReport(*ops)};

  return [a, commands, more] {
    for (const OpsCommand& c : more) {
      if (c.command->parsed()) return c.run();
    }
    for (const auto& [c, name] : commands) {
      if (c->parsed()) return Run(name, *a);
    }
    return kBadInput;
  };
}

}  // namespace firstwall::cli
