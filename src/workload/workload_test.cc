#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "workload/inference.h"
#include "workload/model_card.h"
#include "workload/phase_timeline.h"
#include "workload/training_step.h"

namespace firstwall::workload {
namespace {
using namespace units;

ModelCard Gpt(int layers, int hidden, int heads) {
  ModelCard m;
  m.name = "gpt";
  m.layers = layers;
  m.hidden_size = hidden;
  m.attention_heads = heads;
  m.kv_heads = heads;
  m.ffn_hidden_size = 4 * hidden;
  m.ffn_type = FfnType::kGelu;
  m.vocab_size = 51200;
  m.tied_embeddings = true;
  return m;
}

hardware::GpuSpec A100() {
  hardware::GpuSpec g;
  g.name = "A100";
  g.peak_dense[hardware::DataType::kBf16] = TeraflopPerSecond(312);
  g.hbm_capacity = Gigabytes(80);
  g.hbm_bandwidth = TerabytesPerSecond(2.039);
  g.tdp = Watts(400);
  g.idle_power = Watts(50);
  g.nvlink_bandwidth = GigabytesPerSecond(600);
  return g;
}

TEST(ModelCard, FlopsMatchNarayananClosedForm) {
  // Narayanan et al. SC21: 72 B s l h^2 (1 + s/(6h) + V/(12 l h)) per step without recomputation.
  const ModelCard m = Gpt(96, 12288, 96);  // GPT-3 175B shape
  const double B = 1536, s = 2048, l = 96, h = 12288, V = 51200;
  const double closed = 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h));
  EXPECT_NEAR(
      3 * m.ForwardFlopsPerToken(2048, ModelCard::AttentionCount::kFullMatrix) * B * s / closed,
      1.0, 1e-12);
  // The causal count (firstwall's MFU convention) halves the s / 6h attention term.
  const double causal = 72 * B * s * l * h * h * (1 + s / (12 * h) + V / (12 * l * h));
  EXPECT_NEAR(3 * m.ForwardFlopsPerToken(2048) * B * s / causal, 1.0, 1e-12);
  EXPECT_NEAR(m.TotalParams() / 1e9, 174.6, 0.2);  // "175B" with tied 51200-token embeddings
}

TrainingSetup Small() {
  TrainingSetup s;
  s.model = Gpt(24, 2048, 16);
  s.gpu = A100();
  s.dp = 8;
  s.global_batch = 64;
  s.micro_batch = 2;
  s.sequence_length = 2048;
  s.nic_bandwidth = GigabitsPerSecond(200);
  s.link_latency = Microseconds(5);
  return s;
}

TEST(TrainingStep, RecomputationAddsAForwardPass) {
  TrainingSetup s = Small();
  s.recompute = Recompute::kFull;
  const StepEstimate full = EstimateStep(s);
  // One more forward of the layers, not of the head (Megatron-LM's 96 B s l h^2 (1 + s/6h +
  // V/16lh) against 72 B s l h^2 (1 + s/6h + V/12lh)), attention causal.
  const double h = s.model.hidden_size, seq = s.sequence_length;
  const double layers_forward =
      full.tokens_per_step * s.model.layers * (2 * s.model.LayerMatrixParams() + 2 * seq * h);
  EXPECT_NEAR(ToFlop(full.hardware_flops - full.model_flops) / layers_forward, 1.0, 1e-12);
  s.recompute = Recompute::kNone;
  const StepEstimate none = EstimateStep(s);
  EXPECT_GT(full.step_time, none.step_time);
  EXPECT_LT(full.memory.activations, none.memory.activations);
  // All of the step is accounted for by the phases.
  double phases = 0;
  for (const Phase& p : full.phases) phases += ToSeconds(p.duration);
  EXPECT_NEAR(phases, ToSeconds(full.step_time), 1e-12);
  EXPECT_GT(full.mfu, 0.0);
  EXPECT_LT(full.mfu, 0.75);
}

