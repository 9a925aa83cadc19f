#include "live/store.h"

#include <sqlite3.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::live {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources(name TEXT PRIMARY KEY, kind TEXT NOT NULL, url TEXT NOT NULL,
                                   interval_s REAL NOT NULL);
CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, entity TEXT NOT NULL,
                                  entity_id TEXT NOT NULL, quantity TEXT NOT NULL,
                                  unit TEXT NOT NULL, source TEXT NOT NULL, metric TEXT NOT NULL,
                                  UNIQUE(entity, entity_id, quantity, source));
-- Counts every change to the series table, so that a reader's kept list (Series()) is read again
-- after a series is added, changed or deleted, by any process or by hand.
CREATE TRIGGER IF NOT EXISTS series_added AFTER INSERT ON series BEGIN
  INSERT INTO meta(key, value) VALUES('series_version', '1')
    ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1;
END;
CREATE TRIGGER IF NOT EXISTS series_changed AFTER UPDATE ON series BEGIN
  INSERT INTO meta(key, value) VALUES('series_version', '1')
    ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1;
END;
CREATE TRIGGER IF NOT EXISTS series_deleted AFTER DELETE ON series BEGIN
  INSERT INTO meta(key, value) VALUES('series_version', '1')
    ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1;
END;
CREATE TABLE IF NOT EXISTS samples(series INTEGER NOT NULL REFERENCES series(id),
                                   t_ms INTEGER NOT NULL, value REAL, arrival_ms INTEGER);
