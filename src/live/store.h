// Where ingested telemetry lives: series (one per entity, quantity and source), their samples,
// the scrapes that brought them and quality results. `Store` is the interface; SQLite (one file,
// WAL) is the implementation so far, and a PostgreSQL one (libpq) is meant to sit behind the same
// interface with the same tables (docs/live.md, "Store schema").
//
// Values are kept in their quantity's base unit (vocabulary.h: W, J, C, %); times are integer
// milliseconds since the Unix epoch. NaN values are kept as NULL.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace firstwall::live {

struct SeriesKey {
  std::string entity, entity_id, quantity;
  std::string unit;    // the base unit the values are in
  std::string source;  // the site map's source name
  std::string metric;  // what it was read from, with labels (for people)
  bool operator==(const SeriesKey&) const = default;
};

struct SeriesInfo {
  int64_t id = 0;
  SeriesKey key;
};

struct SamplePoint {
  int64_t t_ms = 0;
  double value = 0;  // NaN when the source sent NaN
  // When it reached ingest (the start of the read that brought it); 0: at t_ms. Differs from t_ms
  // only for samples that carry their own time.
  int64_t arrival_ms = 0;
  int64_t Arrival() const { return arrival_ms != 0 ? arrival_ms : t_ms; }
};

struct SourceInfo {
  std::string name, kind, url;
  double interval_s = 0;
};

// One scrape of a source: when, whether it answered, and what it held.
struct ScrapeRecord {
  std::string source;
  int64_t t_ms = 0;  // when it started
  bool ok = false;
  double duration_ms = 0;
  int samples = 0;   // read from the body
  int rejected = 0;  // malformed lines
  std::string error;
};

// One quality score (quality.h).
struct QualityRecord {
  std::string scope;                        // "stream" or "entity"
  std::string entity, entity_id, quantity;  // quantity "" for an entity
  int64_t series = 0;                       // 0 for an entity
  std::string dimension;  // accuracy, consistency, timeliness, resolution, completeness, overall
  double score = 1;
  std::string reasons;  // "; "-separated, "" when nothing was found
};

// One stream's quality scores over one window of time (ingest's quality windows, quality.h): per
// dimension (timeliness, completeness, consistency, accuracy, resolution) the score, its weight
// in a merge and its reasons (a JSON array of strings).
struct QualityWindowRecord {
  int64_t series = 0;
  int64_t start_ms = 0, end_ms = 0;
  std::array<double, 5> score{}, weight{};
  std::array<std::string, 5> reasons;
};

// One run of the twin against measurements over a window (`firstwall compare` / `calibrate`).
struct TwinRunRecord {
  int64_t run_ms = 0;  // when it ran
  std::string kind;    // "compare" or "calibrate"
  int64_t window_start_ms = 0, window_end_ms = 0;
  std::string parameters_json;  // the twin parameters used (fitted ones for "calibrate")
  std::string results_json;     // per signal: n, CV(RMSE), NMBE (fractions), verdicts
};

// One signal's fit over one window, and whether it drifted past its thresholds: an event the
// operations layer (issue #14) acts on.
struct DriftRecord {
  int64_t run_ms = 0;
  std::string signal;  // "facility_power", "pue", ...
  int64_t window_start_ms = 0, window_end_ms = 0;
  double cv_rmse = 0, nmbe = 0;  // fractions (0.1 = 10 %); NaN when not computable
  double cv_rmse_limit = 0, nmbe_limit = 0;
  bool drift = false;
  std::string reason;  // "" when within limits
};

class Store {
 public:
  virtual ~Store() = default;
  virtual void PutSource(const SourceInfo& s) = 0;
  virtual std::vector<SourceInfo> Sources() = 0;
  // The id of the series with this entity, entity id, quantity and source, made when new.
  virtual int64_t SeriesId(const SeriesKey& key) = 0;
  virtual void Append(int64_t series, std::span<const SamplePoint> points) = 0;
  virtual void RecordScrape(const ScrapeRecord& r) = 0;
  // Makes everything appended since the last Flush durable (one transaction).
  virtual void Flush() = 0;

  virtual std::vector<SeriesInfo> Series() = 0;
  // Samples of one series in time order (ties in insertion order).
  virtual std::vector<SamplePoint> Samples(int64_t series) = 0;
  virtual std::vector<ScrapeRecord> Scrapes(const std::string& source) = 0;
  // Replaces the stored quality results with `rows` (computed at `run_ms`).
  virtual void PutQuality(int64_t run_ms, const std::vector<QualityRecord>& rows) = 0;
  virtual std::vector<QualityRecord> Quality() = 0;
  // Quality windows accumulate. Those overlapping [from_ms, to_ms) are visited one at a time (a
  // day of a large site is millions of rows), in the order they were stored.
  virtual void PutQualityWindows(const std::vector<QualityWindowRecord>& rows) = 0;
  virtual void VisitQualityWindows(
      int64_t from_ms, int64_t to_ms,
      const std::function<void(const QualityWindowRecord&)>& visit) = 0;
  // All of them, for tests and small stores.
  std::vector<QualityWindowRecord> QualityWindows(int64_t from_ms, int64_t to_ms) {
    std::vector<QualityWindowRecord> out;
    VisitQualityWindows(from_ms, to_ms, [&](const QualityWindowRecord& w) { out.push_back(w); });
    return out;
  }
  // Twin runs and drift accumulate (one row per run / per signal and window), oldest first.
  virtual void PutTwinRun(const TwinRunRecord& r) = 0;
  virtual std::vector<TwinRunRecord> TwinRuns() = 0;
  virtual void PutDrift(const std::vector<DriftRecord>& rows) = 0;
  virtual std::vector<DriftRecord> Drift() = 0;
};

// Opens (creating when absent) an SQLite store at `path`; InputError naming the path when it
// cannot be opened or is not a firstwall store.
std::unique_ptr<Store> OpenSqliteStore(const std::string& path);

}  // namespace firstwall::live
