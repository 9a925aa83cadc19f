// The twin against reality end to end on loopback: `firstwall emulate` serves
// tests/inputs/live-emulate.yaml 20 times faster than real time (once as written, once with a
// known parameter changed), `firstwall ingest` stores it, and `firstwall compare` / `calibrate`
// judge the unchanged scenario against it. No timing is asserted: a slow machine gives fewer
// samples, not a different verdict.
#include <nlohmann/json.hpp>

#include "live/store.h"
#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

using nlohmann::json;

const char kScenario[] = "tests/inputs/live-emulate.yaml";

// Emulates the scenario with `sets` for its two minutes and ingests it into DIR/live.db.
fs::path EmulateAndIngest(const fs::path& dir, const std::string& sets) {
  fs::create_directories(dir);
  const std::string cmd = std::string(FIRSTWALL_BIN) + " emulate " + kScenario + " " + sets +
                          " --speed 20 --listen 127.0.0.1:0 2>&1";
  FILE* emulator = popen(cmd.c_str(), "r");
  EXPECT_NE(emulator, nullptr);
  if (!emulator) return {};
  char line[512] = {};
  EXPECT_NE(fgets(line, sizeof line, emulator), nullptr);
  const std::string first = line;
  const size_t at = first.find("http://127.0.0.1:");
  EXPECT_NE(at, std::string::npos) << first;
  if (at == std::string::npos) {
    pclose(emulator);
    return {};
  }
  const int port = std::stoi(first.substr(at + 17));
  std::ofstream(dir / "map.yaml") << ReplaceOnce(Slurp("tests/inputs/live-site-map.yaml"),
                                                 "127.0.0.1:9400",
                                                 "127.0.0.1:" + std::to_string(port));
  const fs::path db = dir / "live.db";
  const Result ingest = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " + db.string() +
                                  " --for 120s --speed 20 --quiet");
  while (fgets(line, sizeof line, emulator)) {
  }
  pclose(emulator);
  EXPECT_EQ(ingest.status, 0) << ingest.out;
  return db;
}

const json& Signal(const json& window_signals, const std::string& name) {
  for (const json& s : window_signals) {
    if (s["signal"] == name) return s;
  }
  ADD_FAILURE() << "no signal " << name;
  static const json none = json::object();
  return none;
}

