#include "ops/backtest.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/error.h"
#include "core/text_input.h"
#include "live/twin_check.h"

namespace firstwall::ops {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The q-quantile of `v` (sorted here), linear between order statistics; NaN when empty.
double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto i = static_cast<size_t>(std::floor(pos));
  const size_t j = std::min(i + 1, v.size() - 1);
  return v[i] + (pos - static_cast<double>(i)) * (v[j] - v[i]);
}

}  // namespace

MeasuredSeries ReadMeasuredCsv(const std::string& text, const std::string& path) {
  const std::vector<text::Line> lines = text::Lines(text, path);
  const char* expected = "a header with time_s and facility_power_W (or facility_power_kW)";
  if (lines.empty()) throw InputError({path, 1, 1}, "the measurements file is empty", expected);
  const std::vector<text::Field> head = text::Split(lines.front().text, ',');
  int time_col = -1, power_col = -1;
  double scale = 1;
  for (size_t i = 0; i < head.size(); ++i) {
    const std::string_view name = head[i].text;
    if (name == "time_s") time_col = static_cast<int>(i);
    if (name == "facility_power_W") power_col = static_cast<int>(i);
    if (name == "facility_power_kW" || name == "facility_power_kw") {
      power_col = static_cast<int>(i);
      scale = 1e3;
    }
  }
  if (time_col < 0 || power_col < 0) {
    throw InputError({path, 1, 1},
                     time_col < 0
                         ? "the header has no column time_s"
                         : "the header has no column facility_power_W or facility_power_kW",
                     expected);
  }
  MeasuredSeries m;
  m.from = path;
  const auto need = static_cast<size_t>(std::max(time_col, power_col) + 1);
  for (size_t k = 1; k < lines.size(); ++k) {
    const text::Line& line = lines[k];
    if (text::Blank(line.text)) continue;
    const std::vector<text::Field> f = text::Split(line.text, ',');
    if (f.size() < need) {
      throw InputError({path, line.number, 1},
                       fmt::format("{} fields, fewer than the {} columns up to time_s and the "
                                   "facility power",
                                   f.size(), need),
                       "one value per column of the header");
    }
    const text::Field& tf = f[static_cast<size_t>(time_col)];
    const text::Field& pf = f[static_cast<size_t>(power_col)];
    const std::optional<double> t = text::FiniteNumber(tf.text);
    if (!t) {
      throw InputError({path, line.number, tf.column}, fmt::format("'{}' is not a time", tf.text),
                       "seconds from the scenario's start as a finite number");
    }
    const std::optional<double> p = text::FiniteNumber(pf.text);
    if (!p) {
      throw InputError({path, line.number, pf.column},
                       fmt::format("'{}' is not a facility power", pf.text),
                       "a finite number in the column's unit");
    }
    if (!m.t_s.empty() && *t <= m.t_s.back()) {
      throw InputError({path, line.number, tf.column},
                       fmt::format("time {:g} s is not after {:g} s", *t, m.t_s.back()),
                       "rows in ascending time");
    }
    m.t_s.push_back(*t);
    m.facility_w.push_back(*p * scale);
  }
  if (m.t_s.empty()) {
    throw InputError({path, static_cast<int>(lines.size()), 1}, "the file has no data rows",
                     "one row per time after the header");
  }
  return m;
}

std::optional<live::SeriesInfo> FacilityPowerSeries(live::Store& store) {
  for (const live::SeriesInfo& s : store.Series()) {
    if (s.key.entity == "facility" && s.key.quantity == "power") return s;
  }
  return std::nullopt;
}

