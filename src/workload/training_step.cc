#include "workload/training_step.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace firstwall::workload {
using hardware::Collective;
using hardware::CollectiveTime;
using hardware::GemmTime;
using namespace units;

namespace {

constexpr double kAttentionBackwardEfficiency = 0.50;

// The attention kernel the setup runs on its GPU.
AttentionKernel Attention(const TrainingSetup& s) { return AttentionOn(s.gpu, s.attention); }
// Adam with fp32 master weights: read param, grad, m, v (16 B), write param, m, v (12 B), write the
// 16-bit copy (2 B).
constexpr double kAdamBytesPerParam = 30;
// fp16 training's dynamic loss scaling (Micikevicius et al., ICLR 2018): the optimizer first
// unscales the fp32 main gradients in place and checks them for inf/NaN (Megatron-LM's
// _unscale_main_grads_and_check_for_nan), reading and writing 4 bytes per parameter. Steps skipped
// on overflow (about one per loss-scale window of 1000 steps once the scale settles) are left out.
constexpr double kLossScaleBytesPerParam = 8;
// fp32 main gradients (Megatron-LM accumulates and reduces bf16 training's gradients in fp32).
constexpr double kGradBytes = 4;
constexpr double kWeightBytes = 2;
constexpr double kAdamStateBytes = 12;  // fp32 master weights, momentum and variance

struct Timing {
  double fwd = 0, bwd = 0;        // compute of one layer, forward and backward, seconds
  double attn_fwd = 0;            // of which the attention core, forward
  double tp_fwd = 0, tp_bwd = 0;  // TP communication per layer
  double cp = 0, ep_fwd = 0, ep_bwd = 0;
  // Forward FLOPs the operators execute (the hardware count: the unfused kernels' full score
  // matrix included); backward executes twice these. Of which the attention core, and the routed
  // experts (on the GPU timed: its slowest expert's rows, expert_imbalance x the mean).
  double flops = 0, attn_flops = 0, expert_flops = 0;
  double max_ceiling = 0;              // the highest FLOP/s ceiling among the operators
  std::vector<OpCost>* ops = nullptr;  // when set, every operator is recorded here