CREATE INDEX IF NOT EXISTS samples_by_series ON samples(series, t_ms);
CREATE TABLE IF NOT EXISTS scrapes(source TEXT NOT NULL, t_ms INTEGER NOT NULL, ok INTEGER NOT NULL,
                                   duration_ms REAL NOT NULL, samples INTEGER NOT NULL,
                                   rejected INTEGER NOT NULL, error TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quality(run_ms INTEGER NOT NULL, scope TEXT NOT NULL,
                                   entity TEXT NOT NULL, entity_id TEXT NOT NULL,
                                   quantity TEXT NOT NULL, series INTEGER NOT NULL,
                                   dimension TEXT NOT NULL, score REAL NOT NULL,
                                   reasons TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quality_windows(series INTEGER NOT NULL, start_ms INTEGER NOT NULL,
                                           end_ms INTEGER NOT NULL,
                                           timeliness REAL, timeliness_w REAL, timeliness_why TEXT,
                                           completeness REAL, completeness_w REAL,
                                           completeness_why TEXT,
                                           consistency REAL, consistency_w REAL,
                                           consistency_why TEXT,
                                           accuracy REAL, accuracy_w REAL, accuracy_why TEXT,
                                           resolution REAL, resolution_w REAL,
                                           resolution_why TEXT);
CREATE INDEX IF NOT EXISTS quality_windows_by_time ON quality_windows(start_ms);
CREATE TABLE IF NOT EXISTS twin_runs(run_ms INTEGER NOT NULL, kind TEXT NOT NULL,
                                     window_start_ms INTEGER NOT NULL,
                                     window_end_ms INTEGER NOT NULL,
                                     parameters_json TEXT NOT NULL, results_json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS drift(run_ms INTEGER NOT NULL, signal TEXT NOT NULL,
                                 window_start_ms INTEGER NOT NULL, window_end_ms INTEGER NOT NULL,
                                 cv_rmse REAL, nmbe REAL, cv_rmse_limit REAL NOT NULL,
                                 nmbe_limit REAL NOT NULL, drift INTEGER NOT NULL,
                                 reason TEXT NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES('firstwall_store', '1');
)sql";

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) {
      FW_CHECK(false, fmt::format("SQL does not prepare: {}: {}", sql, sqlite3_errmsg(db)));
    }
  }
  ~Statement() { sqlite3_finalize(st_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& Bind(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Statement& Bind(int i, double v) {
    if (std::isnan(v)) {
      sqlite3_bind_null(st_, i);
    } else {
      sqlite3_bind_double(st_, i, v);
    }
    return *this;
  }
  // True while a row is there.
  bool Step() {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) {
      throw std::runtime_error(fmt::format("store: {}", sqlite3_errmsg(db_)));
    }
    return false;
  }
  void Run() {
    Step();
    Reset();
  }
  void Reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  std::string Text(int c) const {
    const unsigned char* t = sqlite3_column_text(st_, c);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  }
  int64_t Int(int c) const { return sqlite3_column_int64(st_, c); }
  bool Null(int c) const { return sqlite3_column_type(st_, c) == SQLITE_NULL; }
  double Real(int c) const {
    return sqlite3_column_type(st_, c) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                      : sqlite3_column_double(st_, c);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

class SqliteStore : public Store {
 public:
  explicit SqliteStore(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw InputError({path, 0, 0}, fmt::format("cannot open the store: {}", why));
    }
    sqlite3_busy_timeout(db_, 5000);
    char* err = nullptr;
    // WAL: readers (firstwall quality) do not block the ingest's writer, and a crash loses at most
    // the open transaction. NORMAL sync is durable across process crashes in WAL mode.
    const std::string setup =
        std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;") + kSchema;
    if (sqlite3_exec(db_, setup.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string why = err ? err : "unknown error";
      sqlite3_free(err);
      sqlite3_close(db_);
      db_ = nullptr;
      throw InputError({path, 0, 0}, fmt::format("not a firstwall store (SQLite): {}", why));
    }
  }
  ~SqliteStore() override {
    if (!db_) return;
    try {
      Flush();
    } catch (const std::exception&) {  // NOLINT: a destructor must not throw
    }
    statements_.clear();
    sqlite3_close(db_);
  }

  void PutSource(const SourceInfo& s) override {
    BeginWrites();
    Statement& st = Prepared(
        "INSERT INTO sources(name, kind, url, interval_s) VALUES(?,?,?,?) ON CONFLICT(name) DO "
        "UPDATE SET kind=excluded.kind, url=excluded.url, interval_s=excluded.interval_s");
    st.Bind(1, s.name).Bind(2, s.kind).Bind(3, s.url).Bind(4, s.interval_s).Run();
  }
  std::vector<SourceInfo> Sources() override {
    Statement st(db_, "SELECT name, kind, url, interval_s FROM sources ORDER BY name");
    std::vector<SourceInfo> out;
    while (st.Step()) out.push_back({st.Text(0), st.Text(1), st.Text(2), st.Real(3)});
    return out;
  }
  int64_t SeriesId(const SeriesKey& k) override {
    const auto key = std::make_tuple(k.entity, k.entity_id, k.quantity, k.source);
    if (auto it = ids_.find(key); it != ids_.end()) return it->second;
    Statement& find = Prepared(
        "SELECT id FROM series WHERE entity=? AND entity_id=? AND quantity=? AND source=?");
    find.Bind(1, k.entity).Bind(2, k.entity_id).Bind(3, k.quantity).Bind(4, k.source);
    int64_t id = 0;
    if (find.Step()) id = find.Int(0);
    find.Reset();
    if (id == 0) {
      BeginWrites();
      Statement& add = Prepared(
          "INSERT INTO series(entity, entity_id, quantity, unit, source, metric) "
          "VALUES(?,?,?,?,?,?)");
      add.Bind(1, k.entity)
          .Bind(2, k.entity_id)
          .Bind(3, k.quantity)
          .Bind(4, k.unit)
          .Bind(5, k.source)
          .Bind(6, k.metric)
          .Run();
      id = sqlite3_last_insert_rowid(db_);
    }
    ids_[key] = id;
    return id;
  }
  void Append(int64_t series, std::span<const SamplePoint> points) override {
    BeginWrites();
    Statement& st =
        Prepared("INSERT INTO samples(series, t_ms, value, arrival_ms) VALUES(?,?,?,?)");
    for (const SamplePoint& p : points) {
      st.Bind(1, series).Bind(2, p.t_ms).Bind(3, p.value);
      // NULL (one byte) for the common case: a sample stamped at its arrival.
      if (p.arrival_ms != 0 && p.arrival_ms != p.t_ms) st.Bind(4, p.arrival_ms);
      st.Run();
    }
  }
  void RecordScrape(const ScrapeRecord& r) override {
    BeginWrites();
    Statement& st = Prepared(
        "INSERT INTO scrapes(source, t_ms, ok, duration_ms, samples, rejected, error) "
        "VALUES(?,?,?,?,?,?,?)");
    st.Bind(1, r.source)
        .Bind(2, r.t_ms)
        .Bind(3, int64_t{r.ok})
        .Bind(4, r.duration_ms)
        .Bind(5, int64_t{r.samples})
        .Bind(6, int64_t{r.rejected})
        .Bind(7, r.error)
        .Run();
  }
  void Flush() override {
    if (!writing_) return;
    Exec("COMMIT");
    writing_ = false;
  }
  // The list read last is kept and read again only when the series table changed: its triggers
  // count every insert, update and delete, by any process or by hand, in meta's series_version (a
  // 40,000-series site's list costs about 30 ms to read, the count microseconds). A store made
  // before the triggers existed also compares its largest id and row count.
  std::vector<SeriesInfo> Series() override {
    Statement& last = Prepared(
        "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key='series_version'), 0), "
        "coalesce(max(id), 0), count(*) FROM series");
    const Resets reset_last{last};
    FW_CHECK(last.Step(), "the series table has no max(id)");
    const std::array<int64_t, 3> version{last.Int(0), last.Int(1), last.Int(2)};
    if (version != series_version_) {
      Statement st(db_,
                   "SELECT id, entity, entity_id, quantity, unit, source, metric FROM series "
                   "ORDER BY entity, entity_id, quantity, source");
      series_ = SeriesRows(st);
      series_version_ = version;
    }
    return series_;
  }
  std::vector<SeriesInfo> SeriesOf(const std::string& entity) override {
    Statement& st = Prepared(
        "SELECT id, entity, entity_id, quantity, unit, source, metric FROM series WHERE entity=? "
        "ORDER BY entity, entity_id, quantity, source");
    const Resets reset{st};
    st.Bind(1, entity);
    return SeriesRows(st);
  }
  // The reads made per series (the detector's and the dashboard's 10,000 GPUs' at a time) keep
  // their statements prepared, and reset them once read: a statement left stepping holds its
  // snapshot.
  std::vector<SamplePoint> Recent(int64_t series, int64_t span_ms) override {
    return PreparedPoints(
        "SELECT t_ms, value, arrival_ms FROM samples WHERE series=?1 AND t_ms>=(SELECT t_ms FROM "
        "samples WHERE series=?1 ORDER BY t_ms DESC LIMIT 1)-?2 ORDER BY t_ms, rowid",
        series, span_ms);
  }
  std::vector<SeriesNewest> NewestOf(const std::string& entity,
                                     const std::string& quantity) override {
    // The newest row of each series by the (series, t_ms) index, the latest inserted on a tie
    // (as Newest).
    Statement& st = Prepared(
        "SELECT s.id, s.entity, s.entity_id, s.quantity, s.unit, s.source, s.metric, p.t_ms, "
        "p.value, p.arrival_ms FROM series s LEFT JOIN samples p ON p.rowid=(SELECT rowid FROM "
        "samples WHERE series=s.id ORDER BY t_ms DESC, rowid DESC LIMIT 1) WHERE s.entity=?1 AND "
        "s.quantity=?2 ORDER BY s.entity, s.entity_id, s.quantity, s.source");
    const Resets reset{st};
    st.Bind(1, entity).Bind(2, quantity);
    std::vector<SeriesNewest> out;
    while (st.Step()) {
      SeriesNewest row{
          {st.Int(0), {st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5), st.Text(6)}},
          std::nullopt};
      if (!st.Null(7)) row.newest = SamplePoint{st.Int(7), st.Real(8), st.Int(9)};
      out.push_back(std::move(row));
    }
    return out;
  }
  std::vector<SamplePoint> Samples(int64_t series) override {
    Statement& st =
        Prepared("SELECT t_ms, value, arrival_ms FROM samples WHERE series=? ORDER BY t_ms, rowid");
    const Resets reset{st};
    st.Bind(1, series);
    return PointRows(st);
  }
  std::vector<SamplePoint> SamplesSince(int64_t series, int64_t from_ms) override {
    return PreparedPoints(
        "SELECT t_ms, value, arrival_ms FROM samples WHERE series=?1 AND t_ms>=?2 "
        "ORDER BY t_ms, rowid",
        series, from_ms);
  }
  std::optional<SamplePoint> Newest(int64_t series) override {
    Statement& st = Prepared(
        "SELECT t_ms, value, arrival_ms FROM samples WHERE series=? "
        "ORDER BY t_ms DESC, rowid DESC LIMIT 1");
    const Resets reset{st};
    st.Bind(1, series);
    if (!st.Step()) return std::nullopt;
    return SamplePoint{st.Int(0), st.Real(1), st.Int(2)};
  }
  std::vector<ScrapeRecord> Scrapes(const std::string& source) override {
    Statement st(db_,
                 "SELECT source, t_ms, ok, duration_ms, samples, rejected, error FROM scrapes "
                 "WHERE source=? ORDER BY t_ms, rowid");
    st.Bind(1, source);
    std::vector<ScrapeRecord> out;
    while (st.Step()) {
      out.push_back({st.Text(0), st.Int(1), st.Int(2) != 0, st.Real(3), static_cast<int>(st.Int(4)),
                     static_cast<int>(st.Int(5)), st.Text(6)});
    }
    return out;
  }
  void PutQuality(int64_t run_ms, const std::vector<QualityRecord>& rows) override {
    BeginWrites();
    Exec("DELETE FROM quality");
    Statement& st = Prepared(
        "INSERT INTO quality(run_ms, scope, entity, entity_id, quantity, series, dimension, "
        "score, reasons) VALUES(?,?,?,?,?,?,?,?,?)");
    for (const QualityRecord& q : rows) {
      st.Bind(1, run_ms)
          .Bind(2, q.scope)
          .Bind(3, q.entity)
          .Bind(4, q.entity_id)
          .Bind(5, q.quantity)
          .Bind(6, q.series)
          .Bind(7, q.dimension)
          .Bind(8, q.score)
          .Bind(9, q.reasons)
          .Run();
    }
    Flush();
  }
  std::vector<QualityRecord> Quality() override {
    Statement st(db_,
                 "SELECT scope, entity, entity_id, quantity, series, dimension, score, reasons "
                 "FROM quality ORDER BY rowid");
    std::vector<QualityRecord> out;
    while (st.Step()) {
      out.push_back({st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Int(4), st.Text(5),
                     st.Real(6), st.Text(7)});
    }
    return out;
  }

  void PutQualityWindows(const std::vector<QualityWindowRecord>& rows) override {
    BeginWrites();
    Statement& st =
        Prepared("INSERT INTO quality_windows VALUES(?,?,?, ?,?,?, ?,?,?, ?,?,?, ?,?,?, ?,?,?)");
    for (const QualityWindowRecord& w : rows) {
      st.Bind(1, w.series).Bind(2, w.start_ms).Bind(3, w.end_ms);
      for (int d = 0; d < 5; ++d) {
        st.Bind(4 + 3 * d, w.score[static_cast<size_t>(d)])
            .Bind(5 + 3 * d, w.weight[static_cast<size_t>(d)]);
        // NULL for the common case, no reason.
        const std::string& why = w.reasons[static_cast<size_t>(d)];
        if (!why.empty() && why != "[]") st.Bind(6 + 3 * d, why);
      }
      st.Run();
    }
  }
  void VisitQualityWindows(int64_t from_ms, int64_t to_ms,
                           const std::function<void(const QualityWindowRecord&)>& visit) override {
    Statement st(db_,
                 "SELECT * FROM quality_windows WHERE end_ms > ? AND start_ms < ? ORDER BY rowid");
    st.Bind(1, from_ms).Bind(2, to_ms);
    QualityWindowRecord w;
    while (st.Step()) {
      w.series = st.Int(0);
      w.start_ms = st.Int(1);
      w.end_ms = st.Int(2);
      for (int d = 0; d < 5; ++d) {
        w.score[static_cast<size_t>(d)] = st.Real(3 + 3 * d);
        w.weight[static_cast<size_t>(d)] = st.Real(4 + 3 * d);
        w.reasons[static_cast<size_t>(d)] = st.Text(5 + 3 * d);
      }
      visit(w);
    }
  }
  void PutTwinRun(const TwinRunRecord& r) override {
    BeginWrites();
    Statement& st = Prepared(
        "INSERT INTO twin_runs(run_ms, kind, window_start_ms, window_end_ms, parameters_json, "
        "results_json) VALUES(?,?,?,?,?,?)");
    st.Bind(1, r.run_ms)
        .Bind(2, r.kind)
        .Bind(3, r.window_start_ms)
        .Bind(4, r.window_end_ms)
        .Bind(5, r.parameters_json)
        .Bind(6, r.results_json)
        .Run();
    Flush();
  }
  std::vector<TwinRunRecord> TwinRuns() override {
    Statement st(db_,
                 "SELECT run_ms, kind, window_start_ms, window_end_ms, parameters_json, "
                 "results_json FROM twin_runs ORDER BY rowid");
    std::vector<TwinRunRecord> out;
    while (st.Step()) {
      out.push_back({st.Int(0), st.Text(1), st.Int(2), st.Int(3), st.Text(4), st.Text(5)});
    }
    return out;
  }
  void PutDrift(const std::vector<DriftRecord>& rows) override {
    BeginWrites();
    Statement& st = Prepared(
        "INSERT INTO drift(run_ms, signal, window_start_ms, window_end_ms, cv_rmse, nmbe, "
        "cv_rmse_limit, nmbe_limit, drift, reason) VALUES(?,?,?,?,?,?,?,?,?,?)");
    for (const DriftRecord& d : rows) {
      st.Bind(1, d.run_ms)
          .Bind(2, d.signal)
          .Bind(3, d.window_start_ms)
          .Bind(4, d.window_end_ms)
          .Bind(5, d.cv_rmse)
          .Bind(6, d.nmbe)
          .Bind(7, d.cv_rmse_limit)
          .Bind(8, d.nmbe_limit)
          .Bind(9, int64_t{d.drift})
          .Bind(10, d.reason)
          .Run();
    }
    Flush();
  }
  std::vector<DriftRecord> Drift() override {
    Statement st(db_,
                 "SELECT run_ms, signal, window_start_ms, window_end_ms, cv_rmse, nmbe, "
                 "cv_rmse_limit, nmbe_limit, drift, reason FROM drift ORDER BY rowid");
    std::vector<DriftRecord> out;
    while (st.Step()) {
      out.push_back({st.Int(0), st.Text(1), st.Int(2), st.Int(3), st.Real(4), st.Real(5),
                     st.Real(6), st.Real(7), st.Int(8) != 0, st.Text(9)});
    }
    return out;
  }

 private:
  // The rows of (id, entity, entity_id, quantity, unit, source, metric).
  static std::vector<SeriesInfo> SeriesRows(Statement& st) {
    std::vector<SeriesInfo> out;
    while (st.Step()) {
      out.push_back(
          {st.Int(0), {st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5), st.Text(6)}});
    }
    return out;
  }
  // The rows of (t_ms, value, arrival_ms).
  static std::vector<SamplePoint> PointRows(Statement& st) {
    std::vector<SamplePoint> out;
    while (st.Step()) out.push_back({st.Int(0), st.Real(1), st.Int(2)});
    return out;
  }
  // The points a prepared statement of two integer parameters reads.
  std::vector<SamplePoint> PreparedPoints(const char* sql, int64_t first, int64_t second) {
    Statement& st = Prepared(sql);
    const Resets reset{st};
    st.Bind(1, first);
    st.Bind(2, second);
    return PointRows(st);
  }
  // Writes are batched in a transaction from the first write to Flush. Reads outside one run each
  // on its own snapshot, so a long-lived reader (firstwall serve, mcp) sees what ingest commits;
  // a transaction held open from the start had kept the first read's snapshot for good (and
  // stopped the WAL from being checkpointed).
  void BeginWrites() {
    if (writing_) return;
    Exec("BEGIN");
    writing_ = true;
  }
  struct Resets {
    Statement& st;
    ~Resets() { st.Reset(); }
  };
  bool writing_ = false;
  std::vector<SeriesInfo> series_;  // Series() as last read, at (series_version, max id, count)
  std::array<int64_t, 3> series_version_{-1, -1, -1};
  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string why = err ? err : "unknown error";
      sqlite3_free(err);
      throw std::runtime_error(fmt::format("store: {}: {}", sql, why));
    }
  }
  Statement& Prepared(const char* sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      it = statements_.emplace(sql, std::make_unique<Statement>(db_, sql)).first;
    }
    it->second->Reset();
    return *it->second;
  }

  sqlite3* db_ = nullptr;
  std::map<const char*, std::unique_ptr<Statement>> statements_;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, int64_t> ids_;
};

}  // namespace

