// The baselines on series small enough to check by hand (baselines.h's equations, FPP3 §5.2 and
// §8.3).
#include "ops/baselines.h"

#include <gtest/gtest.h>

#include <vector>

namespace firstwall::ops {
namespace {

TEST(SeasonalNaive, RepeatsTheLastSeason) {
  const std::vector<double> y{1, 2, 3, 4, 5, 6};
  // The last season is 4, 5, 6: h = 1..4 give 4, 5, 6, 4.
  EXPECT_EQ(SeasonalNaive(y, 3, 4), (std::vector<double>{4, 5, 6, 4}));
  // Period 1: the last value (the naive method).
  EXPECT_EQ(SeasonalNaive(y, 1, 2), (std::vector<double>{6, 6}));
}

TEST(HoltWinters, OneRecursionByHand) {
  // m = 2, y = 1, 3, 2, 5, alpha = beta = gamma = 0.5. Initial state: the seasons (1, 3) and
  // (2, 5) have means 2 and 3.5, so b = 1.5 / 2 = 0.75; the first mean
  // stands at t = 0.5, so l = 2 + 0.75 x 0.5 = 2.375 and s = (1 - (2 - 0.375), 3 - 2.375) =
  // (-0.625, 0.625).
  // t = 2 (y 2): forecast 2.375 + 0.75 - 0.625 = 2.5 (error -0.5); l = 0.5 (2 + 0.625) +
  //   0.5 (3.125) = 2.875; b = 0.5 (0.5) + 0.5 (0.75) = 0.625; s = 0.5 (2 - 3.125) + 0.5 (-0.625)
  //   = -0.875.
  // t = 3 (y 5): forecast 2.875 + 0.625 + 0.625 = 4.125 (error 0.875); l = 0.5 (5 - 0.625) +
  //   0.5 (3.5) = 3.9375; b = 0.5 (1.0625) + 0.5 (0.625) = 0.84375; s = 0.5 (5 - 3.5) +
  //   0.5 (0.625) = 1.0625.
  const std::vector<double> y{1, 3, 2, 5};
  const HoltWintersState s = HoltWintersRun(y, 2, {0.5, 0.5, 0.5});
  EXPECT_DOUBLE_EQ(s.level, 3.9375);
  EXPECT_DOUBLE_EQ(s.trend, 0.84375);
  EXPECT_EQ(s.season, (std::vector<double>{-0.875, 1.0625}));
  EXPECT_DOUBLE_EQ(s.sse, 0.25 + 0.765625);
  EXPECT_EQ(s.n_errors, 2);
  // y(T+h) = l + h b + s: 3.9375 + 0.84375 - 0.875, 3.9375 + 1.6875 + 1.0625,
  // 3.9375 + 2.53125 - 0.875.
  const std::vector<double> f = HoltWintersForecast(s, 3);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_DOUBLE_EQ(f[0], 3.90625);
  EXPECT_DOUBLE_EQ(f[1], 6.6875);
  EXPECT_DOUBLE_EQ(f[2], 5.59375);
}

TEST(HoltWinters, APeriodicSeriesIsForecastExactly) {
  // 0, 10, 0, 10, ... with a trend of 1 per step: the initial state is exact (level 6 at t = 1,
  // trend 1, seasons -5 and 5), so every constant gives zero one-step error (up to rounding) and
  // the forecast continues the pattern.
  std::vector<double> y;
  for (int t = 0; t < 12; ++t) y.push_back((t % 2 == 0 ? 0 : 10) + t);
  const HoltWintersParams p = HoltWintersFit(y, 2);
  const HoltWintersState s = HoltWintersRun(y, 2, p);
  EXPECT_NEAR(s.sse, 0, 1e-20);
  EXPECT_NEAR(HoltWintersRun(y, 2, {0.95, 0.95, 0.95}).sse, 0, 1e-20);
  const std::vector<double> f = HoltWintersForecast(s, 3);
  EXPECT_NEAR(f[0], 0 + 12, 1e-12);
  EXPECT_NEAR(f[1], 10 + 13, 1e-12);
  EXPECT_NEAR(f[2], 0 + 14, 1e-12);
}

TEST(HoltWinters, TheFitPrefersTheConstantsThatTrackALevelShift) {
  // A daily pattern whose level steps up by 50 after three seasons: a large alpha follows it,
  // a small one does not, so the least-squares fit picks alpha above 0.5, and its one-step SSE
  // is below the fixed alpha = 0.05's.
  std::vector<double> y;
  for (int t = 0; t < 40; ++t) y.push_back((t % 4) * 3.0 + (t >= 12 ? 50 : 0));
  const HoltWintersParams p = HoltWintersFit(y, 4);
  EXPECT_GT(p.alpha, 0.5);
  EXPECT_LT(HoltWintersRun(y, 4, p).sse, HoltWintersRun(y, 4, {0.05, 0.0, 0.05}).sse);
}

}  // namespace
}  // namespace firstwall::ops