  // One operator: `flops` and `bytes` forward, f and b seconds forward and backward. An operator
  // with FLOPs names its own ceiling (FLOP/s: the GEMM model's e_max x peak, the attention core's
  // efficiency x peak); running above it, forward or backward, is a bug of the model.
  void Record(std::string name, double flops_fwd, double bytes, double f, double b,
              double ceiling_flop_per_s = 0) {
    if (flops_fwd > 0) {
      constexpr double kRounding = 1 + 1e-9;
      FW_CHECK(ceiling_flop_per_s > 0 && flops_fwd <= ceiling_flop_per_s * f * kRounding &&
                   2 * flops_fwd <= ceiling_flop_per_s * b * kRounding,
               name + " runs above its FLOP/s ceiling");
      flops += flops_fwd;
      max_ceiling = std::max(max_ceiling, ceiling_flop_per_s);
    }
    if (ops) ops->push_back({std::move(name), flops_fwd, bytes, Seconds(f), Seconds(b)});
  }
  // Adds the operators of `part` (timed into a Timing of their own).
  void Add(const Timing& part) {
    fwd += part.fwd;
    bwd += part.bwd;
    flops += part.flops;
    max_ceiling = std::max(max_ceiling, part.max_ceiling);
  }
};

double Sec(Duration d) { return ToSeconds(d); }

struct Shapes {
  double t;   // tokens per micro-batch per GPU
  double be;  // bytes per element of activations and weights in the math
};

// GEMM forward and its two backward GEMMs (data gradient and weight gradient).
void AddGemm(const TrainingSetup& s, const char* name, double m, double n, double k, double count,
             Timing& t) {
  const auto& g = s.gpu;
  const hardware::GemmModel gm = g.GemmFor(s.dtype);
  const FlopRate peak = *g.Peak(s.dtype);
  const double be = hardware::BytesPerElement(s.dtype);
  const double f = count * Sec(GemmTime(gm, m, n, k, be, peak, g.hbm_bandwidth));
  const double b = count * (Sec(GemmTime(gm, m, k, n, be, peak, g.hbm_bandwidth)) +
                            Sec(GemmTime(gm, k, n, m, be, peak, g.hbm_bandwidth)));
  t.fwd += f;
  t.bwd += b;
  t.Record(name, count * 2.0 * m * n * k, count * (m * k + k * n + m * n) * be, f, b,
           gm.max_efficiency * ToFlopPerSecond(peak));
}

// fp8 training (Transformer Engine style) casts GEMM inputs to fp8 but keeps activations, their
// communication and the attention core in bf16; NVFP4 training (NVIDIA, "Pretraining large
// language models with NVFP4", arXiv:2509.25149, 2025) does the same with 4-bit GEMM inputs.
double ActivationBytes(hardware::DataType t) {
  return hardware::IsNarrow(t) ? 2.0 : hardware::BytesPerElement(t);
}
hardware::DataType AttentionType(const hardware::GpuSpec& g, hardware::DataType t) {
  return hardware::IsNarrow(t) ? g.SixteenBitType().value_or(t) : t;
}

Timing LayerTiming(const TrainingSetup& s, int b, const hardware::CollectiveModel& net,
                   std::vector<OpCost>* ops) {
  const ModelCard& m = s.model;
  const auto& g = s.gpu;
  const FlopRate peak = *g.Peak(AttentionType(g, s.dtype));
  const double be = ActivationBytes(s.dtype);
  const double h = m.hidden_size, tp = s.tp;
  const double T = static_cast<double>(b) * s.sequence_length / s.cp;
  const double hd = m.HeadDim();
  const double q_dim = static_cast<double>(m.attention_heads) * hd;
  Timing t;
  t.ops = ops;

  // Attention projections.
  AddGemm(s, "qkv_proj", T, (q_dim + 2 * m.KvDim()) / tp, h, 1, t);
  AddGemm(s, "attn_out_proj", T, h, q_dim / tp, 1, t);
  // Attention core: QK^T and PV over the full context (every CP rank's queries meet all keys).
  double attn_f = 0, attn_b = 0;
  if (Attention(s) == AttentionKernel::kFlash) {
    // Causal: half the blocks are computed; the backward keeps the forward's ratio to
    // FlashAttention-2 (a FlashAttention 1.x GPU is slower both ways).
    const double attn_flops = 4.0 * T * s.sequence_length * q_dim / tp * 0.5;
    const double fwd_eff = FlashAttentionForwardEfficiency(g);
    const double bwd_eff = kAttentionBackwardEfficiency * fwd_eff / kAttentionForwardEfficiency;
    attn_f = attn_flops / (ToFlopPerSecond(peak) * fwd_eff);
    attn_b = 2.0 * attn_flops / (ToFlopPerSecond(peak) * bwd_eff);
    // Q, K, V read and the output written once.
    const double io = T * (2.0 * q_dim + 2.0 * m.KvDim()) / tp * be;
    t.Record("flash_attention", attn_flops, io, attn_f, attn_b,
             ToFlopPerSecond(peak) * kAttentionForwardEfficiency);
    t.attn_flops = attn_flops;
  } else {
    // Batched GEMMs per sequence and head over the whole score matrix (their own reads and writes
    // of it are in the GEMM model), and the passes between them through HBM: the fused
    // scale-mask-softmax reads scores and writes probabilities (4 bytes per score), dropout reads
    // them and writes the result and a 1-byte mask (5 bytes); backward, dropout reads the gradient
    // and mask and writes (5 bytes), softmax reads probabilities and gradient and writes (6 bytes).
    const double seq = s.sequence_length;
    const double batches = static_cast<double>(b) * m.attention_heads / tp;
    Timing core;
    core.ops = ops;
    TrainingSetup attention_setup = s;
    attention_setup.dtype = AttentionType(g, s.dtype);
    AddGemm(attention_setup, "attn_scores_qk", seq / s.cp, seq, hd, batches, core);
    AddGemm(attention_setup, "attn_values_pv", seq / s.cp, hd, seq, batches, core);
    const double scores = batches * seq / s.cp * seq;
    const double sm_f = Sec(hardware::StreamTime(g.gemm, Bytes(9.0 * scores), g.hbm_bandwidth));
    const double sm_b = Sec(hardware::StreamTime(g.gemm, Bytes(11.0 * scores), g.hbm_bandwidth));
    t.Record("attn_softmax_dropout", 0, 9.0 * scores, sm_f, sm_b);
    attn_f = core.fwd + sm_f;
    attn_b = core.bwd + sm_b;
    t.flops += core.flops;
    t.attn_flops = core.flops;
    t.max_ceiling = std::max(t.max_ceiling, core.max_ceiling);
  }
  t.fwd += attn_f;
  t.bwd += attn_b;
  t.attn_fwd = attn_f;

  // MLP: dense, or router + routed experts + shared experts.
  const double gate = m.ffn_type == FfnType::kSwiglu ? 2.0 : 1.0;
  double act_elements = 0;  // activation-function inputs per token on this GPU
  if (!m.IsMoe()) {
    AddGemm(s, "mlp_up_proj", T, gate * m.ffn_hidden_size / tp, h, 1, t);
    AddGemm(s, "mlp_down_proj", T, h, m.ffn_hidden_size / tp, 1, t);
    act_elements = gate * m.ffn_hidden_size / tp;
  } else {
    const double e = m.moe.experts, k = m.moe.top_k, f = m.moe.expert_ffn_hidden_size;
    AddGemm(s, "moe_router", T, e, h, 1, t);
    const double local_experts = e / s.ep;
    const double rows = T * s.ep * k / e * s.expert_imbalance;  // tokens of one local expert
    Timing experts;
    experts.ops = ops;
    AddGemm(s, "expert_up_proj", rows, gate * f / tp, h, local_experts, experts);
    AddGemm(s, "expert_down_proj", rows, h, f / tp, local_experts, experts);
    t.Add(experts);
    t.expert_flops = experts.flops;
    if (m.moe.shared_experts > 0) {
      AddGemm(s, "shared_expert_up_proj", T, gate * f * m.moe.shared_experts / tp, h, 1, t);
      AddGemm(s, "shared_expert_down_proj", T, h, f * m.moe.shared_experts / tp, 1, t);
    }
    act_elements = gate * f * (k + m.moe.shared_experts) / tp;
    // All-to-all dispatch and combine of each token's hidden state to its top_k experts.
    if (s.ep > 1) {
      const int local = std::max(1, std::min(s.ep, s.nvlink_domain / (s.tp * s.cp)));
      const DataSize msg = Bytes(T * k * h * be);
      const double a2a =
          Sec(CollectiveTime(hardware::WithStride(Scaled(net, s.traffic.ep), s.tp * s.cp),
                             Collective::kAllToAll, msg, s.ep, local));
      t.ep_fwd = 2 * a2a;
      t.ep_bwd = 2 * a2a;
      t.Record("ep_all_to_all", 0, 2.0 * ToBytes(msg), t.ep_fwd, t.ep_bwd);
    }
  }

  // Norms, residuals, dropout (split by TP only with sequence parallelism) and the activation.
  const double split = s.sequence_parallel ? tp : 1.0;
  // Eager frameworks run more, unfused kernels (kEagerExtra*): a cost per element, so it weighs
  // most where h is small beside the h^2 of the GEMMs, and per launch, where a GPU's share of a
  // layer is small. The extra elements are split by tp: much of that work (rotary, activation,
  // casts) is on head- or ffn-sharded tensors, and eager frameworks that use tensor parallelism
  // (TorchTitan, NeMo) shard the norms by sequence; calibrated without tensor parallelism.
  const bool eager = s.layer_kernels == LayerKernels::kEager;
  const double extra = eager ? s.eager_extra_elements / tp : 0.0;
  const double kernels = kElementwiseKernelsPerLayer + (eager ? kEagerExtraKernelsPerLayer : 0.0);
  const double stream_bytes =
      be * T * ((kElementwiseElementsPerHidden / split + extra) * h + 3.0 * act_elements);
  const double stream_s = Sec(hardware::StreamTime(g.gemm, Bytes(stream_bytes), g.hbm_bandwidth)) +
                          kernels * Sec(g.gemm.overhead);
  t.fwd += stream_s;
  t.bwd += 2 * stream_s;
  t.Record("norms_residual_activation", 0, stream_bytes, stream_s, 2 * stream_s);

  // Tensor parallelism: 2 all-reduces forward, 2 backward (all-gather + reduce-scatter pairs with
  // sequence parallelism, the same volume).
  if (s.tp > 1) {
    const DataSize act = Bytes(T * h * be);
    const hardware::CollectiveModel tp_net = Scaled(net, s.traffic.tp);
    double one;
    if (s.sequence_parallel) {
      one = Sec(CollectiveTime(tp_net, Collective::kAllGather, act / tp, s.tp, s.tp)) +
            Sec(CollectiveTime(tp_net, Collective::kReduceScatter, act, s.tp, s.tp));
    } else {
      one = Sec(CollectiveTime(tp_net, Collective::kAllReduce, act, s.tp, s.tp));
    }
    t.tp_fwd = 2 * one;
    t.tp_bwd = 2 * one;
    t.Record(s.sequence_parallel ? "tp_all_gather_reduce_scatter" : "tp_all_reduce", 0,
             2.0 * ToBytes(act), t.tp_fwd, t.tp_bwd);
  }

  // Context parallelism: pass (cp - 1) K/V blocks around the ring, forward; K/V and their gradients
  // backward. Overlapped with the attention core; only the excess is exposed.
  if (s.cp > 1) {
    const int local = std::max(1, std::min(s.cp, s.nvlink_domain / s.tp));
    const DataSize kv = Bytes(T * 2 * m.KvDim() / tp * be);
    const double step = Sec(hardware::P2pTime(Scaled(net, s.traffic.cp), kv, local == s.cp));
    const double comm_f = (s.cp - 1) * step, comm_b = 2 * (s.cp - 1) * step;
    t.cp = std::max(0.0, comm_f - attn_f) + std::max(0.0, comm_b - attn_b);
    t.Record("cp_ring_kv_exposed", 0, (s.cp - 1) * ToBytes(kv), std::max(0.0, comm_f - attn_f),
             std::max(0.0, comm_b - attn_b));
  }
  return t;
}

// Parameters held by one GPU of pipeline stage `stage` holding `layers` transformer layers: the
// first stage also holds the input embedding, the last the output projection (a copy of the
// embedding when tied, whose gradients Megatron-LM all-reduces between the two); a single stage
// holds both, one copy when tied.
double StageParams(const TrainingSetup& s, int stage, int layers) {
  const ModelCard& m = s.model;
  double per_layer = m.AttentionParams() / s.tp;
  if (m.IsMoe()) {
    per_layer += static_cast<double>(m.hidden_size) * m.moe.experts +
                 (static_cast<double>(m.moe.experts) / s.ep + m.moe.shared_experts) *
                     m.MlpParams(m.moe.expert_ffn_hidden_size) / s.tp;
  } else {
    per_layer += m.MlpParams(m.ffn_hidden_size) / s.tp;
  }
  const double embedding = static_cast<double>(m.vocab_size) * m.hidden_size / s.tp;
  int embeddings = 0;
  if (stage == 0) ++embeddings;
  if (stage == s.pp - 1 && (s.pp > 1 || !m.tied_embeddings)) ++embeddings;
  return layers * per_layer + embeddings * embedding;
}

// Activation bytes one layer keeps for backward, per micro-batch (Korthikanti et al. 2022, eq. 1-4,
// generalized: attention keeps its LayerNorm input, QKV input, Q/K/V, the FlashAttention output and
// statistics, the projection input and a dropout mask; the MLP its LayerNorm input, up-projection
// input, activation input and output, and a dropout mask).
double LayerActivationBytes(const TrainingSetup& s, int b, Recompute r) {
  const ModelCard& m = s.model;
  const double h = m.hidden_size, tp = s.tp;
  const double tokens = static_cast<double>(b) * s.sequence_length / s.cp;
  const double gate = m.ffn_type == FfnType::kSwiglu ? 2.0 : 1.0;
  if (r == Recompute::kFull) {
    return 2.0 * tokens * h / (s.sequence_parallel ? tp : 1.0);  // the layer input only
  }
  double ffn = m.ffn_hidden_size, mlp_tokens = 1.0;
  if (m.IsMoe()) {
    ffn = m.moe.expert_ffn_hidden_size;
    mlp_tokens = m.moe.top_k + m.moe.shared_experts;
  }
  // 2-byte elements; replicated across TP without sequence parallelism: the two LayerNorm inputs,
  // two dropout masks (1 byte) and the residual stream (Korthikanti's "10 s b h").
  const double replicated = 10.0 * h;
  const double split = 2.0 * (h + 2.0 * m.KvDim()) /*Q,K,V*/ + 2.0 * h /*QKV input*/ +
                       2.0 * h /*attention output*/ + 2.0 * h /*projection input*/ +
                       mlp_tokens * (2.0 * h + 2.0 * gate * ffn + 2.0 * ffn) /*MLP*/;
  const double per_token = (s.sequence_parallel ? replicated / tp : replicated) + split / tp;
  // Unfused attention keeps the softmax output, its dropout mask and the dropped-out probabilities:
  // 5 bytes per score (Korthikanti's "5 a s / h" term). Selective recomputation recomputes them;
  // FlashAttention never stores them.
  double scores = 0;
  if (Attention(s) == AttentionKernel::kUnfused && r == Recompute::kNone) {
    scores = 5.0 * m.attention_heads / tp * s.sequence_length;
  }
  return tokens * (per_token + scores);
}

// Micro-batches whose activations stage `stage` keeps at its peak: pp - stage under 1F1B (the
// warm-up forwards and the one in progress); interleaved, Megatron-LM's warm-up of 2 (pp - stage -
// 1) + (vpp - 1) pp virtual-stage forwards plus one, in units of the stage's vpp virtual stages
// (for the first stage pp (1 + (pp-1)/(pp vpp)), Korthikanti et al. 2022 sec. 4.2). Never more
// than the micro-batches there are.
double InFlight(const TrainingSetup& s, int stage, int micro_batches) {
  const double warm = s.vpp > 1 ? s.pp + (s.pp - 1.0 - 2.0 * stage) / s.vpp : s.pp - stage;
  return std::min<double>(micro_batches, warm);
}

MemoryBreakdown StageMemory(const TrainingSetup& s, int stage, int layers, int b, Recompute r,
                            int micro_batches) {
  const ModelCard& m = s.model;
  const double params = StageParams(s, stage, layers);
  MemoryBreakdown mem;
  const double dp = s.dp;
  mem.weights = Bytes(params * kWeightBytes / (s.zero >= 3 ? dp : 1.0));
  mem.gradients = Bytes(params * kGradBytes / (s.zero >= 2 ? dp : 1.0));
  mem.optimizer = Bytes(params * kAdamStateBytes / (s.zero >= 1 ? dp : 1.0));
  double act = LayerActivationBytes(s, b, r) * layers * InFlight(s, stage, micro_batches);
  // The last stage's logits in fp32, one micro-batch at a time.
  if (stage == s.pp - 1) {
    const double tokens = static_cast<double>(b) * s.sequence_length / s.cp;
    act += tokens * m.vocab_size / s.tp * 4.0;
  }
  mem.activations = Bytes(act);
  mem.reserved = kRuntimeReserved;
  return mem;
}

// Transformer layers on each stage: as given, an even split, or balanced by stage time.
std::vector<int> StageLayers(const TrainingSetup& s, double layer_s, double first_s,
                             double last_s) {
  if (!s.layers_per_stage.empty()) return s.layers_per_stage;
  if (s.model.layers % (s.pp * s.vpp) == 0) {
    return std::vector<int>(static_cast<size_t>(s.pp), s.model.layers / s.pp);
  }
  return BalanceStages(s.model.layers, s.pp, s.vpp, layer_s, first_s, last_s);
}

StepEstimate Evaluate(const TrainingSetup& s, int b, Recompute r, bool with_ops) {
  const ModelCard& m = s.model;
  const auto& g = s.gpu;
  const FlopRate peak = *g.Peak(s.dtype);
  const hardware::CollectiveModel net = CollectivesFor(s);
  const int gpus = GpuCount(s);
  const int micro = s.global_batch / (s.dp * b);
  const double act_be = ActivationBytes(s.dtype);

  StepEstimate e;
  const Timing lt = LayerTiming(s, b, net, with_ops ? &e.layer_ops : nullptr);
  const double recompute_fwd = r == Recompute::kFull        ? lt.fwd + lt.tp_fwd + lt.ep_fwd
                               : r == Recompute::kSelective ? lt.attn_fwd
                                                            : 0.0;
  // Last stage: the logits GEMM and the cross-entropy (fp32 logits read and written).
  const double T = static_cast<double>(b) * s.sequence_length / s.cp;
  Timing head;
  head.ops = with_ops ? &e.head_ops : nullptr;
  AddGemm(s, "logits", T, static_cast<double>(m.vocab_size) / s.tp, m.hidden_size, 1, head);
  const double xent_bytes = 3.0 * T * m.vocab_size / s.tp * 4.0;
  const double xent = Sec(hardware::StreamTime(g.gemm, Bytes(xent_bytes), g.hbm_bandwidth));
  head.Record("cross_entropy", 0, xent_bytes, xent, xent);
  const double head_s = head.fwd + head.bwd + 2 * xent;
  // First stage: the embedding lookup, vocabulary-parallel as in Megatron-LM (each TP rank gathers
  // the rows of its share of the vocabulary, read and written; the partial rows are then summed
  // over TP like a layer's output, one of its two reductions per forward); backward scatter-adds
  // the gradient rows into the fp32 main gradient (read the gradient, read and write the rows).
  Timing emb;
  emb.ops = with_ops ? &e.embedding_ops : nullptr;
  const double h = m.hidden_size;
  const double gather_bytes = 2.0 * T * h * act_be;
  const double scatter_bytes = T * h * (act_be + 2.0 * kGradBytes);
  const double gather_s = Sec(hardware::StreamTime(g.gemm, Bytes(gather_bytes), g.hbm_bandwidth));
  const double scatter_s = Sec(hardware::StreamTime(g.gemm, Bytes(scatter_bytes), g.hbm_bandwidth));
  emb.Record("embedding_lookup", 0, gather_bytes, gather_s, scatter_s);
  const double emb_compute = gather_s + scatter_s;
  const double emb_tp = lt.tp_fwd / 2;
  if (s.tp > 1) emb.Record("embedding_tp_reduce", 0, T * h * act_be, emb_tp, 0);

  // One layer per micro-batch: compute and each exposed communication.
  const double layer_compute = lt.fwd + lt.bwd + (r == Recompute::kFull ? lt.fwd : recompute_fwd);
  const double layer_tp = lt.tp_fwd + lt.tp_bwd + (r == Recompute::kFull ? lt.tp_fwd : 0);
  // Expert all-to-all of one micro-batch, forward and backward chunks (full recomputation repeats
  // the forward's inside the backward chunk).
  const double ep_f = lt.ep_fwd, ep_b = lt.ep_bwd + (r == Recompute::kFull ? lt.ep_fwd : 0);
  const double layer_ep = m.IsMoe() ? ep_f + ep_b : 0;
  // With DualPipe-style overlap a micro-batch's forward chunk is paired with another's backward:
  // per layer, exposed = max(0, a_f - C_b) + max(0, a_b - C_f) with C the paired chunk's compute,
  // plus the SM share the hidden part takes from that compute. The first forward and the last
  // backward chunk of the step have no partner: one micro-batch's worth stays fully exposed.
  double layer_ep_paired = layer_ep;
  if (s.ep_overlap == EpOverlap::kDualPipe && layer_ep > 0 && micro > 1) {
    const double compute_f = lt.fwd;
    const double compute_b = lt.bwd + (r == Recompute::kFull ? lt.fwd : recompute_fwd);
    const double exposed = std::max(0.0, ep_f - compute_b) + std::max(0.0, ep_b - compute_f);
    const double hidden = ep_f + ep_b - exposed;
    layer_ep_paired = exposed + kEpOverlapSmShare * hidden;
  }
  const double layer_s = layer_compute + layer_tp + layer_ep_paired + lt.cp;
  const double emb_s = emb_compute + emb_tp;
  e.layers_per_stage = StageLayers(s, layer_s, emb_s, head_s);
  const std::vector<int>& n = e.layers_per_stage;
  auto stage_s = [&](int i) {
    return n[i] * layer_s + (i == 0 ? emb_s : 0.0) + (i == s.pp - 1 ? head_s : 0.0);
  };
  for (int i = 1; i < s.pp; ++i) {
    if (stage_s(i) >= stage_s(e.slowest_stage)) e.slowest_stage = i;
  }
  // One micro-batch through the slowest stage, which paces 1F1B's steady state and its bubble.
  const int slow = e.slowest_stage;
  const double layers = n[slow];
  const bool first = slow == 0, last = slow == s.pp - 1;
  const double mb_compute =
      layers * layer_compute + (first ? emb_compute : 0.0) + (last ? head_s : 0.0);
  const double mb_tp = layers * layer_tp + (first ? emb_tp : 0.0);
  const double mb_ep = layers * layer_ep;
  const double mb_ep_paired = layers * layer_ep_paired;
  const double mb_cp = layers * lt.cp;
  const double mb_total = mb_compute + mb_tp + mb_ep_paired + mb_cp;

  e.gpus = gpus;
  e.micro_batch = b;
  e.micro_batches = micro;
  e.recompute = r;
  StepBreakdown& bd = e.breakdown;
  bd.compute = Seconds(micro * mb_compute);
  bd.tp_comm = Seconds(micro * mb_tp);
  bd.ep_comm = Seconds((micro - 1) * mb_ep_paired + mb_ep);
  e.ep_comm_total = Seconds(micro * mb_ep);
  bd.cp_comm = Seconds(micro * mb_cp);
  if (s.pp > 1) {
    bd.pp_bubble = Seconds((s.pp - 1.0) / s.vpp * mb_total);
    // Activations forward and their gradients backward, once per micro-batch and virtual stage.
    const bool same_node = 2 * s.tp * s.cp * s.dp <= s.nvlink_domain;
    const DataSize act = Bytes(T * m.hidden_size * act_be / (s.sequence_parallel ? s.tp : 1));
    bd.pp_p2p =
        hardware::P2pTime(Scaled(net, s.traffic.pp), act, same_node) * (2.0 * micro * s.vpp);
  }
  // After the last backward, each stage reduces its gradients over data parallelism (overlapped
  // with that backward) and runs the optimizer over its parameters; the step ends with the stage
  // that takes longest at this.
  double tail = -1;
  for (int i = 0; i < s.pp; ++i) {
    const double params = StageParams(s, i, n[i]);
    double dp_s = 0;
    if (s.dp > 1) {
      const int local = std::max(1, std::min(s.dp, s.nvlink_domain / (s.tp * s.cp)));
      const DataSize grads = Bytes(params * kGradBytes);
      const DataSize weights = Bytes(params * kWeightBytes);
      const hardware::CollectiveModel dp_net =
          hardware::WithStride(Scaled(net, s.traffic.dp), s.tp * s.cp);
      if (s.zero == 0) {
        dp_s = Sec(CollectiveTime(dp_net, Collective::kAllReduce, grads, s.dp, local));
      } else {
        dp_s = Sec(CollectiveTime(dp_net, Collective::kReduceScatter, grads, s.dp, local)) +
               Sec(CollectiveTime(dp_net, Collective::kAllGather, weights, s.dp, local));
      }
      if (s.zero >= 3) {
        dp_s +=
            2.0 * micro * Sec(CollectiveTime(dp_net, Collective::kAllGather, weights, s.dp, local));
      }
    }
    // Overlap with the backward pass of the last micro-batch through this stage.
    const double window = s.overlap_grad_reduce ? n[i] * lt.bwd : 0.0;
    const Duration exposed = Seconds(std::max(0.0, dp_s - window));
    const double opt_params = params / (s.zero >= 1 ? s.dp : 1.0);
    const double loss_scale = s.dtype == hardware::DataType::kFp16 ? kLossScaleBytesPerParam : 0.0;
    const Duration optimizer = hardware::StreamTime(
        g.gemm, Bytes(opt_params * (kAdamBytesPerParam + loss_scale)), g.hbm_bandwidth);
    if (Sec(exposed + optimizer) > tail) {
      tail = Sec(exposed + optimizer);
      bd.dp_comm_exposed = exposed;
      bd.optimizer = optimizer;
      e.dp_comm_total = Seconds(dp_s);
    }
  }

  e.step_time = bd.compute + bd.tp_comm + bd.pp_bubble + bd.pp_p2p + bd.dp_comm_exposed +
                bd.cp_comm + bd.ep_comm + bd.optimizer;
  e.tokens_per_step = static_cast<double>(s.global_batch) * s.sequence_length;
  // Model FLOPs: forward and backward (2x) of the work the model needs, causal attention as half
  // the score matrix (docs/models.md, "FLOP accounting"). Hardware FLOPs: what the operators
  // execute, the same causal count for FlashAttention, the full matrix for unfused kernels, plus
  // recomputation (full: the layers' forward again; selective: the attention core); backward is
  // twice the forward of every operator (FlashAttention's own recomputation of the scores in its
  // backward kernel is not counted, as in the MFU conventions cited).
  e.model_flops = Flop(3.0 * m.ForwardFlopsPerToken(s.sequence_length) * e.tokens_per_step);
  const double recomputed_flops = r == Recompute::kFull        ? lt.flops
                                  : r == Recompute::kSelective ? lt.attn_flops
                                                               : 0.0;
  // All GPUs, experts at their mean load; the head on the last stage's gpus / pp GPUs.
  const double balance = lt.expert_flops * (1 - 1 / s.expert_imbalance);
  const double layer_mean =
      3 * (lt.flops - balance) + recomputed_flops - (r == Recompute::kFull ? balance : 0.0);
  e.hardware_flops =
      Flop(micro * static_cast<double>(gpus) / s.pp * (m.layers * layer_mean + 3 * head.flops));
  e.mfu = e.model_flops / (peak * e.step_time) / gpus;
  e.model_flop_rate_per_gpu = e.model_flops / e.step_time / gpus;
  e.hfu = e.hardware_flops / (peak * e.step_time) / gpus;
  // The busiest GPU: the stage that executes most (its layers, the head on the last), its slowest
  // expert. With uneven stages it need not be the stage that sets the step time.
  double busiest_flops = 0;
  for (int i = 0; i < s.pp; ++i) {
    busiest_flops = std::max(busiest_flops, micro * (n[i] * (3 * lt.flops + recomputed_flops) +
                                                     (i == s.pp - 1 ? 3 * head.flops : 0.0)));
  }
  e.achieved_flop_rate_per_gpu = Flop(busiest_flops) / e.step_time;
  // The invariant: no GPU computes faster than its ceilings allow. Each operator is held under its
  // own ceiling (Timing::Record), and every GPU's step contains all of its operators' time, so the
  // busiest GPU runs under the highest ceiling; the model FLOPs never exceed the executed ones.
  const double ceiling = std::max(lt.max_ceiling, head.max_ceiling);
  constexpr double kRounding = 1 + 1e-9;
  FW_CHECK(ToFlopPerSecond(e.achieved_flop_rate_per_gpu) <= ceiling * kRounding &&
               ceiling <= ToFlopPerSecond(peak) * kRounding,
           "a GPU executes above its FLOP/s ceiling");
  FW_CHECK(e.model_flops <= e.hardware_flops * kRounding && e.hfu <= 1.0,
           "model FLOPs exceed the executed FLOPs");
  for (int i = 0; i < s.pp; ++i) {
    MemoryBreakdown mem = StageMemory(s, i, n[i], b, r, micro);
    if (i == 0 || mem.Total() > e.memory.Total()) e.memory = mem;
  }
  e.fits_in_memory = e.memory.Total() <= g.hbm_capacity;

  // The power timeline: forward/backward with TP, EP and CP traffic folded in at their share of the
  // time; then the pipeline bubble, the exposed gradient reduction, and the optimizer.
  const double busy = Sec(bd.compute), comm = Sec(bd.tp_comm + bd.ep_comm + bd.cp_comm + bd.pp_p2p);
  const double fwd_bwd = busy + comm;
  e.phases.push_back({"forward_backward", Seconds(fwd_bwd),
                      (s.activity.compute * busy + s.activity.communication * comm) / fwd_bwd});
  if (bd.pp_bubble > Seconds(0)) {
    e.phases.push_back({"pp_bubble", bd.pp_bubble, s.activity.communication});
  }
  if (bd.dp_comm_exposed > Seconds(0)) {
    e.phases.push_back({"dp_comm", bd.dp_comm_exposed, s.activity.communication});
  }
  e.phases.push_back({"optimizer", bd.optimizer, s.activity.optimizer});
  return e;
}

}  // namespace

