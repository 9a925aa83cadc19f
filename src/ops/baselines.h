// Statistical baselines the twin's forecasts are judged against (docs/operations.md,
// "Forecasts"): seasonal-naive and additive Holt-Winters, on a series of equal steps.
//
// Seasonal naive (Hyndman & Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed.,
// FPP3 §5.2): the forecast h steps after the last observation T is the observation of the same
// point of the last season, y(T + h - m (floor((h - 1) / m) + 1)), m the season's length in steps.
//
// Additive Holt-Winters (FPP3 §8.3, "Holt-Winters' additive method"), with level l, trend b and
// seasonal s of period m:
//   forecast  y(t+h|t) = l(t) + h b(t) + s(t + h - m (k + 1)),  k = floor((h - 1) / m)
//   level     l(t) = alpha (y(t) - s(t-m)) + (1 - alpha) (l(t-1) + b(t-1))
//   trend     b(t) = beta (l(t) - l(t-1)) + (1 - beta) b(t-1)
//   season    s(t) = gamma (y(t) - l(t-1) - b(t-1)) + (1 - gamma) s(t-m)
// (FPP3 writes beta* for beta). Initial state, from the first two seasons (the classical
// decomposition's idea, FPP3 §3.4, on two seasons): b = (mean of the second - mean of the first)
// / m; the first season's mean stands at its middle, t = (m - 1) / 2, so the level at its last
// step is l = mean + b (m - 1) / 2, and s(i) = y(i) - (mean + b (i - (m - 1) / 2)) for i in the
// first season; the recursion then runs from the start of the second season.
// Fitted by least squares: the alpha, beta, gamma of a grid (0.05, 0.15, ..., 0.95 each; beta
// also 0) that give the smallest sum of squared one-step-ahead errors over the seasons after the
// first; the first of equal sums in grid order wins, so the fit is deterministic.
#pragma once

#include <span>
#include <vector>

namespace firstwall::ops {

// The next `horizon` values after `history` (at least `period` values; period >= 1).
// FW_CHECK when history is shorter than one period.
std::vector<double> SeasonalNaive(std::span<const double> history, int period, int horizon);

struct HoltWintersParams {
  double alpha = 0.5, beta = 0.1, gamma = 0.1;  // smoothing constants, each in [0, 1]
};

struct HoltWintersState {
  double level = 0, trend = 0;
  std::vector<double> season;  // the last `period` seasonal terms, oldest first
  double sse = 0;              // sum of squared one-step errors over the seasons after the first
  int n_errors = 0;
};

// Runs the recursion over `history` (at least 2 periods; FW_CHECK otherwise) with fixed constants.
HoltWintersState HoltWintersRun(std::span<const double> history, int period,
                                const HoltWintersParams& p);
// The next `horizon` values from the state after the history's last value.
std::vector<double> HoltWintersForecast(const HoltWintersState& s, int horizon);
// The constants of the grid with the least one-step SSE (above).
HoltWintersParams HoltWintersFit(std::span<const double> history, int period);

}  // namespace firstwall::ops
