// The rules of operations (ops.h) and the audit chain (audit.h) on a real store, run by each
// store's test binary (ops_test_support.h): SQLite in ops_test, PostgreSQL in ops_postgres_test.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "live/store.h"
#include "ops/audit.h"
#include "ops/ops.h"
#include "ops/ops_test_support.h"
#include "ops/ops_world_test.h"

namespace firstwall::ops {
namespace {

TEST_P(OpsCase, ARiskyPlanGoesThroughEveryStateAndTheChainHoldsEachStep) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  World w;
  const int64_t id = w.Propose("setpoint", "cdu/cdu-1", "18 C");
  EXPECT_EQ(id, 1);
  w.ops->Approve(w.ap1, id);
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kProposed);  // one of the two a risky class needs
  w.now += kMinute;
  w.ops->Approve(w.ap2, id);
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApproved);
  w.Samples("cdu", "cdu-1", "temperature", {kT0 - 30'000});
  w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute);
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApplied);
  w.ops->Verify(w.op, id, ParseAmount("-10 kW", "--realized"));
  const Plan p = w.ops->Get(id);
  EXPECT_EQ(p.state, PlanState::kVerified);
  ASSERT_TRUE(p.realized);
  EXPECT_DOUBLE_EQ(p.realized->value, -10);
  EXPECT_EQ(p.approvers, (std::vector<std::string>{"anna", "abel"}));

  EXPECT_EQ(w.Actions(), (std::vector<std::string>{"user_created", "user_created", "user_created",
                                                   "user_created", "user_created", "plan_proposed",
                                                   "plan_approved", "plan_approved", "plan_applied",
                                                   "plan_verified"}));
  const std::vector<AuditEntry> log = ReadAudit(w.ops->db());
  EXPECT_EQ(log[8].actor, "otto");
  EXPECT_EQ(log[8].subject, "plan:1");
  const auto applied = nlohmann::json::parse(log[8].detail);
  EXPECT_EQ(applied["target"], "cdu/cdu-1");
  EXPECT_EQ(applied["value"], 18.0);
  EXPECT_EQ(applied["latest_sample_ms"], kT0 - 30'000);  // 90 s old at apply, 300 s allowed
  // -10 kW realized against -12 +- 3 kW predicted: within.
  EXPECT_EQ(nlohmann::json::parse(log[9].detail)["within"], true);
  const AuditVerdict v = VerifyAudit(log);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 10);
  EXPECT_EQ(v.head, log.back().hash);

  std::ostringstream out;
  ExportAuditJsonLines(log, out);
  std::istringstream lines(out.str());
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["seq"], ++n);
    EXPECT_EQ(j["hash"], log[static_cast<size_t>(n - 1)].hash);
  }
  EXPECT_EQ(n, 10);
}

TEST_P(OpsCase, NoApplyWithoutAnApprovalRecord) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  World w;
  const int64_t id = w.Propose();
  w.Samples("gpu", "node0/gpu3", "power", {kT0});
  ExpectRefused([&] { w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute); },
                "plan 1 is proposed; only an approved plan can be applied");
  // The state alone is not enough: approved in the table, with no approval record.
  w.Sql("UPDATE ops_plans SET state='approved' WHERE id=1");
  ExpectRefused([&] { w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute); },
                "plan 1 is approved in ops_plans but proposed by the audit log (0 attested");
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApproved);
  const AuditEntry last = w.Last();
  EXPECT_EQ(last.action, "refused");
  EXPECT_EQ(last.actor, "otto");
  EXPECT_EQ(nlohmann::json::parse(last.detail)["action"], "plan apply");
  EXPECT_TRUE(VerifyAudit(ReadAudit(w.ops->db())).ok);
}

TEST_P(OpsCase, TheProposerNeverApprovesTheirOwnPlan) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  World w;
  PlanRequest r;
  r.plan_class = "job_move";
  r.target = "node/node2";
  r.value = ParseAmount("0 %", "--value");
  r.effect = ParseAmount("-2 kW", "--effect");
  r.expires_ms = kT0 + kHour;
  const int64_t id = w.ops->Propose(w.ap1, r);  // an approver may propose
  ExpectRefused([&] { w.ops->Approve(w.ap1, id); }, "anna proposed plan 1 and may not approve it");
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kProposed);
  EXPECT_TRUE(w.ops->Get(id).approvers.empty());
  w.ops->Approve(w.ap2, id);
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApproved);
}

