#include "serve/forecast_view.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "live/store.h"
#include "live/temp_path_test_util.h"

namespace firstwall::serve {
namespace {

using nlohmann::json;

// A two-step forecast from origin 0 in 15-min steps: 100 kW, then 200 kW.
json TwoSteps() {
  return {{"origin_ms", 0},
          {"step_s", 900},
          {"t_ms", {0, 900'000}},
          {"facility_power_w", {{"value", {100e3, 200e3}}}}};
}

std::unique_ptr<live::Store> MeterStore(const std::string& name,
                                        const std::vector<live::SamplePoint>& points) {
  std::unique_ptr<live::Store> store = live::OpenSqliteStore(live::TempPath(name));
  const int64_t id = store->SeriesId({"facility", "site", "power", "W", "meter", "P"});
  store->Append(id, points);
  store->Flush();
  return store;
}

// The meter's mean against the forecast's over the same span, each step weighted by its overlap.
TEST(AgainstMeter, TheForecastOverTheMetersSpan) {
  // Samples to 30 min: the forecast averages 150 kW there; the meter 125 kW (+20 %, a warning).
  const auto store =
      MeterStore("m.db", {{0, 100e3}, {600'000, 125e3}, {1'200'000, 125e3}, {1'800'000, 150e3}});
  const json m = AgainstMeter(*store, TwoSteps());
  ASSERT_TRUE(m.is_object()) << m;
  EXPECT_EQ(m["samples"], 4);
  EXPECT_EQ(m["unreadable_samples"], 0);
  EXPECT_EQ(m["until_ms"], 1'800'000);
  EXPECT_DOUBLE_EQ(m["measured_w"].get<double>(), 125e3);
  EXPECT_DOUBLE_EQ(m["forecast_w"].get<double>(), 150e3);
  EXPECT_NEAR(m["difference_pct"].get<double>(), 20, 1e-9);
  EXPECT_TRUE(m["warning"].get<bool>());
}

// NaN samples are left out and counted; a meter that sent only NaN checks nothing, and says so.
TEST(AgainstMeter, UnreadableSamplesAreCountedNotAveraged) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto some = MeterStore("some.db", {{0, nan}, {60'000, 105e3}});
  const json a = AgainstMeter(*some, TwoSteps());
  EXPECT_EQ(a["samples"], 1);
  EXPECT_EQ(a["unreadable_samples"], 1);
  EXPECT_DOUBLE_EQ(a["measured_w"].get<double>(), 105e3);
  EXPECT_FALSE(a["warning"].get<bool>());

  const auto none = MeterStore("none.db", {{0, nan}, {60'000, nan}});
  const json b = AgainstMeter(*none, TwoSteps());
  ASSERT_TRUE(b.is_object()) << b;
  EXPECT_EQ(b["samples"], 0);
  EXPECT_EQ(b["unreadable_samples"], 2);
  EXPECT_TRUE(b["measured_w"].is_null());
  EXPECT_TRUE(b["difference_pct"].is_null());
  EXPECT_FALSE(b["warning"].get<bool>());

  // No sample since the origin: null.
  const auto empty = MeterStore("empty.db", {});
  EXPECT_TRUE(AgainstMeter(*empty, TwoSteps()).is_null());
}

// A meter at 0 W has no relative difference: null, and a warning when the forecast is not 0.
TEST(AgainstMeter, AMeterAtZero) {
  const auto store = MeterStore("zero.db", {{0, 0.0}, {60'000, -0.0}});
  const json m = AgainstMeter(*store, TwoSteps());
  EXPECT_TRUE(m["difference_pct"].is_null());
  EXPECT_TRUE(m["warning"].get<bool>());
}

}  // namespace
}  // namespace firstwall::serve