TEST(TrainingStep, DpGroupLeavingTheNodeCostsMore) {
  TrainingSetup s = Small();
  s.overlap_grad_reduce = false;
  s.zero = 0;
  const Duration in_node = EstimateStep(s).breakdown.dp_comm_exposed;
  s.nvlink_domain = 4;  // now the ring crosses nodes
  const Duration cross = EstimateStep(s).breakdown.dp_comm_exposed;
  // Every NIC of a node carries its share at once (a ring per rail, or NCCL's tree), so crossing
  // costs the NICs' slower share, not the whole volume through one NIC (issue #16).
  EXPECT_GT(cross / in_node, 1.2);
  s.overlap_grad_reduce = true;
  EXPECT_LT(EstimateStep(s).breakdown.dp_comm_exposed, cross);
}

TEST(TrainingStep, PipelineBubbleFollowsOneF1B) {
  TrainingSetup s = Small();
  s.pp = 4;
  s.dp = 2;
  s.global_batch = 64;
  s.micro_batch = 1;  // 32 micro-batches
  const StepEstimate e = EstimateStep(s);
  const double per_mb = ToSeconds(e.breakdown.compute + e.breakdown.tp_comm) / 32;
  EXPECT_NEAR(ToSeconds(e.breakdown.pp_bubble), 3 * per_mb, 1e-9);
  s.vpp = 2;  // interleaving halves it
  const StepEstimate v = EstimateStep(s);
  EXPECT_NEAR(ToSeconds(v.breakdown.pp_bubble), 1.5 * per_mb, 1e-9);
  EXPECT_GT(v.breakdown.pp_p2p, e.breakdown.pp_p2p);
}

TEST(TrainingStep, ZeroShardsOptimizerStateAndAutoPicksWhatFits) {
  TrainingSetup s = Small();
  s.model = Gpt(40, 6144, 48);  // ~18B parameters
  s.tp = 8;
  s.dp = 4;
  s.nvlink_domain = 8;
  s.global_batch = 32;
  s.zero = 0;
  const StepEstimate z0 = EstimateStep(s);
  s.zero = 1;
  const StepEstimate z1 = EstimateStep(s);
  EXPECT_NEAR(z0.memory.optimizer / z1.memory.optimizer, 4.0, 1e-9);
  s.micro_batch = 0;
  s.recompute_auto = true;
  const StepEstimate a = EstimateStep(s);
  EXPECT_TRUE(a.fits_in_memory);
  s.recompute = Recompute::kNone;
  for (int b : {1, 2, 4, 8}) {
    s.micro_batch = b;
    s.recompute_auto = false;
    for (Recompute r : {Recompute::kNone, Recompute::kSelective, Recompute::kFull}) {
      s.recompute = r;
      const StepEstimate e = EstimateStep(s);
      if (e.fits_in_memory) {
        EXPECT_GE(e.step_time, a.step_time);
      }
    }
  }
}

