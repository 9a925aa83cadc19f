#include "live/store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "core/error.h"
#include "live/temp_path_test_util.h"

namespace firstwall::live {
namespace {

TEST(SqliteStore, RoundTripsAcrossReopen) {
  const std::string db = TempPath("round.db");
  const SeriesKey power{"gpu", "node0/gpu3", "power", "W", "node0", "DCGM_FI_DEV_POWER_USAGE"};
  const SeriesKey energy{"gpu", "node0/gpu3", "energy",
                         "J",   "node0",      "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"};
  {
    auto s = OpenSqliteStore(db);
    s->PutSource({"node0", "prometheus", "http://127.0.0.1:9400/metrics", 0.5});
    const int64_t p = s->SeriesId(power);
    const int64_t e = s->SeriesId(energy);
    EXPECT_NE(p, e);
    EXPECT_EQ(s->SeriesId(power), p);
    const std::vector<SamplePoint> pts = {{2000, 700.5}, {1000, 650}, {3000, std::nan("")}};
    s->Append(p, pts);
    s->RecordScrape({"node0", 1000, true, 3.5, 12, 1, ""});
    s->RecordScrape({"node0", 1500, false, 5000, 0, 0, "timed out"});
    s->Flush();
    s->PutQuality(4000, {{"stream", "gpu", "node0/gpu3", "power", p, "timeliness", 0.25, "late"}});
  }
  auto s = OpenSqliteStore(db);
  const auto series = s->Series();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].key, energy);  // ordered by quantity
  EXPECT_EQ(series[1].key, power);
  const auto got = s->Samples(series[1].id);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].t_ms, 1000);
  EXPECT_EQ(got[0].value, 650);
  EXPECT_EQ(got[1].value, 700.5);
  EXPECT_TRUE(std::isnan(got[2].value));
  const auto scrapes = s->Scrapes("node0");
  ASSERT_EQ(scrapes.size(), 2u);
  EXPECT_TRUE(scrapes[0].ok);
  EXPECT_EQ(scrapes[0].rejected, 1);
  EXPECT_EQ(scrapes[1].error, "timed out");
  const auto sources = s->Sources();
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].interval_s, 0.5);
  const auto q = s->Quality();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].score, 0.25);
  EXPECT_EQ(q[0].reasons, "late");
  // The same series id after reopening.
  EXPECT_EQ(s->SeriesId(power), series[1].id);
}

// A window's rows and the newest one, read through the index, agree with the whole series read
// and filtered (the base class's way, which every other store inherits).
TEST(SqliteStore, SamplesSinceAndNewestAgreeWithTheWholeSeries) {
  auto s = OpenSqliteStore(TempPath("since.db"));
  const int64_t id = s->SeriesId({"gpu", "g0", "power", "W", "n0", "m"});
  const int64_t empty = s->SeriesId({"gpu", "g1", "power", "W", "n0", "m"});
  // Out of order, a tie at 3000 ms (insertion order breaks it), and a NaN.
  const std::vector<SamplePoint> pts = {
      {4000, 4}, {1000, 1}, {3000, 3}, {2000, std::nan("")}, {3000, 3.5}};
  s->Append(id, pts);
  s->Flush();
  const std::vector<SamplePoint> all = s->Samples(id);
  for (int64_t from :
       {INT64_MIN, int64_t{0}, int64_t{2000}, int64_t{3000}, int64_t{3001}, int64_t{5000}}) {
    const std::vector<SamplePoint> since = s->SamplesSince(id, from);
    std::vector<SamplePoint> want;
    for (const SamplePoint& p : all) {
      if (p.t_ms >= from) want.push_back(p);
    }
    ASSERT_EQ(since.size(), want.size()) << from;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(since[i].t_ms, want[i].t_ms);
      EXPECT_TRUE(since[i].value == want[i].value ||
                  (std::isnan(since[i].value) && std::isnan(want[i].value)));
    }
  }
  ASSERT_TRUE(s->Newest(id));
  EXPECT_EQ(s->Newest(id)->t_ms, 4000);
  EXPECT_EQ(s->Newest(id)->value, 4);
  EXPECT_FALSE(s->Newest(empty));
  EXPECT_TRUE(s->SamplesSince(empty, 0).empty());
  // A series' own last span: from its newest sample's time back, in one statement; the base
  // class's Newest and SamplesSince agree.
  for (int64_t span : {int64_t{0}, int64_t{1000}, int64_t{2500}, int64_t{1'000'000}}) {
    const std::vector<SamplePoint> recent = s->Recent(id, span);
    const std::vector<SamplePoint> want = s->SamplesSince(id, 4000 - span);
    ASSERT_EQ(recent.size(), want.size()) << span;
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(recent[i].t_ms, want[i].t_ms);
    EXPECT_EQ(s->Store::Recent(id, span).size(), want.size()) << span;
  }
  EXPECT_TRUE(s->Recent(empty, 1000).empty());
  // One entity kind's series, in Series()' order.
  s->SeriesId({"facility", "site", "power", "W", "n0", "m"});
  const std::vector<SeriesInfo> gpus = s->SeriesOf("gpu");
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0].id, id);
  EXPECT_EQ(gpus[1].id, empty);
  EXPECT_EQ(s->Store::SeriesOf("gpu").size(), 2u);
  EXPECT_EQ(s->SeriesOf("facility").size(), 1u);
  EXPECT_TRUE(s->SeriesOf("cdu").empty());
  // The tie: the later insertion is the later sample.
  const std::vector<SamplePoint> ties = s->SamplesSince(id, 3000);
  ASSERT_EQ(ties.size(), 3u);
  EXPECT_EQ(ties[0].value, 3);
  EXPECT_EQ(ties[1].value, 3.5);
  // Each series' newest in one statement, as the base class's SeriesOf and Newest read them: the
  // later insertion of a tie, a NaN newest, and a series without samples.
  const SeriesKey gpu2{"gpu", "g2", "power", "W", "n0", "m"};
  const int64_t nan_last = s->SeriesId(gpu2);
  const std::vector<SamplePoint> nan_pts = {{5000, 7}, {6000, std::nan("")}};
  s->Append(nan_last, nan_pts);
  const std::vector<SamplePoint> tie = {{4000, 4.25}};
  s->Append(id, tie);
  s->SeriesId({"gpu", "g0", "temperature", "C", "n0", "t"});
  const std::vector<Store::SeriesNewest> newest = s->NewestOf("gpu", "power");
  const std::vector<Store::SeriesNewest> want = s->Store::NewestOf("gpu", "power");
  ASSERT_EQ(newest.size(), 3u);
  ASSERT_EQ(want.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(newest[i].series.id, want[i].series.id);
    EXPECT_EQ(newest[i].series.key, want[i].series.key);
    ASSERT_EQ(newest[i].newest.has_value(), want[i].newest.has_value()) << i;
    if (!want[i].newest) continue;
    EXPECT_EQ(newest[i].newest->t_ms, want[i].newest->t_ms);
    EXPECT_TRUE(newest[i].newest->value == want[i].newest->value ||
                (std::isnan(newest[i].newest->value) && std::isnan(want[i].newest->value)));
  }
  EXPECT_EQ(newest[0].newest->value, 4.25);  // g0: the tie at 4000, inserted last
  EXPECT_FALSE(newest[1].newest);            // g1: none
  EXPECT_TRUE(std::isnan(newest[2].newest->value));
  EXPECT_EQ(newest[2].newest->t_ms, 6000);
  EXPECT_TRUE(s->NewestOf("gpu", "energy").empty());
}

