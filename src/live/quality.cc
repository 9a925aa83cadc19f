#include "live/quality.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "live/gpu_rollup.h"
#include "live/vocabulary.h"

namespace firstwall::live {
namespace {

constexpr int kTimeliness = 0, kCompleteness = 1, kConsistency = 2, kAccuracy = 3, kResolution = 4;

double Clamp01(double x) { return std::clamp(x, 0.0, 1.0); }

std::string Seconds(double ms) { return fmt::format("{:g} s", ms / 1000.0); }

// A sample's time in messages: seconds from the start of the window it was judged over.
struct Clock {
  int64_t origin_ms = 0;
  std::string operator()(int64_t t_ms) const {
    return fmt::format("+{:g} s", static_cast<double>(t_ms - origin_ms) / 1000.0);
  }
};

bool IsCounter(const SeriesInfo& s) {
  const QuantityKind* q = FindQuantity(s.key.quantity);
  return q && q->counter;
}

// Quantities whose sources report with unit prefixes (W, kW, mJ, J): a ~1000x step is a unit
// change there, while 0.1 % -> 100 % utilization is not.
bool PrefixedQuantity(const SeriesInfo& s) {
  return s.key.quantity == "power" || s.key.quantity == "energy";
}

std::vector<SamplePoint> Finite(const std::vector<SamplePoint>& in) {
  std::vector<SamplePoint> out;
  for (const SamplePoint& p : in) {
    if (std::isfinite(p.value)) out.push_back(p);
  }
  return out;
}

// The q-quantile of sorted values, linear between neighbours.
double Quantile(const std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// Per sample, the power of 1000 it is off from the stream's first scale (0: as it started),
// following every ~1000x step between neighbours. `changes` counts the steps.
std::vector<int> ScaleSteps(const std::vector<SamplePoint>& f, const SeriesInfo& s, const Clock& at,
                            std::vector<std::string>& reasons,
                            const std::optional<SamplePoint>& previous, int previous_scale) {
  std::vector<int> k(f.size(), previous_scale);
  if (!PrefixedQuantity(s)) return k;
  for (size_t i = 0; i < f.size(); ++i) {
    if (i == 0 && !previous) continue;
    k[i] = i == 0 ? previous_scale : k[i - 1];
    const double a = i == 0 ? previous->value : f[i - 1].value, b = f[i].value;
    if (a == 0 || b == 0) continue;
    const double r = std::abs(b / a);
    int step = 0;
    if (r >= 500 && r <= 2000) step = 1;
    if (r >= 1.0 / 2000 && r <= 1.0 / 500) step = -1;
    if (step != 0) {
      k[i] += step;
      reasons.push_back(fmt::format("scale changed x{:g} at {} ({:g} -> {:g}): a unit change",
                                    std::pow(1000.0, step), at(f[i].t_ms), a, b));
    }
  }
  return k;
}

// Values brought back to the stream's first scale.
std::vector<double> Normalised(const std::vector<SamplePoint>& f, const std::vector<int>& k) {
  std::vector<double> v(f.size());
  for (size_t i = 0; i < f.size(); ++i) v[i] = f[i].value * std::pow(1000.0, -k[i]);
  return v;
}

struct Bounds {
  double lo, hi;
};
Bounds PhysicalBounds(const std::string& quantity) {
  if (quantity == "temperature") return {-50, 150};
  if (quantity == "utilization") return {0, 100};
  if (quantity == "pue") return {1, 10};
  // The fastest ports shipped or announced run 1.6 Tb/s (ConnectX-8 is 800 Gb/s).
  if (quantity == "link_rate") return {0, 10000};
  // No one meter of a data center reads 10 GW: the largest campuses announced are a few GW in all.
  // Without the bound a 1e308 W reading scored accuracy 1 (the spike test needs 4 samples).
  if (quantity == "power") return {0, 1e10};
  return {0, HUGE_VAL};  // energy counters only grow
}

// Linear interpolation of the (scale-corrected) power samples at time t; false outside them.
struct PowerCurve {
  std::vector<double> t, w;
  bool At(double tm, double& out) const {
    if (t.empty() || tm < t.front() || tm > t.back()) return false;
    const auto it = std::lower_bound(t.begin(), t.end(), tm);
    const size_t j = static_cast<size_t>(it - t.begin());
    if (j == 0 || t[j] == tm) {
      out = w[j];
      return true;
    }
    const double a = (tm - t[j - 1]) / (t[j] - t[j - 1]);
    out = w[j - 1] + a * (w[j] - w[j - 1]);
    return true;
  }
  // Integral over [a, b] in joules (times in ms), through the samples between. `slack` is how
  // much of it the samples leave open: power that moves from p0 to p1 between two samples dt apart
  // may have done so at any moment, so its true integral lies anywhere between p0*dt and p1*dt,
  // within |p1 - p0| * dt / 2 of the trapezoid (a step at a tick between slow scrapes is the
  // common case). A steady stream has none.
  double Joules(double a, double b, double& slack) const {
    std::vector<double> pts = {a};
    for (auto it = std::upper_bound(t.begin(), t.end(), a); it != t.end() && *it < b; ++it) {
      pts.push_back(*it);
    }
    pts.push_back(b);
    double j = 0;
    slack = 0;
    for (size_t i = 1; i < pts.size(); ++i) {
      double p0 = 0, p1 = 0;
      At(pts[i - 1], p0);
      At(pts[i], p1);
      const double dt_s = (pts[i] - pts[i - 1]) / 1000.0;
      j += 0.5 * (p0 + p1) * dt_s;
      slack += 0.5 * std::abs(p1 - p0) * dt_s;
    }
    return j;
  }
};

struct Prepared {
  std::vector<SamplePoint> finite;
  std::vector<int> scale;
  std::vector<double> value;  // scale-corrected
  std::vector<std::string> scale_reasons;
};

void Timeliness(const StreamInput& in, const Prepared& p, Score& s) {
  const double interval_ms = in.interval_s * 1000;
  // Samples that carry their own time: how much later than one interval after it they arrived (a
  // sample up to an interval old when read was the newest its source had), or how far ahead of
  // their arrival they are stamped (the source's clock runs ahead).
  double behind = 0;
  std::vector<double> ahead;
  for (const SamplePoint& q : p.finite) {
    const double d = static_cast<double>(q.Arrival() - q.t_ms);
    if (d >= 0) {
      behind += std::max(0.0, d - interval_ms);
    } else if (-d > 0.1 * interval_ms) {
      ahead.push_back(-d);
    }
  }
  const double sample_lag = p.finite.empty() ? 0 : behind / static_cast<double>(p.finite.size());
  const double lag = in.lag_ms + sample_lag;
  // A lag under a tenth of the interval costs nothing; a whole interval costs everything.
  const double lag_score =
      Clamp01(1 - std::max(0.0, lag - 0.1 * interval_ms) / (0.9 * interval_ms));
  if (lag_score < 1) {
    s.reasons.push_back(
        sample_lag > 0
            ? fmt::format("mean lag {} ({} reading, {} late: read more than an interval after "
                          "its own time) against an interval of {}",
                          Seconds(lag), Seconds(in.lag_ms), Seconds(sample_lag),
                          Seconds(interval_ms))
            : fmt::format("mean lag {} against an interval of {}", Seconds(lag),
                          Seconds(interval_ms)));
  }
  double skew_score = 1;
  if (!ahead.empty()) {
    std::sort(ahead.begin(), ahead.end());
    const double median = Quantile(ahead, 0.5);
    skew_score = Clamp01(1 - std::max(0.0, median - 0.1 * interval_ms) / (0.9 * interval_ms));
    s.reasons.push_back(
        fmt::format("clock ahead: {} samples stamped after they arrived, by {} (median; up to {})",
                    ahead.size(), Seconds(median), Seconds(ahead.back())));
  }
  double stale_score = 0;
  if (p.finite.empty()) {
    s.reasons.push_back("no sample at all");
  } else {
    const double age = static_cast<double>(in.window_end_ms - p.finite.back().t_ms);
    stale_score =
        age <= 2 * interval_ms ? 1 : Clamp01(1 - (age - 2 * interval_ms) / (8 * interval_ms));
    if (stale_score < 1) {
      s.reasons.push_back(
          fmt::format("stale: newest sample {} old at the window's end ({} "
                      "intervals)",
                      Seconds(age), age / interval_ms));
    }
  }
  s.score = std::min({lag_score, skew_score, stale_score});
}

// Samples the window should hold: one per interval, both ends included.
double Expected(const StreamInput& in) {
  const double span = static_cast<double>(in.window_end_ms - in.window_start_ms);
  return std::round(span / (in.interval_s * 1000)) + 1;
}

void Completeness(const StreamInput& in, Score& s) {
  const double interval_ms = in.interval_s * 1000;
  const double expected = Expected(in);
  // Samples that arrived in the window, each time once (a duplicate adds nothing); gaps between
  // arrivals, so that a stream whose clock is off is not also short of samples.
  std::set<int64_t> times, arrivals;
  // An infinite value arrived (it is charged to accuracy); NaN is a sample that says nothing.
  for (const SamplePoint& q : in.samples) {
    if (std::isnan(q.value)) continue;
    if (q.Arrival() >= in.window_start_ms && q.Arrival() <= in.window_end_ms) {
      times.insert(q.t_ms);
      arrivals.insert(q.Arrival());
    }
  }
  const double received = static_cast<double>(std::min(times.size(), arrivals.size()));
  s.score = Clamp01(received / expected);
  const auto nan = std::count_if(in.samples.begin(), in.samples.end(),
                                 [](const SamplePoint& q) { return std::isnan(q.value); });
  if (nan > 0) s.reasons.push_back(fmt::format("{} NaN values", nan));
  if (s.score < 1) {
    s.reasons.push_back(fmt::format("{:g} of {:g} expected samples", received, expected));
  }
  // Gaps: more than 1.5 intervals without a sample, the window's ends included.
  std::vector<int64_t> edges(arrivals.begin(), arrivals.end());
  edges.insert(edges.begin(), in.window_start_ms - static_cast<int64_t>(interval_ms));
  edges.push_back(in.window_end_ms + static_cast<int64_t>(interval_ms));
  int gaps = 0;
  double longest = 0, longest_at = 0;
  for (size_t i = 1; i < edges.size(); ++i) {
    const double d = static_cast<double>(edges[i] - edges[i - 1]);
    if (d > 1.5 * interval_ms) {
      ++gaps;
      if (d > longest) {
        longest = d;
        longest_at = static_cast<double>(edges[i - 1]);
      }
    }
  }
  if (gaps > 0) {
    s.reasons.push_back(fmt::format("{} gap{}, longest {} after {}", gaps, gaps > 1 ? "s" : "",
                                    Seconds(longest - interval_ms),
                                    Clock{in.window_start_ms}(static_cast<int64_t>(longest_at))));
  }
}

// Stuck: a run of >= 5 equal values while the sibling streams (same source, entity kind and
// quantity) changed on at least half of their samples, in a stream that itself moves on at least
// half of its samples outside such runs. `kin_changes`: sorted times of every change in the kin.
constexpr int kStuckRun = 5;

void Consistency(const StreamInput& in, const Prepared& p, const std::vector<int64_t>& kin_changes,
                 size_t siblings, Score& s) {
  const size_t n = p.finite.size();
  if (n == 0) return;
  size_t bad = 0;
  s.reasons = p.scale_reasons;
  for (size_t i = 0; i < n; ++i) bad += p.scale[i] != 0;
  size_t duplicates = 0;
  int64_t first_duplicate = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t before = i > 0 ? p.finite[i - 1].t_ms : in.previous ? in.previous->t_ms : -1;
    if (p.finite[i].t_ms != before || (i == 0 && !in.previous)) continue;
    if (duplicates++ == 0) first_duplicate = p.finite[i].t_ms;
  }
  if (duplicates > 0) {
    bad += duplicates;
    s.reasons.push_back(fmt::format("{} duplicated samples (a time received before), first at {}",
                                    duplicates, Clock{in.window_start_ms}(first_duplicate)));
  }
  if (IsCounter(in.series)) {
    for (size_t i = 0; i < n; ++i) {
      if (i == 0 && !in.previous) continue;
      const double before_raw = i > 0 ? p.finite[i - 1].value : in.previous->value;
      const int before_scale = i > 0 ? p.scale[i - 1] : in.previous_scale;
      const double before = i > 0 ? p.value[i - 1] : before_raw * std::pow(1000.0, -before_scale);
      if (p.value[i] < before && p.scale[i] == before_scale) {
        ++bad;
        s.reasons.push_back(fmt::format("counter went backwards at {} ({:g} -> {:g}): a reset",
                                        Clock{in.window_start_ms}(p.finite[i].t_ms), before_raw,
                                        p.finite[i].value));
      }
    }
  }
  // Runs of equal values, and how often the stream moves outside them (a quantized or slow sensor
  // that seldom moves is not stuck for holding its value).
  std::vector<std::pair<size_t, size_t>> runs;
  size_t moves = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && p.finite[j + 1].value == p.finite[i].value) ++j;
    if (j - i + 1 >= kStuckRun) runs.emplace_back(i, j);
    moves += j + 1 < n;
    i = j + 1;
  }
  size_t pairs_outside = n > 0 ? n - 1 : 0;
  for (const auto& [i, j] : runs) pairs_outside -= j - i;
  const bool moves_outside = pairs_outside < kStuckRun - 1 ||
                             static_cast<double>(moves) >= 0.5 * static_cast<double>(pairs_outside);
  for (const auto& [i, j] : runs) {
    const size_t run = j - i + 1;
    const int64_t a = p.finite[i].t_ms, b = p.finite[j].t_ms;
    const auto lo = std::upper_bound(kin_changes.begin(), kin_changes.end(), a);
    const auto hi = std::upper_bound(kin_changes.begin(), kin_changes.end(), b);
    // The siblings moved on at least half of their samples meanwhile: one faulty sibling, or
    // siblings as slow as this stream, say nothing.
    const double expected_moves =
        0.5 * static_cast<double>(siblings) * static_cast<double>(run - 1);
    if (siblings == 0 || !moves_outside || static_cast<double>(hi - lo) < expected_moves) continue;
    bad += run - 1;
    const Clock at{in.window_start_ms};
    s.reasons.push_back(
        fmt::format("stuck at {:g} for {} samples ({}..{}) while its {} siblings changed {} times",
                    p.finite[i].value, run, at(a), at(b), siblings, hi - lo));
  }
  s.score = Clamp01(1 - static_cast<double>(bad) / static_cast<double>(n));
}

