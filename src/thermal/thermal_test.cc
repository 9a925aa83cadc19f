#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "thermal/chiller.h"
#include "thermal/cooling_plant.h"
#include "thermal/psychrometrics.h"
#include "thermal/weather.h"

namespace firstwall::thermal {
namespace {
using namespace units;

constexpr const char* kEpwHeader =
    "LOCATION,Test,VA,USA,SRC-TMYx,724055,39.07800,-77.55800,-5.0,119.0\n"
    "DESIGN CONDITIONS,0\n"
    "TYPICAL/EXTREME PERIODS,0\n"
    "GROUND TEMPERATURES,0\n"
    "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0\n"
    "COMMENTS 1,test\n"
    "COMMENTS 2,test\n"
    "DATA PERIODS,1,1,Data,Sunday,1/ 1,12/31\n";

// One EPW data row: 35 fields, the dry bulb, dew point, humidity and pressure as given.
std::string EpwRow(int month, int day, int hour, const std::string& dry_bulb,
                   const std::string& dew_point = "-20.0", const std::string& humidity = "50",
                   const std::string& pressure = "99846") {
  return "2010," + std::to_string(month) + "," + std::to_string(day) + "," + std::to_string(hour) +
         ",0,?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9?9*9*9?9*9," + dry_bulb + "," + dew_point + "," +
         humidity + "," + pressure +
         ",0,0,314,0,0,0,0,0,0,0,154,0.00,10,10,2816.0,61,0,919999999,11,0.0850,3,88,0.210,0.1,"
         "0.0\n";
}

// An EPW file of hourly rows from 1/1 01:00, one per temperature (a leap year when `leap`).
std::string EpwWithTemps(const std::vector<double>& temps, bool leap = false) {
  const int days_in[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::string s = kEpwHeader;
  int month = 1, day = 1, hour = 1;
  for (double t : temps) {
    s += EpwRow(month, day, hour, std::to_string(t));
    if (++hour > 24) {
      hour = 1;
      if (++day > days_in[month - 1]) {
        day = 1;
        ++month;
      }
    }
  }
  return s;
}

// The first error reading `text`, as "file:line:col: message".
std::string EpwError(const std::string& text) {
  try {
    ReadEpw(text, "w.epw");
  } catch (const InputError& e) {
    return e.where().ToString() + ": " + e.message();
  }
  return "no error";
}

// A year of 10 C whose first data row (line 9) is replaced by `row`.
std::string YearWithFirstRow(const std::string& row) {
  std::string s = EpwWithTemps(std::vector<double>(8760, 10.0));
  const size_t begin = std::string(kEpwHeader).size();
  return s.replace(begin, s.find('\n', begin) + 1 - begin, row);
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
    EXPECT_NE(std::string(e.what()).find("expected a finite number for EPW field 7"),
              std::string::npos);
  }
}

TEST(Weather, RefusesNonFiniteNumbersAtTheirColumn) {
  for (const char* bad : {"nan", "-nan", "inf", "-inf", "NaN", "1e999"}) {
    EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 1, 1, bad))),
              "w.epw:9:59: expected a finite number for EPW field 7 (dry bulb temperature, C), "
              "got '" +
                  std::string(bad) + "'");
  }
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 1, 1, "10", "-20", "nan"))),
            "w.epw:9:66: expected a finite number for EPW field 9 (relative humidity, %), got "
            "'nan'");
}

TEST(Weather, RefusesImpossibleWeatherWithTheFieldAndItsRange) {
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 1, 1, "-300"))),
            "w.epw:9:59: EPW field 7 (dry bulb temperature, C) is -300, out of range: expected "
            "more than -70 and less than 70 C");
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 1, 1, "10", "-20", "150"))),
            "w.epw:9:66: EPW field 9 (relative humidity, %) is 150, out of range: expected from 0 "
            "to 110 %");
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 1, 1, "10", "-20", "50", "0"))),
            "w.epw:9:69: EPW field 10 (atmospheric station pressure, Pa) is 0, out of range: "
            "expected more than 31000 and less than 120000 Pa");
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 1, 1, "10", "15"))),
            "w.epw:9:62: the dew point 15 C is above the dry bulb temperature 10 C");
  // Within the files' 0.1 C rounding, a dew point at the dry bulb passes.
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 1, 1, "1.1", "1.2", "100"))), "no error");
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(13, 1, 1, "10"))),
            "w.epw:9:6: EPW field 2 (month) is '13', expected a whole number from 1 to 12");
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 1, 25, "10"))),
            "w.epw:9:10: EPW field 4 (hour) is '25', expected a whole number from 1 to 24");
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 32, 1, "10"))),
            "w.epw:9:8: EPW field 3 (day) is '32', expected a whole number from 1 to 31");
  EXPECT_EQ(EpwError(YearWithFirstRow("2010,1,1,1,0,?9,10.0,5.0,50,99846\n")),
            "w.epw:9:1: EPW data row has 10 fields, expected 35");
}

