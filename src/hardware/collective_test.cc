#include "hardware/collective.h"

#include <gtest/gtest.h>

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

TEST(Collective, HierarchicalUsesEveryNicOfTheNode) {
  const CollectiveModel m = H100Node();
  // 64 ranks, 8 per node: the cross-node part moves 1/8 of the data per GPU.
  const double t = ToSeconds(CollectiveTime(m, Collective::kAllReduce, Gigabytes(8), 64, 8));
  const double intra = 7.0 / 8 * 8e9 / 360e9 + 7e-6;
  const double inter = 2 * 7.0 / 8 * 1e9 / 42.5e9 + 14 * 5e-6;
  EXPECT_NEAR(t, 20e-6 + 2 * intra + inter, 1e-12);
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
