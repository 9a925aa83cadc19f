// Operations with a human in the loop (issue #14, docs/operations.md): users with roles, plans
// that move through proposed -> approved -> applied -> verified (or rejected, or expired), the
// approvals they need, and every action in the hash-chained audit log (audit.h). All of it lives
// in the live twin's store (live/store.h), in the ops_* tables.
//
// Refusals (a wrong password, a rule broken) are `Refused`, an InputError (exit status 2 at the
// CLI); each is also written to the audit log before it is thrown.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "ops/sql.h"

namespace firstwall::ops {

// Each role may do what the ones before it may, and more (docs/operations.md, "Roles"):
// viewer: log in and read; operator: propose, apply and verify plans; approver: approve and
// reject plans; admin: add users.
enum class Role { kViewer, kOperator, kApprover, kAdmin };
std::string RoleName(Role r);
// InputError naming `option` unless `text` is viewer, operator, approver or admin.
Role ParseRole(const std::string& text, const std::string& option);

struct User {
  std::string name;
  Role role = Role::kViewer;
};

enum class PlanState { kProposed, kApproved, kRejected, kApplied, kVerified, kExpired };
std::string StateName(PlanState s);
// Whether a plan may go from `from` to `to` (docs/operations.md, "States").
bool LegalTransition(PlanState from, PlanState to);

struct PlanClass {
  const char* name;
  bool risky;  // needs two approvers
  const char* meaning;
};
// setpoint (risky), power_cap, job_move, drain (risky), stagger.
const std::vector<PlanClass>& PlanClasses();
// nullptr when not a class.
const PlanClass* FindPlanClass(const std::string& name);

// A number and its unit, as "18 C" or "-12 kW". The unit is one of the live vocabulary's
// (live/vocabulary.h).
struct Amount {
  double value = 0;
  std::string unit;
};
// InputError naming `option` unless `text` is a finite number, a space and a vocabulary unit.
Amount ParseAmount(const std::string& text, const std::string& option);

struct PlanRequest {
  std::string plan_class;  // a PlanClasses() name
  // ENTITY/ID of the live vocabulary: the entity changed and whose telemetry shows it
  // ("cdu/cdu-1", "gpu/node0/gpu3").
  std::string target;
  Amount value;  // what it is set to; its unit names the quantity watched for freshness
  std::string reason;
  Amount effect;                  // predicted effect (facility power -12 kW)
  double effect_uncertainty = 0;  // +- in effect.unit, >= 0
  int64_t expires_ms = 0;         // after this, it can no longer be approved or applied
};

struct Plan {
  int64_t id = 0;
  PlanRequest request;
  std::string proposer;
  int64_t created_ms = 0;
  PlanState state = PlanState::kProposed;
  std::vector<std::string> approvers;  // the approval records, oldest first
  int64_t applied_ms = 0;              // when applied; 0 before
  std::optional<Amount> realized;      // recorded by verify
};

// What a class may set on an entity kind: the value's quantity and its bounds, in the quantity's
// base unit (C, W, %). plan_rules.cc cites the source of each bound.
struct PlanValueRule {
  const char* plan_class = "";
  const char* entity = "";    // the target's ENTITY
  const char* quantity = "";  // of the value's unit
  double min = 0, max = 0;
  bool min_open = false;  // the value must exceed min (a power cap of 0 W is no cap)
};
const std::vector<PlanValueRule>& PlanValueRules();

// InputError naming the option (--class, --target, --value, --uncertainty, --expires) unless `r`
// is a plan that can be proposed at `now_ms`: a known class, an ENTITY/ID target of an entity
// kind the class may set, a value of the rule's quantity within its bounds (PlanValueRules), a
// finite uncertainty of at least 0, an expiry after now. Propose checks it too.
void CheckPlanRequest(const PlanRequest& r, int64_t now_ms);

// Whether `name` may be a user's: 1 to 64 letters, digits, '.', '_' or '-' (AddUser refuses
// others; Login refuses them as a wrong user, audited as JSON text rather than as the actor).
bool IsUserName(const std::string& name);

// The Argon2id string an unknown user's password is checked against (so that a login costs the
// same whether or not the user exists): libsodium's interactive limits, as AddUser's hashes.
const char* DummyPasswordHash();

struct Attested;     // attest.h
struct Measurement;  // measure.h

class Refused : public InputError {
 public:
  using InputError::InputError;
};

// The latest sample time (ms since the epoch) of a plan's target series; nullopt when the store
// has none. StoreFreshness reads it from the live store's samples.
using FreshnessProbe = std::function<std::optional<int64_t>(const Plan&)>;
// The newest sample of any series of the plan's target entity (ENTITY/ID) whose quantity is that
// of the plan value's unit, in the live store at `store`.
FreshnessProbe StoreFreshness(const std::string& store);

// Writes an applied plan out to the site (site_write.h: ModbusSetpointWriter) and returns the
// audit detail of what it wrote (a JSON object); throws std::runtime_error when it could not.
using SiteWriter = std::function<std::string(const Plan&)>;

class Operations {
 public:
  // Creates the ops_* tables when absent. `now_ms` gives the time of every action.
  Operations(std::unique_ptr<SqlDb> db, std::function<int64_t()> now_ms);

