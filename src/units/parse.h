// Parsing and formatting of values with units ("700 W", "400 Gb/s", "25 C"). Units are parsed once,
// where input enters; a bare number, an unknown unit or a unit of another dimension is an error.
// Bits and bytes are distinct: "b" is a bit, "B" a byte, so "400 Gb/s" is 50 GB/s.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "units/quantity.h"

namespace firstwall::units {

class UnitParseError : public std::runtime_error {
 public:
  UnitParseError(std::string message, size_t column, std::string hint = {})
      : std::runtime_error(std::move(message)), column_(column), hint_(std::move(hint)) {}
  // 0-based offset in the parsed text where the problem starts.
  size_t column() const { return column_; }
  const std::string& hint() const { return hint_; }

 private:
  size_t column_;
  std::string hint_;
};

// Value of `text` in the SI base unit of `expected`. Throws UnitParseError.
double ParseBase(std::string_view text, Dimension expected);

template <class Q>
Q Parse(std::string_view text) {
  return Q::FromBase(ParseBase(text, Q::kDimension));
}

// Shortest text that parses back to exactly `base`, in the largest display unit that keeps the
// number at or above 1 ("1.2 MW", "50 GB/s", "25 C"), with at most 15 significant digits: where
// no unit reads back exactly within them (32 K in C), the readable unit to 15 digits
// ("-241.15 C", not "-241.14999999999998 C").
std::string FormatBase(double base, Dimension d);

template <class Q>
std::string Format(Q q) {
  return FormatBase(q.base(), Q::kDimension);
}

// For people, not for round trips: `digits` significant digits in the readable unit, decimal
// prefixes for data ("30.81 GB", "1.2 MW").
std::string FormatReadable(double base, Dimension d, int digits = 4);

template <class Q>
std::string Readable(Q q, int digits = 4) {
  return FormatReadable(q.base(), Q::kDimension, digits);
}

// FormatReadable in the unit family of `written`, a value as the user wrote it: binary prefixes
// for data and bandwidth written with one ("64 MiB" echoes as "64 MiB", not "67.11 MB").
std::string FormatReadableAs(double base, Dimension d, std::string_view written, int digits = 4);

// The dimension a unit symbol belongs to, if it is known.
std::optional<Dimension> DimensionOfUnit(std::string_view symbol);
// Every accepted symbol of a dimension, for documentation.
std::vector<std::string> UnitSymbols(Dimension d);

// Shortest decimal text (at most 15 significant digits) that reads back as the same double, or
// the double to 15 significant digits when it needs more: 0.1 + 0.2 prints as 0.3, not
// 0.30000000000000004. Every double parsed from text of up to 15 digits prints as written.
std::string ShortestDouble(double v);

}  // namespace firstwall::units
