// A sweep: a base scenario, the keys to vary and how design points are drawn from them, replicas
// over seeds and uncertain inputs drawn per replica (docs/sweep.md; keys in docs/scenario.md).
//
// Points are numbered 0..points()-1; point p is replica p % replicas of design point
// p / replicas. Everything a point sets follows from (sweep seed, design point, replica) alone, so
// a point's result does not depend on how the sweep is split over threads, shards or ranks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "scenario/loader.h"
#include "scenario/overrides.h"
#include "scenario/schema.h"

namespace firstwall::study {

enum class Design { kGrid, kZip, kLatinHypercube, kRandom };

// A probability distribution of one numeric input, in the key's base unit.
struct Distribution {
  enum class Kind { kNormal, kUniform, kTriangular };
  Kind kind = Kind::kNormal;
  double a = 0, b = 0, c = 0;  // normal: mean, sd; uniform: low, high; triangular: low, mode, high
  // Draws outside [lo, hi] (the key's declared range) are drawn again.
  double lo = -1e308, hi = 1e308;
  double Draw(RngStream& rng) const;
};

// "700 W ± 5%" (normal, sd 5 % of the mean; "+-" and "+/-" too), "700 W ± 50 W" (sd 50 W),
// "uniform(650 W, 750 W)", "triangular(650 W, 700 W, 750 W)" (low, mode, high); values as `spec`
// takes them. A relative spread is always of the centre, also for a fraction key ("96 % ± 1 %" has
// sd 0.0096). Throws InputError at `where` for bad text, a value outside the key's range or an
// empty interval.
Distribution ParseDistribution(const std::string& text, const scenario::KeySpec& spec,
                               const std::string& key, const SourceLocation& where);

// One varied key.
struct VariedKey {
  std::string key;
  const scenario::KeySpec* spec = nullptr;
  SourceLocation where;  // of `values` or `range`
  // The values of grid and zip (and the choices of the sampled designs), as written or formatted.
  std::vector<std::string> values;
  std::vector<SourceLocation> value_at;
  // A range under latin_hypercube or random: the interval drawn from, in the key's base unit.
  bool continuous = false;
  double from = 0, to = 0;
  bool log = false;
};

struct Uncertain {
  std::string key;
  const scenario::KeySpec* spec = nullptr;
  Distribution dist;
  SourceLocation where;
};

struct OutputPointer {
  std::string pointer;  // "/goodput/ettr"
  SourceLocation where;
};

// `walls:` of a sweep file: `firstwall walls` at every point (study/walls.h).
struct SweepWalls {
  std::string grow;
  std::string from, to;  // as written; "" for the default
  int steps = 10;
  SourceLocation grow_at, from_at, to_at, steps_at;
  // The axis unit in the names of the binds_at columns (WallColumns): "_gpus" (gpus, job_size),
  // "_mw" (it_power), "_req_per_s" (rate:), "_c" (outdoor_temperature), a key's as InputColumn
  // names it ("_w"; none for a count).
  std::string unit_suffix;
};

struct Sweep {
  std::string file;  // the sweep file as named
  std::string scenario_file, scenario_text, scenario_dir;
  uint64_t seed = 1;
  std::vector<scenario::Override> set;
  std::vector<VariedKey> vary;
  Design design = Design::kGrid;
  int64_t samples = 0;
  int replicas = 1;
  std::vector<Uncertain> uncertain;
  std::vector<OutputPointer> outputs;
  std::optional<SweepWalls> walls;
  bool seed_given = false;  // simulation.seed is set or varied by the file: replicas keep it
  std::string hash;         // of the sweep and scenario texts, 16 hex digits (resume, collate)
  // latin_hypercube / random: the unit-cube coordinates of every design point.
  std::vector<std::vector<double>> unit;

  int64_t design_points() const;
  int64_t points() const { return design_points() * replicas; }
  // Whether results carry bands (bands.csv): replicas or uncertain inputs.
  bool banded() const { return replicas > 1 || !uncertain.empty(); }
};

// Throws InputError (file:line:col) for anything wrong in the sweep file, including keys that are
// not in the scenario and values outside a key's range; does not load the points (ValidatePoints).
Sweep ReadSweepFile(const std::string& path);
Sweep ReadSweepText(const std::string& text, const std::string& file, const std::string& base_dir);

// Unit-cube coordinates, samples x dims, each in [0, 1). Latin hypercube: in each dimension the
// samples fall one in each of the `samples` equal strata. Random: independent uniforms. Each
// dimension has its own stream, so adding a dimension leaves the others' coordinates unchanged.
std::vector<std::vector<double>> UnitSamples(Design design, int64_t samples, size_t dims,
                                             uint64_t seed);

// One input column of a point: the key and the value applied, a number in the key's base unit
// (W, s, K, ...; a fraction 0-1) for numeric keys, else the text.
struct Input {
  std::string key;
  std::string text;              // as applied to the scenario
  std::optional<double> number;  // for numeric keys
};

struct Point {
  int64_t id = 0, design = 0;
  int replica = 0;
  uint64_t seed = 0;  // the simulation.seed set (0 when the file sets it: seed_given)
  std::vector<scenario::Override> overrides;  // set, vary, uncertain, then simulation.seed
  std::vector<Input> inputs;                  // vary, then uncertain
};

Point MakePoint(const Sweep& sweep, int64_t id);
// The point's scenario. An InputError about it adds which point it is.
scenario::Scenario LoadPoint(const Sweep& sweep, const Point& point);
// Loads every point's scenario (LoadPoint) and checks its wall search (CheckPointWalls) on
// `threads` threads; throws the InputError of the lowest failing point, so that a bad point fails
// a sweep before anything runs.
void ValidatePoints(const Sweep& sweep, int threads);

// The column name of an input: the key, with its base unit for quantities
// ("facility.cooling.capacity_w", "facility.cooling.liquid_supply_k", "cluster.nodes").
std::string InputColumn(const scenario::KeySpec& spec, const std::string& key);

}  // namespace firstwall::study
