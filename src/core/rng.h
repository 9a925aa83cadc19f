// Seeded random streams, one per component. Each stream is xoshiro256** (Blackman & Vigna 2018)
// seeded by SplitMix64 from the run's seed and a stable hash (FNV-1a) of the component's name, so
// adding a component or drawing more numbers in one never changes another's sequence. The
// distributions are written here rather than taken from <random>, whose distribution algorithms
// differ between standard libraries and would break byte-identical outputs across compilers.
#pragma once

#include <cstdint>
#include <string_view>

namespace firstwall {

// x's bits mixed so that neighbouring inputs give unrelated outputs (SplitMix64's output function,
// Steele, Lea and Flood, OOPSLA 2014): a hash of an integer key, as a switch hashes a flow's
// header fields.
uint64_t Mix64(uint64_t x);
uint64_t StableHash(std::string_view s);

class RngStream {
 public:
  RngStream(uint64_t seed, std::string_view component);

  uint64_t NextU64();
  // Uniform in [0, 1) with 53 random bits.
  double Uniform();
  // Exponential with the given mean (inverse transform).
  double Exponential(double mean);
  // Normal by the Box-Muller transform (no cached second value, so draws stay independent of
  // call history).
  double Normal(double mean, double stddev);
  // Gamma with shape k and scale theta (Marsaglia & Tsang 2000; k < 1 by k + 1 and U^(1/k)).
  double Gamma(double shape, double scale);

 private:
  uint64_t s_[4];
};

}  // namespace firstwall
