#include "live/gpu_rollup.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "core/error.h"
#include "live/quality.h"
#include "live/temp_path_test_util.h"
#include "live/twin_check.h"
#include "scenario/loader.h"

namespace firstwall::live {
namespace {

std::vector<SamplePoint> Of(Store& store, const SeriesKey& key) {
  for (const SeriesInfo& s : store.Series()) {
    if (s.key == key) return store.Samples(s.id);
  }
  return {};
}

std::vector<std::pair<int64_t, double>> Pairs(const std::vector<SamplePoint>& v) {
  std::vector<std::pair<int64_t, double>> out;
  for (const SamplePoint& p : v) out.emplace_back(p.t_ms, p.value);
  return out;
}

const SeriesKey kG0{"gpu", "node0/gpu0", "power", "W", "e", "P0"};
const SeriesKey kG1{"gpu", "node0/gpu1", "power", "W", "e", "P1"};
const SeriesKey kT0{"gpu", "node0/gpu0", "temperature", "C", "e", "T0"};
const SeriesKey kFacility{"facility", "site", "power", "W", "e", "F"};

// Buckets of 1 s, closed 2 s after their end, a GPU's value held one bucket.
TEST(GpuRollup, SumsBucketMeansHoldsShortGapsAndCountsWhatItLeavesOut) {
  auto store = OpenSqliteStore(TempPath("rollup.db"));
  GpuRollup r(*store, 1, 2, 1);
  int slot[4];
  const SeriesKey* keys[4] = {&kG0, &kG1, &kT0, &kFacility};
  for (int i = 0; i < 4; ++i) slot[i] = r.AddSeries(store->SeriesId(*keys[i]), *keys[i]);
  EXPECT_EQ(slot[3], -1);  // not a GPU: not rolled
  auto add = [&](int i, int64_t t, double v) { r.AddSample(slot[i], {t, v, 0}); };
  r.AddRead(10000);
  add(0, 10000, 400);
  add(0, 10500, 600);  // gpu0's bucket 10 s: mean 500
  add(1, 10000, 100);
  add(2, 10000, 40);
  add(3, 10000, 9000);  // not a GPU: not rolled
  r.AddRead(11000);
  add(0, 11000, 700);
  add(1, 11000, 100);
  r.AddRead(12000);
  add(1, 12000, 100);  // gpu0 sends nothing for 12 s: its 700 is held
  r.AddRead(13000);    // closes the 10 s bucket (ended 11 s, + 2 s)
  add(0, 13000, 900);
  add(1, 13000, 100);
  r.AddRead(14000);    // closes 11 s
  add(0, 10000, 1);    // for a closed bucket: late
  add(1, 16500, 100);  // beyond 14 s + 2 s: ahead
  add(1, 14000, NAN);  // no sample
  r.AddRead(15000);    // closes 12 s
  r.Finish();          // 13 s, the last bucket that received a sample
  store->Flush();
  EXPECT_EQ(r.late(), 1);
  EXPECT_EQ(r.ahead(), 1);
  using P = std::vector<std::pair<int64_t, double>>;
  EXPECT_EQ(Pairs(Of(*store, RollupKey("power", false))),
            (P{{10000, 600}, {11000, 800}, {12000, 800}, {13000, 1000}}));
  EXPECT_EQ(Pairs(Of(*store, RollupKey("power", true))),
            (P{{10000, 2}, {11000, 2}, {12000, 2}, {13000, 2}}));
  // gpu0's temperature: 40 at 10 s, held at 11 s, then beyond its hold: no bucket.
  EXPECT_EQ(Pairs(Of(*store, RollupKey("temperature", false))), (P{{10000, 40}, {11000, 40}}));
  EXPECT_EQ(Pairs(Of(*store, RollupKey("temperature", true))), (P{{10000, 1}, {11000, 1}}));
  EXPECT_EQ(r.buckets_stored(), 6);
  // The rollup is a source of its own, with the bucket as interval, which quality leaves out.
  bool listed = false;
  for (const SourceInfo& s : store->Sources()) {
    if (s.name == kRollupSource) {
      listed = true;
      EXPECT_EQ(s.kind, kRollupKind);
      EXPECT_DOUBLE_EQ(s.interval_s, 1);
    }
  }
  EXPECT_TRUE(listed);
  for (const StreamInput& in : StreamsOf(*store)) EXPECT_NE(in.series.key.source, kRollupSource);
  EXPECT_EQ(StreamsOf(*store).size(), 4u);
}

// A store keeps one bucket length: compare reads the buckets at the rollup source's interval.
TEST(GpuRollup, AStoreKeepsOneBucketLength) {
  auto store = OpenSqliteStore(TempPath("one_bucket.db"));
  { GpuRollup first(*store, 3, 5); }
  EXPECT_NO_THROW(GpuRollup(*store, 3, 5));
  EXPECT_THROW(GpuRollup(*store, 1, 3), InputError);
}

// The twin's GPU power from the rollup equals the per-GPU path's at the rollup's step, and a
// bucket short of a GPU is not used.
TEST(GpuRollup, CompareReadsTheRollupAndGetsThePerGpuFigures) {
  const scenario::Scenario sc = scenario::LoadScenarioFile("tests/inputs/live-emulate.yaml");
  auto store = OpenSqliteStore(TempPath("compare.db"));
  GpuRollup r(*store, 1, 2, 5);
  const int64_t g0 = store->SeriesId(kG0), g1 = store->SeriesId(kG1),
                fac = store->SeriesId(kFacility);
  const int s0 = r.AddSeries(g0, kG0), s1 = r.AddSeries(g1, kG1);
  std::vector<SamplePoint> p0, p1, f;
  for (int k = 0; k < 20; ++k) {
    const int64_t t = 100000 + k * 1000;
    r.AddRead(t);
    p0.push_back({t, 500.0 + 10 * k, 0});
    p0.push_back({t + 400, 520.0 + 10 * k, 0});
    if (k < 15) p1.push_back({t + 200, 300.0 - k, 0});  // gpu1 stops at 15 s
    f.push_back({t, 9000.0 + k, 0});
  }
  for (const SamplePoint& p : p0) r.AddSample(s0, p);
  for (const SamplePoint& p : p1) r.AddSample(s1, p);
  r.Finish();
  store->Append(g0, p0);
  store->Append(g1, p1);
  store->Append(fac, f);
  store->Flush();
  AssembleOptions o;
  o.max_hold_steps = 5;  // the rollup's hold
  o.step_s = 1;          // the bucket (the per-GPU path would take the median spacing, 0.6 s)
  const MeasuredSite rolled = AssembleMeasured(*store, sc.site, o);
  o.per_gpu = true;
  const MeasuredSite each = AssembleMeasured(*store, sc.site, o);
  EXPECT_NE(rolled.gpu_from.find("rollup sum(gpu power)"), std::string::npos) << rolled.gpu_from;
  EXPECT_NE(each.gpu_from.find("2 GPU power series"), std::string::npos) << each.gpu_from;
  EXPECT_EQ(rolled.measured_gpus, 2);
  // gpu1 held for 5 buckets after 114 s: the rollup ends at 119 s, the per-GPU steps too.
  ASSERT_EQ(rolled.t_ms.size(), 20u);
  ASSERT_EQ(each.t_ms.size(), 20u);
  for (size_t k = 0; k < 20; ++k) {
    EXPECT_EQ(rolled.t_ms[k], each.t_ms[k]);
    EXPECT_DOUBLE_EQ(rolled.gpu_w[k], each.gpu_w[k]) << k;
  }
  EXPECT_DOUBLE_EQ(rolled.gpu_w[0], 510 + 300);
  EXPECT_DOUBLE_EQ(rolled.gpu_w[19], 700 + 286);  // gpu1's 286 W of 114 s, held
  // A step of 2 buckets averages them; 1.5 s is no whole number of buckets: every GPU is read.
  o.per_gpu = false;
  o.step_s = 2;
  const MeasuredSite two = AssembleMeasured(*store, sc.site, o);
  ASSERT_EQ(two.t_ms.size(), 10u);
  EXPECT_DOUBLE_EQ(two.gpu_w[0], (810 + 819) / 2.0);
  o.step_s = 1.5;
  EXPECT_NE(AssembleMeasured(*store, sc.site, o).gpu_from.find("no whole number"),
            std::string::npos);
}

// A third GPU power series the rollup never counted: no bucket holds every GPU, so compare reads
// them all.
TEST(GpuRollup, ABucketShortOfAGpuIsNotUsed) {
  const scenario::Scenario sc = scenario::LoadScenarioFile("tests/inputs/live-emulate.yaml");
  auto store = OpenSqliteStore(TempPath("short.db"));
  GpuRollup r(*store, 1, 2, 5);
  const int64_t g0 = store->SeriesId(kG0), g1 = store->SeriesId(kG1);
  const int s0 = r.AddSeries(g0, kG0);
  r.AddRead(5000);
  r.AddSample(s0, {5000, 500, 0});
  r.Finish();
  store->Append(g0, std::vector<SamplePoint>{{5000, 500}, {6000, 500}});
  store->Append(g1, std::vector<SamplePoint>{{5000, 100}, {6000, 100}});
  store->Append(store->SeriesId(kFacility), std::vector<SamplePoint>{{5000, 9000}});
  store->Flush();
  const MeasuredSite m = AssembleMeasured(*store, sc.site, {});
  EXPECT_NE(m.gpu_from.find("no rollup bucket holds every GPU"), std::string::npos) << m.gpu_from;
  EXPECT_DOUBLE_EQ(m.gpu_w[0], 600);
}

}  // namespace
}  // namespace firstwall::live