TEST(Weather, AValueIsMissingOnlyWhenItEqualsTheCode) {
  const std::string no_gaps = "firstwall does not fill gaps";
  // Dry bulb 99.9 and humidity 999 are the codes: the model needs them, so they are refused.
  try {
    ReadEpw(YearWithFirstRow(EpwRow(1, 1, 1, "99.9")), "w.epw");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().ToString() + ": " + e.message(),
              "w.epw:9:59: EPW field 7 (dry bulb temperature) is marked missing (99.9)");
    EXPECT_NE(e.hint().find(no_gaps), std::string::npos);
  }
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 1, 1, "10", "-20", "999.0"))),
            "w.epw:9:66: EPW field 9 (relative humidity) is marked missing (999)");
  // 200 is neither in range nor the code.
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 1, 1, "10", "200"))),
            "w.epw:9:62: EPW field 8 (dew point temperature, C) is 200, out of range: expected "
            "more than -70 and less than 70 C");
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 1, 1, "200"))),
            "w.epw:9:59: EPW field 7 (dry bulb temperature, C) is 200, out of range: expected "
            "more than -70 and less than 70 C");
  // A missing dew point or pressure, which the model does not use, is accepted.
  const auto rows =
      ReadEpw(YearWithFirstRow(EpwRow(1, 1, 1, "12.5", "99.9", "50", "999999")), "w.epw");
  EXPECT_NEAR(ToCelsius(rows[0].dry_bulb), 12.5, 1e-9);
}

TEST(Weather, RowsRunHourByHourThroughOneYear) {
  std::string s = EpwWithTemps(std::vector<double>(8760, 10.0));
  // Hour 2 of 1/1 written as hour 3.
  const size_t row2 = s.find("2010,1,1,2,");
  EXPECT_EQ(EpwError(std::string(s).replace(row2, 11, "2010,1,1,3,")),
            "w.epw:10:10: expected hour 2 after the row before, got 3");
  EXPECT_EQ(EpwError(YearWithFirstRow(EpwRow(1, 2, 1, "10"))),
            "w.epw:9:6: the weather data starts on 1/2, expected 1/1");
  // A day skipped: 1/2 hour 1 written as 1/3.
  const size_t day2 = s.find("2010,1,2,1,");
  EXPECT_EQ(EpwError(std::string(s).replace(day2, 11, "2010,1,3,1,")),
            "w.epw:33:6: expected the day after 1/1, got 1/3");
  // February 29 in 8,760 rows ends the year a day early; 8,784 rows with it are a leap year.
  std::vector<double> leap_day(8760, 10.0);
  const std::string with_feb29 = EpwWithTemps(leap_day, true);
  EXPECT_EQ(EpwError(with_feb29), "w.epw:8768: the weather data ends on 12/30, expected 12/31");
  EXPECT_EQ(ReadEpw(EpwWithTemps(std::vector<double>(8784, 10.0), true), "w.epw").size(), 8784u);
  std::string next_year = EpwWithTemps(std::vector<double>(8760, 10.0));
  for (int h = 1; h <= 24; ++h) next_year += EpwRow(1, 1, h, "10");
  EXPECT_EQ(EpwError(next_year), "w.epw:8769:6: expected the day after 12/31, got 1/1");
}