void Accuracy(const StreamInput& in, const Prepared& p, Score& s) {
  // Infinite readings (an overflow in the meter or on the way) are wrong values, not missing ones.
  const auto inf =
      static_cast<size_t>(std::count_if(in.samples.begin(), in.samples.end(),
                                        [](const SamplePoint& q) { return std::isinf(q.value); }));
  if (inf > 0) s.reasons.push_back(fmt::format("{} infinite values", inf));
  const size_t n = p.finite.size();
  if (n + inf == 0) return;
  size_t bad = inf;
  const Bounds b = PhysicalBounds(in.series.key.quantity);
  std::vector<bool> flagged(n, false);
  for (size_t i = 0; i < n; ++i) {
    if (p.value[i] < b.lo || p.value[i] > b.hi) {
      flagged[i] = true;
      s.reasons.push_back(fmt::format("{:g} {} at {} is outside {:g}..{:g}", p.value[i],
                                      in.series.key.unit,
                                      Clock{in.window_start_ms}(p.finite[i].t_ms), b.lo, b.hi));
    }
  }
  if (!IsCounter(in.series) && n >= 4) {
    std::vector<double> sorted = p.value;
    std::sort(sorted.begin(), sorted.end());
    const double m = Quantile(sorted, 0.5);
    const double iqr = Quantile(sorted, 0.75) - Quantile(sorted, 0.25);
    const double limit = 5 * std::max({iqr, 0.1 * std::abs(m), 1e-9});
    for (size_t i = 0; i < n; ++i) {
      if (!flagged[i] && std::abs(p.value[i] - m) > limit) {
        flagged[i] = true;
        s.reasons.push_back(fmt::format(
            "spike: {:g} {} at {} against a median of {:.4g} (limit +-{:.4g})", p.value[i],
            in.series.key.unit, Clock{in.window_start_ms}(p.finite[i].t_ms), m, limit));
      }
    }
  }
  for (bool f : flagged) bad += f;
  s.score = Clamp01(1 - static_cast<double>(bad) / static_cast<double>(n + inf));
}

