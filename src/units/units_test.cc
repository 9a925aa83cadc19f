#include <gtest/gtest.h>

#include <string>

#include "units/parse.h"
#include "units/quantity.h"
#include "units/spelling.h"

namespace firstwall::units {
namespace {

TEST(Quantity, ArithmeticKeepsDimensions) {
  const Energy e = Watts(700) * Hours(2);
  EXPECT_DOUBLE_EQ(ToKilowattHours(e), 1.4);
  EXPECT_DOUBLE_EQ(ToSeconds(Gigabytes(100) / GigabytesPerSecond(50)), 2.0);
  EXPECT_DOUBLE_EQ(ToSeconds(Flop(989.4e12) / TeraflopPerSecond(989.4)), 1.0);
  EXPECT_DOUBLE_EQ(Kilowatts(3) / Watts(1500), 2.0);
  EXPECT_DOUBLE_EQ(ToWatts(KilowattHours(1) / Hours(1)), 1000.0);
  EXPECT_DOUBLE_EQ(CostUsd(UsdPerKilowattHour(0.1), MegawattHours(1)), 100.0);
  EXPECT_LT(Celsius(25), Kelvin(300));
  EXPECT_DOUBLE_EQ(ToCelsius(Kelvin(273.15)), 0.0);
}

struct Case {
  const char* text;
  Dimension dim;
  double base;
};

TEST(Parse, AcceptsTheUnitsScenariosUse) {
  const Case cases[] = {
      {"700 W", Dimension::kPower, 700},
      {"1.2 MW", Dimension::kPower, 1.2e6},
      {"3.35 TB/s", Dimension::kBandwidth, 3.35e12},
      {"400 Gb/s", Dimension::kBandwidth, 50e9},
      {"400 Gbps", Dimension::kBandwidth, 50e9},
      {"80 GiB", Dimension::kDataSize, 80.0 * 1073741824.0},
      {"80 GB", Dimension::kDataSize, 80e9},
      {"8 Gb", Dimension::kDataSize, 1e9},
      {"989 TFLOP/s", Dimension::kFlopRate, 989e12},
      {"25 C", Dimension::kTemperature, 298.15},
      {"298.15 K", Dimension::kTemperature, 298.15},
      {"212 F", Dimension::kTemperature, 373.15},
      {"15 min", Dimension::kDuration, 900},
      {"24 h", Dimension::kDuration, 86400},
      {"250 ms", Dimension::kDuration, 0.25},
      {"1.98 GHz", Dimension::kFrequency, 1.98e9},
      {"60 L/min", Dimension::kVolumeFlow, 1e-3},
      {"0.08 USD/kWh", Dimension::kEnergyPrice, 0.08 / 3.6e6},
      {"  +5e2   kW ", Dimension::kPower, 5e5},
      {"-3 kW", Dimension::kPower, -3000},
      {"700W", Dimension::kPower, 700},
  };
  for (const Case& c : cases) {
    EXPECT_NEAR(ParseBase(c.text, c.dim), c.base, 1e-12 * std::abs(c.base)) << c.text;
  }
}

std::string ErrorOf(const char* text, Dimension dim) {
  try {
    ParseBase(text, dim);
  } catch (const UnitParseError& e) {
    return std::string(e.what()) + " | " + e.hint();
  }
  return "no error";
}

TEST(Parse, RejectsWithReasons) {
  EXPECT_EQ(ErrorOf("700", Dimension::kPower),
            "missing unit: '700' is a bare number, but a power needs a unit | write it with a "
            "unit, for example '700 W' (units: W, kW, MW)");
  EXPECT_EQ(ErrorOf("700 kw", Dimension::kPower),
            "unknown unit 'kw' | did you mean 'kW'? Units are case-sensitive");
  EXPECT_EQ(ErrorOf("50 GB/s", Dimension::kPower),
            "'GB/s' is a unit of bandwidth, but a power was expected | units of power: W, kW, "
            "MW");
  EXPECT_NE(ErrorOf("989 TFLOPS", Dimension::kFlopRate).find("write FLOP/s for a rate"),
            std::string::npos);
  EXPECT_NE(ErrorOf("", Dimension::kDuration).find("empty value"), std::string::npos);
  EXPECT_NE(ErrorOf("fast", Dimension::kDuration).find("not a number"), std::string::npos);
  EXPECT_NE(ErrorOf("-300 C", Dimension::kTemperature).find("absolute zero"), std::string::npos);
  EXPECT_NE(ErrorOf("inf W", Dimension::kPower).find("not a finite number"), std::string::npos);
}

TEST(Parse, ErrorColumnPointsAtTheUnit) {
  try {
    ParseBase("700 Wats", Dimension::kPower);
    FAIL();
  } catch (const UnitParseError& e) {
    EXPECT_EQ(e.column(), 4u);
  }
}

// A unit in the wrong case: the match that makes sense for the key's dimension, not the nearest
// spelling ("2 mw" of power is megawatts, not milliwatts); bits against bytes names both.
TEST(Parse, CaseMistakesSuggestTheSensibleUnit) {
  auto hint = [](const char* text, Dimension d) {
    try {
      ParseBase(text, d);
    } catch (const UnitParseError& e) {
      return e.hint();
    }
    return std::string("parsed");
  };
  EXPECT_EQ(hint("2 mw", Dimension::kPower),
            "did you mean 'MW'? Units are case-sensitive; 'mW' is 1e-09 MW");
  EXPECT_EQ(hint("2 kw", Dimension::kPower), "did you mean 'kW'? Units are case-sensitive");
  EXPECT_EQ(hint("2 KW", Dimension::kPower), "did you mean 'kW'? Units are case-sensitive");
  EXPECT_EQ(hint("2 gw", Dimension::kPower), "did you mean 'GW'? Units are case-sensitive");
  EXPECT_EQ(hint("2 mwh", Dimension::kEnergy), "did you mean 'MWh'? Units are case-sensitive");
  EXPECT_EQ(hint("400 gbps", Dimension::kBandwidth),
            "did you mean 'Gbps'? Units are case-sensitive");
  EXPECT_EQ(hint("80 gb", Dimension::kDataSize),
            "did you mean 'GB' or 'Gb'? Units are case-sensitive: 'B' is a byte, 'b' a bit");
  EXPECT_EQ(hint("64 mb", Dimension::kDataSize),
            "did you mean 'MB' or 'Mb'? Units are case-sensitive: 'B' is a byte, 'b' a bit");
  EXPECT_EQ(hint("10 MS", Dimension::kDuration), "did you mean 'ms'? Units are case-sensitive");
  EXPECT_EQ(hint("2 mhz", Dimension::kFrequency), "did you mean 'MHz'? Units are case-sensitive");
  // The case mistake of a unit of another dimension is named as such.
  EXPECT_EQ(hint("2 kwh", Dimension::kPower),
            "'kWh' is a unit of energy, but a power was expected (units: W, kW, MW)");
  EXPECT_EQ(hint("2 mb", Dimension::kPower).rfind("'MB' is a unit of data size", 0), 0u)
      << hint("2 mb", Dimension::kPower);
}

TEST(Format, PicksReadableUnits) {
  EXPECT_EQ(Format(Megawatts(1.2)), "1.2 MW");
  EXPECT_EQ(Format(Watts(700)), "700 W");
  EXPECT_EQ(Format(GigabitsPerSecond(400)), "50 GB/s");
  EXPECT_EQ(Format(Gibibytes(80)), "80 GiB");
  EXPECT_EQ(Format(Minutes(15)), "15 min");
  EXPECT_EQ(Format(Celsius(25)), "25 C");
  EXPECT_EQ(Format(Watts(0)), "0 W");
}

TEST(Format, ReadableRoundsForPeople) {
  EXPECT_EQ(Readable(Bytes(30809227264.0)), "30.81 GB");
  EXPECT_EQ(Readable(Gibibytes(2)), "2.147 GB");
  EXPECT_EQ(Readable(Watts(1234567), 2), "1.2 MW");
  EXPECT_EQ(Readable(Celsius(25.04), 3), "25 C");
}

TEST(Format, RoundTripsForEveryDimension) {
  // Exactly where 15 significant digits can; otherwise (a third, or a unit offset's rounding) to
  // those 15 digits rather than with the float noise of the last two.
  const double values[] = {0.0,      1.0,     0.1,       123.456, 1e-7, 3.35e12,
                           989.4e12, 86400.0, 1.0 / 3.0, 2.5e15,  7e-3, 299.99};
  for (int d = 0; d <= static_cast<int>(Dimension::kEnergyPrice); ++d) {
    const auto dim = static_cast<Dimension>(d);
    for (double v : values) {
      const std::string text = FormatBase(v, dim);
      EXPECT_NEAR(ParseBase(text, dim), v, 1e-14 * (v + 300)) << DimensionName(dim) << " " << text;
      const bool decimal_unit = dim == Dimension::kPower || dim == Dimension::kDuration ||
                                dim == Dimension::kDataSize || dim == Dimension::kBandwidth;
      if (decimal_unit && v != 1.0 / 3.0) {
        EXPECT_EQ(ParseBase(text, dim), v) << DimensionName(dim) << " " << text;
      }
    }
  }
}

TEST(Format, PrintsNoFloatNoise) {
  // 32 K is -241.14999999999998 C in doubles: the 273.15 offset's rounding, not a digit written.
  EXPECT_EQ(FormatBase(32, Dimension::kTemperature), "-241.15 C");
  EXPECT_EQ(Format(Celsius(-241.15)), "-241.15 C");
  EXPECT_EQ(Format(Celsius(25.04)), "25.04 C");
  EXPECT_EQ(ShortestDouble(0.1 + 0.2), "0.3");
  EXPECT_EQ(ShortestDouble(1.1 / 100), "0.011");
  EXPECT_EQ(ShortestDouble(0.1), "0.1");
  EXPECT_EQ(ShortestDouble(123456789012345.0), "123456789012345");
  EXPECT_EQ(ShortestDouble(9007199254740992.0), "9007199254740992");  // whole: exact
  EXPECT_EQ(ShortestDouble(-1.5e-300), "-1.5e-300");
  EXPECT_EQ(Format(Megawatts(1.2)), "1.2 MW");
}

TEST(Format, ReadableAsEchoesTheUnitFamilyWritten) {
  const auto data = Dimension::kDataSize;
  EXPECT_EQ(FormatReadableAs(ParseBase("64 MiB", data), data, "64 MiB"), "64 MiB");
  EXPECT_EQ(FormatReadableAs(ParseBase("1.5 GiB", data), data, "1.5 GiB"), "1.5 GiB");
  EXPECT_EQ(FormatReadableAs(ParseBase("64MiB", data), data, "64MiB"), "64 MiB");
  EXPECT_EQ(FormatReadableAs(ParseBase("100 MB", data), data, "100 MB"), "100 MB");
  EXPECT_EQ(FormatReadableAs(ParseBase("1e6 B", data), data, "1e6 B"), "1 MB");
  EXPECT_EQ(FormatReadableAs(ParseBase("8 Gib", data), data, "8 Gib"), "1 GiB");
  EXPECT_EQ(FormatReadableAs(ParseBase("2 GiB/s", Dimension::kBandwidth), Dimension::kBandwidth,
                             "2 GiB/s"),
            "2 GiB/s");
  EXPECT_EQ(FormatReadableAs(ParseBase("700 W", Dimension::kPower), Dimension::kPower, "700 W"),
            "700 W");
}

TEST(Spelling, AShortenedNameMeansTheNamesThatContainIt) {
  const std::string gpus[] = {"A100-SXM4-80GB", "B200", "H100-SXM5-80GB", "H100-PCIe", "H200-SXM"};
  // "H100" is two edits from "B200", but the H100 cards are what it names.
  EXPECT_EQ(NearMatches("H100", gpus), (std::vector<std::string>{"H100-PCIe", "H100-SXM5-80GB"}));
  EXPECT_EQ(NearestMatch("h100", gpus), "H100-PCIe");
  EXPECT_EQ(NearestMatch("SXM5", gpus), "H100-SXM5-80GB");
  EXPECT_EQ(NearestMatch("B201", gpus), "B200");  // no name contains it: the closest typo
  EXPECT_EQ(NearestMatch("h100-sxm5-80gb", gpus), "H100-SXM5-80GB");
  EXPECT_TRUE(NearMatches("X", gpus).empty());  // one letter is no name
  const std::string keys[] = {"gpus_per_node", "nodes", "nodes_per_rack"};
  EXPECT_EQ(NearestMatch("node", keys), "nodes");
}

TEST(Spelling, SuggestsCloseNamesOnly) {
  const std::string keys[] = {"gpus_per_node", "nodes", "nodes_per_rack"};
  EXPECT_EQ(NearestMatch("gpu_per_node", keys), "gpus_per_node");
  EXPECT_EQ(NearestMatch("nodse", keys), "nodes");
  EXPECT_EQ(NearestMatch("weather", keys), "");
  EXPECT_EQ(EditDistance("abc", "acb"), 1);
}

}  // namespace
}  // namespace firstwall::units
