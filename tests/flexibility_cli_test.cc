// Power- and carbon-aware scheduling through the CLI (issue #11): scheduler.flexibility defers
// flexible first starts under an hourly tariff or near the grid's limit, caps running flexible
// jobs, and summary.json `flexibility` compares the run with the same scenario without it. Values
// by hand; the scenario errors of the new keys.
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

// A daily tariff: 140 USD/MWh and 420 g/kWh from 14:00 to 20:00, 45 USD/MWh and 300 g/kWh else.
std::string Tariff() {
  std::string t = "hour,price_usd_per_mwh,carbon_g_per_kwh\n";
  for (int h = 0; h < 24; ++h)
    t += std::to_string(h) + (h >= 14 && h < 20 ? ",140,420\n" : ",45,300\n");
  return t;
}

// Four 8-GPU nodes. Two 8-GPU fine-tunes of one hour are submitted at 15:00; only `flex` is
// flexible. The gate closes while the price is above 100 USD/MWh.
constexpr const char* kTariffScenario = R"(firstwall: 1
site:
  name: flex
  outdoor_temperature: 20 C
  tariff_file: tou.csv
cluster:
  gpu: H100-SXM5-80GB
  nodes: 4
  gpus_per_node: 8
  nodes_per_rack: 2
  node_base_power: 2 kW
facility:
  power_chain:
    - name: psu
      efficiency: 96 %
      it_equipment: true
  cooling:
    capacity: 100 kW
scheduler:
  policy: fcfs
  flexibility:
    price_above: 100 USD/MWh
    max_delay: 12 h
workloads:
  - name: flex
    type: training
    model: llama3-8b
    start: 15 h
    gpus: 8
    global_batch: 8
    sequence_length: 2048
    recompute: full
    duration: 1 h
    flexible: true
  - name: rigid
    type: training
    model: llama3-8b
    start: 15 h
    gpus: 8
    global_batch: 8
    sequence_length: 2048
    recompute: full
    duration: 1 h
simulation:
  duration: 24 h
  tick: 60 s
)";

fs::path WriteScenario(const std::string& name, const std::string& text) {
  const fs::path dir = Fresh(name);
  fs::create_directories(dir);
  std::ofstream(dir / "s.yaml") << text;
  std::ofstream(dir / "tou.csv") << Tariff();
  return dir;
}

std::string Edited(std::string text,
                   const std::vector<std::pair<std::string, std::string>>& edits) {
  for (const auto& [from, to] : edits) text = ReplaceOnce(std::move(text), from, to);
  return text;
}

struct RunResult {
  Result result;
  std::string jobs_csv;
  nlohmann::json summary;
};

RunResult RunScenario(const std::string& name, const std::string& text) {
  const fs::path dir = WriteScenario(name, text);
  RunResult r;
  r.result = Firstwall("run " + (dir / "s.yaml").string() + " --out " + (dir / "out").string());
  if (r.result.status != 0) return r;
  r.jobs_csv = Slurp(dir / "out" / "jobs.csv");
  r.summary = nlohmann::json::parse(Slurp(dir / "out" / "summary.json"));
  return r;
}

