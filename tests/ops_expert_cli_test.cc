// `firstwall ops advise` and `firstwall ops report` end to end: findings routed to the experts,
// their plans priced by the twin's what-if, the daily report of a store, JSON out, and bad
// findings or options refused with exit status 2.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

const char* kFindings = R"([
  {"kind": "anomaly", "target": "cdu/cdu-1", "cause": "fouled_cdu", "residual": 1.3},
  {"kind": "forecast_peak", "target": "facility/hall-a", "cause": "peak_over_grid_limit",
   "residual": 1600},
  {"kind": "anomaly", "target": "pdu/pdu-a", "cause": "pdu_drift", "residual": 300}
])";

// A fresh directory `name` holding site.db, whose one user is ada (admin, "correct horse"), and
// findings.json (kFindings).
fs::path StoreWithAda(const std::string& name) {
  const fs::path dir = Fresh(name);
  fs::create_directories(dir);
  setenv("FIRSTWALL_NEW_PASSWORD", "correct horse", 1);
  const Result r =
      Firstwall("ops user add --name ada --role admin --store " + (dir / "site.db").string());
  unsetenv("FIRSTWALL_NEW_PASSWORD");
  EXPECT_EQ(r.status, 0) << r.out;
  std::ofstream(dir / "findings.json") << kFindings;
  return dir;
}

TEST(OpsAdviseCli, FindingsBecomeAdvicePlansAndWhatIfs) {
  const fs::path dir = Fresh("advise");
  fs::create_directories(dir);
  std::ofstream(dir / "findings.json") << kFindings;
  const std::string args = "ops advise --findings " + (dir / "findings.json").string() +
                           " --scenario tests/inputs/live-emulate.yaml";
  Result r = Firstwall(args + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["expert"], "cooling");
  EXPECT_EQ(j[0]["plan"]["class"], "setpoint");
  EXPECT_EQ(j[0]["plan"]["value"], 30.5);
  EXPECT_EQ(j[0]["what_if"]["changes"][0]["key"], "facility.cooling.liquid_supply");
  EXPECT_EQ(j[0]["checks"].size(), 5u);
  EXPECT_EQ(j[1]["expert"], "power");
  EXPECT_EQ(j[1]["plan"]["class"], "power_cap");
  EXPECT_EQ(j[1]["plan"]["target"], "facility/hall-a");
  EXPECT_EQ(j[1]["plan"]["value_unit"], "W");
  // Capping the GPUs lowers the facility's mean power; the plan carries the what-if's figure.
  const double kw = j[1]["what_if"]["facility_power_change_kw"];
  EXPECT_LT(kw, -0.5);
  EXPECT_DOUBLE_EQ(j[1]["plan"]["effect"].get<double>(), kw);
  EXPECT_DOUBLE_EQ(j[1]["plan"]["effect_uncertainty"].get<double>(), 0.15 * -kw);
  EXPECT_EQ(j[2]["expert"], "data_quality");
  EXPECT_TRUE(j[2]["plan"].is_null());

  r = Firstwall(args + " --no-what-if");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("expert cooling, rule cooling.fouled_cdu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("what-if: none, what-ifs were not asked for"), std::string::npos) << r.out;
}

TEST(OpsAdviseCli, BadFindingsAndOptionsExitTwo) {
  const fs::path dir = Fresh("advise-bad");
  fs::create_directories(dir);
  std::ofstream(dir / "bad.json") << "[\n  {\"kind\": \"anomaly\", \"target\": \"cdu/c1\", "
                                     "\"severity\": 3}\n]\n";
  const std::string scenario = " --scenario tests/inputs/live-emulate.yaml";
  Result r = Firstwall("ops advise --findings " + (dir / "bad.json").string() + scenario);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("bad.json:2:3: error: unknown finding key 'severity'"), std::string::npos)
      << r.out;
  r = Firstwall("ops advise --findings " + (dir / "none.json").string() + scenario);
  EXPECT_EQ(r.status, 2) << r.out;
  std::ofstream(dir / "ok.json") << "[]";
  r = Firstwall("ops advise --findings " + (dir / "ok.json").string() + scenario +
                " --lifetime 0s");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--lifetime"), std::string::npos) << r.out;
  r = Firstwall("ops advise --findings " + (dir / "ok.json").string() + scenario +
                " --effect-uncertainty -1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--effect-uncertainty"), std::string::npos) << r.out;
  r = Firstwall("ops advise --findings " + (dir / "ok.json").string() +
                " --scenario tests/inputs/nothing.yaml");
  EXPECT_EQ(r.status, 2) << r.out;
  r = Firstwall("ops advise --findings " + (dir / "ok.json").string() + scenario);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("no findings"), std::string::npos);
}