TEST(TwinCli, CompareAgainstItsOwnEmulationIsNearlyExactAndBadInputsExitTwo) {
  const fs::path dir = Fresh("twin_self");
  const fs::path db = EmulateAndIngest(dir, "");
  ASSERT_FALSE(db.empty());
  const Result r = Firstwall("compare --db " + db.string() + " --scenario " + kScenario +
                             " --json --out " + (dir / "c").string());
  ASSERT_EQ(r.status, 0) << r.out;
  const json j = json::parse(Slurp(dir / "c" / "compare.json"));
  EXPECT_EQ(json::parse(r.out), j);
  ASSERT_EQ(j["windows"].size(), 1u);
  const json& sig = j["windows"][0]["signals"];
  // 4 facility signals, the UPS stage (the PSUs' input is the IT input meter), the GPU coolant.
  ASSERT_EQ(sig.size(), 6u) << sig.dump(1);
  // The emulator's GPU powers carry a +-2 % jitter each (uniform), so their sum over 16 GPUs
  // differs from the simulation's by about 0.29 % of the GPU power (1 sigma), about 0.2 % of the
  // IT power; meters print 3 decimals. Power signals then fit within 0.5 % CV(RMSE) and 0.2 %
  // NMBE. The GPU temperature is served in whole degrees: up to 0.5 K of about 33 C, 1.6 %.
  for (const char* name :
       {"facility_power", "it_input_power", "cooling_power", "pue", "stage_input:ups"}) {
    const json& s = Signal(sig, name);
    EXPECT_GT(s["native"]["n"].get<int>(), 60) << name << s.dump();
    EXPECT_LT(s["native"]["cv_rmse"].get<double>(), 0.005) << name << s.dump();
    EXPECT_LT(std::abs(s["native"]["nmbe"].get<double>()), 0.002) << name << s.dump();
    EXPECT_EQ(s["verdict"], "pass") << name;
    EXPECT_EQ(s["drift"], false) << name;
  }
  EXPECT_LT(Signal(sig, "gpu_temperature")["native"]["cv_rmse"].get<double>(), 0.02);
  // The GPU power came from ingest's rollup; read GPU by GPU the fit is the same to 0.05 % (the
  // steps start at the first sample instead of a whole second, and the last partial bucket is out).
  const std::string from = j["it_load"]["gpu_power_from"];
  EXPECT_EQ(from.rfind("rollup sum(gpu power) (1 s buckets; ", 0), 0u) << from;
  const Result each =
      Firstwall("compare --db " + db.string() + " --scenario " + kScenario + " --json --per-gpu");
  ASSERT_EQ(each.status, 0) << each.out;
  const json e = json::parse(each.out);
  EXPECT_EQ(e["it_load"]["gpu_power_from"], "16 GPU power series, sample by sample (--per-gpu)");
  for (const char* name : {"facility_power", "it_input_power", "pue"}) {
    const json& a = Signal(sig, name);
    const json& b = Signal(e["windows"][0]["signals"], name);
    EXPECT_NEAR(a["native"]["cv_rmse"].get<double>(), b["native"]["cv_rmse"].get<double>(), 5e-4)
        << name;
    EXPECT_NEAR(a["native"]["nmbe"].get<double>(), b["native"]["nmbe"].get<double>(), 5e-4) << name;
  }
  // Two windows of a minute, judged on 10 s averages (6 of them a window, p = 1).
  const Result avg = Firstwall("compare --db " + db.string() + " --scenario " + kScenario +
                               " --json --window 60s --average 10s --signals facility_power,pue");
  ASSERT_EQ(avg.status, 0) << avg.out;
  const json a = json::parse(avg.out);
  ASSERT_EQ(a["windows"].size(), 2u);
  const json& w0 = a["windows"][0]["signals"];
  ASSERT_EQ(w0.size(), 2u);
  EXPECT_EQ(w0[0]["signal"], "facility_power");
  EXPECT_EQ(w0[0]["judged_on"], "averaged");
  EXPECT_EQ(w0[0]["averaged"]["n"], 6);
  EXPECT_LT(w0[0]["averaged"]["cv_rmse"].get<double>(), 0.002);  // the jitter averages out

  // Bad inputs: exit 2 with what was wrong.
  const Result none =
      Firstwall("compare --db " + (dir / "absent.db").string() + " --scenario " + kScenario);
  EXPECT_EQ(none.status, 2) << none.out;
  EXPECT_NE(none.out.find("no store"), std::string::npos) << none.out;
  const Result absent = Firstwall("compare --db " + db.string() + " --scenario " + kScenario +
                                  " --signals power_factor");
  EXPECT_EQ(absent.status, 2) << absent.out;
  EXPECT_NE(absent.out.find("no signal 'power_factor'"), std::string::npos) << absent.out;
  const Result zero =
      Firstwall("compare --db " + db.string() + " --scenario " + kScenario + " --window 0s");
  EXPECT_EQ(zero.status, 2) << zero.out;
  EXPECT_NE(zero.out.find("not a positive duration"), std::string::npos) << zero.out;
  const Result unknown = Firstwall("calibrate --db " + db.string() + " --scenario " + kScenario +
                                   " --fit chiller_magic");
  EXPECT_EQ(unknown.status, 2) << unknown.out;
  EXPECT_NE(unknown.out.find("no twin parameter 'chiller_magic'"), std::string::npos)
      << unknown.out;
  const Result twice = Firstwall("calibrate --db " + db.string() + " --scenario " + kScenario +
                                 " --fit node_base_power --fit node_base_power");
  EXPECT_EQ(twice.status, 2) << twice.out;
  EXPECT_NE(twice.out.find("named twice"), std::string::npos) << twice.out;
  // Two names of one key (the rack PSU stage of tests/inputs/live-emulate.yaml), and a parameter
  // that acts on nothing the store holds.
  const Result same = Firstwall("calibrate --db " + db.string() + " --scenario " + kScenario +
                                " --fit psu_efficiency --fit efficiency:rack-psu");
  EXPECT_EQ(same.status, 2) << same.out;
  EXPECT_NE(same.out.find("as --fit psu_efficiency does"), std::string::npos) << same.out;
  const Result chip = Firstwall("calibrate --db " + db.string() + " --scenario " + kScenario +
                                " --fit chip_to_coolant");
  EXPECT_EQ(chip.status, 2) << chip.out;
  EXPECT_NE(chip.out.find("add --gpu-temperature die"), std::string::npos) << chip.out;
  const Result one = Firstwall("calibrate --db " + db.string() + " --scenario " + kScenario +
                               " --fit node_base_power --window 1h");
  EXPECT_EQ(one.status, 2) << one.out;
  EXPECT_NE(one.out.find("two windows"), std::string::npos) << one.out;
  EXPECT_EQ(one.out.rfind("--window: error: calibrate needs two windows", 0), 0u) << one.out;
  // A step longer than the data leaves one step: the step is to blame, not the window.
  const Result step =
      Firstwall("compare --db " + db.string() + " --scenario " + kScenario + " --step 1e9s");
  EXPECT_EQ(step.status, 2) << step.out;
  EXPECT_NE(step.out.find("--step: error: no signal could be judged"), std::string::npos)
      << step.out;
  EXPECT_NE(step.out.find("(1 step(s) of 1e+09 s in all)"), std::string::npos) << step.out;
  // A window shorter than the step (1 ms for 1 min) is refused before it makes millions of
  // windows; a step under the store's 1 ms resolution and a NaN threshold too.
  for (const auto& [args, want] : std::vector<std::pair<std::string, std::string>>{
           {" --window 1ms", "--window: error: '1ms' is shorter than the step (1 s)"},
           {" --step 1us", "--step: error: '1us' is shorter than 1 ms"},
           {" --drift-cv-rmse nan", "--drift-cv-rmse: error: NaN is no threshold"}}) {
    const Result bad = Firstwall("compare --db " + db.string() + " --scenario " + kScenario + args);
    EXPECT_EQ(bad.status, 2) << args << bad.out;
    EXPECT_NE(bad.out.find(want), std::string::npos) << args << "\n" << bad.out;
  }
  // A store without GPU power series (its only source never answered).
  std::ofstream(dir / "dead.yaml")
      << ReplaceOnce(Slurp("tests/inputs/live-site-map.yaml"), "127.0.0.1:9400", "127.0.0.1:9");
  ASSERT_EQ(Firstwall("ingest " + (dir / "dead.yaml").string() + " --db " +
                      (dir / "dead.db").string() + " --for 2s --speed 20 --quiet")
                .status,
            0);
  const Result empty =
      Firstwall("compare --db " + (dir / "dead.db").string() + " --scenario " + kScenario);
  EXPECT_EQ(empty.status, 2) << empty.out;
  EXPECT_NE(empty.out.find("no GPU power series"), std::string::npos) << empty.out;
}