TEST(TrainingStep, OperatorFlopsAddUpToTheModelCount) {
  TrainingSetup s = Small();
  s.tp = 2;
  s.dp = 4;
  s.micro_batch = 1;
  s.attention = AttentionKernel::kUnfused;  // counts the full score matrix, as the model FLOPs do
  const StepEstimate e = EstimateStep(s);
  double layer_flops = 0, layer_fwd = 0;
  for (const OpCost& op : e.layer_ops) {
    layer_flops += op.flops;
    if (op.name.rfind("tp_", 0) != 0) layer_fwd += ToSeconds(op.forward);
  }
  const ModelCard& m = s.model;
  const double tokens = 2048;  // one sequence per micro-batch
  const double want = tokens * (2.0 * m.LayerMatrixParams() + 4.0 * 2048 * m.hidden_size) / s.tp;
  EXPECT_NEAR(layer_flops / want, 1.0, 1e-12);
  ASSERT_EQ(e.head_ops.size(), 2u);
  EXPECT_NEAR(e.head_ops[0].flops, 2.0 * tokens * m.hidden_size * m.vocab_size / s.tp, 1.0);
  // Forward compute of the layers and the head over all micro-batches is the compute phase less
  // the backward and the head's backward (no recomputation here).
  double head = 0;
  for (const OpCost& op : e.head_ops) head += ToSeconds(op.forward + op.backward);
  // One stage holds the embedding too: its lookup is compute, its TP reduction communication.
  for (const OpCost& op : e.embedding_ops) {
    if (op.name.rfind("embedding_tp", 0) != 0) head += ToSeconds(op.forward + op.backward);
  }
  double layer_bwd = 0;
  for (const OpCost& op : e.layer_ops) {
    if (op.name.rfind("tp_", 0) != 0) layer_bwd += ToSeconds(op.backward);
  }
  EXPECT_NEAR(ToSeconds(e.breakdown.compute),
              e.micro_batches * (m.layers * (layer_fwd + layer_bwd) + head), 1e-9);
}

// 10 layers of 1 s on 4 stages, the embedding 0.25 s on the first and the head and loss 1.6 s on
// the last. By hand: a slowest stage of 3 s is impossible (room for 2 + 3 + 3 + 1 = 9 layers);
// 3.25 s fits 3 + 3 + 3 + 1 = 10 exactly, so the split is (3, 3, 3, 1), the first stage the
// slowest at 3.25 s. The even-ish (2, 3, 3, 2) would take 3.6 s on the last.
TEST(PipelineStages, BalanceCountsTheEmbeddingAndTheHead) {
  EXPECT_EQ(BalanceStages(10, 4, 1, 1.0, 0.25, 1.6), (std::vector<int>{3, 3, 3, 1}));
  // 0.5 s and 1.5 s: (2, 3, 3, 2) and (3, 3, 3, 1) both give 3.5 s; the first stage, which keeps
  // the most micro-batches in flight, takes the fewer.
  EXPECT_EQ(BalanceStages(10, 4, 1, 1.0, 0.5, 1.5), (std::vector<int>{2, 3, 3, 2}));
  // Llama 3 405B: 126 layers on 16 stages, a small embedding and a head of 0.6 layer.
  std::vector<int> llama(16, 8);
  llama.front() = llama.back() = 7;
  EXPECT_EQ(BalanceStages(126, 16, 1, 1.0, 0.01, 0.6), llama);
  // With 8 virtual stages per GPU the interior stages need 8 layers, the ends 7.
  EXPECT_EQ(BalanceStages(126, 16, 8, 1.0, 0.01, 0.6), llama);
  EXPECT_EQ(MinLayersOnStage(0, 16, 8), 7);
  EXPECT_EQ(MinLayersOnStage(3, 16, 8), 8);
  EXPECT_EQ(MinLayersOnStage(0, 1, 1), 1);
}

