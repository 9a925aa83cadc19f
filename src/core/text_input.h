// What every reader of a text data file (weather, tariff, request traces) does the same way:
// drop a leading UTF-8 byte-order mark, refuse NUL bytes, split lines, and read a field as a
// finite number. Errors are InputErrors at file:line:col.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace firstwall::text {

// The whole file as bytes; InputError at `path` when it cannot be read (`what`: "trace file").
std::string ReadFile(const std::string& path, const std::string& what);

struct Line {
  int number = 0;         // 1-based
  std::string_view text;  // without its '\n' and a '\r' before it
};

// The lines of a file's text. A leading UTF-8 byte-order mark (EF BB BF, which some editors write
// at the start of CSV files) is dropped; columns on line 1 count from after it. Throws InputError
// at path:line:col for a NUL byte: text files hold none, so the file is binary or damaged.
// The lines view `text`, which must outlive them (hence no temporaries).
std::vector<Line> Lines(const std::string& text, const std::string& path);
std::vector<Line> Lines(std::string&& text, const std::string& path) = delete;

// True when the line (or every line) holds nothing but spaces, tabs and carriage returns.
bool Blank(std::string_view line);
bool Blank(const std::vector<Line>& lines);

// The whole field as a finite number: nullopt for "", "1x", " 1", "nan", "inf", "1e999".
std::optional<double> FiniteNumber(std::string_view field);
// The whole field as a whole number written without a fraction or exponent ("12", "-3").
std::optional<int64_t> WholeNumber(std::string_view field);

// A field of a line and its 1-based column, for messages at file:line:col.
struct Field {
  std::string_view text;
  int column = 1;
};
// The fields between separators (CSV as the traces publish it: no quoting). "a,,b" has 3 fields,
// "" has one empty field. The fields view `line`.
std::vector<Field> Split(std::string_view line, char separator);
// The runs of non-blank characters (spaces and tabs separate), as in SWF workload logs.
std::vector<Field> SplitWhitespace(std::string_view line);

// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil algorithm).
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day);
// Seconds since 1970-01-01 00:00:00 of a date and time written exactly "YYYY-MM-DD HH:MM:SS"
// (no time zone: the trace's local clock); nullopt for anything else or an impossible date.
std::optional<int64_t> DateTimeSeconds(std::string_view field);

}  // namespace firstwall::text
