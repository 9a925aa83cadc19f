// Data quality of ingested telemetry: every stream, and every entity, scored 0-1 on five
// dimensions, each with the reasons that lowered it (docs/live.md, "Quality scores", gives every
// formula):
//  - timeliness: the scrape's lag and how stale the newest sample is, against the expected
//  interval;
//  - completeness: samples received against expected over the source's scraped window, and gaps;
//  - consistency: scale jumps of ~1000x (a unit change, W <-> kW), counters going backwards (a
//    reset), a value stuck while its siblings (same source and quantity) move;
//  - accuracy: values outside physical bounds, spikes against the stream's own spread, and physics:
//    a GPU's integrated power against its own energy counter
//    (DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION), and a meter against the sum of the meters it feeds
//    (the site map's balances);
//  - resolution: the sampling interval against what its uses need (The Green Grid's advanced PUE
//    category: 15 min or finer; the 0.2-3 Hz power swings of synchronous training: 1/6 s or finer).
// Overall is the mean of the five. An entity's dimension is its worst stream's.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "live/site_map.h"
#include "live/store.h"

namespace firstwall::live {

inline constexpr const char* kDimensions[] = {"timeliness", "completeness", "consistency",
                                              "accuracy", "resolution"};
inline constexpr int kDimensionCount = 5;

// One stream and what quality needs to know about it. Samples in time order, in base units.
struct StreamInput {
  SeriesInfo series;
  std::vector<SamplePoint> samples;
  double interval_s = 1;  // expected spacing (the source's scrape interval)
  // The window the source was scraped over (first and last scrape, answered or not).
  int64_t window_start_ms = 0, window_end_ms = 0;
  double lag_ms = 0;  // mean time from a sample's time to its arrival (scrape duration)
  // When the samples are one window of a longer stream (ingest's quality windows): the last finite
  // sample before the window and the scale it was at (StreamQuality::end_scale), so that a unit
  // change, a counter reset or a duplicate at the window's edge is still seen.
  std::optional<SamplePoint> previous;
  int previous_scale = 0;
};

struct Score {
  double score = 1;
  std::vector<std::string> reasons;
};

struct StreamQuality {
  SeriesInfo series;
  Score dims[kDimensionCount];
  double overall = 1;
  // What merging windows needs: per dimension the weight of this score (samples judged; samples
  // expected for completeness; 1 for resolution), and the stream's scale at its last sample
  // (powers of 1000 from where it started) with that sample, for the next window's `previous`.
  double weight[kDimensionCount] = {};
  int end_scale = 0;
  std::optional<SamplePoint> last;
};

struct EntityQuality {
  std::string entity, entity_id;
  Score dims[kDimensionCount];
  double overall = 1;
};

struct QualityReport {
  std::vector<StreamQuality> streams;   // in input order
  std::vector<EntityQuality> entities;  // sorted by entity, id
};

// `balances` (from the site map): each parent stream's accuracy is also judged against the sum of
// its children's streams (at the parent's sample times, children interpolated linearly).
QualityReport AssessQuality(const std::vector<StreamInput>& streams,
                            const std::vector<Balance>& balances = {});
// Every series of a store (but ingest's GPU rollups, gpu_rollup.h), with its source's interval and
// scrapes.
std::vector<StreamInput> StreamsOf(Store& store);

// The scores of several windows of the same streams merged into one report: per stream and
// dimension the weighted mean of its windows' scores (weights as in StreamQuality::weight; where
// no window has weight, the plain mean), reasons kept with their window's start (from the first
// window added), the first five per dimension; entities recomputed from the merged streams.
// Windows are added one at a time, in time order, so a day of a large site need not be in memory.
// One stream's scores summed over windows: per dimension the weighted sum (weights as in
// StreamQuality::weight), the plain sum (for a dimension no window weighed) and the first
// `max_reasons` reasons, each written by `label` with the window it came from.
struct WindowSum {
  std::array<double, kDimensionCount> weighted{}, weight{}, plain{};
  int count = 0;
  std::array<std::vector<std::string>, kDimensionCount> reasons;
  void Add(const QualityWindowRecord& w, size_t max_reasons,
           const std::function<std::string(const std::string& reason)>& label);
  // The merged score of dimension d: weighted mean, or the plain mean where no weight.
  double Score(size_t d) const;
};

class WindowMerge {
 public:
  void Add(const QualityWindowRecord& w);
  QualityReport Report(const std::vector<SeriesInfo>& series) const;

 private:
  std::map<int64_t, WindowSum> sums_;
  std::optional<int64_t> origin_ms_;
};
QualityReport MergeWindows(const std::vector<QualityWindowRecord>& windows,
                           const std::vector<SeriesInfo>& series);
// One record per stream of `r` (a window from `start_ms` to `end_ms`), for
// Store::PutQualityWindows.
std::vector<QualityWindowRecord> WindowRecords(const QualityReport& r, int64_t start_ms,
                                               int64_t end_ms);

// Rows for Store::PutQuality: per stream and per entity, each dimension and "overall".
std::vector<QualityRecord> QualityRecords(const QualityReport& r);
nlohmann::json QualityJson(const QualityReport& r);
std::string QualityText(const QualityReport& r);

}  // namespace firstwall::live