// The slowest stage paces 1F1B: compute is micro-batches x its layers (and the head when it is the
// last), the bubble (pp - 1) of its micro-batch times.
TEST(PipelineStages, TheSlowestStagePacesThePipeline) {
  TrainingSetup s = Small();  // 24 layers
  s.pp = 4;
  s.dp = 2;
  s.micro_batch = 1;  // 32 micro-batches
  const StepEstimate even = EstimateStep(s);
  EXPECT_EQ(even.layers_per_stage, (std::vector<int>{6, 6, 6, 6}));
  EXPECT_EQ(even.slowest_stage, 3);
  s.layers_per_stage = {6, 6, 6, 6};  // given, the same
  EXPECT_EQ(ToSeconds(EstimateStep(s).step_time), ToSeconds(even.step_time));
  s.layers_per_stage = {5, 6, 6, 7};  // the last: 7 layers and the head
  const StepEstimate last = EstimateStep(s);
  s.layers_per_stage = {6, 5, 8, 5};  // stage 2: 8 layers (the head takes less than 3)
  const StepEstimate mid = EstimateStep(s);
  EXPECT_EQ(last.slowest_stage, 3);
  EXPECT_EQ(mid.slowest_stage, 2);
  double head = 0;
  for (const OpCost& op : even.head_ops) head += ToSeconds(op.forward + op.backward);
  const double layer = ToSeconds(last.breakdown.compute - even.breakdown.compute) / 32;
  EXPECT_NEAR(ToSeconds(mid.breakdown.compute) / 32, 8 * layer, 1e-9);
  EXPECT_NEAR(ToSeconds(last.breakdown.compute - mid.breakdown.compute) / 32, head - layer, 1e-9);
  const double per_mb = ToSeconds(last.breakdown.compute + last.breakdown.tp_comm) / 32;
  EXPECT_NEAR(ToSeconds(last.breakdown.pp_bubble), 3 * per_mb, 1e-9);
  EXPECT_GT(last.step_time, even.step_time);
  // Memory is that of the most loaded stage: 9 layers on the first stage, which keeps 4
  // micro-batches in flight, needs more than the even split's first stage.
  s.layers_per_stage = {9, 5, 5, 5};
  const StepEstimate heavy = EstimateStep(s);
  EXPECT_GT(heavy.memory.activations, even.memory.activations);
  EXPECT_GT(heavy.memory.weights, even.memory.weights);
  // Uneven without a list: 24 layers on 5 stages are balanced.
  s.layers_per_stage.clear();
  s.pp = 5;
  s.global_batch = 80;
  s.dp = 2;
  const StepEstimate five = EstimateStep(s);
  int sum = 0;
  for (int n : five.layers_per_stage) sum += n;
  EXPECT_EQ(sum, 24);
  EXPECT_LT(five.layers_per_stage.back(), five.layers_per_stage[2]);  // the head's stage
}

TEST(PipelineStages, GivenSplitsAreChecked) {
  TrainingSetup s = Small();
  s.pp = 4;
  s.dp = 2;
  int entry = 0;
  s.layers_per_stage = {6, 6, 6};
  EXPECT_NE(StageSplitProblem(s, &entry).find("has 3 entries but pp is 4"), std::string::npos);
  EXPECT_EQ(entry, -1);
  s.layers_per_stage = {6, 6, 6, 7};
  EXPECT_NE(StageSplitProblem(s, &entry).find("sums to 25 layers but gpt has 24"),
            std::string::npos);
  s.layers_per_stage = {8, 0, 8, 8};
  EXPECT_NE(StageSplitProblem(s, &entry).find("stage 1 holds 0 layers; it needs at least 1"),
            std::string::npos);
  EXPECT_EQ(entry, 1);
  s.layers_per_stage = {0, 12, 12, 0};  // only the embedding, only the head: allowed
  EXPECT_EQ(LayoutProblem(s), "");
  s.vpp = 2;
  s.layers_per_stage = {1, 11, 11, 1};  // one virtual stage each besides the embedding/head ones
  EXPECT_EQ(StageSplitProblem(s), "");
  s.layers_per_stage = {0, 12, 12, 0};
  EXPECT_NE(StageSplitProblem(s, &entry).find("stage 0 holds 0 layers; it needs at least 1"),
            std::string::npos);
  EXPECT_EQ(entry, 0);
}

