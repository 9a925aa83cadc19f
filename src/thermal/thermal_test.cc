#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "thermal/cooling_plant.h"
#include "thermal/weather.h"

namespace firstwall::thermal {
namespace {
using namespace units;

std::string EpwWithTemps(const std::vector<double>& temps) {
  std::string s;
  for (int i = 0; i < 8; ++i) s += "HEADER,line\n";
  int hour = 1;
  for (double t : temps) {
    s += "2010,1,1," + std::to_string(hour++) + ",0,?9," + std::to_string(t) + ",0,50,99846\n";
  }
  return s;
}

TEST(Weather, InterpolatesHourlyRowsAndWraps) {
  std::vector<double> temps(8760, 10.0);
  temps[0] = 0.0;   // 01:00
  temps[1] = 10.0;  // 02:00
  const auto rows = ReadEpw(EpwWithTemps(temps), "t.epw");
  ASSERT_EQ(rows.size(), 8760u);
  Weather w(rows, 0, "t.epw");
  auto at_h = [&](double h) { return ToCelsius(w.At(SimTime::From(Hours(h))).dry_bulb); };
  EXPECT_NEAR(at_h(1.0), 0.0, 1e-9);
  EXPECT_NEAR(at_h(1.5), 5.0, 1e-9);
  EXPECT_NEAR(at_h(2.0), 10.0, 1e-9);
  EXPECT_NEAR(at_h(0.5), 5.0, 1e-9);           // between Dec 31 24:00 (10 C) and 01:00 (0 C)
  EXPECT_NEAR(at_h(8760.0 + 1.0), 0.0, 1e-9);  // next year wraps
  EXPECT_NEAR(w.At(SimTime::From(Hours(3))).relative_humidity, 0.5, 1e-12);
}

TEST(Weather, RejectsTruncatedAndMalformedFiles) {
  std::vector<double> temps(100, 5.0);
  try {
    ReadEpw(EpwWithTemps(temps), "short.epw");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("short.epw:108: error: weather file has 100 hourly rows"),
              std::string::npos)
        << e.what();
  }
  std::string bad = EpwWithTemps(std::vector<double>(8760, 1.0));
  bad.replace(bad.find("1.000000"), 8, "warm!!!!");
  try {
    ReadEpw(bad, "bad.epw");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.epw:9:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected a number in EPW field 7"), std::string::npos);
  }
}

TEST(Weather, ReadsARealTmyFile) {
  std::ifstream in("data/weather/USA_VA_Leesburg.Exec.epw");
  ASSERT_TRUE(in) << "the project ships data/weather/USA_VA_Leesburg.Exec.epw";
  std::stringstream ss;
  ss << in.rdbuf();
  const auto rows = ReadEpw(ss.str(), "leesburg.epw");
  EXPECT_EQ(rows.size(), 8760u);
  EXPECT_NEAR(ToCelsius(rows[0].dry_bulb), 1.1, 1e-9);  // first data row of the file
  double max_c = -100;
  for (const auto& r : rows) max_c = std::max(max_c, ToCelsius(r.dry_bulb));
  EXPECT_GT(max_c, 30.0);  // Virginia summers
  EXPECT_LT(max_c, 42.0);
}

TEST(CoolingPlant, ConstantCop) {
  CoolingPlant plant(5.0, Megawatts(2));
  EXPECT_DOUBLE_EQ(ToKilowatts(plant.ElectricPower(Megawatts(1))), 200.0);
}

}  // namespace
}  // namespace firstwall::thermal