TEST(TwinCli, CompareShowsAKnownBiasAndCalibrateRecoversTheParameter) {
  const fs::path dir = Fresh("twin_bias");
  // The site draws 500 W more per node than the scenario says: 2 nodes x 500 W = 1 kW of IT.
  const fs::path db = EmulateAndIngest(dir, "--set 'cluster.node_base_power=2.5 kW'");
  ASSERT_FALSE(db.empty());
  const Result r = Firstwall("compare --db " + db.string() + " --scenario " + kScenario +
                             " --json --drift-nmbe 2");
  ASSERT_EQ(r.status, 0) << r.out;
  const json j = json::parse(r.out);
  const json& sig = j["windows"][0]["signals"];
  // IT input power: the twin misses 1 kW / 0.96 (the PSU stage) at every step, so NMBE =
  // n/(n-1) x 1041.7 W / mean(measured); positive: the twin predicts too little.
  const json& it = Signal(sig, "it_input_power");
  const double n = it["native"]["n"].get<double>();
  const double expected_it =
      n / (n - 1) * (1000 / 0.96) / it["native"]["mean_measured"].get<double>();
  EXPECT_NEAR(it["native"]["nmbe"].get<double>(), expected_it, 0.002) << it.dump();
  // The UPS carries it too: (1000 / 0.96) / 0.95.
  const json& ups = Signal(sig, "stage_input:ups");
  const double expected_ups =
      n / (n - 1) * (1000 / 0.96 / 0.95) / ups["native"]["mean_measured"].get<double>();
  EXPECT_NEAR(ups["native"]["nmbe"].get<double>(), expected_ups, 0.002) << ups.dump();
  // Facility power: the UPS's share plus a little cooling for the extra heat; a drift event at
  // 2 % NMBE.
  const json& fac = Signal(sig, "facility_power");
  EXPECT_GT(fac["native"]["nmbe"].get<double>(), expected_ups * 0.9) << fac.dump();
  EXPECT_LT(fac["native"]["nmbe"].get<double>(), 0.10) << fac.dump();
  EXPECT_EQ(fac["drift"], true);
  {
    // The run and its drift events are in the store: one drift row per signal of the window.
    auto store = live::OpenSqliteStore(db.string());
    const std::vector<live::TwinRunRecord> runs = store->TwinRuns();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].kind, "compare");
    EXPECT_EQ(json::parse(runs[0].results_json), j);
    const std::vector<live::DriftRecord> drift = store->Drift();
    ASSERT_EQ(drift.size(), sig.size());
    for (const live::DriftRecord& d : drift) {
      EXPECT_EQ(d.run_ms, runs[0].run_ms);
      EXPECT_DOUBLE_EQ(d.nmbe_limit, 0.02);
      EXPECT_DOUBLE_EQ(d.cv_rmse_limit, 0.10);
      if (d.signal != "facility_power") continue;
      EXPECT_TRUE(d.drift);
      EXPECT_DOUBLE_EQ(d.nmbe, fac["native"]["nmbe"].get<double>());
      EXPECT_NE(d.reason.find("|NMBE|"), std::string::npos) << d.reason;
    }
  }

  const Result cal =
      Firstwall("calibrate --db " + db.string() + " --scenario " + kScenario +
                " --fit node_base_power --window 55s --json --out " + (dir / "cal").string());
  ASSERT_EQ(cal.status, 0) << cal.out;
  const json c = json::parse(Slurp(dir / "cal" / "calibration.json"));
  ASSERT_EQ(c["parameters"].size(), 1u);
  const double fitted = c["parameters"][0]["fitted"].get<double>();
  // The GPU jitter's error on the IT sum averages over the fit window's ~55 steps to about
  // 0.2 % x 14 kW / sqrt(55), 4 W on 1 kW; 25 W (1 % of the parameter) leaves room for a slow
  // machine's missed scrapes.
  EXPECT_NEAR(fitted, 2500, 25) << c.dump(1);
  EXPECT_EQ(c["parameters"][0]["key"], "cluster.node_base_power");
  EXPECT_NE(Slurp(dir / "cal" / "overrides.txt").find("--set \"cluster.node_base_power="),
            std::string::npos);
  // On the check window the fitted twin passes and its facility power bias is gone.
  const json& check = c["windows"][1];
  EXPECT_EQ(check["role"], "check");
  const json& before = Signal(check["before"], "facility_power");
  const json& after = Signal(check["after"], "facility_power");
  EXPECT_GT(before["native"]["nmbe"].get<double>(), 0.04) << before.dump();
  EXPECT_LT(std::abs(after["native"]["nmbe"].get<double>()), 0.003) << after.dump();
  EXPECT_LT(after["native"]["cv_rmse"].get<double>(), 0.005) << after.dump();
  EXPECT_EQ(after["verdict"], "pass");
  const std::vector<live::TwinRunRecord> runs = live::OpenSqliteStore(db.string())->TwinRuns();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].kind, "calibrate");
  EXPECT_NE(runs[1].parameters_json.find("\"key\":\"cluster.node_base_power\""), std::string::npos)
      << runs[1].parameters_json;
}

}  // namespace
}  // namespace firstwall::testing_cli
