#include "scenario/budget.h"

#include <algorithm>
#include <cstdio>

#include "units/parse.h"

namespace firstwall::scenario {
namespace {

// The mean of a length distribution after its clamp to [1, max] (the lognormal's mean is an
// upper bound of its clamped mean, so the estimate errs on the large side).
double MeanLength(const workload::LengthDistribution& d) {
  return std::clamp(d.a, 1.0, static_cast<double>(d.max));
}

double LargestLength(const workload::LengthDistribution& d) {
  return d.kind == workload::LengthDistribution::Kind::kFixed ? MeanLength(d)
                                                              : static_cast<double>(d.max);
}

}  // namespace

void MemoryBudget::Charge(const Section& s, std::string_view key, double bytes,
                          const std::string& what, const std::string& how_to_reduce) {
  bytes_ += bytes;
  if (bytes_ <= kMemoryLimitBytes) return;
  const auto show = [](double b) { return units::Readable(units::Bytes(b), 3); };
  const std::string total =
      bytes == bytes_ ? "" : " (" + show(bytes_) + " with what the scenario holds before it)";
  s.Fail(key,
         what + ": about " + show(bytes) + " of memory" + total + ", above the limit of " +
             show(kMemoryLimitBytes),
         how_to_reduce);
}

std::string AboutCount(double n) {
  char buf[64];
  if (n < 1e6) {
    std::snprintf(buf, sizeof buf, "%.0f", n);
  } else if (n < 1e9) {
    std::snprintf(buf, sizeof buf, "%.3g million", n / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g billion", n / 1e9);
  }
  return buf;
}

RequestLoad ExpectedLoad(const workload::SyntheticSource& src, int block_tokens) {
  const double sessions = src.rate_per_s * std::max(0.0, src.end_s - src.start_s);
  const double steps = src.steps;
  const double first = src.shared_prefix_tokens + MeanLength(src.prompt);
  const double growth = MeanLength(src.step_prompt) + MeanLength(src.output);
  // Step k's prompt is first + k x growth tokens; the sum over k = 0 .. steps-1.
  const double tokens = steps * first + growth * steps * (steps - 1) / 2;
  return {sessions * steps, sessions * tokens / block_tokens};
}

double LongestContext(const workload::SyntheticSource& src) {
  return src.shared_prefix_tokens + LargestLength(src.prompt) +
         (src.steps - 1) * (LargestLength(src.step_prompt) + LargestLength(src.output)) +
         LargestLength(src.output);
}

}  // namespace firstwall::scenario