TEST(Weather, HeadersByteOrderMarkEmptyFilesAndNulBytes) {
  const std::string year = EpwWithTemps(std::vector<double>(8760, 10.0));
  EXPECT_EQ(ReadEpw("\xEF\xBB\xBF" + year, "w.epw").size(), 8760u);
  EXPECT_EQ(EpwError(""), "w.epw:1: the weather file is empty");
  EXPECT_EQ(EpwError("\n\r\n"), "w.epw:1: the weather file is empty");
  EXPECT_EQ(EpwError("hour,price_usd_per_mwh\n0,1\n"),
            "w.epw:1:1: expected the EPW header 'LOCATION,...' on line 1");
  EXPECT_EQ(EpwError(std::string(year).insert(year.size() - 5, 1, '\0')),
            "w.epw:8768:" + std::to_string(year.size() - 5 - year.rfind('\n', year.size() - 2)) +
                ": NUL byte in a text file (binary data, or a file cut short)");
  std::string sub_hourly = year;
  sub_hourly.replace(sub_hourly.find("DATA PERIODS,1,1,"), 17, "DATA PERIODS,1,4,");
  EXPECT_EQ(EpwError(sub_hourly),
            "w.epw:8:16: expected 1 record per hour in the DATA PERIODS header, got '4'");
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
  CoolingConfig c;
  c.constant_cop = 5.0;
  CoolingPlant plant(c);
  const CoolingState st = plant.Advance(60, Megawatts(1), Watts(0), {Celsius(20), 0.5});
  EXPECT_DOUBLE_EQ(ToKilowatts(st.electric), 200.0);
  EXPECT_DOUBLE_EQ(ToKilowatts(st.rejected), 1200.0);
}

TEST(Psychrometrics, StullsWorkedExample) {
  // Stull (2011): 20 C at 50% relative humidity has a wet bulb of 13.7 C.
  EXPECT_NEAR(ToCelsius(WetBulb(Celsius(20), 0.5)), 13.7, 0.05);
  // Saturated air: the wet bulb is the dry bulb (within the fit's error).
  EXPECT_NEAR(ToCelsius(WetBulb(Celsius(25), 0.99)), 25.0, 0.4);
  EXPECT_LE(WetBulb(Celsius(30), 0.99), Celsius(30));
}

double Biquad(const std::array<double, 6>& k, double x, double y) {
  return k[0] + k[1] * x + k[2] * x * x + k[3] * y + k[4] * y * y + k[5] * x * y;
}

TEST(Chiller, ReferencePointAndPartLoadByHand) {
  const ChillerCurves& ch = *FindChiller("carrier-19xr-1143kw");
  // Reference conditions, one unit at full load: P = Q_avail / COP x EIRFT x EIRFPLR(1).
  const double capft = Biquad(ch.cap_ft, 10.0, 26.67), eirft = Biquad(ch.eir_ft, 10.0, 26.67);
  EXPECT_NEAR(capft, 1.0, 0.01);  // the curves are normalised at the reference point
  EXPECT_NEAR(eirft, 1.0, 0.05);  // 1.031: the dataset fit is not exactly 1 there
  const double q_avail = 1142.9e3 * capft;
  const ChillerOperation full =
      RunChillers(ch, 1, Kilowatts(1142.9), Watts(q_avail), Celsius(10), Celsius(26.67));
  const double plr1 = ch.eir_plr[0] + ch.eir_plr[1] + ch.eir_plr[2];
  EXPECT_NEAR(ToWatts(full.electric), q_avail / 6.57 * eirft * plr1, 1e-6);
  EXPECT_NEAR(full.part_load, 1.0, 1e-12);
  // Three units for 1.5 units' worth of load. Two at 75 % would draw 2 x EIRFPLR(0.75) =
  // 2 x 0.593073 = 1.186 units' full-load power; three at 50 %, 3 x EIRFPLR(0.5) = 3 x 0.315554
  // = 0.947: this variable-speed chiller is most efficient near 37 % (where EIRFPLR(p) / p is
  // least), so all three run.
  const ChillerOperation staged =
      RunChillers(ch, 3, Kilowatts(1142.9), Watts(1.5 * q_avail), Celsius(10), Celsius(26.67));
  EXPECT_EQ(staged.units_running, 3);
  EXPECT_NEAR(staged.part_load, 0.5, 1e-12);
  auto eir_plr = [&](double p) {
    return ch.eir_plr[0] + ch.eir_plr[1] * p + ch.eir_plr[2] * p * p;
  };
  EXPECT_NEAR(eir_plr(0.75), 0.593073, 1e-6);
  EXPECT_NEAR(eir_plr(0.5), 0.315554, 1e-6);
  EXPECT_NEAR(ToWatts(staged.electric), 3 * q_avail / 6.57 * eirft * eir_plr(0.5), 1e-6);
  // With only two units, both must run, at 75 %.
  const ChillerOperation two =
      RunChillers(ch, 2, Kilowatts(1142.9), Watts(1.5 * q_avail), Celsius(10), Celsius(26.67));
  EXPECT_EQ(two.units_running, 2);
  EXPECT_NEAR(ToWatts(two.electric), 2 * q_avail / 6.57 * eirft * eir_plr(0.75), 1e-6);
  // Colder condenser water: less power for the same load.
  const ChillerOperation cool =
      RunChillers(ch, 1, Kilowatts(1142.9), Kilowatts(800), Celsius(10), Celsius(18));
  const ChillerOperation warm =
      RunChillers(ch, 1, Kilowatts(1142.9), Kilowatts(800), Celsius(10), Celsius(26));
  EXPECT_LT(cool.electric, warm.electric);
  // More than every unit can carry is reported, not hidden.
  const ChillerOperation over =
      RunChillers(ch, 1, Kilowatts(1142.9), Watts(2 * q_avail), Celsius(10), Celsius(26.67));
  EXPECT_NEAR(ToWatts(over.unmet), q_avail, 1e-6);
}

