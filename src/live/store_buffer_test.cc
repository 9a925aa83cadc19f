#include "live/store_buffer.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "live/temp_path_test_util.h"

namespace firstwall::live {
namespace {

// A store whose database can be switched off: while `up` is false every call that would reach
// the database throws StoreUnavailable and drops what was pending, as the PostgreSQL store does.
// With `lazy`, it hands out series ids without reaching the database and writes their rows with
// the next commit, as the PostgreSQL store does; ids count from `first_id`.
class FakeStore : public Store {
 public:
  bool up = true, lazy = false;
  int64_t first_id = 1;
  int calls_while_down = 0;
  std::map<int64_t, SeriesKey> series;
  std::map<int64_t, std::vector<SamplePoint>> samples;  // committed
  std::vector<ScrapeRecord> scrapes;
  std::vector<SourceInfo> sources;

  void PutSource(const SourceInfo& s) override { pending_sources_.push_back(s); }
  std::vector<SourceInfo> Sources() override { return sources; }
  int64_t SeriesId(const SeriesKey& key) override {
    if (!lazy) Reach();
    for (const auto* m : {&series, &unsaved_}) {
      for (const auto& [id, k] : *m) {
        if (k == key) return id;
      }
    }
    const int64_t id = first_id + static_cast<int64_t>(series.size() + unsaved_.size());
    (lazy ? unsaved_ : series)[id] = key;
    return id;
  }
  void Append(int64_t id, std::span<const SamplePoint> points) override {
    EXPECT_TRUE(series.contains(id) || unsaved_.contains(id)) << "no series " << id;
    for (const SamplePoint& p : points) pending_.emplace_back(id, p);
  }
  void RecordScrape(const ScrapeRecord& r) override { pending_scrapes_.push_back(r); }
  void Flush() override {
    Reach();
    series.merge(unsaved_);
    for (const auto& [id, p] : pending_) samples[id].push_back(p);
    scrapes.insert(scrapes.end(), pending_scrapes_.begin(), pending_scrapes_.end());
    sources.insert(sources.end(), pending_sources_.begin(), pending_sources_.end());
    Drop();
  }
  std::vector<SeriesInfo> Series() override { return {}; }
  std::vector<SamplePoint> Samples(int64_t id) override { return samples[id]; }
  std::vector<ScrapeRecord> Scrapes(const std::string&) override { return scrapes; }
  void PutQuality(int64_t, const std::vector<QualityRecord>&) override {}
  std::vector<QualityRecord> Quality() override { return {}; }
  void PutTwinRun(const TwinRunRecord&) override {}
  std::vector<TwinRunRecord> TwinRuns() override { return {}; }
  void PutDrift(const std::vector<DriftRecord>&) override {}
  std::vector<DriftRecord> Drift() override { return {}; }
  void PutQualityWindows(const std::vector<QualityWindowRecord>& rows) override {
    Reach();
    windows.insert(windows.end(), rows.begin(), rows.end());
  }
  void VisitQualityWindows(int64_t, int64_t,
                           const std::function<void(const QualityWindowRecord&)>& visit) override {
    for (const QualityWindowRecord& w : windows) visit(w);
  }
  std::vector<QualityWindowRecord> windows;

  int64_t Committed() const {
    int64_t n = 0;
    for (const auto& [id, v] : samples) n += static_cast<int64_t>(v.size());
    return n;
  }

