#include "study/sweep.h"
#include "study/sweep_results.h"
#include "study/walls.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/text_input.h"
#include "scenario/reader.h"
#include "study/point_runner.h"

namespace firstwall::study {
namespace {

using scenario::KeySpec;
using scenario::ValueType;

// Points a sweep may hold: beyond this a typo (a step of 1 W over megawatts) rather than a plan.
constexpr int64_t kMaxPoints = 10'000'000;

bool Numeric(const KeySpec& spec) {
  return spec.type == ValueType::kInt || spec.type == ValueType::kNumber ||
         spec.type == ValueType::kFraction || spec.type == ValueType::kQuantity;
}

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::string HowWritten(const KeySpec& spec) {
  if (spec.type == ValueType::kQuantity) {
    return fmt::format("a {} with its unit", units::DimensionName(spec.dim));
  }
  if (spec.type == ValueType::kFraction) return "a fraction (0.96 or 96 %)";
  if (spec.type == ValueType::kInt) return "a whole number";
  return "a number";
}

// `text` as a number of `key`, within its declared range; InputError at `where` otherwise.
double NumberIn(const KeySpec& spec, const std::string& key, const std::string& text,
                const SourceLocation& where) {
  const std::optional<double> v = scenario::NumberOf(spec, text);
  if (!v) {
    throw InputError(where, fmt::format("'{}' is not a value of '{}'", text, key),
                     "expected " + HowWritten(spec));
  }
  // Formatting would round it to a value the file does not say.
  if (spec.type == ValueType::kInt && *v != std::round(*v)) {
    throw InputError(where, fmt::format("'{}' takes whole numbers, not {}", key, text));
  }
  const auto lo = scenario::MinOf(spec), hi = scenario::MaxOf(spec);
  if ((lo && *v < *lo) || (hi && *v > *hi)) {
    throw InputError(where, fmt::format("'{}' is {}, out of range: expected between {} and {}", key,
                                        text, spec.min_text.empty() ? "-inf" : spec.min_text,
                                        spec.max_text.empty() ? "inf" : spec.max_text));
  }
  return *v;
}

// A range's step: a difference of the key's values, so not held to the key's bounds; for a
// temperature a difference in K (5 K, not 5 C, which is 278.15 K).
double StepIn(const KeySpec& spec, const std::string& key, const std::string& text,
              const SourceLocation& where) {
  if (spec.type == scenario::ValueType::kQuantity && spec.dim == units::Dimension::kTemperature) {
    try {
      return units::ParseBase(text, units::Dimension::kTemperatureDifference);
    } catch (const units::UnitParseError& e) {
      throw InputError(
          where, fmt::format("'{}' is not a temperature step of '{}': {}", text, key, e.what()),
          "write a step of temperature in K, e.g. 5 K");
    }
  }
  const std::optional<double> v = scenario::NumberOf(spec, text);
  if (!v) {
    throw InputError(where, fmt::format("'{}' is not a step of '{}'", text, key),
                     "expected " + HowWritten(spec));
  }
  return *v;
}

const KeySpec& NumericKey(const std::string& scenario_text, const std::string& scenario_file,
                          const std::string& key, const SourceLocation& where,
                          const std::string& what) {
  const KeySpec& spec = *scenario::ReadKey(scenario_text, scenario_file, key, where).spec;
  if (!Numeric(spec)) {
    throw InputError(where, fmt::format("'{}' is not numeric: it cannot have {}", key, what),
                     "give its values as a list: values: [...]");
  }
  return spec;
}

// The value of unit coordinate `u` in [0, 1) on an axis.
std::string ValueAt(const VariedKey& a, double u) {
  if (!a.continuous) {
    const size_t n = a.values.size();
    return a.values[std::min(n - 1, static_cast<size_t>(u * static_cast<double>(n)))];
  }
  const double v = a.log ? a.from * std::pow(a.to / a.from, u) : a.from + u * (a.to - a.from);
  return scenario::FormatValue(*a.spec, v);
}

// How many values a range of a grid or zip gives, from its text alone: what the sweep's points
// are counted with before any value is made. Throws InputError for what ReadRange refuses.
double RangeCount(const scenario::Section& r, const KeySpec& spec, const std::string& key) {
  if (r.Has("steps") || !r.Has("step")) return r.Has("steps") ? r.Int("steps") : 1;
  const double from = NumberIn(spec, key, r.String("from"), r.ValueAt("from"));
  const double to = NumberIn(spec, key, r.String("to"), r.ValueAt("to"));
  const double step = StepIn(spec, key, r.String("step"), r.ValueAt("step"));
  if (!(step > 0)) r.Fail("step", fmt::format("'{}' must be above zero", r.Name("step")));
  return std::floor(std::abs(to - from) / step * (1 + 1e-12)) + 1;
}

void ReadRange(const scenario::Section& r, VariedKey& a, Design design) {
  const SourceLocation from_at = r.ValueAt("from"), to_at = r.ValueAt("to");
  a.from = NumberIn(*a.spec, a.key, r.String("from"), from_at);
  a.to = NumberIn(*a.spec, a.key, r.String("to"), to_at);
  a.log = r.Bool("log");
  if (a.log && (a.from <= 0 || a.to <= 0)) {
    r.Fail("log", fmt::format("a log range needs 'from' and 'to' above zero for '{}'", a.key));
  }
  const bool sampled = design == Design::kLatinHypercube || design == Design::kRandom;
  if (sampled) {
    for (const char* k : {"steps", "step"}) {
      if (r.Has(k)) {
        r.Fail(k,
               fmt::format("'{}' has no meaning under design {}: samples are drawn from the "
                           "whole interval",
                           r.Name(k), design == Design::kRandom ? "random" : "latin_hypercube"),
               "remove it, or use design grid or zip for evenly spaced values");
      }
    }
    if (a.from == a.to) r.Fail("to", "the range is empty: 'from' equals 'to'");
    a.continuous = true;
    return;
  }
  if (r.Has("steps") == r.Has("step")) {
    throw InputError(r.where(),
                     fmt::format("give one of 'steps' and 'step' in '{}'", r.display_prefix()),
                     "steps: 5 gives 5 values from 'from' to 'to' inclusive; step: 250 kW gives "
                     "from, from + 250 kW, ... up to 'to'");
  }
  std::vector<double> v;
  if (r.Has("steps")) {
    const int n = r.Int("steps");
    for (int i = 0; i < n; ++i) {
      const double f = static_cast<double>(i) / (n - 1);
      v.push_back(a.log ? a.from * std::pow(a.to / a.from, f) : a.from + f * (a.to - a.from));
    }
    v.back() = a.to;  // exactly as written, not as the arithmetic left it
  } else {
    if (a.log) r.Fail("step", "a log range takes 'steps', not a 'step' (a step adds)");
    const double step = StepIn(*a.spec, a.key, r.String("step"), r.ValueAt("step"));
    const double count = RangeCount(r, *a.spec, a.key);  // counted and checked before
    const double dir = a.to >= a.from ? 1 : -1;
    for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) {
      v.push_back(a.from + dir * step * static_cast<double>(i));
    }
  }
  for (double x : v) {
    // A whole-number key takes whole values only: rounding would run another design than the
    // file says (10 to 12 in 4 steps is 10, 10.67, ...).
    if (a.spec->type == ValueType::kInt && std::abs(x - std::round(x)) > 1e-9 * std::abs(x)) {
      throw InputError(
          a.where,
          fmt::format("the range of '{}' gives {}, and '{}' takes whole numbers", a.key,
                      units::ShortestDouble(x), a.key),
          "choose 'steps' so that (to - from) / (steps - 1) is whole, or a whole 'step'");
    }
    a.values.push_back(scenario::FormatValue(*a.spec, x));
    a.value_at.push_back(a.where);
  }
  // Whole-number keys: a step below 1 formats two values alike.
  for (size_t i = 1; i < a.values.size(); ++i) {
    if (a.values[i] == a.values[i - 1]) {
      throw InputError(a.where,
                       fmt::format("the range of '{}' gives '{}' twice", a.key, a.values[i]),
                       "use fewer steps or a larger step");
    }
  }
}

std::string AxisColumnSuffix(const Axis& axis, const ScenarioSource& base,
                             const SourceLocation& where) {
  switch (axis.kind) {
    case AxisKind::kGpus:
    case AxisKind::kJobSize:
      return "_gpus";
    case AxisKind::kItPower:
      return "_mw";
    case AxisKind::kServiceRate:
      return "_req_per_s";
    case AxisKind::kOutdoorTemperature:
      return "_c";
    case AxisKind::kKey:
      break;
  }
  const KeySpec& spec =
      *scenario::ReadKey(base.text, base.file, axis.target, where, base.overrides).spec;
  return InputColumn(spec, "");
}

uint64_t ReplicaSeed(uint64_t seed, int replica) {
  // 53 bits: simulation.seed is declared up to 2^53, so every seed is exact in a double too.
  return RngStream(seed, fmt::format("sweep replica {}", replica)).NextU64() >> 11;
}

}  // namespace

