#include "units/parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "units/spelling.h"

namespace firstwall::units {
namespace {

struct UnitDef {
  std::string symbol;
  Dimension dim;
  double scale;   // base = value * scale + offset
  double offset;  // non-zero only for temperatures
};

const std::vector<UnitDef>& Table() {
  static const std::vector<UnitDef> table = [] {
    std::vector<UnitDef> t;
    auto add = [&t](std::string s, Dimension d, double scale, double offset = 0.0) {
      t.push_back({std::move(s), d, scale, offset});
    };
    using D = Dimension;
    for (auto [p, k] : {std::pair{"m", 1e-3}, {"", 1.0}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}}) {
      add(std::string(p) + "W", D::kPower, k);
    }
    for (auto [p, k] : {std::pair{"", 1.0}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}}) {
      add(std::string(p) + "J", D::kEnergy, k);
    }
    for (auto [p, k] : {std::pair{"", 3600.0}, {"k", 3.6e6}, {"M", 3.6e9}, {"G", 3.6e12}}) {
      add(std::string(p) + "Wh", D::kEnergy, k);
    }
    for (auto [s, k] : {std::pair{"ns", 1e-9},
                        {"us", 1e-6},
                        {"ms", 1e-3},
                        {"s", 1.0},
                        {"min", 60.0},
                        {"h", 3600.0},
                        {"d", 86400.0}}) {
      add(s, D::kDuration, k);
    }
    // Data: decimal and binary prefixes, bytes (B) and bits (b or bit).
    const std::pair<const char*, double> decimal[] = {{"", 1.0},  {"k", 1e3},  {"M", 1e6},
                                                      {"G", 1e9}, {"T", 1e12}, {"P", 1e15}};
    const std::pair<const char*, double> binary[] = {{"Ki", 1024.0},
                                                     {"Mi", 1048576.0},
                                                     {"Gi", 1073741824.0},
                                                     {"Ti", 1099511627776.0},
                                                     {"Pi", 1125899906842624.0}};
    auto add_data = [&](const char* p, double k) {
      add(std::string(p) + "B", D::kDataSize, k);
      add(std::string(p) + "b", D::kDataSize, k / 8.0);
      add(std::string(p) + "bit", D::kDataSize, k / 8.0);
      add(std::string(p) + "B/s", D::kBandwidth, k);
      add(std::string(p) + "b/s", D::kBandwidth, k / 8.0);
      add(std::string(p) + "bit/s", D::kBandwidth, k / 8.0);
      add(std::string(p) + "bps", D::kBandwidth, k / 8.0);
    };
    for (auto [p, k] : decimal) add_data(p, k);
    for (auto [p, k] : binary) add_data(p, k);
    for (auto [p, k] : {std::pair{"", 1.0},
                        {"k", 1e3},
                        {"M", 1e6},
                        {"G", 1e9},
                        {"T", 1e12},
                        {"P", 1e15},
                        {"E", 1e18}}) {
      add(std::string(p) + "FLOP", D::kFlopCount, k);
      add(std::string(p) + "FLOP/s", D::kFlopRate, k);
    }
    add("K", D::kTemperature, 1.0);
    add("C", D::kTemperature, 1.0, 273.15);
    add("degC", D::kTemperature, 1.0, 273.15);
    add("\xC2\xB0"
        "C",
        D::kTemperature, 1.0, 273.15);  // U+00B0 degree sign, UTF-8
    add("F", D::kTemperature, 5.0 / 9.0, 273.15 - 32.0 * 5.0 / 9.0);
    // A difference of temperatures is written in kelvin only: "4 C" would read as 277 K.
    add("K", D::kTemperatureDifference, 1.0);
    add("K/W", D::kThermalResistance, 1.0);
    add("K/kW", D::kThermalResistance, 1e-3);
    add("VA", D::kApparentPower, 1.0);
    add("kVA", D::kApparentPower, 1e3);
    add("MVA", D::kApparentPower, 1e6);
    add("g/kWh", D::kCarbonIntensity, 1.0 / 3.6e6);
    add("kg/MWh", D::kCarbonIntensity, 1.0 / 3.6e6);
    add("kg/kWh", D::kCarbonIntensity, 1.0 / 3.6e3);
    add("req/s", D::kRequestRate, 1.0);
    add("req/min", D::kRequestRate, 1.0 / 60.0);
    add("req/h", D::kRequestRate, 1.0 / 3600.0);
    for (auto [p, k] : {std::pair{"", 1.0}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}}) {
      add(std::string(p) + "Hz", D::kFrequency, k);
    }
    add("kg/s", D::kMassFlow, 1.0);
    add("g/s", D::kMassFlow, 1e-3);
    add("kg/h", D::kMassFlow, 1.0 / 3600.0);
    add("m3/s", D::kVolumeFlow, 1.0);
    add("m3/h", D::kVolumeFlow, 1.0 / 3600.0);
    add("L/s", D::kVolumeFlow, 1e-3);
    add("L/min", D::kVolumeFlow, 1e-3 / 60.0);
    add("gpm", D::kVolumeFlow, 3.785411784e-3 / 60.0);  // US gallon = 3.785411784 L (exact, NIST)
    add("USD/kWh", D::kEnergyPrice, 1.0 / 3.6e6);
    add("USD/MWh", D::kEnergyPrice, 1.0 / 3.6e9);
    // Fuel prices: 1 MMBtu = 10^6 international-table Btu = 1.05505585262 GJ (NIST SP 811).
    add("USD/MMBtu", D::kEnergyPrice, 1.0 / 1.05505585262e9);
    add("USD/GJ", D::kEnergyPrice, 1.0 / 1e9);
    return t;
  }();
  return table;
}