// The (scale-corrected) samples as a curve.
PowerCurve CurveOf(const Prepared& p) {
  PowerCurve c;
  for (size_t i = 0; i < p.finite.size(); ++i) {
    c.t.push_back(static_cast<double>(p.finite[i].t_ms));
    c.w.push_back(p.value[i]);
  }
  return c;
}

// A GPU's (or any entity's) integrated power against its energy counter over the intervals the
// counter covers without a reset; the counter is the reference, the power stream is charged.
// `interval_s` is the source's: a sample read without its own time is as of up to one interval
// before it was read (the exporter's last update), so a run of counter samples from A to B counts
// the energy of a span that may be up to one interval shorter or longer than B - A, within
// interval x max(p(A), p(B)) of it. That much of each unbroken run is left open too.
double PhysicsScore(const Prepared& power, const Prepared& energy, double interval_s,
                    std::string& reason) {
  const PowerCurve curve = CurveOf(power);
  double counted = 0, integrated = 0, open = 0;
  double run_start_w = -1;  // power at the start of the unbroken run of counted spans, or -1
  auto end_run = [&](double end_w) {
    if (run_start_w >= 0) open += interval_s * std::max(run_start_w, end_w);
    run_start_w = -1;
  };
  double last_end_w = 0;
  for (size_t i = 1; i < energy.finite.size(); ++i) {
    const double e0 = energy.value[i - 1], e1 = energy.value[i];
    double pa = 0, pb = 0;
    const double a = static_cast<double>(energy.finite[i - 1].t_ms);
    const double b = static_cast<double>(energy.finite[i].t_ms);
    // A reset or a unit change, or a span the power samples do not cover, ends a run.
    if (e1 < e0 || energy.scale[i] != energy.scale[i - 1] || !curve.At(a, pa) || !curve.At(b, pb)) {
      end_run(last_end_w);
      continue;
    }
    // A span where either side's mean power is beyond any meter (a 1e308 sample, charged to its
    // own stream's accuracy already) would swamp the comparison: left out.
    double slack = 0;
    const double joules = curve.Joules(a, b, slack), seconds = (b - a) / 1000;
    const Bounds w = PhysicalBounds("power");
    const auto plausible = [&](double j) {
      return std::isfinite(j) && seconds > 0 && j / seconds >= w.lo && j / seconds <= w.hi;
    };
    if (!plausible(joules) || !plausible(e1 - e0)) {
      end_run(last_end_w);
      continue;
    }
    counted += e1 - e0;
    integrated += joules;
    open += slack;
    if (run_start_w < 0) run_start_w = pa;
    last_end_w = pb;
  }
  end_run(last_end_w);
  if (counted <= 0) return 1;
  // Only the part of the difference the samples cannot explain is charged (a clean GPU's stream,
  // scraped irregularly from an emulator late under a sanitizer, was charged 5.5 % in a minute).
  const double r = std::max(0.0, std::abs(integrated - counted) - open) / counted;
  const double score = Clamp01(1 - std::max(0.0, r - 0.05) / 0.45);
  if (score < 1) {
    reason = fmt::format(
        "integrated power {:.4g} J against the energy counter's {:.4g} J "
        "({:+.1f} %)",
        integrated, counted, 100 * (integrated - counted) / counted);
    if (open > 0) {
      reason +=
          fmt::format(", {:.1f} % more than the {:.4g} J its samples leave open", 100 * r, open);
    }
  }
  return score;
}