TEST(Flexibility, FlexibleJobWaitsForTheCheapHourAndSavesCostAndCarbon) {
  const RunResult r = RunScenario("flex_tariff", kTariffScenario);
  ASSERT_EQ(r.result.status, 0) << r.result.out;
  // flex: submitted at 15:00 (54,000 s) in the expensive hours, held until the 20:00 edge
  // (72,000 s), the first check with the price at 45; rigid starts at once on another node.
  EXPECT_EQ(r.jobs_csv,
            "job,tenant,attempt,gpus,nodes,submit_s,queued_s,start_s,end_s,wait_s,ended\n"
            "rigid,rigid,1,8,1,54000.000,54000.000,54000.000,57600.000,0.000,completed\n"
            "flex,flex,1,8,1,54000.000,54000.000,72000.000,75600.000,18000.000,completed\n");
  const auto& f = r.summary["flexibility"];
  std::printf("%s\n", f.dump(2).c_str());
  EXPECT_EQ(f["signals"], "price > 100 USD/MWh");
  EXPECT_DOUBLE_EQ(f["gate_closed_h"]["any"].get<double>(), 6.0);  // 14:00-20:00
  EXPECT_DOUBLE_EQ(f["gate_closed_h"]["price"].get<double>(), 6.0);
  EXPECT_EQ(f["flexible_jobs"], 1);
  EXPECT_EQ(f["held_jobs"], 1);
  EXPECT_EQ(f["released_by_max_delay"], 0);
  EXPECT_DOUBLE_EQ(f["deferred_gpu_h"].get<double>(), 8 * 5.0);
  // Without flexibility it starts at 15:00: 5 h added; the rigid job is not delayed.
  EXPECT_EQ(f["start_delay_h"]["jobs"], 1);
  EXPECT_DOUBLE_EQ(f["start_delay_h"]["mean"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(f["start_delay_h"]["p95"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(f["start_delay_h"]["max"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(f["start_delay_h"]["other_jobs_mean"].get<double>(), 0.0);
  EXPECT_EQ(f["start_delay_h"]["not_started_in_run"], 0);
  // The same work, moved from 15:00 (140 USD/MWh, 420 g/kWh) to 20:00 (45, 300): saved cost =
  // 95 x m + 140 x x and saved carbon = 120 x m + 420 x x, with m the moved energy and x the
  // baseline's extra energy (MWh; USD/MWh and kg/MWh), which it draws in the expensive hours:
  // there both jobs run at once, and the cooling plant's power is not linear in its load. Both
  // savings give the same m.
  const double run_mwh = f["run"]["grid_energy_mwh"], base_mwh = f["baseline"]["grid_energy_mwh"];
  const double extra_mwh = base_mwh - run_mwh;
  EXPECT_GE(extra_mwh, 0);
  EXPECT_LT(extra_mwh, 1e-3 * base_mwh);
  const double saved_usd = f["saved"]["energy_cost_usd"], saved_t = f["saved"]["carbon_t"];
  EXPECT_GT(saved_usd, 0);
  const double moved_by_cost_mwh = (saved_usd - 140 * extra_mwh) / 95;
  const double moved_by_carbon_mwh = (saved_t * 1e3 - 420 * extra_mwh) / 120;
  std::printf(
      "energy moved out of the expensive hours: %.3f kWh (from cost), %.3f kWh (from carbon); "
      "baseline's extra %.3f kWh\n",
      moved_by_cost_mwh * 1e3, moved_by_carbon_mwh * 1e3, extra_mwh * 1e3);
  EXPECT_NEAR(moved_by_cost_mwh, moved_by_carbon_mwh, 0.005 * moved_by_carbon_mwh);
  EXPECT_DOUBLE_EQ(
      f["baseline"]["energy_cost_usd"].get<double>() - f["run"]["energy_cost_usd"].get<double>(),
      saved_usd);
  EXPECT_DOUBLE_EQ(r.summary["energy_cost_usd"].get<double>(),
                   f["run"]["energy_cost_usd"].get<double>());
  EXPECT_EQ(f["run"]["jobs_completed"], 2);
  EXPECT_EQ(f["baseline"]["jobs_completed"], 2);
  // The printed summary says it.
  EXPECT_NE(r.result.out.find("flexibility (price > 100 USD/MWh; gate closed 6.0 h):"),
            std::string::npos)
      << r.result.out;
  EXPECT_NE(r.result.out.find("1 of 1 flexible jobs held (0 by max delay), 40.0 GPU-h deferred; "
                              "first start delayed mean 5.00 h, p95 5.00 h, max 5.00 h"),
            std::string::npos)
      << r.result.out;
}

TEST(Flexibility, MaxDelayStartsTheJobAnyway) {
  const RunResult r =
      RunScenario("flex_delay", Edited(kTariffScenario, {{"max_delay: 12 h", "max_delay: 2 h"}}));
  ASSERT_EQ(r.result.status, 0) << r.result.out;
  // Released at 15:00 + 2 h = 17:00 (61,200 s) with the price still 140.
  EXPECT_NE(r.jobs_csv.find("flex,flex,1,8,1,54000.000,54000.000,61200.000,64800.000,"),
            std::string::npos)
      << r.jobs_csv;
  EXPECT_EQ(r.summary["flexibility"]["released_by_max_delay"], 1);
  EXPECT_DOUBLE_EQ(r.summary["flexibility"]["start_delay_h"]["max"].get<double>(), 2.0);
}

TEST(Flexibility, AJobHeldToTheEndIsCountedApartFromTheDelays) {
  // The run ends at 18:00: flex, held from 15:00, never starts; without flexibility it ran at
  // 15:00. It is not in the delay figures (no run start to subtract), and is counted apart.
  const RunResult r =
      RunScenario("flex_end", Edited(kTariffScenario, {{"  duration: 24 h", "  duration: 18 h"}}));
  ASSERT_EQ(r.result.status, 0) << r.result.out;
  const auto& d = r.summary["flexibility"]["start_delay_h"];
  EXPECT_EQ(d["jobs"], 0);
  EXPECT_EQ(d["not_started_in_run"], 1);
  // No job started in both runs: no delay to state, null rather than 0.
  EXPECT_TRUE(d["mean"].is_null() && d["p95"].is_null() && d["max"].is_null()) << d;
  EXPECT_NE(r.result.out.find("first start delayed none (no flexible job started in both runs)"),
            std::string::npos)
      << r.result.out;
  EXPECT_NE(r.result.out.find("energy cost per useful GPU-h "), std::string::npos) << r.result.out;
  // Without the rigid job the run does no useful work: its energy has no price per useful
  // GPU-hour (null, not 0).
  const RunResult alone = RunScenario(
      "flex_end_alone", Edited(kTariffScenario, {{"  duration: 24 h", "  duration: 18 h"},
                                                 {"  - name: rigid\n    type: training\n"
                                                  "    model: llama3-8b\n    start: 15 h\n"
                                                  "    gpus: 8\n    global_batch: 8\n"
                                                  "    sequence_length: 2048\n"
                                                  "    recompute: full\n    duration: 1 h\n",
                                                  ""}}));
  ASSERT_EQ(alone.result.status, 0) << alone.result.out;
  const auto& run = alone.summary["flexibility"]["run"];
  EXPECT_DOUBLE_EQ(run["useful_gpu_h"].get<double>(), 0.0);
  EXPECT_TRUE(run["cost_per_useful_gpu_h_usd"].is_null()) << run;
  EXPECT_GT(alone.summary["flexibility"]["baseline"]["cost_per_useful_gpu_h_usd"].get<double>(),
            0.0);
  EXPECT_NE(alone.result.out.find("energy cost per useful GPU-h none (no useful work) (without: "),
            std::string::npos)
      << alone.result.out;
  EXPECT_DOUBLE_EQ(r.summary["flexibility"]["deferred_gpu_h"].get<double>(), 8 * 3.0);
  // The energy of the work not done is part of the saving: the useful work shows it.
  EXPECT_DOUBLE_EQ(r.summary["flexibility"]["saved"]["useful_gpu_h"].get<double>(), 8.0);
  EXPECT_NE(r.result.out.find("(1 started without flexibility but not with it)"), std::string::npos)
      << r.result.out;
}

TEST(Flexibility, CapSlowsARunningFlexibleJobInTheExpensiveHours) {
  // flex starts at 13:00 (cheap) with 2 h of work, no deferral; from 14:00 its GPUs are capped to
  // 400 W. It did 1 h of work by 14:00, so its capped time T and its slowdown under the cap obey
  // T - 1 h = slowdown (speed constant under the cap, nothing else slows it).
  const RunResult r = RunScenario(
      "flex_cap", Edited(kTariffScenario,
                         {{"    max_delay: 12 h\n",
                           "    max_delay: 12 h\n    defer: false\n"
                           "    cap_gpu_power: 400 W\n"},
                          {"    start: 15 h\n    gpus: 8", "    start: 13 h\n    gpus: 8"},
                          {"    duration: 1 h\n    flexible", "    duration: 2 h\n    flexible"}}));
  ASSERT_EQ(r.result.status, 0) << r.result.out;
  const auto& f = r.summary["flexibility"];
  std::printf("%s\n", f.dump(2).c_str());
  EXPECT_EQ(f["held_jobs"], 0);
  EXPECT_EQ(f["capped_jobs"], 1);
  // jobs.csv: flex,flex,1,8,1,46800.000,0.000,46800.000,END,...
  const std::string row = r.jobs_csv.substr(r.jobs_csv.find("\nflex,") + 1);
  double submit = 0, queued = 0, start = 0, end = 0;
  ASSERT_EQ(
      std::sscanf(row.c_str(), "flex,flex,1,8,1,%lf,%lf,%lf,%lf", &submit, &queued, &start, &end),
      4);
  EXPECT_EQ(start, 46800.0);
  EXPECT_GT(end, 54000.0);  // slower than 2 h
  EXPECT_LT(end, 72000.0);  // but done before the cap lifts
  const double capped_h = (end - 50400) / 3600;
  EXPECT_NEAR(f["capped_gpu_h"].get<double>(), 8 * capped_h, 1e-6);  // jobs.csv: whole ms
  EXPECT_NEAR(f["badput_caps_gpu_h"].get<double>(), 8 * (capped_h - 1), 1e-6);
  EXPECT_NEAR(r.summary["goodput"]["badput_gpu_h"]["slowdown"].get<double>(), 8 * (capped_h - 1),
              1e-6);
  // Capped, flex runs into 15:00 and overlaps rigid (15:00-16:00), which it did not without the
  // cap: the run's peak is higher than the baseline's. Its GPUs' energy per step falls under the
  // cap, so the same work costs less.
  EXPECT_LT(f["saved"]["peak_facility_mw"].get<double>(), 0);
  EXPECT_GT(f["saved"]["energy_cost_usd"].get<double>(), 0);
}

TEST(Flexibility, GridAndStageMarginsHoldAJobUntilTheLoadFalls) {
  // Flat price. rigid (24 GPUs, 90 min from 0) draws about 27 kW from the grid (24 kW of IT load
  // out of the PSU stage); idle, the site draws about 12 kW (10 kW IT). flex (8 GPUs) is
  // submitted at 30 min. Grid: limit 25 kW, margin 10 %: closed at 22.5 kW of import. Stage: the
  // PSU stage rated 25 kW, margin 10 %: closed at 22.5 kW out of it. Either way the last window
  // is above the line at 30 min (held) and at the 1 h check (rigid still runs); at 2 h (rigid
  // ended at 90 min) the gate is open: flex runs 2 h-3 h. Without flexibility it starts at 30
  // min on the fourth node.
  struct Variant {
    std::string name, site, signal, stage, signals, closed_key;
  };
  const std::vector<Variant> variants = {
      {"grid", "  electricity_price: 0.08 USD/kWh\n  grid_import_limit: 25 kW\n",
       "    grid_margin: 10 %\n", "      it_equipment: true\n",
       "grid import within 10 % of its limit", "grid"},
      {"stage", "  electricity_price: 0.08 USD/kWh\n", "    stage_margin: 10 %\n",
       "      it_equipment: true\n      rating: 25 kW\n",
       "a power-chain stage within 10 % of its rating", "stage"},
  };
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.name);
    const std::string text = Edited(
        kTariffScenario, {{"  tariff_file: tou.csv\n", v.site},
                          {"      it_equipment: true\n", v.stage},
                          {"    price_above: 100 USD/MWh\n", v.signal},
                          {"    start: 15 h\n    gpus: 8", "    start: 30 min\n    gpus: 8"},
                          {"    start: 15 h\n    gpus: 8\n    global_batch: 8",
                           "    gpus: 24\n    global_batch: 24"},
                          {"    duration: 1 h\nsimulation", "    duration: 90 min\nsimulation"},
                          {"  duration: 24 h", "  duration: 4 h"}});
    const RunResult r = RunScenario("flex_" + v.name, text);
    ASSERT_EQ(r.result.status, 0) << r.result.out;
    EXPECT_EQ(r.jobs_csv,
              "job,tenant,attempt,gpus,nodes,submit_s,queued_s,start_s,end_s,wait_s,ended\n"
              "rigid,rigid,1,24,3,0.000,0.000,0.000,5400.000,0.000,completed\n"
              "flex,flex,1,8,1,1800.000,1800.000,7200.000,10800.000,5400.000,completed\n");
    const auto& f = r.summary["flexibility"];
    EXPECT_EQ(f["signals"], v.signals);
    EXPECT_DOUBLE_EQ(f["start_delay_h"]["max"].get<double>(), 1.5);
    // Checks at 0 (idle: open), 1 h (closed), 2 h and 3 h (open): closed for one hour.
    EXPECT_DOUBLE_EQ(f["gate_closed_h"][v.closed_key].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(f["gate_closed_h"]["any"].get<double>(), 1.0);
    // Held, flex no longer adds to rigid's peak.
    EXPECT_LT(f["run"]["peak_grid_mw"].get<double>(), f["baseline"]["peak_grid_mw"].get<double>());
  }
}

TEST(Flexibility, CarbonSignalClosesTheSameHours) {
  // The tariff's carbon is 420 g/kWh from 14:00 to 20:00: above 400 g/kWh, the same hours as the
  // price, the same start.
  const RunResult r = RunScenario(
      "flex_carbon",
      Edited(kTariffScenario, {{"price_above: 100 USD/MWh", "carbon_above: 400 g/kWh"}}));
  ASSERT_EQ(r.result.status, 0) << r.result.out;
  EXPECT_NE(r.jobs_csv.find("flex,flex,1,8,1,54000.000,54000.000,72000.000,"), std::string::npos)
      << r.jobs_csv;
  EXPECT_EQ(r.summary["flexibility"]["signals"], "carbon > 400 g/kWh");
  EXPECT_DOUBLE_EQ(r.summary["flexibility"]["gate_closed_h"]["carbon"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(r.summary["flexibility"]["gate_closed_h"]["price"].get<double>(), 0.0);
}

struct BadCase {
  std::string what;
  std::vector<std::pair<std::string, std::string>> edits;
  std::string message;
};

TEST(Flexibility, ScenarioErrorsNameTheKey) {
  const std::vector<BadCase> cases = {
      {"flexible without the section",
       {{"  flexibility:\n    price_above: 100 USD/MWh\n    max_delay: 12 h\n", ""}},
       "s.yaml:31:15: error: a flexible job needs scheduler.flexibility"},
      {"the section without a flexible job",
       {{"    flexible: true\n", ""}},
       "scheduler.flexibility is set but no job is flexible"},
      {"price without an hourly tariff",
       {{"  tariff_file: tou.csv\n", "  electricity_price: 0.08 USD/kWh\n"}},
       "s.yaml:22:18: error: price_above needs an hourly tariff"},
      {"no signal",
       {{"    price_above: 100 USD/MWh\n", ""}},
       "scheduler.flexibility names no signal"},
      {"a threshold without its unit",
       {{"price_above: 100 USD/MWh", "price_above: 100"}},
       "'scheduler.flexibility.price_above'"},
      {"a threshold in the wrong unit",
       {{"price_above: 100 USD/MWh", "price_above: 100 g/kWh"}},
       "'scheduler.flexibility.price_above'"},
      {"an unknown signal",
       {{"price_above: 100 USD/MWh", "price_over: 100 USD/MWh"}},
       "price_over"},
      {"grid margin without a grid limit",
       {{"price_above: 100 USD/MWh", "grid_margin: 10 %"}},
       "grid_margin needs site.grid_import_limit"},
      {"stage margin without a rated stage",
       {{"price_above: 100 USD/MWh", "stage_margin: 10 %"}},
       "stage_margin needs a rated stage in facility.power_chain"},
      {"a margin above one",
       {{"price_above: 100 USD/MWh", "grid_margin: 150 %"}},
       "'scheduler.flexibility.grid_margin'"},
      {"a cap at TDP",
       {{"    max_delay: 12 h\n", "    max_delay: 12 h\n    cap_gpu_power: 700 W\n"}},
       "a cap of 700 W is outside the GPU's idle power"},
      {"neither defer nor cap",
       {{"    max_delay: 12 h\n", "    max_delay: 12 h\n    defer: false\n"}},
       "with defer: false and no cap_gpu_power, flexibility does nothing"},
  };
  for (const BadCase& c : cases) {
    const fs::path dir = WriteScenario("flex_bad", Edited(kTariffScenario, c.edits));
    const Result r = Firstwall("validate " + (dir / "s.yaml").string());
    EXPECT_EQ(r.status, 2) << c.what << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.what << "\n" << r.out;
    EXPECT_NE(r.out.find("s.yaml:"), std::string::npos) << c.what << "\n" << r.out;
  }
}

}  // namespace
}  // namespace firstwall::testing_cli