// Staging by least power, not by the fewest units that carry the load: with the fewest, a rise
// of condenser water that cut the units' capacity brought one more on at a lower part-load ratio,
// and the plant's power fell as the weather warmed (a forecast's plant drew 20 % less at 1 K
// warmer). Now the power rises with the condenser water and the load across every staging step.
// (The 1410 kW unit's capacity fit rises with condenser water below about 15 C, so there a
// warmer condenser can let one unit fewer carry the load: 1 MW on 1 MW units needs two at 13 C,
// one at 13.25 C.)
TEST(Chiller, PowerRisesWithCondenserWaterAndLoadAcrossStagingSteps) {
  for (const char* name : {"carrier-19xr-1143kw", "carrier-19xr-1410kw"}) {
    const ChillerCurves& ch = *FindChiller(name);
    const double from_c = ch.name == "carrier-19xr-1143kw" ? 12.0 : 15.0;
    for (double load_mw : {0.3, 1.0, 2.2, 3.4}) {
      double last = 0;
      for (double cond = from_c; cond <= 27.0; cond += 0.25) {
        const double w = ToWatts(
            RunChillers(ch, 4, Kilowatts(1000), Megawatts(load_mw), Celsius(10), Celsius(cond))
                .electric);
        EXPECT_GE(w, last * (1 - 1e-9)) << name << " " << load_mw << " MW at " << cond << " C";
        last = w;
      }
    }
    for (double cond : {15.0, 22.0, 26.0}) {
      double last = 0;
      for (double load_mw = 0.05; load_mw <= 4.0; load_mw += 0.05) {
        const double w = ToWatts(
            RunChillers(ch, 4, Kilowatts(1000), Megawatts(load_mw), Celsius(10), Celsius(cond))
                .electric);
        EXPECT_GE(w, last * (1 - 1e-9)) << name << " " << load_mw << " MW at " << cond << " C";
        last = w;
      }
    }
  }
}

