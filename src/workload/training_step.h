// Foundation model of one synchronous training step (data parallel x tensor parallel), replaced by
// the full training performance model later. Per step:
//
//   model FLOPs   F = 3 x forward FLOPs per token x global batch x sequence   (forward + 2x
//   backward) compute time  T_c = max(F x r / (N x peak x eff),  bytes per GPU / HBM bandwidth)
//   (roofline)
//                 r = 4/3 with full activation recomputation (one more forward), 1 otherwise
//   TP comm       4 all-reduces of micro-batch activations per layer and micro-batch (2 forward,
//                 2 backward; Shoeybi et al. 2019, Megatron-LM, fig. 4), over NVLink
//   DP comm       ring all-reduce of the bf16 gradients of one TP shard:
//                 T = 2 (d-1)/d x S / B_link + 2 (d-1) x latency   (Patarasuk & Yuan 2009)
//                 over NVLink when the DP group fits in a node, else over each GPU's NIC; not
//                 overlapped with backward in this model
//   optimizer     mixed-precision Adam reads and writes 16 bytes of state per parameter and writes
//                 the 2-byte weights (Rajbhandari et al. 2020, ZeRO, sec. 3.1): HBM-bound
//
// The step becomes a periodic phase timeline: compute (forward/backward, with the TP all-reduces
// folded in at their share of the time), gradient all-reduce, optimizer. Each phase has a GPU
// activity in [0, 1] that the power model turns into watts.
#pragma once

#include <string>
#include <vector>

#include "hardware/gpu.h"
#include "units/quantity.h"
#include "workload/model_card.h"

namespace firstwall::workload {

enum class Recompute { kNone, kFull };

struct PhaseActivity {
  double compute = 0.9;
  double communication = 0.3;
  double optimizer = 0.5;
};

struct TrainingSetup {
  ModelCard model;
  hardware::GpuSpec gpu;
  hardware::DataType dtype = hardware::DataType::kBf16;
  int tp = 1;
  int dp = 1;
  int global_batch = 1;  // sequences per step
  int micro_batch = 1;   // sequences per micro-batch per DP rank
  int sequence_length = 2048;
  Recompute recompute = Recompute::kNone;
  double compute_efficiency = 0.6;  // achieved fraction of peak on the step's matrix work
  int gpus_per_node = 8;
  units::Bandwidth nic_bandwidth;  // per GPU, one direction
  units::Duration link_latency;    // per ring hop
  PhaseActivity activity;
};

struct Phase {
  std::string name;
  units::Duration duration;
  double activity = 0.0;
};

struct StepEstimate {
  units::FlopCount model_flops;     // per step, without recomputation (the MFU convention)
  units::FlopCount hardware_flops;  // per step, with recomputation
  units::Duration compute;          // forward and backward math
  units::Duration tp_comm;
  units::Duration dp_comm;
  units::Duration optimizer;
  units::Duration step_time;
  double tokens_per_step = 0;
  double mfu = 0;  // model FLOPs / (step time x GPUs x peak)
  units::FlopRate model_flop_rate_per_gpu;
  std::vector<Phase> phases;
};

int GpuCount(const TrainingSetup& s);
StepEstimate EstimateStep(const TrainingSetup& s);

// Ring all-reduce time of `size` over `ranks` ranks on links of `bandwidth` (one direction).
units::Duration RingAllReduceTime(units::DataSize size, int ranks, units::Bandwidth bandwidth,
                                  units::Duration latency);

}  // namespace firstwall::workload
