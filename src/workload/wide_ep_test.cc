// Wide expert parallelism (DeepSeek-style decode: attention data-parallel in groups of tp GPUs,
// the routed experts over every GPU of the replica) and MLA's latent K/V cache: the layout,
// memory and traffic by hand, experts inside a tensor-parallel group without an all-to-all, the
// layouts refused, a served replica, and decode throughput against SGLang's and DeepSeek's
// published large-scale EP figures.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "scenario/catalog.h"
#include "workload/serving.h"

namespace firstwall::workload {
namespace {
using namespace units;

InferenceSetup DeepSeekV3(const char* gpu, int tp, int ep, int batch, int prompt, int output) {
  const auto& cat = scenario::BuiltinCatalog();
  InferenceSetup s;
  s.model = cat.models.at("deepseek-v3");
  s.gpu = cat.gpus.at(gpu);
  s.dtype = hardware::DataType::kFp8;
  s.tp = tp;
  s.ep = ep;
  s.batch = batch;
  s.prompt_tokens = prompt;
  s.output_tokens = output;
  return s;
}

const OpCost* Op(const InferenceEstimate& e, const std::string& name) {
  for (const OpCost& op : e.decode_ops) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

TEST(WideEp, LayoutMemoryAndTrafficByHand) {
  // SGLang's decode layout: 72 H100s, attention in 72 groups of one GPU, 256 sequences each.
  const InferenceSetup s = DeepSeekV3("H100-SXM5-80GB", 1, 72, 256 * 72, 1950, 100);
  const InferenceEstimate e = EstimateInference(s);
  EXPECT_EQ(AttentionGroups(s), 72);
  EXPECT_EQ(e.gpus, 72);
  EXPECT_EQ(ReplicaGpus(s), 72);
  // MLA: 61 layers x (512 latent + 64 rotary) elements x 2 bytes (the activations' bf16) per
  // token, whole on the one GPU that holds the sequence; 256 sequences of 2050 tokens.
  const double per_token = 61.0 * (512 + 64) * 2;
  EXPECT_DOUBLE_EQ(ToBytes(e.kv_bytes_per_token), per_token);
  EXPECT_DOUBLE_EQ(ToBytes(e.kv_cache_bytes), per_token * 256 * 2050);
  // Weights (fp8, a byte each): the dense part whole on every GPU, ceil(256 / 72) = 4 experts a
  // layer (EPLB's 32 redundant copies fill 288 = 72 x 4 slots).
  const ModelCard& m = s.model;
  const double experts = m.layers * m.moe.experts * m.MlpParams(m.moe.expert_ffn_hidden_size);
  EXPECT_NEAR(ToBytes(e.weights_per_gpu), m.TotalParams() - experts + experts * 4 / 256, 1.0);
  // Dispatch and combine: 256 tokens x 8 routed copies x 7168 x 2 bytes each way.
  const OpCost* a2a = Op(e, "ep_all_to_all");
  ASSERT_NE(a2a, nullptr);
  EXPECT_DOUBLE_EQ(a2a->bytes, 2.0 * 256 * 8 * 7168 * 2);
  // The routed experts take every group's tokens: 256 x 72 tokens x 8 choices over 72 GPUs is
  // 2048 rows a GPU through up (2 x 2048 wide, SwiGLU) and down.
  const OpCost* up = Op(e, "expert_up_proj");
  const OpCost* down = Op(e, "expert_down_proj");
  ASSERT_NE(up, nullptr);
  ASSERT_NE(down, nullptr);
  EXPECT_NEAR(up->flops, 2.0 * 2048 * (2 * 2048) * 7168, 1e-6 * up->flops);
  EXPECT_NEAR(down->flops, 2.0 * 2048 * 7168 * 2048, 1e-6 * down->flops);
  // Attention and the shared expert see the GPU's own 256 sequences.
  EXPECT_NEAR(Op(e, "shared_expert_down_proj")->flops, 2.0 * 256 * 7168 * 2048, 1.0);
  // Throughput is the replica's: 256 x 72 sequences per iteration.
  EXPECT_NEAR(e.decode_tokens_per_s * ToSeconds(e.itl), 256.0 * 72, 1e-6);
}

TEST(WideEp, ExpertsInsideTheTensorGroupSeeItsTokensOnceWithoutAllToAll) {
  // tp 8, ep 8: the 8 GPUs hold the same 64 tokens; each runs its 32 experts on those routed to
  // them, 64 x 8 / 256 = 2 rows an expert, 64 rows a GPU; the MLP's all-reduce sums the outputs.
  const InferenceSetup s = DeepSeekV3("H200-SXM", 8, 8, 64, 2000, 500);
  const InferenceEstimate e = EstimateInference(s);
  EXPECT_EQ(AttentionGroups(s), 1);
  EXPECT_EQ(e.gpus, 8);
  EXPECT_EQ(Op(e, "ep_all_to_all"), nullptr);
  ASSERT_NE(Op(e, "tp_all_reduce"), nullptr);
  EXPECT_NEAR(Op(e, "expert_up_proj")->flops, 2.0 * 64 * (2 * 2048) * 7168, 1e-6 * 7e9);
  // Each tensor-parallel rank keeps the whole MLA latent: the K/V per token does not shrink with
  // tp (the reason wide EP puts attention in data-parallel groups).
  EXPECT_DOUBLE_EQ(ToBytes(e.kv_bytes_per_token), 61.0 * 576 * 2);
  // One grouped kernel for a GPU's experts: the expected 27.6 of 32 experts reached, with
  // 64 x 8 / 256 x 32 / 27.6 rows each, cost one launch, not 27.6.
  const double reached = 32 * (1 - std::pow(1 - 8.0 / 256, 64));
  const double rows = 64.0 * 8 / 256 * 32 / reached;
  const hardware::GemmModel gm = s.gpu.GemmFor(s.dtype);
  const double one = ToSeconds(
      hardware::GemmTime(gm, rows, 2 * 2048, 7168, 1.0, *s.gpu.Peak(s.dtype), s.gpu.hbm_bandwidth));
  const double launch = ToSeconds(gm.overhead);
  EXPECT_NEAR(ToSeconds(Op(e, "expert_up_proj")->forward), launch + reached * (one - launch),
              1e-12);
}

TEST(WideEp, LayoutProblemsAreNamed) {
  const ModelCard& ds = scenario::BuiltinCatalog().models.at("deepseek-v3");
  const ModelCard& dense = scenario::BuiltinCatalog().models.at("llama3-8b");
  EXPECT_EQ(InferenceLayoutProblem(ds, 1, 1, 72), "");    // 4 experts a GPU, with redundancy
  EXPECT_EQ(InferenceLayoutProblem(ds, 4, 1, 320), "");   // DeepSeek-V3's TP4 x DP80, EP320
  EXPECT_EQ(InferenceLayoutProblem(ds, 8, 2, 8), "");     // inside the group
  EXPECT_EQ(InferenceLayoutProblem(dense, 8, 1, 1), "");  // no EP
  EXPECT_EQ(InferenceLayoutProblem(dense, 8, 1, 2),
            "llama3-8b is a dense model: expert parallelism needs experts");
  EXPECT_EQ(InferenceLayoutProblem(ds, 8, 1, 3), "256 experts do not split over ep 3");
  EXPECT_EQ(InferenceLayoutProblem(ds, 6, 1, 4),
            "ep 4 does not divide tp 6: inside a tensor-parallel group each expert is split tp/ep "
            "ways");
  EXPECT_NE(InferenceLayoutProblem(ds, 8, 1, 20).find("ep 20 is above tp 8"), std::string::npos);
  EXPECT_NE(InferenceLayoutProblem(ds, 8, 1, 20).find("not a multiple of it"), std::string::npos);
}

TEST(WideEp, AServedReplicaHoldsEpGpusAndTheTokensSpreadOverItsGroups) {
  ServiceSetup s;
  s.replica = DeepSeekV3("H100-SXM5-80GB", 1, 16, 1, 1, 1);
  s.replicas = 2;
  RequestSet set;
  for (int i = 0; i < 400; ++i) {
    Request r;
    r.arrival_s = i * 0.01;
    r.prompt_tokens = 500;
    r.output_tokens = 50;
    set.requests.push_back(r);
  }
  const ServingResult r = Serve(s, set, 7);
  EXPECT_EQ(r.gpus, 32);
  EXPECT_EQ(r.completed, 400);
  // The iteration model's per-token K/V is over the replica's 16 GPUs: one GPU's latent / 16.
  const IterationModel im(s.replica, 64);
  EXPECT_DOUBLE_EQ(im.kv_bytes_per_token(), 61.0 * 576 * 2 / 16);
  EXPECT_EQ(im.gpus(), 16);
  // 16 decoding sequences, one a group, at a context of 1000: the iteration model's cost is the
  // steady estimate's iteration at batch 16 (a one-row decode on each GPU).
  IterationBatch b;
  b.tokens = 16;
  b.sampled = 16;
  b.decode_kv_tokens = 16 * 1000.0;
  InferenceSetup steady = s.replica;
  steady.batch = 16;
  steady.prompt_tokens = 950;
  steady.output_tokens = 100;
  const double itl = ToSeconds(EstimateInference(steady).itl);
  EXPECT_NEAR(im.Cost(b).seconds(), itl, 0.02 * itl);
  // A lone prompt runs on one group: its first token takes the steady estimate's prefill (the
  // iteration's host overhead added), not 1/16 of it.
  RequestSet lone;
  lone.requests.push_back({});
  lone.requests.back().prompt_tokens = 1000;
  lone.requests.back().output_tokens = 11;
  ServiceSetup single = s;
  single.replicas = 1;
  const ServingResult one = Serve(single, lone, 7);
  ASSERT_EQ(one.completed, 1);
  steady.batch = 16;
  steady.prompt_tokens = 1000;
  const double prefill =
      ToSeconds(EstimateInference(steady).prefill_time) + ToSeconds(kIterationOverhead);
  EXPECT_NEAR(one.ttft.p50, prefill, 0.02 * prefill);
  // A sequence's K/V stays on its group: one longer than a group's 1/16 of the replica's cache is
  // refused, however much the other groups hold.
  RequestSet longer = lone;
  longer.requests.back().prompt_tokens = static_cast<int>(one.kv_capacity_tokens / 16 * 1.5);
  const ServingResult refused = Serve(single, longer, 7);
  EXPECT_EQ(refused.completed, 0);
  EXPECT_EQ(refused.unfinished, 1);
}

// Decode throughput per node of 8 GPUs against published large-scale EP deployments of
// DeepSeek-V3 (fp8 weights, bf16 K/V). SGLang (LMSYS, "Deploying DeepSeek with PD Disaggregation
// and Large-scale Expert Parallelism on 96 H100 GPUs", 2025-05-05): decode on 9 nodes, EP72 with
// DP72 attention, 256 sequences a GPU at a K/V length of 2000: 22,282 tokens/s a node with
// two-batch overlap (TBO); its TBO ablation gives 22,310 at 256 with a 25.5 % gain, so 17,777
// without. DeepSeek's profile (16 nodes, 128 a GPU, 4096) and its production day (18 nodes,
// EP144, 128 a GPU, 4989; "DeepSeek-V3/R1 Inference System Overview", 2025-03-01) overlap two
// micro-batches and use MTP (acceptance 0.85 to 0.9 in the V3 report; 0.875 here) on H800s (H100
// compute and HBM). The production figure is a day's average under live load, with batches
// below the profile's, so it is printed, not asserted.
TEST(WideEp, DecodeAgainstPublishedLargeScaleEp) {
  struct Case {
    const char* what;
    int ep, per_gpu, kv;
    bool mtp, tbo;
    double published;
    bool asserted;
  };
  const Case cases[] = {
      {"SGLang EP72, 256/GPU, KV 2000, without TBO", 72, 256, 2000, false, false, 22310 / 1.255,
       true},
      {"SGLang EP72, 256/GPU, KV 2000, with TBO", 72, 256, 2000, false, true, 22282, true},
      {"DeepSeek profile EP128, 128/GPU, KV 4096, MTP, TBO", 128, 128, 4096, true, true, 18598,
       true},
      {"DeepSeek production EP144, 128/GPU, KV 4989, MTP, TBO", 144, 128, 4989, true, true, 14800,
       false},
  };
  std::printf("%-55s %12s %12s %8s\n", "case", "published", "model", "error");
  for (const Case& c : cases) {
    InferenceSetup s = DeepSeekV3("H100-SXM5-80GB", 1, c.ep, c.per_gpu * c.ep, c.kv - 50, 100);
    s.two_batch_overlap = c.tbo;
    if (c.mtp) {
      s.speculation.method = SpeculationMethod::kMtp;
      s.speculation.draft_tokens = 1;
      s.speculation.acceptance = 0.875;
    }
    const InferenceEstimate e = EstimateInference(s);
    const double per_node = e.decode_tokens_per_s / (c.ep / 8.0);
    const double error = per_node / c.published - 1;
    std::printf("%-55s %12.0f %12.0f %+7.1f%%%s\n", c.what, c.published, per_node, 100 * error,
                c.asserted ? "" : "  (printed, not asserted)");
    EXPECT_TRUE(e.fits_in_memory) << c.what;
    if (c.asserted) {
      EXPECT_LT(std::abs(error), 0.15) << c.what;
    }
  }
}

}  // namespace
}  // namespace firstwall::workload