std::vector<SamplePoint> Store::SamplesSince(int64_t series, int64_t from_ms) {
  std::vector<SamplePoint> all = Samples(series);
  std::erase_if(all, [&](const SamplePoint& p) { return p.t_ms < from_ms; });
  return all;
}

std::vector<SeriesInfo> Store::SeriesOf(const std::string& entity) {
  std::vector<SeriesInfo> all = Series();
  std::erase_if(all, [&](const SeriesInfo& s) { return s.key.entity != entity; });
  return all;
}

std::vector<SamplePoint> Store::Recent(int64_t series, int64_t span_ms) {
  const std::optional<SamplePoint> newest = Newest(series);
  if (!newest) return {};
  return SamplesSince(series, newest->t_ms - span_ms);
}

std::vector<Store::SeriesNewest> Store::NewestOf(const std::string& entity,
                                                 const std::string& quantity) {
  std::vector<SeriesNewest> out;
  for (SeriesInfo& s : SeriesOf(entity)) {
    if (s.key.quantity != quantity) continue;
    std::optional<SamplePoint> p = Newest(s.id);
    out.push_back({std::move(s), p});
  }
  return out;
}

std::optional<SamplePoint> Store::Newest(int64_t series) {
  const std::vector<SamplePoint> all = Samples(series);
  if (all.empty()) return std::nullopt;
  return all.back();
}

