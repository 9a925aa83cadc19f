// One inference replica at a steady state, from the same operator models as training (hardware/
// gemm.h, hardware/collective.h): the first step of the serving model of issue #6.
//
//   prefill   one prompt of P tokens alone: every layer's GEMMs with P rows (compute-bound),
//             causal FlashAttention forward over P x P, norms as HBM streams, two TP all-reduces
//             of P x hidden per layer, pipeline hand-offs, and the last token's logits
//   decode    one iteration at batch B, every sequence at context C = P + O/2: GEMMs with B rows
//             (weight-bound at small B; a GPU's routed experts as one grouped GEMM), attention
//             reading each sequence's K/V cache (or MLA's latent, ModelCard::mla, at the longer of
//             its stream and its FLOPs) from HBM, norms, TP all-reduces of B x hidden, with wide
//             EP (ep > tp) the experts' all-to-all dispatch and combine, the logits of B tokens,
//             and a fixed per-iteration overhead (scheduling, sampling, kernel launches)
//
// With pipeline parallelism the batch is split into pp micro-batches in flight and the stages hold
// InferenceStageLayers: each stage runs its layers at B/pp rows once per micro-batch, so the
// slowest stage, with n_max layers, paces the iteration at pp x n_max layers at B/pp rows (every
// layer when pp divides the layers). A lone prompt's prefill passes every stage in turn: all
// layers. Per GPU, the most loaded stage's: KV cache 2 x n_max x max(1, kv_heads/tp) x head_dim x
// bytes per token (the activations' 2 bytes, or 1 with kv_cache_fp8); weights n_max/layers of the
// model's (experts split over ep). Memory: weights + KV of B x (P + O) tokens + the prefill's
// transient workspace + the runtime reserve of the training model.
//
// GPU power: each kernel's activity follows from what it does (PhaseActivity: a base for a busy
// GPU, plus shares for the fraction of peak HBM bandwidth and of peak tensor FLOP/s it achieves),
// communication at the communication activity, the host-side gap between iterations at the base.
#pragma once

#include <string>
#include <vector>

#include "hardware/gpu.h"
#include "workload/model_card.h"
#include "workload/speculative.h"
#include "workload/training_step.h"

