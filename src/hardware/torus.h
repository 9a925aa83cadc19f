// Collectives on a k-ary torus of accelerator chips joined by inter-chip links (Google TPU ICI:
// a 3-D torus of 4x4x4 cubes on v4 and v5p, a 2-D 16x16 torus on v5e and Trillium), used in place
// of the NVLink/NIC two-level model when the cluster's fabric is a torus (cluster.fabric.kind).
//
// Shape: dims k_1 x ... x k_D (x first, the fastest-varying rank index), every chip with a link to
// each of its 2 D neighbours, each direction of a link carrying B bytes/s (B = the card's per-chip
// ICI bandwidth, both directions summed, over 2 x 2 D). Every dimension wraps around.
//
// A group of n ranks at rank stride s (tensor parallelism 1, data parallelism tp x cp, ...) lies
// along the dimensions its ranks cross: s skips whole dimensions first, then the group spans m_i
// chips of dimension i at step s_i (s_i = 1 after the first dimension it enters). The group's ring
// along dimension i closes through the wraparound when it covers the whole dimension (m_i s_i =
// k_i) and runs in both directions: 2 B; a segment of a dimension has no wraparound: B. The s_i
// interleaved groups along a dimension share its links: each gets 1/s_i of them.
//
// All-reduce as reduce-scatter then all-gather, each dimension in turn (bucket algorithm), with
// the buffer split into D parts that visit the dimensions in rotated orders so that all 2 D links
// of a chip work at once (Jouppi et al., ISCA 2023, arXiv 2304.01433, section 2; Google Cloud TPU
// docs' "all-reduce bandwidth per Pod"). Part j of S/D bytes reduces along its p-th dimension
// (m - 1)/m of what is left after the dimensions before it, so over a reduce-scatter dimension i
// carries
//   L_i = sum_j S/D x (m_i - 1)/m_i / prod(m of the dimensions part j visits before i)
// and the phase takes max_i L_i / (b_i eta) + sum_i (m_i - 1) alpha_hop, b_i the dimension's
// per-chip bandwidth (2 B or B, over its sharing). On an equal-sided torus this is
// S (n-1)/n / (2 D B eta): the bus bandwidth (algbw x 2(n-1)/n) of an all-reduce is 2 D B eta per
// chip, n x 2 D B eta for the slice. Trillium 16x16 at eta 1: 256 x 4 x 100 GB/s = 102.4 TB/s,
// Google's published "all-reduce bandwidth per Pod".
//
// All-to-all (each rank S bytes, S/n to every rank): the larger of the injection bound
// S (n-1)/n / (sum_i b_i eta) and the bisection bound: cutting dimension i in half cuts
// c_i = (2 if it wraps, else 1) x n / m_i links, which carry n S / 4 bytes each way:
//   T_a2a = max(S (n-1)/n / sum_i b_i, max_i (n S / 4) / (c_i B / s_i)) / eta
//           + sum_i floor(m_i / 2) alpha_hop.
// A k-ary D-cube has 2 N / k bisection links (Dally & Towles, Principles and Practices of
// Interconnection Networks, 2004, section 3.3); Trillium 16x16: 32 links x 100 GB/s = 3.2 TB/s,
// Google's published "bisection bandwidth per Pod".
//
// Not modelled: twisted tori (v4/v5p 4x4x8-style shapes whose wraparound links are shifted; the
// TPU v4 paper reports faster all-to-all on them), congestion from other traffic inside a slice,
// and links across slices (multislice over the data-center network).
#pragma once

#include <string>
#include <vector>

#include "units/quantity.h"

namespace firstwall::hardware {

enum class Collective;

struct TorusSpec {
  std::vector<int> dims;        // chips along each dimension, x first; empty: no torus
  units::Bandwidth link;        // one direction of one link
  double efficiency = 1.0;      // achieved over nominal link bandwidth
  units::Duration hop_latency;  // per ring step
  units::Duration launch;       // alpha_0 per collective
  bool enabled() const { return !dims.empty(); }
  int chips() const;
};

// One dimension of a group's sub-torus: m chips, whether its ring closes through the wraparound,
// and how many interleaved groups share its links.
struct TorusGroupDim {
  int length = 1;
  bool wraps = false;
  int share = 1;
};

// The dimensions a group of `ranks` at rank stride `stride` spans (see above). Empty when the
// group does not lie along whole dimensions (a stride or size that splits a dimension unevenly);
// callers then use TorusFallbackRing.
std::vector<TorusGroupDim> TorusGroupDims(const std::vector<int>& dims, int ranks, int stride);

// Time of `op` with `bytes` per rank over a group of `ranks` at `stride`. A group that does not
// lie along whole dimensions runs one unidirectional ring over single links.
units::Duration TorusCollectiveTime(const TorusSpec& t, Collective op, units::DataSize bytes,
                                    int ranks, int stride);

// One transfer to a neighbouring chip: one link.
units::Duration TorusP2pTime(const TorusSpec& t, units::DataSize bytes);

// Bisection links of the whole torus (each counted once, one direction): the fewest links a cut
// into two equal halves crosses, 2 N / k_max with wraparound.
double TorusBisectionLinks(const std::vector<int>& dims);

// All-reduce bus bandwidth of the whole slice (per-chip busbw x chips) at large messages, bytes/s.
double TorusAllReduceBusBandwidth(const TorusSpec& t);

// "16x16", "4x4x4".
std::string TorusDimsText(const std::vector<int>& dims);

}  // namespace firstwall::hardware
