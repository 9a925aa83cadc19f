// Rows written into the database behind the operations layer's back (a breaker's findings): only
// what the hash-chained audit log attests counts (attest.h). Run on each store like
// ops_cases_test.cc.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "ops/attest.h"
#include "ops/audit.h"
#include "ops/ops.h"
#include "ops/ops_test_support.h"
#include "ops/ops_world_test.h"

namespace firstwall::ops {
namespace {

#define SKIP_UNAVAILABLE() \
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable()

TEST_P(OpsCase, ApprovalsWrittenIntoTheTablesDoNotCountThoughTheChainVerifies) {
  SKIP_UNAVAILABLE();
  World w;
  const int64_t id = w.Propose();
  w.Samples("gpu", "node0/gpu3", "power", {kT0});
  // An approval record and the state, both written with SQL: the chain is untouched and verifies,
  // but it attests no approval.
  w.Sql(fmt::format("INSERT INTO ops_approvals(plan, approver, t_ms) VALUES(1, 'anna', {})", kT0));
  w.Sql("UPDATE ops_plans SET state='approved' WHERE id=1");
  EXPECT_TRUE(VerifyAudit(ReadAudit(w.ops->db())).ok);
  ExpectRefused([&] { w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute); },
                "plan 1 is approved in ops_plans but proposed by the audit log (0 attested "
                "approval(s))");
  // `plan list` shows what the log attests.
  EXPECT_EQ(w.ops->Plans()[0].state, PlanState::kProposed);
  EXPECT_TRUE(w.ops->Plans()[0].approvers.empty());
  // Put back, the real approval goes through (the forged row does not block it) and apply then
  // counts the attested record.
  w.Sql("UPDATE ops_plans SET state='proposed' WHERE id=1");
  w.ops->Approve(w.ap1, id);
  w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute);
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApplied);
}

TEST_P(OpsCase, ARiskyPlanWithASecondApprovalRowWrittenBehindTheLogIsRefused) {
  SKIP_UNAVAILABLE();
  World w;
  const int64_t id = w.ProposeSetpoint();
  w.ops->Approve(w.ap1, id);
  w.Sql(fmt::format("INSERT INTO ops_approvals(plan, approver, t_ms) VALUES(1, 'abel', {})", kT0));
  w.Sql("UPDATE ops_plans SET state='approved' WHERE id=1");
  ExpectRefused([&] { w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute); },
                "(1 attested approval(s))");
  // An entry appended to the chain by a viewer, its hash right, attests no approval either.
  {
    WriteTransaction tx(w.ops->db());
    AppendAudit(w.ops->db(), kT0, "vera", "plan_approved", "plan:1", R"({"approvals":2})");
    tx.Commit();
  }
  EXPECT_TRUE(VerifyAudit(ReadAudit(w.ops->db())).ok);
  EXPECT_EQ(Attest(ReadAudit(w.ops->db())).plans.at(1).approvers, std::vector<std::string>{"anna"});
}

TEST_P(OpsCase, ARoleOrAUserWrittenIntoTheTableIsNotHonoured) {
  SKIP_UNAVAILABLE();
  World w;
  const int64_t id = w.Propose();
  // vera made admin in the table: she logs in as the viewer the log says she is.
  w.Sql("UPDATE ops_users SET role='admin' WHERE name='vera'");
  const User vera = w.ops->Login("vera", "password-vera");
  EXPECT_EQ(vera.role, Role::kViewer);
  auto listed = [&](const std::string& name) {
    for (const User& u : w.ops->Users()) {
      if (u.name == name) return RoleName(u.role);
    }
    return std::string("absent");
  };
  EXPECT_EQ(listed("vera"), "viewer");  // the list shows the attested role too
  // Claiming the role in the API does not help either: the attested role is checked.
  ExpectRefused(
      [&] {
        w.ops->Approve(User{"vera", Role::kAdmin}, id);
      },
      "vera is viewer: only approver or above may approve plans");
  // A user inserted with a copy of anna's hash: no audited user_created entry.
  w.Sql(
      "INSERT INTO ops_users(name, role, password_hash, created_ms) SELECT 'mallory', 'admin', "
      "password_hash, created_ms FROM ops_users WHERE name='anna'");
  ExpectRefused([&] { w.ops->Login("mallory", "password-anna"); },
                "mallory: no audited user_created entry for this user");
  EXPECT_EQ(listed("mallory"), "absent");
  EXPECT_EQ(w.Last().action, "login_failed");
  ExpectRefused(
      [&] {
        w.ops->Approve(User{"mallory", Role::kAdmin}, id);
      },
      "mallory is no user the audit log attests");
  // anna's hash replaced with vera's: vera's password does not open anna's account.
  w.Sql(
      "UPDATE ops_users SET password_hash=(SELECT password_hash FROM ops_users WHERE "
      "name='vera') WHERE name='anna'");
  ExpectRefused([&] { w.ops->Login("anna", "password-vera"); },
                "the stored password hash is not the one the audit log attests");
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kProposed);
}

TEST_P(OpsCase, APlanRowChangedAfterApprovalIsRefusedAtApply) {
  SKIP_UNAVAILABLE();
  World w;
  const int64_t id = w.ProposeSetpoint();
  w.ops->Approve(w.ap1, id);
  w.ops->Approve(w.ap2, id);
  w.Sql("UPDATE ops_plans SET value=5 WHERE id=1");
  ExpectRefused([&] { w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute); },
                "plan 1's value in ops_plans is not what its audited proposal says");
  w.Sql("UPDATE ops_plans SET value=18 WHERE id=1");
  w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute);
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApplied);
}

TEST_P(OpsCase, ATamperedChainRefusesApplyAndLogin) {
  SKIP_UNAVAILABLE();
  World w;
  const int64_t id = w.Propose();
  w.Samples("gpu", "node0/gpu3", "power", {kT0});
  w.ops->Approve(w.ap1, id);
  w.Sql("UPDATE ops_audit SET actor='ada' WHERE seq=7");  // the approval, now by the admin
  ExpectRefused([&] { w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute); },
                "the audit log is broken at entry 7: entry 7 was changed");
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApproved);
  ExpectRefused([&] { w.ops->Login("otto", "password-otto"); },
                "the audit log is broken at entry 7");
}

TEST_P(OpsCase, NamesThatDifferOnlyInCaseAreOneUser) {
  SKIP_UNAVAILABLE();
  World w;
  try {
    w.ops->AddUser(w.admin, "Anna", Role::kAdmin, "password-Anna");
    ADD_FAILURE() << "a second anna was added";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, "--name");
    EXPECT_EQ(e.message(), "user 'Anna' exists as 'anna' (names are compared without case)");
  }
  EXPECT_EQ(w.ops->Users().size(), 5u);
  // Names are stored as added: ANNA is no user at login.
  ExpectRefused([&] { w.ops->Login("ANNA", "password-anna"); }, "wrong user or password");
}

}  // namespace
}  // namespace firstwall::ops
