#include "live/twin_check.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "core/error.h"
#include "live/calibrate.h"
#include "live/temp_path_test_util.h"
#include "report/simulate.h"
#include "scenario/loader.h"

namespace firstwall::live {
namespace {

TEST(GoodnessOfFit, MatchesHandComputedFigures) {
  // d = m - p = {-1, 1, -1, 1}: sum 0, sum of squares 4, mean(m) 13, n - p = 3.
  const std::vector<double> m = {10, 12, 14, 16}, p = {11, 11, 15, 15};
  const FitStats a = GoodnessOfFit(m, p, 1);
  EXPECT_EQ(a.n, 4);
  EXPECT_DOUBLE_EQ(a.mean_measured, 13);
  EXPECT_NEAR(a.cv_rmse, std::sqrt(4.0 / 3) / 13, 1e-12);  // 0.08882
  EXPECT_NEAR(a.nmbe, 0, 1e-15);
  // d = {10, 5, 0, 5}: sum 20, squares 150, mean 100. p = 1: sqrt(150/3)/100 = 0.070711,
  // 20/(3 x 100) = +0.066667 (the twin predicts too little: positive).
  const std::vector<double> m2 = {100, 100, 100, 100}, p2 = {90, 95, 100, 95};
  const FitStats b = GoodnessOfFit(m2, p2, 1);
  EXPECT_NEAR(b.cv_rmse, 0.0707107, 1e-7);
  EXPECT_NEAR(b.nmbe, 0.0666667, 1e-7);
  const FitStats b0 = GoodnessOfFit(m2, p2, 0);  // n - 0 = 4: sqrt(37.5)/100, 20/400
  EXPECT_NEAR(b0.cv_rmse, 0.0612372, 1e-7);
  EXPECT_NEAR(b0.nmbe, 0.05, 1e-12);
  // A prediction above the measurement gives a negative NMBE.
  EXPECT_NEAR(GoodnessOfFit(m2, std::vector<double>{110, 110, 110, 110}, 1).nmbe, -40.0 / 300,
              1e-12);
  // Pairs with a NaN on either side are left out; too few pairs or a zero mean: NaN.
  const std::vector<double> m3 = {100, NAN, 100}, p3 = {90, 80, NAN};
  const FitStats c = GoodnessOfFit(m3, p3, 1);
  EXPECT_EQ(c.n, 1);
  EXPECT_TRUE(std::isnan(c.cv_rmse));
  EXPECT_TRUE(
      std::isnan(GoodnessOfFit(std::vector<double>{0, 0}, std::vector<double>{1, 1}, 0).cv_rmse));
}

scenario::Scenario TestScenario() {
  return scenario::LoadScenarioFile("tests/inputs/live-emulate.yaml");
}

// The emulator's own tick rows as measurements: the twin driven by their GPU power must give the
// design model's facility figures.
// The scenario simulated: its tick rows, and their GPU power and outdoor air as the inputs of a
// MeasuredSite at 1 s with every signal (values left empty).
struct Simulated {
  std::vector<report::TickRow> rows;
  MeasuredSite m;
};
Simulated SimulateScenario(const scenario::Scenario& sc) {
  Simulated out;
  report::SimulateOptions o;
  o.on_tick = [&](const report::TickRow& row, int64_t n) {
    for (int64_t k = 0; k < n; ++k) out.rows.push_back(row);
  };
  report::Simulate(sc.site, sc.file, o);
  MeasuredSite& m = out.m;
  m.settle_s = 0;  // the loops start settled at the first step's heat, as the site's do
  m.step_s = 1;
  m.measured_gpus = sc.site.cluster.gpu_count();
  for (size_t k = 0; k < out.rows.size(); ++k) {
    m.t_ms.push_back(static_cast<int64_t>(k) * 1000);
    m.gpu_w.push_back(out.rows[k].gpu_w);
    m.outdoor_c.push_back(out.rows[k].outdoor_c);
  }
  for (const SignalSpec& s : SignalSpecs(sc.site)) m.signals.push_back({s, "", {}});
  return out;
}

TEST(PredictSignals, ReproducesTheDesignModelFromItsOwnGpuPower) {
  const scenario::Scenario sc = TestScenario();
  const Simulated sim = SimulateScenario(sc);
  const std::vector<report::TickRow>& rows = sim.rows;
  ASSERT_GT(rows.size(), 100u);
  const auto p = PredictSignals(sc.site, sim.m);
  ASSERT_EQ(p.size(), 8u);  // 4 facility signals, the PSU and UPS stages, the GPU coolant, chillers
  for (size_t k = 0; k < rows.size(); ++k) {
    const report::TickRow& r = rows[k];
    EXPECT_NEAR(p.at("it_input_power")[k], r.it_input_w, 1e-6 * r.it_input_w) << k;
    EXPECT_NEAR(p.at("stage_input:ups")[k], r.stage_input_w[1], 1e-6 * r.stage_input_w[1]) << k;
    EXPECT_NEAR(p.at("facility_power")[k], r.facility_w, 1e-9 * r.facility_w) << k;
    EXPECT_NEAR(p.at("cooling_power")[k], r.cooling_w, 1e-9 * r.cooling_w) << k;
    EXPECT_NEAR(p.at("gpu_temperature")[k], r.gpu_coolant_c, 1e-9) << k;
    EXPECT_NEAR(p.at("chiller_power")[k], r.chillers_w, 1e-9 * std::max(1.0, r.chillers_w)) << k;
  }
  // By hand at one step: IT = GPUs + 2 nodes x 2 kW; PSU 96 %; UPS (P + 1 kW) / 0.95.
  const double it = rows[50].gpu_w + 4000;
  EXPECT_NEAR(p.at("it_input_power")[50], it / 0.96, 1e-6);
  EXPECT_NEAR(p.at("stage_input:ups")[50], (it / 0.96 + 1000) / 0.95, 1e-6);
}

// With GPU temperature streams that report the die: coolant + chip_to_coolant (0.04 K/W) x the
// mean GPU power, relaxing toward it with chip_time_constant (30 s).
TEST(PredictSignals, TheDieSitsAboveItsCoolantAndFollowsWithItsTimeConstant) {
  const scenario::Scenario sc = TestScenario();
  MeasuredSite m = SimulateScenario(sc).m;
  for (size_t k = 0; k < m.gpu_w.size(); ++k) m.gpu_w[k] = 16 * (k < 60 ? 500.0 : 700.0);
  const std::vector<double> coolant = PredictSignals(sc.site, m).at("gpu_temperature");
  m.gpu_temperature_is_die = true;
  const std::vector<double> die = PredictSignals(sc.site, m).at("gpu_temperature");
  EXPECT_NEAR(die[0], coolant[0] + 0.04 * 500, 1e-9);    // starts steady
  EXPECT_NEAR(die[59], coolant[59] + 0.04 * 500, 1e-9);  // steady load, steady die
  const double steady = coolant[60] + 0.04 * 700;
  EXPECT_NEAR(die[60], steady + (die[59] - steady) * std::exp(-1.0 / 30), 1e-9);
  // One second of the step: 8 K x (1 - e^-1/30) = 0.26 K, and the coolant's own rise.
  EXPECT_GT(die[60], die[59] + 0.26);
  EXPECT_LT(die[60], coolant[60] + 0.04 * 700);
}

// One noisy first step: the loops started on it would carry its error for minutes; started on the
// mean of the first 5 minutes they barely notice.
TEST(PredictSignals, TheLoopsStartSettledOnTheMeanOfTheFirstMinutes) {
  const scenario::Scenario sc = TestScenario();
  MeasuredSite m = SimulateScenario(sc).m;
  for (double& w : m.gpu_w) w = 9000;
  const std::vector<double> truth = PredictSignals(sc.site, m).at("cooling_power");
  m.gpu_w[0] = 10000;
  const std::vector<double> first = PredictSignals(sc.site, m).at("cooling_power");
  m.settle_s = 300;
  const std::vector<double> mean = PredictSignals(sc.site, m).at("cooling_power");
  const double off_first = std::abs(first[10] - truth[10]);
  EXPECT_GT(off_first, 1.0);  // W: the lag still carries most of the 1 kW extra heat at 10 s
  EXPECT_LT(std::abs(mean[10] - truth[10]), off_first / 20);  // 1 kW / ~120 steps of settling
}

TEST(AssembleMeasured, AveragesPerStepHoldsShortGapsAndRefusesWhatIsMissing) {
  const scenario::Scenario sc = TestScenario();
  auto store = OpenSqliteStore(TempPath("assemble.db"));
  const auto g0 = store->SeriesId({"gpu", "node0/gpu0", "power", "W", "e", "P"});
  const auto g1 = store->SeriesId({"gpu", "node0/gpu1", "power", "W", "e", "P"});
  const auto fac = store->SeriesId({"facility", "site", "power", "W", "e", "F"});
  const auto out = store->SeriesId({"weather_station", "outdoor", "temperature", "C", "e", "T"});
  // Steps of 1 s from t = 10 s. gpu0: two samples in the first step (mean 500), none at 12 s
  // (held), gpu1 steady; the facility meter misses 11 s.
  store->Append(g0,
                std::vector<SamplePoint>{{10000, 400}, {10500, 600}, {11000, 700}, {13000, 900}});
  store->Append(g1,
                std::vector<SamplePoint>{{10000, 100}, {11000, 100}, {12000, 100}, {13000, 100}});
  store->Append(fac, std::vector<SamplePoint>{{10000, 9000}, {12000, 9500}, {13000, NAN}});
  store->Append(out, std::vector<SamplePoint>{{10000, 20}, {13000, 22}});
  store->Flush();
  AssembleOptions o;
  o.max_hold_steps = 1;
  const MeasuredSite m = AssembleMeasured(*store, sc.site, o);
  EXPECT_DOUBLE_EQ(m.step_s, 1.0);  // median of the spacings 500, 500, 2000 and 3 x 1000 ms
  ASSERT_EQ(m.t_ms.size(), 4u);
  EXPECT_EQ(m.measured_gpus, 2);
  EXPECT_DOUBLE_EQ(m.gpu_w[0], 500 + 100);
  EXPECT_DOUBLE_EQ(m.gpu_w[1], 700 + 100);
  EXPECT_DOUBLE_EQ(m.gpu_w[2], 700 + 100);  // gpu0 held one step
  EXPECT_DOUBLE_EQ(m.gpu_w[3], 900 + 100);
  EXPECT_DOUBLE_EQ(m.outdoor_c[1], 20);
  EXPECT_TRUE(std::isnan(m.outdoor_c[2]));  // beyond the hold
  ASSERT_EQ(m.signals.size(), 1u);
  EXPECT_EQ(m.signals[0].spec.name, "facility_power");
  EXPECT_DOUBLE_EQ(m.signals[0].value[1], 9000);  // held
  EXPECT_DOUBLE_EQ(m.signals[0].value[3], 9500);  // the NaN sample is no sample: held
  // The twin: IT = GPUs + the 14 unmeasured GPUs at idle + 2 x 2 kW of node base power.
  const auto p = PredictSignals(sc.site, m);
  EXPECT_GT(p.at("facility_power")[0], 600 + 4000);

  o.signals = {"pue"};
  EXPECT_THROW(AssembleMeasured(*store, sc.site, o), InputError);  // not in the store
  o.signals = {"power_factor"};
  EXPECT_THROW(AssembleMeasured(*store, sc.site, o), InputError);  // no such signal
  o.signals.clear();
  o.step_s = 0.1;  // a tenth of the samples' 1 s median spacing, the smallest step taken
  EXPECT_EQ(AssembleMeasured(*store, sc.site, o).t_ms.size(), 31u);
  o.step_s = 1e-6;  // far below it: most steps empty, refused (a breaker's 1 ms made 3.6 M)
  EXPECT_THROW(AssembleMeasured(*store, sc.site, o), InputError);
  o.step_s = 0;
  o.from_ms = 20000;
  EXPECT_THROW(AssembleMeasured(*store, sc.site, o), InputError);  // an empty window
  auto empty = OpenSqliteStore(TempPath("empty.db"));
  EXPECT_THROW(AssembleMeasured(*empty, sc.site, {}), InputError);
}

TEST(JudgeWindow, JudgesAveragesWhenItCanAndFlagsDrift) {
  MeasuredSite m;
  m.step_s = 1;
  m.t_ms = {0, 1000, 2000, 3000, 4000, 5000};
  m.gpu_w.assign(6, 0);
  m.outdoor_c.assign(6, NAN);
  m.signals.push_back({{"facility_power", "facility", "", "power", "W", false},
                       "",
                       {100, 100, 100, 100, 100, 100}});
  std::map<std::string, std::vector<double>> p = {{"facility_power", {90, 90, 95, 95, 100, 100}}};
  JudgeOptions o;
  o.average_s = 2;  // averages 90, 95, 100 against 100: d = {10, 5, 0}
  const std::vector<Window> w = SplitWindows(m, 0);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].last, 6u);
  const std::vector<SignalFit> f = JudgeWindow(m, p, w[0], o);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].judged_on, "averaged");
  EXPECT_EQ(f[0].averaged.n, 3);
  EXPECT_NEAR(f[0].averaged.cv_rmse, std::sqrt(125.0 / 2) / 100, 1e-12);  // 0.0791
  EXPECT_NEAR(f[0].averaged.nmbe, 15.0 / 200, 1e-12);                     // 0.075
  // native: d = {10, 10, 5, 5, 0, 0}, squares 250, n - 1 = 5
  EXPECT_NEAR(f[0].native.cv_rmse, std::sqrt(50.0) / 100, 1e-12);
  EXPECT_NEAR(f[0].native.nmbe, 30.0 / 500, 1e-12);
  EXPECT_EQ(f[0].verdict, "pass");  // within 30 % and 10 %
  EXPECT_TRUE(f[0].drift);          // |NMBE| 7.5 % > 5 %
  EXPECT_NE(f[0].reason.find("NMBE"), std::string::npos);
  // Windows of 4 s: [0, 4) and [4, 6); the second has one average: judged at the step.
  const std::vector<Window> w2 = SplitWindows(m, 4);
  ASSERT_EQ(w2.size(), 2u);
  EXPECT_EQ(w2[1].first, 4u);
  const std::vector<SignalFit> f2 = JudgeWindow(m, p, w2[1], o);
  EXPECT_EQ(f2[0].judged_on, "native");
  EXPECT_NEAR(f2[0].native.cv_rmse, 0, 1e-15);
  EXPECT_FALSE(f2[0].drift);
}

