// Performance and memory model of one LLM training step, at the level of the operators of a
// transformer layer and the collectives of each parallelism. docs/models.md gives the derivation;
// the short version:
//
// Layout: tensor (tp), pipeline (pp, with vpp virtual stages per GPU), data (dp), context (cp) and
// expert (ep) parallelism on gpus = tp x pp x dp x cp ranks, ordered tp (innermost, inside a node),
// cp, dp, pp (outermost). Experts are sharded ep-ways across data-parallel ranks.
//
// Per layer and micro-batch of b sequences of s tokens, each GPU handles T = b s / cp tokens:
//   GEMMs (QKV, attention output, MLP or routed and shared experts, logits) timed by the fitted
//   GEMM model of hardware/gemm.h (forward; backward is the data- and weight-gradient GEMMs);
//   attention core as FlashAttention (causal: half the score matrix) at the efficiency
//   FlashAttention-2 reports; norms, residuals, dropout and activations as HBM streams.
// Communication, as alpha-beta collectives (hardware/collective.h):
//   TP   4 all-reduces of T x h per layer (forward and backward), or all-gather + reduce-scatter
//   with
//        sequence parallelism (Korthikanti et al. 2022); repeated in the recomputed forward
//   CP   ring attention: (cp-1) K/V blocks per layer, overlapped with the attention core
//   EP   all-to-all dispatch and combine of T x top_k x h per MoE layer, forward and backward
//   PP   1F1B: bubble (pp-1)/vpp micro-batch times (Narayanan et al. SC21); p2p activations per
//        micro-batch and virtual stage, forward and backward
//   DP   gradient all-reduce (ZeRO 0) or reduce-scatter + parameter all-gather (ZeRO 1-3, plus
//        per-micro-batch parameter all-gathers for ZeRO 3), optionally overlapped with the last
//        micro-batch's backward
// Optimizer: Adam streams fp32 state through HBM. Memory: weights, fp32 gradients, Adam state,
// activations per recompute mode (Korthikanti et al. 2022, generalized to GQA, SwiGLU and MoE) for
// the micro-batches in flight on the first stage, and a runtime reserve.
#pragma once

#include <string>
#include <vector>

#include "hardware/collective.h"
#include "hardware/gpu.h"
#include "units/quantity.h"
#include "workload/model_card.h"

