#include "hardware/torus.h"

#include <algorithm>

#include "hardware/collective.h"

namespace firstwall::hardware {
namespace {
using units::Duration;
using units::Seconds;

// Per-chip bandwidth of a group's dimension, bytes/s: both directions of its ring when it wraps.
double DimBandwidth(const TorusSpec& t, const TorusGroupDim& d) {
  return (d.wraps ? 2.0 : 1.0) * units::ToBytesPerSecond(t.link) * t.efficiency / d.share;
}

// Seconds of one reduce-scatter (or all-gather) of `bytes` per rank over `g`, bandwidth only.
double PhaseSeconds(const TorusSpec& t, const std::vector<TorusGroupDim>& g, double bytes) {
  const size_t d = g.size();
  double slowest = 0;
  for (size_t i = 0; i < d; ++i) {
    double load = 0;  // bytes dimension i carries, summed over the D parts
    for (size_t j = 0; j < d; ++j) {
      double before = 1;  // product of the dimensions part j reduced before reaching i
      for (size_t p = j; p % d != i; ++p) before *= g[p % d].length;
      load += bytes / static_cast<double>(d) * (g[i].length - 1.0) / g[i].length / before;
    }
    slowest = std::max(slowest, load / DimBandwidth(t, g[i]));
  }
  return slowest;
}
}  // namespace

int TorusSpec::chips() const {
  int n = 1;
  for (int k : dims) n *= k;
  return n;
}

std::vector<TorusGroupDim> TorusGroupDims(const std::vector<int>& dims, int ranks, int stride) {
  std::vector<TorusGroupDim> out;
  int s = std::max(1, stride), rem = std::max(1, ranks);
  for (int k : dims) {
    if (rem == 1) break;
    if (s >= k) {
      if (s % k != 0) return {};
      s /= k;
      continue;
    }
    if (k % s != 0) return {};
    const int avail = k / s;
    const int take = std::min(avail, rem);
    if (avail % take != 0 || rem % take != 0) return {};
    out.push_back({take, take == avail, s});
    rem /= take;
    s = 1;
  }
  if (rem != 1) return {};
  return out;
}

Duration TorusCollectiveTime(const TorusSpec& t, Collective op, units::DataSize bytes, int ranks,
                             int stride) {
  if (ranks <= 1) return Seconds(0);
  const double s = units::ToBytes(bytes), n = ranks;
  const double factor = op == Collective::kAllReduce ? 2.0 : 1.0;
  const std::vector<TorusGroupDim> g = TorusGroupDims(t.dims, ranks, stride);
  if (g.empty()) {
    // Not along whole dimensions: one ring over single links, one direction.
    const double b = units::ToBytesPerSecond(t.link) * t.efficiency;
    return t.launch + Seconds(factor * (n - 1) / n * s / b) + t.hop_latency * (factor * (n - 1));
  }
  if (op == Collective::kAllToAll) {
    double inject = 0, hops = 0, bisect = 0;
    for (const TorusGroupDim& d : g) {
      inject += DimBandwidth(t, d);
      hops += d.length / 2;
      const double cut_links = (d.wraps ? 2.0 : 1.0) * n / d.length;
      const double per_link = units::ToBytesPerSecond(t.link) * t.efficiency / d.share;
      bisect = std::max(bisect, (n * s / 4.0) / (cut_links * per_link));
    }
    return t.launch + Seconds(std::max(s * (n - 1) / n / inject, bisect)) + t.hop_latency * hops;
  }
  double steps = 0;
  for (const TorusGroupDim& d : g) steps += d.length - 1.0;
  return t.launch + Seconds(factor * PhaseSeconds(t, g, s)) + t.hop_latency * (factor * steps);
}

Duration TorusP2pTime(const TorusSpec& t, units::DataSize bytes) {
  return t.launch + t.hop_latency + bytes / (t.link * t.efficiency);
}

double TorusBisectionLinks(const std::vector<int>& dims) {
  if (dims.empty()) return 0;
  double n = 1;
  for (int k : dims) n *= k;
  const int k_max = *std::max_element(dims.begin(), dims.end());
  return 2.0 * n / k_max;
}

double TorusAllReduceBusBandwidth(const TorusSpec& t) {
  const int n = t.chips();
  if (n <= 1) return 0;
  const std::vector<TorusGroupDim> g = TorusGroupDims(t.dims, n, 1);
  const double s = 1e9;  // large enough that only bandwidth counts: latency is left out below
  const double algbw = s / (2.0 * PhaseSeconds(t, g, s));
  return algbw * 2.0 * (n - 1.0) / n * n;
}

std::string TorusDimsText(const std::vector<int>& dims) {
  std::string text;
  for (int k : dims) {
    if (!text.empty()) text += 'x';  // not "x" + string: GCC 12 -O3 warns -Wrestrict on it
    text += std::to_string(k);
  }
  return text;
}

}  // namespace firstwall::hardware
