#include "ops/baselines.h"

#include <limits>

#include "core/error.h"

namespace firstwall::ops {

std::vector<double> SeasonalNaive(std::span<const double> history, int period, int horizon) {
  FW_CHECK(period >= 1 && history.size() >= static_cast<size_t>(period),
           "seasonal naive needs a season of history");
  const auto n = static_cast<int64_t>(history.size());
  std::vector<double> out;
  out.reserve(static_cast<size_t>(horizon));
  for (int h = 1; h <= horizon; ++h) {
    const int64_t k = (h - 1) / period + 1;
    out.push_back(history[static_cast<size_t>(n - 1 + h - period * k)]);
  }
  return out;
}

HoltWintersState HoltWintersRun(std::span<const double> history, int period,
                                const HoltWintersParams& p) {
  FW_CHECK(period >= 1 && history.size() >= 2 * static_cast<size_t>(period),
           "Holt-Winters needs two seasons of history");
  const auto m = static_cast<size_t>(period);
  double mean1 = 0, mean2 = 0;
  for (size_t i = 0; i < m; ++i) {
    mean1 += history[i];
    mean2 += history[m + i];
  }
  mean1 /= static_cast<double>(m);
  mean2 /= static_cast<double>(m);
  HoltWintersState s;
  s.trend = (mean2 - mean1) / static_cast<double>(m);
  const double middle = (static_cast<double>(m) - 1) / 2;
  s.level = mean1 + s.trend * middle;
  // ring[(head + i) % m] holds s(t - m + i) for the next t: the oldest entry is at `head`.
  std::vector<double> ring(m);
  for (size_t i = 0; i < m; ++i) {
    ring[i] = history[i] - (mean1 + s.trend * (static_cast<double>(i) - middle));
  }
  size_t head = 0;
  for (size_t t = m; t < history.size(); ++t) {
    const double y = history[t];
    const double s_old = ring[head];  // s(t - m)
    const double forecast = s.level + s.trend + s_old;
    s.sse += (y - forecast) * (y - forecast);
    ++s.n_errors;
    const double level = p.alpha * (y - s_old) + (1 - p.alpha) * (s.level + s.trend);
    const double trend = p.beta * (level - s.level) + (1 - p.beta) * s.trend;
    ring[head] = p.gamma * (y - s.level - s.trend) + (1 - p.gamma) * s_old;
    s.level = level;
    s.trend = trend;
    head = (head + 1) % m;
  }
  s.season.resize(m);
  for (size_t i = 0; i < m; ++i) s.season[i] = ring[(head + i) % m];
  return s;
}

std::vector<double> HoltWintersForecast(const HoltWintersState& s, int horizon) {
  const auto m = static_cast<int64_t>(s.season.size());
  std::vector<double> out;
  out.reserve(static_cast<size_t>(horizon));
  for (int h = 1; h <= horizon; ++h) {
    // s(T + h - m (k + 1)): season[0] is s(T + 1 - m), so the index is (h - 1) mod m.
    out.push_back(s.level + h * s.trend + s.season[static_cast<size_t>((h - 1) % m)]);
  }
  return out;
}

HoltWintersParams HoltWintersFit(std::span<const double> history, int period) {
  HoltWintersParams best;
  double best_sse = std::numeric_limits<double>::infinity();
  std::vector<double> grid;
  for (int i = 0; i < 10; ++i) grid.push_back(0.05 + 0.1 * i);
  std::vector<double> betas{0.0};
  betas.insert(betas.end(), grid.begin(), grid.end());
  for (double a : grid) {
    for (double b : betas) {
      for (double g : grid) {
        const HoltWintersParams p{a, b, g};
        const double sse = HoltWintersRun(history, period, p).sse;
        if (sse < best_sse) {
          best_sse = sse;
          best = p;
        }
      }
    }
  }
  return best;
}

}  // namespace firstwall::ops