MeasuredSeries ReadMeasuredStore(live::Store& store, const std::string& db) {
  if (const std::optional<live::SeriesInfo> found = FacilityPowerSeries(store)) {
    const live::SeriesInfo& s = *found;
    MeasuredSeries m;
    m.from = fmt::format("{}: facility/{}/power <- {}", db, s.key.entity_id, s.key.metric);
    const std::vector<live::SamplePoint> points = store.Samples(s.id);
    int64_t t0 = 0;
    for (const live::SamplePoint& p : points) {
      if (!std::isfinite(p.value)) continue;
      if (m.t_s.empty()) t0 = m.zero_ms = p.t_ms;
      const double t = static_cast<double>(p.t_ms - t0) / 1000;
      if (!m.t_s.empty() && t <= m.t_s.back()) continue;  // a duplicate time: the first counts
      m.t_s.push_back(t);
      m.facility_w.push_back(p.value);
    }
    if (!m.t_s.empty()) return m;
  }
  throw InputError({db, 0, 0}, "the store has no finite sample of a facility power series",
                   "a store written by firstwall ingest with facility/*/power bound in its site "
                   "map (tests/inputs/live-site-map.yaml binds firstwall_facility_power_watts)");
}

std::vector<double> BinMeasured(const MeasuredSeries& m, double step_s, size_t n) {
  std::vector<double> sum(n, 0.0);
  std::vector<int> count(n, 0);
  for (size_t i = 0; i < m.t_s.size(); ++i) {
    if (m.t_s[i] < 0) continue;
    const auto k = static_cast<size_t>(m.t_s[i] / step_s);
    if (k >= n) continue;
    sum[k] += m.facility_w[i];
    ++count[k];
  }
  std::vector<double> out(n, kNaN);
  for (size_t k = 0; k < n; ++k) {
    if (count[k] > 0) out[k] = sum[k] / count[k];
  }
  return out;
}

std::vector<double> BacktestOrigins(const MeasuredSeries& m, const BacktestOptions& o,
                                    const std::string& option) {
  std::vector<double> out;
  const double end = m.t_s.empty() ? 0 : m.t_s.back();
  for (double t = o.history_s; t + o.horizon_s <= end + 1e-6; t += o.every_s) out.push_back(t);
  if (out.empty()) {
    throw InputError({option, 0, 0},
                     fmt::format("the measurements span {:g} h; a backtest needs {:g} h of "
                                 "history and the horizon of {:g} h after it",
                                 end / 3600, o.history_s / 3600, o.horizon_s / 3600),
                     "measurements over more time, or a shorter --horizon");
  }
  return out;
}

double RecentBias(const std::vector<ForecastStep>& past, const std::vector<double>& bins,
                  double step_s) {
  double dm = 0, sp = 0;
  for (const ForecastStep& s : past) {
    const auto k = static_cast<size_t>(std::llround(s.start_s / step_s));
    if (k >= bins.size() || !std::isfinite(bins[k])) continue;
    dm += bins[k] - s.value[kFacilityPower];
    sp += s.value[kFacilityPower];
  }
  return sp > 0 ? dm / sp : 0;
}

size_t HorizonIndex(const std::vector<double>& horizons_s, double lead_s) {
  for (size_t b = 0; b < horizons_s.size(); ++b) {
    if (lead_s <= horizons_s[b] + 1e-6) return b;
  }
  return horizons_s.size();
}

