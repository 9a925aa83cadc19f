#include "workload/inference.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "hardware/collective.h"
#include "hardware/gemm.h"

namespace firstwall::workload {
namespace {
using namespace units;
using hardware::Collective;

double Sec(Duration d) { return ToSeconds(d); }

// The attention core runs in fp8 for fp8 (FP8 attention kernels of Hopper and Blackwell engines);
// for int8 and fp4 too where the card has fp8, else in its 16-bit type: no serving engine has
// 4-bit or int8 attention, their GEMMs alone use the narrow type.
FlopRate AttentionPeak(const hardware::GpuSpec& g, hardware::DataType t) {
  if (t == hardware::DataType::kInt8 || t == hardware::DataType::kFp4) {
    if (auto fp8 = g.Peak(hardware::DataType::kFp8)) return *fp8;
    if (auto sixteen = g.SixteenBitType()) return *g.Peak(*sixteen);
  }
  return *g.Peak(t);
}

// The shapes and rates every operator of a replica needs.
struct Shape {
  explicit Shape(const InferenceSetup& setup)
      : s(setup),
        gm(setup.gpu.GemmFor(setup.dtype)),
        peak(*setup.gpu.Peak(setup.dtype)),
        be(hardware::BytesPerElement(setup.dtype)),
        act_be(hardware::IsNarrow(setup.dtype) ? 2.0 : be),
        kv_be(setup.kv_cache_fp8 ? 1.0 : act_be),
        attention_peak(AttentionPeak(setup.gpu, setup.dtype)),
        h(setup.model.hidden_size),
        q_dim(static_cast<double>(setup.model.attention_heads) * setup.model.HeadDim()),
        kv_dim_gpu(std::max(1.0, setup.model.kv_heads / static_cast<double>(setup.tp)) *
                   setup.model.HeadDim()),
        groups(AttentionGroups(setup)),
        kv_elements_gpu(setup.model.mla.enabled() ? setup.model.mla.CachedElements()
                                                  : 2.0 * kv_dim_gpu),
        flash(AttentionOn(setup.gpu) == AttentionKernel::kFlash),
        flash_efficiency(FlashAttentionForwardEfficiency(setup.gpu)) {
    TrainingSetup ts;  // for the collective model only
    ts.gpu = setup.gpu;
    // Wide EP's all-to-all crosses the cluster's NVLink domains; otherwise every collective of a
    // replica stays inside its tensor-parallel group.
    ts.nvlink_domain = groups > 1 ? setup.nvlink_domain : std::max(8, setup.tp * setup.ep);
    ts.nic_bandwidth = setup.nic_bandwidth;
    ts.link_latency = setup.link_latency;
    net = CollectivesFor(ts);
  }
  const InferenceSetup& s;
  hardware::GemmModel gm;
  FlopRate peak;
  double be, act_be, kv_be;  // bytes per element: weights and GEMMs, activations, KV cache
  FlopRate attention_peak;   // the attention core's tensor peak
  double h, q_dim, kv_dim_gpu;
  int groups;               // attention groups (AttentionGroups)
  double kv_elements_gpu;   // cached per token and layer on a GPU holding it: K and V, or MLA's
  bool flash;               // FlashAttention prefill, else unfused (the card has none)
  double flash_efficiency;  // of the generation the card states
  hardware::CollectiveModel net;

