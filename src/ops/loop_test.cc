// Issue #14's loop end to end, in simulated time: the emulator runs tests/inputs/anomaly-hall.yaml
// with CDU cdu-1 fouled from 30 min; at 36 min the detector finds and localizes it from the store,
// the cooling expert turns the finding into a setpoint plan priced by a what-if, an operator
// proposes it, two approvers approve, apply writes the setpoint over Modbus TCP to the emulator's
// register (in process) and the emulation follows it; at the end verify measures the realized
// effect from the store, and the audit chain holds every step.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "live/modbus_server.h"
#include "live/temp_path_test_util.h"
#include "ops/anomaly.h"
#include "ops/anomaly_test_support.h"
#include "ops/audit.h"
#include "ops/experts.h"
#include "ops/measure.h"
#include "ops/site_write.h"
#include "ops/sql.h"

namespace firstwall::ops {
namespace {

constexpr const char* kHall = "tests/inputs/anomaly-hall.yaml";
constexpr double kActAtS = 36 * 60;
constexpr int64_t kMinuteMs = 60'000;

TEST(OperationsLoop, FaultDetectedLocalizedProposedApprovedWrittenAndVerified) {
  scenario::Scenario sc = scenario::LoadScenarioFile(kHall);
  sc.site.duration = SimTime::From(units::Seconds(3600));
  const std::vector<live::FaultSpec> faults = {live::ParseFault(
      "fouled_cdu=3:firstwall_cdu_supply_temperature_celsius{cdu=\"cdu-1\"}:30min:2h")};
  live::CheckFaultTargets(sc.site, faults);
  const std::string path = live::TempPath("loop.db");
  constexpr int64_t kEpoch0 = 1'800'000'000'000;  // EmulateIntoStore's
  int64_t now = kEpoch0;
  // The site's people, added at the first tick (EmulateIntoStore makes the store afresh).
  std::optional<Operations> ops_at;
  const User admin{"ada", Role::kAdmin}, op{"otto", Role::kOperator}, ap1{"anna", Role::kApprover},
      ap2{"abel", Role::kApprover};

  live::ModbusServer site("127.0.0.1:0", {}, "--modbus", 32);
  site.Publish(std::make_shared<live::Snapshot>());
  const SiteWriter writer =
      ModbusSetpointWriter(ParseModbusUrl(fmt::format("modbus://127.0.0.1:{}/1", site.port())));

  std::vector<Finding> found;
  std::optional<Recommendation> advice;
  int64_t plan = 0, applied_ms = 0;
  EmulatedStore e = EmulateIntoStore(
      sc.site, kHall, faults, path, [&](double t_s, live::TelemetryBuilder& emulator) {
        now = kEpoch0 + std::llround(t_s * 1000);
        if (!ops_at) {
          ops_at.emplace(OpenSqlDb(path), [&] { return now; });
          ops_at->AddUser(std::nullopt, admin.name, admin.role, "correct horse");
          for (const User& u : {op, ap1, ap2}) {
            ops_at->AddUser(admin, u.name, u.role, "password-" + u.name);
          }
        }
        if (plan != 0 || t_s < kActAtS) return;
        Operations& ops = *ops_at;  // NOLINT
        std::unique_ptr<live::Store> store = live::OpenExistingStore(path);
        AnomalyOptions o;
        o.calibrate_s = 1200;
        found = DetectAnomalies(*store, sc.site, o).findings;
        ASSERT_EQ(found.size(), 1u);
        ExpertOptions x;
        x.scenario_path = kHall;
        x.now_ms = now;
        advice = Advise(found[0], FactsOf(sc.site), x);
        ASSERT_TRUE(advice->plan.has_value()) << advice->advice;
        plan = ops.Propose(op, *advice->plan);
        now += kMinuteMs / 6;
        ops.Approve(ap1, plan);
        ops.Approve(ap2, plan);
        ops.Apply(op, plan, StoreFreshness(path), 5 * kMinuteMs, writer);
        applied_ms = now;
        // The emulation honours the register from its next tick, as `firstwall emulate` does.
        emulator.SetCoolantSupply(site.coolant_setpoint_c());
      });
  ASSERT_NE(plan, 0);
  Operations& ops = *ops_at;

  // Detected and localized: the CDU, its cause, about 3 K.
  EXPECT_EQ(found[0].target, "cdu/cdu-1");
  EXPECT_EQ(found[0].cause, "fouled_cdu");
  EXPECT_NEAR(found[0].residual, 3, 0.6);
  // The cooling expert's plan: that CDU's supply lowered by the rise (the hall runs 25 C water).
  const PlanRequest& p = advice->plan.value();
  EXPECT_EQ(advice->rule, "cooling.fouled_cdu");
  EXPECT_EQ(p.plan_class, "setpoint");
  EXPECT_EQ(p.target, "cdu/cdu-1");
  EXPECT_NEAR(p.value.value, 22, 0.51);
  ASSERT_TRUE(advice->what_if.has_value()) << advice->unchecked;
  // Written over Modbus and read back.
  EXPECT_DOUBLE_EQ(site.coolant_setpoint_c(), p.value.value);
  EXPECT_EQ(ops.Get(plan).state, PlanState::kApplied);

  // Verify, measured from the store over the 10 minutes either side (a minute to settle).
  now = kEpoch0 + 3600 * 1000;
  const Measurement cdu =
      MeasureEffect(path, "cdu/cdu-1", "C", applied_ms, 10 * kMinuteMs, now, "--window", kMinuteMs);
  const Measurement facility = MeasureEffect(path, "facility/site", p.effect.unit, applied_ms,
                                             10 * kMinuteMs, now, "--window", kMinuteMs);
  std::printf(
      "loop: %s %s at %.2f K; plan %s to %g C, predicted %+.3f +- %.3f kW; "
      "realized: cdu-1 supply %+.2f K, facility %+.3f kW\n",
      found[0].target.c_str(), found[0].cause.c_str(), found[0].residual, p.target.c_str(),
      p.value.value, p.effect.value, p.effect_uncertainty, cdu.realized.value,
      facility.realized.value);
  // The CDU's supply follows the setpoint down: by less than the change over these windows, since
  // the second job starts at 40 min and its heat raises the CDU's approach in the after window.
  EXPECT_LT(cdu.realized.value, -1.5);
  EXPECT_GT(cdu.realized.value, p.value.value - 25 - 0.6);
  ops.Verify(op, plan, facility.realized, &facility);
  const Plan done = ops.Get(plan);
  EXPECT_EQ(done.state, PlanState::kVerified);
  ASSERT_TRUE(done.realized.has_value());
  EXPECT_DOUBLE_EQ(done.realized->value, facility.realized.value);

  const std::vector<AuditEntry> log = ReadAudit(ops.db());
  std::vector<std::string> actions;
  for (const AuditEntry& a : log) {
    if (a.subject == fmt::format("plan:{}", plan)) actions.push_back(a.action);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"plan_proposed", "plan_approved", "plan_approved",
                                               "plan_applied", "plan_verified"}));
  const auto applied = nlohmann::json::parse(log[log.size() - 2].detail);
  EXPECT_EQ(applied["write"]["address"], kSetpointRegister);
  EXPECT_TRUE(VerifyAudit(log).ok);
  EXPECT_GT(e.samples, 0);
}

}  // namespace
}  // namespace firstwall::ops
