// What a sweep writes (docs/sweep.md): one JSON line per point, the tables made from them, and the
// store in an output directory that appends rows as points finish, resumes and collates shards.
//
//   results.jsonl  one object per point, sorted by point id: point, design, replica, seed, the
//                  inputs (numbers in the key's base unit, column names with the unit), the
//                  headline outputs (HeadlineColumns) and the sweep's extra `outputs:`
//   results.csv    the same columns; numbers exactly as in results.jsonl, empty for null
//   bands.csv      with replicas or uncertain inputs: per design point, n and each numeric
//                  output's mean, p05 and p95 over its replicas (percentiles by linear
//                  interpolation between order statistics, as numpy's default)
//
// The tables are a function of the rows alone, so a sweep run in one piece, split over threads or
// over shards and collated gives byte-identical files.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "study/sweep.h"
#include "study/walls.h"

namespace firstwall::study {

// The headline outputs, in order, units in the names: facility_energy_mwh, it_energy_mwh,
// peak_facility_mw, peak_it_mw, peak_grid_mw, pue, wue_l_per_kwh, energy_cost_usd, carbon_t,
// mean_gpu_activity, training_tokens_per_s (all jobs' tokens / simulated time), mfu (with one
// job), ettr and runtime_goodput (with a scheduler), slo_attainment_min (the lowest over
// services), first_wall and first_wall_utilization (the busiest resource and its peak load over
// its rating).
const std::vector<std::string>& HeadlineColumns();

// The shape of a sweep's tables, kept in the manifest so that collating needs no sweep file.
struct Layout {
  std::vector<std::string> columns;         // every column of a row, in order
  std::vector<std::string> design_columns;  // what names a design point in bands.csv
  std::vector<std::string> band_columns;    // what bands.csv summarizes
  int64_t points = 0;
  bool banded = false;
};
Layout LayoutOf(const Sweep& sweep);

// The columns a sweep with `walls:` adds: the first and second wall along the axis and the axis
// value where each binds, with the axis unit in the name (walls_first, walls_first_binds_at_gpus,
// walls_second, walls_second_binds_at_gpus; null when fewer bind within the axis).
std::vector<std::string> WallColumns(const SweepWalls& walls);
// A point's row from its summary.json (report::SummaryJson), as one line ending in '\n'.
// `walls`: the point's walls_* columns when the sweep has `walls:` (else ignored).
std::string RowLine(const Sweep& sweep, const Point& point, const nlohmann::ordered_json& summary,
                    const nlohmann::ordered_json& walls = {});
// MakePoint, LoadPoint, report::Simulate (no time series) and RowLine: the `run` of a sweep.
std::string RunPoint(const Sweep& sweep, int64_t id);
// The wall search of a point as RunPoint runs it (`walls:` of the sweep file, no next walls).
WallsOptions PointWallsOptions(const SweepWalls& walls, const Grower& grower);
// Whether a point's wall search can run (its axis ends and steps, against the point's own
// scenario): InputError at the sweep file's `walls:` lines otherwise; nothing without `walls:`.
void CheckPointWalls(const Sweep& sweep, const Point& point);

struct Tables {
  std::string jsonl, csv, bands;  // bands empty unless layout.banded
};
// `rows`: point id -> its line.
Tables MakeTables(const Layout& layout, const std::map<int64_t, std::string>& rows);

// A part of a sweep: the points p with p % count == index (0-based index; round robin, so every
// shard gets a share of each region of a grid).
struct Shard {
  int index = 0, count = 1;
  bool Has(int64_t point) const { return point % count == index; }
  // "" for the whole sweep, ".shard-3-of-7" (1-based) for a part: the files' infix.
  std::string Tag() const;
};
// "3/7" (1-based, 1..N), as --shard takes it. Throws InputError at `where`.
Shard ParseShard(const std::string& text, const SourceLocation& where);

// The results of a sweep (or one shard) in DIR:
//   results{tag}.jsonl.part the journal of the run in progress: its manifest on the first line,
//                           then rows appended and flushed as points finish
//   manifest{tag}.json      the sweep file, its hash, the shard and the layout
//   results{tag}.jsonl      all rows sorted; the whole sweep also has results.csv and bands.csv
// The last three are the finished set, written aside whole at Finish and then renamed into place,
// the manifest last, after which the journal is removed. A run that fails or is interrupted
// (SIGINT, SIGTERM) leaves the set of the run before it as it was, and its own journal.
class ResultStore {
 public:
  // Creates DIR; removes nothing. With `resume`, keeps the rows of the journal when its manifest
  // is this sweep's (a truncated last line is dropped) and those of the finished set when its
  // manifest is this sweep's; refuses, with an InputError, a journal of another sweep, or a
  // finished set of another sweep with no journal of this one. Without `resume`, starts afresh
  // (a new journal); the finished set in DIR stays until Finish replaces it.
  ResultStore(std::string dir, const Sweep& sweep, Shard shard, bool resume);
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  const std::map<int64_t, std::string>& rows() const { return rows_; }
  bool Has(int64_t point) const { return rows_.count(point) > 0; }
  void Add(int64_t point, const std::string& line);
  // Writes the final files; returns their paths.
  std::vector<std::string> Finish();

 private:
  std::string dir_, tag_;
  std::string manifest_;  // this sweep's manifest, one line
  Layout layout_;
  std::map<int64_t, std::string> rows_;
  std::FILE* journal_ = nullptr;
};

struct CollateResult {
  std::vector<std::string> written;
  int64_t points = 0;            // in the sweep
  std::vector<int64_t> missing;  // point ids no shard has
  // Journals of parts that did not finish (results*.jsonl.part): their rows are not collated;
  // `firstwall sweep --resume` with the same --shard finishes them.
  std::vector<std::string> unfinished;
};
// Merges the results (results*.jsonl of the whole sweep or of shards, with their manifests) in
// `dirs` into `out`: results.jsonl, results.csv and bands.csv, as a run in one piece writes them,
// and manifest.json. Throws InputError for directories of different sweeps, rows that disagree,
// or no results at all. Missing points are reported, and the tables hold the rest.
CollateResult Collate(const std::vector<std::string>& dirs, const std::string& out);

}  // namespace firstwall::study