TEST_P(OpsCase, AViewerOrAnOperatorApprovingIsRefused) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  World w;
  const int64_t id = w.Propose();
  ExpectRefused([&] { w.ops->Approve(w.viewer, id); },
                "vera is viewer: only approver or above may approve plans");
  ExpectRefused([&] { w.ops->Approve(w.op, id); },
                "otto is operator: only approver or above may approve plans");
  EXPECT_TRUE(w.ops->Get(id).approvers.empty());
  EXPECT_THROW(w.ops->Approve(w.ap1, 99), InputError);  // no plan 99
}

TEST_P(OpsCase, ARiskyPlanWithOneApprovalCannotApply) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  World w;
  const int64_t id = w.Propose("drain", "node/node3", "0 %");
  w.Samples("node", "node3", "utilization", {kT0});
  w.ops->Approve(w.ap1, id);
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kProposed);
  ExpectRefused([&] { w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute); },
                "plan 1 is proposed");
  ExpectRefused([&] { w.ops->Approve(w.ap1, id); }, "anna already approved plan 1");
  w.Sql("UPDATE ops_plans SET state='approved' WHERE id=1");
  ExpectRefused([&] { w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute); },
                "plan 1 is approved in ops_plans but proposed by the audit log (1 attested");
}

TEST_P(OpsCase, APlanPastExpiryIsNeitherApprovedNorApplied) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  World w;
  const int64_t late = w.Propose();
  const int64_t approved = w.Propose();
  const int64_t listed = w.Propose();
  w.ops->Approve(w.ap1, approved);
  w.Samples("gpu", "node0/gpu3", "power", {kT0 + kHour});
  w.now = kT0 + kHour;  // both expire now
  ExpectRefused([&] { w.ops->Approve(w.ap1, late); }, "plan 1 is expired");
  ExpectRefused([&] { w.ops->Apply(w.op, approved, StoreFreshness(w.store), 5 * kMinute); },
                "plan 2 is expired");
  EXPECT_EQ(w.ops->Get(late).state, PlanState::kExpired);
  EXPECT_EQ(w.ops->Get(approved).state, PlanState::kExpired);
  const std::vector<std::string> actions = w.Actions();
  EXPECT_EQ(std::vector<std::string>(actions.end() - 4, actions.end()),
            (std::vector<std::string>{"plan_expired", "refused", "plan_expired", "refused"}));
  EXPECT_FALSE(LegalTransition(PlanState::kExpired, PlanState::kApproved));
  // Listing marks the third (audited), without a refusal.
  EXPECT_EQ(w.ops->Plans()[static_cast<size_t>(listed - 1)].state, PlanState::kExpired);
  EXPECT_EQ(w.Last().action, "plan_expired");
  EXPECT_EQ(w.Last().subject, "plan:3");
}

TEST_P(OpsCase, ARejectedPlanIsFinalAndVerifyRecordsAMiss) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  World w;
  const int64_t rejected = w.Propose();
  ExpectRefused([&] { w.ops->Reject(w.op, rejected, "no"); },
                "otto is operator: only approver or above may reject plans");
  w.ops->Reject(w.ap1, rejected, "the peak moved to 21:00");
  EXPECT_EQ(w.ops->Get(rejected).state, PlanState::kRejected);
  EXPECT_EQ(nlohmann::json::parse(w.Last().detail)["why"], "the peak moved to 21:00");
  ExpectRefused([&] { w.ops->Approve(w.ap2, rejected); }, "plan 1 is rejected");
  ExpectRefused([&] { w.ops->Reject(w.ap2, rejected, "again"); }, "plan 1 is rejected");

  const int64_t id = w.Propose();
  w.ops->Approve(w.ap2, id);
  w.Samples("gpu", "node0/gpu3", "power", {kT0});
  ExpectRefused([&] { w.ops->Verify(w.op, id, ParseAmount("-4 kW", "--realized")); },
                "plan 2 is approved; only an applied plan can be verified");
  w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute);
  ExpectRefused([&] { w.ops->Reject(w.ap1, id, "late"); }, "plan 2 is applied");
  ExpectRefused([&] { w.ops->Verify(w.op, id, ParseAmount("-4000 W", "--realized")); },
                "the realized effect is in W, the prediction in kW");
  // -4 kW realized against -12 +- 3 kW predicted: a miss, recorded as such.
  w.ops->Verify(w.op, id, ParseAmount("-4 kW", "--realized"));
  const auto detail = nlohmann::json::parse(w.Last().detail);
  EXPECT_EQ(detail["within"], false);
  EXPECT_EQ(detail["realized"], -4.0);
  EXPECT_EQ(detail["predicted"], -12.0);
  ExpectRefused([&] { w.ops->Verify(w.op, id, ParseAmount("-4 kW", "--realized")); },
                "plan 2 is verified");
}

