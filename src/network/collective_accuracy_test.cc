// Collectives against public nccl-tests figures (issue #16): all-reduce bus bandwidth across nodes
// (multi-rail rings and pipelined hierarchies), NVLink SHARP inside a node, and NVLink rings per
// GPU generation, each from the catalog card's `collective:` figures. Both models are checked:
// the fabric model (network/collective.h, what `firstwall collective` runs) and the alpha-beta
// model the training model uses (hardware/collective.h). Every row prints computed vs published
// and its error; the figures are what the cited thread or file reports, none fitted here (the
// constants' own sources are in hardware/collective.h and catalog/gpus/*.yaml).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "hardware/calibration_data.h"
#include "hardware/collective.h"
#include "network/collective.h"
#include "network/fabric.h"
#include "scenario/catalog.h"

namespace firstwall::network {
namespace {
using hardware::Collective;
using namespace units;

constexpr double kGiB = 1073741824.0, kMiB = 1048576.0;

struct Published {
  const char* system;
  const char* gpu;              // catalog card
  double nvlink_bidir_gbs = 0;  // > 0: a variant of the card with this NVLink (H800)
  int nodes = 1, per_node = 8;
  double nic_gbit_per_gpu = 400;  // NIC line rate per GPU (NICs per node x rate / GPUs per node)
  Algorithm algorithm = Algorithm::kAuto;  // as the run forced it (NCCL_ALGO), or NCCL's choice
  double bytes = 0;
  double busbw_gbs = 0;  // all-reduce busbw, nccl-tests convention
  double tolerance = 0.15;
  const char* source;
};

// The rows. Where a thread gives a range, the middle of it.
const std::vector<Published>& Rows() {
  static const std::vector<Published> rows = {
      // Across nodes.
      {"2 x HGX H100, 8 x 400G NDR, ring", "H100-SXM5-80GB", 0, 2, 8, 400, Algorithm::kRing,
       8 * kGiB, 376, 0.10,
       "8 NICs x 46-48 GB/s per NDR NIC (A. Laddy, NVIDIA), NVIDIA/nccl-tests#290 (2025)"},
      {"5 x HGX H100, 4 x 400G RoCE, ring", "H100-SXM5-80GB", 0, 5, 8, 200, Algorithm::kRing,
       1 * kGiB, 190, 0.10, "ring busbw 190 GB/s at 1 GiB, NVIDIA/nccl#1368 (2024)"},
      {"2 x DGX A100, 8 x 200G HDR, ring", "A100-SXM4-80GB", 0, 2, 8, 200, Algorithm::kRing,
       8 * kGiB, 192, 0.10,
       "192 GB/s AllReduce busbw on DGX-A100 (A. Laddy, NVIDIA), NVIDIA/nccl#812"},
      {"3 x A100 SXM4, 4 x 200G HDR, default", "A100-SXM4-80GB", 0, 3, 8, 100, Algorithm::kAuto,
       128 * kMiB, 96, 0.10, "peak busbw ~96 GB/s up to 128 MiB, NVIDIA/nccl-tests#119 (2022)"},
      {"2 x H100 (A3 Mega), 8 x 200G TCPXO, default", "H100-SXM5-80GB", 0, 2, 8, 200,
       Algorithm::kAuto, 1 * kGiB, 297.86, 0.20,
       "lessizzmore/create-a3mega-ztan-fork, ztan-NCCL-test-result (nccl-tests log)"},
      {"2 x H100 (A3 Mega), 8 x 200G TCPXO, default", "H100-SXM5-80GB", 0, 2, 8, 200,
       Algorithm::kAuto, 2 * kGiB, 318.40, 0.15, "same log"},
      {"2 x H100 (A3 Mega), 8 x 200G TCPXO, default", "H100-SXM5-80GB", 0, 2, 8, 200,
       Algorithm::kAuto, 4 * kGiB, 330.58, 0.10, "same log"},
      {"2 x H100 (A3 Mega), 8 x 200G TCPXO, default", "H100-SXM5-80GB", 0, 2, 8, 200,
       Algorithm::kAuto, 8 * kGiB, 338.82, 0.10, "same log"},
      {"248 x HGX H200, 8 x 400G, default", "H200-SXM", 0, 248, 8, 400, Algorithm::kAuto,
       512 * kMiB, 350, 0.10, "'typically around 350G' busbw at 512 MiB, NVIDIA/nccl-tests#283"},
      // NVLink SHARP inside one node.
      {"HGX H100, 8 GPUs, NVLS (default)", "H100-SXM5-80GB", 0, 1, 8, 400, Algorithm::kAuto,
       8 * kGiB, 480, 0.10,
       "peak busbw ~480 GB/s, algbw ~275 (S. Jeaugey, NVIDIA), nccl-tests#212"},
      {"HGX H100, 8 GPUs, NVLS (default)", "H100-SXM5-80GB", 0, 1, 8, 400, Algorithm::kAuto,
       8 * kGiB, 476, 0.10, "476 GB/s, 'in the expected range' (NVIDIA), nccl-tests#290 (2025)"},
      {"HGX H800 (NVLink 400 GB/s), 8 GPUs, NVLS", "H100-SXM5-80GB", 400, 1, 8, 400,
       Algorithm::kAuto, 8 * kGiB, 215, 0.10, "busbw 215 GB/s, NVIDIA/nccl#1374 (2024)"},
      // NVLink rings per generation.
      {"HGX H100, 8 GPUs, NCCL_ALGO=RING", "H100-SXM5-80GB", 0, 1, 8, 400, Algorithm::kRing,
       8 * kGiB, 370, 0.10,
       "effective NVLink 370 GB/s as ring busbw (S. Jeaugey, NVIDIA), nccl-tests#212 (2024)"},
      {"8 x A100 SXM4 (HPE Apollo 6500), NVSwitch", "A100-SXM4-80GB", 0, 1, 8, 200,
       Algorithm::kAuto, 1 * kGiB, 200, 0.10, "busbw ~200 GB/s at 1 GiB, NVIDIA/nccl-tests#149"},
      {"2 x A100 SXM4, NV12", "A100-SXM4-80GB", 0, 1, 2, 200, Algorithm::kAuto, 8 * kGiB, 208, 0.10,
       "busbw 208 GB/s, NVIDIA/nccl-tests#178 (2023)"},
  };
  return rows;
}

hardware::GpuSpec Card(const Published& p) {
  hardware::GpuSpec g = scenario::BuiltinCatalog().gpus.at(p.gpu);
  if (p.nvlink_bidir_gbs > 0) g.nvlink_bandwidth = GigabytesPerSecond(p.nvlink_bidir_gbs);
  return g;
}

// The fabric `firstwall collective` builds for the row: rail-optimized, non-blocking.
FabricSpec SpecFor(const Published& p, const hardware::GpuSpec& g) {
  FabricSpec s;
  s.nodes = p.nodes;
  s.gpus_per_node = p.per_node;
  SetNvlinkFromCard(s, g);
  s.nic_per_gpu = GigabitsPerSecond(p.nic_gbit_per_gpu);
  s.switch_latency = Microseconds(1);
  return s;
}

double FabricBusbw(const Published& p) {
  const hardware::GpuSpec g = Card(p);
  const Fabric f(SpecFor(p, g));
  std::vector<int> gpus(static_cast<size_t>(p.nodes * p.per_node));
  for (size_t i = 0; i < gpus.size(); ++i) gpus[i] = static_cast<int>(i);
  return EstimateCollective(f, Collective::kAllReduce, p.bytes, gpus, p.algorithm,
                            ToSeconds(g.collective.launch))
             .busbw_bytes_per_s /
         1e9;
}

// The training model's alpha-beta estimate (the fastest algorithm; NVLS left out where the run
// forced a ring). It has no forced ring across nodes: those rows print it, and check the fabric.
double AlphaBetaBusbw(const Published& p) {
  const hardware::GpuSpec g = Card(p);
  hardware::CollectiveModel m =
      hardware::CollectiveModelFor(g.collective, g.NvlinkPerDirection(),
                                   GigabitsPerSecond(p.nic_gbit_per_gpu), Microseconds(5), 8);
  if (p.algorithm == Algorithm::kRing) m.nvls_efficiency = 0;
  const int n = p.nodes * p.per_node;
  const double t =
      ToSeconds(hardware::CollectiveTime(m, Collective::kAllReduce, Bytes(p.bytes), n, p.per_node));
  return p.bytes / t * 2.0 * (n - 1) / n / 1e9;
}

TEST(CollectiveAccuracy, AllReduceAgainstPublishedNcclTests) {
  std::printf("%-44s %6s %9s | %9s %7s | %9s %7s | %s\n", "all-reduce busbw (GB/s)", "GPUs", "size",
              "fabric", "error", "alpha-b", "error", "published");
  double sum = 0;
  for (const Published& p : Rows()) {
    const double fab = FabricBusbw(p), ab = AlphaBetaBusbw(p);
    const double e_fab = (fab - p.busbw_gbs) / p.busbw_gbs, e_ab = (ab - p.busbw_gbs) / p.busbw_gbs;
    const std::string size = p.bytes >= kGiB
                                 ? std::to_string(static_cast<int>(p.bytes / kGiB)) + " GiB"
                                 : std::to_string(static_cast<int>(p.bytes / kMiB)) + " MiB";
    std::printf("%-44s %6d %9s | %9.1f %+6.1f%% | %9.1f %+6.1f%% | %.1f  %s\n", p.system,
                p.nodes * p.per_node, size.c_str(), fab, 100 * e_fab, ab, 100 * e_ab, p.busbw_gbs,
                p.source);
    EXPECT_LE(std::abs(e_fab), p.tolerance) << p.system << ", " << size;
    if (p.algorithm != Algorithm::kRing || p.nodes == 1) {
      EXPECT_LE(std::abs(e_ab), p.tolerance) << p.system << ", " << size << " (alpha-beta)";
    }
    sum += std::abs(e_fab);
  }
  std::printf("mean |error| (fabric): %.1f%% over %zu rows\n",
              100 * sum / static_cast<double>(Rows().size()), Rows().size());
}

TEST(CollectiveAccuracy, HandedCaseTwoHgxNodes) {
  // Issue #16, case 1: 8 GiB all-reduce on 16 H100 in two HGX nodes with eight 400 Gb/s NICs
  // each. nccl-tests reports about 370-396 GB/s for the ring (8 x 46-48 GB/s per NIC); it was
  // 43 GB/s (every ring through one NIC) and 235 GB/s auto (stages one after another).
  Published p = Rows().front();
  const double ring = FabricBusbw(p);
  p.algorithm = Algorithm::kAuto;
  const double best = FabricBusbw(p);
  std::printf(
      "16 x H100, 8 GiB all-reduce: ring %.1f GB/s, auto %.1f GB/s (published ring 368-396)\n",
      ring, best);
  EXPECT_GE(ring, 368 * 0.95);
  EXPECT_LE(ring, 396 * 1.05);
  EXPECT_GE(best, ring);
}

TEST(CollectiveAccuracy, CatalogH100KeepsTheVidurFitWithNvls) {
  // The H100 card now offers NVLS; with its fixed cost NCCL's choice (and ours) stays the ring up
  // to about 45 MiB, so vidur's measured DGX-H100 all-reduce still holds as the ring fit did
  // (network/fabric_test.cc, hardware/collective_test.cc).
  const auto t = firstwall::testing::ReadCalibrationCsv("vidur_h100_dgx_all_reduce.csv");
  if (t.rows.empty()) {
    GTEST_SKIP() << "../shared/data/calibration/vidur_h100_dgx_all_reduce.csv absent";
  }
  Published p = Rows().front();
  p.nodes = 1;
  const hardware::GpuSpec g = Card(p);
  const Fabric f(SpecFor(p, g));
  std::printf("vidur DGX-H100 all-reduce (>= 1 MiB) with the catalog H100 (NVLS offered):\n");
  for (int n : {2, 4, 8}) {
    double sum = 0;
    int count = 0, nvls = 0;
    std::vector<int> gpus(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) gpus[static_cast<size_t>(i)] = i;
    for (size_t r = 0; r < t.rows.size(); ++r) {
      if (t.Number(r, "num_workers") != n || t.Number(r, "size") < kMiB) continue;
      const double measured = t.Number(r, "time_stats.all_reduce.median") * 1e-3;
      const CollectiveEstimate e =
          EstimateCollective(f, Collective::kAllReduce, t.Number(r, "size"), gpus, Algorithm::kAuto,
                             ToSeconds(g.collective.launch));
      sum += std::abs(e.time_s - measured) / measured;
      nvls += e.algorithm == Algorithm::kNvls ? 1 : 0;
      ++count;
    }
    std::printf("  %d GPUs: mean |error| %.1f%% over %d sizes (%d by NVLS)\n", n, 100 * sum / count,
                count, nvls);
    EXPECT_LT(sum / count, 0.15) << n;
  }
}

TEST(CollectiveAccuracy, PerGenerationNvlinkAtMidSizes) {
  // The A100 disagreement of issue #16: with H100 figures, A100 NVLink all-reduce at 4-64 MiB came
  // out about 30% fast. The per-card figures slow it; printed, with the H100 figures beside, for
  // 2, 4 and 8 GPUs. (No public A100 table of these sizes was at hand: this prints the change,
  // and the large-message rows above are the check.)
  const hardware::GpuSpec a100 = scenario::BuiltinCatalog().gpus.at("A100-SXM4-80GB");
  const hardware::CollectiveModel own = hardware::CollectiveModelFor(
      a100.collective, a100.NvlinkPerDirection(), GigabitsPerSecond(200), Microseconds(5), 8);
  const hardware::CollectiveModel h100_figures =
      hardware::CollectiveModelFor(hardware::NvlinkCollectives{}, a100.NvlinkPerDirection(),
                                   GigabitsPerSecond(200), Microseconds(5), 8);
  std::printf("A100 all-reduce busbw (GB/s): own figures vs H100 figures\n");
  for (int n : {2, 4, 8}) {
    for (double mib : {4.0, 16.0, 64.0}) {
      auto busbw = [&](const hardware::CollectiveModel& m) {
        const double t =
            ToSeconds(hardware::CollectiveTime(m, Collective::kAllReduce, Bytes(mib * kMiB), n, n));
        return mib * kMiB / t * 2.0 * (n - 1) / n / 1e9;
      };
      const double a = busbw(own), h = busbw(h100_figures);
      std::printf("  %d GPUs %4.0f MiB: %6.1f vs %6.1f (%+.1f%%)\n", n, mib, a, h,
                  100 * (h - a) / a);
      EXPECT_LT(a, h);
    }
  }
  EXPECT_EQ(a100.collective.nvls_efficiency, 0.0);  // second-generation NVSwitch does not reduce
}

}  // namespace
}  // namespace firstwall::network