ForwardingStore::ForwardingStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {
  FW_CHECK(inner_ != nullptr, "a forwarding store needs a store");
}

std::unique_ptr<Store> OpenSqliteStore(const std::string& path) {
  return std::make_unique<SqliteStore>(path);
}

bool IsPostgresUrl(const std::string& db) {
  return db.starts_with("postgresql://") || db.starts_with("postgres://");
}

std::unique_ptr<Store> OpenExistingStore(const std::string& db) {
  if (IsPostgresUrl(db)) return OpenPostgresStore(db);
  const std::string hint = "firstwall ingest SITE_MAP --db FILE fills one";
  if (db.empty()) throw InputError({"--db", 0, 0}, "an empty path names no store", hint);
  // Said plainly: SQLite calls a missing file "unable to open" and a directory a "disk I/O error".
  std::error_code ec;
  if (!std::filesystem::exists(db, ec))
    throw InputError({db, 0, 0}, "no store: file not found", hint);
  if (std::filesystem::is_directory(db, ec)) {
    throw InputError({db, 0, 0}, "no store: a directory, not a store file", hint);
  }
  sqlite3* raw = nullptr;
  // Read-only, without creating: a file that is not a store is not turned into one.
  const int rc = sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> handle(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    throw InputError(
        {db, 0, 0}, fmt::format("no store: {}", raw ? sqlite3_errmsg(raw) : "out of memory"), hint);
  }
  sqlite3_stmt* st = nullptr;
  bool store = false;
  if (sqlite3_prepare_v2(raw, "SELECT value FROM meta WHERE key='firstwall_store'", -1, &st,
                         nullptr) == SQLITE_OK) {
    store = sqlite3_step(st) == SQLITE_ROW;
  }
  sqlite3_finalize(st);
  if (!store) {
    throw InputError(
        {db, 0, 0},
        fmt::format("not a firstwall store: {}",
                    st ? "its meta table does not name it one" : std::string(sqlite3_errmsg(raw))),
        hint);
  }
  handle.reset();
  return OpenSqliteStore(db);
}

std::unique_ptr<Store> OpenStore(const std::string& db) {
  return IsPostgresUrl(db) ? OpenPostgresStore(db) : OpenSqliteStore(db);
}

}  // namespace firstwall::live