  // A kernel's achieved fraction of peak HBM bandwidth and of peak tensor FLOP/s, each at most 1.
  double HbmShare(double bytes, double seconds) const {
    return seconds > 0 ? std::min(1.0, bytes / (ToBytesPerSecond(s.gpu.hbm_bandwidth) * seconds))
                       : 0.0;
  }
  double TensorShare(double flops, double seconds) const {
    return seconds > 0 ? std::min(1.0, flops / (ToFlopPerSecond(peak) * seconds)) : 0.0;
  }
  double Gemm(double m, double n, double k) const {
    return Sec(hardware::GemmTime(gm, m, n, k, be, peak, s.gpu.hbm_bandwidth));
  }
  double Stream(double bytes) const {
    return Sec(hardware::StreamTime(gm, Bytes(bytes), s.gpu.hbm_bandwidth));
  }
  double Logits(double rows) const { return Gemm(rows, s.model.vocab_size / double(s.tp), h); }
  double LogitsFlops(double rows) const { return 2.0 * rows * s.model.vocab_size / s.tp * h; }
  double LogitsBytes(double rows) const {
    const double v = s.model.vocab_size / double(s.tp);
    return be * (rows * h + v * h + rows * v);
  }
  // The pp - 1 hand-offs of `rows` activations from stage to stage: those between NVLink
  // domains (nvlink_domain / tp stages each) over the network, the others over NVLink.
  double P2p(double rows) const {
    if (s.pp <= 1) return 0.0;
    const DataSize msg = Bytes(rows * h * act_be);
    const int per_domain = std::max(1, s.nvlink_domain / std::max(s.tp, s.ep));
    const double across = (s.pp + per_domain - 1) / per_domain - 1;
    return across * Sec(hardware::P2pTime(net, msg, false)) +
           (s.pp - 1.0 - across) * Sec(hardware::P2pTime(net, msg, true));
  }
};

struct LayerCost {
  double kernels_s = 0;  // GEMMs, attention, norms
  double hbm_s = 0;      // kernel seconds x achieved share of peak HBM bandwidth
  double tensor_s = 0;   // kernel seconds x achieved share of peak tensor FLOP/s
  double comm_s = 0;     // TP all-reduce, EP all-to-all
  double a2a_s = 0;      // of comm_s, wide EP's all-to-all (what two-batch overlap can hide)
  std::vector<OpCost>* ops = nullptr;
  const Shape* shape = nullptr;
  void Add(const char* name, double flops, double bytes, double seconds, bool comm = false) {
    if (comm) {
      comm_s += seconds;
    } else {
      kernels_s += seconds;
      hbm_s += seconds * shape->HbmShare(bytes, seconds);
      tensor_s += seconds * shape->TensorShare(flops, seconds);
    }
    if (ops) ops->push_back({name, flops, bytes, Seconds(seconds), Seconds(0)});
  }
};

// The routed experts of one MoE layer on one GPU for `tokens` through the layer (every GPU of a
// tensor-parallel group sees the same ones). ep <= tp: of the GPU's e/ep experts, the expected
// number the tokens x top_k choices reach, each with its share of the rows, its matrices split
// tp/ep ways. Wide EP: the GPU holds ceil(e/ep) experts (EPLB's redundant copies fill the slots
// beyond e) and takes tokens x top_k / ep rows, the load balanced over its copies: each is reached
// unless none of its Poisson-many rows comes, 1 - exp(-rows / held).
template <class Gemm>
void RoutedExperts(const Shape& sh, double tokens, double gate, Gemm& gemm) {
  const InferenceSetup& s = sh.s;
  const ModelCard& m = s.model;
  const double e = m.moe.experts, k = m.moe.top_k, f = m.moe.expert_ffn_hidden_size;
  const double h = sh.h;
  double reached = 0, expert_rows = 0;
  if (sh.groups > 1) {
    const double held = std::ceil(e / s.ep);
    const double rows = tokens * k / s.ep;
    reached = held * (1.0 - std::exp(-rows / held));
    expert_rows = rows / std::max(reached, 1e-9);
  } else {
    const double local = e / s.ep;
    reached = local * (1.0 - std::pow(1.0 - k / e, tokens));
    expert_rows = tokens * k / e * local / std::max(reached, 1e-9);
  }
  const double split = std::max(1.0, s.tp / static_cast<double>(s.ep));
  gemm("expert_up_proj", expert_rows, gate * f / split, h, reached);
  gemm("expert_down_proj", expert_rows, h, f / split, reached);
}

// Which of a layer's token-dependent operators TokenOps adds: all of them, those of an attention
// group (everything but the routed experts: they depend on the group's own tokens), or the routed
// experts alone (they depend on every group's tokens).
enum class Ops { kAll, kGroup, kRoutedExperts };

// The operators of one layer on one GPU whose cost depends only on token counts: `rows`, the
// tokens of the GPU's attention group (GEMMs, norms and activations, TP all-reduces, wide EP's
// all-to-all; attention is separate), and `expert_tokens`, the tokens of every group of the
// replica that the routed experts take (rows itself but for wide EP).
LayerCost TokenOps(const Shape& sh, double rows, std::vector<OpCost>* ops, double expert_tokens,
                   Ops part = Ops::kAll) {
  const InferenceSetup& s = sh.s;
  const ModelCard& m = s.model;
  const double h = sh.h, tp = s.tp, be = sh.be;
  LayerCost c;
  c.ops = ops;
  c.shape = &sh;
  // `count` > 1: the local experts' GEMMs as one grouped kernel (vLLM's fused_moe, SGLang's and
  // DeepGEMM's grouped GEMMs launch once for all of a GPU's experts): one launch overhead, each
  // expert's own compute or weight stream.
  auto gemm = [&](const char* name, double m_rows, double n, double k, double count = 1) {
    if (m_rows <= 0 || n <= 0 || count <= 0) return;
    const double one = sh.Gemm(m_rows, n, k);
    const double launch = Sec(sh.gm.overhead);
    c.Add(name, count * 2 * m_rows * n * k, count * be * (m_rows * k + n * k + m_rows * n),
          count == 1 ? one : launch + count * (one - launch));
  };
  const double gate = m.ffn_type == FfnType::kSwiglu ? 2.0 : 1.0;
  if (part == Ops::kRoutedExperts) {
    if (m.IsMoe()) RoutedExperts(sh, expert_tokens, gate, gemm);
    return c;
  }
  gemm("qkv_proj", rows, sh.q_dim / tp + 2 * sh.kv_dim_gpu, h);
  gemm("out_proj", rows, h, sh.q_dim / tp);
  if (!m.IsMoe()) {
    gemm("mlp_up_proj", rows, gate * m.ffn_hidden_size / tp, h);
    gemm("mlp_down_proj", rows, h, m.ffn_hidden_size / tp);
  } else {
    const double f = m.moe.expert_ffn_hidden_size, k = m.moe.top_k;
    if (part == Ops::kAll) RoutedExperts(sh, expert_tokens, gate, gemm);
    if (m.moe.shared_experts > 0) {
      gemm("shared_expert_up_proj", rows, gate * f * m.moe.shared_experts / tp, h);
      gemm("shared_expert_down_proj", rows, h, f * m.moe.shared_experts / tp);
    }
    if (sh.groups > 1) {
      // Wide EP: dispatch and combine each send a GPU's 1/tp share of its group's tokens, top_k
      // copies of the hidden state (in the activations' type; DeepEP can dispatch in fp8), to
      // the GPUs holding their experts, across the NVLink domains.
      const DataSize msg = Bytes(rows / tp * k * h * sh.act_be);
      const int local_ranks = std::min(s.ep, std::max(1, s.nvlink_domain));
      const double a2a = Sec(CollectiveTime(sh.net, Collective::kAllToAll, msg, s.ep, local_ranks));
      c.Add("ep_all_to_all", 0, 2 * ToBytes(msg), 2 * a2a, true);
      c.a2a_s = 2 * a2a;
    }
    // ep <= tp: every GPU of the group already holds the tokens; each runs its experts on those
    // routed to them and the MLP's tensor-parallel all-reduce sums the outputs (vLLM's TP + EP):
    // no dispatch or combine.
  }
  const double stream = sh.act_be * rows * kElementwiseElementsPerHidden * h;
  c.Add("norms_residual_activation", 0, stream,
        sh.Stream(stream) + kElementwiseKernelsPerLayer * Sec(kElementwiseKernelOverhead));
  if (s.tp > 1) {
    const DataSize act = Bytes(rows * h * sh.act_be);
    c.Add("tp_all_reduce", 0, 2 * ToBytes(act),
          2 * Sec(CollectiveTime(sh.net, Collective::kAllReduce, act, s.tp, s.tp)), true);
  }
  return c;
}

// Causal FlashAttention forward over `pairs` query-key pairs (one chunk: c x (cached + c/2)).
double PrefillAttentionFlops(const Shape& sh, double pairs) {
  return 2.0 * 2.0 * pairs * sh.q_dim / sh.s.tp;
}
double FlashPrefillSeconds(const Shape& sh, double pairs) {
  return PrefillAttentionFlops(sh, pairs) /
             (ToFlopPerSecond(sh.attention_peak) * sh.flash_efficiency) +
         Sec(sh.gm.overhead);
}
// Unfused prefill attention (a GPU without FlashAttention, as V100) computes and stores every
// score of the chunk's c x (cached + c) matrix, the masked half included: QK^T writes the scores
// and PV reads the probabilities (the GEMMs, at the GEMM model's ceiling or HBM, whichever binds),
// and the softmax between them reads and writes each. Per score, all heads of the GPU; three
// kernels per layer.
inline constexpr double kUnfusedKernels = 3;
double UnfusedSecondsPerScore(const Shape& sh) {
  const double heads = sh.q_dim / sh.s.model.HeadDim() / sh.s.tp;
  const double hbm = ToBytesPerSecond(sh.s.gpu.hbm_bandwidth) * sh.gm.memory_efficiency;
  const double gemm = std::max(
      PrefillAttentionFlops(sh, 1.0) / (ToFlopPerSecond(sh.attention_peak) * sh.gm.max_efficiency),
      heads * 2.0 * sh.act_be / hbm);
  return gemm + heads * 2.0 * sh.act_be / hbm;
}
// Prefill attention of one chunk, as the card's kernel runs it: `pairs` causal pairs, `scores`
// entries of the full matrix.
double PrefillAttentionSeconds(const Shape& sh, double pairs, double scores) {
  if (sh.flash) return FlashPrefillSeconds(sh, pairs);
  return scores * UnfusedSecondsPerScore(sh) + kUnfusedKernels * Sec(sh.gm.overhead);
}
// Decode: each sequence reads its K and V (or MLA's latent) for every position of its context.
double DecodeKvBytes(const Shape& sh, double kv_tokens) {
  return kv_tokens * sh.kv_elements_gpu * sh.kv_be;
}
// Decode attention FLOPs per query row and context token. MLA, absorbed (as FlashMLA runs it):
// each of the GPU's heads scores the cached latent and rotary key (kv_lora_rank + rope) and sums
// kv_lora_rank values, 2 x heads x (2 kv_lora_rank + rope); grouped-query: as prefill's pairs.
double DecodeFlopsPerPair(const Shape& sh) {
  const MlaSpec& mla = sh.s.model.mla;
  if (!mla.enabled()) return PrefillAttentionFlops(sh, 1.0);
  return 2.0 * mla.heads / sh.s.tp * (2.0 * mla.kv_lora_rank + mla.qk_rope_head_dim);
}
// MLA's decode attention reads one small latent for 128 heads: near the tensor ridge, so it takes
// the longer of its HBM stream and its FLOPs at the FlashAttention efficiency. Grouped-query
// decode does a few FLOPs per byte and is the stream alone.
// `kv_tokens` context tokens read, `pairs` query-row x context-token pairs computed.
double DecodeAttentionSeconds(const Shape& sh, double kv_tokens, double pairs) {
  const double stream = sh.Stream(DecodeKvBytes(sh, kv_tokens));
  if (!sh.s.model.mla.enabled()) return stream;
  return std::max(stream, pairs * DecodeFlopsPerPair(sh) /
                              (ToFlopPerSecond(sh.attention_peak) * sh.flash_efficiency));
}

// The layers a pipelined iteration takes at 1/pp of its rows: each of the pp micro-batches passes
// the slowest stage, so pp x its layers (the model's layers when pp divides them, exactly).
double PacedLayers(const std::vector<int>& stages) {
  return static_cast<double>(stages.size()) * *std::max_element(stages.begin(), stages.end());
}

}  // namespace

std::vector<int> InferenceStageLayers(int layers, int pp) {
  FW_CHECK(pp >= 1 && pp <= layers, "InferenceStageLayers: every pipeline stage needs a layer");
  std::vector<int> n(static_cast<size_t>(pp), layers / pp);
  for (int i = 2; i < layers % pp + 2; ++i) ++n[static_cast<size_t>(pp - i)];
  return n;
}

InferenceSetup DraftSetup(const InferenceSetup& s) {
  InferenceSetup d = s;
  d.model = DraftModel(s.model, s.speculation);
  d.speculation = Speculation{};
  d.ep = d.model.IsMoe() ? s.ep : 1;
  // A dense drafter beside wide EP drafts each attention group's own sequences, with no
  // all-to-all to overlap.
  if (AttentionGroups(d) < AttentionGroups(s)) {
    d.batch = std::max(1, s.batch / AttentionGroups(s));
    d.two_batch_overlap = false;
  }
  return d;
}

std::string MlaTensorParallelProblem(const ModelCard& m, int tp) {
  if (!m.mla.enabled() || m.mla.heads % tp == 0) return "";
  return "the " + std::to_string(m.mla.heads) + " MLA heads of " + m.name +
         " do not split over tp " + std::to_string(tp);
}

int AttentionGroups(const InferenceSetup& s) { return s.ep > s.tp ? s.ep / s.tp : 1; }

int ReplicaGpus(const InferenceSetup& s) { return std::max(s.tp, s.ep) * s.pp; }

std::string InferenceLayoutProblem(const ModelCard& m, int tp, int pp, int ep) {
  (void)pp;  // any pipeline depth composes with either kind of expert parallelism
  if (ep <= 1) return "";
  if (!m.IsMoe()) return m.name + " is a dense model: expert parallelism needs experts";
  const std::string e = std::to_string(m.moe.experts), eps = std::to_string(ep),
                    tps = std::to_string(tp);
  if (ep <= tp) {
    if (m.moe.experts % ep != 0) return e + " experts do not split over ep " + eps;
    if (tp % ep != 0) {
      return "ep " + eps + " does not divide tp " + tps +
             ": inside a tensor-parallel group each expert is split tp/ep ways";
    }
    return "";
  }
  if (ep % tp != 0) {
    return "ep " + eps + " is above tp " + tps +
           " (wide expert parallelism: attention in ep/tp data-parallel groups of tp GPUs) but "
           "not a multiple of it";
  }
  return "";
}

std::string TwoBatchOverlapProblem(const InferenceSetup& s) {
  if (!s.two_batch_overlap) return "";
  if (!s.model.IsMoe()) {
    return "two-batch overlap hides wide expert parallelism's all-to-all: " + s.model.name +
           " is a dense model, with none";
  }
  if (AttentionGroups(s) <= 1) {
    return "two-batch overlap hides wide expert parallelism's all-to-all behind the other "
           "micro-batch's computation: it needs ep above tp (ep " +
           std::to_string(s.ep) + ", tp " + std::to_string(s.tp) + ")";
  }
  if (s.pp > 1) {
    return "two-batch overlap beside pipeline parallelism is not modelled: it needs pp 1 (pp " +
           std::to_string(s.pp) + ")";
  }
  return "";
}

double TwoBatchOverlapSeconds(const MicroBatchLayer& a, const MicroBatchLayer& b, int layers) {
  FW_CHECK(layers >= 1, "TwoBatchOverlapSeconds: a layer at least");
  double sms = 0, net = 0;          // when the SMs and the network are next free
  double ready_a = 0, ready_b = 0;  // when each micro-batch's last combine ended
  for (int l = 0; l < layers; ++l) {
    const double att_a = (sms = std::max(sms, ready_a) + a.attention_s);
    const double att_b = (sms = std::max(sms, ready_b) + b.attention_s);
    const double dis_a = (net = std::max(net, att_a) + a.dispatch_s);
    const double dis_b = (net = std::max(net, att_b) + b.dispatch_s);
    const double exp_a = (sms = std::max(sms, dis_a) + a.experts_s);
    const double exp_b = (sms = std::max(sms, dis_b) + b.experts_s);
    ready_a = (net = std::max(net, exp_a) + a.combine_s);
    ready_b = (net = std::max(net, exp_b) + b.combine_s);
  }
  return std::max(ready_a, ready_b);
}

InferenceEstimate EstimateInference(const InferenceSetup& s) {
  FW_CHECK(s.tp >= 1 && s.pp >= 1 && s.ep >= 1 && s.batch >= 1, "bad inference layout");
  FW_CHECK(SpeculationProblem(s.model, s.speculation, s.tp, s.pp).empty(),
           SpeculationProblem(s.model, s.speculation, s.tp, s.pp));
  FW_CHECK(s.prompt_tokens >= 1 && s.output_tokens >= 1, "a request has tokens");
  const ModelCard& m = s.model;
  const hardware::GpuSpec& g = s.gpu;
  FW_CHECK(g.Peak(s.dtype).has_value(), g.name + " has no peak for this data type");
  const Shape sh(s);
  InferenceEstimate e;
  e.gpus = ReplicaGpus(s);
  e.model_matrix_params_per_layer = m.ActiveLayerMatrixParams();
  e.layers_per_stage = InferenceStageLayers(m.layers, s.pp);
  const double layers = m.layers;
  const double paced = PacedLayers(e.layers_per_stage);
  const double most = paced / s.pp;  // layers of the most loaded stage
  const double h = sh.h;

  // Prefill of one prompt: through every stage in turn, every layer.
  const double p = s.prompt_tokens;
  const LayerCost pre = TokenOps(sh, p, nullptr, p);
  const double pre_attention = PrefillAttentionSeconds(sh, p * p / 2.0, p * p);
  e.prefill_time =
      Seconds(layers * (pre.kernels_s + pre.comm_s + pre_attention) + sh.P2p(p) + sh.Logits(1));

  // Decode: pp micro-batches of B/pp sequences each cycle through the stages, paced by the slowest.
  // With speculation the step verifies gamma drafted tokens and one of its own for each sequence:
  // gamma + 1 rows through the GEMMs and the logits, each sequence's K/V read once.
  const Speculation& spec = s.speculation;
  const double verify_rows = spec.enabled() ? spec.draft_tokens + 1.0 : 1.0;
  // With wide EP each attention group decodes its 1/groups of the batch.
  const double rows = static_cast<double>(s.batch) / (s.pp * sh.groups);
  const double q_rows = rows * verify_rows;
  const double context = s.prompt_tokens + s.output_tokens / 2.0;
  // Two-batch overlap: each group's sequences as two micro-batches, the larger half first, the
  // routed experts apart (they run between the dispatch and the combine). A group of one
  // sequence has nothing to split and runs as one batch, as in serving.
  FW_CHECK(TwoBatchOverlapProblem(s).empty(), TwoBatchOverlapProblem(s));
  const bool tbo = s.two_batch_overlap && rows >= 2;
  const double rows_a = tbo ? std::ceil(rows / 2) : rows, rows_b = rows - rows_a;
  // A micro-batch of `r` sequences: its token operators (`part`) and its decode attention.
  auto group_layer = [&](double r, std::vector<OpCost>* ops, Ops part) {
    const double q = r * verify_rows;
    LayerCost c = TokenOps(sh, q, ops, q * sh.groups, part);
    c.Add("attention_decode", q * context * DecodeFlopsPerPair(sh), DecodeKvBytes(sh, r * context),
          DecodeAttentionSeconds(sh, r * context, q * context));
    return c;
  };
  auto experts_layer = [&](double r, std::vector<OpCost>* ops) {
    const double q = r * verify_rows;
    return TokenOps(sh, q, ops, q * sh.groups, Ops::kRoutedExperts);
  };
  const LayerCost dec = group_layer(rows_a, &e.decode_ops, tbo ? Ops::kGroup : Ops::kAll);
  LayerCost experts, dec_b, experts_b;  // zero without overlap
  if (tbo) {
    experts = experts_layer(rows_a, &e.decode_ops);
    dec_b = group_layer(rows_b, nullptr, Ops::kGroup);
    experts_b = experts_layer(rows_b, nullptr);
  }
  const double logits = sh.Logits(q_rows);
  IterationCost cost;
  cost.kernels_s =
      paced * (dec.kernels_s + experts.kernels_s + dec_b.kernels_s + experts_b.kernels_s) + logits;
  cost.hbm_s = paced * (dec.hbm_s + experts.hbm_s + dec_b.hbm_s + experts_b.hbm_s) +
               logits * sh.HbmShare(sh.LogitsBytes(q_rows), logits);
  cost.tensor_s = paced * (dec.tensor_s + experts.tensor_s + dec_b.tensor_s + experts_b.tensor_s) +
                  logits * sh.TensorShare(sh.LogitsFlops(q_rows), logits);
  cost.comm_s = paced * (dec.comm_s + dec_b.comm_s) + sh.P2p(q_rows);
  if (tbo) {
    // The all-to-all halved between the dispatch and the combine; a TP all-reduce runs on the
    // SMs (NCCL's kernels), with the attention.
    auto layer = [](const LayerCost& group, const LayerCost& x) {
      return MicroBatchLayer{group.kernels_s + group.comm_s - group.a2a_s, group.a2a_s / 2,
                             x.kernels_s, group.a2a_s / 2};
    };
    cost.overlapped_s = cost.kernels_s - logits + cost.comm_s -
                        TwoBatchOverlapSeconds(layer(dec, experts), layer(dec_b, experts_b),
                                               static_cast<int>(paced));
    e.overlapped_time = Seconds(cost.overlapped_s);
    e.micro_batches = 2;
  }
  cost.overhead_s = Sec(kIterationOverhead);
  const double idle = ToWatts(g.idle_power), tdp = ToWatts(g.tdp);
  const double verify_s = cost.seconds();
  double draft_s = 0, draft_j = 0;  // per GPU
  if (spec.method == SpeculationMethod::kDraft || spec.method == SpeculationMethod::kMtp) {
    // The drafter: gamma decode iterations at the batch on the same GPUs, without host overhead
    // of their own (one CUDA graph with the verify pass).
    const InferenceEstimate de = EstimateInference(DraftSetup(s));
    draft_s = spec.draft_tokens * (Sec(de.itl) - Sec(kIterationOverhead));
    draft_j = ToWatts(de.gpu_power) * draft_s;
    e.draft_weights_per_gpu = de.weights_per_gpu;
    e.kv_bytes_per_token = de.kv_bytes_per_token;  // the drafter's, added to the target's below
  }
  e.tokens_per_step =
      spec.enabled() ? ExpectedTokensPerStep(spec.acceptance, spec.draft_tokens) : 1.0;
  const double step = verify_s + draft_s;
  e.verify_time = Seconds(verify_s);
  e.draft_time = Seconds(draft_s);
  e.step_time = Seconds(step);
  e.itl = Seconds(step / e.tokens_per_step);
  e.decode_tokens_per_s = s.batch * e.tokens_per_step / step;
  const double verify_w = idle + (tdp - idle) * IterationActivity(cost, s.activity);
  e.gpu_power = Watts(draft_s > 0 ? (verify_w * verify_s + draft_j) / step : verify_w);
  e.energy_per_token_j = ToWatts(e.gpu_power) * e.gpus / e.decode_tokens_per_s;

  // Memory per GPU of the most loaded stage: n_max/layers of the model's parameters (the embedding
  // and head spread in proportion, as for even splits) and its layers' K and V. `stages` is pp,
  // exactly, when pp divides the layers.
  const double stages = layers / most;
  const double expert_params =
      m.IsMoe() ? m.layers * m.moe.experts * m.MlpParams(m.moe.expert_ffn_hidden_size) : 0.0;
  const double dense_params = m.TotalParams() - expert_params;
  // The experts: split over tp (ep <= tp: ep ways, each expert tp/ep ways), or ceil(e/ep) whole
  // experts on each GPU with wide EP.
  const double expert_share =
      sh.groups > 1 && m.IsMoe()
          ? std::ceil(static_cast<double>(m.moe.experts) / s.ep) / m.moe.experts
          : 1.0 / std::max(s.ep, s.tp);
  const double weights =
      (dense_params / (s.tp * stages) + expert_params * expert_share / stages) * sh.be;
  e.weights_per_gpu = Bytes(weights) + e.draft_weights_per_gpu;
  e.kv_bytes_per_token = e.kv_bytes_per_token + Bytes(most * sh.kv_elements_gpu * sh.kv_be);
  e.kv_cache_bytes = e.kv_bytes_per_token * (static_cast<double>(s.batch) / sh.groups *
                                             (s.prompt_tokens + s.output_tokens));
  // Activations of the largest forward (the prefill) are transient: a few of its tensors.
  const double workspace = 4.0 * s.prompt_tokens *
                           std::max(h, static_cast<double>(m.ffn_hidden_size) / s.tp) * sh.act_be;
  e.memory_per_gpu = e.weights_per_gpu + e.kv_cache_bytes + Bytes(workspace) + kRuntimeReserved;
  e.fits_in_memory = e.memory_per_gpu <= g.hbm_capacity;
  return e;
}

IterationModel::IterationModel(const InferenceSetup& s, int max_tokens)
    : setup_(s), max_tokens_(max_tokens) {
  FW_CHECK(s.tp >= 1 && s.pp >= 1 && s.ep >= 1 && max_tokens >= 1, "bad iteration model");
  FW_CHECK(s.gpu.Peak(s.dtype).has_value(), s.gpu.name + " has no peak for this data type");
  const Shape sh(s);
  InferenceSetup one = s;
  one.batch = one.prompt_tokens = one.output_tokens = 1;
  one.two_batch_overlap = false;  // its memory figures only
  const InferenceEstimate e = EstimateInference(one);
  // A token's K/V lives on one attention group: over the replica's GPUs, 1/groups of a group
  // GPU's (IterationModel::kv_bytes_per_token).
  kv_bytes_per_token_ = ToBytes(e.kv_bytes_per_token) / sh.groups;
  weights_bytes_ = ToBytes(e.weights_per_gpu);
  paced_layers_ = PacedLayers(e.layers_per_stage);
  kv_stored_fraction_ = s.model.layers / paced_layers_;
  const double layers = paced_layers_;
  kernels_.assign(static_cast<size_t>(max_tokens) + 1, 0.0);
  hbm_ = tensor_ = comm_ = logits_ = logits_hbm_ = logits_tensor_ = kernels_;
  groups_ = sh.groups;
  FW_CHECK(TwoBatchOverlapProblem(s).empty(), TwoBatchOverlapProblem(s));
  two_batch_ = s.two_batch_overlap;
  if (groups_ > 1) expert_kernels_ = expert_hbm_ = expert_tensor_ = kernels_;
  if (two_batch_) a2a_ = kernels_;
  for (int t = 1; t <= max_tokens; ++t) {
    // pp micro-batches of t/pp tokens each cycle through the stages, paced by the slowest (as
    // EstimateInference). With wide EP the index is the busiest attention group's tokens for its
    // group operators, and the replica's tokens for the routed experts, tabulated apart.
    const double rows = static_cast<double>(t) / s.pp;
    const LayerCost c = groups_ > 1 ? TokenOps(sh, rows, nullptr, 0, Ops::kGroup)
                                    : TokenOps(sh, rows, nullptr, rows);
    const auto i = static_cast<size_t>(t);
    if (groups_ > 1) {
      const LayerCost x = TokenOps(sh, rows, nullptr, rows, Ops::kRoutedExperts);
      expert_kernels_[i] = layers * x.kernels_s;
      expert_hbm_[i] = layers * x.hbm_s;
      expert_tensor_[i] = layers * x.tensor_s;
    }
    kernels_[i] = layers * c.kernels_s;
    hbm_[i] = layers * c.hbm_s;
    tensor_[i] = layers * c.tensor_s;
    comm_[i] = layers * c.comm_s + sh.P2p(rows);
    if (two_batch_) a2a_[i] = layers * c.a2a_s;
    logits_[i] = sh.Logits(rows);
    logits_hbm_[i] = logits_[i] * sh.HbmShare(sh.LogitsBytes(rows), logits_[i]);
    logits_tensor_[i] = logits_[i] * sh.TensorShare(sh.LogitsFlops(rows), logits_[i]);
  }
  // Attention per layer and micro-batch, which holds 1/pp of the sequences; Cost multiplies by the
  // paced layers, so the slowest stage's layers read every sequence's context once.
  // With wide EP a GPU decodes its group's 1/groups of the sequences (Cost takes a prefill's
  // pairs on the group that runs it).
  const double share = 1.0 / (s.pp * sh.groups);
  kv_read_bytes_per_token_ = DecodeKvBytes(sh, share);
  attention_flops_per_pair_ = PrefillAttentionFlops(sh, 1.0 / s.pp);
  decode_flops_per_pair_ = DecodeFlopsPerPair(sh) * share;
  hbm_bytes_per_s_ = ToBytesPerSecond(s.gpu.hbm_bandwidth) * sh.gm.memory_efficiency;
  attention_flops_per_s_ = ToFlopPerSecond(sh.attention_peak) * sh.flash_efficiency;
  attention_overhead_s_ = Sec(sh.gm.overhead);
  flash_ = sh.flash;
  gemm_flops_per_s_ = ToFlopPerSecond(sh.peak) * sh.gm.max_efficiency;
  if (!flash_) {
    unfused_seconds_per_score_ = UnfusedSecondsPerScore(sh) / s.pp;
    attention_overhead_s_ *= kUnfusedKernels;
  }
  peak_hbm_bytes_per_s_ = ToBytesPerSecond(s.gpu.hbm_bandwidth);
  peak_flops_per_s_ = ToFlopPerSecond(sh.peak);
}

IterationCost IterationModel::Cost(const IterationBatch& b) const {
  FW_CHECK(b.tokens >= 1 && b.tokens <= max_tokens_, "iteration outside the tabulated tokens");
  const InferenceSetup& s = setup_;
  const auto all = static_cast<size_t>(b.tokens);
  auto t = all;
  auto n = static_cast<size_t>(std::clamp(b.sampled, 1, max_tokens_));
  double prefill_pairs = b.prefill_pairs, prefill_scores = b.prefill_scores;
  if (groups_ > 1) {
    // Wide EP: the groups run in lockstep, paced by the busiest: its share of the decodes (spread
    // evenly) and the largest prefill chunk (a prompt runs on one group), with its pairs.
    const int decodes = b.tokens - b.prefill_tokens;
    t = static_cast<size_t>(
        std::clamp((decodes + groups_ - 1) / groups_ + b.largest_chunk, 1, b.tokens));
    n = static_cast<size_t>(std::clamp((b.sampled + groups_ - 1) / groups_, 1, max_tokens_));
    if (b.prefill_tokens > 0) {
      const double chunk = static_cast<double>(b.largest_chunk) / b.prefill_tokens;
      prefill_pairs *= chunk;
      prefill_scores *= chunk;
    }
  }
  const double layers = paced_layers_;
  IterationCost c;
  double decode_s = b.decode_kv_tokens > 0
                        ? layers * b.decode_kv_tokens * kv_read_bytes_per_token_ / hbm_bytes_per_s_
                        : 0.0;
  // MLA: the longer of the stream and the FLOPs, as EstimateInference (one query row a sequence;
  // a speculative step's verify rows are not counted here).
  if (s.model.mla.enabled()) {
    decode_s = std::max(
        decode_s, layers * b.decode_kv_tokens * decode_flops_per_pair_ / attention_flops_per_s_);
  }
  const double attention_s =
      flash_ ? prefill_pairs * attention_flops_per_pair_ / attention_flops_per_s_
             : prefill_scores * unfused_seconds_per_score_;
  const double prefill_s = prefill_pairs > 0 ? layers * (attention_s + attention_overhead_s_) : 0.0;
  c.kernels_s = kernels_[t] + logits_[n] + decode_s + prefill_s;
  c.comm_s = comm_[t];
  c.overhead_s = ToSeconds(kIterationOverhead);
  // Decode attention streams K/V at the HBM rate of the stream model; prefill attention runs the
  // tensor cores at the FlashAttention efficiency (its Q/K/V reads are small beside its FLOPs).
  // Unfused prefill attention executes the whole score matrix on the tensor cores and streams it
  // through HBM for the rest of its time, at the stream model's rate.
  const double kv_bytes = layers * b.decode_kv_tokens * kv_read_bytes_per_token_;
  const double prefill_flops =
      layers * (flash_ ? prefill_pairs : prefill_scores) * attention_flops_per_pair_;
  const double attention_flops =
      layers * b.decode_kv_tokens * decode_flops_per_pair_ + prefill_flops;
  double hbm_s = kv_bytes / peak_hbm_bytes_per_s_;
  if (!flash_ && prefill_s > 0) {
    const double streaming_s =
        std::max(0.0, layers * attention_s - prefill_flops / gemm_flops_per_s_);
    hbm_s += streaming_s * hbm_bytes_per_s_ / peak_hbm_bytes_per_s_;
  }
  if (two_batch_) {
    // Two-batch overlap (groups_ > 1): the busiest group's sequences split into two micro-batches
    // of about equal tokens at a sequence's edge (a prefill chunk of half its tokens or more is
    // one on its own), the routed experts' tokens in the same proportion; a lone sequence runs
    // as one batch, below.
    const int decodes = (b.tokens - b.prefill_tokens + groups_ - 1) / groups_;
    const int chunk = b.prefill_tokens > 0 ? b.largest_chunk : 0;
    const int whole = static_cast<int>(t);
    if (decodes + (chunk > 0 ? 1 : 0) >= 2 && whole >= 2) {
      const int ta = std::clamp(2 * chunk >= whole ? chunk : (whole + 1) / 2, 1, whole - 1);
      const auto a = static_cast<size_t>(ta), bb = static_cast<size_t>(whole - ta);
      const double decode_a = decodes > 0 ? std::clamp(ta - chunk, 0, decodes) / double(decodes)
                                          : 0.0;  // its share of the group's decodes
      const auto ea = static_cast<size_t>(
          std::clamp(static_cast<int>(std::lround(static_cast<double>(all) * ta / whole)), 1,
                     static_cast<int>(all) - 1));
      const size_t eb = all - ea;
      const double att_a = decode_s * decode_a + prefill_s, att_b = decode_s * (1 - decode_a);
      // The all-to-all halved between the dispatch and the combine; the rest of the
      // communication (a TP all-reduce) on the SMs with the attention, as EstimateInference.
      auto layer = [&](size_t tok, size_t ex, double att) {
        return MicroBatchLayer{(kernels_[tok] + comm_[tok] - a2a_[tok] + att) / layers,
                               a2a_[tok] / 2 / layers, expert_kernels_[ex] / layers,
                               a2a_[tok] / 2 / layers};
      };
      const MicroBatchLayer mb_a = layer(a, ea, att_a), mb_b = layer(bb, eb, att_b);
      const double layers_k = kernels_[a] + kernels_[bb] + decode_s + prefill_s +
                              expert_kernels_[ea] + expert_kernels_[eb];
      c.kernels_s = layers_k + logits_[n];
      c.comm_s = comm_[a] + comm_[bb];
      c.overlapped_s =
          layers_k + c.comm_s - TwoBatchOverlapSeconds(mb_a, mb_b, static_cast<int>(layers));
      c.hbm_s = hbm_[a] + hbm_[bb] + expert_hbm_[ea] + expert_hbm_[eb] + logits_hbm_[n] + hbm_s;
      c.tensor_s = tensor_[a] + tensor_[bb] + expert_tensor_[ea] + expert_tensor_[eb] +
                   logits_tensor_[n] + attention_flops / peak_flops_per_s_;
      c.activity = IterationActivity(c, s.activity);
      return c;
    }
  }
  c.hbm_s = hbm_[t] + logits_hbm_[n] + hbm_s;
  c.tensor_s = tensor_[t] + logits_tensor_[n] + attention_flops / peak_flops_per_s_;
  if (groups_ > 1) {
    c.kernels_s += expert_kernels_[all];
    c.hbm_s += expert_hbm_[all];
    c.tensor_s += expert_tensor_[all];
  }
  c.activity = IterationActivity(c, s.activity);
  return c;
}

double IterationActivity(const IterationCost& c, const PhaseActivity& a) {
  const double t = c.seconds();
  if (t <= 0) return 0;
  const double busy = a.kernel_base * (c.kernels_s + c.overhead_s) + a.per_hbm * c.hbm_s +
                      a.per_tensor * c.tensor_s + a.communication * c.comm_s;
  return std::clamp(busy / t, 0.0, 1.0);
}

CachedPrefixEstimate EstimateCachedPrefix(const InferenceSetup& s, int cached,
                                          double link_bytes_per_s) {
  const IterationModel im(s, s.prompt_tokens);
  auto prefill = [&](double c, double after) {
    IterationBatch b;
    b.tokens = static_cast<int>(c);
    b.sampled = 1;
    b.prefill_pairs = c * (after + c / 2);
    b.prefill_scores = c * (after + c);
    b.prefill_tokens = b.largest_chunk = b.tokens;  // a lone prompt: one group with wide EP
    return im.Cost(b).seconds();
  };
  CachedPrefixEstimate p;
  p.tokens = cached;
  p.link_bytes_per_s = link_bytes_per_s;
  // Read into the GPUs of the prompt's group: with wide EP, the replica's per-token average
  // times the groups.
  p.read_s = cached * im.kv_bytes_per_token() * AttentionGroups(s) / link_bytes_per_s;
  p.prefill_s = prefill(s.prompt_tokens - cached, cached);
  p.recompute_s = prefill(s.prompt_tokens, 0);
  return p;
}

}  // namespace firstwall::workload
