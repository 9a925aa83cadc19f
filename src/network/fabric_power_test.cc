#include "network/fabric_power.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "network/fabric.h"
#include "network/fabric_test_util.h"
#include "network/max_min.h"

namespace firstwall::network {
namespace {
using namespace units;
using testing::H100Spec;

struct RaRow {
  int nodes;
  int64_t leaves, spines, cores;
};

// Rows of the compute-fabric tables of NVIDIA's DGX SuperPOD reference architectures
// (docs.nvidia.com/dgx-superpod): each printed row against the switches the model's layout
// builds for the same nodes and switch, with the error table printed.
void CheckRows(const char* what, FabricSpec spec, const std::vector<RaRow>& rows) {
  std::printf("%s\n  nodes | leaves (RA / model) | spines | cores\n", what);
  for (const RaRow& r : rows) {
    spec.nodes = r.nodes;
    const FabricInventory inv = Fabric::Inventory(spec);
    std::printf("  %5d | %4lld / %4lld | %4lld / %4lld | %4lld / %4lld\n", r.nodes,
                static_cast<long long>(r.leaves), static_cast<long long>(inv.leaves),
                static_cast<long long>(r.spines), static_cast<long long>(inv.spines),
                static_cast<long long>(r.cores), static_cast<long long>(inv.super_spines));
    EXPECT_EQ(inv.leaves, r.leaves) << r.nodes;
    EXPECT_EQ(inv.spines, r.spines) << r.nodes;
    EXPECT_EQ(inv.super_spines, r.cores) << r.nodes;
    // The RAs' cable counts: one NIC-leaf cable a GPU, as many leaf-spine cables.
    const int64_t gpus = int64_t{r.nodes} * spec.gpus_per_node * spec.planes;
    if (inv.spines > 0) {
      EXPECT_EQ(inv.spine_ports - (r.cores > 0 ? gpus : 0), gpus) << r.nodes;
    }
  }
}

// DGX B200 SuperPOD (RA-11334-001), InfiniBand QM9700 (64 x 400 Gb/s), 8 ConnectX-7 400 Gb/s
// NICs a node: 2 to 64 scalable units of 32 nodes.
TEST(FabricInventory, SwitchCountsOfTheDgxB200SuperPod) {
  CheckRows("DGX B200 SuperPOD, QM9700", H100Spec(1),
            {{64, 16, 8, 0},
             {128, 32, 16, 0},
             {256, 64, 32, 0},
             {512, 128, 128, 64},
             {1024, 256, 256, 128},
             {2048, 512, 512, 256}});
}

// DGX B300 SuperPOD with Quantum-X800 (RA-11339-001): Q3400 switches of 144 x 800 Gb/s, one
// 800 Gb/s NIC a GPU, 72-node units (its 18-unit row is left out: its GPU and cable counts do not
// agree with its own node count).
TEST(FabricInventory, SwitchCountsOfTheDgxB300XdrSuperPod) {
  FabricSpec s = H100Spec(1);
  s.nic_per_gpu = GigabitsPerSecond(800);
  s.leaf_radix = 144;
  CheckRows("DGX B300 SuperPOD, Q3400", s,
            {{72, 8, 4, 0}, {144, 16, 8, 0}, {288, 32, 18, 0}, {576, 64, 36, 0}});
}

// DGX B300 SuperPOD on Spectrum-4 Ethernet: each 800 Gb/s ConnectX-8 as two 400 Gb/s planes on
// SN5600 switches split to 128 x 400 GbE, 64-node units (table 3).
TEST(FabricInventory, SwitchCountsOfTheDgxB300EthernetSuperPod) {
  FabricSpec s = H100Spec(1);
  s.nic_per_gpu = GigabitsPerSecond(800);
  s.planes = 2;
  s.leaf_radix = PortsAt(SwitchOf(FabricTransport::kSpectrumX), GigabitsPerSecond(400));
  EXPECT_EQ(s.leaf_radix, 128);
  CheckRows(
      "DGX B300 SuperPOD, SN5600 two planes", s,
      {{64, 16, 8, 0}, {128, 32, 16, 0}, {256, 64, 32, 0}, {512, 128, 64, 0}, {1024, 256, 128, 0}});
}

TEST(FabricPower, PortsAtASpeed) {
  const SwitchSystem& q2 = SwitchOf(FabricTransport::kInfiniBand);
  EXPECT_EQ(PortsAt(q2, GigabitsPerSecond(400)), 64);
  EXPECT_EQ(PortsAt(q2, GigabitsPerSecond(200)), 128);
  EXPECT_EQ(PortsAt(q2, GigabitsPerSecond(100)), 128);  // no more than its split ports
  EXPECT_EQ(PortsAt(q2, GigabitsPerSecond(800)), 0);    // faster than its ports
  const SwitchSystem& sn = SwitchOf(FabricTransport::kRoce);
  EXPECT_EQ(PortsAt(sn, GigabitsPerSecond(800)), 64);
  EXPECT_EQ(PortsAt(sn, GigabitsPerSecond(200)), 256);
}

// Optics per port against the modules' and NVIDIA's published figures, with the error table.
TEST(FabricPower, OpticsAgainstPublishedModules) {
  struct Row {
    const char* what;
    FabricOptics optics;
    double gbps, published_w, tolerance;
  };
  const Row rows[] = {
      // MMS4X00-NS400 / MMA1Z00-NS400-T: a 400 Gb/s single-port module, 9 W at most.
      {"400G single-port module (9 W max)", FabricOptics::kPluggable, 400, 9.0, 0.10},
      // MMA4Z00-NS-T: an 800 Gb/s twin-port multimode module, 15 W.
      {"800G twin-port multimode (15 W)", FabricOptics::kPluggable, 800, 15.0, 0.15},
      // NVIDIA's Photonics comparison (GTC 2025, as reported): about 30 W a 1.6T pluggable port,
      // about 9 W co-packaged.
      {"1.6T pluggable port (about 30 W)", FabricOptics::kPluggable, 1600, 30.0, 0.15},
      {"1.6T co-packaged port (about 9 W)", FabricOptics::kCpo, 1600, 9.0, 0.10},
  };
  std::printf("optics per port: published W | model W | error\n");
  for (const Row& r : rows) {
    const double w = ToWatts(OpticsPortWatts(r.optics, GigabitsPerSecond(r.gbps)));
    const double err = (w - r.published_w) / r.published_w;
    std::printf("  %-36s %6.2f | %6.2f | %+5.1f %%\n", r.what, r.published_w, w, 100 * err);
    EXPECT_LE(std::abs(err), r.tolerance + 1e-12) << r.what;
  }
}

// Rail-only against rail-optimized at scales where the rail-optimized Clos needs a third tier:
// Wang et al. (arXiv:2307.12169v5) report 37-75% less network power over their configurations.
// Below a third tier the two build the same switches (each rail fits two tiers either way).
TEST(FabricPower, RailOnlySavesTheThirdTier) {
  std::printf("nodes | radix | rail-optimized kW | rail-only kW | saved\n");
  for (const auto& [nodes, radix] : {std::pair{1024, 64}, {2048, 64}, {4096, 128}, {128, 64}}) {
    FabricSpec s = H100Spec(nodes);
    s.leaf_radix = radix;
    const Power sw = Watts(940);
    const FabricEquipment clos =
        EquipmentOf(s, FabricTransport::kRoce, FabricOptics::kPluggable, "", sw);
    s.topology = FabricTopology::kRailOnly;
    const FabricEquipment rail =
        EquipmentOf(s, FabricTransport::kRoce, FabricOptics::kPluggable, "", sw);
    const double saved = 1 - ToWatts(rail.total()) / ToWatts(clos.total());
    std::printf("%5d | %5d | %8.1f | %8.1f | %4.1f %%\n", nodes, radix, ToWatts(clos.total()) / 1e3,
                ToWatts(rail.total()) / 1e3, 100 * saved);
    if (clos.inventory.super_spines > 0) {
      EXPECT_GE(saved, 0.37) << nodes;
      EXPECT_LE(saved, 0.75) << nodes;
    } else {
      EXPECT_NEAR(saved, 0.0, 1e-12) << nodes;
    }
  }
}

// The B200 SuperPOD's 4-unit InfiniBand fabric by hand: 48 QM9700s at 747 W and 3,072 ports in
// use (1,024 from the NICs, 1,024 leaf up, 1,024 spine down) at 400 Gb/s x 21.25 pJ/bit = 8.5 W.
TEST(FabricPower, AFourUnitFabricByHand) {
  FabricSpec s = H100Spec(128);
  const FabricEquipment e =
      EquipmentOf(s, FabricTransport::kInfiniBand, FabricOptics::kPluggable, "QM9700", Watts(747));
  EXPECT_EQ(e.inventory.switches(), 48);
  EXPECT_EQ(e.inventory.ports(), 3072);
  EXPECT_DOUBLE_EQ(ToWatts(e.switches_power), 48 * 747.0);
  EXPECT_NEAR(ToWatts(e.optics_power), 3072 * 8.5, 1e-6);
  const FabricEquipment cpo =
      EquipmentOf(s, FabricTransport::kInfiniBand, FabricOptics::kCpo, "QM9700", Watts(747));
  EXPECT_NEAR(ToWatts(cpo.optics_power), 3072 * 8.5 / 3.5, 1e-6);
}

// Flow collisions: NVIDIA reports that on xAI's 100,000-GPU three-tier fabric standard Ethernet
// (flow-hashed ECMP) delivered 60% data throughput and Spectrum-X (adaptive, packet-level) 95%
// (press release, 28 Oct 2024). The model's own routing on a three-tier fabric (1,024 nodes,
// 8,192 GPUs), every GPU sending one flow to its rail's GPU half the cluster away (all crossing
// the super-spines), shared max-min: aggregate throughput over line rate, with the error table.
TEST(FabricRouting, FlowCollisionsAgainstNvidiasEthernetFigures) {
  const Fabric f(H100Spec(1024));
  ASSERT_TRUE(f.three_tier());
  const int n = f.gpu_count();
  std::vector<FlowPath> ecmp, adaptive;
  std::vector<double> placed(f.link_count(), 0.0);
  const double port = f.nominal()[static_cast<size_t>(f.NicUpLink(0))];
  for (int g = 0; g < n; ++g) {
    const int dst = (g + n / 2) % n;
    ecmp.push_back(f.Route(g, dst, static_cast<uint64_t>(g) + 1));
    adaptive.push_back(f.RouteLeastLoaded(g, dst, placed));
    for (int32_t l : adaptive.back().links) placed[static_cast<size_t>(l)] += port;
  }
  auto throughput = [&](const std::vector<FlowPath>& flows) {
    double sum = 0;
    for (double r : MaxMinRates(f.capacity(), flows, 0)) sum += r;
    return sum / (port * n);
  };
  const double e = throughput(ecmp), a = throughput(adaptive);
  std::printf("data throughput over line rate: published | model | error\n");
  std::printf("  flow-hashed ECMP (standard Ethernet)  60 %% | %5.1f %% | %+5.1f points\n", 100 * e,
              100 * (e - 0.60));
  std::printf("  adaptive (Spectrum-X)                 95 %% | %5.1f %% | %+5.1f points\n", 100 * a,
              100 * (a - 0.95));
  EXPECT_NEAR(e, 0.60, 0.10);
  EXPECT_NEAR(a, 0.95, 0.06);
}

TEST(FabricPower, NamesRoundTrip) {
  for (FabricTransport t : kFabricTransports) {
    EXPECT_EQ(ParseTransport(TransportKey(t)), t);
  }
  EXPECT_FALSE(ParseTransport("ethernet"));
  EXPECT_EQ(ParseOptics("cpo"), FabricOptics::kCpo);
  EXPECT_TRUE(AdaptiveByDefault(FabricTransport::kUltraEthernet));
  EXPECT_FALSE(AdaptiveByDefault(FabricTransport::kRoce));
}

}  // namespace
}  // namespace firstwall::network
