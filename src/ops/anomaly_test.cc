// The detectors and the localization rule on hand-made residuals (anomaly.h).
#include "ops/anomaly.h"

#include <gtest/gtest.h>

#include <cmath>

namespace firstwall::ops {
namespace {

// 5 +- 1, alternating: median 5, MAD 1, so sigma = 1.4826 and |z| = 0.6745 throughout.
std::vector<double> Calibration() {
  std::vector<double> r;
  for (int i = 0; i < 20; ++i) r.push_back(i % 2 ? 6 : 4);
  return r;
}

TEST(AnomalyLearn, RobustSigmaAndLearnedLimitsByHand) {
  const Thresholds t = Learn(Calibration(), 0.1);
  EXPECT_EQ(t.calibration, 20);
  EXPECT_DOUBLE_EQ(t.offset, 5);
  EXPECT_DOUBLE_EQ(t.sigma, 1.4826);
  EXPECT_DOUBLE_EQ(t.k, 5);      // 1.2 x 0.6745 is below the least k
  EXPECT_DOUBLE_EQ(t.drift, 1);  // block means of an alternating residual are 0
  EXPECT_DOUBLE_EQ(t.h, 8);      // |z| < drift: the CUSUM never leaves 0
  // The floor holds when the residual is flat (a sensor's resolution).
  EXPECT_DOUBLE_EQ(Learn(std::vector<double>(20, 3.0), 0.5).sigma, 0.5);
  // An exact expectation learns nothing: a constant -200 stays -200 from an offset of 0.
  const Thresholds exact = Learn(std::vector<double>(20, -200.0), 2, true);
  EXPECT_EQ(exact.calibration, 20);
  EXPECT_DOUBLE_EQ(exact.offset, 0);
  EXPECT_DOUBLE_EQ(exact.sigma, 2);
  EXPECT_DOUBLE_EQ(exact.k, 5);
  EXPECT_DOUBLE_EQ(exact.h, 8);
  // A calibration that wanders learns wider limits: ten steps at +2 sigma, ten at -2 sigma.
  std::vector<double> wander;
  for (int i = 0; i < 40; ++i) wander.push_back((i / 10) % 2 ? -2 : 2);
  const Thresholds w = Learn(wander, 1);
  EXPECT_DOUBLE_EQ(w.offset, 0);
  EXPECT_DOUBLE_EQ(w.sigma, 1.4826 * 2);                // |r - 0| = 2 throughout
  EXPECT_NEAR(w.drift, 2 * (2 / (1.4826 * 2)), 1e-12);  // block means +-0.6745: 2 x their std
}

TEST(AnomalyAlarm, KSigmaAtTheStepAndCusumFromItsLastZero) {
  std::vector<double> r = Calibration();
  const Thresholds t = Learn(r, 0.1);
  const double sigma = t.sigma;
  std::vector<double> spike = r;
  for (int i = 0; i < 10; ++i) spike.push_back(5);
  spike[25] = 5 + 8 * sigma;
  // One wild step is no alarm: k-sigma wants two in a row, and the CUSUM takes it clipped at k = 5
  // (4 above the allowance, below h = 8).
  EXPECT_FALSE(FirstAlarm(spike, t, 20).raised);
  // Nor two of opposite sign: a counter read late makes one step's rate low and the next high.
  spike[26] = 5 - 8 * sigma;
  EXPECT_FALSE(FirstAlarm(spike, t, 20).raised);
  spike[26] = 5 + 8 * sigma;
  const Alarm a = FirstAlarm(spike, t, 20);
  ASSERT_TRUE(a.raised);
  EXPECT_EQ(a.detector, "k_sigma");
  EXPECT_EQ(a.start, 25u);
  EXPECT_EQ(a.step, 26u);
  EXPECT_NEAR(a.score, 8, 1e-12);
  // A shift of 3.5 sigma: the CUSUM climbs by 3.5 - 1 per step: 2.5, 5, 7.5, then 10 > 8.
  std::vector<double> shift = r;
  for (int i = 0; i < 10; ++i) shift.push_back(5 + 3.5 * sigma);
  const Alarm c = FirstAlarm(shift, t, 20);
  ASSERT_TRUE(c.raised);
  EXPECT_EQ(c.detector, "cusum");
  EXPECT_EQ(c.start, 20u);
  EXPECT_EQ(c.step, 23u);
  EXPECT_NEAR(c.residual, 3.5 * sigma, 1e-12);
  // Below the allowance nothing accumulates; NaN steps are skipped.
  std::vector<double> small = r;
  for (int i = 0; i < 100; ++i) small.push_back(i % 3 ? 5 + 0.9 * sigma : std::nan(""));
  EXPECT_FALSE(FirstAlarm(small, t, 20).raised);
}

// A GPU, CDU or facility residual alarmed at `step` with mean residual `r`.
Residual Alarmed(const std::string& entity, const std::string& id, const std::string& quantity,
                 size_t step, double r) {
  Residual x;
  x.entity = entity;
  x.id = id;
  x.quantity = quantity;
  x.unit = quantity == "temperature" ? "C" : "W";
  x.alarm = {true, "cusum", step, step, r, r};
  return x;
}

// 4 nodes of 4 GPUs, 2 nodes per rack, 1 rack per CDU.
std::vector<Finding> Where(const std::vector<Residual>& alarms) {
  Steps steps;
  for (int k = 0; k < 100; ++k) steps.t_ms.push_back(1000 * k);
  steps.step_s = 1;
  return Localize(alarms, steps, {4, 4, 2, 1});
}

TEST(AnomalyLocalize, NarrowestEntityThatExplainsTheAlarms) {
  // One GPU alone: that GPU.
  auto f = Where({Alarmed("gpu", "node0/gpu1", "power", 30, -80)});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].target, "gpu/node0/gpu1");
  EXPECT_EQ(f[0].cause, "slow_gpu");
  EXPECT_EQ(f[0].detected_ms, 31000);  // the end of the step it was raised at
  // Half of a node's GPUs: the node (its two alarms in one finding).
  f = Where({Alarmed("gpu", "node1/gpu0", "power", 30, -80),
             Alarmed("gpu", "node1/gpu3", "utilization", 32, -20)});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].target, "node/node1");
  // Both nodes of rack 1 slow: the rack; both hot: its CDU.
  std::vector<Residual> work, heat;
  for (int n = 2; n < 4; ++n) {
    for (int g = 0; g < 2; ++g) {
      const std::string id = "node" + std::to_string(n) + "/gpu" + std::to_string(g);
      work.push_back(Alarmed("gpu", id, "power", 40 + n, -50));
      heat.push_back(Alarmed("gpu", id, "temperature", 40 + n, 3));
    }
  }
  f = Where(work);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].target, "rack/rack1");
  EXPECT_EQ(f[0].detected_ms, 43000);
  f = Where(heat);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].target, "cdu/cdu-1");
  EXPECT_EQ(f[0].cause, "fouled_cdu");
  // A CDU's own supply alarm is the CDU, and explains a GPU downstream alarming too.
  f = Where({Alarmed("cdu", "cdu-0", "temperature", 50, 2),
             Alarmed("gpu", "node0/gpu0", "temperature", 51, 2)});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].target, "cdu/cdu-0");
  EXPECT_EQ(f[0].start_ms, 50000);
  // A stuck chiller explains the plant's electricity; a PDU is itself.
  f = Where({Alarmed("meter", "cooling", "power", 60, 900),
             Alarmed("chiller", "chiller", "power", 61, 1000),
             Alarmed("pdu", "rack0", "power", 70, 40)});
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].target, "chiller/chiller");
  EXPECT_EQ(f[0].cause, "chiller_stuck");
  EXPECT_EQ(f[0].detected_ms, 61000);  // the first of its alarms: the plant's
  EXPECT_EQ(f[1].target, "pdu/rack0");
  EXPECT_EQ(f[1].cause, "pdu_drift");
}

}  // namespace
}  // namespace firstwall::ops