namespace firstwall::workload {

// Host-side cost of one decode iteration: an assumption pending calibration on hardware (no
// end-to-end serving measurements were available to this project).
inline constexpr units::Duration kIterationOverhead = units::Milliseconds(1);

// Launch-bound cost of one norm, rotary, activation or residual-add kernel: vidur's H100 profile of
// Llama-2-70B's non-GEMM operators (two RMSNorms, rotary, SiLU-and-mul, two adds) takes 18-21 us
// per layer at 1-32 tokens (../shared/data/calibration/vidur_h100_llama2_70b_mlp.csv), about 3 us
// for each of the 6 kernels; the GEMM model's 8 us launch overhead overstates them.
inline constexpr units::Duration kElementwiseKernelOverhead = units::Microseconds(3);

// Transformer layers on each of `pp` pipeline stages of a replica, first to last: layers/pp each,
// and the remainder one more each on the stages before the last, from the second-to-last backwards
// (vLLM's default split, vllm/distributed/utils.py get_pp_indices; the last stage also runs the
// final norm and the logits head). 126 layers on 16 stages: 7, 8 x 14, 7 (Llama 3 405B's
// published split); 61 on 4: 15, 15, 16, 15; 32 on 3: 11, 11, 10. Needs 1 <= pp <= layers.
std::vector<int> InferenceStageLayers(int layers, int pp);

struct InferenceSetup {
  ModelCard model;
  hardware::GpuSpec gpu;
  // Weights and GEMM inputs; below 16 bits (fp8, int8, fp4) activations and their communication
  // stay in the card's 16-bit type, and the attention core runs in fp8 (or 16 bits without it).
  hardware::DataType dtype = hardware::DataType::kBf16;
  // The KV cache in fp8, one byte an element (vLLM's kv_cache_dtype fp8, TensorRT-LLM's FP8 KV
  // cache); else in the activations' type. Halves the KV bytes decode reads and stores.
  bool kv_cache_fp8 = false;
  // Expert parallelism, two ways (InferenceLayoutProblem says which layouts run):
  //  - ep <= tp: the routed experts split ep ways inside the tensor-parallel group, each expert's
  //    matrices tp/ep ways; every GPU of the group sees the same tokens. GPUs: tp x pp.
  //  - ep > tp, wide EP (DeepSeek-V3's decode: EP144 over 18 nodes; SGLang's EP72): attention,
  //    the dense and shared-expert MLPs and the logits run data-parallel in ep/tp groups of tp
  //    GPUs, each decoding its 1/(ep/tp) of the batch, and the routed experts spread over all ep
  //    GPUs, ceil(experts/ep) each (EPLB's redundant copies fill the remainder; the load is taken
  //    as balanced), fed by an all-to-all dispatch and combine over the ep GPUs (in each NVLink
  //    domain over NVLink, across them over the network). GPUs: ep x pp.
  int tp = 1, pp = 1, ep = 1;
  int batch = 1;  // the replica's, over all its attention groups
  int prompt_tokens = 1;
  int output_tokens = 1;
  PhaseActivity activity;
  // Where the pipeline hand-offs run: between stages in one NVLink domain (nvlink_domain / tp
  // stages each) over NVLink, between domains over the network at nic_bandwidth per GPU (one
  // direction) and link_latency a hop. Defaults: the scenario's cluster defaults (an HGX node,
  // 400 Gb/s NICs, 5 us).
  int nvlink_domain = 8;
  units::Bandwidth nic_bandwidth = units::GigabitsPerSecond(400);
  units::Duration link_latency = units::Microseconds(5);
  // Speculative decoding or MTP (workload/speculative.h); SpeculationProblem must be "".
  Speculation speculation;
  // Two-batch overlap (SGLang's TBO, DeepSeek's dual micro-batch overlap) of wide EP: each
  // attention group's sequences run as two micro-batches, one's all-to-all in flight while the
  // other computes (TwoBatchOverlapSeconds); TwoBatchOverlapProblem must be "".
  bool two_batch_overlap = false;
};

// Attention groups of a replica: ep/tp with wide EP (ep > tp), else 1.
int AttentionGroups(const InferenceSetup& s);
// GPUs of one replica: max(tp, ep) x pp.
int ReplicaGpus(const InferenceSetup& s);
// Why MLA's heads (ModelCard::mla) do not split over `tp`, or "" (services and `infer` ask).
std::string MlaTensorParallelProblem(const ModelCard& model, int tp);
// Why `model` cannot run on tp x pp x ep (the scenario's services and `firstwall infer` both
// ask), or "": ep > 1 needs experts; ep <= tp needs ep to divide
// the experts and tp; ep > tp needs ep to be a multiple of tp (ep may exceed the experts: the
// GPUs beyond them hold copies).
std::string InferenceLayoutProblem(const ModelCard& model, int tp, int pp, int ep);

// Why two-batch overlap cannot run on `s`'s layout, or "" (services and `infer` ask): it hides
// wide EP's all-to-all, so it needs ep > tp; pipeline parallelism beside it is not modelled.
std::string TwoBatchOverlapProblem(const InferenceSetup& s);

// One micro-batch's share of a MoE layer under two-batch overlap, seconds: the compute before
// the experts (attention, its projections, the shared experts, norms), the dispatch, the routed
// experts, the combine.
struct MicroBatchLayer {
  double attention_s = 0, dispatch_s = 0, experts_s = 0, combine_s = 0;
};

// `layers` identical layers of two micro-batches a and b (both > 0 layers' worth of work), the
// computations in order on the GPU's SMs (a's attention, b's attention, a's experts, b's
// experts, then the next layer) and the all-to-alls in order on the network (a's dispatch, b's
// dispatch, a's combine, b's combine), each starting when its input is ready and its resource
// free: the time from the first layer's start to the last combine's end. DeepEP's low-latency
// kernels move the tokens without SMs (RDMA from hooks), so the two overlap without slowing each
// other; with nothing to hide (no all-to-all) it is the computations' sum.
double TwoBatchOverlapSeconds(const MicroBatchLayer& a, const MicroBatchLayer& b, int layers);

struct InferenceEstimate {
  int gpus = 0;                  // ReplicaGpus
  units::Duration prefill_time;  // one prompt alone
  // Per output token of a sequence: one decode iteration at the batch, or with speculation the
  // step (verify + draft + host overhead) over the tokens it yields on average.
  units::Duration itl;
  double decode_tokens_per_s = 0;  // the replica
  // Speculation (all 1 / 0 without it): E, tokens a sequence gains per step (speculative.h);
  // the step's verify pass (kernels and communication of the target at gamma + 1 rows a
  // sequence, host overhead included) and its drafting (gamma passes of the drafter), seconds.
  double tokens_per_step = 1;
  units::Duration step_time, verify_time, draft_time;
  units::DataSize draft_weights_per_gpu;  // of the drafting model (in weights_per_gpu too)
  units::Power gpu_power;                 // average per GPU during decode
  double energy_per_token_j = 0;          // GPU energy of the replica per output token
  units::DataSize weights_per_gpu;
  // Per GPU of the most loaded stage, for its attention group's batch / AttentionGroups sequences
  // at full length (P + O).
  units::DataSize kv_cache_bytes;
  // Per GPU holding the token: the layers of the most loaded stage, the GPU's K/V heads or, with
  // MLA, the whole latent (each tensor-parallel rank keeps all of it).
  units::DataSize kv_bytes_per_token;
  units::DataSize memory_per_gpu;
  bool fits_in_memory = false;
  std::vector<int> layers_per_stage;  // InferenceStageLayers: pp entries, first to last
  // One layer, forward times (communication included); with two-batch overlap, one micro-batch's.
  std::vector<OpCost> decode_ops;
  // Two-batch overlap: the kernel and communication seconds of a decode iteration that ran at the
  // same time (in its verify pass; 0 without overlap), and the micro-batches each attention
  // group's sequences ran as (1 without overlap or with one sequence a group).
  units::Duration overlapped_time;
  int micro_batches = 1;
  double model_matrix_params_per_layer = 0;  // active weights a token goes through per layer
};

InferenceEstimate EstimateInference(const InferenceSetup& s);

// The drafter of s.speculation (kDraft or kMtp) as a replica of its own on the same GPUs: the
// draft model (or MTP module), no speculation, expert parallelism only for a MoE drafter.
InferenceSetup DraftSetup(const InferenceSetup& s);

// One engine iteration of continuous batching: prefill chunks and decoding sequences together.
struct IterationBatch {
  int tokens = 0;               // through the GEMMs: prefill chunk tokens + one per decode
  int sampled = 0;              // sequences producing a token (rows of the logits)
  double decode_kv_tokens = 0;  // sum over decoding sequences of the context each reads
  double prefill_pairs = 0;     // causal attention pairs of the chunks: sum of c x (cached + c/2)
  // Score-matrix entries of the chunks, masked half included: sum of c x (cached + c). What
  // unfused attention (a GPU without FlashAttention) computes and stores.
  double prefill_scores = 0;
  // Read with wide EP only: the chunks' tokens and the largest chunk's. A prompt runs on one
  // attention group, the decodes spread evenly, and the busiest group paces the iteration.
  int prefill_tokens = 0;
  int largest_chunk = 0;
};

struct IterationCost {
  double kernels_s = 0;   // GEMMs, attention, norms, logits
  double comm_s = 0;      // TP all-reduces, EP all-to-alls, pipeline hand-offs
  double overhead_s = 0;  // host side (kIterationOverhead)
  // Two-batch overlap: seconds of kernels and communication that ran at the same time, counted
  // in both kernels_s and comm_s (0 without it).
  double overlapped_s = 0;
  // Kernel seconds weighted by the fraction of peak HBM bandwidth (hbm_s) and of peak tensor
  // FLOP/s (tensor_s) each kernel achieves: the terms of the power model (PhaseActivity).
  double hbm_s = 0, tensor_s = 0;
  double activity = 0;  // average GPU activity over the iteration
  double seconds() const { return kernels_s + comm_s + overhead_s - overlapped_s; }
};

// The average activity over `c`'s time under `a` (PhaseActivity's serving terms), at most 1.
double IterationActivity(const IterationCost& c, const PhaseActivity& a);

// The first token of a prompt whose first `cached` tokens' K/V sit in an offload tier (host DRAM or
// CXL memory, services[].engine.kv_offload): read back over each GPU's link of
// `link_bytes_per_s` (one direction), then the other tokens prefilled after them, against
// prefilling the whole prompt; both as one engine iteration (IterationModel, its host overhead
// included). With wide EP the read goes to the prompt's attention group.
struct CachedPrefixEstimate {
  int tokens = 0;
  double link_bytes_per_s = 0, read_s = 0, prefill_s = 0, recompute_s = 0;
  double ttft_s() const { return read_s + prefill_s; }
};
CachedPrefixEstimate EstimateCachedPrefix(const InferenceSetup& s, int cached,
                                          double link_bytes_per_s);

// Iteration times of one replica for any mixed batch, from the same operators as
// EstimateInference. The operators whose cost depends only on the token count are tabulated once
// for 1..max_tokens tokens, so an iteration costs a few lookups (the serving simulation evaluates
// millions). Each kernel's activity follows from its HBM bytes and FLOPs over its time
// (PhaseActivity).
class IterationModel {
 public:
  IterationModel(const InferenceSetup& s, int max_tokens);
  IterationCost Cost(const IterationBatch& b) const;
  int max_tokens() const { return max_tokens_; }
  const InferenceSetup& setup() const { return setup_; }
  int gpus() const { return ReplicaGpus(setup_); }
  // K and V of one token per GPU of the most loaded stage, over the replica's GPUs: the GPUs of
  // the attention group that holds the token hold InferenceEstimate::kv_bytes_per_token each, so
  // with wide EP this is that over AttentionGroups (the groups taken as evenly loaded).
  double kv_bytes_per_token() const { return kv_bytes_per_token_; }
  // The K and V all GPUs of the replica hold for one token over kv_bytes_per_token() x gpus():
  // the model's layers over pp x the most loaded stage's, 1 when pp divides the layers.
  double kv_stored_fraction() const { return kv_stored_fraction_; }
  double weights_per_gpu_bytes() const { return weights_bytes_; }

