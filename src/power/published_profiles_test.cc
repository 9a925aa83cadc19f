#include "power/published_profiles.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"

namespace firstwall::power {
namespace {

// The texts below follow the published layouts line for line (renewables.ninja's three '#' lines,
// PVWatts version 8's quoted metadata with a byte-order mark and CRLF, version 6's "Totals" row),
// filled with made-up values so that each hour can be told apart: hour h of the file carries
// (h % 1000) / 1000 of the capacity.
double Made(size_t h) { return static_cast<double>(h % 1000) / 1000.0; }

std::string Two(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

// "YYYY-MM-DD HH:MM" of hour h of `year` (not a leap year), shifted by `shift` hours.
std::string Stamp(int year, int64_t h, int shift) {
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t t = h + shift;
  int y = year;
  if (t < 0) return Stamp(year - 1, t + 8760, 0);
  if (t >= 8760) ++y, t -= 8760;
  int day = static_cast<int>(t / 24), month = 0;
  while (day >= kDays[month]) day -= kDays[month++];
  return std::to_string(y) + "-" + Two(month + 1) + "-" + Two(day + 1) + " " +
         Two(static_cast<int>(t % 24)) + ":00";
}

// A ninja PV download of a 2 kW array somewhere at UTC-5 that keeps daylight saving (UTC-4) from
// hour 1,600 to 5,000 of the year.
std::string Ninja(int rows = 8760, bool local = true, const std::string& capacity = "\"2\"") {
  std::string s =
      "# Renewables.ninja Solar PV (Point API) - 39.000, -77.500 - Version: 1.1 (using GSEE "
      "v0.3.1) - License: https://creativecommons.org/licenses/by-nc/4.0/ - Reference: "
      "https://doi.org/10.1016/j.energy.2016.08.060\n"
      "# Units: time in UTC, local_time in America/New_York, electricity in kW\n"
      "# {\"units\": {\"time\": \"UTC\", \"local_time\": \"America/New_York\", \"electricity\": "
      "\"kW\"}, \"params\": {\"lat\": \"39\", \"lon\": \"-77.5\", \"date_from\": \"2019-01-01\", "
      "\"date_to\": \"2019-12-31\", \"dataset\": \"merra2\", \"capacity\": " +
      capacity + ", \"system_loss\": \"0.1\", \"tracking\": \"0\", \"tilt\": \"35\", \"azim\": " +
      "\"180\", \"raw\": false}}\n";
  s += local ? "time,local_time,electricity\n" : "time,electricity\n";
  for (int h = 0; h < rows; ++h) {
    const int shift = h >= 1600 && h < 5000 ? -4 : -5;
    char kw[32];
    std::snprintf(kw, sizeof kw, "%.3f", 2 * Made(static_cast<size_t>(h)));
    s += Stamp(2019, h, 0) + (local ? "," + Stamp(2019, h, shift) : "") + "," + kw + "\n";
  }
  return s;
}

// A PVWatts version 8 hourly download of a 4 kW array (AC at 96 % of DC).
std::string Pvwatts8() {
  std::string s =
      "\xEF\xBB\xBF\"PVWatts Hourly PV Performance Data\"\r\n"
      "\"Requested Location\",\"52242, USA\"\r\n"
      "\"Location\",\"Lat, Lng: 41.65, -91.54\"\r\n"
      "\"DC System Size (kW)\",\"4\"\r\n"
      "\"DC to AC Size Ratio\",\"1.2\"\r\n"
      "\"Inverter Efficiency (%)\",\"96\"\r\n"
      "\"Monthly Irradiance Loss (%)\",\"\"\r\n"
      "\"\",\"Jan\",\"0\"\r\n"
      "\r\n"
      "\"Month\",\"Day\",\"Hour\",\"Beam Irradiance (W/m2)\",\"Diffuse Irradiance (W/m2)\","
      "\"Ambient Temperature (C)\",\"Wind Speed (m/s)\",\"Albedo\",\"Plane of Array Irradiance "
      "(W/m2)\",\"Cell Temperature (C)\",\"DC Array Output (W)\",\"AC System Output (W)\"\n";
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  size_t h = 0;
  for (int m = 0; m < 12; ++m) {
    for (int d = 0; d < kDays[m]; ++d) {
      for (int hr = 0; hr < 24; ++hr, ++h) {
        const double dc = 4000 * Made(h);
        char row[200];
        std::snprintf(row, sizeof row,
                      "\"%d\",\"%d\",\"%d\",\"0\",\"0\",\"-8\",\"5.8\",\"0.87\",\"0\",\"-8\","
                      "\"%.3f\",\"%.3f\"\n",
                      m + 1, d + 1, hr, dc, dc * 0.96);
        s += row;
      }
    }
  }
  return s;
}

// The same rows in version 6's layout: labels ending in ':', no Albedo, a closing "Totals" row.
std::string Pvwatts6() {
  std::string s = Pvwatts8().substr(3);
  auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
  };
  replace("\"PVWatts Hourly PV Performance Data\"", "\"PVWatts: Hourly PV Performance Data\"");
  replace("\"DC System Size (kW)\",\"4\"", "\"DC System Size (kW):\",\"4\"");
  s += "\"Totals\", , ,\"886032\",\"1210303\",\"235453.1\",\"31328.9\",\"1866383.022\",\"0\","
       "\"0\",\"2507001.519\",\"2401790.932\"\n";
  return s;
}

std::string ErrorOf(const std::string& text, ProfileOutput output = ProfileOutput::kAc) {
  try {
    ReadRenewableProfile(text, "p.csv", output);
  } catch (const InputError& e) {
    return std::string(e.what());
  }
  return "ok";
}

TEST(PublishedProfiles, RenewablesNinjaMovesUtcHoursToLocalStandardTime) {
  const RenewableProfile p = ReadRenewableProfile(Ninja(), "p.csv", ProfileOutput::kAc);
  EXPECT_EQ(p.format, RenewableProfile::Format::kRenewablesNinja);
  EXPECT_EQ(p.file_capacity_kw, 2);
  // Daylight saving only adds an hour, so the least offset is the standard one.
  EXPECT_EQ(p.utc_offset_h, -5);
  ASSERT_EQ(p.capacity_factor.size(), 8760u);
  // Local standard hour k is UTC hour k + 5; the year's last five local hours wrap to its start.
  for (size_t k : {0u, 12u, 3000u, 8754u}) {
    EXPECT_NEAR(p.capacity_factor[k], Made(k + 5), 1e-12) << k;
  }
  EXPECT_NEAR(p.capacity_factor[8755], Made(0), 1e-12);
  // The capacity written as a number is read too.
  EXPECT_EQ(
      ReadRenewableProfile(Ninja(8760, true, "2"), "p.csv", ProfileOutput::kAc).file_capacity_kw,
      2);
}

TEST(PublishedProfiles, PvwattsVersionsEightAndSixByColumnName) {
  for (const std::string& text : {Pvwatts8(), Pvwatts6()}) {
    const RenewableProfile ac = ReadRenewableProfile(text, "p.csv", ProfileOutput::kAc);
    const RenewableProfile dc = ReadRenewableProfile(text, "p.csv", ProfileOutput::kDc);
    EXPECT_EQ(ac.format, RenewableProfile::Format::kPvwatts);
    EXPECT_EQ(ac.file_capacity_kw, 4);
    ASSERT_EQ(ac.capacity_factor.size(), 8760u);
    ASSERT_EQ(dc.capacity_factor.size(), 8760u);
    for (size_t k : {0u, 11u, 4000u, 8759u}) {
      EXPECT_NEAR(dc.capacity_factor[k], Made(k), 1e-6) << k;
      EXPECT_NEAR(ac.capacity_factor[k], 0.96 * Made(k), 1e-6) << k;
    }
  }
}

TEST(PublishedProfiles, FirstwallsOwnLayoutIsReadAsBefore) {
  std::string csv = "hour,output_kw_per_kw\n";
  for (int h = 0; h < 24; ++h) csv += std::to_string(h) + ",0.5\n";
  const RenewableProfile p = ReadRenewableProfile(csv, "p.csv", ProfileOutput::kAc);
  EXPECT_EQ(p.format, RenewableProfile::Format::kFirstwall);
  EXPECT_EQ(p.capacity_factor, std::vector<double>(24, 0.5));
}

TEST(PublishedProfiles, RefusesWhatTheLayoutsDoNotAllowAtFileLineCol) {
  auto says = [](const std::string& error, const std::string& where, const std::string& part) {
    return error.rfind(where, 0) == 0 && error.find(part) != std::string::npos;
  };
  EXPECT_PRED3(says, ErrorOf("Month,Day,Hour\n"), "p.csv:1:1",
               "not a renewable profile firstwall reads");
  EXPECT_PRED3(says, ErrorOf(Ninja(8760, false)), "p.csv:4:1", "has no local_time column");
  // Without the metadata line the capacity is unknown.
  std::string bare = Ninja();
  bare.erase(0, bare.find("time,local_time"));
  EXPECT_PRED3(says, ErrorOf(bare), "p.csv:1:1", "the capacity the file's kW are for is unknown");
  EXPECT_PRED3(says, ErrorOf(Ninja(8759)), "p.csv:8763:1", "2019 has 8760");
  std::string gap = Ninja();
  gap.erase(gap.find("2019-01-01 05:00,"),
            gap.find("2019-01-01 06:00,") - gap.find("2019-01-01 05:00,"));
  EXPECT_PRED3(says, ErrorOf(gap), "p.csv:10:1", "expected the hour after the row before");
  std::string late = Ninja();
  late.erase(late.find("2019-01-01 00:00,"),
             late.find("2019-01-01 01:00,") - late.find("2019-01-01 00:00,"));
  EXPECT_PRED3(says, ErrorOf(late), "p.csv:5:1", "not 2019-01-01 00:00");
  EXPECT_PRED3(says, ErrorOf(Ninja(8760, true, "\"0\"")), "p.csv:3:3", "params.capacity is");
  std::string big = Ninja();
  big.replace(big.find(",0.002\n"), 7, ",2.600\n");
  EXPECT_PRED3(says, ErrorOf(big), "p.csv:6:35", "more than 125 % of the file's capacity");
  std::string mw = Ninja();
  mw.replace(mw.find("\"electricity\": \"kW\""), 19, "\"electricity\": \"MW\"");
  EXPECT_PRED3(says, ErrorOf(mw), "p.csv:3:3", "electricity is in \"MW\"");

  std::string shuffled = Pvwatts8();
  shuffled.replace(shuffled.find("\"1\",\"1\",\"3\","), 12, "\"1\",\"1\",\"4\",");
  EXPECT_PRED3(says, ErrorOf(shuffled), "p.csv:14:9", "expected month 1, day 1, hour 3");
  std::string negative = Pvwatts8();
  negative.replace(negative.find("\"-8\",\"0.000\",\"0.000\""), 20, "\"-8\",\"0.000\",\"-1\"");
  EXPECT_PRED3(says, ErrorOf(negative), "p.csv:11:", "is negative");
  std::string sizeless = Pvwatts8();
  sizeless.erase(sizeless.find("\"DC System Size (kW)\""), 26);
  EXPECT_PRED3(says, ErrorOf(sizeless), "p.csv:10:1", "no \"DC System Size (kW)\" row");
  std::string after =
      Pvwatts6() + "\"12\",\"31\",\"23\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\"\n";
  EXPECT_PRED3(says, ErrorOf(after), "p.csv:", "a row after the \"Totals\" row");
  std::string open_quote = Pvwatts8();
  open_quote.replace(open_quote.find("\"1\",\"1\",\"3\","), 12, "\"1\",\"1\",\"3,");
  EXPECT_PRED3(says, ErrorOf(open_quote), "p.csv:14:", "a quote opened here is not closed");
  // Quotes dropped by a spreadsheet's re-save: the header still reads by name.
  std::string unquoted = Pvwatts8();
  for (size_t at = unquoted.find('"'); at != std::string::npos; at = unquoted.find('"', at)) {
    unquoted.erase(at, 1);
  }
  unquoted.replace(unquoted.find("Lat, Lng: 41.65, -91.54"), 23, "Lat Lng 41.65 -91.54");
  unquoted.replace(unquoted.find("52242, USA"), 10, "52242 USA");
  EXPECT_EQ(ReadRenewableProfile(unquoted, "p.csv", ProfileOutput::kAc).capacity_factor.size(),
            8760u);
  std::string far = Ninja();
  far.replace(far.find(",2018-12-31 19:00,"), 18, ",2018-12-30 00:00,");  // 24 h behind
  EXPECT_PRED3(says, ErrorOf(far), "p.csv:4:6", "time zones lie from -12 to +14 h");
  std::string header_only = Ninja();
  header_only.erase(header_only.find("2019-01-01 00:00,"));
  EXPECT_PRED3(says, ErrorOf(header_only), "p.csv:4:1", "no hourly rows after the header");
  const std::string cut = Pvwatts8().substr(0, Pvwatts8().rfind("\"12\",\"31\",\"23\""));
  EXPECT_PRED3(says, ErrorOf(cut), "p.csv:", "the file has 8759 hourly rows; PVWatts writes 8,760");
}

}  // namespace
}  // namespace firstwall::power
