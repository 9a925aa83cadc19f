// Issue #16, case 5: the kernels and data types the training and inference models use come from
// what the GPU's card says it runs (peak_dense keys, capabilities.flash_attention), and a Volta
// card is checked against Megatron-LM's published V100 training throughput.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "scenario/catalog.h"
#include "workload/inference.h"
#include "workload/training_step.h"

namespace firstwall::workload {
namespace {
using namespace units;
using hardware::DataType;

const hardware::GpuSpec& Gpu(const char* name) { return scenario::BuiltinCatalog().gpus.at(name); }

bool HasOp(const std::vector<OpCost>& ops, const std::string& name) {
  for (const OpCost& op : ops) {
    if (op.name == name) return true;
  }
  return false;
}
const OpCost& Op(const std::vector<OpCost>& ops, const std::string& name) {
  for (const OpCost& op : ops) {
    if (op.name == name) return op;
  }
  ADD_FAILURE() << "no operator " << name;
  return ops.front();
}

TrainingSetup Llama8b(const hardware::GpuSpec& gpu) {
  TrainingSetup s;
  s.model = scenario::BuiltinCatalog().models.at("llama3-8b");
  s.gpu = gpu;
  s.dtype = gpu.DefaultDataType();
  s.tp = 8;
  s.global_batch = 16;
  s.micro_batch = 1;
  s.sequence_length = 2048;
  s.recompute = Recompute::kFull;
  s.nic_bandwidth = GigabitsPerSecond(400);
  s.link_latency = Microseconds(5);
  return s;
}

TEST(GpuCapabilities, V100TrainsInFp16WithUnfusedAttention) {
  const TrainingSetup v100 = Llama8b(Gpu("V100-SXM2-32GB"));
  EXPECT_EQ(v100.dtype, DataType::kFp16);
  ASSERT_EQ(LayoutProblem(v100), "");
  const StepEstimate e = EstimateStep(v100);
  // The setup asked for FlashAttention (the default); the card has none, so the score matrix
  // goes through HBM.
  EXPECT_EQ(v100.attention, AttentionKernel::kFlash);
  EXPECT_EQ(AttentionKernelName(v100.gpu, v100.attention), "unfused");
  EXPECT_FALSE(HasOp(e.layer_ops, "flash_attention"));
  EXPECT_TRUE(HasOp(e.layer_ops, "attn_scores_qk"));
  EXPECT_TRUE(HasOp(e.layer_ops, "attn_softmax_dropout"));
  const TrainingSetup h100 = Llama8b(Gpu("H100-SXM5-80GB"));
  EXPECT_EQ(h100.dtype, DataType::kBf16);
  EXPECT_EQ(AttentionKernelName(h100.gpu, h100.attention), "flash-attention-3");
  EXPECT_TRUE(HasOp(EstimateStep(h100).layer_ops, "flash_attention"));
  // An fp8 request is a layout problem on V100 (the CLI and scenarios refuse it first).
  TrainingSetup fp8 = v100;
  fp8.dtype = DataType::kFp8;
  EXPECT_NE(LayoutProblem(fp8).find("has no fp8 throughput"), std::string::npos);
}

TEST(GpuCapabilities, UnfusedAttentionKeepsTheScoresWithoutRecomputation) {
  TrainingSetup s = Llama8b(Gpu("V100-SXM2-32GB"));
  s.recompute = Recompute::kNone;
  hardware::GpuSpec flash = s.gpu;
  flash.capabilities.flash_attention = 2;
  TrainingSetup f = s;
  f.gpu = flash;
  const double extra =
      ToBytes(EstimateStep(s).memory.activations) - ToBytes(EstimateStep(f).memory.activations);
  // Korthikanti et al. 2022: 5 a s^2 b bytes per layer (softmax output, mask, dropout output),
  // split over tp, for the pp=1 stage's one micro-batch in flight.
  const ModelCard& m = s.model;
  const double expected =
      5.0 * m.attention_heads / s.tp * s.sequence_length * s.sequence_length * m.layers;
  EXPECT_NEAR(extra / expected, 1.0, 1e-9);
}

TEST(GpuCapabilities, FlashAttentionOneRunsAtAboutHalfOfTwo) {
  hardware::GpuSpec turing = Gpu("A100-SXM4-80GB");
  turing.capabilities.flash_attention = 1;
  const StepEstimate fa1 = EstimateStep(Llama8b(turing));
  const StepEstimate fa2 = EstimateStep(Llama8b(Gpu("A100-SXM4-80GB")));
  const OpCost& a1 = Op(fa1.layer_ops, "flash_attention");
  const OpCost& a2 = Op(fa2.layer_ops, "flash_attention");
  // Dao 2023: FlashAttention 25-40% of the A100 peak, FlashAttention-2 50-73% (midpoints).
  EXPECT_NEAR(ToSeconds(a1.forward) / ToSeconds(a2.forward), 61.5 / 32.5, 1e-9);
  EXPECT_NEAR(ToSeconds(a1.backward) / ToSeconds(a2.backward), 61.5 / 32.5, 1e-9);
}

TEST(GpuCapabilities, Fp16PaysForLossScalingInTheOptimizer) {
  const TrainingSetup bf16 = Llama8b(Gpu("A100-SXM4-80GB"));
  TrainingSetup fp16 = bf16;
  fp16.dtype = DataType::kFp16;
  // Adam streams 30 bytes per parameter; unscaling and checking the fp32 gradients 8 more.
  EXPECT_NEAR(ToSeconds(EstimateStep(fp16).breakdown.optimizer) /
                  ToSeconds(EstimateStep(bf16).breakdown.optimizer),
              38.0 / 30.0, 1e-9);
}

InferenceSetup Serve(const hardware::GpuSpec& gpu, int prompt) {
  InferenceSetup s;
  s.model = scenario::BuiltinCatalog().models.at("llama3-8b");
  s.gpu = gpu;
  s.dtype = gpu.DefaultDataType();
  s.batch = 8;
  s.prompt_tokens = prompt;
  s.output_tokens = 128;
  return s;
}

TEST(GpuCapabilities, V100ServesWithUnfusedPrefillAttention) {
  const hardware::GpuSpec& v100 = Gpu("V100-SXM2-32GB");
  hardware::GpuSpec flash = v100;
  flash.capabilities.flash_attention = 2;
  const InferenceEstimate unfused = EstimateInference(Serve(v100, 4096));
  const InferenceEstimate fa = EstimateInference(Serve(flash, 4096));
  EXPECT_TRUE(unfused.fits_in_memory);
  // Prefill pays for the whole score matrix through HBM; decode reads the KV cache either way
  // (PagedAttention builds for sm70).
  EXPECT_GT(unfused.prefill_time, fa.prefill_time * 1.05);
  EXPECT_DOUBLE_EQ(ToSeconds(unfused.itl), ToSeconds(fa.itl));
  // The iteration model of the serving simulation charges the same: a lone 4096-token prompt
  // as one chunk costs what EstimateInference's prefill does, logits aside.
  for (const hardware::GpuSpec* g : {&v100, static_cast<const hardware::GpuSpec*>(&flash)}) {
    const InferenceSetup s = Serve(*g, 4096);
    const IterationModel model(s, 4096);
    IterationBatch b;
    b.tokens = 4096;
    b.sampled = 1;
    b.prefill_pairs = 4096.0 * 4096.0 / 2;
    b.prefill_scores = 4096.0 * 4096.0;
    const IterationCost c = model.Cost(b);
    const double estimate = ToSeconds(EstimateInference(s).prefill_time);
    EXPECT_NEAR(c.kernels_s + c.comm_s, estimate, 0.01 * estimate)
        << g->capabilities.flash_attention;
    EXPECT_GT(c.activity, 0.0);
    EXPECT_LE(c.activity, 1.0);
  }
}

// Megatron-LM on V100 (Shoeybi et al., arXiv:1909.08053, sec. 5.1, Figure 5, Table 1): GPT-2
// shapes with 96-wide heads, sequence 1024, vocabulary 51,200, fp16 with dynamic loss scaling,
// activation checkpointing after every layer, unfused attention, gradient all-reduce after the
// backward pass, on DGX-2H servers (16 V100 SXM3 32GB on NVSwitch, 8 x 100 Gb/s InfiniBand each).
//   1.2B on 1 GPU, batch 8: 39 TFLOP/s, "30% of peak" (so the DGX-2H's V100 peaks at 130)
//   8.3B on 8 GPUs (tp 8), batch 8: 77% weak scaling of that baseline
//   8.3B on 512 GPUs (tp 8, dp 64), global batch 512: 15.1 PFLOP/s, 29.5 TFLOP/s per GPU
// FLOPs as Megatron-LM counts them with recomputation, 96 B s l h^2 (1 + s/6h + V/16lh)
// (Narayanan et al., SC21, appendix); the 2019 paper does not print its formula.
TEST(GpuCapabilities, MegatronV100Published) {
  hardware::GpuSpec dgx2h = Gpu("V100-SXM2-32GB");
  dgx2h.peak_dense[DataType::kFp16] = TeraflopPerSecond(39.0 / 0.30);
  struct Case {
    const char* what;
    int hidden, heads, layers, tp, dp, batch;
    double published_tflops_per_gpu;
  };
  const Case cases[] = {
      {"1.2B, 1 GPU", 1536, 16, 40, 1, 1, 8, 39.0},
      {"8.3B, 8 GPUs (tp 8)", 3072, 32, 72, 8, 1, 8, 39.0 * 0.77},
      {"8.3B, 512 GPUs (tp 8, dp 64)", 3072, 32, 72, 8, 64, 512, 15.1e3 / 512},
  };
  std::printf("%-30s %10s %10s %8s %7s | %8s %8s %8s %8s\n", "Megatron-LM V100 (2019)",
              "paper TF/s", "model TF/s", "error", "MFU", "step_s", "compute", "tp", "dp");
  double worst = 0;
  for (const Case& c : cases) {
    ModelCard m;
    m.name = "gpt2";
    m.layers = c.layers;
    m.hidden_size = c.hidden;
    m.attention_heads = c.heads;
    m.kv_heads = c.heads;
    m.ffn_hidden_size = 4 * c.hidden;
    m.vocab_size = 51200;
    m.tied_embeddings = true;
    TrainingSetup s;
    s.model = m;
    s.gpu = dgx2h;
    s.dtype = dgx2h.DefaultDataType();
    s.tp = c.tp;
    s.dp = c.dp;
    s.global_batch = c.batch;
    s.micro_batch = 8;
    s.sequence_length = 1024;
    s.recompute = Recompute::kFull;
    s.zero = 0;
    s.overlap_grad_reduce = false;
    s.sequence_parallel = false;
    s.nvlink_domain = 16;
    s.nic_bandwidth = GigabitsPerSecond(50);  // 8 x 100 Gb/s over 16 GPUs
    s.link_latency = Microseconds(5);
    ASSERT_EQ(LayoutProblem(s), "") << c.what;
    ASSERT_EQ(s.dtype, DataType::kFp16);
    const StepEstimate e = EstimateStep(s);
    EXPECT_TRUE(e.fits_in_memory) << c.what;
    const double B = c.batch, sl = 1024, l = c.layers, h = c.hidden, V = 51200;
    const double flops = 96 * B * sl * l * h * h * (1 + sl / (6 * h) + V / (16 * l * h));
    const double model = flops / ToSeconds(e.step_time) / GpuCount(s) / 1e12;
    const double err = (model - c.published_tflops_per_gpu) / c.published_tflops_per_gpu;
    worst = std::max(worst, std::abs(err));
    std::printf("%-30s %10.1f %10.1f %+7.1f%% %6.1f%% | %8.3f %8.3f %8.3f %8.3f\n", c.what,
                c.published_tflops_per_gpu, model, 100 * err, 100 * e.mfu, ToSeconds(e.step_time),
                ToSeconds(e.breakdown.compute), ToSeconds(e.breakdown.tp_comm),
                ToSeconds(e.breakdown.dp_comm_exposed));
  }
  std::printf("worst |error| %.1f%%\n", 100 * worst);
  EXPECT_LT(worst, 0.30);
}

}  // namespace
}  // namespace firstwall::workload