// Measurements made by the twin itself with known parameters: the fit must find them from the
// scenario's values, one parameter (Subplex) and two (BOBYQA), and the check window must agree.
TEST(Calibrate, RecoversKnownParametersFromTheTwinsOwnPredictions) {
  const std::string path = "tests/inputs/live-emulate.yaml";
  const scenario::Scenario sc = TestScenario();
  MeasuredSite m = SimulateScenario(sc).m;
  const TwinParameter base = ResolveParameter("node_base_power", path, sc.site, {});
  const TwinParameter ups = ResolveParameter("ups_efficiency", path, sc.site, {});
  const auto truth = PredictSignals(ConfigWith(path, {}, {base, ups}, {2500, 0.93}), m);
  for (auto& s : m.signals) s.value = truth.at(s.spec.name);
  const std::vector<Window> w = SplitWindows(m, 60);
  ASSERT_GE(w.size(), 2u);

  const CalibrationResult one = Calibrate(path, {}, {base}, m, w[0]);
  EXPECT_EQ(one.algorithm, "NLopt LN_SBPLX");
  ASSERT_EQ(one.fitted.size(), 1u);
  // With the UPS left at 95 % the best node base power is a compromise; it must still move most
  // of the way and lower the objective.
  EXPECT_GT(one.fitted[0], 2300);
  EXPECT_LT(one.objective_fitted, one.objective_start / 5);

  const CalibrationResult two = Calibrate(path, {}, {base, ups}, m, w[0]);
  EXPECT_EQ(two.algorithm, "NLopt LN_BOBYQA");
  ASSERT_EQ(two.fitted.size(), 2u);
  EXPECT_NEAR(two.fitted[0], 2500, 0.5) << two.status;
  EXPECT_NEAR(two.fitted[1], 0.93, 1e-4) << two.status;
  EXPECT_LT(two.objective_fitted, 1e-9);
  EXPECT_LT(CalibrationObjective(ConfigWith(path, {}, {base, ups}, two.fitted), m, w[1]), 1e-9);
  // A budget of 6 runs of the twin is 6, the starting point included.
  const CalibrationResult short_fit = Calibrate(path, {}, {base, ups}, m, w[0], 6);
  EXPECT_EQ(short_fit.evaluations, 6);
}

