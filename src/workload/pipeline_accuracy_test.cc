// Published pipeline layouts whose stages hold different numbers of layers (issue #16, case 3), run
// with the layout each paper gives and compared with the throughput it reports.
//
// Llama 3 405B (Dubey et al. 2024, "The Llama 3 Herd of Models", arXiv:2407.21783): 126 layers on
// 16 pipeline stages, the first and the last stage one layer short for the embedding and the loss
// (sec. 3.3.2); Table 4's 16,384-GPU row: TP 8, CP 1, PP 16, DP 128, sequence 8,192, 16 sequences
// per data-parallel rank (16M tokens per step), 400 TFLOP/s per GPU, 41% BF16 MFU.
//
// DeepSeek-V3 (DeepSeek-AI 2024, arXiv:2412.19437): 61 layers on 16 pipeline stages, expert
// parallelism 64 over 8 nodes, no tensor parallelism, ZeRO-1 data parallelism (sec. 3.2), on 2,048
// H800 GPUs; FP8 mixed-precision training (sec. 3.3); sequence 4K and a batch ramped up to 15,360
// sequences (sec. 4.2); 180K H800 GPU hours per trillion tokens (sec. 1), i.e. 1e12 / (180e3 x
// 3600) = 1,543 tokens/s per GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "scenario/catalog.h"
#include "workload/training_step.h"