TEST(TrainingStep, LayoutProblemsAreNamed) {
  TrainingSetup s = Small();
  s.tp = 3;
  EXPECT_NE(LayoutProblem(s).find("does not divide the 16 attention heads"), std::string::npos);
  s = Small();
  s.pp = 5;  // uneven stages are fine
  EXPECT_EQ(LayoutProblem(s), "");
  s.pp = 30;  // 28 virtual stages between the embedding-only and the head-only ones
  EXPECT_NE(LayoutProblem(s).find("virtual stages need at least 28 layers"), std::string::npos)
      << LayoutProblem(s);
  s = Small();
  s.ep = 2;
  EXPECT_NE(LayoutProblem(s).find("mixture-of-experts"), std::string::npos);
  // Expert-parallel groups tile the data-parallel ranks: 8 experts over ep 4 and dp 6 do not.
  s = Small();
  s.model.moe.experts = 8;
  s.model.moe.top_k = 2;
  s.model.moe.expert_ffn_hidden_size = 1024;
  s.dp = 6;
  s.global_batch = 60;
  s.micro_batch = 2;
  s.ep = 4;
  EXPECT_EQ(LayoutProblem(s),
            "ep 4 does not divide dp x cp = 6: the expert-parallel groups tile the data-parallel "
            "ranks");
  s.ep = 2;
  EXPECT_EQ(LayoutProblem(s), "");
  EXPECT_EQ(LayoutProblem(Small()), "");
}

TEST(PhaseTimeline, ClosedFormIntegralsMatchSumsOfSmallWindows) {
  std::vector<Phase> phases = {{"compute", Seconds(2.5), 0.9}, {"comm", Seconds(0.5), 0.3}};
  const SimTime start = SimTime::From(Seconds(10)), end = SimTime::From(Seconds(100));
  PhaseTimeline t(phases, start, end);
  const std::vector<std::vector<double>> act = {{0.9, 0.3}};
  // Whole run: 30 steps of (2.5 x 0.9 + 0.5 x 0.3) = 2.4 activity-seconds.
  EXPECT_NEAR(t.Integrate(act, SimTime(), SimTime::From(Seconds(200))), 30 * 2.4, 1e-9);
  double sum = 0;
  for (int i = 0; i < 2000; ++i) {
    sum += t.Integrate(act, SimTime::From(Milliseconds(100.0 * i)),
                       SimTime::From(Milliseconds(100.0 * (i + 1))));
  }
  EXPECT_NEAR(sum, 30 * 2.4, 1e-9);
  // Window [11, 13): 1.5 s of compute then 0.5 s of comm.
  EXPECT_NEAR(t.Integrate(act, SimTime::From(Seconds(11)), SimTime::From(Seconds(13))),
              1.5 * 0.9 + 0.5 * 0.3, 1e-12);
  EXPECT_EQ(t.StepsCompletedBy(SimTime::From(Seconds(13))), 1);
  EXPECT_EQ(t.StepsCompletedBy(SimTime::From(Seconds(1000))), 30);
  EXPECT_EQ(t.StepsCompletedBy(SimTime::From(Seconds(5))), 0);
  EXPECT_DOUBLE_EQ(t.RunningSeconds(SimTime(), SimTime::From(Seconds(50))), 40.0);
}

TEST(PhaseTimeline, Integrate3WithAMemoEqualsThreeIntegratesBitForBit) {
  // Windows of 0.7 s across a rebase (at 31 s, which the memo must not outlive), a rebase at a
  // segment's own start (replacing it), and the end: each of the three integrals equals
  // Integrate's exactly, window after window.
  PhaseTimeline t({{"compute", Seconds(2.5), 0.9}, {"comm", Seconds(0.5), 0.3}}, SimTime(),
                  SimTime::From(Seconds(60)));
  std::vector<std::vector<double>> a = {{0.9, 0.3}}, b = {{700, 250}}, c = {{1.5, 2.5}};
  PhaseTimeline::Memo3 memo;
  for (int i = 0; i < 100; ++i) {
    const SimTime from = SimTime::From(Milliseconds(700.0 * i)),
                  to = SimTime::From(Milliseconds(700.0 * (i + 1)));
    if (i == 44) {  // 30.8 s: a new segment, then replaced at its own start with other values
      t.Rebase(SimTime::From(Seconds(31)),
               {{"compute", Seconds(2.5), 0.9}, {"comm", Seconds(2), 0.3}});
      a.push_back({0.8, 0.2});
      b.push_back({650, 240});
      c.push_back({1.0, 2.0});
      t.Rebase(SimTime::From(Seconds(31)),
               {{"compute", Seconds(2), 0.7}, {"comm", Seconds(1), 0.1}});
      a.back() = {0.7, 0.1};
    }
    const std::array<double, 3> three = t.Integrate3(a, b, c, from, to, &memo);
    EXPECT_EQ(three[0], t.Integrate(a, from, to)) << i;
    EXPECT_EQ(three[1], t.Integrate(b, from, to)) << i;
    EXPECT_EQ(three[2], t.Integrate(c, from, to)) << i;
  }
}

