#include "ops/ops.h"

#include <sodium.h>

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "live/store.h"
#include "live/vocabulary.h"
#include "ops/attest.h"
#include "ops/audit.h"
#include "ops/measure.h"

namespace firstwall::ops {
namespace {

// The same text for SQLite and PostgreSQL: BIGINT, DOUBLE PRECISION and TEXT are types of both
// (SQLite's affinities: integer, real, text). Ids are given by the writer, inside its write
// transaction, so no identity columns differ.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS ops_users(name TEXT PRIMARY KEY, role TEXT NOT NULL,
                                     password_hash TEXT NOT NULL, created_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS ops_plans(id BIGINT PRIMARY KEY, class TEXT NOT NULL,
                                     target TEXT NOT NULL, value DOUBLE PRECISION NOT NULL,
                                     unit TEXT NOT NULL, reason TEXT NOT NULL,
                                     effect DOUBLE PRECISION NOT NULL, effect_unit TEXT NOT NULL,
                                     effect_uncertainty DOUBLE PRECISION NOT NULL,
                                     proposer TEXT NOT NULL, created_ms BIGINT NOT NULL,
                                     expires_ms BIGINT NOT NULL, state TEXT NOT NULL,
                                     applied_by TEXT, applied_ms BIGINT,
                                     realized DOUBLE PRECISION);
CREATE TABLE IF NOT EXISTS ops_approvals(plan BIGINT NOT NULL, approver TEXT NOT NULL,
                                         t_ms BIGINT NOT NULL, PRIMARY KEY(plan, approver));
CREATE TABLE IF NOT EXISTS ops_audit(seq BIGINT PRIMARY KEY, t_ms BIGINT NOT NULL,
                                     actor TEXT NOT NULL, action TEXT NOT NULL,
                                     subject TEXT NOT NULL, detail TEXT NOT NULL,
                                     prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
)sql";

constexpr const char* kRoles[] = {"viewer", "operator", "approver", "admin"};
constexpr const char* kStates[] = {"proposed", "approved", "rejected",
                                   "applied",  "verified", "expired"};

// Thrown inside an action, caught by Act: the action's transaction is rolled back, the refusal
// audited in its own, and Refused thrown.
struct Refusal {
  std::string why;
};

std::string PlanSubject(int64_t id) { return fmt::format("plan:{}", id); }

double Number(const std::optional<std::string>& s) { return s ? std::stod(*s) : std::nan(""); }

void Require(const User& by, Role least, const std::string& what) {
  if (by.role < least) {
    throw Refusal{fmt::format("{} is {}: only {} or above may {}", by.name, RoleName(by.role),
                              RoleName(least), what)};
  }
}

// An Argon2id string of a random password nobody knows, with the parameters AddUser uses: an
// unknown user's login is checked against it, so that it costs what a known user's does.
constexpr const char* kDummyHash =
    "$argon2id$v=19$m=65536,t=2,p=1$wTYU8xK8+loxQZQ2t33+ig$KgxZQqIE+b/"
    "zEX2FdGi9xiO31PzhDtgHxwLjuMr+dVk";

void EnsureSodium() { FW_CHECK(sodium_init() >= 0, "libsodium does not initialize"); }

size_t Needed(const Plan& p) {
  const PlanClass* c = FindPlanClass(p.request.plan_class);
  return c && c->risky ? 2 : 1;
}

}  // namespace

const char* DummyPasswordHash() { return kDummyHash; }

std::string RoleName(Role r) { return kRoles[static_cast<int>(r)]; }

Role ParseRole(const std::string& text, const std::string& option) {
  for (int i = 0; i < 4; ++i) {
    if (text == kRoles[i]) return static_cast<Role>(i);
  }
  throw InputError({option, 0, 0}, fmt::format("'{}' is not a role", text),
                   "expected viewer, operator, approver or admin");
}

std::string StateName(PlanState s) { return kStates[static_cast<int>(s)]; }

bool LegalTransition(PlanState from, PlanState to) {
  using S = PlanState;
  switch (from) {
    case S::kProposed:
      return to == S::kApproved || to == S::kRejected || to == S::kExpired;
    case S::kApproved:
      return to == S::kApplied || to == S::kRejected || to == S::kExpired;
    case S::kApplied:
      return to == S::kVerified;
    default:
      return false;  // rejected, verified and expired are final
  }
}

const std::vector<PlanClass>& PlanClasses() {
  static const std::vector<PlanClass> classes = {
      {"setpoint", true,
       "a cooling setpoint (supply water, inlet air): every rack's inlet depends on it"},
      {"power_cap", false, "a GPU or node power cap: bounded, and lifted by the next plan"},
      {"job_move", false, "delaying or moving a flexible job"},
      {"drain", true, "draining a node or link out of service: capacity is lost until undone"},
      {"stagger", false, "staggering restarts so their power ramps do not coincide at the meter"},
  };
  return classes;
}

const PlanClass* FindPlanClass(const std::string& name) {
  for (const PlanClass& c : PlanClasses()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

Amount ParseAmount(const std::string& text, const std::string& option) {
  const std::string hint = "expected a number, a space and a unit: 18 C, 600 W, -12 kW, 40 %";
  const size_t space = text.find(' ');
  Amount a;
  if (space == std::string::npos) {
    throw InputError({option, 0, 0}, fmt::format("'{}' has no unit", text), hint);
  }
  char* end = nullptr;
  const std::string number = text.substr(0, space);
  a.value = std::strtod(number.c_str(), &end);
  if (number.empty() || *end != '\0' || !std::isfinite(a.value)) {
    throw InputError({option, 0, 0}, fmt::format("'{}' is not a number", number), hint);
  }
  a.unit = text.substr(text.find_first_not_of(' ', space) == std::string::npos
                           ? text.size()
                           : text.find_first_not_of(' ', space));
  if (!live::FindUnit(a.unit)) {
    throw InputError({option, 0, 0}, fmt::format("'{}' is not a unit", a.unit),
                     "expected one of " + live::UnitChoices());
  }
  return a;
}

FreshnessProbe StoreFreshness(const std::string& store) {
  return [store](const Plan& p) -> std::optional<int64_t> {
    const std::string& target = p.request.target;
    const size_t slash = target.find('/');
    const live::UnitKind* unit = live::FindUnit(p.request.value.unit);
    std::unique_ptr<live::Store> s = live::OpenExistingStore(store);
    std::optional<int64_t> latest;
    for (const live::SeriesInfo& info : s->Series()) {
      if (info.key.entity != target.substr(0, slash) ||
          info.key.entity_id != target.substr(slash + 1) || !unit ||
          info.key.quantity != unit->quantity) {
        continue;
      }
      // The newest sample that says something: a NaN reading is no fresh data.
      const std::vector<live::SamplePoint> samples = s->Samples(info.id);
      for (auto it = samples.rbegin(); it != samples.rend(); ++it) {
        if (!std::isfinite(it->value)) continue;
        if (!latest || it->t_ms > *latest) latest = it->t_ms;
        break;
      }
    }
    return latest;
  };
}

Operations::Operations(std::unique_ptr<SqlDb> db, std::function<int64_t()> now_ms)
    : db_(std::move(db)), now_ms_(std::move(now_ms)) {
  db_->Script(kSchema);
}

bool IsUserName(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         name.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
             std::string::npos;
}

void Operations::AddUser(const std::optional<User>& admin, const std::string& name, Role role,
                         const std::string& password) {
  if (!IsUserName(name)) {
    throw InputError({"--name", 0, 0}, fmt::format("'{}' is not a user name", name),
                     "expected 1 to 64 letters, digits, '.', '_' or '-'");
  }
  if (password.size() < 8) {
    throw InputError({"password", 0, 0}, "a password has at least 8 characters");
  }
  EnsureSodium();
  char hash[crypto_pwhash_STRBYTES];
  // Argon2id with libsodium's interactive limits (2 passes, 64 MiB).
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  // Checked inside the write transaction: two first users cannot both be added.
  Act(
      admin ? *admin : User{name, Role::kAdmin}, 0, "user add",
      [&](Plan&, const User& who, const Attested&) {
        const bool first = db_->Query("SELECT COUNT(*) FROM ops_users")[0][0] == "0";
        if (!first && !admin) {
          throw InputError({"--user", 0, 0}, "the store has users: an admin adds the next",
                           "give --user ADMIN and the admin's password");
        }
        if (first && role != Role::kAdmin) {
          throw InputError({"--role", 0, 0}, "the store's first user must be an admin",
                           "add it with --role admin");
        }
        if (!first) Require(who, Role::kAdmin, "add users");
        // Names that differ only in case are one name: "Anna" is not a second "anna".
        for (const SqlRow& r : db_->Query("SELECT name FROM ops_users")) {
          if (FoldName(*r[0]) == FoldName(name)) {
            throw InputError({"--name", 0, 0},
                             *r[0] == name ? fmt::format("user '{}' exists", name)
                                           : fmt::format("user '{}' exists as '{}' (names are "
                                                         "compared without case)",
                                                         name, *r[0]));
          }
        }
        const int64_t now = now_ms_();
        db_->Query(
            "INSERT INTO ops_users(name, role, password_hash, created_ms) VALUES($1,$2,$3,$4)",
            {name, RoleName(role), hash, std::to_string(now)});
        // The hash's own SHA-256: a password hash replaced in ops_users is refused at login.
        const nlohmann::json detail = {
            {"role", RoleName(role)}, {"first_user", first}, {"password_sha256", Sha256Hex(hash)}};
        AppendAudit(*db_, now, admin ? admin->name : name, "user_created", "user:" + name,
                    detail.dump());
      },
      "user:" + name, /*attest_actor=*/admin.has_value());
}

std::vector<User> Operations::Users() {
  // As the audit log attests them: a row written into ops_users behind the log's back, or a role
  // changed there, is not a user or a role (as Login and every action hold).
  const Attested att = Attest(ReadAudit(*db_));
  std::vector<User> out;
  for (const SqlRow& r : db_->Query("SELECT name FROM ops_users ORDER BY name")) {
    if (const AttestedUser* u = att.FindUser(*r[0])) out.push_back({u->name, u->role});
  }
  return out;
}

User Operations::Login(const std::string& name, const std::string& password) {
  if (!IsUserName(name)) {
    // No user has such a name. It is audited as JSON text, not as the actor: a name with a NUL
    // byte was stored whole and read back cut at the NUL, and broke the chain (every log-in then
    // refused until an admin looked).
    WriteTransaction tx(*db_);
    const nlohmann::json detail = {
        {"known_user", false}, {"name", name.substr(0, 64)}, {"why", "not a user name"}};
    AppendAudit(*db_, now_ms_(), "?", "login_failed", "user:?",
                detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    tx.Commit();
    throw Refused({"--user", 0, 0},
                  "wrong user or password: that is not a user name (1 to 64 letters, digits, '.', "
                  "'_' or '-')");
  }
  EnsureSodium();
  const auto rows = db_->Query("SELECT role, password_hash FROM ops_users WHERE name=$1", {name});
  // An unknown user is checked against the dummy hash: the same Argon2id work, the same answer.
  const std::string stored = rows.empty() ? kDummyHash : rows[0][1].value_or(kDummyHash);
  const bool matches =
      crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0;
  std::string why;
  if (matches && !rows.empty()) {
    // The role and the password hash are the ones the audit log attests, never the table's.
    const Attested att = Attest(ReadAudit(*db_));
    const AttestedUser* u = att.FindUser(name);
    if (!att.verdict.ok) {
      why = fmt::format("the audit log is broken at entry {}: {}", att.verdict.first_bad,
                        att.verdict.problem);
    } else if (!u || u->name != name) {
      why = "no audited user_created entry for this user: its row was written behind the log";
    } else if (u->password_sha256 != Sha256Hex(stored)) {
      why = "the stored password hash is not the one the audit log attests";
    } else {
      return {u->name, u->role};
    }
  }
  WriteTransaction tx(*db_);
  nlohmann::json detail = {{"known_user", !rows.empty()}};
  if (!why.empty()) detail["why"] = why;
  AppendAudit(*db_, now_ms_(), name, "login_failed", "user:" + name, detail.dump());
  tx.Commit();
  if (!why.empty()) throw Refused({"--user", 0, 0}, fmt::format("refused: {}: {}", name, why));
  throw Refused({"--user", 0, 0}, fmt::format("wrong user or password for '{}'", name));
}

Plan Operations::Get(int64_t id) {
  const auto rows = db_->Query(
      "SELECT id, class, target, value, unit, reason, effect, effect_unit, effect_uncertainty, "
      "proposer, created_ms, expires_ms, state, realized, applied_ms FROM ops_plans WHERE id=$1",
      {std::to_string(id)});
  if (rows.empty()) throw InputError({"--plan", 0, 0}, fmt::format("no plan {}", id));
  const SqlRow& r = rows[0];
  Plan p;
  p.id = std::stoll(*r[0]);
  p.request.plan_class = *r[1];
  p.request.target = *r[2];
  p.request.value = {Number(r[3]), *r[4]};
  p.request.reason = *r[5];
  p.request.effect = {Number(r[6]), *r[7]};
  p.request.effect_uncertainty = Number(r[8]);
  p.proposer = *r[9];
  p.created_ms = std::stoll(*r[10]);
  p.request.expires_ms = std::stoll(*r[11]);
  for (int s = 0; s < 6; ++s) {
    if (*r[12] == kStates[s]) p.state = static_cast<PlanState>(s);
  }
  if (r[13]) p.realized = Amount{Number(r[13]), p.request.effect.unit};
  if (r[14]) p.applied_ms = std::stoll(*r[14]);
  for (const SqlRow& a :
       db_->Query("SELECT approver FROM ops_approvals WHERE plan=$1 ORDER BY t_ms, approver",
                  {std::to_string(id)})) {
    p.approvers.push_back(*a[0]);
  }
  return p;
}

std::vector<Plan> Operations::Plans() {
  std::vector<Plan> out;
  WriteTransaction tx(*db_);
  for (const SqlRow& r : db_->Query("SELECT id FROM ops_plans ORDER BY id")) {
    Plan p = Get(std::stoll(*r[0]));
    ExpireIfDue(p);
    out.push_back(std::move(p));
  }
  tx.Commit();
  // Shown as the log attests them: approval rows or a state written behind it do not show.
  const Attested att = Attest(ReadAudit(*db_));
  for (Plan& p : out) {
    if (const auto it = att.plans.find(p.id); it != att.plans.end()) {
      p.state = it->second.state;
      p.approvers = it->second.approvers;
    }
  }
  return out;
}

bool Operations::ExpireIfDue(Plan& p) {
  if (now_ms_() < p.request.expires_ms || !LegalTransition(p.state, PlanState::kExpired)) {
    return false;
  }
  SetState(p.id, PlanState::kExpired);
  AppendAudit(
      *db_, now_ms_(), "firstwall", "plan_expired", PlanSubject(p.id),
      nlohmann::json{{"was", StateName(p.state)}, {"expires_ms", p.request.expires_ms}}.dump());
  p.state = PlanState::kExpired;
  return true;
}

void Operations::SetState(int64_t plan, PlanState s) {
  db_->Query("UPDATE ops_plans SET state=$1 WHERE id=$2", {StateName(s), std::to_string(plan)});
}

namespace {

// The plan as its ops_plans row says, checked against what the log attests; Refusal when the row
// was changed behind the log (a field, the state) or has no audited proposal.
void CheckAgainstLog(Plan& p, const Attested& att) {
  const auto it = att.plans.find(p.id);
  if (it == att.plans.end()) {
    throw Refusal{
        fmt::format("plan {} has no audited proposal: its row was written behind the log", p.id)};
  }
  const AttestedPlan& a = it->second;
  const PlanRequest& r = p.request;
  auto same = [](double x, double y) {
    return std::abs(x - y) <= 1e-9 * std::max(1.0, std::abs(y));
  };
  std::string changed;
  if (r.plan_class != a.request.plan_class) changed = "class";
  if (r.target != a.request.target) changed = "target";
  if (!same(r.value.value, a.request.value.value) || r.value.unit != a.request.value.unit)
    changed = "value";
  if (!same(r.effect.value, a.request.effect.value) || r.effect.unit != a.request.effect.unit ||
      !same(r.effect_uncertainty, a.request.effect_uncertainty))
    changed = "effect";
  if (r.expires_ms != a.request.expires_ms) changed = "expires_ms";
  if (p.proposer != a.proposer) changed = "proposer";
  if (!changed.empty()) {
    throw Refusal{
        fmt::format("plan {}'s {} in ops_plans is not what its audited proposal says: "
                    "the row was changed behind the log",
                    p.id, changed)};
  }
  if (p.state != a.state) {
    throw Refusal{
        fmt::format("plan {} is {} in ops_plans but {} by the audit log ({} attested "
                    "approval(s)): the row was changed behind the log",
                    p.id, StateName(p.state), StateName(a.state), a.approvers.size())};
  }
  p.approvers = a.approvers;  // the attested ones, never ops_approvals' rows
}

}  // namespace

void Operations::Act(const User& by, int64_t plan, const std::string& what, const ActFn& act,
                     const std::string& subject, bool attest_actor) {
  Plan p;
  if (plan != 0) {
    WriteTransaction tx(*db_);
    p = Get(plan);
    ExpireIfDue(p);
    tx.Commit();
  }
  std::string why;
  try {
    WriteTransaction tx(*db_);
    // Only what the chain attests counts; a broken chain refuses every action.
    const Attested att = Attest(ReadAudit(*db_));
    if (!att.verdict.ok) {
      throw Refusal{fmt::format("the audit log is broken at entry {}: {}", att.verdict.first_bad,
                                att.verdict.problem)};
    }
    User actor = by;
    if (attest_actor) {
      const AttestedUser* u = att.FindUser(by.name);
      if (!u || u->name != by.name) {
        throw Refusal{fmt::format("{} is no user the audit log attests", by.name)};
      }
      actor.role = u->role;
    }
    if (plan != 0) {
      p = Get(plan);
      CheckAgainstLog(p, att);
    }
    act(p, actor, att);
    tx.Commit();
    return;
  } catch (const Refusal& r) {
    why = r.why;
  }
  WriteTransaction tx(*db_);
  AppendAudit(*db_, now_ms_(), by.name, "refused", plan != 0 ? PlanSubject(plan) : subject,
              nlohmann::json{{"action", what}, {"why", why}}.dump());
  tx.Commit();
  throw Refused({"ops " + what, 0, 0}, "refused: " + why);
}

int64_t Operations::Propose(const User& by, const PlanRequest& r) {
  CheckPlanRequest(r, now_ms_());
  const PlanClass* c = FindPlanClass(r.plan_class);
  int64_t id = 0;
  Act(by, 0, "plan propose", [&](Plan&, const User& who, const Attested&) {
    Require(who, Role::kOperator, "propose plans");
    const auto last = db_->Query("SELECT MAX(id) FROM ops_plans");
    id = last[0][0] ? std::stoll(*last[0][0]) + 1 : 1;
    const int64_t now = now_ms_();
    db_->Query(
        "INSERT INTO ops_plans(id, class, target, value, unit, reason, effect, effect_unit, "
        "effect_uncertainty, proposer, created_ms, expires_ms, state) "
        "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
        {std::to_string(id), r.plan_class, r.target, fmt::format("{}", r.value.value), r.value.unit,
         r.reason, fmt::format("{}", r.effect.value), r.effect.unit,
         fmt::format("{}", r.effect_uncertainty), who.name, std::to_string(now),
         std::to_string(r.expires_ms), StateName(PlanState::kProposed)});
    const nlohmann::json detail = {{"class", r.plan_class},
                                   {"risky", c->risky},
                                   {"target", r.target},
                                   {"value", r.value.value},
                                   {"unit", r.value.unit},
                                   {"reason", r.reason},
                                   {"effect", r.effect.value},
                                   {"effect_unit", r.effect.unit},
                                   {"uncertainty", r.effect_uncertainty},
                                   {"expires_ms", r.expires_ms}};
    AppendAudit(*db_, now, who.name, "plan_proposed", PlanSubject(id), detail.dump());
  });
  return id;
}

void Operations::Approve(const User& by, int64_t plan) {
  Act(by, plan, "plan approve", [&](Plan& p, const User& who, const Attested&) {
    Require(who, Role::kApprover, "approve plans");
    if (p.state != PlanState::kProposed) {
      throw Refusal{fmt::format("plan {} is {}; only a proposed plan can be approved", p.id,
                                StateName(p.state))};
    }
    if (FoldName(who.name) == FoldName(p.proposer)) {
      throw Refusal{fmt::format("{} proposed plan {} and may not approve it", who.name, p.id)};
    }
    for (const std::string& a : p.approvers) {
      if (FoldName(a) == FoldName(who.name)) {
        throw Refusal{
            fmt::format("{} already approved plan {}; a second approval must come from "
                        "another approver",
                        who.name, p.id)};
      }
    }
    const int64_t now = now_ms_();
    // A row written behind the log for this approver would block the insert: the log decides.
    db_->Query("DELETE FROM ops_approvals WHERE plan=$1 AND approver=$2",
               {std::to_string(p.id), who.name});
    db_->Query("INSERT INTO ops_approvals(plan, approver, t_ms) VALUES($1,$2,$3)",
               {std::to_string(p.id), who.name, std::to_string(now)});
    const size_t have = p.approvers.size() + 1;
    const bool done = have >= Needed(p);
    if (done) SetState(p.id, PlanState::kApproved);
    AppendAudit(*db_, now, who.name, "plan_approved", PlanSubject(p.id),
                nlohmann::json{{"approvals", have},
                               {"needed", Needed(p)},
                               {"state", StateName(done ? PlanState::kApproved : p.state)}}
                    .dump());
  });
}

void Operations::Reject(const User& by, int64_t plan, const std::string& why) {
  Act(by, plan, "plan reject", [&](Plan& p, const User& who, const Attested&) {
    Require(who, Role::kApprover, "reject plans");
    if (!LegalTransition(p.state, PlanState::kRejected)) {
      throw Refusal{fmt::format("plan {} is {}; only a proposed or approved plan can be rejected",
                                p.id, StateName(p.state))};
    }
    SetState(p.id, PlanState::kRejected);
    AppendAudit(*db_, now_ms_(), who.name, "plan_rejected", PlanSubject(p.id),
                nlohmann::json{{"why", why}, {"was", StateName(p.state)}}.dump());
  });
}

void Operations::Apply(const User& by, int64_t plan, const FreshnessProbe& fresh,
                       int64_t max_age_ms, const SiteWriter& write) {
  // Probed before the write transaction: the live store is another connection to the database.
  // The target and its unit never change, so the answer holds for the plan read inside it.
  const std::optional<int64_t> latest = fresh(Get(plan));
  Act(by, plan, "plan apply", [&](Plan& p, const User& who, const Attested&) {
    Require(who, Role::kOperator, "apply plans");
    if (p.state != PlanState::kApproved) {
      throw Refusal{fmt::format("plan {} is {}; only an approved plan can be applied", p.id,
                                StateName(p.state))};
    }
    // The approval records the log attests (Act put them in p.approvers), not the state alone:
    // distinct approvers, none of them the proposer.
    size_t valid = 0;
    for (const std::string& a : p.approvers) valid += FoldName(a) != FoldName(p.proposer) ? 1 : 0;
    if (valid < Needed(p)) {
      throw Refusal{fmt::format("plan {} has {} attested approval record(s) of the {} it needs",
                                p.id, valid, Needed(p))};
    }
    const int64_t now = now_ms_();
    const std::string series =
        fmt::format("{} {}", p.request.target, live::FindUnit(p.request.value.unit)->quantity);
    if (!latest) {
      throw Refusal{fmt::format("stale: the store holds no sample of {} to re-check plan {} on",
                                series, p.id)};
    }
    // A sample stamped ahead of this clock would pass for fresh for as long as it is ahead.
    constexpr int64_t kClockAllowance_ms = 60'000;
    if (*latest - now > kClockAllowance_ms) {
      throw Refusal{
          fmt::format("the newest sample of {} is stamped {:g} s ahead of this "
                      "machine's clock: a clock gone wrong cannot vouch for fresh data",
                      series, static_cast<double>(*latest - now) / 1000.0)};
    }
    if (now - *latest > max_age_ms) {
      throw Refusal{
          fmt::format("stale: the newest sample of {} is {:g} s old, more than the "
                      "{:g} s allowed",
                      series, static_cast<double>(now - *latest) / 1000.0,
                      static_cast<double>(max_age_ms) / 1000.0)};
    }
    // Every check has passed: only now does anything go out to the site.
    nlohmann::json written = "recorded only";
    if (write) {
      try {
        written = nlohmann::json::parse(write(p));
      } catch (const std::exception& e) {
        throw Refusal{fmt::format("the write of plan {} failed: {}", p.id, e.what())};
      }
    }
    db_->Query(
        "UPDATE ops_plans SET state=$1, applied_by=$2, applied_ms=$3 WHERE id=$4",
        {StateName(PlanState::kApplied), who.name, std::to_string(now), std::to_string(p.id)});
    AppendAudit(*db_, now, who.name, "plan_applied", PlanSubject(p.id),
                nlohmann::json{{"target", p.request.target},
                               {"value", p.request.value.value},
                               {"unit", p.request.value.unit},
                               {"approvers", p.approvers},
                               {"latest_sample_ms", *latest},
                               {"write", written}}
                    .dump());
  });
}

void Operations::Verify(const User& by, int64_t plan, const Amount& realized,
                        const Measurement* measured) {
  Act(by, plan, "plan verify", [&](Plan& p, const User& who, const Attested& att) {
    Require(who, Role::kOperator, "verify plans");
    if (p.state != PlanState::kApplied) {
      throw Refusal{fmt::format("plan {} is {}; only an applied plan can be verified", p.id,
                                StateName(p.state))};
    }
    if (realized.unit != p.request.effect.unit) {
      throw Refusal{fmt::format("the realized effect is in {}, the prediction in {}", realized.unit,
                                p.request.effect.unit)};
    }
    nlohmann::json how = "given";
    if (measured) {
      const int64_t applied = att.plans.at(p.id).applied_ms;
      if (measured->applied_ms != applied) {
        throw Refusal{
            fmt::format("the windows meet at {} ms, but plan {} was applied at {} ms by "
                        "the audit log",
                        measured->applied_ms, p.id, applied)};
      }
      how = {{"entity", measured->entity},
             {"quantity", measured->quantity},
             {"window_s", static_cast<double>(measured->window_ms) / 1000.0},
             {"settle_s", static_cast<double>(measured->settle_ms) / 1000.0},
             {"before_mean", measured->before},
             {"after_mean", measured->after},
             {"samples_before", measured->n_before},
             {"samples_after", measured->n_after},
             {"series", measured->series}};
    }
    db_->Query(
        "UPDATE ops_plans SET state=$1, realized=$2 WHERE id=$3",
        {StateName(PlanState::kVerified), fmt::format("{}", realized.value), std::to_string(p.id)});
    const double miss = realized.value - p.request.effect.value;
    AppendAudit(*db_, now_ms_(), who.name, "plan_verified", PlanSubject(p.id),
                nlohmann::json{{"realized", realized.value},
                               {"predicted", p.request.effect.value},
                               {"uncertainty", p.request.effect_uncertainty},
                               {"unit", realized.unit},
                               {"measured", how},
                               {"within", std::abs(miss) <= p.request.effect_uncertainty}}
                    .dump());
  });
}

}  // namespace firstwall::ops
