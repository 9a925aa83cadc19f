// The training model against Megatron-LM's published weak-scaling table (Narayanan et al., SC21,
// ../shared/data/calibration/megatron_a100_2021.csv): GPT 1.7B to 1T on 32 to 3,072 A100 GPUs with
// the table's TP/PP/DP, full recomputation, sequence 2048 and the micro-batch picked by the model.
// The published step time follows from the table's TFLOP/s per GPU and its FLOP formula.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "hardware/calibration_data.h"
#include "scenario/catalog.h"
#include "workload/training_step.h"

namespace firstwall::workload {
namespace {
using namespace units;

TEST(TrainingAccuracy, MegatronA100WeakScaling) {
  const auto t = firstwall::testing::ReadCalibrationCsv("megatron_a100_2021.csv");
  if (t.rows.empty()) GTEST_SKIP() << "../shared/data/calibration/megatron_a100_2021.csv absent";
  const hardware::GpuSpec a100 = scenario::BuiltinCatalog().gpus.at("A100-SXM4-80GB");
  std::printf("%8s %4s %4s %4s %5s %8s %8s %7s %3s | %7s %6s %6s %6s %6s %6s\n", "params", "tp",
              "pp", "dp", "gpus", "paper_s", "model_s", "error", "mb", "compute", "tp", "bubble",
              "p2p", "dp", "optim");
  double sum = 0, worst = 0;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const double h = t.Number(r, "hidden_size"), l = t.Number(r, "layers");
    const double B = t.Number(r, "global_batch"), s = 2048, V = 51200;
    ModelCard m;
    m.name = "gpt";
    m.layers = static_cast<int>(l);
    m.hidden_size = static_cast<int>(h);
    m.attention_heads = static_cast<int>(t.Number(r, "attention_heads"));
    m.kv_heads = m.attention_heads;
    m.ffn_hidden_size = 4 * m.hidden_size;
    m.vocab_size = static_cast<int>(V);
    m.tied_embeddings = true;
    TrainingSetup setup;
    setup.model = m;
    setup.gpu = a100;
    setup.tp = static_cast<int>(t.Number(r, "tp"));
    setup.pp = static_cast<int>(t.Number(r, "pp"));
    setup.dp = static_cast<int>(t.Number(r, "dp"));
    setup.global_batch = static_cast<int>(B);
    setup.sequence_length = 2048;
    setup.micro_batch = 0;  // auto
    setup.recompute = Recompute::kFull;
    // Megatron-LM as of SC21: unfused attention (FlashAttention came in 2022), no distributed
    // optimizer, no sequence parallelism, gradient all-reduce after the backward pass. Selene: 8 x
    // 200 Gb/s HDR InfiniBand per DGX A100.
    setup.zero = 0;
    setup.attention = AttentionKernel::kUnfused;
    setup.layer_kernels =
        LayerKernels::kFused;  // Megatron-LM's fused bias-GeLU, dropout-add, norms
    setup.sequence_parallel = false;
    setup.overlap_grad_reduce = false;
    setup.nic_bandwidth = GigabitsPerSecond(200);
    setup.link_latency = Microseconds(5);
    ASSERT_EQ(LayoutProblem(setup), "") << r;
    const StepEstimate e = EstimateStep(setup);
    const double flops = 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
    const double paper =
        flops / (t.Number(r, "achieved_tflops_per_gpu") * 1e12 * t.Number(r, "gpus"));
    const double model = ToSeconds(e.step_time);
    const double err = (model - paper) / paper;
    sum += std::abs(err);
    worst = std::max(worst, std::abs(err));
    const auto& b = e.breakdown;
    std::printf(
        "%7.1fB %4d %4d %4d %5d %8.2f %8.2f %+6.1f%% %3d | %7.2f %6.2f %6.2f %6.2f %6.2f %6.2f\n",
        t.Number(r, "params_billion"), setup.tp, setup.pp, setup.dp, GpuCount(setup), paper, model,
        100 * err, e.micro_batch, ToSeconds(b.compute), ToSeconds(b.tp_comm),
        ToSeconds(b.pp_bubble), ToSeconds(b.pp_p2p), ToSeconds(b.dp_comm_exposed),
        ToSeconds(b.optimizer));
    EXPECT_LT(std::abs(err), 0.10) << "row " << r;
  }
  const double mean = sum / static_cast<double>(t.rows.size());
  std::printf("mean |error| %.1f%%, worst %.1f%%\n", 100 * mean, 100 * worst);
  EXPECT_LE(mean, 0.05);
}

// TorchTitan's published FSDP2 throughput of Llama 3 on 64 A100 80GB (pytorch/torchtitan
// docs/performance.md, "Llama 3 performance numbers": local batch 1, sequence 8192; 8B selective
// activation checkpointing 2,904-2,973 tokens/s per GPU, 70B full checkpointing 331; MFU 56.8% and
// 51.7%). First an unseen check, since issue #16 one of the sets the eager-framework overheads are
// calibrated on (EagerFrameworkOverheadsAcrossSizes below).
struct TorchTitanCase {
  const char* model;
  Recompute recompute;
  double measured_tokens_per_gpu_s;
  double measured_mfu_percent;
};
constexpr TorchTitanCase kTorchTitanA100[] = {{"llama3-8b", Recompute::kSelective, 2904, 56.8},
                                              {"llama3-70b", Recompute::kFull, 331, 51.7}};

TrainingSetup TorchTitanA100Setup(const TorchTitanCase& c) {
  const auto& cat = scenario::BuiltinCatalog();
  TrainingSetup s;
  s.model = cat.models.at(c.model);
  s.gpu = cat.gpus.at("A100-SXM4-80GB");
  s.dp = 64;
  s.zero = 3;
  s.global_batch = 64;
  s.micro_batch = 1;
  s.sequence_length = 8192;
  s.recompute = c.recompute;
  s.nic_bandwidth = GigabitsPerSecond(200);
  s.link_latency = Microseconds(5);
  return s;
}

TEST(TrainingAccuracy, TorchTitanA100FsdpUnseen) {
  for (const TorchTitanCase& c : kTorchTitanA100) {
    const StepEstimate e = EstimateStep(TorchTitanA100Setup(c));
    const double model = e.tokens_per_step / ToSeconds(e.step_time) / 64;
    const double err = (model - c.measured_tokens_per_gpu_s) / c.measured_tokens_per_gpu_s;
    std::printf("TorchTitan A100 FSDP %-11s measured %6.0f tokens/s/GPU, model %6.0f (%+.0f%%)\n",
                c.model, c.measured_tokens_per_gpu_s, model, 100 * err);
    EXPECT_TRUE(e.fits_in_memory);
    EXPECT_LT(std::abs(err), 0.3) << c.model;
  }
}

// A measured eager-PyTorch training throughput and the setup that reproduces it.
struct EagerCase {
  std::string name;
  TrainingSetup setup;
  double measured_tokens_per_gpu_s = 0;
  double measured_mfu_percent = 0;  // as published (0: not given)
};

// MosaicML's published H100 bf16 throughput of MPT models from 760M to 70B parameters
// (data/calibration/mpt_h100_bf16_training.csv, from llm-foundry's benchmarking README): PyTorch
// FSDP FULL_SHARD (ZeRO-3) over all GPUs, FlashAttention, the table's micro-batch, global batch and
// activation checkpointing (full recomputation when on); and TorchTitan's Llama 3 on 64 A100
// (above). The public sets the eager-framework overheads (training_step.h) are calibrated on.
std::vector<EagerCase> EagerCases() {
  std::vector<EagerCase> cases;
  const auto t = firstwall::testing::ReadCalibrationCsv("mpt_h100_bf16_training.csv",
                                                        firstwall::testing::kProjectCalibrationDir);
  const auto& cat = scenario::BuiltinCatalog();
  for (size_t r = 0; r < t.rows.size(); ++r) {
    ModelCard m;
    m.name = "mpt-" + t.rows[r][t.Column("model")];
    m.hidden_size = static_cast<int>(t.Number(r, "d_model"));
    m.attention_heads = static_cast<int>(t.Number(r, "n_heads"));
    m.kv_heads = m.attention_heads;
    m.layers = static_cast<int>(t.Number(r, "n_layers"));
    m.ffn_hidden_size = 4 * m.hidden_size;
    m.ffn_type = FfnType::kGelu;
    m.vocab_size = 50368;
    m.tied_embeddings = true;
    EagerCase c;
    TrainingSetup& s = c.setup;
    s.model = m;
    s.gpu = cat.gpus.at("H100-SXM5-80GB");
    s.dp = static_cast<int>(t.Number(r, "gpus"));
    s.zero = 3;
    s.micro_batch = static_cast<int>(t.Number(r, "micro_batch"));
    s.sequence_length = static_cast<int>(t.Number(r, "seq"));
    // Composer accumulates gradients over micro-batches that need not divide the batch; the model
    // needs them to, so the global batch is micro-batch x accumulation x GPUs (equal or close).
    s.global_batch = s.micro_batch * static_cast<int>(t.Number(r, "grad_accum")) * s.dp;
    s.recompute = t.Number(r, "activation_checkpointing") > 0 ? Recompute::kFull : Recompute::kNone;
    s.nic_bandwidth = GigabitsPerSecond(400);
    s.link_latency = Microseconds(5);
    c.name = "H100 MPT " + t.rows[r][t.Column("model")] + " x" + std::to_string(s.dp);
    c.measured_tokens_per_gpu_s = t.Number(r, "tokens_per_s_per_gpu");
    c.measured_mfu_percent = t.Number(r, "mfu_percent");
    cases.push_back(c);
  }
  for (const TorchTitanCase& tt : kTorchTitanA100) {
    EagerCase c;
    c.setup = TorchTitanA100Setup(tt);
    c.name = std::string("A100 TorchTitan ") + tt.model + " x64";
    c.measured_tokens_per_gpu_s = tt.measured_tokens_per_gpu_s;
    c.measured_mfu_percent = tt.measured_mfu_percent;
    cases.push_back(c);
  }
  return cases;
}

double ModelTokensPerGpuS(const TrainingSetup& s) {
  const StepEstimate e = EstimateStep(s);
  return e.tokens_per_step / ToSeconds(e.step_time) / GpuCount(s);
}

// Every eager case with the calibrated overheads, and with the fused kernels of before (the
// "before" column: no eager overhead), printed; then the fit: no extra-element count on a grid of 5
// does better by more than 0.5 points of mean |error|.
TEST(TrainingAccuracy, EagerFrameworkOverheadsAcrossSizes) {
  const std::vector<EagerCase> cases = EagerCases();
  ASSERT_GT(cases.size(), 2u) << "data/calibration/mpt_h100_bf16_training.csv missing";
  std::printf("%-30s | %8s %8s %7s | %8s %7s | %6s %6s\n", "case", "measured", "model", "error",
              "fused", "error", "meas%", "mfu%");
  double sum = 0, worst = 0, sum_before = 0;
  for (const EagerCase& c : cases) {
    ASSERT_EQ(LayoutProblem(c.setup), "") << c.name;
    const StepEstimate e = EstimateStep(c.setup);
    const double model = e.tokens_per_step / ToSeconds(e.step_time) / GpuCount(c.setup);
    TrainingSetup fused = c.setup;
    fused.layer_kernels = LayerKernels::kFused;
    const double before = ModelTokensPerGpuS(fused);
    const double m = c.measured_tokens_per_gpu_s;
    const double err = (model - m) / m, err_before = (before - m) / m;
    sum += std::abs(err);
    sum_before += std::abs(err_before);
    worst = std::max(worst, std::abs(err));
    std::printf("%-30s | %8.0f %8.0f %+6.1f%% | %8.0f %+6.1f%% | %6.1f %6.1f\n", c.name.c_str(), m,
                model, 100 * err, before, 100 * err_before, c.measured_mfu_percent, 100 * e.mfu);
  }
  const double n = static_cast<double>(cases.size());
  std::printf("mean |error| %.1f%% (fused kernels: %.1f%%), worst %.1f%%\n", 100 * sum / n,
              100 * sum_before / n, 100 * worst);
  // 6.1% when fitted; 8.9% once the collectives of issue #16 made ZeRO-3 gathers cheaper, which
  // speeds the MPT 13B rows (already the worst: FSDP prefetching is not modelled).
  EXPECT_LE(sum / n, 0.10);
  EXPECT_LE(worst, 0.30);
  double best = sum / n, best_x = kEagerExtraElementsPerHidden;
  for (int x = 0; x <= 200; x += 5) {
    double e = 0;
    for (const EagerCase& c : cases) {
      TrainingSetup s = c.setup;
      s.eager_extra_elements = x;
      e += std::abs(ModelTokensPerGpuS(s) - c.measured_tokens_per_gpu_s) /
           c.measured_tokens_per_gpu_s;
    }
    if (e / n < best) {
      best = e / n;
      best_x = x;
    }
  }
  std::printf("best of the grid: %.0f extra elements per hidden unit, %.1f%%\n", best_x,
              100 * best);
  EXPECT_LE(sum / n - best, 0.005);
}

}  // namespace
}  // namespace firstwall::workload