std::string_view RecomputeName(Recompute r) {
  switch (r) {
    case Recompute::kNone:
      return "none";
    case Recompute::kSelective:
      return "selective";
    case Recompute::kFull:
      return "full";
  }
  return "?";
}

AttentionKernel AttentionOn(const hardware::GpuSpec& gpu, AttentionKernel wanted) {
  return gpu.capabilities.flash_attention == 0 ? AttentionKernel::kUnfused : wanted;
}

std::string AttentionKernelName(const hardware::GpuSpec& gpu, AttentionKernel k) {
  if (AttentionOn(gpu, k) == AttentionKernel::kUnfused) return "unfused";
  return "flash-attention-" + std::to_string(gpu.capabilities.flash_attention);
}

double FlashAttentionForwardEfficiency(const hardware::GpuSpec& gpu) {
  return gpu.capabilities.flash_attention == 1 ? kAttentionForwardEfficiency * kFlashAttention1Scale
                                               : kAttentionForwardEfficiency;
}

std::string_view EpOverlapName(EpOverlap o) {
  return o == EpOverlap::kDualPipe ? "dualpipe" : "none";
}

std::string_view LayerKernelsName(LayerKernels k) {
  return k == LayerKernels::kFused ? "fused" : "eager";
}

int GpuCount(const TrainingSetup& s) { return s.tp * s.pp * s.dp * s.cp; }