// firstwall serve and mcp read a store that ingest writes as they run: each read sees what was
// committed before it, not the snapshot of the reader's first read.
TEST(SqliteStore, AReaderSeesWhatAWriterCommitsAfterItsFirstRead) {
  const std::string db = TempPath("live-reader.db");
  const SeriesKey power{"facility", "site",  "power",
                        "W",        "meter", "firstwall_facility_power_watts"};
  auto writer = OpenSqliteStore(db);
  const int64_t id = writer->SeriesId(power);
  const std::vector<SamplePoint> first = {{1000, 5e6}};
  writer->Append(id, first);
  writer->Flush();
  auto reader = OpenSqliteStore(db);
  ASSERT_EQ(reader->Series().size(), 1u);
  EXPECT_EQ(reader->Newest(id)->t_ms, 1000);
  EXPECT_EQ(reader->SamplesSince(id, 0).size(), 1u);
  const std::vector<SamplePoint> second = {{2000, 6e6}};
  writer->Append(id, second);
  // Not committed yet: not seen.
  EXPECT_EQ(reader->Newest(id)->t_ms, 1000);
  writer->Flush();
  EXPECT_EQ(reader->Newest(id)->t_ms, 2000);
  EXPECT_EQ(reader->SamplesSince(id, 0).size(), 2u);
  EXPECT_EQ(reader->Samples(id).size(), 2u);
  // A series added later is listed too.
  writer->SeriesId({"meter", "cooling", "power", "W", "meter", "firstwall_cooling_power_watts"});
  writer->Flush();
  EXPECT_EQ(reader->Series().size(), 2u);
}

// A series deleted and another added under its id (SQLite reuses the largest id) leaves the
// largest id and the count as they were: the reader's kept list is read again all the same.
TEST(SqliteStore, AReaderSeesASeriesReplacedByHand) {
  const std::string db = TempPath("replaced.db");
  auto reader = OpenSqliteStore(db);
  {
    auto writer = OpenSqliteStore(db);
    writer->SeriesId({"gpu", "g0", "power", "W", "n0", "m"});
    writer->SeriesId({"gpu", "g1", "power", "W", "n0", "m"});
    writer->Flush();
  }
  ASSERT_EQ(reader->Series().size(), 2u);
  EXPECT_EQ(reader->Series()[1].key.entity_id, "g1");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DELETE FROM series WHERE entity_id='g1'; INSERT INTO series(entity, "
                         "entity_id, quantity, unit, source, metric) VALUES('gpu','g9','power','W',"
                         "'n0','m')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  const std::vector<SeriesInfo> after = reader->Series();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1].key.entity_id, "g9");
  ASSERT_EQ(sqlite3_exec(raw, "UPDATE series SET unit='kW' WHERE entity_id='g9'", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  EXPECT_EQ(reader->Series()[1].key.unit, "kW");
  sqlite3_close(raw);
}

TEST(SqliteStore, RefusesAFileThatIsNotAStore) {
  const std::string db = TempPath("text.db");
  {
    FILE* f = fopen(db.c_str(), "w");
    fputs("this is not a database, just some text long enough to be looked at...\n", f);
    fclose(f);
  }
  EXPECT_THROW(OpenSqliteStore(db), InputError);
}

}  // namespace
}  // namespace firstwall::live
