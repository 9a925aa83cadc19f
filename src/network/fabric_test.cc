#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>
#include <vector>

#include "hardware/calibration_data.h"
#include "network/collective.h"
#include "network/fabric.h"
#include "network/fabric_test_util.h"

namespace firstwall::network {
namespace {
using hardware::Collective;
using namespace units;

using testing::H100Spec;
using testing::Range;

TEST(Fabric, Nvl72DomainsSpanTraysAndRailsFollowTheTray) {
  FabricSpec s = H100Spec(36);  // 36 trays of 4 GPUs: two NVL72 racks
  s.gpus_per_node = 4;
  s.nvlink_domain = 72;
  const Fabric f(s);
  EXPECT_EQ(f.domain_size(), 72);
  EXPECT_EQ(f.Route(0, 71, 1).links.size(), 2u);  // tray 0 to tray 17: NVLink
  EXPECT_TRUE(f.IsNvlink(f.Route(0, 71, 1).links[0]));
  EXPECT_EQ(f.Route(0, 72, 1).links.size(), 2u);  // rack to rack, same rail and leaf
  EXPECT_FALSE(f.IsNvlink(f.Route(0, 72, 1).links[0]));
  EXPECT_EQ(f.leaf_count(), 8);  // 4 rails x 2 leaves of 32 trays
  std::string error;
  EXPECT_EQ(f.TargetLinks("nvlink:5", &error), (std::vector<int>{5, 144 + 5}));
  EXPECT_TRUE(error.empty());
  // A ring over one rack stays on NVLink: 72-GPU all-reduce at NVLink speed.
  const auto one_rack =
      EstimateCollective(f, Collective::kAllReduce, 64.0 * (1 << 20), Range(72), Algorithm::kRing);
  const auto two_racks = EstimateCollective(f, Collective::kAllReduce, 64.0 * (1 << 20), Range(144),
                                            Algorithm::kHierarchical);
  EXPECT_LT(one_rack.time_s, two_racks.time_s);
}

TEST(Fabric, RoutesStayOnNvlinkOrRailWhenTheyCan) {
  const Fabric f(H100Spec(64));
  EXPECT_EQ(f.Route(0, 3, 1).links.size(), 2u);  // same node
  EXPECT_EQ(f.Route(0, 8, 1).links.size(), 2u);  // same rail, same leaf
  EXPECT_EQ(f.Route(0, 9, 1).links.size(), 4u);  // other rail: through a spine
  EXPECT_EQ(f.leaf_count(), 16);                 // 8 rails x 2 leaves of 32 nodes
}

TEST(Fabric, LargeClustersGetAThirdTier) {
  const Fabric f(H100Spec(12500));  // 100,000 GPUs
  EXPECT_TRUE(f.three_tier());
  EXPECT_EQ(f.leaf_count(), 8 * 391);                    // 32 nodes per leaf and rail
  EXPECT_EQ(f.pod_count(), 98);                          // 32 leaves per pod
  EXPECT_EQ(f.spine_count(), 98 * 32);                   // 32 spines per pod
  EXPECT_EQ(f.Route(0, 8 * 33, 1).links.size(), 4u);     // same rail, same pod: leaf-spine-leaf
  EXPECT_EQ(f.Route(0, 8 * 12000, 1).links.size(), 6u);  // another pod: through a super-spine
  // Each link of that path by tier, up and back down.
  const FlowPath far = f.Route(0, 8 * 12000, 1);
  const FabricTier want[] = {FabricTier::kNicLeaf,         FabricTier::kLeafSpine,
                             FabricTier::kSpineSuperSpine, FabricTier::kSpineSuperSpine,
                             FabricTier::kLeafSpine,       FabricTier::kNicLeaf};
  for (size_t i = 0; i < far.links.size(); ++i) {
    EXPECT_EQ(f.TierOf(far.links[i]), want[i]) << f.LinkName(far.links[i]);
  }
  EXPECT_EQ(f.TierOf(f.NvlinkDownLink(5)), FabricTier::kNvlink);
  EXPECT_EQ(FabricTierName(FabricTier::kSpineSuperSpine), "spine-super-spine");
  // A super-spine group down: traffic between pods moves to the other groups.
  Fabric g(H100Spec(12500));
  const FlowPath before = g.Route(0, 8 * 12000, 5);
  std::string error;
  const std::vector<int> group =
      g.TargetLinks("superspine:" + std::to_string(before.links[1] % 32), &error);
  ASSERT_TRUE(error.empty()) << error;
  for (int l : group) g.SetLinkHealth(l, 0.0);
  const FlowPath after = g.Route(0, 8 * 12000, 5);
  EXPECT_NE(after.links[2], before.links[2]);
  EXPECT_GT(g.capacity()[static_cast<size_t>(after.links[2])], 0.0);
}

TEST(Fabric, SpineOversubscriptionThinsTheThirdTier) {
  FabricSpec spec = H100Spec(12500);
  spec.spine_oversubscription = 3;  // spines: 48 ports down to leaves, 16 up
  const Fabric f(spec);
  EXPECT_EQ(f.pod_count(), (8 * 391 + 47) / 48);  // 48 leaves per pod
  const FlowPath p = f.Route(0, 8 * 12000, 1);
  ASSERT_EQ(p.links.size(), 6u);
  const double port = 50e9 * hardware::kNetworkBusEfficiency;
  EXPECT_DOUBLE_EQ(f.nominal()[static_cast<size_t>(p.links[1])], port);       // leaf -> spine
  EXPECT_DOUBLE_EQ(f.nominal()[static_cast<size_t>(p.links[2])], 16 * port);  // spine -> super
  const Fabric g(H100Spec(12500));
  EXPECT_DOUBLE_EQ(g.nominal()[static_cast<size_t>(g.Route(0, 8 * 12000, 1).links[2])], 32 * port);
}

TEST(Fabric, AdaptiveRoutingSpreadsWhatHashingMayCollide) {
  FabricSpec spec = H100Spec(64);
  spec.oversubscription = 3;  // 48 nodes per leaf, 16 up ports over the spines
  const Fabric f(spec);
  // 32 flows from rail-0 GPUs under leaf 0 to rail-0 GPUs under leaf 1.
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < 16; ++i) pairs.emplace_back(8 * i, 8 * (48 + i));
  for (int i = 0; i < 16; ++i) pairs.emplace_back(8 * (16 + i), 8 * (48 + i));
  std::vector<double> load(f.link_count(), 0.0);
  std::vector<FlowPath> ecmp, adaptive;
  uint64_t id = 0;
  for (auto [a, b] : pairs) {
    ecmp.push_back(f.Route(a, b, ++id));
    adaptive.push_back(f.RouteLeastLoaded(a, b, load));
    for (int l : adaptive.back().links) load[static_cast<size_t>(l)] += 1;
  }
  auto spine_spread = [&](const std::vector<FlowPath>& paths) {
    std::vector<int> per(static_cast<size_t>(f.spine_count()), 0);
    for (const FlowPath& p : paths)
      ++per[static_cast<size_t>(p.links[1] - f.LeafSpineLink(f.LeafOf(0), 0))];
    return *std::max_element(per.begin(), per.end()) - *std::min_element(per.begin(), per.end());
  };
  EXPECT_LE(spine_spread(adaptive), 1);  // as even as it gets
  const auto ecmp_rates = MaxMinRates(f.capacity(), ecmp, 0);
  const auto ad_rates = MaxMinRates(f.capacity(), adaptive, 0);
  EXPECT_GE(*std::min_element(ad_rates.begin(), ad_rates.end()),
            *std::min_element(ecmp_rates.begin(), ecmp_rates.end()) - 1e-6);
}

TEST(Fabric, PlanesSplitTheNicAndStripeTheTraffic) {
  FabricSpec two = H100Spec(4);
  two.planes = 2;
  const Fabric f1(H100Spec(4)), f2(two);
  const std::vector<int> rail0 = {0, 8, 16, 24};
  const double S = 256.0 * 1048576;
  const double t1 =
      EstimateCollective(f1, Collective::kAllReduce, S, rail0, Algorithm::kRing, 0).time_s;
  const double t2 =
      EstimateCollective(f2, Collective::kAllReduce, S, rail0, Algorithm::kRing, 0).time_s;
  EXPECT_NEAR(t2, t1, 1e-12);  // same total NIC bandwidth
  // One port of plane 1 at a quarter: the striped ring waits for that stripe.
  Fabric f3(two);
  std::string error;
  for (int l : f3.TargetLinks("p1/nic:8", &error)) f3.SetLinkHealth(l, 0.25);
  ASSERT_TRUE(error.empty()) << error;
  const double t3 =
      EstimateCollective(f3, Collective::kAllReduce, S, rail0, Algorithm::kRing, 0).time_s;
  EXPECT_NEAR((t3 - 6e-6) / (t1 - 6e-6), 4.0, 1e-9);
  EXPECT_TRUE(f3.TargetLinks("p2/nic:8", &error).empty());
  EXPECT_NE(error.find("p2 is out of range"), std::string::npos) << error;
  EXPECT_EQ(f3.LinkName(f3.NicUpLink(8, 1)), "p1/gpu8->leaf0");  // node 1, rail 0
  EXPECT_EQ(f3.LinkName(f3.NvlinkUpLink(3)), "gpu3->nvswitch");
  // A TPU slice's scale-up links are its chips' inter-chip interconnect.
  FabricSpec tpu = two;
  tpu.ici_torus = true;
  const Fabric f4(tpu);
  EXPECT_EQ(f4.LinkName(f4.NvlinkUpLink(3)), "chip3->ici");
  EXPECT_EQ(f4.LinkName(f4.NvlinkDownLink(3)), "ici->chip3");
  EXPECT_EQ(f3.TierOf(f3.NicUpLink(8, 1)), FabricTier::kNicLeaf);
  EXPECT_EQ(f3.TierOf(f3.LeafSpineLink(0, 0, 1)), FabricTier::kLeafSpine);
}

TEST(Fabric, RailOnlyJoinsRailsOnlyOverNvlink) {
  FabricSpec s = H100Spec(64);
  s.topology = FabricTopology::kRailOnly;
  const Fabric f(s);
  EXPECT_FALSE(f.three_tier());
  EXPECT_EQ(f.pod_count(), 8);  // a Clos per rail
  // Same rail, same leaf: NIC to NIC, as rail-optimized.
  ASSERT_EQ(f.Route(0, 8, 1).links.size(), 2u);
  EXPECT_EQ(f.Route(0, 8, 1).links[0], f.NicUpLink(0));
  // Rail 0 to rail 1 of another node under the same leaf: NVLink to GPU 1 of node 0, then rail 1.
  const FlowPath across = f.Route(0, 9, 1);
  ASSERT_EQ(across.links.size(), 4u);
  EXPECT_EQ(across.links[0], f.NvlinkUpLink(0));
  EXPECT_EQ(across.links[1], f.NvlinkDownLink(1));
  EXPECT_EQ(across.links[2], f.NicUpLink(1));
  EXPECT_FALSE(f.IsNvlink(across.links.back()));
  // Node 40 sits under rail 1's second leaf: the relay, its leaf, a spine of rail 1, the leaf.
  const FlowPath far = f.Route(0, 8 * 40 + 1, 7);
  ASSERT_EQ(far.links.size(), 6u);
  EXPECT_EQ(f.TierOf(far.links[3]), FabricTier::kLeafSpine);
  EXPECT_NE(f.LinkName(far.links[3]).find("spine1"), std::string::npos);  // rail 1's spine
  // NVLink hop, then three switches.
  EXPECT_DOUBLE_EQ(f.PathLatencySeconds(far), 0.5e-6 + 3 * 1e-6);
  std::vector<double> load(f.link_count(), 0.0);
  EXPECT_EQ(f.RouteLeastLoaded(0, 8 * 40 + 1, load).links.size(), 6u);
  // No spine joins two rails: rail 0's leaf cannot name rail 1's spine.
  std::string error;
  EXPECT_TRUE(f.TargetLinks("leaf:0-spine:1", &error).empty());
  EXPECT_NE(error.find("not in the rail of leaf:0"), std::string::npos);
}

// Rail-only over NVL72 domains (Wang et al.'s rails through a high-bandwidth domain's positions):
// 40 racks of 18 trays of 4 GPUs, 72 rails of 40 GPUs (one a rack). At 32 down ports a leaf, each
// rail takes 2 leaves under 1 spine (32 up ports over 64 spine ports): 144 leaves and 72 spines,
// no third tier. Rail-optimized over the trays' 4 rails needs 23 leaves a rail, 92 leaves, and a
// third tier.
TEST(Fabric, RailOnlyOverNvl72DomainsRunsItsRailsThroughTheRackPositions) {
  FabricSpec s = H100Spec(18 * 40);
  s.gpus_per_node = 4;
  s.nvlink_domain = 72;
  s.topology = FabricTopology::kRailOnly;
  const Fabric f(s);
  EXPECT_EQ(f.pod_count(), 72);  // a Clos per rail
  EXPECT_FALSE(f.three_tier());
  // Position 0 of rack 0 to position 0 of rack 1: one rail, one leaf.
  ASSERT_EQ(f.Route(0, 72, 1).links.size(), 2u);
  EXPECT_EQ(f.Route(0, 72, 1).links[0], f.NicUpLink(0));
  // To position 5 of rack 1: over NVLink to position 5 of rack 0 (GPU 1 of tray 1, another
  // tray of the same rack), then rail 5.
  const FlowPath across = f.Route(0, 72 + 5, 1);
  ASSERT_EQ(across.links.size(), 4u);
  EXPECT_EQ(across.links[0], f.NvlinkUpLink(0));
  EXPECT_EQ(across.links[1], f.NvlinkDownLink(5));
  EXPECT_EQ(across.links[2], f.NicUpLink(5));
  // Rack 35 sits under rail 0's second leaf: up to the rail's spine and down.
  const FlowPath far = f.Route(0, 72 * 35, 3);
  ASSERT_EQ(far.links.size(), 4u);
  EXPECT_EQ(f.TierOf(far.links[1]), FabricTier::kLeafSpine);
  EXPECT_EQ(Fabric::NodesPerLeaf(s), 32 * 18);  // 32 racks' trays
  EXPECT_EQ(Fabric::NodesPerPod(s), 18 * 40);   // every tray has a GPU on every rail
  const FabricInventory rail = Fabric::Inventory(s);
  EXPECT_EQ(rail.leaves, 144);
  EXPECT_EQ(rail.spines, 72);
  EXPECT_EQ(rail.super_spines, 0);
  s.topology = FabricTopology::kRailOptimized;
  const FabricInventory clos = Fabric::Inventory(s);
  EXPECT_EQ(clos.leaves, 4 * 23);
  EXPECT_GT(clos.super_spines, 0);
  std::printf("NVL72 x 40: rail-only %lld switches, rail-optimized %lld\n",
              static_cast<long long>(rail.switches()), static_cast<long long>(clos.switches()));
  EXPECT_LT(rail.switches(), clos.switches());
  // 8 racks: each rail's 8 GPUs under one leaf, no spine carries (or is bought): none is a fault
  // target, where the 40 racks' are.
  std::string error;
  EXPECT_FALSE(f.TargetLinks("spine:5", &error).empty());
  s.topology = FabricTopology::kRailOnly;
  s.nodes = 18 * 8;
  const Fabric small(s);
  EXPECT_EQ(Fabric::Inventory(s).spines, 0);
  EXPECT_TRUE(small.TargetLinks("spine:5", &error).empty());
  EXPECT_NE(error.find("this fabric has no spines: each rail is one leaf"), std::string::npos)
      << error;
  EXPECT_TRUE(small.TargetLinks("leaf:3-spine:3", &error).empty());
  EXPECT_FALSE(small.TargetLinks("leaf:3", &error).empty());
}

TEST(Fabric, RailOnlyNeedsEachRailWithinTwoTiers) {
  FabricSpec s = H100Spec(32 * 64);  // 64 leaves a rail: one spine of 64 ports still reaches all
  s.topology = FabricTopology::kRailOnly;
  EXPECT_GT(Fabric::LinkCount(s), 0);
  s.nodes = 32 * 65;  // 65 leaves a rail: a third tier, which rail-only does not build
  EXPECT_EQ(Fabric::LinkCount(s), -1);
}

TEST(FabricInventory, ThreeTiersPlanesAndRailOnly) {
  // 1,024 nodes: 32 leaves a rail, 256 leaves; rail-optimized needs a third tier.
  FabricSpec s = H100Spec(1024);
  const FabricInventory clos = Fabric::Inventory(s);
  EXPECT_EQ(clos.leaves, 256);
  EXPECT_EQ(clos.spines, 8 * 32);        // 8 pods of 32 leaves, 32 spines each
  EXPECT_EQ(clos.super_spines, 32 * 4);  // 32 groups; 8 pods x 32 up ports = 4 switches each
  EXPECT_EQ(clos.ports(), 64 * clos.switches());  // every port of every switch in use
  // Rail-only: each rail's 32 leaves under 16 spines of its own; no third tier.
  s.topology = FabricTopology::kRailOnly;
  const FabricInventory rail = Fabric::Inventory(s);
  EXPECT_EQ(rail.leaves, 256);
  EXPECT_EQ(rail.spines, 8 * 16);
  EXPECT_EQ(rail.super_spines, 0);
  EXPECT_EQ(rail.switches(), 384);  // 640 rail-optimized
  // One leaf a rail: rail-only needs no spine at all; rail-optimized still joins the rails.
  s.nodes = 32;
  EXPECT_EQ(Fabric::Inventory(s).spines, 0);
  s.topology = FabricTopology::kRailOptimized;
  EXPECT_EQ(Fabric::Inventory(s).spines, 4);  // 8 leaves x 32 up ports over 64-port spines
  // A single node has nothing to join.
  EXPECT_EQ(Fabric::Inventory(H100Spec(1)).switches(), 0);
  // Two planes: twice the switches at the same radix, each port at half the NIC's bandwidth.
  s.planes = 2;
  EXPECT_EQ(Fabric::Inventory(s).leaves, 16);
}

TEST(FabricCollective, RingOnHealthyNodeMatchesTheAlphaBetaForm) {
  const Fabric f(H100Spec(1));
  const double S = 64.0 * 1048576;
  const auto e = EstimateCollective(f, Collective::kAllReduce, S, Range(8), Algorithm::kRing, 0);
  const double want = 14 * (S / 8 / (450e9 * 0.77) + 0.5e-6);
  EXPECT_NEAR(e.time_s, want, 1e-12);
  EXPECT_NEAR(e.busbw_bytes_per_s, S / want * 2 * 7 / 8, 1e-3);
}

TEST(FabricCollective, DegradedLinkSlowsTheWholeRingByItsFactor) {
  Fabric f(H100Spec(4));
  std::vector<int> rail0 = {0, 8, 16, 24};  // GPU 0 of each node: one rail
  const double S = 256.0 * 1048576;
  const double healthy =
      EstimateCollective(f, Collective::kAllReduce, S, rail0, Algorithm::kRing, 0).time_s;
  f.SetLinkHealth(f.NicUpLink(8), 0.25);  // one NIC at a quarter of its bandwidth
  const double degraded =
      EstimateCollective(f, Collective::kAllReduce, S, rail0, Algorithm::kRing, 0).time_s;
  // Latency aside, every step waits for the slow link: 4x the bandwidth term.
  const double lat = 6 * 1e-6;
  EXPECT_NEAR((degraded - lat) / (healthy - lat), 4.0, 1e-9);
}

TEST(FabricCollective, FailedSpineLinkIsRoutedAround) {
  FabricSpec spec = H100Spec(64);
  Fabric f(spec);
  const int leaf = f.LeafOf(0);
  const FlowPath before = f.Route(0, 1 + 8 * 40, 7);
  const int spine_link = before.links[1];
  f.SetLinkHealth(spine_link, 0.0);
  const FlowPath after = f.Route(0, 1 + 8 * 40, 7);
  EXPECT_NE(after.links[1], spine_link);
  EXPECT_EQ(f.LeafOf(0), leaf);
}

TEST(FabricCollective, LargeAllReducePrefersTreeAndAutoPicksTheFastest) {
  const Fabric f(H100Spec(512));  // 4,096 GPUs
  const double S = 64.0 * 1048576;
  const auto all = Range(4096);
  const auto ring = EstimateCollective(f, Collective::kAllReduce, S, all, Algorithm::kRing);
  const auto hier = EstimateCollective(f, Collective::kAllReduce, S, all, Algorithm::kHierarchical);
  const auto tree = EstimateCollective(f, Collective::kAllReduce, S, all, Algorithm::kTree);
  const auto best = EstimateCollective(f, Collective::kAllReduce, S, all, Algorithm::kAuto);
  EXPECT_LT(hier.time_s, ring.time_s);
  EXPECT_EQ(best.time_s, std::min(ring.time_s, tree.time_s));  // NCCL's own algorithms
  std::printf("4096 x H100, 64 MiB all-reduce: ring %.2f ms, hierarchical %.2f ms, tree %.2f ms\n",
              1e3 * ring.time_s, 1e3 * hier.time_s, 1e3 * tree.time_s);
}

// The most measurements any time model that does not fall as messages grow can place within
// `tol`: a point fits when the model's value lies in [t / (1 + tol), t / (1 - tol)]; over points
// in size order, dp[k] is the lowest value a fitting chain of k points can end on.
int BestMonotoneFit(std::vector<std::pair<double, double>> points, double tol) {
  std::sort(points.begin(), points.end());
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> dp(points.size() + 1, inf);
  dp[0] = -inf;
  for (const auto& [size, t] : points) {
    const double lo = t / (1 + tol), hi = t / (1 - tol);
    for (size_t k = points.size(); k >= 1; --k) {
      if (dp[k - 1] <= hi) dp[k] = std::min(dp[k], std::max(dp[k - 1], lo));
    }
  }
  int best = 0;
  for (size_t k = 0; k < dp.size(); ++k) {
    if (dp[k] < inf) best = static_cast<int>(k);
  }
  return best;
}

TEST(FabricCollective, NvlinkAllReduceAgainstVidurDgxH100) {
  const auto t = firstwall::testing::ReadCalibrationCsv("vidur_h100_dgx_all_reduce.csv");
  if (t.rows.empty())
    GTEST_SKIP() << "../shared/data/calibration/vidur_h100_dgx_all_reduce.csv absent";
  const Fabric f(H100Spec(1));
  std::printf("all-reduce on one DGX-H100 vs vidur (messages >= 1 MiB): mean / worst |error|\n");
  for (int n : {2, 4, 8}) {
    double sum = 0, worst = 0;
    int count = 0, within = 0;
    std::vector<std::pair<double, double>> points;
    for (size_t r = 0; r < t.rows.size(); ++r) {
      if (t.Number(r, "num_workers") != n || t.Number(r, "size") < 1048576) continue;
      const double measured = t.Number(r, "time_stats.all_reduce.median") * 1e-3;
      points.push_back({t.Number(r, "size"), measured});
      const double model = EstimateCollective(f, Collective::kAllReduce, t.Number(r, "size"),
                                              Range(n), Algorithm::kAuto)
                               .time_s;
      const double err = std::abs(model - measured) / measured;
      sum += err;
      worst = std::max(worst, err);
      within += err <= 0.15 ? 1 : 0;
      ++count;
    }
    // The 2-GPU medians are bimodal (neighbouring sizes at 23 us and 45 us from 1 to 4.5 MiB), so
    // no single non-decreasing curve can meet 15% everywhere: this is the most any could.
    const int bound = BestMonotoneFit(points, 0.15);
    std::printf(
        "  %d GPUs: %.1f%% / %.1f%% over %d sizes, %d within 15%% (any monotone model: "
        "at most %d)\n",
        n, 100 * sum / count, 100 * worst, count, within, bound);
    EXPECT_LT(sum / count, 0.15) << n;
    if (n == 8) {
      EXPECT_EQ(within, count);  // a full DGX: every size of 1 MiB and more within 15%
    } else {
      // Regression guards at today's figures: 860 of 866 (4 GPUs), 774 of at most 835 (2 GPUs).
      EXPECT_GE(within, n == 4 ? 860 : 774) << n;
    }
  }
}

}  // namespace
}  // namespace firstwall::network