double Distribution::Draw(RngStream& rng) const {
  for (int attempt = 0; attempt < 10000; ++attempt) {
    double x = 0;
    switch (kind) {
      case Kind::kNormal:
        x = rng.Normal(a, b);
        break;
      case Kind::kUniform:
        x = a + rng.Uniform() * (b - a);
        break;
      case Kind::kTriangular: {
        const double u = rng.Uniform();
        const double f = (b - a) / (c - a);
        x = u < f ? a + std::sqrt(u * (c - a) * (b - a))
                  : c - std::sqrt((1 - u) * (c - a) * (c - b));
        break;
      }
    }
    if (x >= lo && x <= hi) return x;
  }
  // The mean is checked to lie within [lo, hi], so at least a fraction of the normal's mass does.
  FW_CHECK(false, "no draw within the key's range in 10,000 attempts");
}

Distribution ParseDistribution(const std::string& text, const KeySpec& spec, const std::string& key,
                               const SourceLocation& where) {
  if (spec.type == ValueType::kInt) {
    // Its draws would be rounded: another distribution than the one written.
    throw InputError(
        where, fmt::format("'{}' takes whole numbers, and a distribution draws fractions", key),
        "vary it with values: [...] instead (with replicas for the seeds)");
  }
  Distribution d;
  if (const auto lo = scenario::MinOf(spec)) d.lo = *lo;
  if (const auto hi = scenario::MaxOf(spec)) d.hi = *hi;
  const std::string hint =
      "write '700 W ± 5%', '700 W ± 50 W', 'uniform(650 W, 750 W)' or "
      "'triangular(650 W, 700 W, 750 W)'";
  auto number = [&](const std::string& t) { return NumberIn(spec, key, Trim(t), where); };
  const std::string t = Trim(text);
  for (const auto& [name, kind, args] :
       {std::tuple{"uniform", Distribution::Kind::kUniform, 2},
        std::tuple{"triangular", Distribution::Kind::kTriangular, 3}}) {
    const std::string open = std::string(name) + "(";
    if (!t.starts_with(open)) continue;
    if (!t.ends_with(")")) throw InputError(where, "'" + t + "' lacks its closing ')'", hint);
    std::vector<std::string> parts;
    std::string inner = t.substr(open.size(), t.size() - open.size() - 1);
    size_t start = 0;
    for (size_t comma; (comma = inner.find(',', start)) != std::string::npos; start = comma + 1) {
      parts.push_back(inner.substr(start, comma - start));
    }
    parts.push_back(inner.substr(start));
    if (static_cast<int>(parts.size()) != args) {
      throw InputError(where, fmt::format("{} takes {} values, got {}", name, args, parts.size()),
                       hint);
    }
    d.kind = kind;
    d.a = number(parts[0]);
    d.b = number(parts[1]);
    if (args == 3) d.c = number(parts[2]);
    const bool ordered = args == 2 ? d.a < d.b : (d.a <= d.b && d.b <= d.c && d.a < d.c);
    if (!ordered) {
      throw InputError(where,
                       args == 2 ? "uniform(low, high) needs low below high"
                                 : "triangular(low, mode, high) needs low <= mode <= high, "
                                   "low below high",
                       hint);
    }
    return d;
  }
  size_t pm = std::string::npos, len = 0;
  for (const char* sep : {"±", "+/-", "+-"}) {
    if ((pm = t.find(sep)) != std::string::npos) {
      len = std::string_view(sep).size();
      break;
    }
  }
  if (pm == std::string::npos) {
    throw InputError(where, "'" + t + "' is not a distribution", hint);
  }
  d.kind = Distribution::Kind::kNormal;
  d.a = number(t.substr(0, pm));
  std::string spread = Trim(t.substr(pm + len));
  const std::string after_pm =
      "expected a spread of 0 % or more after ±, or a standard deviation "
      "of 0 or more in the key's unit ('700 W ± 5%', '700 W ± 50 W')";
  if (spread.ends_with("%")) {
    const std::string digits = Trim(spread.substr(0, spread.size() - 1));
    const auto v = text::FiniteNumber(digits);
    if (!v) throw InputError(where, "'" + spread + "' is not a percentage", after_pm);
    if (*v < 0) throw InputError(where, fmt::format("'{}' is a negative spread", spread), after_pm);
    d.b = std::abs(d.a) * *v / 100;
  } else {
    const std::optional<double> sd = scenario::NumberOf(spec, spread);
    if (!sd) {
      throw InputError(where, fmt::format("'{}' is not a spread of '{}'", spread, key),
                       "expected " + HowWritten(spec) + ", or a percentage of the centre");
    }
    if (*sd < 0)
      throw InputError(where, fmt::format("'{}' is a negative spread", spread), after_pm);
    d.b = *sd;
  }
  // Draws outside the key's range are drawn again; a normal with almost all of its mass outside
  // (a spread of 1e300 W on a power of at most 50 kW) would never end.
  auto cdf = [&](double x) { return 0.5 * std::erfc(-(x - d.a) / (d.b * std::sqrt(2.0))); };
  if (d.b > 0 && cdf(d.hi) - cdf(d.lo) < 0.01) {
    throw InputError(
        where, fmt::format("'{}' puts less than 1 % of its draws within the range of '{}'", t, key),
        fmt::format("'{}' lies between {} and {}; give a smaller spread", key,
                    spec.min_text.empty() ? "-inf" : spec.min_text,
                    spec.max_text.empty() ? "inf" : spec.max_text));
  }
  return d;
}

