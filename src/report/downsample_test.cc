#include "report/downsample.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace firstwall::report {
namespace {

MinMaxDownsampler::Points Downsampled(const std::vector<double>& y, size_t max_buckets) {
  MinMaxDownsampler d(1, max_buckets);
  for (size_t i = 0; i < y.size(); ++i) d.Add(static_cast<double>(i), std::vector<double>{y[i]});
  return d.Finish();
}

TEST(Downsample, FewRowsPassThrough) {
  const auto p = Downsampled({3, 1, 2}, 4);
  EXPECT_EQ(p.rows, 3u);
  EXPECT_EQ(p.rows_per_bucket, 1u);
  EXPECT_EQ(p.x, (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(p.columns[0], (std::vector<double>{3, 1, 2}));
}

// 10 rows into at most 4 buckets: 8 rows fill 4 buckets of 2, the 9th merges them into 2 of 4, so
// the buckets are rows 0-3, 4-7 and 8-9. By hand, y = 5 9 1 4 | 7 7 2 8 | 6 0:
//   bucket 0: min 1 (row 2), max 9 (row 1) -> max first: x 0, 3 -> 9, 1
//   bucket 1: min 2 (row 6), max 8 (row 7) -> x 4, 7 -> 2, 8
//   bucket 2: min 0 (row 9), max 6 (row 8) -> x 8, 9 -> 6, 0
TEST(Downsample, HandComputedBuckets) {
  const auto p = Downsampled({5, 9, 1, 4, 7, 7, 2, 8, 6, 0}, 4);
  EXPECT_EQ(p.rows, 10u);
  EXPECT_EQ(p.rows_per_bucket, 4u);
  EXPECT_EQ(p.x, (std::vector<double>{0, 3, 4, 7, 8, 9}));
  EXPECT_EQ(p.columns[0], (std::vector<double>{9, 1, 2, 8, 6, 0}));
}

// Bucket widths double as rows grow: 4 buckets hold 4 rows at width 1, 8 at width 2, 16 at 4.
TEST(Downsample, WidthIsTheSmallestPowerOfTwoThatFits) {
  EXPECT_EQ(Downsampled(std::vector<double>(4, 1.0), 4).rows_per_bucket, 1u);
  EXPECT_EQ(Downsampled(std::vector<double>(5, 1.0), 4).rows_per_bucket, 2u);
  EXPECT_EQ(Downsampled(std::vector<double>(8, 1.0), 4).rows_per_bucket, 2u);
  EXPECT_EQ(Downsampled(std::vector<double>(9, 1.0), 4).rows_per_bucket, 4u);
  EXPECT_EQ(Downsampled(std::vector<double>(16, 1.0), 4).x.size(), 8u);  // 4 buckets x 2 points
}

// A one-row spike in a long flat series survives, and the points stay bounded.
TEST(Downsample, KeepsASpikeInAMillionRows) {
  MinMaxDownsampler d(2, 2000);
  for (int i = 0; i < 1000000; ++i) {
    const double v = i == 777777 ? 50.0 : 1.0;
    d.Add(i * 1.0, std::vector<double>{v, -v});
  }
  const auto p = d.Finish();
  EXPECT_LE(p.x.size(), 4000u);
  EXPECT_EQ(p.rows_per_bucket, 512u);  // 1e6 / 512 = 1954 buckets <= 2000 < 1e6 / 256
  double hi = 0, lo = 0;
  for (double v : p.columns[0]) hi = std::max(hi, v);
  for (double v : p.columns[1]) lo = std::min(lo, v);
  EXPECT_EQ(hi, 50.0);
  EXPECT_EQ(lo, -50.0);
}

TEST(Downsample, NanIsLeftOutAndAnEmptyBucketIsAGap) {
  MinMaxDownsampler d(2, 2);
  const double nan = std::nan("");
  for (int i = 0; i < 4; ++i) d.Add(i, std::vector<double>{i == 1 ? nan : i * 1.0, nan});
  const auto p = d.Finish();  // buckets rows 0-1 and 2-3
  EXPECT_EQ(p.columns[0], (std::vector<double>{0, 0, 2, 3}));
  EXPECT_TRUE(std::isnan(p.columns[1][0]) && std::isnan(p.columns[1][3]));
}

}  // namespace
}  // namespace firstwall::report
