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
//   FlashAttention-2 reports, or unfused where the GPU's card states no FlashAttention (V100);
//   norms, residuals, dropout and activations as HBM streams.
// Communication, as alpha-beta collectives (hardware/collective.h):
//   TP   4 all-reduces of T x h per layer (forward and backward), or all-gather + reduce-scatter
//   with
//        sequence parallelism (Korthikanti et al. 2022); repeated in the recomputed forward
//   CP   ring attention: (cp-1) K/V blocks per layer, overlapped with the attention core
//   EP   all-to-all dispatch and combine of T x top_k x h per MoE layer, forward and backward
//   PP   1F1B: the steady state is paced by the slowest stage (its layers, plus the embedding on
//        the first stage and the output head and loss on the last); bubble (pp-1)/vpp of that
//        stage's micro-batch time (Narayanan et al. SC21); p2p activations per micro-batch and
//        virtual stage, forward and backward. Stages may hold different numbers of layers
//        (layers_per_stage, or the balanced split of BalanceStages).
//   DP   gradient all-reduce (ZeRO 0) or reduce-scatter + parameter all-gather (ZeRO 1-3, plus
//        per-micro-batch parameter all-gathers for ZeRO 3), optionally overlapped with the last
//        micro-batch's backward
// Optimizer: Adam streams fp32 state through HBM. Memory: weights, fp32 gradients, Adam state,
// activations per recompute mode (Korthikanti et al. 2022, generalized to GQA, SwiGLU and MoE) for
// the micro-batches each stage keeps in flight, and a runtime reserve; reported for the stage that
// needs the most.
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
// The kernel that runs on `gpu` when `wanted` is asked for: unfused where the GPU's card states no
// FlashAttention generation (capabilities.flash_attention: none, as V100), else `wanted`.
AttentionKernel AttentionOn(const hardware::GpuSpec& gpu,
                            AttentionKernel wanted = AttentionKernel::kFlash);
// "flash-attention-2", "unfused": the kernel as the reports name it.
std::string AttentionKernelName(const hardware::GpuSpec& gpu, AttentionKernel k);

// How expert-parallel all-to-all meets computation.
//  kNone: every dispatch and combine waits for its data (exposed), as in Megatron-LM by default.
//  kDualPipe: each forward chunk of one micro-batch runs beside a backward chunk of another
//    (DeepSeek-V3 technical report, arXiv:2412.19437, sec. 3.2.1, DualPipe), so the forward
//    chunk's all-to-all hides under the backward chunk's compute and the backward's under the
//    forward's; what does not fit is exposed. The communication kernels hold a share of the SMs
//    meanwhile, slowing the compute they hide under (kEpOverlapSmShare). Only the first forward and
//    the last backward chunk of a step have no partner. DualPipe's own pipeline schedule (its
//    bubble, two copies of the parameters) is not modelled here: the 1F1B bubble stays.
enum class EpOverlap { kNone, kDualPipe };
std::string_view EpOverlapName(EpOverlap o);
std::string_view LayerKernelsName(LayerKernels k);  // "eager", "fused": the scenario words

// Share of the SMs the all-to-all kernels occupy while they overlap compute: DeepSeek-V3 gives 20
// of the H800's 132 SMs to communication (arXiv:2412.19437, sec. 3.2.2); taken for every GPU (an
// assumption beyond H800).
inline constexpr double kEpOverlapSmShare = 20.0 / 132.0;

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
  // Transformer layers on each pipeline stage, first to last: pp entries summing to the model's
  // layers (StageSplitProblem). Empty: automatic, an even split when pp x vpp divides the layers
  // (Megatron-LM's default), else BalanceStages. With vpp > 1 each stage's layers are dealt to its
  // vpp virtual stages as evenly as possible, the first virtual stage of the first stage and the
  // last of the last stage taking the fewer (they also hold the embedding and the output head).
  std::vector<int> layers_per_stage;
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
  double expert_imbalance = 1.0;  // slowest expert's load / mean load
  EpOverlap ep_overlap = EpOverlap::kNone;
  int nvlink_domain = 8;           // GPUs joined by NVLink (a node, or a rack of NVL72)
  units::Bandwidth nic_bandwidth;  // per GPU, one direction
  units::Duration link_latency;    // per hop across the network
  // Chips along each dimension of the accelerator torus the job's collectives run on (TPU ICI,
  // hardware/torus.h), x first; empty: NVLink and NICs.
  std::vector<int> torus_dims;
  bool torus_twisted = false;  // the short dimensions' wraparounds shifted (hardware/torus.h)
  TrafficShares traffic;       // from the site's fabric model
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
  // Per step, all GPUs. Model FLOPs: the work the model needs, forward and backward, without
  // recomputation; causal attention counts half the score matrix (the FlashAttention convention,
  // docs/models.md). Hardware FLOPs: what the operators execute, recomputation and unfused
  // attention's full score matrix included.
  units::FlopCount model_flops;
  units::FlopCount hardware_flops;
  // The split evaluated: transformer layers on each pipeline stage, first to last, and the stage
  // that paces the pipeline (the slowest per micro-batch; the last of equals).
  std::vector<int> layers_per_stage;
  int slowest_stage = 0;
  StepBreakdown breakdown;
  units::Duration step_time;
  // Data-parallel communication including the part hidden behind the backward pass: how long the
  // job's scale-out links are busy per step (with pp_p2p).
  units::Duration dp_comm_total;
  // Expert all-to-all including the part hidden under compute (breakdown.ep_comm is what the step
  // pays: the exposed part and, with overlap, the SM contention).
  units::Duration ep_comm_total;
  double tokens_per_step = 0;
  double mfu = 0;  // model FLOPs / (gpus x peak x step time)
  units::FlopRate model_flop_rate_per_gpu;
  // FLOPs the busiest GPU (the pipeline stage that executes most, its slowest expert) executes
  // per step over the step time; checked never to exceed peak x the highest ceiling of its
  // operators (GEMM: e_max; attention core: its efficiency).
  units::FlopRate achieved_flop_rate_per_gpu;
  // Hardware FLOP utilization: hardware FLOPs / (gpus x peak x step time); mfu <= hfu.
  double hfu = 0;
  MemoryBreakdown memory;
  bool fits_in_memory = false;
  std::vector<Phase> phases;
  // One layer's operators, the output head's (last stage) and the embedding's (first stage), as
  // evaluated for the chosen micro-batch.
  std::vector<OpCost> layer_ops;
  std::vector<OpCost> head_ops;
  std::vector<OpCost> embedding_ops;
};