hardware::CollectiveModel CollectivesFor(const TrainingSetup& s) {
  // The GPU generation's NVLink figures (catalog `collective:`; hardware/collective.h).
  hardware::CollectiveModel m =
      hardware::CollectiveModelFor(s.gpu.collective, s.gpu.NvlinkPerDirection(), s.nic_bandwidth,
                                   s.link_latency, s.nvlink_domain);
  if (!s.torus_dims.empty()) m.torus = hardware::TorusFor(s.gpu, s.torus_dims, s.torus_twisted);
  return m;
}

hardware::CollectiveModel Scaled(hardware::CollectiveModel m, const FabricShare& share) {
  m.nvlink.bandwidth = m.nvlink.bandwidth * share.nvlink;
  m.network.bandwidth = m.network.bandwidth * share.network;
  m.torus.link = m.torus.link * share.nvlink;  // the torus is the scale-up fabric
  return m;
}

std::string LayoutProblem(const TrainingSetup& s) {
  const ModelCard& m = s.model;
  auto str = [](double v) { return std::to_string(static_cast<long long>(v)); };
  if (s.tp < 1 || s.pp < 1 || s.dp < 1 || s.cp < 1 || s.ep < 1 || s.vpp < 1) {
    return "parallel degrees must be at least 1";
  }
  if (s.tp * s.cp > s.nvlink_domain && s.tp > 1) {
    if (s.tp > s.nvlink_domain) {
      return "tp " + str(s.tp) + " exceeds the " + str(s.nvlink_domain) + " GPUs of a node";
    }
  }
  if (m.attention_heads % s.tp != 0) {
    return "tp " + str(s.tp) + " does not divide the " + str(m.attention_heads) +
           " attention heads";
  }
  if (m.kv_heads % s.tp != 0 && s.tp % m.kv_heads != 0) {
    return "tp " + str(s.tp) + " and the " + str(m.kv_heads) + " KV heads do not divide each other";
  }
  if (s.vpp > 1 && s.pp == 1) return "vpp > 1 needs pipeline parallelism (pp > 1)";
  if (std::string split = StageSplitProblem(s); !split.empty()) return split;
  if (s.sequence_length % s.cp != 0) return "cp does not divide the sequence length";
  if (s.ep > 1 && !m.IsMoe()) return "ep > 1 needs a mixture-of-experts model";
  if (m.IsMoe() && m.moe.experts % s.ep != 0) {
    return "ep " + str(s.ep) + " does not divide the " + str(m.moe.experts) + " experts";
  }
  if (s.ep > s.dp * s.cp) return "ep " + str(s.ep) + " exceeds dp x cp";
  if ((s.dp * s.cp) % s.ep != 0) {
    return "ep " + str(s.ep) + " does not divide dp x cp = " + str(s.dp * s.cp) +
           ": the expert-parallel groups tile the data-parallel ranks";
  }
  if (s.global_batch % s.dp != 0) {
    return "global batch " + str(s.global_batch) + " is not a multiple of dp " + str(s.dp);
  }
  if (s.micro_batch > 0 && s.global_batch % (s.dp * s.micro_batch) != 0) {
    return "global batch " + str(s.global_batch) + " does not split into micro-batches of " +
           str(s.micro_batch) + " over dp " + str(s.dp);
  }
  if (s.vpp > 1 && s.micro_batch > 0 && (s.global_batch / (s.dp * s.micro_batch)) % s.pp != 0) {
    return "interleaved pipelines need the number of micro-batches to be a multiple of pp";
  }
  if (!s.gpu.Peak(s.dtype)) {
    return s.gpu.name + " has no " + std::string(hardware::DataTypeName(s.dtype)) + " throughput";
  }
  if (!s.gpu.Peak(AttentionType(s.gpu, s.dtype))) {
    return s.gpu.name + " has no bf16 or fp16 throughput for " +
           std::string(hardware::DataTypeName(s.dtype)) + " training's attention";
  }
  if (s.zero < 0 || s.zero > 3) return "zero must be 0, 1, 2 or 3";
  return "";
}

