#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "power/conversion_chain.h"
#include "power/gpu_power.h"
#include "power/renewable.h"
#include "report/meter.h"
#include "report/output_set.h"
#include "report/outputs.h"
#include "report/simulate.h"
#include "report/text_format.h"
#include "report/tick_series.h"
#include "scenario/loader.h"

namespace firstwall::report {
namespace {

site::SiteConfig Example() { return scenario::LoadScenarioFile("examples/default.yaml").site; }

// Issue #16: no figure prints as negative zero. A mean of terms that cancel can land a rounding
// error below zero (-1e-17) and printed "-0.00"; -0.0 itself printed "-0" and "-0.0" in JSON.
TEST(TextFormat, NoNegativeZeroAtAnyPrecisionOrWidth) {
  EXPECT_EQ(txt::format("{:.2f}", -1e-17), "0.00");
  EXPECT_EQ(txt::format("{:.2f}", -0.0049), "0.00");
  EXPECT_EQ(txt::format("{:.2f}", -0.006), "-0.01");  // a real negative value keeps its sign
  EXPECT_EQ(txt::format("{:.4f}", -0.00004), "0.0000");
  EXPECT_EQ(txt::format("{:.4f}", -0.00006), "-0.0001");
  EXPECT_EQ(txt::format("{:>8.3f}|{:<6.1f}|", -1e-9, -0.01), "   0.000|0.0   |");
  EXPECT_EQ(txt::format("{:.0f} W", -0.3), "0 W");
  EXPECT_EQ(txt::format("{:f}", -1e-7), "0.000000");
  EXPECT_EQ(txt::format("{:g} {} {:.3g}", -0.0, -0.0, -0.0), "0 0 0");
  EXPECT_EQ(txt::format("{:g}", -1e-20), "-1e-20");  // not zero in these notations
  EXPECT_EQ(txt::format("{} {:>4} {:.1f}", "a", 3, 2.5f), "a    3 2.5");
  EXPECT_EQ(txt::fixed(-0.004, 2), "0.00");
  EXPECT_EQ(txt::fixed(-0.3, 3), "-0.300");
  EXPECT_EQ(txt::format("{:.{}f}", -0.0, 2), "0.00");  // a run-time precision: -0.0 only
  std::string t;
  txt::format_to(std::back_inserter(t), "{:.1f}%", -0.04);
  EXPECT_EQ(t, "0.0%");
  nlohmann::ordered_json j = {{"a", -0.0}, {"b", {{"c", -0.0}, {"d", -1.5}}}, {"e", {-0.0, 1}}};
  EXPECT_EQ(txt::json_text(j).find("-0"), std::string::npos) << txt::json_text(j);
  EXPECT_NE(txt::json_text(j).find("-1.5"), std::string::npos);
}

// Issue #11: a 1,000,000-GPU site printed its peaks as "1400000.0 kW". Printed powers are kW
// below 10 MW and MW from 10 MW; a peak and its rating share the unit of the larger; the JSON
// keeps its units (peak_it_power_kw).
TEST(TextFormat, PowersPrintInKilowattsBelowTenMegawattsAndInMegawattsAbove) {
  EXPECT_EQ(txt::power(848.4e3), "848.4 kW");
  EXPECT_EQ(txt::power(9'999'940), "9999.9 kW");
  EXPECT_EQ(txt::power(10e6), "10.0 MW");
  EXPECT_EQ(txt::power(1.4e9), "1400.0 MW");
  EXPECT_EQ(txt::power(12.4e6, 0), "12 MW");
  EXPECT_EQ(txt::power(357.3e3, 1, "/s"), "357.3 kW/s");
  EXPECT_EQ(txt::power(31.9e6, 1, "/s"), "31.9 MW/s");
  EXPECT_EQ(txt::power_in(txt::PowerUnitFor(12e6), 5e6), "5.0 MW");

  Summary s;
  s.peak_it_w = 1.4e9;
  s.peak_facility_w = 1.55e9;
  s.unmet_cooling_hours = 1.5;
  s.peak_unmet_cooling_w = 12.4e6;
  s.resources = {{"grid connection", "grid", 1.55e6, 1.6e6, "kW"},
                 {"UPS", "power stage", 5000, 12000, "kW (busiest of 2 units)"},
                 {"rack", "rack", 11.0, 40.0, "kW"},
                 {"rack PSU", "power stage", 1.4e6, 0, "kW"},
                 {"GPUs", "compute", 0.5, 1.0, "activity"}};
  const std::string t = SummaryText(s);
  std::printf("%s", t.c_str());
  EXPECT_NE(t.find("peak IT 1400.0 MW, peak facility 1550.0 MW,"), std::string::npos);
  EXPECT_NE(t.find("cooling short of the load for 1.5 h, up to 12 MW\n"), std::string::npos);
  EXPECT_NE(t.find("96.9%  peak 1550.0 of 1600.0 MW\n"), std::string::npos);
  EXPECT_NE(t.find("41.7%  peak 5.0 of 12.0 MW (busiest of 2 units)\n"), std::string::npos);
  EXPECT_NE(t.find("27.5%  peak 11.0 of 40.0 kW\n"), std::string::npos);
  EXPECT_NE(t.find("n/a   peak 1400.0 MW (no rating given)\n"), std::string::npos);
  EXPECT_NE(t.find("50.0%  peak 0.5 of 1.0 activity\n"), std::string::npos);
  EXPECT_EQ(t.find(" kW,"), std::string::npos);
  const nlohmann::ordered_json j = SummaryJson(s);
  EXPECT_DOUBLE_EQ(j["peak_it_power_kw"].get<double>(), 1.4e6);
}

TEST(Simulate, EnergyAccountingCloses) {
  site::SiteConfig cfg = Example();
  cfg.duration = SimTime::From(units::Hours(2));
  cfg.jobs[0].start = SimTime::From(units::Minutes(20.5));  // starts mid-tick, idle before
  // Constant weather, so the idle stretch can be skipped.
  cfg.weather = thermal::Weather(thermal::OutdoorConditions{units::Celsius(24), 0.6});
  const Summary s = Simulate(cfg, "default");
  const double closed = s.it_energy_j + s.loss_energy_j + s.cooling_energy_j;
  EXPECT_NEAR(s.facility_energy_j / closed, 1.0, 1e-9);
  // Heat: what the plant rejects plus what its loops still hold is the building's heat (IT and
  // conversion losses) plus what the plant adds (chillers' work, CRAH fans, pumps), within 0.1%.
  const double added = s.chillers_energy_j + s.crah_fans_energy_j + s.pumps_energy_j;
  EXPECT_NEAR((s.heat_rejected_j + s.loop_stored_j) / (s.it_energy_j + s.loss_energy_j + added),
              1.0, 1e-3);
  EXPECT_GT(s.loop_stored_j, 0.0);  // the job's start stepped the heat up; the loops lag behind
  EXPECT_NEAR(s.cooling_energy_j, added + s.sink_fans_energy_j, 1e-9 * s.cooling_energy_j);
  double stage_losses = 0;
  for (double l : s.stage_loss_energy_j) stage_losses += l;
  EXPECT_NEAR(stage_losses / s.loss_energy_j, 1.0, 1e-9);
  EXPECT_NEAR((s.gpu_energy_j + s.node_base_energy_j) / s.it_energy_j, 1.0, 1e-9);
  EXPECT_EQ(s.ticks, 7200);
  EXPECT_GT(s.engine.skipped_ticks, 1000);  // the idle 20 minutes were skipped
  EXPECT_GT(s.pue(), 1.0);
}

TEST(Simulate, TimeSeriesHasOneRowPerTickAndAgreesWithTheTotals) {
  site::SiteConfig cfg = Example();
  cfg.duration = SimTime::From(units::Minutes(30));
  cfg.tick = SimTime::From(units::Seconds(7));  // 1800 / 7: a short last tick
  const std::string path = ::testing::TempDir() + "/fw_ts_" + std::to_string(getpid()) + ".csv";
  const Summary s = Simulate(cfg, "default", {path, {}});
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("time_s,outdoor_dry_bulb_c,", 0), 0u);
  int rows = 0;
  double facility_kwh = 0, last_t = -1;
  while (std::getline(in, line)) {
    const double t = std::stod(line.substr(0, line.find(',')));
    const double next = rows + 1 < 258 ? t + 7 : 1800;
    // facility_power_kw is the 11th column.
    size_t pos = 0;
    for (int c = 0; c < 10; ++c) pos = line.find(',', pos) + 1;
    facility_kwh += std::stod(line.substr(pos)) * (next - t) / 3600;
    EXPECT_GT(t, last_t);
    last_t = t;
    ++rows;
  }
  EXPECT_EQ(rows, 258);  // 257 whole ticks and a 1 s remainder
  EXPECT_NEAR(facility_kwh / (s.facility_energy_j / 3.6e6), 1.0, 1e-6);  // CSV rounding
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

// Issue #11: a job a scheduler starts and stops mid-tick, on a node another job left, joins the
// tick series and the meter: its nodes' IT energy is what they drew while it ran, by hand.
TEST(Meter, CountsAJobStartedDuringTheRun) {
  site::SiteConfig cfg = Example();
  cfg.duration = SimTime::From(units::Minutes(5));
  ASSERT_TRUE(cfg.services.empty());
  for (site::JobConfig& j : cfg.jobs) j.end = SimTime::From(units::Seconds(60));  // frees the nodes
  site::Site site(cfg);
  Engine engine(cfg.tick, cfg.duration);
  engine.AddModel(&site);
  site.ScheduleEvents(engine.events());
  Meter meter(site);
  TickSeries ticks(site, cfg.tick, [&](const TickRow& row, int64_t n) { meter.OnTick(row, n); });
  engine.AddObserver(&ticks);
  site::JobConfig batch;
  batch.name = "batch";
  batch.gpus = 8;
  batch.gpu_activity = 0.5;
  const SimTime start = SimTime::From(units::Seconds(90.5)),
                stop = SimTime::From(units::Seconds(150.25));
  size_t id = 0;
  const int last = cfg.cluster.nodes - 1;
  engine.events().Schedule(start, "start", [&] { id = site.StartJob(batch, {last}, start); });
  engine.events().Schedule(stop, "stop", [&] { site.StopJob(id, stop); });
  engine.Run();
  ticks.Finish();
  const Summary s = meter.Finish("default", engine.stats());
  ASSERT_EQ(s.jobs.size(), cfg.jobs.size() + 1);
  const JobSummary& js = s.jobs.back();
  EXPECT_EQ(js.name, "batch");
  EXPECT_EQ(js.gpus, 8);
  const hardware::GpuSpec& g = cfg.cluster.gpu;
  const double node_w = 8 * units::ToWatts(g.idle_power + (g.tdp - g.idle_power) * 0.5) +
                        units::ToWatts(cfg.cluster.node_base_power);
  const double expected = node_w * (150.25 - 90.5);
  std::printf("batch job's node energy: %.1f J (expected %.1f J)\n", js.it_energy_j, expected);
  EXPECT_NEAR(js.it_energy_j / expected, 1.0, 1e-12);
  EXPECT_NEAR(js.running_s, 150.25 - 90.5, 1e-9);
}

TEST(Simulate, SameSeedSameBytes) {
  site::SiteConfig cfg = Example();
  cfg.duration = SimTime::From(units::Minutes(10));
  const std::string a = SummaryJson(Simulate(cfg, "x")).dump(2);
  const std::string b = SummaryJson(Simulate(cfg, "x")).dump(2);
  EXPECT_EQ(a, b);
}

TEST(Summary, BusiestResourceIsTheMostLoadedRatedOne) {
  site::SiteConfig cfg = Example();
  cfg.duration = SimTime::From(units::Minutes(10));
  cfg.facility.grid_import_limit = units::Megawatts(1.0);  // tighter than everything else
  const Summary s = Simulate(cfg, "x");
  ASSERT_FALSE(s.resources.empty());
  EXPECT_EQ(s.resources.front().name, "grid connection");
  for (size_t i = 1; i < s.resources.size(); ++i) {
    EXPECT_GE(s.resources[i - 1].utilization(), s.resources[i].utilization());
  }
  EXPECT_EQ(SummaryJson(s)["busiest_resource"], "grid connection");
}

// Reads timeseries.csv: (time_s, facility_power_kw, peak_rack_power_kw) per row.
std::vector<std::array<double, 3>> ReadSeries(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::array<double, 3>> rows;
  while (std::getline(in, line)) {
    std::vector<double> v;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) v.push_back(std::stod(cell));
    rows.push_back({v[0], v[10], v[12]});
  }
  return rows;
}

TEST(Simulate, OutputIntervalAveragesWholeTicks) {
  site::SiteConfig cfg = Example();
  cfg.duration = SimTime::From(units::Minutes(10) + units::Seconds(30));  // a short last row
  cfg.jobs[0].start = SimTime::From(units::Minutes(2.5));  // idle (skipped) ticks, then the job
  cfg.weather = thermal::Weather(thermal::OutdoorConditions{units::Celsius(24), 0.6});
  const std::string dir = ::testing::TempDir() + "/fw_interval_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  SimulateOptions fine;
  fine.timeseries_csv = dir + "/tick.csv";
  const Summary s = Simulate(cfg, "default", fine);
  SimulateOptions coarse;
  coarse.timeseries_csv = dir + "/minute.csv";
  coarse.output_interval = SimTime::From(units::Minutes(1));
  Simulate(cfg, "default", coarse);
  const auto ticks = ReadSeries(dir + "/tick.csv");
  const auto minutes = ReadSeries(dir + "/minute.csv");
  ASSERT_EQ(ticks.size(), 630u);
  ASSERT_EQ(minutes.size(), 11u);  // ten whole minutes and the last 30 s
  for (size_t m = 0; m < minutes.size(); ++m) {
    EXPECT_DOUBLE_EQ(minutes[m][0], 60.0 * static_cast<double>(m));
    const size_t from = 60 * m, to = std::min<size_t>(from + 60, ticks.size());
    double sum = 0, peak = 0;
    for (size_t i = from; i < to; ++i) {
      sum += ticks[i][1];
      peak = std::max(peak, ticks[i][2]);
    }
    // The per-tick CSV is rounded to 1 W: the means agree to that.
    EXPECT_NEAR(minutes[m][1], sum / static_cast<double>(to - from), 2e-3) << "row " << m;
    EXPECT_NEAR(minutes[m][2], peak, 1e-3) << "row " << m;
  }
  double kwh = 0;
  for (size_t m = 0; m < minutes.size(); ++m)
    kwh += minutes[m][1] * (m + 1 < minutes.size() ? 60 : 30);
  EXPECT_NEAR(kwh / 3600 / (s.facility_energy_j / 3.6e6), 1.0, 1e-6);
  std::filesystem::remove_all(dir);
}

TEST(TimeSeriesSize, RefusedAboveTheLimitWithAWayOut) {
  // A year at 1 s is about 6.5 GB: 31.6 M rows of about 204 characters with three link columns
  // (the default example's rows average 204.1).
  const double year = 366 * 86400.0;
  EXPECT_NEAR(EstimateTimeSeriesBytes(year, 1, 3) / (31622400 * 204.1), 1.0, 0.1);
  try {
    CheckTimeSeriesSize(year, 1, 3, 1e9, {"s.yaml", 4, 3});
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().ToString(), "s.yaml:4:3");
    EXPECT_NE(e.message().find("31622400 rows of 1 s"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("output_interval to 10 s"), std::string::npos) << e.hint();
  }
  EXPECT_NO_THROW(CheckTimeSeriesSize(year, 60, 3, 1e9, {}));
  // When not even a row a day fits, the hint says so instead of naming an interval.
  try {
    CheckTimeSeriesSize(year, 60, 1000, 1e6, {});
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(e.hint().find("even a row a day (1000 link columns) does not fit"), std::string::npos)
        << e.hint();
  }
  EXPECT_NO_THROW(CheckTimeSeriesSize(year, 1, 3, 1e10, {}));
}

TEST(OutputSet, ReplacesAllOfAnEarlierRunTogether) {
  const std::filesystem::path dir = ::testing::TempDir() + "/fw_outset_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  auto put = [](const std::string& path, const std::string& text) { std::ofstream(path) << text; };
  {
    OutputSet first(dir);
    put(first.Stage("summary.json"), "old");
    put(first.Stage("timeseries.csv"), "old");
    put(first.Stage("links.csv"), "old");
    first.Commit();
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "links.csv"));
  {
    OutputSet failed(dir);  // a run that ends in an error: nothing of it lands
    put(failed.Stage("timeseries.csv"), "new");
  }
  std::ifstream kept(dir / "timeseries.csv");
  std::string text;
  kept >> text;
  EXPECT_EQ(text, "old");
  {
    OutputSet second(dir);
    put(second.Stage("summary.json"), "new");
    put(second.Stage("timeseries.csv"), "new");
    second.Commit();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "links.csv"));  // the earlier run's, not this one's
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++entries;
    std::ifstream in(e.path());
    std::string t;
    in >> t;
    EXPECT_EQ(t, "new") << e.path();
  }
  EXPECT_EQ(entries, 2u);  // no staging directory left behind
  std::filesystem::remove_all(dir);
}