TEST(PhaseTimeline, AStepRecordIntegratesAsIntegrate3BitForBit) {
  // Three phases, windows of 0.7 s; a rebase at 31 s makes the record stale (Covers false) until
  // it is recorded again for the new segment, as the site's roll-up does. A single-phase segment
  // is not recorded.
  PhaseTimeline t({{"compute", Seconds(2.5), 0.9},
                   {"comm", Seconds(0.5), 0.3},
                   {"optimizer", Seconds(0.25), 0.5}},
                  SimTime(), SimTime::From(Seconds(60)));
  std::vector<std::vector<double>> a = {{0.9, 0.3, 0.5}}, b = {{700, 250, 400}},
                                   c = {{1.5, 2.5, 1.25}};
  PhaseTimeline::StepRecord record;
  int from_record = 0;
  for (int i = 0; i < 80; ++i) {
    const SimTime from = SimTime::From(Milliseconds(700.0 * i)),
                  to = SimTime::From(Milliseconds(700.0 * (i + 1)));
    if (i == 44) {
      t.Rebase(SimTime::From(Seconds(31)),
               {{"compute", Seconds(2), 0.7}, {"comm", Seconds(1), 0.1}});
      a.push_back({0.7, 0.1});
      b.push_back({600, 200});
      c.push_back({1.0, 2.0});
    }
    const std::array<double, 3> want = t.Integrate3(a, b, c, from, to);
    if (record.Covers(t.rebases(), from, to)) {
      ++from_record;
      const std::array<double, 3> got = record.Integrate(from, to);
      for (size_t n = 0; n < 3; ++n) EXPECT_EQ(got[n], want[n]) << i << " " << n;
    } else if (!record.Holds(t.rebases(), from)) {
      EXPECT_TRUE(t.Record(a, b, c, from, &record)) << i;
    }
  }
  EXPECT_GE(from_record, 70);
  EXPECT_EQ(record.begin, SimTime::From(Seconds(31)));
  PhaseTimeline flat({{"steady", Seconds(1), 0.5}}, SimTime(), SimTime::From(Seconds(10)));
  EXPECT_FALSE(flat.Record({{1.0}}, {{2.0}}, {{3.0}}, SimTime(), &record));
  EXPECT_FALSE(record.Covers(flat.rebases(), SimTime(), SimTime::From(Seconds(1))));
}

TEST(PhaseTimeline, RebaseChangesThePaceFromThatInstant) {
  PhaseTimeline t({{"compute", Seconds(2.5), 0.9}, {"comm", Seconds(0.5), 0.3}}, SimTime(),
                  SimTime::From(Seconds(100)));
  // At 31 s (10 whole steps and 1 s into the 11th) communication becomes 4x slower.
  t.Rebase(SimTime::From(Seconds(31)), {{"compute", Seconds(2.5), 0.9}, {"comm", Seconds(2), 0.3}});
  ASSERT_EQ(t.segment_count(), 2u);
  // 10 steps before; (100 - 31) / 4.5 = 15.3 -> 15 after. The step in flight at 31 s is lost.
  EXPECT_EQ(t.StepsCompletedBy(SimTime::From(Seconds(100))), 25);
  const std::vector<std::vector<double>> act = {{0.9, 0.3}, {0.9, 0.3}};
  // First segment: 10 steps of 2.4 plus 1 s of compute; second: 15 steps of 2.85 plus 1.5 s of
  // compute (69 - 67.5).
  EXPECT_NEAR(t.Integrate(act, SimTime(), SimTime::From(Seconds(100))),
              10 * 2.4 + 0.9 + 15 * 2.85 + 1.5 * 0.9, 1e-9);
  // A rebase at the same instant replaces the segment.
  t.Rebase(SimTime::From(Seconds(31)), {{"compute", Seconds(3), 1.0}});
  EXPECT_EQ(t.segment_count(), 2u);
}