int MinLayersOnStage(int stage, int pp, int vpp) {
  if (pp == 1) return 1;
  return stage == 0 || stage == pp - 1 ? vpp - 1 : vpp;
}

std::string StageSplitProblem(const TrainingSetup& s, int* entry) {
  const ModelCard& m = s.model;
  auto str = [](int64_t v) { return std::to_string(v); };
  if (entry) *entry = -1;
  const std::vector<int>& n = s.layers_per_stage;
  if (n.empty()) {
    int64_t least = 0;
    for (int i = 0; i < s.pp; ++i) least += MinLayersOnStage(i, s.pp, s.vpp);
    if (least > m.layers) {
      return "pp x vpp = " + str(int64_t{s.pp} * s.vpp) + " virtual stages need at least " +
             str(least) + " layers (one each; the first may hold only the embedding, the last " +
             "only the output head), but " + m.name + " has " + str(m.layers) + " layers";
    }
    return "";
  }
  if (static_cast<int64_t>(n.size()) != s.pp) {
    return "layers_per_stage has " + str(static_cast<int64_t>(n.size())) +
           (n.size() == 1 ? " entry" : " entries") + " but pp is " + str(s.pp) +
           ": one per pipeline stage";
  }
  int64_t sum = 0;
  for (int i = 0; i < s.pp; ++i) {
    const int least = MinLayersOnStage(i, s.pp, s.vpp);
    if (n[i] < least) {
      if (entry) *entry = i;
      std::string why;
      if (s.vpp > 1) {
        why = " (one per virtual stage of vpp " + str(s.vpp) +
              (i == 0          ? ", less the first, which may hold only the embedding)"
               : i == s.pp - 1 ? ", less the last, which may hold only the output head)"
                               : ")");
      } else if (s.pp > 1) {
        why = " (only the first and the last stage may hold none)";
      }
      return "stage " + str(i) + " holds " + str(n[i]) + " layers; it needs at least " +
             str(least) + why;
    }
    sum += n[i];
  }
  if (sum != m.layers) {
    return "layers_per_stage sums to " + str(sum) + " layers but " + m.name + " has " +
           str(m.layers);
  }
  return "";
}

