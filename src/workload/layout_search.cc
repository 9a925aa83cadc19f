#include "workload/layout_search.h"

#include <algorithm>

namespace firstwall::workload {
namespace {

std::vector<int> Divisors(int n, int limit) {
  std::vector<int> out;
  for (int d = 1; d <= n && d <= limit; ++d) {
    if (n % d == 0) out.push_back(d);
  }
  return out;
}

std::vector<int> PowersOfTwo(int limit) {
  std::vector<int> out;
  for (int p = 1; p <= limit; p *= 2) out.push_back(p);
  return out;
}

}  // namespace

SearchResult SearchLayouts(const TrainingSetup& base, int gpus, int keep) {
  SearchResult res;
  const ModelCard& m = base.model;
  double least = -1;
  for (int tp : PowersOfTwo(base.nvlink_domain)) {
    if (gpus % tp != 0) continue;
    if (m.attention_heads % tp != 0) {
      ++res.rejected["tp does not divide the attention heads"];
      continue;
    }
    // Any pp that divides the GPUs: stages need not hold equal numbers of layers (the model
    // balances them), but each holds one at least.
    for (int pp : Divisors(gpus / tp, m.layers)) {
      for (int cp : PowersOfTwo(16)) {
        if ((gpus / tp / pp) % cp != 0) continue;
        if (base.sequence_length % cp != 0 || (cp > 1 && base.sequence_length / cp < 1024))
          continue;
        const int dp = gpus / (tp * pp * cp);
        if (base.global_batch % dp != 0) {
          ++res.rejected["global batch not a multiple of dp"];
          continue;
        }
        std::vector<int> eps = {1};
        if (m.IsMoe()) eps = Divisors(m.moe.experts, dp * cp);
        for (int ep : eps) {
          if ((dp * cp) % ep != 0) continue;
          for (int vpp : {1, 2, 4}) {
            if (vpp > 1 && (pp == 1 || m.layers < pp * vpp)) continue;
            for (int b : PowersOfTwo(16)) {
              if (base.global_batch % (dp * b) != 0) continue;
              const int micro = base.global_batch / (dp * b);
              if (vpp > 1 && micro % pp != 0) continue;
              for (Recompute r : {Recompute::kNone, Recompute::kSelective, Recompute::kFull}) {
                for (int zero : {1, 3}) {
                  TrainingSetup s = base;
                  s.tp = tp;
                  s.pp = pp;
                  s.cp = cp;
                  s.dp = dp;
                  s.ep = ep;
                  s.vpp = vpp;
                  s.micro_batch = b;
                  s.recompute = r;
                  s.recompute_auto = false;
                  s.zero = zero;
                  s.sequence_parallel = tp > 1;
                  s.layers_per_stage.clear();  // automatic: even, or balanced
                  const std::string problem = LayoutProblem(s);
                  if (!problem.empty()) {
                    ++res.rejected[problem.substr(0, problem.find(' ', 3))];
                    continue;
                  }
                  StepEstimate e = EstimateStep(s);
                  ++res.evaluated;
                  if (!e.fits_in_memory) {
                    ++res.rejected["does not fit in memory"];
                    const double need = units::ToBytes(e.memory.Total());
                    if (least < 0 || need < least) least = need;
                    continue;
                  }
                  ++res.fit;
                  res.best.push_back({s, std::move(e)});
                  // Keep the list short while searching.
                  if (res.best.size() > static_cast<size_t>(4 * keep)) {
                    std::stable_sort(res.best.begin(), res.best.end(),
                                     [](const Candidate& a, const Candidate& c) {
                                       return a.estimate.step_time < c.estimate.step_time;
                                     });
                    res.best.resize(static_cast<size_t>(keep));
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  std::stable_sort(res.best.begin(), res.best.end(), [](const Candidate& a, const Candidate& c) {
    return a.estimate.step_time < c.estimate.step_time;
  });
  if (res.best.size() > static_cast<size_t>(keep)) res.best.resize(static_cast<size_t>(keep));
  if (least >= 0) res.smallest_infeasible_memory = units::Bytes(least);
  return res;
}

}  // namespace firstwall::workload
