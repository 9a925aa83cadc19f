#include "live/quality_windows.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "live/temp_path_test_util.h"

namespace firstwall::live {
namespace {

// Two GPUs' power and one energy counter read every second for three 10 s windows (t = 0..29 s).
// GPU 0's meter switches to kW exactly at the second window's start and back at the third's;
// the counter resets at the third window's start; GPU 1 misses every sample of the second window.
struct Site {
  std::unique_ptr<Store> store;
  int64_t p0 = 0, p1 = 0, e0 = 0;
  explicit Site(const std::string& db) : store(OpenSqliteStore(TempPath(db))) {
    p0 = store->SeriesId({"gpu", "g0", "power", "W", "s", "p0"});
    p1 = store->SeriesId({"gpu", "g1", "power", "W", "s", "p1"});
    e0 = store->SeriesId({"gpu", "g0", "energy", "J", "s", "e0"});
  }
  void Run(QualityWindows& w) {
    store->PutSource({"s", "prometheus", "http://x/metrics", 1});
    const std::vector<SeriesInfo> all = store->Series();
    for (const SeriesInfo& info : all) w.AddSeries(info, 1);
    double energy = 0;
    for (int t = 0; t < 30; ++t) {
      const int64_t ms = 1000 * t;
      w.AddRead("s", ms, true, 0);
      const double watts = 500 + (t % 3);
      energy = t == 20 ? 0 : energy + watts;
      const SamplePoint a{ms, t >= 10 && t < 20 ? watts / 1000 : watts};
      const SamplePoint b{ms, watts};
      const SamplePoint c{ms, energy};
      auto add = [&](int64_t id, const SamplePoint& p) {
        w.AddSample(id, p);
        store->Append(id, {&p, 1});
      };
      add(p0, a);
      if (t < 10 || t >= 20) add(p1, b);
      add(e0, c);
      store->RecordScrape({"s", ms, true, 0, 3, 0, ""});
    }
    w.Finish();
  }
};

const StreamQuality& Of(const QualityReport& r, int64_t id) {
  for (const StreamQuality& q : r.streams) {
    if (q.series.id == id) return q;
  }
  throw std::runtime_error("no stream");
}

bool Mentions(const Score& s, const std::string& text) {
  for (const std::string& r : s.reasons) {
    if (r.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(QualityWindows, EdgesOfWindowsAreSeenAndMergesWeighSamples) {
  Site site("windows.db");
  QualityWindows w(*site.store, 10, {}, 10);  // each window stored as it is
  site.Run(w);
  EXPECT_EQ(w.windows_closed(), 3);
  const auto rows = site.store->QualityWindows(INT64_MIN, INT64_MAX);
  ASSERT_EQ(rows.size(), 9u);
  EXPECT_EQ(rows[0].start_ms, 0);
  EXPECT_EQ(rows[3].start_ms, 10000);
  const QualityReport r = MergeWindows(rows, site.store->Series());
  // GPU 0: the 10 samples in kW (the whole second window) are at a changed scale: consistency
  // 1 - 10/30 in all; the change at 10 s and the change back at 20 s are both seen, at the edges.
  const StreamQuality& g0 = Of(r, site.p0);
  EXPECT_DOUBLE_EQ(g0.dims[2].score, 1 - 10.0 / 30);
  EXPECT_TRUE(Mentions(g0.dims[2], "window +10 s: scale changed x0.001 at +0 s"));
  EXPECT_TRUE(Mentions(g0.dims[2], "window +20 s: scale changed x1000 at +0 s"));
  // The counter's reset at the third window's first sample.
  EXPECT_TRUE(Mentions(Of(r, site.e0).dims[2], "window +20 s: counter went backwards at +0 s"));
  EXPECT_DOUBLE_EQ(Of(r, site.e0).dims[2].score, 1 - 1.0 / 30);
  // GPU 1 received 20 of 30 expected samples; its empty window scores 0 with weight 10.
  EXPECT_DOUBLE_EQ(Of(r, site.p1).dims[1].score, 20.0 / 30);
  // The store-wide score agrees where windows do not change the judgement.
  const QualityReport whole = AssessQuality(StreamsOf(*site.store));
  EXPECT_DOUBLE_EQ(Of(whole, site.e0).dims[2].score, Of(r, site.e0).dims[2].score);

  // Folded into one 30 s row per stream as ingest stores a long run: the same merged scores.
  Site folded("folded.db");
  QualityWindows f(*folded.store, 10, {}, 30);
  folded.Run(f);
  const auto one = folded.store->QualityWindows(INT64_MIN, INT64_MAX);
  ASSERT_EQ(one.size(), 3u);
  EXPECT_EQ(one[0].end_ms - one[0].start_ms, 30000);
  const QualityReport rf = MergeWindows(one, folded.store->Series());
  for (int d = 0; d < kDimensionCount; ++d) {
    EXPECT_DOUBLE_EQ(Of(rf, folded.p0).dims[d].score, g0.dims[d].score) << kDimensions[d];
    EXPECT_DOUBLE_EQ(Of(rf, folded.p1).dims[d].score, Of(r, site.p1).dims[d].score);
  }
  EXPECT_TRUE(Mentions(Of(rf, folded.p0).dims[2], "[window +10 s] scale changed x0.001 at +0 s"));
}

}  // namespace
}  // namespace firstwall::live