// The unit of that symbol, preferring one of `want` (K is a temperature and a difference).
const UnitDef* Find(std::string_view symbol, std::optional<Dimension> want = std::nullopt) {
  const UnitDef* any = nullptr;
  for (const UnitDef& u : Table()) {
    if (u.symbol != symbol) continue;
    if (!want || u.dim == *want) return &u;
    if (any == nullptr) any = &u;
  }
  return any;
}

// Units offered first in messages for each dimension.
std::string_view Examples(Dimension d) {
  switch (d) {
    case Dimension::kPower:
      return "W, kW, MW";
    case Dimension::kEnergy:
      return "J, kWh, MWh";
    case Dimension::kDuration:
      return "ms, s, min, h, d";
    case Dimension::kDataSize:
      return "B, GB, GiB (bytes) or Gb (bits)";
    case Dimension::kBandwidth:
      return "GB/s (bytes) or Gb/s (bits)";
    case Dimension::kFlopCount:
      return "FLOP, TFLOP, PFLOP";
    case Dimension::kFlopRate:
      return "TFLOP/s, PFLOP/s";
    case Dimension::kTemperature:
      return "C, K, F";
    case Dimension::kFrequency:
      return "Hz, MHz, GHz";
    case Dimension::kMassFlow:
      return "kg/s";
    case Dimension::kVolumeFlow:
      return "L/min, L/s, m3/h";
    case Dimension::kEnergyPrice:
      return "USD/kWh, USD/MWh, USD/MMBtu, USD/GJ";
    case Dimension::kTemperatureDifference:
      return "K";
    case Dimension::kThermalResistance:
      return "K/W";
    case Dimension::kCarbonIntensity:
      return "g/kWh (of CO2), kg/MWh";
    case Dimension::kApparentPower:
      return "kVA, MVA";
    case Dimension::kRequestRate:
      return "req/s, req/min, req/h";
  }
  return "";
}

