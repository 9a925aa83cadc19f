// Where ingested telemetry lives: series (one per entity, quantity and source), their samples,
// the scrapes that brought them and quality results. `Store` is the interface; SQLite (one file,
// WAL, store.cc) and PostgreSQL (libpq, store_pg.cc) implement it with the same tables and columns
// (docs/live.md, "Store schema"); store_buffer.h keeps samples on disk while a database is away.
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
#include <stdexcept>
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

// Thrown by a store whose database cannot be reached at the moment (connection refused or lost,
// server starting up or shutting down). Everything appended, recorded or put since the last
// successful Flush is then discarded by the store (its transaction did not commit); the store
// reconnects on its next call, so the caller may replay what it kept (BufferedStore does).
class StoreUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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
  // The series of one entity kind ("gpu", "facility", ...), in Series()' order. By default
  // Series() filtered; the SQLite and PostgreSQL stores read only those rows (their unique index
  // on entity first): the dashboard asks per entity kind, and a 10,000-GPU site has 40,000 series.
  virtual std::vector<SeriesInfo> SeriesOf(const std::string& entity);
  // Samples of one series in time order (ties in insertion order).
  virtual std::vector<SamplePoint> Samples(int64_t series) = 0;
  // The samples of Samples(series) at or after from_ms. By default Samples filtered; the SQLite and
  // PostgreSQL stores read only those rows (through their (series, t_ms) index).
  virtual std::vector<SamplePoint> SamplesSince(int64_t series, int64_t from_ms);
  // The last of Samples(series), or nullopt when it has none; the stores read one row.
  virtual std::optional<SamplePoint> Newest(int64_t series);
  // The samples of Samples(series) at or after the newest one's t_ms minus span_ms (span_ms >= 0):
  // the series' own last span; empty when it has none. By default Newest and SamplesSince; the
  // SQLite store reads it in one statement.
  virtual std::vector<SamplePoint> Recent(int64_t series, int64_t span_ms);
  // Each series of one entity kind and quantity with its newest sample (nullopt when it has none),
  // in Series()' order: a heat map's readings. By default SeriesOf and Newest; the SQLite and
  // PostgreSQL stores read them in one statement (10,000 GPUs' in tens of ms, not a query each).
  struct SeriesNewest {
    SeriesInfo series;
    std::optional<SamplePoint> newest;
  };
  virtual std::vector<SeriesNewest> NewestOf(const std::string& entity,
                                             const std::string& quantity);
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

// A Store that passes every call to another (never null); a wrapper derives from it and overrides
// what it changes (BufferedStore, tests' counting stores).
class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(std::unique_ptr<Store> inner);
  void PutSource(const SourceInfo& s) override { inner_->PutSource(s); }
  std::vector<SourceInfo> Sources() override { return inner_->Sources(); }
  int64_t SeriesId(const SeriesKey& key) override { return inner_->SeriesId(key); }
  void Append(int64_t series, std::span<const SamplePoint> points) override {
    inner_->Append(series, points);
  }
  void RecordScrape(const ScrapeRecord& r) override { inner_->RecordScrape(r); }
  void Flush() override { inner_->Flush(); }
  std::vector<SeriesInfo> Series() override { return inner_->Series(); }
  std::vector<SamplePoint> Samples(int64_t series) override { return inner_->Samples(series); }
  std::vector<SamplePoint> SamplesSince(int64_t series, int64_t from_ms) override {
    return inner_->SamplesSince(series, from_ms);
  }
  std::optional<SamplePoint> Newest(int64_t series) override { return inner_->Newest(series); }
  std::vector<ScrapeRecord> Scrapes(const std::string& source) override {
    return inner_->Scrapes(source);
  }
  void PutQuality(int64_t run_ms, const std::vector<QualityRecord>& rows) override {
    inner_->PutQuality(run_ms, rows);
  }
  std::vector<QualityRecord> Quality() override { return inner_->Quality(); }
  void PutQualityWindows(const std::vector<QualityWindowRecord>& rows) override {
    inner_->PutQualityWindows(rows);
  }
  void VisitQualityWindows(int64_t from_ms, int64_t to_ms,
                           const std::function<void(const QualityWindowRecord&)>& visit) override {
    inner_->VisitQualityWindows(from_ms, to_ms, visit);
  }
  void PutTwinRun(const TwinRunRecord& r) override { inner_->PutTwinRun(r); }
  std::vector<TwinRunRecord> TwinRuns() override { return inner_->TwinRuns(); }
  void PutDrift(const std::vector<DriftRecord>& rows) override { inner_->PutDrift(rows); }
  std::vector<DriftRecord> Drift() override { return inner_->Drift(); }

 protected:
  std::unique_ptr<Store> inner_;
};

// Opens (creating when absent) an SQLite store at `path`; InputError naming the path when it
// cannot be opened or is not a firstwall store.
std::unique_ptr<Store> OpenSqliteStore(const std::string& path);

// Connects to PostgreSQL at a libpq URL (postgresql://[user[:password]@]host[:port]/dbname[?...])
// and creates the tables when absent. Appends, scrapes and new series are kept in memory and sent
// by Flush in one transaction (COPY ... FROM STDIN); a new series' id is reserved from the
// server's sequence (a round trip per 1024 series) and stays valid across failed Flushes; the
// Put* calls go to the server at once. The connection is re-opened on the call after one is lost;
// until then calls throw StoreUnavailable.
// When a COMMIT's answer is lost, the next Flush asks the server whether it went in (a marker row
// `flush:PID:TOKEN` in meta, removed at close); if it did and that Flush carries the same batch
// again, the batch is not stored twice.
// InputError naming the URL (its password shown as ***) when the URL is malformed or the server
// does not accept the connection.
std::unique_ptr<Store> OpenPostgresStore(const std::string& url);

// True for a `postgresql://` or `postgres://` URL.
bool IsPostgresUrl(const std::string& db);
// PostgreSQL for such a URL, else an SQLite file at `db`.
std::unique_ptr<Store> OpenStore(const std::string& db);
// The same for commands that only read a store (quality, compare, calibrate): an SQLite file must
// exist and already be a firstwall store (its `meta` table says so), and is left untouched
// otherwise. InputError naming `db` (its password hidden) when not.
std::unique_ptr<Store> OpenExistingStore(const std::string& db);
// `url` with any password (user:PASSWORD@ or password=PASSWORD) replaced by ***, for messages.
std::string RedactUrl(const std::string& url);

}  // namespace firstwall::live