TEST(AtomicFile, LeavesNothingWhenNotCommitted) {
  const std::string path = ::testing::TempDir() + "/fw_atomic_" + std::to_string(getpid()) + ".txt";
  std::filesystem::remove(path);
  {
    AtomicFile f(path);
    f.Write("half");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  {
    AtomicFile f(path);
    f.Write("whole");
    f.Commit();
  }
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(Simulate, PowerSwingWindowMatchesThePhasesByHand) {
  site::SiteConfig cfg = Example();  // a 60 s window at 10 ms from 2 h, three mitigations
  cfg.duration = SimTime::From(units::Hours(3));
  ASSERT_TRUE(cfg.swings.enabled);
  std::string csv;
  SimulateOptions opt;
  opt.swing_table = &csv;
  const Summary s = Simulate(cfg, "default", opt);
  ASSERT_TRUE(s.swings);
  const auto& v = s.swings->variants;
  ASSERT_EQ(v.size(), 5u);  // none, floor, ramp, battery, all
  EXPECT_EQ(v[0].name, "none");
  // Unmitigated: the facility moves between every GPU in the compute phase and every GPU in the
  // lowest-activity phase (both last far longer than a sample), through the conversion chain.
  const site::JobConfig& job = cfg.jobs[0];
  const workload::StepEstimate e = workload::EstimateStep(job.setup);
  double lo = 1, hi = 0;
  for (const workload::Phase& p : e.phases) {
    lo = std::min(lo, p.activity);
    hi = std::max(hi, p.activity);
  }
  const power::GpuPowerModel gpu(cfg.cluster.gpu.idle_power, cfg.cluster.gpu.tdp,
                                 cfg.cluster.gpu_power_cap);
  const double gpus = workload::GpuCount(job.setup);
  const double base = cfg.cluster.nodes * units::ToWatts(cfg.cluster.node_base_power);
  const power::ConversionChain chain(cfg.facility.power_chain);
  auto facility = [&](double activity) {
    return units::ToWatts(
        chain.Flow(units::Watts(base + gpus * units::ToWatts(gpu.At(activity)))).grid);
  };
  EXPECT_NEAR(v[0].metrics.swing_w, facility(hi) - facility(lo), 1e-6 * facility(hi));
  // Its peak is at the step frequency or one of its harmonics (which one depends on the phases'
  // lengths: the second since shorter data-parallel phases, issue #16).
  const double step_hz = 1.0 / units::ToSeconds(e.step_time);
  const double harmonic = std::round(v[0].metrics.band_peak_hz / step_hz);
  EXPECT_GE(harmonic, 1.0);
  EXPECT_NEAR(v[0].metrics.band_peak_hz, harmonic * step_hz, 1.0 / 60);
  // Each mitigation narrows the swing; the floor and the ramp limit cost energy.
  for (size_t i = 1; i < v.size(); ++i) {
    EXPECT_LT(v[i].metrics.swing_w, v[0].metrics.swing_w) << v[i].name;
  }
  EXPECT_GT(v[1].extra_energy_j, 0.0);
  EXPECT_GT(v[2].extra_energy_j, 0.0);
  EXPECT_GT(v[2].deferred_energy_j, 0.0);
  EXPECT_LT(v[2].metrics.max_ramp_w_per_s, 0.1 * v[0].metrics.max_ramp_w_per_s);
  // swings.csv: a header and one row per 10 ms.
  EXPECT_EQ(csv.rfind("time_s,facility_none_mw,facility_gpu_power_floor_mw,", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6001);
}

// Issue #16, handed case 7 (tests/inputs/idle-node-10mw-plant.yaml): one idle 8-GPU node in a
// 10 MW air-cooled plant of four chillers, economizer off, 35 C outside. By hand:
//   IT     8 x 70 W + 2,000 W = 2,560 W; through the 96% rack PSUs 2,666.7 W (106.7 W of loss)
//   CRAH   below the 20% speed floor, in proportion: 0.03 x 0.2^2 x 2,666.7 = 3.2 W
//   pumps  0.01 x (2,666.7 + 3.2) = 26.7 W;  the chillers carry 2,696.6 W
//   chiller one unit of 2.5 MW x CAPFT(10 C, 26.67 C) 1.006323 = 2,515,807 W available,
//          PLR 0.0010719 < PLR_min 0.2: it cycles, CR = 0.0053592; at PLR_min it draws
//          2,515,807 / 6.57 x EIRFT 1.030818 x EIRFPLR(0.2) 0.149892 = 59,166 W, so 317.1 W
//   dry-cooler fans 0.01 x 0.2^2 x (2,696.6 + 317.1) = 1.2 W
//   PUE    (2,666.7 + 3.2 + 26.7 + 317.1 + 1.2) / 2,666.7 = 1.1306
// Before: 59,166 W of chillers, 2.4 kW of CRAH and 0.9 kW of dry-cooler fans at their floor,
// PUE 24.45. With low_load: hot_gas_bypass the chiller keeps its 59,166 W (false loading).
TEST(Simulate, IdleNodeInALargePlantCyclesItsChiller) {
  const scenario::Scenario sc =
      scenario::LoadScenarioFile("tests/inputs/idle-node-10mw-plant.yaml");
  const Summary s = Simulate(sc.site, "idle-node");
  const double hours = s.sim_time_s / 3600;
  const double chiller_w = s.chillers_energy_j / s.sim_time_s;
  const double hand_chiller_w = 317.08, hand_pue = 1.13057;
  std::printf("%-38s %10s %10s %8s\n", "idle node, 10 MW plant, 35 C", "computed", "by hand",
              "error");
  std::printf("%-38s %10.2f %10.2f %7.3f%%\n", "chiller power (W)", chiller_w, hand_chiller_w,
              100 * (chiller_w / hand_chiller_w - 1));
  std::printf("%-38s %10.4f %10.4f %7.3f%%\n", "PUE", s.pue(), hand_pue,
              100 * (s.pue() / hand_pue - 1));
  EXPECT_NEAR(hours, 1.0, 1e-9);
  ASSERT_EQ(s.services.size(), 1u);
  EXPECT_EQ(s.services[0].result.requests, 0);  // the node idles all run
  EXPECT_NEAR(s.it_energy_j / s.sim_time_s, 2560.0, 1e-6);
  EXPECT_NEAR(chiller_w / hand_chiller_w, 1.0, 1e-3);
  EXPECT_NEAR(s.pue() / hand_pue, 1.0, 1e-3);
  // Plausible: a plant idling with its load still pays well under half of the IT power to cool.
  EXPECT_LT(s.pue(), 1.5);

  site::SiteConfig bypass = sc.site;
  bypass.facility.cooling.low_load = thermal::LowLoad::kHotGasBypass;
  const Summary b = Simulate(bypass, "idle-node-bypass");
  const double bypass_w = b.chillers_energy_j / b.sim_time_s;
  std::printf("%-38s %10.0f %10.0f %7.3f%%\n", "hot-gas bypass: chiller power (W)", bypass_w,
              59166.0, 100 * (bypass_w / 59166 - 1));
  EXPECT_NEAR(bypass_w / 59166, 1.0, 1e-3);
}

// The same liquid-cooled H100 hall (the default scenario's, running its training job all year)
// under four climates, and the same hall air-cooled with chillers. Hourly ticks over a typical
// year (8,760 of them) from the TMYx weather files in ../shared/data/weather.
TEST(FacilityYear, ClimatesAndCoolingDesigns) {
  const std::string dir = "../shared/data/weather/";
  const char* cities[] = {"USA_IL_Chicago.OHare", "USA_WA_Seattle-Tacoma", "USA_VA_Leesburg.Exec",
                          "USA_TX_Dallas-Fort.Worth"};
  if (!std::filesystem::exists(dir + cities[0] + ".epw")) {
    GTEST_SKIP() << dir << " absent: the climate comparison needs the shared weather files";
  }
  struct Result {
    double pue, economizer_h, liquid_loop_h, wue;
  };
  auto year = [&](const std::string& city, bool liquid) {
    site::SiteConfig cfg = Example();
    std::ifstream in(dir + city + ".epw");
    std::stringstream text;
    text << in.rdbuf();
    cfg.weather = thermal::Weather(thermal::ReadEpw(text.str(), city), 0, city);
    cfg.duration = SimTime::From(units::Hours(8760));
    cfg.tick = SimTime::From(units::Hours(1));
    if (!liquid) {
      // A conventional chilled-water hall: every watt to CRAHs on 10 C chilled water.
      cfg.facility.cooling.liquid_share = 0;
      cfg.facility.cooling.air_supply = units::Celsius(10);
    }
    const Summary s = Simulate(cfg, city);
    return Result{s.pue(), s.economizer_hours, s.liquid_loop_economizer_hours, s.wue_l_per_kwh()};
  };
  std::map<std::string, Result> wet, air;
  std::printf("%-26s %11s %14s %13s %10s %9s %14s\n", "one year, 1,024 H100", "PUE liquid",
              "economizer h", "W32 loop h", "WUE L/kWh", "PUE air", "air economizer h");
  for (const char* c : cities) {
    wet[c] = year(c, true);
    air[c] = year(c, false);
    std::printf("%-26s %11.3f %14.0f %13.0f %10.2f %9.3f %14.0f\n", c, wet[c].pue,
                wet[c].economizer_h, wet[c].liquid_loop_h, wet[c].wue, air[c].pue,
                air[c].economizer_h);
  }
  const Result& dallas = wet["USA_TX_Dallas-Fort.Worth"];
  for (const char* cool : {"USA_IL_Chicago.OHare", "USA_WA_Seattle-Tacoma"}) {
    EXPECT_GT(wet[cool].economizer_h, dallas.economizer_h) << cool;
    EXPECT_LT(wet[cool].pue, dallas.pue) << cool;
  }
  for (const char* c : cities) {
    // Warm-water liquid cooling lands among published efficient sites (PUE 1.04-1.15,
    // REFERENCE.md); the air-cooled hall with chillers is clearly worse in every climate.
    EXPECT_GE(wet[c].pue, 1.04) << c;
    EXPECT_LE(wet[c].pue, 1.15) << c;
    EXPECT_GT(air[c].pue, wet[c].pue + 0.03) << c;
    // The W32 loop alone runs on the towers nearly all year (REFERENCE.md: wet bulb at or below
    // about 25 C in 97-99% of hours in these four places).
    EXPECT_GT(wet[c].liquid_loop_h, 0.95 * 8760) << c;
  }
}

// Issue #18, direct-DC supply: examples/dc-bus-solar-battery.yaml against the same solar array and
// battery at the grid connection (the array through its inverter: the AC profile of the same
// script). By hand: each kWh the array or the battery puts on the 800 VDC bus saves 1 / 0.98 kWh
// at the grid (the solid-state transformer, fixed 98 %, no fixed or I^2 R loss); the AC-coupled
// array saves what its inverter delivers. The battery's rules fire the same way in both (the demand
// is above its power whenever it discharges), so grid_AC - grid_DC less the cooling's difference is
// E_dc / 0.98 - E_ac + (battery out - in) (1 / 0.98 - 1).
TEST(Simulate, DirectDcSupplySkipsTheAcStages) {
  const site::SiteConfig dc = scenario::LoadScenarioFile("examples/dc-bus-solar-battery.yaml").site;
  site::SiteConfig ac = dc;
  ASSERT_EQ(ac.facility.renewables.size(), 1u);
  power::RenewableSource& pv = ac.facility.renewables[0];
  ASSERT_EQ(pv.bus_stage, 3);  // the solid-state transformer's output bus
  ASSERT_TRUE(ac.facility.battery && ac.facility.battery->bus_stage == 3);
  std::ifstream in("data/renewables/leesburg-solar.csv");
  std::stringstream text;
  text << in.rdbuf();
  pv.capacity_factor = power::ReadCapacityFactors(text.str(), "leesburg-solar.csv");
  pv.bus_stage = -1;
  pv.converter_efficiency = 1;
  ac.facility.battery->bus_stage = -1;
  const Summary d = Simulate(dc, "dc"), a = Simulate(ac, "ac");
  const double kwh = 3.6e6;
  // The array's DC output over the two days, through its 98.5 % converter.
  double e_dc = 0;
  const power::RenewableSource& dpv = dc.facility.renewables[0];
  for (int h = 0; h < 48; ++h) e_dc += dpv.capacity_factor[dpv.first_hour + h] * 1200 * 0.985;
  std::printf("direct-DC supply, 48 h from 21 June   DC bus     grid conn.\n");
  auto row = [&](const char* what, double x, double y) {
    std::printf("  %-34s %9.1f  %9.1f kWh\n", what, x / kwh, y / kwh);
  };
  row("solar delivered", d.renewable_energy_j, a.renewable_energy_j);
  row("battery out", d.battery_discharge_j, a.battery_discharge_j);
  row("battery in", d.battery_charge_j, a.battery_charge_j);
  row("conversion losses", d.loss_energy_j, a.loss_energy_j);
  row("cooling", d.cooling_energy_j, a.cooling_energy_j);
  row("facility", d.facility_energy_j, a.facility_energy_j);
  row("grid", d.grid_energy_j, a.grid_energy_j);
  std::printf("  energy cost %.0f against %.0f USD; PUE %.4f against %.4f\n", d.energy_cost_usd,
              a.energy_cost_usd, d.pue(), a.pue());
  EXPECT_NEAR(d.renewable_energy_j / kwh, e_dc, 1e-6 * e_dc);
  EXPECT_EQ(d.curtailed_energy_j, 0);
  EXPECT_EQ(a.curtailed_energy_j, 0);
  EXPECT_NEAR(d.battery_discharge_j, a.battery_discharge_j, 1e-6 * a.battery_discharge_j);
  EXPECT_NEAR(d.battery_charge_j, a.battery_charge_j, 1e-6 * a.battery_charge_j);
  const double by_hand = d.renewable_energy_j / 0.98 - a.renewable_energy_j +
                         (d.battery_discharge_j - d.battery_charge_j) * (1 / 0.98 - 1);
  const double seen =
      (a.grid_energy_j - d.grid_energy_j) - (a.cooling_energy_j - d.cooling_energy_j);
  std::printf("  grid saved less cooling's share: %.2f kWh, by hand %.2f kWh\n", seen / kwh,
              by_hand / kwh);
  EXPECT_NEAR(seen, by_hand, 1e-6 * by_hand);
  // Each stage's own losses, the bus stage's too, add up to the conversion losses.
  double stages = 0;
  for (double j : d.stage_loss_energy_j) {
    EXPECT_GE(j, 0);
    stages += j;
  }
  EXPECT_NEAR(stages, d.loss_energy_j, 1e-9 * d.loss_energy_j);
  // The solid-state transformer's: 2 % of what it delivered, the bus's load less the supply.
  EXPECT_LT(d.stage_loss_energy_j[3], a.stage_loss_energy_j[3]);
  // The SST's losses on that energy are heat the plant no longer carries.
  EXPECT_LT(d.cooling_energy_j, a.cooling_energy_j);
  EXPECT_LT(d.pue(), a.pue());
}

// Issue #18, firm generation's fuel against the EIA. The gas turbine of
// examples/solar-battery-site.yaml at the US natural-gas fleet's 2022 average operating heat rate,
// 7,740 Btu/kWh (EIA, Electric Power Annual, Table 8.1), burning gas at 53.06 kg CO2/MMBtu (EPA 40
// CFR 98 Subpart C, Table C-1): the run's CO2 per kWh generated against EIA's published 0.97 lb/kWh
// for US natural-gas generation in 2022 (EIA FAQ "How much carbon dioxide is produced per
// kilowatthour of U.S. electricity generation?"). The FAQ covers all utility-scale plants,
// combined heat and power included, which Table 8.1's heat rate leaves out: its 0.97 implies about
// 8,300 Btu/kWh, so the model, right by construction for the heat rate it is given, sits about 7 %
// below it.
TEST(Simulate, GenerationCo2PerKwhAgainstEia) {
  site::SiteConfig c = scenario::LoadScenarioFile("examples/solar-battery-site.yaml").site;
  ASSERT_TRUE(c.facility.generation.has_value());
  constexpr double kJPerBtu = 1055.05585262, kGPerLb = 453.59237;
  c.facility.generation->heat_rate = 7740 * kJPerBtu / 3.6e6;
  c.facility.generation->fuel_co2_g_per_j = 53.06e3 / (1e6 * kJPerBtu);
  const Summary s = Simulate(c, "gas");
  ASSERT_GT(s.generation_energy_j, 0);
  const double lb_per_kwh =
      s.generation_carbon_kg * 1e3 / kGPerLb / (s.generation_energy_j / 3.6e6);
  const double eia = 0.97;
  std::printf("gas generation: %.1f kWh, %.3f lb CO2/kWh against EIA's %.2f (2022): %+.1f%%\n",
              s.generation_energy_j / 3.6e6, lb_per_kwh, eia, 100 * (lb_per_kwh / eia - 1));
  // By hand: 7,740 Btu x 53.06 kg / 1e6 Btu = 0.41068 kg = 0.9054 lb a kWh.
  EXPECT_NEAR(lb_per_kwh, 7740 * 53.06e-6 * 1e3 / kGPerLb, 1e-9);
  EXPECT_NEAR(lb_per_kwh, eia, 0.08 * eia);
}

}  // namespace
}  // namespace firstwall::report
