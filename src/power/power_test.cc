#include <gtest/gtest.h>

#include "core/error.h"
#include "power/conversion_chain.h"
#include "power/gpu_power.h"
#include "power/swing.h"
#include "power/tariff.h"

#include <cmath>
#include <numbers>
#include <vector>

namespace firstwall::power {
namespace {
using namespace units;

TEST(GpuPower, LinearBetweenIdleAndTdpAndCapped) {
  GpuPowerModel m(Watts(70), Watts(700), Watts(1000));
  EXPECT_DOUBLE_EQ(ToWatts(m.At(0)), 70);
  EXPECT_DOUBLE_EQ(ToWatts(m.At(0.5)), 385);
  EXPECT_DOUBLE_EQ(ToWatts(m.At(1)), 700);
  EXPECT_DOUBLE_EQ(ToWatts(m.At(2)), 700);  // activity is clamped
  GpuPowerModel capped(Watts(70), Watts(700), Watts(500));
  EXPECT_DOUBLE_EQ(ToWatts(capped.At(1)), 500);
  EXPECT_DOUBLE_EQ(ToWatts(capped.At(0.5)), 385);
}

TEST(ConversionChain, HandComputedRapsStages) {
  // RAPS: node DC-DC (P + 13 W)/0.98 then rectifier (P + 17 W)/0.96, for a 1000 W load.
  ConversionChain chain({{"dcdc", 0.98, Watts(13), Watts(0)}, {"rect", 0.96, Watts(17), Watts(0)}});
  const ChainFlow f = chain.Flow(Watts(1000));
  const double dcdc_in = (1000.0 + 13.0) / 0.98;
  const double rect_in = (dcdc_in + 17.0) / 0.96;
  EXPECT_DOUBLE_EQ(ToWatts(f.input[0]), dcdc_in);
  EXPECT_DOUBLE_EQ(ToWatts(f.grid), rect_in);
  EXPECT_NEAR(ToWatts(f.total_loss), rect_in - 1000.0, 1e-9);
  EXPECT_NEAR(ToWatts(f.loss[0] + f.loss[1]), ToWatts(f.total_loss), 1e-9);
  // 10 parallel chains: fixed losses count ten times.
  const ChainFlow f10 = chain.Flow(Watts(10000), 10);
  EXPECT_NEAR(ToWatts(f10.grid), 10 * rect_in, 1e-9);
}

TEST(ConversionChain, EmptyChainIsLossless) {
  ConversionChain chain({});
  EXPECT_DOUBLE_EQ(ToWatts(chain.Flow(Watts(5)).grid), 5);
}

TEST(ConversionChain, ResistiveLossAndRedundancyByHand) {
  ConversionStage ups{"ups", 0.97, Watts(1000), Watts(1e6)};
  ups.resistive_loss = 0.02;
  ups.modules = 4;
  ups.redundancy = Redundancy::k2N;  // 8 modules of 250 kW installed
  const ConversionChain chain({ups});
  // 600 kW out: 8 no-load losses, and I^2 R of 2% at rating x 0.6^2, spread over 8 modules
  // instead of 4.
  const double resistive = 1e6 * 0.02 * 0.6 * 0.6 * 4 / 8;
  EXPECT_NEAR(ToWatts(chain.Flow(Kilowatts(600)).grid), (600e3 + 8 * 1000 + resistive) / 0.97,
              1e-6);
  // N+1: five modules.
  ups.redundancy = Redundancy::kNPlus1;
  const ConversionChain n1({ups});
  EXPECT_NEAR(ToWatts(n1.Flow(Kilowatts(600)).grid),
              (600e3 + 5 * 1000 + 1e6 * 0.02 * 0.36 * 4 / 5) / 0.97, 1e-6);
}

TEST(Tariff, HourlyCsvRepeatsFromTheWeatherYearsHour) {
  std::string csv = "hour,price_usd_per_mwh,carbon_g_per_kwh\n";
  for (int h = 0; h < 24; ++h) csv += std::to_string(h) + (h < 12 ? ",100,300\n" : ",200,500\n");
  const Tariff t = Tariff::FromCsv(csv, "tou.csv", 0);
  auto at = [](double h) { return SimTime::From(Hours(h)); };
  EXPECT_DOUBLE_EQ(t.UsdPerJoule(at(1)), 100 / 3.6e9);
  EXPECT_DOUBLE_EQ(t.UsdPerJoule(at(13.5)), 200 / 3.6e9);
  EXPECT_DOUBLE_EQ(t.CarbonGramsPerJoule(at(13.5)), 500 / 3.6e6);
  EXPECT_DOUBLE_EQ(t.UsdPerJoule(at(25)), 100 / 3.6e9);     // the day repeats
  const Tariff noon = Tariff::FromCsv(csv, "tou.csv", 12);  // simulation starts at its hour 12
  EXPECT_DOUBLE_EQ(noon.UsdPerJoule(at(0)), 200 / 3.6e9);
  auto error = [](const std::string& text) {
    try {
      Tariff::FromCsv(text, "tou.csv", 0);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("hour,price,carbon\n0,1,2\n").find("tou.csv:1:1"), std::string::npos);
  EXPECT_NE(error("hour,price_usd_per_mwh,carbon_g_per_kwh\n1,1,2\n").find("expected hour 0"),
            std::string::npos);
  EXPECT_NE(error("hour,price_usd_per_mwh,carbon_g_per_kwh\n0,abc,2\n").find("tou.csv:2:3"),
            std::string::npos);
  EXPECT_NE(error("hour,price_usd_per_mwh,carbon_g_per_kwh\n").find("no rows"), std::string::npos);
}

// A tariff CSV of `rows` hours at 100 USD/MWh and 300 g/kWh.
std::string TariffRows(int rows) {
  std::string csv = "hour,price_usd_per_mwh,carbon_g_per_kwh\n";
  for (int h = 0; h < rows; ++h) csv += std::to_string(h) + ",100,300\n";
  return csv;
}

std::string TariffError(const std::string& text) {
  try {
    Tariff::FromCsv(text, "tou.csv", 0);
  } catch (const InputError& e) {
    return e.where().ToString() + ": " + e.message();
  }
  return "no error";
}

TEST(Tariff, OnlyADayAWeekOrAYearOfRowsRepeats) {
  for (int rows : {24, 168, 8760, 8784}) {
    EXPECT_EQ(TariffError(TariffRows(rows)), "no error") << rows;
  }
  for (int rows : {1, 9, 23, 25, 167, 8759, 8761}) {
    EXPECT_EQ(TariffError(TariffRows(rows)),
              "tou.csv:" + std::to_string(rows + 1) + ": the tariff has " + std::to_string(rows) +
                  " hourly rows; its period must be a day (24 rows), a week (168), a year (8760) "
                  "or a leap year (8784)");
  }
}

TEST(Tariff, RefusesNonFiniteAndOutOfRangeValuesAtTheirColumn) {
  const std::string head = "hour,price_usd_per_mwh,carbon_g_per_kwh\n";
  for (const char* bad : {"nan", "-nan", "inf", "-inf", "1e999"}) {
    EXPECT_EQ(TariffError(head + "0," + bad + ",300\n"),
              "tou.csv:2:3: expected a finite number, got '" + std::string(bad) + "'");
    EXPECT_EQ(TariffError(head + "0,100," + bad + "\n"),
              "tou.csv:2:7: expected a finite number, got '" + std::string(bad) + "'");
  }
  EXPECT_EQ(TariffError(head + "nan,100,300\n"),
            "tou.csv:2:1: expected a finite number, got 'nan'");
  EXPECT_EQ(TariffError(head + "0,100,-1\n"),
            "tou.csv:2:7: carbon intensity -1 g/kWh out of range: expected 0 to 5,000");
  EXPECT_EQ(TariffError(head + "0,200000,1\n"),
            "tou.csv:2:3: price 200000 USD/MWh out of range: expected -10,000 to 100,000");
}

TEST(Tariff, ByteOrderMarkEmptyFilesAndNulBytes) {
  // A byte-order mark before the header (spreadsheets write one) is not part of it.
  const Tariff t = Tariff::FromCsv("\xEF\xBB\xBF" + TariffRows(24), "tou.csv", 0);
  EXPECT_DOUBLE_EQ(t.UsdPerJoule(SimTime::From(Hours(3))), 100 / 3.6e9);
  EXPECT_EQ(TariffError(""), "tou.csv:1: the tariff file is empty");
  EXPECT_EQ(TariffError("\xEF\xBB\xBF\r\n\n"), "tou.csv:1: the tariff file is empty");
  EXPECT_EQ(TariffError(TariffRows(24) + std::string("\0", 1)),
            "tou.csv:26:1: NUL byte in a text file (binary data, or a file cut short)");
}

// A site pulsing between 10 and 30 MW at 1 Hz (half a second each), sampled every 10 ms for 60 s.
std::vector<double> SquareWave() {
  std::vector<double> p(6000);
  for (size_t i = 0; i < p.size(); ++i) p[i] = (i % 100) < 50 ? 30e6 : 10e6;
  return p;
}

TEST(PowerSwing, SquareWaveByHand) {
  const SwingMetrics m = AnalyzeSwing(SquareWave(), 0.01, 0.1, 20);
  EXPECT_DOUBLE_EQ(m.swing_w, 20e6);
  EXPECT_DOUBLE_EQ(m.max_ramp_w_per_s, 20e6 / 0.01);
  EXPECT_DOUBLE_EQ(m.mean_w, 20e6);
  EXPECT_NEAR(m.band_peak_hz, 1.0, 1e-9);
  // Fundamental of a square wave of half-swing A: 4A/pi (the sampled wave: within 0.1%).
  EXPECT_NEAR(m.band_amplitude_w, 4 * 10e6 / std::numbers::pi, 0.001 * 12.7e6);
  // Odd harmonics 1-19 Hz fall in the band: sum 1/k^2 over them / (pi^2 / 8) of the energy.
  double in_band = 0;
  for (int k = 1; k <= 19; k += 2) in_band += 1.0 / (k * k);
  EXPECT_NEAR(m.band_share, in_band / (std::numbers::pi * std::numbers::pi / 8), 0.01);
}

TEST(PowerSwing, FloorAndRampLimitCostsByHand) {
  std::vector<double> w = {100, 100, 500, 500, 100, 100};  // two GPUs' total power, W
  std::vector<double> floor = w;
  // A floor of 150 W per GPU (300 W for two): 200 W burned in each of the four low samples.
  EXPECT_DOUBLE_EQ(ApplyPowerFloor(floor, 2, 150, 0.02), 4 * 200.0 * 0.02);
  EXPECT_DOUBLE_EQ(floor[0], 300.0);
  // At most 5,000 W/s per GPU at 20 ms: 200 W per sample for two GPUs. The rise lags (deferred
  // 200 W in the first high sample), the fall is slowed (burned 200 W then).
  std::vector<double> ramp = w;
  double deferred = 0;
  const double burned = ApplyRampLimit(ramp, 2, 5000, 0.02, &deferred);
  EXPECT_EQ(ramp, (std::vector<double>{100, 100, 300, 500, 300, 100}));
  EXPECT_DOUBLE_EQ(deferred, 200 * 0.02);
  EXPECT_DOUBLE_EQ(burned, 200 * 0.02);
}

TEST(PowerSwing, BatteryFlattensTheGridAndConservesEnergy) {
  const std::vector<double> site = SquareWave();
  Battery b;
  b.power_w = 15e6;
  b.capacity_j = 3.6e9;  // 1 MWh
  b.round_trip_efficiency = 0.9;
  b.smoothing_s = 10;
  const BatteryResult r = SmoothWithBattery(site, 0.01, b);
  const SwingMetrics before = AnalyzeSwing(site, 0.01, 0.1, 20);
  const SwingMetrics after = AnalyzeSwing(r.grid_w, 0.01, 0.1, 20);
  EXPECT_LT(after.swing_w, 0.2 * before.swing_w);
  EXPECT_LT(after.max_ramp_w_per_s, 0.2 * before.max_ramp_w_per_s);
  // Grid energy = site energy + energy left in the battery + its losses.
  double grid = 0, load = 0;
  for (size_t i = 0; i < site.size(); ++i) {
    grid += r.grid_w[i] * 0.01;
    load += site[i] * 0.01;
  }
  EXPECT_GT(r.losses_j, 0.0);
  EXPECT_GE(r.min_soc, 0.0);
  EXPECT_LE(r.max_soc, 1.0);
  // Stored energy change is bounded by the SoC range; the balance closes with it.
  const double stored_change_bound = (r.max_soc - r.min_soc) * b.capacity_j;
  EXPECT_NEAR(grid, load + r.losses_j, stored_change_bound + 1.0);
}

}  // namespace
}  // namespace firstwall::power
