// The live twin's words, in one place: the entities telemetry is bound to, the quantities they
// report and the units a source may report them in. The site map (site_map.h) accepts exactly these
// words; the store (store.h) keeps each series in its quantity's base unit; quality (quality.h)
// reads counters and gauges by `Quantity::counter`.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace firstwall::live {

// Twin entities a stream can describe (docs/live.md). Order is the documentation's order.
inline constexpr std::string_view kEntityKinds[] = {
    "gpu",         "nic",   "node", "rack",    "pdu",   "ups",
    "transformer", "meter", "cdu",  "chiller", "tower", "weather_station",
    "facility"};

struct QuantityKind {
  std::string_view name;       // "power"
  std::string_view base_unit;  // what the store keeps: "W"
  bool counter;                // a total that only grows (resets aside), not a level
  std::string_view meaning;
};

inline constexpr QuantityKind kQuantities[] = {
    {"power", "W", false, "electrical power drawn or delivered"},
    {"energy", "J", true, "an energy counter (total since some start)"},
    {"temperature", "C", false, "a temperature"},
    {"utilization", "%", false, "a busy share, 0 to 100 %"},
    {"pue", "ratio", false, "power usage effectiveness, facility over IT energy"},
    {"link_rate", "Gb/s", false, "a port's signalling rate as negotiated (one direction)"},
    {"duration", "s", false, "a span of time (a gap between restarts)"},
};

struct UnitKind {
  std::string_view name;      // as written in a site map: "kW"
  std::string_view quantity;  // which quantity it measures
  double to_base;             // base = value * to_base
};

inline constexpr UnitKind kUnits[] = {
    {"W", "power", 1},        {"kW", "power", 1e3},     {"MW", "power", 1e6},
    {"mJ", "energy", 1e-3},   {"J", "energy", 1},       {"kJ", "energy", 1e3},
    {"Wh", "energy", 3600},   {"kWh", "energy", 3.6e6}, {"MWh", "energy", 3.6e9},
    {"C", "temperature", 1},  {"%", "utilization", 1},  {"fraction", "utilization", 100},
    {"ratio", "pue", 1},      {"Gb/s", "link_rate", 1}, {"B/s", "link_rate", 8e-9},
    {"GB/s", "link_rate", 8}, {"s", "duration", 1},     {"min", "duration", 60},
    {"h", "duration", 3600},
};

// nullptr when not a word of the vocabulary.
const QuantityKind* FindQuantity(std::string_view name);
const UnitKind* FindUnit(std::string_view name);
bool IsEntityKind(std::string_view name);
// "gpu|node|..." and the like, for the schema's enum choices.
std::string EntityChoices();
std::string QuantityChoices();
std::string UnitChoices();

}  // namespace firstwall::live