TEST_P(OpsCase, AStalePlanIsRefusedUntilItsTargetReportsAgain) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  World w;
  const int64_t id = w.Propose();
  w.ops->Approve(w.ap1, id);
  const FreshnessProbe fresh = StoreFreshness(w.store);
  ExpectRefused([&] { w.ops->Apply(w.op, id, fresh, 5 * kMinute); },
                "stale: the store holds no sample of gpu/node0/gpu3 power");
  w.Samples("gpu", "node0/gpu3", "power", {kT0 - 20 * kMinute, kT0 - 10 * kMinute});
  // Another quantity of the same GPU and the same quantity of another GPU do not count.
  w.Samples("gpu", "node0/gpu3", "temperature", {kT0});
  w.Samples("gpu", "node0/gpu2", "power", {kT0});
  ExpectRefused([&] { w.ops->Apply(w.op, id, fresh, 5 * kMinute); },
                "stale: the newest sample of gpu/node0/gpu3 power is 600 s old, more than the "
                "300 s allowed");
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApproved);
  w.Samples("gpu", "node0/gpu3", "power", {kT0 - 1000});
  w.ops->Apply(w.op, id, fresh, 5 * kMinute);
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApplied);
}

// A sample stamped ahead of the clock would pass for fresh as long as it stays ahead, and a NaN
// reading says nothing: neither vouches for the target (a breaker forged both).
TEST_P(OpsCase, ASampleAheadOfTheClockOrWithoutAValueIsNotFresh) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  World w;
  const int64_t id = w.Propose();
  w.ops->Approve(w.ap1, id);
  w.Samples("gpu", "node0/gpu3", "power", {kT0 - 10 * kMinute});
  {
    std::unique_ptr<live::Store> s = live::OpenStore(w.store);
    const int64_t series = s->SeriesId({"gpu", "node0/gpu3", "power", "W", "bms", "gpu_power"});
    const live::SamplePoint nan{kT0, std::nan(""), 0};
    s->Append(series, {&nan, 1});
    s->Flush();
  }
  ExpectRefused([&] { w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute); },
                "stale: the newest sample of gpu/node0/gpu3 power is 600 s old");
  w.Samples("gpu", "node0/gpu3", "power", {kT0 + 60 * kMinute});
  ExpectRefused([&] { w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute); },
                "the newest sample of gpu/node0/gpu3 power is stamped 3600 s ahead of this "
                "machine's clock");
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApproved);
}

TEST_P(OpsCase, AWrongPasswordIsRefusedAndLogged) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  World w;
  EXPECT_EQ(w.ops->Login("ada", "correct horse").role, Role::kAdmin);
  ExpectRefused([&] { w.ops->Login("ada", "wrong horse"); }, "wrong user or password for 'ada'");
  AuditEntry last = w.Last();
  EXPECT_EQ(last.action, "login_failed");
  EXPECT_EQ(last.actor, "ada");
  EXPECT_EQ(nlohmann::json::parse(last.detail)["known_user"], true);
  ExpectRefused([&] { w.ops->Login("mallory", "anything"); }, "wrong user or password");
  last = w.Last();
  EXPECT_EQ(last.actor, "mallory");
  EXPECT_EQ(nlohmann::json::parse(last.detail)["known_user"], false);
  // Only an admin adds users, and the hash stored is Argon2id's, never the password.
  ExpectRefused([&] { w.ops->AddUser(w.ap1, "eve", Role::kAdmin, "password1"); },
                "anna is approver: only admin or above may add users");
  EXPECT_EQ(w.Last().action, "refused");
  EXPECT_EQ(w.Last().subject, "user:eve");
  EXPECT_THROW(w.ops->AddUser(std::nullopt, "eve", Role::kAdmin, "password1"), InputError);
  EXPECT_EQ(w.ops->Users().size(), 5u);
  const auto rows = w.ops->db().Query("SELECT password_hash FROM ops_users WHERE name='ada'");
  EXPECT_TRUE(rows[0][0]->starts_with("$argon2id$")) << *rows[0][0];
}