// The first stream of (entity, id, quantity), or -1.
int FindStream(const std::vector<StreamInput>& streams, const std::string& entity,
               const std::string& id, const std::string& quantity) {
  for (size_t i = 0; i < streams.size(); ++i) {
    const SeriesKey& k = streams[i].series.key;
    if (k.entity == entity && k.entity_id == id && k.quantity == quantity) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// The parent's accuracy against its children's sum over the efficiency between them: each parent
// sample where every child has a value is compared, and counts as bad beyond the tolerance.
void CheckBalance(const Balance& bal, const std::vector<StreamInput>& streams,
                  const std::vector<Prepared>& prep, QualityReport& r) {
  const int parent = FindStream(streams, bal.parent_entity, bal.parent_id, bal.quantity);
  if (parent < 0) {
    // Nothing to charge, but say so where the balance's other streams are read: the first child
    // that has a stream carries the reason (a reason only; its score is its own).
    for (const auto& [entity, id] : bal.children) {
      if (const int c = FindStream(streams, entity, id, bal.quantity); c >= 0) {
        auto& reasons = r.streams[static_cast<size_t>(c)].dims[kAccuracy].reasons;
        reasons.insert(reasons.begin(),
                       fmt::format("balance '{}' not judged: no {} stream of its parent {}/{}",
                                   bal.name, bal.quantity, bal.parent_entity, bal.parent_id));
        break;
      }
    }
    return;
  }
  Score& acc = r.streams[static_cast<size_t>(parent)].dims[kAccuracy];
  std::vector<PowerCurve> children;
  std::string names;
  for (const auto& [entity, id] : bal.children) {
    names += fmt::format("{}{}/{}", names.empty() ? "" : " + ", entity, id);
    const int c = FindStream(streams, entity, id, bal.quantity);
    if (c < 0) {
      // Ahead of per-sample findings, which a long fault makes many (reasons are capped).
      acc.reasons.insert(acc.reasons.begin(),
                         fmt::format("balance '{}' not judged: no {} stream of {}/{}", bal.name,
                                     bal.quantity, entity, id));
      return;
    }
    children.push_back(CurveOf(prep[static_cast<size_t>(c)]));
  }
  const Prepared& p = prep[static_cast<size_t>(parent)];
  size_t compared = 0, bad = 0;
  std::vector<double> off;
  for (size_t i = 0; i < p.finite.size(); ++i) {
    const double t = static_cast<double>(p.finite[i].t_ms);
    double sum = 0;
    bool all = true;
    for (const PowerCurve& c : children) {
      double v = 0;
      all = all && c.At(t, v);
      sum += v;
    }
    if (!all) continue;
    const double expected = sum / bal.efficiency;
    if (expected <= 0) continue;
    const double rel = (p.value[i] - expected) / expected;
    ++compared;
    off.push_back(rel);
    bad += std::abs(rel) > bal.tolerance;
  }
  if (bad == 0) return;
  std::sort(off.begin(), off.end());
  acc.score =
      std::min(acc.score, Clamp01(1 - static_cast<double>(bad) / static_cast<double>(compared)));
  acc.reasons.insert(
      acc.reasons.begin(),
      fmt::format(
          "balance '{}': {} of {} samples off {}{} by more than {:g} % (median {:+.1f} %, from "
          "{:+.1f} to {:+.1f} %)",
          bal.name, bad, compared, names,
          bal.efficiency < 1 ? fmt::format(" / {:g} %", 100 * bal.efficiency) : std::string(),
          100 * bal.tolerance, 100 * Quantile(off, 0.5), 100 * off.front(), 100 * off.back()));
}

struct Use {
  double max_interval_s;
  const char* what;
};

std::vector<Use> UsesOf(const SeriesInfo& s) {
  std::vector<Use> uses;
  const std::string& q = s.key.quantity;
  const std::string& e = s.key.entity;
  if (q == "power" || q == "energy") {
    uses.push_back({900, "The Green Grid's advanced PUE category (15 min or finer)"});
  }
  if (q == "power" && (e == "gpu" || e == "node" || e == "rack" || e == "pdu")) {
    uses.push_back({1.0 / 6, "power swings of synchronous training at 0.2-3 Hz (1/6 s or finer)"});
  }
  return uses;
}

void Resolution(const StreamInput& in, const Prepared& p, Score& s) {
  std::vector<double> d;
  for (size_t i = 1; i < p.finite.size(); ++i) {
    d.push_back(static_cast<double>(p.finite[i].t_ms - p.finite[i - 1].t_ms) / 1000.0);
  }
  std::sort(d.begin(), d.end());
  const double spacing = d.empty() ? in.interval_s : Quantile(d, 0.5);
  const std::vector<Use> uses = UsesOf(in.series);
  if (uses.empty() || spacing <= 0) return;
  double sum = 0;
  for (const Use& u : uses) {
    const double part = std::min(1.0, u.max_interval_s / spacing);
    sum += part;
    if (part < 1) {
      s.reasons.push_back(
          fmt::format("median spacing {:g} s is too coarse for {}", spacing, u.what));
    }
  }
  s.score = sum / static_cast<double>(uses.size());
}

double Mean(const Score (&d)[kDimensionCount]) {
  double sum = 0;
  for (const Score& x : d) sum += x.score;
  return sum / kDimensionCount;
}

// Overall scores, reasons capped, entities from their streams.
void Finish(QualityReport& r) {
  std::map<std::pair<std::string, std::string>, EntityQuality> ents;
  for (StreamQuality& q : r.streams) {
    q.overall = Mean(q.dims);
    // A flood of one kind of finding (every sample of a long dropout) says no more than its count.
    for (Score& d : q.dims) {
      constexpr size_t kKeep = 5;
      if (d.reasons.size() > kKeep + 1) {
        const size_t more = d.reasons.size() - kKeep;
        d.reasons.resize(kKeep);
        d.reasons.push_back(fmt::format("and {} more", more));
      }
    }
    EntityQuality& e = ents[{q.series.key.entity, q.series.key.entity_id}];
    e.entity = q.series.key.entity;
    e.entity_id = q.series.key.entity_id;
    for (int d = 0; d < kDimensionCount; ++d) {
      e.dims[d].score = std::min(e.dims[d].score, q.dims[d].score);
      for (const std::string& why : q.dims[d].reasons) {
        e.dims[d].reasons.push_back(q.series.key.quantity + ": " + why);
      }
    }
  }
  for (auto& [key, e] : ents) {
    e.overall = Mean(e.dims);
    r.entities.push_back(std::move(e));
  }
}

}  // namespace

QualityReport AssessQuality(const std::vector<StreamInput>& streams,
                            const std::vector<Balance>& balances) {
  std::vector<Prepared> prep(streams.size());
  // Per source, entity kind and quantity: the times any stream changed value, for the stuck test.
  using Kin = std::tuple<std::string, std::string, std::string>;
  auto kin = [](const SeriesKey& k) { return Kin{k.source, k.entity, k.quantity}; };
  // A stream's own values are equal inside a stuck run, so every change counted inside one is a
  // sibling's: the kin's changes need not be kept per stream (a site has thousands of siblings).
  std::map<Kin, std::vector<int64_t>> changes;
  std::map<Kin, size_t> kin_size;
  for (size_t i = 0; i < streams.size(); ++i) {
    ++kin_size[kin(streams[i].series.key)];
    Prepared& p = prep[i];
    p.finite = Finite(streams[i].samples);
    p.scale = ScaleSteps(p.finite, streams[i].series, Clock{streams[i].window_start_ms},
                         p.scale_reasons, streams[i].previous, streams[i].previous_scale);
    p.value = Normalised(p.finite, p.scale);
    auto& c = changes[kin(streams[i].series.key)];
    for (size_t j = 1; j < p.finite.size(); ++j) {
      if (p.finite[j].value != p.finite[j - 1].value) c.push_back(p.finite[j].t_ms);
    }
  }
  for (auto& [k, c] : changes) std::sort(c.begin(), c.end());
  QualityReport r;
  for (size_t i = 0; i < streams.size(); ++i) {
    const StreamInput& in = streams[i];
    StreamQuality q;
    q.series = in.series;
    Timeliness(in, prep[i], q.dims[kTimeliness]);
    Completeness(in, q.dims[kCompleteness]);
    Consistency(in, prep[i], changes[kin(in.series.key)], kin_size[kin(in.series.key)] - 1,
                q.dims[kConsistency]);
    Accuracy(in, prep[i], q.dims[kAccuracy]);
    Resolution(in, prep[i], q.dims[kResolution]);
    r.streams.push_back(std::move(q));
  }
  // Physics: power against the energy counter of the same entity.
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> counters;
  for (size_t j = 0; j < streams.size(); ++j) {
    const SeriesKey& b = streams[j].series.key;
    if (b.quantity == "energy") counters[{b.entity, b.entity_id}].push_back(j);
  }
  for (size_t i = 0; i < streams.size(); ++i) {
    const SeriesKey& a = streams[i].series.key;
    if (a.quantity != "power") continue;
    for (size_t j : counters[{a.entity, a.entity_id}]) {
      std::string reason;
      const double s = PhysicsScore(prep[i], prep[j], streams[j].interval_s, reason);
      Score& acc = r.streams[i].dims[kAccuracy];
      if (s < acc.score) acc.score = s;
      if (!reason.empty()) acc.reasons.insert(acc.reasons.begin(), reason);
    }
  }
  for (const Balance& bal : balances) CheckBalance(bal, streams, prep, r);
  for (size_t i = 0; i < streams.size(); ++i) {
    StreamQuality& q = r.streams[i];
    const size_t n = prep[i].finite.size();
    q.weight[kTimeliness] = q.weight[kCompleteness] = Expected(streams[i]);
    q.weight[kConsistency] = q.weight[kAccuracy] = static_cast<double>(n);
    q.weight[kResolution] = 1;
    q.end_scale = n > 0 ? prep[i].scale.back() : streams[i].previous_scale;
    q.last = n > 0 ? std::optional<SamplePoint>(prep[i].finite.back()) : streams[i].previous;
  }
  Finish(r);
  return r;
}

std::vector<StreamInput> StreamsOf(Store& store) {
  std::map<std::string, StreamInput> per_source;  // the source's part of every input
  for (const SourceInfo& src : store.Sources()) {
    StreamInput base;
    base.interval_s = src.interval_s;
    const std::vector<ScrapeRecord> scrapes = store.Scrapes(src.name);
    double lag = 0;
    int ok = 0;
    for (const ScrapeRecord& s : scrapes) {
      if (s.ok) {
        lag += s.duration_ms;
        ++ok;
      }
    }
    if (!scrapes.empty()) {
      base.window_start_ms = scrapes.front().t_ms;
      base.window_end_ms = scrapes.back().t_ms;
    }
    base.lag_ms = ok ? lag / ok : 0;
    per_source[src.name] = base;
  }
  std::vector<StreamInput> out;
  for (const SeriesInfo& s : store.Series()) {
    // Ingest's GPU rollups are derived from streams scored on their own, not telemetry.
    if (s.key.source == kRollupSource) continue;
    StreamInput in = per_source[s.key.source];
    in.series = s;
    in.samples = store.Samples(s.id);
    if (in.window_end_ms == 0 && !in.samples.empty()) {
      in.window_start_ms = in.samples.front().t_ms;
      in.window_end_ms = in.samples.back().t_ms;
    }
    out.push_back(std::move(in));
  }
  return out;
}

namespace {
std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += fmt::format("{}{}", out.empty() ? "" : "; ", s);
  return out;
}
}  // namespace