namespace firstwall::workload {
namespace {
using namespace units;

// A published run: micro-batch 1, recomputation as needed to fit, ZeRO 1, 8-GPU NVLink nodes with
// 400 Gb/s per GPU (Llama 3: RoCE, sec. 3.3.1; DeepSeek-V3: InfiniBand, 50 GB/s, sec. 3.2.2).
TrainingSetup Published(const char* model, int tp, int pp, int dp, int global_batch, int seq) {
  const scenario::Catalog& cat = scenario::BuiltinCatalog();
  TrainingSetup s;
  s.model = cat.models.at(model);
  s.gpu = cat.gpus.at("H100-SXM5-80GB");
  s.tp = tp;
  s.pp = pp;
  s.dp = dp;
  s.global_batch = global_batch;
  s.sequence_length = seq;
  s.micro_batch = 1;
  s.recompute_auto = true;
  s.zero = 1;
  s.nvlink_domain = 8;
  s.nic_bandwidth = GigabitsPerSecond(400);
  s.link_latency = Microseconds(5);
  return s;
}

void PrintRow(const char* what, double model, double paper) {
  std::printf("  %-34s %10.1f %10.1f %+8.1f%%\n", what, model, paper,
              100 * (model - paper) / paper);
}

TEST(PipelineAccuracy, Llama3_405bOn16kH100WithItsPublishedLayout) {
  // 16 sequences per data-parallel rank x 128.
  TrainingSetup s = Published("llama3-405b", 8, 16, 128, 2048, 8192);
  // Interleaved 1F1B (sec. 3.3.2). The paper gives no vpp; "the first model chunk on the first
  // stage has only the embedding" means chunks of one layer, so the 8-layer stages have 8.
  s.vpp = 8;
  s.layers_per_stage = {7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7};
  s.sequence_parallel = true;
  // Meta's production stack, not eager PyTorch: fused layer kernels, as the Megatron-LM check
  // assumes (an assumption; the paper does not describe its kernels). Eager is printed beside it.
  s.layer_kernels = LayerKernels::kFused;
  ASSERT_EQ(LayoutProblem(s), "");
  const StepEstimate given = EstimateStep(s);
  TrainingSetup eager = s;
  eager.layer_kernels = LayerKernels::kEager;
  const double eager_tflops = ToFlopPerSecond(EstimateStep(eager).model_flop_rate_per_gpu) / 1e12;
  // The automatic balance finds the published split itself.
  TrainingSetup automatic = s;
  automatic.layers_per_stage.clear();
  const StepEstimate balanced = EstimateStep(automatic);
  EXPECT_EQ(balanced.layers_per_stage, s.layers_per_stage);
  EXPECT_NEAR(ToSeconds(balanced.step_time), ToSeconds(given.step_time), 1e-12);

  const double tflops = ToFlopPerSecond(given.model_flop_rate_per_gpu) / 1e12;
  std::printf("Llama 3 405B, 16,384 H100, TP 8 PP 16 (7, 8 x 14, 7) vpp 8 DP 128, 16M tokens:\n");
  std::printf("  %-34s %10s %10s %9s\n", "", "model", "paper", "error");
  PrintRow("TFLOP/s per GPU", tflops, 400);
  PrintRow("MFU %", 100 * given.mfu, 41);
  PrintRow("TFLOP/s per GPU, eager kernels", eager_tflops, 400);
  std::printf("  step %.2f s, slowest stage %d, recompute %s, memory %.1f GB, bubble %.2f s\n",
              ToSeconds(given.step_time), given.slowest_stage,
              std::string(RecomputeName(given.recompute)).c_str(),
              ToBytes(given.memory.Total()) / 1e9, ToSeconds(given.breakdown.pp_bubble));
  EXPECT_TRUE(given.fits_in_memory);
  EXPECT_LT(std::abs(tflops - 400) / 400, 0.10);
}

TEST(PipelineAccuracy, DeepSeekV3On2048H800WithItsPublishedLayout) {
  TrainingSetup s = Published("deepseek-v3", 1, 16, 128, 15360, 4096);
  // H800: the H100 SXM's compute and HBM with NVLink cut to 400 GB/s (NVIDIA's H800 SXM
  // specification); the catalog has no H800 card.
  s.gpu.name = "H800 (H100 SXM, NVLink 400 GB/s)";
  s.gpu.nvlink_bandwidth = GigabytesPerSecond(400);
  s.dtype = hardware::DataType::kFp8;
  s.ep = 64;
  s.layer_kernels = LayerKernels::kFused;
  // DualPipe (sec. 3.2.1) overlaps the expert all-to-all with the paired chunk's compute.
  s.ep_overlap = EpOverlap::kDualPipe;
  ASSERT_EQ(LayoutProblem(s), "");
  const StepEstimate e = EstimateStep(s);
  TrainingSetup exposed = s;
  exposed.ep_overlap = EpOverlap::kNone;
  const StepEstimate ex = EstimateStep(exposed);
  int sum = 0;
  for (int n : e.layers_per_stage) sum += n;
  EXPECT_EQ(sum, 61);
  EXPECT_EQ(e.layers_per_stage.size(), 16u);
  const double tokens_per_gpu = e.tokens_per_step / ToSeconds(e.step_time) / GpuCount(s);
  const double paper = 1e12 / (180e3 * 3600);
  std::printf("DeepSeek-V3, 2,048 H800, TP 1 PP 16 EP 64 DP 128, fp8, 15,360 x 4K tokens:\n");
  std::printf("  %-34s %10s %10s %9s\n", "", "model", "paper", "error");
  PrintRow("tokens/s per GPU (dualpipe)", tokens_per_gpu, paper);
  PrintRow("tokens/s per GPU (all-to-all exposed)",
           ex.tokens_per_step / ToSeconds(ex.step_time) / GpuCount(s), paper);
  std::printf("  stages");
  for (int n : e.layers_per_stage) std::printf(" %d", n);
  std::printf("; step %.2f s: compute %.2f, ep all-to-all %.2f, bubble %.2f; %.0f TFLOP/s\n",
              ToSeconds(e.step_time), ToSeconds(e.breakdown.compute),
              ToSeconds(e.breakdown.ep_comm), ToSeconds(e.breakdown.pp_bubble),
              ToFlopPerSecond(e.model_flop_rate_per_gpu) / 1e12);
  EXPECT_TRUE(e.fits_in_memory);
  // Loose: even overlapped, the model's expert all-to-all is about twice its compute where the
  // report has them about equal (no node-limited routing, no fp8 dispatch in the EP model); the
  // card also approximates MLA as GQA.
  EXPECT_LT(std::abs(tokens_per_gpu - paper) / paper, 0.60);
}

}  // namespace
}  // namespace firstwall::workload
