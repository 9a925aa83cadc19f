#include "scheduler/failures.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "core/error.h"
#include "reliability/failure_table.h"

namespace firstwall::scheduler {
namespace {

SimTime Days(double d) { return SimTime::FromNanoseconds(std::llround(d * 86400e9)); }
SimTime Hours(double h) { return SimTime::FromNanoseconds(std::llround(h * 3600e9)); }

// The 16,384-H100 cluster of the Llama 3 report: 2,048 nodes of 8.
Topology Llama3Cluster() {
  Topology t;
  t.nodes = 2048;
  t.gpus_per_node = 8;
  t.nodes_per_rack = 2;
  t.nodes_per_leaf = 16;
  t.nodes_per_pod = 2048;
  return t;
}

// Exact equal-tailed interval of a Poisson(mu) count: [lo, hi] with P(N < lo) <= tail and
// P(N > hi) <= tail, each bound as tight as the discrete distribution allows.
struct CountInterval {
  int lo = 0;
  int hi = 0;
};
CountInterval PoissonInterval(double mu, double tail) {
  CountInterval r;
  double cdf = 0;
  bool lo_set = false;
  for (int n = 0;; ++n) {
    const double p = std::exp(-mu + n * std::log(mu) - std::lgamma(n + 1.0));
    if (!lo_set && cdf + p > tail) {
      r.lo = n;  // P(N < n) = cdf <= tail
      lo_set = true;
    }
    cdf += p;
    if (1.0 - cdf <= tail) {
      r.hi = n;  // P(N > n) <= tail
      return r;
    }
  }
}

int CountUntil(FailureProcess& p, SimTime end) {
  int n = 0;
  while (p.PeekTime() < end) {
    p.Next();
    ++n;
  }
  return n;
}

TEST(Failures, DefaultTableGivesLlama3InterruptionsOn16kH100) {
  const Topology t = Llama3Cluster();
  const FailureModel m = DefaultFailureModel();
  const CountInterval ci = PoissonInterval(419, 0.005);
  std::printf("99%% Poisson interval around 419: [%d, %d]\n", ci.lo, ci.hi);
  // mu = 419: the interval is about 419 +- 2.576 sqrt(419) = [366, 472].
  EXPECT_GE(ci.lo, 364);
  EXPECT_LE(ci.lo, 369);
  EXPECT_GE(ci.hi, 469);
  EXPECT_LE(ci.hi, 474);

  // The process's summed rate is the table's: exactly 419 expected over 54 days.
  FailureProcess p(t, m, 1);
  EXPECT_NEAR(p.RatePerS() * Days(54).seconds(), 419, 1e-9);
  EXPECT_NEAR(
      p.RatePerS() * Days(54).seconds(),
      reliability::Forecast(reliability::Llama3FailureTable(), t.gpus(), 8, 54).interruptions,
      1e-9);

  std::printf("%6s %8s %8s %8s\n", "seed", "count", "mtbi_h", "inside");
  int total = 0;
  constexpr int kSeeds = 10;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    FailureProcess q(t, m, seed);
    const int n = CountUntil(q, Days(54));
    total += n;
    const double mtbi_h = 54 * 24.0 / n;
    std::printf("%6llu %8d %8.3f %8s\n", static_cast<unsigned long long>(seed), n, mtbi_h,
                n >= ci.lo && n <= ci.hi ? "yes" : "no");
    if (seed == 1) {
      EXPECT_GE(n, ci.lo);
      EXPECT_LE(n, ci.hi);
      // About one every 3 hours (1,296 h / 419 = 3.09 h): inside the interval's MTBI range.
      EXPECT_GE(mtbi_h, 1296.0 / ci.hi);
      EXPECT_LE(mtbi_h, 1296.0 / ci.lo);
    }
  }
  // All seeds together: Poisson(4,190).
  const CountInterval all = PoissonInterval(419.0 * kSeeds, 0.005);
  std::printf("%d seeds: %d failures, 99%% interval [%d, %d], mean MTBI %.3f h (expected %.3f h)\n",
              kSeeds, total, all.lo, all.hi, 1296.0 * kSeeds / total, 1296.0 / 419);
  EXPECT_GE(total, all.lo);
  EXPECT_LE(total, all.hi);
}

TEST(Failures, CausesFollowTheTableShares) {
  // Over 100 snapshots (41,900 expected), the faulty-GPU share is 148/419 = 35.3% and HBM 17.2%.
  FailureProcess p(Llama3Cluster(), DefaultFailureModel(), 7);
  std::map<std::string, int> by_cause;
  int n = 0;
  while (p.PeekTime() < Days(5400)) {
    const Failure f = p.Next();
    ++by_cause[std::string(f.cause_name)];
    ++n;
  }
  const double gpu = by_cause["faulty GPU"] / static_cast<double>(n);
  const double hbm = by_cause["GPU HBM3 memory"] / static_cast<double>(n);
  std::printf("faulty GPU %.4f (expected %.4f), HBM %.4f (expected %.4f), n = %d\n", gpu,
              148 / 419.0, hbm, 72 / 419.0, n);
  // Binomial standard deviations: 0.0023 and 0.0018; 4 sigma.
  EXPECT_NEAR(gpu, 148 / 419.0, 0.0094);
  EXPECT_NEAR(hbm, 72 / 419.0, 0.0074);
}

TEST(Failures, TimesAscendAndComponentsAreUniform) {
  FailureProcess p(Llama3Cluster(), DefaultFailureModel(), 3);
  SimTime last;
  std::vector<int> node_hits(2048, 0);
  int n = 0;
  while (p.PeekTime() < Days(5400)) {
    const Failure f = p.Next();
    ASSERT_GE(f.at, last);
    last = f.at;
    ASSERT_EQ(f.nodes.count, 1);  // the default kinds all hit one node
    ++node_hits[f.nodes.first];
    ++n;
  }
  // Halves of the cluster get half the failures each (binomial sd sqrt(n)/2 ~ 102).
  int low = 0;
  for (int i = 0; i < 1024; ++i) low += node_hits[i];
  EXPECT_NEAR(low, n / 2.0, 4 * std::sqrt(n) / 2);
}

TEST(Failures, WeibullShapeOneIsTheExponential) {
  // One kind, 10,000 GPUs at 1 failure per 1,000 GPU-days for 1,000 days: 10,000 expected.
  Topology t;
  t.nodes = 1250;
  t.gpus_per_node = 8;
  FailureModel m;
  m.causes = {{"gpu", ComponentKind::kGpu, 1.0}};
  const CountInterval ci = PoissonInterval(10000, 0.005);
  std::printf("%14s %8s %8s  99%% Poisson interval [%d, %d]\n", "model", "shape", "count", ci.lo,
              ci.hi);
  const auto run = [&](double shape, bool fresh) {
    FailureModel w = m;
    w.kind(ComponentKind::kGpu).weibull_shape = shape;
    w.fresh_start = fresh;
    FailureProcess p(t, w, 11);
    const int n = CountUntil(p, Days(1000));
    std::printf("%14s %8.2f %8d\n", fresh ? "fresh" : "stationary", shape, n);
    return n;
  };
  const int exponential = run(1.0, false);
  EXPECT_GE(exponential, ci.lo);
  EXPECT_LE(exponential, ci.hi);
  // The per-component renewal path with shape 1 (forced through the heap by a shape of
  // 1 + 1e-12, the same distribution to 12 digits) and from a fresh start.
  for (bool fresh : {false, true}) {
    const int n = run(1.0 + 1e-12, fresh);
    EXPECT_GE(n, ci.lo);
    EXPECT_LE(n, ci.hi);
  }
  // Any shape in equilibrium has the same expected count (a stationary renewal process has
  // E[N(t)] = t / mean); its variance differs, so a looser 4% band.
  for (double shape : {0.7, 1.5}) {
    EXPECT_NEAR(run(shape, false), 10000, 400) << "shape " << shape;
  }
  // Fresh wear-out components (shape 3, mean life 1,000 days) mostly fail late: in the first
  // 300 days the Weibull CDF is 1 - exp(-(300 / (1000 / Gamma(4/3)))^3) = 1.9%.
  FailureModel w = m;
  w.kind(ComponentKind::kGpu).weibull_shape = 3;
  w.fresh_start = true;
  FailureProcess fresh(t, w, 5);
  const double scale_d = 1000.0 / std::tgamma(1 + 1 / 3.0);
  const double expected = 10000 * (1 - std::exp(-std::pow(300 / scale_d, 3)));
  const int n = CountUntil(fresh, Days(300));
  std::printf("fresh shape 3, first 300 days: %d (expected %.1f)\n", n, expected);
  EXPECT_NEAR(n, expected, 4 * std::sqrt(expected));
}

TEST(Failures, ComponentCountsFollowTheTopology) {
  Topology t;
  t.nodes = 100;
  t.gpus_per_node = 8;
  t.nodes_per_rack = 4;   // 25 racks
  t.nodes_per_leaf = 16;  // 7 leaf groups (the last has 4 nodes)
  FailureDomains d;
  d.racks_per_pdu = 2;   // 13 PDUs
  d.racks_per_cdu = 10;  // 3 CDUs
  d.spines = 12;
  EXPECT_EQ(ComponentCount(ComponentKind::kGpu, t, d), 800);
  EXPECT_EQ(ComponentCount(ComponentKind::kSoftware, t, d), 800);
  EXPECT_EQ(ComponentCount(ComponentKind::kHost, t, d), 100);
  EXPECT_EQ(ComponentCount(ComponentKind::kLeaf, t, d), 7 * 8);  // one per rail
  EXPECT_EQ(ComponentCount(ComponentKind::kPdu, t, d), 13);
  EXPECT_EQ(ComponentCount(ComponentKind::kCdu, t, d), 3);
  EXPECT_EQ(ComponentCount(ComponentKind::kSpine, t, d), 12);
  d.leaves_per_group = 2;
  EXPECT_EQ(ComponentCount(ComponentKind::kLeaf, t, d), 14);
}

TEST(Failures, BlastRadiusByHand) {
  Topology t;
  t.nodes = 100;
  t.gpus_per_node = 8;
  t.nodes_per_rack = 4;
  t.nodes_per_leaf = 16;
  FailureDomains d;
  d.racks_per_pdu = 2;
  d.racks_per_cdu = 10;
  d.spines = 12;
  // GPU 803 does not exist; GPU 795 is on node 99.
  EXPECT_EQ(BlastRadius(ComponentKind::kGpu, 795, t, d), (NodeRun{99, 1}));
  EXPECT_EQ(BlastRadius(ComponentKind::kSoftware, 17, t, d), (NodeRun{2, 1}));
  EXPECT_EQ(BlastRadius(ComponentKind::kPsu, 42, t, d), (NodeRun{42, 1}));
  // Leaf switch 21 is rail 5 of leaf group 2 (8 rails per group): nodes 32..47.
  EXPECT_EQ(BlastRadius(ComponentKind::kLeaf, 21, t, d), (NodeRun{32, 16}));
  // Leaf switch 55 is rail 7 of group 6, the short last group: nodes 96..99.
  EXPECT_EQ(BlastRadius(ComponentKind::kLeaf, 55, t, d), (NodeRun{96, 4}));
  // PDU 3 feeds racks 6 and 7: nodes 24..31.
  EXPECT_EQ(BlastRadius(ComponentKind::kPdu, 3, t, d), (NodeRun{24, 8}));
  // PDU 12 feeds rack 24 only (racks 24, 25 clipped to 25 racks): nodes 96..99.
  EXPECT_EQ(BlastRadius(ComponentKind::kPdu, 12, t, d), (NodeRun{96, 4}));
  // CDU 2 cools racks 20..29, clipped: nodes 80..99.
  EXPECT_EQ(BlastRadius(ComponentKind::kCdu, 2, t, d), (NodeRun{80, 20}));
  EXPECT_EQ(BlastRadius(ComponentKind::kSpine, 11, t, d), (NodeRun{}));
  EXPECT_THROW(BlastRadius(ComponentKind::kGpu, 800, t, d), InternalError);

  EXPECT_EQ(EffectOf(ComponentKind::kLeaf, false), FailureEffect::kCutFromFabric);
  EXPECT_EQ(EffectOf(ComponentKind::kCdu, false), FailureEffect::kThrottle);
  EXPECT_EQ(EffectOf(ComponentKind::kCdu, true), FailureEffect::kNodeDown);
  EXPECT_EQ(EffectOf(ComponentKind::kSpine, false), FailureEffect::kFabricDegraded);
  EXPECT_EQ(EffectOf(ComponentKind::kSoftware, false), FailureEffect::kJobRestart);
  EXPECT_EQ(EffectOf(ComponentKind::kPdu, false), FailureEffect::kNodeDown);

  // Through the process: only leaves fail, with a fixed 4 h repair; every failure's radius is the
  // leaf group of its switch.
  FailureModel m;
  m.domains = d;
  m.causes = {{"leaf switch", ComponentKind::kLeaf, 50.0}};
  m.kind(ComponentKind::kLeaf).repair = {Hours(4), RepairDistribution::kFixed};
  FailureProcess p(t, m, 2);
  for (int i = 0; i < 100; ++i) {
    const Failure f = p.Next();
    const int group = static_cast<int>(f.component / 8);
    EXPECT_EQ(f.nodes.first, group * 16);
    EXPECT_EQ(f.nodes.count, group == 6 ? 4 : 16);
    EXPECT_EQ(f.effect, FailureEffect::kCutFromFabric);
    EXPECT_EQ(f.repair, Hours(4));
    EXPECT_EQ(f.cause_name, "leaf switch");
  }
}

TEST(Failures, DefaultModelHasNoRatesForUnreportedKinds) {
  const FailureModel m = DefaultFailureModel();
  EXPECT_EQ(m.causes.size(), 18u);
  for (ComponentKind k : {ComponentKind::kLeaf, ComponentKind::kSpine, ComponentKind::kPdu,
                          ComponentKind::kCdu, ComponentKind::kNvlink}) {
    EXPECT_EQ(m.KindRatePer1000Days(k), 0) << ComponentKindName(k);
  }
  // Host: maintenance 32 + SSD 3 + chassis 2 + IO board 2 + CPU 2 + memory 2 = 43 events over
  // 2,048 nodes x 54 days.
  EXPECT_NEAR(m.KindRatePer1000Days(ComponentKind::kHost), 43e3 / (2048 * 54.0), 1e-12);
  EXPECT_EQ(m.kind(ComponentKind::kGpu).repair.mean, Hours(48));
  EXPECT_EQ(m.kind(ComponentKind::kSoftware).repair.mean, SimTime());
  // An MTBF of 24,000 h is 1 event per 1,000 component-days.
  EXPECT_DOUBLE_EQ(RatePer1000DaysFromMtbfH(24000), 1.0);
}

TEST(Failures, JobRateIsItsShareOfTheCluster) {
  const Topology t = Llama3Cluster();
  FailureProcess p(t, DefaultFailureModel(), 1);
  // The whole cluster's job sees every failure; half the GPUs see half of them.
  EXPECT_NEAR(p.JobRatePerS(t.gpus()), p.RatePerS(), 1e-15);
  EXPECT_NEAR(p.JobRatePerS(t.gpus() / 2), p.RatePerS() / 2, 1e-15);
}

TEST(Failures, Deterministic) {
  const auto trace = [](uint64_t seed) {
    FailureModel m = DefaultFailureModel();
    m.kind(ComponentKind::kHbm).weibull_shape = 0.8;
    FailureProcess p(Llama3Cluster(), m, seed);
    std::string s;
    for (int i = 0; i < 500; ++i) {
      const Failure f = p.Next();
      s += std::to_string(f.at.ns()) + ":" + std::to_string(f.component) + ":" +
           std::to_string(f.cause) + ":" + std::to_string(f.repair.ns()) + ";";
    }
    return s;
  };
  EXPECT_EQ(trace(42), trace(42));
  EXPECT_NE(trace(42), trace(43));
}

}  // namespace
}  // namespace firstwall::scheduler
