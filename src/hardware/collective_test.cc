#include "hardware/collective.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "hardware/calibration_data.h"

namespace firstwall::hardware {
namespace {
using namespace units;

CollectiveModel H100Node() {
  CollectiveModel m;
  m.nvlink = {GigabytesPerSecond(450), 0.8, Microseconds(1)};
  m.network = {GigabitsPerSecond(400), 0.85, Microseconds(5)};
  m.launch = Microseconds(20);  // round numbers for the hand computations
  return m;
}

TEST(Collective, FlatRingsHandComputed) {
  const CollectiveModel m = H100Node();
  // 8 ranks in one node, 1 GB all-reduce: 2*7/8 * 1e9 / (450e9*0.8) + 14 us + 20 us.
  EXPECT_NEAR(ToSeconds(CollectiveTime(m, Collective::kAllReduce, Gigabytes(1), 8, 8)),
              1.75e9 / 360e9 + 14e-6 + 20e-6, 1e-12);
  // 4 ranks in 4 nodes, reduce-scatter: 3/4 * 1e9 / (50e9*0.85) + 3*5 us + 20 us.
  EXPECT_NEAR(ToSeconds(CollectiveTime(m, Collective::kReduceScatter, Gigabytes(1), 4, 1)),
              0.75e9 / 42.5e9 + 15e-6 + 20e-6, 1e-12);
  EXPECT_EQ(ToSeconds(CollectiveTime(m, Collective::kAllReduce, Gigabytes(1), 1, 1)), 0.0);
}

TEST(Collective, AcrossNodesEveryNicWorksAndStagesOverlap) {
  const CollectiveModel m = H100Node();
  // 64 ranks, 8 per node. Pipelined tree: NVLink carries the chain's reduce and broadcast
  // (2 x 7/8 of 8 GB) while each NIC carries its 1/8 share twice across the 8 nodes; the busier
  // link sets the pace and every stage adds its hops (14 NVLink, 2 log2(8) = 6 network).
  const double nvl = 2 * 7.0 / 8 * 8e9 / 360e9;
  const double tree = std::max(nvl, 2 * 1e9 / 42.5e9) + 14 * 1e-6 + 6 * 5e-6;
  // Multi-rail ring: 8 channels, so a GPU's NIC carries 1/8 of its 2 x 63/64 x 8 GB and its
  // NVLink 7/8; 126 steps at the slower hop's latency.
  const double sent = 2 * 63.0 / 64 * 8e9;
  const double ring = std::max(sent / 8 / 42.5e9, sent * 7 / 8 / 360e9) + 126 * 5e-6;
  const double t = ToSeconds(CollectiveTime(m, Collective::kAllReduce, Gigabytes(8), 64, 8));
  EXPECT_NEAR(t, 20e-6 + std::min(tree, ring), 1e-12);
  // Two nodes: the ring is NIC-bound at 8 x 42.5 GB/s of bus bandwidth; the tree sends each
  // share once and is NVLink-bound, the faster here.
  const double t2 = ToSeconds(CollectiveTime(m, Collective::kAllReduce, Gigabytes(8), 16, 8));
  const double ring2 = 2 * 15.0 / 16 * 8e9 / 8 / 42.5e9 + 30 * 5e-6;
  const double tree2 = std::max(nvl, 1e9 / 42.5e9) + 14 * 1e-6 + 2 * 5e-6;
  EXPECT_LT(tree2, ring2);
  EXPECT_NEAR(t2, 20e-6 + tree2, 1e-12);
  // Reduce-scatter runs as the multi-rail ring.
  EXPECT_NEAR(ToSeconds(CollectiveTime(m, Collective::kReduceScatter, Gigabytes(8), 16, 8)),
              20e-6 + 15.0 / 16 * 8e9 / 8 / 42.5e9 + 15 * 5e-6, 1e-12);
  // All-to-all overlaps its NVLink and NIC parts.
  EXPECT_NEAR(ToSeconds(CollectiveTime(m, Collective::kAllToAll, Gigabytes(8), 16, 8)),
              20e-6 + 8e9 * 8 / 16 / 42.5e9 + 5e-6, 1e-12);
}

TEST(Collective, NvlsInsideTheDomainWhereTheSwitchReduces) {
  CollectiveModel m = H100Node();
  const double S = 1e9;
  const double ring = ToSeconds(CollectiveTime(m, Collective::kAllReduce, Bytes(S), 8, 8));
  m.nvls_efficiency = 0.6;
  m.nvls_latency = Microseconds(100);
  // Each GPU sends S to the switch once and receives S once: 1 GB / (450 x 0.6 GB/s).
  const double nvls = 100e-6 + S / 270e9;
  EXPECT_NEAR(ToSeconds(NvlsAllReduceTime(m, Bytes(S))), nvls, 1e-12);
  EXPECT_NEAR(ToSeconds(CollectiveTime(m, Collective::kAllReduce, Bytes(S), 8, 8)), nvls, 1e-12);
  EXPECT_LT(nvls, ring);
  // Small messages stay on the ring, whose fixed cost is lower.
  EXPECT_NEAR(ToSeconds(CollectiveTime(m, Collective::kAllReduce, Bytes(1e6), 8, 8)),
              20e-6 + 1.75e6 / 360e9 + 14e-6, 1e-12);
  // On 2 GPUs a ring moves only S each way too, at the ring's higher efficiency: NCCL's choice.
  EXPECT_NEAR(ToSeconds(CollectiveTime(m, Collective::kAllReduce, Bytes(S), 2, 2)),
              20e-6 + S / 360e9 + 2e-6, 1e-12);
  // Reduce-scatter does not use it here.
  m.nvls_efficiency = 0;
  const double rs = ToSeconds(CollectiveTime(m, Collective::kReduceScatter, Bytes(S), 8, 8));
  m.nvls_efficiency = 0.6;
  EXPECT_EQ(ToSeconds(CollectiveTime(m, Collective::kReduceScatter, Bytes(S), 8, 8)), rs);
}

TEST(Collective, NvlinkAllReduceAgainstVidurDgxH100) {
  const auto t = firstwall::testing::ReadCalibrationCsv("vidur_h100_dgx_all_reduce.csv");
  if (t.rows.empty())
    GTEST_SKIP() << "../shared/data/calibration/vidur_h100_dgx_all_reduce.csv absent";
  const CollectiveModel m = H100Node();
  std::printf("NVLink all-reduce vs vidur DGX-H100, mean |error| for messages >= 1 MiB:\n");
  for (int n : {2, 4, 8}) {
    double sum = 0;
    int count = 0;
    for (size_t r = 0; r < t.rows.size(); ++r) {
      if (t.Number(r, "num_workers") != n || t.Number(r, "size") < 1048576) continue;
      const double measured = t.Number(r, "time_stats.all_reduce.median") * 1e-3;
      const double model =
          ToSeconds(CollectiveTime(m, Collective::kAllReduce, Bytes(t.Number(r, "size")), n, n));
      sum += std::abs(model - measured) / measured;
      ++count;
    }
    std::printf("  %d GPUs: %.1f%% over %d sizes\n", n, 100 * sum / count, count);
    EXPECT_LT(sum / count, 0.30) << n;
  }
}

}  // namespace
}  // namespace firstwall::hardware
