#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/rng.h"
#include "reliability/checkpoint.h"
#include "reliability/failure_table.h"

namespace firstwall::reliability {
namespace {

TEST(FailureTable, Llama3RatesGiveBackTheirOwnCounts) {
  // The rates are the report's counts over the exposure of each component, so the cluster they came
  // from gets its 419 interruptions back: a check of the derivation, not of accuracy.
  const FailureTable& t = Llama3FailureTable();
  EXPECT_EQ(t.causes.size(), 18u);
  const InterruptionForecast f = Forecast(t, 16384, 8, 54);
  EXPECT_NEAR(f.interruptions, 419, 1e-9);
  EXPECT_NEAR(f.mtbi_h, 54 * 24 / 419.0, 1e-9);         // about 3.09 h: "one every 3 hours"
  EXPECT_NEAR(f.by_cause[0].interruptions, 148, 1e-9);  // faulty GPU
  EXPECT_NEAR(f.by_cause[1].interruptions, 72, 1e-9);   // HBM3
  // Faulty GPU: 148 / (16,384 GPUs x 54 days) = 0.1673 per 1,000 GPU-days.
  EXPECT_NEAR(t.causes[0].per_1000_component_days, 148e3 / (16384.0 * 54), 1e-12);
  // Power supply is per node: 3 / (2,048 nodes x 54 days).
  EXPECT_NEAR(t.causes[12].per_1000_component_days, 3e3 / (2048.0 * 54), 1e-12);
}

TEST(FailureTable, ScalesWithComponentsNotWithTheSnapshot) {
  const FailureTable& t = Llama3FailureTable();
  // Half the GPUs for twice the time: the same exposure.
  EXPECT_NEAR(Forecast(t, 8192, 8, 108).interruptions, 419, 1e-9);
  // A partial node counts as a node for per-node causes: 9 GPUs on nodes of 8 are 2 hosts.
  EXPECT_EQ(ComponentsPerCluster(Component::kHost, 9, 8), 2);
  EXPECT_EQ(ComponentsPerCluster(Component::kGpu, 9, 8), 9);
  // Nodes of 4 double the per-node components: more host and PSU events for the same GPUs.
  EXPECT_GT(Forecast(t, 16384, 4, 54).interruptions, 419);
}

TEST(Checkpoint, YoungAndDalyByHand) {
  // delta = 90 s, M = 3 h = 10,800 s.
  // Young: sqrt(2 x 90 x 10,800) = sqrt(1,944,000) = 1,394.27 s.
  EXPECT_NEAR(YoungIntervalS(90, 10800), 1394.274, 1e-3);
  // Daly: x = 90 / 21,600 = 0.0041667; 1394.274 x (1 + sqrt(x)/3 + x/9) - 90
  //     = 1394.274 x 1.0219800 - 90 = 1,334.92 s.
  EXPECT_NEAR(DalyIntervalS(90, 10800), 1334.92, 0.01);
  // A write as long as two MTBIs: checkpoint once per MTBI.
  EXPECT_EQ(DalyIntervalS(7200, 3600), 3600);
}

TEST(Checkpoint, DalysIntervalMaximisesHisEttr) {
  for (double write : {10.0, 90.0, 600.0}) {
    for (double mtbi : {1800.0, 10800.0, 86400.0}) {
      const double tau = DalyIntervalS(write, mtbi);
      const double best = DalyEttr(tau, write, 600, mtbi);
      for (double f : {0.8, 0.9, 1.1, 1.25}) {
        EXPECT_GE(best, DalyEttr(f * tau, write, 600, mtbi) - 1e-12)
            << "write " << write << " s, MTBI " << mtbi << " s, tau x " << f;
      }
    }
  }
}

TEST(Checkpoint, DalysEttrMatchesASimulationOfHisModel) {
  // Interruptions as a Poisson process; each segment of tau + delta must run uninterrupted, each
  // restart of R too (an interruption during a restart starts it again).
  const double tau = 1200, delta = 90, restart = 600, mtbi = 10800;
  RngStream rng(7, "daly");
  double wall = 0, useful = 0;
  for (int segment = 0; segment < 200000; ++segment) {
    for (;;) {
      const double x = rng.Exponential(mtbi);
      if (x >= tau + delta) {
        wall += tau + delta;
        useful += tau;
        break;
      }
      wall += x;
      for (;;) {
        const double y = rng.Exponential(mtbi);
        if (y >= restart) {
          wall += restart;
          break;
        }
        wall += y;
      }
    }
  }
  const double simulated = useful / wall, closed = DalyEttr(tau, delta, restart, mtbi);
  std::printf(
      "ETTR tau %.0f s, delta %.0f s, R %.0f s, M %.0f s: simulated %.5f, Daly %.5f, "
      "error %.3f%%\n",
      tau, delta, restart, mtbi, simulated, closed, 100 * (simulated / closed - 1));
  EXPECT_NEAR(simulated / closed, 1.0, 0.003);
  // First-order reading of the same figure: 1 - delta/tau - (tau + delta)/2M - R/M = 0.81 against
  // 0.83.
  EXPECT_NEAR(closed, 1 - delta / tau - (tau + delta) / (2 * mtbi) - restart / mtbi, 0.03);
}

TEST(Checkpoint, BadArgumentsAreInternalErrors) {
  EXPECT_THROW(YoungIntervalS(0, 10), InternalError);
  EXPECT_THROW(DalyIntervalS(10, -1), InternalError);
  EXPECT_THROW(DalyEttr(10, 10, -1, 100), InternalError);
  EXPECT_THROW(Forecast(Llama3FailureTable(), 8, 8, 0), InternalError);
}

}  // namespace
}  // namespace firstwall::reliability
