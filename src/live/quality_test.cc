#include "live/quality.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace firstwall::live {
namespace {

// Ten samples at 1 s (t = 0..9 s), scraped over [0, 9 s] with no lag.
StreamInput Stream(int64_t id, const std::string& entity_id, const std::string& quantity,
                   std::vector<double> values, const std::string& source = "node0") {
  StreamInput in;
  in.series.id = id;
  const bool energy = quantity == "energy";
  in.series.key = {"gpu", entity_id, quantity, energy ? "J" : "W", source, "m"};
  for (size_t i = 0; i < values.size(); ++i) {
    in.samples.push_back({static_cast<int64_t>(i) * 1000, values[i]});
  }
  in.interval_s = 1;
  in.window_start_ms = 0;
  in.window_end_ms = 9000;
  return in;
}

const std::vector<double> kPower = {500, 520, 480, 510, 490, 530, 470, 505, 495, 515};

// The energy counter of a GPU drawing `power` (trapezoids between the samples, so exact).
std::vector<double> Counter(const std::vector<double>& power, double start = 1e6) {
  std::vector<double> e = {start};
  for (size_t i = 1; i < power.size(); ++i) e.push_back(e.back() + 0.5 * (power[i - 1] + power[i]));
  return e;
}

bool Mentions(const Score& s, const std::string& text) {
  for (const std::string& r : s.reasons) {
    if (r.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(Quality, CleanStreamsScoreOneButForResolution) {
  const QualityReport r =
      AssessQuality({Stream(1, "g0", "power", kPower), Stream(2, "g0", "energy", Counter(kPower))});
  ASSERT_EQ(r.streams.size(), 2u);
  for (const StreamQuality& q : r.streams) {
    for (int d = 0; d < 4; ++d) EXPECT_EQ(q.dims[d].score, 1) << kDimensions[d];
  }
  // GPU power at 1 s: PUE's 15 min met (1), power swings need 1/6 s (1/6): mean 7/12.
  EXPECT_DOUBLE_EQ(r.streams[0].dims[4].score, (1 + 1.0 / 6) / 2);
  EXPECT_EQ(r.streams[1].dims[4].score, 1);  // energy: only PUE's need
  ASSERT_EQ(r.entities.size(), 1u);
  EXPECT_DOUBLE_EQ(r.entities[0].dims[4].score, 7.0 / 12);
  EXPECT_DOUBLE_EQ(r.entities[0].overall, (4 + 7.0 / 12) / 5);
}

TEST(Quality, DropoutIsChargedToCompleteness) {
  StreamInput s = Stream(1, "g0", "power", kPower);
  s.samples.erase(s.samples.begin() + 3, s.samples.begin() + 7);  // t = 3..6 s missing
  const QualityReport r = AssessQuality({s});
  const StreamQuality& q = r.streams[0];
  EXPECT_DOUBLE_EQ(q.dims[1].score, 0.6);  // 6 of 10
  EXPECT_TRUE(Mentions(q.dims[1], "6 of 10 expected samples"));
  EXPECT_TRUE(Mentions(q.dims[1], "1 gap, longest 4 s after +2 s"));
  EXPECT_EQ(q.dims[0].score, 1);
  EXPECT_EQ(q.dims[2].score, 1);
  EXPECT_EQ(q.dims[3].score, 1);
}

TEST(Quality, StuckSensorIsChargedToConsistencyOfItsStream) {
  std::vector<double> stuck = kPower;
  for (int i = 2; i <= 7; ++i) stuck[static_cast<size_t>(i)] = 500;  // 6 samples, t = 2..7 s
  const QualityReport r =
      AssessQuality({Stream(1, "g0", "power", stuck), Stream(2, "g1", "power", kPower)});
  // 5 of the 10 samples repeat a stuck value.
  EXPECT_DOUBLE_EQ(r.streams[0].dims[2].score, 0.5);
  EXPECT_TRUE(
      Mentions(r.streams[0].dims[2],
               "stuck at 500 for 6 samples (+2 s..+7 s) while its 1 siblings changed 5 times"));
  EXPECT_EQ(r.streams[1].dims[2].score, 1);
  // Alone, a constant stream is not judged stuck: nothing says it should move.
  EXPECT_EQ(AssessQuality({Stream(1, "g0", "power", stuck)}).streams[0].dims[2].score, 1);
}

TEST(Quality, QuietSiblingsOrOneFaultySiblingDoNotMakeAStreamStuck) {
  // Whole-degree temperatures of four GPUs that hold 32 C; one of them spikes twice.
  const std::vector<double> flat(10, 32.0);
  std::vector<double> spiky = flat;
  spiky[4] = 320;
  std::vector<StreamInput> in = {
      Stream(1, "g0", "temperature", flat), Stream(2, "g1", "temperature", flat),
      Stream(3, "g2", "temperature", flat), Stream(4, "g3", "temperature", spiky)};
  for (const StreamQuality& q : AssessQuality(in).streams) EXPECT_EQ(q.dims[2].score, 1);
  // A stream that seldom moves (a quantized meter) holds its value while its siblings move.
  const std::vector<double> slow = {500, 500, 500, 500, 500, 500, 501, 501, 501, 501};
  const QualityReport r =
      AssessQuality({Stream(1, "g0", "power", slow), Stream(2, "g1", "power", kPower)});
  EXPECT_EQ(r.streams[0].dims[2].score, 1);
}

TEST(Quality, SpikeIsChargedToAccuracy) {
  std::vector<double> v = kPower;
  v[4] = 4900;  // x10
  const QualityReport r = AssessQuality({Stream(1, "g0", "power", v)});
  EXPECT_DOUBLE_EQ(r.streams[0].dims[3].score, 0.9);
  EXPECT_TRUE(Mentions(r.streams[0].dims[3], "spike: 4900 W at +4 s"));
  EXPECT_EQ(r.streams[0].dims[2].score, 1);
}

// Too few samples for the spike test, one of them beyond any meter of a site: the physical bound
// catches it.
TEST(Quality, PowerBeyondAnySiteIsChargedToAccuracy) {
  const QualityReport r = AssessQuality({Stream(1, "g0", "power", {500, 1e308, 510})});
  EXPECT_DOUBLE_EQ(r.streams[0].dims[3].score, 2.0 / 3);
  EXPECT_TRUE(Mentions(r.streams[0].dims[3], "1e+308 W at +1 s is outside 0..1e+10"));
}

// An infinite reading arrived and is wrong (accuracy); a NaN says nothing (completeness).
TEST(Quality, InfiniteValuesAreInaccurateNotMissing) {
  const double inf = std::numeric_limits<double>::infinity();
  const QualityReport r =
      AssessQuality({Stream(1, "g0", "power", {500, inf, 510, -inf, std::nan("")})});
  EXPECT_DOUBLE_EQ(r.streams[0].dims[3].score, 0.5);
  EXPECT_TRUE(Mentions(r.streams[0].dims[3], "2 infinite values"));
  EXPECT_TRUE(Mentions(r.streams[0].dims[1], "1 NaN values"));
  EXPECT_TRUE(Mentions(r.streams[0].dims[1], "4 of 10 expected samples"));
}

TEST(Quality, UnitChangeIsChargedToConsistency) {
  std::vector<double> v = kPower;
  for (size_t i = 6; i < v.size(); ++i) v[i] /= 1000;  // W reported as kW from t = 6 s
  const QualityReport r =
      AssessQuality({Stream(1, "g0", "power", v), Stream(2, "g0", "energy", Counter(kPower))});
  EXPECT_DOUBLE_EQ(r.streams[0].dims[2].score, 0.6);  // 4 of 10 at the wrong scale
  EXPECT_TRUE(Mentions(r.streams[0].dims[2], "scale changed x0.001 at +6 s (530 -> 0.47)"));
  // Scale-corrected, the values are right: neither spikes nor a physics mismatch.
  EXPECT_EQ(r.streams[0].dims[3].score, 1);
  EXPECT_EQ(r.streams[1].dims[2].score, 1);
}

TEST(Quality, CounterResetIsChargedToConsistencyOfTheCounter) {
  std::vector<double> e = Counter(kPower);
  const double at5 = e[5];
  for (size_t i = 5; i < e.size(); ++i) e[i] -= at5 - 10;  // restarts near zero at t = 5 s
  const QualityReport r =
      AssessQuality({Stream(1, "g0", "power", kPower), Stream(2, "g0", "energy", e)});
  EXPECT_DOUBLE_EQ(r.streams[1].dims[2].score, 0.9);
  EXPECT_TRUE(Mentions(r.streams[1].dims[2], "counter went backwards at +5 s"));
  // The interval across the reset is left out of the physics check.
  EXPECT_EQ(r.streams[0].dims[3].score, 1);
  EXPECT_DOUBLE_EQ(r.entities[0].dims[2].score, 0.9);
}

TEST(Quality, PowerAgainstEnergyCounter) {
  // 500 W measured, while the counter grows 600 J a second: 1/6 low.
  const std::vector<double> power(10, 500.0);
  std::vector<double> e;
  for (int i = 0; i < 10; ++i) e.push_back(600.0 * i);
  const QualityReport r =
      AssessQuality({Stream(1, "g0", "power", power), Stream(2, "g0", "energy", e)});
  // 900 J short, of which the 500 J of one interval at either end is left open (the samples may
  // be up to a second old when read).
  const double err = 400.0 / 5400;
  EXPECT_DOUBLE_EQ(r.streams[0].dims[3].score, 1 - (err - 0.05) / 0.45);  // 0.9465
  EXPECT_TRUE(Mentions(r.streams[0].dims[3],
                       "integrated power 4500 J against the energy "
                       "counter's 5400 J (-16.7 %), 7.4 % more than the 500 J its samples leave "
                       "open"));
  EXPECT_EQ(r.streams[1].dims[3].score, 1);
}

// A GPU whose power steps from 1000 to 1500 W at 3.1 s, read every 3 s for a minute: the trapezoid
// through the samples misses 700 J of the counter's 88450 J, inside the 750 J the step between
// two samples leaves open (and the 4500 J a read up to an interval old leaves open at the ends:
// 3 s x 1500 W), so nothing is charged; a meter reading 80 % of that is.
TEST(Quality, ThePhysicsCheckChargesOnlyWhatTheSamplesCannotExplain) {
  auto at3s = [](int64_t id, const std::string& quantity, std::vector<double> v) {
    StreamInput s = Stream(id, "g0", quantity, v);
    for (size_t i = 0; i < s.samples.size(); ++i)
      s.samples[i].t_ms = static_cast<int64_t>(i) * 3000;
    s.interval_s = 3;
    s.window_end_ms = 60000;
    return s;
  };
  std::vector<double> power = {1000, 1000}, low = {800, 800}, e = {0, 3000};
  for (int i = 2; i <= 20; ++i) {
    power.push_back(1500);
    low.push_back(1200);
    e.push_back(i == 2 ? 3000 + 0.1 * 1000 + 2.9 * 1500 : e.back() + 4500);
  }
  QualityReport r = AssessQuality({at3s(1, "power", power), at3s(2, "energy", e)});
  EXPECT_EQ(r.streams[0].dims[3].score, 1) << r.streams[0].dims[3].reasons.front();
  r = AssessQuality({at3s(1, "power", low), at3s(2, "energy", e)});
  // Integrated 70200 J, open 600 + 3600 J: r = (18250 - 4200) / 88450 = 15.9 %.
  EXPECT_NEAR(r.streams[0].dims[3].score, 1 - (14050.0 / 88450 - 0.05) / 0.45, 1e-12);
  EXPECT_TRUE(Mentions(r.streams[0].dims[3],
                       "integrated power 7.02e+04 J against the energy counter's 8.845e+04 J "
                       "(-20.6 %), 15.9 % more than the 4200 J its samples leave open"))
      << r.streams[0].dims[3].reasons.front();
}

// A 1e308 sample in either stream is out of bounds (charged to its own stream), and the spans it
// touches are left out of the physics check instead of zeroing the other stream's accuracy.
TEST(Quality, ASampleBeyondAnyMeterIsLeftOutOfThePhysicsCheck) {
  const std::vector<double> power(10, 500.0);
  std::vector<double> e;
  for (int i = 0; i < 10; ++i) e.push_back(500.0 * i);
  std::vector<double> spiked_power = power, spiked_e = e;
  spiked_power[4] = 1e308;
  spiked_e[6] = 1e308;
  QualityReport r =
      AssessQuality({Stream(1, "g0", "power", spiked_power), Stream(2, "g0", "energy", e)});
  EXPECT_DOUBLE_EQ(r.streams[0].dims[3].score, 0.9);  // the one bad sample, physics agreeing
  r = AssessQuality({Stream(1, "g0", "power", power), Stream(2, "g0", "energy", spiked_e)});
  EXPECT_EQ(r.streams[0].dims[3].score, 1);  // the clean power stream is not charged
}

TEST(Quality, LagAndStalenessAreChargedToTimeliness) {
  StreamInput s = Stream(1, "g0", "power", {500, 510, 520, 530, 540});  // t = 0..4 s
  s.lag_ms = 250;
  const QualityReport r = AssessQuality({s});
  // Newest sample 5 s old at 9 s: 1 - (5 - 2) / 8 = 0.625; lag 1 - (0.25 - 0.1) / 0.9 = 0.833.
  EXPECT_DOUBLE_EQ(r.streams[0].dims[0].score, 0.625);
  s.samples.push_back({9000, 550});
  EXPECT_DOUBLE_EQ(AssessQuality({s}).streams[0].dims[0].score, 1 - 0.15 / 0.9);
  EXPECT_TRUE(Mentions(r.streams[0].dims[0], "mean lag 0.25 s"));
  EXPECT_DOUBLE_EQ(r.streams[0].dims[1].score, 0.5);
}

TEST(Quality, ClockAheadIsChargedToTimeliness) {
  // Stamped 3 s after they arrived (a clock 3 s ahead), read every second.
  StreamInput s = Stream(1, "g0", "power", kPower);
  s.window_start_ms += 1000;  // arrivals at 1..10 s (an arrival of 0 would mean "at t_ms")
  s.window_end_ms += 1000;
  for (SamplePoint& p : s.samples) {
    p.arrival_ms = p.t_ms + 1000;
    p.t_ms = p.arrival_ms + 3000;
  }
  const QualityReport r = AssessQuality({s});
  EXPECT_EQ(r.streams[0].dims[0].score, 0);  // median 3 s ahead against a 1 s interval
  EXPECT_TRUE(Mentions(r.streams[0].dims[0], "clock ahead: 10 samples stamped after they arrived"))
      << r.streams[0].dims[0].reasons[0];
  // Counted by arrival, the stream is complete; its consistency is untouched.
  EXPECT_EQ(r.streams[0].dims[1].score, 1);
  EXPECT_EQ(r.streams[0].dims[2].score, 1);
  // 0.4 s ahead: 1 - (0.4 - 0.1) / 0.9.
  for (SamplePoint& p : s.samples) p.t_ms = p.arrival_ms + 400;
  EXPECT_DOUBLE_EQ(AssessQuality({s}).streams[0].dims[0].score, 1 - 0.3 / 0.9);
}

TEST(Quality, LateSamplesAreChargedToTimeliness) {
  // Each sample arrives 1.5 s after its own time, half a second more than one interval; reads
  // take 0.05 s: lag 0.55 s.
  StreamInput s = Stream(1, "g0", "power", kPower);
  for (SamplePoint& p : s.samples) p.arrival_ms = p.t_ms + 1500;
  s.lag_ms = 50;
  const QualityReport r = AssessQuality({s});
  EXPECT_DOUBLE_EQ(r.streams[0].dims[0].score, 1 - 0.45 / 0.9);
  EXPECT_TRUE(Mentions(r.streams[0].dims[0], "mean lag 0.55 s (0.05 s reading, 0.5 s late: read"));
  // Up to one interval old when read: the newest its source had, on time.
  for (SamplePoint& p : s.samples) p.arrival_ms = p.t_ms + 900;
  EXPECT_DOUBLE_EQ(AssessQuality({s}).streams[0].dims[0].score, 1);
  EXPECT_EQ(r.streams[0].dims[2].score, 1);
}

TEST(Quality, DuplicatesAreChargedToConsistency) {
  StreamInput s = Stream(1, "g0", "power", kPower);
  // Samples 3 and 6 arrive a second time.
  s.samples.insert(s.samples.begin() + 4, s.samples[3]);
  s.samples.insert(s.samples.begin() + 8, s.samples[7]);
  const QualityReport r = AssessQuality({s});
  EXPECT_DOUBLE_EQ(r.streams[0].dims[2].score, 1 - 2.0 / 12);
  EXPECT_TRUE(Mentions(r.streams[0].dims[2],
                       "2 duplicated samples (a time received before), "
                       "first at +3 s"));
  EXPECT_EQ(r.streams[0].dims[1].score, 1);  // each time counts once
  EXPECT_EQ(r.streams[0].dims[3].score, 1);
}

TEST(Quality, ABalanceChargesTheParentsAccuracy) {
  // A UPS (95 % efficient) feeds two PDUs; its meter reads half at samples 4 and 5.
  std::vector<double> a = kPower, b(10, 300.0), ups;
  for (size_t i = 0; i < 10; ++i)
    ups.push_back((a[i] + b[i]) / 0.95 * (i == 4 || i == 5 ? 0.5 : 1));
  StreamInput u = Stream(1, "ups-1", "power", ups), pa = Stream(2, "a", "power", a),
              pb = Stream(3, "b", "power", b);
  u.series.key.entity = "ups";
  pa.series.key.entity = pb.series.key.entity = "pdu";
  Balance bal;
  bal.name = "ups-1";
  bal.parent_entity = "ups";
  bal.parent_id = "ups-1";
  bal.children = {{"pdu", "a"}, {"pdu", "b"}};
  bal.efficiency = 0.95;
  const QualityReport r = AssessQuality({u, pa, pb}, {bal});
  // The spike test sees the halves too (a 50 % drop is beyond 5 x 10 % of the median): 2 of 10.
  EXPECT_DOUBLE_EQ(r.streams[0].dims[3].score, 0.8);
  EXPECT_TRUE(Mentions(r.streams[0].dims[3],
                       "balance 'ups-1': 2 of 10 samples off pdu/a + pdu/b "
                       "/ 95 % by more than 2 % (median +0.0 %, from -50.0 "
                       "to +0.0 %)"))
      << r.streams[0].dims[3].reasons.back();
  EXPECT_EQ(r.streams[1].dims[3].score, 1);  // the children are not charged
  // Without the drop, nothing is said; without a child stream, the balance says so.
  ups = a;
  for (size_t i = 0; i < 10; ++i) ups[i] = (a[i] + b[i]) / 0.95;
  u.samples = Stream(1, "ups-1", "power", ups).samples;
  EXPECT_TRUE(AssessQuality({u, pa, pb}, {bal}).streams[0].dims[3].reasons.empty());
  EXPECT_TRUE(Mentions(AssessQuality({u, pa}, {bal}).streams[0].dims[3],
                       "balance 'ups-1' not judged: no power stream of pdu/b"));
  // Without the parent's stream, the first child with one says so, its score untouched.
  const QualityReport orphan = AssessQuality({pa, pb}, {bal});
  EXPECT_TRUE(Mentions(orphan.streams[0].dims[3],
                       "balance 'ups-1' not judged: no power stream of its parent ups/ups-1"));
  EXPECT_EQ(orphan.streams[0].dims[3].score, 1);
  EXPECT_TRUE(orphan.streams[1].dims[3].reasons.empty());
}

TEST(Quality, RecordsHaveEveryDimensionAndOverall) {
  const QualityReport r = AssessQuality({Stream(1, "g0", "power", kPower)});
  const auto rows = QualityRecords(r);
  EXPECT_EQ(rows.size(), 12u);  // 6 for the stream, 6 for its entity
  EXPECT_EQ(rows[5].dimension, "overall");
  EXPECT_EQ(QualityJson(r)["streams"][0]["dimensions"]["resolution"]["score"], 7.0 / 12);
}

}  // namespace
}  // namespace firstwall::live
