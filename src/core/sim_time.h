// Simulated time: integer nanoseconds since the start of the run, so that event ordering and tick
// arithmetic are exact and identical on every machine (floating seconds would drift over a year of
// 10 ms ticks).
#pragma once

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>

#include "units/quantity.h"

namespace firstwall {

class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime FromNanoseconds(int64_t ns) { return SimTime(ns); }
  // Rounds to the nearest nanosecond.
  static SimTime From(units::Duration d) {
    return SimTime(static_cast<int64_t>(std::llround(units::ToSeconds(d) * 1e9)));
  }
  static constexpr SimTime Never() { return SimTime(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t ns() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }
  units::Duration ToDuration() const { return units::Seconds(seconds()); }

  constexpr SimTime operator+(SimTime o) const { return SimTime(ns_ + o.ns_); }
  constexpr SimTime operator-(SimTime o) const { return SimTime(ns_ - o.ns_); }
  constexpr auto operator<=>(const SimTime&) const = default;

 private:
  constexpr explicit SimTime(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

}  // namespace firstwall
