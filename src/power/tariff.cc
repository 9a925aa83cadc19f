#include "power/tariff.h"

#include "core/error.h"
#include "core/text_input.h"

namespace firstwall::power {
namespace {
constexpr double kJoulesPerKwh = 3.6e6;
constexpr double kJoulesPerMwh = 3.6e9;
}  // namespace

Tariff::Tariff(units::EnergyPrice price, double carbon_g_per_kwh)
    : usd_per_j_const_(price.base()), g_per_j_const_(carbon_g_per_kwh / kJoulesPerKwh) {}

Tariff Tariff::FromCsv(const std::string& text, const std::string& path, int first_hour) {
  Tariff t;
  t.first_hour_ = first_hour;
  const std::string header = "hour,price_usd_per_mwh,carbon_g_per_kwh";
  const std::string units = "prices in USD per MWh, carbon intensity in grams of CO2 per kWh";
  const std::vector<text::Line> lines = text::Lines(text, path);
  if (text::Blank(lines)) {
    throw InputError({path, 1, 0}, "the tariff file is empty",
                     "expected the header '" + header + "', then one row per hour");
  }
  int last_line = 1;
  for (const text::Line& l : lines) {
    const std::string_view line = l.text;
    if (l.number == 1) {
      if (line != header) {
        throw InputError({path, 1, 1},
                         "expected the header '" + header + "', got '" + std::string(line) + "'",
                         units);
      }
      continue;
    }
    if (text::Blank(line)) continue;
    last_line = l.number;
    double v[3];
    size_t start = 0;
    for (int f = 0; f < 3; ++f) {
      const size_t end = f < 2 ? line.find(',', start) : line.size();
      if (end == std::string_view::npos) {
        throw InputError({path, l.number, static_cast<int>(line.size()) + 1},
                         "expected 3 fields (hour, price, carbon)");
      }
      const std::string_view field = line.substr(start, end - start);
      const auto number = text::FiniteNumber(field);
      if (!number) {
        throw InputError({path, l.number, static_cast<int>(start) + 1},
                         "expected a finite number, got '" + std::string(field) + "'");
      }
      v[f] = *number;
      const bool out =
          (f == 1 && (v[f] < -10000 || v[f] > 100000)) || (f == 2 && (v[f] < 0 || v[f] > 5000));
      if (out) {
        throw InputError({path, l.number, static_cast<int>(start) + 1},
                         f == 1 ? "price " + std::string(field) +
                                      " USD/MWh out of range: expected -10,000 to 100,000"
                                : "carbon intensity " + std::string(field) +
                                      " g/kWh out of range: expected 0 to 5,000",
                         units);
      }
      start = end + 1;
    }
    const int expected_hour = static_cast<int>(t.usd_per_j_.size());
    if (v[0] != expected_hour) {
      throw InputError({path, l.number, 1}, "expected hour " + std::to_string(expected_hour) +
                                                " (rows in order from 0)");
    }
    t.usd_per_j_.push_back(v[1] / kJoulesPerMwh);
    t.g_per_j_.push_back(v[2] / kJoulesPerKwh);
  }
  if (t.usd_per_j_.empty()) throw InputError({path, last_line, 0}, "the tariff file has no rows");
  const size_t n = t.usd_per_j_.size();
  if (n != 24 && n != 168 && n != 8760 && n != 8784) {
    throw InputError({path, last_line, 0},
                     "the tariff has " + std::to_string(n) +
                         " hourly rows; its period must be a day (24 rows), a week (168), a year "
                         "(8760) or a leap year (8784)",
                     "the rows repeat with the file's length, so any other count would shift "
                     "prices against the clock");
  }
  return t;
}

size_t Tariff::Index(SimTime t) const {
  const int64_t hour = static_cast<int64_t>(t.seconds() / 3600.0) + first_hour_;
  return static_cast<size_t>(hour % static_cast<int64_t>(usd_per_j_.size()));
}

double Tariff::UsdPerJoule(SimTime t) const {
  return usd_per_j_.empty() ? usd_per_j_const_ : usd_per_j_[Index(t)];
}

double Tariff::CarbonGramsPerJoule(SimTime t) const {
  return g_per_j_.empty() ? g_per_j_const_ : g_per_j_[Index(t)];
}

}  // namespace firstwall::power
