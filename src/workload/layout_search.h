// Enumerates parallel layouts (tp, pp, vpp, cp, ep, dp), micro-batch sizes, recomputation modes and
// ZeRO stages for a GPU count, evaluates each with the training model, and ranks those that fit.
// pp is any divisor of the GPUs left by tp, up to the model's layers, whether or not it divides
// the layers (the stages are then balanced, training_step.h); vpp 2 and 4 where the stages have a
// layer for each virtual stage.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "workload/training_step.h"

namespace firstwall::workload {

struct Candidate {
  TrainingSetup setup;  // resolved: explicit micro-batch and recompute mode
  StepEstimate estimate;
};

struct SearchResult {
  std::vector<Candidate> best;                 // fastest that fit, fastest first
  int64_t evaluated = 0;                       // configurations evaluated with the model
  int64_t fit = 0;                             // of which fit in memory
  std::map<std::string, int64_t> rejected;     // reason -> how many configurations
  units::DataSize smallest_infeasible_memory;  // least memory among those that do not fit
};

// `base` supplies the model, GPU, batch, sequence, dtype and network; its parallel settings are
// ignored. `gpus` is the total; `keep` how many of the fastest to return.
SearchResult SearchLayouts(const TrainingSetup& base, int gpus, int keep = 10);

}  // namespace firstwall::workload
