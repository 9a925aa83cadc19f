// Who is the first wall: grow one thing about a site along an axis and find, for every rated or
// limited resource (study/limits.h), the scale where it reaches its limit, with the simulation
// itself as the judge.
//
// The search: evaluate `steps` points evenly spaced from `from` to `to` (the curve), then, for
// every resource that binds somewhere on it, bisect between the last point where it held and the
// first where it bound, down to `resolution` (one rack for GPU axes). A resource that binds and
// then holds again further along is reported as not monotone (its first crossing is kept). The
// walls are ranked by where they bind; the first wall's point gives every other resource's
// headroom. Then the first wall is raised by `raise` (its rating key times 1 + raise) and the
// search runs again from there: the next wall and what the raise bought, for `next_walls` rounds.
//
// Each point is a whole run of the scenario with overrides (scenario/overrides.h), so a point is
// checked exactly as a scenario file would be; a point the loader refuses (a job that no longer
// fits the cluster, say) is itself a wall, named "scenario limit", with the loader's message.
// Results are deterministic: points are independent runs, whatever the thread count.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "scenario/overrides.h"
#include "study/limits.h"

namespace firstwall::study {

// The scenario a study starts from, as text (so that overrides can be applied per point).
struct ScenarioSource {
  std::string text;
  std::string file;                                         // for messages
  std::string base_dir;                                     // relative paths in the scenario
  std::vector<scenario::Override> overrides;                // the user's own (--set), applied first
  static ScenarioSource FromFile(const std::string& path);  // "" for the built-in default
};

enum class AxisKind {
  kGpus,         // whole racks, with the jobs, services and traces scaled by the same share
  kItPower,      // the same growth, measured as nameplate IT power (GPU TDP + node base power)
  kServiceRate,  // one service's request rate (every class of it scaled alike)
  kJobSize,      // one training job's GPUs (data-parallel replicas; per-replica batch kept)
  kOutdoorTemperature,  // a constant outdoor dry bulb in place of the weather
  kKey,                 // any numeric scenario key, in its own unit
};

struct Axis {
  AxisKind kind = AxisKind::kGpus;
  std::string name;    // as given: "gpus", "rate:chat", "cluster.rack_power_limit"
  std::string target;  // the service or job (rate:, job_size:) or the key (kKey)
  std::string unit;    // of axis values: "GPUs", "MW", "req/s", "C", or the key's base unit
  bool integer = false;
};

// "gpus", "it_power", "rate:SERVICE", "job_size:JOB", "outdoor_temperature", or a key path.
// Throws InputError at `where` for an unknown axis, service, job or non-numeric key.
Axis ParseAxis(const std::string& text, const ScenarioSource& source, const SourceLocation& where);

// Turns axis values into scenario overrides.
class Grower {
 public:
  Grower(const ScenarioSource& source, Axis axis, SourceLocation where);
  const Axis& axis() const { return axis_; }
  // The scenario's own position on the axis.
  double base() const { return base_; }
  // The axis value a point really has (GPUs snap to whole racks).
  double Snap(double x) const;
  // The values the axis can take: what the scenario's keys allow (a million nodes, the key's
  // declared bounds, -60 to 60 C outdoors); a value outside cannot be a point.
  std::pair<double, double> Bounds() const;
  std::vector<scenario::Override> At(double x) const;
  // An axis value written by the user ("4096", "20 MW", "35 C", "1.5 MW"): InputError at `where`.
  double Parse(const std::string& text, const SourceLocation& where) const;
  std::string Format(double x) const;