 private:
  void Reach() {
    if (up) return;
    ++calls_while_down;
    Drop();
    throw StoreUnavailable("fake: connection refused");
  }
  void Drop() {
    pending_.clear();
    pending_scrapes_.clear();
    pending_sources_.clear();
  }
  std::vector<std::pair<int64_t, SamplePoint>> pending_;
  std::vector<ScrapeRecord> pending_scrapes_;
  std::vector<SourceInfo> pending_sources_;
  std::map<int64_t, SeriesKey> unsaved_;  // lazy: rows waiting for a commit (kept on failure)
};

BufferOptions Options(const std::string& spool, std::vector<std::string>* log) {
  BufferOptions o;
  o.spool_path = spool;
  o.store_name = "fake";
  o.retry_min_s = o.retry_max_s = 0;  // every Flush tries the database again
  o.log = [log](const std::string& line) { log->push_back(line); };
  return o;
}

void Put(Store& s, int64_t id, int64_t t_ms, double v) {
  const SamplePoint p{t_ms, v, t_ms + 7};  // arrived 7 ms after its own time
  s.Append(id, {&p, 1});
}

const SeriesKey kA{"gpu", "node0/gpu0", "power", "W", "node0", "a"};
const SeriesKey kB{"gpu", "node0/gpu1", "power", "W", "node0", "b"};

TEST(BufferedStore, KeepsEverySampleInOrderThroughAnOutage) {
  std::vector<std::string> log;
  const std::string path = TempPath("outage.bin");
  auto owned = std::make_unique<FakeStore>();
  FakeStore& db = *owned;
  BufferedStore s(std::move(owned), Options(path, &log));

  s.PutSource({"node0", "prometheus", "http://x/metrics", 1});
  const int64_t a = s.SeriesId(kA);
  EXPECT_EQ(a, 1);
  Put(s, a, 1000, 1);
  Put(s, a, 2000, 2);
  s.RecordScrape({"node0", 1000, true, 1, 2, 0, ""});
  s.Flush();
  EXPECT_EQ(db.Committed(), 2);

  db.up = false;
  Put(s, a, 3000, 3);
  const int64_t b = s.SeriesId(kB);  // the database is away: a provisional id
  EXPECT_LT(b, 0);
  Put(s, b, 3000, 30);
  Put(s, b, 4000, std::nan(""));
  s.RecordScrape({"node0", 3000, true, 1, 2, 0, ""});
  // Quality windows scored meanwhile, one of them for the provisional series: they wait.
  QualityWindowRecord wa, wb;
  wa.series = a;
  wb.series = b;
  wb.start_ms = 60000;
  s.PutQualityWindows({wa, wb});
  s.Flush();
  Put(s, a, 4000, 4);
  s.Flush();
  EXPECT_EQ(db.Committed(), 2);
  EXPECT_EQ(s.stats().outages, 1);
  EXPECT_EQ(s.stats().spooled_batches, 2);
  EXPECT_EQ(s.stats().spooled_samples, 4);
  EXPECT_EQ(s.stats().waiting_samples, 4);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log[0].find("store unavailable (fake: connection refused): spooling batches to"),
            std::string::npos)
      << log[0];