// Issue #16, case 7, at the chiller: one of four 2.5 MW units (a 10 MW air-side plant) carrying
// one idle node's 2.7 kW, at 10 C chilled water and the curve's 26.67 C condenser limit. By hand
// from the dataset's coefficients (EnergyPlus DataSets/Chillers.idf, Carrier 19XR 1143kW):
//   CAPFT(10, 26.67) = 1.006323       available capacity 2.5 MW x 1.006323 = 2,515,807 W
//   EIRFT(10, 26.67) = 1.030818       EIRFPLR(0.2) = 0.140882 - 0.157815 x 0.2 + 1.014316 x 0.04
//                                                  = 0.149892
//   power at PLR_min: 2,515,807 / 6.57 x 1.030818 x 0.149889 = 59,166 W (what was charged before)
//   PLR = 2,696.6 / 2,515,807 = 0.0010719, cycling ratio CR = PLR / 0.2 = 0.0053593
//   power = 59,166 x 0.0053593 = 317.1 W
TEST(Chiller, BelowTheMinimumPartLoadRatioItCyclesByHand) {
  const ChillerCurves& ch = *FindChiller("carrier-19xr-1143kw");
  const double load_w = 2696.6;
  const ChillerOperation op =
      RunChillers(ch, 4, Megawatts(2.5), Watts(load_w), Celsius(10), Celsius(43));
  const double hand_w = 317.1, hand_cr = 0.0053593, hand_bypass_w = 59166;
  const ChillerOperation bypass = RunChillers(ch, 4, Megawatts(2.5), Watts(load_w), Celsius(10),
                                              Celsius(43), LowLoad::kHotGasBypass);
  std::printf("%-34s %12s %12s %8s\n", "one 2.5 MW unit, 2.70 kW load", "computed", "by hand",
              "error");
  auto row = [](const char* what, double got, double hand) {
    std::printf("%-34s %12.6g %12.6g %7.3f%%\n", what, got, hand, 100 * (got / hand - 1));
  };
  row("cycling: chiller power (W)", ToWatts(op.electric), hand_w);
  row("cycling ratio", op.cycling_ratio, hand_cr);
  row("hot-gas bypass: power (W)", ToWatts(bypass.electric), hand_bypass_w);
  EXPECT_EQ(op.units_running, 1);  // staged: one unit of four runs
  EXPECT_NEAR(ToWatts(op.electric) / hand_w, 1.0, 1e-3);
  EXPECT_NEAR(op.cycling_ratio / hand_cr, 1.0, 1e-4);
  EXPECT_NEAR(ToWatts(op.false_load), 0.0, 1e-9);  // PLR_min = the minimum unloading ratio here
  // False loading never cycles: the minimum-load power all the time, the bypass making up the rest.
  EXPECT_NEAR(ToWatts(bypass.electric) / hand_bypass_w, 1.0, 1e-4);
  EXPECT_DOUBLE_EQ(bypass.cycling_ratio, 1.0);
  EXPECT_NEAR(ToWatts(bypass.false_load), 0.2 * 2.5e6 * 1.006323 - load_w, 2.0);
  // Cycling is continuous at PLR_min and proportional to the load below it.
  const double avail = 2.5e6 * Biquad(ch.cap_ft, 10, 26.67);
  const ChillerOperation at =
      RunChillers(ch, 1, Megawatts(2.5), Watts(0.2 * avail), Celsius(10), Celsius(26.67));
  const ChillerOperation half =
      RunChillers(ch, 1, Megawatts(2.5), Watts(0.1 * avail), Celsius(10), Celsius(26.67));
  EXPECT_NEAR(ToWatts(half.electric) / ToWatts(at.electric), 0.5, 1e-12);
}

// At and above PLR_min both low-load modes give the DOE-2 power, as before the cycling was added:
// P = Q_avail / COP x EIRFT x EIRFPLR(PLR), for PLR = PLR_min exactly, 0.35, 0.75 and 1.
TEST(Chiller, AtAndAbovePlrMinNothingChanges) {
  for (const char* name : {"carrier-19xr-1143kw", "carrier-19xr-1410kw"}) {
    const ChillerCurves& ch = *FindChiller(name);
    const double tchw = 10, tcond = 20;
    const double avail = 1e6 * Biquad(ch.cap_ft, tchw, tcond);
    for (const double plr : {ch.plr_min, 0.35, 0.75, 1.0}) {
      const double eirplr = ch.eir_plr[0] + ch.eir_plr[1] * plr + ch.eir_plr[2] * plr * plr;
      const double hand = avail / ch.cop_ref * Biquad(ch.eir_ft, tchw, tcond) * eirplr;
      for (const LowLoad mode : {LowLoad::kCycling, LowLoad::kHotGasBypass}) {
        const ChillerOperation op = RunChillers(ch, 1, Megawatts(1), Watts(plr * avail),
                                                Celsius(tchw), Celsius(tcond), mode);
        EXPECT_NEAR(ToWatts(op.electric), hand, 1e-9 * hand) << name << " " << plr;
        EXPECT_DOUBLE_EQ(op.cycling_ratio, 1.0) << name << " " << plr;
        EXPECT_DOUBLE_EQ(ToWatts(op.false_load), 0.0) << name << " " << plr;
      }
    }
  }
}

CoolingConfig LiquidHall() {
  CoolingConfig c;
  c.capacity = Megawatts(10);
  c.liquid_share = 0.8;
  c.chiller = FindChiller("carrier-19xr-1143kw");
  return c;
}