TEST(Calibrate, NamesMapToScenarioKeysAndUnknownNamesAreRefused) {
  const scenario::Scenario sc = TestScenario();
  const std::string path = "tests/inputs/live-emulate.yaml";
  const TwinParameter base = ResolveParameter("node_base_power", path, sc.site, {});
  EXPECT_EQ(base.key, "cluster.node_base_power");
  EXPECT_DOUBLE_EQ(base.start, 2000);
  EXPECT_DOUBLE_EQ(base.lo, 500);
  EXPECT_DOUBLE_EQ(base.hi, 8000);
  EXPECT_EQ(base.SetLine(2500), "cluster.node_base_power=2500 W");
  EXPECT_EQ(ResolveParameter("psu_efficiency", path, sc.site, {}).key,
            "facility.power_chain[rack PSU].efficiency");
  const TwinParameter ups = ResolveParameter("ups_efficiency", path, sc.site, {});
  EXPECT_EQ(ups.key, "facility.power_chain[UPS].efficiency");
  EXPECT_DOUBLE_EQ(ups.start, 0.95);
  EXPECT_EQ(ResolveParameter("efficiency:rack-psu", path, sc.site, {}).start, 0.96);
  EXPECT_THROW(ResolveParameter("chiller_magic", path, sc.site, {}), InputError);
  EXPECT_THROW(ResolveParameter("efficiency:transformer", path, sc.site, {}), InputError);
  EXPECT_THROW(ResolveParameter("cooling_cop", path, sc.site, {}), InputError);  // no cop
}

}  // namespace
}  // namespace firstwall::live
