// Two-batch overlap of wide EP (SGLang's TBO, DeepSeek's dual micro-batch overlap): the schedule
// by hand, the layouts refused, the estimate and the serving iteration agreeing, and the gain
// against SGLang's published TBO ablation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "scenario/catalog.h"
#include "workload/inference.h"
#include "workload/serving.h"

namespace firstwall::workload {
namespace {
using namespace units;

InferenceSetup DeepSeekV3(int tp, int ep, int batch, bool tbo) {
  const auto& cat = scenario::BuiltinCatalog();
  InferenceSetup s;
  s.model = cat.models.at("deepseek-v3");
  s.gpu = cat.gpus.at("H100-SXM5-80GB");
  s.dtype = hardware::DataType::kFp8;
  s.tp = tp;
  s.ep = ep;
  s.batch = batch;
  s.prompt_tokens = 1950;
  s.output_tokens = 100;
  s.two_batch_overlap = tbo;
  return s;
}

TEST(TwoBatchOverlap, ScheduleByHand) {
  // Nothing to hide: the SMs run both micro-batches' work in turn.
  EXPECT_DOUBLE_EQ(TwoBatchOverlapSeconds({1, 0, 2, 0}, {1, 0, 2, 0}, 3), 18.0);
  // Communication-bound: a's attention (0.1) starts the first layer; from then on the network
  // runs without a gap, 2 x (1 + 1) a layer, and the SMs' short pieces fit in between.
  EXPECT_DOUBLE_EQ(TwoBatchOverlapSeconds({0.1, 1, 0.1, 1}, {0.1, 1, 0.1, 1}, 1), 4.1);
  EXPECT_DOUBLE_EQ(TwoBatchOverlapSeconds({0.1, 1, 0.1, 1}, {0.1, 1, 0.1, 1}, 10), 40.1);
  // Compute-bound, the mirror case: the SMs never wait after the first dispatch.
  EXPECT_DOUBLE_EQ(TwoBatchOverlapSeconds({1, 0.1, 1, 0.1}, {1, 0.1, 1, 0.1}, 10), 40.1);
  // Any case lies between the busier resource's sum and the serial sum.
  const MicroBatchLayer a{0.3, 0.5, 0.2, 0.7}, b{0.25, 0.4, 0.3, 0.6};
  const double t = TwoBatchOverlapSeconds(a, b, 61);
  const double sms = 61 * (a.attention_s + a.experts_s + b.attention_s + b.experts_s);
  const double net = 61 * (a.dispatch_s + a.combine_s + b.dispatch_s + b.combine_s);
  EXPECT_GE(t, std::max(sms, net));
  EXPECT_LT(t, sms + net);
}

TEST(TwoBatchOverlap, NeedsWideEpWithoutPipeline) {
  EXPECT_EQ(TwoBatchOverlapProblem(DeepSeekV3(1, 72, 256 * 72, true)), "");
  EXPECT_EQ(TwoBatchOverlapProblem(DeepSeekV3(8, 8, 64, false)), "");
  EXPECT_EQ(TwoBatchOverlapProblem(DeepSeekV3(8, 8, 64, true)),
            "two-batch overlap hides wide expert parallelism's all-to-all behind the other "
            "micro-batch's computation: it needs ep above tp (ep 8, tp 8)");
  InferenceSetup dense = DeepSeekV3(1, 1, 64, true);
  dense.model = scenario::BuiltinCatalog().models.at("llama3-8b");
  EXPECT_EQ(TwoBatchOverlapProblem(dense),
            "two-batch overlap hides wide expert parallelism's all-to-all: llama3-8b is a dense "
            "model, with none");
  InferenceSetup piped = DeepSeekV3(1, 16, 64, true);
  piped.pp = 2;
  EXPECT_EQ(TwoBatchOverlapProblem(piped),
            "two-batch overlap beside pipeline parallelism is not modelled: it needs pp 1 (pp 2)");
}

TEST(TwoBatchOverlap, HalfBatchesRunAtTheSameTimeAsTheOthersAllToAll) {
  const InferenceEstimate serial = EstimateInference(DeepSeekV3(1, 72, 256 * 72, false));
  const InferenceEstimate tbo = EstimateInference(DeepSeekV3(1, 72, 256 * 72, true));
  // One micro-batch's layer: 128 sequences' dispatch and combine, 8 copies of 7168 bf16 each.
  const OpCost* a2a = nullptr;
  for (const OpCost& op : tbo.decode_ops) {
    if (op.name == "ep_all_to_all") a2a = &op;
  }
  ASSERT_NE(a2a, nullptr);
  EXPECT_DOUBLE_EQ(a2a->bytes, 2.0 * 128 * 8 * 7168 * 2);
  EXPECT_EQ(ToSeconds(serial.overlapped_time), 0.0);
  EXPECT_EQ(serial.micro_batches, 1);
  EXPECT_EQ(tbo.micro_batches, 2);
  // One sequence a group: nothing to split.
  EXPECT_EQ(EstimateInference(DeepSeekV3(1, 72, 72, true)).micro_batches, 1);
  EXPECT_GT(ToSeconds(tbo.overlapped_time), 0.0);
  EXPECT_LT(ToSeconds(tbo.itl), ToSeconds(serial.itl));
  // Memory does not change: the same sequences, split.
  EXPECT_DOUBLE_EQ(ToBytes(tbo.memory_per_gpu), ToBytes(serial.memory_per_gpu));
}

const OpCost* Op(const InferenceEstimate& e, const std::string& name) {
  for (const OpCost& op : e.decode_ops) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

TEST(TwoBatchOverlap, OddGroupsSplitAtASequenceAndTpAllReducesAreNotHidden) {
  // 3 sequences a group: micro-batches of 2 and 1; the listed operators are the first's.
  const InferenceEstimate serial = EstimateInference(DeepSeekV3(1, 72, 3 * 72, false));
  const InferenceEstimate odd = EstimateInference(DeepSeekV3(1, 72, 3 * 72, true));
  EXPECT_DOUBLE_EQ(Op(odd, "attention_decode")->bytes,
                   2.0 / 3 * Op(serial, "attention_decode")->bytes);
  // tp 4: a group's TP all-reduces run on the SMs beside the attention; only the all-to-all
  // can be hidden, so no more than the two micro-batches' all-to-all time overlaps.
  const InferenceEstimate tp4 = EstimateInference(DeepSeekV3(4, 32, 32 * 8, true));
  ASSERT_NE(Op(tp4, "tp_all_reduce"), nullptr);
  const double a2a = ToSeconds(Op(tp4, "ep_all_to_all")->forward);
  EXPECT_GT(ToSeconds(tp4.overlapped_time), 0.0);
  EXPECT_LE(ToSeconds(tp4.overlapped_time), 61 * 2 * a2a + 1e-12);
}

TEST(TwoBatchOverlap, TheServingIterationAgreesWithTheEstimate) {
  const InferenceSetup tbo = DeepSeekV3(1, 16, 16, true);
  const IterationModel im(tbo, 4096);
  // 64 decodes a group at a context of 2000: the estimate's iteration at batch 1024.
  IterationBatch b;
  b.tokens = b.sampled = 1024;
  b.decode_kv_tokens = 1024 * 2000.0;
  InferenceSetup steady = tbo;
  steady.batch = 1024;
  const InferenceEstimate e = EstimateInference(steady);
  const IterationCost c = im.Cost(b);
  EXPECT_NEAR(c.seconds(), ToSeconds(e.itl), 0.02 * ToSeconds(e.itl));
  EXPECT_NEAR(c.overlapped_s, ToSeconds(e.overlapped_time), 0.02 * ToSeconds(e.overlapped_time));
  // A lone sequence has nothing to split: the iteration is the one without overlap.
  const IterationModel serial(DeepSeekV3(1, 16, 16, false), 4096);
  IterationBatch one;
  one.tokens = one.sampled = 1;
  one.decode_kv_tokens = 2000;
  EXPECT_EQ(im.Cost(one).seconds(), serial.Cost(one).seconds());
  EXPECT_EQ(im.Cost(one).overlapped_s, 0.0);
  // A prompt's chunk of half the group's tokens or more is a micro-batch of its own: the
  // decodes beside it overlap it, and the iteration is shorter than without overlap.
  IterationBatch mixed;
  mixed.tokens = 2048 + 16 * 8;
  mixed.sampled = 1 + 16 * 8;
  mixed.prefill_tokens = mixed.largest_chunk = 2048;
  mixed.prefill_pairs = 2048.0 * 1024;
  mixed.prefill_scores = 2048.0 * 2048;
  mixed.decode_kv_tokens = 16 * 8 * 2000.0;
  const IterationCost m = im.Cost(mixed);
  EXPECT_GT(m.overlapped_s, 0.0);
  EXPECT_LT(m.seconds(), serial.Cost(mixed).seconds());
  // A served replica of 32 GPUs at up to 128 sequences a group: every request completes, and
  // the overlap shortens the time per output token (at a few sequences a group it lengthens it:
  // each micro-batch streams all the weights, and the all-to-all it would hide is short).
  ServiceSetup with, without;
  with.replica = DeepSeekV3(1, 32, 32, true);
  without.replica = DeepSeekV3(1, 32, 32, false);
  with.replicas = without.replicas = 1;
  with.engine.max_seqs = without.engine.max_seqs = 32 * 128;
  RequestSet set;
  for (int i = 0; i < 6000; ++i) {
    Request r;
    r.arrival_s = i * 0.0025;
    r.prompt_tokens = 500;
    r.output_tokens = 200;
    set.requests.push_back(r);
  }
  const ServingResult a = Serve(with, set, 7), n = Serve(without, set, 7);
  std::printf("served TPOT p50 with two-batch overlap %.1f ms, without %.1f ms\n", 1e3 * a.tpot.p50,
              1e3 * n.tpot.p50);
  EXPECT_EQ(a.completed, 6000);
  EXPECT_EQ(n.completed, 6000);
  EXPECT_LT(a.tpot.p50, n.tpot.p50);
}

// SGLang's TBO ablation of decode (LMSYS, 2025-05-05, "Two-batch Overlap" section): +25.5 % at
// 256 tokens a GPU, -27 % at 32 (EP72 on H100s, DeepSeek-V3). The model's gain follows from its
// schedule: two micro-batches of half the tokens, each kernel and all-to-all at its half-batch
// time. It gives the large-batch gain; at 32 tokens a GPU it finds a small gain where SGLang
// measured a loss (the cost of running two 16-token micro-batches is not in the model beyond
// their kernels' and all-to-alls' fixed times), so only the 256 case is asserted.
TEST(TwoBatchOverlap, GainAgainstSglangAblation) {
  struct Case {
    int per_gpu;
    double published;
    bool asserted;
  };
  const Case cases[] = {{256, 0.255, true}, {32, -0.27, false}};
  std::printf("%-40s %10s %10s\n", "SGLang EP72 decode, TBO gain", "published", "model");
  for (const Case& c : cases) {
    const double off =
        EstimateInference(DeepSeekV3(1, 72, c.per_gpu * 72, false)).decode_tokens_per_s;
    const double on =
        EstimateInference(DeepSeekV3(1, 72, c.per_gpu * 72, true)).decode_tokens_per_s;
    const double gain = on / off - 1;
    std::printf("%-40s %+9.1f%% %+9.1f%%%s\n",
                (std::to_string(c.per_gpu) + " tokens a GPU").c_str(), 100 * c.published,
                100 * gain, c.asserted ? "" : "  (printed, not asserted)");
    if (c.asserted) {
      EXPECT_NEAR(gain, c.published, 0.10);
    }
  }
}

}  // namespace
}  // namespace firstwall::workload