TEST(CoolingPlant, FansBelowTheirSpeedFloorStageOffInProportion) {
  CoolingConfig c = LiquidHall();
  c.liquid_share = 0;
  c.economizer = false;
  CoolingPlant plant(c);
  // 1 kW into a 10 MW air side: 0.01% of design, far below the 20% floor. The CRAHs at the floor
  // move 0.2 x design for 0.03 x 0.2^3 x design of power: 0.03 x 0.04 = 0.12% per watt carried.
  const CoolingState s = plant.Steady(Kilowatts(1), Watts(0), {Celsius(35), 0.4});
  EXPECT_NEAR(ToWatts(s.crah_fans), 0.03 * 0.04 * 1000, 1e-9);
  // At the floor itself the two forms agree: 2 MW gives 0.03 x 10 MW x 0.2^3 = 2.4 kW.
  const CoolingState f = plant.Steady(Megawatts(2), Watts(0), {Celsius(35), 0.4});
  EXPECT_NEAR(ToWatts(f.crah_fans), 2400.0, 1e-6);
}

TEST(CoolingPlant, EconomizerPartialAndMechanicalModesByHand) {
  CoolingPlant plant(LiquidHall());
  // Wet bulb 13.7 C (20 C, 50%): tower water 17.7 C, economizer water 19.7 C. The 32 C liquid
  // loop is fully economized; the 12 C air loop (returning at 22 C) gets (22 - 19.7) / 10 = 23%.
  const OutdoorConditions mild{Celsius(20), 0.5};
  const double tw = ToCelsius(WetBulb(Celsius(20), 0.5));
  const CoolingState s = plant.Steady(Megawatts(8), Megawatts(0.4), mild);
  const double air_heat = 8e6 * 0.2 + 0.4e6;  // 2 MW to air
  const double air_design = 10e6 * 0.2;
  const double crah = 0.03 * air_design * std::pow(air_heat / air_design, 3);
  const double q_air = air_heat + crah, q_liq = 8e6 * 0.8;
  const double pumps = 0.01 * (q_air + q_liq);
  EXPECT_NEAR(ToWatts(s.crah_fans), crah, 1e-6);
  EXPECT_NEAR(ToWatts(s.pumps), pumps, 1e-6);
  const double air_free = std::clamp((22.0 - (tw + 4 + 2)) / 10.0, 0.0, 1.0);
  const double q_air_p = q_air * (1 + 0.01), q_liq_p = q_liq * (1 + 0.01);
  EXPECT_NEAR(s.economizer_share, (q_liq_p + air_free * q_air_p) / (q_liq_p + q_air_p), 1e-9);
  // The chillers carry only the air loop's remainder, condensing at the tower water.
  const ChillerOperation op =
      RunChillers(*FindChiller("carrier-19xr-1143kw"), 4, Watts(air_design / 4),
                  Watts((1 - air_free) * q_air_p), Celsius(12), Celsius(tw + 4));
  EXPECT_NEAR(ToWatts(s.chillers), ToWatts(op.electric), 1e-6);
  // Balance: what reaches the outdoors is the heat carried plus everything the plant adds to it.
  EXPECT_NEAR(ToWatts(s.rejected), ToWatts(s.heat_carried + s.chillers + s.crah_fans + s.pumps),
              1e-6);
  // Evaporation and blowdown at 4 cycles.
  EXPECT_NEAR(s.water_l_per_s, 1.47 * ToWatts(s.rejected) / 3.6e6 * (1 + 1.0 / 3), 1e-12);

  // Cold: everything economized, chillers off.
  const CoolingState cold = plant.Steady(Megawatts(8), Megawatts(0.4), {Celsius(-5), 0.7});
  EXPECT_DOUBLE_EQ(cold.economizer_share, 1.0);
  EXPECT_DOUBLE_EQ(ToWatts(cold.chillers), 0.0);
  // Hot and humid: the air loop is all mechanical, the warm-water loop still partly free.
  const CoolingState hot = plant.Steady(Megawatts(8), Megawatts(0.4), {Celsius(35), 0.6});
  EXPECT_GT(ToWatts(hot.chillers), ToWatts(s.chillers));
  EXPECT_LT(hot.economizer_share, s.economizer_share);
  // PUE-like ratio: the warm-water hall cools for a few percent of its heat in mild weather.
  EXPECT_LT(ToWatts(s.electric) / 8.4e6, 0.06);
}

