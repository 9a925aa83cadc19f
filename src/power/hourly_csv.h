// An hourly CSV series whose rows repeat: a header naming the columns with their units, then one
// row per hour, "hour,v1,v2,...", hours 0, 1, 2, ... in order. 24 rows make a daily profile, 168 a
// weekly one, 8,760 a year and 8,784 a leap year; any other count is refused, since the rows
// repeat with the file's length and any other period would drift against the clock. The tariff
// (power/tariff.h) and renewable output profiles (power/renewable.h) are read with it.
#pragma once

#include <string>
#include <vector>

namespace firstwall::power {

struct HourlyColumn {
  std::string name;  // for "expected N fields (hour, <names>)"
  double min = 0, max = 0;
  // The message for a value out of [min, max], given the field as written.
  std::string (*out_of_range)(const std::string& field) = nullptr;
};

struct HourlyCsvSpec {
  std::string what;                   // "tariff", "renewable profile": names the file in messages
  std::string header;                 // the exact first line
  std::string units;                  // hint for a wrong header or a value out of range
  std::vector<HourlyColumn> columns;  // after the hour
};

// Reads `text` (path for messages, file:line:col). Returns one vector per column, each with one
// value per hour. Throws InputError for an empty file, a wrong header, a row without the fields as
// finite numbers, a value out of its column's range, hours not 0, 1, 2, ... in order, no rows, or a
// row count other than 24, 168, 8,760 or 8,784. A UTF-8 byte-order mark before the header is
// ignored; a NUL byte is refused (core/text_input.h).
std::vector<std::vector<double>> ReadHourlyCsv(const std::string& text, const std::string& path,
                                               const HourlyCsvSpec& spec);

// The row of an hourly series of `rows` rows in force at `seconds` after simulated time zero, when
// hour `first_hour` of the series is at time zero.
size_t HourlyRow(double seconds, int first_hour, size_t rows);

}  // namespace firstwall::power