std::vector<std::vector<double>> UnitSamples(Design design, int64_t samples, size_t dims,
                                             uint64_t seed) {
  const auto n = static_cast<size_t>(samples);
  std::vector<std::vector<double>> u(n, std::vector<double>(dims));
  for (size_t j = 0; j < dims; ++j) {
    if (design == Design::kLatinHypercube) {
      RngStream rng(seed, fmt::format("sweep latin_hypercube {}", j));
      std::vector<size_t> strata(n);
      std::iota(strata.begin(), strata.end(), size_t{0});
      for (size_t i = n; i > 1; --i) {  // Fisher-Yates
        std::swap(strata[i - 1], strata[static_cast<size_t>(rng.NextU64() % i)]);
      }
      for (size_t i = 0; i < n; ++i) {
        u[i][j] = (static_cast<double>(strata[i]) + rng.Uniform()) / static_cast<double>(n);
      }
    } else {
      RngStream rng(seed, fmt::format("sweep random {}", j));
      for (size_t i = 0; i < n; ++i) u[i][j] = rng.Uniform();
    }
  }
  return u;
}

int64_t Sweep::design_points() const {
  switch (design) {
    case Design::kGrid: {
      int64_t n = 1;
      for (const VariedKey& a : vary) n *= static_cast<int64_t>(a.values.size());
      return n;
    }
    case Design::kZip:
      return vary.empty() ? 1 : static_cast<int64_t>(vary.front().values.size());
    default:
      return samples;
  }
}

