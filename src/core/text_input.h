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

}  // namespace firstwall::text
