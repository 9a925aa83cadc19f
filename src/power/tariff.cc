#include "power/tariff.h"

#include <charconv>
#include <sstream>

#include "core/error.h"

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
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  const std::string header = "hour,price_usd_per_mwh,carbon_g_per_kwh";
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line_no == 1) {
      if (line != header) {
        throw InputError({path, 1, 1}, "expected the header '" + header + "', got '" + line + "'",
                         "prices in USD per MWh, carbon intensity in grams of CO2 per kWh");
      }
      continue;
    }
    double v[3];
    size_t start = 0;
    for (int f = 0; f < 3; ++f) {
      const size_t end = f < 2 ? line.find(',', start) : line.size();
      if (end == std::string::npos) {
        throw InputError({path, line_no, static_cast<int>(line.size()) + 1},
                         "expected 3 fields (hour, price, carbon)");
      }
      const char* b = line.data() + start;
      const char* e = line.data() + end;
      auto [p, ec] = std::from_chars(b, e, v[f]);
      if (ec != std::errc() || p != e) {
        throw InputError({path, line_no, static_cast<int>(start) + 1},
                         "expected a number, got '" + line.substr(start, end - start) + "'");
      }
      start = end + 1;
    }
    const int expected_hour = static_cast<int>(t.usd_per_j_.size());
    if (v[0] != expected_hour) {
      throw InputError({path, line_no, 1}, "expected hour " + std::to_string(expected_hour) +
                                               " (rows in order from 0)");
    }
    if (v[1] < -10000 || v[1] > 100000 || v[2] < 0 || v[2] > 5000) {
      throw InputError({path, line_no, 1},
                       "price or carbon intensity out of range (-10,000 to 100,000 USD/MWh; 0 to "
                       "5,000 g/kWh)");
    }
    t.usd_per_j_.push_back(v[1] / kJoulesPerMwh);
    t.g_per_j_.push_back(v[2] / kJoulesPerKwh);
  }
  if (t.usd_per_j_.empty()) throw InputError({path, line_no, 1}, "the tariff file has no rows");
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