Sweep ReadSweepText(const std::string& text, const std::string& file, const std::string& base_dir) {
  using scenario::Section;
  const scenario::Document doc = scenario::Document::Parse(
      text, file, "a sweep file starts with 'firstwall_sweep: 1'; see docs/sweep.md");
  const Section root(doc, scenario::SweepSchema(), doc.root(), "", "", doc.At(doc.root()));
  Sweep s;
  s.file = file;
  (void)root.Int("firstwall_sweep");
  if (root.Has("scenario")) {
    s.scenario_file = root.File("scenario", base_dir);
    s.scenario_text = scenario::ReadScenarioFile(s.scenario_file);
    s.scenario_dir = std::filesystem::path(s.scenario_file).parent_path().string();
  } else {
    s.scenario_file = scenario::kDefaultScenarioName;
    s.scenario_text = scenario::DefaultScenarioText();
    s.scenario_dir = scenario::kBuiltinDir;
  }
  s.seed = static_cast<uint64_t>(root.Int64("seed"));
  const std::string design = root.Enum("design");
  s.design = design == "grid"              ? Design::kGrid
             : design == "zip"             ? Design::kZip
             : design == "latin_hypercube" ? Design::kLatinHypercube
                                           : Design::kRandom;
  const bool sampled = s.design == Design::kLatinHypercube || s.design == Design::kRandom;
  if (sampled != root.Has("samples")) {
    root.Fail(sampled ? "design" : "samples",
              sampled ? "design " + design + " needs 'samples': how many points to draw"
                      : "'samples' has no meaning under design " + design +
                            ": its points are the values given",
              sampled ? "add e.g. samples: 20" : "remove it, or use latin_hypercube or random");
  }
  if (sampled) s.samples = root.Int("samples");
  s.replicas = root.Int("replicas");

  std::vector<std::pair<std::string, SourceLocation>> named;  // every key the file changes
  auto once = [&](const std::string& key, const SourceLocation& where) {
    for (const auto& [k, at] : named) {
      if (k == key) {
        throw InputError(where, fmt::format("'{}' is changed twice by the sweep", key),
                         "it is already set at " + at.ToString());
      }
    }
    named.emplace_back(key, where);
    if (key == "simulation.seed") s.seed_given = true;
  };
  auto spec_of = [&](const std::string& key, const SourceLocation& where) {
    return scenario::ReadKey(s.scenario_text, s.scenario_file, key, where).spec;
  };

  for (const Section::Entry& e : root.StringEntries("set")) {
    (void)spec_of(e.key, e.at);
    once(e.key, e.at);
    s.set.push_back({e.key, e.text, e.at});
  }
  const std::vector<Section> vary = root.List("vary");
  const YAML::Node top = doc.root();
  if (vary.empty() && top["vary"].IsDefined()) {  // `vary: []`, or `vary:` with nothing under it
    throw InputError(root.KeyAt("vary"), "'vary' names no key",
                     "list the keys to vary (- key: cluster.nodes), or leave 'vary' out for a "
                     "sweep of replicas or uncertain inputs only");
  }
  // Points, counted before any value is made, so that a grid of 10^12 points is refused at once,
  // at the key that takes it past the limit. A key this count cannot read is left to the loop
  // below, which reports the file's errors in order.
  if (!sampled) {
    double count = static_cast<double>(s.replicas);
    for (const Section& v : vary) {
      double n = 0;
      std::optional<Section> range;
      try {
        if (v.Has("values")) {
          n = static_cast<double>(v.Texts("values").size());
        } else if (v.Has("range")) {
          range = v.Sub("range");
          const std::string key = v.String("key");
          n = RangeCount(*range, *spec_of(key, v.ValueAt("key")), key);
        }
      } catch (const InputError&) {
        break;
      }
      count = s.design == Design::kZip ? static_cast<double>(s.replicas) * n : count * n;
      if (count > static_cast<double>(kMaxPoints)) {
        const std::string what = fmt::format("the sweep would have {:.0f} points", count);
        const std::string hint = "a sweep holds at most 10,000,000 points; use fewer values";
        if (!range) v.Fail("values", what, hint);
        range->Fail(range->Has("steps") ? "steps" : "step", what, hint);
      }
    }
  }
  for (const Section& v : vary) {
    VariedKey a;
    a.key = v.String("key");
    const SourceLocation key_at = v.ValueAt("key");
    if (v.Has("values") == v.Has("range")) {
      throw InputError(v.where(), fmt::format("give one of 'values' and 'range' for '{}'", a.key),
                       "values: [64, 96, 128], or range: {from: 1 MW, to: 2 MW, steps: 5}");
    }
    if (v.Has("values")) {
      a.spec = spec_of(a.key, key_at);
      a.where = v.ValueAt("values");
      a.values = v.Texts("values");
      if (a.values.empty())
        v.Fail("values", fmt::format("'{}' is an empty list", v.Name("values")));
      for (size_t i = 0; i < a.values.size(); ++i) {
        a.value_at.push_back(v.ItemAt("values", i));
        if (Numeric(*a.spec)) (void)NumberIn(*a.spec, a.key, a.values[i], a.value_at.back());
      }
    } else {
      a.spec = &NumericKey(s.scenario_text, s.scenario_file, a.key, key_at, "a range");
      a.where = v.ValueAt("range");
      ReadRange(v.Sub("range"), a, s.design);
    }
    once(a.key, key_at);
    s.vary.push_back(std::move(a));
  }
  if (s.design == Design::kZip) {
    for (size_t i = 1; i < s.vary.size(); ++i) {
      if (s.vary[i].values.size() != s.vary[0].values.size()) {
        throw InputError(s.vary[i].where,
                         fmt::format("design zip needs as many values of '{}' ({}) as of '{}' ({})",
                                     s.vary[i].key, s.vary[i].values.size(), s.vary[0].key,
                                     s.vary[0].values.size()),
                         "zip takes the i-th value of every key together; grid combines them all");
      }
    }
  }
  // Points, counted without overflow.
  double count = static_cast<double>(s.replicas);
  if (s.design == Design::kGrid) {
    for (const VariedKey& a : s.vary) count *= static_cast<double>(a.values.size());
  } else {
    count *= static_cast<double>(s.design_points());
  }
  if (count > static_cast<double>(kMaxPoints)) {
    throw InputError(root.KeyAt(s.vary.empty() ? "replicas" : "vary"),
                     fmt::format("the sweep has {:.0f} points", count),
                     "a sweep holds at most 10,000,000 points; split it into several");
  }
  for (const Section& u : root.List("uncertain")) {
    Uncertain x;
    x.key = u.String("key");
    const SourceLocation key_at = u.ValueAt("key");
    x.spec = &NumericKey(s.scenario_text, s.scenario_file, x.key, key_at, "a distribution");
    x.where = u.ValueAt("value");
    x.dist = ParseDistribution(u.String("value"), *x.spec, x.key, x.where);
    once(x.key, key_at);
    s.uncertain.push_back(std::move(x));
  }
  const std::vector<std::string> outputs = root.Texts("outputs");
  for (size_t i = 0; i < outputs.size(); ++i) {
    const SourceLocation at = root.ItemAt("outputs", i);
    try {
      (void)nlohmann::json::json_pointer(outputs[i]);
    } catch (const nlohmann::json::exception&) {
      throw InputError(at, "'" + outputs[i] + "' is not a JSON pointer",
                       "a path into summary.json from its root, such as /goodput/ettr or "
                       "/jobs/0/mfu (docs/outputs.md)");
    }
    s.outputs.push_back({outputs[i], at});
  }
  if (root.Has("walls")) {
    const Section w = root.Sub("walls");
    SweepWalls sw;
    sw.grow = w.String("grow");
    sw.grow_at = w.ValueAt("grow");
    if (w.Has("from")) sw.from = w.String("from"), sw.from_at = w.ValueAt("from");
    if (w.Has("to")) sw.to = w.String("to"), sw.to_at = w.ValueAt("to");
    sw.steps = w.Int("steps");
    if (w.Has("steps")) sw.steps_at = w.ValueAt("steps");
    // The axis and its ends are checked against the base scenario now, at the sweep file's lines.
    ScenarioSource base{s.scenario_text, s.scenario_file, s.scenario_dir, s.set};
    const Axis axis = ParseAxis(sw.grow, base, sw.grow_at);
    sw.unit_suffix = AxisColumnSuffix(axis, base, sw.grow_at);
    const Grower g(base, axis, sw.grow_at);
    if (!sw.from.empty()) (void)g.Parse(sw.from, sw.from_at);
    if (!sw.to.empty()) (void)g.Parse(sw.to, sw.to_at);
    s.walls = sw;
  }
  if (sampled) s.unit = UnitSamples(s.design, s.samples, s.vary.size(), s.seed);
  s.hash = fmt::format("{:016x}", StableHash(text + '\0' + s.scenario_text));
  return s;
}