// A log of 8 entries: five users, a proposal, an approval, an apply refused.
struct LoggedWorld : World {
  LoggedWorld() {
    const int64_t id = Propose();
    ops->Approve(ap1, id);
    try {
      ops->Apply(op, id, StoreFreshness(store), 5 * kMinute);
    } catch (const Refused&) {  // NOLINT: stale, as meant: a refused entry
    }
    EXPECT_EQ(ReadAudit(ops->db()).size(), 8u);
  }
  AuditVerdict Verdict() { return VerifyAudit(ReadAudit(ops->db())); }
};

TEST_P(OpsCase, AChangedEntryIsNamed) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  LoggedWorld w;
  w.Sql("UPDATE ops_audit SET actor='mallory' WHERE seq=7");
  const AuditVerdict v = w.Verdict();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad, 7);
  EXPECT_NE(v.problem.find("entry 7 was changed"), std::string::npos) << v.problem;
}

TEST_P(OpsCase, AChangedEntryWithItsHashRecomputedIsNamed) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  LoggedWorld w;
  AuditEntry e = ReadAudit(w.ops->db())[5];  // seq 6, the proposal
  e.detail = R"({"value":60})";
  w.Sql(fmt::format("UPDATE ops_audit SET detail='{}', hash='{}' WHERE seq=6", e.detail,
                    Sha256Hex(CanonicalAuditText(e))));
  const AuditVerdict v = w.Verdict();
  EXPECT_EQ(v.first_bad, 6);
  EXPECT_NE(v.problem.find("entry 6 was replaced"), std::string::npos) << v.problem;
}

TEST_P(OpsCase, ADeletedEntryIsNamed) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  LoggedWorld w;
  const std::string head = w.Verdict().head;
  w.Sql("DELETE FROM ops_audit WHERE seq=4");
  AuditVerdict v = w.Verdict();
  EXPECT_EQ(v.first_bad, 4);
  EXPECT_NE(v.problem.find("entry 4 is missing"), std::string::npos) << v.problem;
  // The rest renumbered to hide the gap: entry 4 now holds what was written as 5.
  w.Sql("UPDATE ops_audit SET seq=seq-1 WHERE seq>4");
  v = w.Verdict();
  EXPECT_EQ(v.first_bad, 4);
  EXPECT_NE(v.problem.find("entry 4 holds what was written as entry 5"), std::string::npos)
      << v.problem;
  // The last entry cut off: only the head kept elsewhere shows it.
  LoggedWorld w2;
  const std::string head2 = w2.Verdict().head;
  w2.Sql("DELETE FROM ops_audit WHERE seq=8");
  EXPECT_TRUE(w2.Verdict().ok);
  v = VerifyAudit(ReadAudit(w2.ops->db()), head2);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad, 8);
  EXPECT_NE(head, "");
}

TEST_P(OpsCase, ReorderedEntriesAreNamed) {
  if (!TestBackend().Unavailable().empty()) GTEST_SKIP() << TestBackend().Unavailable();
  LoggedWorld w;
  w.Sql(
      "UPDATE ops_audit SET seq=-4 WHERE seq=4; UPDATE ops_audit SET seq=4 WHERE seq=3; "
      "UPDATE ops_audit SET seq=3 WHERE seq=-4");
  const AuditVerdict v = w.Verdict();
  EXPECT_EQ(v.first_bad, 3);
  EXPECT_NE(v.problem.find("entry 3 holds what was written as entry 4"), std::string::npos)
      << v.problem;
}

}  // namespace
}  // namespace firstwall::ops