  db.up = true;
  Put(s, b, 5000, 50);  // still the provisional id: the caller keeps what it was given
  s.Flush();
  EXPECT_EQ(db.Committed(), 7);
  EXPECT_EQ(s.stats().replayed_samples, 4);
  EXPECT_EQ(s.stats().replayed_batches, 2);
  EXPECT_EQ(s.stats().waiting_samples, 0);
  EXPECT_EQ(s.stats().dropped_samples, 0);
  EXPECT_NE(log.back().find("store back after"), std::string::npos) << log.back();
  EXPECT_NE(log.back().find(" 4 spooled sample(s) replayed"), std::string::npos) << log.back();
  // b became series 2 in the database; every sample in order, NaN kept.
  ASSERT_EQ(db.series.size(), 2u);
  EXPECT_EQ(db.series[2], kB);
  const std::vector<SamplePoint>& sa = db.samples[1];
  ASSERT_EQ(sa.size(), 4u);
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_EQ(sa[i].t_ms, 1000 * static_cast<int64_t>(i + 1));
  EXPECT_EQ(sa[2].arrival_ms, 3000 + 7);  // kept through the spool
  const std::vector<SamplePoint>& sb = db.samples[2];
  ASSERT_EQ(sb.size(), 3u);
  EXPECT_EQ(sb[0].value, 30);
  EXPECT_TRUE(std::isnan(sb[1].value));
  EXPECT_EQ(sb[2].t_ms, 5000);
  EXPECT_EQ(db.scrapes.size(), 2u);
  EXPECT_EQ(db.sources.size(), 1u);
  // The windows went with the first Flush that reached the database, b's under its real id.
  ASSERT_EQ(db.windows.size(), 2u);
  EXPECT_EQ(db.windows[0].series, 1);
  EXPECT_EQ(db.windows[1].series, 2);
  EXPECT_EQ(db.windows[1].start_ms, 60000);
  // After the outage the provisional id still lands on series 2, and the spool is empty again.
  Put(s, b, 6000, 60);
  s.Flush();
  EXPECT_EQ(db.samples[2].size(), 4u);
  EXPECT_EQ(std::filesystem::file_size(path), 8u + 8 + 4 + 4);  // the header alone ("fake")
}

TEST(BufferedStore, WaitsForTheBackoffBeforeTryingAgain) {
  std::vector<std::string> log;
  BufferOptions o = Options(TempPath("backoff.bin"), &log);
  o.retry_min_s = o.retry_max_s = 3600;
  auto owned = std::make_unique<FakeStore>();
  FakeStore& db = *owned;
  BufferedStore s(std::move(owned), o);
  const int64_t a = s.SeriesId(kA);
  db.up = false;
  for (int i = 0; i < 5; ++i) {
    Put(s, a, i * 1000, i);
    s.Flush();
  }
  EXPECT_EQ(db.calls_while_down, 1);  // the first Flush found it away; the others spooled
  EXPECT_EQ(s.stats().spooled_samples, 5);
  db.up = true;
  EXPECT_FALSE(s.Drain(0));  // the next try is an hour away
  EXPECT_EQ(db.Committed(), 0);
  EXPECT_EQ(s.stats().waiting_samples, 5);
}

TEST(BufferedStore, AFullSpoolDropsAndCountsTheSamples) {
  std::vector<std::string> log;
  BufferOptions o = Options(TempPath("full.bin"), &log);
  // Header 24 bytes; a batch of 3 samples of a known series: 12 + 4 + 4 + 8 + 3 x 24 + 4 = 104.
  o.spool_limit_bytes = 24 + 104 + 50;
  auto owned = std::make_unique<FakeStore>();
  FakeStore& db = *owned;
  BufferedStore s(std::move(owned), o);
  const int64_t a = s.SeriesId(kA);
  Put(s, a, 0, 0);
  s.Flush();  // committed: the batches below need not carry the series' key
  db.up = false;
  int64_t appended = 0;
  for (int batch = 0; batch < 3; ++batch) {
    for (int i = 0; i < 3; ++i, ++appended) Put(s, a, (appended + 1) * 1000, 1);
    s.Flush();
  }
  EXPECT_EQ(s.stats().spooled_samples, 3);
  EXPECT_EQ(s.stats().dropped_samples, 6);
  EXPECT_EQ(s.stats().dropped_batches, 2);
  int told = 0;
  for (const std::string& line : log)
    told += line.find("the spool is full (178 bytes)") != std::string::npos;
  EXPECT_EQ(told, 1) << "said once per outage";
  db.up = true;
  EXPECT_TRUE(s.Drain(0));
  EXPECT_EQ(db.Committed(), 1 + 3);
  EXPECT_EQ(db.Committed() + s.stats().dropped_samples, 1 + appended);
}

TEST(BufferedStore, ASpoolLeftByOneRunIsReplayedByTheNext) {
  std::vector<std::string> log;
  const std::string path = TempPath("left.bin");
  {
    auto down = std::make_unique<FakeStore>();
    down->up = false;
    BufferedStore s(std::move(down), Options(path, &log));
    const int64_t b = s.SeriesId(kB);
    Put(s, b, 1000, 10);
    Put(s, b, 2000, 20);
    s.Flush();
    Put(s, b, 3000, 30);
  }  // the destructor spools the last batch too
  EXPECT_TRUE(std::filesystem::exists(path));
  // Another store's spool is refused, naming the file.
  try {
    BufferOptions other = Options(path, &log);
    other.store_name = "postgresql://elsewhere/db";
    BufferedStore s(std::make_unique<FakeStore>(), other);
    ADD_FAILURE() << "opened another store's spool";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, path);
    EXPECT_NE(e.message().find("batches for another store"), std::string::npos) << e.message();
  }
  // A torn write at the end (the process died writing): the whole batches before it replay.
  std::ofstream(path, std::ios::app | std::ios::binary) << "FWSB\x40";
  auto owned = std::make_unique<FakeStore>();
  FakeStore& db = *owned;
  log.clear();
  BufferedStore s(std::move(owned), Options(path, &log));
  EXPECT_EQ(s.stats().waiting_samples, 3);
  EXPECT_TRUE(s.Drain(0));
  ASSERT_EQ(db.series.size(), 1u);
  EXPECT_EQ(db.series[1], kB);
  ASSERT_EQ(db.samples[1].size(), 3u);
  EXPECT_EQ(db.samples[1][2].value, 30);
  EXPECT_EQ(s.stats().replayed_samples, 3);
  ASSERT_GE(log.size(), 2u);
  EXPECT_NE(log[0].find("holds 3 sample(s) from an earlier run"), std::string::npos) << log[0];
  EXPECT_NE(log[1].find("damaged batch at byte"), std::string::npos) << log[1];
  // A new series of this run does not take an id the earlier run's spool used.
  db.up = false;
  EXPECT_EQ(s.SeriesId(kA), -2);
}

