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

struct LayerCost {
  double kernels_s = 0;  // GEMMs, attention, norms
  double comm_s = 0;     // TP all-reduce, EP all-to-all
  std::vector<OpCost>* ops = nullptr;
  void Add(const char* name, double flops, double bytes, double seconds, bool comm = false) {
    (comm ? comm_s : kernels_s) += seconds;
    if (ops) ops->push_back({name, flops, bytes, Seconds(seconds), Seconds(0)});
  }
};

// One layer on one GPU for `rows` tokens; `kv_tokens` > 0: decode, reading that many tokens of
// K/V per sequence for `rows` sequences; 0: prefill of `rows` tokens of one sequence.
LayerCost Layer(const InferenceSetup& s, double rows, double kv_tokens,
                const hardware::CollectiveModel& net, std::vector<OpCost>* ops) {
  const ModelCard& m = s.model;
  const hardware::GpuSpec& g = s.gpu;
  const FlopRate peak = *g.Peak(s.dtype);
  const double be = hardware::BytesPerElement(s.dtype);
  const double act_be = s.dtype == hardware::DataType::kFp8 ? 2.0 : be;
  const double h = m.hidden_size, tp = s.tp;
  const double q_dim = static_cast<double>(m.attention_heads) * m.HeadDim();
  const double kv_dim_gpu = std::max(1.0, m.kv_heads / tp) * m.HeadDim();
  const hardware::GemmModel gm = g.GemmFor(s.dtype);
  LayerCost c;
  c.ops = ops;
  auto gemm = [&](const char* name, double m_rows, double n, double k, double count = 1) {
    if (m_rows <= 0 || n <= 0 || count <= 0) return;
    const double t = count * Sec(hardware::GemmTime(gm, m_rows, n, k, be, peak, g.hbm_bandwidth));
    c.Add(name, count * 2 * m_rows * n * k, count * be * (m_rows * k + n * k + m_rows * n), t);
  };
  gemm("qkv_proj", rows, q_dim / tp + 2 * kv_dim_gpu, h);
  if (kv_tokens <= 0) {
    // Causal FlashAttention forward over rows x rows: 2 GEMM-like products, half the matrix.
    const double flops = 2.0 * 2.0 * rows * rows * (q_dim / tp) / 2.0;
    c.Add("attention_prefill", flops, 0,
          flops / (ToFlopPerSecond(peak) * kAttentionForwardEfficiency) + Sec(gm.overhead));
  } else {
    // Decode: every sequence reads its K and V for kv_tokens positions.
    const double bytes = rows * kv_tokens * 2.0 * kv_dim_gpu * act_be;
    c.Add("attention_decode", 2.0 * 2.0 * rows * kv_tokens * q_dim / tp, bytes,
          Sec(hardware::StreamTime(gm, Bytes(bytes), g.hbm_bandwidth)));
  }
  gemm("out_proj", rows, h, q_dim / tp);
  const double gate = m.ffn_type == FfnType::kSwiglu ? 2.0 : 1.0;
  if (!m.IsMoe()) {
    gemm("mlp_up_proj", rows, gate * m.ffn_hidden_size / tp, h);
    gemm("mlp_down_proj", rows, h, m.ffn_hidden_size / tp);
  } else {
    // Routed experts: of the e/ep local experts, the expected number any of the rows x top_k
    // choices reach, each with its share of the rows (experts split over ep, each over tp / ep).
    const double e = m.moe.experts, k = m.moe.top_k, f = m.moe.expert_ffn_hidden_size;
    const double local = e / s.ep;
    const double reached = local * (1.0 - std::pow(1.0 - k / e, rows * s.ep));
    const double expert_rows = rows * s.ep * k / e * local / std::max(reached, 1e-9);
    const double split = std::max(1.0, tp / s.ep);
    gemm("expert_up_proj", expert_rows, gate * f / split, h, reached);
    gemm("expert_down_proj", expert_rows, h, f / split, reached);
    if (m.moe.shared_experts > 0) {
      gemm("shared_expert_up_proj", rows, gate * f * m.moe.shared_experts / tp, h);
      gemm("shared_expert_down_proj", rows, h, f * m.moe.shared_experts / tp);
    }
    if (s.ep > 1) {
      const DataSize msg = Bytes(rows * k * h * act_be);
      const double a2a = Sec(CollectiveTime(net, Collective::kAllToAll, msg, s.ep, s.ep));
      c.Add("ep_all_to_all", 0, 2 * ToBytes(msg), 2 * a2a, true);
    }
  }
  const double stream = act_be * rows * kElementwiseElementsPerHidden * h;
  c.Add("norms_residual_activation", 0, stream,
        Sec(hardware::StreamTime(gm, Bytes(stream), g.hbm_bandwidth)) +
            kElementwiseKernelsPerLayer * Sec(kElementwiseKernelOverhead));
  if (s.tp > 1) {
    const DataSize act = Bytes(rows * h * act_be);
    c.Add("tp_all_reduce", 0, 2 * ToBytes(act),
          2 * Sec(CollectiveTime(net, Collective::kAllReduce, act, s.tp, s.tp)), true);
  }
  return c;
}

}  // namespace

