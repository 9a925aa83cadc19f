// Thresholds learned on a calibration window, and the k-sigma and CUSUM detectors (anomaly.h).
#include <algorithm>
#include <cmath>

#include "ops/anomaly.h"

namespace firstwall::ops {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0)
    m = (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
  return m;
}

}  // namespace

Thresholds Learn(std::span<const double> residual, double floor, bool exact) {
  Thresholds t;
  std::vector<double> r;
  for (double x : residual) {
    if (std::isfinite(x)) r.push_back(x);
  }
  t.calibration = static_cast<int>(r.size());
  t.sigma = std::max(floor, 1e-12);
  if (r.size() < 10 || exact) return t;
  t.offset = Median(r);
  std::vector<double> dev;
  dev.reserve(r.size());
  for (double x : r) dev.push_back(std::abs(x - t.offset));
  t.sigma = std::max(1.4826 * Median(dev), t.sigma);
  // What the calibration itself shows: its largest |z|, the spread of its 10-step block means
  // (a residual that wanders slowly needs a larger allowance) and its largest CUSUM excursion.
  double max_z = 0, block_sum = 0, block_sq = 0;
  int blocks = 0;
  for (size_t i = 0; i + 10 <= r.size(); i += 10) {
    double m = 0;
    for (size_t j = i; j < i + 10; ++j) m += (r[j] - t.offset) / t.sigma;
    m /= 10;
    block_sum += m;
    block_sq += m * m;
    ++blocks;
  }
  const double mean = block_sum / blocks;
  const double block_std = std::sqrt(std::max(0.0, block_sq / blocks - mean * mean));
  t.drift = std::max(1.0, 2 * block_std);
  double up = 0, down = 0, max_cusum = 0;
  for (double x : r) {
    const double z = (x - t.offset) / t.sigma;
    max_z = std::max(max_z, std::abs(z));
    up = std::max(0.0, up + z - t.drift);
    down = std::max(0.0, down - z - t.drift);
    max_cusum = std::max({max_cusum, up, down});
  }
  t.k = std::max(5.0, 1.2 * max_z);
  t.h = std::max(8.0, 1.5 * max_cusum);
  return t;
}

Alarm FirstAlarm(std::span<const double> residual, const Thresholds& t, size_t from_step) {
  Alarm a;
  double up = 0, down = 0;
  size_t up_start = from_step, down_start = from_step;
  auto raise = [&](const char* detector, size_t start, size_t step) {
    a.raised = true;
    a.detector = detector;
    a.start = start;
    a.step = step;
    double sum = 0;
    int n = 0;
    for (size_t j = start; j <= step; ++j) {
      if (!std::isfinite(residual[j])) continue;
      sum += residual[j] - t.offset;
      ++n;
    }
    a.residual = n > 0 ? sum / n : 0;
    a.score = a.residual / t.sigma;
  };
  // Consecutive steps with |z| > k on the same side: a late scrape (a counter read twice, or
  // between two ticks) makes two outliers of opposite sign in a row, which is no fault.
  size_t beyond = 0, beyond_start = from_step;
  int side = 0;
  for (size_t k = from_step; k < residual.size(); ++k) {
    if (!std::isfinite(residual[k])) continue;
    const double z = (residual[k] - t.offset) / t.sigma;
    if (std::abs(z) > t.k) {
      const int s = z > 0 ? 1 : -1;
      if (beyond > 0 && s != side) beyond = 0;
      side = s;
      if (beyond++ == 0) beyond_start = k;
      if (beyond == 2) {
        raise("k_sigma", beyond_start, k);
        return a;
      }
    } else {
      beyond = 0;
    }
    if (up == 0) up_start = k;
    if (down == 0) down_start = k;
    // Clipped at k, so that one wild sample (a counter read between two ticks) cannot cross h.
    const double clipped = std::clamp(z, -t.k, t.k);
    up = std::max(0.0, up + clipped - t.drift);
    down = std::max(0.0, down - clipped - t.drift);
    if (up > t.h || down > t.h) {
      raise("cusum", up > t.h ? up_start : down_start, k);
      return a;
    }
  }
  return a;
}

std::vector<double> OnSteps(std::span<const live::SamplePoint> samples, const Steps& steps) {
  const size_t n = steps.t_ms.size();
  std::vector<double> sum(n, 0.0);
  std::vector<int> count(n, 0);
  if (n == 0) return {};
  const double step_ms = steps.step_s * 1000;
  for (const live::SamplePoint& p : samples) {
    if (!std::isfinite(p.value) || p.t_ms < steps.t_ms[0]) continue;
    const auto k = static_cast<size_t>(static_cast<double>(p.t_ms - steps.t_ms[0]) / step_ms);
    if (k >= n) continue;
    sum[k] += p.value;
    ++count[k];
  }
  for (size_t k = 0; k < n; ++k) sum[k] = count[k] > 0 ? sum[k] / count[k] : std::nan("");
  return sum;
}

}  // namespace firstwall::ops