// A forecast peak over the grid limit is a finding the power expert answers with a GPU cap whose
// what-if takes the facility down by about the excess.
TEST(OpsAdviseCli, AForecastPeakBecomesAPowerCap) {
  const fs::path dir = Fresh("advise-forecast");
  Result r = Firstwall(
      "forecast tests/inputs/live-emulate.yaml --horizon 24h --set site.grid_import_limit=15kW "
      "--out " +
      (dir / "fc").string());
  ASSERT_EQ(r.status, 0) << r.out;
  r = Firstwall("ops advise --json --findings " + (dir / "fc" / "forecast.json").string() +
                " --scenario tests/inputs/live-emulate.yaml");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["finding"]["kind"], "forecast_peak");
  EXPECT_EQ(j[0]["finding"]["cause"], "peak_over_grid_limit");
  const double over_kw = j[0]["finding"]["residual"].get<double>() / 1e3;
  EXPECT_GT(over_kw, 0.5);
  EXPECT_EQ(j[0]["expert"], "power");
  EXPECT_EQ(j[0]["plan"]["class"], "power_cap");
  EXPECT_EQ(j[0]["plan"]["target"], "facility/site");
  // The cap is cut from the GPUs alone (losses and cooling ignored), so it saves at least the
  // excess.
  EXPECT_LT(j[0]["plan"]["effect"].get<double>(), -over_kw);
}

// A PDU failure restarts four jobs at once: the forecast sees the ramp over site.grid_ramp_limit,
// and the power expert staggers the restarts; the plan goes through propose like any other.
TEST(OpsAdviseCli, ARestartRampBecomesStaggeredRestarts) {
  const fs::path dir = Fresh("advise-ramp");
  Result r = Firstwall("forecast tests/inputs/ops-restart-burst.yaml --horizon 24h --out " +
                       (dir / "fc").string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("restarts: 1 burst of several jobs; the steepest raises facility power"),
            std::string::npos)
      << r.out;
  r = Firstwall("ops advise --json --findings " + (dir / "fc" / "forecast.json").string() +
                " --scenario tests/inputs/ops-restart-burst.yaml");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["finding"]["kind"], "forecast_ramp");
  EXPECT_EQ(j[0]["finding"]["cause"], "restart_burst");
  EXPECT_GT(j[0]["finding"]["residual"].get<double>(), 3000);  // about 18.8 kW against 15
  EXPECT_EQ(j[0]["rule"], "power.stagger_restarts");
  EXPECT_EQ(j[0]["plan"]["class"], "stagger");
  EXPECT_EQ(j[0]["plan"]["value"], 120);
  EXPECT_EQ(j[0]["plan"]["value_unit"], "s");
  EXPECT_LT(j[0]["what_if"]["changed"]["restart_rise_1min_kw"].get<double>(), 15);
}

TEST(OpsAdviseCli, ProposingTheSameFindingsAgainPointsAtTheOpenPlans) {
  const fs::path dir = StoreWithAda("advise-twice");
  const std::string store = (dir / "site.db").string();
  setenv("FIRSTWALL_PASSWORD", "correct horse", 1);
  const std::string args =
      "ops advise --json --no-what-if --findings " + (dir / "findings.json").string() +
      " --scenario tests/inputs/live-emulate.yaml --propose --user ada --store " + store;
  Result r = Firstwall(args);
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["proposed_plan"], 1);
  EXPECT_EQ(j[1]["proposed_plan"], 2);
  EXPECT_FALSE(j[2].contains("proposed_plan"));  // advice only
  // The next cycle finds the same faults: the plans waiting for a decision are named, not copied.
  r = Firstwall(args);
  unsetenv("FIRSTWALL_PASSWORD");
  ASSERT_EQ(r.status, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j[0].contains("proposed_plan"));
  EXPECT_EQ(j[0]["open_plan"], 1);
  EXPECT_EQ(j[1]["open_plan"], 2);
  r = Firstwall("ops plan list --json --store " + store);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 2u) << r.out;
}

