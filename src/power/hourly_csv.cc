#include "power/hourly_csv.h"

#include <cstdint>

#include "core/error.h"
#include "core/text_input.h"

namespace firstwall::power {

std::vector<std::vector<double>> ReadHourlyCsv(const std::string& text, const std::string& path,
                                               const HourlyCsvSpec& spec) {
  const std::vector<text::Line> lines = text::Lines(text, path);
  if (text::Blank(lines)) {
    throw InputError({path, 1, 0}, "the " + spec.what + " file is empty",
                     "expected the header '" + spec.header + "', then one row per hour");
  }
  const size_t fields = spec.columns.size() + 1;
  std::string names = "hour";
  for (const HourlyColumn& c : spec.columns) names += ", " + c.name;
  std::vector<std::vector<double>> cols(spec.columns.size());
  int last_line = 1;
  std::vector<double> v(fields);
  for (const text::Line& l : lines) {
    const std::string_view line = l.text;
    if (l.number == 1) {
      if (line != spec.header) {
        throw InputError(
            {path, 1, 1},
            "expected the header '" + spec.header + "', got '" + std::string(line) + "'",
            spec.units);
      }
      continue;
    }
    if (text::Blank(line)) continue;
    last_line = l.number;
    size_t start = 0;
    for (size_t f = 0; f < fields; ++f) {
      const size_t end = f + 1 < fields ? line.find(',', start) : line.size();
      if (end == std::string_view::npos) {
        throw InputError({path, l.number, static_cast<int>(line.size()) + 1},
                         "expected " + std::to_string(fields) + " fields (" + names + ")");
      }
      const std::string_view field = line.substr(start, end - start);
      const auto number = text::FiniteNumber(field);
      if (!number) {
        throw InputError({path, l.number, static_cast<int>(start) + 1},
                         "expected a finite number, got '" + std::string(field) + "'");
      }
      v[f] = *number;
      if (f > 0) {
        const HourlyColumn& c = spec.columns[f - 1];
        if (v[f] < c.min || v[f] > c.max) {
          throw InputError({path, l.number, static_cast<int>(start) + 1},
                           c.out_of_range(std::string(field)), spec.units);
        }
      }
      start = end + 1;
    }
    const int expected_hour = static_cast<int>(cols[0].size());
    if (v[0] != expected_hour) {
      throw InputError({path, l.number, 1}, "expected hour " + std::to_string(expected_hour) +
                                                " (rows in order from 0)");
    }
    for (size_t f = 1; f < fields; ++f) cols[f - 1].push_back(v[f]);
  }
  if (cols[0].empty()) {
    throw InputError({path, last_line, 0}, "the " + spec.what + " file has no rows");
  }
  const size_t n = cols[0].size();
  if (n != 24 && n != 168 && n != 8760 && n != 8784) {
    throw InputError({path, last_line, 0},
                     "the " + spec.what + " has " + std::to_string(n) +
                         " hourly rows; its period must be a day (24 rows), a week (168), a year "
                         "(8760) or a leap year (8784)",
                     "the rows repeat with the file's length, so any other count would shift "
                     "the series against the clock");
  }
  return cols;
}

size_t HourlyRow(double seconds, int first_hour, size_t rows) {
  const int64_t hour = static_cast<int64_t>(seconds / 3600.0) + first_hour;
  return static_cast<size_t>(hour % static_cast<int64_t>(rows));
}

}  // namespace firstwall::power
