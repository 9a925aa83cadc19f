#include "thermal/weather.h"

#include <cmath>
#include <optional>

#include "core/error.h"
#include "core/text_input.h"

namespace firstwall::thermal {

Weather::Weather(OutdoorConditions constant) : constant_(constant), source_("constant") {}

Weather::Weather(std::vector<OutdoorConditions> hourly, int first_hour, std::string source)
    : hourly_(std::move(hourly)), first_hour_(first_hour), source_(std::move(source)) {
  FW_CHECK(!hourly_.empty(), "empty weather series");
}

OutdoorConditions Weather::At(SimTime t) const {
  if (hourly_.empty()) return constant_;
  // Row k (0-based) holds the value at the end of hour k, i.e. at (k + 1) h after midnight Jan 1.
  const double hours = static_cast<double>(first_hour_) + t.seconds() / 3600.0 - 1.0;
  const double n = static_cast<double>(hourly_.size());
  const double wrapped = hours - n * std::floor(hours / n);
  const size_t k = static_cast<size_t>(wrapped) % hourly_.size();
  const size_t k1 = (k + 1) % hourly_.size();
  const double f = wrapped - std::floor(wrapped);
  const OutdoorConditions& a = hourly_[k];
  const OutdoorConditions& b = hourly_[k1];
  return OutdoorConditions{
      units::Kelvin(units::ToKelvin(a.dry_bulb) * (1 - f) + units::ToKelvin(b.dry_bulb) * f),
      a.relative_humidity * (1 - f) + b.relative_humidity * f};
}

namespace {

constexpr int kDaysIn[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};  // February: leap

// A numeric EPW field with the range and missing-value code of the EPW data dictionary.
struct EpwMeasure {
  int field;  // 0-based
  const char* name;
  const char* unit;
  double lo, hi;
  bool open;  // bounds exclusive (the dictionary's "minimum>" and "maximum<")
  double missing;
  const char* missing_text;
};
constexpr EpwMeasure kDryBulb{6, "dry bulb temperature", "C", -70, 70, true, 99.9, "99.9"};
constexpr EpwMeasure kDewPoint{7, "dew point temperature", "C", -70, 70, true, 99.9, "99.9"};
constexpr EpwMeasure kHumidity{8, "relative humidity", "%", 0, 110, false, 999, "999"};
constexpr EpwMeasure kPressure{
    9, "atmospheric station pressure", "Pa", 31000, 120000, true, 999999, "999999"};

struct Field {
  std::string_view text;
  int column;  // 1-based
};

std::vector<Field> SplitFields(std::string_view line) {
  std::vector<Field> fields;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ',') {
      fields.push_back({line.substr(start, i - start), static_cast<int>(start) + 1});
      start = i + 1;
    }
  }
  return fields;
}

std::string Date(int month, int day) { return std::to_string(month) + "/" + std::to_string(day); }

}  // namespace