TEST(OpsAdviseCli, AnOpenPlanOfTheSameValueButAnotherMeaningIsNotTheSameChange) {
  // Two price peaks over different limits give the same 420 W cap on the flexible jobs' GPUs, but
  // bound to other hours: two plans. The same finding again names its open plan.
  const fs::path dir = StoreWithAda("advise-meaning");
  const std::string store = (dir / "site.db").string();
  auto finding = [&](const std::string& name, double limit) {
    std::ofstream(dir / name)
        << R"([{"kind": "forecast_peak", "cause": "price_peak", "target": "facility/site", )"
        << R"("residual": )" << 140 - limit << R"(, "limit": )" << limit << "}]";
    return (dir / name).string();
  };
  setenv("FIRSTWALL_PASSWORD", "correct horse", 1);
  auto advise = [&](const std::string& findings) {
    const Result r = Firstwall("ops advise --json --findings " + findings +
                               " --scenario tests/inputs/price-peak-site.yaml --propose --user "
                               "ada --store " +
                               store);
    EXPECT_EQ(r.status, 0) << r.out;
    return nlohmann::json::parse(r.out).at(0);
  };
  const nlohmann::json first = advise(finding("100.json", 100));
  EXPECT_EQ(first["proposed_plan"], 1) << first.dump();
  EXPECT_EQ(first["plan"]["value"], 420);
  const nlohmann::json again = advise(finding("100.json", 100));
  EXPECT_EQ(again["open_plan"], 1) << again.dump();
  const nlohmann::json other = advise(finding("60.json", 60));
  unsetenv("FIRSTWALL_PASSWORD");
  EXPECT_EQ(other["plan"]["value"], 420);
  EXPECT_EQ(other["proposed_plan"], 2) << other.dump();
  EXPECT_NE(other["plan"]["reason"].get<std::string>().find("above 60 USD/MWh"), std::string::npos);
}

TEST(OpsReportCli, TheDaysReportOfAStoreAndItsBadOptions) {
  const fs::path dir = StoreWithAda("ops-report");
  const std::string store = (dir / "site.db").string();
  std::ofstream(dir / "forecast.json") << R"({"peak_facility_power_kw": 12.5})";
  // Today (UTC): the user was added now, so the day holds that one audit entry.
  Result r = Firstwall("ops report --json --store " + store + " --forecast " +
                       (dir / "forecast.json").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema"], "firstwall.ops_daily_report/1");
  EXPECT_EQ(j["decisions"].size(), 1u);
  EXPECT_EQ(j["decisions"][0]["action"], "user_created");
  EXPECT_EQ(j["audit_chain"]["ok"], true);
  EXPECT_EQ(j["forecast"]["peak_facility_power_kw"], 12.5);
  EXPECT_TRUE(j["data_quality"].is_null());
  EXPECT_TRUE(fs::exists(dir / "out" / "ops_report.txt"));
  EXPECT_TRUE(fs::exists(dir / "out" / "ops_report.json"));
  // Findings carry no time here (detected_ms 0): none falls in the day.
  r = Firstwall("ops report --store " + store + " --findings " + (dir / "findings.json").string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Findings: 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Forecast for tomorrow: none given"), std::string::npos) << r.out;

  r = Firstwall("ops report --store " + store + " --day 2026-02-30");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--day: error: '2026-02-30' is not a day"), std::string::npos) << r.out;
  r = Firstwall("ops report --store " + store + " --day 26-2-3");
  EXPECT_EQ(r.status, 2);
  r = Firstwall("ops report --store " + (dir / "none.db").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_FALSE(fs::exists(dir / "none.db"));
  std::ofstream(dir / "bad.json") << "{";
  r = Firstwall("ops report --store " + store + " --forecast " + (dir / "bad.json").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("bad.json: error: malformed JSON"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace firstwall::testing_cli
