#include "serve/metrics.h"

#include <gtest/gtest.h>

namespace firstwall::serve {
namespace {

TEST(Metrics, LabelValuesAreEscapedAsTheExpositionFormatSays) {
  EXPECT_EQ(LabelValue("node0/gpu1"), "node0/gpu1");
  EXPECT_EQ(LabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(Metrics, TheTwinsPredictionsAndWalls) {
  const nlohmann::json twin = nlohmann::json::parse(R"({
    "signals": [
      {"name": "facility_power", "unit": "W", "measured": [100, 110, null],
       "twin": [101, 108.5, null], "cv_rmse": 0.02, "nmbe": -0.01},
      {"name": "outdoor", "unit": "C", "measured": [null], "twin": []}],
    "loads": [
      {"resource": "UPS", "peak_w": 40000, "rating_w": 100000, "units": 1, "utilization": 0.4},
      {"resource": "grid", "peak_w": 450, "rating_w": 500, "units": 1, "utilization": 0.9},
      {"resource": "PDU \"a\"", "peak_w": 30, "rating_w": 20, "units": 2, "utilization": 0.75}]
  })");
  const std::string text = TwinMetricsText(twin);
  EXPECT_EQ(text,
            "# HELP firstwall_twin_predicted The twin's newest prediction of each measured "
            "signal.\n# TYPE firstwall_twin_predicted gauge\n"
            "firstwall_twin_predicted{signal=\"facility_power\",unit=\"W\"} 108.5\n"
            "# HELP firstwall_twin_measured The meter's newest value of each signal the twin "
            "predicts.\n# TYPE firstwall_twin_measured gauge\n"
            "firstwall_twin_measured{signal=\"facility_power\",unit=\"W\"} 110\n"
            "# HELP firstwall_twin_cv_rmse_ratio CV(RMSE) of the twin against the meter over the "
            "last hour (ASHRAE Guideline 14).\n# TYPE firstwall_twin_cv_rmse_ratio gauge\n"
            "firstwall_twin_cv_rmse_ratio{signal=\"facility_power\"} 0.02\n"
            "# HELP firstwall_twin_nmbe_ratio NMBE of the twin against the meter over the last "
            "hour (ASHRAE Guideline 14).\n# TYPE firstwall_twin_nmbe_ratio gauge\n"
            "firstwall_twin_nmbe_ratio{signal=\"facility_power\"} -0.01\n"
            "# HELP firstwall_wall_utilization_ratio Each rated resource's peak over the last hour "
            "over its rating times its units.\n# TYPE firstwall_wall_utilization_ratio gauge\n"
            "firstwall_wall_utilization_ratio{resource=\"UPS\"} 0.4\n"
            "firstwall_wall_utilization_ratio{resource=\"grid\"} 0.9\n"
            "firstwall_wall_utilization_ratio{resource=\"PDU \\\"a\\\"\"} 0.75\n"
            "# HELP firstwall_wall_headroom_watts Each rated resource's rating times its units "
            "less its peak over the last hour.\n# TYPE firstwall_wall_headroom_watts gauge\n"
            "firstwall_wall_headroom_watts{resource=\"UPS\"} 60000\n"
            "firstwall_wall_headroom_watts{resource=\"grid\"} 50\n"
            "firstwall_wall_headroom_watts{resource=\"PDU \\\"a\\\"\"} 10\n"
            "# HELP firstwall_first_wall 1 for the rated resource nearest its rating.\n"
            "# TYPE firstwall_first_wall gauge\nfirstwall_first_wall{resource=\"grid\"} 1\n");
  // A twin that could not run writes nothing.
  EXPECT_EQ(TwinMetricsText(nlohmann::json::parse(R"({"signals": [], "note": "x"})")), "");
}

}  // namespace
}  // namespace firstwall::serve