int GpuCount(const TrainingSetup& s);

// Constants shared by the training and inference models.
// FlashAttention-2 (Dao 2023) reaches 50-73% of peak forward and less backward on A100; we take
// 60% (and 50% backward) of the GEMM model's efficiency ceiling ratio to peak.
inline constexpr double kAttentionForwardEfficiency = 0.60;
// FlashAttention 1.x reaches 25-40% of the A100 peak where FlashAttention-2 reaches 50-73% (Dao
// 2023, abstract): the generation-1 kernels run at the ratio of the midpoints, 32.5 / 61.5.
// FlashAttention-3 runs at FlashAttention-2's efficiency here: on H100 it reaches 75% of peak
// forward where FlashAttention-2 reaches 35% (Shah et al. 2024), and the 60% above sits between;
// raising it would make H100 training faster still, where it is already too fast (issue #16).
inline constexpr double kFlashAttention1Scale = 32.5 / 61.5;
// Forward efficiency of the FlashAttention that `gpu` runs (its capabilities.flash_attention).
double FlashAttentionForwardEfficiency(const hardware::GpuSpec& gpu);
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
// Includes StageSplitProblem.
std::string LayoutProblem(const TrainingSetup& s);

// The fewest transformer layers stage `stage` of pp may hold with vpp virtual stages per GPU: one
// per virtual stage, except that the first virtual stage of the first stage and the last of the
// last stage may hold none (only the embedding, or only the output head and loss, as in Llama 3,
// Dubey et al. 2024 sec. 3.3.2). A single stage (pp 1) holds every layer, at least one.
int MinLayersOnStage(int stage, int pp, int vpp);

// Checks the pipeline split: without layers_per_stage, that the model has enough layers for pp x
// vpp virtual stages; with it, that it has pp entries, each at least MinLayersOnStage, summing to
// the model's layers. Returns "" when fine, else the reason; `*entry` (when given) is set to the
// offending entry of layers_per_stage, or -1 when the fault is not one entry's.
std::string StageSplitProblem(const TrainingSetup& s, int* entry = nullptr);

// Deals `layers` identical transformer layers to `stages` pipeline stages so that the slowest
// stage's time per micro-batch is least: stage i takes n_i x layer_s, plus first_s (the embedding)
// on stage 0 and last_s (output head and loss) on the last stage; n_i >= MinLayersOnStage. Adds
// one layer at a time to the stage whose time is least (optimal for identical items); among equals
// the later stage takes it, so the early stages, which keep more micro-batches in flight under
// 1F1B, hold fewer. Seconds: layer_s > 0, first_s and last_s >= 0. Needs enough layers
// (StageSplitProblem of the layout).
std::vector<int> BalanceStages(int layers, int stages, int vpp, double layer_s, double first_s,
                               double last_s);

// Evaluates the setup; micro_batch 0 and recompute_auto pick the fastest choice that fits (or, if
// none fits, the one needing least memory). The setup must have no LayoutProblem.
StepEstimate EstimateStep(const TrainingSetup& s);

// The interconnect the collectives use, from the GPU's NVLink and the setup's network.
hardware::CollectiveModel CollectivesFor(const TrainingSetup& s);
// The same with its NVLink and network bandwidths scaled by `share`.
hardware::CollectiveModel Scaled(hardware::CollectiveModel m, const FabricShare& share);

}  // namespace firstwall::workload