TEST(BufferedStore, AnIdGivenOutBeforeAnyCommitIsFoundAgainByTheNextRun) {
  std::vector<std::string> log;
  const std::string path = TempPath("lazy.bin");
  {
    auto down = std::make_unique<FakeStore>();
    down->lazy = true;
    down->up = false;
    BufferedStore s(std::move(down), Options(path, &log));
    const int64_t a = s.SeriesId(kA);  // no round trip: a real-looking id, its row not written
    EXPECT_EQ(a, 1);
    Put(s, a, 1000, 10);
    Put(s, a, 2000, 20);
    s.Flush();
  }
  // The next run's database never saw id 1: the spooled key makes the series there.
  auto owned = std::make_unique<FakeStore>();
  owned->lazy = true;
  owned->first_id = 100;
  FakeStore& db = *owned;
  BufferedStore s(std::move(owned), Options(path, &log));
  EXPECT_TRUE(s.Drain(0));
  ASSERT_EQ(db.series.size(), 1u);
  EXPECT_EQ(db.series[100], kA);
  ASSERT_EQ(db.samples[100].size(), 2u);
  EXPECT_FALSE(db.samples.contains(1));
}

TEST(StoreUrl, PostgresUrlsAreToldApartAndTheirPasswordsHidden) {
  EXPECT_TRUE(IsPostgresUrl("postgresql://fw@127.0.0.1:5432/db"));
  EXPECT_TRUE(IsPostgresUrl("postgres://h/db"));
  EXPECT_FALSE(IsPostgresUrl("live.db"));
  EXPECT_FALSE(IsPostgresUrl("/tmp/postgresql://x"));
  EXPECT_EQ(RedactUrl("postgresql://fw:se%40cret@db.example:5433/tw?sslmode=require"),
            "postgresql://fw:***@db.example:5433/tw?sslmode=require");
  EXPECT_EQ(RedactUrl("postgresql://fw@h/db?password=abc&connect_timeout=3"),
            "postgresql://fw@h/db?password=***&connect_timeout=3");
  EXPECT_EQ(RedactUrl("postgresql://fw@h/db"), "postgresql://fw@h/db");
  EXPECT_EQ(RedactUrl("postgresql://h:5432/db"), "postgresql://h:5432/db");
}

TEST(PostgresStore, ARefusedConnectionNamesTheUrlWithoutItsPassword) {
  try {
    OpenPostgresStore("postgresql://fw:sekret@127.0.0.1:1/db");
    ADD_FAILURE() << "port 1 answered";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, "postgresql://fw:***@127.0.0.1:1/db");
    EXPECT_NE(e.message().find("cannot connect to PostgreSQL"), std::string::npos) << e.message();
    EXPECT_EQ(e.message().find("sekret"), std::string::npos) << e.message();
  }
  try {
    OpenStore("postgresql://fw:sekret@[::1");
    ADD_FAILURE() << "a malformed URL was taken";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).find("sekret"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace firstwall::live