std::vector<QualityWindowRecord> WindowRecords(const QualityReport& r, int64_t start_ms,
                                               int64_t end_ms) {
  std::vector<QualityWindowRecord> out;
  out.reserve(r.streams.size());
  for (const StreamQuality& q : r.streams) {
    QualityWindowRecord w;
    w.series = q.series.id;
    w.start_ms = start_ms;
    w.end_ms = end_ms;
    for (size_t d = 0; d < kDimensionCount; ++d) {
      w.score[d] = q.dims[d].score;
      w.weight[d] = q.weight[d];
      if (!q.dims[d].reasons.empty()) w.reasons[d] = nlohmann::json(q.dims[d].reasons).dump();
    }
    out.push_back(std::move(w));
  }
  return out;
}

void WindowSum::Add(const QualityWindowRecord& w, size_t max_reasons,
                    const std::function<std::string(const std::string& reason)>& label) {
  ++count;
  for (size_t d = 0; d < kDimensionCount; ++d) {
    weighted[d] += w.weight[d] * w.score[d];
    weight[d] += w.weight[d];
    plain[d] += w.score[d];
    if (w.reasons[d].empty() || reasons[d].size() >= max_reasons) continue;
    const nlohmann::json why = nlohmann::json::parse(w.reasons[d], nullptr, false);
    if (!why.is_array()) continue;
    for (const auto& x : why) {
      if (reasons[d].size() >= max_reasons) break;
      if (x.is_string()) reasons[d].push_back(label(x.get<std::string>()));
    }
  }
}

