#include "power/tariff.h"

#include "core/error.h"
#include "power/hourly_csv.h"

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
  HourlyCsvSpec spec;
  spec.what = "tariff";
  spec.header = "hour,price_usd_per_mwh,carbon_g_per_kwh";
  spec.units = "prices in USD per MWh, carbon intensity in grams of CO2 per kWh";
  spec.columns = {{"price", -10000, 100000,
                   [](const std::string& f) {
                     return "price " + f + " USD/MWh out of range: expected -10,000 to 100,000";
                   }},
                  {"carbon", 0, 5000, [](const std::string& f) {
                     return "carbon intensity " + f + " g/kWh out of range: expected 0 to 5,000";
                   }}};
  const std::vector<std::vector<double>> cols = ReadHourlyCsv(text, path, spec);
  for (size_t i = 0; i < cols[0].size(); ++i) {
    t.usd_per_j_.push_back(cols[0][i] / kJoulesPerMwh);
    t.g_per_j_.push_back(cols[1][i] / kJoulesPerKwh);
  }
  return t;
}

size_t Tariff::Index(SimTime t) const {
  return HourlyRow(t.seconds(), first_hour_, usd_per_j_.size());
}

double Tariff::UsdPerJoule(SimTime t) const {
  return usd_per_j_.empty() ? usd_per_j_const_ : usd_per_j_[Index(t)];
}

double Tariff::CarbonGramsPerJoule(SimTime t) const {
  return g_per_j_.empty() ? g_per_j_const_ : g_per_j_[Index(t)];
}

}  // namespace firstwall::power