std::vector<int> BalanceStages(int layers, int stages, int vpp, double layer_s, double first_s,
                               double last_s) {
  FW_CHECK(stages >= 1 && vpp >= 1 && layer_s > 0 && first_s >= 0 && last_s >= 0,
           "BalanceStages: bad arguments");
  std::vector<int> n(static_cast<size_t>(stages));
  int left = layers;
  for (int i = 0; i < stages; ++i) {
    n[i] = MinLayersOnStage(i, stages, vpp);
    left -= n[i];
  }
  FW_CHECK(left >= 0, "BalanceStages: fewer layers than the stages need");
  // Times recomputed from the counts (not accumulated), so equal stages compare equal.
  auto time = [&](int i) {
    return n[i] * layer_s + (i == 0 ? first_s : 0.0) + (i == stages - 1 ? last_s : 0.0);
  };
  for (; left > 0; --left) {
    int pick = stages - 1;
    for (int i = stages - 2; i >= 0; --i) {
      if (time(i) < time(pick)) pick = i;
    }
    ++n[pick];
  }
  return n;
}

StepEstimate EstimateStep(const TrainingSetup& s) {
  FW_CHECK(LayoutProblem(s).empty(), LayoutProblem(s));
  std::vector<int> batches;
  if (s.micro_batch > 0) {
    batches.push_back(s.micro_batch);
  } else {
    const int per_rank = s.global_batch / s.dp;
    for (int b = 1; b <= per_rank && b <= 64; b *= 2) {
      if (per_rank % b == 0 && (s.vpp == 1 || (per_rank / b) % s.pp == 0)) batches.push_back(b);
    }
    if (batches.empty()) batches.push_back(1);
  }
  std::vector<Recompute> modes = {s.recompute};
  if (s.recompute_auto) modes = {Recompute::kNone, Recompute::kSelective, Recompute::kFull};
  // Nothing to choose (the layout search's case): one evaluation, with the operator table.
  if (batches.size() == 1 && modes.size() == 1) return Evaluate(s, batches[0], modes[0], true);
  StepEstimate best;
  bool have = false;
  for (int b : batches) {
    for (Recompute r : modes) {
      StepEstimate e = Evaluate(s, b, r, false);
      const bool better = !have || (e.fits_in_memory && !best.fits_in_memory) ||
                          (e.fits_in_memory == best.fits_in_memory &&
                           (e.fits_in_memory ? e.step_time < best.step_time
                                             : e.memory.Total() < best.memory.Total()));
      if (better) {
        best = std::move(e);
        have = true;
      }
    }
  }
  // Once more with the operator table for the choice.
  return Evaluate(s, best.micro_batch, best.recompute, true);
}

}  // namespace firstwall::workload