InferenceSetup Serving(int batch) {
  InferenceSetup s;
  s.model = Gpt(32, 4096, 32);
  s.model.kv_heads = 8;  // GQA
  s.gpu = A100();
  s.gpu.gemm = hardware::DefaultGemmModel();
  s.batch = batch;
  s.prompt_tokens = 1000;
  s.output_tokens = 200;
  return s;
}

TEST(Inference, DecodeIsBoundedByReadingTheWeightsAndSaturatesWithBatch) {
  const InferenceEstimate one = EstimateInference(Serving(1));
  // Batch 1 cannot beat streaming every weight from HBM once per token.
  EXPECT_GT(ToSeconds(one.itl),
            ToBytes(one.weights_per_gpu) / ToBytesPerSecond(A100().hbm_bandwidth));
  // KV per token: 2 (K and V) x 32 layers x 8 heads x 128 x 2 bytes.
  EXPECT_DOUBLE_EQ(ToBytes(one.kv_bytes_per_token), 2.0 * 32 * 8 * 128 * 2);
  EXPECT_DOUBLE_EQ(ToBytes(one.kv_cache_bytes), 2.0 * 32 * 8 * 128 * 2 * 1200);
  // Throughput grows with batch but ever more slowly (weights are shared, KV reads and math are
  // not), as measured serving systems do.
  double last = 0, last_gain = 1e30;
  for (int b : {1, 8, 32, 128, 512}) {
    const InferenceEstimate e = EstimateInference(Serving(b));
    EXPECT_GT(e.decode_tokens_per_s, last) << b;
    const double gain = (e.decode_tokens_per_s - last) / b;  // per added sequence, roughly
    EXPECT_LT(gain, last_gain) << b;
    last_gain = gain;
    last = e.decode_tokens_per_s;
    EXPECT_GE(ToWatts(e.gpu_power), ToWatts(A100().idle_power));
    EXPECT_LE(ToWatts(e.gpu_power), ToWatts(A100().tdp));
    EXPECT_NEAR(e.energy_per_token_j, ToWatts(e.gpu_power) / e.decode_tokens_per_s, 1e-9);
  }
  // Prefill of 1,000 tokens is compute-bound: near the GEMM FLOPs over the peak, not below it.
  const double flops = 2.0 * 1000 * 32 * one.model_matrix_params_per_layer;
  EXPECT_GT(ToSeconds(one.prefill_time), flops / 312e12);
  // Memory: a batch of 4,096 long sequences does not fit.
  InferenceSetup big = Serving(4096);
  big.prompt_tokens = 8000;
  EXPECT_FALSE(EstimateInference(big).fits_in_memory);
  EXPECT_TRUE(one.fits_in_memory);
}

