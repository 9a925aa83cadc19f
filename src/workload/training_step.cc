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
// Adam with fp32 master weights: read param, grad, m, v (16 B), write param, m, v (12 B), write the
// 16-bit copy (2 B).
constexpr double kAdamBytesPerParam = 30;
// fp32 main gradients (Megatron-LM accumulates and reduces bf16 training's gradients in fp32).
constexpr double kGradBytes = 4;
constexpr double kWeightBytes = 2;
constexpr double kAdamStateBytes = 12;  // fp32 master weights, momentum and variance

struct Timing {
  double fwd = 0, bwd = 0;        // compute of one layer, forward and backward, seconds
  double attn_fwd = 0;            // of which the attention core, forward
  double tp_fwd = 0, tp_bwd = 0;  // TP communication per layer
  double cp = 0, ep_fwd = 0, ep_bwd = 0;
  std::vector<OpCost>* ops = nullptr;  // when set, every operator is recorded here

  void Record(std::string name, double flops, double bytes, double f, double b) {
    if (ops) ops->push_back({std::move(name), flops, bytes, Seconds(f), Seconds(b)});
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
  t.Record(name, count * 2.0 * m * n * k, count * (m * k + k * n + m * n) * be, f, b);
}

// fp8 training (Transformer Engine style) casts GEMM inputs to fp8 but keeps activations, their
// communication and the attention core in bf16.
double ActivationBytes(hardware::DataType t) {
  return t == hardware::DataType::kFp8 ? 2.0 : hardware::BytesPerElement(t);
}
hardware::DataType AttentionType(hardware::DataType t) {
  return t == hardware::DataType::kFp8 ? hardware::DataType::kBf16 : t;
}

Timing LayerTiming(const TrainingSetup& s, int b, const hardware::CollectiveModel& net,
                   std::vector<OpCost>* ops) {
  const ModelCard& m = s.model;
  const auto& g = s.gpu;
  const FlopRate peak = *g.Peak(AttentionType(s.dtype));
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
  if (s.attention == AttentionKernel::kFlash) {
    // Causal: half the blocks are computed.
    const double attn_flops = 4.0 * T * s.sequence_length * q_dim / tp * 0.5;
    attn_f = attn_flops / (ToFlopPerSecond(peak) * kAttentionForwardEfficiency);
    attn_b = 2.0 * attn_flops / (ToFlopPerSecond(peak) * kAttentionBackwardEfficiency);
    // Q, K, V read and the output written once.
    const double io = T * (2.0 * q_dim + 2.0 * m.KvDim()) / tp * be;
    t.Record("flash_attention", attn_flops, io, attn_f, attn_b);
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
    attention_setup.dtype = AttentionType(s.dtype);
    AddGemm(attention_setup, "attn_scores_qk", seq / s.cp, seq, hd, batches, core);
    AddGemm(attention_setup, "attn_values_pv", seq / s.cp, hd, seq, batches, core);
    const double scores = batches * seq / s.cp * seq;
    const double sm_f = Sec(hardware::StreamTime(g.gemm, Bytes(9.0 * scores), g.hbm_bandwidth));
    const double sm_b = Sec(hardware::StreamTime(g.gemm, Bytes(11.0 * scores), g.hbm_bandwidth));
    t.Record("attn_softmax_dropout", 0, 9.0 * scores, sm_f, sm_b);
    attn_f = core.fwd + sm_f;
    attn_b = core.bwd + sm_b;
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
    t.fwd += experts.fwd;
    t.bwd += experts.bwd;
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
          Sec(CollectiveTime(Scaled(net, s.traffic.ep), Collective::kAllToAll, msg, s.ep, local));
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

// Parameters held by one GPU of the first (or last) pipeline stage.
double ParamsPerGpu(const TrainingSetup& s, bool with_embedding) {
  const ModelCard& m = s.model;
  const double layers = static_cast<double>(m.layers) / s.pp;
  double per_layer = m.AttentionParams() / s.tp;
  if (m.IsMoe()) {
    per_layer += static_cast<double>(m.hidden_size) * m.moe.experts +
                 (static_cast<double>(m.moe.experts) / s.ep + m.moe.shared_experts) *
                     m.MlpParams(m.moe.expert_ffn_hidden_size) / s.tp;
  } else {
    per_layer += m.MlpParams(m.ffn_hidden_size) / s.tp;
  }
  const double embedding = static_cast<double>(m.vocab_size) * m.hidden_size / s.tp;
  return layers * per_layer + (with_embedding ? embedding : 0.0);
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
  if (s.attention == AttentionKernel::kUnfused && r == Recompute::kNone) {
    scores = 5.0 * m.attention_heads / tp * s.sequence_length;
  }
  return tokens * (per_token + scores);
}

MemoryBreakdown Memory(const TrainingSetup& s, int b, Recompute r, int micro_batches) {
  const ModelCard& m = s.model;
  // The first stage holds the input embedding, the last the output projection; pp = 1 holds both
  // (one copy when tied).
  const bool two_embeddings = s.pp == 1 && !m.tied_embeddings;
  double params = ParamsPerGpu(s, true);
  if (two_embeddings) params += static_cast<double>(m.vocab_size) * m.hidden_size / s.tp;
  MemoryBreakdown mem;
  const double dp = s.dp;
  mem.weights = Bytes(params * kWeightBytes / (s.zero >= 3 ? dp : 1.0));
  mem.gradients = Bytes(params * kGradBytes / (s.zero >= 2 ? dp : 1.0));
  mem.optimizer = Bytes(params * kAdamStateBytes / (s.zero >= 1 ? dp : 1.0));
  // 1F1B: the first stage keeps pp micro-batches in flight (fewer if there are fewer), each with
  // its layers' activations; interleaving adds (pp-1)/(pp vpp) (Korthikanti et al. 2022, sec. 4.2).
  const double in_flight = std::min<double>(micro_batches, s.pp);
  const double interleave = s.vpp > 1 ? 1.0 + (s.pp - 1.0) / (s.pp * s.vpp) : 1.0;
  const double layers = static_cast<double>(m.layers) / s.pp;
  double act = LayerActivationBytes(s, b, r) * layers * in_flight * interleave;
  // Logits in fp32 on the last stage (counted here as the stages are balanced otherwise).
  const double tokens = static_cast<double>(b) * s.sequence_length / s.cp;
  act += tokens * m.vocab_size / s.tp * 4.0;
  mem.activations = Bytes(act);
  mem.reserved = kRuntimeReserved;
  return mem;
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
  const double layers = static_cast<double>(m.layers) / s.pp;
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

  // One micro-batch through the slowest stage: compute and each exposed communication.
  const double mb_compute =
      layers * (lt.fwd + lt.bwd + (r == Recompute::kFull ? lt.fwd : recompute_fwd)) + head_s;
  const double mb_tp = layers * (lt.tp_fwd + lt.tp_bwd + (r == Recompute::kFull ? lt.tp_fwd : 0));
  const double mb_ep =
      m.IsMoe() ? layers * (lt.ep_fwd + lt.ep_bwd + (r == Recompute::kFull ? lt.ep_fwd : 0)) : 0;
  const double mb_cp = layers * lt.cp;
  const double mb_total = mb_compute + mb_tp + mb_ep + mb_cp;

  e.gpus = gpus;
  e.micro_batch = b;
  e.micro_batches = micro;
  e.recompute = r;
  StepBreakdown& bd = e.breakdown;
  bd.compute = Seconds(micro * mb_compute);
  bd.tp_comm = Seconds(micro * mb_tp);
  bd.ep_comm = Seconds(micro * mb_ep);
  bd.cp_comm = Seconds(micro * mb_cp);
  if (s.pp > 1) {
    bd.pp_bubble = Seconds((s.pp - 1.0) / s.vpp * mb_total);
    // Activations forward and their gradients backward, once per micro-batch and virtual stage.
    const bool same_node = 2 * s.tp * s.cp * s.dp <= s.nvlink_domain;
    const DataSize act = Bytes(T * m.hidden_size * act_be / (s.sequence_parallel ? s.tp : 1));
    bd.pp_p2p =
        hardware::P2pTime(Scaled(net, s.traffic.pp), act, same_node) * (2.0 * micro * s.vpp);
  }
  // Data parallelism over the parameters of one GPU.
  const double params = ParamsPerGpu(s, true);
  if (s.dp > 1) {
    const int local = std::max(1, std::min(s.dp, s.nvlink_domain / (s.tp * s.cp)));
    const DataSize grads = Bytes(params * kGradBytes);
    const DataSize weights = Bytes(params * kWeightBytes);
    const hardware::CollectiveModel dp_net = Scaled(net, s.traffic.dp);
    double dp_s;
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
    // Overlap with the backward pass of the last micro-batch through this stage.
    const double window = s.overlap_grad_reduce ? layers * lt.bwd : 0.0;
    bd.dp_comm_exposed = Seconds(std::max(0.0, dp_s - window));
    e.dp_comm_total = Seconds(dp_s);
  }
  const double opt_params = params / (s.zero >= 1 ? s.dp : 1.0);
  bd.optimizer =
      hardware::StreamTime(g.gemm, Bytes(opt_params * kAdamBytesPerParam), g.hbm_bandwidth);

  e.step_time = bd.compute + bd.tp_comm + bd.pp_bubble + bd.pp_p2p + bd.dp_comm_exposed +
                bd.cp_comm + bd.ep_comm + bd.optimizer;
  e.tokens_per_step = static_cast<double>(s.global_batch) * s.sequence_length;
  e.model_flops = Flop(3.0 * m.ForwardFlopsPerToken(s.sequence_length) * e.tokens_per_step);
  const double extra = r == Recompute::kFull ? 4.0 / 3.0 : 1.0;
  e.hardware_flops = e.model_flops * extra;
  e.mfu = e.model_flops / (peak * e.step_time) / gpus;
  e.model_flop_rate_per_gpu = e.model_flops / e.step_time / gpus;
  e.memory = Memory(s, b, r, micro);
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

int GpuCount(const TrainingSetup& s) { return s.tp * s.pp * s.dp * s.cp; }

hardware::CollectiveModel CollectivesFor(const TrainingSetup& s) {
  hardware::CollectiveModel m;
  // NVLink: fitted to vidur's DGX-H100 all-reduce (hardware/collective_test.cc).
  m.nvlink = {s.gpu.NvlinkPerDirection(), hardware::kNvlinkBusEfficiency,
              hardware::kNvlinkHopLatency};
  m.network = {s.nic_bandwidth, hardware::kNetworkBusEfficiency, s.link_latency};
  m.launch = hardware::kCollectiveLaunch;
  m.nvlink_domain = s.nvlink_domain;
  return m;
}

hardware::CollectiveModel Scaled(hardware::CollectiveModel m, const FabricShare& share) {
  m.nvlink.bandwidth = m.nvlink.bandwidth * share.nvlink;
  m.network.bandwidth = m.network.bandwidth * share.network;
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
  if (m.layers % (s.pp * s.vpp) != 0) {
    return "pp x vpp = " + str(s.pp * s.vpp) + " does not divide the " + str(m.layers) + " layers";
  }
  if (s.vpp > 1 && s.pp == 1) return "vpp > 1 needs pipeline parallelism (pp > 1)";
  if (s.sequence_length % s.cp != 0) return "cp does not divide the sequence length";
  if (s.ep > 1 && !m.IsMoe()) return "ep > 1 needs a mixture-of-experts model";
  if (m.IsMoe() && m.moe.experts % s.ep != 0) {
    return "ep " + str(s.ep) + " does not divide the " + str(m.moe.experts) + " experts";
  }
  if (s.ep > s.dp * s.cp) return "ep " + str(s.ep) + " exceeds dp x cp";
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
  if (s.zero < 0 || s.zero > 3) return "zero must be 0, 1, 2 or 3";
  return "";
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
