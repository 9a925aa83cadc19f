#include "hardware/torus.h"

#include <algorithm>
#include <map>

#include "core/error.h"
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
// The chips a link of `c` in dimension i, direction `step` (+1 or -1), leads to: the neighbour,
// or across the wraparound, on a twisted torus shifted k along every long dimension when i is
// short (TwistProblem's shapes: k the shortest size).
std::vector<int> Neighbour(const std::vector<int>& dims, bool twisted, std::vector<int> c, size_t i,
                           int step) {
  const int k = *std::min_element(dims.begin(), dims.end());
  c[i] += step;
  if (c[i] >= 0 && c[i] < dims[i]) return c;
  c[i] = (c[i] + dims[i]) % dims[i];
  if (twisted && dims[i] == k) {
    for (size_t j = 0; j < dims.size(); ++j) {
      if (dims[j] == 2 * k) c[j] = ((c[j] + step * k) % dims[j] + dims[j]) % dims[j];
    }
  }
  return c;
}

int Index(const std::vector<int>& dims, const std::vector<int>& c) {
  int at = 0;
  for (size_t i = dims.size(); i-- > 0;) at = at * dims[i] + c[i];
  return at;
}

std::vector<int> Coordinates(const std::vector<int>& dims, int at) {
  std::vector<int> c(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    c[i] = at % dims[i];
    at /= dims[i];
  }
  return c;
}

TorusStats ComputeStats(const std::vector<int>& dims, bool twisted) {
  int n = 1;
  for (int k : dims) n *= k;
  std::vector<int> hops(static_cast<size_t>(n), -1), queue = {0};
  hops[0] = 0;
  double sum = 0;
  TorusStats st;
  for (size_t head = 0; head < queue.size(); ++head) {
    const int u = queue[head];
    const std::vector<int> c = Coordinates(dims, u);
    sum += hops[static_cast<size_t>(u)];
    st.diameter = std::max(st.diameter, hops[static_cast<size_t>(u)]);
    for (size_t i = 0; i < dims.size(); ++i) {
      for (int step : {1, -1}) {
        const auto v = static_cast<size_t>(Index(dims, Neighbour(dims, twisted, c, i, step)));
        if (hops[v] < 0) {
          hops[v] = hops[static_cast<size_t>(u)] + 1;
          queue.push_back(static_cast<int>(v));
        }
      }
    }
  }
  FW_CHECK(static_cast<int>(queue.size()) == n, "a torus is connected");
  st.mean_hops = sum / n;
  st.bisection = -1;
  for (size_t i = 0; i < dims.size(); ++i) {
    const int half = dims[i] / 2;
    double cut = 0;  // links from the lower half of dimension i to the upper, one direction
    for (int u = 0; u < n; ++u) {
      const std::vector<int> c = Coordinates(dims, u);
      if (c[i] >= half) continue;
      for (size_t j = 0; j < dims.size(); ++j) {
        for (int step : {1, -1}) {
          if (Neighbour(dims, twisted, c, j, step)[i] >= half) cut += 1;
        }
      }
    }
    if (st.bisection < 0 || cut < st.bisection) st.bisection = cut;
  }
  return st;
}
}  // namespace

std::string TwistProblem(const std::vector<int>& dims) {
  const std::string shape = TorusDimsText(dims);
  if (dims.size() != 3) {
    return "a twisted torus has three dimensions; " + shape + " has " + std::to_string(dims.size());
  }
  const int k = dims[0];
  const bool k_k_2k = dims[1] == k && dims[2] == 2 * k;
  const bool k_2k_2k = dims[1] == 2 * k && dims[2] == 2 * k;
  if (k % 4 != 0 || !(k_k_2k || k_2k_2k)) {
    return shape +
           " cannot be twisted: the twisted shapes are k x k x 2k and k x 2k x 2k, in "
           "that order, k a multiple of 4 (4x4x8, 4x8x8, 8x8x16, 8x16x16)";
  }
  return "";
}

TorusStats TwistedTorusStats(const std::vector<int>& dims, bool twisted) {
  FW_CHECK(!dims.empty(), "TwistedTorusStats: a torus has dimensions");
  FW_CHECK(!twisted || TwistProblem(dims).empty(), TwistProblem(dims));
  // A breadth-first search of a pod (8,960 chips) takes about a millisecond; a step estimate
  // asks for the same shape many times.
  thread_local std::map<std::pair<std::vector<int>, bool>, TorusStats> cache;
  const auto key = std::make_pair(dims, twisted);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  return cache.emplace(key, ComputeStats(dims, twisted)).first->second;
}

int TorusSpec::chips() const {
  int n = 1;
  for (int k : dims) n *= k;
  return n;
}

std::vector<TorusGroupDim> TorusGroupDims(const std::vector<int>& dims, int ranks, int stride) {
  std::vector<TorusGroupDim> out;
  int s = std::max(1, stride), rem = std::max(1, ranks);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int k = dims[i];
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
    out.push_back({take, take == avail, s, static_cast<int>(i)});
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
  std::vector<TorusGroupDim> g = TorusGroupDims(t.dims, ranks, stride);
  const bool whole = ranks == t.chips();
  if (t.twisted && !whole) {
    // A short dimension's wraparound lands k along every long dimension: inside the group when
    // it spans each long dimension whole, else off it, and the short dimension's ring is a
    // segment.
    const int k = *std::min_element(t.dims.begin(), t.dims.end());
    bool spans_long = true;
    for (size_t j = 0; j < t.dims.size(); ++j) {
      if (t.dims[j] != 2 * k) continue;
      spans_long &= std::any_of(g.begin(), g.end(), [&](const TorusGroupDim& d) {
        return d.dim == static_cast<int>(j) && d.length == t.dims[j];
      });
    }
    for (TorusGroupDim& d : g) {
      if (t.dims[static_cast<size_t>(d.dim)] == k && !spans_long) d.wraps = false;
    }
  }
  if (t.twisted && whole && op == Collective::kAllToAll) {
    const TorusStats st = TwistedTorusStats(t.dims, true);
    const double b = units::ToBytesPerSecond(t.link) * t.efficiency;
    const double bisect = (n * s / 4.0) / (st.bisection * b);
    const double distance = s * st.mean_hops / (2.0 * static_cast<double>(t.dims.size()) * b);
    return t.launch + Seconds(std::max(bisect, distance)) +
           t.hop_latency * static_cast<double>(st.diameter);
  }
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

double TorusBisectionLinks(const std::vector<int>& dims, bool twisted) {
  if (dims.empty()) return 0;
  if (twisted) return TwistedTorusStats(dims, true).bisection;
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