 private:
  struct Scaled {
    std::string key;
    double base = 0;
    bool integer = false;
    double at_least = 0;
  };
  std::vector<scenario::Override> Scale(double share) const;
  ScenarioSource source_;
  Axis axis_;
  SourceLocation where_;
  double base_ = 0;
  int gpus_per_rack_ = 1, nodes_per_rack_ = 1;
  double node_nameplate_w_ = 0;                  // it_power: per node
  const scenario::KeySpec* key_spec_ = nullptr;  // kKey: the key's declaration
  std::vector<Scaled> scaled_;  // gpus / it_power / rate: what grows with the share
  // Training jobs (gpus, it_power, job_size): dp replicas, each `mp` GPUs and `batch` sequences.
  struct Job {
    std::string name;
    int dp = 1, mp = 1, ep = 1, batch = 1;
    bool dp_written = false, model_less = false;
    int gpus = 0;
  };
  std::vector<Job> jobs_;
  std::vector<scenario::Override> JobAt(const Job& j, double share) const;
};

struct WallsOptions {
  std::optional<double> from, to;  // axis units; default: the base value and 4 times it
  int steps = 20;
  std::optional<double> resolution;  // default: one rack (GPU axes), else (to - from) / steps / 16
  double raise = 0.25;               // next walls: a raised limit is (1 + raise) x its value
  int next_walls = 3;
  int threads = 1;
  LimitOptions limits;
  std::function<void(int runs)> progress;  // after each batch of runs, on the calling thread
  // Judges a point instead of the simulation: the limits at axis value x given the overrides of
  // the variant (raised limits first in none; the grower's own come from Grower::At). Empty: load
  // the scenario and simulate it. For tests of the search itself, whose answers must not depend
  // on the physics; called from the worker threads, so it must be safe to call concurrently. An
  // InputError from it is a point the loader refuses.
  std::function<std::vector<Limit>(double x, const std::vector<scenario::Override>& raised)> judge;
  // Where `from`, `to` and `steps` were given and under what names, for errors: the command line's
  // options by default, a sweep file's `walls.from` lines in a sweep. An empty file: FindWalls'
  // `where`.
  SourceLocation from_at, to_at, steps_at;
  std::string from_name = "--from", to_name = "--to", steps_name = "--steps";
};

// One evaluated point of the curve.
struct WallPoint {
  double x = 0;
  bool ok = true;
  std::string error;  // the loader's message when !ok
  std::vector<Limit> limits;
};

struct Wall {
  std::string resource, kind, metric, unit;
  bool binds = false;     // within [from, to]
  double binds_at = 0;    // axis value: the first point found binding (bisected)
  double holds_at = 0;    // the last point found holding below it
  bool at_start = false;  // already binding at `from`
  bool monotone = true;
  std::string note;               // why it binds, or where it stops being monotone
  double limit = 0;               // the limit, in `unit`
  double utilization_at_end = 0;  // where it never binds: its utilization at `end_at`
  double end_at = 0;  // the last axis point that judged the resource (`to` unless refused)
  std::string raise_key;
  // Where it binds: every other resource's headroom (1 - utilization), in the limits' order.
  std::vector<std::pair<std::string, double>> headroom;
};

struct NextWall {
  std::string raised;  // the resource raised
  std::string raise_key;
  double raised_to = 0;  // the limit after raising, in the resource's unit
  std::string unit;
  double from = 0;           // axis value where the raised wall bound
  std::optional<Wall> next;  // the first wall after raising; nullopt: none up to `to`
  double gain = 0;           // next->binds_at - from (axis units); 0 when none
  std::string stop;          // why the rounds stopped here ("GPU compute cannot be raised")
};

struct WallsResult {
  Axis axis;
  double from = 0, to = 0, base = 0;
  std::vector<WallPoint> curve;  // the evenly spaced points, then bisection points, by x
  std::vector<Wall> walls;       // binding ones by binds_at, then the rest by utilization at `to`
  // Headroom (1 - utilization) of every resource at the first wall's binding point.
  std::vector<std::pair<std::string, double>> headroom;
  std::vector<NextWall> next_walls;
  int runs = 0;  // simulations run
};

// Throws InputError for a bad range or step count (at `where`), or for a scenario the loader
// refuses at the axis's first point.
// The ends of the axis as FindWalls takes them (defaults filled in, snapped), checked against
// what the axis can take, with the steps: InputError at the options' places otherwise.
std::pair<double, double> AxisEnds(const Grower& grower, const WallsOptions& o,
                                   const SourceLocation& where);

WallsResult FindWalls(const ScenarioSource& source, const Grower& grower,
                      const WallsOptions& options, const SourceLocation& where);

// Over the scenario's own run (a year of weather and prices, say): which resource is closest to
// its limit in each hour, and the hours each one binds (utilization >= 1). Only resources that
// vary within a run: the power-chain stages, racks, the grid import, the cooling plant (heat
// against capacity, or unmet) and the fabric. Each hour's value is its peak over the hour's ticks.
struct HourWall {
  int64_t hour = 0;        // from the simulation's start
  std::string first;       // the resource closest to its limit
  double utilization = 0;  // its peak utilization in the hour
  std::vector<double>
      per_resource;  // peak utilization in the hour, in `HoursResult::resources` order
};
struct HoursResult {
  std::vector<std::string> resources;
  std::vector<HourWall> hours;
  std::vector<int64_t> first_hours;  // per resource: hours it was the closest to its limit
  std::vector<int64_t> bound_hours;  // per resource: hours it reached its limit
};
HoursResult WallsInTime(const ScenarioSource& source);

}  // namespace firstwall::study
