// The protocol write of an applied setpoint plan (site_write.h) against the emulator's Modbus
// server (live/modbus_server.h) in-process: nothing goes out without the attested approvals, and
// what does go out is read back and audited.
#include "ops/site_write.h"

#include <gtest/gtest.h>

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "live/modbus_server.h"
#include "ops/ops_world_test.h"

namespace firstwall::ops {
namespace {

struct Site {
  live::ModbusServer server{"127.0.0.1:0", {}, "--modbus", 32};
  Site() { server.Publish(std::make_shared<live::Snapshot>()); }
  SiteWriter Writer() {
    return ModbusSetpointWriter(
        ParseModbusUrl(fmt::format("modbus://127.0.0.1:{}/1", server.port())));
  }
};

TEST(SiteWrite, NothingIsWrittenWithoutTheAttestedApprovals) {
  World w;
  Site site;
  const int64_t id = w.ProposeSetpoint();
  const FreshnessProbe fresh = StoreFreshness(w.store);
  w.ops->Approve(w.ap1, id);
  ExpectRefused([&] { w.ops->Apply(w.op, id, fresh, 5 * kMinute, site.Writer()); },
                "plan 1 is proposed; only an approved plan can be applied");
  // The second approval and the state written with SQL: still nothing goes out.
  w.Sql(fmt::format("INSERT INTO ops_approvals(plan, approver, t_ms) VALUES(1, 'abel', {})", kT0));
  w.Sql("UPDATE ops_plans SET state='approved' WHERE id=1");
  ExpectRefused([&] { w.ops->Apply(w.op, id, fresh, 5 * kMinute, site.Writer()); },
                "(1 attested approval(s))");
  EXPECT_TRUE(std::isnan(site.server.coolant_setpoint_c()));
  EXPECT_EQ(site.server.requests(), 0);  // not even connected to

  w.Sql("UPDATE ops_plans SET state='proposed' WHERE id=1");
  w.now += kMinute;
  w.ops->Approve(w.ap2, id);
  w.ops->Apply(w.op, id, fresh, 5 * kMinute, site.Writer());
  EXPECT_DOUBLE_EQ(site.server.coolant_setpoint_c(), 18.0);
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApplied);
  const AuditEntry last = w.Last();
  EXPECT_EQ(last.action, "plan_applied");
  EXPECT_EQ(last.actor, "otto");
  EXPECT_EQ(last.t_ms, kT0 + kMinute);
  const auto written = nlohmann::json::parse(last.detail)["write"];
  EXPECT_EQ(written["protocol"], "modbus-tcp");
  EXPECT_EQ(written["address"], 200);
  EXPECT_EQ(written["raw"], 180);
  EXPECT_DOUBLE_EQ(written["read_back_c"].get<double>(), 18.0);
  EXPECT_EQ(nlohmann::json::parse(last.detail)["approvers"],
            (std::vector<std::string>{"anna", "abel"}));
}

TEST(SiteWrite, AWriteThatFailsIsARefusalAndThePlanStaysApproved) {
  World w;
  int port = 0;
  {
    Site gone;
    port = gone.server.port();
  }  // nothing listens there now
  const int64_t id = w.ProposeSetpoint();
  w.ops->Approve(w.ap1, id);
  w.ops->Approve(w.ap2, id);
  const SiteWriter write =
      ModbusSetpointWriter(ParseModbusUrl(fmt::format("modbus://127.0.0.1:{}", port)));
  ExpectRefused([&] { w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute, write); },
                "the write of plan 1 failed: cannot connect to modbus://127.0.0.1:");
  EXPECT_EQ(w.ops->Get(id).state, PlanState::kApproved);
  EXPECT_EQ(w.Last().action, "refused");
  // A power cap is no setpoint register's: refused, not written.
  Site site;
  const int64_t cap = w.Propose();
  w.Samples("gpu", "node0/gpu3", "power", {kT0});
  w.ops->Approve(w.ap1, cap);
  ExpectRefused(
      [&] { w.ops->Apply(w.op, cap, StoreFreshness(w.store), 5 * kMinute, site.Writer()); },
      "only a setpoint plan in C is written over Modbus");
  EXPECT_TRUE(std::isnan(site.server.coolant_setpoint_c()));
  // 18.04 C would go out as 18.0 C: another value than the one approved.
  const int64_t fine = w.Propose("setpoint", "cdu/cdu-1", "18.04 C");
  w.Samples("cdu", "cdu-1", "temperature", {kT0});
  w.ops->Approve(w.ap1, fine);
  w.ops->Approve(w.ap2, fine);
  ExpectRefused(
      [&] { w.ops->Apply(w.op, fine, StoreFreshness(w.store), 5 * kMinute, site.Writer()); },
      "18.04 C is finer than the register's 0.1 C");
  EXPECT_TRUE(std::isnan(site.server.coolant_setpoint_c()));
}

TEST(SiteWrite, ModbusUrls) {
  const ModbusTarget t = ParseModbusUrl("modbus://10.0.0.5:5020/7");
  EXPECT_EQ(t.host, "10.0.0.5");
  EXPECT_EQ(t.port, 5020);
  EXPECT_EQ(t.unit, 7);
  EXPECT_EQ(ParseModbusUrl("modbus://plc.local:502").unit, 1);
  for (const char* bad : {"http://h:1", "modbus://h", "modbus://h:0", "modbus://h:70000",
                          "modbus://h:502/248", "modbus://h:502/", "modbus://:502"}) {
    try {
      ParseModbusUrl(bad);
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_EQ(e.where().file, "--write") << bad;
    }
  }
}

}  // namespace
}  // namespace firstwall::ops