 private:
  InferenceSetup setup_;
  int max_tokens_ = 0;
  double kv_bytes_per_token_ = 0, weights_bytes_ = 0, kv_stored_fraction_ = 1;
  double paced_layers_ = 0;             // pp x the most layers a stage holds
  double kv_read_bytes_per_token_ = 0;  // per layer and GPU, one sequence's context token
  int groups_ = 1;                      // AttentionGroups
  bool two_batch_ = false;              // InferenceSetup::two_batch_overlap
  // Wide EP: the routed experts by the replica's tokens (the other tables are then by the
  // busiest attention group's tokens).
  std::vector<double> expert_kernels_, expert_hbm_, expert_tensor_;
  std::vector<double> a2a_;              // two-batch overlap: of comm_, the all-to-all's
  double attention_flops_per_pair_ = 0;  // prefill's, per layer and GPU
  double decode_flops_per_pair_ = 0;     // decode's: a context token of one sequence
  // Index t: t tokens. Kernel time, its HBM- and tensor-weighted seconds, communication time, the
  // paced layers; the logits of t rows.
  std::vector<double> kernels_, hbm_, tensor_, comm_, logits_, logits_hbm_, logits_tensor_;
  double attention_overhead_s_ = 0;  // per layer: one FlashAttention kernel, or the unfused three
  bool flash_ = true;
  double unfused_seconds_per_score_ = 0;  // per layer
  double gemm_flops_per_s_ = 0;           // the GEMM model's ceiling
  double hbm_bytes_per_s_ = 0, attention_flops_per_s_ = 0;
  double peak_hbm_bytes_per_s_ = 0, peak_flops_per_s_ = 0;
};

}  // namespace firstwall::workload
