// The search of `firstwall walls` (study/walls.h): a curve of runs along the axis, bisection per
// resource, the ranking and the next walls.
#include "study/walls.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

#include <fmt/format.h>

#include "report/simulate.h"
#include "study/point_runner.h"
#include "units/parse.h"

namespace firstwall::study {
namespace {

using scenario::Override;

constexpr const char* kScenarioLimit = "scenario limit";

// Runs points of one scenario variant (the user's scenario with some limits raised), each once.
class Evaluator {
 public:
  Evaluator(const ScenarioSource& source, const Grower& grower, const WallsOptions& options,
            std::vector<Override> raised, int* runs)
      : source_(source),
        grower_(grower),
        options_(options),
        raised_(std::move(raised)),
        runs_(runs) {}

  // Evaluates every x not yet run, on the options' threads; each point is an independent run.
  void Run(const std::vector<double>& xs) {
    std::vector<double> todo;
    for (double x : xs) {
      if (!points_.count(x) && std::find(todo.begin(), todo.end(), x) == todo.end()) {
        todo.push_back(x);
      }
    }
    // The shared point runner: its rows are unused, each run writes its own slot of `out`.
    std::vector<WallPoint> out(todo.size());
    std::vector<int64_t> ids(todo.size());
    std::iota(ids.begin(), ids.end(), int64_t{0});
    RunPointsOnThreads(
        ids, options_.threads,
        [&](int64_t i) {
          out[static_cast<size_t>(i)] = One(todo[static_cast<size_t>(i)]);
          return std::string();
        },
        [](int64_t, const std::string&) {});
    for (size_t i = 0; i < todo.size(); ++i) points_.emplace(todo[i], std::move(out[i]));
    *runs_ += static_cast<int>(todo.size());
    if (options_.progress) options_.progress(*runs_);
  }
  const WallPoint& At(double x) {
    if (!points_.count(x)) Run({x});
    return points_.at(x);
  }
  const std::map<double, WallPoint>& points() const { return points_; }
  const std::vector<Override>& raised() const { return raised_; }

 private:
  WallPoint One(double x) const {
    WallPoint p;
    p.x = x;
    if (options_.judge) {
      try {
        p.limits = options_.judge(x, raised_);
      } catch (const InputError& e) {  // the judge refuses the point, as the loader would
        p.ok = false;
        p.error = e.message();
      }
      return p;
    }
    std::vector<Override> o = grower_.At(x);
    o.insert(o.end(), raised_.begin(), raised_.end());
    scenario::Scenario sc;
    try {
      sc = scenario::LoadScenarioText(source_.text, source_.file, source_.base_dir, o);
    } catch (const InputError& e) {
      p.ok = false;
      p.error = e.message();
      return p;
    }
    const report::Summary s = report::Simulate(sc.site, sc.file);
    p.limits = Limits(s, sc.site, options_.limits);
    return p;
  }

