#include "workload/training_step.h"

#include <algorithm>

#include "core/error.h"

namespace firstwall::workload {
using namespace units;

int GpuCount(const TrainingSetup& s) { return s.tp * s.dp; }

Duration RingAllReduceTime(DataSize size, int ranks, Bandwidth bandwidth, Duration latency) {
  if (ranks <= 1) return Seconds(0);
  const double d = ranks;
  return size * (2.0 * (d - 1.0) / d) / bandwidth + latency * (2.0 * (d - 1.0));
}

StepEstimate EstimateStep(const TrainingSetup& s) {
  FW_CHECK(s.tp >= 1 && s.dp >= 1 && s.micro_batch >= 1, "parallel degrees must be positive");
  FW_CHECK(s.global_batch % (s.dp * s.micro_batch) == 0,
           "global batch must divide into micro-batches per DP rank");
  const auto peak = s.gpu.Peak(s.dtype);
  FW_CHECK(peak.has_value(), "GPU has no peak for the data type");
  const ModelCard& m = s.model;
  const int gpus = GpuCount(s);
  const double bytes_el = hardware::BytesPerElement(s.dtype);
  const double seq = s.sequence_length;
  const double h = m.hidden_size;

  StepEstimate e;
  e.tokens_per_step = static_cast<double>(s.global_batch) * seq;
  e.model_flops = Flop(3.0 * m.ForwardFlopsPerToken(s.sequence_length) * e.tokens_per_step);
  const double recompute_factor = s.recompute == Recompute::kFull ? 4.0 / 3.0 : 1.0;
  e.hardware_flops = e.model_flops * recompute_factor;

  // Bytes each GPU moves to and from HBM per step: the weight shard is read three times per
  // micro-batch (forward, data gradient, weight gradient), and each layer's stored activations
  // (34 x s x b x h bytes in 16-bit, Korthikanti et al. 2022, eq. 2, divided by t) are written once
  // and read once.
  const int micro_batches = s.global_batch / (s.dp * s.micro_batch);
  const double weight_bytes = m.TotalParams() / s.tp * bytes_el;
  const double act_bytes = 2.0 * 34.0 * seq * s.micro_batch * h * m.layers / s.tp;
  const DataSize bytes = Bytes(micro_batches * (3.0 * weight_bytes + act_bytes));
  e.compute = hardware::RooflineTime(e.hardware_flops / gpus, bytes, *peak, s.compute_efficiency,
                                     s.gpu.hbm_bandwidth);

  // Tensor-parallel all-reduces of one micro-batch's activations (b x s x h elements).
  const DataSize act_msg = Bytes(s.micro_batch * seq * h * bytes_el);
  const double tp_collectives = 4.0 * m.layers * micro_batches;
  e.tp_comm =
      RingAllReduceTime(act_msg, s.tp, s.gpu.NvlinkPerDirection(), s.link_latency) * tp_collectives;

  // Data-parallel gradient all-reduce, bf16 gradients of one TP shard.
  const DataSize grads = Bytes(m.TotalParams() / s.tp * 2.0);
  const bool dp_in_node = s.tp * s.dp <= s.gpus_per_node;
  const Bandwidth dp_bw = dp_in_node ? s.gpu.NvlinkPerDirection() : s.nic_bandwidth;
  e.dp_comm = RingAllReduceTime(grads, s.dp, dp_bw, s.link_latency);

  // Adam: 16 bytes of fp32 state read and written, 2 bytes of weights written, per parameter.
  e.optimizer = Bytes(m.TotalParams() / s.tp * (2.0 * 16.0 + 2.0)) / s.gpu.hbm_bandwidth;

  e.step_time = e.compute + e.tp_comm + e.dp_comm + e.optimizer;
  e.mfu = e.model_flops / (*peak * e.step_time) / gpus;
  e.model_flop_rate_per_gpu = e.model_flops / e.step_time / gpus;

  const Duration fwd_bwd = e.compute + e.tp_comm;
  const double fwd_bwd_activity = (s.activity.compute * ToSeconds(e.compute) +
                                   s.activity.communication * ToSeconds(e.tp_comm)) /
                                  ToSeconds(fwd_bwd);
  e.phases.push_back({"compute", fwd_bwd, fwd_bwd_activity});
  if (e.dp_comm > Seconds(0)) {
    e.phases.push_back({"dp_comm", e.dp_comm, s.activity.communication});
  }
  e.phases.push_back({"optimizer", e.optimizer, s.activity.optimizer});
  return e;
}

}  // namespace firstwall::workload
