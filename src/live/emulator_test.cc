#include "live/emulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "scenario/loader.h"

namespace firstwall::live {
namespace {

// The test hall of tests/inputs/live-emulate.yaml: 2 nodes of 8 GPUs.
const site::SiteConfig& Hall() {
  static const scenario::Scenario sc = scenario::LoadScenarioFile("tests/inputs/live-emulate.yaml");
  return sc.site;
}

report::TickRow Row(double facility_w) {
  report::TickRow row;
  row.seconds = 1;
  row.facility_w = facility_w;
  row.it_input_w = facility_w / 1.25;
  row.gpu_w = 16 * 600;
  row.stage_input_w = {100e3, 105e3};
  return row;
}

const Reading* Facility(const Snapshot& s, size_t k = 0) {
  const Family* f = s.Find("firstwall_facility_power_watts");
  return f && f->readings.size() > k ? &f->readings[k] : nullptr;
}

double Gauge(const Snapshot& s, const char* metric) {
  const Family* f = s.Find(metric);
  return f && !f->readings.empty() ? f->readings[0].value : std::nan("");
}

// A coolant supply setpoint written over Modbus (modbus_server.h) moves the telemetry by the
// cooling plant's own model (setpoint_shift.h). The hall supplies 32 C water and its tower, at
// 25 C dry bulb and 50 % RH (wet bulb about 18 C) with a 4 K approach, makes about 22 C: no
// chiller runs. At 18 C the chillers must run; the cold plates' coolant is the supply plus the
// CDU's approach, which does not depend on the supply, so it falls by exactly 32 - 18 = 14 K.
TEST(Emulator, AWrittenSupplySetpointMovesCoolantAndCoolingPower) {
  report::TickRow row = Row(60e3);
  row.it_w = 40e3;
  row.loss_w = 3e3;
  row.gpu_coolant_c = 35;
  row.cooling_w = 2e3;
  TelemetryBuilder b(Hall(), {});
  const Snapshot before = b.Build(row, 1);
  b.SetCoolantSupply(18);
  const Snapshot after = b.Build(row, 2);
  EXPECT_DOUBLE_EQ(Gauge(before, "firstwall_coolant_supply_temperature_celsius"), 35);
  EXPECT_NEAR(Gauge(after, "firstwall_coolant_supply_temperature_celsius"), 21, 1e-9);
  const double chillers = Gauge(after, "firstwall_chiller_power_watts");
  const double more = Gauge(after, "firstwall_cooling_power_watts") - 2e3;
  std::printf("setpoint 32 -> 18 C: chillers %.0f W, cooling +%.0f W\n", chillers, more);
  EXPECT_DOUBLE_EQ(Gauge(before, "firstwall_chiller_power_watts"), 0);
  EXPECT_GT(chillers, 0);
  EXPECT_GT(more, 0);
  EXPECT_NEAR(Gauge(after, "firstwall_facility_power_watts") - 60e3, more, 1e-6);
  // Back at the scenario's setpoint, the rows are the simulation's again.
  b.SetCoolantSupply(32);
  EXPECT_DOUBLE_EQ(Gauge(b.Build(row, 3), "firstwall_cooling_power_watts"), 2e3);
}

TEST(Emulator, CtRatioScalesTheMeterInsideItsWindow) {
  TelemetryBuilder b(Hall(), {ParseFault("ct_ratio=0.5:firstwall_facility_power_watts:2s:4s")});
  std::vector<double> seen;
  for (int t = 1; t <= 5; ++t) seen.push_back(Facility(b.Build(Row(1000.0 * t), t))->value);
  EXPECT_EQ(seen, (std::vector<double>{1000, 1000, 1500, 4000, 5000}));
}

TEST(Emulator, ClockSkewStampsTheStreamAhead) {
  TelemetryBuilder b(Hall(), {ParseFault("clock_skew=90s:firstwall_facility_power_watts:0s:1h")});
  Snapshot s = b.Build(Row(1000), 10);
  s.epoch0_ms = 1'000'000;
  s.speed = 10;
  ASSERT_TRUE(Facility(s)->time_s);
  EXPECT_EQ(*Facility(s)->time_s, 100);
  // 100 simulated seconds at 10x are 10 s of wall clock after the start.
  EXPECT_NE(RenderExposition(s).find("firstwall_facility_power_watts 1000 1010000\n"),
            std::string::npos);
  // Other streams stay unstamped.
  EXPECT_NE(RenderExposition(s).find("firstwall_cooling_power_watts 0\n"), std::string::npos);
}

TEST(Emulator, LateServesTheSampleOfThatLongAgoWithItsTime) {
  TelemetryBuilder b(Hall(), {ParseFault("late=3s:firstwall_facility_power_watts:5s:1h")});
  for (int t = 1; t <= 4; ++t) EXPECT_FALSE(Facility(b.Build(Row(100.0 * t), t))->time_s);
  const Snapshot s = b.Build(Row(500), 5);
  ASSERT_TRUE(Facility(s)->time_s);
  EXPECT_EQ(*Facility(s)->time_s, 2);
  EXPECT_EQ(Facility(s)->value, 200);
}

TEST(Emulator, DuplicateServesEachSampleAgainWithTheNext) {
  TelemetryBuilder b(Hall(), {ParseFault("duplicate:firstwall_facility_power_watts:2s:4s")});
  EXPECT_EQ(b.Build(Row(100), 1).Find("firstwall_facility_power_watts")->readings.size(), 1u);
  const Snapshot first = b.Build(Row(200), 2);  // the window opens: stamped, not yet repeated
  ASSERT_EQ(first.Find("firstwall_facility_power_watts")->readings.size(), 1u);
  EXPECT_EQ(*Facility(first)->time_s, 2);
  const Snapshot second = b.Build(Row(300), 3);
  ASSERT_EQ(second.Find("firstwall_facility_power_watts")->readings.size(), 2u);
  EXPECT_EQ(*Facility(second, 0)->time_s, 2);
  EXPECT_EQ(Facility(second, 0)->value, 200);
  EXPECT_EQ(*Facility(second, 1)->time_s, 3);
  EXPECT_EQ(b.Build(Row(400), 4).Find("firstwall_facility_power_watts")->readings.size(), 1u);
}

TEST(Emulator, FaultsWithValuesAreCheckedAtTheOption) {
  auto message = [](const std::string& text) {
    try {
      ParseFault(text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("clock_skew:m:1s:2s").find("clock_skew needs a value: clock_skew=DURATION"),
            std::string::npos);
  EXPECT_NE(message("stuck=3:m:1s:2s").find("stuck takes no value"), std::string::npos);
  EXPECT_NE(message("ct_ratio=1:m:1s:2s").find("not a factor above 0"), std::string::npos);
  EXPECT_NE(message("late=-2s:m:1s:2s").find("not a positive duration"), std::string::npos);
  EXPECT_NE(message("late=2:m:1s:2s").find("time '2'"), std::string::npos);
  EXPECT_EQ(message("clock_skew=-30s:m:1s:2s"), "accepted");
}

// The reading of `metric` whose labels include `label`=`value` ("" for the first).
double Value(const Snapshot& s, const char* metric, const char* label = "", const char* value = "",
             const char* label2 = "", const char* value2 = "") {
  const Family* f = s.Find(metric);
  EXPECT_NE(f, nullptr) << metric;
  for (const Reading& r : f ? f->readings : std::vector<Reading>{}) {
    int hits = 0;
    for (const Label& l : r.labels)
      hits += (l.name == label && l.value == value) + (l.name == label2 && l.value == value2);
    if (hits == (*label ? 1 : 0) + (*label2 ? 1 : 0)) return r.value;
  }
  ADD_FAILURE() << metric << " " << label << "=" << value;
  return 0;
}

TEST(Emulator, SlowGpuScalesItsWorkAndPowerAboveIdle) {
  TelemetryBuilder clean(Hall(), {});
  TelemetryBuilder b(
      Hall(),
      {ParseFault("slow_gpu=0.5:DCGM_FI_DEV_GPU_UTIL{Hostname=\"node1\",gpu=\"3\"}:2s:1h")});
  report::TickRow row = Row(100e3);
  row.gpu_activity = 0.9;
  const double idle = units::ToWatts(Hall().cluster.gpu.idle_power);
  for (int t = 1; t <= 3; ++t) {
    const Snapshot c = clean.Build(row, t), s = b.Build(row, t);
    const double p = Value(c, "DCGM_FI_DEV_POWER_USAGE", "Hostname", "node1", "gpu", "3");
    const double slowed = Value(s, "DCGM_FI_DEV_POWER_USAGE", "Hostname", "node1", "gpu", "3");
    EXPECT_NEAR(slowed, t < 2 ? p : idle + 0.5 * (p - idle), 1e-9);
    EXPECT_DOUBLE_EQ(Value(s, "DCGM_FI_DEV_GPU_UTIL", "Hostname", "node1", "gpu", "3"),
                     t < 2 ? 90 : 45);
    // A sibling is untouched; the node's meter carries the drop.
    EXPECT_DOUBLE_EQ(Value(s, "DCGM_FI_DEV_GPU_UTIL", "Hostname", "node1", "gpu", "2"), 90);
    EXPECT_NEAR(Value(c, "firstwall_node_power_watts", "Hostname", "node1") -
                    Value(s, "firstwall_node_power_watts", "Hostname", "node1"),
                p - slowed, 1e-6);
  }
}

TEST(Emulator, FouledCduRaisesItsSupplyAndItsGpus) {
  // The hall: one rack of two nodes, so one CDU, cdu-0.
  TelemetryBuilder b(
      Hall(),
      {ParseFault("fouled_cdu=3K:firstwall_cdu_supply_temperature_celsius{cdu=\"cdu-0\"}:2s:1h")});
  report::TickRow row = Row(100e3);
  row.gpu_coolant_c = 30;
  EXPECT_DOUBLE_EQ(Value(b.Build(row, 1), "firstwall_cdu_supply_temperature_celsius"), 30);
  const Snapshot s = b.Build(row, 2);
  EXPECT_DOUBLE_EQ(Value(s, "firstwall_cdu_supply_temperature_celsius", "cdu", "cdu-0"), 33);
  EXPECT_DOUBLE_EQ(Value(s, "DCGM_FI_DEV_GPU_TEMP", "Hostname", "node1", "gpu", "7"), 33);
  EXPECT_DOUBLE_EQ(Value(s, "firstwall_coolant_supply_temperature_celsius"), 30);  // the plant's
}

TEST(Emulator, StuckChillerHoldsItsPowerAndTheMetersCarryIt) {
  TelemetryBuilder b(Hall(), {ParseFault("chiller_stuck:firstwall_chiller_power_watts:2s:4s")});
  for (int t = 1; t <= 4; ++t) {
    report::TickRow row = Row(100e3);
    row.chillers_w = 1000.0 * t;
    row.cooling_w = row.chillers_w + 500;
    const Snapshot s = b.Build(row, t);
    const double held = t == 3 ? 2000 : 1000.0 * t;  // from 2 s, until 4 s
    EXPECT_DOUBLE_EQ(Value(s, "firstwall_chiller_power_watts"), held);
    EXPECT_DOUBLE_EQ(Value(s, "firstwall_cooling_power_watts"), held + 500);
    EXPECT_DOUBLE_EQ(Value(s, "firstwall_facility_power_watts"), 100e3 + held - 1000.0 * t);
  }
}

TEST(Emulator, DriftingPduReadingKeepsATrueCounter) {
  TelemetryBuilder b(
      Hall(), {ParseFault("pdu_drift=36:firstwall_rack_pdu_power_watts{rack=\"rack0\"}:0s:1h")});
  report::TickRow row = Row(100e3);
  row.node_base_w = 4000;
  b.Build(row, 1);
  const Snapshot s = b.Build(row, 101);
  // The rack: its two nodes, 16 GPUs at 600 W +-2 % and 2 x 2 kW base, read 1 % high at 100 s.
  const double sum = Value(s, "firstwall_node_power_watts", "Hostname", "node0") +
                     Value(s, "firstwall_node_power_watts", "Hostname", "node1");
  EXPECT_NEAR(Value(s, "firstwall_rack_pdu_power_watts", "rack", "rack0"), sum * 1.0101,
              1e-6 * sum);
  // The counter integrates the true power: 1 s of the first tick's (9600 W +-2 % and 4 kW) and
  // 100 s of the last's.
  EXPECT_NEAR(Value(s, "firstwall_rack_pdu_energy_joules_total", "rack", "rack0") - 100 * sum,
              13600, 200);
}

// A degraded NIC: its port reports the rate its link trained to, and the site the simulation runs
// gets that NIC's link at the same fraction over the window, so the job whose all-reduce crosses
// it steps slower (report/simulate.h runs it; src/site's fault tests check the slowdown itself).
TEST(Emulator, DegradedNicReportsItsRateAndSlowsTheSitesLink) {
  const FaultSpec f = ParseFault(
      "degraded_nic=0.5:node_infiniband_rate_bytes_per_second{Hostname=\"node1\",device=\"mlx5_3\"}"
      ":10min:1h");
  TelemetryBuilder b(Hall(), {f});
  const double nominal = units::ToBytesPerSecond(Hall().cluster.nic_bandwidth);
  auto rate = [&](const Snapshot& s, const char* host, const char* device) {
    for (const Reading& r : s.Find("node_infiniband_rate_bytes_per_second")->readings) {
      bool h = false, d = false;
      for (const Label& l : r.labels) {
        h = h || (l.name == "Hostname" && l.value == host);
        d = d || (l.name == "device" && l.value == device);
      }
      if (h && d) return r.value;
    }
    return std::nan("");
  };
  const Snapshot before = b.Build(Row(100e3), 60);
  EXPECT_EQ(before.Find("node_infiniband_rate_bytes_per_second")->readings.size(), 16u);
  EXPECT_DOUBLE_EQ(rate(before, "node1", "mlx5_3"), nominal);
  const Snapshot during = b.Build(Row(100e3), 900);
  EXPECT_DOUBLE_EQ(rate(during, "node1", "mlx5_3"), nominal / 2);
  EXPECT_DOUBLE_EQ(rate(during, "node1", "mlx5_2"), nominal);
  EXPECT_DOUBLE_EQ(rate(during, "node0", "mlx5_3"), nominal);
  const site::SiteConfig faulted = WithEquipmentFaults(Hall(), {f});
  ASSERT_EQ(faulted.faults.size(), Hall().faults.size() + 1);
  const site::FaultConfig& link = faulted.faults.back();
  EXPECT_EQ(link.target, "nic:11");  // node1's GPU 3 of 8
  EXPECT_FALSE(link.links.empty());
  EXPECT_DOUBLE_EQ(link.health, 0.5);
  EXPECT_DOUBLE_EQ(link.at.seconds(), 600);
  EXPECT_DOUBLE_EQ(link.end.seconds(), 3600);
  // A TPU slice's torus has no NIC links in the fabric model: refused, not rehearsed as nothing.
  const scenario::Scenario tpu = scenario::LoadScenarioFile("examples/tpu-pod.yaml");
  try {
    CheckFaultTargets(
        tpu.site, {ParseFault("degraded_nic=0.5:node_infiniband_rate_bytes_per_second:1min:2min")});
    ADD_FAILURE() << "a degraded NIC on a torus was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("torus"), std::string::npos) << e.what();
  }
}

TEST(Emulator, EquipmentFaultsCheckTheirTargetAndValue) {
  auto message = [](const std::string& text) {
    try {
      ParseFault(text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("slow_gpu=1:DCGM_FI_DEV_GPU_UTIL:1s:2s").find("below 1"), std::string::npos);
  EXPECT_NE(message("slow_gpu=0.5:firstwall_pue:1s:2s").find("slow_gpu targets DCGM_FI_DEV_*"),
            std::string::npos);
  EXPECT_NE(
      message("fouled_cdu=0:firstwall_cdu_supply_temperature_celsius:1s:2s").find("above 0 K"),
      std::string::npos);
  EXPECT_NE(message("fouled_cdu=3 C:firstwall_cdu_supply_temperature_celsius:1s:2s").find("'3 C'"),
            std::string::npos);
  EXPECT_NE(message("pdu_drift=0:firstwall_rack_pdu_power_watts:1s:2s").find("other than 0"),
            std::string::npos);
  EXPECT_NE(message("chiller_stuck=1:firstwall_chiller_power_watts:1s:2s").find("takes no value"),
            std::string::npos);
  EXPECT_EQ(message("pdu_drift=-5%/h:firstwall_rack_pdu_power_watts{rack=\"rack0\"}:1s:2s"),
            "accepted");
  EXPECT_NE(message("degraded_nic=1:node_infiniband_rate_bytes_per_second:1s:2s")
                .find("a fraction of the link's rate above 0 and below 1"),
            std::string::npos);
  EXPECT_NE(message("degraded_nic=0.5:DCGM_FI_DEV_GPU_UTIL:1s:2s")
                .find("degraded_nic targets node_infiniband_rate_bytes_per_second"),
            std::string::npos);
  // A CDU the site does not have is no stream the emulator serves.
  try {
    CheckFaultTargets(
        Hall(),
        {ParseFault("fouled_cdu=2:firstwall_cdu_supply_temperature_celsius{cdu=\"cdu-9\"}:1s:2s")});
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no stream"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace firstwall::live
