// Issue #18, TPUs: the v5p and Trillium cards against Google's Cloud TPU documentation (each error
// printed), and cluster.fabric.kind torus as the loader reads and refuses it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "scenario/catalog.h"
#include "scenario/load_error_test_util.h"
#include "scenario/loader.h"
#include "workload/training_step.h"

namespace firstwall::scenario {
namespace {
using namespace units;
using hardware::DataType;

const hardware::GpuSpec& Card(const std::string& name) { return BuiltinCatalog().gpus.at(name); }

TEST(TpuCards, AgainstGoogleCloudTpuDocs) {
  struct Figure {
    const char* what;
    double catalog, published;
    const char* source;
  };
  const hardware::GpuSpec& p = Card("TPU-v5p");
  const hardware::GpuSpec& t = Card("TPU-v6e");
  const std::vector<Figure> figures = {
      {"v5p bf16", ToFlopPerSecond(*p.Peak(DataType::kBf16)), 459e12, "'TPU v5p': 459 TFLOPs"},
      {"v5p HBM", ToBytes(p.hbm_capacity), 95e9, "95 GB HBM2e"},
      {"v5p HBM BW", ToBytesPerSecond(p.hbm_bandwidth), 2765e9, "2765 GBps"},
      {"v5p ICI one way", ToBytesPerSecond(p.NvlinkPerDirection()) * 8, 4800e9,
       "Interchip Interconnect BW 4800 Gbps"},
      {"v5p ICI both", ToBytesPerSecond(p.nvlink_bandwidth), 1200e9, "bidirectional 1200 GBps"},
      {"v6e bf16", ToFlopPerSecond(*t.Peak(DataType::kBf16)), 918e12, "'TPU v6e': 918 TFLOPs"},
      {"v6e int8", ToFlopPerSecond(*t.Peak(DataType::kInt8)), 1836e12, "1836 TOPs"},
      {"v6e HBM", ToBytes(t.hbm_capacity), 32e9, "32 GB"},
      {"v6e HBM BW", ToBytesPerSecond(t.hbm_bandwidth), 1638e9, "1638 GBps"},
      {"v6e ICI one way", ToBytesPerSecond(t.NvlinkPerDirection()) * 8, 3200e9, "3200 Gbps"},
      {"v6e pod bf16", 256 * ToFlopPerSecond(*t.Peak(DataType::kBf16)), 234.9e15,
       "BF16 peak compute per Pod 234.9 PFLOPs"},
  };
  std::printf("%-16s %14s %14s %8s  %s\n", "figure", "catalog", "published", "error", "source");
  for (const Figure& f : figures) {
    const double error = (f.catalog - f.published) / f.published;
    std::printf("%-16s %14.5g %14.5g %+7.2f%%  %s\n", f.what, f.catalog, f.published, 100 * error,
                f.source);
    EXPECT_LT(std::abs(error), 0.001) << f.what;  // 234.9 PFLOPs rounds 256 x 918 by 0.05%
  }
  EXPECT_EQ(p.ici.ports, 6);
  EXPECT_EQ(p.ici.torus_dims, 3);
  EXPECT_EQ(p.ici.pod_chips, 8960);
  EXPECT_EQ(t.ici.ports, 4);
  EXPECT_EQ(t.ici.torus_dims, 2);
  EXPECT_EQ(t.ici.pod_chips, 256);
  EXPECT_FALSE(Card("H100-SXM5-80GB").ici.present());
  // Both generations' links carry 100 GB/s each way: 1200 / 2 / 6 and 800 / 2 / 4.
  EXPECT_DOUBLE_EQ(ToBytesPerSecond(hardware::TorusFor(p, {4, 4, 4}).link), 100e9);
  EXPECT_DOUBLE_EQ(ToBytesPerSecond(hardware::TorusFor(t, {16, 16}).link), 100e9);
}

// A scenario of `gpu` on `nodes` x `per_node` chips with the given fabric section and extra root
// keys; line 6 is the gpu, "  fabric:" is line 10 (11 with one line of cluster_extra).
std::string TorusScenario(const std::string& gpu, int nodes, int per_node,
                          const std::string& fabric, const std::string& extra = "",
                          const std::string& cluster_extra = "") {
  return "firstwall: 1\nsite:\n  name: t\n  electricity_price: 0.08 USD/kWh\ncluster:\n"
         "  gpu: " +
         gpu + "\n  nodes: " + std::to_string(nodes) +
         "\n  gpus_per_node: " + std::to_string(per_node) + "\n  node_base_power: 1 kW\n" +
         cluster_extra + "  fabric:\n" + fabric +
         "facility:\n  power_chain:\n    - name: psu\n      efficiency: 96 %\n"
         "      it_equipment: true\n  cooling:\n    capacity: 200 kW\n"
         "workloads:\n  - name: j\n    type: training\n    model: llama3-8b\n    gpus: 64\n"
         "    tp: 4\n    global_batch: 64\n    sequence_length: 2048\n" +
         extra + "simulation:\n  duration: 1 min\n";
}

TEST(TpuTorus, ScenarioBuildsOneSliceDomain) {
  const Scenario sc = LoadScenarioText(
      TorusScenario("TPU-v5p", 16, 4, "    kind: torus\n    torus_dims: [4, 4, 4]\n"), "s.yaml",
      "");
  const site::ClusterConfig& c = sc.site.cluster;
  EXPECT_EQ(c.torus_dims, (std::vector<int>{4, 4, 4}));
  EXPECT_EQ(c.nvlink_domain(), 64);
  // The job's collectives run on the torus: TP 4 along x at stride 1, a wrapping ring of 100 GB/s
  // links in both directions at the H100 bus efficiency 0.77 the card keeps by default.
  const workload::TrainingSetup& t = sc.site.jobs.at(0).setup;
  EXPECT_EQ(t.torus_dims, c.torus_dims);
  const hardware::CollectiveModel m = workload::CollectivesFor(t);
  ASSERT_TRUE(m.torus.enabled());
  const double s =
      ToSeconds(hardware::CollectiveTime(m, hardware::Collective::kAllReduce, Gigabytes(1), 4, 4));
  const double by_hand = 24e-6 + 2 * 0.75 * 1e9 / (2 * 100e9 * 0.77) + 6 * 0.5e-6;
  EXPECT_NEAR(s, by_hand, 1e-12);
}

TEST(TpuTorus, MistakesAreRefusedWhereTheyAre) {
  const std::string torus = "    kind: torus\n    torus_dims: [4, 4, 4]\n";
  // Dimensions whose product is not the cluster's chips.
  const std::string count =
      LoadErrorOf(TorusScenario("TPU-v5p", 16, 4, "    kind: torus\n    torus_dims: [4, 4, 8]\n"));
  EXPECT_EQ(count.rfind("s.yaml:12:17: error: a 4x4x8 torus has 128 chips, the cluster 64", 0), 0u)
      << count;
  // A 2-D shape for a 3-D card.
  const std::string dims =
      LoadErrorOf(TorusScenario("TPU-v5p", 16, 4, "    kind: torus\n    torus_dims: [8, 8]\n"));
  EXPECT_EQ(dims.rfind("s.yaml:12:17: error: TPU-v5p has a 3-D torus", 0), 0u) << dims;
  // A GPU without ICI.
  const std::string gpu = LoadErrorOf(TorusScenario("H100-SXM5-80GB", 8, 8, torus));
  EXPECT_EQ(gpu.rfind("s.yaml:11:11: error: H100-SXM5-80GB has no inter-chip interconnect", 0), 0u)
      << gpu;
  // More chips than a Trillium pod.
  const std::string pod =
      LoadErrorOf(TorusScenario("TPU-v6e", 64, 8, "    kind: torus\n    torus_dims: [16, 32]\n"));
  EXPECT_EQ(pod.rfind("s.yaml:12:17: error: 512 chips are more than a TPU-v6e pod of 256", 0), 0u)
      << pod;
  // Torus without dimensions, dimensions without torus, an NVLink domain on a torus.
  const std::string none = LoadErrorOf(TorusScenario("TPU-v5p", 16, 4, "    kind: torus\n"));
  EXPECT_EQ(none.rfind("s.yaml:11:11: error: a torus fabric needs its dimensions", 0), 0u) << none;
  const std::string clos =
      LoadErrorOf(TorusScenario("H100-SXM5-80GB", 8, 8, "    torus_dims: [8, 8]\n"));
  EXPECT_EQ(clos.rfind("s.yaml:11:17: error: 'cluster.fabric.torus_dims' is given but", 0), 0u)
      << clos;
  const std::string domain =
      LoadErrorOf(TorusScenario("TPU-v5p", 16, 4, torus, "", "  nvlink_domain: 64\n"));
  EXPECT_EQ(domain.rfind("s.yaml:10:18: error: a torus slice is one domain", 0), 0u) << domain;
  // A TPU on the Clos.
  const std::string tpu_clos = LoadErrorOf(TorusScenario("TPU-v5p", 16, 4, "    leaf_radix: 64\n"));
  EXPECT_EQ(tpu_clos.rfind("s.yaml:6:8: error: TPU-v5p links its chips by ICI in a torus", 0), 0u)
      << tpu_clos;
  // Services are not modelled on the torus.
  const std::string svc = LoadErrorOf(
      TorusScenario("TPU-v5p", 16, 4, torus,
                    "services:\n  - name: s\n    model: llama3-8b\n    replicas: 1\n    requests:\n"
                    "      - class: c\n        rate: 1 req/s\n        prompt_tokens: 100\n"
                    "        output_tokens: 10\n"));
  EXPECT_NE(svc.find("'services' on a torus fabric"), std::string::npos) << svc;
}

TEST(TpuTorus, ATwistedSliceReachesTheJobsCollectives) {
  const Scenario sc = LoadScenarioText(
      TorusScenario("TPU-v5p", 32, 4,
                    "    kind: torus\n    torus_dims: [4, 4, 8]\n    twisted: true\n"),
      "s.yaml", "");
  EXPECT_TRUE(sc.site.cluster.torus_twisted);
  const workload::TrainingSetup& t = sc.site.jobs.at(0).setup;
  EXPECT_TRUE(t.torus_twisted);
  EXPECT_TRUE(workload::CollectivesFor(t).torus.twisted);
  // A cube does not twist; a Clos has nothing to twist.
  const std::string cube = LoadErrorOf(TorusScenario(
      "TPU-v5p", 16, 4, "    kind: torus\n    torus_dims: [4, 4, 4]\n    twisted: true\n"));
  EXPECT_EQ(cube.rfind("s.yaml:13:14: error: 4x4x4 cannot be twisted", 0), 0u) << cube;
  const std::string clos =
      LoadErrorOf(TorusScenario("H100-SXM5-80GB", 8, 8, "    twisted: true\n"));
  EXPECT_EQ(clos.rfind("s.yaml:11:14: error: 'cluster.fabric.twisted' is given but", 0), 0u)
      << clos;
}

}  // namespace
}  // namespace firstwall::scenario
