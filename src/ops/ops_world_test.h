// The store the operations cases run on (ops_cases_test.cc, ops_attest_cases_test.cc): five
// users, one of each role and two approvers, at a clock the test moves.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "live/store.h"
#include "ops/audit.h"
#include "ops/ops.h"
#include "ops/ops_test_support.h"

namespace firstwall::ops {

constexpr int64_t kT0 = 1'800'000'000'000;  // 2027-01-15T08:00:00Z
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;

// A store with five users, one of each role and two approvers, at a clock the test moves.
struct World {
  std::string store;
  int64_t now = kT0;
  std::unique_ptr<Operations> ops;
  User admin{"ada", Role::kAdmin}, op{"otto", Role::kOperator}, ap1{"anna", Role::kApprover},
      ap2{"abel", Role::kApprover}, viewer{"vera", Role::kViewer};

  World() : store(TestBackend().NewStore()) {
    ops = std::make_unique<Operations>(OpenSqlDb(store), [this] { return now; });
    ops->AddUser(std::nullopt, admin.name, admin.role, "correct horse");
    for (const User& u : {op, ap1, ap2, viewer})
      ops->AddUser(admin, u.name, u.role, "password-" + u.name);
  }
  // A plan of `cls` proposed by the operator, expiring in an hour.
  int64_t Propose(const std::string& cls = "power_cap",
                  const std::string& target = "gpu/node0/gpu3",
                  const std::string& value = "600 W") {
    PlanRequest r;
    r.plan_class = cls;
    r.target = target;
    r.value = ParseAmount(value, "--value");
    r.reason = "price peak 18:00-20:00";
    r.effect = ParseAmount("-12 kW", "--effect");
    r.effect_uncertainty = 3;
    r.expires_ms = now + kHour;
    return ops->Propose(op, r);
  }
  // The risky plan of the tests: cdu/cdu-1's supply at 18 C (effect -12 +- 3 kW), with a fresh
  // sample of its temperature.
  int64_t ProposeSetpoint() {
    const int64_t id = Propose("setpoint", "cdu/cdu-1", "18 C");
    Samples("cdu", "cdu-1", "temperature", {now});
    return id;
  }
  // Samples of ENTITY/ID's quantity at the times given, in the live store.
  void Samples(const std::string& entity, const std::string& id, const std::string& quantity,
               const std::vector<int64_t>& times) {
    std::vector<std::pair<int64_t, double>> points;
    for (int64_t t : times) points.emplace_back(t, 500.0);
    Values(entity, id, quantity, points);
  }
  // (time, value) samples of ENTITY/ID's quantity from source `source`.
  void Values(const std::string& entity, const std::string& id, const std::string& quantity,
              const std::vector<std::pair<int64_t, double>>& values,
              const std::string& source = "bms") {
    std::unique_ptr<live::Store> s = live::OpenStore(store);
    const int64_t series =
        s->SeriesId({entity, id, quantity, "W", source, entity + "_" + quantity});
    std::vector<live::SamplePoint> points;
    for (const auto& [t, v] : values) points.push_back({t, v, 0});
    s->Append(series, points);
    s->Flush();
  }
  std::vector<std::string> Actions() {
    std::vector<std::string> out;
    for (const AuditEntry& e : ReadAudit(ops->db())) out.push_back(e.action);
    return out;
  }
  AuditEntry Last() { return ReadAudit(ops->db()).back(); }
  void Sql(const std::string& sql) { TestBackend().Sql(store, sql); }
};

// Runs `f`, which must be refused with a message holding `words`.
template <class F>
inline void ExpectRefused(F&& f, const std::string& words) {
  try {
    f();
    ADD_FAILURE() << "not refused; expected: " << words;
  } catch (const Refused& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

}  // namespace firstwall::ops