namespace firstwall::workload {

enum class Recompute { kNone, kSelective, kFull };
// FlashAttention (fused, causal blocks skipped, scores never stored), or the unfused kernels of
// Megatron-LM before 2022: batched GEMMs for QK^T and PV over the full s x s score matrix with
// scale-mask-softmax and dropout passes over it in HBM.
enum class AttentionKernel { kFlash, kUnfused };
// How the non-GEMM work of a layer runs: as the unfused kernels of eager PyTorch (FSDP, TorchTitan,
// llm-foundry: each norm, activation, residual add, dropout, rotary and cast its own kernel with
// its own pass through HBM), or fused as in Megatron-LM and Transformer Engine (kFused: the 6
// kernels and 16 elements per hidden unit below).
enum class LayerKernels { kEager, kFused };
std::string_view RecomputeName(Recompute r);

struct PhaseActivity {
  double compute = 0.9;
  double communication = 0.3;
  double optimizer = 0.5;
  // Serving (workload/inference.h) times each kernel and derives its activity from what the kernel
  // does rather than from one level per phase:
  //   a = kernel_base + per_hbm x (bytes / (t x HBM peak)) + per_tensor x (FLOPs / (t x peak)),
  // at most 1, each fraction at most 1. kernel_base is the GPU at boost clock with its SMs busy
  // (also charged for the host-side gap between iterations, far too short for the clocks to drop);
  // per_hbm the HBM traffic; per_tensor the tensor cores. Fitted together, least mean |error| of a
  // 0.01 grid, over the public serving measurements of data/calibration/serving_power.csv (H100
  // and A100, Llama-3-8B and Llama-2-7B, vLLM and TensorRT-LLM, batch 1-64, and compute-bound
  // prefill at TDP): test InferenceAccuracy.ServingPowerAgainstPublicMeasurements.
  double kernel_base = 0.34;
  double per_hbm = 0.22;
  double per_tensor = 0.95;
};

// Eager PyTorch's extra non-GEMM work per layer forward (backward twice), issue #16: kernels (each
// paying the GEMM model's launch overhead) and HBM elements per token and hidden unit beyond the
// fused figures (kElementwise* below). The kernels are counted from a Llama/GPT layer in eager
// PyTorch (two RMSNorms of 5 kernels, rotary on Q and K about 10, SiLU-and-multiply 2, residual
// adds 2, dtype casts and copies 5: about 24 beyond the 6 fused ones); the elements are fitted,
// least mean |error| of a grid of 5, over the public eager-PyTorch throughputs: MosaicML's H100 MPT
// 760M-70B table (data/calibration/mpt_h100_bf16_training.csv) and TorchTitan's Llama 3 8B/70B on
// 64 A100.
inline constexpr double kEagerExtraKernelsPerLayer = 24;
inline constexpr double kEagerExtraElementsPerHidden = 80;

// The share of nominal bandwidth a job's traffic of one kind achieves on the fabric, over NVLink
// and over the network (contention with other jobs, degraded links); 1 on an idle healthy fabric.
struct FabricShare {
  double nvlink = 1.0;
  double network = 1.0;
};
// Per kind of traffic: tensor, context, expert, data and pipeline parallelism.
struct TrafficShares {
  FabricShare tp, cp, ep, dp, pp;
};

struct TrainingSetup {
  ModelCard model;
  hardware::GpuSpec gpu;
  hardware::DataType dtype = hardware::DataType::kBf16;
  int tp = 1, pp = 1, dp = 1, cp = 1, ep = 1, vpp = 1;
  int global_batch = 1;  // sequences per step
  int micro_batch = 1;   // sequences per micro-batch; 0 = the fastest that fits
  int sequence_length = 2048;
  Recompute recompute = Recompute::kNone;
  bool recompute_auto = false;  // pick the fastest mode that fits
  bool sequence_parallel = false;
  AttentionKernel attention = AttentionKernel::kFlash;
  LayerKernels layer_kernels = LayerKernels::kEager;
  double eager_extra_elements = kEagerExtraElementsPerHidden;  // per token, hidden unit and layer
  int zero = 1;  // 0: all-reduce, 1: distributed optimizer, 2: + gradients, 3: + weights
  bool overlap_grad_reduce = true;
  double expert_imbalance = 1.0;   // slowest expert's load / mean load
  int nvlink_domain = 8;           // GPUs joined by NVLink (a node, or a rack of NVL72)
  units::Bandwidth nic_bandwidth;  // per GPU, one direction
  units::Duration link_latency;    // per hop across the network
  TrafficShares traffic;           // from the site's fabric model
  PhaseActivity activity;
};

struct Phase {
  std::string name;
  units::Duration duration;
  double activity = 0.0;
};

struct StepBreakdown {
  units::Duration compute, tp_comm, pp_bubble, pp_p2p, dp_comm_exposed, cp_comm, ep_comm, optimizer;
};

struct MemoryBreakdown {
  units::DataSize weights, gradients, optimizer, activations, reserved;
  units::DataSize Total() const { return weights + gradients + optimizer + activations + reserved; }
};

// One operator of a transformer layer (or of the output head), per micro-batch on one GPU.
struct OpCost {
  std::string name;
  double flops = 0;  // forward
  double bytes = 0;  // forward HBM traffic (communication: bytes sent per GPU)
  units::Duration forward, backward;
};

struct StepEstimate {
  int gpus = 0;
  int micro_batch = 0;
  int micro_batches = 0;  // per pipeline per step
  Recompute recompute = Recompute::kNone;
  units::FlopCount model_flops;     // per step, without recomputation (the MFU convention)
  units::FlopCount hardware_flops;  // per step, as executed
  StepBreakdown breakdown;
  units::Duration step_time;
  // Data-parallel communication including the part hidden behind the backward pass: how long the
  // job's scale-out links are busy per step (with pp_p2p).
  units::Duration dp_comm_total;
  double tokens_per_step = 0;
  double mfu = 0;
  units::FlopRate model_flop_rate_per_gpu;
  MemoryBreakdown memory;
  bool fits_in_memory = false;
  std::vector<Phase> phases;
  // One layer's operators and then the output head's, as evaluated for the chosen micro-batch.
  std::vector<OpCost> layer_ops;
  std::vector<OpCost> head_ops;
};

int GpuCount(const TrainingSetup& s);

// Constants shared by the training and inference models.
// FlashAttention-2 (Dao 2023) reaches 50-73% of peak forward and less backward on A100; we take
// 60% (and 50% backward) of the GEMM model's efficiency ceiling ratio to peak.
inline constexpr double kAttentionForwardEfficiency = 0.60;
// Non-GEMM kernels per layer forward (norms, residual adds, dropout, activation, rotary), each
// paying the kernel overhead of the GEMM model.
inline constexpr double kElementwiseKernelsPerLayer = 6;
// Bytes moved per token and hidden unit by norms, residual adds and dropout in one layer forward
// (two norms read and write, two residual adds, two dropouts with masks), in elements.
inline constexpr double kElementwiseElementsPerHidden = 16;
// CUDA context, NCCL buffers and allocator slack per GPU: an assumption, not a measurement.
inline constexpr units::DataSize kRuntimeReserved = units::Gibibytes(2);

// Bytes of a full checkpoint per parameter: bf16 weights (2) and the fp32 master weights and two
// Adam moments (12), the model state of mixed-precision Adam (Rajbhandari et al., ZeRO, SC20);
// gradients are not saved.
inline constexpr double kCheckpointBytesPerParam = 14.0;

// Checks the layout against the model and batch; returns "" when consistent, else the reason.
std::string LayoutProblem(const TrainingSetup& s);

// Evaluates the setup; micro_batch 0 and recompute_auto pick the fastest choice that fits (or, if
// none fits, the one needing least memory). The setup must have no LayoutProblem.
StepEstimate EstimateStep(const TrainingSetup& s);

// The interconnect the collectives use, from the GPU's NVLink and the setup's network.
hardware::CollectiveModel CollectivesFor(const TrainingSetup& s);
// The same with its NVLink and network bandwidths scaled by `share`.
hardware::CollectiveModel Scaled(hardware::CollectiveModel m, const FabricShare& share);

}  // namespace firstwall::workload
