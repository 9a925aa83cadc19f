#include "power/swing.h"

#include <fftw3.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <mutex>

namespace firstwall::power {
namespace {
// FFTW's planner keeps global state: planning and destroying plans are not thread-safe (only
// fftw_execute is), and sweeps simulate points on several threads.
std::mutex fftw_planner;

// Real DFT of p - mean: bins 0..n/2. FFTW_ESTIMATE plans without timing runs: deterministic output.
std::vector<std::array<double, 2>> Dft(const std::vector<double>& p, double mean) {
  const size_t n = p.size();
  const int len = static_cast<int>(n);
  std::unique_ptr<double, decltype(&fftw_free)> in(fftw_alloc_real(n), &fftw_free);
  std::unique_ptr<fftw_complex, decltype(&fftw_free)> out(fftw_alloc_complex(n / 2 + 1),
                                                          &fftw_free);
  for (size_t i = 0; i < n; ++i) in.get()[i] = p[i] - mean;
  fftw_plan plan = nullptr;
  {
    std::lock_guard lock(fftw_planner);
    plan = fftw_plan_dft_r2c_1d(len, in.get(), out.get(), FFTW_ESTIMATE);
  }
  fftw_execute(plan);
  {
    std::lock_guard lock(fftw_planner);
    fftw_destroy_plan(plan);
  }
  std::vector<std::array<double, 2>> bins(n / 2 + 1);
  for (size_t k = 0; k <= n / 2; ++k) bins[k] = {out.get()[k][0], out.get()[k][1]};
  return bins;
}
}  // namespace

std::vector<double> AmplitudeSpectrum(const std::vector<double>& p) {
  const size_t n = p.size();
  if (n < 4) return {};
  double sum = 0;
  for (double v : p) sum += v;
  const std::vector<std::array<double, 2>> out = Dft(p, sum / static_cast<double>(n));
  std::vector<double> a(n / 2);
  for (size_t k = 1; k <= n / 2; ++k) {
    a[k - 1] =
        2.0 * std::sqrt(out[k][0] * out[k][0] + out[k][1] * out[k][1]) / static_cast<double>(n);
  }
  return a;
}

SwingMetrics AnalyzeSwing(const std::vector<double>& p, double dt, double lo_hz, double hi_hz) {
  SwingMetrics m;
  const size_t n = p.size();
  if (n == 0) return m;
  const auto [lo, hi] = std::minmax_element(p.begin(), p.end());
  m.peak_w = *hi;
  m.trough_w = *lo;
  m.swing_w = *hi - *lo;
  double sum = 0;
  for (double v : p) sum += v;
  m.mean_w = sum / static_cast<double>(n);
  for (size_t i = 1; i < n; ++i) {
    m.max_ramp_w_per_s = std::max(m.max_ramp_w_per_s, std::abs(p[i] - p[i - 1]) / dt);
  }
  if (n < 4) return m;
  const std::vector<std::array<double, 2>> out = Dft(p, m.mean_w);
  double total = 0, band = 0, best = 0;
  for (size_t k = 1; k <= n / 2; ++k) {
    const double re = out[k][0], im = out[k][1];
    // One-sided power: bins other than Nyquist stand for two conjugate bins.
    const double e = (re * re + im * im) * ((2 * k == n) ? 1.0 : 2.0);
    total += e;
    const double f = static_cast<double>(k) / (static_cast<double>(n) * dt);
    if (f >= lo_hz && f <= hi_hz) {
      band += e;
      if (e > best) {
        best = e;
        m.band_peak_hz = f;
        m.band_amplitude_w = 2.0 * std::sqrt(re * re + im * im) / static_cast<double>(n);
      }
    }
  }
  m.band_share = total > 0 ? band / total : 0.0;
  return m;
}

double ApplyPowerFloor(std::vector<double>& w, double gpus, double floor_w, double dt) {
  double burned = 0;
  const double f = floor_w * gpus;
  for (double& v : w) {
    if (v < f) {
      burned += (f - v) * dt;
      v = f;
    }
  }
  return burned;
}

double ApplyRampLimit(std::vector<double>& w, double gpus, double rate, double dt,
                      double* deferred_j) {
  const double step = rate * gpus * dt;
  double burned = 0, deferred = 0;
  for (size_t i = 1; i < w.size(); ++i) {
    const double want = w[i];
    const double got = std::clamp(want, w[i - 1] - step, w[i - 1] + step);
    if (got > want) burned += (got - want) * dt;
    if (got < want) deferred += (want - got) * dt;
    w[i] = got;
  }
  if (deferred_j) *deferred_j = deferred;
  return burned;
}

double BatteryExchange(double want_w, double power_w, double capacity_j,
                       double round_trip_efficiency, double dt, double* stored_j,
                       double* losses_j) {
  const double eta = std::sqrt(round_trip_efficiency);  // half the loss each way
  double out = std::clamp(want_w, -power_w, power_w);
  double loss = 0;
  if (out > 0) {
    out = std::min(out, *stored_j * eta / dt);
    *stored_j -= out / eta * dt;
    loss = out * (1.0 / eta - 1.0) * dt;
  } else if (out < 0) {
    out = std::max(out, -(capacity_j - *stored_j) / eta / dt);
    *stored_j += -out * eta * dt;
    loss = -out * (1.0 - eta) * dt;
  }
  if (losses_j != nullptr) *losses_j += loss;
  return out;
}

BatteryResult SmoothWithBattery(const std::vector<double>& site, double dt, const Battery& b) {
  BatteryResult r;
  r.grid_w.resize(site.size());
  if (site.empty()) return r;
  // The controller has run before the window: start the average at the first time constant's mean.
  const size_t warm = std::clamp<size_t>(static_cast<size_t>(b.smoothing_s / dt), 1, site.size());
  double target = 0;
  for (size_t i = 0; i < warm; ++i) target += site[i] / static_cast<double>(warm);
  double soc_j = 0.5 * b.capacity_j;
  r.min_soc = r.max_soc = 0.5;
  const double alpha = 1.0 - std::exp(-dt / b.smoothing_s);
  for (size_t i = 0; i < site.size(); ++i) {
    target += alpha * (site[i] - target);
    // Positive: the battery discharges into the site; negative: it charges from the grid.
    const double out = BatteryExchange(site[i] - target, b.power_w, b.capacity_j,
                                       b.round_trip_efficiency, dt, &soc_j, &r.losses_j);
    r.grid_w[i] = site[i] - out;
    const double soc = b.capacity_j > 0 ? soc_j / b.capacity_j : 0.0;
    r.min_soc = std::min(r.min_soc, soc);
    r.max_soc = std::max(r.max_soc, soc);
  }
  return r;
}

}  // namespace firstwall::power