  // Adds a user with a password hashed with Argon2id (libsodium crypto_pwhash_str). `admin` must
  // be an authenticated admin, or nullopt for the store's first user, who must be an admin.
  void AddUser(const std::optional<User>& admin, const std::string& name, Role role,
               const std::string& password);
  // The users the audit log attests, with the roles it attests (attest.h), by name.
  std::vector<User> Users();
  // The user, when the password matches its hash; else Refused, and login_failed is audited.
  User Login(const std::string& name, const std::string& password);

  // An operator (or above) proposes; returns the plan's id.
  int64_t Propose(const User& by, const PlanRequest& r);
  // An approver (or above) other than the proposer approves; the plan becomes approved once it
  // has its one (two distinct for a risky class) approval records.
  void Approve(const User& by, int64_t plan);
  void Reject(const User& by, int64_t plan, const std::string& why);
  // An operator (or above) applies an approved plan whose attested approval records suffice,
  // before it expires, when `fresh` says its target's telemetry is at most `max_age_ms` old.
  // Then, when `write` is given, writes it to the site (after every check, inside the apply's
  // transaction: a failed write is a refusal and nothing is recorded as applied). Records who,
  // when, what and what was written (or "recorded only").
  void Apply(const User& by, int64_t plan, const FreshnessProbe& fresh, int64_t max_age_ms,
             const SiteWriter& write = nullptr);
  // An operator (or above) records the realized effect of an applied plan: `realized` as given,
  // or measured from the live store (`measured`, measure.h; realized is then its figure), whose
  // windows must meet at the apply's audited time.
  void Verify(const User& by, int64_t plan, const Amount& realized,
              const Measurement* measured = nullptr);

  Plan Get(int64_t plan);
  // Every plan, oldest first; plans past expiry still proposed or approved are marked expired.
  // The state and approvers are those the audit log attests (attest.h), not the tables'.
  std::vector<Plan> Plans();

  SqlDb& db() { return *db_; }

 private:
  // Runs `act` on plan `plan` (0: none) in one write transaction, after marking the plan expired
  // when due (in its own). Before it: the audit chain must verify; the acting user is the one
  // the log attests, with the attested role (unless !attest_actor: the store's first user); the
  // plan's row must match its audited proposal and state, and its approvers are the attested
  // ones. A refusal inside it rolls it back, is audited as `refused` and thrown as Refused, its
  // subject the plan's or else `subject`.
  using ActFn = std::function<void(Plan& p, const User& actor, const Attested& attested)>;
  void Act(const User& by, int64_t plan, const std::string& what, const ActFn& act,
           const std::string& subject = "", bool attest_actor = true);
  // Marks the plan expired (audited) when it is past expiry and still proposed or approved.
  bool ExpireIfDue(Plan& p);
  void SetState(int64_t plan, PlanState s);

  std::unique_ptr<SqlDb> db_;
  std::function<int64_t()> now_ms_;
};

}  // namespace firstwall::ops
