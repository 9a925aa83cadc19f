// The collective estimate's per-link aggregate against the allocation it replaces: every phase's
// slowest flow, found by counting flows per link, equals the slowest rate of the full max-min
// allocation (network/max_min.h) over the same routed flows. The reference below is the estimate
// as it was before: each phase's flows routed and stored, the allocation solved, its minimum taken.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <vector>

#include "network/collective.h"
#include "network/fabric.h"
#include "network/fabric_test_util.h"
#include "network/max_min.h"

namespace firstwall::network {
namespace {
using hardware::Collective;
using namespace units;
constexpr double kInf = std::numeric_limits<double>::infinity();

using testing::H100Spec;
using testing::Range;

// The previous all-to-all: sampled shifted rounds, each solved as a full max-min allocation.
double ReferenceAllToAll(const Fabric& f, double bytes, const std::vector<int>& gpus) {
  const int n = static_cast<int>(gpus.size());
  const double chunk = bytes / n;
  const int rounds = n - 1, sample = std::min(rounds, 64);
  double total = 0;
  for (int i = 0; i < sample; ++i) {
    const int k = 1 + static_cast<int>(static_cast<int64_t>(i) * rounds / sample);
    std::vector<FlowPath> paths;
    double latency = 0;
    uint64_t id = 0;
    for (int j = 0; j < n; ++j) {
      ++id;
      for (int pl = 0; pl < f.planes(); ++pl) {
        paths.push_back(
            f.Route(gpus[static_cast<size_t>(j)], gpus[static_cast<size_t>((j + k) % n)], id, pl));
        latency = std::max(latency, f.PathLatencySeconds(paths.back()));
      }
    }
    double min_rate = kInf;
    for (double x : MaxMinRates(f.capacity(), paths, kInf)) min_rate = std::min(min_rate, x);
    min_rate *= f.planes();
    if (min_rate <= 0) return kInf;
    total += chunk / min_rate + latency;
  }
  return total * rounds / sample;
}

// Healthy, three-tier, multi-plane and oversubscribed fabrics, and one with a degraded NIC and a
// failed leaf-spine link (unequal capacities, rerouted flows).
std::vector<Fabric> Fabrics(int gpus) {
  std::vector<Fabric> out;
  const int nodes = (gpus + 7) / 8;
  out.emplace_back(H100Spec(nodes));
  FabricSpec small_leaves = H100Spec(nodes);
  small_leaves.leaf_radix = 8;  // three tiers from 5 leaves on
  small_leaves.planes = 2;
  out.emplace_back(small_leaves);
  FabricSpec thin = H100Spec(nodes);
  thin.oversubscription = 3;
  thin.leaf_radix = 16;
  out.emplace_back(thin);
  Fabric faulty(thin);
  faulty.SetLinkHealth(faulty.NicUpLink(gpus / 2), 0.3);
  if (faulty.leaf_count() > 1 && gpus > 8) {
    faulty.SetLinkHealth(faulty.Route(0, gpus - 1, 3).links[1], 0.0);
  }
  out.push_back(faulty);
  return out;
}

TEST(CollectiveAggregate, AllToAllEqualsTheMaxMinAllocationItReplaces) {
  const double S = 64.0 * 1048576;
  for (int gpus : {8, 16, 64, 256}) {
    for (const Fabric& f : Fabrics(gpus)) {
      const double want = ReferenceAllToAll(f, S, Range(gpus));
      const auto got =
          EstimateCollective(f, Collective::kAllToAll, S, Range(gpus), Algorithm::kAuto, 0);
      EXPECT_NEAR(got.time_s, want, 1e-12 * want)
          << gpus << " GPUs, " << f.link_count() << " links";
      EXPECT_EQ(got.algorithm, Algorithm::kPairwise);
    }
  }
  // A strided group (every third GPU), as expert-parallel groups are.
  const Fabric f(H100Spec(32));
  std::vector<int> strided;
  for (int g = 0; g < 256; g += 3) strided.push_back(g);
  EXPECT_NEAR(EstimateCollective(f, Collective::kAllToAll, S, strided, Algorithm::kAuto, 0).time_s,
              ReferenceAllToAll(f, S, strided), 1e-12);
}

TEST(CollectiveAggregate, RingEqualsTheMaxMinAllocation) {
  // A ring all-reduce is one phase of neighbour flows: the reference solves it in full. Over
  // several nodes of 8 it is 8 rings (channels), ring c entering every node at its GPU c.
  const double S = 256.0 * 1048576;
  for (int gpus : {16, 64, 256}) {
    for (const Fabric& f : Fabrics(gpus)) {
      std::vector<FlowPath> paths;
      double latency = 0;
      uint64_t id = 0;
      const int local = 8, nodes = gpus / local;
      for (int c = 0; c < local; ++c) {
        std::vector<int> ring;
        for (int k = 0; k < nodes; ++k) {
          for (int i = 0; i < local; ++i) ring.push_back(k * local + (c + i) % local);
        }
        for (int j = 0; j < gpus; ++j) {
          ++id;
          for (int pl = 0; pl < f.planes(); ++pl) {
            paths.push_back(f.Route(ring[static_cast<size_t>(j)],
                                    ring[static_cast<size_t>((j + 1) % gpus)], id, pl));
            latency = std::max(latency, f.PathLatencySeconds(paths.back()));
          }
        }
      }
      double rate = kInf;
      for (double x : MaxMinRates(f.capacity(), paths, kInf)) rate = std::min(rate, x);
      rate *= f.planes();
      const double want = 2.0 * (gpus - 1) * (S / gpus / local / rate + latency);
      const double got =
          EstimateCollective(f, Collective::kAllReduce, S, Range(gpus), Algorithm::kRing, 0).time_s;
      EXPECT_NEAR(got, want, 1e-12 * want) << gpus << " GPUs";
    }
  }
}

TEST(CollectiveAggregate, AllToAllOver65536GpusIsBoundByEachNic) {
  // How fast this is estimated (12 s when the allocation was solved per round, 0.2 s with flows
  // counted per link) is measured by BM_AllToAll65536; here, its answer. Each GPU sends 64 MiB
  // split evenly over the group; what goes to other nodes leaves through its own 400 Gb/s NIC.
  const Fabric f(H100Spec(8192));
  const int n = 65536;
  const double bytes = 64.0 * 1048576;
  const auto e = EstimateCollective(f, Collective::kAllToAll, bytes, Range(n), Algorithm::kAuto);
  const double nic_bound_s = bytes * (n - 8) / n / 50e9;
  std::printf("all-to-all of 64 MiB over 65,536 GPUs: %.3f ms, NIC bound %.3f ms (x%.3f)\n",
              1e3 * e.time_s, 1e3 * nic_bound_s, e.time_s / nic_bound_s);
  // At 1 KiB a peer the pairwise exchange is latency-bound: n - 1 rounds, each at least the one
  // switch microsecond of the spec and at most a few (NIC, leaf, spine, leaf, NIC), on top of
  // what the NICs carry. (Whether NCCL's grouped sends pay a round's latency per peer is a
  // fidelity question of its own.)
  EXPECT_GE(e.time_s, nic_bound_s + (n - 1) * 1e-6);
  EXPECT_LE(e.time_s, nic_bound_s + (n - 1) * 6e-6);
}

TEST(CollectiveAlgorithms, EachOperationTakesItsOwnAlgorithms) {
  EXPECT_TRUE(AlgorithmApplies(Algorithm::kPairwise, Collective::kAllToAll));
  EXPECT_TRUE(AlgorithmApplies(Algorithm::kAuto, Collective::kAllToAll));
  EXPECT_FALSE(AlgorithmApplies(Algorithm::kRing, Collective::kAllToAll));
  EXPECT_FALSE(AlgorithmApplies(Algorithm::kTree, Collective::kAllGather));
  EXPECT_FALSE(AlgorithmApplies(Algorithm::kPairwise, Collective::kAllReduce));
  EXPECT_TRUE(AlgorithmApplies(Algorithm::kHierarchical, Collective::kReduceScatter));
  EXPECT_EQ(AlgorithmName(Algorithm::kPairwise), "pairwise");
  EXPECT_EQ(AlgorithmFromName("pairwise"), Algorithm::kPairwise);
}

TEST(FabricSize, LinkCountIsWhatTheFabricBuildsAndRefusesOverflow) {
  for (int nodes : {1, 7, 64, 1000}) {
    for (int planes : {1, 3}) {
      FabricSpec s = H100Spec(nodes);
      s.planes = planes;
      s.leaf_radix = 16;
      EXPECT_EQ(Fabric::LinkCount(s), static_cast<int64_t>(Fabric(s).link_count())) << nodes;
    }
  }
  FabricSpec huge = H100Spec(268435456);  // 2^31 GPUs: their count alone overflows an int
  EXPECT_GT(Fabric::LinkCount(huge), kMaxFabricLinks);
  FabricSpec empty = H100Spec(0);
  EXPECT_EQ(Fabric::LinkCount(empty), -1);
}

TEST(FabricSize, RouteIntoIsRoute) {
  FabricSpec s = H100Spec(300);
  s.leaf_radix = 8;
  s.planes = 2;
  Fabric f(s);
  f.SetLinkHealth(f.Route(0, 2399, 5).links[1], 0.0);
  int32_t links[kMaxPathLinks];
  for (int a : {0, 1, 9, 1200}) {
    for (int b : {0, 3, 8, 17, 2399}) {
      for (int pl = 0; pl < 2; ++pl) {
        const int n = f.RouteInto(a, b, 5, pl, links);
        EXPECT_EQ(std::vector<int32_t>(links, links + n), f.Route(a, b, 5, pl).links);
      }
    }
  }
}

}  // namespace
}  // namespace firstwall::network
