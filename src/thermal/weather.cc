#include "thermal/weather.h"

#include <charconv>
#include <cmath>

#include "core/error.h"

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

std::vector<OutdoorConditions> ReadEpw(const std::string& text, const std::string& path) {
  constexpr int kHeaderLines = 8;
  constexpr int kDryBulbField = 6, kRhField = 8;  // 0-based fields of a data row
  std::vector<OutdoorConditions> rows;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = eol + 1;
    ++line_no;
    if (line_no <= kHeaderLines || line.empty()) continue;
    // Split into fields, remembering where each starts for error columns.
    std::vector<std::pair<std::string_view, int>> fields;
    size_t start = 0;
    for (size_t i = 0; i <= line.size(); ++i) {
      if (i == line.size() || line[i] == ',') {
        fields.emplace_back(line.substr(start, i - start), static_cast<int>(start) + 1);
        start = i + 1;
      }
    }
    if (fields.size() <= kRhField) {
      throw InputError({path, line_no, 1},
                       "weather row has " + std::to_string(fields.size()) +
                           " fields, expected at least 9 (EPW data row)",
                       "is this an EnergyPlus .epw file?");
    }
    auto number = [&](int field, double missing) {
      auto [sv, col] = fields[static_cast<size_t>(field)];
      double v = 0;
      auto [end, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), v);
      if (ec != std::errc() || end != sv.data() + sv.size()) {
        throw InputError({path, line_no, col}, "expected a number in EPW field " +
                                                   std::to_string(field + 1) + ", got '" +
                                                   std::string(sv) + "'");
      }
      if (v >= missing) {
        throw InputError({path, line_no, col},
                         "EPW field " + std::to_string(field + 1) + " is marked missing (" +
                             std::string(sv) + ")",
                         "fill the gap in the weather file or use constant outdoor conditions");
      }
      return v;
    };
    rows.push_back({units::Celsius(number(kDryBulbField, 99.9)), number(kRhField, 999) / 100.0});
  }
  if (rows.size() != 8760 && rows.size() != 8784) {
    throw InputError({path, line_no, 0},
                     "weather file has " + std::to_string(rows.size()) +
                         " hourly rows, expected 8760 (or 8784 in a leap year)",
                     "the file may be truncated");
  }
  return rows;
}

}  // namespace firstwall::thermal