TEST(CoolingPlant, CduApproachByEffectivenessAndLoad) {
  CoolingPlant plant(LiquidHall());  // 8 MW of cold-plate design heat, eps 0.8, 10 K at design
  // 8 MW of IT heat puts 6.4 MW on the cold plates: 80% of design, a secondary rise of 8 K, and
  // the cold plates' supply (1 - 0.8) / 0.8 x 8 K = 2 K above the 32 C facility water.
  const CoolingState s = plant.Steady(Megawatts(8), Megawatts(0.4), {Celsius(10), 0.5});
  EXPECT_NEAR(ToKelvinDifference(s.cdu_approach), 2.0, 1e-9);
  EXPECT_NEAR(ToCelsius(s.gpu_coolant), 34.0, 1e-9);
  // Air-cooled: the GPUs see the server inlet, chilled water + the CRAH approach.
  CoolingConfig air = LiquidHall();
  air.liquid_share = 0;
  const CoolingState a = CoolingPlant(air).Steady(Megawatts(8), Megawatts(0.4), {Celsius(10), 0.5});
  EXPECT_NEAR(ToCelsius(a.gpu_coolant), 12.0 + 10.0, 1e-9);
}

// Issue #18: immersion next to cold plates, by hand. 8 MW of IT heat, all of it captured
// (liquid_share 1), on a cold day so the economizer carries everything: no air heat, no CRAH fans.
// Pumps: 1 % of 8 MW = 80 kW for the water loops; single-phase immersion adds its fluid pumps,
// 0.8 % of 8 MW = 64 kW. Coolant: 8 MW on a 10 MW liquid design is 80 % load, a CDU approach of
// (1 - 0.8) / 0.8 x 10 K x 0.8 = 2 K over the 32 C water: 34 C for cold plates and single-phase
// fluid; two-phase fluid boils at 50 C.
TEST(CoolingPlant, ImmersionPumpsAndCoolantByHand) {
  auto run = [](LiquidCooling kind, const OutdoorConditions& out, int chillers = 4,
                HeatSink sink = HeatSink::kCoolingTower) {
    CoolingConfig c = LiquidHall();
    c.liquid_share = 1.0;
    c.liquid = kind;
    c.chillers = chillers;
    c.sink = sink;
    return CoolingPlant(c).Steady(Megawatts(8), Watts(0), out);
  };
  const OutdoorConditions cold{Celsius(-5), 0.7};
  const CoolingState plate = run(LiquidCooling::kColdPlate, cold);
  const CoolingState one = run(LiquidCooling::kSinglePhaseImmersion, cold);
  const CoolingState two = run(LiquidCooling::kTwoPhaseImmersion, cold);
  EXPECT_NEAR(ToWatts(plate.pumps), 80e3, 1e-6);
  EXPECT_NEAR(ToWatts(one.pumps), 80e3 + 64e3, 1e-6);
  EXPECT_NEAR(ToWatts(two.pumps), 80e3, 1e-6);
  EXPECT_EQ(ToWatts(one.crah_fans), 0.0);
  EXPECT_NEAR(ToCelsius(plate.gpu_coolant), 34.0, 1e-9);
  EXPECT_NEAR(ToCelsius(one.gpu_coolant), 34.0, 1e-9);
  EXPECT_NEAR(ToCelsius(two.gpu_coolant), 50.0, 1e-9);
  // The fluid pumps' work reaches the outdoors with the rest.
  EXPECT_NEAR(ToWatts(one.rejected) - ToWatts(plate.rejected), 64e3, 1e-6);
  // No chillers (100 % free cooling) on dry coolers: at 20 C the coolers give 28 + 2 = 30 C
  // water, under the 32 C setpoint; at 45 C they give 53 + 2 = 55 C and the water floats up
  // there, the two-phase fluid condensing at 55 + 2 = 57 C, above its boiling point.
  const CoolingState mild =
      run(LiquidCooling::kTwoPhaseImmersion, {Celsius(20), 0.5}, 0, HeatSink::kDryCooler);
  EXPECT_NEAR(ToCelsius(mild.gpu_coolant), 50.0, 1e-9);
  EXPECT_EQ(ToWatts(mild.chillers), 0.0);
  EXPECT_DOUBLE_EQ(mild.economizer_share, 1.0);
  EXPECT_EQ(mild.water_l_per_s, 0.0);
  const CoolingState hot =
      run(LiquidCooling::kTwoPhaseImmersion, {Celsius(45), 0.2}, 0, HeatSink::kDryCooler);
  EXPECT_NEAR(ToCelsius(hot.liquid_supply), 55.0, 1e-9);
  EXPECT_NEAR(ToCelsius(hot.gpu_coolant), 57.0, 1e-9);
}

