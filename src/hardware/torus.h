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
// Twisted tori (TorusSpec::twisted; TPU v4 and v5p slices k x k x 2k and k x 2k x 2k, "users can
// pick a twisted 3D torus topology", Jouppi et al. 2023; Cloud TPU docs list which v5p shapes
// support it): the wraparound link of each short dimension (k) lands k chips further along every
// long dimension (2k), as in Camara et al., "Twisted torus topologies for enhanced interconnection
// networks", IEEE TPDS 21(12), 2010. The chip count and links per chip do not change; the
// distances and the cuts do (TwistedTorusStats, from the graph itself). The whole slice's
// all-to-all takes the larger of its bisection bound (the fewest links a halving plane cuts,
// counted on the twisted links: 64 for 4x4x8 against 32 untwisted) and its distance bound: each
// rank's S/n bytes to every rank travel the mean hop distance, over the rank's 2 D links,
//   T_dist = S x mean_hops / (2 D B eta).
// On a regular torus the bisection bound is never below the distance bound; twisting halves the
// former, so the latter binds: 4x4x8 1.75x faster, 4x8x8 1.39x. A group smaller than the slice
// that does not span every long dimension whole loses the short dimensions' wraparound (it leads
// off the group): those dimensions run as segments. One that does (data parallelism over y and z
// of 4x4x8) keeps it: its y rings close through the other half of z. All-reduce of the whole
// slice keeps the rotated rings above.
//
// Not modelled: congestion from other traffic inside a slice, and links across slices
// (multislice over the data-center network).
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
  bool twisted = false;         // TwistProblem(dims) is ""; see above
  bool enabled() const { return !dims.empty(); }
  int chips() const;
};

// One dimension of a group's sub-torus: m chips, whether its ring closes through the wraparound,
// and how many interleaved groups share its links.
struct TorusGroupDim {
  int length = 1;
  bool wraps = false;
  int share = 1;
  int dim = 0;  // which of the torus's dimensions
};

// Why `dims` cannot be twisted, or "": three dimensions k x k x 2k or k x 2k x 2k in that order,
// k a multiple of 4 (Cloud TPU docs, "TPU v4": a torus where 2A = B = C or 2A = 2B = C, each a
// multiple of 4; "TPU v5p": twisted for 4x4x8, 4x8x8, 8x8x16, 8x16x16).
std::string TwistProblem(const std::vector<int>& dims);

// The graph of a (twisted) torus, from a breadth-first search from chip 0 (both kinds are vertex-
// transitive) and a count of the links each halving plane cuts.
struct TorusStats {
  double mean_hops = 0;  // over all n destinations, the source's own 0 included
  int diameter = 0;      // hops to the farthest chip
  double bisection = 0;  // links (one direction) across the fewest-cut halving plane
};
TorusStats TwistedTorusStats(const std::vector<int>& dims, bool twisted);

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
// into two equal halves crosses, 2 N / k_max with wraparound; twisted, TwistedTorusStats'.
double TorusBisectionLinks(const std::vector<int>& dims, bool twisted = false);

// All-reduce bus bandwidth of the whole slice (per-chip busbw x chips) at large messages, bytes/s.
double TorusAllReduceBusBandwidth(const TorusSpec& t);

// "16x16", "4x4x4".
std::string TorusDimsText(const std::vector<int>& dims);

}  // namespace firstwall::hardware