Backtest RunBacktest(const site::SiteConfig& config, const MeasuredSeries& measured,
                     const BacktestOptions& o, const std::string& option) {
  Backtest bt;
  bt.origins_s = BacktestOrigins(measured, o, option);
  bt.horizons_s = o.horizons_s;
  const size_t nh = o.horizons_s.size();
  const auto period = static_cast<int>(std::llround(86400 / o.step_s));
  const auto horizon_steps = static_cast<int>(std::llround(o.horizon_s / o.step_s));
  const auto total = static_cast<size_t>(std::ceil(measured.t_s.back() / o.step_s)) + 1;
  const std::vector<double> bins = BinMeasured(measured, o.step_s, total);
  // Per method (twin, twin_uncorrected, seasonal_naive, holt_winters) and horizon: measured and
  // predicted pairs.
  std::vector<std::vector<std::vector<double>>> ms(4, std::vector<std::vector<double>>(nh)),
      ps = ms;
  std::vector<std::vector<double>> rel(nh);
  for (size_t k = 0; k < bt.origins_s.size(); ++k) {
    const double origin = bt.origins_s[k];
    const auto first = static_cast<size_t>(std::llround(origin / o.step_s));
    // History: every step before the origin, gaps holding the last known value (the first known
    // value before any).
    std::vector<double> history(bins.begin(), bins.begin() + static_cast<ptrdiff_t>(first));
    double last = kNaN;
    for (double v : history) {
      if (std::isfinite(v)) {
        last = v;
        break;
      }
    }
    for (double& v : history) {
      if (std::isfinite(v))
        last = v;
      else
        v = last;
    }
    if (!std::isfinite(last)) {
      throw InputError({option, 0, 0},
                       fmt::format("no measurement before the origin at {:g} h", origin / 3600),
                       "measurements from the scenario's start");
    }
    ForecastOptions fo;
    fo.from_s = origin;
    fo.horizon_s = o.horizon_s;
    fo.step_s = o.step_s;
    fo.error = o.error;
    fo.band = false;
    fo.shift_sigmas = k % 2 == 0 ? 1.0 : -1.0;
    fo.anchor_s = o.anchor_s;
    fo.lookback_s = o.lookback_s;
    const Forecast twin = RunForecast(config, fo);
    const double bias = RecentBias(twin.past, bins, o.step_s);
    bt.twin_bias.push_back(bias);
    const std::vector<double> naive = SeasonalNaive(history, period, horizon_steps);
    const HoltWintersParams hwp = HoltWintersFit(history, period);
    bt.holt_winters.push_back(hwp);
    const std::vector<double> hw =
        HoltWintersForecast(HoltWintersRun(history, period, hwp), horizon_steps);
    for (int j = 0; j < horizon_steps; ++j) {
      const size_t idx = first + static_cast<size_t>(j);
      if (idx >= bins.size() || !std::isfinite(bins[idx])) continue;
      const size_t b = HorizonIndex(o.horizons_s, (j + 1) * o.step_s);
      if (b >= nh) continue;
      const double m = bins[idx];
      const double raw = twin.steps[static_cast<size_t>(j)].value[kFacilityPower];
      const double pred[4] = {raw * (1 + bias), raw, naive[static_cast<size_t>(j)],
                              hw[static_cast<size_t>(j)]};
      for (int method = 0; method < 4; ++method) {
        ms[method][b].push_back(m);
        ps[method][b].push_back(pred[method]);
      }
      if (pred[0] != 0) rel[b].push_back((m - pred[0]) / pred[0]);
    }
  }
  const char* names[4] = {"twin", "twin_uncorrected", "seasonal_naive", "holt_winters"};
  for (int method = 0; method < 4; ++method) {
    MethodErrors e;
    e.method = names[method];
    for (size_t b = 0; b < nh; ++b) {
      const std::vector<double>& m = ms[method][b];
      const std::vector<double>& p = ps[method][b];
      double ape = 0;
      int n = 0;
      for (size_t i = 0; i < m.size(); ++i) {
        if (m[i] == 0) continue;
        ape += std::abs(m[i] - p[i]) / std::abs(m[i]);
        ++n;
      }
      e.mape_pct.push_back(n > 0 ? 100 * ape / n : kNaN);
      e.cv_rmse_pct.push_back(100 * live::GoodnessOfFit(m, p, 0).cv_rmse);
      e.n.push_back(static_cast<int>(m.size()));
    }
    bt.methods.push_back(std::move(e));
  }
  for (size_t b = 0; b < nh; ++b) {
    bt.twin_q10.push_back(Quantile(rel[b], 0.1));
    bt.twin_q90.push_back(Quantile(rel[b], 0.9));
  }
  return bt;
}

}  // namespace firstwall::ops