// Issue #18: single-phase immersion's cooling overhead against published measurements. Intel and
// GRC's year of seven dual-socket Xeon servers in a mineral-oil tank (pump, heat exchanger, outdoor
// cooler) measured a cooling PUE of 1.02 to 1.03 (as reported by Elektor and Engadget, September
// 2012; Intel's "Submersing Data Centers in Hot Oil? What a Cool Idea!"); Eiland et al. (ASME J.
// Electronic Packaging 139(4):041005, 2017) a partial PUE of the cooling as low as 1.03 for one
// server in mineral oil. The model's chiller-less plant on dry coolers with single-phase immersion
// and its defaults: (IT + pumps + cooler fans) / IT at 50 to 100 % of its design heat, in mild
// weather (the economizer carries all of it).
TEST(CoolingPlant, SinglePhaseImmersionCoolingPueAgainstMeasurements) {
  CoolingConfig c = LiquidHall();
  c.liquid_share = 1.0;
  c.liquid = LiquidCooling::kSinglePhaseImmersion;
  c.chillers = 0;
  c.sink = HeatSink::kDryCooler;
  std::printf("single-phase immersion, dry coolers, no chillers, 15 C outdoors\n");
  for (const double load : {0.5, 0.75, 1.0}) {
    const Power it = Megawatts(10 * load);
    const CoolingState s = CoolingPlant(c).Steady(it, Watts(0), {Celsius(15), 0.5});
    EXPECT_DOUBLE_EQ(s.economizer_share, 1.0);
    const double ppue = 1 + ToWatts(s.electric) / ToWatts(it);
    // By hand: pumps 1 % + fluid pumps 0.8 % of the heat; dry-cooler fans 1 % of the design
    // heat x (rejected / design)^3 (fan power ~ airflow^3 ~ heat^3 at a fixed rise), the rejected
    // heat being the IT's and the pumps' 1.8 % more, up to the coolers' design.
    const double cooler = std::min(1.0, 1.018 * load);
    EXPECT_NEAR(ppue, 1 + 0.018 + 0.01 * cooler * cooler * cooler / load, 1e-9);
    std::printf("  %3.0f %% of design: cooling pPUE %.4f (published 1.02-1.03)\n", 100 * load,
                ppue);
    EXPECT_GE(ppue, 1.015);
    EXPECT_LE(ppue, 1.035);
  }
}

TEST(CoolingPlant, DryCoolersUseNoWaterAndTrackTheDryBulb) {
  CoolingConfig c = LiquidHall();
  c.sink = HeatSink::kDryCooler;
  CoolingPlant plant(c);
  const CoolingState s = plant.Steady(Megawatts(8), Megawatts(0.4), {Celsius(20), 0.5});
  EXPECT_EQ(s.water_l_per_s, 0.0);
  // Dry cooler water 28 C: the liquid loop (return 42 C, supply 32 C) is fully free with the
  // 2 K economizer; the air loop none.
  CoolingPlant tower(LiquidHall());
  EXPECT_LT(s.economizer_share,
            tower.Steady(Megawatts(8), Megawatts(0.4), {Celsius(20), 0.5}).economizer_share);
}

TEST(CoolingPlant, WaterLoopLagsAndStoresTheDifference) {
  CoolingPlant plant(LiquidHall());
  const OutdoorConditions o{Celsius(10), 0.5};
  plant.Advance(60, Megawatts(4), Watts(0), o);  // settles at 4 MW
  EXPECT_TRUE(plant.Settled());
  // A step to 8 MW: after one time constant the loops carry 4 + 4 (1 - 1/e) MW.
  const CoolingState s = plant.Advance(300, Megawatts(8), Watts(0), o);
  const double avg = 8e6 - 4e6 * (1 - std::exp(-1.0));  // window average of the exponential
  EXPECT_NEAR(ToWatts(s.heat_carried), avg, 1e-3);
  EXPECT_NEAR(plant.stored_j(), (8e6 - avg) * 300, 1e-3);
  EXPECT_FALSE(plant.Settled());
  // Long after, the stored heat is 4 MW x tau and nothing more.
  for (int i = 0; i < 200; ++i) plant.Advance(60, Megawatts(8), Watts(0), o);
  EXPECT_TRUE(plant.Settled());
  EXPECT_NEAR(plant.stored_j(), 4e6 * 300, 1.0);
}

}  // namespace
}  // namespace firstwall::thermal