double WindowSum::Score(size_t d) const {
  return weight[d] > 0 ? weighted[d] / weight[d] : plain[d] / static_cast<double>(count);
}

void WindowMerge::Add(const QualityWindowRecord& w) {
  if (!origin_ms_) origin_ms_ = w.start_ms;
  // A few reasons per dimension are enough (Finish counts the rest as "and N more").
  sums_[w.series].Add(w, 65, [&](const std::string& why) {
    return fmt::format("window {}: {}", Clock{*origin_ms_}(w.start_ms), why);
  });
}

QualityReport WindowMerge::Report(const std::vector<SeriesInfo>& series) const {
  QualityReport r;
  for (const SeriesInfo& info : series) {
    auto it = sums_.find(info.id);
    if (it == sums_.end()) continue;
    StreamQuality q;
    q.series = info;
    const WindowSum& s = it->second;
    for (size_t d = 0; d < kDimensionCount; ++d) {
      q.weight[d] = s.weight[d];
      q.dims[d].score = s.Score(d);
      q.dims[d].reasons = s.reasons[d];
    }
    r.streams.push_back(std::move(q));
  }
  Finish(r);
  return r;
}

QualityReport MergeWindows(const std::vector<QualityWindowRecord>& windows,
                           const std::vector<SeriesInfo>& series) {
  std::vector<const QualityWindowRecord*> ordered;
  for (const QualityWindowRecord& w : windows) ordered.push_back(&w);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto* a, const auto* b) { return a->start_ms < b->start_ms; });
  WindowMerge m;
  for (const QualityWindowRecord* w : ordered) m.Add(*w);
  return m.Report(series);
}

