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

AlarmScan::AlarmScan(const Thresholds& t, size_t from_step, bool relative)
    : t_(t), relative_(relative), next_(from_step) {
  up_e_.start = down_e_.start = beyond_e_.start = from_step;
}

void AlarmScan::Raise(const char* detector, const Evidence& e) {
  alarm_.raised = true;
  alarm_.detector = detector;
  alarm_.start = e.start;
  alarm_.step = next_;
  alarm_.residual = e.n > 0 ? e.sum / e.n : 0;
  alarm_.score = alarm_.residual / t_.sigma;
  if (relative_) alarm_.residual *= e.level_n > 0 ? e.level_sum / e.level_n : std::nan("");
}

void AlarmScan::Feed(double residual, double level) {
  if (!alarm_.raised) Step(residual, level);
  ++next_;
}

void AlarmScan::Step(double residual, double level) {
  // Every stretch that is open takes this step's level, and its residual when known: the sums
  // are added in step order, as FirstAlarm's were over [start, step].
  const auto add = [&](Evidence& e) {
    if (std::isfinite(residual)) e.sum += residual - t_.offset, ++e.n;
    if (std::isfinite(level)) e.level_sum += level, ++e.level_n;
  };
  const auto open = [&](Evidence& e) { e = Evidence{next_, 0, 0, 0, 0}; };
  if (!std::isfinite(residual)) {
    add(up_e_);
    add(down_e_);
    add(beyond_e_);
    return;
  }
  const double z = (residual - t_.offset) / t_.sigma;
  // Consecutive steps with |z| > k on the same side: a late scrape (a counter read twice, or
  // between two ticks) makes two outliers of opposite sign in a row, which is no fault.
  if (std::abs(z) > t_.k) {
    const int s = z > 0 ? 1 : -1;
    if (beyond_ > 0 && s != side_) beyond_ = 0;
    side_ = s;
    if (beyond_++ == 0) open(beyond_e_);
    add(beyond_e_);
    if (beyond_ == 2) {
      Raise("k_sigma", beyond_e_);
      return;
    }
  } else {
    beyond_ = 0;
    add(beyond_e_);
  }
  if (up_ == 0) open(up_e_);
  if (down_ == 0) open(down_e_);
  add(up_e_);
  add(down_e_);
  // Clipped at k, so that one wild sample (a counter read between two ticks) cannot cross h.
  const double clipped = std::clamp(z, -t_.k, t_.k);
  up_ = std::max(0.0, up_ + clipped - t_.drift);
  down_ = std::max(0.0, down_ - clipped - t_.drift);
  if (up_ > t_.h || down_ > t_.h) Raise("cusum", up_ > t_.h ? up_e_ : down_e_);
}

Alarm FirstAlarm(std::span<const double> residual, const Thresholds& t, size_t from_step) {
  AlarmScan scan(t, from_step);
  for (size_t k = from_step; k < residual.size() && !scan.alarm().raised; ++k) {
    scan.Feed(residual[k]);
  }
  return scan.alarm();
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
