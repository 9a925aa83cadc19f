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

}  // namespace
}  // namespace firstwall::live