InferenceEstimate EstimateInference(const InferenceSetup& s) {
  FW_CHECK(s.tp >= 1 && s.pp >= 1 && s.ep >= 1 && s.batch >= 1, "bad inference layout");
  FW_CHECK(s.prompt_tokens >= 1 && s.output_tokens >= 1, "a request has tokens");
  const ModelCard& m = s.model;
  const hardware::GpuSpec& g = s.gpu;
  FW_CHECK(g.Peak(s.dtype).has_value(), g.name + " has no peak for this data type");
  InferenceEstimate e;
  e.gpus = s.tp * s.pp;
  e.model_matrix_params_per_layer = m.ActiveLayerMatrixParams();
  TrainingSetup ts;  // for the collective model only
  ts.gpu = g;
  ts.nvlink_domain = std::max(8, s.tp * s.ep);
  const hardware::CollectiveModel net = CollectivesFor(ts);
  const double be = hardware::BytesPerElement(s.dtype);
  const double act_be = s.dtype == hardware::DataType::kFp8 ? 2.0 : be;
  const double layers = m.layers;
  const double h = m.hidden_size;
  const hardware::GemmModel gm = g.GemmFor(s.dtype);
  const FlopRate peak = *g.Peak(s.dtype);
  auto logits = [&](double rows) {
    return Sec(hardware::GemmTime(gm, rows, m.vocab_size / static_cast<double>(s.tp), h, be, peak,
                                  g.hbm_bandwidth));
  };
  auto p2p = [&](double rows) {
    return s.pp > 1 ? (s.pp - 1.0) * Sec(hardware::P2pTime(net, Bytes(rows * h * act_be), false))
                    : 0.0;
  };

  // Prefill of one prompt: through every stage in turn.
  const LayerCost pre = Layer(s, s.prompt_tokens, 0, net, nullptr);
  e.prefill_time =
      Seconds(layers * (pre.kernels_s + pre.comm_s) + p2p(s.prompt_tokens) + logits(1));

  // Decode: pp micro-batches of B/pp sequences each cycle through the stages.
  const double rows = static_cast<double>(s.batch) / s.pp;
  const double context = s.prompt_tokens + s.output_tokens / 2.0;
  const LayerCost dec = Layer(s, rows, context, net, &e.decode_ops);
  const double kernels = layers * dec.kernels_s + logits(rows);
  const double comm = layers * dec.comm_s + p2p(rows);
  const double overhead = Sec(kIterationOverhead);
  const double itl = kernels + comm + overhead;
  e.itl = Seconds(itl);
  e.decode_tokens_per_s = s.batch / itl;
  const double activity = (kernels * s.activity.compute + comm * s.activity.communication) / itl;
  const double idle = ToWatts(g.idle_power), tdp = ToWatts(g.tdp);
  e.gpu_power = Watts(idle + (tdp - idle) * std::clamp(activity, 0.0, 1.0));
  e.energy_per_token_j = ToWatts(e.gpu_power) * e.gpus / e.decode_tokens_per_s;

  // Memory per GPU.
  const double expert_params =
      m.IsMoe() ? m.layers * m.moe.experts * m.MlpParams(m.moe.expert_ffn_hidden_size) : 0.0;
  const double dense_params = m.TotalParams() - expert_params;
  const double weights =
      (dense_params / (s.tp * s.pp) + expert_params / (s.pp * std::max(s.ep, s.tp))) * be;
  e.weights_per_gpu = Bytes(weights);
  const double kv_dim_gpu = std::max(1.0, m.kv_heads / static_cast<double>(s.tp)) * m.HeadDim();
  e.kv_bytes_per_token = Bytes(2.0 * layers / s.pp * kv_dim_gpu * act_be);
  e.kv_cache_bytes =
      e.kv_bytes_per_token * (static_cast<double>(s.batch) * (s.prompt_tokens + s.output_tokens));
  // Activations of the largest forward (the prefill) are transient: a few of its tensors.
  const double workspace =
      4.0 * s.prompt_tokens * std::max(h, static_cast<double>(m.ffn_hidden_size) / s.tp) * act_be;
  e.memory_per_gpu = e.weights_per_gpu + e.kv_cache_bytes + Bytes(workspace) + kRuntimeReserved;
  e.fits_in_memory = e.memory_per_gpu <= g.hbm_capacity;
  return e;
}

}  // namespace firstwall::workload
