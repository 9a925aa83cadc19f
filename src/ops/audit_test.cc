// The audit chain's hashing and verdicts without a store, and the words of ops.h.
#include "ops/audit.h"

#include <gtest/gtest.h>

#include "ops/ops.h"

namespace firstwall::ops {
namespace {

TEST(Audit, Sha256MatchesThePublishedExample) {
  // FIPS 180-2, appendix B.1: SHA-256("abc").
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Audit, TheCanonicalTextPrefixesEachFieldWithItsLength) {
  AuditEntry e;
  e.seq = 12;
  e.t_ms = 1000;
  e.actor = "anna";
  e.action = "plan_approved";
  e.subject = "plan:3";
  e.detail = R"({"a":1})";
  e.prev_hash = "ab";
  EXPECT_EQ(CanonicalAuditText(e),
            "firstwall-audit-1\n2:12\n4:1000\n4:anna\n13:plan_approved\n6:plan:3\n7:{\"a\":1}\n"
            "2:ab\n");
  // Moving a character from one field to the next changes the text (no ambiguity).
  AuditEntry moved = e;
  moved.actor = "ann";
  moved.action = "aplan_approved";
  EXPECT_NE(CanonicalAuditText(moved), CanonicalAuditText(e));
}

std::vector<AuditEntry> Chain(int n) {
  std::vector<AuditEntry> out;
  std::string prev = kGenesisHash;
  for (int i = 1; i <= n; ++i) {
    AuditEntry e;
    e.seq = i;
    e.t_ms = 1000 * i;
    e.actor = "otto";
    e.action = "plan_proposed";
    e.subject = "plan:" + std::to_string(i);
    e.detail = "{}";
    e.prev_hash = prev;
    e.hash = prev = Sha256Hex(CanonicalAuditText(e));
    out.push_back(e);
  }
  return out;
}

TEST(Audit, VerdictsNameTheFirstBadEntry) {
  EXPECT_TRUE(VerifyAudit({}).ok);
  std::vector<AuditEntry> log = Chain(5);
  AuditVerdict v = VerifyAudit(log);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.head, log[4].hash);
  EXPECT_TRUE(VerifyAudit(log, log[4].hash).ok);

  std::vector<AuditEntry> changed = log;
  changed[2].t_ms += 1;
  v = VerifyAudit(changed);
  EXPECT_EQ(v.first_bad, 3);
  EXPECT_EQ(v.problem, "entry 3 was changed: its fields do not hash to its stored hash");

  std::vector<AuditEntry> twice = log;
  twice.insert(twice.begin() + 2, log[1]);
  EXPECT_EQ(VerifyAudit(twice).first_bad, 2);

  std::vector<AuditEntry> cut(log.begin(), log.end() - 1);
  EXPECT_TRUE(VerifyAudit(cut).ok);
  v = VerifyAudit(cut, log[4].hash);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad, 5);
}

TEST(Ops, OnlyTheLegalTransitions) {
  using S = PlanState;
  const S all[] = {S::kProposed, S::kApproved, S::kRejected,
                   S::kApplied,  S::kVerified, S::kExpired};
  int legal = 0;
  for (S from : all) {
    for (S to : all) legal += LegalTransition(from, to) ? 1 : 0;
  }
  EXPECT_EQ(legal, 7);  // the seven arrows of docs/operations.md
  EXPECT_TRUE(LegalTransition(S::kProposed, S::kApproved));
  EXPECT_TRUE(LegalTransition(S::kApproved, S::kApplied));
  EXPECT_TRUE(LegalTransition(S::kApplied, S::kVerified));
  EXPECT_FALSE(LegalTransition(S::kProposed, S::kApplied));
  EXPECT_FALSE(LegalTransition(S::kApplied, S::kExpired));
  EXPECT_FALSE(LegalTransition(S::kVerified, S::kRejected));
}

TEST(Ops, WordsAndAmounts) {
  EXPECT_EQ(ParseRole("approver", "--role"), Role::kApprover);
  EXPECT_THROW(ParseRole("root", "--role"), InputError);
  EXPECT_TRUE(FindPlanClass("drain")->risky);
  EXPECT_FALSE(FindPlanClass("power_cap")->risky);
  EXPECT_EQ(FindPlanClass("reboot"), nullptr);
  const Amount a = ParseAmount("-12.5 kW", "--effect");
  EXPECT_DOUBLE_EQ(a.value, -12.5);
  EXPECT_EQ(a.unit, "kW");
  for (const char* bad : {"12", "12 parsecs", "x W", "inf W", " W"}) {
    EXPECT_THROW(ParseAmount(bad, "--value"), InputError) << bad;
  }
}

}  // namespace
}  // namespace firstwall::ops
