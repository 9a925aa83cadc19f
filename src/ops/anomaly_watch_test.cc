// The detector fed step by step (AlarmScan) and kept up to date as a server asks it each minute
// (AnomalyWatch), against DetectAnomalies over the whole store (anomaly_watch.h).
#include "ops/anomaly_watch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "live/temp_path_test_util.h"
#include "ops/anomaly_test_support.h"

namespace firstwall::ops {
namespace {

TEST(AlarmScan, ARelativeAlarmIsTurnedBackIntoWattsByItsLevelsMean) {
  // Learned on 20 steps at 0 +- 0.01 (sigma 0.0148), then 0.1 below: k-sigma on the two steps
  // 20 and 21, with an unknown residual between them whose level still counts.
  std::vector<double> r, level;
  for (int i = 0; i < 20; ++i) {
    r.push_back(i % 2 ? 0.01 : -0.01);
    level.push_back(700);
  }
  r.insert(r.end(), {-0.1, std::nan(""), -0.1});
  level.insert(level.end(), {600, 500, 400});
  const Thresholds t = Learn(std::span(r).first(20), 0.005);
  AlarmScan scan(t, 20, true);
  for (size_t k = 20; k < r.size(); ++k) scan.Feed(r[k], level[k]);
  const Alarm& a = scan.alarm();
  ASSERT_TRUE(a.raised);
  EXPECT_EQ(a.detector, "k_sigma");
  EXPECT_EQ(a.start, 20u);
  EXPECT_EQ(a.step, 22u);
  EXPECT_EQ(scan.next_step(), 23u);
  // The offset is 0 (median of +-0.01 pairs), the mean level over steps 20 to 22 is 500 W.
  EXPECT_NEAR(a.residual, -0.1 * 500, 1e-9);
  EXPECT_NEAR(a.score, -0.1 / t.sigma, 1e-9);
  // The same residuals without levels: FirstAlarm's alarm, in the residual's own unit.
  const Alarm plain = FirstAlarm(r, t, 20);
  EXPECT_EQ(plain.step, a.step);
  EXPECT_NEAR(plain.residual, -0.1, 1e-12);
  // Fed more, a raised alarm stays as raised, and the steps still count.
  scan.Feed(5, 1);
  EXPECT_EQ(scan.alarm().step, 22u);
  EXPECT_EQ(scan.next_step(), 24u);
}

constexpr const char* kHall = "tests/inputs/anomaly-hall.yaml";

// The five faults of AnomalyFaults.FiveFaultsInOneRun, from 30 min: the watch is updated each
// minute of the two hours as the store fills (a second connection, as the dashboard's), with the
// twin's loops warmed up over the default 30 min; then the whole store is read once. `rollup`: the
// store keeps ingest's GPU rollup, which the watch's twin then reads (DetectAnomalies reads every
// GPU's series).
void CompareWithTheWholeStore(bool rollup) {
  scenario::Scenario sc = scenario::LoadScenarioFile(kHall);
  sc.site.duration = SimTime::From(units::Seconds(7200));
  std::vector<live::FaultSpec> faults;
  for (const std::string& spec : FiveFaults()) faults.push_back(live::ParseFault(spec));
  constexpr double kCalibrateS = 1200;
  const std::string path = live::TempPath("anomaly_watch.db");
  AnomalyWatch watch(sc.site, kCalibrateS);
  std::unique_ptr<live::Store> reader;
  int refused = 0, updates = 0;
  size_t steps_before = 0;
  const auto each_minute = [&](double t_s, live::TelemetryBuilder&) {
    if (std::llround(t_s) % 60 != 0) return;
    if (!reader) reader = live::OpenExistingStore(path);
    try {
      const AnomalyWatch::Status s = watch.Update(*reader);
      EXPECT_GE(s.steps, steps_before);  // it only moves on
      steps_before = s.steps;
      ++updates;
    } catch (const InputError&) {
      EXPECT_EQ(updates, 0) << "refused only before the calibration is spanned";
      ++refused;
    }
  };
  const EmulatedStore e =
      EmulateIntoStore(sc.site, kHall, faults, path, each_minute, {.gpu_rollup = rollup});
  const AnomalyWatch::Status watched = watch.Update(*reader);
  EXPECT_EQ(watched.twin_gpu_from.starts_with("rollup"), rollup) << watched.twin_gpu_from;
  AnomalyOptions o;
  o.calibrate_s = kCalibrateS;
  const AnomalyReport whole = DetectAnomalies(*e.store, sc.site, o);
  std::printf("%d updates refused before the calibration, %d made; %zu of %zu steps watched\n",
              refused, updates, watched.steps, whole.steps.t_ms.size());
  std::printf("%-18s %-14s %-8s %10s %10s %12s %12s\n", "target", "cause", "detector", "detect_s",
              "watch_s", "residual", "watch_resid");
  ASSERT_EQ(watched.findings.size(), whole.findings.size());
  EXPECT_EQ(whole.findings.size(), 5u);
  EXPECT_GT(refused, 15);  // 20 min of calibration, asked each minute
  EXPECT_GT(updates, 90);
  EXPECT_EQ(watched.residuals, whole.residuals.size());
  EXPECT_EQ(watched.calibration_steps, whole.calibration_steps);
  for (size_t i = 0; i < whole.findings.size(); ++i) {
    const Finding& w = whole.findings[i];
    const Finding& f = watched.findings[i];
    std::printf("%-18s %-14s %-8s %10.0f %10.0f %12.5g %12.5g\n", w.target.c_str(), w.cause.c_str(),
                w.detector.c_str(), static_cast<double>(w.detected_ms - e.epoch0_ms) / 1000,
                static_cast<double>(f.detected_ms - e.epoch0_ms) / 1000, w.residual, f.residual);
    EXPECT_EQ(f.target, w.target);
    EXPECT_EQ(f.cause, w.cause);
    EXPECT_EQ(f.detector, w.detector);
    EXPECT_EQ(f.start_ms, w.start_ms) << w.target;
    EXPECT_EQ(f.detected_ms, w.detected_ms) << w.target;
    EXPECT_NEAR(f.residual, w.residual, 0.02 * std::abs(w.residual)) << w.target;
  }
  // Nothing new: the same answer.
  const AnomalyWatch::Status again = watch.Update(*reader);
  EXPECT_EQ(again.steps, watched.steps);
  EXPECT_EQ(again.findings.size(), watched.findings.size());
}

TEST(AnomalyWatch, AskedEachMinuteItFindsWhatTheWholeStoreRunFinds) {
  CompareWithTheWholeStore(false);
}

TEST(AnomalyWatch, ItsTwinOnIngestsGpuRollupFindsTheSame) { CompareWithTheWholeStore(true); }

}  // namespace
}  // namespace firstwall::ops
