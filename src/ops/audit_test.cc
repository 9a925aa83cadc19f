// The audit chain's hashing and verdicts without a store, and the words of ops.h.
#include "ops/audit.h"

#include <gtest/gtest.h>

#include <sodium.h>
#include <array>
#include <vector>

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

// The option a plan request is refused on, "" when it is accepted.
std::string RefusedOption(const std::string& cls, const std::string& target,
                          const std::string& value) {
  PlanRequest r;
  r.plan_class = cls;
  r.target = target;
  r.value = ParseAmount(value, "--value");
  r.effect = ParseAmount("-12 kW", "--effect");
  r.expires_ms = 2000;
  try {
    CheckPlanRequest(r, 1000);
  } catch (const InputError& e) {
    return e.where().file;
  }
  return "";
}

// A breaker proposed 18 kW as a CDU setpoint, -300 C and a negative power cap: each value must be
// of the quantity the class sets on that entity, within its bounds (plan_rules.cc).
TEST(Ops, APlanValueMustFitItsClassAndTarget) {
  // class, target, value, the option refused ("" when accepted)
  const std::vector<std::array<const char*, 4>> cases = {
      {"setpoint", "cdu/cdu-1", "18 C", ""},
      {"setpoint", "facility/site", "45 C", ""},  // W45's upper end
      {"setpoint", "cdu/cdu-1", "18 kW", "--value"},
      {"setpoint", "cdu/cdu-1", "-300 C", "--value"},
      {"setpoint", "chiller/ch-1", "1.9 C", "--value"},
      {"setpoint", "cdu/cdu-1", "46 C", "--value"},
      {"setpoint", "gpu/node0/gpu3", "18 C", "--target"},
      {"power_cap", "gpu/node0/gpu3", "600 W", ""},
      {"power_cap", "gpu/node0/gpu3", "1.4 kW", ""},  // GB300's TDP
      {"power_cap", "gpu/node0/gpu3", "1401 W", "--value"},
      {"power_cap", "gpu/node0/gpu3", "-600 W", "--value"},
      {"power_cap", "gpu/node0/gpu3", "0 W", "--value"},
      {"power_cap", "node/node0", "12 kW", ""},
      {"power_cap", "node/node0", "16 kW", "--value"},
      {"power_cap", "cdu/cdu-1", "600 W", "--target"},
      {"drain", "node/node3", "0 %", ""},
      {"drain", "node/node3", "101 %", "--value"},
      {"drain", "gpu/node0/gpu3", "0 %", "--target"},
      {"job_move", "node/node2", "50 %", ""},
  };
  for (const auto& [cls, target, value, option] : cases) {
    EXPECT_EQ(RefusedOption(cls, target, value), option) << cls << " " << target << " " << value;
  }
}

// An unknown user's login is checked against a hash of the same cost as a real one.
TEST(Ops, TheDummyHashCostsWhatAUsersHashCosts) {
  ASSERT_GE(sodium_init(), 0);
  const std::string dummy = DummyPasswordHash();
  EXPECT_TRUE(dummy.starts_with("$argon2id$v=19$m=65536,t=2,p=1$")) << dummy;
  // 0: made with exactly these limits (1 would mean other limits, -1 not a valid string).
  EXPECT_EQ(crypto_pwhash_str_needs_rehash(dummy.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                           crypto_pwhash_MEMLIMIT_INTERACTIVE),
            0);
  EXPECT_NE(crypto_pwhash_str_verify(dummy.c_str(), "", 0), 0);
}

}  // namespace
}  // namespace firstwall::ops