// Issue #16 case 3 in inference: pp need not divide the layers. 32 layers on pp 3 sit as 11, 11, 10
// (vLLM's split: the remainder on the stages before the last). An 11-layer stage paces decode: an
// iteration takes 3 x 11 = 33 layers' time, as a 33-layer model on pp 3 (an even split) does, and
// a GPU holds 11 layers' K/V and 11/32 of the weights. A lone prompt's prefill passes all 32.
TEST(Inference, UnevenPipelineStagesArePacedByTheSlowestStage) {
  EXPECT_EQ(InferenceStageLayers(32, 3), (std::vector<int>{11, 11, 10}));
  EXPECT_EQ(InferenceStageLayers(32, 4), (std::vector<int>{8, 8, 8, 8}));
  EXPECT_EQ(InferenceStageLayers(61, 4), (std::vector<int>{15, 15, 16, 15}));
  EXPECT_EQ(InferenceStageLayers(61, 61), std::vector<int>(61, 1));
  EXPECT_EQ(InferenceStageLayers(5, 1), std::vector<int>{5});
  std::vector<int> llama(16, 8);  // Llama 3 405B's published 7, 8 x 14, 7
  llama.front() = llama.back() = 7;
  EXPECT_EQ(InferenceStageLayers(126, 16), llama);

  InferenceSetup s = Serving(24);
  s.pp = 3;
  InferenceSetup even = s;
  even.model.layers = 33;
  const InferenceEstimate u = EstimateInference(s), e33 = EstimateInference(even);
  EXPECT_EQ(u.layers_per_stage, (std::vector<int>{11, 11, 10}));
  EXPECT_EQ(e33.layers_per_stage, (std::vector<int>{11, 11, 11}));
  const double kv_hand = 2.0 * 11 * 8 * 128 * 2;  // K and V x 11 layers x 8 heads x 128 x bf16
  const double weights_hand = s.model.TotalParams() * 11.0 / 32.0 * 2;
  const IterationModel um(s, 512), em(even, 512);
  IterationBatch mixed;  // 20 decodes at context 1,500 and a 280-token chunk after 500 cached
  mixed.tokens = 300;
  mixed.sampled = 21;
  mixed.decode_kv_tokens = 20 * 1500.0;
  mixed.prefill_pairs = mixed.prefill_scores = 280 * (500 + 140.0);
  const IterationCost uc = um.Cost(mixed), ec = em.Cost(mixed);
  struct Row {
    const char* what;
    double computed, hand;
  };
  const Row rows[] = {
      {"decode ITL, s (33 layers on pp 3)", ToSeconds(u.itl), ToSeconds(e33.itl)},
      {"GPU power, W (33 layers on pp 3)", ToWatts(u.gpu_power), ToWatts(e33.gpu_power)},
      {"mixed iteration, s (33 layers on pp 3)", uc.seconds(), ec.seconds()},
      {"KV per token per GPU, B (11 layers)", ToBytes(u.kv_bytes_per_token), kv_hand},
      {"iteration model KV per token, B", um.kv_bytes_per_token(), kv_hand},
      {"weights per GPU, B (11/32 of the model)", ToBytes(u.weights_per_gpu), weights_hand},
      {"KV held over KV paced x GPUs (32/33)", um.kv_stored_fraction(), 32.0 / 33.0},
  };
  std::printf("%-42s %14s %14s %8s\n", "32 layers on pp 3 (11, 11, 10)", "computed", "hand",
              "error");
  for (const Row& r : rows) {
    const double err = r.computed / r.hand - 1;
    std::printf("%-42s %14.6g %14.6g %+7.1e\n", r.what, r.computed, r.hand, err);
    EXPECT_NEAR(err, 0.0, 1e-12) << r.what;
  }
  EXPECT_DOUBLE_EQ(uc.activity, ec.activity);
  EXPECT_DOUBLE_EQ(ToBytes(u.kv_cache_bytes), kv_hand * 24 * 1200);
  // The prefill of one prompt runs 32 layers, not the 33 of the even model.
  EXPECT_LT(ToSeconds(u.prefill_time), ToSeconds(e33.prefill_time));
  // An even split holds all the K/V it paces.
  EXPECT_EQ(em.kv_stored_fraction(), 1.0);
}
}  // namespace
}  // namespace firstwall::workload
