#include <gtest/gtest.h>

#include <array>
#include <cmath>

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
  // Three units staged for 1.5 units' worth of load: two run at 75%.
  const ChillerOperation staged =
      RunChillers(ch, 3, Kilowatts(1142.9), Watts(1.5 * q_avail), Celsius(10), Celsius(26.67));
  EXPECT_EQ(staged.units_running, 2);
  EXPECT_NEAR(staged.part_load, 0.75, 1e-12);
  const double plr = ch.eir_plr[0] + ch.eir_plr[1] * 0.75 + ch.eir_plr[2] * 0.75 * 0.75;
  EXPECT_NEAR(ToWatts(staged.electric), 2 * q_avail / 6.57 * eirft * plr, 1e-6);
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

CoolingConfig LiquidHall() {
  CoolingConfig c;
  c.capacity = Megawatts(10);
  c.liquid_share = 0.8;
  c.chiller = FindChiller("carrier-19xr-1143kw");
  return c;
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