Sweep ReadSweepFile(const std::string& path) {
  const std::string problem = scenario::FileProblem(path);
  if (!problem.empty() && problem != "is empty") {
    throw InputError({path, 0, 0},
                     problem == "not found" ? "sweep file not found" : "the sweep file " + problem,
                     "give the path to a sweep YAML file, e.g. examples/cooling-sweep.yaml");
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return ReadSweepText(text::ReadFile(path, "sweep file"), path, dir);
}

std::string InputColumn(const KeySpec& spec, const std::string& key) {
  if (spec.type != ValueType::kQuantity) return key;
  using D = units::Dimension;
  switch (spec.dim) {
    case D::kPower:
      return key + "_w";
    case D::kEnergy:
      return key + "_j";
    case D::kDuration:
      return key + "_s";
    case D::kDataSize:
      return key + "_bytes";
    case D::kBandwidth:
      return key + "_bytes_per_s";
    case D::kFlopCount:
      return key + "_flop";
    case D::kFlopRate:
      return key + "_flop_per_s";
    case D::kTemperature:
    case D::kTemperatureDifference:
      return key + "_k";
    case D::kFrequency:
      return key + "_hz";
    case D::kMassFlow:
      return key + "_kg_per_s";
    case D::kVolumeFlow:
      return key + "_m3_per_s";
    case D::kEnergyPrice:
      return key + "_usd_per_j";
    case D::kThermalResistance:
      return key + "_k_per_w";
    case D::kCarbonIntensity:
      return key + "_g_per_j";
    case D::kApparentPower:
      return key + "_va";
    case D::kRequestRate:
      return key + "_per_s";
  }
  return key;
}

Point MakePoint(const Sweep& s, int64_t id) {
  FW_CHECK(id >= 0 && id < s.points(), "no such point");
  Point p;
  p.id = id;
  p.design = id / s.replicas;
  p.replica = static_cast<int>(id % s.replicas);
  p.overrides = s.set;
  auto apply = [&](const std::string& key, const KeySpec& spec, const std::string& text,
                   const SourceLocation& where) {
    p.overrides.push_back({key, text, where});
    p.inputs.push_back({key, text, scenario::NumberOf(spec, text)});
  };
  // Grid: mixed radix, the first key slowest.
  int64_t rest = p.design;
  std::vector<size_t> index(s.vary.size(), 0);
  if (s.design == Design::kGrid) {
    for (size_t k = s.vary.size(); k-- > 0;) {
      const auto n = static_cast<int64_t>(s.vary[k].values.size());
      index[k] = static_cast<size_t>(rest % n);
      rest /= n;
    }
  }
  for (size_t k = 0; k < s.vary.size(); ++k) {
    const VariedKey& a = s.vary[k];
    if (s.design == Design::kGrid || s.design == Design::kZip) {
      const size_t i = s.design == Design::kZip ? static_cast<size_t>(p.design) : index[k];
      apply(a.key, *a.spec, a.values[i], a.value_at[i]);
    } else {
      apply(a.key, *a.spec, ValueAt(a, s.unit[static_cast<size_t>(p.design)][k]), a.where);
    }
  }
  for (const Uncertain& u : s.uncertain) {
    // Common random numbers: replica r draws the same value at every design point, so design
    // points differ by what they vary, not by the luck of their draws.
    RngStream rng(s.seed, fmt::format("sweep uncertain {} replica {}", u.key, p.replica));
    apply(u.key, *u.spec, scenario::FormatValue(*u.spec, u.dist.Draw(rng)), u.where);
  }
  if (!s.seed_given) {
    p.seed = ReplicaSeed(s.seed, p.replica);
    p.overrides.push_back({"simulation.seed", std::to_string(p.seed), {s.file, 0, 0}});
  }
  return p;
}

namespace {

// Runs `f` for a point; an InputError from it gets a note naming the point and its inputs.
template <class F>
auto AtPoint(const Sweep& s, const Point& p, F f) {
  try {
    return f();
  } catch (const InputError& e) {
    std::string values;
    for (const Input& in : p.inputs) values += fmt::format(", {} = {}", in.key, in.text);
    const std::string note = fmt::format("at point {} of {} (design point {}, replica {}{})", p.id,
                                         s.file, p.design, p.replica, values);
    throw InputError(e.where(), e.message(),
                     e.hint().empty() ? note : e.hint() + "\n  note: " + note);
  }
}

// What ValidatePoints checks of a point: its scenario loads, and its wall search can run.
void CheckPoint(const Sweep& s, const Point& p) {
  AtPoint(s, p, [&] {
    (void)scenario::LoadScenarioText(s.scenario_text, s.scenario_file, s.scenario_dir, p.overrides);
    CheckPointWalls(s, p);
  });
}

}  // namespace

scenario::Scenario LoadPoint(const Sweep& s, const Point& p) {
  return AtPoint(s, p, [&] {
    return scenario::LoadScenarioText(s.scenario_text, s.scenario_file, s.scenario_dir,
                                      p.overrides);
  });
}

void ValidatePoints(const Sweep& s, int threads) {
  // Point 0 first, on this thread: the loader's built-once tables (catalog, schemas) are then made
  // before any worker starts. Function-local statics are thread-safe anyway; this keeps race
  // checkers (helgrind, which does not model their guards) to the races that would be real.
  CheckPoint(s, MakePoint(s, 0));
  std::vector<int64_t> all(static_cast<size_t>(s.points()) - 1);
  std::iota(all.begin(), all.end(), int64_t{1});
  // One slot per point, each written by the one thread that loads it; the lowest failing point is
  // reported, so the message does not depend on the threads' timing.
  std::vector<std::exception_ptr> failed(static_cast<size_t>(s.points()));
  RunPointsOnThreads(
      all, threads,
      [&](int64_t id) {
        try {
          CheckPoint(s, MakePoint(s, id));
        } catch (const InputError&) {
          failed[static_cast<size_t>(id)] = std::current_exception();
        }
        return std::string();
      },
      [](int64_t, const std::string&) {});
  for (const std::exception_ptr& e : failed) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace firstwall::study