std::vector<QualityRecord> QualityRecords(const QualityReport& r) {
  std::vector<QualityRecord> out;
  for (const StreamQuality& q : r.streams) {
    for (int d = 0; d < kDimensionCount; ++d) {
      out.push_back({"stream", q.series.key.entity, q.series.key.entity_id, q.series.key.quantity,
                     q.series.id, kDimensions[d], q.dims[d].score, Join(q.dims[d].reasons)});
    }
    out.push_back({"stream", q.series.key.entity, q.series.key.entity_id, q.series.key.quantity,
                   q.series.id, "overall", q.overall, ""});
  }
  for (const EntityQuality& e : r.entities) {
    for (int d = 0; d < kDimensionCount; ++d) {
      out.push_back({"entity", e.entity, e.entity_id, "", 0, kDimensions[d], e.dims[d].score,
                     Join(e.dims[d].reasons)});
    }
    out.push_back({"entity", e.entity, e.entity_id, "", 0, "overall", e.overall, ""});
  }
  return out;
}

nlohmann::json QualityJson(const QualityReport& r) {
  auto dims = [](const Score(&d)[kDimensionCount]) {
    nlohmann::json j = nlohmann::json::object();
    for (int i = 0; i < kDimensionCount; ++i) {
      j[kDimensions[i]] = {{"score", d[i].score}, {"reasons", d[i].reasons}};
    }
    return j;
  };
  nlohmann::json streams = nlohmann::json::array(), entities = nlohmann::json::array();
  for (const StreamQuality& q : r.streams) {
    streams.push_back({{"series", q.series.id},
                       {"entity", q.series.key.entity},
                       {"id", q.series.key.entity_id},
                       {"quantity", q.series.key.quantity},
                       {"unit", q.series.key.unit},
                       {"source", q.series.key.source},
                       {"metric", q.series.key.metric},
                       {"overall", q.overall},
                       {"dimensions", dims(q.dims)}});
  }
  for (const EntityQuality& e : r.entities) {
    entities.push_back({{"entity", e.entity},
                        {"id", e.entity_id},
                        {"overall", e.overall},
                        {"dimensions", dims(e.dims)}});
  }
  return {{"streams", streams}, {"entities", entities}};
}