// Display units, largest first, for FormatBase.
std::vector<std::string_view> DisplayUnits(Dimension d, double base) {
  switch (d) {
    case Dimension::kPower:
      return {"GW", "MW", "kW", "W"};
    case Dimension::kEnergy:
      return {"GWh", "MWh", "kWh", "Wh", "J"};
    case Dimension::kDuration:
      return {"h", "min", "s", "ms", "us", "ns"};
    case Dimension::kDataSize: {
      // Binary units when the value is a whole number of them (80 GiB), decimal otherwise.
      for (auto [s, k] : {std::pair{"PiB", 1125899906842624.0},
                          {"TiB", 1099511627776.0},
                          {"GiB", 1073741824.0},
                          {"MiB", 1048576.0},
                          {"KiB", 1024.0}}) {
        const double n = base / k;
        if (std::abs(n) >= 1 && std::abs(n) < 1024 && n == std::floor(n)) return {s};
      }
      return {"PB", "TB", "GB", "MB", "kB", "B"};
    }
    case Dimension::kBandwidth:
      return {"TB/s", "GB/s", "MB/s", "kB/s", "B/s"};
    case Dimension::kFlopCount:
      return {"EFLOP", "PFLOP", "TFLOP", "GFLOP", "MFLOP", "FLOP"};
    case Dimension::kFlopRate:
      return {"EFLOP/s", "PFLOP/s", "TFLOP/s", "GFLOP/s", "MFLOP/s", "FLOP/s"};
    case Dimension::kTemperature:
      return {"C"};
    case Dimension::kFrequency:
      return {"GHz", "MHz", "kHz", "Hz"};
    case Dimension::kMassFlow:
      return {"kg/s"};
    case Dimension::kVolumeFlow:
      return {"L/min"};
    case Dimension::kEnergyPrice:
      return {"USD/kWh"};
    case Dimension::kTemperatureDifference:
      return {"K"};
    case Dimension::kThermalResistance:
      return {"K/W"};
    case Dimension::kCarbonIntensity:
      return {"g/kWh"};
    case Dimension::kApparentPower:
      return {"MVA", "kVA", "VA"};
    case Dimension::kRequestRate:
      return {"req/s"};
  }
  return {};
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Appended, not `"'" + std::string(s)`: that trips g++ 12's -Wrestrict false positive in Release.
std::string Quote(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q += '\'';
  q += s;
  q += '\'';
  return q;
}

// "a power", "an energy".
std::string A(std::string_view noun) {
  const bool vowel =
      !noun.empty() && std::string_view("aeiou").find(noun.front()) != std::string_view::npos;
  return (vowel ? "an " : "a ") + std::string(noun);
}

bool SameIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The hint for a unit of `dim` written in the wrong case ("mw", "gbps", "kwh"), or "" when no
// unit matches it ignoring case. Of the matches, those far smaller than the largest are dropped:
// a site's power in "mw" means MW, not mW (the prefixes m and M are 10^9 apart). Matches within a
// factor 8 of each other are bits against bytes ("mb": MB or Mb), which only the writer knows,
// so both are named.
std::string CaseSuggestion(std::string_view unit, Dimension dim) {
  std::vector<const UnitDef*> matches;
  for (const UnitDef& u : Table()) {
    if (u.dim == dim && u.symbol != unit && SameIgnoringCase(u.symbol, unit)) {
      matches.push_back(&u);
    }
  }
  if (matches.empty()) {
    // A unit of another dimension in the wrong case ("kwh" for a power): say what it is.
    for (const UnitDef& u : Table()) {
      if (u.dim != dim && SameIgnoringCase(u.symbol, unit)) {
        return Quote(u.symbol) + " is a unit of " + std::string(DimensionName(u.dim)) + ", but " +
               A(DimensionName(dim)) + " was expected (units: " + std::string(Examples(dim)) + ")";
      }
    }
    return "";
  }
  std::sort(matches.begin(), matches.end(),
            [](const UnitDef* a, const UnitDef* b) { return a->scale > b->scale; });
  std::vector<const UnitDef*> kept, dropped;
  for (const UnitDef* u : matches) {
    (u->scale * 8.0 >= matches.front()->scale ? kept : dropped).push_back(u);
  }
  std::string hint = "did you mean " + Quote(kept.front()->symbol);
  for (size_t i = 1; i < kept.size(); ++i) hint += " or " + Quote(kept[i]->symbol);
  hint += "? Units are case-sensitive";
  if (kept.size() > 1) hint += ": 'B' is a byte, 'b' a bit";
  for (const UnitDef* u : dropped) {
    hint += "; " + Quote(u->symbol) + " is " + ShortestDouble(u->scale / kept.front()->scale) +
            " " + kept.front()->symbol;
  }
  return hint;
}

// A number as ShortestDouble writes it.
double ParseNumber(const std::string& text) {
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

}  // namespace

std::string_view DimensionName(Dimension d) {
  switch (d) {
    case Dimension::kPower:
      return "power";
    case Dimension::kEnergy:
      return "energy";
    case Dimension::kDuration:
      return "duration";
    case Dimension::kDataSize:
      return "data size";
    case Dimension::kBandwidth:
      return "bandwidth";
    case Dimension::kFlopCount:
      return "FLOP count";
    case Dimension::kFlopRate:
      return "FLOP rate";
    case Dimension::kTemperature:
      return "temperature";
    case Dimension::kFrequency:
      return "frequency";
    case Dimension::kMassFlow:
      return "mass flow";
    case Dimension::kVolumeFlow:
      return "volume flow";
    case Dimension::kEnergyPrice:
      return "energy price";
    case Dimension::kTemperatureDifference:
      return "temperature difference";
    case Dimension::kThermalResistance:
      return "thermal resistance";
    case Dimension::kCarbonIntensity:
      return "carbon intensity";
    case Dimension::kApparentPower:
      return "apparent power";
    case Dimension::kRequestRate:
      return "request rate";
  }
  return "quantity";
}

double ParseBase(std::string_view text, Dimension expected) {
  const std::string_view dim_name = DimensionName(expected);
  const size_t lead = std::min(text.size(), text.find_first_not_of(" \t"));
  std::string_view s = Trim(text);
  if (s.empty()) {
    throw UnitParseError("empty value where " + A(dim_name) + " was expected", 0,
                         "write a number and a unit, for example " + FormatBase(1, expected) +
                             " (units: " + std::string(Examples(expected)) + ")");
  }
  const char* begin = s.data();
  if (*begin == '+') ++begin;
  double number = 0;
  auto [end, ec] = std::from_chars(begin, s.data() + s.size(), number);
  if (ec != std::errc() || end == begin) {
    throw UnitParseError(Quote(s) + " is not a number followed by a unit", lead,
                         "expected " + A(dim_name) + " such as " + FormatBase(1, expected) +
                             " (units: " + std::string(Examples(expected)) + ")");
  }
  if (!std::isfinite(number)) {
    throw UnitParseError(Quote(s) + " is not a finite number", lead);
  }
  const std::string_view after(end, static_cast<size_t>(s.data() + s.size() - end));
  const std::string_view unit = Trim(after);
  const size_t unit_col =
      lead + static_cast<size_t>(end - s.data()) + (unit.empty() ? 0 : after.find(unit));
  if (unit.empty()) {
    throw UnitParseError(
        "missing unit: " + Quote(s) + " is a bare number, but " + A(dim_name) + " needs a unit",
        unit_col,
        "write it with a unit, for example '" + std::string(s) + " " +
            std::string(DisplayUnits(expected, number).back()) +
            "' (units: " + std::string(Examples(expected)) + ")");
  }
  const UnitDef* u = Find(unit, expected);
  if (u == nullptr) {
    std::string hint;
    if (unit.ends_with("FLOPS") || unit.ends_with("flops") || unit.ends_with("FLOPs")) {
      hint = "write FLOP/s for a rate (989 TFLOP/s) or FLOP for a count (3.1 PFLOP)";
    } else if (const std::string cased = CaseSuggestion(unit, expected); !cased.empty()) {
      hint = cased;
    } else {
      std::vector<std::string> same_dim = UnitSymbols(expected);
      const std::string near = NearestMatch(unit, same_dim);
      hint = near.empty()
                 ? "known " + std::string(dim_name) + " units: " + std::string(Examples(expected))
                 : "did you mean '" + near + "'?";
    }
    throw UnitParseError("unknown unit " + Quote(unit), unit_col, hint);
  }
  if (u->dim != expected) {
    throw UnitParseError(
        Quote(unit) + " is a unit of " + std::string(DimensionName(u->dim)) + ", but " +
            A(dim_name) + " was expected",
        unit_col, "units of " + std::string(dim_name) + ": " + std::string(Examples(expected)));
  }
  const double base = number * u->scale + u->offset;
  if (expected == Dimension::kTemperature && base < 0) {
    throw UnitParseError(Quote(s) + " is below absolute zero", lead);
  }
  return base;
}

std::string ShortestDouble(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  const std::string exact(buf, end);
  // Significant digits of the shortest exact text: its mantissa less sign, point and the zeros
  // that only place it.
  std::string digits;
  for (char c : exact.substr(0, exact.find('e'))) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  }
  digits.erase(0, std::min(digits.size(), digits.find_first_not_of('0')));
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  // Up to 15 significant digits every double read from such text prints as written, and whole
  // numbers are exact; beyond, the digits a conversion left behind are noise
  // (0.1 + 0.2 = 0.30000000000000004).
  if (digits.size() <= 15 || (v == std::trunc(v) && std::abs(v) < 1e17)) return exact;
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::string FormatBase(double base, Dimension d) {
  // Candidates: the readable display unit first, then the other display units, then any unit of
  // the dimension; the first whose number reads back to exactly `base` within 15 significant
  // digits wins. When none does (32 K is -241.14999999999998 C: the offset's rounding, not a
  // digit anyone wrote), the readable unit with the number to 15 significant digits.
  const std::vector<std::string_view> display = DisplayUnits(d, base);
  std::vector<const UnitDef*> order;
  size_t first = display.size() - 1;
  for (size_t i = 0; i < display.size() && base != 0; ++i) {
    const UnitDef* u = Find(display[i], d);
    if (std::abs((base - u->offset) / u->scale) >= 1.0) {
      first = i;
      break;
    }
  }
  for (size_t i = 0; i < display.size(); ++i)
    order.push_back(Find(display[(first + i) % display.size()], d));
  for (const UnitDef& u : Table()) {
    if (u.dim == d) order.push_back(&u);
  }
  // Temperatures stay in the readable unit: "-241.15 C" over "32 K".
  const size_t tried = d == Dimension::kTemperature ? 1 : order.size();
  for (size_t i = 0; i < tried; ++i) {
    const UnitDef* u = order[i];
    const std::string text = ShortestDouble((base - u->offset) / u->scale);
    if (ParseNumber(text) * u->scale + u->offset == base) {
      return text + " " + u->symbol;
    }
  }
  const UnitDef* u = order.front();
  return ShortestDouble((base - u->offset) / u->scale) + " " + u->symbol;
}

namespace {
std::string Readable(double base, Dimension d, int digits,
                     const std::vector<std::string_view>& display) {
  const UnitDef* chosen = Find(display.back(), d);
  for (std::string_view sym : display) {
    const UnitDef* u = Find(sym, d);
    if (std::abs((base - u->offset) / u->scale) >= 1.0) {
      chosen = u;
      break;
    }
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, (base - chosen->offset) / chosen->scale);
  return std::string(buf) + " " + chosen->symbol;
}
}  // namespace

std::string FormatReadable(double base, Dimension d, int digits) {
  // Decimal data units for people: pass a value that is no whole number of binary units.
  return Readable(base, d, digits,
                  d == Dimension::kDataSize
                      ? std::vector<std::string_view>{"PB", "TB", "GB", "MB", "kB", "B"}
                      : DisplayUnits(d, base));
}

std::string FormatReadableAs(double base, Dimension d, std::string_view written, int digits) {
  // The unit is what follows the number; a binary prefix is a letter and 'i' (KiB, MiB, Gib).
  std::string_view unit = Trim(written);
  while (!unit.empty() &&
         (std::isdigit(static_cast<unsigned char>(unit.front())) ||
          std::string_view("+-.eE").find(unit.front()) != std::string_view::npos)) {
    unit.remove_prefix(1);
  }
  unit = Trim(unit);
  const bool binary = unit.size() >= 3 && unit[1] == 'i' && Find(unit, d) != nullptr;
  if (binary && d == Dimension::kDataSize) {
    return Readable(base, d, digits, {"PiB", "TiB", "GiB", "MiB", "KiB", "B"});
  }
  if (binary && d == Dimension::kBandwidth) {
    return Readable(base, d, digits, {"PiB/s", "TiB/s", "GiB/s", "MiB/s", "KiB/s", "B/s"});
  }
  return FormatReadable(base, d, digits);
}

std::optional<Dimension> DimensionOfUnit(std::string_view symbol) {
  if (const UnitDef* u = Find(symbol)) return u->dim;
  return std::nullopt;
}

std::vector<std::string> UnitSymbols(Dimension d) {
  std::vector<std::string> out;
  for (const UnitDef& u : Table()) {
    if (u.dim == d) out.push_back(u.symbol);
  }
  return out;
}

}  // namespace firstwall::units
