// `firstwall anomalies` on a store the emulator filled in process (a fouled CDU from 30 min), and
// its bad inputs: each exits 2 naming the option.
#include <nlohmann/json.hpp>

#include "ops/anomaly_test_support.h"
#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

const char kHall[] = "tests/inputs/anomaly-hall.yaml";

// One hour of the hall with cdu-1 fouled by 3 K from 30 min, in DIR/live.db.
std::string FouledStore() {
  static const std::string db = [] {
    const fs::path dir = Fresh("anomalies_cli");
    scenario::Scenario sc = scenario::LoadScenarioFile(kHall);
    sc.site.duration = SimTime::From(units::Seconds(3600));
    const std::string path = (dir / "live.db").string();
    ops::EmulateIntoStore(
        sc.site, kHall,
        {live::ParseFault("fouled_cdu=3:firstwall_cdu_supply_temperature_celsius{cdu=\"cdu-1\"}"
                          ":30min:1h")},
        path);
    return path;
  }();
  return db;
}

TEST(AnomaliesCli, FindsTheFouledCduInTextAndJson) {
  const std::string args = "anomalies --db " + FouledStore() + " --scenario " + kHall;
  const Result text = Firstwall(args + " --calibrate 20min");
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("136 residual series"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("cdu/cdu-1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("fouled_cdu"), std::string::npos) << text.out;
  const Result js = Firstwall(args + " --calibrate 20min --json");
  ASSERT_EQ(js.status, 0) << js.out;
  const nlohmann::json j = nlohmann::json::parse(js.out);
  EXPECT_EQ(j["calibration_steps"], 120);  // 20 min of 10 s steps
  ASSERT_EQ(j["findings"].size(), 1u);
  const nlohmann::json& f = j["findings"][0];
  EXPECT_EQ(f["kind"], "anomaly");
  EXPECT_EQ(f["target"], "cdu/cdu-1");
  EXPECT_NEAR(f["residual"].get<double>(), 3, 0.6);
  // Stamped from 1.8e12 ms (anomaly_test_support.h): detected within a minute of 30 min.
  EXPECT_GT(f["detected_ms"].get<int64_t>(), 1'800'000'000'000 + 1'800'000);
  EXPECT_LE(f["detected_ms"].get<int64_t>(), 1'800'000'000'000 + 1'860'000);
  // Before the fault (--to at 25 min) there is nothing to find.
  const Result before = Firstwall(args + " --calibrate 20min --json --to 1800001500000");
  ASSERT_EQ(before.status, 0) << before.out;
  EXPECT_EQ(nlohmann::json::parse(before.out)["findings"].size(), 0u);
}

TEST(AnomaliesCli, BadInputsExitTwoNamingTheOption) {
  const std::string db = FouledStore();
  const std::string ok = std::string(" --scenario ") + kHall;
  struct Case {
    std::string args, expect;
  };
  const Case cases[] = {
      {"anomalies --db " + db + ok + " --calibrate soon", "--calibrate"},
      {"anomalies --db " + db + ok + " --calibrate -5min", "--calibrate"},
      {"anomalies --db " + db + ok + " --calibrate 30s", "fewer than 10 to learn on"},
      {"anomalies --db " + db + ok + " --calibrate 2h", "nothing left to watch"},
      {"anomalies --db " + db + ok + " --from yesterday", "--from"},
      {"anomalies --db " + db + ok + " --to 2026-13-01T00:00:00Z", "--to"},
      {"anomalies --db " + db + ok + " --from 1800000600000 --to 1800000600000", "not after"},
      {"anomalies --db " + db + ok + " --step 0s", "--step"},
      // Far below the samples' 10 s spacing: millions of empty steps of every series.
      {"anomalies --db " + db + ok + " --step 1ms", "under a tenth of the GPU power samples'"},
      {"anomalies --db /nonexistent/live.db" + ok, "/nonexistent/live.db"},
      {"anomalies --db " + db + " --scenario tests/inputs/none.yaml", "none.yaml"},
  };
  for (const Case& c : cases) {
    const Result r = Firstwall(c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.args << "\n" << r.out;
  }
  // Required options: CLI11 refuses, as for every subcommand.
  EXPECT_NE(Firstwall("anomalies --scenario " + std::string(kHall)).status, 0);
}

}  // namespace
}  // namespace firstwall::testing_cli