std::vector<OutdoorConditions> ReadEpw(const std::string& text, const std::string& path) {
  constexpr int kHeaderLines = 8;
  constexpr size_t kFields = 35;
  const std::vector<text::Line> lines = text::Lines(text, path);
  if (text::Blank(lines)) {
    throw InputError({path, 1, 0}, "the weather file is empty",
                     "expected an EnergyPlus weather file (.epw): 8 header lines, then one row of "
                     "35 fields per hour of the year");
  }
  const std::string not_epw = "is this an EnergyPlus .epw file?";
  if (!lines[0].text.starts_with("LOCATION,")) {
    throw InputError({path, 1, 1}, "expected the EPW header 'LOCATION,...' on line 1", not_epw);
  }
  if (lines.size() < kHeaderLines || !lines[kHeaderLines - 1].text.starts_with("DATA PERIODS,")) {
    throw InputError({path, std::min(static_cast<int>(lines.size()), kHeaderLines), 1},
                     "expected the EPW header 'DATA PERIODS,...' on line 8", not_epw);
  }
  {
    const std::vector<Field> h = SplitFields(lines[kHeaderLines - 1].text);
    if (h.size() < 3 || h[2].text != "1") {
      throw InputError({path, kHeaderLines, h.size() < 3 ? 1 : h[2].column},
                       "expected 1 record per hour in the DATA PERIODS header, got '" +
                           std::string(h.size() < 3 ? "" : h[2].text) + "'",
                       "sub-hourly weather files are not supported");
    }
  }
  std::vector<OutdoorConditions> rows;
  int prev_month = 0, prev_day = 0, last_line = kHeaderLines;
  for (size_t li = kHeaderLines; li < lines.size(); ++li) {
    const text::Line& line = lines[li];
    last_line = line.number;
    if (text::Blank(line.text)) continue;
    const std::vector<Field> fields = SplitFields(line.text);
    if (fields.size() != kFields) {
      throw InputError({path, line.number, 1},
                       "EPW data row has " + std::to_string(fields.size()) + " fields, expected 35",
                       not_epw);
    }
    auto fail = [&](const Field& f, const std::string& message, const std::string& hint = {}) {
      throw InputError({path, line.number, f.column}, message, hint);
    };
    auto whole = [&](int index, const char* name, int lo, int hi) {
      const Field& f = fields[static_cast<size_t>(index)];
      const auto v = text::WholeNumber(f.text);
      if (!v || *v < lo || *v > hi) {
        fail(f, "EPW field " + std::to_string(index + 1) + " (" + name + ") is '" +
                    std::string(f.text) + "', expected a whole number from " + std::to_string(lo) +
                    " to " + std::to_string(hi));
      }
      return static_cast<int>(*v);
    };
    // A measurement; nullopt when it holds the field's missing-value code.
    auto measure = [&](const EpwMeasure& m) -> std::optional<double> {
      const Field& f = fields[static_cast<size_t>(m.field)];
      const std::string what =
          "EPW field " + std::to_string(m.field + 1) + " (" + m.name + ", " + m.unit + ")";
      const auto v = text::FiniteNumber(f.text);
      if (!v)
        fail(f, "expected a finite number for " + what + ", got '" + std::string(f.text) + "'");
      if (*v == m.missing) return std::nullopt;
      const bool out = m.open ? (*v <= m.lo || *v >= m.hi) : (*v < m.lo || *v > m.hi);
      if (out) {
        auto num = [](double x) { return std::to_string(static_cast<long long>(x)); };
        fail(f,
             what + " is " + std::string(f.text) + ", out of range: expected " +
                 (m.open ? "more than " + num(m.lo) + " and less than " + num(m.hi)
                         : "from " + num(m.lo) + " to " + num(m.hi)) +
                 " " + m.unit,
             std::string("the range of the EPW data dictionary; exactly ") + m.missing_text +
                 " marks a missing value");
      }
      return v;
    };
    const int row = static_cast<int>(rows.size());
    (void)whole(0, "year", -9999, 9999);
    const int month = whole(1, "month", 1, 12);
    const int day = whole(2, "day", 1, kDaysIn[month - 1]);
    const int hour = whole(3, "hour", 1, 24);
    (void)whole(4, "minute", 0, 60);
    // Row k is hour k of the year from January 1, 01:00 (Weather::At relies on it).
    const int want_hour = row % 24 + 1;
    if (hour != want_hour) {
      fail(fields[3],
           "expected hour " + std::to_string(want_hour) + " after the row before, got " +
               std::to_string(hour),
           "EPW data rows are hourly, hours 1 to 24 of each day in order");
    }
    if (row == 0 && (month != 1 || day != 1)) {
      fail(fields[1], "the weather data starts on " + Date(month, day) + ", expected 1/1",
           "the year is read from January 1, 01:00; the data period must cover the whole year");
    } else if (row > 0 && hour > 1 && (month != prev_month || day != prev_day)) {
      fail(fields[1], "the date changes to " + Date(month, day) + " within the day " +
                          Date(prev_month, prev_day) + " (at hour " + std::to_string(hour) + ")");
    } else if (row > 0 && hour == 1) {
      const bool next_in_month = month == prev_month && day == prev_day + 1;
      const bool next_month = prev_day >= kDaysIn[prev_month - 1] - (prev_month == 2 ? 1 : 0) &&
                              month == prev_month + 1 && day == 1;
      if (!next_in_month && !next_month) {
        fail(fields[1],
             "expected the day after " + Date(prev_month, prev_day) + ", got " + Date(month, day),
             "EPW data rows cover the year day by day, from 1/1 to 12/31");
      }
    }
    prev_month = month;
    prev_day = day;
    const auto dry_bulb = measure(kDryBulb);
    const auto dew_point = measure(kDewPoint);
    const auto humidity = measure(kHumidity);
    (void)measure(kPressure);  // checked, not used
    const std::string no_gaps =
        "firstwall does not fill gaps in weather data: fill them (EnergyPlus's Weather Converter "
        "does) or use constant outdoor conditions";
    if (!dry_bulb) {
      fail(fields[6], "EPW field 7 (dry bulb temperature) is marked missing (99.9)", no_gaps);
    }
    if (!humidity) {
      fail(fields[8], "EPW field 9 (relative humidity) is marked missing (999)", no_gaps);
    }
    // Files round both to 0.1 C; allow that much.
    if (dew_point && *dew_point > *dry_bulb + 0.1 + 1e-9) {
      fail(fields[7],
           "the dew point " + std::string(fields[7].text) +
               " C is above the dry bulb temperature " + std::string(fields[6].text) + " C",
           "the dew point is at most the dry bulb temperature (saturated air)");
    }
    rows.push_back({units::Celsius(*dry_bulb), *humidity / 100.0});
  }
  if (rows.size() != 8760 && rows.size() != 8784) {
    throw InputError({path, last_line, 0},
                     "weather file has " + std::to_string(rows.size()) +
                         " hourly rows, expected 8760 (or 8784 in a leap year)",
                     "the file may be truncated");
  }
  if (prev_month != 12 || prev_day != 31) {
    throw InputError({path, last_line, 0},
                     "the weather data ends on " + Date(prev_month, prev_day) + ", expected 12/31",
                     "8760 rows make a year without February 29, 8784 a year with it");
  }
  return rows;
}

}  // namespace firstwall::thermal
