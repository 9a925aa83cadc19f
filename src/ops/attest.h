// What the audit log attests (docs/operations.md, "What counts"): the users and their roles, each
// plan's proposal, its approvals and its state, replayed from the hash-chained entries alone. The
// ops_users, ops_plans and ops_approvals tables are only a convenient copy; someone who can write
// the database can change them, but not the chain without breaking it (audit.h). Every action
// (ops.h) checks the chain and acts on what it attests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ops/audit.h"
#include "ops/ops.h"

namespace firstwall::ops {

struct AttestedUser {
  std::string name;  // as added
  Role role = Role::kViewer;
  std::string password_sha256;  // SHA-256 (hex) of the Argon2id string stored for the user
};

struct AttestedPlan {
  PlanRequest request;  // as proposed
  std::string proposer;
  PlanState state = PlanState::kProposed;
  // Distinct approvers, oldest first: each an approver or admin by the log when approving, none
  // the proposer (names compared case-insensitively).
  std::vector<std::string> approvers;
  int64_t applied_ms = 0;  // of its plan_applied entry; 0 until applied
};

struct Attested {
  AuditVerdict verdict;                       // of the whole chain
  std::map<std::string, AttestedUser> users;  // by lower-case name
  std::map<int64_t, AttestedPlan> plans;      // by id
  // nullptr when the log attests no such user (`name` compared case-insensitively).
  const AttestedUser* FindUser(const std::string& name) const;
};

// Replays `log` from entry 1 up to (not including) the first bad entry: user_created (by an
// attested admin, or the first user), plan_proposed (by an operator or above), plan_approved (by
// an approver or above, not the proposer, once each, while proposed; the plan becomes approved
// with the approvals its class needs), plan_rejected, plan_expired, plan_applied and
// plan_verified. An entry that breaks these rules attests nothing.
Attested Attest(const std::vector<AuditEntry>& log);

// `name` in lower case (ASCII): user names are compared this way.
std::string FoldName(const std::string& name);

}  // namespace firstwall::ops