  const ScenarioSource& source_;
  const Grower& grower_;
  const WallsOptions& options_;
  std::vector<Override> raised_;
  int* runs_;
  std::map<double, WallPoint> points_;
};

const Limit* Find(const WallPoint& p, const std::string& resource) {
  for (const Limit& l : p.limits) {
    if (l.resource == resource) return &l;
  }
  return nullptr;
}

// Whether `resource` binds at p; nullopt when p says nothing of it (the scenario was refused).
std::optional<bool> Binds(const WallPoint& p, const std::string& resource) {
  if (resource == kScenarioLimit) return !p.ok;
  if (!p.ok) return std::nullopt;
  const Limit* l = Find(p, resource);
  if (!l) return std::nullopt;
  return l->binds;
}

std::vector<double> Grid(const Grower& g, double from, double to, int steps) {
  std::vector<double> xs;
  for (int i = 0; i < steps; ++i) {
    const double x = g.Snap(steps == 1 ? from : from + (to - from) * i / (steps - 1));
    if (xs.empty() || x > xs.back()) xs.push_back(x);
  }
  return xs;
}

// One search along [from, to]: the walls found, ranked.
std::vector<Wall> Search(Evaluator& ev, const Grower& g, double from, double to,
                         const WallsOptions& o, double resolution) {
  const std::vector<double> xs = Grid(g, from, to, o.steps);
  ev.Run(xs);
  // Resources in the fixed order the limits come in, then the scenario limit.
  std::vector<std::string> names;
  bool refused = false;
  for (double x : xs) {
    const WallPoint& p = ev.At(x);
    refused |= !p.ok;
    for (const Limit& l : p.limits) {
      if (std::find(names.begin(), names.end(), l.resource) == names.end()) {
        names.push_back(l.resource);
      }
    }
  }
  if (refused) names.push_back(kScenarioLimit);

  struct Bracket {
    size_t wall;
    double lo, hi;
    std::vector<double> refused;  // points inside that say nothing of the resource
  };
  std::vector<Wall> walls;
  std::vector<Bracket> open;
  for (const std::string& r : names) {
    Wall w;
    w.resource = r;
    // Points that say nothing of the resource (the loader refused them, or the resource is not
    // there yet, like a third fabric tier) are passed over, not taken for the end of the axis: a
    // refusal from rounding at one scale says nothing of the next.
    std::vector<size_t> known;
    std::vector<bool> bound;
    for (size_t i = 0; i < xs.size(); ++i) {
      if (const std::optional<bool> b = Binds(ev.At(xs[i]), r)) {
        known.push_back(i);
        bound.push_back(*b);
      }
    }
    if (known.empty()) continue;
    std::optional<size_t> first;  // index into known
    for (size_t k = 0; k < known.size(); ++k) {
      if (bound[k] && !first) first = k;
      if (bound[k] || !first || !w.monotone || !w.note.empty()) continue;
      // Bound from the start and holding from here on (a growing rating) is one crossing.
      bool stays = *first == 0;
      for (size_t m = k + 1; stays && m < known.size(); ++m) stays = !bound[m];
      if (stays) {
        w.note = fmt::format("holds from {} on", g.Format(xs[known[k]]));
      } else {
        w.monotone = false;
        w.note = fmt::format("not monotone: binds at {}, holds again at {}",
                             g.Format(xs[known[*first]]), g.Format(xs[known[k]]));
      }
    }
    const double last_known = xs[known.back()];
    // The limit as it is where the resource binds (an axis may be the rating itself).
    const WallPoint& end = ev.At(first ? xs[known[*first]] : last_known);
    if (const Limit* l = Find(end, r)) {
      w.kind = l->kind, w.metric = l->metric, w.unit = l->unit, w.limit = l->limit;
      const Limit* at_end = Find(ev.At(last_known), r);
      w.utilization_at_end = (at_end ? at_end : l)->utilization;
      w.end_at = last_known;
      w.raise_key = l->raise_key;
    }
    if (r == kScenarioLimit) {
      w.kind = "scenario", w.metric = "the loader refuses the scenario", w.unit = "";
    }
    if (first) {
      w.binds = true;
      w.binds_at = xs[known[*first]];
      w.at_start = known[*first] == 0;
      // The last point where it held; for a resource that binds where it first appears, the point
      // before, where it was not there yet.
      w.holds_at = w.at_start ? xs[0] : *first > 0 ? xs[known[*first - 1]] : xs[known[*first] - 1];
      if (!w.at_start && *first > 0) {
        Bracket b{walls.size(), w.holds_at, w.binds_at, {}};
        // Grid points between that said nothing are known not to help.
        for (size_t i = known[*first - 1] + 1; i < known[*first]; ++i) b.refused.push_back(xs[i]);
        open.push_back(std::move(b));
      }
    }
    walls.push_back(std::move(w));
  }

  // Bisect every bracket, one round of midpoints at a time (run together on the threads). A
  // midpoint that says nothing of the resource is set aside and the nearest other point of the
  // bracket tried in the next round.
  const auto probe = [&](const Bracket& b) -> std::optional<double> {
    if (b.hi - b.lo <= resolution * (1 + 1e-9)) return std::nullopt;
    const double mid = 0.5 * (b.lo + b.hi);
    // Axes that snap (resolution 0) step by a 64th of the bracket and snap to their neighbours.
    const double nudge = resolution > 0 ? resolution : (b.hi - b.lo) / 64;
    for (int k = 0; k <= 64; ++k) {
      for (const double x : {g.Snap(mid + k * nudge), g.Snap(mid - k * nudge)}) {
        if (x <= b.lo || x >= b.hi) continue;
        if (std::find(b.refused.begin(), b.refused.end(), x) == b.refused.end()) return x;
      }
    }
    return std::nullopt;
  };
  for (int round = 0; round < 40 && !open.empty(); ++round) {
    std::vector<double> mids;
    std::vector<Bracket> next;
    for (Bracket& b : open) {
      if (const std::optional<double> x = probe(b)) {
        mids.push_back(*x);
        next.push_back(std::move(b));
      }
    }
    ev.Run(mids);
    open.clear();
    for (size_t k = 0; k < next.size(); ++k) {
      Bracket b = std::move(next[k]);
      const std::optional<bool> binds = Binds(ev.At(mids[k]), walls[b.wall].resource);
      if (!binds) {
        b.refused.push_back(mids[k]);
      } else if (*binds) {
        b.hi = mids[k];
      } else {
        b.lo = mids[k];
      }
      walls[b.wall].binds_at = b.hi;
      walls[b.wall].holds_at = b.lo;
      open.push_back(std::move(b));
    }
  }
  for (Wall& w : walls) {
    if (!w.binds) continue;
    const WallPoint& p = ev.At(w.binds_at);
    for (const Limit& l : p.limits) {
      if (l.resource != w.resource) w.headroom.emplace_back(l.resource, l.headroom());
    }
    if (w.resource == kScenarioLimit) {
      w.note = p.error;
    } else if (const Limit* l = Find(p, w.resource); l && !l->because.empty()) {
      w.note = w.note.empty() ? l->because : l->because + "; " + w.note;
    }
  }
  std::stable_sort(walls.begin(), walls.end(), [](const Wall& a, const Wall& b) {
    if (a.binds != b.binds) return a.binds;
    if (a.binds) return a.binds_at < b.binds_at;
    return a.utilization_at_end > b.utilization_at_end;
  });
  return walls;
}

}  // namespace

std::pair<double, double> AxisEnds(const Grower& grower, const WallsOptions& o,
                                   const SourceLocation& where) {
  const auto at = [&](const SourceLocation& l) { return l.file.empty() ? where : l; };
  // Defaults: from the scenario's own value to four times it (outdoors: 25 K hotter).
  const bool outdoors = grower.axis().kind == AxisKind::kOutdoorTemperature;
  const auto [lo, hi] = grower.Bounds();
  const double from_raw = o.from.value_or(grower.base());
  const double to_raw =
      o.to.value_or(outdoors ? std::min(hi, grower.base() + 25) : 4 * grower.base());
  for (const auto& [name, v, place] : {std::tuple(o.from_name, from_raw, at(o.from_at)),
                                       std::tuple(o.to_name, to_raw, at(o.to_at))}) {
    if (!std::isfinite(v) || v < lo || v > hi) {
      throw InputError(
          place,
          fmt::format("{} is {}, outside what the axis {} can take", name, grower.Format(v),
                      grower.axis().name),
          fmt::format("give a value from {} to {}", grower.Format(lo), grower.Format(hi)));
    }
  }
  const double from = grower.Snap(from_raw);
  const double to = grower.Snap(to_raw);
  if (!(to > from)) {
    throw InputError(at(o.to_at),
                     fmt::format("the axis runs from {} to {}: nothing to grow",
                                 grower.Format(from), grower.Format(to)),
                     fmt::format("give {} above {} (GPU and IT power axes move in whole racks)",
                                 o.to_name, o.from_name));
  }
  if (o.steps < 2 || o.steps > 1000) {
    throw InputError(at(o.steps_at),
                     fmt::format("{} is {}: expected 2 to 1000", o.steps_name, o.steps));
  }
  return {from, to};
}

WallsResult FindWalls(const ScenarioSource& source, const Grower& grower, const WallsOptions& o,
                      const SourceLocation& where) {
  WallsResult r;
  r.axis = grower.axis();
  r.base = grower.base();
  const auto [from, to] = AxisEnds(grower, o, where);
  r.from = from, r.to = to;
  // Axes that snap (whole racks, a job's replicas, integer keys) bisect down to neighbours.
  const bool snaps = grower.axis().integer || grower.axis().kind == AxisKind::kItPower;
  const double resolution = o.resolution.value_or(snaps ? 0.0 : (to - from) / (o.steps - 1) / 16);

  Evaluator ev(source, grower, o, {}, &r.runs);
  // The scenario must load at the start of the axis: a refusal there is the user's input.
  {
    std::vector<Override> first = grower.At(from);
    (void)scenario::LoadScenarioText(source.text, source.file, source.base_dir, first);
  }
  r.walls = Search(ev, grower, from, to, o, resolution);
  for (const auto& [x, p] : ev.points()) r.curve.push_back(p);

  if (!r.walls.empty() && r.walls.front().binds) {
    const WallPoint& at = ev.At(r.walls.front().binds_at);
    for (const Limit& l : at.limits) r.headroom.emplace_back(l.resource, l.headroom());
  }

  // Next walls: raise the first wall's limit and search again from where it bound.
  std::vector<Override> raised;
  std::optional<Wall> current;
  if (!r.walls.empty() && r.walls.front().binds) current = r.walls.front();
  for (int k = 0; k < o.next_walls && current; ++k) {
    NextWall n;
    n.raised = current->resource;
    n.raise_key = current->raise_key;
    n.from = current->binds_at;
    n.unit = current->unit;
    if (current->raise_key.empty()) {
      n.stop = current->resource + " has no rating key to raise";
      r.next_walls.push_back(std::move(n));
      break;
    }
    std::vector<Override> applied = grower.At(current->binds_at);
    applied.insert(applied.end(), raised.begin(), raised.end());
    const scenario::KeyValue kv =
        scenario::ReadKey(source.text, source.file, current->raise_key, where, applied);
    if (!kv.number || *kv.number <= 0) {
      n.stop = current->resource + " has no value to raise at " + current->raise_key;
      r.next_walls.push_back(std::move(n));
      break;
    }
    const double value = *kv.number * (1 + o.raise);
    n.raised_to = current->limit * (1 + o.raise);
    raised.push_back({current->raise_key, scenario::FormatValue(*kv.spec, value), where});
    Evaluator next(source, grower, o, raised, &r.runs);
    const double start = current->binds_at;
    if (!(to > start)) break;
    const std::vector<Wall> walls = Search(next, grower, start, to, o, resolution);
    current.reset();
    if (!walls.empty() && walls.front().binds) {
      current = walls.front();
      n.next = current;
      n.gain = current->binds_at - start;
    } else {
      n.stop = "no further wall up to " + grower.Format(to);
    }
    r.next_walls.push_back(std::move(n));
  }
  return r;
}

HoursResult WallsInTime(const ScenarioSource& source) {
  const scenario::Scenario sc =
      scenario::LoadScenarioText(source.text, source.file, source.base_dir, source.overrides);
  const site::SiteConfig& cfg = sc.site;
  HoursResult h;
  // Ratings of what varies within a run, in a fixed order.
  struct Rated {
    std::string name;
    double rating = 0;
    std::function<double(const report::TickRow&)> load;
  };
  std::vector<Rated> rated;
  rated.push_back({"fabric (scale-out)", 1.0,
                   [](const report::TickRow& r) { return r.fabric_peak_utilization; }});
  if (ToWatts(cfg.cluster.rack_power_limit) > 0) {
    rated.push_back({"rack power", ToWatts(cfg.cluster.rack_power_limit),
                     [](const report::TickRow& r) { return r.peak_rack_w; }});
  }
  for (size_t i = 0; i < cfg.facility.power_chain.size(); ++i) {
    const auto& st = cfg.facility.power_chain[i];
    if (ToWatts(st.rating) <= 0) continue;
    rated.push_back({st.name, ToWatts(st.rating), [i](const report::TickRow& r) {
                       return i < r.stage_unit_peak_w.size() ? r.stage_unit_peak_w[i] : 0.0;
                     }});
  }
  if (ToWatts(cfg.facility.grid_import_limit) > 0) {
    rated.push_back({"grid connection", ToWatts(cfg.facility.grid_import_limit),
                     [](const report::TickRow& r) { return r.grid_w; }});
  }
  const double capacity = ToWatts(cfg.facility.cooling.capacity);
  if (capacity > 0) {
    // Heat against the plant's capacity; any unmet heat binds it whatever the ratio.
    rated.push_back({"cooling plant", capacity, [capacity](const report::TickRow& r) {
                       return r.unmet_w > 0 ? std::max(r.heat_w, capacity) : r.heat_w;
                     }});
  }
  if (const double cdu = ToWatts(cfg.facility.cooling.cdu_capacity); cdu > 0) {
    rated.push_back({"CDU", cdu, [](const report::TickRow& r) { return r.peak_cdu_w; }});
  }
  for (const Rated& r : rated) h.resources.push_back(r.name);
  h.first_hours.assign(rated.size(), 0);
  h.bound_hours.assign(rated.size(), 0);

  std::map<int64_t, std::vector<double>> peak;  // hour -> peak utilization per resource
  report::SimulateOptions opt;
  const double tick_s = cfg.tick.seconds();
  opt.on_tick = [&](const report::TickRow& row, int64_t n) {
    const double t0 = row.start.seconds();
    const int64_t h0 = static_cast<int64_t>(std::floor(t0 / 3600));
    const int64_t h1 =
        static_cast<int64_t>(std::floor((t0 + static_cast<double>(n) * tick_s - 1e-9) / 3600));
    for (int64_t hour = h0; hour <= h1; ++hour) {
      std::vector<double>& v = peak[hour];
      v.resize(rated.size(), 0.0);
      for (size_t i = 0; i < rated.size(); ++i) {
        v[i] = std::max(v[i], rated[i].load(row) / rated[i].rating);
      }
    }
  };
  report::Simulate(cfg, sc.file, opt);
  for (const auto& [hour, v] : peak) {
    HourWall w;
    w.hour = hour;
    size_t best = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] > v[best]) best = i;
      if (v[i] >= 1.0) ++h.bound_hours[i];
    }
    if (!v.empty()) {
      w.first = rated[best].name;
      w.utilization = v[best];
      ++h.first_hours[best];
    }
    w.per_resource = v;
    h.hours.push_back(std::move(w));
  }
  return h;
}

}  // namespace firstwall::study