std::string QualityText(const QualityReport& r) {
  std::string out = fmt::format("{:<34} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7}\n", "stream", "time",
                                "compl", "consis", "accur", "resol", "overall");
  for (const StreamQuality& q : r.streams) {
    out += fmt::format(
        "{:<34} {:6.3f} {:6.3f} {:6.3f} {:6.3f} {:6.3f} {:7.3f}\n",
        q.series.key.entity + " " + q.series.key.entity_id + " " + q.series.key.quantity,
        q.dims[0].score, q.dims[1].score, q.dims[2].score, q.dims[3].score, q.dims[4].score,
        q.overall);
    for (int d = 0; d < kDimensionCount; ++d) {
      // Resolution reasons repeat on every stream of a kind: the JSON keeps them all.
      if (d == kResolution) continue;
      for (const std::string& why : q.dims[d].reasons) {
        out += fmt::format("    {}: {}\n", kDimensions[d], why);
      }
    }
  }
  out += fmt::format("\n{:<34} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7}\n", "entity", "time", "compl",
                     "consis", "accur", "resol", "overall");
  for (const EntityQuality& e : r.entities) {
    out += fmt::format("{:<34} {:6.3f} {:6.3f} {:6.3f} {:6.3f} {:6.3f} {:7.3f}\n",
                       e.entity + " " + e.entity_id, e.dims[0].score, e.dims[1].score,
                       e.dims[2].score, e.dims[3].score, e.dims[4].score, e.overall);
  }
  return out;
}

}  // namespace firstwall::live
